/* The simulator's event queue: a min-heap of timed events ordered by (time, insertion
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

#define EVENT_QUEUE_SLOT_BITS 26 /* at most 2^26 events pending at once */

/* A heap node: the time, then the sequence number above the slot of the event's payload. */
struct eq_node {
    uint64_t t;
    uint64_t key; /* seq << EVENT_QUEUE_SLOT_BITS | slot */
};

struct eq_payload {
    unsigned kind, idx;
    void *p;
};

struct event_queue {
    struct eq_node *heap; /* 4-ary; each node's children share one cache line */
    void *heap_block;     /* the allocation behind heap */
    size_t len, cap;
    struct eq_payload *slots; /* payloads by slot */
    unsigned *free_slots;     /* slots not in use (a stack) */
    size_t n_free, n_slots;
    uint64_t next_seq;
    uint64_t seq_limit; /* sequence numbers are renumbered before reaching it (tests lower it) */
};

void event_queue_init(struct event_queue *q);
void event_queue_free(struct event_queue *q);
/* 0, or -1 out of memory (or 2^26 events pending). */
int event_queue_push(struct event_queue *q, uint64_t t, unsigned kind, unsigned idx, void *p);
/* Removes the earliest event into *out. 0, or -1 when empty. out->seq orders events of one
 * time; it is not the count of pushes once the queue has renumbered. */
int event_queue_pop(struct event_queue *q, struct sim_event *out);
static inline size_t event_queue_len(const struct event_queue *q) { return q->len; }

#endif
