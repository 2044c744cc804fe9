#include "workloads.h"
#include "common/status.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MODEL "resnet50_v2"

/* ---- parameter parsing ---- */

static int parse_uint(const char *s, const char *what, unsigned long long min, unsigned long long max,
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

static int parse_unsigned(const char *s, const char *what, unsigned min, unsigned max, unsigned *out, char *err,
                          size_t errlen)
{
    unsigned long long v;
    if (parse_uint(s, what, min, max, &v, err, errlen) != 0)
        return -1;
    *out = (unsigned)v;
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

static int want_args(int argc, int min, int max, char *err, size_t errlen)
{
    if (argc < min) {
        snprintf(err, errlen, "expected %d parameter%s, got %d", min, min == 1 ? "" : "s", argc);
        return -1;
    }
    if (argc > max) {
        snprintf(err, errlen, "too many parameters (expected %s%d, got %d)", min == max ? "" : "at most ", max, argc);
        return -1;
    }
    return 0;
}

static int parse_model_name(const char *s, struct wl_args *a, char *err, size_t errlen)
{
    if (*s == '\0' || strlen(s) >= sizeof a->model || strchr(s, '/')) {
        snprintf(err, errlen, "invalid model name \"%s\"", s);
        return -1;
    }
    snprintf(a->model, sizeof a->model, "%s", s);
    return 0;
}

static int parse_none(int argc, char **argv, struct wl_args *a, char *err, size_t errlen)
{
    (void)argv;
    (void)a;
    return want_args(argc, 0, 0, err, errlen);
}

static int parse_spam(int argc, char **argv, struct wl_args *a, char *err, size_t errlen)
{
    if (want_args(argc, 0, 1, err, errlen) != 0)
        return -1;
    return argc == 1 ? parse_model_name(argv[0], a, err, errlen) : 0;
}

static int parse_simple_parametric(int argc, char **argv, struct wl_args *a, char *err, size_t errlen)
{
    if (want_args(argc, 4, 4, err, errlen) != 0 ||
        parse_unsigned(argv[0], "models", 1, 100000, &a->copies, err, errlen) != 0 ||
        parse_unsigned(argv[1], "clients", 1, 100000, &a->clients, err, errlen) != 0 ||
        parse_unsigned(argv[2], "concurrency", 1, 1000000, &a->concurrency, err, errlen) != 0)
        return -1;
    unsigned long long r;
    if (parse_uint(argv[3], "requests", 1, UINT64_MAX, &r, err, errlen) != 0)
        return -1;
    a->requests = r;
    return 0;
}

static int parse_poisson_open_loop(int argc, char **argv, struct wl_args *a, char *err, size_t errlen)
{
    if (want_args(argc, 2, 2, err, errlen) != 0 ||
        parse_unsigned(argv[0], "num_models", 1, 100000, &a->copies, err, errlen) != 0 ||
        parse_positive(argv[1], "rate", &a->rate, err, errlen) != 0)
        return -1;
    return 0;
}

static int parse_slo_exp_1(int argc, char **argv, struct wl_args *a, char *err, size_t errlen)
{
    if (want_args(argc, 9, 9, err, errlen) != 0 || parse_model_name(argv[0], a, err, errlen) != 0 ||
        parse_unsigned(argv[1], "copies", 1, 100000, &a->copies, err, errlen) != 0)
        return -1;
    if (wl_dist_parse(argv[2], &a->dist) != 0) {
        snprintf(err, errlen, "dist must be \"poisson\" or \"fixed-rate\", got \"%s\"", argv[2]);
        return -1;
    }
    if (parse_positive(argv[3], "rate", &a->rate, err, errlen) != 0 ||
        parse_positive(argv[4], "slo-start", &a->slo_start, err, errlen) != 0 ||
        parse_positive(argv[5], "slo-end", &a->slo_end, err, errlen) != 0 ||
        parse_positive(argv[6], "slo-factor", &a->slo_factor, err, errlen) != 0)
        return -1;
    if (wl_slo_op_parse(argv[7], &a->op) != 0) {
        snprintf(err, errlen, "slo-op must be \"add\" or \"mul\", got \"%s\"", argv[7]);
        return -1;
    }
    if (a->op == WL_SLO_MUL && !(a->slo_factor > 1)) {
        snprintf(err, errlen, "slo-factor must be greater than 1 with \"mul\" (the slo would never reach slo-end)");
        return -1;
    }
    return parse_positive(argv[8], "period", &a->period, err, errlen);
}

/* ---- setup helpers ---- */

static int load(struct wl_ctx *ctx, const char *name, unsigned copies, unsigned *first)
{
    char path[4400], err[256];
    if (zoo_model_path(ctx->zoo, name, path, sizeof path) != 0) {
        fprintf(stderr, "Unknown model %s: no %s/%s/model.info (%zu models found)\n", name, ctx->zoo->dir, name,
                ctx->zoo->count);
        return -1;
    }
    struct cw_model *models = NULL;
    unsigned n = 0;
    int rc = cw_client_load_remote_model_sync(ctx->c, path, copies, &models, &n, err, sizeof err);
    if (rc != 0) {
        if (rc != CW_STOPPED)
            fprintf(stderr, "Loading %s failed (status %d): %s\n", path, rc, err);
        return -1;
    }
    if (n < copies)
        printf("Controller created %u of %u requested copies of %s\n", n, copies, name);
    printf("Loaded %u cop%s of %s: model ids %u-%u input=%llu output=%llu\n", n, n == 1 ? "y" : "ies", name,
           models[0].id, models[0].id + n - 1, (unsigned long long)models[0].input_size,
           (unsigned long long)models[0].output_size);
    int f = wl_engine_add_models(ctx->e, models, n);
    free(models);
    if (f < 0)
        return -1;
    *first = (unsigned)f;
    return (int)n;
}

static int closed_per_copy(struct wl_ctx *ctx, const char *model, unsigned copies, unsigned concurrency)
{
    unsigned first;
    int n = load(ctx, model, copies, &first);
    if (n < 0)
        return -1;
    for (unsigned i = 0; i < (unsigned)n; i++)
        if (wl_engine_add_closed_loop(ctx->e, 0, first + i, 1, concurrency, 0) < 0)
            return -1;
    return 0;
}

/* ---- workloads ---- */

static int setup_simple(struct wl_ctx *ctx, const struct wl_args *a)
{
    (void)a;
    return closed_per_copy(ctx, DEFAULT_MODEL, 2, 1);
}

static int setup_spam(struct wl_ctx *ctx, const struct wl_args *a)
{
    return closed_per_copy(ctx, a->model[0] ? a->model : DEFAULT_MODEL, 100, 100);
}

static int setup_single_spam(struct wl_ctx *ctx, const struct wl_args *a)
{
    (void)a;
    return closed_per_copy(ctx, DEFAULT_MODEL, 1, 1000);
}

static int setup_example(struct wl_ctx *ctx, const struct wl_args *a)
{
    (void)a;
    for (size_t i = 0; i < ctx->zoo->count; i++) {
        unsigned m;
        int uid = (int)i;
        printf("Loading %s\n", ctx->zoo->names[i]);
        if (load(ctx, ctx->zoo->names[i], 1, &m) < 0)
            return -1;
        int bursty_open, bursty_closed;
        if (wl_engine_add_open_loop(ctx->e, uid, m, 1, WL_DIST_FIXED_RATE, 5, 0) < 0 ||
            wl_engine_add_open_loop(ctx->e, uid, m, 1, WL_DIST_POISSON, 10, 1) < 0 ||
            (bursty_open = wl_engine_add_open_loop(ctx->e, uid, m, 1, WL_DIST_POISSON, 10, 2)) < 0 ||
            wl_engine_set_bursty(ctx->e, bursty_open, 10, 20, 3 + i) != 0 ||
            wl_engine_add_closed_loop(ctx->e, uid, m, 1, 1, 0) < 0 ||
            (bursty_closed = wl_engine_add_closed_loop(ctx->e, uid, m, 1, 1, 0)) < 0 ||
            wl_engine_set_bursty(ctx->e, bursty_closed, 10, 20, 1000 + i) != 0)
            return -1;
    }
    return ctx->zoo->count > 0 ? 0 : (fprintf(stderr, "No models in %s\n", ctx->zoo->dir), -1);
}

static int setup_simple_slo_factor(struct wl_ctx *ctx, const struct wl_args *a)
{
    (void)a;
    unsigned first;
    int n = load(ctx, DEFAULT_MODEL, 3, &first);
    if (n < 3) {
        if (n >= 0)
            fprintf(stderr, "simple-slo-factor needs 3 copies\n");
        return -1;
    }
    struct wl_slo_schedule s[3];
    wl_slo_init(&s[0], WL_SLO_MUL, 4.0, 1.25, 0, 0);
    wl_slo_init(&s[1], WL_SLO_ADD, 4.0, 1.0, 0, 0);
    wl_slo_init(&s[2], WL_SLO_TOGGLE, 10.0, 1.0, 0, 0);
    for (unsigned i = 0; i < 3; i++)
        if (wl_engine_add_closed_loop(ctx->e, 0, first + i, 1, 1, 0) < 0 ||
            wl_engine_add_slo_adjuster(ctx->e, first + i, 1, &s[i], 10.0, 0) != 0)
            return -1;
    return 0;
}

static int setup_simple_parametric(struct wl_ctx *ctx, const struct wl_args *a)
{
    unsigned first;
    int n = load(ctx, DEFAULT_MODEL, a->copies, &first);
    if (n < 0)
        return -1;
    unsigned per = ((unsigned)n + a->clients - 1) / a->clients;
    for (unsigned i = 0; i < a->clients && i * per < (unsigned)n; i++) {
        unsigned lo = i * per, cnt = (unsigned)n - lo < per ? (unsigned)n - lo : per;
        printf("Adding ClosedLoop client %u with models:", i);
        for (unsigned k = 0; k < cnt; k++)
            printf(" %u", wl_engine_model_id(ctx->e, first + lo + k));
        printf("\n");
        if (wl_engine_add_closed_loop(ctx->e, (int)i, first + lo, cnt, a->concurrency, a->requests) < 0)
            return -1;
    }
    return 0;
}

static int setup_poisson_open_loop(struct wl_ctx *ctx, const struct wl_args *a)
{
    printf("Loading %u %s models\n", a->copies, DEFAULT_MODEL);
    printf("Cumulative request rate across models: %g requests/seconds\n", a->rate);
    unsigned first;
    int n = load(ctx, DEFAULT_MODEL, a->copies, &first);
    if (n < 0)
        return -1;
    printf("Adding a PoissonOpenLoop Workload (%g requests/second) for each model\n", a->rate / n);
    return wl_engine_add_open_loop(ctx->e, 0, first, (unsigned)n, WL_DIST_POISSON, a->rate, 0) < 0 ? -1 : 0;
}

static int setup_slo_exp_1(struct wl_ctx *ctx, const struct wl_args *a)
{
    unsigned first;
    int n = load(ctx, a->model, a->copies, &first);
    if (n < 0)
        return -1;
    printf("Adding a %s open loop at %g requests/second across %d copies of %s\n",
           a->dist == WL_DIST_POISSON ? "Poisson" : "fixed-rate", a->rate, n, a->model);
    struct wl_slo_schedule s;
    wl_slo_init(&s, a->op, a->slo_start, a->slo_factor, a->slo_end, 1);
    printf("Starting slo_factor %g, %s %g every %gs until it exceeds %g\n", a->slo_start,
           a->op == WL_SLO_MUL ? "multiplied by" : "plus", a->slo_factor, a->period, a->slo_end);
    if (wl_engine_add_open_loop(ctx->e, 0, first, (unsigned)n, a->dist, a->rate, 0) < 0 ||
        wl_engine_add_slo_adjuster(ctx->e, first, (unsigned)n, &s, a->period, 1) != 0)
        return -1;
    return 0;
}

static int setup_fill_memory(struct wl_ctx *ctx, const struct wl_args *a)
{
    (void)a;
    unsigned first;
    int n = load(ctx, DEFAULT_MODEL, 411, &first);
    if (n < 0)
        return -1;
    for (unsigned i = 0; i < (unsigned)n; i++) {
        double rate = i < 1 ? 1000 : i < 11 ? 10 : 1;
        if (wl_engine_add_open_loop(ctx->e, (int)i, first + i, 1, WL_DIST_POISSON, rate, i) < 0)
            return -1;
    }
    return 0;
}

static const struct wl_def WORKLOADS[] = {
    {"example",
     "\texample\n"
     "\t\t loads one copy of every model in the model zoo; for each: a fixed-rate (5 r/s), a Poisson (10 r/s)\n"
     "\t\t and a bursty Poisson (10 r/s) open loop, a closed loop and a bursty closed loop (concurrency 1);\n"
     "\t\t bursts last 10s and idle periods 20s on average\n",
     parse_none, setup_example},
    {"fill_memory",
     "\tfill_memory\n"
     "\t\t creates 411 copies of resnet50_v2, more than can fit in memory\n"
     "\t\t Poisson open loops: 1 copy at 1000 r/s, 10 copies at 10 r/s, 400 copies at 1 r/s\n",
     parse_none, setup_fill_memory},
    {"spam",
     "\tspam [modelname]\n"
     "\t\t default modelname is resnet50_v2\n"
     "\t\t 100 instances, each with 100 closed loop\n",
     parse_spam, setup_spam},
    {"single-spam",
     "\tsingle-spam\n"
     "\t\t resnet50_v2 x 1, with 1000 closed loop\n",
     parse_none, setup_single_spam},
    {"simple",
     "\tsimple\n"
     "\t\t resnet50_v2 x 2, each with a closed loop of concurrency 1\n",
     parse_none, setup_simple},
    {"simple-slo-factor",
     "\tsimple-slo-factor\n"
     "\t\t 3 models with closed-loop concurrency of 1\n"
     "\t\t Updates each model's slo factor every 10 seconds\n",
     parse_none, setup_simple_slo_factor},
    {"simple-parametric",
     "\tsimple-parametric models clients concurrency requests\n"
     "\t\t Workload parameters:\n"
     "\t\t\t models: number of model copies\n"
     "\t\t\t clients: number of clients among which the models are partitioned\n"
     "\t\t\t concurrency: number of concurrent requests per client\n"
     "\t\t\t requests: total number of requests per client (for termination)\n",
     parse_simple_parametric, setup_simple_parametric},
    {"poisson-open-loop",
     "\tpoisson-open-loop num_models rate \n"
     "\t\t Rate should be provided in requests/second\n"
     "\t\t Rate is split across all models\n",
     parse_poisson_open_loop, setup_poisson_open_loop},
    {"slo-exp-1",
     "\tslo-exp-1 model copies dist rate slo-start slo-end slo-factor slo-op period\n"
     "\t\t Workload parameters:\n"
     "\t\t\t model: model name (e.g., \"resnet50_v2\")\n"
     "\t\t\t copies: number of model instances\n"
     "\t\t\t dist: arrival distribution (\"poisson\"/\"fixed-rate\")\n"
     "\t\t\t rate: arrival rate (in requests/second)\n"
     "\t\t\t slo-start: starting slo multiplier\n"
     "\t\t\t slo-end: ending slo multiplier\n"
     "\t\t\t slo-factor: factor by which the slo multiplier should change\n"
     "\t\t\t slo-op: operator (\"add\"/\"mul\") for incrementing slo\n"
     "\t\t\t period: number of seconds before changing slo\n"
     "\t\t Examples:\n"
     "\t\t\t client volta04:12346 slo-exp-1 resnet50_v2 4 poisson 100 2 32 2 mul 7\n"
     "\t\t\t\t (increases slo every 7s as follows: 2 4 8 16 32)\n"
     "\t\t\t client volta04:12346 slo-exp-1 resnet50_v2 4 poisson 100 10 100 10 add 3\n"
     "\t\t\t\t (increases slo every 3s as follows: 10 20 30 ... 100)\n"
     "\t\t In each case, an open loop client is used\n",
     parse_slo_exp_1, setup_slo_exp_1},
};

#define N_WORKLOADS (sizeof WORKLOADS / sizeof WORKLOADS[0])

const struct wl_def *wl_find(const char *name)
{
    for (size_t i = 0; i < N_WORKLOADS; i++)
        if (strcmp(WORKLOADS[i].name, name) == 0)
            return &WORKLOADS[i];
    return NULL;
}

void wl_print_usage(FILE *f)
{
    fprintf(f, "Usage: client [address] [workload] [workload parameters (if required)]\n"
               "Available workloads with parameters:\n");
    for (size_t i = 0; i < N_WORKLOADS; i++)
        fputs(WORKLOADS[i].usage, f);
    fprintf(f, "Options (anywhere on the command line):\n"
               "\t-d SECONDS, --duration SECONDS\n"
               "\t\t stop the workload after SECONDS (also: CLOCKWORK_CLIENT_DURATION=SECONDS);\n"
               "\t\t by default it runs until it ends by itself or SIGINT/SIGTERM\n"
               "\t-h, --help\n"
               "\t\t print this message\n"
               "Environment:\n"
               "\tCLOCKWORK_MODEL_DIR\t\t model zoo directory (default: <source dir>/modelzoo)\n"
               "\tCLOCKWORK_DISABLE_INPUTS=1\t send requests without inputs\n"
               "\tCLOCKWORK_CLIENT_LOG=PATH\t per-request TSV: t user_id request_id model_id slo_factor latency status\n"
               "The default port is 12346.\n");
}

int wl_parse(const char *workload, int argc, char **argv, struct wl_args *a, char *err, size_t errlen)
{
    const struct wl_def *d = wl_find(workload);
    memset(a, 0, sizeof *a);
    if (!d) {
        snprintf(err, errlen, "Unknown workload %s", workload);
        return -1;
    }
    return d->parse(argc, argv, a, err, errlen) == 0 ? 0 : -2;
}
