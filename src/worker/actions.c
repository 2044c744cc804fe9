/* Decoding and validation of the controller's actions. Only the connection that drives the
 * worker (driver.h) gets actions run; others are refused. Untimed ones (LoadModelFromDisk,
 * ClearCache, GetWorkerState) run here on the loop thread; timed ones become tasks for a
 * device. Content errors are answered with an ErrorResultProto; an undecodable message
 * closes the connection. */
#include "common/clock.h"
#include "common/log.h"
#include "common/lz4_block.h"
#include "common/status.h"
#include "describe.h"
#include "model/model_path.h"
#include "proto/clockwork.pb-c.h"
#include "worker_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Controller clock -> worker clock, saturating. */
static uint64_t to_local(uint64_t t, int64_t offset)
{
    if (offset < 0) {
        uint64_t d = 0 - (uint64_t)offset; /* |offset|, also for INT64_MIN */
        return t < d ? 0 : t - d;
    }
    return t > UINT64_MAX - (uint64_t)offset ? UINT64_MAX : t + (uint64_t)offset;
}

static void reject(struct worker *w, struct net_session *s, int32_t id, int type, int status, const char *msg,
                   uint64_t received)
{
    w->counts.errors++;
    if (w->opt.verbose || type == CLOCKWORK__ACTION_TYPE__ACT_LOAD_MODEL_FROM_DISK)
        log_info("Sending R%d:Error %d: %s", id, status, msg);
    worker_results_send_error(s, id, type, status, msg, received);
}

static void submit(struct worker *w, struct net_session *s, struct worker_task *t)
{
    t->origin = s;
    net_session_ref(s);
    w->pending++;
    device_submit(w->devices[t->gpu_id], t);
}

static void fill_load_result(Clockwork__LoadModelFromDiskResultProto *r, const struct model_info *m, uint64_t page_size)
{
    r->input_size = m->input_size;
    r->output_size = m->output_size;
    r->n_supported_batch_sizes = m->n_batch_sizes;
    r->supported_batch_sizes = (uint32_t *)m->batch_sizes;
    r->num_weights_pages = m->num_weights_pages;
    r->weights_size_in_cache = (uint64_t)m->num_weights_pages * page_size;
    r->weights_load_time_nanos = m->weights_load_ns;
    r->n_batch_size_exec_times_nanos = m->n_batch_sizes;
    r->batch_size_exec_times_nanos = (uint64_t *)m->exec_ns;
}

/* Validates and registers; returns 0 or an action status with msg. */
static int load_model(struct worker *w, const Clockwork__LoadModelFromDiskActionProto *a, uint64_t latest,
                      const struct model_info **out, char *msg, size_t msglen)
{
    if (clock_now_ns() > latest) {
        snprintf(msg, msglen, "LoadModelFromDisk could not start in time");
        return ACTION_COULD_NOT_START_IN_TIME;
    }
    char path[512];
    if (model_path_resolve(w->model_dir, a->model_path, path, sizeof path, msg, msglen) != 0)
        return ACTION_INVALID_MODEL_PATH;
    if (registry_holds(&w->registry, a->model_id, a->no_of_copies, a->model_path)) {
        *out = registry_get(&w->registry, a->model_id);
        return 0;
    }
    if (!registry_ids_free(&w->registry, a->model_id, a->no_of_copies)) {
        snprintf(msg, msglen, "model ids %d..%lld (%d copies) are invalid or already in use", a->model_id,
                 (long long)a->model_id + (a->no_of_copies > 0 ? a->no_of_copies - 1 : 0), a->no_of_copies);
        return ACTION_INVALID_MODEL_ID;
    }
    struct model_info m;
    if (model_info_load(&m, path, w->cfg.weights_cache_page_size, msg, msglen) != 0)
        return ACTION_INVALID_MODEL_PATH;
    /* before the backend builds anything: batch sizes the controller will never use cost nothing */
    model_info_limit_batches(&m, a->max_batch_size, a->max_exec_duration);
    if (w->opt.load_model && w->opt.load_model(w->opt.backend_ctx, &m, msg, msglen) != 0)
        return ACTION_INVALID_MODEL_PATH;
    snprintf(m.source, sizeof m.source, "%s", a->model_path); /* reported as the controller named it */
    if (registry_add(&w->registry, a->model_id, a->no_of_copies, &m) != 0) {
        if (w->opt.free_model && m.backend_data)
            w->opt.free_model(w->opt.backend_ctx, &m);
        snprintf(msg, msglen, "out of memory registering model %d", a->model_id);
        return ACTION_RUNTIME_ERROR;
    }
    /* an Infer of this model carries at most its largest batch of compressed inputs */
    uint64_t body = lz4_block_bound(m.input_size) * m.batch_sizes[m.n_batch_sizes - 1];
    if (body > w->max_infer_body)
        w->max_infer_body = body;
    *out = registry_get(&w->registry, a->model_id);
    return 0;
}

