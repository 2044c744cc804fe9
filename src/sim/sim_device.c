#include "sim_device.h"
#include "common/status.h"
#include "controller/scheduler.h"
#include "worker/executor.h"
#include <string.h>

int sim_device_init(struct sim_device *d, unsigned index, unsigned worker_id, unsigned gpu_id, uint64_t cache_size,
                    uint64_t page_size, const struct sim_device_ops *ops)
{
    memset(d, 0, sizeof *d);
    d->index = index;
    d->worker_id = worker_id;
    d->gpu_id = gpu_id;
    d->ops = ops;
    return weights_cache_init(&d->cache, cache_size, page_size);
}

void sim_device_destroy(struct sim_device *d, void (*free_task)(struct sim_task *t))
{
    for (int e = 0; e < 2; e++) {
        struct sim_executor *x = &d->ex[e];
        if (x->current)
            free_task(x->current);
        while (x->head) {
            struct sim_task *t = x->head;
            x->head = t->next;
            free_task(t);
        }
    }
    weights_cache_destroy(&d->cache);
}

static void wake(struct sim_device *d, unsigned ex, uint64_t t)
{
    d->ex[ex].wake_pending = 1;
    d->ops->wake_at(d->ops->data, d, ex, t);
}

void sim_device_submit(struct sim_device *d, uint64_t now, struct sim_task *t)
{
    struct sim_executor *x = &d->ex[t->type == SCHED_INFER ? SIM_EX_EXEC : SIM_EX_LOAD];
    t->next = NULL;
    if (x->tail)
        x->tail->next = t;
    else
        x->head = t;
    x->tail = t;
    if (!x->current && !x->wake_pending) {
        uint64_t at = now > x->free_at ? now : x->free_at;
        if (at == now && d->ops->wakeup)
            at += d->ops->wakeup(d->ops->data);
        wake(d, t->type == SCHED_INFER ? SIM_EX_EXEC : SIM_EX_LOAD, at);
    }
}

/* The task's work at its start time: the same cache rules as the threaded device. Returns
 * 1 if it now runs until t->end, 0 if it is already finished (or failed). */
static int begin(struct sim_device *d, struct sim_task *t, uint64_t now)
{
    t->start = t->end = now;
    if (t->type == SCHED_EVICT_WEIGHTS) {
        t->status = weights_cache_evict(&d->cache, t->model_id);
        return 0;
    }
    if (t->type == SCHED_LOAD_WEIGHTS) {
        t->status = weights_cache_load_begin(&d->cache, t->model_id, t->info->num_weights_pages, &t->version);
        if (t->status != ACTION_SUCCESS)
            return 0;
        t->end = now + t->info->weights_load_ns;
        return 1;
    }
    t->status = weights_cache_infer_begin(&d->cache, t->model_id, &t->version);
    int idx = model_info_batch_index(t->info, model_info_padded_batch(t->info, t->batch_size));
    if (t->status == ACTION_SUCCESS && idx < 0)
        t->status = ACTION_COPY_INPUT_INVALID_BATCH_SIZE;
    if (t->status != ACTION_SUCCESS)
        return 0;
    t->end = now + d->ops->exec_time(d->ops->data, t, t->info->exec_ns[idx]);
    return 1;
}

/* The task's checks at its end time. */
static void end(struct sim_device *d, struct sim_task *t)
{
    if (t->type == SCHED_LOAD_WEIGHTS)
        t->status = weights_cache_load_end(&d->cache, t->model_id, t->version, ACTION_SUCCESS);
    else
        t->status = weights_cache_infer_end(&d->cache, t->model_id, t->version);
}

static void finish(struct sim_device *d, unsigned ex, struct sim_task *t, uint64_t now)
{
    struct sim_executor *x = &d->ex[ex];
    x->current = NULL;
    x->free_at = now + d->ops->turnaround(d->ops->data);
    d->ops->done(d->ops->data, d, t);
    if (x->head)
        wake(d, ex, x->free_at);
}

/* Takes the next queued task: window check now, then wait for its start if needed. */
static void take_next(struct sim_device *d, unsigned ex, uint64_t now)
{
    struct sim_executor *x = &d->ex[ex];
    struct sim_task *t = x->head;
    if (!t)
        return;
    x->head = t->next;
    if (!x->head)
        x->tail = NULL;
    x->current = t;
    uint64_t start;
    t->status = executor_window_start(t->type, now, t->earliest, t->latest, &start);
    if (t->status != ACTION_SUCCESS) {
        t->start = t->end = now;
        finish(d, ex, t, now);
    } else if (start > now) {
        t->waiting = 1;
        wake(d, ex, start);
    } else if (begin(d, t, now)) {
        wake(d, ex, t->end);
    } else {
        finish(d, ex, t, now);
    }
}

void sim_device_wake(struct sim_device *d, unsigned ex, uint64_t now)
{
    struct sim_executor *x = &d->ex[ex];
    struct sim_task *t = x->current;
    x->wake_pending = 0;
    if (!t) {
        take_next(d, ex, now);
    } else if (t->waiting) {
        t->waiting = 0;
        if (begin(d, t, now))
            wake(d, ex, t->end);
        else
            finish(d, ex, t, now);
    } else {
        end(d, t);
        finish(d, ex, t, now);
    }
}
