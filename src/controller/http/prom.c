#include "prom.h"
#include "common/status.h"
#include <stdlib.h>
#include <string.h>

static const char *const RESULT_NAMES[METRICS_RESULTS] = {"success",         "error",   "status_2",
                                                          "status_3",        "timeout", "initializing",
                                                          "invalid_request", "skipped", "could_not_start"};
static const char *const ACTION_NAMES[METRICS_ACTION_TYPES] = {"load_weights", "infer", "evict_weights"};

void http_stats_count(struct http_stats *s, const char *endpoint, int code)
{
    for (unsigned i = 0; i < s->n_requests; i++)
        if (s->requests[i].endpoint == endpoint && s->requests[i].code == code) {
            s->requests[i].count++;
            return;
        }
    if (s->n_requests == HTTP_STATS_MAX) /* endpoints x codes are few; never reached in practice */
        return;
    s->requests[s->n_requests].endpoint = endpoint;
    s->requests[s->n_requests].code = code;
    s->requests[s->n_requests++].count = 1;
}

/* A label value with \, " and newlines escaped. */
static void label(struct http_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            http_buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            http_buf_puts(b, "\\n");
        else
            http_buf_append(b, v, 1);
    }
}

static void header(struct http_buf *b, const char *name, const char *type, const char *help)
{
    http_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void model_labels(struct http_buf *b, const char *metric, const char *model)
{
    http_buf_printf(b, "%s{model=\"", metric);
    label(b, model);
    http_buf_puts(b, "\"");
}

static void histogram(struct http_buf *b, const char *name, const char *labels, const struct metrics_histogram *h,
                      const double *bounds, unsigned n)
{
    uint64_t cum = 0;
    for (unsigned i = 0; i < n; i++) {
        cum += h->buckets[i];
        http_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, *labels ? "," : "", bounds[i],
                        (unsigned long long)cum);
    }
    http_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, *labels ? "," : "",
                    (unsigned long long)h->count);
    http_buf_printf(b, "%s_sum{%s} %.9g\n%s_count{%s} %llu\n", name, labels, h->sum, name, labels,
                    (unsigned long long)h->count);
}

static void add_model(struct metrics_model *to, const struct metrics_model *from)
{
    for (unsigned r = 0; r < METRICS_RESULTS; r++)
        to->results[r] += from->results[r];
    to->deadline_met += from->deadline_met;
    to->deadline_missed += from->deadline_missed;
    for (unsigned i = 0; i < METRICS_LATENCY_BUCKETS; i++)
        to->latency.buckets[i] += from->latency.buckets[i];
    to->latency.count += from->latency.count;
    to->latency.sum += from->latency.sum;
    to->outstanding += from->outstanding;
}

/* Per name: the sum of its ids. NULL if out of memory. */
static struct metrics_model *by_name(const struct prom_source *src)
{
    struct metrics_model *sum = calloc(src->n_names + 1, sizeof *sum);
    const struct controller_metrics *m = src->metrics;
    for (unsigned id = 0; sum && id < src->n_ids && id < m->n_models; id++)
        if (src->name_of_id[id] < src->n_names)
            add_model(&sum[src->name_of_id[id]], &m->models[id]);
    return sum;
}

static void render_requests(struct http_buf *b, const struct prom_source *src, const struct metrics_model *sum)
{
    header(b, "clockwork_requests_total", "counter", "Inference requests answered, by model and result");
    for (unsigned n = 0; n < src->n_names; n++)
        for (unsigned r = 0; r < METRICS_RESULTS; r++)
            if (sum[n].results[r] || r == CLIENT_SUCCESS) {
                model_labels(b, "clockwork_requests_total", src->names[n]);
                http_buf_printf(b, ",result=\"%s\"} %llu\n", RESULT_NAMES[r], (unsigned long long)sum[n].results[r]);
            }
    header(b, "clockwork_request_deadlines_total", "counter",
           "Inference requests answered, by model and whether they met their deadline (SLO)");
    for (unsigned n = 0; n < src->n_names; n++) {
        model_labels(b, "clockwork_request_deadlines_total", src->names[n]);
        http_buf_printf(b, ",met=\"true\"} %llu\n", (unsigned long long)sum[n].deadline_met);
        model_labels(b, "clockwork_request_deadlines_total", src->names[n]);
        http_buf_printf(b, ",met=\"false\"} %llu\n", (unsigned long long)sum[n].deadline_missed);
    }
    header(b, "clockwork_request_latency_seconds", "histogram",
           "Inference request latency at the controller (arrival to answer), by model");
    for (unsigned n = 0; n < src->n_names; n++) {
        struct http_buf l;
        http_buf_init(&l);
        http_buf_puts(&l, "model=\"");
        label(&l, src->names[n]);
        http_buf_puts(&l, "\"");
        if (!http_buf_failed(&l))
            histogram(b, "clockwork_request_latency_seconds", l.data, &sum[n].latency, METRICS_LATENCY_BOUNDS,
                      METRICS_LATENCY_BUCKETS);
        http_buf_free(&l);
    }
    header(b, "clockwork_requests_outstanding", "gauge",
           "Inference requests admitted to the scheduler and not answered yet (queued or running), by model");
    for (unsigned n = 0; n < src->n_names; n++) {
        model_labels(b, "clockwork_requests_outstanding", src->names[n]);
        http_buf_printf(b, "} %llu\n", (unsigned long long)sum[n].outstanding);
    }
    header(b, "clockwork_model_copies", "gauge", "Model copies (ids) by model and state");
    for (unsigned n = 0; n < src->n_names; n++) {
        model_labels(b, "clockwork_model_copies", src->names[n]);
        http_buf_printf(b, ",state=\"serving\"} %u\n", src->copies_serving[n]);
        model_labels(b, "clockwork_model_copies", src->names[n]);
        http_buf_printf(b, ",state=\"unloaded\"} %u\n", src->copies_unloaded[n]);
    }
}

