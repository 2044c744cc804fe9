#include "conn.h"
#include "common/clock.h"
#include "common/log.h"
#include "proto/frame.h"
#include "skew.h"
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct net_conn {
    uv_tcp_t tcp;
    struct net_handlers h;
    void *user;
    char peer[128];
    struct frame_reader reader;
    uint64_t msg_start_time; /* when the first bytes of the current message arrived */
    int closing;
    int connected;
    uv_connect_t connect_req;
    struct net_skew skew;
    struct net_stats stats;
    unsigned writes_pending;
};

struct net_server {
    uv_tcp_t tcp;
    struct net_handlers h;
};

struct write_req {
    uv_write_t req;
    uint8_t *head; /* pre-header + header */
    void *body;
    int own_body; /* 1: free body after the write; 0: body is borrowed (shared) */
};

enum body_mode { BODY_COPY, BODY_OWNED, BODY_SHARED };

#define READ_CHUNK (256 * 1024)

static void on_closed(uv_handle_t *handle)
{
    struct net_conn *c = handle->data;
    frame_reader_free(&c->reader);
    free(c);
}

void net_conn_close(struct net_conn *c, const char *reason)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (c->h.on_close)
        c->h.on_close(c, reason ? reason : "closed", c->h.data);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static struct net_conn *conn_new(uv_loop_t *loop, const struct net_handlers *h)
{
    struct net_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    c->h = *h;
    if (c->h.max_body == 0)
        c->h.max_body = FRAME_MAX_BODY_LEN;
    frame_reader_init(&c->reader, c->h.max_body);
    net_skew_init(&c->skew);
    return c;
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    struct net_conn *c = handle->data;
    size_t avail = 0;
    uint8_t *p = frame_reader_reserve(&c->reader, READ_CHUNK, &avail);
    *out = p ? uv_buf_init((char *)p, (unsigned)(avail > UINT32_MAX ? UINT32_MAX : avail)) : uv_buf_init(NULL, 0);
}

static void reject_frame(struct net_conn *c, const struct frame_preheader *ph, const char *reason)
{
    char msg[256];
    snprintf(msg, sizeof msg, "malformed frame from %s: %s (header_len=%llu body_len=%llu)", c->peer, reason,
             (unsigned long long)ph->header_len, (unsigned long long)ph->body_len);
    log_warn("%s", msg);
    net_conn_close(c, msg);
}

/* Delivers every complete message buffered. */
static void deliver_messages(struct net_conn *c, uint64_t now)
{
    struct frame_message fm;
    const char *reason = NULL;
    int rc;
    while (!c->closing && (rc = frame_reader_next(&c->reader, &fm, &reason)) != 0) {
        if (rc < 0) {
            reject_frame(c, &fm.ph, reason);
            return;
        }
        struct net_msg m = {
            .type = fm.ph.msg_type,
            .id = fm.ph.msg_id,
            .header = fm.header,
            .header_len = fm.ph.header_len,
            .body = fm.body,
            .body_len = fm.ph.body_len,
            .recv_time = c->msg_start_time ? c->msg_start_time : now,
            .send_time = fm.ph.send_time,
        };
        net_skew_update(&c->skew, m.recv_time, fm.ph.send_time, fm.ph.peer_offset);
        c->stats.msgs_received++;
        c->stats.bytes_received += FRAME_PREHEADER_LEN + fm.ph.header_len + fm.ph.body_len;
        c->msg_start_time = frame_reader_pending(&c->reader) ? now : 0;
        if (c->h.on_message && c->h.on_message(c, &m, c->h.data) != 0) {
            net_conn_close(c, "message rejected");
            return;
        }
    }
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct net_conn *c = stream->data;
    if (nread < 0) {
        net_conn_close(c, nread == UV_EOF ? "peer closed the connection" : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    uint64_t now = clock_now_ns();
    if (frame_reader_pending(&c->reader) == 0)
        c->msg_start_time = now;
    frame_reader_commit(&c->reader, (size_t)nread);
    deliver_messages(c, now);
    /* Keep a large idle buffer from pinning memory. */
    if (!c->closing)
        frame_reader_compact(&c->reader, 4 * READ_CHUNK);
}

static void start_conn(struct net_conn *c)
{
    c->connected = 1;
    uv_tcp_nodelay(&c->tcp, 1);
    if (c->h.on_connect)
        c->h.on_connect(c, 0, c->h.data);
    if (!c->closing)
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

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
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        net_conn_close(c, "accept failed");
        return;
    }
    set_peer_name(c);
    start_conn(c);
}

static int resolve(const char *host, int port, struct sockaddr_storage *out, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

struct net_server *net_server_start(uv_loop_t *loop, const char *host, int port, const struct net_handlers *h,
                                    char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    if (resolve(host, port, &addr, err, errlen) != 0)
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

void net_server_stop(struct net_server *s)
{
    if (s)
        uv_close((uv_handle_t *)&s->tcp, (uv_close_cb)free);
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct net_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "connect to %s failed: %s", c->peer, uv_strerror(status));
        if (c->h.on_connect)
            c->h.on_connect(c, status, c->h.data);
        net_conn_close(c, msg);
        return;
    }
    start_conn(c);
}

struct net_conn *net_connect(uv_loop_t *loop, const char *host, int port, const struct net_handlers *h, char *err,
                             size_t errlen)
{
    struct sockaddr_storage addr;
    if (resolve(host, port, &addr, err, errlen) != 0)
        return NULL;
    struct net_conn *c = conn_new(loop, h);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    c->connect_req.data = c;
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, (struct sockaddr *)&addr, connect_cb);
    if (rc != 0) {
        snprintf(err, errlen, "connect to %s:%d failed: %s", host, port, uv_strerror(rc));
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        return NULL;
    }
    return c;
}

