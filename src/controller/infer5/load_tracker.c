#include "controller/infer5/load_tracker.h"
#include "controller/infer5/idheap.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>
#include <string.h>

#define LT_MAX_VISIT 64  /* heap nodes inspected per load_tracker_next_load */
#define LT_MAX_REFRESH 8 /* stale candidates re-keyed per load_tracker_next_load */
#define KEY_SPAN ((1ULL << 62) - 1)
#define COPIES_CLASS (1ULL << 62) /* keys of models that have a copy start here */

struct holder {
    unsigned gpu;
    uint64_t alloc; /* share of the model's demand assigned to this GPU */
};

struct load_tracker_model {
    uint64_t demand;
    struct holder *holders;
    unsigned n_holders, cap_holders;
    unsigned heap_pos; /* in the candidate heap, or IDHEAP_NONE */
};

struct load_tracker {
    uint64_t capacity;
    unsigned n_models, n_gpus;
    struct load_tracker_model *models;
    uint64_t *gpu_load;
    struct idheap candidates;  /* most uncovered demand first */
    unsigned *held_candidates; /* per GPU: how many candidates it holds (it can take none of those) */
    unsigned *scratch;         /* best-first search frontier */
    uint64_t refreshes;        /* rekeys done by load_tracker_next_load */
    void (*watch)(void *data, unsigned gpu, uint64_t load);
    void *watch_data;
};

struct load_tracker *load_tracker_create(unsigned n_models, unsigned n_gpus, uint64_t capacity)
{
    struct load_tracker *lt = xcalloc(1, sizeof *lt);
    lt->capacity = capacity ? capacity : 1;
    lt->n_models = n_models;
    lt->n_gpus = n_gpus;
    lt->models = xcalloc(n_models, sizeof lt->models[0]);
    for (unsigned m = 0; m < n_models; m++)
        lt->models[m].heap_pos = IDHEAP_NONE;
    lt->gpu_load = xcalloc(n_gpus, sizeof lt->gpu_load[0]);
    lt->held_candidates = xcalloc(n_gpus ? n_gpus : 1, sizeof lt->held_candidates[0]);
    lt->scratch = xcalloc(LT_MAX_VISIT * 2 + 2, sizeof lt->scratch[0]);
    idheap_init(&lt->candidates);
    return lt;
}

void load_tracker_destroy(struct load_tracker *lt)
{
    if (!lt)
        return;
    for (unsigned m = 0; m < lt->n_models; m++)
        free(lt->models[m].holders);
    free(lt->models);
    free(lt->gpu_load);
    free(lt->held_candidates);
    free(lt->scratch);
    idheap_free(&lt->candidates);
    free(lt);
}

void load_tracker_watch(struct load_tracker *lt, void (*watch)(void *data, unsigned gpu, uint64_t load), void *data)
{
    lt->watch = watch;
    lt->watch_data = data;
}

/* Moves `from` of a GPU's load to `to`. */
static void gpu_load_move(struct load_tracker *lt, unsigned gpu, uint64_t from, uint64_t to)
{
    if (from == to)
        return;
    lt->gpu_load[gpu] = lt->gpu_load[gpu] - from + to;
    if (lt->watch)
        lt->watch(lt->watch_data, gpu, lt->gpu_load[gpu]);
}

void load_tracker_grow(struct load_tracker *lt, unsigned n_models)
{
    if (n_models <= lt->n_models)
        return;
    /* the candidate heap points into the model array: move its entries along */
    struct load_tracker_model *models = xcalloc(n_models, sizeof models[0]);
    memcpy(models, lt->models, lt->n_models * sizeof models[0]);
    for (unsigned m = lt->n_models; m < n_models; m++)
        models[m].heap_pos = IDHEAP_NONE;
    for (unsigned i = 0; i < lt->candidates.len; i++) {
        struct load_tracker_model *old = lt->candidates.n[i].item;
        struct load_tracker_model *moved = &models[old - lt->models];
        lt->candidates.n[i].item = moved;
        lt->candidates.n[i].pos = &moved->heap_pos;
    }
    free(lt->models);
    lt->models = models;
    lt->n_models = n_models;
}

/* Demand a model's copies cannot absorb: overloaded holders serve only their fair
 * fraction (capacity / load) of the share assigned to them. */
