/* The experiment workloads: scalability-exp-1, slo-exp-1, slo-exp-2, comparison_experiment,
 * comparison_experiment2, bursty_experiment. */
#include "workloads_impl.h"
#include <stdio.h>
#include <stdlib.h>

#define BG_JITTER_S 10.0   /* slo-exp-2's background closed loops start within 10 s */
#define BURSTY_LEAD_IN 300 /* bursty_experiment: intervals before the major models start */
#define BURSTY_RATE 1000   /* r/s spread over the active major models */
#define BURSTY_HIPRI_RATE 200
#define LOAD_CHUNK 100

static const char *dist_name(enum wl_dist d) { return d == WL_DIST_POISSON ? "Poisson" : "fixed-rate"; }

/* ---- slo-exp-1 ---- */

static int setup_slo_exp_1(const struct wl_builder *b, const struct wl_args *a)
{
    struct wl_loaded m;
    if (wl_load(b, a->model, a->copies, &m) != 0)
        return -1;
    printf("Adding a %s open loop at %g requests/second across %u copies of %s\n", dist_name(a->dist), a->rate, m.n,
           a->model);
    struct wl_slo_schedule s;
    wl_slo_init(&s, a->op, a->slo_start, a->slo_factor, a->slo_end, 1);
    printf("Starting slo_factor %g, %s %g every %gs until it exceeds %g\n", a->slo_start,
           a->op == WL_SLO_MUL ? "multiplied by" : "plus", a->slo_factor, a->period, a->slo_end);
    struct wl_open_spec o = {.first = m.first, .n = m.n, .dist = a->dist, .rate = a->rate};
    if (b->ops->open_loop(b->data, &o) < 0 || wl_sources_slo_schedule(b->sources, m.first, m.n, &s, a->period, 1) < 0)
        return wl_add_failed("the open loop or its slo schedule");
    return 0;
}

static int check_slo_exp_1(const struct wl_args *a, char *err, size_t errlen)
{
    return wl_check_mul(a->op, a->slo_factor, "slo-factor", err, errlen);
}

/* ---- slo-exp-2 ---- */

static int slo_exp_2_foreground(const struct wl_builder *b, const struct wl_args *a)
{
    struct wl_loaded m;
    if (wl_load(b, a->model, a->copies, &m) != 0)
        return -1;
    printf("Foreground: %u copies, %s open loops at %g requests/second in total, slo_factor from %g (%s %g every "
           "%gs) until it exceeds %g\n",
           m.n, dist_name(a->dist), a->rate, a->slo_start, a->op == WL_SLO_MUL ? "times" : "plus", a->slo_factor,
           a->period, a->slo_end);
    struct wl_slo_schedule s;
    wl_slo_init(&s, a->op, a->slo_start, a->slo_factor, a->slo_end, 1);
    if (wl_open_each(b, m.first, m.n, a->dist, a->rate / m.n, 0, 0) < 0)
        return -1;
    return wl_sources_slo_schedule(b->sources, m.first, m.n, &s, a->period, 1) < 0 ? wl_add_failed("an slo schedule")
                                                                                   : 0;
}

static int slo_exp_2_background(const struct wl_builder *b, const struct wl_args *a)
{
    struct wl_loaded m;
    if (wl_load(b, a->model, a->copies_bg, &m) != 0)
        return -1;
    printf("Background: %u copies with slo_factor %g, closed loops of concurrency %u\n", m.n, a->slo_bg,
           a->concurrency_bg);
    for (unsigned i = 0; i < m.n; i++)
        if (wl_sources_set_slo(b->sources, m.first + i, (float)a->slo_bg) < 0)
            return wl_add_failed("an slo_factor");
    return wl_closed_each(b, m.first, m.n, a->concurrency_bg, (int)a->copies, 1, BG_JITTER_S) < 0 ? -1 : 0;
}

static int setup_slo_exp_2(const struct wl_builder *b, const struct wl_args *a)
{
    if (a->copies > 0 && slo_exp_2_foreground(b, a) != 0)
        return -1;
    return a->copies_bg > 0 ? slo_exp_2_background(b, a) : 0;
}

static int check_slo_exp_2(const struct wl_args *a, char *err, size_t errlen)
{
    if (a->copies == 0 && a->copies_bg == 0) {
        snprintf(err, errlen, "copies-fg and copies-bg cannot both be 0");
        return -1;
    }
    return wl_check_mul(a->op, a->slo_factor, "slo-factor-fg", err, errlen);
}

