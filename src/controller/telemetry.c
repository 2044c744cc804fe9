/* The telemetry writer: rows formatted without printf into a 1 MiB buffer per file, handed to
 * the kernel in large writes (a commit, a flush, a full buffer, a rotation). */
#include "telemetry.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char REQUEST_LOG_HEADER[] = "t\trequest_id\tresult\tuser_id\tmodel_id\tslo_factor\tlatency\tdeadline\t"
                                  "deadline_met\tarrival_count\tdeparture_count\tis_coldstart";
const char ACTION_LOG_HEADER[] =
    "t\taction_id\taction_type\tstatus\tworker_id\tgpu_id\tmodel_id\tbatch_size\texpected_exec_duration\t"
    "worker_exec_duration\texpected_exec_complete\tworker_exec_complete\texpected_gpu_clock\t"
    "worker_gpu_clock_before\tworker_gpu_clock\tworker_copy_output_complete\tworker_action_received\t"
    "worker_result_sent\tcontroller_result_enqueue\tcontroller_action_duration\tgoodput\trequests_queued\t"
    "copies_loaded";

#define TELEMETRY_BUF (1 << 20)

/* One TSV: its file, its buffer and, for rotation, its size so far. */
struct tsv_log {
    int fd; /* -1 once it could not be reopened after a rotation */
    char *buf;
    size_t len; /* bytes buffered, not yet written */
    char path[4096];
    const char *header;
    uint64_t bytes;   /* file size including what is buffered */
    int write_failed; /* a write error was logged (once per file) */
};

struct telemetry_writer {
    struct tsv_log requests, actions;
    uint64_t max_bytes;
    unsigned keep;
};

/* ---- formatting: digits by hand, printf only for the rare non-integral double ---- */

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

/* "%g": integral values below 1e6 print as integers (the usual 0, 1, 10); the rest by snprintf. */
static char *put_g(char *p, double v)
{
    if (v >= 0 && v < 1e6 && v == (double)(uint64_t)v && !signbit(v))
        return put_u64(p, (uint64_t)v);
    return p + snprintf(p, 32, "%g", v);
}

static char *tab_u64(char *p, uint64_t v)
{
    *p++ = '\t';
    return put_u64(p, v);
}

static char *tab_i64(char *p, int64_t v)
{
    *p++ = '\t';
    return put_i64(p, v);
}

static char *tab_g(char *p, double v)
{
    *p++ = '\t';
    return put_g(p, v);
}

static size_t end_row(char *start, char *p)
{
    *p++ = '\n';
    *p = '\0';
    return (size_t)(p - start);
}

size_t telemetry_format_request(char *out, const struct request_row *r)
{
    char *p = put_u64(out, r->t);
    p = tab_u64(p, r->request_id);
    p = tab_i64(p, r->result);
    p = tab_i64(p, r->user_id);
    p = tab_u64(p, r->model_id);
    p = tab_g(p, r->slo_factor);
    p = tab_u64(p, r->latency);
    p = tab_u64(p, r->deadline);
    p = tab_i64(p, r->deadline_met);
    p = tab_u64(p, r->arrival_count);
    p = tab_u64(p, r->departure_count);
    p = tab_i64(p, r->is_coldstart);
    return end_row(out, p);
}

/* The original's telemetry numbers action types from 0 (load from disk), so the wire's
 * 2/3/4 (load weights, infer, evict) become 1/2/3 in the log. */
static int telemetry_action_type(int wire_type) { return wire_type - 1; }

size_t telemetry_format_action(char *out, const struct action_row *a)
{
    char *p = put_u64(out, a->t);
    p = tab_u64(p, a->action_id);
    p = tab_i64(p, telemetry_action_type(a->action_type));
    p = tab_i64(p, a->status);
    p = tab_u64(p, a->worker_id);
    p = tab_u64(p, a->gpu_id);
    p = tab_u64(p, a->model_id);
    p = tab_u64(p, a->batch_size);
    p = tab_i64(p, a->expected_exec_duration);
    p = tab_i64(p, a->worker_exec_duration);
    p = tab_i64(p, a->expected_exec_complete);
    p = tab_i64(p, a->worker_exec_complete);
    p = tab_u64(p, a->expected_gpu_clock);
    p = tab_u64(p, a->worker_gpu_clock_before);
    p = tab_u64(p, a->worker_gpu_clock);
    p = tab_i64(p, a->worker_copy_output_complete);
    p = tab_i64(p, a->worker_action_received);
    p = tab_i64(p, a->worker_result_sent);
    p = tab_i64(p, a->controller_result_enqueue);
    p = tab_i64(p, a->controller_action_duration);
    p = tab_g(p, a->goodput);
    p = tab_u64(p, a->requests_queued);
    p = tab_u64(p, a->copies_loaded);
    return end_row(out, p);
}

/* ---- files ---- */

/* Hands the buffer to the kernel. A failing file is logged once and its rows are dropped. */
static void write_out(struct tsv_log *l)
{
    size_t off = 0;
    while (l->fd >= 0 && off < l->len) {
        ssize_t n = write(l->fd, l->buf + off, l->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!l->write_failed)
                log_error("telemetry: cannot write %s: %s; rows are lost", l->path,
                          n < 0 ? strerror(errno) : "0 bytes");
            l->write_failed = 1;
            break;
        }
        off += (size_t)n;
    }
    l->len = 0;
}

static void append(struct tsv_log *l, const char *s, size_t n)
{
    if (l->len + n > TELEMETRY_BUF)
        write_out(l);
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->bytes += n;
}

static int open_log(struct tsv_log *l, const char *dir, const char *name, const char *header, char *err, size_t errlen)
{
    if (l->path[0] == '\0')
        snprintf(l->path, sizeof l->path, "%s/%s", dir, name);
    l->header = header;
    if (!l->buf)
        l->buf = malloc(TELEMETRY_BUF);
    l->fd = l->buf ? open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (l->fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", l->path, l->buf ? strerror(errno) : "out of memory");
        return -1;
    }
    l->bytes = 0;
    l->write_failed = 0;
    append(l, header, strlen(header));
    append(l, "\n", 1);
    write_out(l); /* a new file shows its header at once */
    return 0;
}

static void init_log(struct tsv_log *l) { l->fd = -1; }

struct telemetry_writer *telemetry_open(const char *dir, char *err, size_t errlen)
{
    struct telemetry_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    init_log(&w->requests);
    init_log(&w->actions);
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
    write_out(l);
    close(l->fd);
    l->fd = -1;
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

static void write_row(struct telemetry_writer *w, struct tsv_log *l, const char *row, size_t n)
{
    append(l, row, n);
    if (w->max_bytes && l->bytes > w->max_bytes)
        rotate(w, l);
}

void telemetry_write_request(struct telemetry_writer *w, const struct request_row *r)
{
    char row[TELEMETRY_ROW_MAX];
    if (w && w->requests.fd >= 0)
        write_row(w, &w->requests, row, telemetry_format_request(row, r));
}

void telemetry_write_action(struct telemetry_writer *w, const struct action_row *a)
{
    char row[TELEMETRY_ROW_MAX];
    if (w && w->actions.fd >= 0)
        write_row(w, &w->actions, row, telemetry_format_action(row, a));
}

void telemetry_commit_requests(struct telemetry_writer *w)
{
    if (w && w->requests.len)
        write_out(&w->requests);
}

void telemetry_flush(struct telemetry_writer *w)
{
    if (!w)
        return;
    write_out(&w->requests);
    write_out(&w->actions);
}

static void close_log(struct tsv_log *l)
{
    write_out(l);
    if (l->fd >= 0)
        close(l->fd);
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
