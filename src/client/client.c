#include "client.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "input.h"
#include "output_saver.h"
#include "net/conn.h"
#include "proto/clockwork.pb-c.h"
#include <stdlib.h>
#include <string.h>

enum conn_state { ST_IDLE, ST_CONNECTING, ST_UP, ST_DOWN };
enum pending_kind { K_INFER = 1, K_LOAD, K_LS };

struct pending {
    uint32_t id;
    uint8_t used, kind;
    int32_t user_id;
    uint32_t model_id;
    float slo_factor;
    uint64_t send_mono, send_wall;
    const uint8_t *input; /* the client-owned compressed input sent, for the output saver */
    size_t input_len;
    uint64_t input_size;
    cw_infer_cb cb;
    void *arg;
    uint64_t tag;
};

/* Outstanding requests keyed by request id. Ids are sequential, so slot = id % cap collides
 * only when the outstanding ids span more than cap; the table then doubles. */
struct ptable {
    struct pending *slots;
    size_t cap, count;
};

struct sync_op {
    int done, status;
    char msg[256];
    uint32_t model_id;
    uint64_t input_size, output_size;
    int copies;
    unsigned n_models;
};

struct cached_input {
    uint64_t size;
    uint8_t *data;
    size_t len;
};

struct interval_stats {
    uint64_t start_mono, count, failed, min, max, sum;
};

struct cw_client {
    uv_loop_t *loop;
    char host[256];
    int port;
    struct cw_client_opts opts;
    struct net_conn *conn;
    enum conn_state state;
    char reason[256];
    struct ptable pt;
    uint32_t next_id;
    int interrupted, freeing, unknown_warned;
    uv_timer_t sleep_timer, summary_timer;
    int sleep_fired, closes_pending, connect_done;
    struct interval_stats iv;
    struct cw_totals totals;
    FILE *log;
    struct output_saver *saver; /* NULL unless CLOCKWORK_SAVE_OUTPUTS */
    struct net_secret *secret;  /* NULL unless CLOCKWORK_SECRET_FILE */
    struct cached_input *inputs;
    size_t n_inputs;
};

/* ---- pending table ---- */

static int ptable_place(struct pending *slots, size_t cap, const struct pending *p)
{
    struct pending *s = &slots[p->id % cap];
    if (s->used)
        return -1;
    *s = *p;
    return 0;
}

static int ptable_grow(struct ptable *t, uint32_t new_id)
{
    size_t cap = t->cap ? t->cap : 1024;
    for (;;) {
        cap *= 2;
        struct pending *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return -1;
        int ok = 1;
        for (size_t i = 0; i < t->cap && ok; i++)
            if (t->slots[i].used && ptable_place(ns, cap, &t->slots[i]) != 0)
                ok = 0;
        if (ok && ns[new_id % cap].used)
            ok = 0;
        if (ok) {
            free(t->slots);
            t->slots = ns;
            t->cap = cap;
            return 0;
        }
        free(ns);
    }
}

static struct pending *ptable_insert(struct ptable *t, uint32_t id)
{
    if (t->cap == 0 || t->slots[id % t->cap].used) {
        if (ptable_grow(t, id) != 0)
            return NULL;
    }
    struct pending *p = &t->slots[id % t->cap];
    memset(p, 0, sizeof *p);
    p->id = id;
    p->used = 1;
    t->count++;
    return p;
}

static struct pending *ptable_find(struct ptable *t, uint32_t id)
{
    if (t->cap == 0)
        return NULL;
    struct pending *p = &t->slots[id % t->cap];
    return p->used && p->id == id ? p : NULL;
}

static void ptable_remove(struct ptable *t, struct pending *p)
{
    p->used = 0;
    t->count--;
}

/* ---- options, inputs, stats ---- */

void cw_client_opts_from_env(struct cw_client_opts *o)
{
    const char *d = getenv("CLOCKWORK_DISABLE_INPUTS");
    o->disable_inputs = d && strcmp(d, "1") == 0;
    const char *l = getenv("CLOCKWORK_CLIENT_LOG");
    o->log_path = l && *l ? l : NULL;
    const char *out = getenv("CLOCKWORK_SAVE_OUTPUTS");
    o->output_dir = out && *out ? out : NULL;
    const char *secret = getenv("CLOCKWORK_SECRET_FILE");
    o->secret_file = secret && *secret ? secret : NULL;
}

