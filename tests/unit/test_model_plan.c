/* model.plan / model.weights loading: a valid plan round-trips; malformed headers, truncated
 * files, wrong weights sizes and out-of-range offsets, indices and shapes are refused with a
 * message naming the problem. */
#define _GNU_SOURCE
#include "model/plan.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

struct fixture {
    char dir[64], prefix[128];
    struct plan_tensor t[4];
    struct plan_op op;
    int32_t in, out;
    float w[9];
    struct plan p;
};

/* x [1,2] -> Gemm(w [2,3], b [1,3]) -> y [1,3] */
static void base_plan(struct fixture *f)
{
    memset(f->t, 0, sizeof f->t);
    memset(&f->op, 0, sizeof f->op);
    f->t[0] = (struct plan_tensor){"x", PLAN_ACT, 2, {1, 2}, 0};
    f->t[1] = (struct plan_tensor){"w", PLAN_WEIGHT, 2, {2, 3}, 0};
    f->t[2] = (struct plan_tensor){"b", PLAN_WEIGHT, 2, {1, 3}, 24};
    f->t[3] = (struct plan_tensor){"y", PLAN_ACT, 2, {1, 3}, 0};
    snprintf(f->op.name, sizeof f->op.name, "fc");
    f->op.type = OP_GEMM;
    f->op.n_in = 3;
    f->op.in[0] = 0, f->op.in[1] = 1, f->op.in[2] = 2;
    f->op.out = 3;
    f->in = 0;
    f->out = 3;
    for (int i = 0; i < 9; i++)
        f->w[i] = (float)i;
    f->p = (struct plan){4, 1, 1, 1, f->t, &f->op, &f->in, &f->out, sizeof f->w, f->w};
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cw-plan.XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->prefix, sizeof f->prefix, "%s/model", f->dir);
    base_plan(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[200];
    snprintf(path, sizeof path, "%s.plan", f->prefix);
    unlink(path);
    snprintf(path, sizeof path, "%s.weights", f->prefix);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Saves f->p, loads it back; returns plan_load's rc and the message. */
static int save_load(struct fixture *f, char *err, size_t errlen)
{
    char serr[256];
    assert_int_equal(plan_save(&f->p, f->prefix, serr, sizeof serr), 0);
    struct plan q;
    err[0] = '\0';
    int rc = plan_load(&q, f->prefix, err, errlen);
    if (rc == 0)
        plan_free(&q);
    return rc;
}

static void expect_refused(struct fixture *f, const char *what)
{
    char err[512];
    assert_int_equal(save_load(f, err, sizeof err), -1);
    print_message("    %s\n", err);
    assert_non_null(strstr(err, what));
    assert_non_null(strstr(err, "model.plan: ")); /* names the file */
}

static void test_roundtrip(void **state)
{
    struct fixture *f = *state;
    char err[256];
    assert_int_equal(plan_save(&f->p, f->prefix, err, sizeof err), 0);
    struct plan q;
    assert_int_equal(plan_load(&q, f->prefix, err, sizeof err), 0);
    assert_int_equal(q.n_tensors, 4);
    assert_int_equal(q.ops[0].type, OP_GEMM);
    assert_memory_equal(q.weights, f->w, sizeof f->w);
    plan_free(&q);
}

/* Rewrites PREFIX.SUFFIX as its first `keep` bytes followed by `extra`. */
static void rewrite(const struct fixture *f, const char *suffix, long keep, const char *extra)
{
    char path[200];
    snprintf(path, sizeof path, "%s.%s", f->prefix, suffix);
    assert_int_equal(truncate(path, keep), 0);
    FILE *fp = fopen(path, "ab");
    assert_non_null(fp);
    fputs(extra, fp);
    fclose(fp);
}

static void expect_file_refused(struct fixture *f, const char *suffix, long keep, const char *extra, const char *what)
{
    char err[512];
    assert_int_equal(plan_save(&f->p, f->prefix, err, sizeof err), 0);
    rewrite(f, suffix, keep, extra);
    struct plan q;
    assert_int_equal(plan_load(&q, f->prefix, err, sizeof err), -1);
    print_message("    %s\n", err);
    assert_non_null(strstr(err, what));
}

static void test_bad_magic(void **state)
{
    expect_file_refused(*state, "plan", 0, "NOTAPLAN-and-more-bytes", "bad header");
}
static void test_truncated_header(void **state) { expect_file_refused(*state, "plan", 12, "", "bad header"); }
static void test_truncated_body(void **state) { expect_file_refused(*state, "plan", 40 + 100, "", "truncated"); }
static void test_weights_too_long(void **state)
{
    expect_file_refused(*state, "weights", 36, "x", "plan expects 36 bytes");
}
static void test_weights_short(void **state)
{
    expect_file_refused(*state, "weights", 20, "", "plan expects 36 bytes");
}

static void test_missing_weights(void **state)
{
    struct fixture *f = *state;
    char err[512], path[200];
    assert_int_equal(plan_save(&f->p, f->prefix, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s.weights", f->prefix);
    unlink(path);
    struct plan q;
    assert_int_equal(plan_load(&q, f->prefix, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read"));
}

static void test_huge_counts(void **state)
{
    struct fixture *f = *state;
    char err[512];
    assert_int_equal(plan_save(&f->p, f->prefix, err, sizeof err), 0);
    char path[200];
    snprintf(path, sizeof path, "%s.plan", f->prefix);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    uint32_t huge = 5000000;
    fseek(fp, 8, SEEK_SET); /* n_tensors follows the 8-byte magic */
    fwrite(&huge, sizeof huge, 1, fp);
    fclose(fp);
    struct plan q;
    assert_int_equal(plan_load(&q, f->prefix, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad header"));
}

static void test_weight_offset_outside(void **state)
{
    struct fixture *f = *state;
    f->t[2].offset = 1000;
    expect_refused(f, "tensor 2 (b): weights outside the blob");
}

static void test_weight_offset_overlaps_end(void **state)
{
    struct fixture *f = *state;
    f->t[2].offset = 28; /* 12 bytes from 28 > 36 */
    expect_refused(f, "weights outside the blob");
}

static void test_weight_offset_unaligned(void **state)
{
    struct fixture *f = *state;
    f->t[1].offset = 2;
    expect_refused(f, "tensor 1 (w): weights outside the blob");
}

static void test_bad_rank(void **state)
{
    struct fixture *f = *state;
    f->t[0].ndim = 0;
    expect_refused(f, "tensor 0 (x): bad rank or kind");
    base_plan(f);
    f->t[0].ndim = PLAN_MAX_DIMS + 1;
    expect_refused(f, "bad rank or kind");
    base_plan(f);
    f->t[3].kind = 7;
    expect_refused(f, "tensor 3 (y): bad rank or kind");
}

static void test_bad_dims(void **state)
{
    struct fixture *f = *state;
    f->t[0].dims[1] = 0;
    expect_refused(f, "tensor 0 (x): bad dimension");
    base_plan(f);
    f->t[3].dims[1] = -5;
    expect_refused(f, "bad dimension");
    base_plan(f);
    f->t[3].dims[0] = 1 << 20, f->t[3].dims[1] = 1 << 20;
    expect_refused(f, "bad dimension");
}

static void test_op_input_out_of_range(void **state)
{
    struct fixture *f = *state;
    f->op.in[1] = 99;
    expect_refused(f, "op 0 (fc): input 1 undefined");
    base_plan(f);
    f->op.in[0] = -1;
    expect_refused(f, "op 0 (fc): input 0 undefined");
}

static void test_op_reads_undefined(void **state)
{
    struct fixture *f = *state;
    f->op.in[0] = 3; /* its own output: not topologically ordered */
    expect_refused(f, "input 0 undefined");
}

static void test_op_bad_output_type_arity(void **state)
{
    struct fixture *f = *state;
    f->op.out = 4;
    expect_refused(f, "op 0 (fc): bad type, arity or output");
    base_plan(f);
    f->op.out = 1; /* a weight */
    expect_refused(f, "bad type, arity or output");
    base_plan(f);
    f->op.type = 99;
    expect_refused(f, "bad type, arity or output");
    base_plan(f);
    f->op.n_in = PLAN_MAX_IN + 1;
    expect_refused(f, "bad type, arity or output");
}

static void test_bad_io_ids(void **state)
{
    struct fixture *f = *state;
    f->out = 42;
    expect_refused(f, "bad output tensor id");
    base_plan(f);
    f->in = 1; /* a weight */
    expect_refused(f, "bad input tensor id");
    base_plan(f);
    f->p.n_outputs = 0;
    expect_refused(f, "no inputs, outputs or ops");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_roundtrip),
        T(test_bad_magic),
        T(test_truncated_header),
        T(test_truncated_body),
        T(test_weights_too_long),
        T(test_weights_short),
        T(test_missing_weights),
        T(test_huge_counts),
        T(test_weight_offset_outside),
        T(test_weight_offset_overlaps_end),
        T(test_weight_offset_unaligned),
        T(test_bad_rank),
        T(test_bad_dims),
        T(test_op_input_out_of_range),
        T(test_op_reads_undefined),
        T(test_op_bad_output_type_arity),
        T(test_bad_io_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
