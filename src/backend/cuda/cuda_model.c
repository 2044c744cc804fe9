#include "cuda_model.h"
#include "cuda_status.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int describe_batch(struct cuda_model *m, unsigned bi, char *err, size_t errlen)
{
    const struct cuda_batch *cb = &m->cp.batch[bi];
    m->conv[bi] = calloc(cb->n_convs + 1, sizeof *m->conv[bi]);
    if (!m->conv[bi])
        return snprintf(err, errlen, "out of memory"), -1;
    for (uint32_t i = 0; i < cb->n_steps; i++) {
        const struct cuda_step *s = &cb->steps[i];
        char why[400];
        if (s->kind == CSTEP_CONV && cuda_conv_describe(&m->conv[bi][s->conv], s, why, sizeof why) != 0)
            return snprintf(err, errlen, "op %u (%s) at batch %u: %s", s->op, m->cp.plan.ops[s->op].name, cb->b, why),
                   -1;
    }
    return 0;
}

int cuda_model_build(struct cuda_model **out, struct plan *p, const unsigned *batch_sizes, unsigned n_batches,
                     uint64_t page_size, char *err, size_t errlen)
{
    struct cuda_model *m = calloc(1, sizeof *m);
    if (!m) {
        plan_free(p);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    int rc = cuda_plan_build(&m->cp, p, batch_sizes, n_batches, page_size, err, errlen);
    for (unsigned i = 0; rc == 0 && i < m->cp.n_batches; i++)
        rc = describe_batch(m, i, err, errlen);
    if (rc != 0) {
        cuda_model_destroy(m);
        return -1;
    }
    *out = m;
    return 0;
}

static int choose_batch(struct cuda_model *m, unsigned bi, struct cuda_gpu *g, uint64_t arena_limit, char *err,
                        size_t errlen)
{
    struct cuda_batch *cb = &m->cp.batch[bi];
    if (cb->ws_off > arena_limit)
        return snprintf(err, errlen,
                        "needs %llu bytes of activations at batch %u, more than the %llu-byte arena "
                        "(workspace_pool_size)",
                        (unsigned long long)cb->ws_off, cb->b, (unsigned long long)arena_limit),
               -1;
    uint64_t limit = arena_limit - cb->ws_off;
    limit = limit > CUDA_MAX_CONV_WORKSPACE ? CUDA_MAX_CONV_WORKSPACE : limit;
    cb->ws_size = 0;
    for (uint32_t i = 0; i < cb->n_steps; i++) {
        const struct cuda_step *s = &cb->steps[i];
        struct cuda_conv *c = s->kind == CSTEP_CONV ? &m->conv[bi][s->conv] : NULL;
        char why[700];
        if (c && cuda_conv_choose(c, g->dnn, limit, why, sizeof why) != 0)
            return snprintf(err, errlen, "op %u (%s) at batch %u: %s", s->op, m->cp.plan.ops[s->op].name, cb->b, why),
                   -1;
        if (c && c->ws > cb->ws_size)
            cb->ws_size = c->ws;
    }
    uint64_t need = cuda_plan_arena_size(&m->cp, bi);
    m->arena_need = need > m->arena_need ? need : m->arena_need;
    return 0;
}

static int pin_weights(struct cuda_model *m, char *err, size_t errlen)
{
    void *image = NULL;
    cudaError_t e = cudaHostAlloc(&image, m->cp.image_size ? m->cp.image_size : 1, cudaHostAllocPortable);
    if (e != cudaSuccess) {
        char what[96];
        snprintf(what, sizeof what, "pinning %llu bytes of weights", (unsigned long long)m->cp.image_size);
        return cuda_rt_fail(err, errlen, what, e);
    }
    m->image = image;
    cuda_plan_fill_image(&m->cp, m->image);
    free(m->cp.plan.weights); /* the pinned image is the only host copy from now on */
    m->cp.plan.weights = NULL;
    return 0;
}

int cuda_model_prepare(struct cuda_model *m, struct cuda_gpu *g, uint64_t arena_limit, char *err, size_t errlen)
{
    cudaError_t e = cudaSetDevice(g->ordinal);
    if (e != cudaSuccess)
        return cuda_rt_fail(err, errlen, "selecting the GPU", e);
    m->arena_need = 0;
    for (unsigned i = 0; i < m->cp.n_batches; i++)
        if (choose_batch(m, i, g, arena_limit, err, errlen) != 0)
            return -1;
    return m->image ? 0 : pin_weights(m, err, errlen);
}

void cuda_model_describe_algorithms(const struct cuda_model *m, char *out, size_t len)
{
    unsigned count[CUDNN_CONVOLUTION_FWD_ALGO_COUNT] = {0}, nondet = 0;
    uint64_t ws = 0;
    for (unsigned i = 0; i < m->cp.n_batches; i++) {
        for (uint32_t k = 0; k < m->cp.batch[i].n_convs; k++) {
            count[(unsigned)m->conv[i][k].algo % CUDNN_CONVOLUTION_FWD_ALGO_COUNT]++;
            nondet += !m->conv[i][k].deterministic;
        }
        ws = m->cp.batch[i].ws_size > ws ? m->cp.batch[i].ws_size : ws;
    }
    size_t used = 0;
    out[0] = '\0';
    for (unsigned a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT && used + 1 < len; a++) {
        int n = count[a] ? snprintf(out + used, len - used, "%s%s x%u", used ? ", " : "",
                                    cuda_conv_algo_name((cudnnConvolutionFwdAlgo_t)a), count[a])
                         : 0;
        used += n > 0 ? (size_t)n : 0;
    }
    if (used + 1 < len)
        snprintf(out + used, len - used, "%sworkspace <= %.1f MiB%s", used ? "; " : "", ws / 1048576.0,
                 nondet ? "; SOME NOT DETERMINISTIC (no deterministic one offered)" : "");
}

void cuda_model_destroy(struct cuda_model *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < CUDA_MAX_BATCHES; i++) {
        for (uint32_t k = 0; m->conv[i] && k < m->cp.batch[i].n_convs; k++)
            cuda_conv_release(&m->conv[i][k]);
        free(m->conv[i]);
    }
    if (m->image)
        cudaFreeHost(m->image);
    cuda_plan_free(&m->cp);
    free(m);
}
