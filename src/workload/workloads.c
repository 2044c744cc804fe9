#include "workloads_impl.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the registry ---- */

struct family {
    const struct wl_def *defs;
    const size_t *count;
};

static const struct family FAMILIES[] = {
    {wl_basic_defs, &wl_basic_count},
    {wl_experiment_defs, &wl_experiment_count},
    {wl_azure_defs, &wl_azure_count},
};

#define N_FAMILIES (sizeof FAMILIES / sizeof FAMILIES[0])

const struct wl_def *wl_find(const char *name)
{
    for (size_t f = 0; f < N_FAMILIES; f++)
        for (size_t i = 0; i < *FAMILIES[f].count; i++)
            if (strcmp(FAMILIES[f].defs[i].name, name) == 0)
                return &FAMILIES[f].defs[i];
    return NULL;
}

void wl_print_usage(FILE *f)
{
    fprintf(f, "Usage: client [address] [workload] [workload parameters (if required)]\n"
               "Available workloads with parameters:\n");
    for (size_t fam = 0; fam < N_FAMILIES; fam++)
        for (size_t i = 0; i < *FAMILIES[fam].count; i++)
            fputs(FAMILIES[fam].defs[i].usage, f);
    fprintf(f,
            "Options (anywhere on the command line):\n"
            "\t-d SECONDS, --duration SECONDS\n"
            "\t\t stop the workload after SECONDS (also: CLOCKWORK_CLIENT_DURATION=SECONDS);\n"
            "\t\t by default it runs until it ends by itself or SIGINT/SIGTERM\n"
            "\t-h, --help\n"
            "\t\t print this message\n"
            "Environment:\n"
            "\tCLOCKWORK_MODEL_DIR\t\t model zoo directory (default: <source dir>/modelzoo)\n"
            "\tCLOCKWORK_DISABLE_INPUTS=1\t send requests without inputs\n"
            "\tCLOCKWORK_CLIENT_LOG=PATH\t per-request TSV: t user_id request_id model_id slo_factor latency status\n"
            "\tAZURE_TRACE_DIR\t\t\t the AzureFunctionsDataset2019 directory (azure workloads)\n"
            "The default port is 12346.\n");
}

/* ---- parameter parsing ---- */

