/* The Azure trace reader on small generated day files: format, sorting busiest first, the day
 * file name, and malformed input (each error names the file and line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload/azure.h"

struct tmpdir {
    char dir[64];
    char path[128];
};

static void write_header(FILE *f)
{
    fputs("HashOwner,HashApp,HashFunction,Trigger", f);
    for (int m = 1; m <= AZURE_MINUTES; m++)
        fprintf(f, ",%d", m);
    fputs("\r\n", f); /* CRLF, as some copies of the dataset have */
}

/* A row whose minute m has count base + (m % 3), except `bad` replaces minute 8 if set. */
static void write_row(FILE *f, const char *id, unsigned base, const char *bad, int fields)
{
    fprintf(f, "o%s,a%s,f%s,http", id, id, id);
    for (int m = 1; m <= fields; m++) {
        if (bad && m == 8)
            fprintf(f, ",%s", bad);
        else
            fprintf(f, ",%u", base + (unsigned)(m % 3));
    }
    fputs("\n", f);
}

static FILE *open_day(struct tmpdir *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/cw-azure-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/invocations_per_function_md.anon.d01.csv", t->dir);
    FILE *f = fopen(t->path, "w");
    assert_non_null(f);
    return f;
}

static void cleanup(struct tmpdir *t)
{
    unlink(t->path);
    rmdir(t->dir);
}

static void test_reads_and_sorts(void **state)
{
    (void)state;
    struct tmpdir t;
    FILE *f = open_day(&t);
    write_header(f);
    write_row(f, "1", 0, NULL, AZURE_MINUTES);  /* total 1440 */
    write_row(f, "2", 10, NULL, AZURE_MINUTES); /* the busiest */
    write_row(f, "3", 0, NULL, AZURE_MINUTES);  /* ties with 1: file order kept */
    fputs("\n", f);                             /* a trailing empty line is fine */
    fclose(f);
    char path[256], err[512];
    assert_int_equal(azure_trace_path(t.dir, 1, path, sizeof path), 0);
    assert_string_equal(path, t.path);
    assert_int_equal(azure_trace_path(t.dir, 0, path, sizeof path), -1);
    assert_int_equal(azure_trace_path(t.dir, 15, path, sizeof path), -1);
    struct azure_trace tr;
    assert_int_equal(azure_trace_load(t.path, &tr, err, sizeof err), 0);
    assert_int_equal(tr.n_functions, 3);
    assert_int_equal(tr.totals[0], 1440 * 10 + 1440);
    assert_int_equal(tr.totals[1], 1440);
    assert_int_equal(tr.totals[2], 1440);
    assert_int_equal(azure_trace_row(&tr, 0)[0], 11); /* minute 1: 10 + 1 % 3 */
    assert_int_equal(azure_trace_row(&tr, 0)[1], 12);
    assert_int_equal(azure_trace_row(&tr, 0)[AZURE_MINUTES - 1], 10); /* minute 1440 % 3 == 0 */
    azure_trace_free(&tr);
    cleanup(&t);
}

/* Writes a day file with a malformed third line and checks the error names file:3. */
static void expect_bad_row(const char *bad, int fields, const char *what)
{
    struct tmpdir t;
    FILE *f = open_day(&t);
    write_header(f);
    write_row(f, "1", 1, NULL, AZURE_MINUTES);
    write_row(f, "2", 1, bad, fields);
    fclose(f);
    struct azure_trace tr;
    char err[512], where[160];
    assert_int_equal(azure_trace_load(t.path, &tr, err, sizeof err), -1);
    snprintf(where, sizeof where, "%s:3:", t.path);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, what));
    cleanup(&t);
}

static void test_malformed_rows(void **state)
{
    (void)state;
    expect_bad_row("x7", AZURE_MINUTES, "minute 8");
    expect_bad_row("-3", AZURE_MINUTES, "non-negative integer");
    expect_bad_row("", AZURE_MINUTES, "minute 8");
    expect_bad_row("99999999999", AZURE_MINUTES, "minute 8");
    expect_bad_row(NULL, AZURE_MINUTES - 1, "got 1443");
    expect_bad_row(NULL, AZURE_MINUTES + 1, "got 1445");
}

static void test_bad_files(void **state)
{
    (void)state;
    struct tmpdir t;
    struct azure_trace tr;
    char err[512];
    FILE *f = open_day(&t);
    fclose(f);
    assert_int_equal(azure_trace_load(t.path, &tr, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty file"));
    f = fopen(t.path, "w");
    write_row(f, "1", 1, NULL, AZURE_MINUTES); /* no header */
    fclose(f);
    assert_int_equal(azure_trace_load(t.path, &tr, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1: expected the header row"));
    f = fopen(t.path, "w");
    write_header(f);
    fclose(f);
    assert_int_equal(azure_trace_load(t.path, &tr, err, sizeof err), -1);
    assert_non_null(strstr(err, "no function rows"));
    cleanup(&t);
    assert_int_equal(azure_trace_load("/nonexistent/d01.csv", &tr, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read Azure trace /nonexistent/d01.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_and_sorts),
        cmocka_unit_test(test_malformed_rows),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
