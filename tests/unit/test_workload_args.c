/* Workload parameter parsing (good and bad for every workload) and the -h text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload/workloads.h"

static int parse(const char *name, const char *line, struct wl_args *a)
{
    char buf[512], *argv[32], err[256];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *t = strtok(buf, " "); t && argc < 32; t = strtok(NULL, " "))
        argv[argc++] = t;
    err[0] = '\0';
    int rc = wl_parse(name, argc, argv, a, err, sizeof err);
    if (rc == -2)
        assert_true(strlen(err) > 0); /* a bad parameter always says why */
    return rc;
}

static void test_no_param_workloads(void **state)
{
    (void)state;
    struct wl_args a;
    const char *names[] = {"example", "simple", "single-spam", "simple-slo-factor", "fill_memory"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        assert_int_equal(parse(names[i], "", &a), 0);
        assert_int_equal(parse(names[i], "extra", &a), -2);
    }
}

static void test_spam(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("spam", "", &a), 0);
    assert_string_equal(a.model, "");
    assert_int_equal(parse("spam", "resnet18_v2", &a), 0);
    assert_string_equal(a.model, "resnet18_v2");
    assert_int_equal(parse("spam", "a b", &a), -2);
    assert_int_equal(parse("spam", "../etc", &a), -2);
}

static void test_simple_parametric(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("simple-parametric", "10 3 4 1000", &a), 0);
    assert_int_equal(a.copies, 10);
    assert_int_equal(a.clients, 3);
    assert_int_equal(a.concurrency, 4);
    assert_int_equal(a.requests, 1000);
    assert_int_equal(parse("simple-parametric", "10 3 4", &a), -2);
    assert_int_equal(parse("simple-parametric", "10 3 4 5 6", &a), -2);
    assert_int_equal(parse("simple-parametric", "0 3 4 5", &a), -2);
    assert_int_equal(parse("simple-parametric", "x 3 4 5", &a), -2);
    assert_int_equal(parse("simple-parametric", "10 -3 4 5", &a), -2);
    assert_int_equal(parse("simple-parametric", "10 3 4.5 5", &a), -2);
}

static void test_poisson_open_loop(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("poisson-open-loop", "4 200", &a), 0);
    assert_int_equal(a.copies, 4);
    assert_true(a.rate == 200.0);
    assert_int_equal(parse("poisson-open-loop", "4 2.5e3", &a), 0);
    assert_true(a.rate == 2500.0);
    assert_int_equal(parse("poisson-open-loop", "4", &a), -2);
    assert_int_equal(parse("poisson-open-loop", "4 0", &a), -2);
    assert_int_equal(parse("poisson-open-loop", "4 -1", &a), -2);
    assert_int_equal(parse("poisson-open-loop", "4 fast", &a), -2);
    assert_int_equal(parse("poisson-open-loop", "0 100", &a), -2);
    assert_int_equal(parse("poisson-open-loop", "4 nan", &a), -2);
}

static void test_slo_exp_1(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 12 poisson 600 1 100 1.5 mul 30", &a), 0);
    assert_string_equal(a.model, "resnet50_v2");
    assert_int_equal(a.copies, 12);
    assert_int_equal(a.dist, WL_DIST_POISSON);
    assert_true(a.rate == 600 && a.slo_start == 1 && a.slo_end == 100 && a.slo_factor == 1.5);
    assert_int_equal(a.op, WL_SLO_MUL);
    assert_true(a.period == 30);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 fixed-rate 100 10 100 10 add 3", &a), 0);
    assert_int_equal(a.dist, WL_DIST_FIXED_RATE);
    assert_int_equal(a.op, WL_SLO_ADD);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 poisson 100 2 32 2 mul", &a), -2);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 poisson 100 2 32 2 mul 7 8", &a), -2);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 gamma 100 2 32 2 mul 7", &a), -2);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 poisson 100 2 32 2 pow 7", &a), -2);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 0 poisson 100 2 32 2 mul 7", &a), -2);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 poisson 0 2 32 2 mul 7", &a), -2);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 poisson 100 2 32 1 mul 7", &a), -2);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 poisson 100 2 32 2 mul 0", &a), -2);
    assert_int_equal(parse("slo-exp-1", "resnet50_v2 4 poisson 100 2 32 2 mul x", &a), -2);
}

