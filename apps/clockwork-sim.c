/* clockwork-sim: a whole Clockwork cluster (controller scheduler, emulated workers, client
 * workload) in virtual time; see `clockwork-sim -h` and docs/simulator.md. */
#include "common/clock.h"
#include "sim/calibrate.h"
#include "sim/sim_options.h"
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

static int run(struct sim_options *o)
{
    char err[1024];
    o->cfg.out = stdout;
    o->cfg.progress = o->quiet ? NULL : stderr;
    struct sim_stats st;
    uint64_t wall0 = clock_mono_ns();
    if (sim_run(&o->cfg, o->workload, &o->args, &st, err, sizeof err) != 0) {
        fprintf(stderr, "clockwork-sim: %s\n", err);
        return 1;
    }
    double wall = (double)(clock_mono_ns() - wall0) / 1e9;
    fprintf(stderr, "[sim] wall %.2f s for %.1f simulated s (%.4f s per simulated s), %.0f events/s\n", wall,
            (double)st.sim_ns / 1e9, wall / ((double)st.sim_ns / 1e9 + 1e-9), (double)st.events / (wall + 1e-9));
    return 0;
}

/* --calibrate: fit, print, save. */
static int calibrate(const struct sim_options *o)
{
    char err[1024];
    struct sim_calibration c;
    if (sim_calibrate(o->calibrate_dir, &c, err, sizeof err) != 0) {
        fprintf(stderr, "clockwork-sim: %s\n", err);
        return 1;
    }
    sim_calibration_write(stdout, &c, o->calibrate_dir);
    FILE *f = fopen(o->overheads_out, "w");
    if (!f) {
        fprintf(stderr, "clockwork-sim: cannot write %s: %s\n", o->overheads_out, strerror(errno));
        return 1;
    }
    sim_calibration_write(f, &c, o->calibrate_dir);
    if (fclose(f) != 0) {
        fprintf(stderr, "clockwork-sim: cannot write %s: %s\n", o->overheads_out, strerror(errno));
        return 1;
    }
    fprintf(stderr, "[sim] overheads saved to %s (use: clockwork-sim --overheads %s ...)\n", o->overheads_out,
            o->overheads_out);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sim_options *o = malloc(sizeof *o);
    char err[1024];
    int rc = o ? sim_options_parse(o, argc, argv, err, sizeof err) : SIM_OPTIONS_ERROR;
    if (!o)
        snprintf(err, sizeof err, "out of memory");
    if (rc == SIM_OPTIONS_HELP)
        sim_usage(stdout);
    else if (rc == SIM_OPTIONS_ERROR) {
        fprintf(stderr, "clockwork-sim: %s\n\n", err);
        sim_usage(stderr);
    }
    int status = rc == SIM_OPTIONS_OK          ? run(o)
                 : rc == SIM_OPTIONS_CALIBRATE ? calibrate(o)
                 : rc == SIM_OPTIONS_HELP      ? 0
                                               : 1;
    free(o);
    return status;
}
