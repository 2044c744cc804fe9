/* The client program end to end (wl_cli_main) against a fake controller running in a thread:
 * slo-exp-1 ends by itself after its schedule, simple-parametric after its requests, any
 * workload after --duration; bad command lines exit 1. Nothing here depends on speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>

#include "client/workload_cli.h"
#include "fake_controller.h"

struct server_thread {
    pthread_t th;
    uv_loop_t loop;
    uv_async_t stop;
    struct fake_ctl f;
};

static void stop_cb(uv_async_t *a)
{
    struct server_thread *s = a->data;
    if (s->f.conn)
        net_conn_close(s->f.conn, "test over");
    net_server_stop(s->f.server);
    uv_close((uv_handle_t *)&s->stop, NULL);
}

static void *server_main(void *arg)
{
    struct server_thread *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void server_start(struct server_thread *s, int init_ls)
{
    memset(s, 0, sizeof *s);
    uv_loop_init(&s->loop);
    fake_init(&s->f);
    s->f.init_ls = init_ls;
    assert_int_equal(fake_start(&s->f, &s->loop, 0), 0);
    uv_async_init(&s->loop, &s->stop, stop_cb);
    s->stop.data = s;
    assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_stop(struct server_thread *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->th, NULL);
    uv_loop_close(&s->loop);
}

static int run_cli(const char *line)
{
    char buf[512], *argv[40];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *t = strtok(buf, " "); t && argc < 39; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    return wl_cli_main(argc, argv);
}

static int setup_zoo(void **state)
{
    static char dir[] = "/tmp/cw_cli_zoo_XXXXXX";
    char p[256];
    if (!mkdtemp(dir))
        return -1;
    snprintf(p, sizeof p, "%s/resnet50_v2", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/resnet50_v2/model.info", dir);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fclose(f);
    setenv("CLOCKWORK_MODEL_DIR", dir, 1);
    unsetenv("CLOCKWORK_CLIENT_DURATION");
    *state = dir;
    return 0;
}

static int teardown_zoo(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", (char *)*state);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_slo_exp_1_terminates(void **state)
{
    (void)state;
    struct server_thread s;
    server_start(&s, 1);
    char line[256];
    snprintf(line, sizeof line, "client 127.0.0.1:%d slo-exp-1 resnet50_v2 3 poisson 300 1 4 2 mul 0.2 -d 120",
             s.f.port);
    assert_int_equal(run_cli(line), 0);
    server_stop(&s);
    assert_int_equal(s.f.loads, 1);
    assert_int_equal(s.f.next_model_id, 3);
    assert_int_equal(s.f.ls_calls, 2);
    assert_int_equal(s.f.bad_bodies, 0);
    if (s.f.infers > 0)
        assert_true(s.f.min_slo >= 1.0f && s.f.max_slo <= 4.0f);
}

static void test_simple_parametric_completes(void **state)
{
    (void)state;
    struct server_thread s;
    server_start(&s, 0);
    char line[256];
    snprintf(line, sizeof line, "client 127.0.0.1:%d simple-parametric 3 2 2 25 --duration 120", s.f.port);
    setenv("CLOCKWORK_DISABLE_INPUTS", "1", 1);
    assert_int_equal(run_cli(line), 0);
    unsetenv("CLOCKWORK_DISABLE_INPUTS");
    server_stop(&s);
    assert_int_equal(s.f.infers, 50); /* 2 clients x 25 requests */
    assert_int_equal(s.f.empty_bodies, 50);
}

static void test_duration_bounds_open_loop(void **state)
{
    (void)state;
    struct server_thread s;
    server_start(&s, 0);
    char line[256];
    snprintf(line, sizeof line, "client 127.0.0.1:%d poisson-open-loop 2 200 -d 0.5", s.f.port);
    assert_int_equal(run_cli(line), 0);
    server_stop(&s);
    assert_int_equal(s.f.bad_bodies, 0);
}

static void test_bad_command_lines(void **state)
{
    (void)state;
    assert_int_equal(run_cli("client"), 1);
    assert_int_equal(run_cli("client -h"), 0);
    assert_int_equal(run_cli("client 127.0.0.1:1 no-such-workload"), 1);
    assert_int_equal(run_cli("client 127.0.0.1:1 slo-exp-1 resnet50_v2 4"), 1);
    assert_int_equal(run_cli("client 127.0.0.1:1 simple -d abc"), 1);
    assert_int_equal(run_cli("client 127.0.0.1:1 simple --bogus"), 1);
    assert_int_equal(run_cli("client :x simple"), 1);
    assert_int_equal(run_cli("client 127.0.0.1:1 slo-exp-2 resnet50_v2 2 poisson 200 2 32 2 mul 7 4 1"), 1);
    assert_int_equal(run_cli("client 127.0.0.1:1 azure 1 5"), 1);
    assert_int_equal(run_cli("client 127.0.0.1:1 bursty_experiment 0"), 1);
    /* the trace is checked before connecting (nobody listens on port 1) */
    unsetenv("AZURE_TRACE_DIR");
    assert_int_equal(run_cli("client 127.0.0.1:1 azure"), 1);
    setenv("AZURE_TRACE_DIR", "/nonexistent", 1);
    assert_int_equal(run_cli("client 127.0.0.1:1 azure_small"), 1);
    unsetenv("AZURE_TRACE_DIR");
    /* nobody listens: bounded by the duration, exit 1 */
    assert_int_equal(run_cli("client 127.0.0.1:1 simple -d 0.3"), 1);
}

static void test_slo_exp_2_ends_with_its_schedule(void **state)
{
    (void)state;
    struct server_thread s;
    server_start(&s, 0);
    char line[256];
    snprintf(line, sizeof line, "client 127.0.0.1:%d slo-exp-2 resnet50_v2 2 poisson 100 2 8 2 mul 0.2 1 1 50 -d 120",
             s.f.port);
    assert_int_equal(run_cli(line), 0);
    server_stop(&s);
    assert_int_equal(s.f.loads, 2); /* foreground, background */
    assert_int_equal(s.f.bad_bodies, 0);
}

static void test_unknown_model(void **state)
{
    (void)state;
    struct server_thread s;
    server_start(&s, 0);
    char line[256];
    snprintf(line, sizeof line, "client 127.0.0.1:%d spam vgg99 -d 60", s.f.port);
    assert_int_equal(run_cli(line), 1);
    server_stop(&s);
    assert_int_equal(s.f.loads, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slo_exp_1_terminates),
        cmocka_unit_test(test_simple_parametric_completes),
        cmocka_unit_test(test_duration_bounds_open_loop),
        cmocka_unit_test(test_bad_command_lines),
        cmocka_unit_test(test_slo_exp_2_ends_with_its_schedule),
        cmocka_unit_test(test_unknown_model),
    };
    return cmocka_run_group_tests(tests, setup_zoo, teardown_zoo);
}