uint64_t worker_actions_max_body(uint64_t msg_type, void *worker)
{
    const struct worker *w = worker;
    return msg_type == CLOCKWORK__ACTION_TYPE__ACT_INFER ? w->max_infer_body : 0;
}

static int handle_load_model(struct worker *w, struct net_session *s, const struct net_msg *m)
{
    Clockwork__LoadModelFromDiskActionProto *a =
        clockwork__load_model_from_disk_action_proto__unpack(NULL, m->header_len, m->header);
    if (!a)
        return -1;
    int64_t off = net_conn_clock_offset(s->conn);
    uint64_t begin = clock_now_ns(), earliest = to_local(a->earliest, off), latest = to_local(a->latest, off);
    char win[96], msg[512], shown[LOG_ESCAPED_SIZE];
    describe_window(win, sizeof win, begin, earliest, latest);
    log_info("Received A%d:LoadModelFromDisk model=%d %s %s", a->action_id, a->model_id, win,
             log_escape(shown, a->model_path));
    const struct model_info *info = NULL;
    int status = load_model(w, a, latest, &info, msg, sizeof msg);
    if (status != 0) {
        reject(w, s, a->action_id, CLOCKWORK__ACTION_TYPE__ACT_LOAD_MODEL_FROM_DISK, status, msg, m->recv_time);
    } else {
        Clockwork__LoadModelFromDiskResultProto r = CLOCKWORK__LOAD_MODEL_FROM_DISK_RESULT_PROTO__INIT;
        Clockwork__TimingProto tm = CLOCKWORK__TIMING_PROTO__INIT;
        fill_load_result(&r, info, w->cfg.weights_cache_page_size);
        tm.begin = begin;
        tm.end = clock_now_ns();
        tm.duration = tm.end - tm.begin;
        r.action_id = a->action_id;
        r.timing = &tm;
        r.copies_created = a->no_of_copies;
        r.action_received = m->recv_time;
        char desc[512], dur[32];
        describe_model(desc, sizeof desc, info, w->cfg.weights_cache_page_size);
        describe_millis(dur, sizeof dur, tm.duration);
        log_info("Sending R%d:LoadModelFromDisk %s duration=%s", a->action_id, desc, dur);
        r.result_sent = clock_now_ns();
        net_conn_send(s->conn, CLOCKWORK__ACTION_TYPE__RES_LOAD_MODEL_FROM_DISK, 0, &r.base, NULL, 0);
    }
    clockwork__load_model_from_disk_action_proto__free_unpacked(a, NULL);
    return 0;
}

/* Common part of LoadWeights/Evict/Infer: finds model and device, else answers an error. */
static const struct model_info *lookup(struct worker *w, struct net_session *s, int32_t id, int type, int32_t model_id,
                                       unsigned gpu_id, int unknown_status, int gpu_status, uint64_t received)
{
    char msg[128];
    const struct model_info *info = registry_get(&w->registry, model_id);
    if (gpu_id >= w->n_devices) {
        snprintf(msg, sizeof msg, "invalid GPU id %u (worker has %u)", gpu_id, w->n_devices);
        reject(w, s, id, type, gpu_status, msg, received);
        return NULL;
    }
    if (!info) {
        snprintf(msg, sizeof msg, "unknown model %d", model_id);
        reject(w, s, id, type, unknown_status, msg, received);
    }
    return info;
}

static struct worker_task *new_task(int kind, int32_t action_id, int32_t model_id, unsigned gpu_id,
                                    const struct model_info *info, uint64_t received)
{
    struct worker_task *t = task_new(kind);
    if (!t)
        return NULL;
    t->action_id = action_id;
    t->model_id = model_id;
    t->gpu_id = gpu_id;
    t->info = info;
    t->action_received = received;
    return t;
}

static void verbose_received(struct worker *w, const char *name, int32_t id, int32_t model, uint64_t e, uint64_t l)
{
    if (!w->opt.verbose)
        return;
    char win[96];
    describe_window(win, sizeof win, clock_now_ns(), e, l);
    log_info("Received A%d:%s model=%d %s", id, name, model, win);
}

