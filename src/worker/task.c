#include "task.h"
#include "common/status.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct worker_task *task_new(int kind)
{
    struct worker_task *t = calloc(1, sizeof *t);
    if (t)
        t->kind = kind;
    return t;
}

void task_free(struct worker_task *t)
{
    if (!t)
        return;
    free(t->input_sizes);
    free(t->input);
    free(t->output);
    free(t);
}

void task_fail(struct worker_task *t, int status, const char *fmt, ...)
{
    t->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->message, sizeof t->message, fmt, ap);
    va_end(ap);
}

const char *task_kind_name(int kind)
{
    switch (kind) {
    case TASK_LOAD_WEIGHTS: return "LoadWeights";
    case TASK_INFER: return "Infer";
    case TASK_EVICT_WEIGHTS: return "EvictWeights";
    default: return "Unknown";
    }
}

int task_too_late_status(int kind)
{
    switch (kind) {
    case TASK_LOAD_WEIGHTS: return ACTION_LOAD_WEIGHTS_TOO_LATE;
    case TASK_EVICT_WEIGHTS: return ACTION_EVICT_TOO_LATE;
    default: return ACTION_EXEC_TOO_LATE;
    }
}

void task_queue_push(struct task_queue *q, struct worker_task *t)
{
    t->next = NULL;
    if (q->tail)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
    q->count++;
}

struct worker_task *task_queue_pop(struct task_queue *q)
{
    struct worker_task *t = q->head;
    if (!t)
        return NULL;
    q->head = t->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    t->next = NULL;
    return t;
}
