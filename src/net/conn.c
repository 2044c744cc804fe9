/* A connection: reading and reassembling frames, writing them, the per-peer limits
 * (deadlines on one timer, unsent bytes, pausing) and the optional handshake. */
#include "common/clock.h"
#include "conn_internal.h"
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum body_mode { BODY_COPY, BODY_OWNED, BODY_SHARED };

#define READ_CHUNK (256 * 1024)
#define DEFAULT_HANDSHAKE_MS 10000 /* handshake and flush-before-close without a frame timeout */

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void arm_deadline(struct net_conn *c);
static int frame_out(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header, void *body,
                     size_t body_len, enum body_mode mode);
static int flush_staged(struct net_conn *c);

/* ---- lifecycle ---- */

static void discard_staged(struct net_conn *c);

static void on_handle_closed(uv_handle_t *handle)
{
    struct net_conn *c = handle->data;
    if (--c->handles_open > 0)
        return;
    discard_staged(c);
    frame_reader_free(&c->reader);
    free(c);
}

static void announce(struct net_conn *c, int status);

void net_conn_close(struct net_conn *c, const char *reason)
{
    if (c->closing)
        return;
    if (c->connected && !c->accepted && !c->announced)
        announce(c, UV_EACCES); /* a dialer's handshake did not finish: its owner learns why */
    c->closing = 1;
    if (c->server)
        server_forget(c->server, c);
    if (c->announced && c->h.on_close)
        c->h.on_close(c, reason ? reason : "closed", c->h.data);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->flusher, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static int is_auth_type(uint64_t type) { return (type & ~(uint64_t)0xF) == 0x43570000; }

/* Before the handshake only its frames may come (and they are small); then the owner's limits. */
static uint64_t conn_body_limit(uint64_t msg_type, void *ctx)
{
    struct net_conn *c = ctx;
    if (!c->ready)
        return is_auth_type(msg_type) ? NET_AUTH_NONCE_LEN + NET_AUTH_MAC_LEN : 0;
    return c->h.max_body_of ? c->h.max_body_of(msg_type, c->h.data) : UINT64_MAX;
}

struct net_conn *conn_new(uv_loop_t *loop, const struct net_handlers *h)
{
    struct net_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    uv_idle_init(loop, &c->flusher);
    c->handles_open = 3;
    c->tcp.data = c->timer.data = c->flusher.data = c;
    c->h = *h;
    if (c->h.max_body == 0)
        c->h.max_body = FRAME_MAX_BODY_LEN;
    frame_reader_init(&c->reader, c->h.max_body);
    if (c->h.max_header)
        c->reader.max_header = c->h.max_header;
    c->reader.body_limit = conn_body_limit;
    c->reader.limit_ctx = c;
    net_skew_init(&c->skew);
    return c;
}

void conn_limit_close(struct net_conn *c, enum conn_limit_kind kind, const char *reason)
{
    unsigned long long suppressed = 0;
    if (!c->server || log_limit_allow(&c->server->log_limits[kind], clock_mono_ns(), &suppressed)) {
        if (suppressed)
            log_warn("closing connection %s: %s (and %llu more such lines suppressed)", c->peer, reason, suppressed);
        else
            log_warn("closing connection %s: %s", c->peer, reason);
    }
    net_conn_close(c, reason);
}

/* Closes at the next loop turn: for a limit hit inside a send, whose caller still uses c. */
static void close_soon(struct net_conn *c, const char *reason)
{
    if (c->pending_close[0] || c->closing)
        return;
    snprintf(c->pending_close, sizeof c->pending_close, "%s", reason);
    arm_deadline(c);
}

static void on_flushed(uv_shutdown_t *req, int status)
{
    (void)status;
    struct net_conn *c = req->data;
    if (!c->closing)
        net_conn_close(c, c->flush_reason);
}

static void update_reading(struct net_conn *c);

void net_conn_close_after_flush(struct net_conn *c, const char *reason)
{
    if (c->closing || c->flushing)
        return;
    c->flushing = 1;
    c->flush_start_ms = uv_now(c->tcp.loop);
    snprintf(c->flush_reason, sizeof c->flush_reason, "%s", reason);
    update_reading(c);
    if (flush_staged(c) < 0)
        return;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_flushed) != 0) {
        net_conn_close(c, reason);
        return;
    }
    arm_deadline(c);
}

