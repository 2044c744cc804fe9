/* The simulator's run: set-up (workload first, as the live controller's start-up phase, then
 * the scheduler), the event loop over virtual time, progress lines and the final summary. */
#include "common/clock.h"
#include "common/worker_config.h"
#include "sim_internal.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sim_config_defaults(struct sim_config *c)
{
    memset(c, 0, sizeof *c);
    c->n_workers = 1;
    c->gpus_per_worker = 1;
    struct worker_config wc;
    worker_config_defaults(&wc);
    c->cache_size = wc.weights_cache_size;
    c->page_size = wc.weights_cache_page_size;
    sched_config_defaults(&c->sched);
    sim_latency_defaults(&c->lat);
    c->tick_ns = SIM_TICK_SCHEDULER;
    c->progress_s = 10;
}

void sim_push(struct sim *s, uint64_t t, unsigned kind, unsigned idx, void *p)
{
    if (event_queue_push(&s->q, t, kind, idx, p) != 0)
        sim_fail(s, "out of memory for the event queue");
}

void sim_fail(struct sim *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
}

static void dispatch(struct sim *s, const struct sim_event *e)
{
    switch (e->kind) {
    case EV_SOURCES: sim_client_sources_due(s, e->t); break;
    case EV_STOP: sim_client_stop(s, "Stopping: duration reached"); break;
    case EV_CTL_ARRIVE: sim_ctl_arrive(s, e->p); break;
    case EV_CTL_FREE: sim_ctl_free_done(s); break;
    case EV_TICK: sim_ctl_tick_due(s, e->t); break;
    case EV_SEND_DONE: sim_ctl_send_done(s); break;
    case EV_WORKER_RECV: sim_worker_recv(s, e->idx, e->p); break;
    case EV_DEVICE_WAKE: sim_device_wake(&s->devices[e->idx / 2], e->idx % 2, e->t); break;
    case EV_CLIENT_RECV: sim_client_response(s, e->p); break;
    default: break;
    }
}

/* Frees what a never-processed event owns. */
static void discard(const struct sim_event *e)
{
    if (e->kind == EV_CTL_ARRIVE) {
        struct ctl_item *it = e->p;
        free(it->req);
        free(it);
    } else if (e->kind == EV_WORKER_RECV) {
        sim_free_task(e->p);
    } else if (e->kind == EV_CLIENT_RECV) {
        free(e->p);
    }
}

static void progress(struct sim *s, uint64_t wall0)
{
    const struct sim_stats *st = s->st;
    fprintf(s->cfg->progress, "[sim] t=%.0fs requests=%llu answered=%llu goodput=%.2f%% events=%llu wall=%.1fs\n",
            (double)(s->now - s->t0) / 1e9, (unsigned long long)st->requests, (unsigned long long)st->responses,
            st->responses ? 100.0 * (double)st->deadline_met / (double)st->responses : 100.0,
            (unsigned long long)st->events, (double)(clock_mono_ns() - wall0) / 1e9);
    fflush(s->cfg->progress);
}

static void loop(struct sim *s)
{
    uint64_t wall0 = clock_mono_ns(), step = (uint64_t)(s->cfg->progress_s * 1e9);
    uint64_t next_progress = step ? s->t0 + step : UINT64_MAX;
    struct sim_event e;
    while (!s->failed && !(s->stopping && s->outstanding == 0) && event_queue_pop(&s->q, &e) == 0) {
        while (s->cfg->progress && e.t >= next_progress) {
            s->now = next_progress;
            progress(s, wall0);
            next_progress += step;
        }
        s->now = e.t;
        s->st->events++;
        dispatch(s, &e);
    }
    s->st->sim_ns = s->now - s->t0;
}

static int setup(struct sim *s, const struct wl_def *def, const struct wl_args *args)
{
    if (sim_client_init(s) != 0 || sim_workers_init(s) != 0)
        return -1;
    struct wl_builder b;
    sim_client_builder(s, &b);
    if (def->setup(&b, args) != 0) {
        sim_fail(s, "the workload's set-up failed");
        return -1;
    }
    if (s->n_models == 0) {
        sim_fail(s, "the workload loaded no models");
        return -1;
    }
    return sim_ctl_start(s);
}

static void teardown(struct sim *s)
{
    sim_ctl_free(s);
    struct sim_event e;
    while (event_queue_pop(&s->q, &e) == 0)
        discard(&e);
    event_queue_free(&s->q);
    sim_workers_free(s);
    sim_client_free(s);
}

static void summary(const struct sim *s)
{
    const struct sim_stats *st = s->st;
    if (!s->cfg->out)
        return;
    fprintf(s->cfg->out,
            "Simulated %.3f s on %u GPUs (%u workers x %u), %u models: %llu requests, %llu answered, "
            "%.2f%% successful, %.2f%% met their deadline; %llu actions, %llu events\n",
            (double)st->sim_ns / 1e9, st->devices, s->cfg->n_workers, s->cfg->gpus_per_worker, st->models,
            (unsigned long long)st->requests, (unsigned long long)st->responses,
            st->responses ? 100.0 * (double)st->success / (double)st->responses : 0.0,
            st->responses ? 100.0 * (double)st->deadline_met / (double)st->responses : 0.0,
            (unsigned long long)st->actions, (unsigned long long)st->events);
}

int sim_run(const struct sim_config *c, const struct wl_def *def, const struct wl_args *args, struct sim_stats *st,
            char *err, size_t errlen)
{
    struct sim *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(st, 0, sizeof *st);
    s->cfg = c;
    s->st = st;
    s->err = err;
    s->errlen = errlen;
    s->t0 = s->now = SIM_EPOCH_NS;
    event_queue_init(&s->q);
    wl_rng_seed(&s->rng_net, c->seed * 2 + 1);
    wl_rng_seed(&s->rng_exec, c->seed * 2 + 2);
    if (c->n_workers == 0 || c->gpus_per_worker == 0)
        sim_fail(s, "the cluster needs at least one worker with one GPU");
    else if (setup(s, def, args) == 0) {
        st->devices = s->n_devices;
        st->models = s->n_models;
        if (c->duration_s > 0)
            sim_push(s, s->t0 + (uint64_t)(c->duration_s * 1e9), EV_STOP, 0, NULL);
        sim_client_start(s);
        loop(s);
        summary(s);
    }
    int failed = s->failed;
    teardown(s);
    free(s);
    return failed ? -1 : 0;
}
