/* Client side of the controller: decodes client requests, checks every value at the edge
 * (request_check.h), bounces them during start-up, hands inference requests to the scheduler
 * and answers every request exactly once. What a client may hold is bounded (options.h
 * controller_limits): connections, message sizes by type, time per frame, requests
 * outstanding, unread responses, and the inputs held in all. */
#include "common/clock.h"
#include "common/log.h"
#include "common/lz4_block.h"
#include "common/status.h"
#include "controller/request_check.h"
#include "controller_internal.h"
#include "proto/clockwork.pb-c.h"
#include "proto/pb_arena.h"
#include <stdlib.h>
#include <string.h>

enum { REQ_UPLOAD = 1, REQ_INFER = 2, REQ_LOAD_REMOTE = 3, REQ_EVICT = 4, REQ_LS = 5, RSP_OFFSET = 100 };

#define CLIENT_MAX_HEADER (64 * 1024) /* a request header: a path of < 512 bytes at most */
#define CLIENT_MAX_COPIES (1 << 20)   /* copies of one LoadModel */
#define CLIENT_MAX_MODELS (1 << 24)   /* as many model ids as a worker registers */

static void set_header(Clockwork__ResponseHeaderProto *h, int user_request_id, int status, const char *message)
{
    h->has_user_request_id = 1;
    h->user_request_id = user_request_id;
    h->has_status = 1;
    h->status = status;
    h->message = (char *)(message ? message : "");
}

void client_send_load_model_response(struct net_session *s, uint64_t msg_id, int user_request_id, int status,
                                     const char *message, unsigned model_id, const struct model_info *info, int copies)
{
    if (!s || !s->conn)
        return;
    Clockwork__ResponseHeaderProto h = CLOCKWORK__RESPONSE_HEADER_PROTO__INIT;
    Clockwork__LoadModelFromDiskRspProto p = CLOCKWORK__LOAD_MODEL_FROM_DISK_RSP_PROTO__INIT;
    set_header(&h, user_request_id, status, message);
    p.header = &h;
    p.model_id = model_id;
    p.input_size = info ? info->input_size : 0;
    p.output_size = info ? info->output_size : 0;
    p.copies_created = copies;
    net_conn_send(s->conn, REQ_LOAD_REMOTE + RSP_OFFSET, msg_id, &p.base, NULL, 0);
}

/* Every response type has required fields besides its header: fill them, so that clients
 * with strict proto2 parsers (the original's) accept error replies too. */
static void send_error(struct net_session *s, uint64_t type, uint64_t msg_id, int user_request_id, int status,
                       const char *message)
{
    Clockwork__ResponseHeaderProto h = CLOCKWORK__RESPONSE_HEADER_PROTO__INIT;
    set_header(&h, user_request_id, status, message);
    Clockwork__ModelInferenceRspProto infer = CLOCKWORK__MODEL_INFERENCE_RSP_PROTO__INIT;
    Clockwork__LSRspProto ls = CLOCKWORK__LSRSP_PROTO__INIT;
    Clockwork__EvictRspProto evict = CLOCKWORK__EVICT_RSP_PROTO__INIT;
    Clockwork__ModelUploadRspProto upload = CLOCKWORK__MODEL_UPLOAD_RSP_PROTO__INIT;
    ProtobufCMessage *msg;
    switch (type) {
    case REQ_INFER:
        infer.header = &h;
        msg = &infer.base;
        break;
    case REQ_LS:
        ls.header = &h;
        msg = &ls.base;
        break;
    case REQ_EVICT:
        evict.header = &h;
        msg = &evict.base;
        break;
    case REQ_UPLOAD:
        upload.header = &h;
        msg = &upload.base;
        break;
    default: client_send_load_model_response(s, msg_id, user_request_id, status, message, 0, NULL, 0); return;
    }
    net_conn_send(s->conn, type + RSP_OFFSET, msg_id, msg, NULL, 0);
}

static void send_ls(struct controller *ctl, struct net_session *s, uint64_t msg_id, int user_request_id)
{
    Clockwork__ResponseHeaderProto h = CLOCKWORK__RESPONSE_HEADER_PROTO__INIT;
    Clockwork__LSRspProto p = CLOCKWORK__LSRSP_PROTO__INIT;
    set_header(&h, user_request_id, CLIENT_SUCCESS, "");
    p.header = &h;
    Clockwork__ClientModelInfoProto *infos = calloc(ctl->n_models + 1, sizeof *infos);
    Clockwork__ClientModelInfoProto **ptrs = calloc(ctl->n_models + 1, sizeof *ptrs);
    if (!infos || !ptrs) {
        free(infos);
        free(ptrs);
        send_error(s, REQ_LS, msg_id, user_request_id, CLIENT_ERROR, "out of memory");
        return;
    }
    unsigned n = 0;
    for (unsigned i = 0; i < ctl->n_models; i++) {
        if (ctl->model_state[i] == CONTROLLER_MODEL_FAILED) /* a failed load's retired ids */
            continue;
        Clockwork__ClientModelInfoProto init = CLOCKWORK__CLIENT_MODEL_INFO_PROTO__INIT;
        infos[n] = init;
        infos[n].model_id = ctl->models[i].id;
        infos[n].remote_path = ctl->models[i].info.source;
        infos[n].input_size = ctl->models[i].info.input_size;
        infos[n].output_size = ctl->models[i].info.output_size;
        ptrs[n] = &infos[n];
        n++;
    }
    p.n_models = n;
    p.models = ptrs;
    net_conn_send(s->conn, REQ_LS + RSP_OFFSET, msg_id, &p.base, NULL, 0);
    free(infos);
    free(ptrs);
}

