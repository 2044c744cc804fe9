/* INFER6 scheduler: request admission (deadline, target, early drop), the drop heap, ticks
 * and wake-ups, worker loss and return, drain, stats, and the impl table. See
 * docs/schedulers.md for how it decides. */
#include "common/log.h"
#include "common/status.h"
#include "controller/infer5/xalloc.h"
#include "controller/infer6/infer6_state.h"
#include "controller/sched_report.h"
#include <stdlib.h>
#include <string.h>

static struct infer6 *I6(struct scheduler *s) { return (struct infer6 *)(void *)s; }
static const struct infer6 *I6C(const struct scheduler *s) { return (const struct infer6 *)(const void *)s; }

/* ---- actions ---- */

struct i6_action *i6_action_new(struct infer6 *s, enum sched_action_type type, unsigned gpu, unsigned model,
                                uint64_t now)
{
    struct i6_action *a = xcalloc(1, sizeof *a + (type == SCHED_INFER ? s->max_req : 0) * sizeof a->reqs[0]);
    a->id = ++s->next_action_id;
    a->type = type;
    a->gpu = gpu;
    a->model = model;
    a->sent = now;
    action_table_put(&s->actions, a->id, a);
    return a;
}

void i6_action_free(struct i6_action *a) { free(a); }

/* ---- answering requests ---- */

/* The single exit of every request: telemetry row, tracker demand, then the host. */
void i6_answer(struct infer6 *s, uint64_t now, struct qreq *q, int status, const char *msg, const uint8_t *out,
               size_t out_len, int *met)
{
    struct sched_request *r = q->r;
    struct i6_model *m = r->model_id < s->n_models ? &s->models[r->model_id] : NULL;
    struct request_row row;
    sched_request_row(&row, r, now, status, m ? ++m->departures : 0);
    if (met)
        *met = row.deadline_met;
    if (m && q->demand)
        i6_demand_remove(s, r->model_id, q->demand);
    r->sched_priv = NULL;
    free(q);
    s->ops.log_request(s->data, &row);
    s->ops.request_done(s->data, r, status, msg, out, out_len);
}

void i6_drop(struct infer6 *s, uint64_t now, struct qreq *q, const char *msg)
{
    if (q->timeout_pos != IDHEAP_NONE)
        idheap_remove(&s->drops, q->timeout_pos);
    i6_answer(s, now, q, CLIENT_TIMEOUT, msg, NULL, 0, NULL);
}

/* ---- create / destroy ---- */

static void model_init(struct infer6 *s, struct i6_model *m, const struct sched_model *src)
{
    m->pages = src->info.num_weights_pages;
    m->output_size = src->info.output_size;
    estimates_init(&m->est, &src->info, &s->cfg);
    model_queue_init(&m->q, m->est.n);
    m->urgency = (struct idheap_key){I6_IDLE, 0};
    unsigned top = m->est.bs[m->est.n - 1];
    if (top > s->max_req)
        s->max_req = top;
}

static void gpu_init(struct infer6 *s, unsigned i, const struct sched_gpu *src)
{
    struct i6_gpu *g = &s->gpus[i];
    g->worker_id = src->worker_id;
    g->gpu_id = src->gpu_id;
    g->total_pages = g->free_pages = src->total_pages;
    g->alive = 1;
    g->wake_pos = g->load_pos = g->ready_pos = g->roomy_pos = IDHEAP_NONE;
    s->n_alive++;
    i6_roomy_update(s, i);
    g->last_clock = 1380; /* the original's nominal GPU clock until one is reported */
    g->stats.worker_id = src->worker_id;
    g->stats.gpu_id = src->gpu_id;
    idheap_init(&g->urgency);
    for (unsigned k = 0; k < src->n_loaded; k++) {
        unsigned id = src->loaded_models[k];
        if (id < s->n_models && s->models[id].known && !load_tracker_holds(s->lt, id, i) &&
            s->models[id].pages <= g->free_pages)
            i6_instance_add(s, i, id, 1);
    }
    i6_load_set_wake(s, i, 0);
}

