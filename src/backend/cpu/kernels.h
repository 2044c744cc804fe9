/* The plan's simple ops as plain C loops (elementwise, broadcasting binary, concat, softmax,
 * channel affine): memory-bound work where oneDNN would add nothing. Shapes are given with
 * the batch already applied; nothing here allocates. */
#ifndef CW_CPU_KERNELS_H
#define CW_CPU_KERNELS_H
#include <stdint.h>

struct kshape {
    unsigned nd;
    int64_t d[6];
};

uint64_t kshape_elems(const struct kshape *s);
void kernel_act(float *y, const float *x, uint64_t n, unsigned act, float lo, float hi);
/* y = a op b with numpy broadcasting to `out` (op 0 add, 1 mul). */
void kernel_binary(float *y, const struct kshape *out, const float *a, const struct kshape *sa, const float *b,
                   const struct kshape *sb, int mul);
/* Appends input k (shape s) into y along axis; `offset` = elements of axis already filled. */
void kernel_concat_part(float *y, const struct kshape *out, const float *x, const struct kshape *s, unsigned axis,
                        int64_t offset);
void kernel_softmax(float *y, const float *x, const struct kshape *s, unsigned axis, int legacy);
void kernel_channel_affine(float *y, const float *x, const struct kshape *s, const float *scale, const float *shift);

#endif
