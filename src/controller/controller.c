/* The live controller's loop: worker connections (with retry), the scheduler wired to real
 * time and sockets, the bounded action send queue, telemetry and the status lines. */
#include "controller.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "controller_internal.h"
#include "proto/clockwork.pb-c.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 1
#define STATUS_MS 1000

/* ---- scheduler ops ---- */

static void op_send_action(void *data, const struct sched_action *a)
{
    struct controller *ctl = data;
    if (send_queue_push(&ctl->sends, a) != 0)
        log_error("out of memory queueing action %llu; it fails at the next pump", (unsigned long long)a->id);
}

static void record_client_latency(struct controller *ctl, int status, uint64_t latency)
{
    struct client_stats *cs = &ctl->cstats;
    cs->count++;
    if (status != CLIENT_SUCCESS)
        return;
    cs->success++;
    cs->lat_sum += latency;
    if (cs->success == 1 || latency < cs->lat_min)
        cs->lat_min = latency;
    if (latency > cs->lat_max)
        cs->lat_max = latency;
}

static void op_request_done(void *data, struct sched_request *r, int status, const char *message, const uint8_t *output,
                            size_t output_len)
{
    struct controller *ctl = data;
    struct ctl_request *req = r->host_ctx;
    record_client_latency(ctl, status, clock_now_ns() - r->arrival);
    ctl->queued_bytes -= CONTROLLER_REQUEST_COST + r->input_len;
    metrics_on_answered(&ctl->metrics, r->model_id);
    /* its telemetry row (just logged) reaches the file before the response leaves: a native
     * client's connection commits the rows once per flush (client_link.c), a front end once
     * per batch of answers it sends (controller_commit_requests) */
    req->answer(req, status, message, output, output_len);
    free(r->input);
    free(req);
}

static void op_log_request(void *data, const struct request_row *row)
{
    struct controller *ctl = data;
    telemetry_write_request(ctl->telemetry, row);
    metrics_on_request_row(&ctl->metrics, row);
}

static void op_log_action(void *data, const struct action_row *row)
{
    struct controller *ctl = data;
    telemetry_write_action(ctl->telemetry, row);
    unsigned pages = row->model_id < ctl->n_models ? ctl->models[row->model_id].info.num_weights_pages : 0;
    metrics_on_action_row(&ctl->metrics, row, pages);
}

static const struct sched_ops controller_sched_ops = {
    .send_action = op_send_action,
    .request_done = op_request_done,
    .log_request = op_log_request,
    .log_action = op_log_action,
};

/* ---- action sending (send_queue.h): the scheduler is told of every action that cannot
 * leave; the silence clock of a worker starts with its first outstanding action ---- */

/* Sends in flight: the actions on a connection whose kernel buffer refused some (a worker that
 * does not read), with those staged behind them. Actions staged on a connection that takes what
 * it is given all leave in the loop turn's one write, so they do not hold back the next (two in
 * flight would split a turn's actions into several writes). */
static unsigned sq_in_flight(void *data)
{
    struct controller *ctl = data;
    unsigned n = 0;
    for (unsigned i = 0; i < ctl->n_workers; i++) {
        struct net_conn *c = ctl->workers[i].conn;
        if (c && net_conn_writes_refused(c))
            n += net_conn_writes_pending(c);
    }
    return n;
}

static int sq_worker_ready(void *data, unsigned worker_id)
{
    struct controller *ctl = data;
    return worker_id < ctl->n_workers && ctl->workers[worker_id].conn && !ctl->workers[worker_id].lost;
}

static int sq_send(void *data, const struct sched_action *a, uint64_t now)
{
    (void)now;
    struct worker_peer *w = &((struct controller *)data)->workers[a->worker_id];
    if (worker_send_sched_action(w->conn, a) != 0)
        return -1;
    if (w->outstanding++ == 0)
        w->last_heard = clock_mono_ns();
    return 0;
}

static void sq_fail(void *data, const struct sched_action *a, int status, const char *message, uint64_t now)
{
    struct sched_result res = {.action_id = a->id, .status = status, .message = message, .received = now};
    scheduler_on_result(((struct controller *)data)->sched, now, &res);
}

static const struct send_queue_ops controller_send_ops = {
    .in_flight = sq_in_flight,
    .worker_ready = sq_worker_ready,
    .send = sq_send,
    .fail = sq_fail,
};