/* ---- scalability-exp-1 ---- */

/* One Poisson open loop per copy at 1/N r/s, scaled by the total rate: rate-min, then stepped
 * (add/mul rate-factor) every period until it exceeds rate-max. */
static int setup_scalability_exp_1(const struct wl_builder *b, const struct wl_args *a)
{
    struct wl_loaded m;
    if (wl_load(b, WL_DEFAULT_MODEL, a->copies, &m) != 0)
        return -1;
    printf("Total request rate from %g to %g requests/second (%s %g every %gs) across %u models\n", a->rate,
           a->rate_max, a->rate_op == WL_SLO_MUL ? "times" : "plus", a->rate_factor, a->period, m.n);
    int first = wl_open_each(b, m.first, m.n, WL_DIST_POISSON, 1.0 / m.n, 0, 0);
    if (first < 0)
        return -1;
    struct wl_slo_schedule s;
    wl_slo_init(&s, a->rate_op, a->rate, a->rate_factor, a->rate_max, 1);
    if (wl_sources_scale_schedule(b->sources, (unsigned)first, m.n, &s, a->period, 1, "rate") < 0)
        return wl_add_failed("the rate schedule");
    return 0;
}

static int check_scalability(const struct wl_args *a, char *err, size_t errlen)
{
    if (a->rate_max < a->rate) {
        snprintf(err, errlen, "rate-max (%g) must not be below rate-min (%g)", a->rate_max, a->rate);
        return -1;
    }
    return wl_check_mul(a->rate_op, a->rate_factor, "rate-factor", err, errlen);
}

/* ---- comparison experiments ---- */

static int setup_comparison(const struct wl_builder *b, const struct wl_args *a)
{
    struct wl_loaded m;
    if (wl_load(b, WL_DEFAULT_MODEL, a->copies, &m) != 0)
        return -1;
    return wl_open_each(b, m.first, m.n, WL_DIST_POISSON, a->rate / a->copies, 0, 0) < 0 ? -1 : 0;
}

static int setup_comparison_closed(const struct wl_builder *b, const struct wl_args *a)
{
    struct wl_loaded m;
    if (wl_load(b, WL_DEFAULT_MODEL, a->copies, &m) != 0)
        return -1;
    return wl_closed_each(b, m.first, m.n, a->concurrency, 0, 1, 0) < 0 ? -1 : 0;
}

/* ---- bursty_experiment ---- */

/* Requests per minute for major model m in every interval: nothing for the lead-in, then in
 * step k the rate is spread evenly (round-robin) over the models 0..k. */
static void bursty_counts(unsigned m, unsigned n_intervals, uint32_t *out)
{
    const uint64_t per_minute = 60ULL * BURSTY_RATE;
    for (unsigned i = 0; i < n_intervals; i++) {
        unsigned k = i < BURSTY_LEAD_IN ? 0 : i - BURSTY_LEAD_IN;
        out[i] = i < BURSTY_LEAD_IN || m > k || m >= per_minute ? 0 : (uint32_t)((per_minute - 1 - m) / (k + 1) + 1);
    }
}

static int load_chunked(const struct wl_builder *b, unsigned total, unsigned *first)
{
    for (unsigned done = 0; done < total;) {
        unsigned want = total - done < LOAD_CHUNK ? total - done : LOAD_CHUNK;
        struct wl_loaded m;
        printf("Loading %u:%u\n", done, done + want);
        if (wl_load(b, WL_DEFAULT_MODEL, want, &m) != 0)
            return -1;
        if (done == 0)
            *first = m.first;
        done += m.n;
    }
    return 0;
}