static int user_request_id_of(const Clockwork__RequestHeaderProto *h)
{
    return h && h->has_user_request_id ? h->user_request_id : 0;
}

void client_answer_infer(struct ctl_request *req, int status, const char *message, const uint8_t *output,
                         size_t output_len)
{
    struct net_session *s = req->session;
    if (s->conn) {
        Clockwork__ResponseHeaderProto h = CLOCKWORK__RESPONSE_HEADER_PROTO__INIT;
        Clockwork__ModelInferenceRspProto p = CLOCKWORK__MODEL_INFERENCE_RSP_PROTO__INIT;
        set_header(&h, req->r.user_request_id, status, message);
        p.header = &h;
        p.model_id = req->r.model_id;
        p.batch_size = 1;
        net_conn_send(s->conn, REQ_INFER + RSP_OFFSET, req->msg_id, &p.base, output, output ? output_len : 0);
    }
    net_session_unref(s);
}

/* A request refused before the scheduler saw it: answered, counted and logged like any other. */
static void refuse_infer(struct controller *ctl, struct net_session *s, const struct net_msg *m,
                         const Clockwork__ModelInferenceReqProto *p, int status, const char *message)
{
    struct request_row row = {
        .t = clock_now_ns(),
        .request_id = ctl->next_request_id++,
        .result = status,
        .user_id = p->header && p->header->has_user_id ? p->header->user_id : 0,
        .model_id = p->model_id,
        .slo_factor = p->slo_factor,
    };
    ctl->cstats.count++;
    telemetry_write_request(ctl->telemetry, &row); /* committed before the response leaves */
    metrics_on_request_row(&ctl->metrics, &row);
    send_error(s, REQ_INFER, m->id, user_request_id_of(p->header), status, message);
}

static void submit_infer(struct controller *ctl, struct net_session *s, const struct net_msg *m,
                         const Clockwork__ModelInferenceReqProto *p)
{
    struct ctl_request *req = calloc(1, sizeof *req);
    void *input = m->body_len ? malloc(m->body_len) : NULL;
    if (!req || (m->body_len && !input)) {
        free(req);
        free(input);
        refuse_infer(ctl, s, m, p, CLIENT_ERROR, "controller out of memory");
        return;
    }
    if (input)
        memcpy(input, m->body, m->body_len);
    req->r.user_id = p->header && p->header->has_user_id ? p->header->user_id : 0;
    req->r.user_request_id = user_request_id_of(p->header);
    req->r.model_id = p->model_id;
    req->r.slo_factor = p->slo_factor;
    req->r.input = input;
    req->r.input_len = m->body_len;
    req->answer = client_answer_infer;
    req->msg_id = m->id;
    req->session = s;
    net_session_ref(s);
    controller_infer(ctl, req);
}

static void serve_infer(struct controller *ctl, struct net_session *s, const struct net_msg *m,
                        const Clockwork__ModelInferenceReqProto *p)
{
    char msg[200];
    struct request_fields f = {p->model_id, p->batch_size, p->slo_factor, m->body, m->body_len};
    int status = request_check_infer(&f, ctl->models, ctl->n_models, &ctl->input_memo, msg, sizeof msg);
    uint64_t max_queued = ctl->opts->limits.max_queued_bytes;
    if (status == 0 && max_queued && ctl->queued_bytes + CONTROLLER_REQUEST_COST + m->body_len > max_queued) {
        snprintf(msg, sizeof msg, "Controller overloaded: %llu MB of requests queued (CLOCKWORK_MAX_QUEUED_MB)",
                 (unsigned long long)(ctl->queued_bytes >> 20));
        status = CLIENT_ERROR;
    }
    if (status == 0) {
        submit_infer(ctl, s, m, p);
        return;
    }
    unsigned long long suppressed = 0;
    if (log_limit_allow(&ctl->refusal_log, clock_mono_ns(), &suppressed))
        log_warn("client %s: request %d refused: %s (%llu refusals not shown before this one)", net_conn_peer(s->conn),
                 user_request_id_of(p->header), msg, suppressed);
    refuse_infer(ctl, s, m, p, status, msg);
}

