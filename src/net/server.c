/* Listening and accepting: each accepted connection is tracked until it closes, so that the
 * server can refuse connections beyond its limit. */
#include "conn_internal.h"
#include <stdio.h>
#include <stdlib.h>

static void set_peer_name(struct net_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char host[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
}

static void track(struct net_server *s, struct net_conn *c)
{
    c->server = s;
    c->srv_next = s->conns;
    if (s->conns)
        s->conns->srv_prev = c;
    s->conns = c;
    s->n_conns++;
}

void server_forget(struct net_server *s, struct net_conn *c)
{
    if (c->srv_prev)
        c->srv_prev->srv_next = c->srv_next;
    else
        s->conns = c->srv_next;
    if (c->srv_next)
        c->srv_next->srv_prev = c->srv_prev;
    c->srv_prev = c->srv_next = NULL;
    c->server = NULL;
    s->n_conns--;
}

static void on_new_connection(uv_stream_t *server, int status)
{
    struct net_server *s = server->data;
    if (status < 0) {
        log_warn("accept failed: %s", uv_strerror(status));
        return;
    }
    struct net_conn *c = conn_new(server->loop, &s->h);
    if (!c)
        return;
    c->accepted = 1;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        net_conn_close(c, "accept failed");
        return;
    }
    set_peer_name(c);
    unsigned max = s->h.limits.max_conns;
    track(s, c);
    if (max && s->n_conns > max) {
        char reason[96];
        snprintf(reason, sizeof reason, "refused: %u connections are open (the limit)", max);
        conn_limit_close(c, LIMIT_REFUSED, reason);
        return;
    }
    conn_start(c, NET_AUTH_ACCEPTOR);
}

struct net_server *net_server_start(uv_loop_t *loop, const char *host, int port, const struct net_handlers *h,
                                    char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    if (net_resolve(host, port, &addr, err, errlen) != 0)
        return NULL;
    struct net_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->h = *h;
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    int rc = uv_tcp_bind(&s->tcp, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->tcp, 1024, on_new_connection);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->tcp, (uv_close_cb)free);
        return NULL;
    }
    return s;
}

int net_server_port(const struct net_server *s)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    if (uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    if (addr.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&addr)->sin_port);
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return -1;
}

/* Stops listening; connections already accepted stay open (their owners close them). */
void net_server_stop(struct net_server *s)
{
    if (!s)
        return;
    while (s->conns)
        server_forget(s, s->conns);
    uv_close((uv_handle_t *)&s->tcp, (uv_close_cb)free);
}