static int setup_bursty(const struct wl_builder *b, const struct wl_args *a)
{
    unsigned n = a->copies, n_intervals = BURSTY_LEAD_IN + n;
    printf("bursty_experiment: %u models; %u one-second intervals: %u idle, then %d r/s spread over 1, 2, ... %u "
           "models; plus one model at %d r/s throughout\n",
           n, n_intervals, BURSTY_LEAD_IN, BURSTY_RATE, n, BURSTY_HIPRI_RATE);
    unsigned first;
    struct wl_loaded hipri;
    if (load_chunked(b, n, &first) != 0 || wl_load(b, WL_DEFAULT_MODEL, 1, &hipri) != 0)
        return -1;
    uint32_t *counts = malloc(n_intervals * sizeof *counts);
    if (!counts)
        return wl_add_failed("the trace replays (out of memory)");
    int rc = 0;
    for (unsigned m = 0; m < n && rc == 0; m++) {
        bursty_counts(m, n_intervals, counts);
        struct wl_trace_spec t = {.user_id = (int)m,
                                  .target = first + m,
                                  .counts = counts,
                                  .n_intervals = n_intervals,
                                  .scale = 1,
                                  .interval_s = 1,
                                  .start_interval = 0,
                                  .seed = m};
        if (b->ops->trace_replay(b->data, &t) < 0)
            rc = wl_add_failed("a trace replay");
    }
    free(counts);
    if (rc == 0 && wl_open_each(b, hipri.first, 1, WL_DIST_POISSON, BURSTY_HIPRI_RATE, (int)n, n) < 0)
        rc = -1;
    return rc;
}

/* ---- parameters and -h text ---- */

static const struct wl_param SLO_EXP_1_PARAMS[] = {
    WL_PARAM("model", P_MODEL, 0, 0, model, NULL),
    WL_PARAM("copies", P_UINT, 1, 100000, copies, NULL),
    WL_PARAM("dist", P_DIST, 0, 0, dist, NULL),
    WL_PARAM("rate", P_POS, 0, 0, rate, NULL),
    WL_PARAM("slo-start", P_POS, 0, 0, slo_start, NULL),
    WL_PARAM("slo-end", P_POS, 0, 0, slo_end, NULL),
    WL_PARAM("slo-factor", P_POS, 0, 0, slo_factor, NULL),
    WL_PARAM("slo-op", P_OP, 0, 0, op, NULL),
    WL_PARAM("period", P_POS, 0, 0, period, NULL),
};

static const struct wl_param SLO_EXP_2_PARAMS[] = {
    WL_PARAM("model", P_MODEL, 0, 0, model, NULL),
    WL_PARAM("copies-fg", P_UINT, 0, 100000, copies, NULL),
    WL_PARAM("dist-fg", P_DIST, 0, 0, dist, NULL),
    WL_PARAM("rate-fg", P_POS, 0, 0, rate, NULL),
    WL_PARAM("slo-start-fg", P_POS, 0, 0, slo_start, NULL),
    WL_PARAM("slo-end-fg", P_POS, 0, 0, slo_end, NULL),
    WL_PARAM("slo-factor-fg", P_POS, 0, 0, slo_factor, NULL),
    WL_PARAM("slo-op-fg", P_OP, 0, 0, op, NULL),
    WL_PARAM("period-fg", P_POS, 0, 0, period, NULL),
    WL_PARAM("copies-bg", P_UINT, 0, 100000, copies_bg, NULL),
    WL_PARAM("concurrency-bg", P_UINT, 1, 1000000, concurrency_bg, NULL),
    WL_PARAM("slo-bg", P_POS, 0, 0, slo_bg, NULL),
};

static const struct wl_param SCALABILITY_PARAMS[] = {
    WL_PARAM("num-models", P_UINT, 1, 100000, copies, NULL), WL_PARAM("rate-min", P_POS, 0, 0, rate, NULL),
    WL_PARAM("rate-max", P_POS, 0, 0, rate_max, NULL),       WL_PARAM("rate-factor", P_POS, 0, 0, rate_factor, NULL),
    WL_PARAM("rate-op", P_OP, 0, 0, rate_op, NULL),          WL_PARAM("period", P_POS, 0, 0, period, NULL),
};

static const struct wl_param COMPARISON_PARAMS[] = {
    WL_PARAM("num_models", P_UINT, 1, 100000, copies, "15"),
    WL_PARAM("total_requests", P_POS, 0, 0, rate, "1000"),
};

static const struct wl_param COMPARISON2_PARAMS[] = {
    WL_PARAM("num_models", P_UINT, 1, 100000, copies, "15"),
    WL_PARAM("concurrency", P_UINT, 1, 1000000, concurrency, "16"),
};

static const struct wl_param BURSTY_PARAMS[] = {
    WL_PARAM("num_models", P_UINT, 1, 100000, copies, "3600"),
};

