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
    ls->pos = xcalloc(n, sizeof ls->pos[0]);
    ls->where = xcalloc(n, sizeof ls->where[0]);
    ls->open = xcalloc(n, sizeof ls->open[0]);
    ls->stale = xcalloc(n, sizeof ls->stale[0]);
    ls->ready_at = xcalloc(n, sizeof ls->ready_at[0]);
    ls->load = xcalloc(n, sizeof ls->load[0]);
    ls->stale_list = xcalloc(n, sizeof ls->stale_list[0]);
    ls->n_stale = 0;
    ls->offer_since = 0;
    ls->passing = 0;
}

void load_slots_free(struct load_slots *ls)
{
    idheap_free(&ls->waiting);
    idheap_free(&ls->offer);
    free(ls->pos);
    free(ls->where);
    free(ls->open);
    free(ls->stale);
    free(ls->ready_at);
    free(ls->load);
    free(ls->stale_list);
}

static struct idheap *heap_of(struct load_slots *ls, unsigned g)
{
    return ls->where[g] == WAITING ? &ls->waiting : ls->where[g] == OFFERABLE ? &ls->offer : NULL;
}

/* Puts g where its open flag, ready_at and load say (outside a pass). */
static void refile(struct load_slots *ls, unsigned g)
{
    struct idheap *h = heap_of(ls, g);
    if (ls->where[g] == OFFERABLE && ls->open[g] && ls->ready_at[g] <= ls->offer_since) {
        idheap_update(h, ls->pos[g], (struct idheap_key){ls->load[g], g});
        return;
    }
    if (ls->where[g] == WAITING && ls->open[g]) {
        idheap_update(h, ls->pos[g], (struct idheap_key){ls->ready_at[g], g});
        return;
    }
    if (h)
        idheap_remove(h, ls->pos[g]);
    ls->where[g] = NOWHERE;
    if (ls->open[g]) {
        idheap_push(&ls->waiting, (struct idheap_key){ls->ready_at[g], g}, NULL, &ls->pos[g]);
        ls->where[g] = WAITING;
    }
}

/* g's place is out of date: re-filed before the next pass looks at the order. */
static void defer(struct load_slots *ls, unsigned g)
{
    if (!ls->stale[g]) {
        ls->stale[g] = 1;
        ls->stale_list[ls->n_stale++] = g;
    }
}

static void refile_stale(struct load_slots *ls)
{
    for (unsigned i = 0; i < ls->n_stale; i++) {
        unsigned g = ls->stale_list[i];
        ls->stale[g] = 0;
        if (ls->where[g] == TAKEN)
            ls->where[g] = NOWHERE;
        refile(ls, g);
    }
    ls->n_stale = 0;
}

/* Whether g may be offered is needed at once (load_slots_next_ready), except by a pass that
 * has already taken its order. */
void load_slots_set_open(struct load_slots *ls, unsigned g, int open, uint64_t ready_at)
{
    ls->open[g] = open != 0;
    ls->ready_at[g] = ready_at;
    if (ls->passing && (ls->where[g] == OFFERABLE || ls->where[g] == TAKEN))
        defer(ls, g);
    else
        refile(ls, g);
}

/* Loads change with every request; the order is only needed when a pass begins. */
void load_slots_set_load(struct load_slots *ls, unsigned g, uint64_t load)
{
    ls->load[g] = load;
    if (ls->where[g] == OFFERABLE || ls->where[g] == TAKEN)
        defer(ls, g);
}

uint64_t load_slots_next_ready(const struct load_slots *ls)
{
    if (ls->offer.len)
        return 0;
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
        idheap_push(&ls->offer, (struct idheap_key){ls->load[g], g}, NULL, &ls->pos[g]);
        ls->where[g] = OFFERABLE;
    }
    return ls->offer.len;
}

int load_slots_next(struct load_slots *ls)
{
    if (!ls->offer.len)
        return -1;
    unsigned g = idheap_top_key(&ls->offer).lo;
    idheap_remove(&ls->offer, 0);
    ls->where[g] = TAKEN;
    defer(ls, g);
    return (int)g;
}

void load_slots_end_pass(struct load_slots *ls)
{
    ls->passing = 0;
    refile_stale(ls);
}
