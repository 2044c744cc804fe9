/* What the test controllers (ECHO, DIRECT, STRESS: the original's "Used for testing" types)
 * share behind the scheduler interface: their GPUs with per-interval stats, a table of the
 * actions they have in flight, and the single exits for answering a request (request telemetry
 * row, then the host) and finishing an action (stats and action telemetry row). Pure: no
 * clock, no sockets; `now` comes from the host. */
#ifndef CW_TC_COMMON_H
#define CW_TC_COMMON_H
#include "controller/scheduler.h"

#define TC_ACTION_WINDOW_NS 10000000000ULL /* an action may start up to 10 s after it is sent (the original's) */

struct tc_gpu {
    unsigned worker_id, gpu_id, total_pages;
    int lost;
    struct sched_gpu_stats stats; /* since the last take_stats */
};

/* An action in flight; owned by the table from tc_action_send until tc_action_take. */
struct tc_action {
    struct tc_action *next; /* bucket chain */
    uint64_t id;
    enum sched_action_type type;
    unsigned gpu, model;
    uint64_t sent, expected_duration;
    struct sched_request *request; /* infer: its one request (inputs; DIRECT answers it) */
};

#define TC_BUCKETS 4096
struct tc_actions {
    struct tc_action *buckets[TC_BUCKETS];
    uint64_t next_id;
    unsigned count;
};

/* The parts of a test controller's state every one has. */
struct tc_base {
    struct sched_config cfg;
    struct sched_ops ops;
    void *data;
    struct tc_gpu *gpus;
    unsigned n_gpus;
    uint64_t arrivals, departures;
    struct tc_actions actions;
};

/* Copies config, ops and GPUs; 0, or -1 out of memory. */
int tc_base_init(struct tc_base *b, const struct sched_config *cfg, const struct sched_gpu *gpus, unsigned n_gpus,
                 const struct sched_ops *ops, void *data);
/* Frees the GPUs and every action still in the table. */
void tc_base_free(struct tc_base *b);

/* Answers r: a request telemetry row (its deadline is the default SLO), then the host. */
void tc_answer(struct tc_base *b, uint64_t now, struct sched_request *r, int status, const char *message,
               const uint8_t *out, size_t out_len);

/* Sends an action now (window [now, now + 10 s]) and keeps it in the table; an infer is a batch
 * of one, `request` (its input travels). NULL if out of memory (nothing sent). */
struct tc_action *tc_action_send(struct tc_base *b, uint64_t now, enum sched_action_type type, unsigned gpu,
                                 unsigned model, uint64_t expected_duration, struct sched_request *request);
/* Removes and returns the action of a result (NULL if unknown: e.g. drained or of a lost worker). */
struct tc_action *tc_action_take(struct tc_base *b, uint64_t id);
/* Removes and returns any action on a GPU of `worker` (any action if worker < 0); NULL if none. */
struct tc_action *tc_action_take_any(struct tc_base *b, long worker);
/* Records a finished action in its GPU's stats and the action telemetry; frees it. */
void tc_action_finish(struct tc_base *b, uint64_t now, struct tc_action *a, const struct sched_result *res);

/* The implementations of take_stats and gpu_count. */
unsigned tc_take_stats(struct tc_base *b, struct sched_gpu_stats *out, unsigned max);
/* Marks the GPUs of worker lost (1) or back (0); returns how many it has. */
unsigned tc_mark_worker(struct tc_base *b, unsigned worker_id, int lost);

#endif
