/* Helpers for the clockwork-sim tests: run the simulator from a command line (as the
 * clockwork-sim binary parses it) with an observer, into a temporary log directory. */
#ifndef TEST_SIM_HELPERS_H
#define TEST_SIM_HELPERS_H
#include "sim/sim_options.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses "clockwork-sim ARGS..." (space separated) and runs it. log_dir may be NULL. */
static inline int ts_run(const char *cmdline, const char *log_dir, const struct sim_observer *obs, struct sim_stats *st)
{
    char buf[1024], *argv[64], *save = NULL, err[1024];
    int argc = 0;
    snprintf(buf, sizeof buf, "clockwork-sim %s", cmdline);
    for (char *t = strtok_r(buf, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    struct sim_options *o = malloc(sizeof *o);
    int rc = sim_options_parse(o, argc, argv, err, sizeof err);
    if (rc != SIM_OPTIONS_OK) {
        fprintf(stderr, "parse: %s\n", err);
        free(o);
        return -1;
    }
    o->cfg.log_dir = log_dir;
    if (obs)
        o->cfg.obs = *obs;
    rc = sim_run(&o->cfg, o->workload, &o->args, st, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "sim: %s\n", err);
    free(o);
    return rc;
}

static inline char *ts_tmpdir(void)
{
    char tmpl[] = "/tmp/cw-sim-test.XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

/* The whole file, NUL-terminated; *len its size. NULL if unreadable. */
static inline char *ts_read(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = '\0';
        *len = (size_t)n;
    }
    return b;
}

static inline void ts_rmdir(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/clockwork_request_log.tsv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/clockwork_action_log.tsv", dir);
    unlink(path);
    rmdir(dir);
}

/* How many responses each request id got (ids are dense from 0). */
struct ts_answers {
    unsigned *count;
    size_t n;
    uint64_t total;
};

static inline void ts_answers_add(struct ts_answers *a, uint64_t id)
{
    if (id >= a->n) {
        size_t n = a->n ? a->n : 4096;
        while (n <= id)
            n *= 2;
        unsigned *c = realloc(a->count, n * sizeof *c);
        if (!c)
            abort();
        memset(c + a->n, 0, (n - a->n) * sizeof *c);
        a->count = c;
        a->n = n;
    }
    a->count[id]++;
    a->total++;
}

/* 1 if requests [0, n) got exactly one response each and no other id got any. */
static inline int ts_answers_once(const struct ts_answers *a, uint64_t n)
{
    if (a->total != n || a->n < n)
        return 0;
    for (uint64_t id = 0; id < n; id++)
        if (a->count[id] != 1)
            return 0;
    return 1;
}

static inline uint64_t ts_fnv(const char *b, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)b[i]) * 1099511628211ULL;
    return h;
}

#endif
