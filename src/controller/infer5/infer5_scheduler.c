/* INFER5 scheduler: request admission, timeouts, wake-ups, worker loss, drain, stats,
 * and the pools and helpers the GPU and result modules share. */
#include "common/log.h"
#include "common/status.h"
#include "controller/infer5/sched_state.h"
#include "controller/infer5/xalloc.h"
#include "controller/sched_impl.h"
#include "controller/sched_report.h"
#include <stdlib.h>
#include <string.h>

#define QREQ_CHUNK 256

void sched_config_defaults(struct sched_config *c)
{
    memset(c, 0, sizeof *c);
    c->default_slo = 100000000ULL;
    c->schedule_ahead = 10000000ULL;
    c->latest_delta = 10000000ULL;
    c->max_exec = 25000000ULL;
    c->max_batch = 16;
    c->buffer = 5000000ULL;
    c->estimate_window = 10;
    c->estimate_percentile = 0.99;
    c->generate_inputs = 0;
    c->max_gpus = 100;
}

/* ---- pools ---- */

static void remember_chunk(struct scheduler *s, void *p)
{
    xgrow(&s->chunks, &s->cap_chunks, s->n_chunks + 1, sizeof s->chunks[0]);
    s->chunks[s->n_chunks++] = p;
}

static struct qreq *qreq_new(struct scheduler *s)
{
    if (!s->free_qreqs) {
        struct qreq *chunk = xcalloc(QREQ_CHUNK, sizeof *chunk);
        remember_chunk(s, chunk);
        for (unsigned i = 0; i < QREQ_CHUNK; i++) {
            chunk[i].next_free = s->free_qreqs;
            s->free_qreqs = &chunk[i];
        }
    }
    struct qreq *q = s->free_qreqs;
    s->free_qreqs = q->next_free;
    memset(q, 0, sizeof *q);
    q->timeout_pos = IDHEAP_NONE;
    return q;
}

static void qreq_free(struct scheduler *s, struct qreq *q)
{
    q->next_free = s->free_qreqs;
    s->free_qreqs = q;
}

struct qreq *sched_qreq_of(struct sched_request *r) { return r->sched_priv; }

struct action_rec *sched_action_new(struct scheduler *s, enum sched_action_type type, unsigned gpu, unsigned model,
                                    uint64_t now)
{
    struct action_rec *a = s->free_actions;
    if (a) {
        s->free_actions = a->next_free;
    } else {
        a = xmalloc(sizeof *a + s->max_req * sizeof a->reqs[0]);
        remember_chunk(s, a);
    }
    memset(a, 0, sizeof *a);
    a->id = ++s->next_action_id;
    s->changes++;
    a->type = type;
    a->gpu = gpu;
    a->model = model;
    a->sent = now;
    a->shift = type == SCHED_INFER ? s->gpus[gpu].exec_shift : s->gpus[gpu].load_shift;
    action_table_put(&s->actions, a->id, a);
    return a;
}

void sched_action_free(struct scheduler *s, struct action_rec *a)
{
    a->next_free = s->free_actions;
    s->free_actions = a;
}

/* ---- answering requests ---- */

/* The single exit of every request: telemetry row, tracker demand, then the host. */
void sched_answer(struct scheduler *s, uint64_t now, struct qreq *q, int status, const char *msg, const uint8_t *out,
                  size_t out_len, int *met)
{
    struct sched_request *r = q->r;
    struct infer5_model *m = r->model_id < s->n_models ? &s->models[r->model_id] : NULL;
    struct request_row row;
    s->changes++;
    sched_request_row(&row, r, now, status, m ? ++m->departures : 0);
    if (met)
        *met = row.deadline_met;
    if (m)
        load_tracker_remove_demand(s->lt, r->model_id, q->demand);
    r->sched_priv = NULL;
    qreq_free(s, q);
    s->ops.log_request(s->data, &row);
    s->ops.request_done(s->data, r, status, msg, out, out_len);
}

