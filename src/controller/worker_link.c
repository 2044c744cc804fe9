#include "worker_link.h"
#include "common/status.h"
#include "proto/clockwork.pb-c.h"
#include "proto/pb_arena.h"
#include "proto/error_action.h"
#include <stdlib.h>
#include <string.h>

enum { ACT_LOAD_MODEL = 1, ACT_LOAD_WEIGHTS = 2, ACT_INFER = 3, ACT_EVICT = 4, ACT_CLEAR = 5, ACT_STATE = 6 };
enum {
    RES_ERROR = 100,
    RES_LOAD_MODEL = 101,
    RES_LOAD_WEIGHTS = 102,
    RES_INFER = 103,
    RES_EVICT = 104,
    RES_CLEAR = 105,
    RES_STATE = 106
};

int worker_send_get_state(struct net_conn *c, int action_id)
{
    Clockwork__GetWorkerStateActionProto p = CLOCKWORK__GET_WORKER_STATE_ACTION_PROTO__INIT;
    p.action_id = action_id;
    return net_conn_send(c, ACT_STATE, 0, &p.base, NULL, 0);
}

int worker_send_clear_cache(struct net_conn *c, int action_id)
{
    Clockwork__ClearCacheActionProto p = CLOCKWORK__CLEAR_CACHE_ACTION_PROTO__INIT;
    p.action_id = action_id;
    return net_conn_send(c, ACT_CLEAR, 0, &p.base, NULL, 0);
}

int worker_send_load_model(struct net_conn *c, int action_id, unsigned model_id, const char *path, int copies,
                           const struct sched_config *limits)
{
    Clockwork__LoadModelFromDiskActionProto p = CLOCKWORK__LOAD_MODEL_FROM_DISK_ACTION_PROTO__INIT;
    p.action_id = action_id;
    p.model_id = (int32_t)model_id;
    p.model_path = (char *)path;
    p.earliest = 0;
    p.latest = UINT64_MAX;
    p.no_of_copies = copies;
    p.max_batch_size = limits->max_batch;
    p.max_exec_duration = limits->max_exec;
    return net_conn_send(c, ACT_LOAD_MODEL, 0, &p.base, NULL, 0);
}

/* Infer, LoadWeights and EvictWeights share these fields (same names and numbers). */
#define FILL_TIMED_ACTION(p, a)                                                                                        \
    do {                                                                                                               \
        (p).action_id = (int32_t)(a)->id;                                                                              \
        (p).model_id = (int32_t)(a)->model_id;                                                                         \
        (p).gpu_id = (a)->gpu_id;                                                                                      \
        (p).earliest = (a)->earliest;                                                                                  \
        (p).latest = (a)->latest;                                                                                      \
    } while (0)

static int send_infer(struct net_conn *c, const struct sched_action *a)
{
    Clockwork__InferActionProto p = CLOCKWORK__INFER_ACTION_PROTO__INIT;
    uint32_t sizes[1024];
    unsigned n = a->n_requests < 1024 ? a->n_requests : 1024;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        sizes[i] = (uint32_t)a->requests[i]->input_len;
        total += a->requests[i]->input_len;
    }
    FILL_TIMED_ACTION(p, a);
    p.expected_duration = a->expected_duration;
    p.batch_size = n;
    /* One size per request even when all are 0 (the worker then generates inputs), as the
     * original sends it. */
    p.n_input_sizes = n;
    p.input_sizes = sizes;
    uint8_t *body = NULL;
    if (total) {
        body = malloc(total);
        if (!body)
            return -1;
        size_t off = 0;
        for (unsigned i = 0; i < n; i++) {
            if (a->requests[i]->input_len)
                memcpy(body + off, a->requests[i]->input, a->requests[i]->input_len);
            off += a->requests[i]->input_len;
        }
    }
    return net_conn_send_owned(c, ACT_INFER, 0, &p.base, body, total);
}

int worker_send_sched_action(struct net_conn *c, const struct sched_action *a)
{
    if (a->type == SCHED_INFER)
        return send_infer(c, a);
    if (a->type == SCHED_LOAD_WEIGHTS) {
        Clockwork__LoadWeightsActionProto p = CLOCKWORK__LOAD_WEIGHTS_ACTION_PROTO__INIT;
        FILL_TIMED_ACTION(p, a);
        p.expected_duration = a->expected_duration;
        return net_conn_send(c, ACT_LOAD_WEIGHTS, 0, &p.base, NULL, 0);
    }
    Clockwork__EvictWeightsActionProto p = CLOCKWORK__EVICT_WEIGHTS_ACTION_PROTO__INIT;
    FILL_TIMED_ACTION(p, a);
    return net_conn_send(c, ACT_EVICT, 0, &p.base, NULL, 0);
}

