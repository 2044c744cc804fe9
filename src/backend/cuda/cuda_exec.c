#include "cuda_exec.h"
#include "cuda_kernels.h"
#include "cuda_status.h"
#include <stdio.h>
#include <string.h>

float *cuda_exec_act(const struct cuda_model *m, unsigned bi, const struct cuda_target *t, int32_t tensor)
{
    const struct cuda_batch *cb = &m->cp.batch[bi];
    return (float *)(t->arena + (tensor == CUDA_TEMP ? cb->temp_off : cb->act_off[tensor]));
}

/* Any operand: a weight in its page, an activation in the arena, or the temp. */
static float *operand(const struct cuda_model *m, unsigned bi, const struct cuda_target *t, int32_t tensor)
{
    if (tensor >= 0 && m->cp.plan.tensors[tensor].kind == PLAN_WEIGHT) {
        const struct weights_slot *s = &m->cp.slot[tensor];
        return (float *)(t->page_base[s->page] + s->offset);
    }
    return cuda_exec_act(m, bi, t, tensor);
}

int cuda_exec_load(const struct cuda_model *m, struct cuda_gpu *g, uint8_t *const *page_base, char *err, size_t errlen)
{
    cudaError_t e = cudaSetDevice(g->ordinal);
    for (unsigned i = 0; e == cudaSuccess && i < m->cp.pages.n_pages; i++)
        if (m->cp.page_used[i])
            e = cudaMemcpyAsync(page_base[i], m->image + m->cp.page_image_off[i], m->cp.page_used[i],
                                cudaMemcpyHostToDevice, g->copy);
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(g->copy);
    return e == cudaSuccess ? 0 : cuda_rt_fail(err, errlen, "copying weights to the GPU", e);
}

struct run {
    const struct cuda_model *m;
    unsigned bi;
    struct cuda_gpu *g;
    const struct cuda_target *t;
    const struct cuda_step *s;
};

static float *X(const struct run *r) { return operand(r->m, r->bi, r->t, r->s->x); }
static float *W(const struct run *r) { return operand(r->m, r->bi, r->t, r->s->w); }
static float *Y(const struct run *r) { return operand(r->m, r->bi, r->t, r->s->y); }

static int conv(const struct run *r, char *err, size_t errlen)
{
    const struct cuda_conv *c = &r->m->conv[r->bi][r->s->conv];
    const struct cuda_batch *cb = &r->m->cp.batch[r->bi];
    const float one = 1.0f, zero = 0.0f;
    cudnnStatus_t st = cudnnConvolutionForward(r->g->dnn, &one, c->x, X(r), c->w, W(r), c->conv, c->algo,
                                               c->ws ? r->t->arena + cb->ws_off : NULL, c->ws, &zero, c->y, Y(r));
    if (st == CUDNN_STATUS_SUCCESS)
        return 0;
    char what[128];
    snprintf(what, sizeof what, "cudnnConvolutionForward (algorithm %s, workspace %zu B)", cuda_conv_algo_name(c->algo),
             c->ws);
    return cuda_dnn_fail(err, errlen, what, st);
}

/* Row-major y[m,n] = x[m,k] w[k,n] is column-major y^T = w^T x^T: cuBLAS sees (n x k)(k x m). */
static int gemm(const struct run *r, char *err, size_t errlen)
{
    const struct cuda_step *s = r->s;
    const float one = 1.0f, zero = 0.0f;
    cublasStatus_t st = cublasSgemm(r->g->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)s->n, (int)s->m, (int)s->k, &one, W(r),
                                    (int)s->n, X(r), (int)s->k, &zero, Y(r), (int)s->n);
    return st == CUBLAS_STATUS_SUCCESS ? 0 : cuda_blas_fail(err, errlen, "cublasSgemm", st);
}

static cudaError_t binary(const struct run *r)
{
    const struct cuda_step *s = r->s;
    struct ck_bcast bc = {.nd = (int)s->yd.nd};
    for (uint32_t d = 0; d < s->yd.nd; d++) {
        bc.out[d] = s->yd.d[d];
        bc.sa[d] = s->sx[d];
        bc.sb[d] = s->sw[d];
    }
    return ck_binary(Y(r), X(r), W(r), &bc, (int)s->mul, r->g->exec);
}

static cudaError_t pool(const struct run *r)
{
    const struct cuda_step *s = r->s;
    struct ck_pool_shape p = {
        .nc = s->xd.d[0] * s->xd.d[1],
        .h = s->xd.d[2],
        .w = s->xd.d[3],
        .oh = s->yd.d[2],
        .ow = s->yd.d[3],
        .kh = (int)s->kernel[0],
        .kw = (int)s->kernel[1],
        .sh = (int)s->stride[0],
        .sw = (int)s->stride[1],
        .dh = (int)s->dilation[0],
        .dw = (int)s->dilation[1],
        .ph = (int)s->pad_l[0],
        .pw = (int)s->pad_l[1],
        .max = (int)s->pool_max,
        .include_pad = (int)s->include_pad,
    };
    return ck_pool(Y(r), X(r), &p, r->g->exec);
}

