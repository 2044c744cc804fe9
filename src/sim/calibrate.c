#include "calibrate.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_INFERS 100
#define US 1000.0

/* The action log's columns this needs (all relative to t except t). */
enum col {
    C_T,
    C_TYPE,
    C_STATUS,
    C_WORKER,
    C_GPU,
    C_EXPECTED,
    C_EXEC,
    C_COMPLETE,
    C_RECEIVED,
    C_SENT,
    C_ENQUEUE,
    N_COLS
};
static const char *const COLS[N_COLS] = {"t",
                                         "action_type",
                                         "status",
                                         "worker_id",
                                         "gpu_id",
                                         "expected_exec_duration",
                                         "worker_exec_duration",
                                         "worker_exec_complete",
                                         "worker_action_received",
                                         "worker_result_sent",
                                         "controller_result_enqueue"};

struct infer {
    long long v[N_COLS];
    long long begin, end, received; /* absolute ns */
};

struct samples {
    double *x;
    size_t n, cap;
};

static void push(struct samples *s, double x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        double *p = realloc(s->x, cap * sizeof *p);
        if (!p)
            return; /* keep what fits: a fit from fewer samples */
        s->x = p;
        s->cap = cap;
    }
    s->x[s->n++] = x;
}

static int header_columns(char *line, int *idx)
{
    for (int c = 0; c < N_COLS; c++)
        idx[c] = -1;
    int i = 0;
    for (char *save = NULL, *tok = strtok_r(line, "\t\r\n", &save); tok; tok = strtok_r(NULL, "\t\r\n", &save), i++)
        for (int c = 0; c < N_COLS; c++)
            if (!strcmp(tok, COLS[c]))
                idx[c] = i;
    for (int c = 0; c < N_COLS; c++)
        if (idx[c] < 0)
            return c;
    return -1;
}

/* One row into r; 0 if it is a successful infer with worker timings. */
static int parse_row(char *line, const int *idx, struct infer *r)
{
    long long field[64];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, "\t\r\n", &save); tok && n < 64;
         tok = strtok_r(NULL, "\t\r\n", &save))
        field[n++] = strtoll(tok, NULL, 10);
    for (int c = 0; c < N_COLS; c++) {
        if (idx[c] >= n)
            return -1;
        r->v[c] = field[idx[c]];
    }
    if (r->v[C_TYPE] != 2 || r->v[C_STATUS] != 0 || r->v[C_EXEC] <= 0 || r->v[C_SENT] <= 0)
        return -1;
    r->end = r->v[C_T] + r->v[C_COMPLETE];
    r->begin = r->end - r->v[C_EXEC];
    r->received = r->v[C_T] + r->v[C_RECEIVED];
    return 0;
}

static int read_infers(const char *dir, struct infer **out, size_t *n_out, char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/clockwork_action_log.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int idx[N_COLS], missing = fgets(line, sizeof line, f) ? header_columns(line, idx) : 0;
    if (missing >= 0) {
        snprintf(err, errlen, "%s: no column '%s' in its header", path, COLS[missing]);
        fclose(f);
        return -1;
    }
    struct infer *v = NULL, r;
    size_t n = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (parse_row(line, idx, &r) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            struct infer *p = realloc(v, cap * sizeof *p);
            if (!p)
                break;
            v = p;
        }
        v[n++] = r;
    }
    fclose(f);
    *out = v;
    *n_out = n;
    return 0;
}

/* ---- the client's tick, from arrival times ---- */

#define BUNCH_NS 50000.0 /* arrivals closer than this left the client together */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Arrival times (t) from DIR/clockwork_request_log.tsv, sorted; NULL if unreadable. */
static uint64_t *read_arrivals(const char *dir, size_t *n)
{
    char path[1200], line[1024];
    snprintf(path, sizeof path, "%s/clockwork_request_log.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    uint64_t *t = NULL;
    size_t cap = 0;
    *n = 0;
    if (fgets(line, sizeof line, f) && !strncmp(line, "t\t", 2))
        while (fgets(line, sizeof line, f)) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 4096;
                uint64_t *p = realloc(t, cap * sizeof *p);
                if (!p)
                    break;
                t = p;
            }
            t[(*n)++] = strtoull(line, NULL, 10);
        }
    fclose(f);
    qsort(t, *n, sizeof *t, cmp_u64);
    return t;
}

/* Requests due between two wake-ups of a client with tick T leave together: at rate r, a
 * fraction 1 - (1 - e^-x) / x of them (x = rT) follow another at once. Solved for x by
 * bisection, when clearly more arrivals bunch than Poisson arrivals alone would. */