/* Worker timestamps are in the worker's clock; 0 means "not set" and stays 0. They are peer
 * input: unsigned arithmetic (two's complement, as a signed add would be) cannot overflow. */
static uint64_t to_controller(uint64_t t, int64_t offset) { return t ? t + (uint64_t)offset : 0; }

static void copy_model_info(struct model_info *m, const char *source, uint64_t in, uint64_t out, size_t nb,
                            const uint32_t *bs, size_t nt, const uint64_t *times, uint64_t wsize, unsigned pages,
                            uint64_t load_ns)
{
    memset(m, 0, sizeof *m);
    snprintf(m->source, sizeof m->source, "%s", source ? source : "");
    m->input_size = in;
    m->output_size = out;
    m->weights_size = wsize;
    m->num_weights_pages = pages;
    m->weights_load_ns = load_ns;
    for (size_t i = 0; i < nb && i < MODEL_MAX_BATCH_SIZES; i++) {
        m->batch_sizes[i] = bs[i];
        m->exec_ns[i] = i < nt ? times[i] : 0;
        m->n_batch_sizes++;
    }
}

static int decode_error(const struct net_msg *m, int64_t off, struct worker_result *r)
{
    Clockwork__ErrorResultProto *p = clockwork__error_result_proto__unpack(NULL, m->header_len, m->header);
    if (!p)
        return -1;
    r->action_id = p->action_id;
    r->action_type = error_action_wire_type(p->action_type);
    r->sched.status = p->status ? p->status : ACTION_RUNTIME_ERROR;
    snprintf(r->message, sizeof r->message, "%s", p->message ? p->message : "");
    r->sched.worker_action_received = to_controller(p->action_received, off);
    r->sched.worker_result_sent = to_controller(p->result_sent, off);
    clockwork__error_result_proto__free_unpacked(p, NULL);
    return 0;
}

static int decode_load_model(const struct net_msg *m, struct worker_result *r)
{
    Clockwork__LoadModelFromDiskResultProto *p =
        clockwork__load_model_from_disk_result_proto__unpack(NULL, m->header_len, m->header);
    if (!p)
        return -1;
    r->action_id = p->action_id;
    copy_model_info(&r->info, NULL, p->input_size, p->output_size, p->n_supported_batch_sizes, p->supported_batch_sizes,
                    p->n_batch_size_exec_times_nanos, p->batch_size_exec_times_nanos, p->weights_size_in_cache,
                    p->num_weights_pages, p->weights_load_time_nanos);
    r->copies_created = p->copies_created;
    r->duration = p->timing ? p->timing->duration : 0;
    clockwork__load_model_from_disk_result_proto__free_unpacked(p, NULL);
    return 0;
}

static void free_gpus(struct worker_result *r)
{
    for (unsigned i = 0; i < r->n_gpus; i++)
        free(r->gpus[i].models);
    r->n_gpus = 0;
}

static int decode_state(const struct net_msg *m, struct worker_result *r)
{
    Clockwork__GetWorkerStateResultProto *p =
        clockwork__get_worker_state_result_proto__unpack(NULL, m->header_len, m->header);
    if (!p || !p->worker_memory_info) {
        if (p)
            clockwork__get_worker_state_result_proto__free_unpacked(p, NULL);
        return -1;
    }
    r->action_id = p->action_id;
    Clockwork__WorkerMemoryInfoProto *mi = p->worker_memory_info;
    r->page_size = mi->page_size;
    for (size_t i = 0; i < mi->n_gpus && i < WORKER_MAX_GPUS; i++) {
        Clockwork__GPUInfoProto *g = mi->gpus[i];
        struct worker_gpu_state *s = &r->gpus[r->n_gpus++];
        s->id = (unsigned)g->id;
        s->weights_cache_size = g->weights_cache_size;
        s->total_pages = (unsigned)g->weights_cache_total_pages;
        s->io_pool_size = g->io_pool_size;
        s->workspace_pool_size = g->workspace_pool_size;
        s->models = calloc(g->n_models + 1, sizeof *s->models);
        if (!s->models) {
            free_gpus(r);
            clockwork__get_worker_state_result_proto__free_unpacked(p, NULL);
            return -1;
        }
        for (size_t j = 0; j < g->n_models; j++)
            s->models[s->n_models++] = g->models[j];
    }
    clockwork__get_worker_state_result_proto__free_unpacked(p, NULL);
    return 0;
}

