/* Arrival-time and SLO-schedule generators for the workload engine: a seeded PRNG,
 * Poisson / fixed-rate arrival sequences and stepwise SLO-factor schedules. Pure functions
 * over explicit state (no clock, no I/O), so they are deterministic and unit-testable. */
#ifndef CW_WL_GEN_H
#define CW_WL_GEN_H
#include <stdint.h>

struct wl_rng {
    uint64_t s[4];
};

void wl_rng_seed(struct wl_rng *r, uint64_t seed);
uint64_t wl_rng_next(struct wl_rng *r);
double wl_rng_uniform(struct wl_rng *r);             /* [0, 1) */
uint32_t wl_rng_below(struct wl_rng *r, uint32_t n); /* [0, n), n > 0 */
double wl_rng_exponential(struct wl_rng *r, double mean);

enum wl_dist { WL_DIST_POISSON, WL_DIST_FIXED_RATE };

/* Parses "poisson" / "fixed-rate". Returns 0 or -1. */
int wl_dist_parse(const char *s, enum wl_dist *out);

/* Arrival times in ns on the caller's time base. Times are kept as doubles so that a
 * fixed rate such as 3 r/s never drifts through rounding. */
struct wl_arrivals {
    enum wl_dist dist;
    double mean_gap_ns;
    double next_ns;
    struct wl_rng rng;
};

/* rate_per_s > 0. The first arrival is one gap after start_ns. */
void wl_arrivals_init(struct wl_arrivals *a, enum wl_dist dist, double rate_per_s, uint64_t seed, uint64_t start_ns);
uint64_t wl_arrivals_peek(const struct wl_arrivals *a);
/* Returns the next arrival time and advances past it. */
uint64_t wl_arrivals_pop(struct wl_arrivals *a);
/* Restarts the sequence one gap after t (used when a bursty source turns on). */
void wl_arrivals_restart(struct wl_arrivals *a, uint64_t t_ns);
/* Changes the rate (rate_per_s > 0) for the gaps after the arrival already drawn. */
void wl_arrivals_set_rate(struct wl_arrivals *a, double rate_per_s);

/* Trace replay: per-interval counts given as requests per minute (the Azure trace's unit),
 * replayed as Poisson arrivals at count * scale / 60 requests per second during each interval
 * of interval_ns, whatever its length; the trace wraps around after its last interval. */
struct wl_trace_arrivals {
    const uint32_t *counts; /* borrowed; must outlive the generator */
    unsigned n;
    int any; /* some count is non-zero */
    double scale, interval_ns;
    unsigned interval; /* the interval next_ns falls in */
    double interval_end, next_ns;
    struct wl_rng rng;
};

/* Starts at interval `start` (mod n) at start_ns; with first_len_ns in (0, interval_ns] the first
 * interval is that much shorter (a random phase). scale > 0, interval_ns > 0, n > 0. */
void wl_trace_init(struct wl_trace_arrivals *t, const uint32_t *counts, unsigned n, double scale, double interval_ns,
                   unsigned start, double first_len_ns, uint64_t seed, uint64_t start_ns);
/* Next arrival time, or UINT64_MAX when every count is zero. */
uint64_t wl_trace_peek(const struct wl_trace_arrivals *t);
/* Returns the next arrival time and advances past it. */
uint64_t wl_trace_pop(struct wl_trace_arrivals *t);
/* Changes the scale (> 0) for the gaps after the arrival already drawn. */
void wl_trace_set_scale(struct wl_trace_arrivals *t, double scale);

enum wl_slo_op { WL_SLO_ADD, WL_SLO_MUL, WL_SLO_TOGGLE };

/* Parses "add" / "mul". Returns 0 or -1. */
int wl_slo_op_parse(const char *s, enum wl_slo_op *out);

/* A stepwise schedule: start, then start op factor, ... For TOGGLE, factor is the value
 * alternated with start. With has_end, the schedule is over once the value exceeds end. */
struct wl_slo_schedule {
    enum wl_slo_op op;
    double start, factor, end;
    int has_end;
    double current;
};

void wl_slo_init(struct wl_slo_schedule *s, enum wl_slo_op op, double start, double factor, double end, int has_end);
/* Advances one step. Returns 1 if the new value is past the end (schedule over), else 0. */
int wl_slo_step(struct wl_slo_schedule *s);

#endif
