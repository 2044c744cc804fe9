/* Weights on INFER6's GPUs: model instances, the load tracker's demand, loads placed on the
 * least loaded GPUs whose load executor is due, and evictions of idle models, least recently
 * idle first, from a per-GPU LRU list (so making room never scans a GPU's models). */
#include "common/status.h"
#include "controller/infer5/xalloc.h"
#include "controller/infer6/infer6_state.h"
#include <stdlib.h>

/* ---- the evictable list ---- */

static void lru_unlink(struct i6_gpu *g, struct i6_instance *inst, unsigned pages)
{
    if (inst->lru_prev)
        inst->lru_prev->lru_next = inst->lru_next;
    else
        g->lru_head = inst->lru_next;
    if (inst->lru_next)
        inst->lru_next->lru_prev = inst->lru_prev;
    else
        g->lru_tail = inst->lru_prev;
    inst->lru_prev = inst->lru_next = NULL;
    inst->in_lru = 0;
    g->evictable_pages -= pages;
}

static void lru_append(struct i6_gpu *g, struct i6_instance *inst, unsigned pages)
{
    inst->lru_prev = g->lru_tail;
    inst->lru_next = NULL;
    if (g->lru_tail)
        g->lru_tail->lru_next = inst;
    else
        g->lru_head = inst;
    g->lru_tail = inst;
    inst->in_lru = 1;
    g->evictable_pages += pages;
}

void i6_lru_update(struct infer6 *s, struct i6_instance *inst)
{
    int evictable = inst->loaded && inst->inflight == 0;
    if (!evictable && !inst->in_lru)
        return; /* busy and not listed (most calls): no model or tracker line is read */
    struct i6_gpu *g = &s->gpus[inst->gpu];
    const struct i6_model *m = &s->models[inst->model];
    unsigned pages = m->pages;
    evictable = evictable && (load_tracker_demand(s->lt, inst->model) == 0 || m->n_loaded > 1);
    if (evictable == inst->in_lru)
        return;
    if (evictable)
        lru_append(g, inst, pages);
    else
        lru_unlink(g, inst, pages);
    i6_room_update(s, inst->gpu);
}

static void copies_changed(struct infer6 *s, unsigned model)
{
    struct i6_model *m = &s->models[model];
    for (unsigned i = 0; i < m->n_inst; i++)
        i6_lru_update(s, m->inst[i]);
}

/* Demand crossing zero changes whether the model's copies may be evicted. */
static void demand_changed(struct infer6 *s, unsigned model, uint64_t before)
{
    if ((before == 0) != (load_tracker_demand(s->lt, model) == 0))
        copies_changed(s, model);
}

void i6_demand_add(struct infer6 *s, unsigned model, uint64_t d)
{
    uint64_t before = load_tracker_demand(s->lt, model);
    load_tracker_add_demand(s->lt, model, d);
    demand_changed(s, model, before);
}

void i6_demand_remove(struct infer6 *s, unsigned model, uint64_t d)
{
    uint64_t before = load_tracker_demand(s->lt, model);
    load_tracker_remove_demand(s->lt, model, d);
    demand_changed(s, model, before);
}

/* ---- instances ---- */

struct i6_instance *i6_instance_add(struct infer6 *s, unsigned g, unsigned m, int loaded)
{
    struct i6_gpu *gpu = &s->gpus[g];
    struct i6_model *model = &s->models[m];
    struct i6_instance *inst = xcalloc(1, sizeof *inst);
    inst->model = m;
    inst->gpu = g;
    inst->loaded = loaded;
    xgrow(&gpu->res, &gpu->cap_res, gpu->n_res + 1, sizeof gpu->res[0]);
    inst->gpu_slot = gpu->n_res;
    gpu->res[gpu->n_res++] = inst;
    xgrow(&model->inst, &model->cap_inst, model->n_inst + 1, sizeof model->inst[0]);
    inst->model_slot = model->n_inst;
    model->inst[model->n_inst++] = inst;
    model->n_loaded += loaded != 0;
    gpu->free_pages -= model->pages;
    i6_roomy_update(s, g);
    idheap_push(&gpu->urgency, model->urgency, inst, &inst->heap_pos);
    load_tracker_add_copy(s->lt, m, g);
    if (loaded)
        copies_changed(s, m);
    return inst;
}

/* Infers may be planned on a copy that is still loading; if that load fails, their records
 * must stop pointing at the freed instance (rare: walk the GPU's outstanding infers). */
static void detach_actions(struct infer6 *s, const struct i6_instance *inst)
{
    for (struct i6_action *a = s->gpus[inst->gpu].exec_head; a; a = a->exec_next)
        if (a->inst == inst)
            a->inst = NULL;
}

