#include "controller/sched_report.h"
#include "common/status.h"
#include <string.h>

uint64_t sched_request_slo(uint64_t batch1_estimate, double slo_factor, uint64_t default_slo)
{
    if (!(slo_factor > 0))
        return default_slo;
    double slo = (double)batch1_estimate * slo_factor;
    return slo < (double)SCHED_MAX_SLO ? (uint64_t)slo : SCHED_MAX_SLO;
}

void sched_request_row(struct request_row *row, const struct sched_request *r, uint64_t now, int status,
                       uint64_t departure_count)
{
    *row = (struct request_row){
        .t = r->arrival,
        .request_id = r->id,
        .result = status,
        .user_id = r->user_id,
        .model_id = r->model_id,
        .slo_factor = r->slo_factor,
        .latency = now > r->arrival ? now - r->arrival : 0,
        .deadline = r->deadline - r->arrival,
        .deadline_met = status == CLIENT_SUCCESS && now <= r->deadline,
        .arrival_count = r->arrival_count,
        .departure_count = departure_count,
        .is_coldstart = r->is_coldstart,
    };
}

static int64_t since(uint64_t abs, uint64_t t) { return abs ? (int64_t)(abs - t) : 0; }

void sched_action_row_result(struct action_row *row, const struct sched_result *res, uint64_t sent)
{
    row->worker_exec_duration = (int64_t)res->worker_exec_duration;
    row->worker_exec_complete = since(res->worker_exec_end, sent);
    row->worker_gpu_clock_before = res->gpu_clock_before;
    row->worker_gpu_clock = res->gpu_clock;
    row->worker_copy_output_complete = since(res->worker_copy_output_complete, sent);
    row->worker_action_received = since(res->worker_action_received, sent);
    row->worker_result_sent = since(res->worker_result_sent, sent);
    row->controller_result_enqueue = since(res->received, sent);
}

int sched_client_status(int action_status)
{
    switch (action_status) {
    case ACTION_COULD_NOT_START_IN_TIME:
    case ACTION_NETWORK_SEND_TOO_LATE:
    case ACTION_COPY_INPUT_TOO_LATE:
    case ACTION_EXEC_TOO_LATE:
    case ACTION_COPY_OUTPUT_TOO_LATE: return CLIENT_TIMEOUT;
    default: return CLIENT_ERROR;
    }
}

void sched_stats_take(struct sched_gpu_stats *st, struct sched_gpu_stats *out)
{
    *out = *st;
    unsigned worker_id = st->worker_id, gpu_id = st->gpu_id;
    memset(st, 0, sizeof *st);
    st->worker_id = worker_id;
    st->gpu_id = gpu_id;
}
