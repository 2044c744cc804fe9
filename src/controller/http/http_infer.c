/* POST /v2/models/NAME[/versions/V]/infer: the request's rows become the controller's own
 * inference requests on one copy of the model (so the scheduler may batch them together), each
 * input LZ4-compressed as a native client sends it; the reply waits for every row. */
#include "common/status.h"
#include "http_api_internal.h"
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

/* The HTTP status of a client status from the controller. */
static int http_status_of(int status)
{
    switch (status) {
    case CLIENT_SUCCESS: return 200;
    case CLIENT_INVALID_REQUEST: return 400;
    case CLIENT_TIMEOUT:
    case CLIENT_INITIALIZING:
    case CLIENT_CONTROLLER_SKIPPED:
    case CLIENT_COULD_NOT_START_IN_TIME: return 503;
    default: return 500;
    }
}

static void finish(struct http_call *c)
{
    struct api_model *m = c->model;
    if (c->status != CLIENT_SUCCESS) {
        const char *what = c->status == CLIENT_TIMEOUT ? "dropped by the scheduler: " : "";
        api_reply_error(c, c->status < 0 ? 500 : http_status_of(c->status), "%s%s", what, c->message);
        return;
    }
    struct http_buf b;
    char version[16], err[300];
    long long json_len = -1;
    snprintf(version, sizeof version, "%u", c->model_id);
    http_buf_init(&b);
    int rc = kserve_infer_response(&m->spec, version, &c->req, c->outputs, &b, &json_len, err, sizeof err);
    if (rc) {
        http_buf_free(&b);
        api_reply_error(c, rc, "%s", err);
        return;
    }
    api_reply(c, 200, json_len >= 0 ? "application/octet-stream" : "application/json", &b, json_len);
}

static void row_answered(void *data, int status, const char *message, const uint8_t *output, size_t output_len)
{
    struct http_row *row = data;
    struct http_call *c = row->call;
    uint64_t size = c->model->spec.output.elems * 4;
    if (status == CLIENT_SUCCESS && output_len == size) {
        memcpy(c->outputs + row->index * size, output, size);
    } else if (c->status == CLIENT_SUCCESS && status == CLIENT_SUCCESS) {
        c->status = -1;
        snprintf(c->message, sizeof c->message, "the worker returned %zu bytes of output for row %u, not %llu",
                 output_len, row->index, (unsigned long long)size);
    } else if (c->status == CLIENT_SUCCESS) {
        c->status = status;
        snprintf(c->message, sizeof c->message, "%s%s", c->req.batch > 1 ? "a row: " : "",
                 message && *message ? message : "request failed");
    }
    if (--c->remaining == 0 && !c->submitting)
        finish(c);
}

/* The copy to run on: the version asked for, else the next copy in service (round robin). */
static int pick_copy(struct http_call *c, unsigned version)
{
    struct api_model *m = c->model;
    for (unsigned k = 0; k < m->n_ids; k++) {
        unsigned id = version != UINT32_MAX ? version : m->ids[(m->next + k) % m->n_ids];
        enum controller_model_state state;
        controller_model(c->api->ctl, id, &state);
        if (state == CONTROLLER_MODEL_SERVING) {
            if (version == UINT32_MAX)
                m->next = (m->next + k + 1) % m->n_ids;
            c->model_id = id;
            return 0;
        }
        if (version != UINT32_MAX)
            break;
    }
    api_reply_error(c, 400, "model '%s'%s is unloaded: load it with POST /v2/repository/models/%s/load", m->name,
                    version != UINT32_MAX ? " (this version)" : "", m->name);
    return -1;
}

/* The SLO as the native protocol carries it: slo_ms becomes a factor of the profiled
 * batch-1 execution time. 0, or -1 (answered). */
static int slo_factor_of(struct http_call *c, float *factor)
{
    const struct kserve_request *r = &c->req;
    *factor = (float)r->slo_factor;
    if (r->slo_ms <= 0)
        return 0;
    double exec_ms = (double)c->model->b1_exec_ns / 1e6;
    if (exec_ms <= 0 || r->slo_ms < exec_ms) {
        api_reply_error(c, 400, "slo_ms %g is shorter than model '%s''s batch-1 execution time (%.3f ms)", r->slo_ms,
                        c->model->name, exec_ms);
        return -1;
    }
    *factor = (float)(r->slo_ms / exec_ms);
    return 0;
}

/* One independent LZ4 block, as LZ4_compress_default makes, from the reused stream: a fast
 * reset starts it without history instead of clearing a fresh 16 KB state. */
static void *compress_row(LZ4_stream_t *lz4, const float *row, uint64_t elems, size_t *len)
{
    int n = (int)(elems * sizeof(float)), cap = LZ4_compressBound(n);
    char *out = cap > 0 ? malloc((size_t)cap) : NULL;
    if (out)
        LZ4_resetStream_fast(lz4);
    int got = out ? LZ4_compress_fast_continue(lz4, (const char *)row, out, n, cap, 1) : 0;
    if (got <= 0) {
        free(out);
        return NULL;
    }
    *len = (size_t)got;
    return out;
}

/* Hands every row to the controller; answers may come back at once. 1 if the call is still
 * pending, 0 if its last row was answered here (the call has replied and is gone). */
static int submit_rows(struct http_call *c, float slo_factor)
{
    const struct kserve_tensor *in = &c->model->spec.input;
    c->submitting = 1;
    c->remaining = c->req.batch;
    for (unsigned i = 0; i < c->req.batch; i++) {
        c->rows[i] = (struct http_row){c, i};
        struct controller_infer_request r = {
            .model_id = c->model_id,
            .user_id = c->req.user_id,
            .slo_factor = slo_factor,
            .answer = row_answered,
            .data = &c->rows[i],
        };
        r.input = compress_row(c->api->lz4, c->req.data + (size_t)i * in->elems, in->elems, &r.input_len);
        if (!r.input) {
            row_answered(&c->rows[i], CLIENT_ERROR, "controller out of memory", NULL, 0);
            continue;
        }
        controller_infer_submit(c->api->ctl, &r);
    }
    c->submitting = 0;
    if (c->remaining > 0)
        return 1;
    finish(c);
    return 0;
}

int api_infer(struct http_call *c, const struct http_route *route, const struct http_request_view *req)
{
    unsigned version;
    struct api_model *m = api_route_model(c, route, &version);
    if (!m)
        return 0;
    c->model = m;
    if (!controller_is_serving(c->api->ctl)) {
        api_reply_error(c, 503, "Controller initializing");
        return 0;
    }
    if (!m->fp32) {
        api_reply_error(c, 400, "model '%s' has no FP32 tensors (input %llu bytes, output %llu bytes)", m->name,
                        (unsigned long long)m->spec.input.elems * 4, (unsigned long long)m->spec.output.elems * 4);
        return 0;
    }
    char err[600];
    int rc = kserve_parse_infer(&m->spec, req->body, req->body_len, req->json_len, &c->req, err, sizeof err);
    if (rc) {
        api_reply_error(c, rc, "%s", err);
        return 0;
    }
    float factor;
    if (pick_copy(c, version) != 0 || slo_factor_of(c, &factor) != 0)
        return 0;
    c->outputs = malloc((size_t)c->req.batch * m->spec.output.elems * 4 + 1);
    c->rows = calloc(c->req.batch, sizeof *c->rows);
    if (!c->outputs || !c->rows) {
        api_reply_error(c, 500, "controller out of memory");
        return 0;
    }
    c->status = CLIENT_SUCCESS;
    return submit_rows(c, factor);
}