static void on_tick(uv_timer_t *t);

/* A periodic tick (INFER5) that could not act is not taken: the timer sleeps until the first one
 * that could (scheduler_next_tick), and an event that brings that closer wakes it. The ticks left
 * out would have changed nothing, so the scheduler decides as if ticked every period. */
static void periodic_tick_arm(struct controller *ctl, uint64_t now)
{
    uint64_t next = scheduler_next_tick(ctl->sched, now);
    uint64_t at = next <= now + ctl->tick_ms * NS_PER_MS ? 0 : next; /* 0: tick on the period */
    if (at == ctl->tick_sleep_until || (at && ctl->tick_sleep_until && ctl->tick_sleep_until <= at))
        return;
    if (at == UINT64_MAX)
        uv_timer_stop(&ctl->tick_timer);
    else
        uv_timer_start(&ctl->tick_timer, on_tick, at ? (at - now + NS_PER_MS - 1) / NS_PER_MS : ctl->tick_ms,
                       ctl->tick_ms);
    ctl->tick_sleep_until = at;
}

void controller_pump(struct controller *ctl)
{
    if (!ctl->sched)
        return;
    send_queue_pump(&ctl->sends, clock_now_ns());
    if (ctl->precise_wake)
        wake_timer_arm(&ctl->wake, scheduler_next_wakeup(ctl->sched, clock_now_ns()));
    else if (ctl->tick_ms)
        periodic_tick_arm(ctl, clock_now_ns());
}

void controller_infer(struct controller *ctl, struct ctl_request *req)
{
    if (!ctl->serving) {
        req->answer(req, CLIENT_INITIALIZING, "Controller initializing", NULL, 0);
        free(req->r.input);
        free(req);
        return;
    }
    metrics_on_admitted(&ctl->metrics, req->r.model_id);
    controller_submit_request(ctl, req);
}

void controller_submit_request(struct controller *ctl, struct ctl_request *req)
{
    uint64_t now = clock_now_ns();
    req->r.id = ctl->next_request_id++;
    req->r.arrival = now;
    req->r.host_ctx = req;
    ctl->queued_bytes += CONTROLLER_REQUEST_COST + req->r.input_len; /* until op_request_done */
    scheduler_on_request(ctl->sched, now, &req->r);
    controller_pump(ctl);
}

/* ---- worker connections ---- */

static void connect_worker(struct worker_peer *w);

static void on_retry(uv_timer_t *t)
{
    struct worker_peer *w = t->data;
    if (!w->ctl->stopping) /* a retry due while shutting down would connect after the handles are closed */
        connect_worker(w);
}

static void schedule_retry(struct worker_peer *w) { uv_timer_start(&w->retry_timer, on_retry, 1000, 0); }

/* GetWorkerState answers other than the one asked at connect are heartbeats: a sign of life. */
static int is_heartbeat_reply(struct worker_peer *w, const struct worker_result *r)
{
    int state = r->msg_type == 106 || (r->msg_type == 100 && r->action_type == 6);
    if (!state)
        return 0;
    if (r->msg_type == 100)
        log_error("Worker %u (%s:%d) refused GetWorkerState: %s", w->index, w->addr.host, w->addr.port, r->message);
    if (r->action_id == w->state_action_id && r->msg_type == 106)
        return 0;
    w->heartbeat_pending = 0;
    return 1;
}

static void handle_worker_result(struct controller *ctl, struct worker_peer *w, struct worker_result *r)
{
    int is_load_model = r->msg_type == 101 || (r->msg_type == 100 && r->action_type == 1);
    if (is_heartbeat_reply(w, r))
        return;
    if (ctl->serving && r->msg_type == 106) {
        rejoin_begin(ctl, w, r);
        return;
    }
    if (ctl->serving && w->rejoining && is_load_model) {
        rejoin_on_load_result(ctl, w, r);
        return;
    }
    if (r->msg_type == 106) {
        worker_result_free(&w->state);
        w->state = *r;
        memset(r, 0, sizeof *r); /* ownership of the GPU lists moved */
        w->state_received = 1;
        log_info("Worker --> R%d:GetWorkerState (%u GPUs)", w->state.action_id, w->state.n_gpus);
        startup_on_worker_state(ctl, w);
        return;
    }
    if (r->msg_type == 105 || (r->msg_type == 100 && r->action_type == 5)) {
        if (r->msg_type == 100)
            log_warn("worker %u: ClearCache failed: %s", w->index, r->message);
        return;
    }
    if (is_load_model) { /* start-up's, or a front end's while serving */
        startup_on_load_model_result(ctl, w, r);
        return;
    }
    if (!ctl->serving) {
        log_warn("worker %u: unexpected result type %llu during start-up ignored", w->index,
                 (unsigned long long)r->msg_type);
        return;
    }
    r->sched.received = clock_now_ns();
    r->sched.message = r->message;
    scheduler_on_result(ctl->sched, r->sched.received, &r->sched);
    controller_pump(ctl);
}

