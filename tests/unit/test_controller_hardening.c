/* The controller's edge and its own limits, without a network: every value of an inference
 * request is checked (model id, batch size, slo_factor range and finiteness, LZ4 input of
 * exactly the model's size); --bind and the limit variables parse, strictly; telemetry rows
 * reach the file when committed and the files rotate, keeping N, each with its header; any
 * float behind the edge still gives a scheduler a bounded SLO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/lz4_block.h"
#include "common/status.h"
#include "controller/options.h"
#include "controller/request_check.h"
#include "controller/sched_report.h"
#include "controller/telemetry.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct sched_model models[2];

static int setup(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        models[i].id = i;
        models[i].info.input_size = 20;
    }
    return 0;
}

static int verdict(unsigned model, uint32_t batch, float slo, const uint8_t *in, size_t len, char *msg)
{
    struct request_fields r = {model, batch, slo, in, len};
    return request_check_infer(&r, models, 2, NULL, msg, 200);
}

static void test_every_request_value_checked(void **state)
{
    (void)state;
    char msg[200];
    assert_int_equal(verdict(0, 1, 0.0f, NULL, 0, msg), 0); /* the default SLO, no input */
    assert_int_equal(verdict(1, 1, 1.0f, NULL, 0, msg), 0);
    assert_int_equal(verdict(1, 1, 1e6f, NULL, 0, msg), 0);
    const float bad[] = {INFINITY, -INFINITY, NAN, -1.0f, 3e38f, 1e-30f, 0.999f, 1.1e6f};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(verdict(0, 1, bad[i], NULL, 0, msg), CLIENT_INVALID_REQUEST);
        assert_non_null(strstr(msg, "Invalid slo_factor"));
    }
    assert_int_equal(verdict(2, 1, 0.0f, NULL, 0, msg), CLIENT_INVALID_REQUEST);
    assert_non_null(strstr(msg, "Invalid model ID 2"));
    assert_int_equal(verdict(0, 0, 0.0f, NULL, 0, msg), CLIENT_INVALID_REQUEST);
    assert_int_equal(verdict(0, UINT32_MAX, 0.0f, NULL, 0, msg), CLIENT_INVALID_REQUEST);
    assert_non_null(strstr(msg, "Invalid batch_size"));
    /* twenty literals: exactly the model's input */
    uint8_t block[22] = {0xF0, 5};
    assert_int_equal(lz4_block_check(block, sizeof block, 20), 0);
    assert_int_equal(verdict(0, 1, 0.0f, block, sizeof block, msg), 0);
    block[1] = 4; /* nineteen */
    assert_int_equal(verdict(0, 1, 0.0f, block, 21, msg), CLIENT_INVALID_REQUEST);
    assert_non_null(strstr(msg, "LZ4 block of exactly the model's input size (20 bytes)"));
}

static int parse(struct controller_options *o, char *line, char *err)
{
    char *argv[16];
    int argc = 0;
    for (char *t = strtok(line, " "); t && argc < 16; t = strtok(NULL, " "))
        argv[argc++] = t;
    return controller_options_parse(o, argc, argv, err, 256);
}

/* Behind the edge check, every scheduler (INFER5, INFER6) turns any float into a bounded SLO:
 * the simulator and the fuzzers hand them factors no client could send. */
static void test_any_slo_factor_gives_a_bounded_slo(void **state)
{
    (void)state;
    const uint64_t est = 5000000, dflt = 100000000;
    assert_int_equal(sched_request_slo(est, 2.0, dflt), 10000000);
    assert_int_equal(sched_request_slo(est, 0.0, dflt), dflt);
    assert_int_equal(sched_request_slo(est, -1.0, dflt), dflt);
    assert_int_equal(sched_request_slo(est, NAN, dflt), dflt);
    assert_int_equal(sched_request_slo(est, INFINITY, dflt), SCHED_MAX_SLO);
    assert_int_equal(sched_request_slo(est, 3e38, dflt), SCHED_MAX_SLO);
    assert_int_equal(sched_request_slo(est, 1e-30, dflt), 0);
    assert_int_equal(sched_request_slo(UINT64_MAX, 1.0, dflt), SCHED_MAX_SLO);
}

