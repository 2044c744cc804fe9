/* The action send queue (controller/send_queue.h) on a fake host: order and the concurrency
 * limit, copied request arrays, the one failure rule (worker not ready, send_by passed, write
 * failed, out of memory), dropping a worker's actions, re-entrant pushes from a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/status.h"
#include "controller/send_queue.h"
#include <stdlib.h>
#include <string.h>

/* Linked with -Wl,--wrap=calloc: fail_calloc > 0 makes the next allocations fail. */
void *__real_calloc(size_t n, size_t size);
static int fail_calloc;
void *__wrap_calloc(size_t n, size_t size)
{
    if (fail_calloc > 0) {
        fail_calloc--;
        return NULL;
    }
    return __real_calloc(n, size);
}

struct event {
    char kind; /* 's' sent, 'f' failed */
    uint64_t id, now;
    int status;
    const char *message;
    unsigned n_requests;
    struct sched_request *first_request;
};

struct host {
    struct send_queue q;
    unsigned in_flight;
    int ready[4];
    int write_fails;
    struct event ev[64];
    unsigned n_ev;
    int push_on_fail; /* a failure makes the "scheduler" plan another action */
};

static unsigned h_in_flight(void *data) { return ((struct host *)data)->in_flight; }
static int h_ready(void *data, unsigned worker_id) { return ((struct host *)data)->ready[worker_id]; }

static int h_send(void *data, const struct sched_action *a, uint64_t now)
{
    struct host *h = data;
    if (h->write_fails)
        return -1;
    h->in_flight++;
    h->ev[h->n_ev++] = (struct event){'s', a->id, now, 0, NULL, a->n_requests, a->n_requests ? a->requests[0] : NULL};
    return 0;
}

static void h_fail(void *data, const struct sched_action *a, int status, const char *message, uint64_t now)
{
    struct host *h = data;
    assert_null(a->requests);
    h->ev[h->n_ev++] = (struct event){'f', a->id, now, status, message, 0, NULL};
    if (h->push_on_fail) {
        h->push_on_fail = 0;
        struct sched_action next = {.id = 100, .send_by = UINT64_MAX};
        assert_int_equal(send_queue_push(&h->q, &next), 0);
        send_queue_pump(&h->q, now); /* re-entrant: returns at once */
    }
}

static const struct send_queue_ops OPS = {
    .in_flight = h_in_flight, .worker_ready = h_ready, .send = h_send, .fail = h_fail};

static void host_init(struct host *h)
{
    memset(h, 0, sizeof *h);
    for (unsigned i = 0; i < 4; i++)
        h->ready[i] = 1;
    send_queue_init(&h->q, &OPS, h);
}

static void push(struct host *h, uint64_t id, unsigned worker, uint64_t send_by)
{
    struct sched_action a = {.id = id, .type = SCHED_LOAD_WEIGHTS, .worker_id = worker, .send_by = send_by};
    assert_int_equal(send_queue_push(&h->q, &a), 0);
}

static void test_order_and_concurrency_limit(void **state)
{
    (void)state;
    struct host h;
    host_init(&h);
    for (uint64_t id = 1; id <= 5; id++)
        push(&h, id, 0, UINT64_MAX);
    assert_int_equal(h.q.length, 5);
    send_queue_pump(&h.q, 10);
    assert_int_equal(h.n_ev, SEND_QUEUE_CONCURRENCY);
    assert_int_equal(h.ev[0].id, 1);
    assert_int_equal(h.ev[1].id, 2);
    assert_int_equal(h.ev[1].now, 10);
    send_queue_pump(&h.q, 11); /* no slot free: nothing happens */
    assert_int_equal(h.n_ev, 2);
    h.in_flight--;
    send_queue_pump(&h.q, 12);
    assert_int_equal(h.n_ev, 3);
    assert_int_equal(h.ev[2].id, 3);
    h.in_flight = 0;
    send_queue_pump(&h.q, 13);
    assert_int_equal(h.n_ev, 5);
    assert_int_equal(h.ev[4].id, 5);
    assert_int_equal(h.q.length, 0);
    assert_null(h.q.head);
    assert_null(h.q.tail);
}