static int on_worker_message(struct net_conn *c, const struct net_msg *m, void *data)
{
    struct controller *ctl = data;
    struct worker_peer *w = net_conn_data(c);
    struct worker_result r;
    w->last_heard = clock_mono_ns();
    int is_sched_result = m->type == 100 || (m->type >= 102 && m->type <= 104);
    if (ctl->serving && is_sched_result && w->outstanding > 0)
        w->outstanding--;
    if (worker_result_decode(m, net_conn_clock_offset(c), &r) != 0) {
        log_warn("worker %u (%s): %s; closing connection", w->index, net_conn_peer(c), r.message);
        worker_result_free(&r);
        return -1;
    }
    handle_worker_result(ctl, w, &r);
    worker_result_free(&r);
    return 0;
}

static void on_worker_connect(struct net_conn *c, int status, void *data)
{
    (void)data;
    struct worker_peer *w = net_conn_data(c);
    if (status != 0)
        return;
    w->connected = 1;
    w->heartbeat_pending = 0;
    log_info("Connection established");
    int id = w->ctl->next_action_id++;
    log_info("Worker <-- A%d:GetWorkerState", id);
    w->state_action_id = id;
    worker_send_get_state(c, id);
    /* The controller is the only planner: start every device from an empty weights cache,
     * whatever an earlier controller left resident. */
    worker_send_clear_cache(c, w->ctl->next_action_id++);
}

static void on_worker_close(struct net_conn *c, const char *reason, void *data)
{
    struct controller *ctl = data;
    struct worker_peer *w = net_conn_data(c);
    w->conn = NULL;
    if (ctl->stopping)
        return;
    if (!w->connected) {
        /* A worker that is down is retried every second; say so every 10th time only. */
        if (w->failed_connects++ % 10 == 0)
            log_info("Connecting to worker %s:%d failed (%s), retrying", w->addr.host, w->addr.port, reason);
        schedule_retry(w);
        return;
    }
    w->failed_connects = 0;
    w->connected = 0;
    if (!ctl->serving && !w->state_received) {
        log_warn("Worker %s:%d disconnected during start-up (%s); reconnecting", w->addr.host, w->addr.port, reason);
        schedule_retry(w);
        return;
    }
    log_error("Worker %u (%s:%d) lost: %s", w->index, w->addr.host, w->addr.port, reason);
    int was_serving = !w->lost;
    w->lost = 1;
    w->rejoining = 0;
    startup_on_worker_lost(ctl, w);
    if (ctl->serving && was_serving) {
        send_queue_drop_worker(&ctl->sends, w->index);
        scheduler_on_worker_lost(ctl->sched, clock_now_ns(), w->index);
        metrics_on_worker_reset(&ctl->metrics, w->index);
        controller_pump(ctl);
    }
    if (ctl->serving)
        schedule_retry(w); /* it may come back: reconnect, register models again, rejoin */
}

static void on_worker_write_done(struct net_conn *c, void *data)
{
    (void)c;
    controller_pump(data);
}

static void connect_worker(struct worker_peer *w)
{
    int quiet = w->failed_connects % 10 != 0;
    struct net_handlers h = {
        .on_message = on_worker_message,
        .on_connect = on_worker_connect,
        .on_close = on_worker_close,
        .on_write_done = on_worker_write_done,
        .data = w->ctl,
        .max_body = 4ull * 1024 * 1024 * 1024,
        .secret = w->ctl->opts->has_secret ? &w->ctl->opts->secret : NULL,
    };
    char err[256];
    if (!quiet)
        log_info("Connecting to worker %s:%d", w->addr.host, w->addr.port);
    w->conn = net_connect(&w->ctl->loop, w->addr.host, w->addr.port, &h, err, sizeof err);
    if (!w->conn) {
        log_warn("%s; retrying", err);
        schedule_retry(w);
        return;
    }
    net_conn_set_data(w->conn, w);
}

