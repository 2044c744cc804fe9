/* The Azure trace replay workloads: azure (and azure_half, azure_small, azure_single,
 * azure_fast), azure_scalability_exp. Each function of a day file becomes a Poisson trace
 * replay on one model copy: functions sorted busiest first are mapped onto the copies in
 * contiguous blocks (or striped, for azure_small/azure_fast). */
#include "azure.h"
#include "workloads_impl.h"
#include <stdio.h>
#include <stdlib.h>

#define MAX_MODELS_HINT 3100  /* about what fits in a V100's weights cache */
#define LOAD_PER_WORKER 0.125 /* scale factor giving load factor 1 on one worker */
#define SHUFFLE_SEED 0x0a2u   /* the mixed-model order */

/* One replay: which trace, how fast, onto which models. */
struct replay {
    unsigned trace_id;
    double scale, interval_s;
    int randomise, use_all_models, stripe;
    unsigned num_models;    /* copies in total */
    unsigned max_functions; /* 0: all */
};

static int trace_file(unsigned trace_id, char *path, size_t len, char *err, size_t errlen)
{
    const char *dir = getenv("AZURE_TRACE_DIR");
    if (!dir || !*dir) {
        snprintf(err, errlen,
                 "AZURE_TRACE_DIR variable not set: point it at the AzureFunctionsDataset2019 "
                 "directory (or generate one with tools/gen_azure_trace.py)");
        return -1;
    }
    if (azure_trace_path(dir, trace_id, path, len) != 0) {
        snprintf(err, errlen, "Azure trace id must be between 1 and %d inclusive, got %u", AZURE_MAX_DAY, trace_id);
        return -1;
    }
    return 0;
}

