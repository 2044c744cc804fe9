/* Controller pieces that need no network: option parsing, telemetry rows, and worker result
 * decoding with clock-skew correction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/status.h"
#include "controller/options.h"
#include "controller/telemetry.h"
#include "controller/worker_link.h"
#include "proto/clockwork.pb-c.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(struct controller_options *o, const char *line, char *err)
{
    char buf[512], *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *t = strtok(buf, " "); t && argc < 32; t = strtok(NULL, " "))
        argv[argc++] = t;
    return controller_options_parse(o, argc, argv, err, 256);
}

static void test_options_fig7(void **state)
{
    (void)state;
    static struct controller_options o;
    char err[256];
    unsetenv("CLOCKWORK_LOG_DIR");
    assert_int_equal(
        parse(&o, "controller INFER5 c3:12345,c4:12345,c5:12345,c6:12345,c7:12345,c8:12345 0 6 5000000", err),
        OPTIONS_OK);
    assert_int_equal(o.n_workers, 6);
    assert_string_equal(o.workers[5].host, "c8");
    assert_int_equal(o.workers[5].port, 12345);
    assert_int_equal(o.sched.generate_inputs, 0);
    assert_int_equal(o.sched.max_gpus, 6);
    assert_int_equal(o.sched.schedule_ahead, 5000000);
    assert_int_equal(o.sched.default_slo, 100000000); /* defaults kept */
    assert_int_equal(o.sched.max_exec, 25000000);
    assert_int_equal(o.sched.max_batch, 16);
    assert_string_equal(o.log_dir, "/local");
    assert_int_equal(o.client_port, 12346);
}

static void test_options_all_and_errors(void **state)
{
    (void)state;
    static struct controller_options o;
    char err[256];
    assert_int_equal(parse(&o, "controller INFER4 h:1 true 2 3 4 5 8", err), OPTIONS_OK);
    assert_int_equal(o.sched.generate_inputs, 1);
    assert_int_equal(o.sched.default_slo, 4);
    assert_int_equal(o.sched.max_exec, 5);
    assert_int_equal(o.sched.max_batch, 8);
    assert_int_equal(parse(&o, "controller -h", err), OPTIONS_HELP);
    assert_int_equal(parse(&o, "controller", err), OPTIONS_ERROR);
    assert_int_equal(parse(&o, "controller FOO h:1", err), OPTIONS_ERROR);
    assert_non_null(strstr(err, "FOO"));
    assert_int_equal(parse(&o, "controller INFER5 h:notaport", err), OPTIONS_ERROR);
    assert_int_equal(parse(&o, "controller INFER5 h:1 maybe", err), OPTIONS_ERROR);
    assert_non_null(strstr(err, "generate_inputs"));
    assert_int_equal(parse(&o, "controller INFER5 h:1 0 0", err), OPTIONS_ERROR); /* max_gpus 0 */
    assert_int_equal(parse(&o, "controller INFER5 h:1 0 1 -5", err), OPTIONS_ERROR);
    assert_int_equal(parse(&o, "controller INFER5 h:1 0 1 2 3 4 5 6", err), OPTIONS_ERROR);
}

