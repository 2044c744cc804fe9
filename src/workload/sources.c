#include "sources.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum src_kind { SRC_OPEN, SRC_CLOSED, SRC_TRACE };

/* What every request and response reads leads (kind, counts, the open loop's arrivals): one
 * or two cache lines per source, however many sources there are. */
struct src {
    enum src_kind kind;
    int user_id;
    unsigned first, n;
    int started, active, bursty;
    unsigned concurrency, outstanding; /* closed loop */
    uint64_t max_requests, sent;
    unsigned rr;
    struct wl_arrivals arr;
    struct wl_rng pick;
    double rate, scale; /* open: r/s in total before scale; trace: scale only */
    /* trace replay */
    uint32_t *counts;
    unsigned n_intervals;
    double interval_ns;
    int start_interval;
    uint64_t seed;
    struct wl_trace_arrivals tr;
    /* closed loop */
    double jitter_ns;
    uint64_t start_at;
    /* bursty on/off */
    double burst_mean_ns, idle_mean_ns;
    uint64_t phase_end;
    struct wl_rng burst_rng;
};

enum sched_kind { SCHED_SLO, SCHED_SCALE };

struct sched {
    enum sched_kind kind;
    unsigned first, n; /* targets (SLO) or sources (SCALE) */
    struct wl_slo_schedule s;
    uint64_t period_ns, next_ns;
    int stop_at_end;
    char label[32];
};

struct heap_node {
    uint64_t key;
    unsigned actor;
};

/* Actors are the sources (0..n_src-1) then the schedules; the heap orders them by key, the
 * time of their next event. */
struct wl_sources {
    float *slo;
    unsigned n_targets;
    struct src *src;
    unsigned n_src;
    struct sched *sch;
    unsigned n_sch;
    struct heap_node *heap; /* the key lives in the node: one cache line per level */
    unsigned *pos;
    unsigned n_heap;
    int started, stopped;
};

struct wl_sources *wl_sources_new(void) { return calloc(1, sizeof(struct wl_sources)); }

void wl_sources_free(struct wl_sources *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n_src; i++)
        free(s->src[i].counts);
    free(s->slo);
    free(s->src);
    free(s->sch);
    free(s->heap);
    free(s->pos);
    free(s);
}

/* ---- building ---- */

int wl_sources_add_targets(struct wl_sources *s, unsigned n)
{
    if (n == 0 || s->started || s->n_targets + n < s->n_targets)
        return -1;
    float *ns = realloc(s->slo, (s->n_targets + n) * sizeof *ns);
    if (!ns)
        return -1;
    s->slo = ns;
    memset(ns + s->n_targets, 0, n * sizeof *ns);
    s->n_targets += n;
    return (int)(s->n_targets - n);
}

unsigned wl_sources_num_targets(const struct wl_sources *s) { return s->n_targets; }
unsigned wl_sources_num_sources(const struct wl_sources *s) { return s->n_src; }

float wl_sources_target_slo(const struct wl_sources *s, unsigned target)
{
    return target < s->n_targets ? s->slo[target] : 0;
}

