/* INFER6's worker results: answers the requests of finished infers, learns exec times and
 * the overheads around them (lags.h), re-anchors the GPU's predicted timeline on what really
 * happened, tracks loads and evictions, and writes one telemetry row per finished action. */
#include "common/status.h"
#include "controller/infer6/infer6_state.h"
#include "controller/sched_report.h"

static int64_t since(uint64_t abs, uint64_t t) { return abs ? (int64_t)(abs - t) : 0; }

static void log_action(struct infer6 *s, uint64_t now, const struct i6_action *a, const struct sched_result *res,
                       int status, double goodput)
{
    const struct i6_gpu *g = &s->gpus[a->gpu];
    const struct i6_model *m = &s->models[a->model];
    struct action_row row = {
        .t = a->sent,
        .action_id = a->id,
        .action_type = (int)a->type,
        .status = status,
        .worker_id = g->worker_id,
        .gpu_id = g->gpu_id,
        .model_id = a->model,
        .batch_size = a->batch_size,
        .expected_exec_duration = (int64_t)a->expected_duration,
        .expected_exec_complete = since(a->expected_complete, a->sent),
        .expected_gpu_clock = g->last_clock,
        .controller_action_duration = (int64_t)(now - a->sent),
        .goodput = goodput,
        .requests_queued = m->q.live,
        .copies_loaded = m->n_loaded,
    };
    if (res)
        sched_action_row_result(&row, res, a->sent);
    s->ops.log_action(s->data, &row);
}

static unsigned answer_batch(struct infer6 *s, uint64_t now, struct i6_action *a, int status, const char *msg,
                             const struct sched_result *res)
{
    const struct i6_model *m = &s->models[a->model];
    unsigned met_count = 0;
    for (unsigned i = 0; i < a->n_req; i++) {
        const uint8_t *out = NULL;
        size_t len = 0;
        if (status == CLIENT_SUCCESS && res && res->output && res->output_len >= (size_t)(i + 1) * m->output_size) {
            out = res->output + (size_t)i * m->output_size;
            len = m->output_size;
        }
        int met = 0;
        i6_answer(s, now, a->reqs[i]->sched_priv, status, msg, out, len, &met);
        met_count += (unsigned)met;
    }
    return met_count;
}

static void update_max(uint64_t *max, uint64_t x) { *max = x > *max ? x : *max; }

static void add_stat(uint64_t *min, uint64_t *max, uint64_t *sum, uint64_t count, uint64_t x)
{
    if (count == 1 || x < *min)
        *min = x;
    update_max(max, x);
    *sum += x;
}

static void record_stats(struct i6_gpu *g, const struct i6_action *a, const struct sched_result *res)
{
    struct sched_gpu_stats *st = &g->stats;
    uint64_t exec = res->worker_exec_duration, e2e = res->received > a->sent ? res->received - a->sent : 0;
    if (a->type == SCHED_INFER) {
        st->infer_count++;
        st->infer_busy_ns += exec;
        add_stat(&st->infer_exec_min, &st->infer_exec_max, &st->infer_exec_sum, st->infer_count, exec);
        st->infer_e2e_sum += e2e;
        update_max(&st->infer_e2e_max, e2e);
    } else {
        st->load_count++;
        add_stat(&st->load_exec_min, &st->load_exec_max, &st->load_exec_sum, st->load_count, exec);
        st->load_e2e_sum += e2e;
        update_max(&st->load_e2e_max, e2e);
    }
}

/* What a successful infer teaches: its exec time, the dispatch and post lags, and the
 * executor's turnaround when this infer was already waiting as the previous one ended. */
