/* Model paths resolve inside the worker's model directory by their NAME/model tail, whatever
 * directory the client's zoo is in, and never outside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/model_path.h"
#include <stdlib.h>
#include <string.h>

static void resolves(const char *prefix, const char *expect)
{
    char out[512], err[256] = "";
    assert_int_equal(model_path_resolve("/zoo", prefix, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, expect);
}

static void refused(const char *prefix)
{
    char out[512], err[256] = "";
    assert_int_equal(model_path_resolve("/zoo", prefix, out, sizeof out, err, sizeof err), -1);
    assert_non_null(strstr(err, "model path"));
    assert_null(strchr(err, '\n'));
}

static void test_inside_the_model_directory(void **state)
{
    (void)state;
    resolves("/zoo/resnet50_v2/model", "/zoo/resnet50_v2/model");
    resolves("/home/other/zoo/resnet50_v2/model", "/zoo/resnet50_v2/model"); /* another machine's zoo */
    resolves("resnet50_v2/model", "/zoo/resnet50_v2/model");
    resolves("/tmp/outside/evil/model", "/zoo/evil/model"); /* a planted model elsewhere is never read */
    resolves("model", "/zoo/model");
}

static void test_escapes_refused(void **state)
{
    (void)state;
    refused("/zoo/../model");
    refused("/etc/passwd/..");
    refused("../../x");
    refused("/zoo/./model");
    refused("/zoo/a/");
    refused("");
    refused("/zoo/evil\n/model");
    refused("/zoo/a\nERROR: Worker 0 lost/model");
    char small[8], err[128];
    assert_int_equal(model_path_resolve("/zoo", "/a/very/long/path/model", small, sizeof small, err, sizeof err), -1);
}

static void test_default_directory(void **state)
{
    (void)state;
    setenv("CLOCKWORK_MODEL_DIR", "/somewhere", 1);
    assert_string_equal(model_path_default_dir(), "/somewhere");
    unsetenv("CLOCKWORK_MODEL_DIR");
    assert_non_null(strstr(model_path_default_dir(), "/modelzoo"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_the_model_directory),
        cmocka_unit_test(test_escapes_refused),
        cmocka_unit_test(test_default_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