static cudaError_t small_step(const struct run *r)
{
    const struct cuda_step *s = r->s;
    struct ck_activation a = {s->act, s->lo, s->hi};
    cudaStream_t st = r->g->exec;
    switch (s->kind) {
    case CSTEP_PAD:
        return ck_pad(Y(r), X(r), s->xd.d[0] * s->xd.d[1], s->xd.d[2], s->xd.d[3], s->yd.d[2], s->yd.d[3], s->pad_l[0],
                      s->pad_l[1], st);
    case CSTEP_BIAS_ACT: return ck_bias_act(Y(r), W(r), s->n, s->k, s->m, a, st);
    case CSTEP_POOL: return pool(r);
    case CSTEP_BINARY: return binary(r);
    case CSTEP_ACT: return ck_act(Y(r), X(r), cuda_dims_elems(&s->yd), a, st);
    case CSTEP_SOFTMAX: return ck_softmax(Y(r), X(r), s->outer, s->len, s->inner, st);
    case CSTEP_AFFINE: return ck_affine(Y(r), X(r), W(r), operand(r->m, r->bi, r->t, s->b), s->n, s->k, s->m, st);
    case CSTEP_COPY: return cudaMemcpyAsync(Y(r), X(r), s->bytes, cudaMemcpyDeviceToDevice, st);
    case CSTEP_CONCAT_PART: return ck_concat_part(Y(r), X(r), s->outer, s->len, s->inner, s->offset, st);
    default: return cudaErrorInvalidValue;
    }
}

static int run_step(const struct run *r, char *err, size_t errlen)
{
    if (r->s->kind == CSTEP_CONV)
        return conv(r, err, errlen);
    if (r->s->kind == CSTEP_GEMM)
        return gemm(r, err, errlen);
    cudaError_t e = small_step(r);
    return e == cudaSuccess ? 0 : cuda_rt_fail(err, errlen, "kernel launch", e);
}

int cuda_exec_enqueue(const struct cuda_model *m, unsigned bi, struct cuda_gpu *g, const struct cuda_target *t,
                      char *err, size_t errlen)
{
    const struct cuda_batch *cb = &m->cp.batch[bi];
    for (uint32_t i = 0; i < cb->n_steps; i++) {
        struct run r = {m, bi, g, t, &cb->steps[i]};
        char why[600];
        if (run_step(&r, why, sizeof why) != 0)
            return snprintf(err, errlen, "step %u (%s of op %u '%s', batch %u): %s", i, cuda_step_name(r.s->kind),
                            r.s->op, m->cp.plan.ops[r.s->op].name, cb->b, why),
                   -1;
    }
    return 0;
}

static uint64_t elapsed_ns(const struct cuda_gpu *g, int from, int to, cudaError_t *e)
{
    float ms = 0.0f;
    cudaError_t rc = cudaEventElapsedTime(&ms, g->ev[from], g->ev[to]);
    if (rc != cudaSuccess && *e == cudaSuccess)
        *e = rc;
    return ms > 0.0f ? (uint64_t)((double)ms * 1e6) : 0;
}

static cudaError_t record(struct cuda_gpu *g, int ev, cudaError_t e)
{
    return e == cudaSuccess ? cudaEventRecord(g->ev[ev], g->exec) : e;
}

int cuda_exec_infer(const struct cuda_model *m, unsigned bi, struct cuda_gpu *g, const struct cuda_target *t,
                    const void *host_in, void *host_out, struct cuda_exec_times *times, char *err, size_t errlen)
{
    unsigned b = m->cp.batch[bi].b;
    const struct plan *p = &m->cp.plan;
    cudaError_t e = cudaSetDevice(g->ordinal);
    e = record(g, CUDA_EV_START, e);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(cuda_exec_act(m, bi, t, p->inputs[0]), host_in, cuda_plan_input_bytes(&m->cp) * b,
                            cudaMemcpyHostToDevice, g->exec);
    e = record(g, CUDA_EV_INPUT, e);
    if (e != cudaSuccess)
        return cuda_rt_fail(err, errlen, "copying the input to the GPU", e);
    if (cuda_exec_enqueue(m, bi, g, t, err, errlen) != 0)
        return -1;
    e = record(g, CUDA_EV_EXEC, cudaSuccess);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(host_out, cuda_exec_act(m, bi, t, p->outputs[0]), cuda_plan_output_bytes(&m->cp) * b,
                            cudaMemcpyDeviceToHost, g->exec);
    e = record(g, CUDA_EV_OUTPUT, e);
    if (e == cudaSuccess)
        e = cudaEventSynchronize(g->ev[CUDA_EV_OUTPUT]);
    if (e != cudaSuccess) /* an error of any step surfaces here: name what ran */
        return cuda_rt_fail(err, errlen, "running the inference (kernels or output copy)", e);
    times->input_end = elapsed_ns(g, CUDA_EV_START, CUDA_EV_INPUT, &e);
    times->exec_end = elapsed_ns(g, CUDA_EV_START, CUDA_EV_EXEC, &e);
    times->output_end = elapsed_ns(g, CUDA_EV_START, CUDA_EV_OUTPUT, &e);
    return e == cudaSuccess ? 0 : cuda_rt_fail(err, errlen, "reading the inference's events", e);
}