static void render_actions(struct http_buf *b, const struct controller_metrics *m)
{
    header(b, "clockwork_actions_total", "counter", "Worker actions completed, by type and status");
    for (unsigned t = 0; t < METRICS_ACTION_TYPES; t++)
        for (unsigned s = 0; s < METRICS_ACTION_STATUSES; s++)
            if (m->actions[t][s] || s == ACTION_SUCCESS)
                http_buf_printf(b, "clockwork_actions_total{type=\"%s\",status=\"%u\",reason=\"%s\"} %llu\n",
                                ACTION_NAMES[t], s, action_status_name((int)s), (unsigned long long)m->actions[t][s]);
    header(b, "clockwork_prediction_error_seconds", "histogram",
           "|expected - actual completion| of successful actions, by action type");
    histogram(b, "clockwork_prediction_error_seconds", "action=\"infer\"", &m->prediction_error[0],
              METRICS_ERROR_BOUNDS, METRICS_ERROR_BUCKETS);
    histogram(b, "clockwork_prediction_error_seconds", "action=\"load_weights\"", &m->prediction_error[1],
              METRICS_ERROR_BOUNDS, METRICS_ERROR_BUCKETS);
}

static void gpu_metric(struct http_buf *b, const struct controller_metrics *m, const char *name, const char *type,
                       const char *help, int which)
{
    header(b, name, type, help);
    for (unsigned i = 0; i < m->n_gpus; i++) {
        const struct metrics_gpu *g = &m->gpus[i];
        http_buf_printf(b, "%s{worker=\"%u\",gpu=\"%u\"} ", name, g->worker_id, g->gpu_id);
        switch (which) {
        case 0: http_buf_printf(b, "%.6g\n", g->utilization); break;
        case 1: http_buf_printf(b, "%.9g\n", (double)g->busy_ns / 1e9); break;
        case 2: http_buf_printf(b, "%u\n", g->pages_used); break;
        case 3: http_buf_printf(b, "%u\n", g->total_pages); break;
        default: http_buf_printf(b, "%u\n", g->models_loaded); break;
        }
    }
}

static void render_gpus(struct http_buf *b, const struct controller_metrics *m)
{
    gpu_metric(b, m, "clockwork_gpu_utilization", "gauge", "Fraction of the last second a GPU spent executing", 0);
    gpu_metric(b, m, "clockwork_gpu_busy_seconds_total", "counter", "Time a GPU spent executing inferences", 1);
    gpu_metric(b, m, "clockwork_gpu_weights_pages_used", "gauge", "Weights cache pages holding loaded models", 2);
    gpu_metric(b, m, "clockwork_gpu_weights_pages_total", "gauge", "Weights cache pages of a GPU", 3);
    gpu_metric(b, m, "clockwork_gpu_models_loaded", "gauge", "Models whose weights are loaded on a GPU", 4);
}

static void render_cluster(struct http_buf *b, const struct prom_source *src)
{
    header(b, "clockwork_controller_serving", "gauge", "1 once start-up is over and the scheduler runs");
    http_buf_printf(b, "clockwork_controller_serving %d\n", src->serving ? 1 : 0);
    header(b, "clockwork_worker_up", "gauge", "1 while a worker is connected and in service");
    for (unsigned i = 0; i < src->n_workers; i++) {
        http_buf_printf(b, "clockwork_worker_up{worker=\"%u\",address=\"", i);
        label(b, src->workers[i].address);
        http_buf_printf(b, "\"} %d\n", src->workers[i].up ? 1 : 0);
    }
}

static void render_http(struct http_buf *b, const struct http_stats *h)
{
    static const char *const PORTS[2] = {"api", "metrics"};
    header(b, "clockwork_http_requests_total", "counter", "HTTP requests answered, by endpoint and status code");
    for (unsigned i = 0; i < h->n_requests; i++)
        http_buf_printf(b, "clockwork_http_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n", h->requests[i].endpoint,
                        h->requests[i].code, (unsigned long long)h->requests[i].count);
    header(b, "clockwork_http_connections", "gauge", "HTTP connections open, by port");
    for (unsigned p = 0; p < 2; p++)
        http_buf_printf(b, "clockwork_http_connections{port=\"%s\"} %u\n", PORTS[p], h->connections[p]);
    header(b, "clockwork_http_connections_refused_total", "counter",
           "HTTP connections closed at once because the port had CLOCKWORK_HTTP_MAX_CONNECTIONS open");
    for (unsigned p = 0; p < 2; p++)
        http_buf_printf(b, "clockwork_http_connections_refused_total{port=\"%s\"} %llu\n", PORTS[p],
                        (unsigned long long)h->connections_refused[p]);
    header(b, "clockwork_http_replies_dropped_total", "counter",
           "HTTP replies dropped because their client went away before they could be sent");
    http_buf_printf(b, "clockwork_http_replies_dropped_total %llu\n", (unsigned long long)h->replies_dropped);
}

void prom_render(struct http_buf *b, const struct prom_source *src)
{
    struct metrics_model *sum = by_name(src);
    if (!sum) {
        b->failed = 1;
        return;
    }
    render_cluster(b, src);
    render_requests(b, src, sum);
    render_actions(b, src->metrics);
    render_gpus(b, src->metrics);
    render_http(b, src->http);
    free(sum);
}
