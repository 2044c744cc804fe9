/* Client side of the controller: decodes client requests, bounces them during start-up,
 * hands inference requests to the scheduler and answers every request exactly once. */
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "controller_internal.h"
#include "proto/clockwork.pb-c.h"
#include <stdlib.h>
#include <string.h>

enum { REQ_UPLOAD = 1, REQ_INFER = 2, REQ_LOAD_REMOTE = 3, REQ_EVICT = 4, REQ_LS = 5, RSP_OFFSET = 100 };

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

static int handle_infer(struct controller *ctl, struct net_session *s, const struct net_msg *m)
{
    Clockwork__ModelInferenceReqProto *p = clockwork__model_inference_req_proto__unpack(NULL, m->header_len, m->header);
    if (!p) {
        log_warn("client %s: unparsable inference request header; closing connection", net_conn_peer(s->conn));
        return -1;
    }
    int urid = user_request_id_of(p->header);
    struct ctl_request *req = ctl->serving ? calloc(1, sizeof *req) : NULL;
    void *input = req && m->body_len ? malloc(m->body_len) : NULL;
    if (!ctl->serving) { /* the original's bounce, byte for byte */
        send_error(s, REQ_INFER, m->id, urid, CLIENT_INITIALIZING, "Controller initializing");
    } else if (!req || (m->body_len && !input)) {
        free(req);
        free(input);
        send_error(s, REQ_INFER, m->id, urid, CLIENT_ERROR, "controller out of memory");
    } else {
        if (input)
            memcpy(input, m->body, m->body_len);
        req->r.user_id = p->header && p->header->has_user_id ? p->header->user_id : 0;
        req->r.user_request_id = urid;
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
    clockwork__model_inference_req_proto__free_unpacked(p, NULL);
    return 0;
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
    if (ctl->serving && p->remote_path && p->no_of_copies >= 1 &&
        startup_find_loaded(ctl, p->remote_path, p->no_of_copies, &first) == 0)
        client_send_load_model_response(s, m->id, urid, CLIENT_SUCCESS, "", first, &ctl->models[first].info,
                                        p->no_of_copies);
    else if (ctl->serving)
        send_error(s, REQ_LOAD_REMOTE, m->id, urid, CLIENT_INVALID_REQUEST,
                   "New models can only be loaded while the controller starts up (this path and copy count "
                   "was not loaded then)");
    else if (p->no_of_copies < 1 || !p->remote_path || !*p->remote_path)
        send_error(s, REQ_LOAD_REMOTE, m->id, urid, CLIENT_INVALID_REQUEST,
                   "LoadModel needs a path and no_of_copies >= 1");
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

static void on_client_connect(struct net_conn *c, int status, void *data)
{
    struct controller *ctl = data;
    if (status != 0)
        return;
    if (!net_session_open(&ctl->sessions, c))
        return;
    log_info("Client connected from %s", net_conn_peer(c));
}

static void on_client_close(struct net_conn *c, const char *reason, void *data)
{
    struct controller *ctl = data;
    struct net_session *s = net_conn_data(c);
    if (!s)
        return;
    log_info("Client %s disconnected (%s)", net_conn_peer(c), reason);
    net_session_closed(&ctl->sessions, s); /* requests and pending loads keep it until answered */
}

int client_link_start(struct controller *ctl, char *err, size_t errlen)
{
    struct net_handlers h = {
        .on_message = on_client_message,
        .on_connect = on_client_connect,
        .on_close = on_client_close,
        .data = ctl,
        .max_body = 256u * 1024 * 1024,
    };
    ctl->client_server = net_server_start(&ctl->loop, "0.0.0.0", ctl->opts->client_port, &h, err, errlen);
    if (!ctl->client_server)
        return -1;
    log_info("IO service thread listening for clients on 0.0.0.0:%d", ctl->opts->client_port);
    return 0;
}

void client_link_stop(struct controller *ctl)
{
    net_server_stop(ctl->client_server);
    ctl->client_server = NULL;
    net_session_close_all(&ctl->sessions, "controller shutting down");
}
