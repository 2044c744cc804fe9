/* Per-GPU scheduling: fills each GPU's infer timeline with the most urgent batches of
 * the models resident on it, and its load timeline with the models the load tracker
 * says need a copy, evicting idle models (LRU) to make room. */
#include "common/status.h"
#include "controller/infer5/sched_state.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

struct infer5_instance *gpu_add_instance(struct scheduler *s, unsigned g, unsigned m, int loaded)
{
    struct infer5_gpu *gpu = &s->gpus[g];
    struct infer5_model *model = &s->models[m];
    struct infer5_instance *inst = xcalloc(1, sizeof *inst);
    inst->model = m;
    inst->gpu = g;
    inst->loaded = loaded;
    inst->last_used = ++s->use_seq;
    xgrow(&gpu->res, &gpu->cap_res, gpu->n_res + 1, sizeof gpu->res[0]);
    inst->gpu_slot = gpu->n_res;
    gpu->res[gpu->n_res++] = inst;
    xgrow(&model->inst, &model->cap_inst, model->n_inst + 1, sizeof model->inst[0]);
    model->inst[model->n_inst++] = inst;
    if (loaded)
        model->n_loaded++;
    gpu->free_pages -= model->pages;
    idheap_push(&gpu->urgency, model->urgency, inst, &inst->heap_pos);
    gpu_wake_mark(&s->wake, g);
    load_tracker_add_copy(s->lt, m, g);
    return inst;
}

/* ---- infer ---- */

/* A copy still loading may take infers planned after its predicted load completion,
 * plus the network lag the load itself may suffer on its way to the worker. */
static uint64_t usable_from(const struct infer5_instance *inst) { return inst->load_complete + SCHED_NET_LAG; }

/* Requests that can no longer meet their target even in a batch of b started at
 * `start` leave b's virtual queue; those in no virtual queue any more are answered. */
static void drop_infeasible(struct scheduler *s, unsigned id, uint64_t start, uint64_t now)
{
    struct infer5_model *m = &s->models[id];
    model_queue_drop_infeasible(&m->q, m->est.est, start);
    struct qreq *q;
    while ((q = model_queue_pop_orphan(&m->q)))
        sched_timeout_queued(s, now, q, "Request could not meet its deadline");
}

/* The largest batch size whose virtual queue holds a full batch; else the smallest
 * non-empty one, padded (measured estimates need not grow with batch size, so a request
 * may have left a small batch's queue and not a larger one's); -1 when nothing is queued.
 * Any queued request thus yields an action, which keeps the infer loop progressing. */
static int pick_batch(const struct infer5_model *m)
{
    for (int v = (int)m->q.nv - 1; v >= 0; v--)
        if (m->q.vcount[v] >= m->est.bs[v])
            return v;
    for (unsigned v = 0; v < m->q.nv; v++)
        if (m->q.vcount[v])
            return (int)v;
    return -1;
}

static void send_infer(struct scheduler *s, unsigned g, struct infer5_instance *inst, unsigned v, unsigned n,
                       uint64_t start, uint64_t now)
{
    struct infer5_gpu *gpu = &s->gpus[g];
    struct infer5_model *m = &s->models[inst->model];
    struct action_rec *a = sched_action_new(s, SCHED_INFER, g, inst->model, now);
    uint64_t est = m->est.est[v];
    a->v = v;
    a->batch_size = m->est.bs[v];
    a->n_req = n;
    a->inst = inst;
    for (unsigned i = 0; i < n; i++)
        a->reqs[i] = s->batch[i]->r;
    /* the worker starts it as soon as its executor frees up; a still-loading model
     * must not start before its weights are predicted to be in */
    a->earliest = inst->loaded ? now : max_u64(now, usable_from(inst));
    a->latest = max_u64(now + SCHED_NET_LAG + s->cfg.latest_delta, start + s->cfg.latest_delta);
    a->expected_duration = est;
    a->expected_complete = start + est;
    gpu->exec_free = start + est;
    gpu->infers_inflight++;
    inst->inflight++;
    inst->last_used = ++s->use_seq;
    struct sched_action act = {
        .id = a->id,
        .type = SCHED_INFER,
        .worker_id = gpu->worker_id,
        .gpu_id = gpu->gpu_id,
        .model_id = inst->model,
        .batch_size = a->batch_size,
        .n_requests = n,
        .requests = a->reqs,
        .earliest = a->earliest,
        .latest = a->latest,
        .expected_duration = est,
        .expected_complete = a->expected_complete,
        .send_by = max_u64(now + SCHED_NET_LAG, a->latest - SCHED_SEND_MARGIN),
    };
    s->ops.send_action(s->data, &act);
}

