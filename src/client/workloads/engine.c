#include "engine.h"
#include "common/clock.h"
#include "common/log.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_MS 2000

enum source_kind { SRC_OPEN, SRC_CLOSED };

struct target {
    struct cw_model m;
    float slo;
};

struct source {
    enum source_kind kind;
    int user_id;
    unsigned first, n;
    /* open loop */
    struct wl_arrivals arr;
    struct wl_rng pick;
    unsigned rr;
    /* closed loop */
    unsigned concurrency, outstanding;
    uint64_t max_requests, sent;
    /* bursty on/off */
    int bursty, active;
    double burst_mean_ns, idle_mean_ns;
    uint64_t phase_end;
    struct wl_rng burst_rng;
};

struct adjuster {
    unsigned first, n;
    struct wl_slo_schedule s;
    uint64_t period_ns, next_ns;
    int stop_at_end;
};

struct wl_engine {
    uv_loop_t *loop;
    struct cw_client *c;
    struct target *targets;
    unsigned n_targets;
    struct source *sources;
    unsigned n_sources;
    struct adjuster *adjusters;
    unsigned n_adjusters;
    uv_timer_t tick, drain, duration;
    uv_signal_t sigint, sigterm;
    int handles_open;
    int running, stopping, finished, lost;
    uint64_t stop_mono; /* when the first stop signal arrived */
    double duration_s;
};

static void send_one(struct wl_engine *e, unsigned si, unsigned target);

/* ---- stopping ---- */

static void finish(struct wl_engine *e)
{
    if (e->finished)
        return;
    e->finished = 1;
    uv_timer_stop(&e->drain);
    if (e->running)
        uv_stop(e->loop);
}

static void drain_cb(uv_timer_t *t) { finish(t->data); }

void wl_engine_stop(struct wl_engine *e, const char *reason)
{
    if (e->stopping)
        return;
    e->stopping = 1;
    if (reason)
        printf("%s\n", reason);
    fflush(stdout);
    uv_timer_stop(&e->tick);
    uv_timer_stop(&e->duration);
    if (e->c)
        cw_client_interrupt(e->c);
    if (!e->c || cw_client_outstanding(e->c) == 0)
        finish(e);
    else
        uv_timer_start(&e->drain, drain_cb, DRAIN_MS, 0);
}

int wl_engine_stopping(const struct wl_engine *e) { return e->stopping; }

static void duration_cb(uv_timer_t *t)
{
    struct wl_engine *e = t->data;
    char msg[128];
    snprintf(msg, sizeof msg, "Stopping: duration of %gs reached", e->duration_s);
    wl_engine_stop(e, msg);
}

static void signal_cb(uv_signal_t *s, int signum)
{
    struct wl_engine *e = s->data;
    if (e->stopping) {
        /* A second signal means "do not wait for outstanding requests" -- unless it is the
         * same signal delivered twice (GNU timeout signals the child and its process group). */
        if (clock_mono_ns() - e->stop_mono > 500 * NS_PER_MS)
            finish(e);
        return;
    }
    e->stop_mono = clock_mono_ns();
    wl_engine_stop(e, signum == SIGINT ? "Stopping: interrupted (SIGINT)" : "Stopping: terminated (SIGTERM)");
}

static void on_disconnect(void *arg, const char *reason)
{
    struct wl_engine *e = arg;
    printf("Connection to controller lost: %s\n", reason);
    e->lost = 1;
    wl_engine_stop(e, NULL);
    finish(e);
}

/* ---- setup ---- */

struct wl_engine *wl_engine_new(uv_loop_t *loop, struct cw_client *c, double duration_s)
{
    struct wl_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->loop = loop;
    e->c = c;
    e->duration_s = duration_s;
    uv_timer_init(loop, &e->tick);
    uv_timer_init(loop, &e->drain);
    uv_timer_init(loop, &e->duration);
    uv_signal_init(loop, &e->sigint);
    uv_signal_init(loop, &e->sigterm);
    e->tick.data = e->drain.data = e->duration.data = e;
    e->sigint.data = e->sigterm.data = e;
    e->handles_open = 5;
    uv_signal_start(&e->sigint, signal_cb, SIGINT);
    uv_signal_start(&e->sigterm, signal_cb, SIGTERM);
    if (duration_s > 0)
        uv_timer_start(&e->duration, duration_cb, (uint64_t)ceil(duration_s * 1000.0), 0);
    return e;
}

