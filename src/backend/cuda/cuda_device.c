/* One worker device = one GPU: its memory, allocated once at start-up, and the backend ops
 * its load and exec executors call (each from its own thread, each on its own stream). */
#include "backend/backend_input.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "cuda_exec.h"
#include "cuda_internal.h"
#include "cuda_status.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cuda_device {
    struct cuda_worker *w;
    unsigned id;
    struct cuda_gpu g;
    uint8_t *pool; /* the weights cache: total_pages pages */
    unsigned total_pages;
    uint64_t page_size;
    uint8_t *arena;              /* workspace_pool_size: activations, temp, cuDNN workspace */
    uint8_t *host_in, *host_out; /* pinned, host_io_pool_size / 2 each */
    uint64_t host_io;
    uint8_t **load_pages, **exec_pages; /* per thread: the pages of the model it works on */
    void *nvml_dev;
    uint64_t generated; /* bytes at host_in holding the generated input (zero-size inputs) */
};

static void cuda_destroy(void *impl)
{
    struct cuda_device *d = impl;
    if (cudaSetDevice(d->g.ordinal) == cudaSuccess) {
        if (d->pool)
            cudaFree(d->pool);
        if (d->arena)
            cudaFree(d->arena);
        if (d->host_in)
            cudaFreeHost(d->host_in);
        if (d->host_out)
            cudaFreeHost(d->host_out);
    }
    cuda_gpu_close(&d->g);
    free(d->load_pages);
    free(d->exec_pages);
    free(d);
}

static int valid_pages(const struct cuda_device *d, const struct cuda_model *cm, const unsigned *pages, unsigned npages)
{
    if (!cm || npages < cm->cp.pages.n_pages || npages > d->total_pages)
        return 0;
    for (unsigned i = 0; i < npages; i++)
        if (pages[i] >= d->total_pages)
            return 0;
    return 1;
}

static void page_addresses(const struct cuda_device *d, const unsigned *pages, unsigned npages, uint8_t **out)
{
    for (unsigned i = 0; i < npages; i++)
        out[i] = d->pool + (uint64_t)pages[i] * d->page_size;
}

static int cuda_load_weights(void *impl, const struct model_info *m, const unsigned *pages, unsigned npages,
                             uint64_t start, uint64_t *end)
{
    struct cuda_device *d = impl;
    const struct cuda_model *cm = m->backend_data;
    (void)start;
    if (!valid_pages(d, cm, pages, npages)) {
        *end = clock_now_ns();
        return ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL;
    }
    page_addresses(d, pages, cm->cp.pages.n_pages, d->load_pages);
    char err[512];
    int rc = cuda_exec_load(cm, &d->g, d->load_pages, err, sizeof err);
    *end = clock_now_ns();
    if (rc != 0) {
        log_error("GPU %u: LoadWeights of %s failed: %s", d->id, m->source, err);
        return ACTION_RUNTIME_ERROR;
    }
    return ACTION_SUCCESS;
}

/* The generated input is written once and kept while only zero-size inputs arrive. */
static int stage_input(struct cuda_device *d, const struct model_info *m, const struct backend_infer_io *io)
{
    size_t need = (size_t)m->input_size * io->padded_batch;
    if (need > d->host_io)
        return -1;
    if (!io->input || io->input_len == 0) {
        if (d->generated < need)
            backend_input_generate((float *)d->host_in, need / 4);
        d->generated = need > d->generated ? need : d->generated;
        return 0;
    }
    d->generated = 0;
    return backend_input_unpack(io, m->input_size, d->host_in);
}

static void fill_times(struct backend_infer_timing *t, uint64_t h0, const struct cuda_exec_times *et)
{
    t->copy_input_end = t->exec_begin = h0 + et->input_end;
    t->exec_end = t->copy_output_begin = h0 + et->exec_end;
    t->copy_output_end = h0 + et->output_end;
}

static int run_infer(struct cuda_device *d, const struct model_info *m, const struct cuda_model *cm, unsigned bi,
                     const struct backend_infer_io *io, struct backend_infer_timing *t)
{
    t->copy_input_begin = clock_now_ns();
    if (stage_input(d, m, io) != 0) {
        t->copy_input_end = t->exec_begin = t->exec_end = t->copy_output_begin = t->copy_output_end = clock_now_ns();
        return ACTION_COPY_INPUT_INVALID_INPUT;
    }
    struct cuda_target tg = {d->arena, d->exec_pages};
    struct cuda_exec_times et;
    char err[900];
    uint64_t h0 = clock_now_ns();
    if (cuda_exec_infer(cm, bi, &d->g, &tg, d->host_in, d->host_out, &et, err, sizeof err) != 0) {
        log_error("GPU %u: Infer of %s at batch %u failed: %s", d->id, m->source, io->padded_batch, err);
        t->copy_input_end = t->exec_begin = t->exec_end = t->copy_output_begin = t->copy_output_end = clock_now_ns();
        return ACTION_RUNTIME_ERROR;
    }
    fill_times(t, h0, &et);
    size_t n = (size_t)io->batch_size * m->output_size;
    if (io->output && n <= io->output_len)
        memcpy(io->output, d->host_out, n);
    uint64_t now = clock_now_ns();
    t->copy_output_end = now > t->copy_output_end ? now : t->copy_output_end;
    return ACTION_SUCCESS;
}

