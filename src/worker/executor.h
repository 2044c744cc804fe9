/* A FIFO executor: one thread running its tasks strictly one at a time, in arrival order.
 * It enforces the action window (start = max(earliest, now); too late -> status 11) and
 * waits for the start time with microsecond precision (sleep, then spin the last stretch);
 * stopping wakes it early. Its thread runs under the device's thread policy. */
#ifndef CW_EXECUTOR_H
#define CW_EXECUTOR_H
#include "task.h"
#include "thread_policy.h"
#include <pthread.h>

typedef void (*task_fn)(struct worker_task *t, void *ctx);

struct executor {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct task_queue queue;
    int stopping, started, ready; /* ready: the thread has applied its policy */
    struct thread_policy policy;
    struct thread_policy_outcome outcome; /* what the OS granted, once ready */
    task_fn run;                          /* executes a task whose window has opened (t->begin set) */
    void *run_ctx;
    task_fn done; /* receives every task, finished or failed; takes ownership */
    void *done_ctx;
};

/* Starts the thread and returns once it runs under `policy` (NULL: as created, no spin);
 * ex->outcome then says what the OS granted. 0, or -1 if no thread could be created. */
int executor_start(struct executor *ex, const struct thread_policy *policy, task_fn run, void *run_ctx, task_fn done,
                   void *done_ctx);
void executor_submit(struct executor *ex, struct worker_task *t);
/* Stops and joins the thread; queued tasks go to `done` with ACTION_SHUTTING_DOWN. */
void executor_stop(struct executor *ex);
size_t executor_pending(struct executor *ex);

/* The window rule as a pure function: 0 with *start = max(now, earliest), or the action kind's
 * too-late code (task_too_late_status) when that is after latest. */
int executor_window_start(int kind, uint64_t now, uint64_t earliest, uint64_t latest, uint64_t *start);

/* An Infer whose weights are still being transferred on its device: it waits for that load
 * when the load was expected to end (its start + expected duration) by the Infer's latest,
 * and may then start as late as the load overran: the Infer's window follows the load's
 * actual completion. Pure functions of the two actions' times. */
int executor_infer_awaits_load(uint64_t latest, uint64_t load_expected_end);
uint64_t executor_latest_after_load(uint64_t latest, uint64_t load_expected_end, uint64_t load_end);

#endif
