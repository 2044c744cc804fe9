/* Worker lifecycle: the loop thread, controller connections (sessions), the hand-off of
 * finished tasks from executor threads (mutex queue + uv_async), the status line and a
 * clean shutdown. */
#include "worker.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "describe.h"
#include "model/model_path.h"
#include "worker_internal.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void worker_options_defaults(struct worker_options *o)
{
    memset(o, 0, sizeof *o);
    o->num_devices = 1;
    o->host = "0.0.0.0";
    o->port = 12345;
    o->print_status = 1;
    o->handle_signals = 1;
    o->allow_zero_size_inputs = 1;
    thread_policy_defaults(&o->policy);
    o->frame_timeout_ms = 10000;
    o->driver_timeout_ms = 10000;
}

/* ---- finished tasks: executor threads -> loop thread ---- */

static void on_task_done(struct worker_task *t, void *ctx)
{
    struct worker *w = ctx;
    pthread_mutex_lock(&w->done_lock);
    task_queue_push(&w->done, t);
    pthread_mutex_unlock(&w->done_lock);
    uv_async_send(&w->done_async);
}

static void count_result(struct worker *w, const struct worker_task *t)
{
    if (t->status != ACTION_SUCCESS)
        w->counts.errors++;
    else if (t->kind == TASK_LOAD_WEIGHTS)
        w->counts.loads++;
    else if (t->kind == TASK_INFER)
        w->counts.infers++;
    else
        w->counts.evicts++;
}

static void finish_task(struct worker *w, struct worker_task *t)
{
    struct net_session *s = t->origin;
    count_result(w, t);
    if (w->opt.verbose) {
        char line[400];
        describe_task_result(line, sizeof line, t);
        log_info("Sending %s", line);
    }
    worker_results_send_task(w, s, t); /* no-op if the connection has closed */
    w->pending--;
    task_free(t);
    net_session_unref(s);
}

static void drain_done(struct worker *w)
{
    pthread_mutex_lock(&w->done_lock);
    struct task_queue q = w->done;
    w->done = (struct task_queue){0};
    pthread_mutex_unlock(&w->done_lock);
    struct worker_task *t;
    while ((t = task_queue_pop(&q)) != NULL)
        finish_task(w, t);
}

static void on_done_async(uv_async_t *h) { drain_done(h->data); }

/* ---- connections ---- */

static void on_connect(struct net_conn *c, int status, void *data)
{
    struct worker *w = data;
    if (status != 0)
        return;
    if (!net_session_open(&w->sessions, c))
        return;
    log_info("Controller connected from %s", net_conn_peer(c));
}

static void on_close(struct net_conn *c, const char *reason, void *data)
{
    struct worker *w = data;
    struct net_session *s = net_conn_data(c);
    if (!s)
        return;
    log_info("Connection %s closed: %s", net_conn_peer(c), reason);
    worker_driver_closed(&w->driver, s);
    if (w->state_shown == s)
        w->state_shown = NULL;
    net_session_closed(&w->sessions, s);
}

static int on_message(struct net_conn *c, const struct net_msg *m, void *data)
{
    struct net_session *s = net_conn_data(c);
    return s ? worker_actions_handle(data, s, m) : -1;
}

/* ---- status line ---- */

static void on_status_timer(uv_timer_t *h)
{
    struct worker *w = h->data;
    long long skew = 0;
    unsigned long long rtt = 0;
    if (w->driver.session) { /* the controller driving the worker */
        skew = (long long)net_conn_clock_offset(w->driver.session->conn);
        rtt = (unsigned long long)net_conn_rtt(w->driver.session->conn);
    }
    log_info("Clock Skew=%lld RTT=%llu LdWts=%llu Inf=%llu Evct=%llu || Total Pending=%llu Errors=%llu", skew, rtt,
             w->counts.loads, w->counts.infers, w->counts.evicts, w->pending, w->counts.errors);
    w->counts = (struct interval_counts){0};
}

/* ---- shutdown ---- */

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void destroy_devices(struct worker *w)
{
    for (unsigned i = 0; i < w->n_devices; i++)
        device_destroy(w->devices[i]); /* leftover tasks come back as "shutting down" */
    free(w->devices);
    w->devices = NULL;
    w->n_devices = 0;
}

/* Runs on the loop thread (or after the loop, from worker_destroy). */
static void shutdown_worker(struct worker *w)
{
    if (w->stopped)
        return;
    w->stopped = 1;
    net_server_stop(w->server);
    w->server = NULL;
    net_session_close_all(&w->sessions, "worker shutting down");
    destroy_devices(w);
    drain_done(w);
    close_handle((uv_handle_t *)&w->status_timer);
    close_handle((uv_handle_t *)&w->sigint);
    close_handle((uv_handle_t *)&w->sigterm);
    close_handle((uv_handle_t *)&w->done_async);
    close_handle((uv_handle_t *)&w->stop_async);
}

static void on_stop_async(uv_async_t *h) { shutdown_worker(h->data); }

static void on_signal(uv_signal_t *h, int signum)
{
    log_info("Received signal %d, shutting down", signum);
    shutdown_worker(h->data);
}

/* ---- setup ---- */

