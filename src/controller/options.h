/* Command line of `controller TYPE WORKERS [OPTIONS] [--bind ADDR]`: for INFER5 (and INFER4, INFER6)
 * `generate_inputs max_gpus schedule_ahead default_slo max_exec max_batch`; the test controllers
 * DIRECT and ECHO take none, STRESS its own. With the usage text of the original, and the
 * environment: limits per client and in all (docs/security.md), telemetry rotation. */
#ifndef CW_CONTROLLER_OPTIONS_H
#define CW_CONTROLLER_OPTIONS_H
#include "controller/scheduler.h"
#include "net/auth.h"
#include <stdio.h>

#define CONTROLLER_MAX_WORKERS 256
#define CONTROLLER_REQUEST_COST 512 /* what a queued request holds besides its input (counted) */

struct controller_worker_addr {
    char host[256];
    int port;
};

/* What one client, and all of them together, may hold of the controller; 0 = no limit. */
struct controller_limits {
    unsigned max_clients;      /* CLOCKWORK_MAX_CLIENTS: connections at once (1024) */
    uint64_t frame_timeout_ms; /* CLOCKWORK_CLIENT_FRAME_TIMEOUT_MS: a message begun must arrive within it (10000) */
    uint64_t idle_timeout_ms;  /* CLOCKWORK_CLIENT_IDLE_TIMEOUT_MS: a client with nothing outstanding (0: none) */
    unsigned max_pending;      /* CLOCKWORK_CLIENT_MAX_PENDING: requests outstanding per client before the
                                * controller stops reading it (16384) */
    uint64_t max_unsent;       /* CLOCKWORK_CLIENT_MAX_UNSENT_MB: responses a client has not read (16 MiB) */
    uint64_t max_queued_bytes; /* CLOCKWORK_MAX_QUEUED_MB: requests held in all, CONTROLLER_REQUEST_COST
                                * bytes each plus their inputs (4096 MiB) */
};

/* The HTTP front end (src/controller/http/, docs/http.md): KServe v2 REST and Prometheus
 * metrics, each on its own port (0 disables it). Limits apply to each port. */
struct controller_http_options {
    int port;                 /* --http-port, CLOCKWORK_HTTP_PORT (8000) */
    int metrics_port;         /* --metrics-port, CLOCKWORK_METRICS_PORT (8002) */
    unsigned max_connections; /* CLOCKWORK_HTTP_MAX_CONNECTIONS: at once; more are refused (256) */
    uint64_t max_body;        /* CLOCKWORK_HTTP_MAX_BODY_MB: request body (64 MiB); larger: 413 */
    uint64_t timeout_ms;      /* CLOCKWORK_HTTP_TIMEOUT_MS: a request's header and body must arrive
                               * within it; idle connections close after it (10000) */
};

struct controller_options {
    char type[16];
    unsigned n_workers;
    struct controller_worker_addr workers[CONTROLLER_MAX_WORKERS];
    struct sched_config sched;
    char bind[256];               /* --bind: address for clients (empty: 0.0.0.0) */
    int client_port;              /* 12346 */
    uint64_t startup_quiet_ns;    /* idle time after the last LoadModel before serving */
    uint64_t worker_timeout_ns;   /* a worker silent this long with actions outstanding is lost */
    uint64_t heartbeat_ns;        /* CLOCKWORK_WORKER_HEARTBEAT_MS: GetWorkerState to an idle worker (3000; 0: none) */
    char log_dir[1024];           /* $CLOCKWORK_LOG_DIR or /local */
    uint64_t telemetry_max_bytes; /* CLOCKWORK_TELEMETRY_MAX_MB: rotate a TSV beyond it (0: never) */
    unsigned telemetry_keep;      /* CLOCKWORK_TELEMETRY_KEEP: rotated files kept (.1 .. .N, 10) */
    struct controller_limits limits;
    int has_secret; /* CLOCKWORK_SECRET_FILE was set: clients and workers must prove it */
    struct net_secret secret;
    /* A model the controller loads itself at start-up, as a client's LoadModel would (STRESS) */
    char preload_path[512];
    int preload_copies; /* 0: none */
    struct controller_http_options http;
};

enum { OPTIONS_OK = 0, OPTIONS_HELP = 1, OPTIONS_ERROR = -1 };

/* The defaults, without workers or a type (for tests that build options by hand). */
void controller_options_defaults(struct controller_options *o);
/* Parses argv (--bind ADDR, --http-port N and --metrics-port N anywhere); on error writes a
 * message to err. Reads CLOCKWORK_LOG_DIR and CLOCKWORK_STARTUP_QUIET_MS, CLOCKWORK_WORKER_TIMEOUT_MS,
 * CLOCKWORK_CONTROLLER_PORT, the limits, CLOCKWORK_SECRET_FILE and the CLOCKWORK_HTTP_* /
 * CLOCKWORK_METRICS_PORT variables from the environment (controller_usage lists them; the HTTP ones
 * strictly: a malformed value is an error). */
int controller_options_parse(struct controller_options *o, int argc, char **argv, char *err, size_t errlen);
void controller_usage(FILE *out);
/* Shared with clockwork-sim: 0 if TYPE names a scheduler (INFER5, INFER4, INFER6), else -1 with err
 * (unknown, or a test controller: ECHO, DIRECT and STRESS exercise the live paths only). */
int controller_check_type(const char *type, char *err, size_t errlen);
/* The positional scheduler options (generate_inputs max_gpus schedule_ahead default_slo
 * max_exec max_batch, any prefix of them) over c's current values. 0, or -1 with err. */
int controller_parse_sched_options(struct sched_config *c, int argc, char **argv, char *err, size_t errlen);

#endif
