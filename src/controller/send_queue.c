/* The action send queue: a FIFO of copied actions, pumped by the host under the concurrency
 * limit; every action that cannot leave is failed back through one path (fail_action). */
#include "send_queue.h"
#include "common/status.h"
#include <stdlib.h>
#include <string.h>

struct send_queue_item {
    struct send_queue_item *next;
    struct sched_action action;
    struct sched_request *requests[]; /* copy of action.requests */
};

void send_queue_init(struct send_queue *q, const struct send_queue_ops *ops, void *data)
{
    memset(q, 0, sizeof *q);
    q->ops = ops;
    q->data = data;
}

static void remember_lost(struct send_queue *q, const struct sched_action *a)
{
    if (q->n_lost == SEND_QUEUE_LOST_MAX) {
        q->n_unreported++;
        return;
    }
    struct sched_action *l = &q->lost[q->n_lost++];
    *l = *a;
    l->requests = NULL;
}

int send_queue_push(struct send_queue *q, const struct sched_action *a)
{
    struct send_queue_item *it = calloc(1, sizeof *it + a->n_requests * sizeof it->requests[0]);
    if (!it) {
        remember_lost(q, a);
        return -1;
    }
    it->action = *a;
    if (a->n_requests)
        memcpy(it->requests, a->requests, a->n_requests * sizeof it->requests[0]);
    it->action.requests = a->n_requests ? it->requests : NULL;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->length++;
    return 0;
}

static struct send_queue_item *pop(struct send_queue *q)
{
    struct send_queue_item *it = q->head;
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    q->length--;
    return it;
}

static void fail_action(struct send_queue *q, const struct sched_action *a, int status, const char *message,
                        uint64_t now)
{
    struct sched_action copy = *a;
    copy.requests = NULL;
    q->ops->fail(q->data, &copy, status, message, now);
}

static void fail_lost(struct send_queue *q, uint64_t now)
{
    /* fail may push again (and lose again): take the list first */
    struct sched_action lost[SEND_QUEUE_LOST_MAX];
    unsigned n = q->n_lost;
    memcpy(lost, q->lost, n * sizeof lost[0]);
    q->n_lost = 0;
    for (unsigned i = 0; i < n; i++)
        fail_action(q, &lost[i], ACTION_RUNTIME_ERROR, "controller out of memory queueing the action", now);
}

static void send_or_fail(struct send_queue *q, const struct sched_action *a, uint64_t now)
{
    if (q->ops->worker_ready && !q->ops->worker_ready(q->data, a->worker_id))
        fail_action(q, a, ACTION_RUNTIME_ERROR, "worker not connected", now);
    else if (now > a->send_by)
        fail_action(q, a, ACTION_NETWORK_SEND_TOO_LATE, "network send too late", now);
    else if (q->ops->send(q->data, a, now) != 0)
        fail_action(q, a, ACTION_RUNTIME_ERROR, "send to worker failed", now);
}

/* While sends are blocked (a stalled worker's socket stays full), the queue must not grow
 * with actions nobody can send in time any more: fail them now, wherever they are queued. */
static void expire_blocked(struct send_queue *q, uint64_t now)
{
    struct send_queue_item *expired = NULL, **pp = &q->head;
    q->tail = NULL;
    while (*pp) {
        struct send_queue_item *it = *pp;
        if (now > it->action.send_by) {
            *pp = it->next;
            it->next = expired;
            expired = it;
            q->length--;
        } else {
            q->tail = it;
            pp = &it->next;
        }
    }
    while (expired) { /* failing may push again: the queue is consistent by now */
        struct send_queue_item *it = expired;
        expired = it->next;
        fail_action(q, &it->action, ACTION_NETWORK_SEND_TOO_LATE, "network send too late", now);
        free(it);
    }
}

void send_queue_pump(struct send_queue *q, uint64_t now)
{
    if (q->pumping)
        return;
    q->pumping = 1;
    if (q->n_lost)
        fail_lost(q, now); /* once: what these failures lose in turn waits for the next pump */
    while (q->head && q->ops->in_flight(q->data) < SEND_QUEUE_CONCURRENCY) {
        struct send_queue_item *it = pop(q);
        send_or_fail(q, &it->action, now);
        free(it);
    }
    if (q->head)
        expire_blocked(q, now);
    q->pumping = 0;
}

unsigned send_queue_drop_worker(struct send_queue *q, unsigned worker_id)
{
    unsigned dropped = 0, kept = 0;
    struct send_queue_item **pp = &q->head;
    q->tail = NULL;
    while (*pp) {
        struct send_queue_item *it = *pp;
        if (it->action.worker_id == worker_id) {
            *pp = it->next;
            free(it);
            dropped++;
        } else {
            q->tail = it;
            pp = &it->next;
        }
    }
    q->length -= dropped;
    for (unsigned i = 0; i < q->n_lost; i++)
        if (q->lost[i].worker_id != worker_id)
            q->lost[kept++] = q->lost[i];
    q->n_lost = kept;
    return dropped;
}

void send_queue_clear(struct send_queue *q)
{
    while (q->head)
        free(pop(q));
    q->n_lost = 0;
}
