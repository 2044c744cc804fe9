/* The workloads of the client and clockwork-sim: name, -h text, parameter parsing (pure,
 * testable) and setup, which describes the workload through a wl_builder only (builder.h),
 * so that the live client and the simulator run the same workload code. */
#ifndef CW_WORKLOADS_H
#define CW_WORKLOADS_H
#include "builder.h"
#include <stddef.h>
#include <stdio.h>

/* Every workload's parameters; each workload uses some of them. */
struct wl_args {
    char model[256];
    unsigned copies, clients, concurrency;
    uint64_t requests;
    enum wl_dist dist;
    double rate, slo_start, slo_end, slo_factor, period;
    enum wl_slo_op op;
    /* slo-exp-2: background closed loops */
    unsigned copies_bg, concurrency_bg;
    double slo_bg;
    /* scalability-exp-1: rate schedule (rate is rate-min) */
    double rate_max, rate_factor;
    enum wl_slo_op rate_op;
    /* azure family */
    unsigned num_workers, memory_load_factor, trace_id;
    int use_all_models, randomise;
    double load_factor, interval;
    double lf_min, lf_max, lf_inc, lf_period;
};

struct wl_param;

struct wl_def {
    const char *name;
    const char *usage; /* this workload's block of the -h text */
    const struct wl_param *params;
    unsigned n_params, n_required; /* positional; the optional ones have defaults */
    /* Checks across parameters after parsing (may be NULL). */
    int (*check)(const struct wl_args *a, char *err, size_t errlen);
    /* Checks the environment before connecting, e.g. the trace files (may be NULL). */
    int (*prepare)(const struct wl_args *a, char *err, size_t errlen);
    /* Loads the models and adds the sources. 0, or -1 after printing why. */
    int (*setup)(const struct wl_builder *b, const struct wl_args *a);
};

const struct wl_def *wl_find(const char *name);
/* The full -h text. */
void wl_print_usage(FILE *f);
/* Parses a workload's own parameters (argv after the workload name). Returns 0, -1 for an
 * unknown workload, -2 for bad parameters (err says why). */
int wl_parse(const char *workload, int argc, char **argv, struct wl_args *a, char *err, size_t errlen);
/* Runs the workload's prepare check, if any. 0 or -1 (err says why). */
int wl_prepare(const struct wl_def *d, const struct wl_args *a, char *err, size_t errlen);

#endif
