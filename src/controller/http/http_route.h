/* The REST endpoints of the KServe v2 API (and GET /metrics) as a pure parse of method and
 * path: which endpoint, with the model name and version it names (percent-decoded). A path
 * that names no endpoint is HTTP_ROUTE_NONE; a known path with another method is
 * HTTP_ROUTE_BAD_METHOD (allowed: the method it takes). */
#ifndef CW_HTTP_ROUTE_H
#define CW_HTTP_ROUTE_H
#include <stddef.h>

enum http_route_kind {
    HTTP_ROUTE_NONE = 0,
    HTTP_ROUTE_BAD_METHOD,
    HTTP_ROUTE_LIVE,        /* GET /v2/health/live */
    HTTP_ROUTE_READY,       /* GET /v2/health/ready */
    HTTP_ROUTE_SERVER,      /* GET /v2 */
    HTTP_ROUTE_MODEL,       /* GET /v2/models/NAME[/versions/V] */
    HTTP_ROUTE_MODEL_READY, /* GET /v2/models/NAME[/versions/V]/ready */
    HTTP_ROUTE_INFER,       /* POST /v2/models/NAME[/versions/V]/infer */
    HTTP_ROUTE_REPO_INDEX,  /* POST /v2/repository/index */
    HTTP_ROUTE_REPO_LOAD,   /* POST /v2/repository/models/NAME/load */
    HTTP_ROUTE_REPO_UNLOAD, /* POST /v2/repository/models/NAME/unload */
    HTTP_ROUTE_METRICS,     /* GET /metrics */
};

#define HTTP_ROUTE_NAME_MAX 256

struct http_route {
    enum http_route_kind kind;
    char name[HTTP_ROUTE_NAME_MAX];    /* model name, decoded */
    char version[HTTP_ROUTE_NAME_MAX]; /* "" when not given */
    const char *allowed;               /* HTTP_ROUTE_BAD_METHOD: the method the path takes */
};

/* The endpoint's name for metrics and logs ("infer", "health_ready", ...). */
const char *http_route_endpoint(enum http_route_kind kind);
/* Parses method and path (a query string is ignored). metrics_port: only /metrics exists there. */
void http_route_parse(const char *method, size_t method_len, const char *path, size_t path_len, int metrics_port,
                      struct http_route *out);

#endif
