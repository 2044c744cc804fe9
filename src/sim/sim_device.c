#include "sim_device.h"
#include "common/status.h"
#include "controller/scheduler.h"
#include "worker/executor.h"
#include <stdlib.h>
#include <string.h>

/* ---- local model ids ---- */

static unsigned id_slot(const struct sim_model_ids *m, int32_t model)
{
    uint32_t h = (uint32_t)model * 0x9E3779B1u;
    unsigned i = h & (m->cap - 1);
    while (m->slot[i].key && m->slot[i].key != (uint32_t)model + 1)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* The local id of model, or -1 if it never had one here. */
static int32_t local_id(const struct sim_model_ids *m, int32_t model)
{
    if (model < 0 || !m->cap)
        return -1;
    unsigned i = id_slot(m, model);
    return m->slot[i].key ? m->slot[i].local : -1;
}

static int ids_grow(struct sim_model_ids *m)
{
    struct sim_model_ids g = {.cap = m->cap ? m->cap * 2 : 16, .len = m->len};
    g.slot = calloc(g.cap, sizeof g.slot[0]);
    if (!g.slot)
        return -1;
    for (unsigned i = 0; i < m->cap; i++)
        if (m->slot[i].key)
            g.slot[id_slot(&g, (int32_t)(m->slot[i].key - 1))] = m->slot[i];
    free(m->slot);
    *m = g;
    return 0;
}

/* The local id of model, given one if needed; -1 for a bad id or out of memory. */
static int32_t local_id_add(struct sim_model_ids *m, int32_t model)
{
    int32_t id = local_id(m, model);
    if (id >= 0 || model < 0)
        return id;
    if (2 * (m->len + 1) > m->cap && ids_grow(m) != 0)
        return -1;
    unsigned i = id_slot(m, model);
    m->slot[i] = (struct sim_model_id){(uint32_t)model + 1, (int32_t)m->len++};
    return m->slot[i].local;
}

/* ---- the device ---- */

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
    free(d->ids.slot);
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

enum { BEGIN_DONE = 0, BEGIN_RUNS = 1, BEGIN_AWAITS_LOAD = 2 };

/* An Infer whose weights are in runs from now until t->end. */
static int run_infer(struct sim_device *d, struct sim_task *t, uint64_t now)
{
    int idx = model_info_batch_index(t->info, model_info_padded_batch(t->info, t->batch_size));
    if (idx < 0) {
        t->status = ACTION_COPY_INPUT_INVALID_BATCH_SIZE;
        return BEGIN_DONE;
    }
    t->end = now + d->ops->exec_time(d->ops->data, t, t->info->exec_ns[idx]);
    return BEGIN_RUNS;
}

/* An Infer found no weights: it waits if the LOAD executor is transferring them and the window
 * rule says so (the threaded device's await_load). */
static int awaits_load(struct sim_device *d, struct sim_task *t)
{
    const struct sim_task *l = d->ex[SIM_EX_LOAD].current;
    if (!l || l->type != SCHED_LOAD_WEIGHTS || l->waiting || l->status != ACTION_SUCCESS ||
        l->model_id != t->model_id || !executor_infer_awaits_load(t->latest, l->start + l->expected_duration))
        return 0;
    t->awaiting_load = 1;
    t->load_expected_end = l->start + l->expected_duration;
    return 1;
}

/* The task's work at its start time: the same cache rules as the threaded device. Returns
 * BEGIN_RUNS if it now runs until t->end, BEGIN_AWAITS_LOAD if it waits for a transfer (the
 * transfer's end resumes it), BEGIN_DONE if it is already finished (or failed). */
static int begin(struct sim_device *d, struct sim_task *t, uint64_t now)
{
    t->start = t->end = now;
    if (t->type == SCHED_EVICT_WEIGHTS) {
        t->status = weights_cache_evict(&d->cache, local_id(&d->ids, t->model_id));
        return 0;
    }
    if (t->type == SCHED_LOAD_WEIGHTS) {
        t->cache_id = local_id_add(&d->ids, t->model_id);
        t->status = weights_cache_load_begin(&d->cache, t->cache_id, t->info->num_weights_pages, &t->version);
        if (t->status != ACTION_SUCCESS)
            return 0;
        t->end = now + t->info->weights_load_ns;
        return 1;
    }
    t->cache_id = local_id(&d->ids, t->model_id);
    t->status = weights_cache_infer_begin(&d->cache, t->cache_id, &t->version);
    if (t->status == ACTION_EXEC_WEIGHTS_NOT_PRESENT && awaits_load(d, t))
        return BEGIN_AWAITS_LOAD;
    return t->status == ACTION_SUCCESS ? run_infer(d, t, now) : BEGIN_DONE;
}

/* The transfer an Infer awaited ended at now (either way): the Infer starts now, if its
 * weights are in and its window, moved by the transfer's overrun, allows. */
static int resume_after_load(struct sim_device *d, struct sim_task *t, uint64_t now)
{
    t->awaiting_load = 0;
    t->start = t->end = now;
    t->cache_id = local_id(&d->ids, t->model_id);
    t->status = weights_cache_infer_begin(&d->cache, t->cache_id, &t->version);
    if (t->status == ACTION_SUCCESS && now > executor_latest_after_load(t->latest, t->load_expected_end, now))
        t->status = ACTION_EXEC_TOO_LATE;
    return t->status == ACTION_SUCCESS ? run_infer(d, t, now) : BEGIN_DONE;
}

/* Starts (or fails) t at now and asks for the wake its state needs. */
static void start_task(struct sim_device *d, unsigned ex, struct sim_task *t, int began, uint64_t now);

/* The task's checks at its end time. */
static void end(struct sim_device *d, struct sim_task *t)
{
    if (t->type == SCHED_LOAD_WEIGHTS)
        t->status = weights_cache_load_end(&d->cache, t->cache_id, t->version, ACTION_SUCCESS);
    else
        t->status = weights_cache_infer_end(&d->cache, t->cache_id, t->version);
}

static void finish(struct sim_device *d, unsigned ex, struct sim_task *t, uint64_t now)
{
    struct sim_executor *x = &d->ex[ex];
    struct sim_task *waiter = d->ex[SIM_EX_EXEC].current;
    int resume = ex == SIM_EX_LOAD && t->type == SCHED_LOAD_WEIGHTS && waiter && waiter->awaiting_load &&
                 waiter->model_id == t->model_id;
    x->current = NULL;
    x->free_at = now + d->ops->turnaround(d->ops->data);
    d->ops->done(d->ops->data, d, t);
    if (x->head)
        wake(d, ex, x->free_at);
    if (resume)
        start_task(d, SIM_EX_EXEC, waiter, resume_after_load(d, waiter, now), now);
}

static void start_task(struct sim_device *d, unsigned ex, struct sim_task *t, int began, uint64_t now)
{
    if (began == BEGIN_RUNS)
        wake(d, ex, t->end);
    else if (began == BEGIN_DONE)
        finish(d, ex, t, now);
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
    } else {
        start_task(d, ex, t, begin(d, t, now), now);
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
        start_task(d, ex, t, begin(d, t, now), now);
    } else {
        end(d, t);
        finish(d, ex, t, now);
    }
}
