/* clockwork-sim is deterministic: the same arguments and seed give byte-identical telemetry
 * (t in virtual time from a fixed epoch); another seed gives another run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_sim_helpers.h"

#define FIG7_WORKLOAD " 0 6 5000000 -- slo-exp-1 resnet50_v2 12 poisson 600 1 100 1.5 mul 2"
#define FIG7_SHORT "-q --gpus 6 --exec-noise 0.02 INFER5" FIG7_WORKLOAD
#define FIG7_SHORT6 "-q --gpus 6 --exec-noise 0.02 INFER6" FIG7_WORKLOAD

struct run_files {
    char *req, *act;
    size_t req_len, act_len;
    struct sim_stats st;
};

static void run_into(const char *cmd, struct run_files *r)
{
    char *dir = ts_tmpdir();
    assert_non_null(dir);
    assert_int_equal(ts_run(cmd, dir, NULL, &r->st), 0);
    r->req = ts_read(dir, "clockwork_request_log.tsv", &r->req_len);
    r->act = ts_read(dir, "clockwork_action_log.tsv", &r->act_len);
    assert_non_null(r->req);
    assert_non_null(r->act);
    ts_rmdir(dir);
    free(dir);
}

static void free_files(struct run_files *r)
{
    free(r->req);
    free(r->act);
}

static void same_seed_identical(const char *cmd)
{
    struct run_files a, b;
    run_into(cmd, &a);
    run_into(cmd, &b);
    assert_true(a.st.requests > 10000); /* 12 steps of 2 s at 600 r/s */
    assert_int_equal(a.st.responses, a.st.requests);
    assert_int_equal(a.req_len, b.req_len);
    assert_int_equal(a.act_len, b.act_len);
    assert_memory_equal(a.req, b.req, a.req_len);
    assert_memory_equal(a.act, b.act, a.act_len);
    printf("request log %zu bytes fnv=%016llx, action log %zu bytes fnv=%016llx\n", a.req_len,
           (unsigned long long)ts_fnv(a.req, a.req_len), a.act_len, (unsigned long long)ts_fnv(a.act, a.act_len));
    /* t starts at the fixed virtual epoch */
    const char *row = strchr(a.req, '\n') + 1;
    assert_true(strtoull(row, NULL, 10) >= SIM_EPOCH_NS);
    assert_true(strtoull(row, NULL, 10) < SIM_EPOCH_NS + 100ULL * 1000000000ULL);
    free_files(&a);
    free_files(&b);
}

static void test_same_seed_identical(void **state)
{
    (void)state;
    same_seed_identical("--seed 7 " FIG7_SHORT);
}

static void test_infer6_same_seed_identical(void **state)
{
    (void)state;
    same_seed_identical("--seed 7 " FIG7_SHORT6);
}

static void test_other_seed_differs(void **state)
{
    (void)state;
    struct run_files a, b;
    run_into("--seed 1 " FIG7_SHORT, &a);
    run_into("--seed 2 " FIG7_SHORT, &b);
    assert_true(a.req_len != b.req_len || memcmp(a.req, b.req, a.req_len) != 0);
    free_files(&a);
    free_files(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_identical),
        cmocka_unit_test(test_infer6_same_seed_identical),
        cmocka_unit_test(test_other_seed_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
