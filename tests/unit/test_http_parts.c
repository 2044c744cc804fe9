/* The HTTP front end's pure parts: the routes of the KServe v2 API (percent-decoding, wrong
 * methods, the metrics port), the controller's metrics totals (controller/metrics.h: results,
 * deadlines, latency histograms, actions, weights residency per GPU, prediction errors) and
 * their Prometheus text (model ids summed into names, cumulative buckets, escaped labels). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/status.h"
#include "controller/http/http_route.h"
#include "controller/http/prom.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct http_route route(const char *method, const char *path, int metrics_port)
{
    struct http_route r;
    http_route_parse(method, strlen(method), path, strlen(path), metrics_port, &r);
    return r;
}

static void test_routes(void **state)
{
    (void)state;
    assert_int_equal(route("GET", "/v2/health/live", 0).kind, HTTP_ROUTE_LIVE);
    assert_int_equal(route("GET", "/v2/health/ready?x=1", 0).kind, HTTP_ROUTE_READY);
    assert_int_equal(route("GET", "/v2", 0).kind, HTTP_ROUTE_SERVER);
    assert_int_equal(route("GET", "/v2/", 0).kind, HTTP_ROUTE_SERVER);
    struct http_route r = route("GET", "/v2/models/resnet50_v2", 0);
    assert_int_equal(r.kind, HTTP_ROUTE_MODEL);
    assert_string_equal(r.name, "resnet50_v2");
    assert_string_equal(r.version, "");
    r = route("POST", "/v2/models/a%2Eb/versions/12/infer", 0);
    assert_int_equal(r.kind, HTTP_ROUTE_INFER);
    assert_string_equal(r.name, "a.b");
    assert_string_equal(r.version, "12");
    assert_int_equal(route("GET", "/v2/models/m/versions/3/ready", 0).kind, HTTP_ROUTE_MODEL_READY);
    assert_int_equal(route("GET", "/v2/models/m/ready", 0).kind, HTTP_ROUTE_MODEL_READY);
    r = route("GET", "/v2/models/m/infer", 0);
    assert_int_equal(r.kind, HTTP_ROUTE_BAD_METHOD);
    assert_string_equal(r.allowed, "POST");
    assert_int_equal(route("POST", "/v2/repository/index", 0).kind, HTTP_ROUTE_REPO_INDEX);
    r = route("POST", "/v2/repository/models/..%2Fetc/load", 0);
    assert_int_equal(r.kind, HTTP_ROUTE_REPO_LOAD);
    assert_string_equal(r.name, "../etc"); /* decoded: the repository refuses such names */
    assert_int_equal(route("POST", "/v2/repository/models/x/unload", 0).kind, HTTP_ROUTE_REPO_UNLOAD);
    assert_int_equal(route("GET", "/metrics", 0).kind, HTTP_ROUTE_NONE); /* only on the metrics port */
    assert_int_equal(route("GET", "/metrics", 1).kind, HTTP_ROUTE_METRICS);
    assert_int_equal(route("GET", "/v2/health/live", 1).kind, HTTP_ROUTE_NONE);
    assert_int_equal(route("GET", "/v2/models/a%zz", 0).kind, HTTP_ROUTE_NONE);
    assert_int_equal(route("GET", "/v2/models/a%00b", 0).kind, HTTP_ROUTE_NONE);
    assert_int_equal(route("GET", "/v2//health/live", 0).kind, HTTP_ROUTE_NONE);
    assert_int_equal(route("GET", "/v2/models/m/versions/1/2/3/4/5/6", 0).kind, HTTP_ROUTE_NONE);
    assert_int_equal(route("GET", "v2/health/live", 0).kind, HTTP_ROUTE_NONE);
    assert_int_equal(route("GET", "", 0).kind, HTTP_ROUTE_NONE);
    assert_string_equal(http_route_endpoint(HTTP_ROUTE_INFER), "infer");
}

/* Two GPUs of worker 0 and three model ids. */
static void fill(struct controller_metrics *m)
{
    metrics_init(m);
    assert_int_equal(metrics_grow_models(m, 3), 0);
    struct sched_gpu gpus[2] = {{.worker_id = 0, .gpu_id = 0, .total_pages = 100},
                                {.worker_id = 0, .gpu_id = 1, .total_pages = 100}};
    assert_int_equal(metrics_set_gpus(m, gpus, 2), 0);
}