/* Answers a request that is still queued (in its model queue and the timeout heap). */
void sched_answer_queued(struct scheduler *s, uint64_t now, struct qreq *q, int status, const char *msg)
{
    if (q->timeout_pos != IDHEAP_NONE)
        idheap_remove(&s->timeouts, q->timeout_pos);
    sched_answer(s, now, q, status, msg, NULL, 0, NULL);
}

void sched_timeout_queued(struct scheduler *s, uint64_t now, struct qreq *q, const char *msg)
{
    sched_answer_queued(s, now, q, CLIENT_TIMEOUT, msg);
}

/* ---- model urgency ---- */

/* A strategy (model, batch size b) may start as late as front(b).target - estimate(b);
 * the model's urgency is its earliest such start, ties going to the larger batch. */
static struct idheap_key model_urgency(const struct infer5_model *m, unsigned id)
{
    uint64_t start = 0;
    int v = model_queue_most_urgent(&m->q, m->est.est, &start);
    if (v < 0)
        return (struct idheap_key){SCHED_IDLE, 0};
    return (struct idheap_key){start, ((MODEL_MAX_BATCH_SIZES - 1 - (unsigned)v) << 27) | (id & 0x7FFFFFF)};
}

void sched_model_touch(struct scheduler *s, unsigned id)
{
    struct infer5_model *m = &s->models[id];
    struct idheap_key k = model_urgency(m, id);
    if (k.hi == m->urgency.hi && k.lo == m->urgency.lo)
        return; /* the GPUs holding it would decide as before */
    m->urgency = k;
    for (unsigned i = 0; i < m->n_inst; i++) {
        struct infer5_instance *inst = m->inst[i];
        if (inst->heap_pos == IDHEAP_NONE)
            continue;
        idheap_update(&s->gpus[inst->gpu].urgency, inst->heap_pos, k);
        gpu_wake_mark(&s->wake, inst->gpu);
    }
}

/* Infers may be planned on a copy that is still loading; if that load fails, their
 * records must stop pointing at the freed instance (rare: scan). */
static void detach_actions(struct scheduler *s, const struct infer5_instance *inst)
{
    for (unsigned i = 0; i < s->actions.cap; i++) {
        struct action_rec *a = s->actions.keys[i] ? s->actions.vals[i] : NULL;
        if (a && a->inst == inst)
            a->inst = NULL;
    }
}

void sched_instance_remove(struct scheduler *s, struct infer5_instance *inst)
{
    if (inst->inflight)
        detach_actions(s, inst);
    struct infer5_gpu *g = &s->gpus[inst->gpu];
    struct infer5_model *m = &s->models[inst->model];
    if (inst->heap_pos != IDHEAP_NONE)
        idheap_remove(&g->urgency, inst->heap_pos);
    gpu_wake_mark(&s->wake, inst->gpu);
    g->res[inst->gpu_slot] = g->res[--g->n_res];
    g->res[inst->gpu_slot]->gpu_slot = inst->gpu_slot;
    for (unsigned i = 0; i < m->n_inst; i++) {
        if (m->inst[i] == inst) {
            m->inst[i] = m->inst[--m->n_inst];
            break;
        }
    }
    if (inst->loaded)
        m->n_loaded--;
    g->free_pages += m->pages;
    load_tracker_remove_copy(s->lt, inst->model, inst->gpu);
    free(inst);
}

/* ---- create / destroy ---- */

static void model_init(struct scheduler *s, struct infer5_model *m, const struct sched_model *src)
{
    m->pages = src->info.num_weights_pages;
    m->output_size = src->info.output_size;
    estimates_init(&m->est, &src->info, &s->cfg);
    model_queue_init(&m->q, m->est.n);
    m->urgency = (struct idheap_key){SCHED_IDLE, 0};
    unsigned top = m->est.bs[m->est.n - 1];
    if (top > s->max_req)
        s->max_req = top;
}

