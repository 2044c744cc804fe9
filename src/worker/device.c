#include "device.h"
#include "common/status.h"
#include "page_cache.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct residency {
    unsigned *pages; /* NULL when not resident */
    unsigned npages;
    int ready;        /* transfer complete */
    uint64_t version; /* bumped by every load start and evict */
};

struct device {
    struct device_config cfg;
    struct backend backend;
    pthread_mutex_t lock; /* guards cache and models */
    struct page_cache cache;
    struct residency *models; /* indexed by model id */
    size_t n_models;
    struct executor load_ex, exec_ex;
};

/* Residency slot for id, growing the table; NULL if out of memory. Lock held. */
static struct residency *slot(struct device *d, int32_t id, int grow)
{
    if (id < 0)
        return NULL;
    size_t i = (size_t)id;
    if (i >= d->n_models) {
        if (!grow)
            return NULL;
        size_t n = d->n_models ? d->n_models : 64;
        while (n <= i)
            n *= 2;
        struct residency *m = realloc(d->models, n * sizeof *m);
        if (!m)
            return NULL;
        memset(m + d->n_models, 0, (n - d->n_models) * sizeof *m);
        d->models = m;
        d->n_models = n;
    }
    return &d->models[i];
}

static void release_pages(struct device *d, struct residency *r)
{
    page_cache_free(&d->cache, r->pages, r->npages);
    free(r->pages);
    r->pages = NULL;
    r->npages = 0;
    r->ready = 0;
    r->version++;
}

/* Private copy of a page list, so a concurrent evict cannot free it under the backend. */
static unsigned *copy_pages(const unsigned *pages, unsigned n)
{
    unsigned *p = malloc((n ? n : 1) * sizeof *p);
    if (p && n)
        memcpy(p, pages, n * sizeof *p);
    return p;
}

/* Allocates t's pages; returns 0 with *version and a copy of the pages, or fails t. Lock held. */
static int start_load(struct device *d, struct worker_task *t, unsigned **pages, uint64_t *version)
{
    struct residency *r = slot(d, t->model_id, 1);
    unsigned n = t->info->num_weights_pages;
    if (!r) {
        task_fail(t, ACTION_RUNTIME_ERROR, "out of memory");
        return -1;
    }
    if (r->pages) {
        task_fail(t, ACTION_LOAD_WEIGHTS_ALREADY_LOADED, "model %d already has weights on GPU %u", t->model_id,
                  t->gpu_id);
        return -1;
    }
    unsigned *p = malloc((n ? n : 1) * sizeof *p);
    if (!p || page_cache_alloc(&d->cache, n, p) != 0) {
        free(p);
        task_fail(t, ACTION_LOAD_WEIGHTS_INSUFFICIENT_CACHE, "GPU %u needs %u pages for model %d, %u free", t->gpu_id,
                  n, t->model_id, page_cache_free_count(&d->cache));
        return -1;
    }
    *pages = copy_pages(p, n);
    if (!*pages) {
        page_cache_free(&d->cache, p, n);
        free(p);
        task_fail(t, ACTION_RUNTIME_ERROR, "out of memory");
        return -1;
    }
    r->pages = p;
    r->npages = n;
    r->ready = 0;
    *version = ++r->version;
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
    int status = d->backend.ops->load_weights(d->backend.impl, t->info, pages, t->info->num_weights_pages, t->begin,
                                              &t->end);
    free(pages);
    pthread_mutex_lock(&d->lock);
    struct residency *r = slot(d, t->model_id, 0);
    if (r->version != version) {
        task_fail(t, ACTION_LOAD_WEIGHTS_CONCURRENT_EVICT, "weights of model %d were evicted while loading",
                  t->model_id);
    } else if (status != ACTION_SUCCESS) {
        release_pages(d, r);
        task_fail(t, status, "weights transfer failed");
    } else {
        r->ready = 1;
    }
    pthread_mutex_unlock(&d->lock);
}