static void test_request_array_is_copied(void **state)
{
    (void)state;
    struct host h;
    host_init(&h);
    struct sched_request r[3] = {{.id = 7}, {.id = 8}, {.id = 9}};
    struct sched_request *batch[3] = {&r[0], &r[1], &r[2]};
    struct sched_action a = {
        .id = 1, .type = SCHED_INFER, .n_requests = 3, .batch_size = 4, .requests = batch, .send_by = UINT64_MAX};
    assert_int_equal(send_queue_push(&h.q, &a), 0);
    batch[0] = NULL; /* the scheduler's array is only valid during send_action */
    send_queue_pump(&h.q, 0);
    assert_int_equal(h.n_ev, 1);
    assert_int_equal(h.ev[0].n_requests, 3);
    assert_ptr_equal(h.ev[0].first_request, &r[0]);
}

/* Failures take no slot: the actions behind them still leave in the same pump. */
static void test_every_failure_reaches_the_scheduler(void **state)
{
    (void)state;
    struct host h;
    host_init(&h);
    h.ready[1] = 0;
    push(&h, 1, 1, UINT64_MAX); /* worker not ready */
    push(&h, 2, 0, 99);         /* send_by passed at now=100 */
    push(&h, 3, 0, 100);        /* exactly at send_by: still sent */
    push(&h, 4, 0, UINT64_MAX);
    send_queue_pump(&h.q, 100);
    assert_int_equal(h.n_ev, 4);
    assert_int_equal(h.ev[0].kind, 'f');
    assert_int_equal(h.ev[0].status, ACTION_RUNTIME_ERROR);
    assert_string_equal(h.ev[0].message, "worker not connected");
    assert_int_equal(h.ev[1].kind, 'f');
    assert_int_equal(h.ev[1].status, ACTION_NETWORK_SEND_TOO_LATE);
    assert_string_equal(h.ev[1].message, "network send too late");
    assert_int_equal(h.ev[1].now, 100);
    assert_int_equal(h.ev[2].kind, 's');
    assert_int_equal(h.ev[2].id, 3);
    assert_int_equal(h.ev[3].id, 4);

    h.in_flight = 0;
    h.write_fails = 1;
    push(&h, 5, 0, UINT64_MAX);
    send_queue_pump(&h.q, 101);
    assert_int_equal(h.ev[4].kind, 'f');
    assert_int_equal(h.ev[4].id, 5);
    assert_int_equal(h.ev[4].status, ACTION_RUNTIME_ERROR);
    assert_string_equal(h.ev[4].message, "send to worker failed");
}

static void test_drop_worker_keeps_the_rest_in_order(void **state)
{
    (void)state;
    struct host h;
    host_init(&h);
    push(&h, 1, 0, UINT64_MAX);
    push(&h, 2, 1, UINT64_MAX);
    push(&h, 3, 0, UINT64_MAX);
    push(&h, 4, 1, UINT64_MAX);
    push(&h, 5, 0, UINT64_MAX); /* the tail goes too */
    assert_int_equal(send_queue_drop_worker(&h.q, 0), 3);
    assert_int_equal(h.q.length, 2);
    push(&h, 6, 2, UINT64_MAX); /* appended after the new tail */
    send_queue_pump(&h.q, 0);
    h.in_flight = 0;
    send_queue_pump(&h.q, 0);
    assert_int_equal(h.n_ev, 3);
    assert_int_equal(h.ev[0].id, 2);
    assert_int_equal(h.ev[1].id, 4);
    assert_int_equal(h.ev[2].id, 6);
    assert_int_equal(send_queue_drop_worker(&h.q, 3), 0);
}

static void test_push_from_a_failure_is_sent_by_the_outer_pump(void **state)
{
    (void)state;
    struct host h;
    host_init(&h);
    h.push_on_fail = 1;
    push(&h, 1, 0, 0); /* too late at now=5 */
    send_queue_pump(&h.q, 5);
    assert_int_equal(h.n_ev, 2);
    assert_int_equal(h.ev[0].kind, 'f');
    assert_int_equal(h.ev[1].kind, 's');
    assert_int_equal(h.ev[1].id, 100);
    assert_int_equal(h.q.pumping, 0);
}

/* An action that cannot be queued is failed at the next pump, never inside push (which runs
 * inside the scheduler's send_action). */
