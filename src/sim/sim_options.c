#include "sim_options.h"
#include "common/parse.h"
#include "common/clock.h"
#include "common/worker_config.h"
#include "controller/options.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sim_usage(FILE *out)
{
    fputs("USAGE:\n"
          "  clockwork-sim [OPTIONS] TYPE [generate_inputs max_gpus schedule_ahead default_slo max_exec max_batch]\n"
          "                -- WORKLOAD [workload parameters]\n"
          "DESCRIPTION\n"
          "  Discrete-event simulation of a whole Clockwork cluster in virtual time: the controller's\n"
          "  scheduler, emulated workers (worker_dummy's devices) and a client workload, with modelled\n"
          "  network and processing overheads. Writes clockwork_request_log.tsv and\n"
          "  clockwork_action_log.tsv like the controller; same arguments and seed give identical files.\n"
          "  TYPE and its options are the controller's (see `controller -h`), e.g. INFER5 0 6 5000000;\n"
          "  TYPE is a scheduler: INFER5 (INFER4), or INFER6 (the test controllers ECHO, DIRECT and\n"
          "  STRESS exercise the live paths only and are refused).\n"
          "  WORKLOAD and its parameters are the client's (see `client -h`), e.g.\n"
          "  slo-exp-1 resnet50_v2 12 poisson 600 1 100 1.5 mul 30.\n"
          "CLUSTER\n"
          "  -w, --workers N           workers (default 1)\n"
          "  -g, --gpus-per-worker N   devices per worker (default 1)\n"
          "      --gpus N              N workers with one device each (the Figure 7 shape)\n"
          "      --cache-size BYTES    weights_cache_size per device (default: the worker config file)\n"
          "      --page-size BYTES     weights_cache_page_size (default: the worker config file)\n"
          "RUN\n"
          "  -d, --duration SECONDS    simulated seconds (default: until the workload ends by itself;\n"
          "                            needed for workloads that never end, e.g. closed loops)\n"
          "      --seed N              0: the workload's own seeds, as the live client; else mixed into\n"
          "                            them and into the overhead model (default 0)\n"
          "      --log-dir DIR         telemetry directory (default $CLOCKWORK_LOG_DIR, else /local)\n"
          "      --progress SECONDS    a progress line on stderr per SECONDS simulated (default 10)\n"
          "  -q, --quiet               no progress lines\n"
          "OVERHEADS (microseconds, BASE or BASE+JITTER: a fixed part plus an exponential of mean JITTER,\n"
          "           or BASE+JITTER+TAIL@P: plus, with probability P, an exponential of mean TAIL (a stall);\n"
          "           defaults measured on loopback, see docs/simulator.md)\n"
          "      --client-ctl D        client -> controller (default 30+80)\n"
          "      --ctl-client D        controller -> client (default 30+80)\n"
          "      --ctl-worker D        controller -> worker (default 55+100)\n"
          "      --worker-result D     worker: action end -> result sent (default 105+120)\n"
          "      --worker-ctl D        worker -> controller (default 30+80)\n"
          "      --exec-turnaround D   executor: one action's end -> next start (default 55+110)\n"
          "      --ctl-event D         controller processing per event (default 5)\n"
          "      --send D              one action send holds one of the 2 send slots (default 5)\n"
          "      --exec-wakeup D       an idle executor starts an arriving action after this (default 0)\n"
          "      --exec-noise F        relative std deviation of inference times (default 0)\n"
          "      --client-tick-us US   the client's timer granularity: requests due between two of its\n"
          "                            wake-ups leave together (live: 1000, libuv; default 0: exact)\n"
          "      --tick-us US          the controller's scheduler tick (default: the TYPE's, as live: INFER5\n"
          "                            1000, INFER6 0 = exactly at its wake-ups)\n"
          "      --ideal               every overhead 0 (an optimistic bound)\n"
          "      --overheads FILE      overheads from FILE (as --calibrate writes it: one `option value`\n"
          "                            line each, e.g. `ctl-worker 20+15`); later options override it\n"
          "CALIBRATION\n"
          "      --calibrate DIR       fit the overheads to a live run's logs in DIR (clockwork_action_log.tsv,\n"
          "                            clockwork_request_log.tsv), print them and save them for --overheads\n"
          "                            (no TYPE or workload needed)\n"
          "      --overheads-out FILE  where --calibrate saves them (default DIR/sim_overheads.txt)\n"
          "  -h, --help                print this message\n"
          "ENVIRONMENT\n"
          "  CLOCKWORK_LOG_DIR, CLOCKWORK_MODEL_DIR (model zoo), CLOCKWORK_CONFIG_FILE (cache sizes)\n"
          "EXAMPLE\n"
          "  clockwork-sim --gpus 6 --seed 1 --log-dir /tmp/sim INFER5 0 6 5000000 -- \\\n"
          "      slo-exp-1 resnet50_v2 12 poisson 600 1 100 1.5 mul 30\n",
          out);
}

