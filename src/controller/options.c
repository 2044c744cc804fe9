#include "options.h"
#include "common/clock.h"
#include "common/parse.h"
#include "net/conn.h"
#include "workload/zoo.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void controller_usage(FILE *out)
{
    fputs("USAGE:\n"
          "  controller [TYPE] [WORKERS] [OPTIONS]\n"
          "DESCRIPTION\n"
          "  Run the controller of the given TYPE. Connects to the specified workers. All\n"
          "  subsequent options are controller-specific and passed to that controller.\n"
          "TYPE\n"
          "  DIRECT    Used for testing.  Forwards each inference request straight to a GPU as an Infer of its\n"
          "            own (GPUs round robin; LoadWeights first where the model is absent, evicting the least\n"
          "            recently used idle model when pages run out): the worker path without the scheduler.\n"
          "            No options.\n"
          "  ECHO      Used for testing.  Answers every inference request at once from the controller; after\n"
          "            start-up the workers get no actions: the client <-> controller path alone.  No options.\n"
          "  STRESS    Used for testing.  Serves no clients: loads copies of a model on every worker and keeps\n"
          "            every GPU loading, evicting and inferring; prints per-GPU throughput.  Options:\n"
          "       model              (string, default resnet50_v2)  A model zoo name ($CLOCKWORK_MODEL_DIR) or a\n"
          "                          model path prefix (DIR/NAME/model).\n"
          "       copies             (int, default 2000)  Copies of it loaded on every worker.\n"
          "       max_models_on_gpu  (int, default 200)  Copies resident per GPU (fewer if its pages cannot hold\n"
          "                          them).\n"
          "       max_outstanding    (int, default 2)  LoadWeights, and Infer actions, in flight per GPU.\n"
          "       stress_infer       (bool, default true)  Send Infer actions.\n"
          "       stress_loadweights (bool, default true)  Keep loading and evicting weights.\n"
          "  INFER5    The Clockwork Scheduler.  You should usually be using this.  Options:\n"
          "       generate_inputs    (bool, default false)  Should inputs and outputs be generated if not present.  "
          "Set to true to test network capacity\n"
          "       max_gpus           (int, default 100)  Set to a lower number to limit the number of GPUs.\n"
          "       schedule_ahead     (int, default 10000000)  How far ahead, in nanoseconds, should the scheduler "
          "schedule.\n"
          "       default_slo        (int, default 100000000)  The default SLO to use if client's don't specify "
          "slo_factor.  Default 100ms\n"
          "       max_exec        (int, default 25000000)  Don't use batch sizes >1, whose exec time exceeds this "
          "number.  Default 25ms\n"
          "       max_batch        (int, default 16)  Don't use batch sizes that exceed this number.  Default 16.\n"
          "  INFER4    Older name of INFER5, accepted for compatibility.\n"
          "  INFER6    INFER5's successor for tight SLOs and overload (docs/schedulers.md): places each GPU's\n"
          "            next batch just before the GPU frees up, drops requests the moment they can no longer\n"
          "            make their deadline, and under contention runs the batch that serves the most requests\n"
          "            per unit of GPU time.  Same options as INFER5:\n"
          "       generate_inputs    as INFER5\n"
          "       max_gpus           as INFER5\n"
          "       schedule_ahead     upper bound on how early an infer is decided (INFER6 decides one measured\n"
          "                          dispatch lag before the GPU frees up) and the load planning horizon, as INFER5\n"
          "       default_slo        as INFER5\n"
          "       max_exec           as INFER5\n"
          "       max_batch          as INFER5\n"
          "WORKERS\n"
          "  Comma-separated list of worker host:port pairs.  e.g.:\n"
          "    volta03:12345,volta04:12345,volta05:12345\n"
          "OPTIONS\n"
          "  -h,  --help\n"
          "        Print this message\n"
          "  --bind ADDR\n"
          "        Listen for clients on ADDR only (default 0.0.0.0: every interface)\n"
          "  --http-port N\n"
          "        KServe v2 REST API (health, metadata, inference, model repository) on port N\n"
          "        (default 8000, $CLOCKWORK_HTTP_PORT; 0: off).  See docs/http.md\n"
          "  --metrics-port N\n"
          "        Prometheus metrics (GET /metrics) on port N (default 8002, $CLOCKWORK_METRICS_PORT; 0: off)\n"
          "All other options are passed to the specific scheduler on init\n"
          "ENVIRONMENT\n"
          "  CLOCKWORK_LOG_DIR           where telemetry TSVs are written (default /local; must exist)\n"
          "  CLOCKWORK_TELEMETRY_MAX_MB  rotate a TSV to .1, .2, ... when it grows beyond this (default: never)\n"
          "  CLOCKWORK_TELEMETRY_KEEP    rotated TSVs kept per log (default 10)\n"
          "  CLOCKWORK_STARTUP_QUIET_MS  idle time after the last LoadModel request before the scheduler\n"
          "                              starts (default 1000)\n"
          "  CLOCKWORK_CONTROLLER_PORT   port for client connections (default 12346)\n"
          "  CLOCKWORK_WORKER_TIMEOUT_MS a worker that sends nothing for this long while it has actions\n"
          "                              outstanding is declared lost (default 5000)\n"
          "  CLOCKWORK_WORKER_HEARTBEAT_MS  GetWorkerState to a worker sent nothing for this long, so that\n"
          "                              it knows its controller is alive (default 3000; 0: none)\n"
          "  CLOCKWORK_SECRET_FILE       a shared secret clients and workers must prove (default none;\n"
          "                              docs/security.md)\n"
          "  CLOCKWORK_MAX_CLIENTS       client connections at once (default 1024)\n"
          "  CLOCKWORK_CLIENT_FRAME_TIMEOUT_MS  a message begun must arrive within this (default 10000)\n"
          "  CLOCKWORK_CLIENT_IDLE_TIMEOUT_MS   close a client idle this long with nothing outstanding\n"
          "                              (default 0: never)\n"
          "  CLOCKWORK_CLIENT_MAX_PENDING  requests outstanding per client before it is not read until half\n"
          "                              are answered (default 16384)\n"
          "  CLOCKWORK_CLIENT_MAX_UNSENT_MB  responses a client has not read: it is not read above half of\n"
          "                              this and disconnected above it (default 16)\n"
          "  CLOCKWORK_MAX_QUEUED_MB     requests held in all (inputs + 512 bytes each); beyond it new\n"
          "                              requests are answered with an error (default 4096)\n"
          "  CLOCKWORK_HTTP_MAX_CONNECTIONS  HTTP connections at once, per port (default 256)\n"
          "  CLOCKWORK_HTTP_MAX_BODY_MB  largest HTTP request body (default 64)\n"
          "  CLOCKWORK_HTTP_TIMEOUT_MS   an HTTP request's header and body must arrive within this; idle\n"
          "                              HTTP connections are closed after it (default 10000)\n",
          out);
}