static struct src *new_source(struct wl_sources *s, int user_id, unsigned first, unsigned n, enum src_kind kind)
{
    if (s->started || n == 0 || first >= s->n_targets || n > s->n_targets - first)
        return NULL;
    struct src *ns = realloc(s->src, (s->n_src + 1) * sizeof *ns);
    if (!ns)
        return NULL;
    s->src = ns;
    struct src *x = &ns[s->n_src++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->user_id = user_id;
    x->first = first;
    x->n = n;
    x->scale = 1;
    x->active = 1;
    x->started = 1;
    return x;
}

int wl_sources_open_loop(struct wl_sources *s, const struct wl_open_spec *o)
{
    if (!(o->rate > 0) || !isfinite(o->rate))
        return -1;
    struct src *x = new_source(s, o->user_id, o->first, o->n, SRC_OPEN);
    if (!x)
        return -1;
    x->rate = o->rate;
    wl_arrivals_init(&x->arr, o->dist, o->rate, o->seed, 0);
    wl_rng_seed(&x->pick, o->seed ^ 0x5eedULL);
    return (int)(s->n_src - 1);
}

int wl_sources_closed_loop(struct wl_sources *s, const struct wl_closed_spec *c)
{
    if (c->concurrency == 0 || !(c->jitter_s >= 0) || !isfinite(c->jitter_s))
        return -1;
    struct src *x = new_source(s, c->user_id, c->first, c->n, SRC_CLOSED);
    if (!x)
        return -1;
    x->concurrency = c->concurrency;
    x->max_requests = c->max_requests;
    x->jitter_ns = c->jitter_s * 1e9;
    x->seed = c->seed;
    return (int)(s->n_src - 1);
}

int wl_sources_trace_replay(struct wl_sources *s, const struct wl_trace_spec *t)
{
    if (!t->counts || t->n_intervals == 0 || !(t->scale > 0) || !(t->interval_s > 0) || !isfinite(t->interval_s))
        return -1;
    uint32_t *copy = malloc(t->n_intervals * sizeof *copy);
    struct src *x = copy ? new_source(s, t->user_id, t->target, 1, SRC_TRACE) : NULL;
    if (!x) {
        free(copy);
        return -1;
    }
    memcpy(copy, t->counts, t->n_intervals * sizeof *copy);
    x->counts = copy;
    x->n_intervals = t->n_intervals;
    x->scale = t->scale;
    x->interval_ns = t->interval_s * 1e9;
    x->start_interval = t->start_interval;
    x->seed = t->seed;
    return (int)(s->n_src - 1);
}

int wl_sources_bursty(struct wl_sources *s, int source, double burst_mean_s, double idle_mean_s, uint64_t seed)
{
    if (s->started || source < 0 || (unsigned)source >= s->n_src || !(burst_mean_s > 0) || !(idle_mean_s > 0) ||
        s->src[source].kind == SRC_TRACE)
        return -1;
    struct src *x = &s->src[source];
    x->bursty = 1;
    x->burst_mean_ns = burst_mean_s * 1e9;
    x->idle_mean_ns = idle_mean_s * 1e9;
    wl_rng_seed(&x->burst_rng, seed);
    return source;
}

static void apply_schedule(struct wl_sources *s, const struct sched *k)
{
    for (unsigned i = k->first; i < k->first + k->n; i++) {
        if (k->kind == SCHED_SLO) {
            s->slo[i] = (float)k->s.current;
            continue;
        }
        struct src *x = &s->src[i];
        x->scale = k->s.current;
        if (x->kind == SRC_OPEN)
            wl_arrivals_set_rate(&x->arr, x->rate * x->scale);
        else if (x->kind == SRC_TRACE)
            wl_trace_set_scale(&x->tr, x->scale);
    }
}

static int add_schedule(struct wl_sources *s, enum sched_kind kind, unsigned first, unsigned n,
                        const struct wl_slo_schedule *sch, double period_s, int stop_at_end, const char *label)
{
    unsigned limit = kind == SCHED_SLO ? s->n_targets : s->n_src;
    if (s->started || !(period_s > 0) || !isfinite(period_s) || n == 0 || first >= limit || n > limit - first ||
        !(sch->current > 0))
        return -1;
    struct sched *ns = realloc(s->sch, (s->n_sch + 1) * sizeof *ns);
    if (!ns)
        return -1;
    s->sch = ns;
    struct sched *k = &ns[s->n_sch++];
    *k = (struct sched){.kind = kind,
                        .first = first,
                        .n = n,
                        .s = *sch,
                        .period_ns = (uint64_t)(period_s * 1e9),
                        .stop_at_end = stop_at_end};
    snprintf(k->label, sizeof k->label, "%s", label);
    apply_schedule(s, k);
    return (int)(s->n_sch - 1);
}

int wl_sources_slo_schedule(struct wl_sources *s, unsigned first, unsigned n, const struct wl_slo_schedule *sch,
                            double period_s, int stop_at_end)
{
    return add_schedule(s, SCHED_SLO, first, n, sch, period_s, stop_at_end, "slo_factor");
}

int wl_sources_scale_schedule(struct wl_sources *s, unsigned first, unsigned n, const struct wl_slo_schedule *sch,
                              double period_s, int stop_at_end, const char *label)
{
    return add_schedule(s, SCHED_SCALE, first, n, sch, period_s, stop_at_end, label ? label : "scale");
}

int wl_sources_set_slo(struct wl_sources *s, unsigned target, float slo_factor)
{
    if (target >= s->n_targets || !(slo_factor >= 0))
        return -1;
    s->slo[target] = slo_factor;
    return (int)target;
}

/* ---- the event heap ---- */

static uint64_t source_key(const struct src *x)
{
    if (!x->started)
        return x->start_at;
    uint64_t t = x->bursty ? x->phase_end : UINT64_MAX;
    if (x->active && x->kind == SRC_OPEN && wl_arrivals_peek(&x->arr) < t)
        t = wl_arrivals_peek(&x->arr);
    if (x->active && x->kind == SRC_TRACE && wl_trace_peek(&x->tr) < t)
        t = wl_trace_peek(&x->tr);
    return t;
}

static uint64_t actor_key(const struct wl_sources *s, unsigned a)
{
    return a < s->n_src ? source_key(&s->src[a]) : s->sch[a - s->n_src].next_ns;
}

/* Both sifts move a hole instead of swapping, making the same comparisons as swaps would (the
 * moving node is the one compared at every level), so ties pop in the same order as ever; only
 * the nodes passed over are written, each with its one pos[] entry. */
static void put_node(struct wl_sources *s, unsigned i, struct heap_node n)
{
    s->heap[i] = n;
    s->pos[n.actor] = i;
}

static void sift_up(struct wl_sources *s, unsigned i)
{
    struct heap_node x = s->heap[i];
    while (i > 0 && s->heap[(i - 1) / 2].key > x.key) {
        put_node(s, i, s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    put_node(s, i, x);
}

static void sift_down(struct wl_sources *s, unsigned i)
{
    struct heap_node x = s->heap[i];
    for (;;) {
        unsigned l = 2 * i + 1, r = l + 1, m = i;
        uint64_t mk = x.key;
        if (l < s->n_heap && s->heap[l].key < mk) {
            m = l;
            mk = s->heap[l].key;
        }
        if (r < s->n_heap && s->heap[r].key < mk)
            m = r;
        if (m == i)
            break;
        put_node(s, i, s->heap[m]);
        i = m;
    }
    put_node(s, i, x);
}

/* Re-reads an actor's key after its state changed. */
static void rekey(struct wl_sources *s, unsigned a)
{
    if (!s->started || s->stopped)
        return;
    struct heap_node *n = &s->heap[s->pos[a]];
    uint64_t old = n->key;
    n->key = actor_key(s, a);
    if (n->key < old)
        sift_up(s, s->pos[a]);
    else
        sift_down(s, s->pos[a]);
}

static int build_heap(struct wl_sources *s)
{
    s->n_heap = s->n_src + s->n_sch;
    size_t n = s->n_heap ? s->n_heap : 1;
    s->heap = malloc(n * sizeof *s->heap);
    s->pos = malloc(n * sizeof *s->pos);
    if (!s->heap || !s->pos)
        return -1;
    for (unsigned a = 0; a < s->n_heap; a++) {
        s->heap[a] = (struct heap_node){actor_key(s, a), a};
        s->pos[a] = a;
    }
    for (unsigned i = s->n_heap / 2; i-- > 0;)
        sift_down(s, i);
    return 0;
}

/* ---- sending ---- */

static int fail(struct wl_sources *s)
{
    s->stopped = 1;
    return -1;
}

static int send_to(struct wl_sources *s, unsigned si, unsigned target, const struct wl_emit *e)
{
    struct src *x = &s->src[si];
    if (e->send(e->data, si, target, x->user_id, s->slo[target]) != 0)
        return fail(s);
    x->sent++;
    if (x->kind == SRC_CLOSED)
        x->outstanding++;
    return 0;
}

static int closed_may_send(const struct wl_sources *s, const struct src *x)
{
    return !s->stopped && x->started && x->active && x->outstanding < x->concurrency &&
           (x->max_requests == 0 || x->sent < x->max_requests);
}

static int fill_closed(struct wl_sources *s, unsigned si, const struct wl_emit *e)
{
    struct src *x = &s->src[si];
    while (closed_may_send(s, x))
        if (send_to(s, si, x->first + (unsigned)(x->sent % x->n), e) != 0)
            return -1;
    return 0;
}

static unsigned pick_target(struct src *x)
{
    if (x->n == 1)
        return x->first;
    if (x->arr.dist == WL_DIST_FIXED_RATE)
        return x->first + (x->rr++ % x->n);
    return x->first + wl_rng_below(&x->pick, x->n);
}

/* ---- starting ---- */

/* A bursty source starts at a uniformly random point of its first burst+idle cycle. */
static void start_bursty(struct src *x, uint64_t now)
{
    double burst = wl_rng_exponential(&x->burst_rng, x->burst_mean_ns);
    double idle = wl_rng_exponential(&x->burst_rng, x->idle_mean_ns);
    double at = wl_rng_uniform(&x->burst_rng) * (burst + idle);
    x->active = at < burst;
    x->phase_end = now + (uint64_t)(x->active ? burst - at : burst + idle - at);
}

static void start_trace(struct src *x, uint64_t now)
{
    struct wl_rng r;
    wl_rng_seed(&r, x->seed ^ 0x7ace5eedULL);
    unsigned start = x->start_interval >= 0 ? (unsigned)x->start_interval : wl_rng_below(&r, x->n_intervals);
    double first = x->start_interval >= 0 ? 0 : (1.0 - wl_rng_uniform(&r)) * x->interval_ns;
    wl_trace_init(&x->tr, x->counts, x->n_intervals, x->scale, x->interval_ns, start, first, x->seed, now);
}

static void start_source(struct src *x, uint64_t now)
{
    if (x->bursty)
        start_bursty(x, now);
    if (x->kind == SRC_OPEN) {
        wl_arrivals_set_rate(&x->arr, x->rate * x->scale);
        wl_arrivals_restart(&x->arr, now);
    } else if (x->kind == SRC_TRACE) {
        start_trace(x, now);
    } else if (x->jitter_ns > 0) {
        struct wl_rng r;
        wl_rng_seed(&r, x->seed);
        x->started = 0;
        x->start_at = now + (uint64_t)(wl_rng_uniform(&r) * x->jitter_ns);
    }
}

int wl_sources_start(struct wl_sources *s, uint64_t now, const struct wl_emit *e)
{
    if (s->started || s->stopped)
        return -1;
    for (unsigned i = 0; i < s->n_sch; i++)
        s->sch[i].next_ns = now + s->sch[i].period_ns;
    for (unsigned i = 0; i < s->n_src; i++)
        start_source(&s->src[i], now);
    if (build_heap(s) != 0)
        return fail(s);
    s->started = 1;
    for (unsigned i = 0; i < s->n_src; i++)
        if (s->src[i].kind == SRC_CLOSED && fill_closed(s, i, e) != 0)
            return -1;
    return 0;
}

/* ---- running ---- */

uint64_t wl_sources_next_time(const struct wl_sources *s)
{
    return !s->started || s->stopped || s->n_heap == 0 ? UINT64_MAX : s->heap[0].key;
}

static int toggle_burst(struct wl_sources *s, unsigned si, const struct wl_emit *e)
{
    struct src *x = &s->src[si];
    uint64_t at = x->phase_end;
    x->active = !x->active;
    x->phase_end = at + (uint64_t)wl_rng_exponential(&x->burst_rng, x->active ? x->burst_mean_ns : x->idle_mean_ns);
    if (x->active && x->kind == SRC_OPEN)
        wl_arrivals_restart(&x->arr, at);
    return x->active && x->kind == SRC_CLOSED ? fill_closed(s, si, e) : 0;
}

/* Handles the source's event due at t (its key). */
static int step_source(struct wl_sources *s, unsigned si, uint64_t t, const struct wl_emit *e)
{
    struct src *x = &s->src[si];
    if (!x->started) {
        x->started = 1;
        return fill_closed(s, si, e);
    }
    if (x->bursty && x->phase_end <= t)
        return toggle_burst(s, si, e);
    if (x->kind == SRC_OPEN) {
        wl_arrivals_pop(&x->arr);
        return send_to(s, si, pick_target(x), e);
    }
    wl_trace_pop(&x->tr);
    return send_to(s, si, x->first, e);
}

static int step_schedule(struct wl_sources *s, struct sched *k, const struct wl_emit *e)
{
    int over = wl_slo_step(&k->s);
    k->next_ns += k->period_ns;
    if (over && k->stop_at_end) {
        e->stop(e->data, "Terminating engine");
        return fail(s);
    }
    char msg[96];
    snprintf(msg, sizeof msg, "Updating %s to %g", k->label, k->s.current);
    e->note(e->data, msg);
    apply_schedule(s, k); /* new rates apply from each source's next gap on: keys stay */
    return 0;
}

int wl_sources_advance(struct wl_sources *s, uint64_t now, const struct wl_emit *e)
{
    while (!s->stopped && s->started && s->n_heap > 0 && s->heap[0].key <= now) {
        unsigned a = s->heap[0].actor;
        uint64_t t = s->heap[0].key;
        int rc = a < s->n_src ? step_source(s, a, t, e) : step_schedule(s, &s->sch[a - s->n_src], e);
        if (rc != 0)
            return -1;
        rekey(s, a);
    }
    return s->stopped ? -1 : 0;
}

int wl_sources_completed(struct wl_sources *s, unsigned source, const struct wl_emit *e)
{
    if (source >= s->n_src)
        return -1;
    struct src *x = &s->src[source];
    if (x->outstanding > 0)
        x->outstanding--;
    if (s->stopped)
        return -1;
    if (x->kind != SRC_CLOSED || !closed_may_send(s, x))
        return 0;
    return send_to(s, source, x->first + (unsigned)(x->sent % x->n), e);
}

int wl_sources_all_done(const struct wl_sources *s)
{
    for (unsigned i = 0; i < s->n_src; i++) {
        const struct src *x = &s->src[i];
        if (x->kind != SRC_CLOSED || x->max_requests == 0 || x->sent < x->max_requests || x->outstanding > 0)
            return 0;
    }
    return s->n_src > 0;
}

void wl_sources_stop(struct wl_sources *s) { s->stopped = 1; }