/* "BASE", "BASE+JITTER" or "BASE+JITTER+TAIL@PROB" in microseconds (fractions allowed). */
static int parse_delay(const char *s, struct sim_delay *d)
{
    char buf[96], *part[3] = {buf, NULL, NULL};
    snprintf(buf, sizeof buf, "%s", s);
    for (int i = 1; i < 3 && part[i - 1]; i++)
        if ((part[i] = strchr(part[i - 1], '+')))
            *part[i]++ = '\0';
    double base, jitter = 0, tail = 0, prob = 0;
    char *at = part[2] ? strchr(part[2], '@') : NULL;
    if (part[2] && !at)
        return -1;
    if (at)
        *at++ = '\0';
    if (parse_nonneg_double(part[0], &base) != 0 || (part[1] && parse_nonneg_double(part[1], &jitter) != 0) ||
        (at && (parse_nonneg_double(part[2], &tail) != 0 || parse_nonneg_double(at, &prob) != 0 || prob > 1)))
        return -1;
    *d = (struct sim_delay){(uint64_t)llround(base * 1e3), (uint64_t)llround(jitter * 1e3),
                            (uint64_t)llround(tail * 1e3), prob};
    return 0;
}

static const struct {
    const char *name;
    enum sim_hop hop;
} HOP_OPTIONS[] = {
    {"--client-ctl", HOP_CLIENT_TO_CTL}, {"--ctl-client", HOP_CTL_TO_CLIENT},
    {"--ctl-worker", HOP_CTL_TO_WORKER}, {"--worker-result", HOP_WORKER_RESULT},
    {"--worker-ctl", HOP_WORKER_TO_CTL}, {"--exec-turnaround", HOP_EXEC_TURNAROUND},
    {"--ctl-event", HOP_CTL_EVENT},      {"--send", HOP_SEND},
    {"--exec-wakeup", HOP_EXEC_WAKEUP},
};

static int hop_option(struct sim_options *o, const char *name, const char *val)
{
    for (size_t i = 0; i < sizeof HOP_OPTIONS / sizeof HOP_OPTIONS[0]; i++)
        if (!strcmp(name, HOP_OPTIONS[i].name))
            return parse_delay(val, &o->cfg.lat.hop[HOP_OPTIONS[i].hop]) == 0 ? 1 : -1;
    return 0;
}

/* The options an overheads file may set: the hops, exec noise and the client's tick. */
static int overhead_option(struct sim_options *o, const char *name, const char *val)
{
    struct sim_config *c = &o->cfg;
    double d = 0;
    if (!strcmp(name, "--client-tick-us")) {
        if (parse_nonneg_double(val, &d) != 0)
            return -1;
        c->client_tick_ns = (uint64_t)llround(d * 1e3);
        return 1;
    }
    return hop_option(o, name, val);
}

/* An overheads file: `option value` per line (option without its leading --), # comments. */
static int overheads_file(struct sim_options *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512], name[128], val[128];
    int rc = 1;
    while (rc == 1 && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        int n = sscanf(line, "%100s %100s", name + 2, val);
        if (n <= 0)
            continue;
        name[0] = name[1] = '-';
        if (n != 2 || overhead_option(o, name, val) != 1)
            rc = -1;
    }
    fclose(f);
    return rc;
}

static int unsigned_option(const char *val, unsigned *out, unsigned min)
{
    uint64_t v;
    if (parse_u64(val, &v) != 0 || v < min || v > 1000000)
        return -1;
    *out = (unsigned)v;
    return 1;
}

/* An option taking a value. 1 handled, 0 not this kind, -1 bad value. */
static int value_option(struct sim_options *o, const char *name, const char *val)
{
    struct sim_config *c = &o->cfg;
    double d = 0;
    if (!strcmp(name, "-w") || !strcmp(name, "--workers"))
        return unsigned_option(val, &c->n_workers, 1);
    if (!strcmp(name, "-g") || !strcmp(name, "--gpus-per-worker"))
        return unsigned_option(val, &c->gpus_per_worker, 1);
    if (!strcmp(name, "--gpus")) {
        c->gpus_per_worker = 1;
        return unsigned_option(val, &c->n_workers, 1);
    }
    if (!strcmp(name, "--cache-size"))
        return parse_u64(val, &c->cache_size) == 0 ? 1 : -1;
    if (!strcmp(name, "--page-size"))
        return parse_u64(val, &c->page_size) == 0 && c->page_size > 0 ? 1 : -1;
    if (!strcmp(name, "-d") || !strcmp(name, "--duration"))
        return parse_nonneg_double(val, &c->duration_s) == 0 && c->duration_s > 0 ? 1 : -1;
    if (!strcmp(name, "--seed"))
        return parse_u64(val, &c->seed) == 0 ? 1 : -1;
    if (!strcmp(name, "--log-dir"))
        return snprintf(o->log_dir, sizeof o->log_dir, "%s", val) < (int)sizeof o->log_dir ? 1 : -1;
    if (!strcmp(name, "--progress"))
        return parse_nonneg_double(val, &c->progress_s) == 0 ? 1 : -1;
    if (!strcmp(name, "--exec-noise"))
        return parse_nonneg_double(val, &c->lat.exec_noise) == 0 ? 1 : -1;
    if (!strcmp(name, "--overheads"))
        return overheads_file(o, val);
    if (!strcmp(name, "--calibrate"))
        return snprintf(o->calibrate_dir, sizeof o->calibrate_dir, "%s", val) < (int)sizeof o->calibrate_dir ? 1 : -1;
    if (!strcmp(name, "--overheads-out"))
        return snprintf(o->overheads_out, sizeof o->overheads_out, "%s", val) < (int)sizeof o->overheads_out ? 1 : -1;
    if (!strcmp(name, "--tick-us")) {
        if (parse_nonneg_double(val, &d) != 0)
            return -1;
        c->tick_ns = (uint64_t)llround(d * 1e3);
        return 1;
    }
    return overhead_option(o, name, val);
}