/* ---- serving ---- */

static void build_gpus(struct controller *ctl, struct sched_gpu *gpus, unsigned *n)
{
    *n = 0;
    for (unsigned i = 0; i < ctl->n_workers; i++)
        for (unsigned g = 0; g < ctl->workers[i].state.n_gpus; g++) {
            struct worker_gpu_state *s = &ctl->workers[i].state.gpus[g];
            gpus[*n] = (struct sched_gpu){.worker_id = i,
                                          .gpu_id = s->id,
                                          .total_pages = s->total_pages,
                                          .n_loaded = 0, /* model ids from an earlier controller are not ours */
                                          .loaded_models = NULL};
            (*n)++;
        }
}

static void tick_scheduler(struct controller *ctl)
{
    if (!ctl->sched)
        return;
    scheduler_tick(ctl->sched, clock_now_ns());
    controller_pump(ctl);
}

static void on_tick(uv_timer_t *t)
{
    ((struct controller *)t->data)->tick_sleep_until = 0; /* a timer that slept ticks on its period again */
    tick_scheduler(t->data);
}

static void on_wake(struct wake_timer *t, void *data)
{
    (void)t;
    tick_scheduler(data);
}

/* A TYPE with a tick period gets it (INFER5 and the test controllers: 1 ms, as the original);
 * one without is woken exactly when it asks, re-armed after every event. */
static void start_ticks(struct controller *ctl)
{
    uint64_t tick_ms = sched_type_tick_ns(ctl->opts->sched.type) / NS_PER_MS;
    if (tick_ms == 0) {
        if (wake_timer_init(&ctl->loop, &ctl->wake, on_wake, ctl) == 0) {
            ctl->precise_wake = 1;
            controller_pump(ctl);
            return;
        }
        log_warn("no timerfd (%s): scheduling on a %d ms tick instead of exact wake-ups", strerror(errno), TICK_MS);
        tick_ms = TICK_MS;
    }
    ctl->tick_ms = tick_ms;
    uv_timer_start(&ctl->tick_timer, on_tick, tick_ms, tick_ms);
}

void controller_start_serving(struct controller *ctl)
{
    unsigned total = 0;
    for (unsigned i = 0; i < ctl->n_workers; i++)
        total += ctl->workers[i].state.n_gpus;
    struct sched_gpu *gpus = calloc(total + 1, sizeof *gpus);
    unsigned n = 0;
    if (gpus)
        build_gpus(ctl, gpus, &n);
    ctl->sched = scheduler_create(&ctl->opts->sched, ctl->models, ctl->n_models, gpus, n, &controller_sched_ops, ctl);
    if (metrics_set_gpus(&ctl->metrics, gpus, n) != 0)
        log_warn("out of memory: GPU metrics disabled");
    free(gpus);
    if (!ctl->sched) {
        log_error("cannot create the scheduler; stopping");
        uv_stop(&ctl->loop);
        return;
    }
    ctl->serving = 1;
    log_info("* Admitting inference requests");
    for (unsigned g = 0; g < scheduler_gpu_count(ctl->sched); g++)
        log_info("GPU handler [ %u ] started", g);
    start_ticks(ctl);
}

/* ---- status lines ---- */

/* " errors=N" when some actions failed, else nothing. */
static const char *errors_suffix(uint64_t errors, char *buf, size_t len)
{
    buf[0] = '\0';
    if (errors)
        snprintf(buf, len, " errors=%llu", (unsigned long long)errors);
    return buf;
}