/* ---- deadlines: one timer per connection, armed for the earliest; a deadline that moved
 * later is noticed when the timer fires, so the hot path rarely touches the timer (only when
 * a deadline comes closer: a frame left incomplete) ---- */

static uint64_t handshake_ms(const struct net_conn *c)
{
    return c->h.limits.frame_timeout_ms ? c->h.limits.frame_timeout_ms : DEFAULT_HANDSHAKE_MS;
}

static uint64_t idle_from(const struct net_conn *c)
{
    return c->last_recv_ms > c->idle_spared_ms ? c->last_recv_ms : c->idle_spared_ms;
}

static uint64_t earliest(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Loop time (ms) of the next check, or UINT64_MAX for none. */
static uint64_t next_deadline(const struct net_conn *c)
{
    const struct net_limits *l = &c->h.limits;
    uint64_t next = UINT64_MAX;
    if (c->pending_close[0])
        return 0;
    if (c->connected && !c->ready)
        next = c->opened_ms + handshake_ms(c);
    if (c->flushing)
        next = earliest(next, c->flush_start_ms + handshake_ms(c));
    if (l->frame_timeout_ms && frame_reader_pending(&c->reader))
        next = earliest(next, c->frame_start_ms + l->frame_timeout_ms);
    if (l->idle_timeout_ms && c->ready)
        next = earliest(next, idle_from(c) + l->idle_timeout_ms);
    return next;
}

/* A reason to close c at `now`, written to reason, with its kind (+1); 0 if none. */
static int deadline_passed(struct net_conn *c, uint64_t now, char *reason, size_t len)
{
    const struct net_limits *l = &c->h.limits;
    if (c->connected && !c->ready && now >= c->opened_ms + handshake_ms(c)) {
        snprintf(reason, len, "no authentication within %llu ms", (unsigned long long)handshake_ms(c));
        return 1 + LIMIT_AUTH;
    }
    if (c->flushing && now >= c->flush_start_ms + handshake_ms(c)) {
        snprintf(reason, len, "%s (its last reply was not read within %llu ms)", c->flush_reason,
                 (unsigned long long)handshake_ms(c));
        return 1 + LIMIT_REFUSED;
    }
    if (l->frame_timeout_ms && frame_reader_pending(&c->reader) && now >= c->frame_start_ms + l->frame_timeout_ms) {
        snprintf(reason, len, "frame incomplete after %llu ms (%zu bytes of it received; limit %llu ms)",
                 (unsigned long long)(now - c->frame_start_ms), frame_reader_pending(&c->reader),
                 (unsigned long long)l->frame_timeout_ms);
        return 1 + LIMIT_FRAME;
    }
    if (!l->idle_timeout_ms || !c->ready || now < idle_from(c) + l->idle_timeout_ms)
        return 0;
    if (c->h.busy && c->h.busy(c, c->h.data)) {
        c->idle_spared_ms = now;
        return 0;
    }
    snprintf(reason, len, "idle for %llu ms (limit %llu ms)", (unsigned long long)(now - c->last_recv_ms),
             (unsigned long long)l->idle_timeout_ms);
    return 1 + LIMIT_IDLE;
}

static void on_deadline(uv_timer_t *t)
{
    struct net_conn *c = t->data;
    char reason[256];
    if (c->pending_close[0]) { /* logged when it was decided */
        net_conn_close(c, c->pending_close);
        return;
    }
    int kind = deadline_passed(c, uv_now(t->loop), reason, sizeof reason);
    if (kind) {
        conn_limit_close(c, (enum conn_limit_kind)(kind - 1), reason);
        return;
    }
    arm_deadline(c);
}

static void arm_deadline(struct net_conn *c)
{
    if (c->closing)
        return;
    uint64_t next = next_deadline(c), now = uv_now(c->tcp.loop);
    if (next == UINT64_MAX)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_deadline, next > now ? next - now : 0, 0);
}

