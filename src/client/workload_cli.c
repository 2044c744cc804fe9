#include "workload_cli.h"
#include "client/client.h"
#include "workload_engine.h"
#include "net/conn.h"
#include "workload/workloads.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 12346
#define MAX_POSITIONAL 64

struct cli {
    double duration_s;
    int help;
    char *pos[MAX_POSITIONAL];
    int npos;
};

static int parse_duration(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !isfinite(v) || !(v > 0)) {
        fprintf(stderr, "Invalid duration \"%s\": expected a positive number of seconds\n", s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Pulls the options out of argv (anywhere on the line); the rest stays positional. */
static int parse_cli(int argc, char **argv, struct cli *o)
{
    memset(o, 0, sizeof *o);
    const char *env = getenv("CLOCKWORK_CLIENT_DURATION");
    if (env && *env && parse_duration(env, &o->duration_s) != 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = 1;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s needs a number of seconds\n", a);
                return -1;
            }
            if (parse_duration(argv[++i], &o->duration_s) != 0)
                return -1;
        } else if (strncmp(a, "--duration=", 11) == 0) {
            if (parse_duration(a + 11, &o->duration_s) != 0)
                return -1;
        } else if (a[0] == '-' && a[1] != '\0' && !(a[1] >= '0' && a[1] <= '9') && a[1] != '.') {
            fprintf(stderr, "Unknown option %s\n", a);
            return -1;
        } else if (o->npos < MAX_POSITIONAL) {
            o->pos[o->npos++] = argv[i];
        } else {
            fprintf(stderr, "Too many parameters\n");
            return -1;
        }
    }
    return 0;
}

struct run {
    uv_loop_t loop;
    struct wl_engine *e;
    struct cw_client *c;
    struct zoo zoo;
    int zoo_ok;
};

static int setup_and_run(struct run *r, const struct wl_def *def, const struct wl_args *args)
{
    char err[4400];
    if (cw_client_connect_sync(r->c) != 0)
        return 1;
    if (zoo_scan(&r->zoo, zoo_default_dir(), err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    r->zoo_ok = 1;
    printf("Found %zu models in %s\n", r->zoo.count, r->zoo.dir);
    struct wl_builder b;
    wl_engine_builder(r->e, &r->zoo, &b);
    if (def->setup(&b, args) != 0 || wl_engine_stopping(r->e))
        return 1;
    if (cw_client_ls_retry_sync(r->c, err, sizeof err) != 0) {
        if (!wl_engine_stopping(r->e))
            fprintf(stderr, "%s\n", err);
        return 1;
    }
    return wl_engine_run(r->e);
}

static int run_workload(const char *host, int port, const struct wl_def *def, const struct wl_args *args,
                        double duration_s)
{
    struct run r;
    memset(&r, 0, sizeof r);
    if (uv_loop_init(&r.loop) != 0) {
        fprintf(stderr, "cannot create the event loop\n");
        return 1;
    }
    r.e = wl_engine_new(&r.loop, NULL, duration_s);
    struct cw_client_opts opts = {.print_summary = 1, .on_disconnect = wl_engine_on_disconnect, .arg = r.e};
    cw_client_opts_from_env(&opts);
    r.c = r.e ? cw_client_new(&r.loop, host, port, &opts) : NULL;
    int rc = 1;
    if (r.c) {
        wl_engine_set_client(r.e, r.c);
        rc = setup_and_run(&r, def, args);
        cw_client_print_totals(r.c, stdout);
    }
    cw_client_free(r.c);
    wl_engine_free(r.e);
    if (r.zoo_ok)
        zoo_free(&r.zoo);
    uv_run(&r.loop, UV_RUN_NOWAIT);
    uv_loop_close(&r.loop);
    return rc;
}

int wl_cli_main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct cli o;
    if (parse_cli(argc, argv, &o) != 0) {
        fprintf(stderr, "\n");
        wl_print_usage(stderr);
        return 1;
    }
    if (o.help) {
        wl_print_usage(stdout);
        return 0;
    }
    if (o.npos < 2) {
        wl_print_usage(stderr);
        return 1;
    }
    char host[256];
    int port;
    if (net_parse_address(o.pos[0], host, sizeof host, &port, DEFAULT_PORT) != 0) {
        fprintf(stderr, "Invalid address \"%s\": expected HOST:PORT\n", o.pos[0]);
        return 1;
    }
    const char *name = o.pos[1];
    struct wl_args args;
    char err[512];
    int prc = wl_parse(name, o.npos - 2, o.pos + 2, &args, err, sizeof err);
    if (prc == -1) {
        fprintf(stderr, "Unknown workload %s\n\n", name);
        wl_print_usage(stderr);
        return 1;
    }
    if (prc != 0) {
        fprintf(stderr, "Invalid parameters for workload `%s`: %s\nUsage:\n%s", name, err, wl_find(name)->usage);
        return 1;
    }
    if (wl_prepare(wl_find(name), &args, err, sizeof err) != 0) {
        fprintf(stderr, "Cannot run workload `%s`: %s\n", name, err);
        return 1;
    }
    printf("Running workload `%s` on %s:%d\n", name, host, port);
    const char *dis = getenv("CLOCKWORK_DISABLE_INPUTS");
    if (dis && strcmp(dis, "1") == 0)
        printf("Client inputs are DISABLED.  Set CLOCKWORK_DISABLE_INPUTS=0 to enable inputs.\n");
    else
        printf("Client is sending inputs with requests.  Set CLOCKWORK_DISABLE_INPUTS=1 to disable inputs.\n");
    return run_workload(host, port, wl_find(name), &args, o.duration_s);
}
