/* The compiled execution plan of a model (what `convert` writes to PREFIX.plan): float32
 * tensors with batch-1 shapes, a topologically ordered op list, and weights as offsets into
 * PREFIX.weights. Activations' dim 0 scales with the batch size; weights never do. */
#ifndef CW_MODEL_PLAN_H
#define CW_MODEL_PLAN_H
#include <stddef.h>
#include <stdint.h>

#define PLAN_MAX_DIMS 6
#define PLAN_MAX_IN 4
#define PLAN_NAME_LEN 64

enum plan_tensor_kind { PLAN_ACT = 0, PLAN_WEIGHT = 1 };

enum plan_op_type {
    OP_CONV = 1, /* in: x, w, [b]; fused activation in `act` */
    OP_MAXPOOL,  /* in: x */
    OP_AVGPOOL,  /* in: x; count_include_pad in `flag` */
    OP_GEMM,     /* in: a [M,K], w [K,N], [c broadcastable to M,N]; alpha/beta folded */
    OP_ADD,      /* in: a, b (numpy broadcast) */
    OP_MUL,
    OP_CONCAT,        /* in: n tensors, `axis` */
    OP_COPY,          /* Flatten / Reshape / Dropout: same bytes, new shape */
    OP_ACT,           /* standalone activation `act` */
    OP_SOFTMAX,       /* `axis`; `flag` = 1: legacy (opset < 13) coerce-to-2D semantics */
    OP_CHANNEL_AFFINE /* in: x, scale [C], shift [C] (unfolded BatchNormalization) */
};

enum plan_act { ACT_NONE = 0, ACT_RELU, ACT_CLIP, ACT_SIGMOID };

struct plan_tensor {
    char name[PLAN_NAME_LEN];
    uint32_t kind, ndim;
    int64_t dims[PLAN_MAX_DIMS];
    uint64_t offset; /* weights: byte offset in the weights blob */
};

struct plan_op {
    char name[PLAN_NAME_LEN];
    uint32_t type, n_in;
    int32_t in[PLAN_MAX_IN];
    int32_t out;
    /* Conv / pools: 2-D kernel, strides, dilations (ONNX convention, 1 = none), pads l/r. */
    int64_t kernel[2], stride[2], dilation[2], pad_l[2], pad_r[2], group;
    int64_t axis;
    uint32_t act, flag;
    float act_min, act_max; /* clip bounds */
};

struct plan {
    uint32_t n_tensors, n_ops, n_inputs, n_outputs;
    struct plan_tensor *tensors;
    struct plan_op *ops;
    int32_t *inputs, *outputs; /* tensor ids */
    uint64_t weights_size;     /* bytes of the weights blob */
    float *weights;            /* host copy of the blob (may be NULL until loaded) */
};

/* Elements of tensor t at batch size b. */
uint64_t plan_tensor_elems(const struct plan *p, int32_t t, unsigned b);
/* Writes/reads PREFIX.plan and PREFIX.weights. Reading validates every count, index and
 * offset. 0, or -1 with a message naming the file. */
int plan_save(const struct plan *p, const char *prefix, char *err, size_t errlen);
int plan_load(struct plan *p, const char *prefix, char *err, size_t errlen);
/* Structural check (ids in range, weights inside the blob, ops topologically ordered). */
int plan_validate(const struct plan *p, char *err, size_t errlen);
void plan_free(struct plan *p);

#endif