/* After a read: arms the timer only if a deadline came closer than the one it waits for. */
static void watch_deadlines(struct net_conn *c)
{
    uint64_t next = next_deadline(c);
    if (next == UINT64_MAX)
        return;
    if (!uv_is_active((uv_handle_t *)&c->timer) || uv_now(c->tcp.loop) + uv_timer_get_due_in(&c->timer) > next)
        arm_deadline(c);
}

/* ---- reading and backpressure ---- */

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    struct net_conn *c = handle->data;
    size_t avail = 0;
    uint8_t *p = frame_reader_reserve(&c->reader, READ_CHUNK, &avail);
    *out = p ? uv_buf_init((char *)p, (unsigned)(avail > UINT32_MAX ? UINT32_MAX : avail)) : uv_buf_init(NULL, 0);
}

static void update_reading(struct net_conn *c)
{
    int want = c->started && !c->paused && !c->closing && !c->flushing && !c->pending_close[0];
    if (want && !c->reading)
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0;
    else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

void net_conn_pause(struct net_conn *c, unsigned why)
{
    c->paused |= why;
    update_reading(c);
}

void net_conn_resume(struct net_conn *c, unsigned why)
{
    c->paused &= ~why;
    update_reading(c);
}

unsigned net_conn_paused(const struct net_conn *c) { return c->paused; }

static void reject_frame(struct net_conn *c, const struct frame_preheader *ph, const char *reason)
{
    char msg[256];
    snprintf(msg, sizeof msg, "malformed frame: %s (type=%llu header_len=%llu body_len=%llu)", reason,
             (unsigned long long)ph->msg_type, (unsigned long long)ph->header_len, (unsigned long long)ph->body_len);
    conn_limit_close(c, LIMIT_MALFORMED, msg);
}

/* ---- handshake (auth.h): frames before it completes never reach the owner ---- */

static void announce(struct net_conn *c, int status)
{
    c->announced = 1;
    c->ready = status == 0;
    if (c->h.on_connect)
        c->h.on_connect(c, status, c->h.data);
}

static void fail_handshake(struct net_conn *c, const char *reason)
{
    if (c->accepted) /* never announced: say why here */
        conn_limit_close(c, LIMIT_AUTH, reason);
    else
        net_conn_close(c, reason); /* the owner hears it through on_connect and on_close */
}

static int send_auth(struct net_conn *c, const struct net_auth_frame *f)
{
    if (!f->type)
        return 0;
    return frame_out(c, f->type, 0, NULL, (void *)f->body, f->len, BODY_COPY);
}

static void handle_auth_frame(struct net_conn *c, const struct net_msg *m)
{
    struct net_auth_frame out;
    const char *reason = NULL;
    int rc = net_auth_receive(&c->auth, m->type, m->body, m->body_len, &out, &reason);
    if (rc < 0) {
        fail_handshake(c, reason);
        return;
    }
    if (send_auth(c, &out) != 0)
        return;
    if (rc == 1) {
        announce(c, 0);
        arm_deadline(c); /* the handshake deadline is gone; an idle one may start */
    }
}

static int deliver(struct net_conn *c, const struct net_msg *m)
{
    if (!c->ready) {
        handle_auth_frame(c, m);
        return 0;
    }
    if (!c->h.secret && is_auth_type(m->type)) {
        conn_limit_close(c, LIMIT_AUTH, "the peer asks for authentication: set CLOCKWORK_SECRET_FILE here too");
        return -1;
    }
    if (c->h.on_message && c->h.on_message(c, m, c->h.data) != 0) {
        net_conn_close(c, "message rejected");
        return -1;
    }
    return 0;
}

/* Delivers every complete message buffered. */
static void deliver_messages(struct net_conn *c, uint64_t now)
{
    struct frame_message fm;
    const char *reason = NULL;
    int rc;
    while (!c->closing && !c->flushing && (rc = frame_reader_next(&c->reader, &fm, &reason)) != 0) {
        if (rc < 0 && !c->ready && c->h.secret && !is_auth_type(fm.ph.msg_type)) {
            handle_auth_frame(c, &(struct net_msg){.type = fm.ph.msg_type}); /* refused for what it is */
            return;
        }
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
        c->frame_start_ms = c->last_recv_ms;
        if (deliver(c, &m) != 0)
            return;
    }
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct net_conn *c = stream->data;
    if (nread < 0 && !c->ready && c->h.secret) {
        net_conn_close(c, "the peer closed the connection during authentication (does it hold the same secret?)");
        return;
    }
    if (nread < 0) {
        net_conn_close(c, nread == UV_EOF ? "peer closed the connection" : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    uint64_t now = clock_now_ns();
    c->last_recv_ms = uv_now(stream->loop);
    if (frame_reader_pending(&c->reader) == 0) {
        c->msg_start_time = now;
        c->frame_start_ms = c->last_recv_ms;
    }
    frame_reader_commit(&c->reader, (size_t)nread);
    deliver_messages(c, now);
    if (c->closing)
        return;
    frame_reader_compact(&c->reader, 4 * READ_CHUNK); /* keep a large idle buffer from pinning memory */
    watch_deadlines(c);
}

void conn_start(struct net_conn *c, enum net_auth_role role)
{
    c->connected = c->started = 1;
    c->opened_ms = c->last_recv_ms = uv_now(c->tcp.loop);
    uv_tcp_nodelay(&c->tcp, 1);
    if (c->h.secret) {
        struct net_auth_frame f;
        if (net_auth_begin(&c->auth, c->h.secret, role, &f) != 0) {
            fail_handshake(c, "no randomness for the authentication handshake");
            return;
        }
        if (send_auth(c, &f) != 0)
            return;
    } else {
        announce(c, 0);
    }
    if (c->closing)
        return;
    update_reading(c);
    arm_deadline(c);
}

/* ---- writing: frames are staged and leave together, once per loop turn (the flusher idle
 * handle), in one writev; what the kernel does not take goes on in a libuv write request ---- */

/* A staged stretch of bytes: in the stage buffer (ext NULL, at off), or a body outside it. */
struct out_seg {
    const uint8_t *ext;
    size_t off, len;
    void *owned; /* freed once written (an owned or large copied body) */
};

/* Frames the kernel did not take at once: the stage buffer and segments move here. */
struct write_req {
    uv_write_t req;
    uint8_t *stage;
    struct out_seg *segs;
    size_t n_segs;
    unsigned n_frames;
};

#define STAGE_KEEP (1 << 20) /* a stage buffer larger than this is not kept for reuse */

static void free_segs(struct out_seg *segs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(segs[i].owned);
}

/* Drops what is staged (a closed connection). */
static void discard_staged(struct net_conn *c)
{
    free_segs(c->segs, c->n_segs);
    free(c->segs);
    free(c->stage);
    c->segs = NULL;
    c->stage = NULL;
    c->n_segs = c->cap_segs = c->staged_frames = 0;
    c->stage_len = c->stage_cap = c->staged_bytes = 0;
}

static void write_req_free(struct write_req *w)
{
    free_segs(w->segs, w->n_segs);
    free(w->segs);
    free(w->stage);
    free(w);
}

static size_t unsent_bytes(const struct net_conn *c) { return c->staged_bytes + c->tcp.write_queue_size; }

/* Sends finished: reading resumes once a quarter of the unsent limit is left. */
static void writes_finished(struct net_conn *c, unsigned frames)
{
    c->writes_pending -= frames;
    if ((c->paused & NET_PAUSE_UNSENT) && unsent_bytes(c) <= c->h.limits.max_unsent / 4)
        net_conn_resume(c, NET_PAUSE_UNSENT);
}

static void write_cb(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct net_conn *c = req->handle->data;
    unsigned frames = w->n_frames;
    write_req_free(w);
    if (status < 0 && status != UV_ECANCELED && !c->closing)
        net_conn_close(c, uv_strerror(status));
    if (c->closing)
        return;
    writes_finished(c, frames);
    if (c->h.on_write_done)
        c->h.on_write_done(c, c->h.data);
}

static int reserve(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Room for a frame: its head (and a copied body) in the stage buffer, two segments. */
static int stage_reserve(struct net_conn *c, size_t bytes)
{
    if (reserve((void **)&c->stage, &c->stage_cap, c->stage_len + bytes, 1) != 0 ||
        reserve((void **)&c->segs, &c->cap_segs, c->n_segs + 2, sizeof *c->segs) != 0)
        return -1;
    return 0;
}

/* n bytes at the end of the stage buffer (reserved), in the last staged segment. */
static uint8_t *stage_bytes(struct net_conn *c, size_t n)
{
    struct out_seg *last = c->n_segs ? &c->segs[c->n_segs - 1] : NULL;
    if (last && !last->ext && last->off + last->len == c->stage_len)
        last->len += n;
    else
        c->segs[c->n_segs++] = (struct out_seg){.off = c->stage_len, .len = n};
    uint8_t *p = c->stage + c->stage_len;
    c->stage_len += n;
    c->staged_bytes += n;
    return p;
}

static void stage_body(struct net_conn *c, void *body, size_t len, enum body_mode mode)
{
    if (mode == BODY_COPY) {
        memcpy(stage_bytes(c, len), body, len);
        return;
    }
    c->segs[c->n_segs++] = (struct out_seg){.ext = body, .len = len, .owned = mode == BODY_OWNED ? body : NULL};
    c->staged_bytes += len;
}

static void fill_bufs(const struct net_conn *c, uv_buf_t *bufs)
{
    for (unsigned i = 0; i < c->n_segs; i++) {
        const struct out_seg *s = &c->segs[i];
        bufs[i] = uv_buf_init((char *)(s->ext ? s->ext : c->stage + s->off), (unsigned)s->len);
    }
}

/* The rest (from byte `written` on) goes into a write request that takes the stage buffer and
 * segments; the connection starts a fresh stage. */
static int queue_rest(struct net_conn *c, uv_buf_t *bufs, size_t written)
{
    unsigned first = 0;
    while (written >= bufs[first].len)
        written -= bufs[first++].len;
    bufs[first].base += written;
    bufs[first].len -= written;
    struct write_req *w = calloc(1, sizeof *w);
    if (!w)
        return UV_ENOMEM;
    *w = (struct write_req){.stage = c->stage, .segs = c->segs, .n_segs = c->n_segs, .n_frames = c->staged_frames};
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs + first, c->n_segs - first, write_cb);
    if (rc != 0) {
        free(w); /* the connection still owns the stage: discarded at close */
        return rc;
    }
    c->stage = NULL;
    c->segs = NULL;
    c->n_segs = c->cap_segs = c->staged_frames = 0;
    c->stage_len = c->stage_cap = c->staged_bytes = 0;
    return 0;
}

/* Hands what is staged to the kernel. Returns the frames that are completely written, or -1
 * if the connection was closed on a write error. */
static int flush_staged(struct net_conn *c)
{
    if (c->closing || !c->n_segs)
        return 0;
    if (c->h.before_flush)
        c->h.before_flush(c, c->h.data);
    uv_buf_t small[64], *bufs = c->n_segs <= 64 ? small : malloc(c->n_segs * sizeof *bufs);
    if (!bufs) {
        net_conn_close(c, "out of memory writing");
        return -1;
    }
    fill_bufs(c, bufs);
    int rc = c->tcp.write_queue_size ? UV_EAGAIN : uv_try_write((uv_stream_t *)&c->tcp, bufs, c->n_segs);
    size_t written = rc > 0 ? (size_t)rc : 0;
    unsigned frames = 0;
    if ((rc >= 0 || rc == UV_EAGAIN) && written < c->staged_bytes) {
        rc = queue_rest(c, bufs, written);
    } else if (rc >= 0) {
        frames = c->staged_frames;
        free_segs(c->segs, c->n_segs);
        c->n_segs = c->staged_frames = 0;
        c->stage_len = c->staged_bytes = 0;
        if (c->stage_cap > STAGE_KEEP) {
            free(c->stage);
            c->stage = NULL;
            c->stage_cap = 0;
        }
    }
    if (bufs != small)
        free(bufs);
    if (rc < 0) {
        net_conn_close(c, uv_strerror(rc));
        return -1;
    }
    return (int)frames;
}

#define FLUSH_ROUNDS 16 /* sends started by on_write_done go out in the same turn, up to this */

static void on_flush_turn(uv_idle_t *idle)
{
    struct net_conn *c = idle->data;
    for (int round = 0; round < FLUSH_ROUNDS && c->n_segs && !c->closing; round++) {
        int frames = flush_staged(c);
        if (frames <= 0)
            break;
        writes_finished(c, (unsigned)frames);
        if (c->h.on_write_done)
            c->h.on_write_done(c, c->h.data);
    }
    if (!c->n_segs && !c->closing)
        uv_idle_stop(idle);
}

/* Frames and stages one message, whatever the connection's state. */
static int frame_out(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header, void *body,
                     size_t body_len, enum body_mode mode)
{
    size_t hlen = header ? protobuf_c_message_get_packed_size(header) : 0;
    size_t head_len = FRAME_PREHEADER_LEN + hlen;
    if (stage_reserve(c, head_len + (mode == BODY_COPY ? body_len : 0)) != 0) {
        if (mode == BODY_OWNED)
            free(body);
        return -1;
    }
    uint8_t *head = stage_bytes(c, head_len);
    if (body_len > 0)
        stage_body(c, body, body_len, mode);
    else if (mode == BODY_OWNED)
        free(body);
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
    if (!uv_is_active((uv_handle_t *)&c->flusher))
        uv_idle_start(&c->flusher, on_flush_turn);
    c->staged_frames++;
    c->writes_pending++;
    c->stats.msgs_sent++;
    c->stats.bytes_sent += FRAME_PREHEADER_LEN + hlen + body_len;
    return 0;
}

/* A peer that does not read its replies: stop reading its requests; beyond the limit, drop it. */
static void check_unsent(struct net_conn *c)
{
    size_t max = c->h.limits.max_unsent, queued = unsent_bytes(c);
    if (!max || queued <= max / 2)
        return;
    if (queued <= max) {
        net_conn_pause(c, NET_PAUSE_UNSENT);
        return;
    }
    char reason[160];
    snprintf(reason, sizeof reason, "the peer is not reading: %zu bytes unsent (limit %zu)", queued, max);
    log_warn("closing connection %s: %s", c->peer, reason);
    close_soon(c, reason);
}

static int send_frame(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header, void *body,
                      size_t body_len, enum body_mode mode)
{
    if (!c->ready || c->closing || c->flushing || c->pending_close[0]) {
        if (mode == BODY_OWNED)
            free(body);
        return -1;
    }
    int rc = frame_out(c, type, id, header, body, body_len, mode);
    if (rc == 0)
        check_unsent(c);
    return rc;
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

/* ---- dialing ---- */

int net_resolve(const char *host, int port, struct sockaddr_storage *out, char *err, size_t errlen)
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

static void connect_cb(uv_connect_t *req, int status)
{
    struct net_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "connect to %s failed: %s", c->peer, uv_strerror(status));
        announce(c, status);
        net_conn_close(c, msg);
        return;
    }
    conn_start(c, NET_AUTH_DIALER);
}

struct net_conn *net_connect(uv_loop_t *loop, const char *host, int port, const struct net_handlers *h, char *err,
                             size_t errlen)
{
    struct sockaddr_storage addr;
    if (net_resolve(host, port, &addr, err, errlen) != 0)
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
        net_conn_close(c, err); /* not announced: no callbacks */
        return NULL;
    }
    return c;
}

/* ---- accessors ---- */

int net_conn_peer_gone(const struct net_conn *c)
{
    uv_os_fd_t fd;
    if (c->closing || uv_fileno((const uv_handle_t *)&c->tcp, &fd) != 0)
        return 1;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void net_conn_set_data(struct net_conn *c, void *data) { c->user = data; }
void *net_conn_data(const struct net_conn *c) { return c->user; }
const char *net_conn_peer(const struct net_conn *c) { return c->peer; }
int64_t net_conn_clock_offset(const struct net_conn *c) { return net_skew_offset(&c->skew); }
uint64_t net_conn_rtt(const struct net_conn *c) { return net_skew_rtt(&c->skew); }
size_t net_conn_write_queue_bytes(const struct net_conn *c) { return unsent_bytes(c); }
unsigned net_conn_writes_pending(const struct net_conn *c) { return c->writes_pending; }
unsigned net_conn_writes_refused(const struct net_conn *c) { return c->writes_pending - c->staged_frames; }
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