static void gpu_load_changed(void *data, unsigned gpu, uint64_t load)
{
    struct scheduler *s = data;
    load_slots_set_load(&s->slots, gpu, load);
}

static void gpu_init(struct scheduler *s, unsigned i, const struct sched_gpu *src)
{
    struct infer5_gpu *g = &s->gpus[i];
    g->worker_id = src->worker_id;
    g->gpu_id = src->gpu_id;
    g->total_pages = g->free_pages = src->total_pages;
    g->alive = 1;
    g->infer_wake = SCHED_IDLE;
    g->last_clock = 1380; /* the original's nominal GPU clock until one is reported */
    g->stats.worker_id = src->worker_id;
    g->stats.gpu_id = src->gpu_id;
    idheap_init(&g->urgency);
    gpu_wake_mark(&s->wake, i);
    gpu_load_slot_sync(s, i);
    for (unsigned k = 0; k < src->n_loaded; k++) {
        unsigned id = src->loaded_models[k];
        if (id < s->n_models && s->models[id].known && !load_tracker_holds(s->lt, id, i) &&
            s->models[id].pages <= g->free_pages)
            gpu_add_instance(s, i, id, 1);
    }
}

static struct scheduler *infer5_create(const struct sched_config *cfg, const struct sched_model *models,
                                       unsigned n_models, const struct sched_gpu *gpus, unsigned n_gpus,
                                       const struct sched_ops *ops, void *data)
{
    struct scheduler *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->ops = *ops;
    s->data = data;
    s->max_req = 1;
    /* model ids are dense; size the table by the largest id given */
    for (unsigned i = 0; i < n_models; i++)
        if (models[i].id + 1 > s->n_models)
            s->n_models = models[i].id + 1;
    s->models = xcalloc(s->n_models ? s->n_models : 1, sizeof s->models[0]);
    struct sched_model absent = {0}; /* ids in the gaps are unknown models */
    for (unsigned i = 0; i < s->n_models; i++)
        model_init(s, &s->models[i], &absent);
    for (unsigned i = 0; i < n_models; i++) {
        model_queue_free(&s->models[models[i].id].q);
        model_init(s, &s->models[models[i].id], &models[i]);
        s->models[models[i].id].known = 1;
    }
    s->n_gpus = n_gpus < cfg->max_gpus ? n_gpus : cfg->max_gpus;
    s->gpus = xcalloc(s->n_gpus ? s->n_gpus : 1, sizeof s->gpus[0]);
    s->batch = xcalloc(s->max_req, sizeof s->batch[0]);
    s->lt = load_tracker_create(s->n_models, s->n_gpus, cfg->default_slo);
    idheap_init(&s->timeouts);
    action_table_init(&s->actions);
    gpu_wake_init(&s->wake, s->n_gpus);
    load_slots_init(&s->slots, s->n_gpus);
    load_tracker_watch(s->lt, gpu_load_changed, s);
    for (unsigned i = 0; i < s->n_gpus; i++)
        gpu_init(s, i, &gpus[i]);
    return s;
}

static void infer5_destroy(struct scheduler *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n_gpus; i++) {
        struct infer5_gpu *g = &s->gpus[i];
        for (unsigned k = 0; k < g->n_res; k++)
            free(g->res[k]);
        free(g->res);
        idheap_free(&g->urgency);
    }
    for (unsigned i = 0; i < s->n_models; i++) {
        model_queue_free(&s->models[i].q);
        estimates_free(&s->models[i].est);
        free(s->models[i].inst);
    }
    for (unsigned i = 0; i < s->n_chunks; i++)
        free(s->chunks[i]);
    free(s->chunks);
    free(s->models);
    free(s->gpus);
    gpu_wake_free(&s->wake);
    load_slots_free(&s->slots);
    free(s->batch);
    load_tracker_destroy(s->lt);
    idheap_free(&s->timeouts);
    action_table_free(&s->actions);
    free(s);
}

/* ---- requests ---- */