static int create_devices(struct worker *w, char *err, size_t errlen)
{
    w->devices = calloc(w->opt.num_devices, sizeof *w->devices);
    if (!w->devices) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < w->opt.num_devices; i++) {
        struct backend b;
        if (w->opt.make_backend(i, &b, w->opt.backend_ctx) != 0) {
            snprintf(err, errlen, "cannot create the backend of GPU %u", i);
            return -1;
        }
        struct device_config dc = {
            .id = i,
            .weights_cache_size = w->cfg.weights_cache_size,
            .page_size = w->cfg.weights_cache_page_size,
            .io_pool_size = w->cfg.io_pool_size,
            .workspace_pool_size = w->cfg.workspace_pool_size,
            .policy = w->opt.policy,
        };
        w->devices[i] = device_create(&dc, b, on_task_done, w, err, errlen);
        if (!w->devices[i])
            return -1;
        w->n_devices++;
    }
    return 0;
}

static void init_handles(struct worker *w)
{
    uv_async_init(&w->loop, &w->done_async, on_done_async);
    uv_async_init(&w->loop, &w->stop_async, on_stop_async);
    uv_timer_init(&w->loop, &w->status_timer);
    uv_signal_init(&w->loop, &w->sigint);
    uv_signal_init(&w->loop, &w->sigterm);
    w->done_async.data = w->stop_async.data = w->status_timer.data = w;
    w->sigint.data = w->sigterm.data = w;
    if (w->opt.print_status)
        uv_timer_start(&w->status_timer, on_status_timer, 1000, 1000);
    if (w->opt.handle_signals) {
        uv_signal_start(&w->sigint, on_signal, SIGINT);
        uv_signal_start(&w->sigterm, on_signal, SIGTERM);
    }
}

/* Spared by the idle timeout: the driving controller, and any connection with tasks out. */
static int is_busy(struct net_conn *c, void *data)
{
    struct worker *w = data;
    struct net_session *s = net_conn_data(c);
    return !s || s == w->driver.session || net_session_work(s) > 0;
}

static int start_server(struct worker *w, char *err, size_t errlen)
{
    struct net_handlers h = {
        .on_message = on_message,
        .on_connect = on_connect,
        .on_close = on_close,
        .max_body_of = worker_actions_max_body,
        .busy = is_busy,
        .data = w,
        .limits = {.max_conns = WORKER_MAX_CONNECTIONS,
                   .frame_timeout_ms = w->opt.frame_timeout_ms,
                   .idle_timeout_ms = WORKER_IDLE_TIMEOUT_MS,
                   .max_unsent = WORKER_MAX_UNSENT},
        .secret = w->opt.secret,
    };
    w->server = net_server_start(&w->loop, w->host, w->opt.port, &h, err, errlen);
    if (!w->server)
        return -1;
    log_info("IO service thread listening on %s:%d", w->host, w->opt.port);
    log_info("Models are read from %s; %s", w->model_dir,
             w->opt.secret ? "controllers must authenticate (CLOCKWORK_SECRET_FILE)" : "no shared secret set");
    return 0;
}

struct worker *worker_create(const struct worker_options *o, const struct worker_config *cfg, char *err, size_t errlen)
{
    if (o->num_devices == 0 || cfg->weights_cache_page_size == 0) {
        snprintf(err, errlen, "need at least one device and a non-zero page size");
        return NULL;
    }
    if (!o->make_backend) {
        snprintf(err, errlen, "no device backend given");
        return NULL;
    }
    struct worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->opt = *o;
    w->cfg = *cfg;
    snprintf(w->host, sizeof w->host, "%s", o->host ? o->host : "0.0.0.0");
    w->opt.host = w->host;
    snprintf(w->model_dir, sizeof w->model_dir, "%s", o->model_dir ? o->model_dir : model_path_default_dir());
    w->opt.model_dir = w->model_dir;
    w->driver.timeout = w->opt.driver_timeout_ms * NS_PER_MS;
    registry_init(&w->registry);
    w->registry.free_data = w->opt.free_model;
    w->registry.free_ctx = w->opt.backend_ctx;
    pthread_mutex_init(&w->done_lock, NULL);
    uv_loop_init(&w->loop);
    w->loop_ready = 1;
    init_handles(w);
    if (create_devices(w, err, errlen) != 0 || start_server(w, err, errlen) != 0) {
        worker_destroy(w);
        return NULL;
    }
    return w;
}

/* The loop thread hands actions to the executors: it runs under their policy, two real-time
 * priorities below the exec executors (below the loads too, so it never cuts a spin short).
 * One line for the whole worker: every device's threads asked the OS for the same. */
static void apply_loop_policy(struct worker *w)
{
    struct thread_policy p = w->opt.policy;
    p.rt_priority = p.rt_priority > 2 ? p.rt_priority - 2 : p.rt_priority;
    struct thread_policy_outcome io;
    thread_policy_apply(&p, &io);
    char exec[200], load[200], loop[200];
    thread_policy_describe(device_exec_outcome(w->devices[0]), exec, sizeof exec);
    thread_policy_describe(device_load_outcome(w->devices[0]), load, sizeof load);
    thread_policy_describe(&io, loop, sizeof loop);
    log_info("Threads: exec %s, load %s, IO %s; precise waits spin the last %llu us%s", exec, load, loop,
             (unsigned long long)(w->opt.policy.spin_ns / NS_PER_US), io.pinned ? "; pinned to --pin-cpus" : "");
}

int worker_run(struct worker *w)
{
    apply_loop_policy(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return 0;
}

void worker_stop(struct worker *w) { uv_async_send(&w->stop_async); }

void worker_destroy(struct worker *w)
{
    if (!w)
        return;
    if (w->loop_ready) {
        shutdown_worker(w);
        uv_run(&w->loop, UV_RUN_DEFAULT); /* let the closes complete */
        uv_loop_close(&w->loop);
    }
    registry_destroy(&w->registry);
    pthread_mutex_destroy(&w->done_lock);
    free(w);
}
