/* A worker that was lost and reconnects: check it still has the GPUs the scheduler knows,
 * register every start-up model on it again (same ids and paths; a worker that kept running
 * accepts them as already registered), then give its GPUs back to the scheduler. Its weights
 * cache was cleared at connect, so the scheduler starts those GPUs empty. */
#include "common/clock.h"
#include "common/log.h"
#include "controller_internal.h"

static int same_gpus(const struct worker_result *a, const struct worker_result *b)
{
    if (a->n_gpus != b->n_gpus)
        return 0;
    for (unsigned i = 0; i < a->n_gpus; i++)
        if (a->gpus[i].id != b->gpus[i].id || a->gpus[i].total_pages != b->gpus[i].total_pages)
            return 0;
    return 1;
}

static void rejoin_done(struct controller *ctl, struct worker_peer *w)
{
    w->rejoining = 0;
    w->lost = 0;
    w->outstanding = 0;
    log_info("Worker %u (%s:%d) rejoined: %u GPUs back in service", w->index, w->addr.host, w->addr.port,
             w->state.n_gpus);
    scheduler_on_worker_back(ctl->sched, clock_now_ns(), w->index);
    controller_pump(ctl);
}

/* Registers the groups from w->rejoin_sent on (groups loaded while it rejoins come too). */
static void send_groups(struct controller *ctl, struct worker_peer *w)
{
    while (w->rejoin_sent < ctl->n_groups) {
        const struct load_group *g = &ctl->groups[w->rejoin_sent++];
        w->rejoin_pending++;
        if (worker_send_load_model(w->conn, ctl->next_action_id++, g->first, g->path, g->copies, &ctl->opts->sched) !=
            0)
            return; /* the connection closed: it will be retried */
    }
    if (w->rejoin_pending == 0)
        rejoin_done(ctl, w);
}

void rejoin_begin(struct controller *ctl, struct worker_peer *w, const struct worker_result *state)
{
    if (!same_gpus(&w->state, state)) {
        log_error("Worker %u (%s:%d) came back with different GPUs; not using it", w->index, w->addr.host,
                  w->addr.port);
        net_conn_close(w->conn, "GPUs differ from start-up");
        return;
    }
    w->rejoining = 1;
    w->rejoin_pending = w->rejoin_sent = 0;
    log_info("Worker %u (%s:%d) reconnected: registering %u model groups again", w->index, w->addr.host, w->addr.port,
             ctl->n_groups);
    send_groups(ctl, w);
}

void rejoin_on_load_result(struct controller *ctl, struct worker_peer *w, const struct worker_result *r)
{
    if (r->msg_type == 100) {
        log_error("Worker %u could not register a model again (%s); retrying later", w->index, r->message);
        net_conn_close(w->conn, "model registration failed");
        return;
    }
    if (w->rejoin_pending > 0 && --w->rejoin_pending == 0)
        send_groups(ctl, w);
}