/* Aims at deadline - buffer, but never earlier than schedule_ahead + buffer after arrival
 * (the original's rule: a very tight SLO is still attempted, just late). */
static uint64_t target_of(const struct scheduler *s, uint64_t arrival, uint64_t slo)
{
    uint64_t aim = slo > s->cfg.buffer ? slo - s->cfg.buffer : slo;
    uint64_t floor = s->cfg.schedule_ahead + s->cfg.buffer;
    return arrival + (aim > floor ? aim : floor);
}

static void reject(struct scheduler *s, uint64_t now, struct sched_request *r, const char *msg)
{
    r->deadline = r->arrival + s->cfg.default_slo;
    r->is_coldstart = 0;
    r->arrival_count = 0;
    struct qreq *q = qreq_new(s);
    q->r = r;
    r->sched_priv = q;
    sched_answer(s, now, q, CLIENT_INVALID_REQUEST, msg, NULL, 0, NULL);
}

static void gpus_of_model_schedule(struct scheduler *s, unsigned id, uint64_t now)
{
    struct infer5_model *m = &s->models[id];
    for (unsigned i = 0; i < m->n_inst && i < s->n_gpus; i++)
        gpu_schedule_infer(s, m->inst[i]->gpu, now);
}

static void infer5_on_request(struct scheduler *s, uint64_t now, struct sched_request *r)
{
    s->changes++;
    if (r->model_id >= s->n_models || !s->models[r->model_id].known) {
        reject(s, now, r, "Invalid model ID");
        return;
    }
    if (s->models[r->model_id].unloaded) {
        reject(s, now, r, "Model unloaded");
        return;
    }
    unsigned id = r->model_id;
    struct infer5_model *m = &s->models[id];
    uint64_t slo = sched_request_slo(m->est.est[0], r->slo_factor, s->cfg.default_slo);
    r->deadline = r->arrival + slo;
    r->is_coldstart = m->n_inst == 0;
    r->arrival_count = ++m->arrivals;

    struct qreq *q = qreq_new(s);
    q->r = r;
    q->target = target_of(s, r->arrival, slo);
    /* demand = exec work normalised by the time available for it */
    uint64_t window = q->target > r->arrival ? q->target - r->arrival : 1;
    q->demand = (uint64_t)((double)m->est.est[0] * (double)s->cfg.default_slo / (double)window);
    if (q->demand == 0)
        q->demand = 1;
    r->sched_priv = q;
    load_tracker_add_demand(s->lt, id, q->demand);
    model_queue_push(&m->q, q);
    idheap_push(&s->timeouts, (struct idheap_key){q->target, 0}, q, &q->timeout_pos);
    sched_model_touch(s, id);
    s->loads_stuck = 0;
    if (m->n_inst == 0)
        schedule_loads(s, now);
    gpus_of_model_schedule(s, id, now);
}

/* ---- tick, timeouts, wake-up ---- */

static void expire_timeouts(struct scheduler *s, uint64_t now)
{
    while (s->timeouts.len && idheap_top_key(&s->timeouts).hi <= now) {
        struct qreq *q = idheap_top(&s->timeouts);
        unsigned id = q->r->model_id;
        model_queue_remove(&s->models[id].q, q);
        sched_timeout_queued(s, now, q, "Request timed out while queued");
        sched_model_touch(s, id);
    }
}

static void infer5_tick(struct scheduler *s, uint64_t now)
{
    expire_timeouts(s, now);
    schedule_loads(s, now);
    gpus_schedule_infer_due(s, now);
}

static uint64_t load_wakeup(const struct scheduler *s)
{
    if (s->loads_stuck || !load_tracker_has_candidates(s->lt))
        return SCHED_IDLE;
    return load_slots_next_ready(&s->slots);
}

static uint64_t infer5_next_wakeup(const struct scheduler *s, uint64_t now)
{
    uint64_t w = load_wakeup(s);
    if (s->timeouts.len && idheap_top_key(&s->timeouts).hi < w)
        w = idheap_top_key(&s->timeouts).hi;
    if (gpu_wake_next(&s->wake) < w)
        w = gpu_wake_next(&s->wake);
    return w < now ? now : w;
}

