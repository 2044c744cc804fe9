/* H2O on the controller's loop: one listener, configuration and context per port (API,
 * metrics), every request handed to http_api. Limits: connections per port (more are answered
 * 503 and closed), body size (413, by H2O), the time a request's header and body may take and
 * an idle connection may stay (H2O's request and idle timeouts), HTTP/2 streams per
 * connection. A request whose client goes away (an HTTP/2 stream reset) is detached from its
 * call, whose work still completes.
 * Replies leave once per loop turn, as a native client's do: the turn's replies wait in a list,
 * then one commit of the request rows (controller_commit_requests) precedes them all. A request
 * disposed of while its reply waits (its client went away) leaves the list; its reply is
 * dropped. */
#include "common/log.h"
#include "controller/http/http_api.h"
#include "controller/http/http_front.h"
#include <h2o.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP2_STREAMS 32 /* requests in flight per HTTP/2 connection */
#define PORTS 2          /* [0] the API, [1] metrics */

struct http_front;

struct http_conn {
    uv_tcp_t tcp; /* first: H2O hands it back to on_conn_closed */
    struct http_port *port;
    struct http_conn *prev, *next;
};

struct http_port {
    struct http_front *front;
    unsigned index;
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    uv_tcp_t listener;
    int open; /* conf and ctx initialised */
    int listening;
    struct http_conn *conns;
    unsigned n_conns;
};

struct exchange;

struct http_front {
    struct controller *ctl;
    uv_loop_t *loop;
    struct http_api *api;
    struct http_port ports[PORTS];
    unsigned max_connections;
    uv_idle_t flusher; /* active while replies wait: they leave at the next loop turn */
    struct exchange *waiting, *waiting_tail;
    uint64_t replies_queued; /* replies ever queued: their sequence numbers */
};

struct port_handler {
    h2o_handler_t super;
    struct http_port *port;
};

/* One request on the transport; lives in the request's memory pool. */
struct exchange {
    h2o_req_t *req;
    struct http_front *front;
    struct http_call *call;  /* while the API has not replied */
    struct http_reply reply; /* replied, waiting in front->waiting (its body owned here) */
    int waiting;
    uint64_t seq; /* its place in the order of replies queued */
    struct exchange *prev, *next;
};

static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static void send_reply(h2o_req_t *req, struct http_reply *r)
{
    req->res.status = r->status;
    req->res.reason = reason_of(r->status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, r->content_type,
                   strlen(r->content_type));
    if (r->json_len >= 0) {
        char n[24];
        int len = snprintf(n, sizeof n, "%lld", r->json_len);
        h2o_iovec_t v = h2o_strdup(&req->pool, n, (size_t)len);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("inference-header-content-length"), 0, NULL,
                              v.base, v.len);
    }
    req->res.content_length = r->body_len; /* else H2O's HTTP/1 answer is chunked: more bytes to write and parse */
    h2o_send_inline(req, r->body ? r->body : "", r->body_len);
    free(r->body);
}

static void unlink_waiting(struct http_front *f, struct exchange *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        f->waiting = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        f->waiting_tail = x->prev;
    x->prev = x->next = NULL;
    x->waiting = 0;
}

/* One commit, then every reply queued before it; those queued meanwhile (a reply sent can
 * start the next HTTP/2 request) wait for the next turn's commit. */
static void on_flush_turn(uv_idle_t *idle)
{
    struct http_front *f = idle->data;
    uv_idle_stop(idle);
    uint64_t last = f->replies_queued;
    controller_commit_requests(f->ctl);
    while (f->waiting && f->waiting->seq <= last) {
        struct exchange *x = f->waiting;
        struct http_reply r = x->reply;
        unlink_waiting(f, x);
        send_reply(x->req, &r); /* x may be gone after this */
    }
}

static void on_reply(void *data, struct http_reply *r)
{
    struct exchange *x = data;
    struct http_front *f = x->front;
    x->call = NULL;
    x->reply = *r;
    x->waiting = 1;
    x->seq = ++f->replies_queued;
    x->prev = f->waiting_tail;
    if (f->waiting_tail)
        f->waiting_tail->next = x;
    else
        f->waiting = x;
    f->waiting_tail = x;
    if (!uv_is_active((uv_handle_t *)&f->flusher))
        uv_idle_start(&f->flusher, on_flush_turn);
}

