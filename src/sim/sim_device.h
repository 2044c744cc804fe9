/* An emulated device in virtual time: the worker's own weights-cache rules (weights_cache.h)
 * and window rules (executor_window_start; an Infer awaits a transfer of its weights as
 * executor_infer_awaits_load says), with its two FIFO executors (LOAD: LoadWeights and
 * EvictWeights; EXEC: Infer) as queues in virtual time. Pure: the host asks to be woken at a
 * time through the ops table and calls sim_device_wake then; finished tasks come back via done. */
#ifndef CW_SIM_DEVICE_H
#define CW_SIM_DEVICE_H
#include "model/model_info.h"
#include "worker/weights_cache.h"
#include <stdint.h>

enum { SIM_EX_LOAD = 0, SIM_EX_EXEC = 1 };

struct sim_task {
    struct sim_task *next;
    int type; /* SCHED_LOAD_WEIGHTS, SCHED_INFER, SCHED_EVICT_WEIGHTS (wire action types) */
    uint64_t action_id;
    int32_t model_id;
    const struct model_info *info;
    unsigned batch_size;       /* infer: requests in the batch (padded by the device) */
    uint64_t earliest, latest; /* worker clock = controller clock in the simulator */
    uint64_t expected_duration;
    uint64_t received;
    /* filled by the device */
    int status;
    int waiting;                /* window open, waiting for the start time */
    int awaiting_load;          /* infer: waiting for its weights' transfer (executor_infer_awaits_load) */
    uint64_t load_expected_end; /* of that transfer */
    uint64_t start, end, version;
    int32_t cache_id; /* the model's id in the device's weights cache, from the start on */
    void *host;       /* the host's context */
};

struct sim_device;

struct sim_device_ops {
    /* Call sim_device_wake(d, ex, t) at virtual time t (at most one wake per executor pending). */
    void (*wake_at)(void *data, struct sim_device *d, unsigned ex, uint64_t t);
    /* A task is finished (status 0) or failed; ownership goes back to the host. */
    void (*done)(void *data, struct sim_device *d, struct sim_task *t);
    /* Duration of an infer of the padded batch (profile, perhaps with noise). */
    uint64_t (*exec_time)(void *data, const struct sim_task *t, uint64_t profiled);
    /* How long an executor needs after one task before it starts the next. */
    uint64_t (*turnaround)(void *data);
    /* How long an idle executor takes to start a task that arrives (NULL: at once). */
    uint64_t (*wakeup)(void *data);
    void *data;
};

struct sim_executor {
    struct sim_task *head, *tail; /* queued, not started */
    struct sim_task *current;     /* waiting for its start or running until its end */
    uint64_t free_at;
    int wake_pending;
};

/* The weights cache indexes its models densely by id, but a device of a large cluster sees
 * only a few of its models: each gets a local id on first load (open addressing by model id),
 * so a device's memory follows the models it held, not the cluster's. */
struct sim_model_id {
    uint32_t key; /* model id + 1; 0 = empty slot */
    int32_t local;
};

struct sim_model_ids {
    struct sim_model_id *slot; /* open addressing; key and value share a cache line */
    unsigned cap, len;
};

struct sim_device {
    unsigned index, worker_id, gpu_id;
    struct weights_cache cache;
    struct sim_model_ids ids;
    struct sim_executor ex[2];
    const struct sim_device_ops *ops;
};

int sim_device_init(struct sim_device *d, unsigned index, unsigned worker_id, unsigned gpu_id, uint64_t cache_size,
                    uint64_t page_size, const struct sim_device_ops *ops);
/* Frees the cache; queued tasks are handed to free_task. */
void sim_device_destroy(struct sim_device *d, void (*free_task)(struct sim_task *t));
/* An action arrives at virtual time now. */
void sim_device_submit(struct sim_device *d, uint64_t now, struct sim_task *t);
/* The wake asked for through ops->wake_at. */
void sim_device_wake(struct sim_device *d, unsigned ex, uint64_t now);

#endif