static void learn(struct infer6 *s, struct i6_gpu *g, const struct i6_action *a, const struct sched_result *res,
                  uint64_t now)
{
    struct i6_model *m = &s->models[a->model];
    if (res->worker_exec_duration)
        estimates_add_exec(&m->est, a->v, res->worker_exec_duration);
    if (res->worker_action_received >= a->sent)
        lags_add(&s->lags, LAG_DISPATCH, res->worker_action_received - a->sent, now);
    if (res->received >= res->worker_exec_end)
        lags_add(&s->lags, LAG_POST, res->received - res->worker_exec_end, now);
    if (g->exec_anchor && res->worker_action_received && res->worker_action_received <= g->exec_anchor &&
        res->worker_exec_begin >= g->exec_anchor)
        lags_add(&s->lags, LAG_TURNAROUND, res->worker_exec_begin - g->exec_anchor, now);
}

static void infer_done(struct infer6 *s, struct i6_action *a)
{
    struct i6_gpu *g = &s->gpus[a->gpu];
    g->infers_inflight--;
    i6_exec_remove(g, a);
    if (a->inst) {
        a->inst->inflight--;
        i6_lru_update(s, a->inst);
    }
}

static void infer_result(struct infer6 *s, uint64_t now, struct i6_action *a, const struct sched_result *res)
{
    struct i6_gpu *g = &s->gpus[a->gpu];
    unsigned met;
    infer_done(s, a);
    if (res->status == ACTION_SUCCESS) {
        learn(s, g, a, res, now);
        g->exec_anchor = res->worker_exec_end ? res->worker_exec_end : now;
        if (res->gpu_clock)
            g->last_clock = res->gpu_clock;
        record_stats(g, a, res);
        met = answer_batch(s, now, a, CLIENT_SUCCESS, "", res);
        i6_model_touch(s, a->model); /* strategy priorities depend on estimates */
    } else {
        /* a refused action still cost the executor its turnaround, about when we hear of it */
        if (res->status != ACTION_NETWORK_SEND_TOO_LATE)
            g->exec_anchor = 0;
        met = answer_batch(s, now, a, sched_client_status(res->status),
                           res->message ? res->message : action_status_name(res->status), res);
    }
    i6_replan(s, g);
    log_action(s, now, a, res, res->status, a->n_req ? (double)met / a->n_req : 0.0);
}

/* A load that ended at `end` moves what was planned after it on the load executor. */
static void load_result(struct infer6 *s, uint64_t now, struct i6_action *a, const struct sched_result *res)
{
    struct i6_gpu *g = &s->gpus[a->gpu];
    struct i6_model *m = &s->models[a->model];
    g->loads_inflight--;
    if (res->status == ACTION_SUCCESS) {
        uint64_t end = res->worker_exec_end ? res->worker_exec_end : now;
        g->load_free = g->loads_inflight ? i6_max(end, g->load_free + end - a->expected_complete) : end;
        i6_instance_loaded(s, a->inst);
        if (res->worker_exec_duration)
            estimates_add_load(&m->est, res->worker_exec_duration);
        record_stats(g, a, res);
    } else {
        g->load_free = g->loads_inflight ? g->load_free : i6_min(g->load_free, now);
        i6_instance_remove(s, a->inst); /* its queued requests stay queued */
    }
    i6_load_set_wake(s, a->gpu, now);
    log_action(s, now, a, res, res->status, res->status == ACTION_SUCCESS ? 1.0 : 0.0);
}

void i6_result(struct infer6 *s, uint64_t now, struct i6_action *a, const struct sched_result *res)
{
    if (a->type == SCHED_INFER)
        infer_result(s, now, a, res);
    else if (a->type == SCHED_LOAD_WEIGHTS)
        load_result(s, now, a, res);
    else
        log_action(s, now, a, res, res->status, res->status == ACTION_SUCCESS ? 1.0 : 0.0);
}

void i6_result_fail(struct infer6 *s, uint64_t now, struct i6_action *a, int status, int client_status, const char *msg)
{
    if (a->type == SCHED_INFER) {
        infer_done(s, a);
        answer_batch(s, now, a, client_status, msg, NULL);
        i6_replan(s, &s->gpus[a->gpu]);
    } else if (a->type == SCHED_LOAD_WEIGHTS) {
        s->gpus[a->gpu].loads_inflight--;
        i6_load_set_wake(s, a->gpu, now);
    }
    log_action(s, now, a, NULL, status, 0.0);
}