static int parse_workers(struct controller_options *o, const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o->n_workers == CONTROLLER_MAX_WORKERS) {
            snprintf(err, errlen, "too many workers (max %d)", CONTROLLER_MAX_WORKERS);
            rc = -1;
            break;
        }
        struct controller_worker_addr *w = &o->workers[o->n_workers];
        if (net_parse_address(tok, w->host, sizeof w->host, &w->port, 12345) != 0) {
            snprintf(err, errlen, "invalid worker address '%s' (expected host:port)", tok);
            rc = -1;
            break;
        }
        o->n_workers++;
    }
    free(copy);
    if (rc == 0 && o->n_workers == 0) {
        snprintf(err, errlen, "no workers given");
        rc = -1;
    }
    return rc;
}

int controller_check_type(const char *type, char *err, size_t errlen)
{
    enum sched_type t;
    if (sched_type_parse(type, &t) != 0)
        snprintf(err, errlen, "unknown controller type '%s' (use INFER5 or INFER6)", type);
    else if (!sched_type_is_scheduler(t))
        snprintf(err, errlen,
                 "%s is a test controller of the live controller, with nothing to simulate (use INFER5 or "
                 "INFER6)",
                 type);
    else
        return 0;
    return -1;
}

/* STRESS model copies max_models_on_gpu max_outstanding stress_infer stress_loadweights */
static int parse_stress_options(struct controller_options *o, int argc, char **argv, char *err, size_t errlen)
{
    static const char *names[] = {"model",           "copies",       "max_models_on_gpu",
                                  "max_outstanding", "stress_infer", "stress_loadweights"};
    const char *model = argc > 0 ? argv[0] : "resnet50_v2";
    if (argc > 6) {
        snprintf(err, errlen, "too many options for STRESS (%d given, at most 6)", argc);
        return -1;
    }
    int n = strchr(model, '/')
                ? snprintf(o->preload_path, sizeof o->preload_path, "%s", model)
                : snprintf(o->preload_path, sizeof o->preload_path, "%s/%s/model", zoo_default_dir(), model);
    if (!*model || n >= (int)sizeof o->preload_path) {
        snprintf(err, errlen, "invalid value '%s' for model", model);
        return -1;
    }
    o->preload_copies = 2000;
    struct sched_stress_config *c = &o->sched.stress;
    for (int i = 1; i < argc; i++) {
        uint64_t v = 0;
        int yes = 0;
        int ok = i >= 4 ? parse_bool(argv[i], &yes) : parse_u64(argv[i], &v);
        if (ok != 0 || (i < 4 && (v == 0 || v > 1000000))) {
            snprintf(err, errlen, "invalid value '%s' for %s", argv[i], names[i]);
            return -1;
        }
        switch (i) {
        case 1: o->preload_copies = (int)v; break;
        case 2: c->max_models_on_gpu = (unsigned)v; break;
        case 3: c->max_outstanding = (unsigned)v; break;
        case 4: c->no_infer = !yes; break;
        default: c->no_load = !yes; break;
        }
    }
    return 0;
}

