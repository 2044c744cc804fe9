/* Sessions on accepted loopback connections (net/session.h): the open list, most recent
 * first; a session held by work outlives its connection with conn == NULL; the last
 * reference frees it (LeakSanitizer checks); close_all empties the list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/session.h"
#include <string.h>
#include <unistd.h>

struct server {
    uv_loop_t loop;
    struct net_server *srv;
    struct net_session_list sessions;
    unsigned opened, closed;
};

static void srv_connect(struct net_conn *c, int status, void *data)
{
    struct server *s = data;
    if (status == 0 && net_session_open(&s->sessions, c))
        s->opened++;
    uv_stop(&s->loop);
}

static void srv_close(struct net_conn *c, const char *reason, void *data)
{
    (void)reason;
    struct server *s = data;
    struct net_session *ss = net_conn_data(c);
    if (ss)
        net_session_closed(&s->sessions, ss);
    s->closed++;
}

static int srv_message(struct net_conn *c, const struct net_msg *m, void *data)
{
    (void)c, (void)m, (void)data;
    return 0;
}

static void cli_close(struct net_conn *c, const char *reason, void *data) { (void)c, (void)reason, (void)data; }

static int start(struct server *s)
{
    memset(s, 0, sizeof *s);
    uv_loop_init(&s->loop);
    struct net_handlers h = {.on_message = srv_message, .on_connect = srv_connect, .on_close = srv_close, .data = s};
    char err[256];
    for (int k = 0; k < 50; k++) {
        int port = 20000 + (int)((getpid() * 13 + k * 211) % 30000);
        s->srv = net_server_start(&s->loop, "127.0.0.1", port, &h, err, sizeof err);
        if (s->srv)
            return port;
    }
    return -1;
}

static struct net_conn *dial(struct server *s, int port)
{
    struct net_handlers h = {.on_message = srv_message, .on_close = cli_close};
    char err[256];
    struct net_conn *c = net_connect(&s->loop, "127.0.0.1", port, &h, err, sizeof err);
    assert_non_null(c);
    unsigned before = s->opened;
    for (int i = 0; i < 100 && s->opened == before; i++)
        uv_run(&s->loop, UV_RUN_ONCE);
    assert_int_equal(s->opened, before + 1);
    return c;
}

static void test_session_outlives_its_connection(void **state)
{
    (void)state;
    struct server s;
    int port = start(&s);
    assert_true(port > 0);
    struct net_conn *c1 = dial(&s, port), *c2 = dial(&s, port);
    struct net_session *second = s.sessions.head, *first = second->next;
    assert_non_null(first);
    assert_null(first->next);
    assert_null(second->prev);
    assert_ptr_equal(first->prev, second);
    assert_int_equal(first->refs, 1);

    net_session_ref(first); /* e.g. a request still queued at the scheduler */
    net_conn_close(first->conn, "test");
    assert_int_equal(s.closed, 1);
    assert_null(first->conn); /* a late answer sees the connection gone */
    assert_int_equal(first->refs, 1);
    assert_ptr_equal(s.sessions.head, second);
    assert_null(second->next);
    net_session_unref(first); /* frees it */

    net_session_close_all(&s.sessions, "shutdown");
    assert_null(s.sessions.head);
    assert_int_equal(s.closed, 2);

    net_conn_close(c1, "done");
    net_conn_close(c2, "done");
    net_server_stop(s.srv);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&s.loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_session_outlives_its_connection)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
