#include "controller/test_controllers/tc_common.h"
#include "common/status.h"
#include "controller/sched_report.h"
#include <stdlib.h>

int tc_base_init(struct tc_base *b, const struct sched_config *cfg, const struct sched_gpu *gpus, unsigned n_gpus,
                 const struct sched_ops *ops, void *data)
{
    b->cfg = *cfg;
    b->ops = *ops;
    b->data = data;
    b->gpus = calloc(n_gpus + 1, sizeof *b->gpus);
    if (!b->gpus)
        return -1;
    b->n_gpus = n_gpus;
    for (unsigned i = 0; i < n_gpus; i++) {
        b->gpus[i].worker_id = gpus[i].worker_id;
        b->gpus[i].gpu_id = gpus[i].gpu_id;
        b->gpus[i].total_pages = gpus[i].total_pages;
        b->gpus[i].stats.worker_id = gpus[i].worker_id;
        b->gpus[i].stats.gpu_id = gpus[i].gpu_id;
    }
    return 0;
}

void tc_base_free(struct tc_base *b)
{
    for (struct tc_action *a; (a = tc_action_take_any(b, -1));)
        free(a);
    free(b->gpus);
}

void tc_answer(struct tc_base *b, uint64_t now, struct sched_request *r, int status, const char *message,
               const uint8_t *out, size_t out_len)
{
    struct request_row row;
    r->deadline = r->arrival + b->cfg.default_slo;
    sched_request_row(&row, r, now, status, ++b->departures);
    b->ops.log_request(b->data, &row);
    b->ops.request_done(b->data, r, status, message, out, out_len);
}

struct tc_action *tc_action_send(struct tc_base *b, uint64_t now, enum sched_action_type type, unsigned gpu,
                                 unsigned model, uint64_t expected_duration, struct sched_request *request)
{
    struct tc_action *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    *a = (struct tc_action){.id = b->actions.next_id++,
                            .type = type,
                            .gpu = gpu,
                            .model = model,
                            .sent = now,
                            .expected_duration = expected_duration,
                            .request = request};
    struct tc_action **head = &b->actions.buckets[a->id % TC_BUCKETS];
    a->next = *head;
    *head = a;
    b->actions.count++;
    struct sched_request *reqs[1] = {request};
    int infer = type == SCHED_INFER;
    struct sched_action sa = {
        .id = a->id,
        .type = type,
        .worker_id = b->gpus[gpu].worker_id,
        .gpu_id = b->gpus[gpu].gpu_id,
        .model_id = model,
        .batch_size = infer ? 1 : 0,
        .n_requests = infer ? 1 : 0,
        .requests = infer ? reqs : NULL,
        .earliest = now,
        .latest = now + TC_ACTION_WINDOW_NS,
        .expected_duration = expected_duration,
        .expected_complete = now + expected_duration,
        .send_by = now + TC_ACTION_WINDOW_NS, /* a worker stalled past the window: dropped, not queued */
    };
    b->ops.send_action(b->data, &sa);
    return a;
}

static struct tc_action *unlink_action(struct tc_base *b, struct tc_action **link)
{
    struct tc_action *a = *link;
    *link = a->next;
    a->next = NULL;
    b->actions.count--;
    return a;
}

struct tc_action *tc_action_take(struct tc_base *b, uint64_t id)
{
    for (struct tc_action **link = &b->actions.buckets[id % TC_BUCKETS]; *link; link = &(*link)->next)
        if ((*link)->id == id)
            return unlink_action(b, link);
    return NULL;
}

struct tc_action *tc_action_take_any(struct tc_base *b, long worker)
{
    for (unsigned i = 0; i < TC_BUCKETS && b->actions.count; i++)
        for (struct tc_action **link = &b->actions.buckets[i]; *link; link = &(*link)->next)
            if (worker < 0 || b->gpus[(*link)->gpu].worker_id == (unsigned long)worker)
                return unlink_action(b, link);
    return NULL;
}

static void add_sample(uint64_t *count, uint64_t *min, uint64_t *max, uint64_t *sum, uint64_t x)
{
    if (++*count == 1 || x < *min)
        *min = x;
    if (x > *max)
        *max = x;
    *sum += x;
}

static void record_stats(struct sched_gpu_stats *st, const struct tc_action *a, const struct sched_result *res,
                         uint64_t e2e)
{
    uint64_t exec = res->worker_exec_duration;
    if (a->type == SCHED_INFER && res->status != 0) {
        st->infer_errors++;
    } else if (a->type == SCHED_INFER) {
        add_sample(&st->infer_count, &st->infer_exec_min, &st->infer_exec_max, &st->infer_exec_sum, exec);
        st->infer_busy_ns += exec;
        st->infer_e2e_sum += e2e;
        st->infer_e2e_max = e2e > st->infer_e2e_max ? e2e : st->infer_e2e_max;
    } else if (a->type == SCHED_LOAD_WEIGHTS && res->status != 0) {
        st->load_errors++;
    } else if (a->type == SCHED_LOAD_WEIGHTS) {
        add_sample(&st->load_count, &st->load_exec_min, &st->load_exec_max, &st->load_exec_sum, exec);
        st->load_e2e_sum += e2e;
        st->load_e2e_max = e2e > st->load_e2e_max ? e2e : st->load_e2e_max;
    }
}

void tc_action_finish(struct tc_base *b, uint64_t now, struct tc_action *a, const struct sched_result *res)
{
    const struct tc_gpu *g = &b->gpus[a->gpu];
    record_stats(&b->gpus[a->gpu].stats, a, res, now > a->sent ? now - a->sent : 0);
    struct action_row row = {
        .t = a->sent,
        .action_id = a->id,
        .action_type = (int)a->type,
        .status = res->status,
        .worker_id = g->worker_id,
        .gpu_id = g->gpu_id,
        .model_id = a->model,
        .batch_size = a->type == SCHED_INFER ? 1 : 0,
        .expected_exec_duration = (int64_t)a->expected_duration,
        .expected_exec_complete = (int64_t)a->expected_duration,
        .controller_action_duration = (int64_t)(now - a->sent),
        .goodput = a->type == SCHED_INFER && res->status == 0 ? 1.0 : 0.0,
    };
    sched_action_row_result(&row, res, a->sent);
    b->ops.log_action(b->data, &row);
    free(a);
}

unsigned tc_take_stats(struct tc_base *b, struct sched_gpu_stats *out, unsigned max)
{
    unsigned n = b->n_gpus < max ? b->n_gpus : max;
    for (unsigned i = 0; i < n; i++)
        sched_stats_take(&b->gpus[i].stats, &out[i]);
    return n;
}

unsigned tc_mark_worker(struct tc_base *b, unsigned worker_id, int lost)
{
    unsigned n = 0;
    for (unsigned i = 0; i < b->n_gpus; i++)
        if (b->gpus[i].worker_id == worker_id) {
            b->gpus[i].lost = lost;
            n++;
        }
    return n;
}
