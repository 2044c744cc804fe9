/* GET /metrics: the controller's running totals (controller/metrics.h) and the HTTP front
 * end's own counters in the Prometheus text exposition format (version 0.0.4). Model ids are
 * summed into their model names. Every metric is documented in docs/http.md. Pure: renders
 * what it is given. */
#ifndef CW_PROM_H
#define CW_PROM_H
#include "controller/http/http_buf.h"
#include "controller/metrics.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* HTTP requests answered, by endpoint and status code. */
#define HTTP_STATS_MAX 64
struct http_stats {
    struct {
        const char *endpoint; /* static */
        int code;
        uint64_t count;
    } requests[HTTP_STATS_MAX];
    unsigned n_requests;
    unsigned connections[2];         /* open now: [0] API port, [1] metrics port */
    uint64_t connections_refused[2]; /* over the connection limit */
    uint64_t replies_dropped;        /* their client went away before they could be sent */
};
void http_stats_count(struct http_stats *s, const char *endpoint, int code);

struct prom_worker {
    const char *address; /* host:port */
    int up;
};

struct prom_source {
    const struct controller_metrics *metrics;
    const unsigned *name_of_id; /* per model id: index into names, or UINT32_MAX (not shown) */
    unsigned n_ids;
    const char *const *names;
    unsigned n_names;
    const unsigned *copies_serving, *copies_unloaded; /* per name */
    int serving;
    const struct prom_worker *workers;
    unsigned n_workers;
    const struct http_stats *http;
};

/* Appends the exposition to b (check http_buf_failed). */
void prom_render(struct http_buf *b, const struct prom_source *src);

#endif