static void on_exchange_dispose(void *p)
{
    struct exchange *x = p;
    if (x->call)
        http_call_detach(x->call);
    if (!x->waiting)
        return;
    unlink_waiting(x->front, x);
    free(x->reply.body);
    http_api_stats(x->front->api)->replies_dropped++;
}

/* Inference-Header-Content-Length, -1 when absent, -2 when not a number. */
static long long json_length(const h2o_req_t *req)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("inference-header-content-length"), -1);
    if (i < 0)
        return -1;
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    long long n = 0;
    for (size_t k = 0; k < v->len; k++) {
        if (v->base[k] < '0' || v->base[k] > '9' || n > (1LL << 50))
            return -2;
        n = n * 10 + (v->base[k] - '0');
    }
    return v->len ? n : -2;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct http_port *p = ((struct port_handler *)self)->port;
    struct exchange *x = h2o_mem_alloc_shared(&req->pool, sizeof *x, on_exchange_dispose);
    *x = (struct exchange){.req = req, .front = p->front};
    struct http_request_view v = {
        .method = req->method.base,
        .method_len = req->method.len,
        .path = req->path.base,
        .path_len = req->path.len,
        .body = (const uint8_t *)req->entity.base,
        .body_len = req->entity.base ? req->entity.len : 0,
        .json_len = json_length(req),
        .metrics_port = p->index == 1,
    };
    x->call = http_api_handle(p->front->api, &v, on_reply, x);
    return 0;
}

/* ---- connections ---- */

static void on_conn_closed(uv_handle_t *h)
{
    struct http_conn *c = (struct http_conn *)h;
    struct http_port *p = c->port;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    p->n_conns--;
    http_api_stats(p->front->api)->connections[p->index]--;
    free(c);
}

static void free_refused(uv_handle_t *h) { free(h); }

/* Over the limit: a 503 if the socket takes it at once, then closed. */
static void refuse(struct http_port *p, uv_tcp_t *tcp)
{
#define BUSY_BODY "too many connections (CLOCKWORK_HTTP_MAX_CONNECTIONS)\n"
    static char busy[200];
    int n = snprintf(busy, sizeof busy,
                     "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     sizeof BUSY_BODY - 1, BUSY_BODY);
    uv_buf_t b = uv_buf_init(busy, (unsigned)n);
    uv_try_write((uv_stream_t *)tcp, &b, 1);
    uv_close((uv_handle_t *)tcp, free_refused);
    http_api_stats(p->front->api)->connections_refused[p->index]++;
}

static void on_accept(uv_stream_t *listener, int status)
{
    struct http_port *p = listener->data;
    if (status != 0)
        return;
    struct http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_init(p->front->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, free_refused);
        return;
    }
    if (p->n_conns >= p->front->max_connections) {
        refuse(p, &c->tcp);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->port = p;
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    p->n_conns++;
    http_api_stats(p->front->api)->connections[p->index]++;
    h2o_accept(&p->accept, h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed));
}

/* ---- ports ---- */