static const struct cached_input *get_input(struct cw_client *c, uint64_t size)
{
    for (size_t i = 0; i < c->n_inputs; i++)
        if (c->inputs[i].size == size)
            return &c->inputs[i];
    struct cached_input *ni = realloc(c->inputs, (c->n_inputs + 1) * sizeof *ni);
    if (!ni)
        return NULL;
    c->inputs = ni;
    struct cached_input *in = &ni[c->n_inputs];
    in->size = size;
    if (input_make_compressed((size_t)size, size, &in->data, &in->len) != 0)
        return NULL;
    c->n_inputs++;
    return in;
}

static void record_result(struct cw_client *c, const struct pending *p, int status, uint64_t latency)
{
    if (status == CLIENT_SUCCESS) {
        c->totals.succeeded++;
        struct interval_stats *iv = &c->iv;
        if (iv->count == 0 || latency < iv->min)
            iv->min = latency;
        if (latency > iv->max)
            iv->max = latency;
        iv->sum += latency;
        iv->count++;
    } else if (status < 0) {
        c->totals.unanswered++;
    } else {
        c->totals.failed++;
        c->totals.by_status[status < 15 ? status : 15]++;
        c->iv.failed++;
    }
    if (c->log && status >= 0)
        fprintf(c->log, "%llu\t%d\t%u\t%u\t%g\t%llu\t%d\n", (unsigned long long)p->send_wall, p->user_id, p->id,
                p->model_id, (double)p->slo_factor, (unsigned long long)latency, status);
}

static void summary_cb(uv_timer_t *t)
{
    struct cw_client *c = t->data;
    struct interval_stats *iv = &c->iv;
    uint64_t now = clock_mono_ns();
    double secs = (double)(now - iv->start_mono) / 1e9;
    if (iv->count > 0 || iv->failed > 0) {
        double mean = iv->count ? (double)iv->sum / (double)iv->count : 0;
        printf("throughput=%.2f min=%.2f max=%.2f mean=%.2f", secs > 0 ? (double)iv->count / secs : 0,
               (double)iv->min / 1e6, (double)iv->max / 1e6, mean / 1e6);
        if (iv->failed)
            printf(" failed=%llu", (unsigned long long)iv->failed);
        printf("\n");
        fflush(stdout);
    }
    memset(iv, 0, sizeof *iv);
    iv->start_mono = now;
}

void cw_client_start_summary(struct cw_client *c)
{
    memset(&c->iv, 0, sizeof c->iv);
    c->iv.start_mono = clock_mono_ns();
    if (c->opts.print_summary)
        uv_timer_start(&c->summary_timer, summary_cb, 1000, 1000);
}

void cw_client_totals(const struct cw_client *c, struct cw_totals *out) { *out = c->totals; }

void cw_client_print_totals(const struct cw_client *c, FILE *f)
{
    const struct cw_totals *t = &c->totals;
    fprintf(f, "Summary: sent=%llu succeeded=%llu failed=%llu", (unsigned long long)t->sent,
            (unsigned long long)t->succeeded, (unsigned long long)t->failed);
    for (int s = 0; s < 16; s++)
        if (t->by_status[s])
            fprintf(f, " status%s%d=%llu", s == 15 ? ">=" : "", s, (unsigned long long)t->by_status[s]);
    fprintf(f, " unanswered=%llu\n", (unsigned long long)(t->unanswered + c->pt.count));
    fflush(f);
}

size_t cw_client_outstanding(const struct cw_client *c) { return c->pt.count; }

/* ---- responses ---- */

static struct pending *take_pending(struct cw_client *c, uint64_t msg_id, int has_req_id, int32_t req_id, int kind)
{
    struct pending *p = ptable_find(&c->pt, (uint32_t)msg_id);
    if ((!p || p->kind != kind) && has_req_id)
        p = ptable_find(&c->pt, (uint32_t)req_id);
    if (!p || p->kind != kind) {
        if (!c->unknown_warned++)
            log_warn("response to unknown request %llu ignored", (unsigned long long)msg_id);
        return NULL;
    }
    return p;
}

