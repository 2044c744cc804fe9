/* Model zoo scanning (workload/zoo.h) on a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workload/zoo.h"

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x\n", f);
    fclose(f);
}

static void test_zoo_scan(void **state)
{
    (void)state;
    char dir[] = "/tmp/cw_zoo_XXXXXX", p[512];
    assert_non_null(mkdtemp(dir));
    const char *models[] = {"resnet50_v2", "alexnet", "resnet18_v2"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, models[i]);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/%s/model.info", dir, models[i]);
        touch(p);
    }
    snprintf(p, sizeof p, "%s/not_a_model", dir); /* no model.info */
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/stray_file", dir);
    touch(p);

    struct zoo z;
    char err[256];
    assert_int_equal(zoo_scan(&z, dir, err, sizeof err), 0);
    assert_int_equal(z.count, 3);
    assert_string_equal(z.names[0], "alexnet"); /* sorted */
    assert_string_equal(z.names[2], "resnet50_v2");
    char path[4400];
    assert_int_equal(zoo_model_path(&z, "resnet50_v2", path, sizeof path), 0);
    snprintf(p, sizeof p, "%s/resnet50_v2/model", dir);
    assert_string_equal(path, p);
    assert_int_equal(zoo_model_path(&z, "not_a_model", path, sizeof path), -1);
    assert_int_equal(zoo_model_path(&z, "vgg16", path, sizeof path), -1);
    zoo_free(&z);

    assert_int_equal(zoo_scan(&z, "/nonexistent/cw_zoo", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/cw_zoo"));

    setenv("CLOCKWORK_MODEL_DIR", dir, 1);
    assert_string_equal(zoo_default_dir(), dir);
    unsetenv("CLOCKWORK_MODEL_DIR");
    assert_non_null(strstr(zoo_default_dir(), "/modelzoo"));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zoo_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