void i6_instance_remove(struct infer6 *s, struct i6_instance *inst)
{
    struct i6_gpu *g = &s->gpus[inst->gpu];
    struct i6_model *m = &s->models[inst->model];
    if (inst->inflight)
        detach_actions(s, inst);
    if (inst->in_lru)
        lru_unlink(g, inst, m->pages);
    if (inst->heap_pos != IDHEAP_NONE)
        idheap_remove(&g->urgency, inst->heap_pos);
    g->res[inst->gpu_slot] = g->res[--g->n_res];
    g->res[inst->gpu_slot]->gpu_slot = inst->gpu_slot;
    m->inst[inst->model_slot] = m->inst[--m->n_inst];
    m->inst[inst->model_slot]->model_slot = inst->model_slot;
    m->n_loaded -= inst->loaded != 0;
    g->free_pages += m->pages;
    i6_roomy_update(s, inst->gpu);
    load_tracker_remove_copy(s->lt, inst->model, inst->gpu);
    unsigned model = inst->model;
    free(inst);
    copies_changed(s, model);
}

/* A copy's weights are in: it and the model's other copies may have become evictable. */
void i6_instance_loaded(struct infer6 *s, struct i6_instance *inst)
{
    inst->loaded = 1;
    s->models[inst->model].n_loaded++;
    copies_changed(s, inst->model);
}

/* ---- loads ---- */

/* A GPU waiting to take a load sits in one of two heaps. The order of a load pass is (tracker
 * load, when the GPU came due, index), and a pass leaves every due GPU it did not load as having
 * come due at the pass's time: those all tie on that time, so they wait in load_ready by (load,
 * index), kept current by the tracker's watcher. A wake-up set since the last pass waits in
 * load_wakes by (time, index) until a pass finds it due. */
static void wake_place(struct infer6 *s, unsigned gi, uint64_t t)
{
    struct i6_gpu *g = &s->gpus[gi];
    if (t != I6_IDLE && t <= s->last_pass) {
        struct idheap_key k = {load_tracker_gpu_load(s->lt, gi), gi};
        if (g->load_pos != IDHEAP_NONE)
            idheap_remove(&s->load_wakes, g->load_pos);
        if (g->ready_pos == IDHEAP_NONE)
            idheap_push(&s->load_ready, k, g, &g->ready_pos);
        else
            idheap_update(&s->load_ready, g->ready_pos, k);
        return;
    }
    if (g->ready_pos != IDHEAP_NONE)
        idheap_remove(&s->load_ready, g->ready_pos);
    if (t == I6_IDLE) {
        if (g->load_pos != IDHEAP_NONE)
            idheap_remove(&s->load_wakes, g->load_pos);
    } else if (g->load_pos == IDHEAP_NONE) {
        idheap_push(&s->load_wakes, (struct idheap_key){t, gi}, g, &g->load_pos);
    } else {
        idheap_update(&s->load_wakes, g->load_pos, (struct idheap_key){t, gi});
    }
}

/* When the GPU's load executor can take a load: within schedule_ahead of its free time, with
 * a load slot open (I6_IDLE: none open; a load result re-arms it). */
void i6_load_set_wake(struct infer6 *s, unsigned gi, uint64_t now)
{
    struct i6_gpu *g = &s->gpus[gi];
    uint64_t t = I6_IDLE;
    if (g->alive && g->loads_inflight < I6_MAX_LOADS)
        t = g->load_free > now + s->cfg.schedule_ahead ? g->load_free - s->cfg.schedule_ahead : now;
    wake_place(s, gi, t);
}

void i6_load_unwake(struct infer6 *s, unsigned gi) { wake_place(s, gi, I6_IDLE); }

void i6_load_moved(void *data, unsigned gi, uint64_t load)
{
    struct infer6 *s = data;
    struct i6_gpu *g = &s->gpus[gi];
    (void)load;
    i6_room_update(s, gi);
    if (g->ready_pos == IDHEAP_NONE || g->load_dirty)
        return;
    g->load_dirty = 1;
    s->dirty[s->n_dirty++] = gi;
}

/* Re-keys the GPUs of load_ready whose load moved since the last refresh. Only a load pass
 * reads load_ready's order, so every request and result (each moves the loads of its model's
 * GPUs) costs O(1) here, and a GPU that moved many times between passes is re-keyed once.
 * Keys (load, index) are unique: the pass sees the same order as with eager re-keying. */