static int cuda_infer(void *impl, const struct model_info *m, const unsigned *pages, unsigned npages,
                      const struct backend_infer_io *io, uint64_t start, struct backend_infer_timing *t)
{
    struct cuda_device *d = impl;
    const struct cuda_model *cm = m->backend_data;
    (void)start;
    t->clock_before = cuda_nvml_sm_clock(d->w->nvml, d->nvml_dev);
    int bi = cm ? model_info_batch_index(m, io->padded_batch) : -1;
    int status = ACTION_SUCCESS;
    if (bi < 0 || (unsigned)bi >= cm->cp.n_batches || cm->cp.batch[bi].b != io->padded_batch)
        status = ACTION_COPY_INPUT_INVALID_BATCH_SIZE;
    else if (!valid_pages(d, cm, pages, npages))
        status = ACTION_EXEC_WEIGHTS_NOT_PRESENT;
    if (status != ACTION_SUCCESS) {
        uint64_t now = clock_now_ns();
        t->copy_input_begin = t->copy_input_end = t->exec_begin = t->exec_end = now;
        t->copy_output_begin = t->copy_output_end = now;
    } else {
        page_addresses(d, pages, cm->cp.pages.n_pages, d->exec_pages);
        status = run_infer(d, m, cm, (unsigned)bi, io, t);
    }
    t->clock_after = cuda_nvml_sm_clock(d->w->nvml, d->nvml_dev);
    return status;
}

static const struct backend_ops cuda_ops = {
    .name = "cuda",
    .needs_input = 1,
    .load_weights = cuda_load_weights,
    .infer = cuda_infer,
    .destroy = cuda_destroy,
};

/* ---- start-up: everything the device will ever use, allocated now ---- */

static int gpu_alloc(void **p, uint64_t bytes, const char *what, const char *key, char *err, size_t errlen)
{
    cudaError_t e = cudaMalloc(p, bytes ? bytes : 1);
    if (e == cudaSuccess)
        return 0;
    size_t free_b = 0, total_b = 0;
    cudaGetLastError();
    cudaMemGetInfo(&free_b, &total_b);
    snprintf(err, errlen,
             "cannot allocate the %s: %llu bytes (%.2f GiB, %s) with %.2f GiB free of "
             "%.2f GiB: %s; lower %s in the worker config",
             what, (unsigned long long)bytes, bytes / 1073741824.0, key, free_b / 1073741824.0, total_b / 1073741824.0,
             cudaGetErrorString(e), key);
    return -1;
}

static int host_alloc(void **p, uint64_t bytes, char *err, size_t errlen)
{
    cudaError_t e = cudaHostAlloc(p, bytes ? bytes : 1, cudaHostAllocDefault);
    if (e == cudaSuccess)
        return 0;
    snprintf(err, errlen, "cannot pin %llu bytes of host memory for inputs/outputs (host_io_pool_size / 2): %s",
             (unsigned long long)bytes, cudaGetErrorString(e));
    return -1;
}

static int allocate(struct cuda_device *d, char *err, size_t errlen)
{
    const struct worker_config *cfg = &d->w->cfg;
    void *pool = NULL, *arena = NULL, *in = NULL, *out = NULL;
    char what[96];
    snprintf(what, sizeof what, "weights cache (%u pages of %llu MiB)", d->total_pages,
             (unsigned long long)(d->page_size >> 20));
    int rc = gpu_alloc(&pool, (uint64_t)d->total_pages * d->page_size, what, "weights_cache_size", err, errlen);
    d->pool = pool;
    if (rc == 0)
        rc = gpu_alloc(&arena, cfg->workspace_pool_size, "activation arena", "workspace_pool_size", err, errlen);
    d->arena = arena;
    if (rc == 0 && (rc = host_alloc(&in, d->host_io, err, errlen)) == 0)
        rc = host_alloc(&out, d->host_io, err, errlen);
    d->host_in = in;
    d->host_out = out;
    if (rc == 0) {
        d->load_pages = calloc(d->total_pages + 1, sizeof *d->load_pages);
        d->exec_pages = calloc(d->total_pages + 1, sizeof *d->exec_pages);
    }
    if (rc == 0 && (!d->load_pages || !d->exec_pages))
        rc = (snprintf(err, errlen, "out of memory"), -1);
    return rc;
}

int cuda_worker_make_backend(unsigned gpu_id, struct backend *out, void *ctx)
{
    struct cuda_worker *w = ctx;
    struct cuda_device *d = calloc(1, sizeof *d);
    char err[512];
    if (!d)
        return -1;
    d->w = w;
    d->id = gpu_id;
    d->page_size = w->cfg.weights_cache_page_size;
    uint64_t pages = d->page_size ? w->cfg.weights_cache_size / d->page_size : 0;
    d->total_pages = pages <= UINT32_MAX ? (unsigned)pages : UINT32_MAX;
    d->host_io = w->cfg.host_io_pool_size / 2;
    d->g.ordinal = (int)gpu_id;
    int rc = (int)gpu_id < w->n_gpus ? cuda_gpu_open(&d->g, (int)gpu_id, err, sizeof err)
                                     : (snprintf(err, sizeof err, "there is no GPU %u", gpu_id), -1);
    if (rc == 0)
        rc = allocate(d, err, sizeof err);
    if (rc != 0) {
        log_error("GPU %u: %s", gpu_id, err);
        cuda_destroy(d);
        return -1;
    }
    d->nvml_dev = cuda_nvml_device(w->nvml, (int)gpu_id);
    log_info("GPU %u: weights cache %.2f GiB (%u pages of %llu MiB), arena %llu MiB, pinned IO 2 x %llu MiB, "
             "SM clock %u MHz",
             gpu_id, (double)d->total_pages * d->page_size / 1073741824.0, d->total_pages,
             (unsigned long long)(d->page_size >> 20), (unsigned long long)(w->cfg.workspace_pool_size >> 20),
             (unsigned long long)(d->host_io >> 20), cuda_nvml_sm_clock(w->nvml, d->nvml_dev));
    out->ops = &cuda_ops;
    out->impl = d;
    return 0;
}