static void schedule_model(struct scheduler *s, unsigned g, struct infer5_instance *inst, uint64_t start, uint64_t now)
{
    unsigned id = inst->model;
    struct infer5_model *m = &s->models[id];
    drop_infeasible(s, id, start, now);
    int v = pick_batch(m);
    if (v >= 0) {
        unsigned n = model_queue_take(&m->q, (unsigned)v, m->est.bs[v], s->batch);
        for (unsigned i = 0; i < n; i++)
            idheap_remove(&s->timeouts, s->batch[i]->timeout_pos);
        send_infer(s, g, inst, (unsigned)v, n, start, now);
    }
    sched_model_touch(s, id);
}

/* Returns whether the loop could act again before gpu->infer_wake although nothing changes:
 * a copy set aside as still loading that the timeline, advanced since, has caught up with. */
static int infer_loop(struct scheduler *s, unsigned g, uint64_t now)
{
    struct infer5_gpu *gpu = &s->gpus[g];
    struct infer5_instance *aside[16];
    unsigned n_aside = 0;
    gpu->infer_wake = SCHED_IDLE;
    if (!gpu->alive)
        return 0;
    uint64_t horizon = now + s->cfg.schedule_ahead;
    while (gpu->urgency.len) {
        if (gpu->exec_free >= horizon) {
            gpu->infer_wake = gpu->exec_free - s->cfg.schedule_ahead + 1; /* first instant it is < horizon */
            break;
        }
        struct infer5_instance *inst = idheap_top(&gpu->urgency);
        if (idheap_top_key(&gpu->urgency).hi == SCHED_IDLE)
            break;
        uint64_t start = max_u64(now, gpu->exec_free);
        if (!inst->loaded && usable_from(inst) > start) {
            /* usable only once its load is predicted complete; look further */
            if (n_aside == sizeof aside / sizeof aside[0])
                break;
            idheap_remove(&gpu->urgency, inst->heap_pos);
            aside[n_aside++] = inst;
            if (usable_from(inst) < gpu->infer_wake)
                gpu->infer_wake = usable_from(inst);
            continue;
        }
        schedule_model(s, g, inst, start, now);
    }
    int again = 0;
    for (unsigned i = 0; i < n_aside; i++) {
        idheap_push(&gpu->urgency, s->models[aside[i]->model].urgency, aside[i], &aside[i]->heap_pos);
        again |= usable_from(aside[i]) <= gpu->exec_free;
    }
    return again;
}

/* Until its state changes, the loop would do nothing before infer_wake: the tick skips it. */
void gpu_schedule_infer(struct scheduler *s, unsigned g, uint64_t now)
{
    int again = infer_loop(s, g, now);
    gpu_wake_ran(&s->wake, g, s->gpus[g].infer_wake);
    if (again)
        gpu_wake_mark(&s->wake, g); /* at the next tick, as a scan over all GPUs would */
}

/* The tick's infer pass: what running every GPU's loop in index order would do. */
void gpus_schedule_infer_due(struct scheduler *s, uint64_t now)
{
    int g;
    gpu_wake_begin(&s->wake, now);
    while ((g = gpu_wake_step(&s->wake)) >= 0)
        gpu_schedule_infer(s, (unsigned)g, now);
}