static void test_slo_exp_2(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 2 poisson 200 2 32 2 mul 7 4 1 100", &a), 0);
    assert_string_equal(a.model, "resnet50_v2");
    assert_int_equal(a.copies, 2);
    assert_int_equal(a.dist, WL_DIST_POISSON);
    assert_true(a.rate == 200 && a.slo_start == 2 && a.slo_end == 32 && a.slo_factor == 2 && a.period == 7);
    assert_int_equal(a.op, WL_SLO_MUL);
    assert_int_equal(a.copies_bg, 4);
    assert_int_equal(a.concurrency_bg, 1);
    assert_true(a.slo_bg == 100);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 0 fixed-rate 200 2 32 2 add 7 4 1 100", &a), 0);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 2 poisson 200 2 32 2 mul 7 0 1 100", &a), 0);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 0 poisson 200 2 32 2 mul 7 0 1 100", &a), -2);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 2 poisson 200 2 32 2 mul 7 4 1", &a), -2);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 2 poisson 200 2 32 2 mul 7 4 1 100 5", &a), -2);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 2 poisson 200 2 32 1 mul 7 4 1 100", &a), -2);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 2 gamma 200 2 32 2 mul 7 4 1 100", &a), -2);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 2 poisson 200 2 32 2 mul 7 4 0 100", &a), -2);
    assert_int_equal(parse("slo-exp-2", "resnet50_v2 2 poisson 200 2 32 2 mul 7 4 1 -1", &a), -2);
}

static void test_scalability(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("scalability-exp-1", "10 100 1000 2 mul 5", &a), 0);
    assert_int_equal(a.copies, 10);
    assert_true(a.rate == 100 && a.rate_max == 1000 && a.rate_factor == 2 && a.period == 5);
    assert_int_equal(a.rate_op, WL_SLO_MUL);
    assert_int_equal(parse("scalability-exp-1", "10 100 1000 100 add 5", &a), 0);
    assert_int_equal(a.rate_op, WL_SLO_ADD);
    assert_int_equal(parse("scalability-exp-1", "10 100 1000 2 mul", &a), -2);
    assert_int_equal(parse("scalability-exp-1", "10 1000 100 2 mul 5", &a), -2); /* max < min */
    assert_int_equal(parse("scalability-exp-1", "10 100 1000 1 mul 5", &a), -2);
    assert_int_equal(parse("scalability-exp-1", "10 100 1000 2 pow 5", &a), -2);
    assert_int_equal(parse("scalability-exp-1", "0 100 1000 2 mul 5", &a), -2);
}

static void test_comparison_and_bursty(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("comparison_experiment", "", &a), 0);
    assert_int_equal(a.copies, 15);
    assert_true(a.rate == 1000);
    assert_int_equal(parse("comparison_experiment", "4 200", &a), 0);
    assert_int_equal(a.copies, 4);
    assert_true(a.rate == 200);
    assert_int_equal(parse("comparison_experiment", "4", &a), 0);
    assert_true(a.rate == 1000);
    assert_int_equal(parse("comparison_experiment", "4 200 1", &a), -2);
    assert_int_equal(parse("comparison_experiment", "0", &a), -2);
    assert_int_equal(parse("comparison_experiment2", "", &a), 0);
    assert_int_equal(a.copies, 15);
    assert_int_equal(a.concurrency, 16);
    assert_int_equal(parse("comparison_experiment2", "3 2", &a), 0);
    assert_int_equal(a.concurrency, 2);
    assert_int_equal(parse("comparison_experiment2", "3 0", &a), -2);
    assert_int_equal(parse("bursty_experiment", "", &a), 0);
    assert_int_equal(a.copies, 3600);
    assert_int_equal(parse("bursty_experiment", "20", &a), 0);
    assert_int_equal(a.copies, 20);
    assert_int_equal(parse("bursty_experiment", "x", &a), -2);
    assert_int_equal(parse("bursty_experiment", "20 1", &a), -2);
}

