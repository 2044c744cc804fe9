#include "device.h"
#include "common/clock.h"
#include "common/status.h"
#include "weights_cache.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The transfer in progress on the LOAD executor, for Infers that wait for its weights. */
struct device_load {
    int32_t model;         /* -1 when none */
    uint64_t expected_end; /* its start + the controller's expected duration */
    int32_t last_model;    /* the last transfer to finish, and when */
    uint64_t last_end;
};

struct device {
    struct device_config cfg;
    struct backend backend;
    pthread_mutex_t lock; /* guards cache and load */
    pthread_cond_t load_done;
    struct weights_cache cache;
    struct device_load load;
    struct executor load_ex, exec_ex;
};

/* Private copy of the model's pages, so a concurrent evict cannot free them under the
 * backend. NULL if out of memory. Lock held. */
static unsigned *copy_pages(const struct device *d, int32_t model)
{
    unsigned n;
    const unsigned *pages = weights_cache_pages(&d->cache, model, &n);
    unsigned *p = malloc((n ? n : 1) * sizeof *p);
    if (p && n)
        memcpy(p, pages, n * sizeof *p);
    return p;
}

/* Fails t with the weights cache's status and the message this device gives it. */
static void fail_status(struct device *d, struct worker_task *t, int status)
{
    switch (status) {
    case ACTION_LOAD_WEIGHTS_ALREADY_LOADED:
        task_fail(t, status, "model %d already has weights on GPU %u", t->model_id, t->gpu_id);
        break;
    case ACTION_LOAD_WEIGHTS_INSUFFICIENT_CACHE:
        task_fail(t, status, "GPU %u needs %u pages for model %d, %u free", t->gpu_id, t->info->num_weights_pages,
                  t->model_id, weights_cache_free_pages(&d->cache));
        break;
    case ACTION_LOAD_WEIGHTS_CONCURRENT_EVICT:
        task_fail(t, status, "weights of model %d were evicted while loading", t->model_id);
        break;
    case ACTION_EVICT_WEIGHTS_NOT_PRESENT:
        task_fail(t, status, "model %d has no weights on GPU %u", t->model_id, t->gpu_id);
        break;
    case ACTION_EXEC_WEIGHTS_NOT_PRESENT:
        task_fail(t, status, "weights of model %d are not on GPU %u", t->model_id, t->gpu_id);
        break;
    case ACTION_EXEC_WEIGHTS_CHANGED:
        task_fail(t, status, "weights of model %d changed during inference", t->model_id);
        break;
    case ACTION_EXEC_TOO_LATE:
        task_fail(t, status, "weights of model %d arrived too late on GPU %u (%.3f ms after latest)", t->model_id,
                  t->gpu_id, (double)(d->load.last_end - t->latest) / 1e6);
        break;
    case ACTION_RUNTIME_ERROR: task_fail(t, status, "out of memory"); break;
    default: task_fail(t, status, "weights transfer failed"); break;
    }
}

/* Allocates t's pages; returns 0 with *version and a copy of the pages, or fails t. Lock held. */
static int start_load(struct device *d, struct worker_task *t, unsigned **pages, uint64_t *version)
{
    int status = weights_cache_load_begin(&d->cache, t->model_id, t->info->num_weights_pages, version);
    if (status != ACTION_SUCCESS) {
        fail_status(d, t, status);
        return -1;
    }
    *pages = copy_pages(d, t->model_id);
    if (!*pages) {
        weights_cache_evict(&d->cache, t->model_id);
        fail_status(d, t, ACTION_RUNTIME_ERROR);
        return -1;
    }
    d->load.model = t->model_id;
    d->load.expected_end = t->begin + t->expected_duration;
    return 0;
}

/* The transfer ended (either way): Infers waiting for it look again. Lock held. */
static void end_load(struct device *d, const struct worker_task *t)
{
    d->load.model = -1;
    d->load.last_model = t->model_id;
    d->load.last_end = t->end;
    pthread_cond_broadcast(&d->load_done);
}

