/* The workload's request sources and schedules as a pure state machine over explicit time:
 * open loops, closed loops, trace replays, bursts, slo and rate schedules, ordered in an event
 * heap. No clock and no I/O: its runner (the live engine, or a simulator) says what time it is,
 * and receives the requests to send and the messages to print through wl_emit. */
#ifndef CW_WL_SOURCES_H
#define CW_WL_SOURCES_H
#include "builder.h"
#include <stdint.h>

struct wl_emit {
    /* Send one request of `source` to `target`. Non-zero: it could not be sent (stops all). */
    int (*send)(void *data, unsigned source, unsigned target, int user_id, float slo_factor);
    void (*note)(void *data, const char *msg);    /* e.g. "Updating slo_factor to 2" */
    void (*stop)(void *data, const char *reason); /* a schedule ended the workload */
    void *data;
};

struct wl_sources;

struct wl_sources *wl_sources_new(void);
void wl_sources_free(struct wl_sources *s);

/* Adds n targets (slo_factor 0). Returns the first index, or -1. */
int wl_sources_add_targets(struct wl_sources *s, unsigned n);
unsigned wl_sources_num_targets(const struct wl_sources *s);
float wl_sources_target_slo(const struct wl_sources *s, unsigned target);

/* The builder's source and schedule operations (same contracts as wl_builder_ops). */
int wl_sources_open_loop(struct wl_sources *s, const struct wl_open_spec *o);
int wl_sources_closed_loop(struct wl_sources *s, const struct wl_closed_spec *c);
int wl_sources_trace_replay(struct wl_sources *s, const struct wl_trace_spec *t);
int wl_sources_bursty(struct wl_sources *s, int source, double burst_mean_s, double idle_mean_s, uint64_t seed);
int wl_sources_slo_schedule(struct wl_sources *s, unsigned first, unsigned n, const struct wl_slo_schedule *sch,
                            double period_s, int stop_at_end);
int wl_sources_scale_schedule(struct wl_sources *s, unsigned first, unsigned n, const struct wl_slo_schedule *sch,
                              double period_s, int stop_at_end, const char *label);
int wl_sources_set_slo(struct wl_sources *s, unsigned target, float slo_factor);
unsigned wl_sources_num_sources(const struct wl_sources *s);

/* Starts everything at `now` (closed loops without jitter send at once). Returns 0, or -1 if
 * the workload stopped (a send failed). */
int wl_sources_start(struct wl_sources *s, uint64_t now, const struct wl_emit *e);
/* Time of the next event, UINT64_MAX if none. */
uint64_t wl_sources_next_time(const struct wl_sources *s);
/* Handles every event due at or before now, in time order. 0, or -1 once stopped. */
int wl_sources_advance(struct wl_sources *s, uint64_t now, const struct wl_emit *e);
/* A request of `source` was answered (whatever the result): closed loops send the next. */
int wl_sources_completed(struct wl_sources *s, unsigned source, const struct wl_emit *e);
/* Every source has a request limit and has reached it with nothing outstanding. */
int wl_sources_all_done(const struct wl_sources *s);
/* Makes every later call a no-op (the runner is stopping). */
void wl_sources_stop(struct wl_sources *s);

#endif
