/* The action send queue between the scheduler and the workers: actions wait in order until
 * fewer than SEND_QUEUE_CONCURRENCY sends are in flight; an action that cannot be sent is
 * failed back to the scheduler instead. Pure (the host passes `now` and writes through the
 * ops), so the live controller and the simulator share it. */
#ifndef CW_SEND_QUEUE_H
#define CW_SEND_QUEUE_H
#include "controller/scheduler.h"
#include <stdint.h>

#define SEND_QUEUE_CONCURRENCY 2 /* sends in flight at once */
#define SEND_QUEUE_LOST_MAX 32   /* unqueueable actions remembered between two pumps */

/* The one failure rule: every action pushed is either sent, or handed to `fail` from
 * send_queue_pump (never from push, which runs inside the scheduler's send_action), except
 * those removed by send_queue_drop_worker / send_queue_clear, whose callers answer them. */
struct send_queue_ops {
    /* Sends started and not yet finished. */
    unsigned (*in_flight)(void *data);
    /* Whether worker_id can take actions now; NULL: always. */
    int (*worker_ready)(void *data, unsigned worker_id);
    /* Starts sending a at `now`: 0, or -1 if the write failed at once. */
    int (*send)(void *data, const struct sched_action *a, uint64_t now);
    /* a was not sent: tell the scheduler (status is an action status). a->requests is NULL. */
    void (*fail)(void *data, const struct sched_action *a, int status, const char *message, uint64_t now);
};

struct send_queue_item;

struct send_queue {
    const struct send_queue_ops *ops;
    void *data;
    struct send_queue_item *head, *tail;
    unsigned length;
    int pumping;
    /* pushed while out of memory: failed (ACTION_RUNTIME_ERROR) at the next pump */
    struct sched_action lost[SEND_QUEUE_LOST_MAX];
    unsigned n_lost;
    uint64_t n_unreported; /* lost beyond SEND_QUEUE_LOST_MAX: the scheduler could not be told */
};

void send_queue_init(struct send_queue *q, const struct send_queue_ops *ops, void *data);
/* Queues a copy of a, with a copy of its request pointer array (the requests themselves stay
 * the scheduler's). Safe inside scheduler callbacks. 0, or -1 when out of memory (the action
 * is then failed at the next pump). */
int send_queue_push(struct send_queue *q, const struct sched_action *a);
/* First fails what could not be queued, then takes actions in order while fewer than
 * SEND_QUEUE_CONCURRENCY sends are in flight: a worker that is not ready fails the action
 * with ACTION_RUNTIME_ERROR, `now` past send_by with ACTION_NETWORK_SEND_TOO_LATE, a failed
 * write with ACTION_RUNTIME_ERROR. What stays queued because sends are blocked is failed
 * (ACTION_NETWORK_SEND_TOO_LATE) as soon as its send_by passes, so a stalled worker never
 * builds a backlog. A call from inside the ops returns at once; the outer call goes on with
 * what they pushed. */
void send_queue_pump(struct send_queue *q, uint64_t now);
/* Removes worker_id's queued actions without failing them: for a worker the scheduler is told
 * it lost (scheduler_on_worker_lost answers them). Returns how many. */
unsigned send_queue_drop_worker(struct send_queue *q, unsigned worker_id);
/* Frees every queued action without failing it (after scheduler_drain answered everything). */
void send_queue_clear(struct send_queue *q);

#endif