static void ready_refresh(struct infer6 *s)
{
    for (unsigned i = 0; i < s->n_dirty; i++) {
        unsigned gi = s->dirty[i];
        struct i6_gpu *g = &s->gpus[gi];
        g->load_dirty = 0;
        if (g->ready_pos != IDHEAP_NONE)
            idheap_update(&s->load_ready, g->ready_pos, (struct idheap_key){load_tracker_gpu_load(s->lt, gi), gi});
    }
    s->n_dirty = 0;
}

struct fit_ctx {
    struct infer6 *s;
    unsigned room; /* free pages plus what evictions could free */
};

static int fits(void *ctx, unsigned model)
{
    struct fit_ctx *c = ctx;
    return c->s->models[model].pages <= c->room;
}

static void send_evict(struct infer6 *s, struct i6_instance *inst, uint64_t now)
{
    struct i6_gpu *g = &s->gpus[inst->gpu];
    struct i6_action *a = i6_action_new(s, SCHED_EVICT_WEIGHTS, inst->gpu, inst->model, now);
    a->earliest = 0;
    a->latest = UINT64_MAX;
    struct sched_action act = {
        .id = a->id,
        .type = SCHED_EVICT_WEIGHTS,
        .worker_id = g->worker_id,
        .gpu_id = g->gpu_id,
        .model_id = inst->model,
        .earliest = 0,
        .latest = UINT64_MAX,
        .send_by = UINT64_MAX,
    };
    /* pages count as free at once: the worker evicts before it sees the next load */
    i6_instance_remove(s, inst);
    s->ops.send_action(s->data, &act);
}

static void send_load(struct infer6 *s, unsigned gi, unsigned id, uint64_t now)
{
    struct i6_gpu *g = &s->gpus[gi];
    struct i6_model *m = &s->models[id];
    struct i6_instance *inst = i6_instance_add(s, gi, id, 0);
    uint64_t start = i6_max(now + s->lags.typical[LAG_DISPATCH], g->load_free), est = m->est.load_est;
    struct i6_action *a = i6_action_new(s, SCHED_LOAD_WEIGHTS, gi, id, now);
    a->inst = inst;
    a->earliest = now;
    a->latest = i6_max(now + s->cfg.latest_delta, start + s->cfg.latest_delta);
    a->expected_duration = est;
    a->expected_complete = start + est;
    inst->load_complete = start + est;
    g->load_free = start + est;
    g->loads_inflight++;
    struct sched_action act = {
        .id = a->id,
        .type = SCHED_LOAD_WEIGHTS,
        .worker_id = g->worker_id,
        .gpu_id = g->gpu_id,
        .model_id = id,
        .earliest = a->earliest,
        .latest = a->latest,
        .expected_duration = est,
        .expected_complete = a->expected_complete,
        .send_by = UINT64_MAX,
    };
    s->ops.send_action(s->data, &act);
}

/* Loads onto one GPU while its load executor is due and some model wants a copy. */
static void gpu_loads(struct infer6 *s, unsigned gi, uint64_t now)
{
    struct i6_gpu *g = &s->gpus[gi];
    while (g->alive && g->loads_inflight < I6_MAX_LOADS && g->load_free <= now + s->cfg.schedule_ahead &&
           load_tracker_has_candidates(s->lt)) {
        struct fit_ctx ctx = {s, g->free_pages + g->evictable_pages};
        int id = load_tracker_next_load(s->lt, gi, fits, &ctx);
        if (id < 0)
            return;
        while (g->free_pages < s->models[id].pages && g->lru_head)
            send_evict(s, g->lru_head, now);
        if (g->free_pages < s->models[id].pages)
            return; /* cannot happen: fits() counted the evictable pages */
        send_load(s, gi, (unsigned)id, now);
    }
}

