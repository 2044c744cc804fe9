/* The client library against an in-process fake controller on 127.0.0.1 (same loop):
 * connect retry, load with copies, LS retry while initializing, inference (initializing,
 * then success with an LZ4 body the server can decompress), disabled inputs, disconnect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client/client.h"
#include "fake_controller.h"

struct cb_log {
    int calls, last_status, disconnects;
    size_t last_output_len;
    uint64_t last_tag;
};

static void infer_cb(const struct cw_infer_result *r, void *arg, uint64_t tag)
{
    struct cb_log *l = arg;
    l->calls++;
    l->last_status = r->status;
    l->last_output_len = r->output_len;
    l->last_tag = tag;
    assert_non_null(r->message);
}

static void on_disconnect(void *arg, const char *reason)
{
    (void)reason;
    ((struct cb_log *)arg)->disconnects++;
}

struct late_start {
    struct fake_ctl *f;
    uv_loop_t *loop;
    int port, started;
};

static void start_later(uv_timer_t *t)
{
    struct late_start *ls = t->data;
    ls->started = fake_start(ls->f, ls->loop, ls->port) == 0;
}

static void run_until(uv_loop_t *loop, const int *flag, int want)
{
    for (int i = 0; i < 100000 && *flag < want; i++)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_end_to_end(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct fake_ctl f;
    fake_init(&f);
    f.init_ls = 2;
    f.init_infer = 1;
    struct cb_log log = {0};

    /* Nothing listens yet: the client retries until the server starts. */
    struct late_start ls = {.f = &f, .loop = &loop};
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = &ls;
    struct cw_client *c = NULL;
    for (int k = 0; k < 20 && !ls.started; k++) {
        ls.port = fake_pick_port(100 + k);
        struct cw_client_opts o = {.retry_ms = 20, .on_disconnect = on_disconnect, .arg = &log};
        c = cw_client_new(&loop, "127.0.0.1", ls.port, &o);
        assert_non_null(c);
        uv_timer_start(&t, start_later, 50, 0);
        int rc = cw_client_connect_sync(c);
        if (ls.started) {
            assert_int_equal(rc, 0);
            break;
        }
        cw_client_free(c); /* port taken by someone else: try another */
        c = NULL;
    }
    assert_non_null(c);
    assert_true(cw_client_is_connected(c));

    struct cw_model *models = NULL;
    unsigned n = 0;
    char err[256];
    assert_int_equal(cw_client_load_remote_model_sync(c, "/zoo/resnet50_v2/model", 3, &models, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(models[0].id, 0);
    assert_int_equal(models[2].id, 2);
    assert_int_equal(models[1].input_size, 602112);
    assert_non_null(models[0].input);
    assert_ptr_equal(models[0].input, models[2].input); /* one compressed input shared by the copies */
    struct cw_model *none = NULL;
    assert_int_equal(cw_client_load_remote_model_sync(c, "bad", 1, &none, &n, err, sizeof err), CLIENT_INVALID_REQUEST);
    assert_null(none);
    assert_string_equal(err, "bad path");

    assert_int_equal(cw_client_ls_retry_sync(c, err, sizeof err), 0);
    assert_int_equal(f.ls_calls, 3);

    assert_int_equal(cw_client_infer(c, &models[1], 7, 2.5f, infer_cb, &log, 42), 0);
    run_until(&loop, &log.calls, 1);
    assert_int_equal(log.last_status, CLIENT_INITIALIZING);
    assert_int_equal(log.last_tag, 42);
    for (int i = 0; i < 20; i++)
        assert_int_equal(cw_client_infer(c, &models[i % 3], 7, 2.5f, infer_cb, &log, (uint64_t)i), 0);
    assert_int_equal(cw_client_outstanding(c), 20);
    run_until(&loop, &log.calls, 21);
    assert_int_equal(log.last_status, 0);
    assert_int_equal(log.last_output_len, 4000);
    assert_int_equal(f.bad_bodies, 0);
    assert_int_equal(f.empty_bodies, 0);
    assert_true(f.min_slo == 2.5f && f.max_slo == 2.5f);

    struct cw_totals tot;
    cw_client_totals(c, &tot);
    assert_int_equal(tot.sent, 21);
    assert_int_equal(tot.succeeded, 20);
    assert_int_equal(tot.failed, 1);
    assert_int_equal(tot.by_status[CLIENT_INITIALIZING], 1);

    /* The controller goes away with requests outstanding: each gets CW_DISCONNECTED once. */
    f.no_answer = 1;
    for (int i = 0; i < 5; i++)
        assert_int_equal(cw_client_infer(c, &models[0], 7, 0, infer_cb, &log, 0), 0);
    int before = f.infers;
    while (f.infers < before + 5)
        uv_run(&loop, UV_RUN_ONCE);
    net_conn_close(f.conn, "test closes");
    run_until(&loop, &log.calls, 26);
    assert_int_equal(log.calls, 26);
    assert_int_equal(log.last_status, CW_DISCONNECTED);
    assert_int_equal(log.disconnects, 1);
    assert_false(cw_client_is_connected(c));
    assert_int_not_equal(cw_client_infer(c, &models[0], 7, 0, infer_cb, &log, 0), 0);
    cw_client_totals(c, &tot);
    assert_int_equal(tot.unanswered, 5);

    free(models);
    cw_client_free(c);
    uv_close((uv_handle_t *)&t, NULL);
    net_server_stop(f.server);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_disabled_inputs_and_interrupt(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct fake_ctl f;
    fake_init(&f);
    assert_int_equal(fake_start(&f, &loop, 0), 0);
    struct cb_log log = {0};
    struct cw_client_opts o = {.disable_inputs = 1};
    struct cw_client *c = cw_client_new(&loop, "127.0.0.1", f.port, &o);
    assert_int_equal(cw_client_connect_sync(c), 0);
    struct cw_model *models = NULL;
    unsigned n = 0;
    char err[256];
    assert_int_equal(cw_client_load_remote_model_sync(c, "/z/m/model", 1, &models, &n, err, sizeof err), 0);
    assert_null(models[0].input);
    assert_int_equal(cw_client_infer(c, &models[0], 0, 0, infer_cb, &log, 0), 0);
    run_until(&loop, &log.calls, 1);
    assert_int_equal(log.last_status, 0);
    assert_int_equal(f.empty_bodies, 1);

    /* An interrupted sync call returns CW_STOPPED and leaves nothing dangling. */
    f.init_ls = 1000000;
    cw_client_interrupt(c);
    assert_int_equal(cw_client_ls_retry_sync(c, err, sizeof err), CW_STOPPED);
    assert_int_equal(cw_client_outstanding(c), 0);
    free(models);
    cw_client_free(c);
    net_server_stop(f.server);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_to_end),
        cmocka_unit_test(test_disabled_inputs_and_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
