/* A plan made executable with oneDNN: per batch size, primitives on NHWC/blocked activations,
 * their arguments and a static arena layout; per weight, its cache layout and page. Immutable
 * once built (devices share it); a binding ties it to one device and runs allocation-free. */
#ifndef CW_CPU_MODEL_H
#define CW_CPU_MODEL_H
#include "model/plan.h"
#include <oneapi/dnnl/dnnl.h>
#include <stddef.h>
#include <stdint.h>

#define CPU_MAX_BATCHES 8
#define CPU_MAX_ARGS (PLAN_MAX_IN + 1) /* a primitive's tensor arguments (concat: inputs + dst) */

#define CPU_ARG_TEMP (-1) /* tensor id of an op's reordered input (in the arena's scratch area) */

struct cpu_arg {
    int kind;  /* DNNL_ARG_* */
    int32_t t; /* tensor id, or CPU_ARG_TEMP */
};

struct cpu_batch {
    unsigned b;
    uint64_t *act_off;      /* per tensor: byte offset in the arena (activations) */
    dnnl_primitive_t *prim; /* per op, NULL for ops run by our own kernels (plain layout) */
    struct cpu_arg *args;   /* per op: CPU_MAX_ARGS slots, nargs[op] used */
    uint8_t *nargs;
    dnnl_primitive_t *pre; /* per op, or NULL: reorders input 0 into the op's temp before it runs */
    uint64_t *temp_off;    /* per op: the temp's offset from scratch_off */
    uint64_t scratch_off, arena_size;
};

struct cpu_weight {
    dnnl_memory_desc_t plain, cache; /* ONNX layout in the blob, layout in the cache */
    dnnl_primitive_t reorder;        /* NULL: plain copy */
    uint64_t size;                   /* bytes in the cache */
    unsigned page;                   /* index among the model's pages */
    uint64_t offset;                 /* within that page */
};

struct cpu_model {
    struct plan plan;
    dnnl_engine_t engine;
    unsigned n_batches;
    struct cpu_batch batch[CPU_MAX_BATCHES];
    struct cpu_weight *w; /* per tensor; meaningful for weights */
    uint64_t page_size;
    unsigned n_pages;
    uint64_t last_page_used; /* bytes used in the last page */
    uint64_t arena_need;     /* largest arena over batch sizes */
};

/* Takes ownership of *plan (even on failure). Builds primitives for each batch size and packs
 * the weights into pages of page_size (no weight may exceed a page). 0, or -1 with err. */
int cpu_model_build(struct cpu_model **out, struct plan *plan, dnnl_engine_t engine, const unsigned *batch_sizes,
                    unsigned n_batches, uint64_t page_size, char *err, size_t errlen);
void cpu_model_destroy(struct cpu_model *m);
/* Bytes of the single input / output at batch 1 (the model must have exactly one of each). */
uint64_t cpu_model_input_bytes(const struct cpu_model *m);
uint64_t cpu_model_output_bytes(const struct cpu_model *m);

struct cpu_binding;

/* pages[i]: address of the model's i-th page (n_pages of them); arena: at least arena_need bytes. */
int cpu_binding_create(struct cpu_binding **out, const struct cpu_model *m, uint8_t *const *pages, uint8_t *arena,
                       char *err, size_t errlen);
void cpu_binding_destroy(struct cpu_binding *b);
/* Copies/reorders the host weights into the cache pages. 0 or -1. */
int cpu_binding_load_weights(struct cpu_binding *b, dnnl_stream_t s);
/* Runs the plan at batch index bi; inputs must already be in the arena. 0 or -1. */
int cpu_binding_run(struct cpu_binding *b, unsigned bi, dnnl_stream_t s);
/* Address of tensor t (an activation) in the arena at batch index bi. */
float *cpu_binding_act(const struct cpu_binding *b, unsigned bi, int32_t t);
const struct cpu_model *cpu_binding_model(const struct cpu_binding *b);

#endif