static void header_status(const Clockwork__ResponseHeaderProto *h, int *status, const char **msg)
{
    *status = h && h->has_status ? h->status : CLIENT_ERROR;
    *msg = h && h->message ? h->message : "";
    if (*status < 0)
        *status = CLIENT_ERROR;
}

static void handle_infer(struct cw_client *c, const struct net_msg *m)
{
    Clockwork__ModelInferenceRspProto *r = clockwork__model_inference_rsp_proto__unpack(NULL, m->header_len, m->header);
    if (!r) {
        log_warn("unparsable inference response from controller ignored");
        return;
    }
    const Clockwork__ResponseHeaderProto *h = r->header;
    struct pending *p = take_pending(c, m->id, h && h->has_user_request_id, h ? h->user_request_id : 0, K_INFER);
    if (p) {
        struct pending copy = *p;
        ptable_remove(&c->pt, p);
        struct cw_infer_result res = {.output = m->body, .output_len = m->body_len, .model_id = copy.model_id};
        header_status(h, &res.status, &res.message);
        res.latency_ns = clock_mono_ns() - copy.send_mono;
        record_result(c, &copy, res.status, res.latency_ns);
        if (res.status == CLIENT_SUCCESS)
            output_saver_offer(c->saver, copy.model_id, copy.input, copy.input_len, copy.input_size, m->body,
                               m->body_len);
        if (copy.cb)
            copy.cb(&res, copy.arg, copy.tag);
    }
    clockwork__model_inference_rsp_proto__free_unpacked(r, NULL);
}

static struct sync_op *take_sync(struct cw_client *c, const struct net_msg *m, const Clockwork__ResponseHeaderProto *h,
                                 int kind)
{
    struct pending *p = take_pending(c, m->id, h && h->has_user_request_id, h ? h->user_request_id : 0, kind);
    if (!p)
        return NULL;
    struct sync_op *op = p->arg;
    ptable_remove(&c->pt, p);
    const char *msg;
    header_status(h, &op->status, &msg);
    snprintf(op->msg, sizeof op->msg, "%s", msg);
    op->done = 1;
    return op;
}

static void handle_load(struct cw_client *c, const struct net_msg *m)
{
    Clockwork__LoadModelFromDiskRspProto *r =
        clockwork__load_model_from_disk_rsp_proto__unpack(NULL, m->header_len, m->header);
    if (!r) {
        log_warn("unparsable load-model response from controller ignored");
        return;
    }
    struct sync_op *op = take_sync(c, m, r->header, K_LOAD);
    if (op) {
        op->model_id = r->model_id;
        op->input_size = r->input_size;
        op->output_size = r->output_size;
        op->copies = r->copies_created;
    }
    clockwork__load_model_from_disk_rsp_proto__free_unpacked(r, NULL);
}

static void handle_ls(struct cw_client *c, const struct net_msg *m)
{
    Clockwork__LSRspProto *r = clockwork__lsrsp_proto__unpack(NULL, m->header_len, m->header);
    if (!r) {
        log_warn("unparsable LS response from controller ignored");
        return;
    }
    struct sync_op *op = take_sync(c, m, r->header, K_LS);
    if (op)
        op->n_models = (unsigned)r->n_models;
    clockwork__lsrsp_proto__free_unpacked(r, NULL);
}

static int on_message(struct net_conn *conn, const struct net_msg *m, void *data)
{
    (void)conn;
    struct cw_client *c = data;
    switch (m->type) {
    case CLOCKWORK__REQUEST_TYPE__RSP_INFERENCE: handle_infer(c, m); break;
    case CLOCKWORK__REQUEST_TYPE__RSP_LOAD_REMOTE_MODEL: handle_load(c, m); break;
    case CLOCKWORK__REQUEST_TYPE__RSP_LS: handle_ls(c, m); break;
    default: log_warn("unexpected message type %llu from controller ignored", (unsigned long long)m->type);
    }
    return 0;
}

/* ---- connection ---- */

