#include "cuda_runner.h"
#include "common/clock.h"
#include "cuda_exec.h"
#include "cuda_status.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cuda_runner {
    const struct cuda_model *m;
    struct cuda_gpu *g;
    struct cuda_model *owned_model;
    struct cuda_gpu owned_gpu;
    int gpu_open;
    uint8_t *weights, *arena, *host_in, *host_out;
    uint8_t **page_base;
};

static int cuda_load(void *impl, uint64_t *ns, char *err, size_t errlen)
{
    struct cuda_runner *c = impl;
    uint64_t t0 = clock_now_ns();
    int rc = cuda_exec_load(c->m, c->g, c->page_base, err, errlen);
    *ns = clock_now_ns() - t0;
    return rc;
}

static int cuda_run(void *impl, unsigned bi, const float *in, float *out, struct model_run_times *t, char *err,
                    size_t errlen)
{
    struct cuda_runner *c = impl;
    unsigned b = c->m->cp.batch[bi].b;
    struct cuda_target tg = {c->arena, c->page_base};
    struct cuda_exec_times et;
    memcpy(c->host_in, in, cuda_plan_input_bytes(&c->m->cp) * b);
    if (cuda_exec_infer(c->m, bi, c->g, &tg, c->host_in, c->host_out, &et, err, errlen) != 0)
        return -1;
    memcpy(out, c->host_out, cuda_plan_output_bytes(&c->m->cp) * b);
    t->exec_ns = et.exec_end - et.input_end;
    t->total_ns = et.output_end;
    return 0;
}

static void cuda_close(void *impl)
{
    struct cuda_runner *c = impl;
    if (c->g)
        cudaSetDevice(c->g->ordinal);
    if (c->weights)
        cudaFree(c->weights);
    if (c->arena)
        cudaFree(c->arena);
    if (c->host_in)
        cudaFreeHost(c->host_in);
    if (c->host_out)
        cudaFreeHost(c->host_out);
    free(c->page_base);
    cuda_model_destroy(c->owned_model);
    if (c->gpu_open)
        cuda_gpu_close(&c->owned_gpu);
    free(c);
}

static const struct model_runner_ops cuda_runner_ops = {.load = cuda_load, .run = cuda_run, .close = cuda_close};

static int allocate(struct cuda_runner *c, char *err, size_t errlen)
{
    const struct cuda_plan *cp = &c->m->cp;
    unsigned top = cp->batch[cp->n_batches - 1].b;
    uint64_t wbytes = (uint64_t)(cp->pages.n_pages - 1) * cp->page_size + cp->pages.last_page_used;
    void *w = NULL, *a = NULL, *in = NULL, *out = NULL;
    cudaError_t e = cudaSetDevice(c->g->ordinal);
    if (e == cudaSuccess)
        e = cudaMalloc(&w, wbytes ? wbytes : 1);
    c->weights = w;
    if (e == cudaSuccess)
        e = cudaMalloc(&a, c->m->arena_need ? c->m->arena_need : 1);
    c->arena = a;
    if (e == cudaSuccess)
        e = cudaHostAlloc(&in, cuda_plan_input_bytes(cp) * top, cudaHostAllocDefault);
    c->host_in = in;
    if (e == cudaSuccess)
        e = cudaHostAlloc(&out, cuda_plan_output_bytes(cp) * top, cudaHostAllocDefault);
    c->host_out = out;
    if (e != cudaSuccess)
        return cuda_rt_fail(err, errlen, "allocating the model's GPU memory", e);
    c->page_base = calloc(cp->pages.n_pages, sizeof *c->page_base);
    for (unsigned i = 0; c->page_base && i < cp->pages.n_pages; i++)
        c->page_base[i] = c->weights + (uint64_t)i * cp->page_size;
    return c->page_base ? 0 : (snprintf(err, errlen, "out of memory"), -1);
}

static int wrap(struct model_runner *r, struct cuda_runner *c, char *err, size_t errlen)
{
    if (allocate(c, err, errlen) != 0) {
        cuda_close(c);
        return -1;
    }
    const struct cuda_plan *cp = &c->m->cp;
    struct cudaDeviceProp prop;
    memset(r, 0, sizeof *r);
    r->ops = &cuda_runner_ops;
    r->impl = c;
    if (cudaGetDeviceProperties(&prop, c->g->ordinal) != cudaSuccess)
        snprintf(prop.name, sizeof prop.name, "?");
    snprintf(r->device, sizeof r->device, "cuda:%d %.20s", c->g->ordinal, prop.name);
    r->n_batches = cp->n_batches;
    for (unsigned i = 0; i < cp->n_batches; i++)
        r->batch_sizes[i] = cp->batch[i].b;
    r->input_bytes = cuda_plan_input_bytes(cp);
    r->output_bytes = cuda_plan_output_bytes(cp);
    r->weights_bytes = cp->plan.weights_size;
    return 0;
}

int cuda_runner_wrap(struct model_runner *r, const struct cuda_model *m, struct cuda_gpu *g, char *err, size_t errlen)
{
    struct cuda_runner *c = calloc(1, sizeof *c);
    if (!c)
        return snprintf(err, errlen, "out of memory"), -1;
    c->m = m;
    c->g = g;
    return wrap(r, c, err, errlen);
}

int cuda_runner_open(struct model_runner *r, struct plan *p, const unsigned *batch_sizes, unsigned n_batches,
                     int ordinal, char *err, size_t errlen)
{
    struct cuda_runner *c = calloc(1, sizeof *c);
    if (!c) {
        plan_free(p);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    int rc = cuda_model_build(&c->owned_model, p, batch_sizes, n_batches, CUDA_RUNNER_PAGE_SIZE, err, errlen);
    if (rc == 0 && (rc = cuda_gpu_open(&c->owned_gpu, ordinal, err, errlen)) == 0)
        c->gpu_open = 1;
    if (rc == 0)
        rc = cuda_model_prepare(c->owned_model, &c->owned_gpu, CUDA_RUNNER_ARENA, err, errlen);
    if (rc != 0) {
        cuda_close(c);
        return -1;
    }
    c->m = c->owned_model;
    c->g = &c->owned_gpu;
    return wrap(r, c, err, errlen);
}