static uint64_t uncovered(const struct load_tracker *lt, const struct load_tracker_model *m)
{
    if (m->n_holders == 0)
        return m->demand;
    double served = 0;
    for (unsigned i = 0; i < m->n_holders; i++) {
        uint64_t load = lt->gpu_load[m->holders[i].gpu];
        double frac = load > lt->capacity ? (double)lt->capacity / (double)load : 1.0;
        served += (double)m->holders[i].alloc * frac;
    }
    double u = (double)m->demand - served;
    return u >= 1.0 ? (uint64_t)u : 0;
}

/* A model entering (+1) or leaving (-1) the candidates counts for each of its holders. */
static void count_held(struct load_tracker *lt, const struct load_tracker_model *m, int delta)
{
    for (unsigned i = 0; i < m->n_holders; i++)
        lt->held_candidates[m->holders[i].gpu] += (unsigned)delta;
}

static void rekey(struct load_tracker *lt, unsigned id)
{
    struct load_tracker_model *m = &lt->models[id];
    uint64_t u = uncovered(lt, m);
    if (u == 0) {
        if (m->heap_pos != IDHEAP_NONE) {
            idheap_remove(&lt->candidates, m->heap_pos);
            count_held(lt, m, -1);
        }
        return;
    }
    uint64_t cls = m->n_holders ? COPIES_CLASS : 0; /* models without a copy first */
    struct idheap_key k = {cls + KEY_SPAN - (u < KEY_SPAN ? u : KEY_SPAN), id};
    if (m->heap_pos == IDHEAP_NONE) {
        idheap_push(&lt->candidates, k, m, &m->heap_pos);
        count_held(lt, m, 1);
    } else {
        idheap_update(&lt->candidates, m->heap_pos, k);
    }
}

/* Splits the model's demand evenly over its holders and updates GPU loads. */
static void redistribute(struct load_tracker *lt, unsigned id)
{
    struct load_tracker_model *m = &lt->models[id];
    unsigned n = m->n_holders;
    for (unsigned i = 0; i < n; i++) {
        struct holder *h = &m->holders[i];
        uint64_t alloc = m->demand / n + (i < m->demand % n);
        gpu_load_move(lt, h->gpu, h->alloc, alloc);
        h->alloc = alloc;
    }
    rekey(lt, id);
}

void load_tracker_add_demand(struct load_tracker *lt, unsigned model, uint64_t d)
{
    lt->models[model].demand += d;
    redistribute(lt, model);
}

void load_tracker_remove_demand(struct load_tracker *lt, unsigned model, uint64_t d)
{
    struct load_tracker_model *m = &lt->models[model];
    m->demand -= d < m->demand ? d : m->demand;
    redistribute(lt, model);
}

void load_tracker_add_copy(struct load_tracker *lt, unsigned model, unsigned gpu)
{
    struct load_tracker_model *m = &lt->models[model];
    if (load_tracker_holds(lt, model, gpu))
        return;
    xgrow(&m->holders, &m->cap_holders, m->n_holders + 1, sizeof m->holders[0]);
    m->holders[m->n_holders++] = (struct holder){gpu, 0};
    if (m->heap_pos != IDHEAP_NONE)
        lt->held_candidates[gpu]++;
    redistribute(lt, model);
}

void load_tracker_remove_copy(struct load_tracker *lt, unsigned model, unsigned gpu)
{
    struct load_tracker_model *m = &lt->models[model];
    for (unsigned i = 0; i < m->n_holders; i++) {
        if (m->holders[i].gpu != gpu)
            continue;
        gpu_load_move(lt, gpu, m->holders[i].alloc, 0);
        m->holders[i] = m->holders[--m->n_holders];
        if (m->heap_pos != IDHEAP_NONE)
            lt->held_candidates[gpu]--;
        redistribute(lt, model);
        return;
    }
}

uint64_t load_tracker_demand(const struct load_tracker *lt, unsigned model) { return lt->models[model].demand; }
unsigned load_tracker_copies(const struct load_tracker *lt, unsigned model) { return lt->models[model].n_holders; }
uint64_t load_tracker_gpu_load(const struct load_tracker *lt, unsigned gpu) { return lt->gpu_load[gpu]; }
int load_tracker_has_candidates(const struct load_tracker *lt) { return lt->candidates.len > 0; }

int load_tracker_is_candidate(const struct load_tracker *lt, unsigned model)
{
    return lt->models[model].heap_pos != IDHEAP_NONE;
}

uint64_t load_tracker_refreshes(const struct load_tracker *lt) { return lt->refreshes; }

