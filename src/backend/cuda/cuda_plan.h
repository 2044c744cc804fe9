/* A model.plan turned into the GPU's work list (pure C, no CUDA): per batch size, the steps
 * that run it (cuDNN convolution, cuBLAS GEMM, our kernels), every shape with the batch
 * applied and checked, and the arena layout; per weight, its slot in the cache pages. Built
 * once at LoadModelFromDisk; immutable afterwards and shared by every GPU. */
#ifndef CW_CUDA_PLAN_H
#define CW_CUDA_PLAN_H
#include "model/plan.h"
#include "model/weights_pages.h"
#include <stddef.h>
#include <stdint.h>

#define CUDA_MAX_BATCHES 8
#define CUDA_ALIGN 256 /* bytes: arena offsets and weight slots (cudaMalloc's own alignment) */
#define CUDA_TEMP (-2) /* a step's tensor id for the batch's temp buffer (padded conv input) */

enum cuda_step_kind {
    CSTEP_CONV = 1,    /* cuDNN: y = conv(x, w), symmetric pads only */
    CSTEP_PAD,         /* zero-pads x (N,C,H,W) into the temp: asymmetric conv pads */
    CSTEP_BIAS_ACT,    /* y = act(y + bias[channel]), in place after CSTEP_CONV */
    CSTEP_POOL,        /* max / average pooling (any pads, dilation) */
    CSTEP_GEMM,        /* cuBLAS: y[m,n] = x[m,k] w[k,n] (row-major) */
    CSTEP_BINARY,      /* y = x op w with numpy broadcasting (Add, Mul, Gemm's bias) */
    CSTEP_ACT,         /* y = act(x) */
    CSTEP_SOFTMAX,     /* over `len` elements, `inner` apart, for each of outer*inner rows */
    CSTEP_AFFINE,      /* y = x * scale[c] + shift[c] (unfolded BatchNormalization) */
    CSTEP_COPY,        /* y = x, `bytes` (Flatten, Reshape, Dropout) */
    CSTEP_CONCAT_PART, /* copies input x into its part of y along the concat axis */
};

struct cuda_dims {
    uint32_t nd;
    int64_t d[PLAN_MAX_DIMS];
};

struct cuda_step {
    uint32_t kind, op;           /* op: the plan op it comes from (for messages) */
    int32_t x, w, b, y;          /* tensor ids (or CUDA_TEMP); w/b: second/third operand, -1 if none */
    struct cuda_dims xd, wd, yd; /* shapes, batch applied; xd of a conv is its (padded) input */
    int64_t kernel[2], stride[2], dilation[2], pad_l[2], pad_r[2], group;
    uint32_t act;
    float lo, hi;                                 /* clip bounds */
    uint32_t pool_max, include_pad, mul;          /* mul: BINARY multiplies (else adds) */
    int64_t m, n, k;                              /* GEMM; AFFINE: n = N, k = C, m = elements per channel */
    int64_t sx[PLAN_MAX_DIMS], sw[PLAN_MAX_DIMS]; /* BINARY: element strides of x and w aligned to yd, 0 = broadcast */
    int64_t outer, len, inner, offset;            /* SOFTMAX, CONCAT_PART (len: input chunk, inner: output chunk) */
    uint64_t bytes;                               /* COPY */
    int32_t conv;                                 /* CONV: index into the batch's convolution table */
};

struct cuda_batch {
    unsigned b;
    struct cuda_step *steps;
    uint32_t n_steps, n_convs;
    uint64_t *act_off;            /* per tensor: arena offset of each activation */
    uint64_t temp_off, temp_size; /* the temp buffer (after the activations) */
    uint64_t ws_off, ws_size;     /* cuDNN workspace: ws_size is set once algorithms are chosen */
};

struct cuda_plan {
    struct plan plan;
    uint64_t page_size;
    unsigned n_batches;
    struct cuda_batch batch[CUDA_MAX_BATCHES];
    struct weights_slot *slot; /* per tensor (weights only) */
    struct weights_pages pages;
    uint64_t *page_used;      /* per model page: bytes the copy must move */
    uint64_t *page_image_off; /* per model page: where it starts in the host image */
    uint64_t image_size;      /* bytes of the host image of all pages, back to back */
};

/* Takes ownership of *p (even on failure; *p is cleared). Checks every op's shapes at every
 * batch size, lays out weights in pages and activations in the arena. 0, or -1 with a
 * message naming the op. Needs exactly one graph input and output. */
int cuda_plan_build(struct cuda_plan *cp, struct plan *p, const unsigned *batch_sizes, unsigned n_batches,
                    uint64_t page_size, char *err, size_t errlen);
void cuda_plan_free(struct cuda_plan *cp);

/* Writes the weights into `image` (image_size bytes) in page layout: page i's bytes start at
 * page_image_off[i], so each page is one contiguous copy. */
void cuda_plan_fill_image(const struct cuda_plan *cp, uint8_t *image);
/* Arena bytes batch i needs once ws_size is known. */
uint64_t cuda_plan_arena_size(const struct cuda_plan *cp, unsigned i);
uint64_t cuda_plan_input_bytes(const struct cuda_plan *cp);  /* at batch 1 */
uint64_t cuda_plan_output_bytes(const struct cuda_plan *cp); /* at batch 1 */
int64_t cuda_dims_elems(const struct cuda_dims *d);
const char *cuda_step_name(uint32_t kind);

#endif
