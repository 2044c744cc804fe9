/* A tiny fake Clockwork controller for client tests: answers load-model, LS and inference
 * on 127.0.0.1, first with "Controller initializing" as many times as asked. Header-only
 * (static functions) so each test binary can include it; not a test itself. */
#ifndef CW_TEST_FAKE_CONTROLLER_H
#define CW_TEST_FAKE_CONTROLLER_H
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/status.h"
#include "net/conn.h"
#include "proto/clockwork.pb-c.h"

struct fake_ctl {
    struct net_server *server;
    struct net_conn *conn;
    int port;
    int init_ls, init_infer; /* how many initializing answers are left */
    uint32_t next_model_id;
    uint64_t input_size, output_size;
    int loads, ls_calls, infers, bad_bodies, empty_bodies, answered;
    float min_slo, max_slo;
    int no_answer; /* swallow inference requests */
};

static void fake_reply_header(Clockwork__ResponseHeaderProto *h, int32_t req, int status, const char *msg)
{
    h->has_user_request_id = 1;
    h->user_request_id = req;
    h->has_status = 1;
    h->status = status;
    h->message = (char *)msg;
}

static void fake_infer(struct fake_ctl *f, struct net_conn *c, const struct net_msg *m)
{
    Clockwork__ModelInferenceReqProto *r = clockwork__model_inference_req_proto__unpack(NULL, m->header_len, m->header);
    if (!r)
        return;
    f->infers++;
    if (f->infers == 1 || r->slo_factor < f->min_slo)
        f->min_slo = r->slo_factor;
    if (f->infers == 1 || r->slo_factor > f->max_slo)
        f->max_slo = r->slo_factor;
    if (m->body_len == 0) {
        f->empty_bodies++;
    } else {
        char *out = malloc(f->input_size);
        int n = LZ4_decompress_safe((const char *)m->body, out, (int)m->body_len, (int)f->input_size);
        f->bad_bodies += n != (int)f->input_size;
        free(out);
    }
    Clockwork__ResponseHeaderProto h = CLOCKWORK__RESPONSE_HEADER_PROTO__INIT;
    Clockwork__ModelInferenceRspProto rsp = CLOCKWORK__MODEL_INFERENCE_RSP_PROTO__INIT;
    rsp.header = &h;
    rsp.model_id = r->model_id;
    rsp.batch_size = 1;
    int32_t req = r->header ? r->header->user_request_id : 0;
    clockwork__model_inference_req_proto__free_unpacked(r, NULL);
    if (f->no_answer)
        return;
    if (f->init_infer > 0) {
        f->init_infer--;
        fake_reply_header(&h, req, CLIENT_INITIALIZING, "Controller initializing");
        net_conn_send(c, 102, m->id, &rsp.base, NULL, 0);
        return;
    }
    fake_reply_header(&h, req, CLIENT_SUCCESS, "");
    void *out = calloc(1, f->output_size);
    net_conn_send_owned(c, 102, m->id, &rsp.base, out, f->output_size);
    f->answered++;
}

static void fake_load(struct fake_ctl *f, struct net_conn *c, const struct net_msg *m)
{
    Clockwork__LoadModelFromDiskReqProto *r =
        clockwork__load_model_from_disk_req_proto__unpack(NULL, m->header_len, m->header);
    if (!r)
        return;
    f->loads++;
    Clockwork__ResponseHeaderProto h = CLOCKWORK__RESPONSE_HEADER_PROTO__INIT;
    Clockwork__LoadModelFromDiskRspProto rsp = CLOCKWORK__LOAD_MODEL_FROM_DISK_RSP_PROTO__INIT;
    int ok = strstr(r->remote_path, "/model") != NULL;
    fake_reply_header(&h, r->header ? r->header->user_request_id : 0, ok ? 0 : CLIENT_INVALID_REQUEST,
                      ok ? "" : "bad path");
    rsp.header = &h;
    rsp.model_id = f->next_model_id;
    rsp.input_size = f->input_size;
    rsp.output_size = f->output_size;
    rsp.copies_created = r->no_of_copies;
    if (ok)
        f->next_model_id += (uint32_t)r->no_of_copies;
    clockwork__load_model_from_disk_req_proto__free_unpacked(r, NULL);
    net_conn_send(c, 103, m->id, &rsp.base, NULL, 0);
}

static void fake_ls(struct fake_ctl *f, struct net_conn *c, const struct net_msg *m)
{
    Clockwork__LSReqProto *r = clockwork__lsreq_proto__unpack(NULL, m->header_len, m->header);
    if (!r)
        return;
    f->ls_calls++;
    Clockwork__ResponseHeaderProto h = CLOCKWORK__RESPONSE_HEADER_PROTO__INIT;
    Clockwork__LSRspProto rsp = CLOCKWORK__LSRSP_PROTO__INIT;
    int init = f->init_ls > 0;
    if (init)
        f->init_ls--;
    fake_reply_header(&h, r->header ? r->header->user_request_id : 0, init ? CLIENT_INITIALIZING : 0,
                      init ? "Controller initializing" : "");
    rsp.header = &h;
    clockwork__lsreq_proto__free_unpacked(r, NULL);
    net_conn_send(c, 105, m->id, &rsp.base, NULL, 0);
}

static int fake_on_message(struct net_conn *c, const struct net_msg *m, void *data)
{
    struct fake_ctl *f = data;
    if (m->type == 2)
        fake_infer(f, c, m);
    else if (m->type == 3)
        fake_load(f, c, m);
    else if (m->type == 5)
        fake_ls(f, c, m);
    return 0;
}

static void fake_on_connect(struct net_conn *c, int status, void *data)
{
    struct fake_ctl *f = data;
    if (status == 0)
        f->conn = c;
}

static void fake_on_close(struct net_conn *c, const char *reason, void *data)
{
    (void)reason;
    struct fake_ctl *f = data;
    if (f->conn == c)
        f->conn = NULL;
}

/* Picks a free port (not yet listening) for tests that start the server later. */
static int fake_pick_port(int k) { return 20000 + (int)((getpid() * 7 + k * 131) % 30000); }

static int fake_start(struct fake_ctl *f, uv_loop_t *loop, int port)
{
    struct net_handlers h = {
        .on_message = fake_on_message, .on_connect = fake_on_connect, .on_close = fake_on_close, .data = f};
    char err[256];
    for (int k = 0; k < 50; k++) {
        int p = port ? port : fake_pick_port(k);
        f->server = net_server_start(loop, "127.0.0.1", p, &h, err, sizeof err);
        if (f->server) {
            f->port = p;
            return 0;
        }
        if (port)
            break;
    }
    return -1;
}

static void fake_init(struct fake_ctl *f)
{
    memset(f, 0, sizeof *f);
    f->next_model_id = 0;
    f->input_size = 602112;
    f->output_size = 4000;
}

#endif
