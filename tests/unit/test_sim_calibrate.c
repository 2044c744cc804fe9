/* clockwork-sim --calibrate: a simulated run with known overheads stands in for a live run;
 * fitting its action log gives those overheads back; the saved file, read with --overheads,
 * gives the same model; unreadable logs and bad files are clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/calibrate.h"
#include "test_sim_helpers.h"

#define KNOWN                                                                                                          \
    "--ctl-worker 40+60 --worker-result 100+50 --worker-ctl 20+30 --exec-turnaround 60+40 "                            \
    "--exec-wakeup 15+25"
#define RUN " 0 6 5000000 -- slo-exp-1 resnet50_v2 12 poisson 1200 2 100 2 mul 2"

static void assert_near(uint64_t got_ns, double want_us, double tol_us)
{
    double got = (double)got_ns / 1000.0;
    if (got < want_us - tol_us || got > want_us + tol_us)
        fail_msg("fitted %.1f us, expected %.1f +- %.1f", got, want_us, tol_us);
}

static void fit_run_with(const char *extra, const char *type, struct sim_calibration *c, char **dir)
{
    char cmd[512];
    struct sim_stats st;
    *dir = ts_tmpdir();
    assert_non_null(*dir);
    snprintf(cmd, sizeof cmd, "-q --gpus 6 --seed 2 " KNOWN " %s %s" RUN, extra, type);
    assert_int_equal(ts_run(cmd, *dir, NULL, &st), 0);
    char err[512];
    assert_int_equal(sim_calibrate(*dir, c, err, sizeof err), 0);
}

static void fit_run(const char *type, struct sim_calibration *c, char **dir) { fit_run_with("", type, c, dir); }

static void check_known(const struct sim_calibration *c)
{
    assert_true(c->infers > 10000);
    assert_near(c->lat.hop[HOP_CTL_TO_WORKER].base, 40, 3);
    assert_near(c->lat.hop[HOP_CTL_TO_WORKER].jitter, 60, 5);
    assert_near(c->lat.hop[HOP_WORKER_RESULT].base, 100, 3);
    assert_near(c->lat.hop[HOP_WORKER_RESULT].jitter, 50, 4);
    assert_near(c->lat.hop[HOP_WORKER_TO_CTL].base, 20, 3);
    assert_near(c->lat.hop[HOP_WORKER_TO_CTL].jitter, 30, 3);
    assert_near(c->lat.hop[HOP_EXEC_TURNAROUND].base, 60, 4);
    assert_near(c->lat.hop[HOP_EXEC_TURNAROUND].jitter, 40, 5);
    assert_near(c->lat.hop[HOP_EXEC_WAKEUP].base, 15, 3);
    assert_near(c->lat.hop[HOP_EXEC_WAKEUP].jitter, 25, 4);
}

static void test_fit_recovers_known_overheads(void **state)
{
    (void)state;
    struct sim_calibration c5, c6;
    char *d5, *d6;
    fit_run("INFER5", &c5, &d5); /* commits ahead: many turnarounds */
    fit_run("INFER6", &c6, &d6); /* just in time: many idle-executor starts */
    check_known(&c5);
    check_known(&c6);
    assert_int_equal(c5.client_tick_ns, 0); /* Poisson arrivals: no client tick */
    assert_int_equal(c6.client_tick_ns, 0);
    ts_rmdir(d5);
    ts_rmdir(d6);
    free(d5);
    free(d6);
}

/* A client that sends on a 1 ms timer bunches its requests; the fit sees the tick. */
static void test_fit_finds_client_tick(void **state)
{
    (void)state;
    struct sim_calibration c;
    char *dir;
    fit_run_with("--client-tick-us 1000 --client-ctl 20", "INFER6", &c, &dir);
    assert_near(c.client_tick_ns, 1000, 100);
    assert_true(c.bunched > 0.4);
    ts_rmdir(dir);
    free(dir);
}

/* Rare stalls on top of the jitter: the fit finds their size and frequency beyond the 99th. */
static void test_fit_finds_stall_tail(void **state)
{
    (void)state;
    struct sim_calibration c;
    char *dir;
    fit_run_with("--worker-result 100+50+800@0.02", "INFER5", &c, &dir);
    const struct sim_delay *d = &c.lat.hop[HOP_WORKER_RESULT];
    assert_near(d->base, 100, 5);
    assert_near(d->jitter, 50, 6);
    assert_near(d->tail, 800, 200);
    assert_true(d->tail_prob > 0.012 && d->tail_prob < 0.03);
    assert_true(c.lat.hop[HOP_WORKER_TO_CTL].tail_prob < 0.003); /* none where there was none */
    ts_rmdir(dir);
    free(dir);
}

