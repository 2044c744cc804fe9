/* The simulated controller host: wires the scheduler's ops to virtual time exactly as the live
 * controller (controller.c) wires them to libuv: one event at a time (each costing the
 * controller's per-event processing time), a scheduler tick on the live tick grid, and the
 * action send queue (send_queue.h, shared with the live controller) whose sends each hold a
 * slot for the --send overhead. */
#include "common/clock.h"
#include "common/status.h"
#include "sim_internal.h"
#include <stdlib.h>
#include <string.h>

struct ctl_item *sim_ctl_item(struct sim *s, enum ctl_kind kind)
{
    struct ctl_item *it = sim_pool_get(&s->items);
    if (!it)
        sim_fail(s, "out of memory");
    else
        it->kind = kind;
    return it;
}

/* ---- scheduler ops ---- */

static void op_send_action(void *data, const struct sched_action *a)
{
    struct sim *s = data;
    send_queue_push(&s->sends, a); /* out of memory: failed at the next pump */
}

static void op_request_done(void *data, struct sched_request *r, int status, const char *message, const uint8_t *output,
                            size_t output_len)
{
    (void)message, (void)output, (void)output_len;
    struct sim *s = data;
    struct sim_req *q = r->host_ctx;
    q->status = status;
    sim_push(s, s->ctl_done_at + sim_delay_sample(&s->cfg->lat, HOP_CTL_TO_CLIENT, &s->rng_net), EV_CLIENT_RECV, 0, q);
}

static void op_log_request(void *data, const struct request_row *row)
{
    struct sim *s = data;
    s->st->deadline_met += row->deadline_met != 0;
    if (s->tel) {
        uint64_t t0 = clock_mono_ns();
        telemetry_write_request(s->tel, row);
        s->st->telemetry_wall_ns += clock_mono_ns() - t0;
    }
}

static void op_log_action(void *data, const struct action_row *row)
{
    struct sim *s = data;
    s->st->actions++;
    if (s->tel) {
        uint64_t t0 = clock_mono_ns();
        telemetry_write_action(s->tel, row);
        s->st->telemetry_wall_ns += clock_mono_ns() - t0;
    }
}

static const struct sched_ops SIM_SCHED_OPS = {
    .send_action = op_send_action,
    .request_done = op_request_done,
    .log_request = op_log_request,
    .log_action = op_log_action,
};

/* ---- sending ---- */

static void enqueue(struct sim *s, struct ctl_item *it)
{
    it->next = NULL;
    if (s->ctl_tail)
        s->ctl_tail->next = it;
    else
        s->ctl_head = it;
    s->ctl_tail = it;
}

static unsigned sq_in_flight(void *data) { return ((struct sim *)data)->sends_in_flight; }

static int sq_send(void *data, const struct sched_action *a, uint64_t now)
{
    struct sim *s = data;
    s->sends_in_flight++;
    sim_push(s, now + sim_delay_sample(&s->cfg->lat, HOP_SEND, &s->rng_net), EV_SEND_DONE, 0, NULL);
    sim_worker_send(s, a, now);
    return 0;
}

static void sq_fail(void *data, const struct sched_action *a, int status, const char *message, uint64_t now)
{
    (void)now;
    struct sim *s = data;
    struct ctl_item *it = sim_ctl_item(s, CTL_RESULT);
    if (!it)
        return;
    it->res = (struct sched_result){.action_id = a->id, .status = status, .message = message};
    enqueue(s, it); /* handled after the current item, like the live host's next loop iteration */
}

static const struct send_queue_ops SIM_SEND_OPS = {.in_flight = sq_in_flight, .send = sq_send, .fail = sq_fail};

static void run_next(struct sim *s);

void sim_ctl_send_done(struct sim *s)
{
    s->sends_in_flight--;
    send_queue_pump(&s->sends, s->now);
    run_next(s);
}

/* ---- the controller's event loop ---- */

/* The next tick: the scheduler's next wake-up w (asked by handle, which times it with the
 * item), on the tick grid, strictly after now. */
static void arm_tick(struct sim *s, uint64_t now, uint64_t w)
{
    if (w == UINT64_MAX)
        return;
    if (w <= now)
        w = now + 1;
    uint64_t grid = s->tick_ns;
    if (grid)
        w = s->t0 + (w - s->t0 + grid - 1) / grid * grid;
    if (w >= s->pending_tick)
        return;
    s->pending_tick = w;
    sim_push(s, w, EV_TICK, 0, NULL);
}

/* The scheduler's part of an item and its next wake-up afterwards (nothing between here and
 * arm_tick calls the scheduler), timed as one span: two clock reads per item, not four. Its
 * telemetry rows are counted apart (see op_log_*). */