void wl_engine_set_client(struct wl_engine *e, struct cw_client *c) { e->c = c; }

void wl_engine_on_disconnect(void *engine, const char *reason) { on_disconnect(engine, reason); }

static void handle_closed(uv_handle_t *h)
{
    struct wl_engine *e = h->data;
    e->handles_open--;
}

void wl_engine_free(struct wl_engine *e)
{
    if (!e)
        return;
    uv_close((uv_handle_t *)&e->tick, handle_closed);
    uv_close((uv_handle_t *)&e->drain, handle_closed);
    uv_close((uv_handle_t *)&e->duration, handle_closed);
    uv_close((uv_handle_t *)&e->sigint, handle_closed);
    uv_close((uv_handle_t *)&e->sigterm, handle_closed);
    while (e->handles_open > 0)
        uv_run(e->loop, UV_RUN_NOWAIT);
    free(e->targets);
    free(e->sources);
    free(e->adjusters);
    free(e);
}

int wl_engine_add_models(struct wl_engine *e, const struct cw_model *m, unsigned n)
{
    struct target *nt = realloc(e->targets, (e->n_targets + n) * sizeof *nt);
    if (!nt)
        return -1;
    e->targets = nt;
    for (unsigned i = 0; i < n; i++)
        nt[e->n_targets + i] = (struct target){.m = m[i], .slo = 0};
    e->n_targets += n;
    return (int)(e->n_targets - n);
}

unsigned wl_engine_num_models(const struct wl_engine *e) { return e->n_targets; }

uint32_t wl_engine_model_id(const struct wl_engine *e, unsigned model)
{
    return model < e->n_targets ? e->targets[model].m.id : 0;
}

float wl_engine_model_slo(const struct wl_engine *e, unsigned model)
{
    return model < e->n_targets ? e->targets[model].slo : 0;
}

static struct source *new_source(struct wl_engine *e, int user_id, unsigned first, unsigned n)
{
    if (n == 0 || first + n > e->n_targets)
        return NULL;
    struct source *ns = realloc(e->sources, (e->n_sources + 1) * sizeof *ns);
    if (!ns)
        return NULL;
    e->sources = ns;
    struct source *s = &ns[e->n_sources++];
    memset(s, 0, sizeof *s);
    s->user_id = user_id;
    s->first = first;
    s->n = n;
    s->active = 1;
    return s;
}

int wl_engine_add_open_loop(struct wl_engine *e, int user_id, unsigned first, unsigned n, enum wl_dist dist,
                            double rate, uint64_t seed)
{
    if (!(rate > 0))
        return -1;
    struct source *s = new_source(e, user_id, first, n);
    if (!s)
        return -1;
    s->kind = SRC_OPEN;
    wl_arrivals_init(&s->arr, dist, rate, seed, 0);
    wl_rng_seed(&s->pick, seed ^ 0x5eedULL);
    return (int)(e->n_sources - 1);
}

int wl_engine_add_closed_loop(struct wl_engine *e, int user_id, unsigned first, unsigned n, unsigned concurrency,
                              uint64_t max_requests)
{
    if (concurrency == 0)
        return -1;
    struct source *s = new_source(e, user_id, first, n);
    if (!s)
        return -1;
    s->kind = SRC_CLOSED;
    s->concurrency = concurrency;
    s->max_requests = max_requests;
    return (int)(e->n_sources - 1);
}