static int parse(struct sim_options *o, const char *cmdline, char *err, size_t errlen)
{
    char buf[1024], *argv[32], *save = NULL;
    int argc = 0;
    snprintf(buf, sizeof buf, "clockwork-sim %s", cmdline);
    for (char *t = strtok_r(buf, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    return sim_options_parse(o, argc, argv, err, errlen);
}

static void test_saved_file_reads_back(void **state)
{
    (void)state;
    struct sim_calibration c;
    char *dir, path[600], cmd[800], err[512];
    fit_run("INFER6", &c, &dir);
    snprintf(path, sizeof path, "%s/sim_overheads.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    sim_calibration_write(f, &c, dir);
    fclose(f);
    struct sim_options *o = malloc(sizeof *o);
    snprintf(cmd, sizeof cmd, "--overheads %s INFER6 -- simple", path);
    assert_int_equal(parse(o, cmd, err, sizeof err), SIM_OPTIONS_OK);
    for (int h = 0; h < SIM_N_HOPS; h++) { /* the file keeps 0.1 us */
        assert_near(o->cfg.lat.hop[h].base, (double)c.lat.hop[h].base / 1000.0, 0.051);
        assert_near(o->cfg.lat.hop[h].jitter, (double)c.lat.hop[h].jitter / 1000.0, 0.051);
    }
    snprintf(cmd, sizeof cmd, "--overheads %s --ctl-worker 7 INFER6 -- simple", path);
    assert_int_equal(parse(o, cmd, err, sizeof err), SIM_OPTIONS_OK); /* later options override */
    assert_int_equal(o->cfg.lat.hop[HOP_CTL_TO_WORKER].base, 7000);
    assert_int_equal(o->cfg.lat.hop[HOP_CTL_TO_WORKER].jitter, 0);
    assert_int_equal(parse(o, "--ctl-worker 10+5+700@0.01 INFER6 -- simple", err, sizeof err), SIM_OPTIONS_OK);
    assert_int_equal(o->cfg.lat.hop[HOP_CTL_TO_WORKER].tail, 700000);
    assert_true(o->cfg.lat.hop[HOP_CTL_TO_WORKER].tail_prob == 0.01);
    assert_int_equal(parse(o, "--ctl-worker 10+5+700 INFER6 -- simple", err, sizeof err), SIM_OPTIONS_ERROR);
    assert_int_equal(parse(o, "--ctl-worker 10+5+700@2 INFER6 -- simple", err, sizeof err), SIM_OPTIONS_ERROR);
    snprintf(cmd, sizeof cmd, "--calibrate %s", dir);
    assert_int_equal(parse(o, cmd, err, sizeof err), SIM_OPTIONS_CALIBRATE);
    assert_string_equal(o->overheads_out, path);
    free(o);
    unlink(path);
    ts_rmdir(dir);
    free(dir);
}

static void test_errors_are_clear(void **state)
{
    (void)state;
    struct sim_calibration c;
    char err[512];
    assert_int_equal(sim_calibrate("/nonexistent/cw", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent/cw/clockwork_action_log.tsv"));
    char *dir = ts_tmpdir(), path[600];
    snprintf(path, sizeof path, "%s/clockwork_action_log.tsv", dir);
    FILE *f = fopen(path, "w");
    fputs("t\taction_id\taction_type\n1\t2\t2\n", f);
    fclose(f);
    assert_int_equal(sim_calibrate(dir, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "no column 'status'"));
    snprintf(path, sizeof path, "%s/bad_overheads.txt", dir);
    f = fopen(path, "w");
    fputs("# comment\nctl-worker 10+5\nno-such-hop 3\n", f);
    fclose(f);
    struct sim_options *o = malloc(sizeof *o);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "--overheads %s INFER6 -- simple", path);
    assert_int_equal(parse(o, cmd, err, sizeof err), SIM_OPTIONS_ERROR);
    assert_non_null(strstr(err, "--overheads"));
    free(o);
    unlink(path);
    ts_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_recovers_known_overheads),
        cmocka_unit_test(test_fit_finds_client_tick),
        cmocka_unit_test(test_fit_finds_stall_tail),
        cmocka_unit_test(test_saved_file_reads_back),
        cmocka_unit_test(test_errors_are_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