/* ---- load ---- */

static int evictable(const struct scheduler *s, const struct infer5_instance *inst)
{
    return inst->loaded && inst->inflight == 0 && load_tracker_demand(s->lt, inst->model) == 0;
}

static unsigned evictable_pages(const struct scheduler *s, const struct infer5_gpu *gpu)
{
    unsigned pages = 0;
    for (unsigned i = 0; i < gpu->n_res; i++)
        if (evictable(s, gpu->res[i]))
            pages += s->models[gpu->res[i]->model].pages;
    return pages;
}

struct fit_ctx {
    struct scheduler *s;
    unsigned g, room; /* free pages plus what evictions could free */
    int have_room;    /* room is counted at the first model that needs it (most searches find none) */
};

static int fits(void *ctx, unsigned model)
{
    struct fit_ctx *c = ctx;
    if (!c->have_room) {
        c->room = c->s->gpus[c->g].free_pages + evictable_pages(c->s, &c->s->gpus[c->g]);
        c->have_room = 1;
    }
    return c->s->models[model].pages <= c->room;
}

static void send_evict(struct scheduler *s, struct infer5_instance *inst, uint64_t now)
{
    struct infer5_gpu *gpu = &s->gpus[inst->gpu];
    struct action_rec *a = sched_action_new(s, SCHED_EVICT_WEIGHTS, inst->gpu, inst->model, now);
    a->earliest = 0;
    a->latest = UINT64_MAX;
    struct sched_action act = {
        .id = a->id,
        .type = SCHED_EVICT_WEIGHTS,
        .worker_id = gpu->worker_id,
        .gpu_id = gpu->gpu_id,
        .model_id = inst->model,
        .earliest = 0,
        .latest = UINT64_MAX,
        .send_by = UINT64_MAX,
    };
    /* pages count as free at once: the worker evicts before it sees the next load */
    sched_instance_remove(s, inst);
    s->ops.send_action(s->data, &act);
}

/* Whether a should be evicted before b: unloaded models first, then the least recently used. */
static int evict_before(const struct scheduler *s, const struct infer5_instance *a, const struct infer5_instance *b)
{
    int ua = s->models[a->model].unloaded, ub = s->models[b->model].unloaded;
    return ua != ub ? ua : a->last_used < b->last_used;
}

/* Evicts idle models, unloaded ones and then the least recently used first, until `pages` are free. */
static void make_room(struct scheduler *s, unsigned g, unsigned pages, uint64_t now)
{
    struct infer5_gpu *gpu = &s->gpus[g];
    while (gpu->free_pages < pages) {
        struct infer5_instance *lru = NULL;
        for (unsigned i = 0; i < gpu->n_res; i++) {
            struct infer5_instance *inst = gpu->res[i];
            if (evictable(s, inst) && (!lru || evict_before(s, inst, lru)))
                lru = inst;
        }
        if (!lru)
            return;
        send_evict(s, lru, now);
    }
}

static void send_load(struct scheduler *s, unsigned g, unsigned id, uint64_t now)
{
    struct infer5_gpu *gpu = &s->gpus[g];
    struct infer5_model *m = &s->models[id];
    struct infer5_instance *inst = gpu_add_instance(s, g, id, 0);
    uint64_t start = max_u64(now, gpu->load_free), est = m->est.load_est;
    struct action_rec *a = sched_action_new(s, SCHED_LOAD_WEIGHTS, g, id, now);
    a->inst = inst;
    a->earliest = now;
    a->latest = max_u64(now + SCHED_NET_LAG + s->cfg.latest_delta, start + s->cfg.latest_delta);
    a->expected_duration = est;
    a->expected_complete = start + est;
    inst->load_complete = start + est;
    gpu->load_free = start + est;
    gpu->loads_inflight++;
    gpu_load_slot_sync(s, g);
    struct sched_action act = {
        .id = a->id,
        .type = SCHED_LOAD_WEIGHTS,
        .worker_id = gpu->worker_id,
        .gpu_id = gpu->gpu_id,
        .model_id = id,
        .earliest = a->earliest,
        .latest = a->latest,
        .expected_duration = est,
        .expected_complete = a->expected_complete,
        .send_by = UINT64_MAX,
    };
    s->ops.send_action(s->data, &act);
}

