/* Internal to the workload files (workloads*.c): the table-driven parameter description each
 * workload declares, the three families' registries, and the setup helpers they share. */
#ifndef CW_WORKLOADS_IMPL_H
#define CW_WORKLOADS_IMPL_H
#include "sources.h"
#include "workloads.h"
#include <stddef.h>

#define WL_DEFAULT_MODEL "resnet50_v2"

enum wl_ptype {
    P_UINT,  /* unsigned in [min, max] */
    P_U64,   /* uint64_t >= min */
    P_POS,   /* double > 0 */
    P_BOOL,  /* int, 0 or 1 */
    P_DIST,  /* "poisson" / "fixed-rate" */
    P_OP,    /* "add" / "mul" */
    P_MODEL, /* a model name (no '/') */
};

struct wl_param {
    const char *name;
    enum wl_ptype type;
    unsigned min, max;
    size_t off;      /* offsetof(struct wl_args, field) */
    const char *def; /* default (as text) when the parameter is optional */
};

#define WL_PARAM(name, type, min, max, field, def)                                                                     \
    {                                                                                                                  \
        name, type, min, max, offsetof(struct wl_args, field), def                                                     \
    }
#define WL_PARAMS(table, required) table, sizeof table / sizeof table[0], required
#define WL_NO_PARAMS NULL, 0, 0

extern const struct wl_def wl_basic_defs[];
extern const size_t wl_basic_count;
extern const struct wl_def wl_experiment_defs[];
extern const size_t wl_experiment_count;
extern const struct wl_def wl_azure_defs[];
extern const size_t wl_azure_count;

/* Loads copies of a zoo model through the builder. 0 or -1. */
int wl_load(const struct wl_builder *b, const char *name, unsigned copies, struct wl_loaded *out);
/* One open loop per target in [first, first+n), rate_each r/s; user id and seed are
 * uid_base+i and seed_base+i. Returns the first source index, or -1. */
int wl_open_each(const struct wl_builder *b, unsigned first, unsigned n, enum wl_dist dist, double rate_each,
                 int uid_base, uint64_t seed_base);
/* One closed loop per target; user ids uid_base + i*uid_step. Returns the first source or -1. */
int wl_closed_each(const struct wl_builder *b, unsigned first, unsigned n, unsigned concurrency, int uid_base,
                   int uid_step, double jitter_s);
/* Fails with a message naming what could not be added. Returns -1. */
int wl_add_failed(const char *what);
/* err = "slo-factor must be greater than 1 with \"mul\" ..." when op is mul and factor <= 1. */
int wl_check_mul(enum wl_slo_op op, double factor, const char *name, char *err, size_t errlen);

#endif