static void fail_all_pending(struct cw_client *c)
{
    for (size_t i = 0; i < c->pt.cap; i++) {
        struct pending *p = &c->pt.slots[i];
        if (!p->used)
            continue;
        struct pending copy = *p;
        ptable_remove(&c->pt, p);
        if (copy.kind == K_INFER) {
            record_result(c, &copy, CW_DISCONNECTED, 0);
            struct cw_infer_result res = {
                .status = CW_DISCONNECTED, .message = "connection closed", .model_id = copy.model_id};
            if (copy.cb)
                copy.cb(&res, copy.arg, copy.tag);
        } else {
            struct sync_op *op = copy.arg;
            op->status = CW_DISCONNECTED;
            snprintf(op->msg, sizeof op->msg, "connection closed");
            op->done = 1;
        }
    }
}

static void on_connect(struct net_conn *conn, int status, void *data)
{
    (void)conn;
    struct cw_client *c = data;
    if (status == 0)
        c->state = ST_UP;
    c->connect_done = 1;
}

static void on_close(struct net_conn *conn, const char *reason, void *data)
{
    (void)conn;
    struct cw_client *c = data;
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    c->conn = NULL;
    c->connect_done = 1;
    enum conn_state was = c->state;
    c->state = ST_DOWN;
    if (was != ST_UP)
        return;
    fail_all_pending(c);
    if (!c->freeing && c->opts.on_disconnect)
        c->opts.on_disconnect(c->opts.arg, reason);
}

/* Runs the loop until *done, an interrupt, or nothing is left to wait for. */
static int wait_for(struct cw_client *c, const int *done)
{
    while (!*done) {
        if (c->interrupted)
            return CW_STOPPED;
        if (uv_run(c->loop, UV_RUN_ONCE) == 0 && !*done)
            return c->interrupted ? CW_STOPPED : CW_DISCONNECTED;
    }
    return 0;
}

static void sleep_cb(uv_timer_t *t)
{
    struct cw_client *c = t->data;
    c->sleep_fired = 1;
}

static int sleep_sync(struct cw_client *c, uint64_t ms)
{
    c->sleep_fired = 0;
    uv_timer_start(&c->sleep_timer, sleep_cb, ms, 0);
    int rc = wait_for(c, &c->sleep_fired);
    uv_timer_stop(&c->sleep_timer);
    return rc;
}

static uint64_t retry_ms(const struct cw_client *c) { return c->opts.retry_ms ? c->opts.retry_ms : 1000; }

static int connect_once(struct cw_client *c)
{
    struct net_handlers h = {
        .on_message = on_message, .on_connect = on_connect, .on_close = on_close, .data = c, .secret = c->secret};
    char err[256];
    c->state = ST_CONNECTING;
    c->conn = net_connect(c->loop, c->host, c->port, &h, err, sizeof err);
    if (!c->conn) {
        c->state = ST_DOWN;
        snprintf(c->reason, sizeof c->reason, "%s", err);
        return CW_SEND_FAILED;
    }
    c->connect_done = 0;
    int rc = wait_for(c, &c->connect_done);
    if (rc == CW_STOPPED && c->state == ST_CONNECTING && c->conn)
        net_conn_close(c->conn, "interrupted");
    if (c->interrupted)
        return CW_STOPPED;
    return c->state == ST_UP ? 0 : CW_DISCONNECTED;
}

int cw_client_connect_sync(struct cw_client *c)
{
    printf("Connecting to clockwork @ %s:%d\n", c->host, c->port);
    fflush(stdout);
    for (;;) {
        if (c->interrupted)
            return CW_STOPPED;
        int rc = connect_once(c);
        if (rc == 0) {
            printf("Connection established\n");
            fflush(stdout);
            return 0;
        }
        if (rc != CW_DISCONNECTED) {
            if (rc == CW_SEND_FAILED)
                log_error("%s", c->reason);
            return rc;
        }
        printf("%s, retrying in %gs\n", c->reason, (double)retry_ms(c) / 1000.0);
        fflush(stdout);
        if (sleep_sync(c, retry_ms(c)) != 0)
            return CW_STOPPED;
    }
}

int cw_client_is_connected(const struct cw_client *c) { return c->state == ST_UP; }

void cw_client_interrupt(struct cw_client *c) { c->interrupted = 1; }

/* ---- requests ---- */

static void fill_header(Clockwork__RequestHeaderProto *h, int user_id, uint32_t id)
{
    h->has_user_id = 1;
    h->user_id = user_id;
    h->has_user_request_id = 1;
    h->user_request_id = (int32_t)id;
}

