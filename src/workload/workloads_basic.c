/* The basic workloads: example, fill_memory, spam, single-spam, simple, simple-slo-factor,
 * simple-parametric, poisson-open-loop. */
#include "workloads_impl.h"
#include <stdio.h>
#include <stdlib.h>

static int closed_copies(const struct wl_builder *b, const char *model, unsigned copies, unsigned concurrency)
{
    struct wl_loaded m;
    if (wl_load(b, model, copies, &m) != 0)
        return -1;
    return wl_closed_each(b, m.first, m.n, concurrency, 0, 0, 0) < 0 ? -1 : 0;
}

static int setup_simple(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    return closed_copies(b, WL_DEFAULT_MODEL, 2, 1);
}

static int setup_spam(const struct wl_builder *b, const struct wl_args *a)
{
    return closed_copies(b, a->model[0] ? a->model : WL_DEFAULT_MODEL, 100, 100);
}

static int setup_single_spam(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    return closed_copies(b, WL_DEFAULT_MODEL, 1, 1000);
}

/* Five sources on one model copy: fixed rate, Poisson, bursty Poisson, closed, bursty closed. */
static int example_sources(const struct wl_builder *b, unsigned m, int uid)
{
    const struct wl_builder_ops *o = b->ops;
    struct wl_open_spec fixed = {.user_id = uid, .first = m, .n = 1, .dist = WL_DIST_FIXED_RATE, .rate = 5, .seed = 0};
    struct wl_open_spec pois = {.user_id = uid, .first = m, .n = 1, .dist = WL_DIST_POISSON, .rate = 10, .seed = 1};
    struct wl_open_spec burst = pois;
    burst.seed = 2;
    struct wl_closed_spec closed = {.user_id = uid, .first = m, .n = 1, .concurrency = 1};
    int bo, bc;
    if (o->open_loop(b->data, &fixed) < 0 || o->open_loop(b->data, &pois) < 0 ||
        (bo = o->open_loop(b->data, &burst)) < 0 || o->bursty(b->data, bo, 10, 20, 3 + (uint64_t)uid) < 0 ||
        o->closed_loop(b->data, &closed) < 0 || (bc = o->closed_loop(b->data, &closed)) < 0 ||
        o->bursty(b->data, bc, 10, 20, 1000 + (uint64_t)uid) < 0)
        return wl_add_failed("the example's sources");
    return 0;
}

static int setup_example(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    if (b->zoo->count == 0) {
        fprintf(stderr, "No models in %s\n", b->zoo->dir);
        return -1;
    }
    for (size_t i = 0; i < b->zoo->count; i++) {
        struct wl_loaded m;
        printf("Loading %s\n", b->zoo->names[i]);
        if (wl_load(b, b->zoo->names[i], 1, &m) != 0 || example_sources(b, m.first, (int)i) != 0)
            return -1;
    }
    return 0;
}

static int setup_simple_slo_factor(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    struct wl_loaded m;
    if (wl_load(b, WL_DEFAULT_MODEL, 3, &m) != 0)
        return -1;
    if (m.n < 3) {
        fprintf(stderr, "simple-slo-factor needs 3 copies\n");
        return -1;
    }
    struct wl_slo_schedule s[3];
    wl_slo_init(&s[0], WL_SLO_MUL, 4.0, 1.25, 0, 0);
    wl_slo_init(&s[1], WL_SLO_ADD, 4.0, 1.0, 0, 0);
    wl_slo_init(&s[2], WL_SLO_TOGGLE, 10.0, 1.0, 0, 0);
    if (wl_closed_each(b, m.first, 3, 1, 0, 0, 0) < 0)
        return -1;
    for (unsigned i = 0; i < 3; i++)
        if (wl_sources_slo_schedule(b->sources, m.first + i, 1, &s[i], 10.0, 0) < 0)
            return wl_add_failed("an slo schedule");
    return 0;
}

static int setup_simple_parametric(const struct wl_builder *b, const struct wl_args *a)
{
    struct wl_loaded m;
    if (wl_load(b, WL_DEFAULT_MODEL, a->copies, &m) != 0)
        return -1;
    unsigned per = (m.n + a->clients - 1) / a->clients;
    for (unsigned i = 0; i < a->clients && i * per < m.n; i++) {
        unsigned lo = i * per, cnt = m.n - lo < per ? m.n - lo : per;
        printf("Adding ClosedLoop client %u with models:", i);
        for (unsigned k = 0; k < cnt; k++)
            printf(" %u", b->ops->model_id(b->data, m.first + lo + k));
        printf("\n");
        struct wl_closed_spec c = {.user_id = (int)i,
                                   .first = m.first + lo,
                                   .n = cnt,
                                   .concurrency = a->concurrency,
                                   .max_requests = a->requests};
        if (b->ops->closed_loop(b->data, &c) < 0)
            return wl_add_failed("a closed loop");
    }
    return 0;
}

