#define _GNU_SOURCE
#include "worker_main.h"
#include "common/log.h"
#include "common/parse.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONGOPTS 32

static void usage(const struct worker_program *p, FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [OPTIONS]\n"
            "%s\n"
            "Options:\n"
            "  -n, --num_gpus N   number of %s (default 1)\n"
            "  -p, --port PORT    port to listen on for the controller (default 12345)\n"
            "      --bind ADDR    address to listen on (default 0.0.0.0: every interface); --host is the same\n"
            "%s"
            "      --rt-priority P  SCHED_FIFO priority of the executor threads (default %d; loads P-1,\n"
            "                     the IO thread P-2; 0: none); where the OS refuses it, the log says so\n"
            "      --nice N       niceness of those threads when real-time is off or refused\n"
            "                     (default %d; 0: leave it)\n"
            "      --spin-us US   spin the last US microseconds of each wait for an action's start or\n"
            "                     end instead of sleeping (default %llu; 0: sleep only)\n"
            "      --pin-cpus LIST  pin the executor and IO threads to these CPUs, e.g. 2-3 (default: no\n"
            "                     pinning; a CPU device pins its executors to its own cores)\n"
            "  -v, --verbose      print every action and result (very chatty under load)\n"
            "  -q, --quiet        do not print the once-per-second status line\n"
            "  -h, --help         print this message\n"
            "Environment:\n"
            "  CLOCKWORK_CONFIG_FILE  worker config (default: config/default.cfg)\n"
            "  CLOCKWORK_MODEL_DIR    the only directory models are read from, by the NAME/model tail of the\n"
            "                         controller's path (default: the source tree's modelzoo/)\n"
            "  CLOCKWORK_SECRET_FILE  a shared secret controllers must prove (docs/security.md; default none)\n"
            "  CLOCKWORK_DRIVER_TIMEOUT_MS  silence of the driving controller after which another may take\n"
            "                         over this worker (default 10000)\n"
            "  CLOCKWORK_CLIENT_FRAME_TIMEOUT_MS  a message begun must arrive within this (default 10000)\n",
            prog, p->description, p->device_noun, p->extra_usage ? p->extra_usage : "", THREAD_POLICY_DEFAULT_RT,
            THREAD_POLICY_DEFAULT_NICE, THREAD_POLICY_DEFAULT_SPIN_NS / 1000);
}

enum { OPT_RT_PRIORITY = 1000, OPT_NICE, OPT_SPIN_US, OPT_PIN_CPUS }; /* long-only, clear of programs' */

static const struct option common_longopts[] = {
    {"num_gpus", required_argument, NULL, 'n'},
    {"port", required_argument, NULL, 'p'},
    {"host", required_argument, NULL, 'H'},
    {"bind", required_argument, NULL, 'H'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"rt-priority", required_argument, NULL, OPT_RT_PRIORITY},
    {"nice", required_argument, NULL, OPT_NICE},
    {"spin-us", required_argument, NULL, OPT_SPIN_US},
    {"pin-cpus", required_argument, NULL, OPT_PIN_CPUS},
};

static int is_common(int c)
{
    return (c > 0 && c < 256 && strchr("npHvq", c)) || (c >= OPT_RT_PRIORITY && c <= OPT_PIN_CPUS);
}

/* The executor thread options. */
static int handle_policy(int c, struct thread_policy *p)
{
    long v;
    switch (c) {
    case OPT_RT_PRIORITY:
        if (parse_long_range(optarg, 0, 99, &v) != 0)
            return -1;
        p->rt_priority = (int)v;
        return 0;
    case OPT_NICE:
        if (parse_long_range(optarg, -20, 19, &v) != 0)
            return -1;
        p->nice = (int)v;
        return 0;
    case OPT_SPIN_US:
        if (parse_long_range(optarg, 0, 1000000, &v) != 0)
            return -1;
        p->spin_ns = (uint64_t)v * 1000;
        return 0;
    case OPT_PIN_CPUS: return thread_policy_parse_cpus(p, optarg);
    default: return -1;
    }
}