/* Every part of a tick before this would do nothing: no request's target passed, no GPU due or
 * changed, and no load pass that could differ from the last idle one. */
static uint64_t infer5_next_tick(const struct scheduler *s, uint64_t now)
{
    if (gpu_wake_any_marked(&s->wake))
        return now;
    uint64_t w = schedule_loads_next(s, now);
    if (s->timeouts.len && idheap_top_key(&s->timeouts).hi < w)
        w = idheap_top_key(&s->timeouts).hi;
    if (gpu_wake_next(&s->wake) < w)
        w = gpu_wake_next(&s->wake);
    return w < now ? now : w;
}

/* ---- results, worker loss, drain ---- */

static void infer5_on_result(struct scheduler *s, uint64_t now, const struct sched_result *res)
{
    struct action_rec *a = action_table_remove(&s->actions, res->action_id);
    if (!a) {
        if (!s->unknown_result_logged)
            log_warn("scheduler: result for unknown action %llu ignored (further ones silently)",
                     (unsigned long long)res->action_id);
        s->unknown_result_logged = 1;
        return;
    }
    unsigned g = a->gpu;
    s->loads_stuck = 0;
    s->changes++;
    infer5_results_handle(s, now, a, res);
    sched_action_free(s, a);
    if (s->gpus[g].alive) {
        gpu_schedule_load(s, g, now);
        gpu_schedule_infer(s, g, now);
    }
}

/* Removes every outstanding action matching the filter (worker, or all when -1). */
static void fail_actions(struct scheduler *s, uint64_t now, long worker, int client_status, const char *msg)
{
    for (unsigned i = 0; i < s->actions.cap;) {
        struct action_rec *a = s->actions.keys[i] ? s->actions.vals[i] : NULL;
        if (!a || (worker >= 0 && s->gpus[a->gpu].worker_id != (unsigned)worker)) {
            i++;
            continue;
        }
        /* removal may shift a later entry into slot i: look at it again */
        action_table_remove(&s->actions, a->id);
        infer5_results_fail(s, now, a, ACTION_CANCELLED, client_status, msg);
        sched_action_free(s, a);
    }
}

static void infer5_on_worker_lost(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    s->changes++;
    fail_actions(s, now, worker_id, CLIENT_ERROR, "Worker connection lost");
    for (unsigned i = 0; i < s->n_gpus; i++) {
        struct infer5_gpu *g = &s->gpus[i];
        if (g->worker_id != worker_id || !g->alive)
            continue;
        g->alive = 0;
        g->infer_wake = SCHED_IDLE;
        gpu_wake_ran(&s->wake, i, SCHED_IDLE);
        gpu_load_slot_sync(s, i);
        while (g->n_res)
            sched_instance_remove(s, g->res[g->n_res - 1]);
    }
    s->loads_stuck = 0;
    infer5_tick(s, now);
}

static void infer5_on_worker_back(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    s->changes++;
    for (unsigned i = 0; i < s->n_gpus; i++) {
        struct infer5_gpu *g = &s->gpus[i];
        if (g->worker_id != worker_id || g->alive)
            continue;
        /* Its cache was cleared and nothing is in flight: it starts empty, free from now. */
        g->alive = 1;
        g->free_pages = g->total_pages;
        g->exec_free = g->load_free = now;
        g->infers_inflight = g->loads_inflight = 0;
        g->infer_wake = SCHED_IDLE;
        gpu_wake_mark(&s->wake, i);
        gpu_load_slot_sync(s, i);
    }
    s->loads_stuck = 0;
    infer5_tick(s, now);
}