int wl_engine_set_bursty(struct wl_engine *e, int source, double burst_mean_s, double idle_mean_s, uint64_t seed)
{
    if (source < 0 || (unsigned)source >= e->n_sources || !(burst_mean_s > 0) || !(idle_mean_s > 0))
        return -1;
    struct source *s = &e->sources[source];
    s->bursty = 1;
    s->burst_mean_ns = burst_mean_s * 1e9;
    s->idle_mean_ns = idle_mean_s * 1e9;
    wl_rng_seed(&s->burst_rng, seed);
    return 0;
}

int wl_engine_add_slo_adjuster(struct wl_engine *e, unsigned first, unsigned n, const struct wl_slo_schedule *sched,
                               double period_s, int stop_at_end)
{
    if (!(period_s > 0) || first + n > e->n_targets)
        return -1;
    struct adjuster *na = realloc(e->adjusters, (e->n_adjusters + 1) * sizeof *na);
    if (!na)
        return -1;
    e->adjusters = na;
    na[e->n_adjusters++] = (struct adjuster){
        .first = first, .n = n, .s = *sched, .period_ns = (uint64_t)(period_s * 1e9), .stop_at_end = stop_at_end};
    for (unsigned i = first; i < first + n; i++)
        e->targets[i].slo = (float)sched->current;
    return 0;
}

/* ---- running ---- */

static int all_done(const struct wl_engine *e);

static void on_result(const struct cw_infer_result *r, void *arg, uint64_t tag)
{
    (void)r;
    struct wl_engine *e = arg;
    struct source *s = &e->sources[tag];
    if (s->kind == SRC_CLOSED) {
        s->outstanding--;
        if (!e->stopping && s->active && (s->max_requests == 0 || s->sent < s->max_requests))
            send_one(e, (unsigned)tag, s->first + (unsigned)(s->sent % s->n));
        if (!e->stopping && s->max_requests && s->outstanding == 0 && all_done(e))
            wl_engine_stop(e, "All requests completed");
    }
    if (e->stopping && cw_client_outstanding(e->c) == 0)
        finish(e);
}

static int all_done(const struct wl_engine *e)
{
    for (unsigned i = 0; i < e->n_sources; i++) {
        const struct source *s = &e->sources[i];
        if (s->kind == SRC_OPEN || s->max_requests == 0 || s->sent < s->max_requests || s->outstanding > 0)
            return 0;
    }
    return e->n_sources > 0;
}

static void send_one(struct wl_engine *e, unsigned si, unsigned target)
{
    struct source *s = &e->sources[si];
    const struct target *t = &e->targets[target];
    if (cw_client_infer(e->c, &t->m, s->user_id, t->slo, on_result, e, si) != 0) {
        if (!e->stopping) {
            e->lost = !cw_client_is_connected(e->c);
            wl_engine_stop(e, "Stopping: cannot send requests to the controller");
        }
        return;
    }
    s->sent++;
    if (s->kind == SRC_CLOSED)
        s->outstanding++;
}

static void fill_closed(struct wl_engine *e, unsigned si)
{
    struct source *s = &e->sources[si];
    while (!e->stopping && s->active && s->outstanding < s->concurrency &&
           (s->max_requests == 0 || s->sent < s->max_requests))
        send_one(e, si, s->first + (unsigned)(s->sent % s->n));
}

static unsigned pick_target(struct source *s)
{
    if (s->n == 1)
        return s->first;
    if (s->arr.dist == WL_DIST_FIXED_RATE)
        return s->first + (s->rr++ % s->n);
    return s->first + wl_rng_below(&s->pick, s->n);
}

static void toggle_bursts(struct wl_engine *e, unsigned si, uint64_t now)
{
    struct source *s = &e->sources[si];
    while (s->bursty && now >= s->phase_end && !e->stopping) {
        uint64_t at = s->phase_end;
        s->active = !s->active;
        double mean = s->active ? s->burst_mean_ns : s->idle_mean_ns;
        s->phase_end = at + (uint64_t)wl_rng_exponential(&s->burst_rng, mean);
        if (s->active && s->kind == SRC_OPEN)
            wl_arrivals_restart(&s->arr, at);
        if (s->active && s->kind == SRC_CLOSED)
            fill_closed(e, si);
    }
}