/* The options after WORKERS, as the TYPE takes them. */
static int parse_type_options(struct controller_options *o, int argc, char **argv, char *err, size_t errlen)
{
    switch (o->sched.type) {
    case SCHED_TYPE_STRESS: return parse_stress_options(o, argc, argv, err, errlen);
    case SCHED_TYPE_ECHO:
    case SCHED_TYPE_DIRECT:
        if (argc == 0)
            return 0;
        snprintf(err, errlen, "%s takes no options ('%s' given)", o->type, argv[0]);
        return -1;
    default: return controller_parse_sched_options(&o->sched, argc, argv, err, errlen);
    }
}

int controller_parse_sched_options(struct sched_config *c, int argc, char **argv, char *err, size_t errlen)
{
    static const char *names[] = {"generate_inputs", "max_gpus", "schedule_ahead",
                                  "default_slo",     "max_exec", "max_batch"};
    if (argc > 6) {
        snprintf(err, errlen, "too many options (%d given, at most 6)", argc);
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        uint64_t v = 0;
        int ok = i == 0 ? parse_bool(argv[i], &c->generate_inputs) : parse_u64(argv[i], &v);
        if (ok != 0 || (i == 1 && v == 0) || (i == 5 && (v == 0 || v > 1024))) {
            snprintf(err, errlen, "invalid value '%s' for %s", argv[i], names[i]);
            return -1;
        }
        switch (i) {
        case 1: c->max_gpus = (unsigned)v; break;
        case 2: c->schedule_ahead = v; break;
        case 3: c->default_slo = v; break;
        case 4: c->max_exec = v; break;
        case 5: c->max_batch = (unsigned)v; break;
        default: break;
        }
    }
    return 0;
}

/* A whole number from the environment in [min, max] (unset: *out unchanged). 0, or -1 with err. */
static int env_number(const char *name, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    uint64_t n;
    if (!v || !*v)
        return 0;
    if (parse_u64(v, &n) != 0 || n < min || n > max) {
        snprintf(err, errlen, "%s=%s: expected a whole number from %llu to %llu", name, v, (unsigned long long)min,
                 (unsigned long long)max);
        return -1;
    }
    *out = n;
    return 0;
}

/* Megabytes (MiB, fractions allowed) from the environment, as bytes. 0, or -1 with err. */
static int env_mib(const char *name, uint64_t *bytes, char *err, size_t errlen)
{
    const char *v = getenv(name);
    double mb;
    if (!v || !*v)
        return 0;
    if (parse_nonneg_double(v, &mb) != 0 || mb > 1e9) {
        snprintf(err, errlen, "%s=%s: expected a size in MB", name, v);
        return -1;
    }
    *bytes = (uint64_t)(mb * 1024 * 1024);
    return 0;
}