/* The test controllers: DIRECT and ECHO take no options, STRESS its own. */
static void test_options_test_controllers(void **state)
{
    (void)state;
    static struct controller_options o;
    char err[256];
    assert_int_equal(parse(&o, "controller ECHO h:1", err), OPTIONS_OK);
    assert_int_equal(o.sched.type, SCHED_TYPE_ECHO);
    assert_int_equal(o.preload_copies, 0);
    assert_int_equal(parse(&o, "controller DIRECT h:1,g:2", err), OPTIONS_OK);
    assert_int_equal(o.sched.type, SCHED_TYPE_DIRECT);
    assert_int_equal(parse(&o, "controller DIRECT h:1 0", err), OPTIONS_ERROR);
    assert_non_null(strstr(err, "DIRECT takes no options"));
    assert_int_equal(parse(&o, "controller INFER5 h:1", err), OPTIONS_OK);
    assert_int_equal(o.sched.type, SCHED_TYPE_INFER5);
    setenv("CLOCKWORK_MODEL_DIR", "/zoo", 1);
    assert_int_equal(parse(&o, "controller STRESS h:1", err), OPTIONS_OK);
    assert_int_equal(o.sched.type, SCHED_TYPE_STRESS);
    assert_string_equal(o.preload_path, "/zoo/resnet50_v2/model"); /* a zoo name */
    assert_int_equal(o.preload_copies, 2000);
    assert_int_equal(o.sched.stress.max_models_on_gpu, 0); /* 0: the default, 200 */
    assert_int_equal(parse(&o, "controller STRESS h:1 /m/x/model 10 4 3 false 0", err), OPTIONS_OK);
    assert_string_equal(o.preload_path, "/m/x/model"); /* a path prefix */
    assert_int_equal(o.preload_copies, 10);
    assert_int_equal(o.sched.stress.max_models_on_gpu, 4);
    assert_int_equal(o.sched.stress.max_outstanding, 3);
    assert_int_equal(o.sched.stress.no_infer, 1);
    assert_int_equal(o.sched.stress.no_load, 1);
    assert_int_equal(parse(&o, "controller STRESS h:1 m 0", err), OPTIONS_ERROR);
    assert_non_null(strstr(err, "copies"));
    assert_int_equal(parse(&o, "controller STRESS h:1 m 1 2 3 yes no extra", err), OPTIONS_ERROR);
    unsetenv("CLOCKWORK_MODEL_DIR");
}

/* The HTTP front end's ports and limits: defaults, flags anywhere, the environment, strict errors. */
static void test_options_http(void **state)
{
    (void)state;
    static struct controller_options o;
    char err[256];
    const char *vars[] = {"CLOCKWORK_HTTP_PORT", "CLOCKWORK_METRICS_PORT", "CLOCKWORK_HTTP_MAX_CONNECTIONS",
                          "CLOCKWORK_HTTP_MAX_BODY_MB", "CLOCKWORK_HTTP_TIMEOUT_MS"};
    for (unsigned i = 0; i < 5; i++)
        unsetenv(vars[i]);
    assert_int_equal(parse(&o, "controller INFER5 h:1 0 6", err), OPTIONS_OK);
    assert_int_equal(o.http.port, 8000);
    assert_int_equal(o.http.metrics_port, 8002);
    assert_int_equal(o.http.max_connections, 256);
    assert_int_equal(o.http.max_body, 64 << 20);
    assert_int_equal(o.http.timeout_ms, 10000);
    assert_int_equal(parse(&o, "controller --http-port 9000 INFER5 h:1 0 --metrics-port=0 6", err), OPTIONS_OK);
    assert_int_equal(o.http.port, 9000);
    assert_int_equal(o.http.metrics_port, 0);
    assert_int_equal(o.sched.max_gpus, 6); /* the positional options are unaffected */
    setenv("CLOCKWORK_HTTP_PORT", "0", 1);
    setenv("CLOCKWORK_HTTP_MAX_BODY_MB", "2", 1);
    setenv("CLOCKWORK_HTTP_TIMEOUT_MS", "500", 1);
    assert_int_equal(parse(&o, "controller INFER5 h:1", err), OPTIONS_OK);
    assert_int_equal(o.http.port, 0);
    assert_int_equal(o.http.max_body, 2 << 20);
    assert_int_equal(o.http.timeout_ms, 500);
    assert_int_equal(parse(&o, "controller INFER5 h:1 --http-port 8100", err), OPTIONS_OK); /* flag over env */
    assert_int_equal(o.http.port, 8100);
    assert_int_equal(parse(&o, "controller INFER5 h:1 --http-port 70000", err), OPTIONS_ERROR);
    assert_non_null(strstr(err, "--http-port"));
    assert_int_equal(parse(&o, "controller INFER5 h:1 --metrics-port", err), OPTIONS_ERROR);
    assert_int_equal(parse(&o, "controller INFER5 h:1 --http-port 8001 --metrics-port 8001", err), OPTIONS_ERROR);
    setenv("CLOCKWORK_HTTP_MAX_CONNECTIONS", "lots", 1);
    assert_int_equal(parse(&o, "controller INFER5 h:1", err), OPTIONS_ERROR);
    assert_non_null(strstr(err, "CLOCKWORK_HTTP_MAX_CONNECTIONS=lots"));
    for (unsigned i = 0; i < 5; i++)
        unsetenv(vars[i]);
}

