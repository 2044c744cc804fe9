/* State shared by the endpoint modules of the HTTP API (http_api.c: dispatch, health,
 * metadata, metrics; http_models.c: the model names; http_infer.c: inference; http_repo.c:
 * the model repository). Not a public header. */
#ifndef CW_HTTP_API_INTERNAL_H
#define CW_HTTP_API_INTERNAL_H
#include "controller/http/http_api.h"
#include "controller/http/http_buf.h"
#include "controller/http/http_route.h"
#include "controller/http/kserve.h"

/* A model name of the API: the copies (model ids) loaded from one path prefix DIR/NAME/model. */
struct api_model {
    char name[128];
    char path[512];
    struct kserve_model spec; /* spec.name is name */
    int fp32;                 /* input and output are whole FP32 values */
    uint64_t b1_exec_ns;      /* profiled batch-1 execution (slo_ms -> slo_factor) */
    unsigned *ids;
    unsigned n_ids, cap_ids;
    unsigned next;   /* round robin over the copies in service */
    int loading;     /* a repository load of it is in flight */
    char error[300]; /* why its last repository load failed ("" if it did not) */
};

struct http_row {
    struct http_call *call;
    unsigned index;
};

/* One HTTP request from arrival to reply (and, for inference, until every row is answered). */
struct http_call {
    struct http_api *api;
    http_reply_fn reply; /* NULL once detached */
    void *data;
    const char *endpoint;
    /* inference */
    struct api_model *model;
    unsigned model_id;
    struct kserve_request req;
    uint8_t *outputs;
    unsigned remaining; /* rows not answered yet */
    int submitting;     /* rows are still being handed to the controller */
    int status;         /* the first failed row's client status, or -1 for a bad output */
    char message[300];
    struct http_row *rows;
};

struct http_api {
    struct controller *ctl;
    struct api_model **models;
    unsigned n_models, cap_models;
    unsigned ids_seen; /* controller model ids already sorted into names */
    struct http_stats stats;
    unsigned live_calls;
    /* inputs are compressed with one reused LZ4 stream: LZ4_compress_default's fresh 16 KB
     * state per call cost more than the rest of the request's parsing (http_infer.c) */
    union LZ4_stream_u *lz4;
};

/* http_api.c: replies end the call (and free it); 1 = still pending, 0 = replied. */
void api_reply(struct http_call *c, int status, const char *content_type, struct http_buf *body, long long json_len);
void api_reply_error(struct http_call *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void api_call_free(struct http_call *c);
/* The model a route names (else a 404 reply and NULL); *id: the copy its version names, or
 * UINT32_MAX without a version (a version that is not one of its copies: 404). */
struct api_model *api_route_model(struct http_call *c, const struct http_route *route, unsigned *id);

/* http_models.c */
void api_models_refresh(struct http_api *api);
struct api_model *api_model_find(struct http_api *api, const char *name);
/* The name's entry for a load from path, made if new (without ids). NULL if out of memory. */
struct api_model *api_model_for_load(struct http_api *api, const char *name, const char *path);
void api_models_free(struct http_api *api);
/* Copies of m in service. */
unsigned api_model_serving(const struct http_api *api, const struct api_model *m);

/* http_infer.c */
int api_infer(struct http_call *c, const struct http_route *route, const struct http_request_view *req);

/* http_repo.c */
int api_repo_load(struct http_call *c, const struct http_route *route, const struct http_request_view *req);
int api_repo_unload(struct http_call *c, const struct http_route *route);
int api_repo_index(struct http_call *c, const struct http_request_view *req);

#endif
