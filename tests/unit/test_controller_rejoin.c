/* A worker lost while serving and coming back (controller.c, worker_rejoin.c), on the
 * controller harness: every request is answered while a worker is gone; a worker that
 * restarts with the same GPUs gets its models registered again and serves alone once the
 * other one is gone too; one that comes back with other GPUs is not used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controller_harness.h"

/* Sends n inferences one after the other; each must be answered. Returns how many succeeded. */
static int infer_n(int fd, int n, int *urid)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        struct ch_rsp r;
        int id = (*urid)++;
        assert_int_equal(ch_infer(fd, id, (uint32_t)(i % 2), &r), 0);
        assert_int_equal(r.user_request_id, id);
        ok += r.status == CLIENT_SUCCESS;
    }
    return ok;
}

/* Infers until one succeeds (the scheduler may first need to load the weights somewhere). */
static int infer_until_success(int fd, int *urid)
{
    for (int i = 0; i < 200; i++) {
        if (infer_n(fd, 1, urid) == 1)
            return 1;
        usleep(50000);
    }
    return 0;
}

static void expect_log(struct ch *h, const char *fmt, int port)
{
    char text[256];
    snprintf(text, sizeof text, fmt, port);
    if (!ch_wait_log(h, text, 30))
        fail_msg("the controller never logged \"%s\"", text);
}

static void test_worker_lost_and_back(void **state)
{
    (void)state;
    static struct ch h;
    int urid = 1;
    int fd = ch_start(&h, 16 * CH_MIB, 16 * CH_MIB);
    struct ch_rsp r;
    assert_int_equal(ch_load(fd, urid++, h.model_a, 2, &r), 0);
    assert_int_equal(r.status, CLIENT_SUCCESS);
    ch_wait_serving(fd);
    infer_n(fd, 10, &urid); /* all answered; a cold start may miss its deadline */
    assert_true(infer_until_success(fd, &urid));

    ch_worker_stop(&h, 1);
    expect_log(&h, "Worker 1 (127.0.0.1:%d) lost", h.workers[1].port);
    infer_n(fd, 10, &urid); /* all answered, whatever the outcome */
    assert_true(infer_until_success(fd, &urid));

    ch_worker_start(&h, 1, 1, 16 * CH_MIB); /* same port, same GPU */
    expect_log(&h, "Worker 1 (127.0.0.1:%d) rejoined: 1 GPUs back in service", h.workers[1].port);
    assert_true(ch_logged(&h, "registering 1 model groups again"));

    ch_worker_stop(&h, 0); /* now only the worker that came back can serve */
    expect_log(&h, "Worker 0 (127.0.0.1:%d) lost", h.workers[0].port);
    assert_true(infer_until_success(fd, &urid));

    ch_worker_start(&h, 0, 2, 16 * CH_MIB); /* back with two GPUs instead of one */
    expect_log(&h, "Worker 0 (127.0.0.1:%d) came back with different GPUs; not using it", h.workers[0].port);
    assert_true(infer_until_success(fd, &urid));
    close(fd);
    ch_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_lost_and_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