static int setup_poisson_open_loop(const struct wl_builder *b, const struct wl_args *a)
{
    printf("Loading %u %s models\n", a->copies, WL_DEFAULT_MODEL);
    printf("Cumulative request rate across models: %g requests/seconds\n", a->rate);
    struct wl_loaded m;
    if (wl_load(b, WL_DEFAULT_MODEL, a->copies, &m) != 0)
        return -1;
    printf("Adding a PoissonOpenLoop Workload (%g requests/second) for each model\n", a->rate / m.n);
    return wl_open_each(b, m.first, m.n, WL_DIST_POISSON, a->rate / m.n, 0, 0) < 0 ? -1 : 0;
}

/* fill_memory: 1 copy at 1000 r/s, 10 at 10 r/s, 400 at 1 r/s (Poisson each). */
static int setup_fill_memory(const struct wl_builder *b, const struct wl_args *a)
{
    (void)a;
    static const struct {
        unsigned copies;
        double rate;
    } tiers[] = {{1, 1000}, {10, 10}, {400, 1}};
    struct wl_loaded m;
    if (wl_load(b, WL_DEFAULT_MODEL, 411, &m) != 0)
        return -1;
    unsigned done = 0;
    for (size_t t = 0; t < sizeof tiers / sizeof tiers[0] && done < m.n; t++) {
        unsigned n = m.n - done < tiers[t].copies ? m.n - done : tiers[t].copies;
        if (wl_open_each(b, m.first + done, n, WL_DIST_POISSON, tiers[t].rate, (int)done, done) < 0)
            return -1;
        done += n;
    }
    return 0;
}

static const struct wl_param SPAM_PARAMS[] = {
    WL_PARAM("modelname", P_MODEL, 0, 0, model, NULL),
};

static const struct wl_param SIMPLE_PARAMETRIC_PARAMS[] = {
    WL_PARAM("models", P_UINT, 1, 100000, copies, NULL),
    WL_PARAM("clients", P_UINT, 1, 100000, clients, NULL),
    WL_PARAM("concurrency", P_UINT, 1, 1000000, concurrency, NULL),
    WL_PARAM("requests", P_U64, 1, 0, requests, NULL),
};

static const struct wl_param POISSON_OPEN_LOOP_PARAMS[] = {
    WL_PARAM("num_models", P_UINT, 1, 100000, copies, NULL),
    WL_PARAM("rate", P_POS, 0, 0, rate, NULL),
};

const struct wl_def wl_basic_defs[] = {
    {"example",
     "\texample\n"
     "\t\t loads one copy of every model in the model zoo; for each: a fixed-rate (5 r/s), a Poisson (10 r/s)\n"
     "\t\t and a bursty Poisson (10 r/s) open loop, a closed loop and a bursty closed loop (concurrency 1);\n"
     "\t\t bursts last 10s and idle periods 20s on average\n",
     WL_NO_PARAMS, NULL, NULL, setup_example},
    {"fill_memory",
     "\tfill_memory\n"
     "\t\t creates 411 copies of resnet50_v2, more than can fit in memory\n"
     "\t\t Poisson open loops: 1 copy at 1000 r/s, 10 copies at 10 r/s, 400 copies at 1 r/s\n",
     WL_NO_PARAMS, NULL, NULL, setup_fill_memory},
    {"spam",
     "\tspam [modelname]\n"
     "\t\t default modelname is resnet50_v2\n"
     "\t\t 100 instances, each with 100 closed loop\n",
     WL_PARAMS(SPAM_PARAMS, 0), NULL, NULL, setup_spam},
    {"single-spam",
     "\tsingle-spam\n"
     "\t\t resnet50_v2 x 1, with 1000 closed loop\n",
     WL_NO_PARAMS, NULL, NULL, setup_single_spam},
    {"simple",
     "\tsimple\n"
     "\t\t resnet50_v2 x 2, each with a closed loop of concurrency 1\n",
     WL_NO_PARAMS, NULL, NULL, setup_simple},
    {"simple-slo-factor",
     "\tsimple-slo-factor\n"
     "\t\t 3 models with closed-loop concurrency of 1\n"
     "\t\t Updates each model's slo factor every 10 seconds\n",
     WL_NO_PARAMS, NULL, NULL, setup_simple_slo_factor},
    {"simple-parametric",
     "\tsimple-parametric models clients concurrency requests\n"
     "\t\t Workload parameters:\n"
     "\t\t\t models: number of model copies\n"
     "\t\t\t clients: number of clients among which the models are partitioned\n"
     "\t\t\t concurrency: number of concurrent requests per client\n"
     "\t\t\t requests: total number of requests per client (for termination)\n",
     WL_PARAMS(SIMPLE_PARAMETRIC_PARAMS, 4), NULL, NULL, setup_simple_parametric},
    {"poisson-open-loop",
     "\tpoisson-open-loop num_models rate \n"
     "\t\t Rate should be provided in requests/second\n"
     "\t\t Rate is split across all models\n",
     WL_PARAMS(POISSON_OPEN_LOOP_PARAMS, 2), NULL, NULL, setup_poisson_open_loop},
};

const size_t wl_basic_count = sizeof wl_basic_defs / sizeof wl_basic_defs[0];