static void init_conf(struct http_port *p, const struct controller_http_options *o)
{
    h2o_config_init(&p->conf);
    p->conf.server_name = h2o_iovec_init(H2O_STRLIT("clockwork"));
    p->conf.max_request_entity_size = o->max_body;
    p->conf.http1.req_timeout = o->timeout_ms;
    p->conf.http2.idle_timeout = o->timeout_ms;
    p->conf.http2.max_concurrent_requests_per_connection = HTTP2_STREAMS;
    h2o_hostconf_t *host = h2o_config_register_host(&p->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    struct port_handler *h = (struct port_handler *)h2o_create_handler(path, sizeof *h);
    h->super.on_req = on_req;
    h->port = p;
}

static int open_port(struct http_front *f, unsigned index, int port, char *err, size_t errlen)
{
    static const char *const what[PORTS] = {"HTTP API (--http-port, CLOCKWORK_HTTP_PORT)",
                                            "metrics (--metrics-port, CLOCKWORK_METRICS_PORT)"};
    struct http_port *p = &f->ports[index];
    p->front = f;
    p->index = index;
    init_conf(p, &controller_options_of(f->ctl)->http);
    h2o_context_init(&p->ctx, f->loop, &p->conf);
    p->accept.ctx = &p->ctx;
    p->accept.hosts = p->conf.hosts;
    p->open = 1;
    struct sockaddr_in addr;
    uv_tcp_init(f->loop, &p->listener);
    p->listener.data = p;
    p->listening = 1;
    int rc = uv_ip4_addr("0.0.0.0", port, &addr);
    if (rc == 0)
        rc = uv_tcp_bind(&p->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&p->listener, 128, on_accept);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen for the %s on 0.0.0.0:%d: %s (0 turns it off)", what[index], port,
                 uv_strerror(rc));
        return -1;
    }
    log_info("HTTP %s listening on 0.0.0.0:%d", index == 0 ? "KServe v2 API" : "metrics (GET /metrics)", port);
    return 0;
}

/* Stops listening and makes every connection see the end of its input: H2O then closes it
 * (after the reply it is writing, if any: shutdown turns keep-alive off). */
static void front_stop(void *state)
{
    struct http_front *f = state;
    for (unsigned i = 0; i < PORTS; i++) {
        struct http_port *p = &f->ports[i];
        if (p->listening)
            uv_close((uv_handle_t *)&p->listener, NULL);
        p->listening = 0;
        if (p->open) /* keep-alive off; not h2o_context_request_shutdown, whose HTTP/2 GOAWAY timer
                      * would outlive the context */
            p->ctx.shutdown_requested = 1;
        for (struct http_conn *c = p->conns; c; c = c->next) {
            uv_os_fd_t fd;
            if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
                shutdown(fd, SHUT_RDWR);
        }
    }
}

static unsigned open_connections(const struct http_front *f)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PORTS; i++)
        n += f->ports[i].n_conns;
    return n;
}

static void free_front(uv_handle_t *h) { free(h->data); }

static void front_destroy(void *state)
{
    struct http_front *f = state;
    front_stop(f);
    for (int i = 0; i < 400 && open_connections(f); i++) { /* up to 2 s */
        uv_run(f->loop, UV_RUN_NOWAIT);
        if (open_connections(f))
            usleep(5000);
    }
    if (open_connections(f)) /* disposing H2O under them would crash: leave them */
        log_error("HTTP front end: %u connections did not close at shutdown", open_connections(f));
    for (unsigned i = 0; i < PORTS && !open_connections(f); i++)
        if (f->ports[i].open) {
            h2o_context_dispose(&f->ports[i].ctx);
            h2o_config_dispose(&f->ports[i].conf);
        }
    http_api_destroy(f->api);
    uv_close((uv_handle_t *)&f->flusher, free_front); /* the controller runs its loop once more */
}

static void *front_start(struct controller *ctl, uv_loop_t *loop, char *err, size_t errlen)
{
    const struct controller_http_options *o = &controller_options_of(ctl)->http;
    struct http_front *f = calloc(1, sizeof *f);
    if (!f || !(f->api = http_api_create(ctl, err, errlen))) {
        free(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->ctl = ctl;
    f->loop = loop;
    uv_idle_init(loop, &f->flusher);
    f->flusher.data = f;
    f->max_connections = o->max_connections;
    int ports[PORTS] = {o->port, o->metrics_port};
    for (unsigned i = 0; i < PORTS; i++)
        if (ports[i] && open_port(f, i, ports[i], err, errlen) != 0) {
            front_destroy(f);
            return NULL;
        }
    log_info("HTTP limits: max_connections=%u per port, max_body=%.1fMB, timeout_ms=%llu", o->max_connections,
             (double)o->max_body / (1 << 20), (unsigned long long)o->timeout_ms);
    return f;
}

const struct controller_frontend http_frontend = {
    .start = front_start,
    .stop = front_stop,
    .destroy = front_destroy,
};
