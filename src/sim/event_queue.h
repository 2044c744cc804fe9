/* The simulator's event queue: a binary min-heap of timed events ordered by (time, insertion
 * sequence), so events at the same virtual time run in the order they were scheduled and a
 * run is deterministic. Pure: no clock, no I/O. */
#ifndef CW_SIM_EVENT_QUEUE_H
#define CW_SIM_EVENT_QUEUE_H
#include <stddef.h>
#include <stdint.h>

struct sim_event {
    uint64_t t, seq;
    unsigned kind, idx; /* meaning chosen by the host */
    void *p;
};

struct event_queue {
    struct sim_event *heap;
    size_t len, cap;
    uint64_t next_seq;
};

void event_queue_init(struct event_queue *q);
void event_queue_free(struct event_queue *q);
/* 0, or -1 out of memory. */
int event_queue_push(struct event_queue *q, uint64_t t, unsigned kind, unsigned idx, void *p);
/* Removes the earliest event into *out. 0, or -1 when empty. */
int event_queue_pop(struct event_queue *q, struct sim_event *out);
static inline size_t event_queue_len(const struct event_queue *q) { return q->len; }

#endif