static void test_azure(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("azure", "", &a), 0);
    assert_int_equal(a.num_workers, 1);
    assert_int_equal(a.use_all_models, 1);
    assert_true(a.load_factor == 1.0 && a.interval == 60);
    assert_int_equal(a.memory_load_factor, 4);
    assert_int_equal(a.trace_id, 1);
    assert_int_equal(a.randomise, 0);
    assert_int_equal(parse("azure", "6 0 0.5 1 1 13 1", &a), 0);
    assert_int_equal(a.num_workers, 6);
    assert_int_equal(a.use_all_models, 0);
    assert_true(a.load_factor == 0.5 && a.interval == 1);
    assert_int_equal(a.memory_load_factor, 1);
    assert_int_equal(a.trace_id, 13);
    assert_int_equal(a.randomise, 1);
    assert_int_equal(parse("azure", "2 1", &a), 0);
    assert_int_equal(a.num_workers, 2);
    assert_true(a.load_factor == 1.0);
    assert_int_equal(parse("azure", "0", &a), -2);
    assert_int_equal(parse("azure", "1 2", &a), -2);
    assert_int_equal(parse("azure", "1 1 0", &a), -2);
    assert_int_equal(parse("azure", "1 1 1 5", &a), -2);
    assert_int_equal(parse("azure", "1 1 1 0", &a), -2);
    assert_int_equal(parse("azure", "1 1 1 1 0", &a), -2);
    assert_int_equal(parse("azure", "1 1 1 1 60 15", &a), -2);
    assert_int_equal(parse("azure", "1 1 1 1 60 0", &a), -2);
    assert_int_equal(parse("azure", "1 1 1 1 60 1 2", &a), -2);
    assert_int_equal(parse("azure", "1 1 1 1 60 1 0 9", &a), -2);
    assert_int_equal(parse("azure_scalability_exp", "", &a), 0);
    assert_true(a.lf_min == 0.1 && a.lf_max == 2.0 && a.lf_inc == 2.0 && a.lf_period == 1.0);
    assert_int_equal(a.memory_load_factor, 4);
    assert_int_equal(parse("azure_scalability_exp", "2 0.5 4 1.5 30 1", &a), 0);
    assert_int_equal(a.num_workers, 2);
    assert_int_equal(parse("azure_scalability_exp", "2 4 0.5 1.5 30 1", &a), -2);
    assert_int_equal(parse("azure_scalability_exp", "2 0.5 4 1 30 1", &a), -2);
    assert_int_equal(parse("azure_scalability_exp", "2 0.5 4 1.5 30 5", &a), -2);
    const char *fixed[] = {"azure_half", "azure_small", "azure_single", "azure_fast"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        assert_int_equal(parse(fixed[i], "", &a), 0);
        assert_int_equal(parse(fixed[i], "1", &a), -2);
    }
}

static void test_unknown_workload(void **state)
{
    (void)state;
    struct wl_args a;
    assert_int_equal(parse("azure2", "", &a), -1);
    assert_int_equal(parse("", "", &a), -1);
    assert_null(wl_find("nope"));
    assert_non_null(wl_find("slo-exp-1"));
}

#define SLO_EXP_2_USAGE                                                                                                \
    "slo-exp-2 model copies-fg dist-fg rate-fg slo-start-fg slo-end-fg slo-factor-fg slo-op-fg period-fg copies-bg "   \
    "concurrency-bg slo-bg"

static void test_usage_text(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    wl_print_usage(f);
    fclose(f);
    assert_non_null(strstr(text, "Usage: client [address] [workload] [workload parameters (if required)]\n"
                                 "Available workloads with parameters:\n"));
    assert_non_null(strstr(text, "\tslo-exp-1 model copies dist rate slo-start slo-end slo-factor slo-op period\n"
                                 "\t\t Workload parameters:\n"
                                 "\t\t\t model: model name (e.g., \"resnet50_v2\")\n"));
    assert_non_null(strstr(text, "\t\t\t\t (increases slo every 3s as follows: 10 20 30 ... 100)\n"
                                 "\t\t In each case, an open loop client is used\n"));
    const char *names[] = {"example",
                           "simple",
                           "spam [modelname]",
                           "single-spam",
                           "simple-slo-factor",
                           "simple-parametric models clients concurrency requests",
                           "poisson-open-loop num_models rate",
                           "fill_memory",
                           "--duration",
                           "scalability-exp-1 num-models rate-min rate-max rate-factor rate-op period",
                           SLO_EXP_2_USAGE,
                           "comparison_experiment",
                           "comparison_experiment2",
                           "azure [num_workers",
                           "azure_scalability_exp",
                           "azure_small",
                           "azure_single",
                           "azure_fast",
                           "azure_half",
                           "bursty_experiment",
                           "AZURE_TRACE_DIR"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        assert_non_null(strstr(text, names[i]));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_param_workloads),
        cmocka_unit_test(test_spam),
        cmocka_unit_test(test_simple_parametric),
        cmocka_unit_test(test_poisson_open_loop),
        cmocka_unit_test(test_slo_exp_1),
        cmocka_unit_test(test_slo_exp_2),
        cmocka_unit_test(test_scalability),
        cmocka_unit_test(test_comparison_and_bursty),
        cmocka_unit_test(test_azure),
        cmocka_unit_test(test_unknown_workload),
        cmocka_unit_test(test_usage_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