static void set_timing(struct sched_result *s, const Clockwork__TimingProto *t, int64_t off)
{
    if (!t)
        return;
    s->worker_exec_begin = to_controller(t->begin, off);
    s->worker_exec_end = to_controller(t->end, off);
    s->worker_exec_duration = t->duration;
}

static int decode_infer(const struct net_msg *m, int64_t off, struct worker_result *r)
{
    struct pb_arena arena;
    pb_arena_init(&arena);
    Clockwork__InferResultProto *p = clockwork__infer_result_proto__unpack(&arena.allocator, m->header_len, m->header);
    if (!p)
        return -1;
    r->action_id = p->action_id;
    set_timing(&r->sched, p->exec_timing, off);
    if (p->copy_output_timing)
        r->sched.worker_copy_output_complete = to_controller(p->copy_output_timing->end, off);
    r->sched.gpu_clock_before = p->gpu_clock_before;
    r->sched.gpu_clock = p->gpu_clock;
    r->sched.worker_action_received = to_controller(p->action_received, off);
    r->sched.worker_result_sent = to_controller(p->result_sent, off);
    r->sched.output = m->body_len ? m->body : NULL;
    r->sched.output_len = m->body_len;
    clockwork__infer_result_proto__free_unpacked(p, &arena.allocator);
    return 0;
}

/* LoadWeights and EvictWeights results share one shape. */
static int decode_weights(const struct net_msg *m, int64_t off, struct worker_result *r)
{
    const ProtobufCMessageDescriptor *d = m->type == RES_LOAD_WEIGHTS
                                              ? &clockwork__load_weights_result_proto__descriptor
                                              : &clockwork__evict_weights_result_proto__descriptor;
    ProtobufCMessage *msg = protobuf_c_message_unpack(d, NULL, m->header_len, m->header);
    if (!msg)
        return -1;
    /* Both messages: action_id=1, timing=2, action_received=3, result_sent=4. */
    Clockwork__LoadWeightsResultProto *p = (Clockwork__LoadWeightsResultProto *)msg;
    r->action_id = p->action_id;
    set_timing(&r->sched, p->timing, off);
    r->sched.worker_action_received = to_controller(p->action_received, off);
    r->sched.worker_result_sent = to_controller(p->result_sent, off);
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}

static int decode_clear(const struct net_msg *m, struct worker_result *r)
{
    Clockwork__ClearCacheResultProto *p = clockwork__clear_cache_result_proto__unpack(NULL, m->header_len, m->header);
    if (!p)
        return -1;
    r->action_id = p->action_id;
    clockwork__clear_cache_result_proto__free_unpacked(p, NULL);
    return 0;
}

int worker_result_decode(const struct net_msg *m, int64_t offset, struct worker_result *out)
{
    memset(out, 0, sizeof *out);
    out->msg_type = m->type;
    out->sched.message = out->message;
    int rc;
    switch (m->type) {
    case RES_ERROR: rc = decode_error(m, offset, out); break;
    case RES_LOAD_MODEL: rc = decode_load_model(m, out); break;
    case RES_LOAD_WEIGHTS:
    case RES_EVICT: rc = decode_weights(m, offset, out); break;
    case RES_INFER: rc = decode_infer(m, offset, out); break;
    case RES_CLEAR: rc = decode_clear(m, out); break;
    case RES_STATE: rc = decode_state(m, out); break;
    default:
        snprintf(out->message, sizeof out->message, "unknown result type %llu", (unsigned long long)m->type);
        return -1;
    }
    if (rc != 0)
        snprintf(out->message, sizeof out->message, "unparsable header for result type %llu",
                 (unsigned long long)m->type);
    out->sched.action_id = (uint64_t)(uint32_t)out->action_id;
    return rc;
}

void worker_result_free(struct worker_result *r) { free_gpus(r); }
