/* Benchmark load generator: HTTP/1.1 POSTs paced as the native client paces its requests
 * (fixed rate, released by a millisecond libuv timer, every due request sent at once), over a
 * pool of keep-alive connections, so that bench/http_load.sh compares HTTP and the native
 * protocol under the same arrival pattern. Latency is from the write to the last byte of the
 * answer, as the native client's (Content-Length or chunked answers). A request due while every connection is busy
 * waits for the first to be free (counted as "queued"; its latency still starts at its write). usage: http_pace HOST
 * PORT PATH BODY_FILE RATE SECS CONNS OUT_TSV OUT_TSV: one row per answer, "latency_ns<TAB>http_status". Exit 1 on a
 * usage, connection or protocol error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uv.h>

#define MAX_CONNS 256
#define RESPONSE_MAX 65536

struct pace;

struct pace_conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    struct pace *pace;
    int busy;
    uint64_t sent_ns;
    char in[RESPONSE_MAX];
    size_t in_len;
};

struct pace {
    uv_loop_t *loop;
    uv_timer_t tick;
    struct pace_conn conns[MAX_CONNS];
    unsigned n_conns, connected;
    char *request;
    size_t request_len;
    uint64_t start_ns, interval_ns, end_ns, issued, backlog, queued, answered, errors;
    int all_issued;
    FILE *out;
};

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void fail(struct pace *p, const char *what, int rc)
{
    fprintf(stderr, "http_pace: %s: %s\n", what, rc ? uv_strerror(rc) : "bad answer");
    p->errors++;
    uv_stop(p->loop);
}

static void send_on(struct pace_conn *c)
{
    struct pace *p = c->pace;
    uv_buf_t b = uv_buf_init(p->request, (unsigned)p->request_len);
    c->busy = 1;
    c->in_len = 0;
    c->sent_ns = mono_ns();
    int rc = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (rc != (int)p->request_len)
        fail(p, "write", rc < 0 ? rc : 0);
}

static struct pace_conn *idle_conn(struct pace *p)
{
    for (unsigned i = 0; i < p->n_conns; i++)
        if (!p->conns[i].busy)
            return &p->conns[i];
    return NULL;
}

static void release_due(struct pace *p, uint64_t now)
{
    for (uint64_t due = p->start_ns; (due = p->start_ns + p->issued * p->interval_ns) <= now && due < p->end_ns;) {
        p->issued++;
        struct pace_conn *c = idle_conn(p);
        if (c)
            send_on(c);
        else
            p->backlog++, p->queued++;
    }
}

/* As the native client's workload engine: the next due time, rounded up to a millisecond. */
static void on_tick(uv_timer_t *t)
{
    struct pace *p = t->data;
    uint64_t now = mono_ns();
    release_due(p, now);
    uint64_t next = p->start_ns + p->issued * p->interval_ns;
    if (next >= p->end_ns) {
        p->all_issued = 1;
        if (p->answered == p->issued)
            uv_stop(p->loop);
        return;
    }
    uv_timer_start(&p->tick, on_tick, next <= now ? 0 : (next - now + 999999) / 1000000, 0);
}

/* Status and total length once the header and the body are in (Content-Length bytes, or chunks up to
 * the last); 0 if not yet. */