static void write_cb(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct net_conn *c = req->handle->data;
    free(w->head);
    if (w->own_body)
        free(w->body);
    free(w);
    c->writes_pending--;
    if (status < 0 && status != UV_ECANCELED && !c->closing)
        net_conn_close(c, uv_strerror(status));
    if (c->h.on_write_done && !c->closing)
        c->h.on_write_done(c, c->h.data);
}

static int send_frame(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header, void *body,
                      size_t body_len, enum body_mode mode)
{
    int own_body = mode == BODY_OWNED;
    if (c->closing || !c->connected) {
        if (own_body)
            free(body);
        return -1;
    }
    size_t hlen = header ? protobuf_c_message_get_packed_size(header) : 0;
    struct write_req *w = calloc(1, sizeof *w);
    uint8_t *head = malloc(FRAME_PREHEADER_LEN + hlen);
    if (!w || !head) {
        free(w);
        free(head);
        if (own_body)
            free(body);
        return -1;
    }
    if (header)
        protobuf_c_message_pack(header, head + FRAME_PREHEADER_LEN);
    struct frame_preheader ph = {
        .header_len = hlen,
        .body_len = body_len,
        .msg_type = type,
        .msg_id = id,
        .send_time = clock_now_ns(),
        .peer_offset = net_skew_local_min(&c->skew),
    };
    frame_preheader_encode(&ph, head);
    w->head = head;
    uv_buf_t bufs[2] = {uv_buf_init((char *)head, (unsigned)(FRAME_PREHEADER_LEN + hlen))};
    unsigned nbufs = 1;
    if (body_len > 0) {
        if (mode == BODY_SHARED) {
            w->body = body; /* borrowed: own_body stays 0 */
        } else if (own_body) {
            w->body = body;
        } else {
            w->body = malloc(body_len);
            if (!w->body) {
                free(head);
                free(w);
                return -1;
            }
            memcpy(w->body, body, body_len);
        }
        w->own_body = mode != BODY_SHARED;
        bufs[1] = uv_buf_init(w->body, (unsigned)body_len);
        nbufs = 2;
    } else if (own_body) {
        free(body);
    }
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, nbufs, write_cb);
    if (rc != 0) {
        free(w->head);
        if (w->own_body)
            free(w->body);
        free(w);
        net_conn_close(c, uv_strerror(rc));
        return -1;
    }
    c->writes_pending++;
    c->stats.msgs_sent++;
    c->stats.bytes_sent += FRAME_PREHEADER_LEN + hlen + body_len;
    return 0;
}

int net_conn_send(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header, const void *body,
                  size_t body_len)
{
    return send_frame(c, type, id, header, (void *)body, body_len, BODY_COPY);
}

int net_conn_send_shared(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header,
                         const void *body, size_t body_len)
{
    return send_frame(c, type, id, header, (void *)body, body_len, BODY_SHARED);
}

int net_conn_send_owned(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header, void *body,
                        size_t body_len)
{
    return send_frame(c, type, id, header, body, body_len, BODY_OWNED);
}

void net_conn_set_data(struct net_conn *c, void *data) { c->user = data; }
void *net_conn_data(const struct net_conn *c) { return c->user; }
const char *net_conn_peer(const struct net_conn *c) { return c->peer; }
int64_t net_conn_clock_offset(const struct net_conn *c) { return net_skew_offset(&c->skew); }
uint64_t net_conn_rtt(const struct net_conn *c) { return net_skew_rtt(&c->skew); }
size_t net_conn_write_queue_bytes(const struct net_conn *c) { return c->tcp.write_queue_size; }
unsigned net_conn_writes_pending(const struct net_conn *c) { return c->writes_pending; }
const struct net_stats *net_conn_stats(const struct net_conn *c) { return &c->stats; }

int net_parse_address(const char *addr, char *host, size_t hostlen, int *port, int default_port)
{
    const char *colon = strrchr(addr, ':');
    size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
    if (n == 0 || n >= hostlen)
        return -1;
    memcpy(host, addr, n);
    host[n] = '\0';
    if (!colon) {
        *port = default_port;
        return 0;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || p <= 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}
