/* How a device's executor threads run so that actions start and end on time on a busy machine:
 * real-time priority (SCHED_FIFO) where the OS allows it, else a lower niceness, optionally
 * pinned to CPUs, and the spin that ends each precise wait (clock_wait_until). What to ask for
 * is a pure function of the request and the OS limits (thread_policy_plan); applying it to the
 * calling thread records what the OS refused, so the worker can say so in one line. */
#ifndef CW_THREAD_POLICY_H
#define CW_THREAD_POLICY_H
#include <stddef.h>
#include <stdint.h>

#define THREAD_POLICY_MAX_CPUS 1024
#define THREAD_POLICY_DEFAULT_RT 50      /* SCHED_FIFO priority of exec executors (loads: one less) */
#define THREAD_POLICY_DEFAULT_NICE (-10) /* the fallback when real-time is refused */
#define THREAD_POLICY_DEFAULT_SPIN_NS 50000ULL

struct thread_policy {
    int rt_priority;                            /* SCHED_FIFO priority to ask for (1..99); 0: none */
    int nice;                                   /* niceness when real-time is off or refused (-20..19); 0: leave it */
    uint64_t spin_ns;                           /* spin at the end of each precise wait; 0: sleep only */
    uint64_t cpus[THREAD_POLICY_MAX_CPUS / 64]; /* affinity; all zero: leave it */
};

void thread_policy_defaults(struct thread_policy *p);
/* Parses a CPU list such as "0-3,6" into p->cpus. 0, or -1 if malformed or out of range. */
int thread_policy_parse_cpus(struct thread_policy *p, const char *list);
int thread_policy_has_cpus(const struct thread_policy *p);

/* What to ask the OS for, 0 meaning "do not ask": a real-time priority (only when privileged
 * or within RLIMIT_RTPRIO's soft limit, clamped to it), and the niceness to fall back to
 * (no lower than nice_floor, the lowest RLIMIT_NICE allows, unless privileged). */
struct thread_policy_plan {
    int rt_priority;
    int nice;
};
void thread_policy_plan(const struct thread_policy *p, uint64_t rtprio_limit, int nice_floor, int privileged,
                        struct thread_policy_plan *out);

/* What applying a policy to a thread achieved. */
struct thread_policy_outcome {
    int rt_priority;  /* in force, 0 if none */
    int nice;         /* in force when rt_priority is 0 */
    int rt_errno;     /* why real-time was refused (0: granted, or not asked) */
    int rt_limited;   /* real-time not tried: RLIMIT_RTPRIO forbids it */
    int nice_errno;   /* why the niceness was refused */
    int nice_limited; /* the niceness not tried (or only partly): RLIMIT_NICE forbids it */
    int pin_errno;    /* why pinning failed */
    int pinned;       /* affinity set */
};

/* Applies p to the calling thread (priority, or niceness and a 1 ns timer slack; affinity). */
void thread_policy_apply(const struct thread_policy *p, struct thread_policy_outcome *out);
/* One human-readable clause for o, e.g. "SCHED_FIFO priority 50" or
 * "nice -10 (real-time refused: Operation not permitted)". */
void thread_policy_describe(const struct thread_policy_outcome *o, char *buf, size_t len);

#endif
