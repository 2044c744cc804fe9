/* One timed action on its way through a device (LoadWeights, Infer, EvictWeights): the
 * decoded request, converted to the worker's clock, plus the result the executor fills in.
 * A task has exactly one owner at a time: submitter -> executor queue -> done callback. */
#ifndef CW_TASK_H
#define CW_TASK_H
#include "backend/backend.h"
#include <stddef.h>
#include <stdint.h>

enum task_kind { TASK_LOAD_WEIGHTS = 2, TASK_INFER = 3, TASK_EVICT_WEIGHTS = 4 }; /* = action msg types */

struct worker_task {
    struct worker_task *next;
    int kind;
    int32_t action_id, model_id;
    unsigned gpu_id;
    uint64_t earliest, latest, expected_duration; /* worker clock, ns */
    const struct model_info *info;                /* registry-owned, outlives the task */
    unsigned batch_size, padded_batch;
    uint32_t *input_sizes; /* owned */
    size_t n_inputs;
    uint8_t *input; /* owned; NULL unless the backend needs the bytes */
    size_t input_len;
    int zero_inputs;          /* inputs were zero-size: return an empty output */
    uint64_t action_received; /* worker clock */
    void *origin;             /* submitter's context (its connection), not owned */
    /* result */
    int status;
    char message[256];
    uint64_t begin, end;
    struct backend_infer_timing infer;
    uint8_t *output; /* owned */
    size_t output_len;
};

struct worker_task *task_new(int kind);
void task_free(struct worker_task *t);
void task_fail(struct worker_task *t, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *task_kind_name(int kind);
/* What an action of this kind fails with when it cannot start by its latest: the original's
 * loadWeightsTooLate, evictWeightsTooLate, execTooLate. */
int task_too_late_status(int kind);

/* Intrusive FIFO of tasks; no locking of its own. */
struct task_queue {
    struct worker_task *head, *tail;
    size_t count;
};
void task_queue_push(struct task_queue *q, struct worker_task *t);
struct worker_task *task_queue_pop(struct task_queue *q);

#endif