static uint64_t handle(struct sim *s, struct ctl_item *it, uint64_t now)
{
    uint64_t t0 = clock_mono_ns(), tel0 = s->st->telemetry_wall_ns;
    if (it->kind == CTL_REQUEST) {
        struct sched_request *r = &it->req->r;
        r->id = s->next_request_id++;
        r->arrival = now;
        scheduler_on_request(s->sched, now, r);
    } else if (it->kind == CTL_RESULT) {
        it->res.received = now;
        scheduler_on_result(s->sched, now, &it->res);
    } else {
        scheduler_tick(s->sched, now);
    }
    uint64_t w = scheduler_next_wakeup(s->sched, now);
    s->st->sched_wall_ns += clock_mono_ns() - t0 - (s->st->telemetry_wall_ns - tel0);
    return w;
}

/* Processes the next queued item now; its effects leave when its processing time is over. */
static void run_next(struct sim *s)
{
    while (!s->ctl_busy && s->ctl_head) {
        struct ctl_item *it = s->ctl_head;
        s->ctl_head = it->next;
        if (!s->ctl_head)
            s->ctl_tail = NULL;
        uint64_t now = s->now;
        s->ctl_done_at = now + sim_delay_sample(&s->cfg->lat, HOP_CTL_EVENT, &s->rng_net);
        uint64_t wake = handle(s, it, now);
        sim_pool_put(&s->items, it);
        send_queue_pump(&s->sends, s->ctl_done_at);
        arm_tick(s, now, wake);
        if (s->ctl_done_at > now) {
            s->ctl_busy = 1;
            sim_push(s, s->ctl_done_at, EV_CTL_FREE, 0, NULL);
        }
    }
}

void sim_ctl_arrive(struct sim *s, struct ctl_item *it)
{
    enqueue(s, it);
    run_next(s);
}

void sim_ctl_free_done(struct sim *s)
{
    s->ctl_busy = 0;
    run_next(s);
}

void sim_ctl_tick_due(struct sim *s, uint64_t t)
{
    if (t != s->pending_tick)
        return; /* superseded by an earlier one */
    s->pending_tick = UINT64_MAX;
    struct ctl_item *it = sim_ctl_item(s, CTL_TICK);
    if (it)
        sim_ctl_arrive(s, it);
}

/* ---- lifecycle ---- */

static void build_gpus(struct sim *s, struct sched_gpu *gpus)
{
    for (unsigned i = 0; i < s->n_devices; i++)
        gpus[i] = (struct sched_gpu){.worker_id = s->devices[i].worker_id,
                                     .gpu_id = s->devices[i].gpu_id,
                                     .total_pages = weights_cache_total_pages(&s->devices[i].cache)};
}

static void open_telemetry(struct sim *s)
{
    char err[1200];
    if (!s->cfg->log_dir)
        return;
    s->tel = telemetry_open(s->cfg->log_dir, err, sizeof err);
    if (!s->tel)
        fprintf(stderr,
                "WARN: Telemetry disabled: %s. Set CLOCKWORK_LOG_DIR or --log-dir to an existing writable "
                "directory.\n",
                err);
    else if (s->cfg->out)
        fprintf(s->cfg->out,
                "Logging requests to %s/clockwork_request_log.tsv\n"
                "Logging actions to %s/clockwork_action_log.tsv\n",
                s->cfg->log_dir, s->cfg->log_dir);
}

int sim_ctl_start(struct sim *s)
{
    struct sched_gpu *gpus = calloc(s->n_devices + 1, sizeof *gpus);
    if (!gpus) {
        sim_fail(s, "out of memory");
        return -1;
    }
    build_gpus(s, gpus);
    s->pending_tick = UINT64_MAX;
    s->tick_ns = s->cfg->tick_ns == SIM_TICK_SCHEDULER ? sched_type_tick_ns(s->cfg->sched.type) : s->cfg->tick_ns;
    send_queue_init(&s->sends, &SIM_SEND_OPS, s);
    s->sched = scheduler_create(&s->cfg->sched, s->models, s->n_models, gpus, s->n_devices, &SIM_SCHED_OPS, s);
    free(gpus);
    if (!s->sched) {
        sim_fail(s, "cannot create the scheduler");
        return -1;
    }
    open_telemetry(s);
    return 0;
}

void sim_ctl_free(struct sim *s)
{
    if (s->sched) {
        scheduler_drain(s->sched, s->now, CLIENT_ERROR);
        scheduler_destroy(s->sched);
        s->sched = NULL;
    }
    send_queue_clear(&s->sends);
    while (s->ctl_head) {
        struct ctl_item *it = s->ctl_head;
        s->ctl_head = it->next;
        free(it->req);
        free(it);
    }
    telemetry_close(s->tel);
    s->tel = NULL;
}
