#include "device.h"
#include "common/status.h"
#include "weights_cache.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct device {
    struct device_config cfg;
    struct backend backend;
    pthread_mutex_t lock; /* guards cache */
    struct weights_cache cache;
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
    return 0;
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
    pthread_mutex_lock(&d->lock);
    status = weights_cache_load_end(&d->cache, t->model_id, version, status);
    if (status != ACTION_SUCCESS)
        fail_status(d, t, status);
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

/* Checks the weights are usable; returns their version and a copy of their pages, or fails t. */
static int infer_weights(struct device *d, struct worker_task *t, uint64_t *version, unsigned **pages)
{
    pthread_mutex_lock(&d->lock);
    int status = weights_cache_infer_begin(&d->cache, t->model_id, version);
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
    pthread_mutex_init(&d->lock, NULL);
    if (weights_cache_init(&d->cache, cfg->weights_cache_size, cfg->page_size) != 0) {
        snprintf(err, errlen, "GPU %u: invalid weights cache (size %llu, page %llu)", cfg->id,
                 (unsigned long long)cfg->weights_cache_size, (unsigned long long)cfg->page_size);
        device_destroy(d);
        return NULL;
    }
    if (executor_start(&d->load_ex, run_task, d, done, done_ctx) != 0 ||
        executor_start(&d->exec_ex, run_task, d, done, done_ctx) != 0) {
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
