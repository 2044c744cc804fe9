#include "controller/infer5/load_slots.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>

enum { NOWHERE, WAITING, OFFERABLE, TAKEN };

void load_slots_init(struct load_slots *ls, unsigned n_gpus)
{
    size_t n = n_gpus ? n_gpus : 1;
    ls->n = n_gpus;
    idheap_init(&ls->waiting);
    idheap_init(&ls->offer);
    ls->gpu = xcalloc(n, sizeof ls->gpu[0]);
    ls->stale_list = xcalloc(n, sizeof ls->stale_list[0]);
    ls->n_stale = 0;
    ls->offer_since = 0;
    ls->passing = 0;
}

void load_slots_free(struct load_slots *ls)
{
    idheap_free(&ls->waiting);
    idheap_free(&ls->offer);
    free(ls->gpu);
    free(ls->stale_list);
}

static struct idheap *heap_of(struct load_slots *ls, unsigned g)
{
    return ls->gpu[g].where == WAITING ? &ls->waiting : ls->gpu[g].where == OFFERABLE ? &ls->offer : NULL;
}

/* Puts g where its open flag, ready_at and load say. Outside a pass a GPU that was offerable
 * at the last pass's `now` joins the offerable ones at once, so that `waiting` holds exactly
 * the GPUs a later pass would offer anew (load_slots_next_new). */
static unsigned char place_of(const struct load_slots *ls, const struct load_slot *slot)
{
    if (!slot->open)
        return NOWHERE;
    return !ls->passing && slot->ready_at <= ls->offer_since ? OFFERABLE : WAITING;
}

static void refile(struct load_slots *ls, unsigned g)
{
    struct load_slot *slot = &ls->gpu[g];
    unsigned char to = place_of(ls, slot);
    struct idheap_key k = {to == OFFERABLE ? slot->load : slot->ready_at, g};
    if (slot->where == to && to != NOWHERE) {
        idheap_update(heap_of(ls, g), slot->pos, k);
        return;
    }
    struct idheap *h = heap_of(ls, g);
    if (h)
        idheap_remove(h, slot->pos);
    slot->where = to;
    if (to != NOWHERE)
        idheap_push(heap_of(ls, g), k, NULL, &slot->pos);
}

/* g's place is out of date: re-filed before the next pass looks at the order. */
static void defer(struct load_slots *ls, unsigned g)
{
    if (!ls->gpu[g].stale) {
        ls->gpu[g].stale = 1;
        ls->stale_list[ls->n_stale++] = g;
    }
}

static void refile_stale(struct load_slots *ls)
{
    for (unsigned i = 0; i < ls->n_stale; i++) {
        unsigned g = ls->stale_list[i];
        ls->gpu[g].stale = 0;
        if (ls->gpu[g].where == TAKEN)
            ls->gpu[g].where = NOWHERE;
        refile(ls, g);
    }
    ls->n_stale = 0;
}

/* Whether g may be offered is needed at once (load_slots_next_ready), except by a pass that
 * has already taken its order. */
void load_slots_set_open(struct load_slots *ls, unsigned g, int open, uint64_t ready_at)
{
    ls->gpu[g].open = open != 0;
    ls->gpu[g].ready_at = ready_at;
    if (ls->passing && (ls->gpu[g].where == OFFERABLE || ls->gpu[g].where == TAKEN))
        defer(ls, g);
    else
        refile(ls, g);
}

/* Loads change with every request; the order is only needed when a pass begins. */
void load_slots_set_load(struct load_slots *ls, unsigned g, uint64_t load)
{
    ls->gpu[g].load = load;
    if (ls->gpu[g].where == OFFERABLE || ls->gpu[g].where == TAKEN)
        defer(ls, g);
}

uint64_t load_slots_next_ready(const struct load_slots *ls)
{
    if (ls->offer.len)
        return 0;
    return ls->waiting.len ? idheap_top_key(&ls->waiting).hi : LOAD_SLOTS_NEVER;
}

uint64_t load_slots_next_new(const struct load_slots *ls)
{
    return ls->waiting.len ? idheap_top_key(&ls->waiting).hi : LOAD_SLOTS_NEVER;
}

unsigned load_slots_begin_pass(struct load_slots *ls, uint64_t now)
{
    refile_stale(ls);
    ls->passing = 1;
    ls->offer_since = now;
    while (ls->waiting.len && idheap_top_key(&ls->waiting).hi <= now) {
        unsigned g = idheap_top_key(&ls->waiting).lo;
        idheap_remove(&ls->waiting, 0);
        idheap_push(&ls->offer, (struct idheap_key){ls->gpu[g].load, g}, NULL, &ls->gpu[g].pos);
        ls->gpu[g].where = OFFERABLE;
    }
    return ls->offer.len;
}

int load_slots_next(struct load_slots *ls)
{
    if (!ls->offer.len)
        return -1;
    unsigned g = idheap_top_key(&ls->offer).lo;
    idheap_remove(&ls->offer, 0);
    ls->gpu[g].where = TAKEN;
    defer(ls, g);
    return (int)g;
}

void load_slots_end_pass(struct load_slots *ls)
{
    ls->passing = 0;
    refile_stale(ls);
}