static int load_trace(unsigned trace_id, struct azure_trace *t)
{
    char path[4400], err[4600];
    if (trace_file(trace_id, path, sizeof path, err, sizeof err) != 0 ||
        azure_trace_load(path, t, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    unsigned long long total = 0;
    for (unsigned i = 0; i < t->n_functions; i++)
        total += t->totals[i];
    printf("Loaded Azure trace %s: %u functions, %llu invocations\n", path, t->n_functions, total);
    return 0;
}

/* Appends the targets of `n` copies of `name` to list. */
static int load_into(const struct wl_builder *b, const char *name, unsigned n, unsigned *list, unsigned *len)
{
    struct wl_loaded m;
    printf("Loading %s x%u\n", name, n);
    if (wl_load(b, name, n, &m) != 0)
        return -1;
    for (unsigned i = 0; i < m.n; i++)
        list[(*len)++] = m.first + i;
    return 0;
}

/* A deterministic shuffle, so that blocks of functions land on a mix of model kinds. */
static void shuffle(unsigned *list, unsigned n)
{
    struct wl_rng r;
    wl_rng_seed(&r, SHUFFLE_SEED);
    for (unsigned i = n; i > 1; i--) {
        unsigned j = wl_rng_below(&r, i), t = list[i - 1];
        list[i - 1] = list[j];
        list[j] = t;
    }
}

/* Loads p->num_models copies: split evenly over the zoo, or all resnet50_v2. */
static int load_models(const struct wl_builder *b, const struct replay *p, unsigned *list, unsigned *len)
{
    if (p->num_models > MAX_MODELS_HINT)
        printf("WARNING: %d is about the GPU memory limit for models. Got %u.\n", MAX_MODELS_HINT, p->num_models);
    *len = 0;
    if (!p->use_all_models)
        return load_into(b, WL_DEFAULT_MODEL, p->num_models, list, len);
    if (b->zoo->count == 0) {
        fprintf(stderr, "No models in %s\n", b->zoo->dir);
        return -1;
    }
    unsigned remaining = p->num_models;
    for (size_t i = 0; i < b->zoo->count; i++) {
        unsigned copies = remaining / (unsigned)(b->zoo->count - i);
        remaining -= copies;
        if (copies > 0 && load_into(b, b->zoo->names[i], copies, list, len) != 0)
            return -1;
    }
    shuffle(list, *len);
    return 0;
}

/* Adds one trace replay per function. Returns the first source index, or -1. */
static int add_replays(const struct wl_builder *b, const struct replay *p, const struct azure_trace *t,
                       const unsigned *list, unsigned n_models)
{
    unsigned nf = p->max_functions && p->max_functions < t->n_functions ? p->max_functions : t->n_functions;
    int first = -1;
    for (unsigned i = 0; i < nf; i++) {
        unsigned m = p->stripe ? i % n_models : (unsigned)(((uint64_t)n_models * i) / nf);
        struct wl_trace_spec s = {.user_id = (int)i,
                                  .target = list[m],
                                  .counts = azure_trace_row(t, i),
                                  .n_intervals = AZURE_MINUTES,
                                  .scale = p->scale,
                                  .interval_s = p->interval_s,
                                  .start_interval = p->randomise ? -1 : 0,
                                  .seed = i};
        int src = b->ops->trace_replay(b->data, &s);
        if (src < 0)
            return wl_add_failed("a trace replay");
        if (i == 0)
            first = src;
    }
    printf("Replaying %u functions onto %u models (%s), %gs intervals, scale_factor=%g%s\n", nf, n_models,
           p->stripe ? "striped" : "in blocks, busiest first", p->interval_s, p->scale,
           p->randomise ? ", random starting points" : "");
    return first;
}

/* Loads the trace and the models, adds the replays. Returns the first source and sets *n. */
static int replay(const struct wl_builder *b, const struct replay *p, unsigned *n_sources)
{
    struct azure_trace t;
    if (load_trace(p->trace_id, &t) != 0)
        return -1;
    unsigned *list = malloc((p->num_models ? p->num_models : 1) * sizeof *list), len = 0;
    int first = -1;
    if (!list)
        fprintf(stderr, "Out of memory\n");
    else if (load_models(b, p, list, &len) == 0 && len > 0)
        first = add_replays(b, p, &t, list, len);
    *n_sources = p->max_functions && p->max_functions < t.n_functions ? p->max_functions : t.n_functions;
    free(list);
    azure_trace_free(&t);
    return first;
}

/* memory_load_factor 1..4 -> copies per zoo model, or copies of resnet50_v2 alone. */
static unsigned total_models(const struct wl_builder *b, unsigned memory_load_factor, int use_all_models)
{
    static const unsigned per_model[] = {3, 13, 29, 66}, single[] = {200, 800, 1800, 3600};
    unsigned i = memory_load_factor - 1;
    return use_all_models ? per_model[i] * (unsigned)b->zoo->count : single[i];
}

static int setup_azure(const struct wl_builder *b, const struct wl_args *a)
{
    printf("Running azure workload with num_workers=%u use_all_models=%d load_factor=%g memory_load_factor=%u "
           "interval_duration_seconds=%g trace_id=%u randomise_start=%d\n",
           a->num_workers, a->use_all_models, a->load_factor, a->memory_load_factor, a->interval, a->trace_id,
           a->randomise);
    struct replay p = {.trace_id = a->trace_id,
                       .scale = a->load_factor * LOAD_PER_WORKER * a->num_workers,
                       .interval_s = a->interval,
                       .randomise = a->randomise,
                       .use_all_models = a->use_all_models,
                       .num_models = total_models(b, a->memory_load_factor, a->use_all_models)};
    printf("Using %u models; replaying trace %u at scale_factor=%g to achieve load_factor %g on %u workers\n",
           p.num_models, p.trace_id, p.scale, a->load_factor, a->num_workers);
    unsigned n;
    return replay(b, &p, &n) < 0 ? -1 : 0;
}

static int setup_azure_scalability(const struct wl_builder *b, const struct wl_args *a)
{
    double smin = a->lf_min * LOAD_PER_WORKER * a->num_workers, smax = a->lf_max * LOAD_PER_WORKER * a->num_workers;
    struct replay p = {.trace_id = 1,
                       .scale = smin,
                       .interval_s = 60,
                       .use_all_models = 1,
                       .num_models = total_models(b, a->memory_load_factor, 1)};
    printf("Running azure_scalability_exp: scale_factor from %g to %g (load_factor %g to %g on %u workers), times %g "
           "every %gs\n",
           smin, smax, a->lf_min, a->lf_max, a->num_workers, a->lf_inc, a->lf_period);
    unsigned n;
    int first = replay(b, &p, &n);
    if (first < 0)
        return -1;
    struct wl_slo_schedule s;
    wl_slo_init(&s, WL_SLO_MUL, smin, a->lf_inc, smax, 1);
    if (wl_sources_scale_schedule(b->sources, (unsigned)first, n, &s, a->lf_period, 1, "scale_factor") < 0)
        return wl_add_failed("the scale schedule");
    return 0;
}

/* The fixed variants of the original. */
static int setup_variant(const struct wl_builder *b, struct replay p)
{
    unsigned n;
    return replay(b, &p, &n) < 0 ? -1 : 0;
}

static int setup_azure_half(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    return setup_variant(
        b, (struct replay){
               .trace_id = 1, .scale = 1, .interval_s = 60, .use_all_models = 1, .num_models = MAX_MODELS_HINT});
}

static int setup_azure_small(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    return setup_variant(b, (struct replay){.trace_id = 1,
                                            .scale = 1,
                                            .interval_s = 60,
                                            .use_all_models = 1,
                                            .stripe = 1,
                                            .num_models = 3 * (unsigned)b->zoo->count});
}

static int setup_azure_single(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    return setup_variant(
        b, (struct replay){.trace_id = 1, .scale = 1, .interval_s = 1, .num_models = 1, .max_functions = 1});
}

static int setup_azure_fast(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    return setup_variant(b, (struct replay){.trace_id = 1,
                                            .scale = 1,
                                            .interval_s = 1,
                                            .randomise = 1,
                                            .use_all_models = 1,
                                            .stripe = 1,
                                            .num_models = 3 * (unsigned)b->zoo->count});
}

/* Before connecting: the trace file must be there (trace 1 for the fixed variants). */
static int prepare_trace(const struct wl_args *a, char *err, size_t errlen)
{
    char path[4400];
    unsigned id = a->trace_id ? a->trace_id : 1;
    if (trace_file(id, path, sizeof path, err, errlen) != 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read Azure trace %s (trace %u; set AZURE_TRACE_DIR)", path, id);
        return -1;
    }
    fclose(f);
    return 0;
}

static int check_azure_scalability(const struct wl_args *a, char *err, size_t errlen)
{
    if (a->lf_max < a->lf_min) {
        snprintf(err, errlen, "load_factor_max (%g) must not be below load_factor_min (%g)", a->lf_max, a->lf_min);
        return -1;
    }
    return wl_check_mul(WL_SLO_MUL, a->lf_inc, "load_factor_inc", err, errlen);
}

static const struct wl_param AZURE_PARAMS[] = {
    WL_PARAM("num_workers", P_UINT, 1, 10000, num_workers, "1"),
    WL_PARAM("use_all_models", P_BOOL, 0, 1, use_all_models, "1"),
    WL_PARAM("load_factor", P_POS, 0, 0, load_factor, "1.0"),
    WL_PARAM("memory_load_factor", P_UINT, 1, 4, memory_load_factor, "4"),
    WL_PARAM("interval", P_POS, 0, 0, interval, "60"),
    WL_PARAM("trace", P_UINT, 1, AZURE_MAX_DAY, trace_id, "1"),
    WL_PARAM("randomise", P_BOOL, 0, 1, randomise, "0"),
};

static const struct wl_param AZURE_SCALABILITY_PARAMS[] = {
    WL_PARAM("num_workers", P_UINT, 1, 10000, num_workers, "1"),
    WL_PARAM("load_factor_min", P_POS, 0, 0, lf_min, "0.1"),
    WL_PARAM("load_factor_max", P_POS, 0, 0, lf_max, "2.0"),
    WL_PARAM("load_factor_inc", P_POS, 0, 0, lf_inc, "2.0"),
    WL_PARAM("load_factor_period", P_POS, 0, 0, lf_period, "1.0"),
    WL_PARAM("memory_load_factor", P_UINT, 1, 4, memory_load_factor, "4"),
};

#define MEMORY_LOAD_FACTOR_HELP                                                                                        \
    "\t\t\t memory_load_factor: (1, 2, 3, or 4; default 4):\n"                                                         \
    "\t\t\t\t 1: loads approx. 200 models\n"                                                                           \
    "\t\t\t\t 2: loads approx. 800 models\n"                                                                           \
    "\t\t\t\t 3: loads approx. 1800 models\n"                                                                          \
    "\t\t\t\t 4: loads approx. 4000 models\n"

const struct wl_def wl_azure_defs[] = {
    {"azure",
     "\tazure [num_workers use_all_models load_factor memory_load_factor interval trace randomise]\n"
     "\t\t Description: replay an azure workload trace.  Can be run with no arguments, in which case default values "
     "are used.  The defaults will load 3100 models and replay a trace that will give approximately the total load "
     "the system can handle.\n"
     "\t\t Workload parameters:\n"
     "\t\t\t num_workers: (int, default 1) the number of workers you're using\n"
     "\t\t\t use_all_models: (bool, default 1) load all models or just resnet50_v2\n"
     "\t\t\t load_factor: (float, default 1.0) the workload will generate approximately this much load to the "
     "system.  e.g. 0.5 will load by approximately 1/2; 2.0 will overload by a factor of 2\n" MEMORY_LOAD_FACTOR_HELP
     "\t\t\t interval: (int, default 60) interval duration in seconds\n"
     "\t\t\t trace: (int, 1 to 14 inclusive, default 1) trace ID to replay\n"
     "\t\t\t randomise: (bool, default false) randomize each client's starting point in the trace\n"
     "\t\t Reads $AZURE_TRACE_DIR/invocations_per_function_md.anon.dNN.csv (NN = trace)\n",
     WL_PARAMS(AZURE_PARAMS, 0), NULL, prepare_trace, setup_azure},
    {"azure_scalability_exp",
     "\tazure_scalability_exp [num_workers load_factor_min load_factor_max load_factor_inc load_factor_period "
     "memory_load_factor]\n"
     "\t\t Description: Same as the azure workload above, but with an added mechanism to periodically increase the "
     "load factor. Only the necessary workload parameters have been retained.\n"
     "\t\t Workload parameters:\n"
     "\t\t\t num_workers: (int, default 1) the number of workers you're using\n"
     "\t\t\t load_factor_min: (float, default 0.1) the minimum load factor\n"
     "\t\t\t load_factor_max: (float, default 2.0) the maximum load factor\n"
     "\t\t\t load_factor_inc: (float, default 2.0) the factor by which load factor is incremented\n"
     "\t\t\t load_factor_period: (float, default 1.0) the period in seconds after which the load factor is "
     "incremented\n" MEMORY_LOAD_FACTOR_HELP,
     WL_PARAMS(AZURE_SCALABILITY_PARAMS, 0), check_azure_scalability, prepare_trace, setup_azure_scalability},
    {"azure_half",
     "\tazure_half\n"
     "\t\t azure trace 1 at scale 1.0 onto 3100 models spread over the zoo, 60s intervals\n",
     WL_NO_PARAMS, NULL, prepare_trace, setup_azure_half},
    {"azure_small",
     "\tazure_small\n"
     "\t\t azure trace 1 striped over 3 copies of every zoo model, 60s intervals\n",
     WL_NO_PARAMS, NULL, prepare_trace, setup_azure_small},
    {"azure_single",
     "\tazure_single\n"
     "\t\t the busiest function of azure trace 1 on one resnet50_v2, 1s intervals\n",
     WL_NO_PARAMS, NULL, prepare_trace, setup_azure_single},
    {"azure_fast",
     "\tazure_fast\n"
     "\t\t azure trace 1 striped over 3 copies of every zoo model, 1s intervals, random starting points\n",
     WL_NO_PARAMS, NULL, prepare_trace, setup_azure_fast},
};

const size_t wl_azure_count = sizeof wl_azure_defs / sizeof wl_azure_defs[0];
