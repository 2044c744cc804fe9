/* The tensor shapes a converted model records in PREFIX.info (`input_shape`, `output_shape`:
 * batch-1 shapes, written by `convert`). The controller shows them in the HTTP API's model
 * metadata; emulated profiles have none. */
#ifndef CW_MODEL_SHAPE_H
#define CW_MODEL_SHAPE_H
#include <stddef.h>
#include <stdint.h>

#define MODEL_SHAPE_MAX_RANK 8

struct model_shape {
    unsigned rank; /* 0: not recorded */
    int64_t dims[MODEL_SHAPE_MAX_RANK];
};

/* Reads both shapes from PREFIX.info. 0 (a missing key leaves that shape's rank 0), or -1
 * with err when the file cannot be read or a shape is not a list of positive integers. */
int model_shape_read(const char *prefix, struct model_shape *input, struct model_shape *output, char *err,
                     size_t errlen);
/* Elements of a shape (1 for rank 0). */
uint64_t model_shape_elems(const struct model_shape *s);

#endif
