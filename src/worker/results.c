/* Encoding of results (ErrorResultProto and the timed actions' results) onto a connection. */
#include "common/clock.h"
#include "proto/error_action.h"
#include "proto/clockwork.pb-c.h"
#include "worker_internal.h"

void worker_results_send_error(struct net_session *s, int32_t action_id, int action_type, int status,
                               const char *message, uint64_t action_received)
{
    if (!s->conn)
        return;
    Clockwork__ErrorResultProto r = CLOCKWORK__ERROR_RESULT_PROTO__INIT;
    r.action_id = action_id;
    r.action_type = error_action_code(action_type);
    r.status = status;
    r.message = (char *)(message ? message : "");
    r.action_received = action_received;
    r.result_sent = clock_now_ns();
    net_conn_send(s->conn, CLOCKWORK__ACTION_TYPE__RES_ERROR, 0, &r.base, NULL, 0);
}

static Clockwork__TimingProto timing(uint64_t begin, uint64_t end)
{
    Clockwork__TimingProto t = CLOCKWORK__TIMING_PROTO__INIT;
    t.begin = begin;
    t.end = end;
    t.duration = end > begin ? end - begin : 0;
    return t;
}

static void send_infer(struct net_session *s, struct worker_task *t)
{
    Clockwork__InferResultProto r = CLOCKWORK__INFER_RESULT_PROTO__INIT;
    Clockwork__TimingProto in = timing(t->infer.copy_input_begin, t->infer.copy_input_end);
    Clockwork__TimingProto ex = timing(t->infer.exec_begin, t->infer.exec_end);
    Clockwork__TimingProto out = timing(t->infer.copy_output_begin, t->infer.copy_output_end);
    r.action_id = t->action_id;
    r.copy_input_timing = &in;
    r.exec_timing = &ex;
    r.copy_output_timing = &out;
    r.gpu_id = t->gpu_id;
    r.gpu_clock_before = t->infer.clock_before;
    r.gpu_clock = t->infer.clock_after;
    r.action_received = t->action_received;
    r.result_sent = clock_now_ns();
    uint8_t *body = t->output;
    size_t len = t->output_len;
    t->output = NULL;
    t->output_len = 0;
    net_conn_send_owned(s->conn, CLOCKWORK__ACTION_TYPE__RES_INFER, 0, &r.base, body, len);
}

static void send_load_or_evict(struct net_session *s, struct worker_task *t)
{
    Clockwork__TimingProto tm = timing(t->begin, t->end);
    if (t->kind == TASK_LOAD_WEIGHTS) {
        Clockwork__LoadWeightsResultProto r = CLOCKWORK__LOAD_WEIGHTS_RESULT_PROTO__INIT;
        r.action_id = t->action_id;
        r.timing = &tm;
        r.action_received = t->action_received;
        r.result_sent = clock_now_ns();
        net_conn_send(s->conn, CLOCKWORK__ACTION_TYPE__RES_LOAD_WEIGHTS, 0, &r.base, NULL, 0);
    } else {
        Clockwork__EvictWeightsResultProto r = CLOCKWORK__EVICT_WEIGHTS_RESULT_PROTO__INIT;
        r.action_id = t->action_id;
        r.timing = &tm;
        r.action_received = t->action_received;
        r.result_sent = clock_now_ns();
        net_conn_send(s->conn, CLOCKWORK__ACTION_TYPE__RES_EVICT_WEIGHTS, 0, &r.base, NULL, 0);
    }
}

void worker_results_send_task(struct worker *w, struct net_session *s, struct worker_task *t)
{
    (void)w;
    if (!s->conn)
        return;
    if (t->status != 0)
        worker_results_send_error(s, t->action_id, t->kind, t->status, t->message, t->action_received);
    else if (t->kind == TASK_INFER)
        send_infer(s, t);
    else
        send_load_or_evict(s, t);
}
