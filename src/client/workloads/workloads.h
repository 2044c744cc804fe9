/* The client's workloads: name, -h text, parameter parsing (pure, testable) and setup
 * (load the models through the client, add sources to the engine). */
#ifndef CW_WORKLOADS_H
#define CW_WORKLOADS_H
#include "client/client.h"
#include "client/zoo.h"
#include "engine.h"
#include <stdio.h>

struct wl_args {
    char model[256];
    unsigned copies, clients, concurrency;
    uint64_t requests;
    enum wl_dist dist;
    double rate, slo_start, slo_end, slo_factor, period;
    enum wl_slo_op op;
};

struct wl_ctx {
    struct wl_engine *e;
    struct cw_client *c;
    const struct zoo *zoo;
};

struct wl_def {
    const char *name;
    const char *usage; /* this workload's block of the -h text */
    int (*parse)(int argc, char **argv, struct wl_args *a, char *err, size_t errlen);
    int (*setup)(struct wl_ctx *ctx, const struct wl_args *a);
};

const struct wl_def *wl_find(const char *name);
/* The full -h text. */
void wl_print_usage(FILE *f);
/* Parses a workload's own parameters (argv after the workload name). Returns 0, -1 for an
 * unknown workload, -2 for bad parameters (err says why). */
int wl_parse(const char *workload, int argc, char **argv, struct wl_args *a, char *err, size_t errlen);

#endif