/* Sends and registers a request; the pending slot is added after the send because a failed
 * send closes the connection, which fails everything already registered. */
static struct pending *send_request(struct cw_client *c, uint64_t type, uint32_t id, const ProtobufCMessage *msg,
                                    const void *body, size_t len)
{
    if (c->state != ST_UP || !c->conn)
        return NULL;
    if (net_conn_send_shared(c->conn, type, id, msg, body, len) != 0)
        return NULL;
    return ptable_insert(&c->pt, id);
}

static int run_sync_op(struct cw_client *c, struct sync_op *op, uint32_t id)
{
    int rc = wait_for(c, &op->done);
    if (!op->done) {
        struct pending *p = ptable_find(&c->pt, id);
        if (p)
            ptable_remove(&c->pt, p);
        op->status = rc;
        snprintf(op->msg, sizeof op->msg, "%s", rc == CW_STOPPED ? "interrupted" : "connection closed");
    }
    return op->status;
}

int cw_client_load_remote_model_sync(struct cw_client *c, const char *path, unsigned copies, struct cw_model **models,
                                     unsigned *n, char *err, size_t errlen)
{
    Clockwork__RequestHeaderProto h = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    Clockwork__LoadModelFromDiskReqProto r = CLOCKWORK__LOAD_MODEL_FROM_DISK_REQ_PROTO__INIT;
    uint32_t id = c->next_id++;
    fill_header(&h, 0, id);
    r.header = &h;
    r.remote_path = (char *)path;
    r.no_of_copies = (int32_t)copies;
    struct sync_op op = {0};
    struct pending *p = send_request(c, CLOCKWORK__REQUEST_TYPE__REQ_LOAD_REMOTE_MODEL, id, &r.base, NULL, 0);
    if (!p) {
        snprintf(err, errlen, "cannot send load request: not connected");
        return CW_SEND_FAILED;
    }
    p->kind = K_LOAD;
    p->arg = &op;
    int status = run_sync_op(c, &op, id);
    if (status != 0) {
        snprintf(err, errlen, "%s", op.msg[0] ? op.msg : "load failed");
        return status;
    }
    unsigned got = op.copies > 0 ? (unsigned)op.copies : 1;
    const struct cached_input *in = c->opts.disable_inputs ? NULL : get_input(c, op.input_size);
    if (!c->opts.disable_inputs && !in) {
        snprintf(err, errlen, "cannot generate an input of %llu bytes", (unsigned long long)op.input_size);
        return CW_SEND_FAILED;
    }
    struct cw_model *ms = calloc(got, sizeof *ms);
    if (!ms) {
        snprintf(err, errlen, "out of memory");
        return CW_SEND_FAILED;
    }
    for (unsigned i = 0; i < got; i++) {
        ms[i] = (struct cw_model){.id = op.model_id + i, .input_size = op.input_size, .output_size = op.output_size};
        if (in) {
            ms[i].input = in->data;
            ms[i].input_len = in->len;
        }
    }
    *models = ms;
    *n = got;
    return 0;
}

int cw_client_ls_sync(struct cw_client *c, unsigned *n_models, char *msg, size_t msglen)
{
    Clockwork__RequestHeaderProto h = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    Clockwork__LSReqProto r = CLOCKWORK__LSREQ_PROTO__INIT;
    uint32_t id = c->next_id++;
    fill_header(&h, 0, id);
    r.header = &h;
    struct sync_op op = {0};
    struct pending *p = send_request(c, CLOCKWORK__REQUEST_TYPE__REQ_LS, id, &r.base, NULL, 0);
    if (!p) {
        snprintf(msg, msglen, "not connected");
        return CW_SEND_FAILED;
    }
    p->kind = K_LS;
    p->arg = &op;
    int status = run_sync_op(c, &op, id);
    snprintf(msg, msglen, "%s", op.msg);
    if (n_models)
        *n_models = op.n_models;
    return status;
}

int cw_client_ls_retry_sync(struct cw_client *c, char *err, size_t errlen)
{
    for (;;) {
        char msg[256];
        int status = cw_client_ls_sync(c, NULL, msg, sizeof msg);
        if (status == CLIENT_SUCCESS)
            return 0;
        if (status != CLIENT_INITIALIZING) {
            snprintf(err, errlen, "LS error: %s", msg[0] ? msg : "failed");
            return status;
        }
        printf("Clockwork initializing, retrying %s\n", msg);
        fflush(stdout);
        if (sleep_sync(c, retry_ms(c)) != 0) {
            snprintf(err, errlen, "interrupted");
            return CW_STOPPED;
        }
    }
}

