/* Worker results: answers the requests of finished infers, feeds measured durations into
 * the estimates, corrects the GPU timelines, tracks loads and evictions, and writes one
 * action telemetry row per finished action. */
#include "common/status.h"
#include "controller/infer5/sched_state.h"
#include "controller/sched_report.h"

static int64_t rel(uint64_t abs, uint64_t t) { return abs ? (int64_t)(abs - t) : 0; }

static void log_action(struct scheduler *s, uint64_t now, const struct action_rec *a, const struct sched_result *res,
                       int status, double goodput)
{
    const struct infer5_gpu *gpu = &s->gpus[a->gpu];
    const struct infer5_model *m = &s->models[a->model];
    struct action_row row = {
        .t = a->sent,
        .action_id = a->id,
        .action_type = (int)a->type,
        .status = status,
        .worker_id = gpu->worker_id,
        .gpu_id = gpu->gpu_id,
        .model_id = a->model,
        .batch_size = a->batch_size,
        .expected_exec_duration = (int64_t)a->expected_duration,
        .expected_exec_complete = rel(a->expected_complete, a->sent),
        .expected_gpu_clock = gpu->last_clock,
        .controller_action_duration = (int64_t)(now - a->sent),
        .goodput = goodput,
        .requests_queued = m->q.live,
        .copies_loaded = m->n_loaded,
    };
    if (res)
        sched_action_row_result(&row, res, a->sent);
    s->ops.log_action(s->data, &row);
}

/* An action's predicted end moved to `end`: what was planned after it moves too, and
 * nothing can be planned before a known end when the executor has nothing else. */
static uint64_t correct_success(uint64_t free_at, uint64_t expected, uint64_t end, unsigned inflight)
{
    if (inflight == 0)
        return end;
    uint64_t shifted = free_at + end - expected; /* wraps back correctly when end < expected */
    return shifted > end ? shifted : end;
}

/* A failed action did not occupy the executor for its expected duration. */
static uint64_t correct_error(uint64_t free_at, uint64_t duration, uint64_t now, unsigned inflight)
{
    if (inflight == 0)
        return free_at < now ? free_at : now;
    uint64_t freed = free_at > duration ? free_at - duration : 0;
    return freed > now ? freed : now;
}

static void stat_minmax(uint64_t *min, uint64_t *max, uint64_t count, uint64_t x)
{
    if (count == 1 || x < *min)
        *min = x;
    if (x > *max)
        *max = x;
}

static void infer_stats(struct infer5_gpu *gpu, const struct action_rec *a, const struct sched_result *res)
{
    struct sched_gpu_stats *st = &gpu->stats;
    uint64_t exec = res->worker_exec_duration, e2e = res->received > a->sent ? res->received - a->sent : 0;
    st->infer_count++;
    st->infer_busy_ns += exec;
    st->infer_exec_sum += exec;
    stat_minmax(&st->infer_exec_min, &st->infer_exec_max, st->infer_count, exec);
    st->infer_e2e_sum += e2e;
    if (e2e > st->infer_e2e_max)
        st->infer_e2e_max = e2e;
}

static void load_stats(struct infer5_gpu *gpu, const struct action_rec *a, const struct sched_result *res)
{
    struct sched_gpu_stats *st = &gpu->stats;
    uint64_t exec = res->worker_exec_duration, e2e = res->received > a->sent ? res->received - a->sent : 0;
    st->load_count++;
    st->load_exec_sum += exec;
    stat_minmax(&st->load_exec_min, &st->load_exec_max, st->load_count, exec);
    st->load_e2e_sum += e2e;
    if (e2e > st->load_e2e_max)
        st->load_e2e_max = e2e;
}

static void answer_batch(struct scheduler *s, uint64_t now, struct action_rec *a, int status, const char *msg,
                         const struct sched_result *res, unsigned *met_count)
{
    const struct infer5_model *m = &s->models[a->model];
    for (unsigned i = 0; i < a->n_req; i++) {
        const uint8_t *out = NULL;
        size_t len = 0;
        if (status == CLIENT_SUCCESS && res && res->output && res->output_len >= (size_t)(i + 1) * m->output_size) {
            out = res->output + (size_t)i * m->output_size;
            len = m->output_size;
        }
        int met = 0;
        sched_answer(s, now, sched_qreq_of(a->reqs[i]), status, msg, out, len, &met);
        *met_count += (unsigned)met;
    }
}