static void infer5_drain(struct scheduler *s, uint64_t now, int status)
{
    s->changes++;
    fail_actions(s, now, -1, status, "Controller shutting down");
    while (s->timeouts.len) {
        struct qreq *q = idheap_top(&s->timeouts);
        unsigned id = q->r->model_id;
        model_queue_remove(&s->models[id].q, q);
        idheap_remove(&s->timeouts, q->timeout_pos);
        sched_answer(s, now, q, status, "Controller shutting down", NULL, 0, NULL);
        sched_model_touch(s, id);
    }
}

/* ---- models added or unloaded while serving ---- */

/* A new model may allow larger batches: the scratch batch grows, and pooled action records,
 * sized for the old largest batch, are left to the chunk list (freed at destroy). */
static void grow_max_req(struct scheduler *s, unsigned old_max)
{
    if (s->max_req == old_max)
        return;
    free(s->batch);
    s->batch = xcalloc(s->max_req, sizeof s->batch[0]);
    s->free_actions = NULL;
}

static int infer5_add_models(struct scheduler *s, uint64_t now, const struct sched_model *models, unsigned n_models)
{
    (void)now;
    s->changes++;
    unsigned n = s->n_models, old_max = s->max_req;
    for (unsigned i = 0; i < n_models; i++) {
        if (models[i].id < s->n_models && s->models[models[i].id].known)
            return -1; /* ids are never reused */
        if (models[i].id + 1 > n)
            n = models[i].id + 1;
    }
    s->models = xrealloc(s->models, (size_t)n * sizeof s->models[0]);
    struct sched_model absent = {0};
    for (unsigned i = s->n_models; i < n; i++) {
        memset(&s->models[i], 0, sizeof s->models[i]);
        model_init(s, &s->models[i], &absent);
    }
    load_tracker_grow(s->lt, n);
    s->n_models = n;
    for (unsigned i = 0; i < n_models; i++) {
        struct infer5_model *m = &s->models[models[i].id];
        model_queue_free(&m->q);
        memset(m, 0, sizeof *m);
        model_init(s, m, &models[i]);
        m->known = 1;
    }
    grow_max_req(s, old_max);
    return 0;
}

static void answer_all_queued(struct scheduler *s, uint64_t now, unsigned id, int status, const char *msg)
{
    struct infer5_model *m = &s->models[id];
    for (unsigned v = 0; v < m->q.nv; v++)
        while (model_queue_front(&m->q, v))
            model_queue_drop_front(&m->q, v);
    struct qreq *q;
    while ((q = model_queue_pop_orphan(&m->q)))
        sched_answer_queued(s, now, q, status, msg);
    sched_model_touch(s, id);
}

static int infer5_set_model_serving(struct scheduler *s, uint64_t now, unsigned id, int serving)
{
    if (id >= s->n_models || !s->models[id].known)
        return -1;
    s->models[id].unloaded = !serving;
    s->changes++;
    if (!serving)
        answer_all_queued(s, now, id, CLIENT_ERROR, "Model unloaded while the request was queued");
    s->loads_stuck = 0;
    return 0;
}

/* ---- stats ---- */

static unsigned infer5_take_stats(struct scheduler *s, struct sched_gpu_stats *out, unsigned max)
{
    unsigned n = s->n_gpus < max ? s->n_gpus : max;
    for (unsigned i = 0; i < n; i++)
        sched_stats_take(&s->gpus[i].stats, &out[i]);
    return n;
}

static unsigned infer5_gpu_count(const struct scheduler *s) { return s->n_gpus; }

const struct sched_impl infer5_impl = {
    .create = infer5_create,
    .destroy = infer5_destroy,
    .on_request = infer5_on_request,
    .on_result = infer5_on_result,
    .tick = infer5_tick,
    .next_wakeup = infer5_next_wakeup,
    .next_tick = infer5_next_tick,
    .on_worker_lost = infer5_on_worker_lost,
    .on_worker_back = infer5_on_worker_back,
    .drain = infer5_drain,
    .take_stats = infer5_take_stats,
    .gpu_count = infer5_gpu_count,
    .add_models = infer5_add_models,
    .set_model_serving = infer5_set_model_serving,
};
