/* The controller's start-up phase (startup.c) and client requests (client_link.c), on the
 * controller harness: requests bounced while initializing, LoadModel forwarded to every worker
 * with consecutive model ids, a bad path answered with the workers' error, workers that
 * disagree about a model, the hand-over to the scheduler after the quiet period, LS, LoadModel
 * of an already loaded path after start-up (a reconnecting client), inference, and protocol
 * errors closing only that client's connection; every TYPE that serves clients, each driven as
 * its TYPE asks (INFER6 by exact wake-ups, the others on the 1 ms tick). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controller_harness.h"

/* An Evict (4), an UploadModel (1), or for any other type an Evict's bytes. */
static void send_header_only(int fd, uint64_t type)
{
    Clockwork__RequestHeaderProto hd = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    hd.has_user_request_id = 1;
    hd.user_request_id = 9;
    Clockwork__EvictReqProto evict = CLOCKWORK__EVICT_REQ_PROTO__INIT;
    Clockwork__ModelUploadReqProto upload = CLOCKWORK__MODEL_UPLOAD_REQ_PROTO__INIT;
    evict.header = upload.header = &hd;
    wire_send_msg(fd, type, type == 1 ? &upload.base : &evict.base, NULL, 0);
}

static void expect_simple(int fd, uint64_t type, int status, const char *text)
{
    send_header_only(fd, type);
    struct wire_reply w;
    assert_int_equal(wire_recv(fd, &w), 0);
    assert_int_equal(w.type, type + 100);
    struct ch_rsp r;
    ch_decode(&w, &r);
    wire_reply_free(&w);
    assert_int_equal(r.status, status);
    assert_int_equal(r.user_request_id, 9);
    assert_non_null(strstr(r.message, text));
}

static void check_bounced_while_initializing(int fd)
{
    struct ch_rsp r;
    assert_int_equal(ch_ls(fd, 1, &r), 0);
    assert_int_equal(r.status, CLIENT_INITIALIZING);
    assert_string_equal(r.message, "Controller initializing");
    assert_int_equal(ch_infer(fd, 2, 0, &r), 0);
    assert_int_equal(r.status, CLIENT_INITIALIZING);
    assert_int_equal(r.user_request_id, 2);
    expect_simple(fd, 4, CLIENT_INVALID_REQUEST, "Evict is not supported");
    expect_simple(fd, 1, CLIENT_INVALID_REQUEST, "UploadModel is not supported");
    assert_int_equal(ch_load(fd, 3, "", 1, &r), 0);
    assert_int_equal(r.status, CLIENT_INVALID_REQUEST);
    assert_int_equal(ch_load(fd, 3, "/x/model", 0, &r), 0);
    assert_int_equal(r.status, CLIENT_INVALID_REQUEST);
}

static void check_loads(struct ch *h, int fd)
{
    struct ch_rsp r;
    assert_int_equal(ch_load(fd, 10, h->model_a, 3, &r), 0);
    assert_int_equal(r.status, CLIENT_SUCCESS);
    assert_int_equal(r.user_request_id, 10);
    assert_int_equal(r.model_id, 0);
    assert_int_equal(r.copies, 3);
    assert_int_equal(r.input_size, 5);
    assert_int_equal(r.output_size, 8);
    assert_int_equal(ch_load(fd, 11, "/nonexistent/cw/model", 1, &r), 0);
    assert_int_equal(r.status, CLIENT_ERROR);
    assert_non_null(strstr(r.message, "worker "));
    assert_int_equal(ch_load(fd, 12, h->model_b, 2, &r), 0);
    assert_int_equal(r.status, CLIENT_SUCCESS);
    assert_int_equal(r.model_id, 3); /* ids stay consecutive after the failed load */
    assert_int_equal(r.copies, 2);
}

static void check_serving(struct ch *h, int fd)
{
    struct ch_rsp r;
    assert_int_equal(ch_ls(fd, 20, &r), 0);
    assert_int_equal(r.status, CLIENT_SUCCESS);
    assert_int_equal(r.n_models, 5);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(r.model_ids[i], i);
        assert_string_equal(r.paths[i], i < 3 ? h->model_a : h->model_b);
    }
    /* a client that reconnects reruns its workload: the same loads find the same models */
    assert_int_equal(ch_load(fd, 21, h->model_b, 2, &r), 0);
    assert_int_equal(r.status, CLIENT_SUCCESS);
    assert_int_equal(r.model_id, 3);
    assert_int_equal(r.input_size, 5);
    assert_int_equal(ch_load(fd, 22, h->model_b, 3, &r), 0);
    assert_int_equal(r.status, CLIENT_INVALID_REQUEST);
    assert_non_null(strstr(r.message, "while the controller starts up"));
    /* every request is answered; the first ones may miss their deadline (weights still loading) */
    int urid = 100;
    do {
        assert_true(urid < 300);
        if (urid > 100)
            usleep(20000);
        assert_int_equal(ch_infer(fd, urid, 4, &r), 0);
        assert_int_equal(r.user_request_id, urid);
        assert_int_equal(r.model_id, 4);
        urid++;
    } while (r.status != CLIENT_SUCCESS);
    assert_int_equal(r.body_len, 0);               /* emulated devices compute no output bytes */
    assert_int_equal(ch_infer(fd, 24, 99, &r), 0); /* no such model: answered, not dropped */
    assert_int_not_equal(r.status, CLIENT_SUCCESS);
    assert_int_equal(r.user_request_id, 24);
}

