/* The HTTP front end's endpoints, independent of the HTTP library (http_server.c adapts H2O to
 * it; the fuzzer drives it directly): a request in, exactly one reply out, at once or when the
 * controller has answered (inference, model loads). Requests become the controller's own
 * through controller/frontend.h. Loop thread only. */
#ifndef CW_HTTP_API_H
#define CW_HTTP_API_H
#include "controller/frontend.h"
#include "controller/http/prom.h"
#include <stddef.h>
#include <stdint.h>

struct http_api;
struct http_call;

struct http_request_view {
    const char *method;
    size_t method_len;
    const char *path; /* as sent (percent-encoded, maybe with a query) */
    size_t path_len;
    const uint8_t *body;
    size_t body_len;
    long long json_len; /* Inference-Header-Content-Length, or -1 when absent */
    int metrics_port;   /* arrived on the metrics port */
};

struct http_reply {
    int status;
    const char *content_type; /* static */
    char *body;               /* malloc'd: the reply function takes it */
    size_t body_len;
    long long json_len; /* for Inference-Header-Content-Length, or -1 */
};

typedef void (*http_reply_fn)(void *data, struct http_reply *reply);

struct http_api *http_api_create(struct controller *ctl, char *err, size_t errlen);
/* Every call must have been answered (the controller answers everything before its front end
 * goes; calls still pending are then leaked rather than freed under the controller's feet). */
void http_api_destroy(struct http_api *api);
/* Handles req: reply(data, ...) is called exactly once, maybe before this returns, unless the
 * call is detached first. Returns the pending call, or NULL once replied. */
struct http_call *http_api_handle(struct http_api *api, const struct http_request_view *req, http_reply_fn reply,
                                  void *data);
/* The transport's request went away: the reply is dropped (the work still completes). */
void http_call_detach(struct http_call *c);
/* The front end's own counters (the server counts connections in it). */
struct http_stats *http_api_stats(struct http_api *api);

#endif