static void test_metrics_totals(void **state)
{
    (void)state;
    struct controller_metrics m;
    fill(&m);
    struct request_row ok = {.model_id = 1, .result = CLIENT_SUCCESS, .latency = 3000000, .deadline_met = 1};
    struct request_row late = {.model_id = 2, .result = CLIENT_TIMEOUT, .latency = 200000000};
    metrics_on_request_row(&m, &ok);
    metrics_on_request_row(&m, &late);
    metrics_on_request_row(&m, &(struct request_row){.model_id = 7}); /* unknown id: ignored */
    assert_int_equal(m.models[1].results[CLIENT_SUCCESS], 1);
    assert_int_equal(m.models[1].deadline_met, 1);
    assert_int_equal(m.models[2].deadline_missed, 1);
    assert_int_equal(m.models[1].latency.buckets[2], 1); /* 3 ms: <= 5 ms */
    assert_int_equal(m.models[2].latency.buckets[7], 1); /* 200 ms: <= 250 ms */
    metrics_on_admitted(&m, 1);
    metrics_on_admitted(&m, 1);
    metrics_on_answered(&m, 1);
    assert_int_equal(m.models[1].outstanding, 1);

    struct action_row load = {.action_type = 2,
                              .status = 0,
                              .worker_id = 0,
                              .gpu_id = 1,
                              .model_id = 2,
                              .expected_exec_complete = 1000,
                              .worker_exec_complete = 1500};
    metrics_on_action_row(&m, &load, 7);
    metrics_on_action_row(&m, &load, 7); /* loaded twice: counted once */
    assert_int_equal(m.gpus[1].pages_used, 7);
    assert_int_equal(m.gpus[1].models_loaded, 1);
    assert_int_equal(m.actions[0][0], 2);
    assert_int_equal(m.prediction_error[1].count, 2);
    assert_int_equal(m.prediction_error[1].buckets[0], 2); /* 500 ns <= 10 us */
    struct action_row evict = {.action_type = 4, .status = 63, .worker_id = 0, .gpu_id = 1, .model_id = 2};
    metrics_on_action_row(&m, &evict, 7);
    assert_int_equal(m.gpus[1].pages_used, 0);
    assert_int_equal(m.actions[2][63], 1);
    metrics_on_action_row(&m, &load, 7);
    metrics_on_worker_reset(&m, 0);
    assert_int_equal(m.gpus[1].models_loaded, 0);
    struct sched_gpu_stats st = {.worker_id = 0, .gpu_id = 0, .infer_busy_ns = 250000000};
    metrics_on_gpu_stats(&m, &st, 1, 1000000000);
    assert_true(m.gpus[0].utilization == 0.25);
    assert_int_equal(m.gpus[0].busy_ns, 250000000);
    metrics_free(&m);
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

static void test_prometheus_text(void **state)
{
    (void)state;
    struct controller_metrics m;
    fill(&m);
    for (unsigned id = 0; id < 3; id++) /* ids 0 and 1 are copies of one model */
        metrics_on_request_row(
            &m, &(struct request_row){.model_id = id, .result = CLIENT_SUCCESS, .latency = 2000000, .deadline_met = 1});
    metrics_on_request_row(&m, &(struct request_row){.model_id = 1, .result = CLIENT_TIMEOUT, .latency = 20000000});
    unsigned name_of_id[3] = {0, 0, 1}, serving[2] = {2, 0}, unloaded[2] = {0, 1};
    const char *names[2] = {"resnet", "we\"ird"};
    struct prom_worker workers[1] = {{"host:1", 1}};
    struct http_stats hs = {0};
    http_stats_count(&hs, "infer", 200);
    http_stats_count(&hs, "infer", 200);
    http_stats_count(&hs, "infer", 503);
    struct prom_source src = {.metrics = &m,
                              .name_of_id = name_of_id,
                              .n_ids = 3,
                              .names = names,
                              .n_names = 2,
                              .copies_serving = serving,
                              .copies_unloaded = unloaded,
                              .serving = 1,
                              .workers = workers,
                              .n_workers = 1,
                              .http = &hs};
    struct http_buf b;
    http_buf_init(&b);
    prom_render(&b, &src);
    assert_false(http_buf_failed(&b));
    const char *t = b.data;
    assert_true(has_line(t, "# TYPE clockwork_requests_total counter"));
    assert_true(has_line(t, "clockwork_requests_total{model=\"resnet\",result=\"success\"} 2"));
    assert_true(has_line(t, "clockwork_requests_total{model=\"resnet\",result=\"timeout\"} 1"));
    assert_true(has_line(t, "clockwork_requests_total{model=\"we\\\"ird\",result=\"success\"} 1"));
    assert_true(has_line(t, "clockwork_request_deadlines_total{model=\"resnet\",met=\"false\"} 1"));
    assert_true(has_line(t, "clockwork_request_latency_seconds_bucket{model=\"resnet\",le=\"0.0025\"} 2"));
    assert_true(has_line(t, "clockwork_request_latency_seconds_bucket{model=\"resnet\",le=\"0.025\"} 3"));
    assert_true(has_line(t, "clockwork_request_latency_seconds_bucket{model=\"resnet\",le=\"+Inf\"} 3"));
    assert_true(has_line(t, "clockwork_request_latency_seconds_count{model=\"resnet\"} 3"));
    assert_true(has_line(t, "clockwork_model_copies{model=\"we\\\"ird\",state=\"unloaded\"} 1"));
    assert_true(has_line(t, "clockwork_worker_up{worker=\"0\",address=\"host:1\"} 1"));
    assert_true(has_line(t, "clockwork_gpu_weights_pages_total{worker=\"0\",gpu=\"1\"} 100"));
    assert_true(has_line(t, "clockwork_http_requests_total{endpoint=\"infer\",code=\"200\"} 2"));
    assert_true(has_line(t, "clockwork_actions_total{type=\"infer\",status=\"0\",reason=\"success\"} 0"));
    assert_true(has_line(t, "clockwork_prediction_error_seconds_count{action=\"infer\"} 0"));
    /* every sample line belongs to a metric announced by # TYPE */
    for (const char *line = t; *line; line = strchr(line, '\n') + 1) {
        if (*line != '#') {
            char name[128], type_line[160];
            assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
            snprintf(type_line, sizeof type_line, "# TYPE %s ", name);
            if (!strstr(t, type_line)) {
                char *cut = strstr(name, "_bucket") ? strstr(name, "_bucket")
                            : strstr(name, "_sum")  ? strstr(name, "_sum")
                                                    : strstr(name, "_count");
                assert_non_null(cut);
                *cut = '\0';
                snprintf(type_line, sizeof type_line, "# TYPE %s histogram", name);
                assert_non_null(strstr(t, type_line));
            }
        }
        if (!strchr(line, '\n'))
            break;
    }
    http_buf_free(&b);
    metrics_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_metrics_totals),
        cmocka_unit_test(test_prometheus_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