static struct scheduler *i6_create(const struct sched_config *cfg, const struct sched_model *models, unsigned n_models,
                                   const struct sched_gpu *gpus, unsigned n_gpus, const struct sched_ops *ops,
                                   void *data)
{
    struct infer6 *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->ops = *ops;
    s->data = data;
    s->max_req = 1;
    for (unsigned i = 0; i < n_models; i++) /* ids are dense; size the table by the largest */
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
    s->min_pages = UINT32_MAX;
    for (unsigned i = 0; i < n_models; i++)
        s->min_pages = i6_min(s->min_pages, models[i].info.num_weights_pages);
    s->n_gpus = n_gpus < cfg->max_gpus ? n_gpus : cfg->max_gpus;
    s->gpus = xcalloc(s->n_gpus ? s->n_gpus : 1, sizeof s->gpus[0]);
    s->scratch = xcalloc(s->n_gpus ? s->n_gpus : 1, sizeof s->scratch[0]);
    s->dirty = xcalloc(s->n_gpus ? s->n_gpus : 1, sizeof s->dirty[0]);
    s->due = xcalloc(s->n_gpus ? s->n_gpus : 1, sizeof s->due[0]);
    s->batch = xcalloc(s->max_req, sizeof s->batch[0]);
    s->lt = load_tracker_create(s->n_models, s->n_gpus, cfg->default_slo);
    load_tracker_watch(s->lt, i6_load_moved, s);
    lags_init(&s->lags);
    idheap_init(&s->drops);
    idheap_init(&s->wakes);
    idheap_init(&s->load_wakes);
    idheap_init(&s->load_ready);
    idheap_init(&s->roomy);
    action_table_init(&s->actions);
    for (unsigned i = 0; i < s->n_gpus; i++)
        gpu_init(s, i, &gpus[i]);
    return (struct scheduler *)(void *)s;
}

/* Outstanding actions and the scheduler's state of their requests (the host still owns the
 * requests themselves: destroy answers nothing). */
static void free_actions(struct infer6 *s)
{
    for (unsigned i = 0; i < s->actions.cap; i++) {
        if (!s->actions.keys[i])
            continue;
        struct i6_action *a = s->actions.vals[i];
        for (unsigned k = 0; k < a->n_req; k++)
            free(a->reqs[k]->sched_priv);
        i6_action_free(a);
    }
}

