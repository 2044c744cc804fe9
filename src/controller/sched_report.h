/* What every scheduler reports the same way: a request's SLO, the telemetry row of an answered
 * request, the worker-side columns of an action row, the client status an action's failure
 * becomes, and handing per-GPU counters to the status line. Pure helpers for infer5/, infer6/ and the test
 * controllers (test_controllers/tc_common.c). */
#ifndef CW_SCHED_REPORT_H
#define CW_SCHED_REPORT_H
#include "controller/scheduler.h"

#define SCHED_MAX_SLO (1000000000ULL * 86400 * 365) /* a year: deadlines cannot overflow */

/* A request's SLO in ns: default_slo for a factor of 0 (or NaN, or negative), else the factor
 * times the model's batch-1 estimate, capped at SCHED_MAX_SLO. The controller checks a client's
 * factor at the edge (request_check.h); this keeps any float, e.g. from the simulator or a
 * fuzzer, from reaching an out-of-range conversion. */
uint64_t sched_request_slo(uint64_t batch1_estimate, double slo_factor, uint64_t default_slo);

/* The request log row of r answered at `now` with `status` (deadline_met iff success by its
 * deadline), as the departure_count-th answer of its model. */
void sched_request_row(struct request_row *row, const struct sched_request *r, uint64_t now, int status,
                       uint64_t departure_count);
/* The columns of an action row that come from the worker's result (times relative to sent). */
void sched_action_row_result(struct action_row *row, const struct sched_result *res, uint64_t sent);
/* Timeouts of an action's window are the client's timeout; anything else is an error. */
int sched_client_status(int action_status);
/* Copies the counters into out and starts them again (same GPU). */
void sched_stats_take(struct sched_gpu_stats *st, struct sched_gpu_stats *out);

#endif