static void print_gpu_stats(const struct sched_gpu_stats *g, double secs)
{
    char err[48];
    uint64_t lc = g->load_count ? g->load_count : 1, ic = g->infer_count ? g->infer_count : 1;
    if (g->load_count || g->load_errors)
        log_info("W%u-GPU%u LoadW min=%.2f max=%.2f mean=%.2f e2emean=%.2f e2emax=%.2f throughput=%.1f "
                 "utilization=0.00 clock=[0-0] norm_max=0.00 norm_mean=0.00%s",
                 g->worker_id, g->gpu_id, g->load_exec_min / 1e6, g->load_exec_max / 1e6,
                 g->load_exec_sum / 1e6 / (double)lc, g->load_e2e_sum / 1e6 / (double)lc, g->load_e2e_max / 1e6,
                 (double)g->load_count / secs, errors_suffix(g->load_errors, err, sizeof err));
    if (g->infer_count || g->infer_errors)
        log_info("W%u-GPU%u Infer min=%.2f max=%.2f mean=%.2f e2emean=%.2f e2emax=%.2f throughput=%.1f "
                 "utilization=%.2f clock=[1380-1380] norm_max=%.2f norm_mean=%.2f%s",
                 g->worker_id, g->gpu_id, g->infer_exec_min / 1e6, g->infer_exec_max / 1e6,
                 g->infer_exec_sum / 1e6 / (double)ic, g->infer_e2e_sum / 1e6 / (double)ic, g->infer_e2e_max / 1e6,
                 (double)g->infer_count / secs, (double)g->infer_busy_ns / (secs * 1e9), g->infer_exec_max / 1e6,
                 g->infer_exec_sum / 1e6 / (double)ic, errors_suffix(g->infer_errors, err, sizeof err));
}

static void print_network(struct controller *ctl, double secs)
{
    uint64_t bs = 0, ms = 0, br = 0, mr = 0;
    for (unsigned i = 0; i < ctl->n_workers; i++)
        if (ctl->workers[i].conn) {
            const struct net_stats *st = net_conn_stats(ctl->workers[i].conn);
            bs += st->bytes_sent, ms += st->msgs_sent, br += st->bytes_received, mr += st->msgs_received;
        }
    if (bs < ctl->net_prev_bytes_sent || br < ctl->net_prev_bytes_recv) /* a worker went away */
        ctl->net_prev_bytes_sent = ctl->net_prev_msgs_sent = ctl->net_prev_bytes_recv = ctl->net_prev_msgs_recv = 0;
    log_info("Network->Workers: %.1fMB/s (%llu msgs) snd, %.1fMB/s (%llu msgs) rcv,",
             (double)(bs - ctl->net_prev_bytes_sent) / 1e6 / secs, (unsigned long long)(ms - ctl->net_prev_msgs_sent),
             (double)(br - ctl->net_prev_bytes_recv) / 1e6 / secs, (unsigned long long)(mr - ctl->net_prev_msgs_recv));
    ctl->net_prev_bytes_sent = bs, ctl->net_prev_msgs_sent = ms;
    ctl->net_prev_bytes_recv = br, ctl->net_prev_msgs_recv = mr;
}

/* A worker cut off by the network never closes its connection by itself: declare it lost
 * when it has been silent too long with actions outstanding, so its requests get answered. */
static void check_worker_liveness(struct controller *ctl)
{
    for (unsigned i = 0; i < ctl->n_workers; i++) {
        struct worker_peer *w = &ctl->workers[i];
        /* read the clock per worker: losing one worker re-sends work to the others */
        uint64_t now = clock_mono_ns();
        if (!w->conn || !w->connected || (w->outstanding == 0 && !w->heartbeat_pending) || now < w->last_heard ||
            now - w->last_heard < ctl->opts->worker_timeout_ns)
            continue;
        char reason[128];
        snprintf(reason, sizeof reason, "no response for %.1f s with %u actions outstanding",
                 (double)(now - w->last_heard) / 1e9, w->outstanding);
        net_conn_close(w->conn, reason);
    }
}

/* A worker that has been sent nothing for heartbeat_ns gets a GetWorkerState: the worker then
 * knows its controller is alive (another may take it over only after silence; driver.h), and
 * an idle worker that has gone is noticed too. Checked once a second. */
static void send_heartbeats(struct controller *ctl)
{
    uint64_t now = clock_mono_ns();
    for (unsigned i = 0; ctl->opts->heartbeat_ns && i < ctl->n_workers; i++) {
        struct worker_peer *w = &ctl->workers[i];
        if (!w->conn || !w->connected)
            continue;
        uint64_t sent = net_conn_stats(w->conn)->msgs_sent;
        if (sent != w->hb_msgs || w->hb_since == 0) {
            w->hb_msgs = sent;
            w->hb_since = now;
            continue;
        }
        if (now - w->hb_since < ctl->opts->heartbeat_ns || w->heartbeat_pending)
            continue;
        if (w->outstanding == 0)
            w->last_heard = now; /* the silence clock starts with the question */
        w->heartbeat_pending = worker_send_get_state(w->conn, ctl->next_action_id++) == 0;
    }
}