static void fit_client_tick(struct sim_calibration *c, const char *dir)
{
    size_t n = 0;
    uint64_t *t = read_arrivals(dir, &n);
    if (!t || n < 1000 || t[n - 1] <= t[0]) {
        free(t);
        return;
    }
    size_t close = 0;
    for (size_t i = 1; i < n; i++)
        close += (double)(t[i] - t[i - 1]) < BUNCH_NS;
    c->arrival_rate = (double)(n - 1) / ((double)(t[n - 1] - t[0]) / 1e9);
    c->bunched = (double)close / (double)(n - 1);
    free(t);
    double poisson = 1.0 - exp(-c->arrival_rate * BUNCH_NS / 1e9), excess = c->bunched - poisson;
    if (excess < 0.02)
        return;
    double lo = 1e-6, hi = 50.0;
    for (int i = 0; i < 60; i++) {
        double x = (lo + hi) / 2;
        if (1.0 - (1.0 - exp(-x)) / x < c->bunched)
            lo = x;
        else
            hi = x;
    }
    double tick_us = lo / c->arrival_rate * 1e6;
    c->client_tick_ns = (uint64_t)llround(tick_us / 10.0) * 10000; /* to 10 us */
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(const struct samples *s, double p)
{
    size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->x[i < s->n ? i : s->n - 1];
}

#define TAIL_MIN_SAMPLES 2000 /* for a 99.9th percentile worth fitting */

/* What the 99th and 99.9th percentiles exceed base + Exp(J) by, as stalls: with probability p an
 * extra Exp(T), so P(X > x) ~ e^-(x-b)/J + p e^-(x-b)/T far out. Two points give T and p. */
static void fit_tail(struct sim_delay *d, const struct samples *s, double b, double j)
{
    if (s->n < TAIL_MIN_SAMPLES || j <= 0)
        return;
    double x99 = quantile(s, 0.99), x999 = quantile(s, 0.999);
    double r1 = 0.01 - exp(-(x99 - b) / j), r2 = 0.001 - exp(-(x999 - b) / j);
    if (r1 <= 0 || r2 <= 0 || r1 <= r2 || x999 <= x99)
        return;
    double t = (x999 - x99) / log(r1 / r2), p = r1 * exp((x99 - b) / t);
    if (t <= j || !(p > 0))
        return;
    d->tail = (uint64_t)llround(t * US);
    d->tail_prob = p < 0.5 ? p : 0.5;
}

/* base + Exp(jitter) through the 10th and 90th percentiles: p10 = base + J ln(10/9), p90 =
 * base + J ln(10), so a few stalls do not drag every draw; what lies beyond the 99th becomes the
 * stall tail (fit_tail). */
static void fit_hop(struct sim_calibration *c, enum sim_hop h, struct samples *s, double subtract_us)
{
    if (s->n < MIN_INFERS / 2)
        return;
    qsort(s->x, s->n, sizeof s->x[0], cmp_double);
    struct sim_hop_fit *f = &c->fit[h];
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->x[i];
    *f = (struct sim_hop_fit){
        1, (unsigned)s->n, quantile(s, 0.1), quantile(s, 0.5), quantile(s, 0.9), sum / (double)s->n};
    double jitter = (f->p90 - f->p10) / (log(10.0) - log(10.0 / 9.0));
    double raw_base = f->p10 - jitter * log(10.0 / 9.0), base = raw_base - subtract_us;
    c->lat.hop[h].base = (uint64_t)llround((base > 0 ? base : 0) * US);
    c->lat.hop[h].jitter = (uint64_t)llround((jitter > 0 ? jitter : 0) * US);
    fit_tail(&c->lat.hop[h], s, raw_base, jitter);
}

static int by_device_then_begin(const void *a, const void *b)
{
    const struct infer *x = a, *y = b;
    for (int c = C_WORKER; c <= C_GPU; c++)
        if (x->v[c] != y->v[c])
            return x->v[c] < y->v[c] ? -1 : 1;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

#define IDLE_GUARD_NS 500000LL /* an action arriving this long after the previous end finds an idle executor */

/* An executor's turnaround shows where the next infer was already waiting when one ended; its
 * wake-up where the next arrived well after the previous end. */
static void executor_gaps(struct infer *v, size_t n, struct samples *turnaround, struct samples *wakeup)
{
    qsort(v, n, sizeof v[0], by_device_then_begin);
    for (size_t i = 1; i < n; i++) {
        const struct infer *p = &v[i - 1], *q = &v[i];
        if (p->v[C_WORKER] != q->v[C_WORKER] || p->v[C_GPU] != q->v[C_GPU])
            continue;
        if (q->received <= p->end && q->begin >= p->end)
            push(turnaround, (double)(q->begin - p->end) / US);
        else if (q->received > p->end + IDLE_GUARD_NS && q->begin >= q->received)
            push(wakeup, (double)(q->begin - q->received) / US);
    }
}

int sim_calibrate(const char *dir, struct sim_calibration *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    sim_latency_defaults(&c->lat);
    struct infer *v = NULL;
    size_t n = 0;
    if (read_infers(dir, &v, &n, err, errlen) != 0)
        return -1;
    if (n < MIN_INFERS) {
        snprintf(err, errlen, "%s/clockwork_action_log.tsv: %zu successful inferences, at least %d needed to fit", dir,
                 n, MIN_INFERS);
        free(v);
        return -1;
    }
    struct samples s[SIM_N_HOPS];
    memset(s, 0, sizeof s);
    double over = 0;
    for (size_t i = 0; i < n; i++) {
        push(&s[HOP_CTL_TO_WORKER], (double)v[i].v[C_RECEIVED] / US);
        push(&s[HOP_WORKER_RESULT], (double)(v[i].v[C_SENT] - v[i].v[C_COMPLETE]) / US);
        push(&s[HOP_WORKER_TO_CTL], (double)(v[i].v[C_ENQUEUE] - v[i].v[C_SENT]) / US);
        over += (double)(v[i].v[C_EXEC] - v[i].v[C_EXPECTED]) / US;
    }
    executor_gaps(v, n, &s[HOP_EXEC_TURNAROUND], &s[HOP_EXEC_WAKEUP]);
    c->infers = (unsigned)n;
    c->exec_overshoot_us = over / (double)n;
    /* the log's dispatch time starts when the action is made: the controller's own processing
     * and send are modelled separately */
    double ctl_us = (double)c->lat.hop[HOP_CTL_EVENT].base / US;
    fit_hop(c, HOP_CTL_TO_WORKER, &s[HOP_CTL_TO_WORKER], ctl_us);
    fit_hop(c, HOP_WORKER_RESULT, &s[HOP_WORKER_RESULT], 0);
    fit_hop(c, HOP_WORKER_TO_CTL, &s[HOP_WORKER_TO_CTL], 0);
    fit_hop(c, HOP_EXEC_TURNAROUND, &s[HOP_EXEC_TURNAROUND], 0);
    fit_hop(c, HOP_EXEC_WAKEUP, &s[HOP_EXEC_WAKEUP], 0);
    fit_client_tick(c, dir);
    /* Client hops are not in the logs and do not decide deadline_met; what matters is the shape
     * of the arrivals: requests the client sends together come back to back over its one
     * connection, so the worker link's base without its jitter. */
    c->lat.hop[HOP_CLIENT_TO_CTL] = c->lat.hop[HOP_CTL_TO_CLIENT] =
        (struct sim_delay){.base = c->lat.hop[HOP_WORKER_TO_CTL].base};
    for (int h = 0; h < SIM_N_HOPS; h++)
        free(s[h].x);
    free(v);
    return 0;
}

static void write_delay(FILE *f, enum sim_hop h, const struct sim_delay *d)
{
    fprintf(f, "%-16s %.1f+%.1f", sim_hop_name(h), (double)d->base / US, (double)d->jitter / US);
    if (d->tail_prob > 0)
        fprintf(f, "+%.1f@%.5f", (double)d->tail / US, d->tail_prob);
    fputc('\n', f);
}

void sim_calibration_write(FILE *f, const struct sim_calibration *c, const char *dir)
{
    fprintf(f, "# clockwork-sim overheads fitted by --calibrate from %s (%u successful inferences)\n", dir, c->infers);
    fprintf(f, "# use: clockwork-sim --overheads FILE ...; values in us, BASE+JITTER (exponential mean JITTER)\n");
    fprintf(f, "# measured (us): hop n p10 p50 p90 mean\n");
    for (int h = 0; h < SIM_N_HOPS; h++)
        if (c->fit[h].measured)
            fprintf(f, "#   %-16s %7u %8.1f %8.1f %8.1f %8.1f\n", sim_hop_name(h), c->fit[h].n, c->fit[h].p10,
                    c->fit[h].p50, c->fit[h].p90, c->fit[h].mean);
    fprintf(f, "# infer exec time minus the controller's estimate: %+.1f us on average (not modelled)\n",
            c->exec_overshoot_us);
    fprintf(f, "# client-ctl and ctl-client are not in the logs: worker-ctl's base, no jitter (requests sent\n"
               "# together arrive back to back); ctl-event and send are the defaults\n");
    fprintf(f, "# arrivals: %.1f/s, %.1f%% within %.0f us of the previous one (Poisson alone: %.1f%%)\n",
            c->arrival_rate, 100.0 * c->bunched, BUNCH_NS / US, 100.0 * (1.0 - exp(-c->arrival_rate * BUNCH_NS / 1e9)));
    for (int h = 0; h < SIM_N_HOPS; h++)
        write_delay(f, h, &c->lat.hop[h]);
    fprintf(f, "%-16s %.0f\n", "client-tick-us", (double)c->client_tick_ns / US);
}