static int handle_infer(struct controller *ctl, struct net_session *s, const struct net_msg *m)
{
    struct pb_arena arena;
    pb_arena_init(&arena);
    Clockwork__ModelInferenceReqProto *p =
        clockwork__model_inference_req_proto__unpack(&arena.allocator, m->header_len, m->header);
    if (!p) {
        log_warn("client %s: unparsable inference request header; closing connection", net_conn_peer(s->conn));
        return -1;
    }
    if (!ctl->serving)
        send_error(s, REQ_INFER, m->id, user_request_id_of(p->header), CLIENT_INITIALIZING, "Controller initializing");
    else
        serve_infer(ctl, s, m, p);
    clockwork__model_inference_req_proto__free_unpacked(p, &arena.allocator);
    return 0;
}

/* Why a LoadModel cannot be forwarded to the workers, or NULL. */
static const char *load_model_problem(const struct controller *ctl, const Clockwork__LoadModelFromDiskReqProto *p)
{
    if (!p->remote_path || !*p->remote_path)
        return "LoadModel needs a path and no_of_copies >= 1";
    if (strlen(p->remote_path) >= sizeof((struct pending_load *)0)->path)
        return "LoadModel path is too long (at most 511 bytes)";
    for (const char *c = p->remote_path; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return "LoadModel path contains a control character";
    if (p->no_of_copies < 1 || p->no_of_copies > CLIENT_MAX_COPIES)
        return "LoadModel needs no_of_copies from 1 to 1048576";
    if (ctl->n_models + (uint64_t)p->no_of_copies > CLIENT_MAX_MODELS)
        return "LoadModel would exceed 16777216 models";
    return NULL;
}

static int handle_load_remote(struct controller *ctl, struct net_session *s, const struct net_msg *m)
{
    Clockwork__LoadModelFromDiskReqProto *p =
        clockwork__load_model_from_disk_req_proto__unpack(NULL, m->header_len, m->header);
    if (!p) {
        log_warn("client %s: unparsable LoadModel request header; closing connection", net_conn_peer(s->conn));
        return -1;
    }
    int urid = user_request_id_of(p->header);
    unsigned first;
    const char *problem = load_model_problem(ctl, p);
    if (ctl->serving && !problem && startup_find_loaded(ctl, p->remote_path, p->no_of_copies, &first) == 0)
        client_send_load_model_response(s, m->id, urid, CLIENT_SUCCESS, "", first, &ctl->models[first].info,
                                        p->no_of_copies);
    else if (ctl->serving)
        send_error(s, REQ_LOAD_REMOTE, m->id, urid, CLIENT_INVALID_REQUEST,
                   "New models can only be loaded while the controller starts up (this path and copy count "
                   "was not loaded then)");
    else if (problem)
        send_error(s, REQ_LOAD_REMOTE, m->id, urid, CLIENT_INVALID_REQUEST, problem);
    else
        startup_on_load_model_request(ctl, s, m->id, urid, p->remote_path, p->no_of_copies);
    clockwork__load_model_from_disk_req_proto__free_unpacked(p, NULL);
    return 0;
}

/* Requests without a body of interest: only their header is needed for the reply. */
static int handle_simple(struct controller *ctl, struct net_session *s, const struct net_msg *m)
{
    const ProtobufCMessageDescriptor *d = m->type == REQ_LS      ? &clockwork__lsreq_proto__descriptor
                                          : m->type == REQ_EVICT ? &clockwork__evict_req_proto__descriptor
                                                                 : &clockwork__model_upload_req_proto__descriptor;
    ProtobufCMessage *msg = protobuf_c_message_unpack(d, NULL, m->header_len, m->header);
    if (!msg) {
        log_warn("client %s: unparsable header for request type %llu; closing connection", net_conn_peer(s->conn),
                 (unsigned long long)m->type);
        return -1;
    }
    /* All three start with `required RequestHeaderProto header = 1`. */
    int urid = user_request_id_of(((Clockwork__LSReqProto *)msg)->header);
    if (m->type == REQ_LS && ctl->serving)
        send_ls(ctl, s, m->id, urid);
    else if (m->type == REQ_LS)
        send_error(s, m->type, m->id, urid, CLIENT_INITIALIZING, "Controller initializing");
    else
        send_error(s, m->type, m->id, urid, CLIENT_INVALID_REQUEST,
                   m->type == REQ_EVICT ? "Evict is not supported: the scheduler manages device memory"
                                        : "UploadModel is not supported: load models by path with LoadModel");
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}

int client_link_handle(struct controller *ctl, struct net_session *s, const struct net_msg *m)
{
    switch (m->type) {
    case REQ_INFER: return handle_infer(ctl, s, m);
    case REQ_LOAD_REMOTE: return handle_load_remote(ctl, s, m);
    case REQ_LS:
    case REQ_EVICT:
    case REQ_UPLOAD: return handle_simple(ctl, s, m);
    default:
        log_warn("client %s: unknown message type %llu; closing connection", net_conn_peer(s->conn),
                 (unsigned long long)m->type);
        return -1;
    }
}

static int on_client_message(struct net_conn *c, const struct net_msg *m, void *data)
{
    return client_link_handle(data, net_conn_data(c), m);
}

/* Connections come and go at a peer's will: their lines are rate-limited. */
static int may_log_connection(struct controller *ctl)
{
    unsigned long long suppressed = 0;
    int ok = log_limit_allow(&ctl->connection_log, clock_mono_ns(), &suppressed);
    if (ok && suppressed)
        log_info("(%llu client connection lines not shown)", suppressed);
    return ok;
}

static void on_client_connect(struct net_conn *c, int status, void *data)
{
    struct controller *ctl = data;
    if (status != 0)
        return;
    if (!net_session_open(&ctl->sessions, c))
        return;
    if (may_log_connection(ctl))
        log_info("Client connected from %s", net_conn_peer(c));
}

static void on_client_close(struct net_conn *c, const char *reason, void *data)
{
    struct controller *ctl = data;
    struct net_session *s = net_conn_data(c);
    if (!s)
        return;
    if (may_log_connection(ctl))
        log_info("Client %s disconnected (%s)", net_conn_peer(c), reason);
    net_session_closed(&ctl->sessions, s); /* requests and pending loads keep it until answered */
}

/* Only an inference request carries a body: at most a compressed input of the largest model. */
static uint64_t client_max_body(uint64_t msg_type, void *data)
{
    const struct controller *ctl = data;
    return msg_type == REQ_INFER ? ctl->max_infer_body : 0;
}

/* Responses leave a client connection only after the request rows logged so far reached the
 * file: a client never holds an answer that a killed controller's log lacks. One commit covers
 * every response of a loop turn. */
static void client_before_flush(struct net_conn *c, void *data)
{
    (void)c;
    telemetry_commit_requests(((struct controller *)data)->telemetry);
}

static int client_busy(struct net_conn *c, void *data)
{
    (void)data;
    const struct net_session *s = net_conn_data(c);
    return s && net_session_work(s) > 0;
}

void client_link_model_added(struct controller *ctl, const struct model_info *m)
{
    uint64_t body = lz4_block_bound(m->input_size);
    if (body > ctl->max_infer_body)
        ctl->max_infer_body = body;
}

static void print_limits(const struct controller *ctl, const char *host)
{
    const struct controller_limits *l = &ctl->opts->limits;
    log_info("IO service thread listening for clients on %s:%d", host, ctl->opts->client_port);
    log_info("Client limits: max_clients=%u frame_timeout_ms=%llu idle_timeout_ms=%llu max_pending=%u "
             "max_unsent=%.1fMB max_queued=%.1fMB (0: none); %s",
             l->max_clients, (unsigned long long)l->frame_timeout_ms, (unsigned long long)l->idle_timeout_ms,
             l->max_pending, (double)l->max_unsent / (1 << 20), (double)l->max_queued_bytes / (1 << 20),
             ctl->opts->has_secret ? "clients and workers must authenticate (CLOCKWORK_SECRET_FILE)"
                                   : "no shared secret set");
}

int client_link_start(struct controller *ctl, char *err, size_t errlen)
{
    const struct controller_limits *l = &ctl->opts->limits;
    struct net_handlers h = {
        .on_message = on_client_message,
        .on_connect = on_client_connect,
        .on_close = on_client_close,
        .max_body_of = client_max_body,
        .busy = client_busy,
        .before_flush = client_before_flush,
        .data = ctl,
        .max_header = CLIENT_MAX_HEADER,
        .limits = {.max_conns = l->max_clients,
                   .frame_timeout_ms = l->frame_timeout_ms,
                   .idle_timeout_ms = l->idle_timeout_ms,
                   .max_unsent = l->max_unsent},
        .secret = ctl->opts->has_secret ? &ctl->opts->secret : NULL,
    };
    const char *host = ctl->opts->bind[0] ? ctl->opts->bind : "0.0.0.0";
    ctl->sessions.max_work = l->max_pending;
    ctl->client_server = net_server_start(&ctl->loop, host, ctl->opts->client_port, &h, err, errlen);
    if (!ctl->client_server)
        return -1;
    print_limits(ctl, host);
    return 0;
}

void client_link_stop(struct controller *ctl)
{
    net_server_stop(ctl->client_server);
    ctl->client_server = NULL;
    net_session_close_all(&ctl->sessions, "controller shutting down");
}