static void infer_finished(struct scheduler *s, struct action_rec *a)
{
    struct infer5_gpu *gpu = &s->gpus[a->gpu];
    gpu->infers_inflight--;
    if (a->inst) {
        a->inst->inflight--;
        a->inst->last_used = ++s->use_seq;
    }
}

static void infer_result(struct scheduler *s, uint64_t now, struct action_rec *a, const struct sched_result *res)
{
    struct infer5_gpu *gpu = &s->gpus[a->gpu];
    struct infer5_model *m = &s->models[a->model];
    unsigned met = 0;
    infer_finished(s, a);
    if (res->status == ACTION_SUCCESS) {
        uint64_t end = res->worker_exec_end ? res->worker_exec_end : now;
        gpu->exec_free = correct_success(gpu->exec_free, a->expected_complete, end, gpu->infers_inflight);
        if (res->worker_exec_duration) {
            estimates_add_exec(&m->est, a->v, res->worker_exec_duration);
            sched_model_touch(s, a->model); /* strategy priorities depend on estimates */
        }
        if (res->gpu_clock)
            gpu->last_clock = res->gpu_clock;
        infer_stats(gpu, a, res);
        answer_batch(s, now, a, CLIENT_SUCCESS, "", res, &met);
    } else {
        gpu->exec_free = correct_error(gpu->exec_free, a->expected_duration, now, gpu->infers_inflight);
        answer_batch(s, now, a, sched_client_status(res->status),
                     res->message ? res->message : action_status_name(res->status), res, &met);
    }
    log_action(s, now, a, res, res->status, a->n_req ? (double)met / a->n_req : 0.0);
}

static void load_result(struct scheduler *s, uint64_t now, struct action_rec *a, const struct sched_result *res)
{
    struct infer5_gpu *gpu = &s->gpus[a->gpu];
    struct infer5_model *m = &s->models[a->model];
    gpu->loads_inflight--;
    if (res->status == ACTION_SUCCESS) {
        uint64_t end = res->worker_exec_end ? res->worker_exec_end : now;
        gpu->load_free = correct_success(gpu->load_free, a->expected_complete, end, gpu->loads_inflight);
        a->inst->loaded = 1;
        m->n_loaded++;
        if (res->worker_exec_duration)
            estimates_add_load(&m->est, res->worker_exec_duration);
        load_stats(gpu, a, res);
    } else {
        gpu->load_free = correct_error(gpu->load_free, a->expected_duration, now, gpu->loads_inflight);
        sched_instance_remove(s, a->inst); /* its queued requests stay queued */
    }
    log_action(s, now, a, res, res->status, res->status == ACTION_SUCCESS ? 1.0 : 0.0);
}

void infer5_results_handle(struct scheduler *s, uint64_t now, struct action_rec *a, const struct sched_result *res)
{
    switch (a->type) {
    case SCHED_INFER: infer_result(s, now, a, res); break;
    case SCHED_LOAD_WEIGHTS: load_result(s, now, a, res); break;
    case SCHED_EVICT_WEIGHTS: log_action(s, now, a, res, res->status, res->status == ACTION_SUCCESS ? 1.0 : 0.0); break;
    }
}

/* An action that will never report back (worker lost, shutdown). */
void infer5_results_fail(struct scheduler *s, uint64_t now, struct action_rec *a, int status, int client_status,
                         const char *msg)
{
    unsigned met = 0;
    if (a->type == SCHED_INFER) {
        infer_finished(s, a);
        answer_batch(s, now, a, client_status, msg, NULL, &met);
    } else if (a->type == SCHED_LOAD_WEIGHTS) {
        s->gpus[a->gpu].loads_inflight--;
    }
    log_action(s, now, a, NULL, status, 0.0);
}