static void run_load(struct device *d, struct worker_task *t)
{
    unsigned *pages;
    uint64_t version;
    pthread_mutex_lock(&d->lock);
    int rc = start_load(d, t, &pages, &version);
    pthread_mutex_unlock(&d->lock);
    if (rc != 0)
        return;
    int status =
        d->backend.ops->load_weights(d->backend.impl, t->info, pages, t->info->num_weights_pages, t->begin, &t->end);
    free(pages);
    if (status == ACTION_SUCCESS)
        clock_wait_until(t->end, d->cfg.policy.spin_ns);
    pthread_mutex_lock(&d->lock);
    status = weights_cache_load_end(&d->cache, t->model_id, version, status);
    if (status != ACTION_SUCCESS)
        fail_status(d, t, status);
    end_load(d, t);
    pthread_mutex_unlock(&d->lock);
}

static void run_evict(struct device *d, struct worker_task *t)
{
    pthread_mutex_lock(&d->lock);
    int status = weights_cache_evict(&d->cache, t->model_id);
    if (status != ACTION_SUCCESS)
        fail_status(d, t, status);
    pthread_mutex_unlock(&d->lock);
    t->end = t->begin;
}

/* t's weights are being transferred: waits for the transfer if the window rule allows, then
 * starts t when the weights arrived. Returns the status to go on with. Lock held. */
static int await_load(struct device *d, struct worker_task *t, uint64_t *version)
{
    if (d->load.model != t->model_id || !executor_infer_awaits_load(t->latest, d->load.expected_end))
        return ACTION_EXEC_WEIGHTS_NOT_PRESENT;
    uint64_t expected_end = d->load.expected_end;
    while (d->load.model == t->model_id)
        pthread_cond_wait(&d->load_done, &d->lock);
    int status = weights_cache_infer_begin(&d->cache, t->model_id, version);
    if (status != ACTION_SUCCESS || d->load.last_model != t->model_id)
        return ACTION_EXEC_WEIGHTS_NOT_PRESENT;
    uint64_t begin = d->load.last_end > t->begin ? d->load.last_end : t->begin;
    if (begin > executor_latest_after_load(t->latest, expected_end, d->load.last_end))
        return ACTION_EXEC_TOO_LATE;
    t->begin = begin;
    return ACTION_SUCCESS;
}

/* Checks the weights are usable; returns their version and a copy of their pages, or fails t. */
static int infer_weights(struct device *d, struct worker_task *t, uint64_t *version, unsigned **pages)
{
    pthread_mutex_lock(&d->lock);
    int status = weights_cache_infer_begin(&d->cache, t->model_id, version);
    if (status == ACTION_EXEC_WEIGHTS_NOT_PRESENT)
        status = await_load(d, t, version);
    *pages = status == ACTION_SUCCESS ? copy_pages(d, t->model_id) : NULL;
    if (status == ACTION_SUCCESS && !*pages)
        status = ACTION_RUNTIME_ERROR;
    if (status != ACTION_SUCCESS)
        fail_status(d, t, status);
    pthread_mutex_unlock(&d->lock);
    return status == ACTION_SUCCESS ? 0 : -1;
}

static int alloc_output(struct worker_task *t)
{
    if (t->zero_inputs)
        return 0;
    t->output_len = (size_t)t->batch_size * t->info->output_size;
    t->output = calloc(t->output_len ? t->output_len : 1, 1);
    if (t->output)
        return 0;
    task_fail(t, ACTION_COPY_OUTPUT_FAILED, "out of memory for %zu output bytes", t->output_len);
    return -1;
}

static void run_infer(struct device *d, struct worker_task *t)
{
    uint64_t version;
    unsigned *pages;
    if (infer_weights(d, t, &version, &pages) != 0)
        return;
    if (alloc_output(t) != 0) {
        free(pages);
        return;
    }
    struct backend_infer_io io = {
        .batch_size = t->batch_size,
        .padded_batch = t->padded_batch,
        .input = t->input,
        .input_sizes = t->input_sizes,
        .n_inputs = t->n_inputs,
        .input_len = t->input_len,
        .output = t->output,
        .output_len = t->output_len,
    };
    /* An evict meanwhile is reported by the version check below (status 84). */
    int status =
        d->backend.ops->infer(d->backend.impl, t->info, pages, t->info->num_weights_pages, &io, t->begin, &t->infer);
    free(pages);
    t->end = t->infer.copy_output_end;
    if (status != ACTION_SUCCESS) {
        task_fail(t, status, "inference failed");
        return;
    }
    clock_wait_until(t->end, d->cfg.policy.spin_ns);
    pthread_mutex_lock(&d->lock);
    status = weights_cache_infer_end(&d->cache, t->model_id, version);
    if (status != ACTION_SUCCESS)
        fail_status(d, t, status);
    pthread_mutex_unlock(&d->lock);
}