static int by_load_cmp(const void *a, const void *b)
{
    const struct i6_due *x = a, *y = b;
    if (x->load != y->load)
        return x->load < y->load ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Takes the GPUs whose wake-up set since the last pass has come out of load_wakes, ordered by
 * (tracker load, when they came due, index): O(d log d) in those d only. */
static unsigned newly_due(struct infer6 *s, uint64_t now)
{
    unsigned n = 0;
    while (s->load_wakes.len && idheap_top_key(&s->load_wakes).hi <= now) {
        struct idheap_key k = idheap_top_key(&s->load_wakes);
        idheap_remove(&s->load_wakes, 0);
        s->due[n] = (struct i6_due){load_tracker_gpu_load(s->lt, k.lo), k.hi, n, k.lo};
        n++;
    }
    qsort(s->due, n, sizeof s->due[0], by_load_cmp);
    return n;
}

/* Whether load_ready's first GPU (due since the last pass) comes before the newly due one. */
static int ready_first(const struct infer6 *s, const struct i6_due *d)
{
    struct idheap_key k = idheap_top_key(&s->load_ready);
    if (k.hi != d->load)
        return k.hi < d->load;
    if (s->last_pass != d->since)
        return s->last_pass < d->since;
    return k.lo < d->gpu;
}

/* After a pass: the GPUs it looked at are re-armed (those it did not load now came due at
 * `now`); the loads that moved during the pass reach load_ready at the next refresh. */
static void pass_end(struct infer6 *s, unsigned n_new, unsigned n_taken, uint64_t now)
{
    s->last_pass = now;
    for (unsigned i = 0; i < n_new; i++)
        i6_load_set_wake(s, s->due[i].gpu, now);
    for (unsigned i = 0; i < n_taken; i++)
        i6_load_set_wake(s, s->scratch[i], now);
}

/* Whether some GPU could still take a load (when not, each would find no candidate and change
 * nothing: the pass may stop): one with room for the smallest model, and under capacity unless
 * a model without any copy is a candidate. */
static int may_place(const struct infer6 *s)
{
    if (!load_tracker_has_candidates(s->lt) || s->n_fit == 0)
        return 0;
    return s->n_open > 0 || load_tracker_wants_first_copy(s->lt);
}

/* Offers the candidates to the due GPUs, least loaded first, until none is left: the GPUs
 * are taken one by one from the merge of load_ready and the newly due, so a pass costs what
 * it offers, not the number of due GPUs. */
void i6_schedule_loads(struct infer6 *s, uint64_t now)
{
    if (!load_tracker_has_candidates(s->lt) || s->loads_stuck)
        return;
    unsigned n_new = newly_due(s, now), i_new = 0, n_taken = 0;
    unsigned n = n_new + s->load_ready.len;
    uint64_t before = s->next_action_id;
    ready_refresh(s); /* the pass follows the loads it starts with: those moving during it wait */
    while ((i_new < n_new || s->load_ready.len) && may_place(s)) {
        unsigned gi;
        if (i_new < n_new && !(s->load_ready.len && ready_first(s, &s->due[i_new]))) {
            gi = s->due[i_new++].gpu;
        } else {
            struct i6_gpu *g = idheap_remove(&s->load_ready, 0);
            gi = s->scratch[n_taken++] = (unsigned)(g - s->gpus);
        }
        gpu_loads(s, gi, now);
    }
    pass_end(s, n_new, n_taken, now);
    /* offered but nothing placed: wait for an event to change pages or demand */
    s->loads_stuck = n > 0 && load_tracker_has_candidates(s->lt) && s->next_action_id == before;
}

void i6_room_update(struct infer6 *s, unsigned gi)
{
    struct i6_gpu *g = &s->gpus[gi];
    int fits_some = g->alive && g->free_pages + g->evictable_pages >= s->min_pages;
    int open = fits_some && load_tracker_gpu_spare(s->lt, gi);
    s->n_fit += (unsigned)fits_some - (unsigned)g->fits_some;
    s->n_open += (unsigned)open - (unsigned)g->open;
    g->fits_some = fits_some;
    g->open = open;
}

void i6_roomy_update(struct infer6 *s, unsigned gi)
{
    struct i6_gpu *g = &s->gpus[gi];
    i6_room_update(s, gi);
    struct idheap_key k = {UINT64_MAX - g->free_pages, gi};
    if (!g->alive) {
        if (g->roomy_pos != IDHEAP_NONE)
            idheap_remove(&s->roomy, g->roomy_pos);
    } else if (g->roomy_pos == IDHEAP_NONE) {
        idheap_push(&s->roomy, k, g, &g->roomy_pos);
    } else {
        idheap_update(&s->roomy, g->roomy_pos, k);
    }
}

#define REPLICATE_VISIT 16 /* GPUs looked at near the top of the roomy heap */

void i6_replicate(struct infer6 *s, unsigned id, uint64_t now)
{
    struct i6_model *m = &s->models[id];
    if (m->n_inst >= s->n_alive)
        return;
    for (unsigned i = 0; i < s->roomy.len && i < REPLICATE_VISIT; i++) {
        struct i6_gpu *g = s->roomy.n[i].item;
        unsigned gi = (unsigned)(g - s->gpus);
        if (g->free_pages < m->pages) {
            if (i == 0)
                return; /* the roomiest has no room */
            continue;
        }
        if (g->loads_inflight < I6_MAX_LOADS && g->load_free <= now + s->cfg.schedule_ahead &&
            !load_tracker_holds(s->lt, id, gi)) {
            send_load(s, gi, id, now);
            i6_load_set_wake(s, gi, now);
            return;
        }
    }
}
