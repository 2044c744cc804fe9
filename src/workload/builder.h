/* The interface through which a workload's setup describes itself: load model copies (which
 * become numbered targets), then add request sources and schedules over those targets. The live
 * client implements it over cw_client + the libuv engine; a simulator can implement it in
 * virtual time, so the same workload code drives both. */
#ifndef CW_WL_BUILDER_H
#define CW_WL_BUILDER_H
#include "zoo.h"
#include "gen.h"
#include <stdint.h>

/* Copies of one model, loaded as the targets [first, first+n). */
struct wl_loaded {
    unsigned first, n;
    uint64_t input_size, output_size;
};

/* Open loop over targets [first, first+n): `rate` r/s in total (times the source's scale,
 * 1 unless a rate adjuster sets it), spread uniformly at random (Poisson) or round-robin. */
struct wl_open_spec {
    int user_id;
    unsigned first, n;
    enum wl_dist dist;
    double rate;
    uint64_t seed;
};

/* Closed loop: `concurrency` requests outstanding, round-robin over its targets; stops after
 * max_requests (0: never). It starts after a uniformly random delay in [0, jitter_s]. */
struct wl_closed_spec {
    int user_id;
    unsigned first, n;
    unsigned concurrency;
    uint64_t max_requests;
    double jitter_s;
    uint64_t seed;
};

/* Trace replay on one target: counts[i] requests per minute during interval i (interval_s
 * long), Poisson arrivals, times `scale`; the counts are copied. start_interval < 0: a random
 * interval and a random phase within it. */
struct wl_trace_spec {
    int user_id;
    unsigned target;
    const uint32_t *counts;
    unsigned n_intervals;
    double scale, interval_s;
    int start_interval;
    uint64_t seed;
};

/* Every add function returns a non-negative index (source or schedule), or -1 on a bad
 * argument or no memory; load returns 0, or -1 after printing why. */
struct wl_builder_ops {
    int (*load)(void *data, const char *model_name, unsigned copies, struct wl_loaded *out);
    uint32_t (*model_id)(void *data, unsigned target); /* the controller's id of a target */
    int (*open_loop)(void *data, const struct wl_open_spec *s);
    int (*closed_loop)(void *data, const struct wl_closed_spec *s);
    int (*trace_replay)(void *data, const struct wl_trace_spec *s);
    /* Alternates a source between bursts and idle periods (exponential, these means). */
    int (*bursty)(void *data, int source, double burst_mean_s, double idle_mean_s, uint64_t seed);
};

struct wl_sources;

/* Schedules and fixed SLOs need nothing from the runner but its request sources, so workloads
 * set them there directly (wl_sources_slo_schedule, wl_sources_scale_schedule, wl_sources_set_slo). */
struct wl_builder {
    const struct wl_builder_ops *ops;
    void *data;
    const struct zoo *zoo;      /* model names available to load */
    struct wl_sources *sources; /* the runner's request sources */
};

#endif