static void ideal(struct sim_config *c) { memset(&c->lat, 0, sizeof c->lat); }

/* Options before TYPE. Returns the index of TYPE, or -1 / -2 (help) with err. */
static int parse_flags(struct sim_options *o, int argc, char **argv, char *err, size_t errlen)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return -2;
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        }
        if (!strcmp(a, "--ideal")) {
            ideal(&o->cfg);
            continue;
        }
        int rc = i + 1 < argc ? value_option(o, a, argv[i + 1]) : 0;
        if (rc == 1) {
            i++;
            continue;
        }
        if (rc < 0)
            snprintf(err, errlen, "invalid value '%s' for %s", argv[i + 1], a);
        else
            snprintf(err, errlen, "unknown option %s (or no value given)", a);
        return -1;
    }
    return i;
}

static int parse_workload(struct sim_options *o, int argc, char **argv, char *err, size_t errlen)
{
    if (argc < 1) {
        snprintf(err, errlen, "no WORKLOAD given");
        return -1;
    }
    char werr[512];
    int rc = wl_parse(argv[0], argc - 1, argv + 1, &o->args, werr, sizeof werr);
    if (rc == -1) {
        snprintf(err, errlen, "unknown workload '%s' (see client -h)", argv[0]);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "invalid parameters for workload `%s`: %s", argv[0], werr);
        return -1;
    }
    o->workload = wl_find(argv[0]);
    if (wl_prepare(o->workload, &o->args, werr, sizeof werr) != 0) {
        snprintf(err, errlen, "cannot run workload `%s`: %s", argv[0], werr);
        return -1;
    }
    return 0;
}

static void defaults(struct sim_options *o)
{
    memset(o, 0, sizeof *o);
    sim_config_defaults(&o->cfg);
    struct worker_config wc;
    char err[256];
    if (worker_config_load_default(&wc, err, sizeof err) == 0) {
        o->cfg.cache_size = wc.weights_cache_size;
        o->cfg.page_size = wc.weights_cache_page_size;
    }
    const char *dir = getenv("CLOCKWORK_LOG_DIR");
    snprintf(o->log_dir, sizeof o->log_dir, "%s", dir && *dir ? dir : "/local");
}

int sim_options_parse(struct sim_options *o, int argc, char **argv, char *err, size_t errlen)
{
    defaults(o);
    int i = parse_flags(o, argc, argv, err, errlen);
    if (i == -2)
        return SIM_OPTIONS_HELP;
    if (i < 0)
        return SIM_OPTIONS_ERROR;
    if (o->calibrate_dir[0]) {
        if (!o->overheads_out[0])
            snprintf(o->overheads_out, sizeof o->overheads_out, "%.1000s/sim_overheads.txt", o->calibrate_dir);
        return SIM_OPTIONS_CALIBRATE;
    }
    if (i >= argc) {
        snprintf(err, errlen, "expected a controller TYPE (INFER5 or INFER6), its options, -- and a WORKLOAD");
        return SIM_OPTIONS_ERROR;
    }
    if (controller_check_type(argv[i], err, errlen) != 0)
        return SIM_OPTIONS_ERROR;
    sched_type_parse(argv[i], &o->cfg.sched.type);
    snprintf(o->type, sizeof o->type, "%s", argv[i++]);
    int first = i;
    while (i < argc && strcmp(argv[i], "--") != 0 && !wl_find(argv[i]))
        i++;
    if (controller_parse_sched_options(&o->cfg.sched, i - first, argv + first, err, errlen) != 0)
        return SIM_OPTIONS_ERROR;
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    if (parse_workload(o, argc - i, argv + i, err, errlen) != 0)
        return SIM_OPTIONS_ERROR;
    o->cfg.log_dir = o->log_dir;
    return SIM_OPTIONS_OK;
}
