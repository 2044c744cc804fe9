/* The command line and life cycle shared by worker programs (worker_dummy, worker): common
 * options (-n -p --host -v -q -h), config loading, run and shutdown. A program adds only its
 * own options and, once the config is known, its backend. */
#ifndef CW_WORKER_MAIN_H
#define CW_WORKER_MAIN_H
#include "common/worker_config.h"
#include "worker/worker.h"
#include <stddef.h>

struct option;

struct worker_program {
    const char *description;             /* one line under "Usage:" */
    const char *device_noun;             /* "GPUs to emulate", "devices" */
    const char *extra_usage;             /* more option lines (each ending in \n), or NULL */
    const struct option *extra_longopts; /* long-only options, {NULL,0,NULL,0}-terminated, or NULL */
    /* An extra option's getopt value and argument: 0, or -1 for a bad value. */
    int (*handle_option)(void *data, int opt, const char *arg);
    /* After the config is loaded: install the device backend into o (required). */
    int (*setup)(void *data, struct worker_options *o, const struct worker_config *cfg, char *err, size_t errlen);
    void (*teardown)(void *data); /* after the worker stopped (also when setup succeeded but create failed) */
    void *data;
};

/* Parses argv, runs the worker until SIGINT/SIGTERM; returns the exit code. */
int worker_program_main(const struct worker_program *p, int argc, char **argv);

#endif