static int handle_load_weights(struct worker *w, struct net_session *s, const struct net_msg *m)
{
    Clockwork__LoadWeightsActionProto *a = clockwork__load_weights_action_proto__unpack(NULL, m->header_len, m->header);
    if (!a)
        return -1;
    int64_t off = net_conn_clock_offset(s->conn);
    uint64_t e = to_local(a->earliest, off), l = to_local(a->latest, off);
    verbose_received(w, "LoadWeights", a->action_id, a->model_id, e, l);
    const struct model_info *info =
        lookup(w, s, a->action_id, TASK_LOAD_WEIGHTS, a->model_id, a->gpu_id, ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL,
               ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL, m->recv_time);
    struct worker_task *t =
        info ? new_task(TASK_LOAD_WEIGHTS, a->action_id, a->model_id, a->gpu_id, info, m->recv_time) : NULL;
    if (info && !t)
        reject(w, s, a->action_id, TASK_LOAD_WEIGHTS, ACTION_RUNTIME_ERROR, "out of memory", m->recv_time);
    if (t) {
        t->earliest = e;
        t->latest = l;
        t->expected_duration = a->expected_duration;
        submit(w, s, t);
    }
    clockwork__load_weights_action_proto__free_unpacked(a, NULL);
    return 0;
}

static int handle_evict(struct worker *w, struct net_session *s, const struct net_msg *m)
{
    Clockwork__EvictWeightsActionProto *a =
        clockwork__evict_weights_action_proto__unpack(NULL, m->header_len, m->header);
    if (!a)
        return -1;
    int64_t off = net_conn_clock_offset(s->conn);
    uint64_t e = to_local(a->earliest, off), l = to_local(a->latest, off);
    verbose_received(w, "EvictWeights", a->action_id, a->model_id, e, l);
    const struct model_info *info = lookup(w, s, a->action_id, TASK_EVICT_WEIGHTS, a->model_id, a->gpu_id,
                                           ACTION_EVICT_UNKNOWN_MODEL, ACTION_INVALID_GPU, m->recv_time);
    struct worker_task *t =
        info ? new_task(TASK_EVICT_WEIGHTS, a->action_id, a->model_id, a->gpu_id, info, m->recv_time) : NULL;
    if (info && !t)
        reject(w, s, a->action_id, TASK_EVICT_WEIGHTS, ACTION_RUNTIME_ERROR, "out of memory", m->recv_time);
    if (t) {
        t->earliest = e;
        t->latest = l;
        submit(w, s, t);
    }
    clockwork__evict_weights_action_proto__free_unpacked(a, NULL);
    return 0;
}

/* Checks batch size and input lengths; 0 or a status with msg. */
static int check_infer(struct worker *w, const Clockwork__InferActionProto *a, const struct model_info *info,
                       size_t body_len, char *msg, size_t msglen)
{
    if (a->batch_size == 0 || model_info_padded_batch(info, a->batch_size) == 0) {
        snprintf(msg, msglen, "unsupported batch size %u (largest is %u)", a->batch_size,
                 info->batch_sizes[info->n_batch_sizes - 1]);
        return ACTION_COPY_INPUT_INVALID_BATCH_SIZE;
    }
    /* With input_sizes: one compressed input per request. Without, a body is the batch's raw,
     * uncompressed input (as the original's STRESS controller sends it). */
    uint64_t sum = 0, raw_len = (uint64_t)a->batch_size * info->input_size;
    for (size_t i = 0; i < a->n_input_sizes; i++)
        sum += a->input_sizes[i];
    if (a->n_input_sizes > 0 && sum != body_len) {
        snprintf(msg, msglen, "input_sizes add up to %llu bytes but the body has %zu", (unsigned long long)sum,
                 body_len);
        return ACTION_COPY_INPUT_INVALID_INPUT;
    }
    if (a->n_input_sizes > 0 && a->n_input_sizes != a->batch_size) {
        snprintf(msg, msglen, "%zu inputs for batch size %u", a->n_input_sizes, a->batch_size);
        return ACTION_COPY_INPUT_INVALID_INPUT;
    }
    if (a->n_input_sizes == 0 && body_len > 0 && body_len != raw_len) {
        snprintf(msg, msglen, "raw input of %zu bytes for batch size %u (expected %llu)", body_len, a->batch_size,
                 (unsigned long long)raw_len);
        return ACTION_COPY_INPUT_INVALID_INPUT;
    }
    if (body_len == 0 && !w->opt.allow_zero_size_inputs) {
        snprintf(msg, msglen, "zero-size inputs are not allowed");
        return ACTION_COPY_INPUT_INVALID_INPUT;
    }
    return 0;
}