static int step_adjusters(struct wl_engine *e, uint64_t now)
{
    for (unsigned i = 0; i < e->n_adjusters; i++) {
        struct adjuster *a = &e->adjusters[i];
        while (now >= a->next_ns) {
            int over = wl_slo_step(&a->s);
            a->next_ns += a->period_ns;
            if (over && a->stop_at_end) {
                wl_engine_stop(e, "Terminating engine");
                return -1;
            }
            printf("Updating slo_factor to %g\n", a->s.current);
            fflush(stdout);
            for (unsigned m = a->first; m < a->first + a->n; m++)
                e->targets[m].slo = (float)a->s.current;
        }
    }
    return 0;
}

static uint64_t next_event(const struct wl_engine *e)
{
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < e->n_adjusters; i++)
        if (e->adjusters[i].next_ns < next)
            next = e->adjusters[i].next_ns;
    for (unsigned i = 0; i < e->n_sources; i++) {
        const struct source *s = &e->sources[i];
        if (s->bursty && s->phase_end < next)
            next = s->phase_end;
        if (s->kind == SRC_OPEN && s->active && wl_arrivals_peek(&s->arr) < next)
            next = wl_arrivals_peek(&s->arr);
    }
    return next;
}

static void tick_cb(uv_timer_t *t);

static void schedule(struct wl_engine *e, uint64_t now)
{
    uint64_t next = next_event(e);
    if (next == UINT64_MAX || e->stopping)
        return;
    uint64_t ms = next <= now ? 0 : (next - now + NS_PER_MS - 1) / NS_PER_MS;
    uv_timer_start(&e->tick, tick_cb, ms, 0);
}

static void tick_cb(uv_timer_t *t)
{
    struct wl_engine *e = t->data;
    uint64_t now = clock_mono_ns();
    if (step_adjusters(e, now) != 0)
        return;
    for (unsigned i = 0; i < e->n_sources && !e->stopping; i++) {
        struct source *s = &e->sources[i];
        toggle_bursts(e, i, now);
        while (s->kind == SRC_OPEN && s->active && !e->stopping && wl_arrivals_peek(&s->arr) <= now) {
            wl_arrivals_pop(&s->arr);
            send_one(e, i, pick_target(s));
        }
    }
    if (!e->stopping)
        schedule(e, now);
}

/* Shifts every source and schedule onto the run's start time. A bursty source starts at a
 * random point of its first burst+idle cycle, as the original does. */
static void start_sources(struct wl_engine *e, uint64_t now)
{
    for (unsigned i = 0; i < e->n_adjusters; i++)
        e->adjusters[i].next_ns = now + e->adjusters[i].period_ns;
    for (unsigned i = 0; i < e->n_sources; i++) {
        struct source *s = &e->sources[i];
        if (s->bursty) {
            double burst = wl_rng_exponential(&s->burst_rng, s->burst_mean_ns);
            double idle = wl_rng_exponential(&s->burst_rng, s->idle_mean_ns);
            double at = wl_rng_uniform(&s->burst_rng) * (burst + idle);
            s->active = at < burst;
            s->phase_end = now + (uint64_t)(s->active ? burst - at : burst + idle - at);
        }
        if (s->kind == SRC_OPEN)
            wl_arrivals_restart(&s->arr, now);
        else
            fill_closed(e, i);
    }
}

int wl_engine_run(struct wl_engine *e)
{
    if (e->stopping)
        return e->lost ? 1 : 0;
    cw_client_start_summary(e->c);
    uint64_t now = clock_mono_ns();
    e->running = 1;
    start_sources(e, now);
    if (!e->stopping)
        schedule(e, now);
    if (all_done(e))
        wl_engine_stop(e, "All requests completed");
    while (!e->finished)
        uv_run(e->loop, UV_RUN_DEFAULT);
    e->running = 0;
    return e->lost ? 1 : 0;
}
