#include "telemetry.h"
#include "common/log.h"
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

/* One TSV: its stream, its buffer and, for rotation, its size so far. */
struct tsv_log {
    FILE *f; /* NULL once it could not be reopened after a rotation */
    char *buf;
    char path[4096];
    const char *header;
    uint64_t bytes;
    int dirty; /* rows written since the last flush */
};

struct telemetry_writer {
    struct tsv_log requests, actions;
    uint64_t max_bytes;
    unsigned keep;
};

int telemetry_format_request(FILE *f, const struct request_row *r)
{
    return fprintf(
        f, "%" PRIu64 "\t%" PRIu64 "\t%d\t%d\t%u\t%g\t%" PRIu64 "\t%" PRIu64 "\t%d\t%" PRIu64 "\t%" PRIu64 "\t%d\n",
        r->t, r->request_id, r->result, r->user_id, r->model_id, r->slo_factor, r->latency, r->deadline,
        r->deadline_met, r->arrival_count, r->departure_count, r->is_coldstart);
}

/* The original's telemetry numbers action types from 0 (load from disk), so the wire's
 * 2/3/4 (load weights, infer, evict) become 1/2/3 in the log. */
static int telemetry_action_type(int wire_type) { return wire_type - 1; }

int telemetry_format_action(FILE *f, const struct action_row *a)
{
    return fprintf(f,
                   "%" PRIu64 "\t%" PRIu64 "\t%d\t%d\t%u\t%u\t%u\t%u\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
                   "\t%u\t%u\t%u\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%g\t%u\t%u\n",
                   a->t, a->action_id, telemetry_action_type(a->action_type), a->status, a->worker_id, a->gpu_id,
                   a->model_id, a->batch_size, a->expected_exec_duration, a->worker_exec_duration,
                   a->expected_exec_complete, a->worker_exec_complete, a->expected_gpu_clock,
                   a->worker_gpu_clock_before, a->worker_gpu_clock, a->worker_copy_output_complete,
                   a->worker_action_received, a->worker_result_sent, a->controller_result_enqueue,
                   a->controller_action_duration, a->goodput, a->requests_queued, a->copies_loaded);
}

static int open_log(struct tsv_log *l, const char *dir, const char *name, const char *header, char *err, size_t errlen)
{
    if (l->path[0] == '\0')
        snprintf(l->path, sizeof l->path, "%s/%s", dir, name);
    l->header = header;
    l->f = fopen(l->path, "w");
    if (!l->f) {
        snprintf(err, errlen, "cannot write %s: %s", l->path, strerror(errno));
        return -1;
    }
    if (!l->buf)
        l->buf = malloc(TELEMETRY_BUF);
    if (l->buf)
        setvbuf(l->f, l->buf, _IOFBF, TELEMETRY_BUF);
    int n = fprintf(l->f, "%s\n", header);
    l->bytes = n > 0 ? (uint64_t)n : 0;
    fflush(l->f); /* a new file shows its header at once */
    return 0;
}

struct telemetry_writer *telemetry_open(const char *dir, char *err, size_t errlen)
{
    struct telemetry_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (open_log(&w->requests, dir, "clockwork_request_log.tsv", REQUEST_LOG_HEADER, err, errlen) != 0 ||
        open_log(&w->actions, dir, "clockwork_action_log.tsv", ACTION_LOG_HEADER, err, errlen) != 0) {
        telemetry_close(w);
        return NULL;
    }
    return w;
}

void telemetry_set_rotation(struct telemetry_writer *w, uint64_t max_bytes, unsigned keep)
{
    if (!w)
        return;
    w->max_bytes = max_bytes;
    w->keep = keep ? keep : 1;
}

/* NAME -> NAME.1 -> ... -> NAME.keep, then a fresh NAME with its header. */
static void rotate(struct telemetry_writer *w, struct tsv_log *l)
{
    char from[4200], to[4200], err[4300];
    fclose(l->f);
    l->f = NULL;
    for (unsigned i = w->keep; i > 1; i--) {
        snprintf(from, sizeof from, "%s.%u", l->path, i - 1);
        snprintf(to, sizeof to, "%s.%u", l->path, i);
        rename(from, to); /* a missing one (early rotations) is fine */
    }
    snprintf(to, sizeof to, "%s.1", l->path);
    if (rename(l->path, to) != 0)
        log_warn("telemetry: cannot rotate %s: %s", l->path, strerror(errno));
    if (open_log(l, NULL, NULL, l->header, err, sizeof err) != 0)
        log_error("telemetry: %s; no more rows are written to it", err);
}

static void wrote(struct telemetry_writer *w, struct tsv_log *l, int n)
{
    if (n > 0)
        l->bytes += (uint64_t)n;
    l->dirty = 1;
    if (w->max_bytes && l->bytes > w->max_bytes)
        rotate(w, l);
}

void telemetry_write_request(struct telemetry_writer *w, const struct request_row *r)
{
    if (w && w->requests.f)
        wrote(w, &w->requests, telemetry_format_request(w->requests.f, r));
}

void telemetry_write_action(struct telemetry_writer *w, const struct action_row *a)
{
    if (w && w->actions.f)
        wrote(w, &w->actions, telemetry_format_action(w->actions.f, a));
}

static void flush_log(struct tsv_log *l)
{
    if (l->f && l->dirty)
        fflush(l->f);
    l->dirty = 0;
}

void telemetry_commit_requests(struct telemetry_writer *w)
{
    if (w)
        flush_log(&w->requests);
}

void telemetry_flush(struct telemetry_writer *w)
{
    if (!w)
        return;
    flush_log(&w->requests);
    flush_log(&w->actions);
}

static void close_log(struct tsv_log *l)
{
    if (l->f)
        fclose(l->f);
    free(l->buf);
}

void telemetry_close(struct telemetry_writer *w)
{
    if (!w)
        return;
    close_log(&w->requests);
    close_log(&w->actions);
    free(w);
}