static void i6_destroy(struct scheduler *ss)
{
    struct infer6 *s = I6(ss);
    for (unsigned i = 0; i < s->n_gpus; i++) {
        struct i6_gpu *g = &s->gpus[i];
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
    while (s->drops.len)
        free(idheap_remove(&s->drops, 0)); /* host must have drained: nothing left normally */
    free_actions(s);
    free(s->models);
    free(s->gpus);
    free(s->scratch);
    free(s->dirty);
    free(s->due);
    free(s->batch);
    load_tracker_destroy(s->lt);
    idheap_free(&s->drops);
    idheap_free(&s->wakes);
    idheap_free(&s->load_wakes);
    idheap_free(&s->load_ready);
    idheap_free(&s->roomy);
    action_table_free(&s->actions);
    free(s);
}

/* ---- requests ---- */

static void reject_unknown(struct infer6 *s, uint64_t now, struct sched_request *r)
{
    r->deadline = r->arrival + s->cfg.default_slo;
    r->is_coldstart = 0;
    r->arrival_count = 0;
    struct qreq *q = xcalloc(1, sizeof *q);
    q->r = r;
    q->timeout_pos = IDHEAP_NONE;
    r->sched_priv = q;
    i6_answer(s, now, q, CLIENT_INVALID_REQUEST, "Invalid model ID", NULL, 0, NULL);
}

/* Exec work normalised by the time available for it (the load tracker's unit), with the
 * time floored as INFER5 floors it so tight SLOs do not inflate demand without bound. */
static uint64_t demand_of(const struct infer6 *s, const struct i6_model *m, uint64_t slo)
{
    uint64_t window = i6_max(slo, s->cfg.schedule_ahead + s->cfg.buffer);
    uint64_t d = (uint64_t)((double)m->est.est[0] * (double)s->cfg.default_slo / (double)(window ? window : 1));
    return d ? d : 1;
}

static void i6_on_request(struct scheduler *ss, uint64_t now, struct sched_request *r)
{
    struct infer6 *s = I6(ss);
    if (r->model_id >= s->n_models || !s->models[r->model_id].known) {
        reject_unknown(s, now, r);
        return;
    }
    unsigned id = r->model_id;
    struct i6_model *m = &s->models[id];
    lags_forget_stale(&s->lags, now);
    uint64_t slo = sched_request_slo(m->est.est[0], r->slo_factor, s->cfg.default_slo);
    r->deadline = r->arrival + slo;
    r->is_coldstart = m->n_inst == 0;
    r->arrival_count = ++m->arrivals;
    struct qreq *q = xcalloc(1, sizeof *q);
    q->r = r;
    q->timeout_pos = IDHEAP_NONE;
    r->sched_priv = q;
    /* the batch must end this long before the deadline for the result to reach us in time */
    uint64_t post = lags_allowance(&s->lags, LAG_POST, 2);
    q->target = r->deadline > r->arrival + post ? r->deadline - post : r->arrival;
    uint64_t soonest = now + s->lags.typical[LAG_DISPATCH] + m->est.est[0];
    if (soonest > q->target) { /* even an idle GPU could not make it: say so now */
        i6_answer(s, now, q, CLIENT_TIMEOUT, "Request cannot meet its deadline", NULL, 0, NULL);
        return;
    }
    q->demand = demand_of(s, m, slo);
    i6_demand_add(s, id, q->demand);
    model_queue_push(&m->q, q);
    uint64_t hopeless = q->target - m->est.est[0] - s->lags.typical[LAG_DISPATCH] + 1;
    idheap_push(&s->drops, (struct idheap_key){hopeless, 0}, q, &q->timeout_pos);
    i6_model_touch(s, id);
    s->loads_stuck = 0;
    if (m->n_inst == 0)
        i6_schedule_loads(s, now);
    i6_place_model(s, id, now);
    if (m->q.live)
        i6_replicate(s, id, now);
}

/* ---- tick, drops, wake-ups ---- */

static void expire_drops(struct infer6 *s, uint64_t now)
{
    while (s->drops.len && idheap_top_key(&s->drops).hi <= now) {
        struct qreq *q = idheap_top(&s->drops);
        unsigned id = q->r->model_id;
        model_queue_remove(&s->models[id].q, q);
        i6_drop(s, now, q, "Request could not meet its deadline");
        i6_model_touch(s, id);
    }
}

static void i6_tick(struct scheduler *ss, uint64_t now)
{
    struct infer6 *s = I6(ss);
    expire_drops(s, now);
    while (s->wakes.len && idheap_top_key(&s->wakes).hi <= now) {
        struct i6_gpu *g = idheap_top(&s->wakes);
        i6_place(s, (unsigned)(g - s->gpus), now); /* re-arms its wake later or clears it */
    }
    i6_schedule_loads(s, now);
}

static uint64_t i6_next_wakeup(const struct scheduler *ss, uint64_t now)
{
    const struct infer6 *s = I6C(ss);
    uint64_t w = I6_IDLE;
    if (s->drops.len)
        w = idheap_top_key(&s->drops).hi;
    if (s->wakes.len)
        w = i6_min(w, idheap_top_key(&s->wakes).hi);
    if (!s->loads_stuck && load_tracker_has_candidates(s->lt)) {
        if (s->load_ready.len) /* they came due at the last pass */
            w = i6_min(w, s->last_pass);
        if (s->load_wakes.len)
            w = i6_min(w, idheap_top_key(&s->load_wakes).hi);
    }
    return w < now ? now : w;
}

/* ---- results, worker loss, drain ---- */

static void i6_on_result(struct scheduler *ss, uint64_t now, const struct sched_result *res)
{
    struct infer6 *s = I6(ss);
    struct i6_action *a = action_table_remove(&s->actions, res->action_id);
    if (!a) {
        if (!s->unknown_result_logged)
            log_warn("scheduler: result for unknown action %llu ignored (further ones silently)",
                     (unsigned long long)res->action_id);
        s->unknown_result_logged = 1;
        return;
    }
    unsigned g = a->gpu;
    s->loads_stuck = 0;
    i6_result(s, now, a, res);
    i6_action_free(a);
    if (s->gpus[g].alive) {
        i6_place(s, g, now);
        i6_schedule_loads(s, now);
    }
}

/* Fails every outstanding action of the worker (all when worker < 0). */
static void fail_actions(struct infer6 *s, uint64_t now, long worker, int client_status, const char *msg)
{
    for (unsigned i = 0; i < s->actions.cap;) {
        struct i6_action *a = s->actions.keys[i] ? s->actions.vals[i] : NULL;
        if (!a || (worker >= 0 && s->gpus[a->gpu].worker_id != (unsigned)worker)) {
            i++;
            continue;
        }
        /* removal may shift a later entry into slot i: look at it again */
        action_table_remove(&s->actions, a->id);
        i6_result_fail(s, now, a, ACTION_CANCELLED, client_status, msg);
        i6_action_free(a);
    }
}

static void gpu_unwake(struct infer6 *s, struct i6_gpu *g)
{
    if (g->wake_pos != IDHEAP_NONE)
        idheap_remove(&s->wakes, g->wake_pos);
    i6_load_unwake(s, (unsigned)(g - s->gpus));
}

static void i6_on_worker_lost(struct scheduler *ss, uint64_t now, unsigned worker_id)
{
    struct infer6 *s = I6(ss);
    fail_actions(s, now, worker_id, CLIENT_ERROR, "Worker connection lost");
    for (unsigned i = 0; i < s->n_gpus; i++) {
        struct i6_gpu *g = &s->gpus[i];
        if (g->worker_id != worker_id || !g->alive)
            continue;
        g->alive = 0;
        s->n_alive--;
        gpu_unwake(s, g);
        i6_roomy_update(s, i);
        while (g->n_res)
            i6_instance_remove(s, g->res[g->n_res - 1]);
    }
    s->loads_stuck = 0;
    i6_tick(ss, now);
}

static void i6_on_worker_back(struct scheduler *ss, uint64_t now, unsigned worker_id)
{
    struct infer6 *s = I6(ss);
    for (unsigned i = 0; i < s->n_gpus; i++) {
        struct i6_gpu *g = &s->gpus[i];
        if (g->worker_id != worker_id || g->alive)
            continue;
        /* its cache was cleared and nothing is in flight: it starts empty, free from now */
        g->alive = 1;
        s->n_alive++;
        g->free_pages = g->total_pages;
        g->evictable_pages = 0;
        i6_roomy_update(s, i);
        g->exec_anchor = g->exec_free = g->load_free = now;
        g->infers_inflight = g->loads_inflight = 0;
        i6_load_set_wake(s, i, now);
    }
    s->loads_stuck = 0;
    i6_tick(ss, now);
}

static void i6_drain(struct scheduler *ss, uint64_t now, int status)
{
    struct infer6 *s = I6(ss);
    fail_actions(s, now, -1, status, "Controller shutting down");
    while (s->drops.len) {
        struct qreq *q = idheap_top(&s->drops);
        unsigned id = q->r->model_id;
        model_queue_remove(&s->models[id].q, q);
        idheap_remove(&s->drops, q->timeout_pos);
        i6_answer(s, now, q, status, "Controller shutting down", NULL, 0, NULL);
        i6_model_touch(s, id);
    }
}

/* ---- stats ---- */

static unsigned i6_take_stats(struct scheduler *ss, struct sched_gpu_stats *out, unsigned max)
{
    struct infer6 *s = I6(ss);
    unsigned n = s->n_gpus < max ? s->n_gpus : max;
    for (unsigned i = 0; i < n; i++)
        sched_stats_take(&s->gpus[i].stats, &out[i]);
    return n;
}

static unsigned i6_gpu_count(const struct scheduler *ss) { return I6C(ss)->n_gpus; }

const struct sched_impl infer6_impl = {
    .create = i6_create,
    .destroy = i6_destroy,
    .on_request = i6_on_request,
    .on_result = i6_on_result,
    .tick = i6_tick,
    .next_wakeup = i6_next_wakeup,
    .on_worker_lost = i6_on_worker_lost,
    .on_worker_back = i6_on_worker_back,
    .drain = i6_drain,
    .take_stats = i6_take_stats,
    .gpu_count = i6_gpu_count,
};
