/* model_shape: the batch-1 tensor shapes `convert` records in PREFIX.info, read back for the
 * HTTP API's model metadata; a missing key is rank 0, a malformed one an error naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/model_shape.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char prefix[64];

/* Writes PREFIX.info with text; returns prefix. */
static const char *info_with(const char *text)
{
    snprintf(prefix, sizeof prefix, "/tmp/test_model_shape.%d", (int)getpid());
    char file[80];
    snprintf(file, sizeof file, "%s.info", prefix);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return prefix;
}

static void remove_info(void)
{
    char file[80];
    snprintf(file, sizeof file, "%s.info", prefix);
    unlink(file);
}

static void test_shapes_read(void **state)
{
    (void)state;
    struct model_shape in, out;
    char err[200];
    const char *p = info_with("input_size = 96L; input_shape = [1, 2, 3, 4]; output_shape = [1, 10];");
    assert_int_equal(model_shape_read(p, &in, &out, err, sizeof err), 0);
    assert_int_equal(in.rank, 4);
    assert_int_equal(in.dims[3], 4);
    assert_int_equal(model_shape_elems(&in), 24);
    assert_int_equal(out.rank, 2);
    assert_int_equal(model_shape_elems(&out), 10);
    remove_info();
}

static void test_missing_keys_are_rank_0(void **state)
{
    (void)state;
    struct model_shape in, out;
    char err[200];
    const char *p = info_with("input_size = 96L; output_shape = [1, 10];");
    assert_int_equal(model_shape_read(p, &in, &out, err, sizeof err), 0);
    assert_int_equal(in.rank, 0);
    assert_int_equal(model_shape_elems(&in), 1);
    assert_int_equal(out.rank, 2);
    remove_info();
}

static void test_bad_shapes_are_errors(void **state)
{
    (void)state;
    struct model_shape in, out;
    char err[200];
    const char *bad[] = {"input_shape = [1, -2];", "input_shape = [1, \"x\"];",
                         "input_shape = [];",      "input_shape = [1, 1, 1, 1, 1, 1, 1, 1, 1];",
                         "output_shape = 3;",      "input_shape = [1,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(model_shape_read(info_with(bad[i]), &in, &out, err, sizeof err), -1);
        assert_non_null(strstr(err, ".info"));
    }
    remove_info();
    assert_int_equal(model_shape_read("/nonexistent/model", &in, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent/model.info"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_read),
        cmocka_unit_test(test_missing_keys_are_rank_0),
        cmocka_unit_test(test_bad_shapes_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