static void check_protocol_errors(struct ch *h)
{
    int other = ch_dial(h), fd = ch_dial(h);
    send_header_only(fd, 9); /* no such request type */
    assert_true(wire_closed_by_peer(fd));
    close(fd);
    fd = ch_dial(h);
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
    wire_send_raw(fd, 2, junk, sizeof junk, NULL, 0); /* unparsable inference header */
    assert_true(wire_closed_by_peer(fd));
    close(fd);
    struct ch_rsp r;
    assert_int_equal(ch_ls(other, 30, &r), 0); /* the other client is not affected */
    assert_int_equal(r.status, CLIENT_SUCCESS);
    close(other);
}

static void test_startup_then_serving(void **state)
{
    (void)state;
    static struct ch h;
    int fd = ch_start(&h, 16 * CH_MIB, 16 * CH_MIB);
    check_bounced_while_initializing(fd);
    check_loads(&h, fd);
    ch_wait_serving(fd);
    assert_true(ch_logged(&h, "(Startup-4) LoadModelStage has begun"));
    assert_true(ch_logged(&h, "(Startup-end) Transitioning to scheduler"));
    assert_true(ch_logged(&h, "Created 5 models"));
    check_serving(&h, fd);
    check_protocol_errors(&h);
    close(fd);
    ch_free(&h);
}

/* A controller of TYPE serves a model loaded at start-up: one request succeeds (after a cold
 * start, asking until one does), and the controller says what it runs. */
static void serve_with_type(const char *type, const char *says)
{
    static struct ch h;
    ch_init(&h);
    ch_worker_start(&h, 0, 1, 16 * CH_MIB);
    ch_worker_start(&h, 1, 1, 16 * CH_MIB);
    ch_controller_start_type(&h, type, "");
    int fd = ch_dial(&h);
    struct ch_rsp r;
    assert_int_equal(ch_load(fd, 1, h.model_a, 1, &r), 0);
    assert_int_equal(r.status, CLIENT_SUCCESS);
    ch_wait_serving(fd);
    int urid = 10;
    do {
        assert_true(urid < 200);
        if (urid > 10)
            usleep(20000);
        assert_int_equal(ch_infer(fd, urid, 0, &r), 0);
        assert_int_equal(r.user_request_id, urid++);
    } while (r.status != CLIENT_SUCCESS);
    assert_true(ch_logged(&h, says));
    assert_false(ch_logged(&h, "no timerfd")); /* INFER6 got its exact wake-ups */
    close(fd);
    ch_free(&h);
}

static void test_every_serving_type(void **state)
{
    (void)state;
    serve_with_type("INFER5", "INFER5 Scheduler using:");
    serve_with_type("INFER6", "INFER6 Scheduler using:");
    serve_with_type("ECHO", "ECHO test controller (no scheduler");
    serve_with_type("DIRECT", "DIRECT test controller (no scheduler");
}

/* Workers whose pages differ see different page counts for the same model: the load fails
 * for the client instead of registering a model the workers disagree about. Stopping during
 * start-up drops the pending state. */
static void test_workers_disagree(void **state)
{
    (void)state;
    static struct ch h;
    int fd = ch_start(&h, 16 * CH_MIB, 1 * CH_MIB);
    struct ch_rsp r;
    assert_int_equal(ch_load(fd, 1, h.model_a, 1, &r), 0);
    assert_int_equal(r.status, CLIENT_ERROR);
    assert_non_null(strstr(r.message, "workers disagree about model"));
    assert_int_equal(ch_ls(fd, 2, &r), 0);
    assert_int_equal(r.status, CLIENT_INITIALIZING); /* no model: start-up goes on */
    close(fd);
    ch_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_then_serving),
        cmocka_unit_test(test_workers_disagree),
        cmocka_unit_test(test_every_serving_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
