/* The simulated workers: per-worker network links (in order, like TCP) and the emulated
 * devices (sim_device.h). An action becomes a device task on arrival; a finished task
 * becomes a result that the worker sends back after its overhead and the network hop. */
#include "backend/emu/emu_backend.h"
#include "common/status.h"
#include "sim_internal.h"
#include <stdlib.h>
#include <string.h>

void sim_free_task(struct sim_task *t) { free(t); }

/* Arrival on an in-order link: never before the previous message on it. */
static uint64_t in_order(uint64_t *last, uint64_t t)
{
    if (t < *last)
        t = *last;
    *last = t;
    return t;
}

static unsigned device_of(const struct sim *s, unsigned worker_id, unsigned gpu_id)
{
    return worker_id * s->cfg->gpus_per_worker + gpu_id;
}

void sim_worker_send(struct sim *s, const struct sched_action *a, uint64_t t)
{
    struct sim_task *k = calloc(1, sizeof *k);
    if (!k) {
        sim_fail(s, "out of memory");
        return;
    }
    k->type = (int)a->type;
    k->action_id = a->id;
    k->model_id = (int32_t)a->model_id;
    k->info = a->model_id < s->n_models ? &s->models[a->model_id].info : NULL;
    k->batch_size = a->n_requests;
    k->earliest = a->earliest;
    k->latest = a->latest;
    unsigned d = device_of(s, a->worker_id, a->gpu_id);
    uint64_t at = t + sim_delay_sample(&s->cfg->lat, HOP_CTL_TO_WORKER, &s->rng_net);
    sim_push(s, in_order(&s->links[a->worker_id].to_worker_last, at), EV_WORKER_RECV, d, k);
}

void sim_worker_recv(struct sim *s, unsigned device, struct sim_task *t)
{
    t->received = s->now;
    if (!t->info || device >= s->n_devices) { /* the live worker's validation: unknown model / GPU */
        t->status = t->type == SCHED_INFER ? ACTION_COPY_INPUT_UNKNOWN_MODEL : ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL;
        t->start = t->end = s->now;
        s->dev_ops.done(s, device < s->n_devices ? &s->devices[device] : NULL, t);
        return;
    }
    sim_device_submit(&s->devices[device], s->now, t);
}

/* ---- device ops ---- */

static void d_wake_at(void *data, struct sim_device *d, unsigned ex, uint64_t t)
{
    sim_push(data, t, EV_DEVICE_WAKE, d->index * 2 + ex, NULL);
}

static void trace(struct sim *s, const struct sim_device *d, const struct sim_task *t)
{
    struct sim_trace tr = {
        .device = d->index,
        .worker_id = d->worker_id,
        .gpu_id = d->gpu_id,
        .type = t->type,
        .status = t->status,
        .model_id = t->model_id,
        .batch_size = t->batch_size,
        .earliest = t->earliest,
        .latest = t->latest,
        .received = t->received,
        .start = t->start,
        .end = t->end,
        .pages_used = weights_cache_total_pages(&d->cache) - weights_cache_free_pages(&d->cache),
        .pages_total = weights_cache_total_pages(&d->cache),
    };
    s->cfg->obs.action(s->cfg->obs.data, &tr);
}

static void result_times(struct sched_result *r, const struct sim_task *t)
{
    r->worker_exec_begin = t->start;
    r->worker_exec_end = t->end;
    r->worker_exec_duration = t->end - t->start;
    if (t->type == SCHED_INFER) {
        r->worker_copy_output_complete = t->end;
        r->gpu_clock_before = r->gpu_clock = EMU_DEFAULT_CLOCK_MHZ;
    }
}

static void d_done(void *data, struct sim_device *d, struct sim_task *t)
{
    struct sim *s = data;
    if (d && s->cfg->obs.action)
        trace(s, d, t);
    struct ctl_item *it = sim_ctl_item(s, CTL_RESULT);
    if (it) {
        struct sched_result *r = &it->res;
        r->action_id = t->action_id;
        r->status = t->status;
        r->message = t->status ? action_status_name(t->status) : "";
        r->worker_action_received = t->received;
        if (t->status == ACTION_SUCCESS)
            result_times(r, t);
        r->worker_result_sent = t->end + sim_delay_sample(&s->cfg->lat, HOP_WORKER_RESULT, &s->rng_net);
        unsigned w = d ? d->worker_id : 0;
        uint64_t at = r->worker_result_sent + sim_delay_sample(&s->cfg->lat, HOP_WORKER_TO_CTL, &s->rng_net);
        sim_push(s, in_order(&s->links[w].to_ctl_last, at), EV_CTL_ARRIVE, 0, it);
    }
    free(t);
}

static uint64_t d_exec_time(void *data, const struct sim_task *t, uint64_t profiled)
{
    (void)t;
    struct sim *s = data;
    return sim_exec_sample(&s->cfg->lat, profiled, &s->rng_exec);
}

static uint64_t d_turnaround(void *data)
{
    struct sim *s = data;
    return sim_delay_sample(&s->cfg->lat, HOP_EXEC_TURNAROUND, &s->rng_net);
}

static uint64_t d_wakeup(void *data)
{
    struct sim *s = data;
    return sim_delay_sample(&s->cfg->lat, HOP_EXEC_WAKEUP, &s->rng_net);
}

/* ---- lifecycle ---- */

int sim_workers_init(struct sim *s)
{
    const struct sim_config *c = s->cfg;
    s->dev_ops = (struct sim_device_ops){.wake_at = d_wake_at,
                                         .done = d_done,
                                         .exec_time = d_exec_time,
                                         .turnaround = d_turnaround,
                                         .wakeup = d_wakeup,
                                         .data = s};
    s->n_devices = c->n_workers * c->gpus_per_worker;
    s->devices = calloc(s->n_devices ? s->n_devices : 1, sizeof *s->devices);
    s->links = calloc(c->n_workers ? c->n_workers : 1, sizeof *s->links);
    if (!s->devices || !s->links) {
        sim_fail(s, "out of memory for %u devices", s->n_devices);
        return -1;
    }
    for (unsigned i = 0; i < s->n_devices; i++)
        if (sim_device_init(&s->devices[i], i, i / c->gpus_per_worker, i % c->gpus_per_worker, c->cache_size,
                            c->page_size, &s->dev_ops) != 0) {
            sim_fail(s, "invalid weights cache (size %llu, page %llu)", (unsigned long long)c->cache_size,
                     (unsigned long long)c->page_size);
            return -1;
        }
    return 0;
}

void sim_workers_free(struct sim *s)
{
    for (unsigned i = 0; s->devices && i < s->n_devices; i++)
        sim_device_destroy(&s->devices[i], sim_free_task);
    free(s->devices);
    free(s->links);
}