static void on_status(uv_timer_t *t)
{
    struct controller *ctl = t->data;
    double secs = STATUS_MS / 1000.0;
    telemetry_flush(ctl->telemetry);
    send_heartbeats(ctl);
    if (ctl->serving)
        check_worker_liveness(ctl);
    if (!ctl->serving)
        return;
    struct sched_gpu_stats stats[256];
    unsigned n = scheduler_take_stats(ctl->sched, stats, 256);
    metrics_on_gpu_stats(&ctl->metrics, stats, n, STATUS_MS * NS_PER_MS);
    for (unsigned i = 0; i < n; i++)
        print_gpu_stats(&stats[i], secs);
    struct client_stats *cs = &ctl->cstats;
    log_info("Client throughput=%.1f success=%.2f%% min=%.1f max=%.1f mean=%.1f", (double)cs->count / secs,
             cs->count ? 100.0 * (double)cs->success / (double)cs->count : 100.0, cs->lat_min / 1e6, cs->lat_max / 1e6,
             cs->success ? cs->lat_sum / 1e6 / (double)cs->success : 0.0);
    memset(cs, 0, sizeof *cs);
    print_network(ctl, secs);
}

/* ---- lifecycle ---- */

static void on_signal(uv_signal_t *s, int signum)
{
    struct controller *ctl = s->data;
    log_info("Received signal %d, shutting down", signum);
    uv_stop(&ctl->loop);
}

static void print_config(const struct controller_options *o)
{
    const struct sched_config *c = &o->sched;
    if (c->type == SCHED_TYPE_STRESS)
        log_info("STRESS test controller using: model=%s copies=%d max_models_on_gpu=%u max_outstanding=%u "
                 "stress_infer=%d stress_loadweights=%d",
                 o->preload_path, o->preload_copies, c->stress.max_models_on_gpu ? c->stress.max_models_on_gpu : 200,
                 c->stress.max_outstanding ? c->stress.max_outstanding : 2, !c->stress.no_infer, !c->stress.no_load);
    if (!sched_type_is_scheduler(c->type)) {
        log_info("%s test controller (no scheduler: see controller -h)", o->type);
        return;
    }
    log_info("%s Scheduler using:", o->type);
    log_info("default_slo=%llu", (unsigned long long)c->default_slo);
    log_info("latest_delta=%llu", (unsigned long long)c->latest_delta);
    log_info("schedule_ahead=%llu", (unsigned long long)c->schedule_ahead);
    log_info("max_allowable_exec_time=%llu", (unsigned long long)c->max_exec);
    log_info("max_batch_size=%u", c->max_batch);
    log_info("generate_inputs=%d", c->generate_inputs);
    log_info("max_gpus=%u", c->max_gpus);
}

static void open_telemetry(struct controller *ctl)
{
    char err[1200];
    ctl->telemetry = telemetry_open(ctl->opts->log_dir, err, sizeof err);
    if (!ctl->telemetry) {
        log_warn("Telemetry disabled: %s. Set CLOCKWORK_LOG_DIR to an existing writable directory.", err);
        return;
    }
    log_info("Logging requests to %s/clockwork_request_log.tsv", ctl->opts->log_dir);
    log_info("Logging actions to %s/clockwork_action_log.tsv", ctl->opts->log_dir);
    if (ctl->opts->telemetry_max_bytes) {
        telemetry_set_rotation(ctl->telemetry, ctl->opts->telemetry_max_bytes, ctl->opts->telemetry_keep);
        log_info("Telemetry files rotate beyond %.2f MB, keeping %u (.1 the newest)",
                 (double)ctl->opts->telemetry_max_bytes / (1 << 20), ctl->opts->telemetry_keep);
    }
}

static void init_timer(struct controller *ctl, uv_timer_t *t)
{
    uv_timer_init(&ctl->loop, t);
    t->data = ctl;
}

static void close_connections(struct controller *ctl)
{
    ctl->stopping = 1;
    client_link_stop(ctl);
    if (ctl->frontend_state)
        ctl->frontend->stop(ctl->frontend_state);
    for (unsigned i = 0; i < ctl->n_workers; i++) {
        struct worker_peer *w = &ctl->workers[i];
        uv_timer_stop(&w->retry_timer);
        if (w->conn)
            net_conn_close(w->conn, "controller shutting down");
    }
}