void gpu_schedule_load(struct scheduler *s, unsigned g, uint64_t now)
{
    struct infer5_gpu *gpu = &s->gpus[g];
    while (gpu->alive && gpu->load_free < now + s->cfg.schedule_ahead && gpu->loads_inflight < SCHED_MAX_LOADS &&
           load_tracker_may_load(s->lt, g)) {
        struct fit_ctx ctx = {s, g, 0, 0};
        int id = load_tracker_next_load(s->lt, g, fits, &ctx);
        if (id < 0)
            return;
        make_room(s, g, s->models[id].pages, now);
        if (gpu->free_pages < s->models[id].pages)
            return; /* cannot happen: fits() counted the evictable pages */
        send_load(s, g, (unsigned)id, now);
    }
}

void gpu_load_slot_sync(struct scheduler *s, unsigned g)
{
    const struct infer5_gpu *gpu = &s->gpus[g];
    uint64_t ahead = s->cfg.schedule_ahead;
    /* its load loop runs while load_free < now + schedule_ahead */
    load_slots_set_open(&s->slots, g, gpu->alive && gpu->loads_inflight < SCHED_MAX_LOADS,
                        gpu->load_free >= ahead ? gpu->load_free - ahead + 1 : 0);
}

/* Whether a pass now would repeat the last one, which did nothing: nothing it reads has changed
 * and it would offer the same GPUs (an idle tick then costs O(1), not a pass over the GPUs). */
static int load_pass_repeats(const struct scheduler *s, uint64_t now)
{
    return s->idle_pass && s->idle_pass_changes == s->changes &&
           s->idle_pass_refreshes == load_tracker_refreshes(s->lt) && load_slots_next_new(&s->slots) > now;
}

uint64_t schedule_loads_next(const struct scheduler *s, uint64_t now)
{
    if (!load_tracker_has_candidates(s->lt))
        return SCHED_IDLE;
    return !s->cfg.full_ticks && load_pass_repeats(s, now) ? load_slots_next_new(&s->slots) : now;
}

/* Offers the wanted models to the GPUs with free load slots, least loaded first. */
void schedule_loads(struct scheduler *s, uint64_t now)
{
    if (!load_tracker_has_candidates(s->lt) || (!s->cfg.full_ticks && load_pass_repeats(s, now)))
        return;
    uint64_t refreshes = load_tracker_refreshes(s->lt), changes = s->changes;
    unsigned n = load_slots_begin_pass(&s->slots, now);
    uint64_t before = s->next_action_id;
    int g;
    while (load_tracker_has_candidates(s->lt) && (g = load_slots_next(&s->slots)) >= 0) {
        /* Nothing placed yet, so loads are as the order has them: the GPUs left are at capacity
         * too and, with no model lacking a copy, none of them can take one (an overloaded
         * cluster would otherwise search the candidates once per GPU at every tick). */
        if (s->next_action_id == before && !load_tracker_may_load(s->lt, (unsigned)g))
            break;
        gpu_schedule_load(s, (unsigned)g, now);
    }
    load_slots_end_pass(&s->slots);
    /* offered but nothing placed: wait for an event to change pages or demand */
    s->loads_stuck = n > 0 && load_tracker_has_candidates(s->lt) && s->next_action_id == before;
    s->idle_pass = changes == s->changes && refreshes == load_tracker_refreshes(s->lt);
    s->idle_pass_changes = changes;
    s->idle_pass_refreshes = refreshes;
}