const struct wl_def wl_experiment_defs[] = {
    {"scalability-exp-1",
     "\tscalability-exp-1 num-models rate-min rate-max rate-factor rate-op period\n"
     "\t\t Workload parameters:\n"
     "\t\t\t num-models: number of \"resnet50_v2\" models\n"
     "\t\t\t rate-min: minimum total request rate\n"
     "\t\t\t rate-max: maximum total request rate\n"
     "\t\t\t rate-factor: rate increment factor\n"
     "\t\t\t rate-op: operator (\"add\"/\"mul\") for incrementing rate\n"
     "\t\t\t period: number of seconds before changing rate\n",
     WL_PARAMS(SCALABILITY_PARAMS, 6), check_scalability, NULL, setup_scalability_exp_1},
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
     WL_PARAMS(SLO_EXP_1_PARAMS, 9), check_slo_exp_1, NULL, setup_slo_exp_1},
    {"slo-exp-2",
     "\tslo-exp-2 model copies-fg dist-fg rate-fg slo-start-fg slo-end-fg slo-factor-fg slo-op-fg period-fg "
     "copies-bg concurrency-bg slo-bg\n"
     "\t\t Description: Running latency-sensitive (foreground or FG) and batch (background or BG) workloads "
     "simultaneously\n"
     "\t\t Workload parameters:\n"
     "\t\t\t model: model name (e.g., \"resnet50_v2\")\n"
     "\t\t\t copies-fg: number of FG models\n"
     "\t\t\t dist-fg: arrival distribution (\"poisson\"/\"fixed-rate\") for open loop clients for FG models\n"
     "\t\t\t rate-fg: total arrival rate (in requests/second) for FG models\n"
     "\t\t\t slo-start-fg: starting slo multiplier for FG models\n"
     "\t\t\t slo-end-fg: ending slo multiplier for FG models\n"
     "\t\t\t slo-factor-fg: factor by which the slo multiplier should change for FG models\n"
     "\t\t\t slo-op-fg: operator (\"add\"/\"mul\") for applying param slo-factor-fg\n"
     "\t\t\t period-fg: number of seconds before changing FG models' slo\n"
     "\t\t\t copies-bg: number of BG models (for which requests arrive in closed loop)\n"
     "\t\t\t concurrency-bg: number of concurrent requests for BG model' closed loop clients\n"
     "\t\t\t slo-bg: slo multiplier for BG moels (ideally, should be a relaxed slo)\n"
     "\t\t Examples:\n"
     "\t\t\t client volta04:12346 slo-exp-2 resnet50_v2    2 poisson 200  2 32 2 mul 7    4 1 100\n"
     "\t\t\t\t (2 FG models with PoissonOpenLoop clients sending requests at 200 rps)\n"
     "\t\t\t\t (the SLO factor of each FG model is updated every 7 seconds as follows: 2 4 8 16 32)\n"
     "\t\t\t\t (4 BG models with a relaxed SLO factor of 100 and respective ClosedLoop clients configured with a "
     "concurrency factor of 1)\n",
     WL_PARAMS(SLO_EXP_2_PARAMS, 12), check_slo_exp_2, NULL, setup_slo_exp_2},
    {"comparison_experiment",
     "\tcomparison_experiment [num_models total_requests]\n"
     "\t\t Description: runs multiple copies of resnet50_v2\n"
     "\t\t Workload parameters:\n"
     "\t\t\t num_models: (int, default 15) the number of models you're using\n"
     "\t\t\t total_requests: (int, default 1000) the total requests across all models, per second\n",
     WL_PARAMS(COMPARISON_PARAMS, 0), NULL, NULL, setup_comparison},
    {"comparison_experiment2",
     "\tcomparison_experiment2 [num_models concurrency]\n"
     "\t\t Description: closed-loop version of comparison experiment\n"
     "\t\t Workload parameters:\n"
     "\t\t\t num_models: (int, default 15) the number of models you're using\n"
     "\t\t\t concurrency: (int, default 16) closed loop workload concurrency\n",
     WL_PARAMS(COMPARISON2_PARAMS, 0), NULL, NULL, setup_comparison_closed},
    {"bursty_experiment",
     "\tbursty_experiment [num_models]\n"
     "\t\t Description: after 300s with only a high-priority model (200 r/s), 1000 r/s are spread over\n"
     "\t\t 1, 2, 3, ... 'major' models, one more every second (trace replay of 1s intervals)\n"
     "\t\t Workload parameters:\n"
     "\t\t\t num_models: (int, default 3600) number of 'major' workload models\n",
     WL_PARAMS(BURSTY_PARAMS, 0), NULL, NULL, setup_bursty},
};

const size_t wl_experiment_count = sizeof wl_experiment_defs / sizeof wl_experiment_defs[0];