/* One TYPES table for every controller: the schedulers INFER5 (INFER4) and INFER6 take the
 * scheduler options and are what the simulator runs; the test controllers are live only. INFER6
 * is woken exactly at its wake-ups, the others on the original's 1 ms tick. */
static void test_types(void **state)
{
    (void)state;
    static struct controller_options o;
    char err[256];
    static const struct {
        const char *name;
        enum sched_type type;
        int scheduler;
        uint64_t tick_ns;
    } types[] = {
        {"INFER5", SCHED_TYPE_INFER5, 1, 1000000}, {"INFER4", SCHED_TYPE_INFER5, 1, 1000000},
        {"INFER6", SCHED_TYPE_INFER6, 1, 0},       {"ECHO", SCHED_TYPE_ECHO, 0, 1000000},
        {"DIRECT", SCHED_TYPE_DIRECT, 0, 1000000}, {"STRESS", SCHED_TYPE_STRESS, 0, 1000000},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        enum sched_type t;
        assert_int_equal(sched_type_parse(types[i].name, &t), 0);
        assert_int_equal(t, types[i].type);
        assert_int_equal(sched_type_is_scheduler(t), types[i].scheduler);
        assert_int_equal(sched_type_tick_ns(t), types[i].tick_ns);
        assert_int_equal(controller_check_type(types[i].name, err, sizeof err), types[i].scheduler ? 0 : -1);
        if (!types[i].scheduler)
            assert_non_null(strstr(err, "nothing to simulate"));
    }
    assert_string_equal(sched_type_name(SCHED_TYPE_INFER6), "INFER6");
    assert_int_equal(controller_check_type("INFER9", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown controller type 'INFER9'"));
    assert_int_equal(parse(&o, "controller INFER6 h:1 1 2 3000000 4000000 5000000 8", err), OPTIONS_OK);
    assert_int_equal(o.sched.type, SCHED_TYPE_INFER6);
    assert_int_equal(o.sched.max_batch, 8);
}

static void test_telemetry_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/cw-telemetry-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[256];
    struct telemetry_writer *w = telemetry_open(dir, err, sizeof err);
    assert_non_null(w);
    struct request_row r = {.t = 1000,
                            .request_id = 7,
                            .result = CLIENT_TIMEOUT,
                            .user_id = 2,
                            .model_id = 3,
                            .slo_factor = 1.5,
                            .latency = 99,
                            .deadline = 4350000,
                            .deadline_met = 0,
                            .arrival_count = 5,
                            .departure_count = 4,
                            .is_coldstart = 1};
    struct action_row a = {.t = 2000,
                           .action_id = 9,
                           .action_type = 3 /* wire infer */,
                           .status = 0,
                           .batch_size = 4,
                           .expected_exec_duration = 7500000,
                           .worker_exec_complete = -12,
                           .goodput = 0.75,
                           .requests_queued = 1,
                           .copies_loaded = 2};
    telemetry_write_request(w, &r);
    telemetry_write_action(w, &a);
    telemetry_close(w);
    char path[256], line[1024];
    snprintf(path, sizeof path, "%s/clockwork_request_log.tsv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    line[strcspn(line, "\n")] = 0;
    assert_string_equal(line, REQUEST_LOG_HEADER);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "1000\t7\t4\t2\t3\t1.5\t99\t4350000\t0\t5\t4\t1\n");
    fclose(f);
    unlink(path);
    snprintf(path, sizeof path, "%s/clockwork_action_log.tsv", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    line[strcspn(line, "\n")] = 0;
    assert_string_equal(line, ACTION_LOG_HEADER);
    assert_non_null(fgets(line, sizeof line, f));
    /* infer is 2 in the original's telemetry numbering; 23 columns */
    assert_string_equal(line, "2000\t9\t2\t0\t0\t0\t0\t4\t7500000\t0\t0\t-12\t0\t0\t0\t0\t0\t0\t0\t0\t0.75\t1\t2\n");
    fclose(f);
    unlink(path);
    rmdir(dir);
    assert_null(telemetry_open("/nonexistent/dir", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dir"));
}

static void test_decode_infer_result_maps_clock(void **state)
{
    (void)state;
    Clockwork__TimingProto t = CLOCKWORK__TIMING_PROTO__INIT;
    t.begin = 1000000;
    t.end = 3900000;
    t.duration = 2900000;
    Clockwork__InferResultProto p = CLOCKWORK__INFER_RESULT_PROTO__INIT;
    p.action_id = 42;
    p.copy_input_timing = p.exec_timing = p.copy_output_timing = &t;
    p.gpu_clock = 1380;
    p.action_received = 500000;
    p.result_sent = 4000000;
    uint8_t buf[256];
    size_t n = protobuf_c_message_pack(&p.base, buf);
    struct net_msg m = {.type = 103, .header = buf, .header_len = n, .body = (const uint8_t *)"out", .body_len = 3};
    struct worker_result r;
    assert_int_equal(worker_result_decode(&m, 250, &r), 0);
    assert_int_equal(r.sched.action_id, 42);
    assert_int_equal(r.sched.worker_exec_end, 3900250);
    assert_int_equal(r.sched.worker_exec_duration, 2900000);
    assert_int_equal(r.sched.worker_action_received, 500250);
    assert_int_equal(r.sched.output_len, 3);
    worker_result_free(&r);
}

/* A worker's timestamps are peer input: any value maps without overflow (two's complement). */
static void test_decode_maps_extreme_timestamps(void **state)
{
    (void)state;
    Clockwork__TimingProto t = CLOCKWORK__TIMING_PROTO__INIT;
    t.begin = (uint64_t)INT64_MAX;
    t.end = UINT64_MAX;
    Clockwork__LoadWeightsResultProto p = CLOCKWORK__LOAD_WEIGHTS_RESULT_PROTO__INIT;
    p.action_id = 1;
    p.timing = &t;
    p.action_received = (uint64_t)INT64_MAX + 1;
    p.result_sent = 1;
    uint8_t buf[256];
    size_t n = protobuf_c_message_pack(&p.base, buf);
    struct net_msg m = {.type = 102, .header = buf, .header_len = n};
    struct worker_result r;
    assert_int_equal(worker_result_decode(&m, INT64_MAX, &r), 0);
    assert_int_equal(r.sched.worker_exec_begin, (uint64_t)INT64_MAX + (uint64_t)INT64_MAX);
    assert_int_equal(r.sched.worker_action_received, (uint64_t)INT64_MAX + 1 + (uint64_t)INT64_MAX);
    worker_result_free(&r);
    assert_int_equal(worker_result_decode(&m, INT64_MIN, &r), 0);
    assert_int_equal(r.sched.worker_result_sent, 1 + (uint64_t)INT64_MIN);
    worker_result_free(&r);
}

static void test_decode_rejects_bad_results(void **state)
{
    (void)state;
    struct worker_result r;
    struct net_msg m = {.type = 103, .header = (const uint8_t *)"\xff\xff\xff", .header_len = 3};
    assert_int_equal(worker_result_decode(&m, 0, &r), -1);
    assert_non_null(strstr(r.message, "unparsable"));
    m.type = 99;
    assert_int_equal(worker_result_decode(&m, 0, &r), -1);
    assert_non_null(strstr(r.message, "unknown result type"));
    Clockwork__ErrorResultProto e = CLOCKWORK__ERROR_RESULT_PROTO__INIT;
    e.action_id = 3;
    e.action_type = 2;
    e.status = ACTION_COULD_NOT_START_IN_TIME;
    e.message = "too late";
    uint8_t buf[128];
    m.type = 100;
    m.header = buf;
    m.header_len = protobuf_c_message_pack(&e.base, buf);
    assert_int_equal(worker_result_decode(&m, 0, &r), 0);
    assert_int_equal(r.sched.status, ACTION_COULD_NOT_START_IN_TIME);
    assert_string_equal(r.message, "too late");
}

/* The rows as the writer formatted them with fprintf before it formatted by hand: the
 * reference the TSV readers (tools/analyze_telemetry.py, the plotter) were written against. */
static void reference_request(char *out, size_t n, const struct request_row *r)
{
    snprintf(out, n,
             "%" PRIu64 "\t%" PRIu64 "\t%d\t%d\t%u\t%g\t%" PRIu64 "\t%" PRIu64 "\t%d\t%" PRIu64 "\t%" PRIu64 "\t%d\n",
             r->t, r->request_id, r->result, r->user_id, r->model_id, r->slo_factor, r->latency, r->deadline,
             r->deadline_met, r->arrival_count, r->departure_count, r->is_coldstart);
}

static void reference_action(char *out, size_t n, const struct action_row *a)
{
    snprintf(out, n,
             "%" PRIu64 "\t%" PRIu64 "\t%d\t%d\t%u\t%u\t%u\t%u\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
             "\t%u\t%u\t%u\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%g\t%u\t%u\n",
             a->t, a->action_id, a->action_type - 1, a->status, a->worker_id, a->gpu_id, a->model_id, a->batch_size,
             a->expected_exec_duration, a->worker_exec_duration, a->expected_exec_complete, a->worker_exec_complete,
             a->expected_gpu_clock, a->worker_gpu_clock_before, a->worker_gpu_clock, a->worker_copy_output_complete,
             a->worker_action_received, a->worker_result_sent, a->controller_result_enqueue,
             a->controller_action_duration, a->goodput, a->requests_queued, a->copies_loaded);
}

static uint64_t rand_u64(unsigned *seed)
{
    uint64_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 16 | (uint64_t)(rand_r(seed) & 0xffff);
    switch (rand_r(seed) % 6) { /* small, medium, extreme and full-width values */
    case 0: return v % 10;
    case 1: return v % 100000;
    case 2: return v % 10000000000ull;
    case 3: return rand_r(seed) % 2 ? UINT64_MAX : 0;
    case 4: return (uint64_t)INT64_MIN + (v % 3);
    default: return v;
    }
}

static double rand_double(unsigned *seed)
{
    static const double special[] = {0,        1,    10,   1.5,  0.75,   1.0 / 3, 86.4976, 999999, 1e6,
                                     123456.7, 1e-5, -0.0, -2.5, 100000, 2.25,    3.375,   1e300,  0.1};
    if (rand_r(seed) % 2)
        return special[rand_r(seed) % (sizeof special / sizeof special[0])];
    return (double)(rand_r(seed) % 2000000) / (double)(1 + rand_r(seed) % 64);
}

static void test_telemetry_format_matches_printf(void **state)
{
    (void)state;
    unsigned seed = 42;
    char got[TELEMETRY_ROW_MAX], want[TELEMETRY_ROW_MAX];
    for (int i = 0; i < 20000; i++) {
        struct request_row r = {rand_u64(&seed),      rand_u64(&seed),           (int)rand_u64(&seed),
                                (int)rand_u64(&seed), (unsigned)rand_u64(&seed), rand_double(&seed),
                                rand_u64(&seed),      rand_u64(&seed),           (int)rand_u64(&seed),
                                rand_u64(&seed),      rand_u64(&seed),           (int)rand_u64(&seed)};
        reference_request(want, sizeof want, &r);
        assert_int_equal(telemetry_format_request(got, &r), strlen(want));
        assert_string_equal(got, want);
        struct action_row a = {
            rand_u64(&seed),           rand_u64(&seed),           (int)rand_u64(&seed),      (int)rand_u64(&seed),
            (unsigned)rand_u64(&seed), (unsigned)rand_u64(&seed), (unsigned)rand_u64(&seed), (unsigned)rand_u64(&seed),
            (int64_t)rand_u64(&seed),  (int64_t)rand_u64(&seed),  (int64_t)rand_u64(&seed),  (int64_t)rand_u64(&seed),
            (unsigned)rand_u64(&seed), (unsigned)rand_u64(&seed), (unsigned)rand_u64(&seed), (int64_t)rand_u64(&seed),
            (int64_t)rand_u64(&seed),  (int64_t)rand_u64(&seed),  (int64_t)rand_u64(&seed),  (int64_t)rand_u64(&seed),
            rand_double(&seed),        (unsigned)rand_u64(&seed), (unsigned)rand_u64(&seed)};
        if (a.action_type == INT32_MIN)
            a.action_type = 3; /* the reference's type - 1 would overflow */
        reference_action(want, sizeof want, &a);
        assert_int_equal(telemetry_format_action(got, &a), strlen(want));
        assert_string_equal(got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_fig7),
        cmocka_unit_test(test_options_all_and_errors),
        cmocka_unit_test(test_options_test_controllers),
        cmocka_unit_test(test_options_http),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_telemetry_files),
        cmocka_unit_test(test_telemetry_format_matches_printf),
        cmocka_unit_test(test_decode_infer_result_maps_clock),
        cmocka_unit_test(test_decode_maps_extreme_timestamps),
        cmocka_unit_test(test_decode_rejects_bad_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