static void run_task(struct worker_task *t, void *ctx)
{
    struct device *d = ctx;
    t->status = ACTION_SUCCESS;
    if (t->kind == TASK_LOAD_WEIGHTS)
        run_load(d, t);
    else if (t->kind == TASK_EVICT_WEIGHTS)
        run_evict(d, t);
    else
        run_infer(d, t);
}

struct device *device_create(const struct device_config *cfg, struct backend backend, task_fn done, void *done_ctx,
                             char *err, size_t errlen)
{
    struct device *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        backend.ops->destroy(backend.impl);
        return NULL;
    }
    d->cfg = *cfg;
    d->backend = backend;
    d->load.model = d->load.last_model = -1;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->load_done, NULL);
    if (weights_cache_init(&d->cache, cfg->weights_cache_size, cfg->page_size) != 0) {
        snprintf(err, errlen, "GPU %u: invalid weights cache (size %llu, page %llu)", cfg->id,
                 (unsigned long long)cfg->weights_cache_size, (unsigned long long)cfg->page_size);
        device_destroy(d);
        return NULL;
    }
    struct thread_policy load_policy = cfg->policy;
    if (load_policy.rt_priority > 1)
        load_policy.rt_priority--;
    if (executor_start(&d->load_ex, &load_policy, run_task, d, done, done_ctx) != 0 ||
        executor_start(&d->exec_ex, &cfg->policy, run_task, d, done, done_ctx) != 0) {
        snprintf(err, errlen, "GPU %u: cannot start executor threads", cfg->id);
        device_destroy(d);
        return NULL;
    }
    return d;
}

void device_destroy(struct device *d)
{
    if (!d)
        return;
    executor_stop(&d->load_ex);
    executor_stop(&d->exec_ex);
    weights_cache_destroy(&d->cache);
    pthread_cond_destroy(&d->load_done);
    pthread_mutex_destroy(&d->lock);
    if (d->backend.ops)
        d->backend.ops->destroy(d->backend.impl);
    free(d);
}

void device_submit(struct device *d, struct worker_task *t)
{
    executor_submit(t->kind == TASK_INFER ? &d->exec_ex : &d->load_ex, t);
}

const struct device_config *device_get_config(const struct device *d) { return &d->cfg; }
const struct thread_policy_outcome *device_exec_outcome(const struct device *d) { return &d->exec_ex.outcome; }
const struct thread_policy_outcome *device_load_outcome(const struct device *d) { return &d->load_ex.outcome; }
int device_needs_input(const struct device *d) { return d->backend.ops->needs_input; }

unsigned device_total_pages(struct device *d) { return weights_cache_total_pages(&d->cache); }

unsigned device_free_pages(struct device *d)
{
    pthread_mutex_lock(&d->lock);
    unsigned n = weights_cache_free_pages(&d->cache);
    pthread_mutex_unlock(&d->lock);
    return n;
}

size_t device_pending(struct device *d) { return executor_pending(&d->load_ex) + executor_pending(&d->exec_ex); }

size_t device_resident_models(struct device *d, int32_t **ids)
{
    pthread_mutex_lock(&d->lock);
    size_t n = weights_cache_resident(&d->cache, ids);
    pthread_mutex_unlock(&d->lock);
    return n;
}

int device_has_weights(struct device *d, int32_t model_id)
{
    pthread_mutex_lock(&d->lock);
    int ok = weights_cache_ready(&d->cache, model_id);
    pthread_mutex_unlock(&d->lock);
    return ok;
}

void device_clear(struct device *d)
{
    pthread_mutex_lock(&d->lock);
    weights_cache_clear(&d->cache);
    pthread_mutex_unlock(&d->lock);
}
