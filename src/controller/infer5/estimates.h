/* Execution and weights-load time estimates of one model: per usable batch size the
 * configured percentile (p99) of the last N measured durations, seeded from the profile.
 * Also decides which batch sizes the scheduler may use (max_batch, max_exec). */
#ifndef CW_INFER5_ESTIMATES_H
#define CW_INFER5_ESTIMATES_H
#include "common/window.h"
#include "controller/scheduler.h"

#define EST_DEFAULT_EXEC_NS 100000ULL /* 0.1 ms when a profile lacks a batch size */

/* The measurements behind one model's estimates. */
struct estimate_samples {
    struct sample_window win[MODEL_MAX_BATCH_SIZES];
    struct sample_window load_win;
};

/* What every event reads is inline; the samples (nine windows, some 5 KB) live apart, made at
 * the first measurement, so that tens of thousands of models stay few cache lines and pages each. */
struct model_estimates {
    unsigned n; /* usable batch sizes, ascending */
    unsigned bs[MODEL_MAX_BATCH_SIZES];
    uint64_t est[MODEL_MAX_BATCH_SIZES]; /* current estimate per usable batch size */
    uint64_t load_est;
    double percentile;
    unsigned window;                  /* samples per estimate */
    struct estimate_samples *samples; /* owned; NULL until the first measurement */
};

void estimates_init(struct model_estimates *e, const struct model_info *mi, const struct sched_config *cfg);
void estimates_free(struct model_estimates *e);
/* Index of batch size b among the usable ones, or -1. */
int estimates_index(const struct model_estimates *e, unsigned b);
void estimates_add_exec(struct model_estimates *e, unsigned idx, uint64_t ns);
void estimates_add_load(struct model_estimates *e, uint64_t ns);

#endif