static int parse_ull(const char *s, const char *what, unsigned long long min, unsigned long long max,
                     unsigned long long *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v < min || v > max) {
        snprintf(err, errlen, "%s must be an integer in [%llu, %llu], got \"%s\"", what, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_positive(const char *s, const char *what, double *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || !(v > 0)) {
        snprintf(err, errlen, "%s must be a positive number, got \"%s\"", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_model(const char *s, char *out, size_t outlen, char *err, size_t errlen)
{
    if (*s == '\0' || strlen(s) >= outlen || strchr(s, '/')) {
        snprintf(err, errlen, "invalid model name \"%s\"", s);
        return -1;
    }
    snprintf(out, outlen, "%s", s);
    return 0;
}

static int parse_enum(const struct wl_param *p, const char *s, void *field, char *err, size_t errlen)
{
    int rc = p->type == P_DIST ? wl_dist_parse(s, field) : wl_slo_op_parse(s, field);
    if (rc != 0)
        snprintf(err, errlen, "%s must be %s, got \"%s\"", p->name,
                 p->type == P_DIST ? "\"poisson\" or \"fixed-rate\"" : "\"add\" or \"mul\"", s);
    return rc;
}

static int parse_param(const struct wl_param *p, const char *s, struct wl_args *a, char *err, size_t errlen)
{
    void *field = (char *)a + p->off;
    unsigned long long v;
    switch (p->type) {
    case P_UINT:
        if (parse_ull(s, p->name, p->min, p->max, &v, err, errlen) != 0)
            return -1;
        *(unsigned *)field = (unsigned)v;
        return 0;
    case P_U64:
        if (parse_ull(s, p->name, p->min, UINT64_MAX, &v, err, errlen) != 0)
            return -1;
        *(uint64_t *)field = v;
        return 0;
    case P_BOOL:
        if (parse_ull(s, p->name, 0, 1, &v, err, errlen) != 0)
            return -1;
        *(int *)field = (int)v;
        return 0;
    case P_POS: return parse_positive(s, p->name, field, err, errlen);
    case P_DIST:
    case P_OP: return parse_enum(p, s, field, err, errlen);
    case P_MODEL: return parse_model(s, field, sizeof a->model, err, errlen);
    }
    return -1;
}

static int want_args(const struct wl_def *d, int argc, char *err, size_t errlen)
{
    if (argc < (int)d->n_required) {
        snprintf(err, errlen, "expected %s%u parameter%s, got %d", d->n_required < d->n_params ? "at least " : "",
                 d->n_required, d->n_required == 1 ? "" : "s", argc);
        return -1;
    }
    if (argc > (int)d->n_params) {
        snprintf(err, errlen, "too many parameters (expected %s%u, got %d)",
                 d->n_required == d->n_params ? "" : "at most ", d->n_params, argc);
        return -1;
    }
    return 0;
}

int wl_parse(const char *workload, int argc, char **argv, struct wl_args *a, char *err, size_t errlen)
{
    const struct wl_def *d = wl_find(workload);
    memset(a, 0, sizeof *a);
    if (!d) {
        snprintf(err, errlen, "Unknown workload %s", workload);
        return -1;
    }
    if (want_args(d, argc, err, errlen) != 0)
        return -2;
    for (unsigned i = 0; i < d->n_params; i++) {
        const char *s = (int)i < argc ? argv[i] : d->params[i].def;
        if (s && parse_param(&d->params[i], s, a, err, errlen) != 0)
            return -2;
    }
    return d->check && d->check(a, err, errlen) != 0 ? -2 : 0;
}

int wl_prepare(const struct wl_def *d, const struct wl_args *a, char *err, size_t errlen)
{
    return d->prepare ? d->prepare(a, err, errlen) : 0;
}

int wl_check_mul(enum wl_slo_op op, double factor, const char *name, char *err, size_t errlen)
{
    if (op != WL_SLO_MUL || factor > 1)
        return 0;
    snprintf(err, errlen, "%s must be greater than 1 with \"mul\" (the schedule would never reach its end)", name);
    return -1;
}

/* ---- setup helpers ---- */

int wl_add_failed(const char *what)
{
    fprintf(stderr, "Cannot set up the workload: adding %s failed\n", what);
    return -1;
}

int wl_load(const struct wl_builder *b, const char *name, unsigned copies, struct wl_loaded *out)
{
    return b->ops->load(b->data, name, copies, out);
}

int wl_open_each(const struct wl_builder *b, unsigned first, unsigned n, enum wl_dist dist, double rate_each,
                 int uid_base, uint64_t seed_base)
{
    int first_src = -1;
    for (unsigned i = 0; i < n; i++) {
        struct wl_open_spec o = {.user_id = uid_base + (int)i,
                                 .first = first + i,
                                 .n = 1,
                                 .dist = dist,
                                 .rate = rate_each,
                                 .seed = seed_base + i};
        int s = b->ops->open_loop(b->data, &o);
        if (s < 0)
            return wl_add_failed("an open loop");
        if (i == 0)
            first_src = s;
    }
    return first_src;
}

int wl_closed_each(const struct wl_builder *b, unsigned first, unsigned n, unsigned concurrency, int uid_base,
                   int uid_step, double jitter_s)
{
    int first_src = -1;
    for (unsigned i = 0; i < n; i++) {
        struct wl_closed_spec c = {.user_id = uid_base + (int)i * uid_step,
                                   .first = first + i,
                                   .n = 1,
                                   .concurrency = concurrency,
                                   .jitter_s = jitter_s,
                                   .seed = first + i};
        int s = b->ops->closed_loop(b->data, &c);
        if (s < 0)
            return wl_add_failed("a closed loop");
        if (i == 0)
            first_src = s;
    }
    return first_src;
}
