/* Workload engine: drives inference requests through a cw_client on one libuv loop.
 * Open-loop sources (Poisson or fixed rate, optionally bursty on/off) send, on each timer
 * tick, every request whose intended arrival time has passed, so arrival times never drift;
 * closed-loop sources keep N requests outstanding; SLO adjusters step the slo_factor of their
 * models every period. The engine stops on a duration, SIGINT/SIGTERM, or a schedule's end. */
#ifndef CW_WL_ENGINE_H
#define CW_WL_ENGINE_H
#include "client/client.h"
#include "gen.h"
#include <stdint.h>
#include <uv.h>

struct wl_engine;

/* duration_s <= 0: no limit. Installs the signal handlers and the duration timer at once,
 * so they also bound connecting and loading. */
struct wl_engine *wl_engine_new(uv_loop_t *loop, struct cw_client *c, double duration_s);
/* Call after cw_client_free (which may still report unanswered requests to the engine). */
void wl_engine_free(struct wl_engine *e);
/* The engine may be created before its client (signals and the duration must bound the
 * connect); give the client cw_client_opts.on_disconnect = wl_engine_on_disconnect. */
void wl_engine_set_client(struct wl_engine *e, struct cw_client *c);
void wl_engine_on_disconnect(void *engine, const char *reason);

/* Adds model copies as targets. Returns the index of the first, or -1. */
int wl_engine_add_models(struct wl_engine *e, const struct cw_model *m, unsigned n);
unsigned wl_engine_num_models(const struct wl_engine *e);
uint32_t wl_engine_model_id(const struct wl_engine *e, unsigned model);
float wl_engine_model_slo(const struct wl_engine *e, unsigned model);

/* Sources over the targets [first, first+n). Return the source index, or -1.
 * Open loop: rate (r/s) in total over its targets, chosen uniformly at random (Poisson) or
 * round-robin (fixed rate). Closed loop: max_requests 0 means unlimited. */
int wl_engine_add_open_loop(struct wl_engine *e, int user_id, unsigned first, unsigned n, enum wl_dist dist,
                            double rate, uint64_t seed);
int wl_engine_add_closed_loop(struct wl_engine *e, int user_id, unsigned first, unsigned n, unsigned concurrency,
                              uint64_t max_requests);
/* Makes a source alternate between bursts and idle periods (exponential, given means). */
int wl_engine_set_bursty(struct wl_engine *e, int source, double burst_mean_s, double idle_mean_s, uint64_t seed);
/* Sets the targets' slo_factor to the schedule's start, then steps it every period_s. With
 * stop_at_end the engine terminates once the schedule passes its end. */
int wl_engine_add_slo_adjuster(struct wl_engine *e, unsigned first, unsigned n, const struct wl_slo_schedule *s,
                               double period_s, int stop_at_end);

/* Runs until stopped. Returns 0, or 1 if the connection to the controller was lost. */
int wl_engine_run(struct wl_engine *e);
void wl_engine_stop(struct wl_engine *e, const char *reason);
int wl_engine_stopping(const struct wl_engine *e);

#endif