/* Copies what the task keeps of the request; 0 or -1 (out of memory). */
static int fill_infer(struct worker *w, struct worker_task *t, const Clockwork__InferActionProto *a,
                      const struct net_msg *m)
{
    t->batch_size = a->batch_size;
    t->padded_batch = model_info_padded_batch(t->info, a->batch_size);
    t->expected_duration = a->expected_duration;
    t->zero_inputs = m->body_len == 0;
    t->n_inputs = a->n_input_sizes;
    t->input_sizes = malloc((a->n_input_sizes ? a->n_input_sizes : 1) * sizeof *t->input_sizes);
    if (!t->input_sizes)
        return -1;
    for (size_t i = 0; i < a->n_input_sizes; i++)
        t->input_sizes[i] = a->input_sizes[i];
    t->input_len = m->body_len;
    if (m->body_len > 0 && device_needs_input(w->devices[t->gpu_id])) {
        t->input = malloc(m->body_len);
        if (!t->input)
            return -1;
        memcpy(t->input, m->body, m->body_len);
    }
    return 0;
}

static void infer(struct worker *w, struct net_session *s, const Clockwork__InferActionProto *a,
                  const struct net_msg *m)
{
    const struct model_info *info =
        lookup(w, s, a->action_id, TASK_INFER, a->model_id, a->gpu_id, ACTION_COPY_INPUT_UNKNOWN_MODEL,
               ACTION_COPY_INPUT_UNKNOWN_MODEL, m->recv_time);
    if (!info)
        return;
    char msg[200];
    int status = check_infer(w, a, info, m->body_len, msg, sizeof msg);
    if (status != 0) {
        reject(w, s, a->action_id, TASK_INFER, status, msg, m->recv_time);
        return;
    }
    struct worker_task *t = new_task(TASK_INFER, a->action_id, a->model_id, a->gpu_id, info, m->recv_time);
    if (!t || fill_infer(w, t, a, m) != 0) {
        task_free(t);
        reject(w, s, a->action_id, TASK_INFER, ACTION_RUNTIME_ERROR, "out of memory", m->recv_time);
        return;
    }
    int64_t off = net_conn_clock_offset(s->conn);
    t->earliest = to_local(a->earliest, off);
    t->latest = to_local(a->latest, off);
    submit(w, s, t);
}

static int handle_infer(struct worker *w, struct net_session *s, const struct net_msg *m)
{
    Clockwork__InferActionProto *a = clockwork__infer_action_proto__unpack(NULL, m->header_len, m->header);
    if (!a)
        return -1;
    if (w->opt.verbose) {
        int64_t off = net_conn_clock_offset(s->conn);
        verbose_received(w, "Infer", a->action_id, a->model_id, to_local(a->earliest, off), to_local(a->latest, off));
    }
    infer(w, s, a, m);
    clockwork__infer_action_proto__free_unpacked(a, NULL);
    return 0;
}

static int handle_clear_cache(struct worker *w, struct net_session *s, const struct net_msg *m)
{
    Clockwork__ClearCacheActionProto *a = clockwork__clear_cache_action_proto__unpack(NULL, m->header_len, m->header);
    if (!a)
        return -1;
    log_info("Received A%d:ClearCache", a->action_id);
    for (unsigned i = 0; i < w->n_devices; i++)
        device_clear(w->devices[i]);
    Clockwork__ClearCacheResultProto r = CLOCKWORK__CLEAR_CACHE_RESULT_PROTO__INIT;
    r.action_id = a->action_id;
    r.action_received = m->recv_time;
    log_info("Sending R%d:ClearCache", a->action_id);
    r.result_sent = clock_now_ns();
    net_conn_send(s->conn, CLOCKWORK__ACTION_TYPE__RES_CLEAR_CACHE, 0, &r.base, NULL, 0);
    clockwork__clear_cache_action_proto__free_unpacked(a, NULL);
    return 0;
}

/* ---- who may drive the worker ---- */

static const ProtobufCMessageDescriptor *action_descriptor(uint64_t type)
{
    switch (type) {
    case CLOCKWORK__ACTION_TYPE__ACT_LOAD_MODEL_FROM_DISK:
        return &clockwork__load_model_from_disk_action_proto__descriptor;
    case CLOCKWORK__ACTION_TYPE__ACT_LOAD_WEIGHTS: return &clockwork__load_weights_action_proto__descriptor;
    case CLOCKWORK__ACTION_TYPE__ACT_INFER: return &clockwork__infer_action_proto__descriptor;
    case CLOCKWORK__ACTION_TYPE__ACT_EVICT_WEIGHTS: return &clockwork__evict_weights_action_proto__descriptor;
    case CLOCKWORK__ACTION_TYPE__ACT_CLEAR_CACHE: return &clockwork__clear_cache_action_proto__descriptor;
    case CLOCKWORK__ACTION_TYPE__ACT_GET_WORKER_STATE: return &clockwork__get_worker_state_action_proto__descriptor;
    default: return NULL;
    }
}

