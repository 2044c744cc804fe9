/* A Clockwork worker process core: listens for a controller, decodes its actions, runs them
 * on N devices (backend chosen by the caller) and sends results back. One controller drives
 * it at a time (driver.h); models are read only from its model directory. Owns its own
 * libuv loop; worker_run blocks on it until worker_stop (any thread) or SIGINT/SIGTERM. */
#ifndef CW_WORKER_H
#define CW_WORKER_H
#include "backend/backend.h"
#include "common/worker_config.h"
#include "thread_policy.h"
#include "net/auth.h"
#include <stddef.h>
#include <stdint.h>

#define WORKER_MAX_CONNECTIONS 64      /* a worker needs one or two */
#define WORKER_IDLE_TIMEOUT_MS 60000   /* a connection that does not drive the worker and sends nothing */
#define WORKER_MAX_UNSENT (256u << 20) /* results not yet read by the controller */

/* Makes the backend for device `gpu_id`; returns 0 or -1. */
typedef int (*backend_factory_fn)(unsigned gpu_id, struct backend *out, void *ctx);
/* A real backend's part of LoadModelFromDisk, after PREFIX.info/.measurements are read: loads
 * what it executes into m->backend_data and may update m (pages, measured timings).
 * Returns 0, or -1 with a message (the action then fails with status 41). */
typedef int (*backend_load_model_fn)(void *ctx, struct model_info *m, char *err, size_t errlen);
typedef void (*backend_free_model_fn)(void *ctx, struct model_info *m);

struct worker_options {
    unsigned num_devices;             /* default 1 */
    const char *host;                 /* default "0.0.0.0" */
    int port;                         /* default 12345 */
    int verbose;                      /* print every action and result */
    int print_status;                 /* once-per-second status line (default on) */
    int handle_signals;               /* SIGINT/SIGTERM stop the worker (default on) */
    int allow_zero_size_inputs;       /* accept Infer with no input bytes (default on) */
    struct thread_policy policy;      /* executor and IO threads (default: thread_policy_defaults) */
    const char *model_dir;            /* models are read only from here; NULL: model_path_default_dir() */
    uint64_t frame_timeout_ms;        /* a frame begun must be complete within this (default 10000) */
    uint64_t driver_timeout_ms;       /* silence after which another controller may take over (default 10000) */
    const struct net_secret *secret;  /* controllers must prove they hold it; NULL: no authentication */
    backend_factory_fn make_backend;  /* required: the caller chooses the device backend */
    backend_load_model_fn load_model; /* NULL: model.info + model.measurements only */
    backend_free_model_fn free_model;
    void *backend_ctx;
};

struct worker;

void worker_options_defaults(struct worker_options *o);
/* Creates devices and starts listening. NULL with a message in err on failure. */
struct worker *worker_create(const struct worker_options *o, const struct worker_config *cfg, char *err, size_t errlen);
/* Serves until stopped, on the calling thread, which takes the IO thread's policy. Returns 0. */
int worker_run(struct worker *w);
/* Asks a running worker to shut down; safe from any thread. */
void worker_stop(struct worker *w);
/* Frees everything (stopping first if needed). Not while worker_run is executing. */
void worker_destroy(struct worker *w);

#endif
