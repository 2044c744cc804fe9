/* A FIFO executor: one thread running its tasks strictly one at a time, in arrival order.
 * It enforces the action window (start = max(earliest, now); too late -> status 11) and
 * sleeps until the start time with microsecond precision; stopping wakes it early. */
#ifndef CW_EXECUTOR_H
#define CW_EXECUTOR_H
#include "task.h"
#include <pthread.h>

typedef void (*task_fn)(struct worker_task *t, void *ctx);

struct executor {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct task_queue queue;
    int stopping, started;
    task_fn run; /* executes a task whose window has opened (t->begin set) */
    void *run_ctx;
    task_fn done; /* receives every task, finished or failed; takes ownership */
    void *done_ctx;
};

int executor_start(struct executor *ex, task_fn run, void *run_ctx, task_fn done, void *done_ctx);
void executor_submit(struct executor *ex, struct worker_task *t);
/* Stops and joins the thread; queued tasks go to `done` with ACTION_SHUTTING_DOWN. */
void executor_stop(struct executor *ex);
size_t executor_pending(struct executor *ex);

/* The window rule as a pure function: 0 with *start = max(now, earliest), or the action kind's
 * too-late code (task_too_late_status) when that is after latest. */
int executor_window_start(int kind, uint64_t now, uint64_t earliest, uint64_t latest, uint64_t *start);

#endif
