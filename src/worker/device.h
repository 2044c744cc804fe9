/* One worker device: its paged weights cache, which models are resident, a backend that
 * does the work, and two executors (LOAD: LoadWeights/EvictWeights in order; EXEC: one
 * Infer at a time). Residency state is shared by both executors and the network thread
 * and is guarded by the device's lock. The executors hold the device until an action's end
 * (an emulated backend reports it ahead), waiting for it as precisely as for its start. */
#ifndef CW_DEVICE_H
#define CW_DEVICE_H
#include "backend/backend.h"
#include "executor.h"
#include <stddef.h>
#include <stdint.h>

struct device_config {
    unsigned id;
    uint64_t weights_cache_size, page_size;
    uint64_t io_pool_size, workspace_pool_size;
    struct thread_policy policy; /* of the EXEC executor; LOAD runs one real-time priority lower,
                                  * so an Infer never waits behind a transfer sharing its cores */
};

struct device;

/* Takes ownership of `backend`. Every submitted task eventually reaches `done` (from an
 * executor thread, or from device_destroy with ACTION_SHUTTING_DOWN). NULL + err on failure. */
struct device *device_create(const struct device_config *cfg, struct backend backend, task_fn done, void *done_ctx,
                             char *err, size_t errlen);
void device_destroy(struct device *d);

/* Routes a task to the LOAD executor (LoadWeights, EvictWeights) or the EXEC executor (Infer). */
void device_submit(struct device *d, struct worker_task *t);

const struct device_config *device_get_config(const struct device *d);
/* What the OS granted the EXEC and LOAD executor threads. */
const struct thread_policy_outcome *device_exec_outcome(const struct device *d);
const struct thread_policy_outcome *device_load_outcome(const struct device *d);
int device_needs_input(const struct device *d);
unsigned device_total_pages(struct device *d);
unsigned device_free_pages(struct device *d);
size_t device_pending(struct device *d);
/* Ids of the models whose weights are resident (loaded or loading), ascending; caller frees. */
size_t device_resident_models(struct device *d, int32_t **ids);
/* 1 if model_id's weights are loaded and usable. */
int device_has_weights(struct device *d, int32_t model_id);
/* Evicts every model at once (ClearCache); in-flight loads then fail with status 53. */
void device_clear(struct device *d);

#endif
