/* Model paths from another machine's zoo resolve into this worker's $CLOCKWORK_MODEL_DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/model_path.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char zoo[64];

static int setup(void **state)
{
    (void)state;
    snprintf(zoo, sizeof zoo, "/tmp/cw-zoo-XXXXXX");
    if (!mkdtemp(zoo))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/resnet50_v2", zoo);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/resnet50_v2/model.info", zoo);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("input_size = 1L;\n", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/resnet50_v2/model.info", zoo);
    unlink(path);
    snprintf(path, sizeof path, "%s/resnet50_v2", zoo);
    rmdir(path);
    rmdir(zoo);
    unsetenv("CLOCKWORK_MODEL_DIR");
    return 0;
}

static void test_resolution(void **state)
{
    (void)state;
    char out[512], local[256];
    snprintf(local, sizeof local, "%s/resnet50_v2/model", zoo);
    unsetenv("CLOCKWORK_MODEL_DIR");
    /* an existing path is used as is */
    assert_int_equal(model_path_resolve(local, out, sizeof out), 0);
    assert_string_equal(out, local);
    /* another machine's path: unchanged without a zoo of our own */
    assert_int_equal(model_path_resolve("/home/other/zoo/resnet50_v2/model", out, sizeof out), 0);
    assert_string_equal(out, "/home/other/zoo/resnet50_v2/model");
    setenv("CLOCKWORK_MODEL_DIR", zoo, 1);
    assert_int_equal(model_path_resolve("/home/other/zoo/resnet50_v2/model", out, sizeof out), 0);
    assert_string_equal(out, local);
    assert_int_equal(model_path_resolve("resnet50_v2/model", out, sizeof out), 0);
    assert_string_equal(out, local);
    /* a model this machine does not have keeps its path (the load then fails naming it) */
    assert_int_equal(model_path_resolve("/x/zoo/missing/model", out, sizeof out), 0);
    assert_string_equal(out, "/x/zoo/missing/model");
    char small[8];
    assert_int_equal(model_path_resolve("/a/very/long/path/model", small, sizeof small), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resolution, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
