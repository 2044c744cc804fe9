/* ONNX -> execution plan: parses a ModelProto (protobuf-c against Debian's onnx.proto),
 * infers shapes, folds BatchNormalization and activations into convolutions, and copies
 * the weights each op needs into the plan's blob. Errors name the offending node. */
#ifndef CW_CPU_ONNX_IMPORT_H
#define CW_CPU_ONNX_IMPORT_H
#include "model/plan.h"
#include <stddef.h>
#include <stdint.h>

struct onnx_blob {
    const uint8_t *data;
    size_t len;
};

/* extra[i] (a serialized TensorProto) becomes the value of the (i+1)-th runtime graph input,
 * which turns into a constant (used to run ONNX node tests whose weights are inputs). */
int onnx_import(const uint8_t *buf, size_t len, const struct onnx_blob *extra, size_t n_extra, struct plan *out,
                char *err, size_t errlen);
int onnx_import_file(const char *path, struct plan *out, char *err, size_t errlen);

/* Decodes a serialized float32 TensorProto: *data (caller frees), dims. 0 or -1 with err. */
int onnx_tensor_decode(const uint8_t *buf, size_t len, float **data, int64_t *dims, unsigned *ndim, char *err,
                       size_t errlen);
/* Reads a whole file; caller frees. NULL with err on failure. */
uint8_t *onnx_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