static int read_limits(struct controller_limits *l, char *err, size_t errlen)
{
    uint64_t clients = l->max_clients, pending = l->max_pending;
    int rc = env_number("CLOCKWORK_MAX_CLIENTS", 1, 1000000, &clients, err, errlen);
    if (rc == 0)
        rc = env_number("CLOCKWORK_CLIENT_FRAME_TIMEOUT_MS", 0, 86400000, &l->frame_timeout_ms, err, errlen);
    if (rc == 0)
        rc = env_number("CLOCKWORK_CLIENT_IDLE_TIMEOUT_MS", 0, 86400000, &l->idle_timeout_ms, err, errlen);
    if (rc == 0)
        rc = env_number("CLOCKWORK_CLIENT_MAX_PENDING", 1, 100000000, &pending, err, errlen);
    if (rc == 0)
        rc = env_mib("CLOCKWORK_CLIENT_MAX_UNSENT_MB", &l->max_unsent, err, errlen);
    if (rc == 0)
        rc = env_mib("CLOCKWORK_MAX_QUEUED_MB", &l->max_queued_bytes, err, errlen);
    l->max_clients = (unsigned)clients;
    l->max_pending = (unsigned)pending;
    return rc;
}

/* The new variables are strict: a typo is an error, not a silent default. */
static int read_strict_environment(struct controller_options *o, char *err, size_t errlen)
{
    uint64_t heartbeat_ms = o->heartbeat_ns / NS_PER_MS, keep = o->telemetry_keep;
    if (read_limits(&o->limits, err, errlen) != 0 ||
        env_number("CLOCKWORK_WORKER_HEARTBEAT_MS", 0, 3600000, &heartbeat_ms, err, errlen) != 0 ||
        env_mib("CLOCKWORK_TELEMETRY_MAX_MB", &o->telemetry_max_bytes, err, errlen) != 0 ||
        env_number("CLOCKWORK_TELEMETRY_KEEP", 1, 1000, &keep, err, errlen) != 0)
        return -1;
    o->heartbeat_ns = heartbeat_ms * NS_PER_MS;
    o->telemetry_keep = (unsigned)keep;
    const char *secret = getenv("CLOCKWORK_SECRET_FILE");
    if (!secret || !*secret)
        return 0;
    o->has_secret = 1;
    return net_secret_load(&o->secret, secret, err, errlen);
}

static void read_environment(struct controller_options *o)
{
    const char *dir = getenv("CLOCKWORK_LOG_DIR");
    snprintf(o->log_dir, sizeof o->log_dir, "%s", dir && *dir ? dir : "/local");
    uint64_t v;
    const char *quiet = getenv("CLOCKWORK_STARTUP_QUIET_MS");
    if (quiet && parse_u64(quiet, &v) == 0)
        o->startup_quiet_ns = v * NS_PER_MS;
    const char *wt = getenv("CLOCKWORK_WORKER_TIMEOUT_MS");
    if (wt && parse_u64(wt, &v) == 0 && v > 0)
        o->worker_timeout_ns = v * NS_PER_MS;
    const char *port = getenv("CLOCKWORK_CONTROLLER_PORT");
    if (port && parse_u64(port, &v) == 0 && v > 0 && v < 65536)
        o->client_port = (int)v;
}

static int read_http_environment(struct controller_http_options *h, char *err, size_t errlen)
{
    uint64_t port = (uint64_t)h->port, metrics = (uint64_t)h->metrics_port, conns = h->max_connections;
    uint64_t body_mb = h->max_body >> 20;
    if (env_number("CLOCKWORK_HTTP_PORT", 0, 65535, &port, err, errlen) != 0 ||
        env_number("CLOCKWORK_METRICS_PORT", 0, 65535, &metrics, err, errlen) != 0 ||
        env_number("CLOCKWORK_HTTP_MAX_CONNECTIONS", 1, 1000000, &conns, err, errlen) != 0 ||
        env_number("CLOCKWORK_HTTP_MAX_BODY_MB", 1, 1 << 20, &body_mb, err, errlen) != 0 ||
        env_number("CLOCKWORK_HTTP_TIMEOUT_MS", 1, 86400000, &h->timeout_ms, err, errlen) != 0)
        return -1;
    h->port = (int)port;
    h->metrics_port = (int)metrics;
    h->max_connections = (unsigned)conns;
    h->max_body = body_mb << 20;
    return 0;
}

