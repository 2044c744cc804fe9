#include "workload_engine.h"
#include "common/clock.h"
#include "workload/sources.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_MS 2000

struct wl_engine {
    uv_loop_t *loop;
    struct cw_client *c;
    const struct zoo *zoo;
    struct wl_sources *src;
    struct cw_model *models; /* one per target, parallel to the sources' targets */
    unsigned n_models;
    struct wl_emit emit;
    uv_timer_t tick, drain, duration;
    uv_signal_t sigint, sigterm;
    int handles_open;
    int running, stopping, finished, lost;
    uint64_t stop_mono; /* when the first stop signal arrived */
    double duration_s;
};

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
    wl_sources_stop(e->src);
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

void wl_engine_on_disconnect(void *engine, const char *reason)
{
    struct wl_engine *e = engine;
    printf("Connection to controller lost: %s\n", reason);
    e->lost = 1;
    wl_engine_stop(e, NULL);
    finish(e);
}

/* ---- what the sources emit ---- */

static void on_result(const struct cw_infer_result *r, void *arg, uint64_t tag);

static int emit_send(void *data, unsigned source, unsigned target, int user_id, float slo)
{
    struct wl_engine *e = data;
    if (cw_client_infer(e->c, &e->models[target], user_id, slo, on_result, e, source) == 0)
        return 0;
    if (!e->stopping) {
        e->lost = !cw_client_is_connected(e->c);
        wl_engine_stop(e, "Stopping: cannot send requests to the controller");
    }
    return -1;
}

static void emit_note(void *data, const char *msg)
{
    (void)data;
    printf("%s\n", msg);
    fflush(stdout);
}

static void emit_stop(void *data, const char *reason) { wl_engine_stop(data, reason); }

static void on_result(const struct cw_infer_result *r, void *arg, uint64_t tag)
{
    (void)r;
    struct wl_engine *e = arg;
    wl_sources_completed(e->src, (unsigned)tag, &e->emit);
    if (!e->stopping && wl_sources_all_done(e->src))
        wl_engine_stop(e, "All requests completed");
    if (e->stopping && cw_client_outstanding(e->c) == 0)
        finish(e);
}

/* ---- setup ---- */

struct wl_engine *wl_engine_new(uv_loop_t *loop, struct cw_client *c, double duration_s)
{
    struct wl_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->src = wl_sources_new();
    if (!e->src) {
        free(e);
        return NULL;
    }
    e->loop = loop;
    e->c = c;
    e->duration_s = duration_s;
    e->emit = (struct wl_emit){.send = emit_send, .note = emit_note, .stop = emit_stop, .data = e};
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
    wl_sources_free(e->src);
    free(e->models);
    free(e);
}

unsigned wl_engine_num_models(const struct wl_engine *e) { return e->n_models; }

static int add_models(struct wl_engine *e, const struct cw_model *m, unsigned n)
{
    struct cw_model *nm = realloc(e->models, (e->n_models + n) * sizeof *nm);
    if (!nm)
        return -1;
    e->models = nm;
    int first = wl_sources_add_targets(e->src, n);
    if (first < 0 || (unsigned)first != e->n_models)
        return -1;
    memcpy(nm + e->n_models, m, n * sizeof *m);
    e->n_models += n;
    return first;
}

/* ---- the builder ---- */

static int b_load(void *data, const char *name, unsigned copies, struct wl_loaded *out)
{
    struct wl_engine *e = data;
    char path[4400], err[256];
    if (zoo_model_path(e->zoo, name, path, sizeof path) != 0) {
        fprintf(stderr, "Unknown model %s: no %s/%s/model.info (%zu models found)\n", name, e->zoo->dir, name,
                e->zoo->count);
        return -1;
    }
    struct cw_model *models = NULL;
    unsigned n = 0;
    int rc = cw_client_load_remote_model_sync(e->c, path, copies, &models, &n, err, sizeof err);
    if (rc != 0) {
        if (rc != CW_STOPPED)
            fprintf(stderr, "Loading %s failed (status %d): %s\n", path, rc, err);
        return -1;
    }
    if (n < copies)
        printf("Controller created %u of %u requested copies of %s\n", n, copies, name);
    printf("Loaded %u cop%s of %s: model ids %u-%u input=%llu output=%llu\n", n, n == 1 ? "y" : "ies", name,
           models[0].id, models[0].id + n - 1, (unsigned long long)models[0].input_size,
           (unsigned long long)models[0].output_size);
    *out = (struct wl_loaded){.n = n, .input_size = models[0].input_size, .output_size = models[0].output_size};
    int first = add_models(e, models, n);
    free(models);
    if (first < 0)
        return -1;
    out->first = (unsigned)first;
    return 0;
}

static uint32_t b_model_id(void *data, unsigned target)
{
    struct wl_engine *e = data;
    return target < e->n_models ? e->models[target].id : 0;
}

static int b_open(void *data, const struct wl_open_spec *s)
{
    return wl_sources_open_loop(((struct wl_engine *)data)->src, s);
}

static int b_closed(void *data, const struct wl_closed_spec *s)
{
    return wl_sources_closed_loop(((struct wl_engine *)data)->src, s);
}

static int b_trace(void *data, const struct wl_trace_spec *s)
{
    return wl_sources_trace_replay(((struct wl_engine *)data)->src, s);
}

static int b_bursty(void *data, int source, double burst_s, double idle_s, uint64_t seed)
{
    return wl_sources_bursty(((struct wl_engine *)data)->src, source, burst_s, idle_s, seed);
}

static const struct wl_builder_ops LIVE_OPS = {
    .load = b_load,
    .model_id = b_model_id,
    .open_loop = b_open,
    .closed_loop = b_closed,
    .trace_replay = b_trace,
    .bursty = b_bursty,
};

void wl_engine_builder(struct wl_engine *e, const struct zoo *zoo, struct wl_builder *out)
{
    e->zoo = zoo;
    *out = (struct wl_builder){.ops = &LIVE_OPS, .data = e, .zoo = zoo, .sources = e->src};
}

/* ---- running ---- */

static void tick_cb(uv_timer_t *t);

static void schedule(struct wl_engine *e, uint64_t now)
{
    uint64_t next = wl_sources_next_time(e->src);
    if (next == UINT64_MAX || e->stopping)
        return;
    uint64_t ms = next <= now ? 0 : (next - now + NS_PER_MS - 1) / NS_PER_MS;
    uv_timer_start(&e->tick, tick_cb, ms, 0);
}

static void tick_cb(uv_timer_t *t)
{
    struct wl_engine *e = t->data;
    uint64_t now = clock_mono_ns();
    if (wl_sources_advance(e->src, now, &e->emit) == 0)
        schedule(e, now);
}

int wl_engine_run(struct wl_engine *e)
{
    if (e->stopping)
        return e->lost ? 1 : 0;
    cw_client_start_summary(e->c);
    uint64_t now = clock_mono_ns();
    e->running = 1;
    if (wl_sources_num_sources(e->src) == 0)
        wl_engine_stop(e, "Stopping: the workload has no request sources");
    else if (wl_sources_start(e->src, now, &e->emit) == 0)
        schedule(e, now);
    else if (!e->stopping)
        wl_engine_stop(e, "Stopping: cannot start the workload (out of memory)");
    if (!e->stopping && wl_sources_all_done(e->src))
        wl_engine_stop(e, "All requests completed");
    while (!e->finished)
        uv_run(e->loop, UV_RUN_DEFAULT);
    e->running = 0;
    return e->lost ? 1 : 0;
}
