/* model_info loading: good files, missing file, missing key, bad values, padding rule. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/model_info.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 16777216ULL

static char dir[64];
static char prefix[128];

static void write_file(const char *suffix, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *GOOD_INFO =
    "input_size = 602112L; output_size = 4000L; weights_size = 112000000L; batch_sizes = [1, 2, 4, 8, 16];\n";
static const char *GOOD_MEAS = "weights = 8400000L; b1 = 2900000L; b2 = 5300000L; b4 = 7500000L; b8 = 12400000L;"
                               " b16 = 22600000L;\n";

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cw_model_info_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(prefix, sizeof prefix, "%s/model", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s.info", prefix);
    unlink(path);
    snprintf(path, sizeof path, "%s.measurements", prefix);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_good_model(void **state)
{
    (void)state;
    write_file(".info", GOOD_INFO);
    write_file(".measurements", GOOD_MEAS);
    struct model_info m;
    char err[256] = "";
    assert_int_equal(model_info_load(&m, prefix, PAGE, err, sizeof err), 0);
    assert_int_equal(m.input_size, 602112);
    assert_int_equal(m.output_size, 4000);
    assert_int_equal(m.weights_size, 112000000);
    assert_int_equal(m.num_weights_pages, 7);
    assert_int_equal(m.weights_load_ns, 8400000);
    assert_int_equal(m.n_batch_sizes, 5);
    assert_int_equal(m.batch_sizes[4], 16);
    assert_int_equal(m.exec_ns[0], 2900000);
    assert_int_equal(m.exec_ns[4], 22600000);
    assert_string_equal(m.source, prefix);
    /* padding */
    assert_int_equal(model_info_padded_batch(&m, 1), 1);
    assert_int_equal(model_info_padded_batch(&m, 3), 4);
    assert_int_equal(model_info_padded_batch(&m, 9), 16);
    assert_int_equal(model_info_padded_batch(&m, 17), 0);
    assert_int_equal(model_info_batch_index(&m, 8), 3);
    assert_int_equal(model_info_batch_index(&m, 3), -1);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct model_info m;
    char err[256] = "", bad[200];
    snprintf(bad, sizeof bad, "%s/nothing/model", dir);
    assert_int_equal(model_info_load(&m, bad, PAGE, err, sizeof err), -1);
    assert_non_null(strstr(err, "nothing/model.info"));
    write_file(".info", GOOD_INFO);
    char meas[256];
    snprintf(meas, sizeof meas, "%s.measurements", prefix);
    unlink(meas);
    assert_int_equal(model_info_load(&m, prefix, PAGE, err, sizeof err), -1);
    assert_non_null(strstr(err, "model.measurements"));
}

static void test_missing_key(void **state)
{
    (void)state;
    struct model_info m;
    char err[256] = "";
    write_file(".info", "input_size = 602112L; weights_size = 1L; batch_sizes = [1];\n");
    write_file(".measurements", GOOD_MEAS);
    assert_int_equal(model_info_load(&m, prefix, PAGE, err, sizeof err), -1);
    assert_non_null(strstr(err, "model.info"));
    assert_non_null(strstr(err, "output_size"));
    /* a batch size without a measurement */
    write_file(".info", "input_size = 1L; output_size = 1L; weights_size = 1L; batch_sizes = [1, 32];\n");
    assert_int_equal(model_info_load(&m, prefix, PAGE, err, sizeof err), -1);
    assert_non_null(strstr(err, "model.measurements"));
    assert_non_null(strstr(err, "b32"));
}

static void test_bad_values(void **state)
{
    (void)state;
    struct model_info m;
    char err[256] = "";
    write_file(".measurements", GOOD_MEAS);
    write_file(".info", "input_size = -5; output_size = 1L; weights_size = 1L; batch_sizes = [1];\n");
    assert_int_equal(model_info_load(&m, prefix, PAGE, err, sizeof err), -1);
    assert_non_null(strstr(err, "input_size"));
    write_file(".info", "input_size = 1; output_size = 1L; weights_size = 1L; batch_sizes = [4, 2];\n");
    assert_int_equal(model_info_load(&m, prefix, PAGE, err, sizeof err), -1);
    assert_non_null(strstr(err, "batch_sizes"));
    write_file(".info", "input_size = 1; output_size = \"x\"; weights_size = 1L; batch_sizes = [1];\n");
    assert_int_equal(model_info_load(&m, prefix, PAGE, err, sizeof err), -1);
    assert_non_null(strstr(err, "output_size"));
    write_file(".info", "this is not libconfig");
    assert_int_equal(model_info_load(&m, prefix, PAGE, err, sizeof err), -1);
    assert_non_null(strstr(err, "model.info"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_model),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_missing_key),
        cmocka_unit_test(test_bad_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