static void test_out_of_memory_fails_at_the_next_pump(void **state)
{
    (void)state;
    struct host h;
    host_init(&h);
    push(&h, 1, 0, UINT64_MAX);
    struct sched_action a = {.id = 2, .worker_id = 0, .send_by = UINT64_MAX};
    fail_calloc = 1;
    assert_int_equal(send_queue_push(&h.q, &a), -1);
    assert_int_equal(h.n_ev, 0);
    assert_int_equal(h.q.length, 1);
    send_queue_pump(&h.q, 3);
    assert_int_equal(h.n_ev, 2);
    assert_int_equal(h.ev[0].kind, 'f');
    assert_int_equal(h.ev[0].id, 2);
    assert_int_equal(h.ev[0].status, ACTION_RUNTIME_ERROR);
    assert_int_equal(h.ev[1].kind, 's');
    assert_int_equal(h.ev[1].id, 1);
    send_queue_pump(&h.q, 4); /* reported once */
    assert_int_equal(h.n_ev, 2);

    /* beyond SEND_QUEUE_LOST_MAX between two pumps the surplus is counted */
    fail_calloc = SEND_QUEUE_LOST_MAX + 2;
    for (unsigned i = 0; i < SEND_QUEUE_LOST_MAX + 2; i++) {
        a.id = 10 + i;
        a.worker_id = i % 2;
        assert_int_equal(send_queue_push(&h.q, &a), -1);
    }
    assert_int_equal(h.q.n_unreported, 2);
    /* a lost worker's lost actions are answered by scheduler_on_worker_lost: not failed again */
    send_queue_drop_worker(&h.q, 1);
    send_queue_pump(&h.q, 5);
    assert_int_equal(h.n_ev, 2 + SEND_QUEUE_LOST_MAX / 2);
    for (unsigned i = 2; i < h.n_ev; i++)
        assert_int_equal(h.ev[i].id % 2, 0);
}

/* A stalled worker keeps the sends in flight: what waits behind them is failed as its send_by
 * passes (wherever it is queued), so no backlog builds; the rest stays queued in order. */
static void test_blocked_queue_drops_expired_actions(void **state)
{
    (void)state;
    struct host h;
    host_init(&h);
    h.in_flight = SEND_QUEUE_CONCURRENCY; /* blocked */
    push(&h, 1, 0, UINT64_MAX);
    push(&h, 2, 0, 50);
    push(&h, 3, 1, 200);
    push(&h, 4, 0, 40);
    push(&h, 5, 0, UINT64_MAX);
    send_queue_pump(&h.q, 30);
    assert_int_equal(h.n_ev, 0);
    assert_int_equal(h.q.length, 5);
    send_queue_pump(&h.q, 60); /* 2 and 4 can no longer leave in time */
    assert_int_equal(h.n_ev, 2);
    assert_int_equal(h.q.length, 3);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(h.ev[i].kind, 'f');
        assert_int_equal(h.ev[i].status, ACTION_NETWORK_SEND_TOO_LATE);
    }
    assert_true((h.ev[0].id == 2 && h.ev[1].id == 4) || (h.ev[0].id == 4 && h.ev[1].id == 2));
    push(&h, 6, 0, UINT64_MAX); /* the tail is consistent after the removals */
    h.in_flight = 0;
    send_queue_pump(&h.q, 61);
    assert_int_equal(h.n_ev, 4); /* 1 and 3 sent; 5 and 6 wait for the concurrency limit */
    assert_int_equal(h.ev[2].id, 1);
    assert_int_equal(h.ev[3].id, 3);
    h.in_flight = 0;
    send_queue_pump(&h.q, 62);
    assert_int_equal(h.ev[4].id, 5);
    assert_int_equal(h.ev[5].id, 6);
    assert_int_equal(h.q.length, 0);
}

static void test_clear_frees_without_failing(void **state)
{
    (void)state;
    struct host h;
    host_init(&h);
    struct sched_request r = {.id = 1};
    struct sched_request *batch[1] = {&r};
    struct sched_action a = {.id = 1, .type = SCHED_INFER, .n_requests = 1, .requests = batch, .send_by = 5};
    assert_int_equal(send_queue_push(&h.q, &a), 0);
    push(&h, 2, 1, 5);
    send_queue_clear(&h.q);
    assert_int_equal(h.q.length, 0);
    send_queue_pump(&h.q, 10);
    assert_int_equal(h.n_ev, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_concurrency_limit),
        cmocka_unit_test(test_blocked_queue_drops_expired_actions),
        cmocka_unit_test(test_request_array_is_copied),
        cmocka_unit_test(test_every_failure_reaches_the_scheduler),
        cmocka_unit_test(test_drop_worker_keeps_the_rest_in_order),
        cmocka_unit_test(test_push_from_a_failure_is_sent_by_the_outer_pump),
        cmocka_unit_test(test_out_of_memory_fails_at_the_next_pump),
        cmocka_unit_test(test_clear_frees_without_failing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
