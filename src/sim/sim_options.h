/* clockwork-sim's command line: cluster shape, run options and overheads, then the controller
 * TYPE and its positional options exactly as `controller` takes them, then the workload and
 * its parameters exactly as `client` takes them. */
#ifndef CW_SIM_OPTIONS_H
#define CW_SIM_OPTIONS_H
#include "sim.h"
#include <stdio.h>

struct sim_options {
    struct sim_config cfg;
    char type[16];
    char log_dir[1024];
    const struct wl_def *workload;
    struct wl_args args;
    int quiet;
    char calibrate_dir[1024]; /* --calibrate: fit overheads from this live run's logs instead */
    char overheads_out[1024]; /* --overheads-out: where --calibrate saves them */
};

enum { SIM_OPTIONS_OK = 0, SIM_OPTIONS_HELP = 1, SIM_OPTIONS_CALIBRATE = 2, SIM_OPTIONS_ERROR = -1 };

/* Parses argv (reads CLOCKWORK_LOG_DIR and the worker config file for the cache defaults).
 * On error err says why. SIM_OPTIONS_CALIBRATE: --calibrate DIR was given (no TYPE or
 * workload needed). */
int sim_options_parse(struct sim_options *o, int argc, char **argv, char *err, size_t errlen);
void sim_usage(FILE *out);

#endif
