/* The controller's running totals for monitoring (GET /metrics, docs/http.md): requests by
 * model and result with latency histograms and deadlines met, requests outstanding per model,
 * actions by type and status, prediction errors, and per GPU the busy time and the weights
 * resident. Fed with the same telemetry rows the TSVs get and with the scheduler's per-second
 * GPU stats, so it works for every scheduler TYPE; pure (no clock, no I/O). Per model id:
 * exporters aggregate ids into model names. */
#ifndef CW_CONTROLLER_METRICS_H
#define CW_CONTROLLER_METRICS_H
#include "controller/scheduler.h"
#include "controller/telemetry.h"
#include <stdint.h>

#define METRICS_LATENCY_BUCKETS 14 /* upper bounds in METRICS_LATENCY_BOUNDS, then +Inf */
#define METRICS_ERROR_BUCKETS 12   /* upper bounds in METRICS_ERROR_BOUNDS, then +Inf */
#define METRICS_RESULTS 9          /* client status codes 0..8; others count as 1 (error) */
#define METRICS_ACTION_TYPES 3     /* load weights, infer, evict */
#define METRICS_ACTION_STATUSES 100

extern const double METRICS_LATENCY_BOUNDS[METRICS_LATENCY_BUCKETS]; /* seconds */
extern const double METRICS_ERROR_BOUNDS[METRICS_ERROR_BUCKETS];     /* seconds */

struct metrics_histogram {
    uint64_t buckets[METRICS_ERROR_BUCKETS > METRICS_LATENCY_BUCKETS ? METRICS_ERROR_BUCKETS : METRICS_LATENCY_BUCKETS];
    uint64_t count; /* also the +Inf bucket */
    double sum;     /* seconds */
};

struct metrics_model {
    uint64_t results[METRICS_RESULTS];
    uint64_t deadline_met, deadline_missed;
    struct metrics_histogram latency;
    uint64_t outstanding; /* admitted to the scheduler, not yet answered */
};

struct metrics_gpu {
    unsigned worker_id, gpu_id, total_pages;
    uint64_t busy_ns;   /* infer execution, all time */
    double utilization; /* busy fraction of the last stats interval */
    unsigned pages_used, models_loaded;
    uint8_t *resident; /* bit per model id: weights loaded (load succeeded, no evict since) */
    unsigned resident_bytes;
};

struct controller_metrics {
    struct metrics_model *models;
    unsigned n_models, cap_models;
    struct metrics_gpu *gpus;
    unsigned n_gpus;
    uint64_t actions[METRICS_ACTION_TYPES][METRICS_ACTION_STATUSES];
    struct metrics_histogram prediction_error[2]; /* [0] infer, [1] load weights */
};

void metrics_init(struct controller_metrics *m);
void metrics_free(struct controller_metrics *m);
/* Model ids [0, n) are counted from now on. 0, or -1 out of memory. */
int metrics_grow_models(struct controller_metrics *m, unsigned n);
/* The GPUs, as the scheduler numbers them. 0, or -1 out of memory. */
int metrics_set_gpus(struct controller_metrics *m, const struct sched_gpu *gpus, unsigned n);

void metrics_on_admitted(struct controller_metrics *m, unsigned model_id);
void metrics_on_answered(struct controller_metrics *m, unsigned model_id);
void metrics_on_request_row(struct controller_metrics *m, const struct request_row *row);
/* pages: the action's model's weights pages. */
void metrics_on_action_row(struct controller_metrics *m, const struct action_row *row, unsigned pages);
/* Per-GPU stats of one interval of interval_ns (scheduler_take_stats). */
void metrics_on_gpu_stats(struct controller_metrics *m, const struct sched_gpu_stats *stats, unsigned n,
                          uint64_t interval_ns);
/* The worker's GPUs hold nothing any more (lost, or back with a cleared cache). */
void metrics_on_worker_reset(struct controller_metrics *m, unsigned worker_id);

#endif