/* Takes `--NAME N` / `--NAME=N` (a port) out of argv[1..], wherever it is. 0, or -1 with err. */
static int take_port_flag(const char *name, int *port, int *argc, char **argv, char *err, size_t errlen)
{
    size_t len = strlen(name);
    int n = 1;
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], name))
            v = i + 1 < *argc ? argv[++i] : "";
        else if (!strncmp(argv[i], name, len) && argv[i][len] == '=')
            v = argv[i] + len + 1;
        if (!v) {
            argv[n++] = argv[i];
            continue;
        }
        uint64_t p;
        if (parse_u64(v, &p) != 0 || p > 65535) {
            snprintf(err, errlen, "%s needs a port from 0 to 65535 (0: off), not '%s'", name, v);
            return -1;
        }
        *port = (int)p;
    }
    *argc = n;
    return 0;
}

static int parse_http(struct controller_options *o, int *argc, char **argv, char *err, size_t errlen)
{
    struct controller_http_options *h = &o->http;
    if (read_http_environment(h, err, errlen) != 0 ||
        take_port_flag("--http-port", &h->port, argc, argv, err, errlen) != 0 ||
        take_port_flag("--metrics-port", &h->metrics_port, argc, argv, err, errlen) != 0)
        return -1;
    if (h->port && h->port == h->metrics_port) {
        snprintf(err, errlen, "--http-port and --metrics-port are both %d", h->port);
        return -1;
    }
    return 0;
}

void controller_options_defaults(struct controller_options *o)
{
    memset(o, 0, sizeof *o);
    sched_config_defaults(&o->sched);
    o->client_port = 12346;
    o->startup_quiet_ns = 1000 * NS_PER_MS;
    o->worker_timeout_ns = 5000 * NS_PER_MS;
    o->heartbeat_ns = 3000 * NS_PER_MS;
    o->telemetry_keep = 10;
    o->limits = (struct controller_limits){
        .max_clients = 1024,
        .frame_timeout_ms = 10000,
        .max_pending = 16384,
        .max_unsent = 16ull << 20,
        .max_queued_bytes = 4096ull << 20,
    };
    o->http = (struct controller_http_options){8000, 8002, 256, 64ull << 20, 10000};
}

/* Takes `--bind ADDR` (or --bind=ADDR) out of argv, wherever it is. 0, or -1 with err. */
static int take_bind(struct controller_options *o, int *argc, char **argv, char *err, size_t errlen)
{
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        const char *addr = NULL;
        if (!strcmp(argv[i], "--bind") && i + 1 < *argc)
            addr = argv[++i];
        else if (!strncmp(argv[i], "--bind=", 7))
            addr = argv[i] + 7;
        else if (!strcmp(argv[i], "--bind")) {
            snprintf(err, errlen, "--bind needs an address");
            return -1;
        }
        if (!addr) {
            argv[n++] = argv[i];
            continue;
        }
        if (!*addr || strlen(addr) >= sizeof o->bind) {
            snprintf(err, errlen, "invalid --bind address '%s'", addr);
            return -1;
        }
        snprintf(o->bind, sizeof o->bind, "%s", addr);
    }
    *argc = n;
    return 0;
}

int controller_options_parse(struct controller_options *o, int argc, char **argv, char *err, size_t errlen)
{
    controller_options_defaults(o);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return OPTIONS_HELP;
    char *args[64];
    if (argc > 64) {
        snprintf(err, errlen, "too many arguments");
        return OPTIONS_ERROR;
    }
    memcpy(args, argv, (size_t)argc * sizeof *args);
    argv = args;
    if (take_bind(o, &argc, argv, err, errlen) != 0 || parse_http(o, &argc, argv, err, errlen) != 0)
        return OPTIONS_ERROR;
    if (argc < 3) {
        snprintf(err, errlen, "expected a controller TYPE and a list of WORKERS");
        return OPTIONS_ERROR;
    }
    if (sched_type_parse(argv[1], &o->sched.type) != 0) {
        snprintf(err, errlen, "unknown controller type '%s' (use INFER5 or INFER6; for testing DIRECT, ECHO or STRESS)",
                 argv[1]);
        return OPTIONS_ERROR;
    }
    snprintf(o->type, sizeof o->type, "%s", argv[1]);
    if (parse_workers(o, argv[2], err, errlen) != 0)
        return OPTIONS_ERROR;
    if (parse_type_options(o, argc - 3, argv + 3, err, errlen) != 0)
        return OPTIONS_ERROR;
    read_environment(o);
    if (read_strict_environment(o, err, errlen) != 0)
        return OPTIONS_ERROR;
    return OPTIONS_OK;
}