static size_t response_complete(const char *in, size_t len, int *status)
{
    const char *end = strstr(in, "\r\n\r\n");
    if (!end || len < 12)
        return 0;
    *status = atoi(in + 9);
    size_t body = 0;
    for (const char *l = strstr(in, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "content-length:", 15) == 0)
            body = strtoul(l + 17, NULL, 10);
        if (strncasecmp(l + 2, "transfer-encoding: chunked", 26) == 0) {
            const char *last = strstr(end + 2, "\r\n0\r\n\r\n");
            return last ? (size_t)(last + 7 - in) : 0;
        }
    }
    size_t total = (size_t)(end + 4 - in) + body;
    return len >= total ? total : 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct pace_conn *c = h->data;
    (void)hint;
    *b = uv_buf_init(c->in + c->in_len, (unsigned)(RESPONSE_MAX - 1 - c->in_len)); /* room for a NUL */
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct pace_conn *c = s->data;
    struct pace *p = c->pace;
    (void)b;
    if (n < 0)
        return fail(p, "read", (int)n);
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    int status = 0;
    size_t total = response_complete(c->in, c->in_len, &status);
    if (!total)
        return c->in_len == RESPONSE_MAX - 1 ? fail(p, "answer too long", 0) : (void)0;
    uint64_t latency = mono_ns() - c->sent_ns;
    if (total != c->in_len) {
        fprintf(stderr, "http_pace: %zu bytes where the answer has %zu:\n%s\n", c->in_len, total, c->in);
        return fail(p, "more than one answer to a request", 0);
    }
    fprintf(p->out, "%llu\t%d\n", (unsigned long long)latency, status);
    p->answered++;
    c->busy = 0;
    if (p->backlog)
        p->backlog--, send_on(c);
    if (p->all_issued && p->answered == p->issued)
        uv_stop(p->loop);
}

static void on_connect(uv_connect_t *r, int status)
{
    struct pace_conn *c = r->data;
    struct pace *p = c->pace;
    if (status != 0)
        return fail(p, "connect", status);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (++p->connected < p->n_conns)
        return;
    p->start_ns = mono_ns();
    p->end_ns = p->start_ns + p->end_ns;
    on_tick(&p->tick);
}

static char *request_of(const char *host, const char *path, const char *body_file, size_t *len)
{
    FILE *f = fopen(body_file, "rb");
    static char body[RESPONSE_MAX];
    size_t n = f ? fread(body, 1, sizeof body, f) : 0;
    if (f)
        fclose(f);
    if (!n)
        return NULL;
    char *r = malloc(n + 512);
    if (!r)
        return NULL;
    int h = snprintf(r, 512,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, host, n);
    memcpy(r + h, body, n);
    *len = (size_t)h + n;
    return r;
}

int main(int argc, char **argv)
{
    static struct pace p;
    if (argc != 9) {
        fprintf(stderr, "usage: http_pace HOST PORT PATH BODY_FILE RATE SECS CONNS OUT_TSV\n");
        return 1;
    }
    double rate = atof(argv[5]), secs = atof(argv[6]);
    p.n_conns = (unsigned)atoi(argv[7]);
    struct sockaddr_in addr;
    p.request = request_of(argv[1], argv[3], argv[4], &p.request_len);
    if (rate <= 0 || secs <= 0 || p.n_conns < 1 || p.n_conns > MAX_CONNS || !p.request ||
        uv_ip4_addr(argv[1], atoi(argv[2]), &addr) != 0 || !(p.out = fopen(argv[8], "w"))) {
        fprintf(stderr,
                "http_pace: bad arguments (RATE, SECS > 0, 1 <= CONNS <= %d, BODY_FILE readable, "
                "OUT_TSV writable)\n",
                MAX_CONNS);
        return 1;
    }
    p.interval_ns = (uint64_t)(1e9 / rate);
    p.end_ns = (uint64_t)(secs * 1e9); /* made absolute once connected */
    p.loop = uv_default_loop();
    uv_timer_init(p.loop, &p.tick);
    p.tick.data = &p;
    for (unsigned i = 0; i < p.n_conns; i++) {
        struct pace_conn *c = &p.conns[i];
        c->pace = &p;
        uv_tcp_init(p.loop, &c->tcp);
        c->tcp.data = c;
        c->connect.data = c;
        uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&addr, on_connect);
    }
    uv_run(p.loop, UV_RUN_DEFAULT);
    fclose(p.out);
    printf("http_pace: %llu sent, %llu answered, %llu queued behind busy connections\n", (unsigned long long)p.issued,
           (unsigned long long)p.answered, (unsigned long long)p.queued);
    return p.errors || p.answered != p.issued;
}
