/* clockwork-sim --calibrate: fits the simulator's overhead model (latency.h) to a live run's
 * telemetry: per hop a base plus an exponential jitter, matched at the 10th and 90th
 * percentiles of what the run measured (clockwork_action_log.tsv), the executor turnaround and
 * wake-up from consecutive inferences on each device, and the client's timer granularity from
 * how requests bunch up on arrival (clockwork_request_log.tsv). The result is written as an
 * overheads file that `clockwork-sim --overheads FILE` reads (one `option value` per line). */
#ifndef CW_SIM_CALIBRATE_H
#define CW_SIM_CALIBRATE_H
#include "latency.h"
#include <stdio.h>

struct sim_hop_fit {
    int measured;               /* 0: not in the logs, default kept */
    unsigned n;                 /* samples */
    double p10, p50, p90, mean; /* us */
};

struct sim_calibration {
    struct sim_latency lat; /* defaults, with the measured hops fitted */
    struct sim_hop_fit fit[SIM_N_HOPS];
    unsigned infers;          /* successful infer actions read */
    uint64_t client_tick_ns;  /* 0: arrivals look like the workload's own (e.g. Poisson) */
    double arrival_rate;      /* requests per second over the run */
    double bunched;           /* fraction of arrivals within BUNCH_US of the previous one */
    double exec_overshoot_us; /* mean worker_exec_duration - expected (reported only) */
};

/* Reads DIR/clockwork_action_log.tsv. 0, or -1 with err (unreadable, missing columns, too few
 * successful inferences to fit). */
int sim_calibrate(const char *dir, struct sim_calibration *c, char *err, size_t errlen);
/* The overheads file: comments with what was measured, then one line per overhead. */
void sim_calibration_write(FILE *f, const struct sim_calibration *c, const char *dir);

#endif