static void shutdown_controller(struct controller *ctl)
{
    uv_timer_stop(&ctl->tick_timer);
    ctl->tick_ms = 0; /* no event re-arms it */
    uv_timer_stop(&ctl->status_timer);
    if (ctl->precise_wake) {
        ctl->precise_wake = 0;
        wake_timer_close(&ctl->wake);
    }
    if (ctl->sched) {
        scheduler_drain(ctl->sched, clock_now_ns(), CLIENT_ERROR);
        send_queue_clear(&ctl->sends);
        scheduler_destroy(ctl->sched);
        ctl->sched = NULL;
        ctl->serving = 0;
    }
    telemetry_close(ctl->telemetry);
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int run_loop(struct controller *ctl)
{
    char err[512];
    if (client_link_start(ctl, err, sizeof err) != 0) {
        log_error("%s", err);
        return 1;
    }
    if (ctl->frontend && !(ctl->frontend_state = ctl->frontend->start(ctl, &ctl->loop, err, sizeof err))) {
        log_error("%s", err);
        return 1;
    }
    startup_begin(ctl);
    for (unsigned i = 0; i < ctl->n_workers; i++)
        connect_worker(&ctl->workers[i]);
    uv_timer_start(&ctl->status_timer, on_status, STATUS_MS, STATUS_MS);
    uv_run(&ctl->loop, UV_RUN_DEFAULT);
    return 0;
}

struct controller *controller_create(const struct controller_options *opts)
{
    struct controller *ctl = calloc(1, sizeof *ctl);
    if (!ctl)
        return NULL;
    ctl->opts = opts;
    ctl->n_workers = opts->n_workers;
    metrics_init(&ctl->metrics);
    send_queue_init(&ctl->sends, &controller_send_ops, ctl);
    ctl->workers = calloc(opts->n_workers + 1, sizeof *ctl->workers);
    if (!ctl->workers) {
        free(ctl);
        return NULL;
    }
    uv_loop_init(&ctl->loop);
    init_timer(ctl, &ctl->tick_timer);
    init_timer(ctl, &ctl->status_timer);
    for (unsigned i = 0; i < ctl->n_workers; i++) {
        struct worker_peer *w = &ctl->workers[i];
        w->ctl = ctl;
        w->index = i;
        w->addr = opts->workers[i];
        uv_timer_init(&ctl->loop, &w->retry_timer);
        w->retry_timer.data = w;
    }
    return ctl;
}

void controller_destroy(struct controller *ctl)
{
    shutdown_controller(ctl);
    startup_free(ctl);
    close_connections(ctl);
    uv_run(&ctl->loop, UV_RUN_NOWAIT); /* let connections free themselves */
    if (ctl->frontend_state)
        ctl->frontend->destroy(ctl->frontend_state);
    ctl->frontend_state = NULL;
    uv_walk(&ctl->loop, close_handle, NULL);
    uv_run(&ctl->loop, UV_RUN_DEFAULT);
    uv_loop_close(&ctl->loop);
    for (unsigned i = 0; i < ctl->n_workers; i++)
        worker_result_free(&ctl->workers[i].state);
    free(ctl->workers);
    free(ctl->models);
    free(ctl->model_state);
    free(ctl->groups);
    metrics_free(&ctl->metrics);
    lz4_block_memo_free(&ctl->input_memo);
    free(ctl);
}

int controller_run(const struct controller_options *opts) { return controller_run_with(opts, NULL); }

int controller_run_with(const struct controller_options *opts, const struct controller_frontend *fe)
{
    struct controller *ctl = controller_create(opts);
    if (!ctl)
        return 1;
    ctl->frontend = fe;
    log_info("Starting Clockwork Controller");
    open_telemetry(ctl);
    print_config(opts);
    uv_signal_init(&ctl->loop, &ctl->sigint);
    uv_signal_init(&ctl->loop, &ctl->sigterm);
    ctl->sigint.data = ctl->sigterm.data = ctl;
    uv_signal_start(&ctl->sigint, on_signal, SIGINT);
    uv_signal_start(&ctl->sigterm, on_signal, SIGTERM);
    int rc = run_loop(ctl);
    rc = rc ? rc : ctl->exit_code;
    controller_destroy(ctl);
    return rc;
}
