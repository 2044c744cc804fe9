/* clockwork-sim is deterministic: the same arguments and seed give byte-identical telemetry
 * (t in virtual time from a fixed epoch); another seed gives another run; and INFER5 decides
 * exactly as it did before its scans were replaced by indices (issue 15): the telemetry of
 * small runs that evict, replicate and spread over many GPUs has the fingerprints it had then
 * (and INFER6's those it had when it came, issue 16). */
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

/* The overhead model and cache as they were when the fingerprints were taken, so that a new
 * calibration of the defaults does not change what these runs ask of the scheduler. */
#define PINNED                                                                                                         \
    "--client-ctl 30+80 --ctl-client 30+80 --ctl-worker 55+100 --worker-result 105+120 --worker-ctl 30+80 "            \
    "--exec-turnaround 55+110 --ctl-event 5 --send 5 --exec-wakeup 0 --client-tick-us 0 --cache-size 23085449216 "     \
    "--page-size 16777216 "
#define PINNED5 PINNED "--tick-us 1000 "
#define PINNED6 PINNED "--tick-us 0 "

/* FNVs of the request and action logs as INFER5 wrote them before issue 15's indices (action
 * statuses as on the wire since issue 16), and as INFER6 wrote them when it came (issue 16);
 * retaken once for issue 15's precise workers: INFER5 counts a result's lateness once on its GPU
 * timeline, and a simulated Infer awaits an overrunning transfer of its weights as the worker does
 * (this moves INFER6 where loads overrun: the 8-GPU small-cache and fill_memory runs). A change
 * that alters a decision fails here: make sure it is meant to (bench/sim_identity.sh compares the
 * large configurations), then update the values from the printed ones. */
static const struct {
    const char *cmd;
    uint64_t req_fnv, act_fnv;
} FINGERPRINTS[] = {
    {PINNED5 "--seed 7 " FIG7_SHORT, 0xd3ef283f0fa07bdaULL, 0x2b35bd8be1c1d872ULL},
    /* 25 resnet50_v2 copies per GPU with room for 4: evictions, stale loads, status 20 */
    {PINNED5 "-q --gpus 8 --cache-size 536870912 --seed 3 -d 4 INFER5 0 8 5000000 -- poisson-open-loop 200 2000",
     0x6a1b08bbfbace465ULL, 0x22cb2af59f3ca1caULL},
    /* fill_memory on two workers of two GPUs: a hot model replicated, the cold ones cycled */
    {PINNED5 "-q -w 2 -g 2 --cache-size 335544320 --seed 3 -d 5 INFER5 0 4 5000000 -- fill_memory",
     0x3e0d5b574996f2bdULL, 0x0332a2bd5874dfb2ULL},
    /* 300 GPUs, 1200 models: load placement by GPU load, ticks over many GPUs */
    {PINNED5 "-q --gpus 300 --seed 2 -d 0.5 INFER5 0 300 5000000 -- poisson-open-loop 1200 12000",
     0x5b797dd35b3459adULL, 0x31863cdf47e473d1ULL},
    {PINNED6 "--seed 7 " FIG7_SHORT6, 0x2b988f394d49eb86ULL, 0xc1200e93ebfd4d1cULL},
    {PINNED6 "-q --gpus 8 --cache-size 536870912 --seed 3 -d 4 INFER6 0 8 5000000 -- poisson-open-loop 200 2000",
     0x9b81381ae3389e24ULL, 0x888bb924bb15da82ULL},
    {PINNED6 "-q -w 2 -g 2 --cache-size 335544320 --seed 3 -d 5 INFER6 0 4 5000000 -- fill_memory",
     0xef21686efac5f21aULL, 0x1b690c5445b55dfeULL},
    {PINNED6 "-q --gpus 300 --seed 2 -d 0.5 INFER6 0 300 5000000 -- poisson-open-loop 1200 12000",
     0x768b623fef5ae047ULL, 0x6c0f5afa5a7b2de4ULL},
};

static void test_decisions_unchanged(void **state)
{
    (void)state;
    unsigned wrong = 0;
    for (size_t i = 0; i < sizeof FINGERPRINTS / sizeof FINGERPRINTS[0]; i++) {
        struct run_files r;
        run_into(FINGERPRINTS[i].cmd, &r);
        uint64_t req = ts_fnv(r.req, r.req_len), act = ts_fnv(r.act, r.act_len);
        printf("%s\n  request log fnv 0x%016llxULL, action log fnv 0x%016llxULL\n", FINGERPRINTS[i].cmd,
               (unsigned long long)req, (unsigned long long)act);
        wrong += req != FINGERPRINTS[i].req_fnv || act != FINGERPRINTS[i].act_fnv;
        free_files(&r);
    }
    assert_int_equal(wrong, 0);
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
        cmocka_unit_test(test_decisions_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