int cw_client_infer(struct cw_client *c, const struct cw_model *m, int user_id, float slo_factor, cw_infer_cb cb,
                    void *arg, uint64_t tag)
{
    Clockwork__RequestHeaderProto h = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    Clockwork__ModelInferenceReqProto r = CLOCKWORK__MODEL_INFERENCE_REQ_PROTO__INIT;
    uint32_t id = c->next_id++;
    fill_header(&h, user_id, id);
    r.header = &h;
    r.model_id = m->id;
    r.batch_size = 1;
    r.slo_factor = slo_factor;
    const void *body = c->opts.disable_inputs ? NULL : m->input;
    size_t len = c->opts.disable_inputs ? 0 : m->input_len;
    uint64_t mono = clock_mono_ns(), wall = clock_now_ns();
    struct pending *p = send_request(c, CLOCKWORK__REQUEST_TYPE__REQ_INFERENCE, id, &r.base, body, len);
    if (!p)
        return CW_SEND_FAILED;
    p->kind = K_INFER;
    p->user_id = user_id;
    p->model_id = m->id;
    p->slo_factor = slo_factor;
    p->send_mono = mono;
    p->send_wall = wall;
    p->input = body;
    p->input_len = len;
    p->input_size = m->input_size;
    p->cb = cb;
    p->arg = arg;
    p->tag = tag;
    c->totals.sent++;
    return 0;
}

/* ---- lifetime ---- */

static int load_secret(struct cw_client *c)
{
    char err[512];
    if (!c->opts.secret_file)
        return 0;
    c->secret = malloc(sizeof *c->secret);
    if (!c->secret) {
        log_error("out of memory");
        return -1;
    }
    if (net_secret_load(c->secret, c->opts.secret_file, err, sizeof err) != 0) {
        log_error("%s", err);
        return -1;
    }
    return 0;
}

struct cw_client *cw_client_new(uv_loop_t *loop, const char *host, int port, const struct cw_client_opts *o)
{
    struct cw_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    if (o)
        c->opts = *o;
    if (c->opts.log_path) {
        c->log = fopen(c->opts.log_path, "w");
        if (!c->log) {
            log_error("cannot open client log %s", c->opts.log_path);
            free(c);
            return NULL;
        }
        setvbuf(c->log, NULL, _IOFBF, 1 << 20);
        fprintf(c->log, "t\tuser_id\trequest_id\tmodel_id\tslo_factor\tlatency\tstatus\n");
    }
    if (load_secret(c) != 0 || (c->opts.output_dir && !(c->saver = output_saver_new(c->opts.output_dir)))) {
        if (c->log)
            fclose(c->log);
        free(c->secret);
        free(c);
        return NULL;
    }
    uv_timer_init(loop, &c->sleep_timer);
    uv_timer_init(loop, &c->summary_timer);
    c->sleep_timer.data = c;
    c->summary_timer.data = c;
    return c;
}

static void timer_closed(uv_handle_t *h)
{
    struct cw_client *c = h->data;
    c->closes_pending--;
}

void cw_client_free(struct cw_client *c)
{
    if (!c)
        return;
    c->freeing = 1;
    if (c->conn)
        net_conn_close(c->conn, "client shutting down");
    c->closes_pending = 2;
    uv_close((uv_handle_t *)&c->sleep_timer, timer_closed);
    uv_close((uv_handle_t *)&c->summary_timer, timer_closed);
    /* The connection's handle closes in the same loop phase as the timers; its cancelled
     * writes (which borrow our inputs) complete before the inputs are freed below. */
    while (c->closes_pending > 0)
        uv_run(c->loop, UV_RUN_NOWAIT);
    uv_run(c->loop, UV_RUN_NOWAIT);
    if (c->log)
        fclose(c->log);
    output_saver_free(c->saver);
    for (size_t i = 0; i < c->n_inputs; i++)
        free(c->inputs[i].data);
    free(c->inputs);
    free(c->pt.slots);
    free(c->secret);
    free(c);
}
