#include "telemetry.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char REQUEST_LOG_HEADER[] = "t\trequest_id\tresult\tuser_id\tmodel_id\tslo_factor\tlatency\tdeadline\t"
                                  "deadline_met\tarrival_count\tdeparture_count\tis_coldstart";
const char ACTION_LOG_HEADER[] =
    "t\taction_id\taction_type\tstatus\tworker_id\tgpu_id\tmodel_id\tbatch_size\texpected_exec_duration\t"
    "worker_exec_duration\texpected_exec_complete\tworker_exec_complete\texpected_gpu_clock\t"
    "worker_gpu_clock_before\tworker_gpu_clock\tworker_copy_output_complete\tworker_action_received\t"
    "worker_result_sent\tcontroller_result_enqueue\tcontroller_action_duration\tgoodput\trequests_queued\t"
    "copies_loaded";

#define TELEMETRY_BUF (1 << 20)

struct telemetry_writer {
    FILE *requests;
    FILE *actions;
    char *reqbuf, *actbuf;
};

void telemetry_format_request(FILE *f, const struct request_row *r)
{
    fprintf(f, "%" PRIu64 "\t%" PRIu64 "\t%d\t%d\t%u\t%g\t%" PRIu64 "\t%" PRIu64 "\t%d\t%" PRIu64 "\t%" PRIu64 "\t%d\n",
            r->t, r->request_id, r->result, r->user_id, r->model_id, r->slo_factor, r->latency, r->deadline,
            r->deadline_met, r->arrival_count, r->departure_count, r->is_coldstart);
}

/* The original's telemetry numbers action types from 0 (load from disk), so the wire's
 * 2/3/4 (load weights, infer, evict) become 1/2/3 in the log. */
static int telemetry_action_type(int wire_type) { return wire_type - 1; }

void telemetry_format_action(FILE *f, const struct action_row *a)
{
    fprintf(f,
            "%" PRIu64 "\t%" PRIu64 "\t%d\t%d\t%u\t%u\t%u\t%u\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
            "\t%u\t%u\t%u\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%g\t%u\t%u\n",
            a->t, a->action_id, telemetry_action_type(a->action_type), a->status, a->worker_id, a->gpu_id, a->model_id,
            a->batch_size, a->expected_exec_duration, a->worker_exec_duration, a->expected_exec_complete,
            a->worker_exec_complete, a->expected_gpu_clock, a->worker_gpu_clock_before, a->worker_gpu_clock,
            a->worker_copy_output_complete, a->worker_action_received, a->worker_result_sent,
            a->controller_result_enqueue, a->controller_action_duration, a->goodput, a->requests_queued,
            a->copies_loaded);
}

static FILE *open_log(const char *dir, const char *name, const char *header, char **buf, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    *buf = malloc(TELEMETRY_BUF);
    if (*buf)
        setvbuf(f, *buf, _IOFBF, TELEMETRY_BUF);
    fprintf(f, "%s\n", header);
    return f;
}

struct telemetry_writer *telemetry_open(const char *dir, char *err, size_t errlen)
{
    struct telemetry_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->requests = open_log(dir, "clockwork_request_log.tsv", REQUEST_LOG_HEADER, &w->reqbuf, err, errlen);
    if (w->requests)
        w->actions = open_log(dir, "clockwork_action_log.tsv", ACTION_LOG_HEADER, &w->actbuf, err, errlen);
    if (!w->actions) {
        telemetry_close(w);
        return NULL;
    }
    return w;
}

void telemetry_write_request(struct telemetry_writer *w, const struct request_row *r)
{
    if (w)
        telemetry_format_request(w->requests, r);
}

void telemetry_write_action(struct telemetry_writer *w, const struct action_row *a)
{
    if (w)
        telemetry_format_action(w->actions, a);
}

void telemetry_flush(struct telemetry_writer *w)
{
    if (!w)
        return;
    fflush(w->requests);
    fflush(w->actions);
}

void telemetry_close(struct telemetry_writer *w)
{
    if (!w)
        return;
    if (w->requests)
        fclose(w->requests);
    if (w->actions)
        fclose(w->actions);
    free(w->reqbuf);
    free(w->actbuf);
    free(w);
}
