/* The Open Inference Protocol (KServe v2) REST bodies the controller speaks, as pure functions
 * over bytes: the inference request (JSON tensors, flat or nested, or the binary tensor data
 * extension), its response, model and server metadata, the repository index and error bodies.
 * A model has one FP32 input and one FP32 output, each with a leading batch dimension; tensor
 * bytes are little-endian, as on the wire of the extension and in the workers' outputs. */
#ifndef CW_KSERVE_H
#define CW_KSERVE_H
#include "controller/http/http_buf.h"
#include <stddef.h>
#include <stdint.h>

#define KSERVE_MAX_RANK 8    /* dimensions after the batch dimension */
#define KSERVE_MAX_BATCH 256 /* rows in one request */

/* An input or output as the API shows it: its batch-1 shape without the batch dimension. */
struct kserve_tensor {
    char name[16]; /* INPUT0, OUTPUT0 */
    unsigned rank;
    int64_t dims[KSERVE_MAX_RANK];
    uint64_t elems; /* per batch row */
};

struct kserve_model {
    const char *name;
    struct kserve_tensor input, output;
};

/* A parsed inference request; kserve_request_free releases it. */
struct kserve_request {
    char *id;       /* the request's "id", or NULL */
    unsigned batch; /* rows */
    float *data;    /* batch x input.elems values */
    int binary_output;
    double slo_ms, slo_factor; /* parameters; 0: not given */
    int user_id;               /* parameter "user_id" (telemetry), default 0 */
};

/* Parses an inference request for model m. json_len is the Inference-Header-Content-Length
 * (the JSON part; the rest of the body is binary tensor data), or -1: all of the body is JSON.
 * 0, or 400 with a message naming the field and the problem in err. */
int kserve_parse_infer(const struct kserve_model *m, const uint8_t *body, size_t body_len, long long json_len,
                       struct kserve_request *out, char *err, size_t errlen);
/* The same with every value through Jansson's tree: kserve_parse_infer reads a flat data list
 * of plain numbers faster, and otherwise is this. Exported as the reference that tests and
 * fuzz_kserve_parse hold kserve_parse_infer to (same status, message, values on any input). */
int kserve_parse_infer_tree(const struct kserve_model *m, const uint8_t *body, size_t body_len, long long json_len,
                            struct kserve_request *out, char *err, size_t errlen);
void kserve_request_free(struct kserve_request *r);

/* The response to r: outputs are r->batch x output.elems floats. As JSON data, or as binary
 * data after the JSON (then *json_len is the JSON's length, else -1). 0, or 500 with err (a
 * value JSON cannot carry: NaN or infinity; out of memory). */
int kserve_infer_response(const struct kserve_model *m, const char *version, const struct kserve_request *r,
                          const uint8_t *outputs, struct http_buf *body, long long *json_len, char *err, size_t errlen);

/* {"error": message} */
void kserve_error_body(struct http_buf *b, const char *message);
/* Model metadata; versions: the model ids serving it. */
void kserve_model_metadata(struct http_buf *b, const struct kserve_model *m, const unsigned *versions,
                           unsigned n_versions);
void kserve_server_metadata(struct http_buf *b, const char *version);

/* One model of the repository index. */
struct kserve_index_entry {
    const char *name;
    const char *version; /* "" for none */
    const char *state;   /* READY, UNAVAILABLE, LOADING */
    const char *reason;  /* "" for none */
};
void kserve_repository_index(struct http_buf *b, const struct kserve_index_entry *e, unsigned n);

/* The load request's parameters: `copies` (default 1); anything else is refused. 0, or 400. */
int kserve_parse_load(const uint8_t *body, size_t body_len, int *copies, char *err, size_t errlen);
/* The index request's {"ready": bool} (default false). 0, or 400. */
int kserve_parse_index(const uint8_t *body, size_t body_len, int *ready_only, char *err, size_t errlen);

#endif