static void test_bind_and_limits(void **state)
{
    (void)state;
    static struct controller_options o;
    char err[256], l1[] = "controller INFER5 h:1 --bind 127.0.0.1 0 6", l2[] = "controller --bind=10.0.0.1 INFER5 h:1",
                   l3[] = "controller INFER5 h:1 --bind";
    assert_int_equal(parse(&o, l1, err), OPTIONS_OK);
    assert_string_equal(o.bind, "127.0.0.1");
    assert_int_equal(o.sched.max_gpus, 6); /* the positional options around it still count */
    assert_int_equal(o.limits.max_clients, 1024);
    assert_int_equal(o.limits.frame_timeout_ms, 10000);
    assert_int_equal(o.limits.idle_timeout_ms, 0);
    assert_int_equal(o.telemetry_max_bytes, 0);
    assert_int_equal(parse(&o, l2, err), OPTIONS_OK);
    assert_string_equal(o.bind, "10.0.0.1");
    assert_int_equal(parse(&o, l3, err), OPTIONS_ERROR);
    setenv("CLOCKWORK_MAX_CLIENTS", "7", 1);
    setenv("CLOCKWORK_TELEMETRY_MAX_MB", "0.5", 1);
    setenv("CLOCKWORK_CLIENT_MAX_UNSENT_MB", "2", 1);
    char l4[] = "controller INFER5 h:1";
    assert_int_equal(parse(&o, l4, err), OPTIONS_OK);
    assert_int_equal(o.limits.max_clients, 7);
    assert_int_equal(o.telemetry_max_bytes, 512 * 1024);
    assert_int_equal(o.limits.max_unsent, 2u << 20);
    setenv("CLOCKWORK_MAX_CLIENTS", "lots", 1);
    char l5[] = "controller INFER5 h:1";
    assert_int_equal(parse(&o, l5, err), OPTIONS_ERROR);
    assert_non_null(strstr(err, "CLOCKWORK_MAX_CLIENTS"));
    unsetenv("CLOCKWORK_MAX_CLIENTS");
    unsetenv("CLOCKWORK_TELEMETRY_MAX_MB");
    unsetenv("CLOCKWORK_CLIENT_MAX_UNSENT_MB");
    setenv("CLOCKWORK_SECRET_FILE", "/nonexistent/secret", 1);
    char l6[] = "controller INFER5 h:1";
    assert_int_equal(parse(&o, l6, err), OPTIONS_ERROR);
    assert_non_null(strstr(err, "/nonexistent/secret"));
    unsetenv("CLOCKWORK_SECRET_FILE");
}

static long file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void test_telemetry_commit_and_rotation(void **state)
{
    (void)state;
    char dir[] = "/tmp/cw-rotate-XXXXXX", err[256], path[300];
    assert_non_null(mkdtemp(dir));
    struct telemetry_writer *w = telemetry_open(dir, err, sizeof err);
    assert_non_null(w);
    snprintf(path, sizeof path, "%s/clockwork_request_log.tsv", dir);
    struct request_row r = {.t = 1000000000000000000ull, .request_id = 1};
    telemetry_write_request(w, &r);
    assert_int_equal(file_lines(path), 1); /* buffered: only the header so far */
    telemetry_commit_requests(w);
    assert_int_equal(file_lines(path), 2); /* in the file before the response would leave */
    telemetry_set_rotation(w, 1000, 2);
    for (int i = 0; i < 100; i++) /* ~40 bytes a row: 4 rotations */
        telemetry_write_request(w, &r);
    telemetry_close(w);
    char rotated[320];
    long total = 0;
    for (int i = 0; i <= 3; i++) {
        snprintf(rotated, sizeof rotated, i ? "%s.%d" : "%s", path, i);
        long n = file_lines(rotated);
        if (i == 3) {
            assert_int_equal(n, -1); /* only 2 kept */
            break;
        }
        assert_true(n > 1);
        FILE *f = fopen(rotated, "r");
        char line[512];
        assert_non_null(fgets(line, sizeof line, f));
        line[strcspn(line, "\n")] = 0;
        assert_string_equal(line, REQUEST_LOG_HEADER);
        fclose(f);
        struct stat st;
        stat(rotated, &st);
        assert_true(st.st_size <= 1100);
        total += n - 1;
        unlink(rotated);
    }
    assert_true(total < 101); /* the oldest were dropped */
    snprintf(path, sizeof path, "%s/clockwork_action_log.tsv", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_every_request_value_checked, setup),
        cmocka_unit_test(test_any_slo_factor_gives_a_bounded_slo),
        cmocka_unit_test(test_bind_and_limits),
        cmocka_unit_test(test_telemetry_commit_and_rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
