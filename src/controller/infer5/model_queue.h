/* One model's FIFO of queued requests, with a virtual queue per usable batch size. A
 * request leaves the virtual queue of batch size b once it can no longer meet its
 * target in a batch of b; it leaves the model once it is in no virtual queue. */
#ifndef CW_INFER5_MODEL_QUEUE_H
#define CW_INFER5_MODEL_QUEUE_H
#include "controller/scheduler.h"
#include <stdint.h>

/* Scheduler-side state of a request, from arrival until it is answered. */
struct qreq {
    struct sched_request *r;
    uint64_t target;      /* the scheduler aims to complete it by then */
    uint64_t seq;         /* position in its model's queue */
    uint64_t demand;      /* what it adds to the load tracker */
    unsigned timeout_pos; /* position in the timeout heap while queued */
    struct qreq *next_free;
};

struct model_queue {
    struct qreq **ring;  /* slot seq & (cap-1); NULL once removed */
    unsigned cap;        /* power of two */
    uint64_t head, tail; /* entries [head, tail) */
    unsigned nv;         /* virtual queues, one per usable batch size */
    uint64_t vhead[MODEL_MAX_BATCH_SIZES];
    unsigned vcount[MODEL_MAX_BATCH_SIZES];
    unsigned live; /* requests in at least one virtual queue */
};

void model_queue_init(struct model_queue *q, unsigned nv);
void model_queue_free(struct model_queue *q);
void model_queue_push(struct model_queue *q, struct qreq *r);
/* Removes r wherever it is (answered by timeout, taken into a batch). */
void model_queue_remove(struct model_queue *q, struct qreq *r);
struct qreq *model_queue_front(const struct model_queue *q, unsigned v);
/* Excludes the front of virtual queue v from v. */
void model_queue_drop_front(struct model_queue *q, unsigned v);
/* Removes and returns a request that is in no virtual queue any more, or NULL. */
struct qreq *model_queue_pop_orphan(struct model_queue *q);
/* Removes up to max requests from the front of virtual queue v into out; returns count. */
unsigned model_queue_take(struct model_queue *q, unsigned v, unsigned max, struct qreq **out);
/* Excludes from each virtual queue v the front requests whose target comes before `start +
 * est[v]` (they cannot make it in a batch of v started then). Touches only the bookkeeping
 * (virtual heads and counts), never the ring, so it also works on a copy of the struct. */
void model_queue_drop_infeasible(struct model_queue *q, const uint64_t *est, uint64_t start);
/* The most urgent strategy: the virtual queue v whose front must start earliest
 * (front(v).target - est[v], into *start), ties to the larger batch; -1 if nothing is queued. */
int model_queue_most_urgent(const struct model_queue *q, const uint64_t *est, uint64_t *start);

#endif