/* common + the program's long options, terminated. */
static int build_longopts(const struct worker_program *p, struct option *out)
{
    size_t n = sizeof common_longopts / sizeof common_longopts[0];
    memcpy(out, common_longopts, sizeof common_longopts);
    for (const struct option *o = p->extra_longopts; o && o->name; o++) {
        if (n + 1 >= MAX_LONGOPTS)
            return -1;
        out[n++] = *o;
    }
    memset(&out[n], 0, sizeof out[n]);
    return 0;
}

static int handle_common(int c, struct worker_options *o)
{
    long v;
    switch (c) {
    case 'n':
        if (parse_long_range(optarg, 1, 1024, &v) != 0)
            return -1;
        o->num_devices = (unsigned)v;
        return 0;
    case 'p':
        if (parse_long_range(optarg, 1, 65535, &v) != 0)
            return -1;
        o->port = (int)v;
        return 0;
    case 'H': o->host = optarg; return 0;
    case 'v': o->verbose = 1; return 0;
    case 'q': o->print_status = 0; return 0;
    default: return handle_policy(c, &o->policy);
    }
}

/* Returns 0 to run, 1 after -h, -1 on a bad command line. */
static int parse_args(const struct worker_program *p, int argc, char **argv, struct worker_options *o)
{
    struct option longopts[MAX_LONGOPTS];
    if (build_longopts(p, longopts) != 0)
        return -1;
    int c;
    while ((c = getopt_long(argc, argv, "n:p:vqh", longopts, NULL)) != -1) {
        if (c == 'h')
            return 1;
        if (is_common(c)) {
            if (handle_common(c, o) != 0)
                return -1;
        } else if (c == '?' || !p->handle_option || p->handle_option(p->data, c, optarg) != 0) {
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

/* A positive number of milliseconds from the environment; 0 and no change when unset, -1 if invalid. */
static int env_ms(const char *name, uint64_t *out)
{
    const char *v = getenv(name);
    long ms;
    if (!v || !*v)
        return 0;
    if (parse_long_range(v, 1, 86400000, &ms) != 0) {
        log_error("%s=%s: expected milliseconds between 1 and 86400000", name, v);
        return -1;
    }
    *out = (uint64_t)ms;
    return 0;
}

static int read_environment(struct worker_options *o, struct net_secret **secret)
{
    char err[512];
    if (env_ms("CLOCKWORK_CLIENT_FRAME_TIMEOUT_MS", &o->frame_timeout_ms) != 0 ||
        env_ms("CLOCKWORK_DRIVER_TIMEOUT_MS", &o->driver_timeout_ms) != 0)
        return -1;
    if (net_secret_from_env(secret, err, sizeof err) != 0) {
        log_error("%s", err);
        return -1;
    }
    o->secret = *secret;
    return 0;
}

static int load_config(struct worker_config *cfg)
{
    char err[512];
    if (worker_config_load_default(cfg, err, sizeof err) != 0) {
        log_error("%s", err);
        return -1;
    }
    if (cfg->source[0])
        log_info("Loading Clockwork worker default config from %s", cfg->source);
    else
        log_info("No config file found, using the built-in default config");
    return 0;
}

int worker_program_main(const struct worker_program *p, int argc, char **argv)
{
    /* a controller that vanishes while results are on their way must not kill the worker */
    signal(SIGPIPE, SIG_IGN);
    struct worker_options opt;
    worker_options_defaults(&opt);
    int rc = parse_args(p, argc, argv, &opt);
    if (rc != 0) {
        usage(p, rc > 0 ? stdout : stderr, argv[0]);
        return rc > 0 ? 0 : 1;
    }
    log_info("Starting Clockwork Worker");
    struct worker_config cfg;
    struct net_secret *secret = NULL;
    char err[512];
    if (read_environment(&opt, &secret) != 0 || load_config(&cfg) != 0) {
        free(secret);
        return 1;
    }
    if (p->setup && p->setup(p->data, &opt, &cfg, err, sizeof err) != 0) {
        log_error("%s", err);
        free(secret);
        return 1;
    }
    struct worker *w = worker_create(&opt, &cfg, err, sizeof err);
    if (w) {
        worker_run(w);
        worker_destroy(w);
        log_info("Clockwork Worker stopped");
    } else {
        log_error("%s", err);
    }
    if (p->teardown)
        p->teardown(p->data);
    free(secret);
    return w ? 0 : 1;
}