unsigned load_tracker_held_candidates(const struct load_tracker *lt, unsigned gpu) { return lt->held_candidates[gpu]; }

int load_tracker_wants_first_copy(const struct load_tracker *lt)
{
    return lt->candidates.len && idheap_top_key(&lt->candidates).hi < COPIES_CLASS;
}

int load_tracker_gpu_spare(const struct load_tracker *lt, unsigned gpu) { return lt->gpu_load[gpu] < lt->capacity; }

int load_tracker_may_load(const struct load_tracker *lt, unsigned gpu)
{
    if (!lt->candidates.len)
        return 0;
    return load_tracker_gpu_spare(lt, gpu) || load_tracker_wants_first_copy(lt);
}

int load_tracker_holds(const struct load_tracker *lt, unsigned model, unsigned gpu)
{
    const struct load_tracker_model *m = &lt->models[model];
    for (unsigned i = 0; i < m->n_holders; i++)
        if (m->holders[i].gpu == gpu)
            return 1;
    return 0;
}

/* Frontier of heap indices ordered by their heap keys (a tiny binary heap). */
static int node_less(const struct load_tracker *lt, unsigned a, unsigned b)
{
    return idheap_key_less(lt->candidates.n[a].key, lt->candidates.n[b].key);
}

static void frontier_push(struct load_tracker *lt, unsigned *len, unsigned idx)
{
    unsigned *f = lt->scratch, i = (*len)++;
    while (i > 0 && node_less(lt, idx, f[(i - 1) / 2])) {
        f[i] = f[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    f[i] = idx;
}

static unsigned frontier_pop(struct load_tracker *lt, unsigned *len)
{
    unsigned *f = lt->scratch, top = f[0], last = f[--(*len)], i = 0;
    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= *len)
            break;
        if (c + 1 < *len && node_less(lt, f[c + 1], f[c]))
            c++;
        if (!node_less(lt, f[c], last))
            break;
        f[i] = f[c];
        i = c;
    }
    if (*len)
        f[i] = last;
    return top;
}

static int acceptable(const struct load_tracker *lt, unsigned id, unsigned gpu)
{
    const struct load_tracker_model *m = &lt->models[id];
    if (load_tracker_holds(lt, id, gpu))
        return 0;
    /* an extra copy only helps on a GPU that has spare capacity itself */
    return m->n_holders == 0 || load_tracker_gpu_spare(lt, gpu);
}

/* Visits candidates in priority order without popping them (best-first over the heap
 * array), so models this GPU already holds cost only their own visit. */
static int search(struct load_tracker *lt, unsigned gpu, int (*fits)(void *, unsigned), void *ctx)
{
    unsigned len = 0, visited = 0;
    /* it holds every candidate: a search would visit them all for nothing */
    if (lt->candidates.len == lt->held_candidates[gpu])
        return -1;
    int spare = load_tracker_gpu_spare(lt, gpu);
    frontier_push(lt, &len, 0);
    while (len && visited++ < LT_MAX_VISIT) {
        unsigned idx = frontier_pop(lt, &len);
        /* nodes come in key order: past the models without a copy, a GPU at capacity takes none */
        if (!spare && lt->candidates.n[idx].key.hi >= COPIES_CLASS)
            return -1;
        struct load_tracker_model *m = lt->candidates.n[idx].item;
        unsigned id = (unsigned)(m - lt->models);
        if (acceptable(lt, id, gpu) && fits(ctx, id))
            return (int)id;
        for (unsigned c = 2 * idx + 1; c <= 2 * idx + 2 && c < lt->candidates.len; c++)
            frontier_push(lt, &len, c);
    }
    return -1;
}

int load_tracker_next_load(struct load_tracker *lt, unsigned gpu, int (*fits)(void *ctx, unsigned model), void *ctx)
{
    for (unsigned tries = 0; tries < LT_MAX_REFRESH; tries++) {
        int id = search(lt, gpu, fits, ctx);
        if (id < 0)
            return -1;
        /* other models' demand may have moved GPU loads since this key was set */
        struct idheap_key before = lt->candidates.n[lt->models[id].heap_pos].key;
        rekey(lt, (unsigned)id);
        lt->refreshes++;
        unsigned pos = lt->models[id].heap_pos;
        if (pos != IDHEAP_NONE && lt->candidates.n[pos].key.hi == before.hi)
            return id;
    }
    return -1;
}