static void run_evict(struct device *d, struct worker_task *t)
{
    pthread_mutex_lock(&d->lock);
    struct residency *r = slot(d, t->model_id, 0);
    if (!r || !r->pages)
        task_fail(t, ACTION_EVICT_WEIGHTS_NOT_PRESENT, "model %d has no weights on GPU %u", t->model_id, t->gpu_id);
    else
        release_pages(d, r);
    pthread_mutex_unlock(&d->lock);
    t->end = t->begin;
}

/* Checks the weights are usable; returns their version and a copy of their pages, or fails t. */
static int infer_weights(struct device *d, struct worker_task *t, uint64_t *version, unsigned **pages)
{
    pthread_mutex_lock(&d->lock);
    struct residency *r = slot(d, t->model_id, 0);
    int ok = r && r->ready;
    if (ok) {
        *version = r->version;
        *pages = copy_pages(r->pages, r->npages);
    }
    pthread_mutex_unlock(&d->lock);
    if (!ok) {
        task_fail(t, ACTION_WEIGHTS_NOT_PRESENT, "weights of model %d are not on GPU %u", t->model_id, t->gpu_id);
        return -1;
    }
    if (!*pages) {
        task_fail(t, ACTION_RUNTIME_ERROR, "out of memory");
        return -1;
    }
    return 0;
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
        .batch_size = t->batch_size, .padded_batch = t->padded_batch, .input = t->input,
        .input_sizes = t->input_sizes, .n_inputs = t->n_inputs, .input_len = t->input_len,
        .output = t->output, .output_len = t->output_len,
    };
    /* An evict meanwhile is reported by the version check below (status 84). */
    int status = d->backend.ops->infer(d->backend.impl, t->info, pages, t->info->num_weights_pages, &io, t->begin,
                                       &t->infer);
    free(pages);
    t->end = t->infer.copy_output_end;
    if (status != ACTION_SUCCESS) {
        task_fail(t, status, "inference failed");
        return;
    }
    pthread_mutex_lock(&d->lock);
    struct residency *r = slot(d, t->model_id, 0);
    int changed = !r->ready || r->version != version;
    pthread_mutex_unlock(&d->lock);
    if (changed)
        task_fail(t, ACTION_EXEC_WEIGHTS_CHANGED, "weights of model %d changed during inference", t->model_id);
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
    if (page_cache_init(&d->cache, cfg->weights_cache_size, cfg->page_size) != 0) {
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
    for (size_t i = 0; i < d->n_models; i++)
        free(d->models[i].pages);
    free(d->models);
    page_cache_destroy(&d->cache);
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

unsigned device_total_pages(struct device *d) { return d->cache.total_pages; }

unsigned device_free_pages(struct device *d)
{
    pthread_mutex_lock(&d->lock);
    unsigned n = page_cache_free_count(&d->cache);
    pthread_mutex_unlock(&d->lock);
    return n;
}

size_t device_pending(struct device *d) { return executor_pending(&d->load_ex) + executor_pending(&d->exec_ex); }

size_t device_resident_models(struct device *d, int32_t **ids)
{
    pthread_mutex_lock(&d->lock);
    size_t n = 0;
    for (size_t i = 0; i < d->n_models; i++)
        n += d->models[i].pages != NULL;
    *ids = malloc((n ? n : 1) * sizeof **ids);
    size_t k = 0;
    for (size_t i = 0; *ids && i < d->n_models; i++)
        if (d->models[i].pages)
            (*ids)[k++] = (int32_t)i;
    pthread_mutex_unlock(&d->lock);
    return *ids ? n : 0;
}

int device_has_weights(struct device *d, int32_t model_id)
{
    pthread_mutex_lock(&d->lock);
    struct residency *r = slot(d, model_id, 0);
    int ok = r && r->ready;
    pthread_mutex_unlock(&d->lock);
    return ok;
}

void device_clear(struct device *d)
{
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n_models; i++)
        if (d->models[i].pages)
            release_pages(d, &d->models[i]);
    pthread_mutex_unlock(&d->lock);
}
