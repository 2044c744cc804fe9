/* Live workload engine: runs the workload's sources (sources.h) in real time on one libuv loop
 * and sends their requests through a cw_client. Open-loop and trace arrivals that are due are
 * sent on each timer tick, so arrival times never drift; closed loops send on each answer.
 * It stops on a duration, SIGINT/SIGTERM, a schedule's end, or when every request is done.
 * wl_engine_builder gives the workloads their wl_builder over this engine and the client. */
#ifndef CW_WL_ENGINE_H
#define CW_WL_ENGINE_H
#include "workload/builder.h"
#include "client/client.h"
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

/* A builder whose load() loads copies of zoo models through the engine's client. */
void wl_engine_builder(struct wl_engine *e, const struct zoo *zoo, struct wl_builder *out);
unsigned wl_engine_num_models(const struct wl_engine *e);

/* Runs until stopped. Returns 0, or 1 if the connection to the controller was lost. */
int wl_engine_run(struct wl_engine *e);
void wl_engine_stop(struct wl_engine *e, const char *reason);
int wl_engine_stopping(const struct wl_engine *e);

#endif