/* Every action message has `required int32 action_id = 1`; -1 if the header does not parse. */
static int32_t action_id_of(const struct net_msg *m)
{
    const ProtobufCMessageDescriptor *d = action_descriptor(m->type);
    ProtobufCMessage *msg = protobuf_c_message_unpack(d, NULL, m->header_len, m->header);
    if (!msg)
        return -1;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, 1);
    int32_t id = *(const int32_t *)(const void *)((const char *)msg + f->offset);
    protobuf_c_message_free_unpacked(msg, NULL);
    return id;
}

/* Answers the action with an error naming who drives the worker, then closes the connection
 * once the answer is out (a second controller then retries until the first one is gone). */
static void refuse(struct worker *w, struct net_session *s, const struct net_msg *m, uint64_t now)
{
    char msg[256];
    const struct worker_driver *d = &w->driver;
    snprintf(msg, sizeof msg, "refused: this worker is driven by the controller at %s (heard from %.1f s ago)",
             net_conn_peer(d->session->conn), (double)(now - d->last_heard) / 1e9);
    unsigned long long suppressed = 0;
    if (log_limit_allow(&w->refusals, now, &suppressed))
        log_warn("Connection %s: action type %llu %s; closing it (%llu refusals not shown before this one)",
                 net_conn_peer(s->conn), (unsigned long long)m->type, msg, suppressed);
    worker_results_send_error(s, action_id_of(m), (int)m->type, ACTION_RUNTIME_ERROR, msg, m->recv_time);
    net_conn_close_after_flush(s->conn, "not the controller driving this worker");
}

/* 0 if s may drive the worker (it does from now on), -1 if it was refused. */
static int admit(struct worker *w, struct net_session *s, const struct net_msg *m)
{
    struct worker_driver *d = &w->driver;
    uint64_t now = clock_mono_ns();
    /* a driver that has gone away but whose close the loop has not read yet (a restarted
     * controller's old connection) must not refuse its successor */
    if (d->session && d->session != s && net_conn_peer_gone(d->session->conn))
        net_conn_close(d->session->conn, "the controller closed the connection");
    struct net_session *old = d->session;
    uint64_t heard = d->last_heard;
    switch (worker_driver_admit(d, s, now)) {
    case DRIVER_SAME: return 0;
    case DRIVER_FIRST: log_info("Controller %s drives this worker", net_conn_peer(s->conn)); return 0;
    case DRIVER_TAKEOVER:
        log_warn("Controller %s takes over this worker from %s, silent for %.1f s", net_conn_peer(s->conn),
                 net_conn_peer(old->conn), (double)(now - heard) / 1e9);
        net_conn_close(old->conn, "another controller took over this worker");
        return 0;
    case DRIVER_REFUSED: break;
    }
    refuse(w, s, m, now);
    return -1;
}

int worker_actions_handle(struct worker *w, struct net_session *s, const struct net_msg *m)
{
    if (!action_descriptor(m->type)) {
        log_warn("closing connection %s: unknown message type %llu", net_conn_peer(s->conn),
                 (unsigned long long)m->type);
        return -1;
    }
    if (admit(w, s, m) != 0)
        return 0;
    int rc;
    switch (m->type) {
    case CLOCKWORK__ACTION_TYPE__ACT_LOAD_MODEL_FROM_DISK: rc = handle_load_model(w, s, m); break;
    case CLOCKWORK__ACTION_TYPE__ACT_LOAD_WEIGHTS: rc = handle_load_weights(w, s, m); break;
    case CLOCKWORK__ACTION_TYPE__ACT_INFER: rc = handle_infer(w, s, m); break;
    case CLOCKWORK__ACTION_TYPE__ACT_EVICT_WEIGHTS: rc = handle_evict(w, s, m); break;
    case CLOCKWORK__ACTION_TYPE__ACT_CLEAR_CACHE: rc = handle_clear_cache(w, s, m); break;
    default: rc = worker_state_handle(w, s, m); break;
    }
    if (rc != 0)
        log_warn("closing connection %s: cannot parse the header of message type %llu (%zu bytes)",
                 net_conn_peer(s->conn), (unsigned long long)m->type, m->header_len);
    return rc;
}
