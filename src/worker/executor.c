#define _GNU_SOURCE
#include "executor.h"
#include "common/clock.h"
#include "common/status.h"
#include <time.h>

#define COARSE_WAIT_MARGIN_NS (2 * NS_PER_MS) /* condvar wait until this close, then a precise wait */

int executor_window_start(int kind, uint64_t now, uint64_t earliest, uint64_t latest, uint64_t *start)
{
    *start = now > earliest ? now : earliest;
    return *start > latest ? task_too_late_status(kind) : 0;
}

int executor_infer_awaits_load(uint64_t latest, uint64_t load_expected_end) { return load_expected_end <= latest; }

uint64_t executor_latest_after_load(uint64_t latest, uint64_t load_expected_end, uint64_t load_end)
{
    uint64_t overrun = load_end > load_expected_end ? load_end - load_expected_end : 0;
    return latest > UINT64_MAX - overrun ? UINT64_MAX : latest + overrun;
}

/* Waits until t (CLOCK_REALTIME). Long waits block on the condvar so a stop wakes them;
 * the last stretch is a precise wait (absolute sleep, then the policy's spin).
 * Returns 0, or -1 if the executor is stopping. Called with ex->lock NOT held. */
static int wait_until(struct executor *ex, uint64_t t)
{
    pthread_mutex_lock(&ex->lock);
    while (!ex->stopping && clock_now_ns() + COARSE_WAIT_MARGIN_NS < t) {
        uint64_t wake = t - COARSE_WAIT_MARGIN_NS;
        struct timespec ts = {.tv_sec = (time_t)(wake / NS_PER_S), .tv_nsec = (long)(wake % NS_PER_S)};
        pthread_cond_timedwait(&ex->cond, &ex->lock, &ts);
    }
    int stopping = ex->stopping;
    pthread_mutex_unlock(&ex->lock);
    if (stopping)
        return -1;
    clock_wait_until(t, ex->policy.spin_ns);
    return 0;
}

static void execute(struct executor *ex, struct worker_task *t)
{
    uint64_t start;
    int late = executor_window_start(t->kind, clock_now_ns(), t->earliest, t->latest, &start);
    if (late) {
        task_fail(t, late, "%s could not start in time (%.3f ms after latest)", task_kind_name(t->kind),
                  (double)(start - t->latest) / 1e6);
    } else if (wait_until(ex, start) != 0) {
        task_fail(t, ACTION_SHUTTING_DOWN, "worker shutting down");
    } else {
        t->begin = start;
        ex->run(t, ex->run_ctx);
    }
    ex->done(t, ex->done_ctx);
}

static void *executor_main(void *arg)
{
    struct executor *ex = arg;
    struct thread_policy_outcome outcome = {0};
    if (ex->policy.rt_priority || ex->policy.nice || thread_policy_has_cpus(&ex->policy))
        thread_policy_apply(&ex->policy, &outcome);
    pthread_mutex_lock(&ex->lock);
    ex->outcome = outcome;
    ex->ready = 1;
    pthread_cond_broadcast(&ex->cond);
    for (;;) {
        while (!ex->stopping && !ex->queue.head)
            pthread_cond_wait(&ex->cond, &ex->lock);
        if (ex->stopping)
            break;
        struct worker_task *t = task_queue_pop(&ex->queue);
        pthread_mutex_unlock(&ex->lock);
        execute(ex, t);
        pthread_mutex_lock(&ex->lock);
    }
    pthread_mutex_unlock(&ex->lock);
    return NULL;
}

int executor_start(struct executor *ex, const struct thread_policy *policy, task_fn run, void *run_ctx, task_fn done,
                   void *done_ctx)
{
    *ex = (struct executor){.run = run, .run_ctx = run_ctx, .done = done, .done_ctx = done_ctx};
    if (policy)
        ex->policy = *policy;
    pthread_mutex_init(&ex->lock, NULL);
    pthread_cond_init(&ex->cond, NULL);
    if (pthread_create(&ex->thread, NULL, executor_main, ex) != 0) {
        pthread_cond_destroy(&ex->cond);
        pthread_mutex_destroy(&ex->lock);
        return -1;
    }
    ex->started = 1;
    pthread_mutex_lock(&ex->lock);
    while (!ex->ready)
        pthread_cond_wait(&ex->cond, &ex->lock);
    pthread_mutex_unlock(&ex->lock);
    return 0;
}

/* The executor is signalled after the lock is released: it runs at a higher real-time priority
 * than the I/O thread that submits, so signalled under the lock it would preempt that thread
 * only to block on the lock and switch back (two needless switches before every action). */
void executor_submit(struct executor *ex, struct worker_task *t)
{
    pthread_mutex_lock(&ex->lock);
    int stopping = ex->stopping;
    if (!stopping)
        task_queue_push(&ex->queue, t);
    pthread_mutex_unlock(&ex->lock);
    if (!stopping)
        pthread_cond_signal(&ex->cond);
    if (stopping) {
        task_fail(t, ACTION_SHUTTING_DOWN, "worker shutting down");
        ex->done(t, ex->done_ctx);
    }
}

size_t executor_pending(struct executor *ex)
{
    pthread_mutex_lock(&ex->lock);
    size_t n = ex->queue.count;
    pthread_mutex_unlock(&ex->lock);
    return n;
}

void executor_stop(struct executor *ex)
{
    if (!ex->started)
        return;
    pthread_mutex_lock(&ex->lock);
    ex->stopping = 1;
    pthread_cond_broadcast(&ex->cond);
    pthread_mutex_unlock(&ex->lock);
    pthread_join(ex->thread, NULL);
    struct worker_task *t;
    while ((t = task_queue_pop(&ex->queue)) != NULL) {
        task_fail(t, ACTION_SHUTTING_DOWN, "worker shutting down");
        ex->done(t, ex->done_ctx);
    }
    pthread_cond_destroy(&ex->cond);
    pthread_mutex_destroy(&ex->lock);
    ex->started = 0;
}
