/* Log lines are one line each, cut at a bounded length, whatever a peer put in them; peer
 * strings shown by log_escape are unambiguous and short; a log limit lets a burst through
 * and counts what it dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char seen[4 * LOG_LINE_MAX + 64];

static void observe(void *data, enum log_level level, const char *line)
{
    (void)data, (void)level;
    snprintf(seen, sizeof seen, "%s", line);
}

static void test_lines_cannot_be_forged(void **state)
{
    (void)state;
    log_set_observer(observe, NULL);
    log_info("path=%s", "/zoo/x\nERROR: Worker 0 (1.2.3.4:5) lost: forged");
    assert_null(strchr(seen, '\n'));
    assert_non_null(strstr(seen, "/zoo/x\\x0aERROR: Worker 0"));
    log_info("tab\there, bell\a, utf-8 \xc3\xa9 and a \\backslash");
    assert_string_equal(seen, "tab\\x09here, bell\\x07, utf-8 \xc3\xa9 and a \\backslash");
    char *big = malloc(100001);
    memset(big, 'a', 100000);
    big[100000] = '\0';
    log_info("%s", big);
    assert_true(strlen(seen) < LOG_LINE_MAX + 64);
    assert_non_null(strstr(seen, "(cut, 100000 bytes)"));
    free(big);
    log_set_observer(NULL, NULL);
}

static void test_escape_peer_strings(void **state)
{
    (void)state;
    char out[LOG_ESCAPED_SIZE];
    assert_string_equal(log_escape(out, "plain/path/model"), "plain/path/model");
    assert_string_equal(log_escape(out, "a\nb\\c\xff"), "a\\x0ab\\x5cc\\xff");
    assert_string_equal(log_escape(out, NULL), "");
    char *big = malloc(5001);
    memset(big, '\n', 5000);
    big[5000] = '\0';
    log_escape(out, big);
    assert_int_equal(strlen(out), 4 * LOG_PEER_MAX + strlen("...(+4744 bytes)"));
    assert_non_null(strstr(out, "...(+4744 bytes)"));
    free(big);
}

static void test_rate_limit(void **state)
{
    (void)state;
    struct log_limit l = {0};
    unsigned long long suppressed = 99;
    uint64_t t = 5000000000ull;
    for (int i = 0; i < LOG_LIMIT_BURST; i++)
        assert_true(log_limit_allow(&l, t + (uint64_t)i, &suppressed));
    assert_int_equal(suppressed, 0);
    for (int i = 0; i < 7; i++)
        assert_false(log_limit_allow(&l, t + 500000000ull, &suppressed));
    assert_true(log_limit_allow(&l, t + 1000000000ull, &suppressed)); /* the next second */
    assert_int_equal(suppressed, 7);
    assert_true(log_limit_allow(&l, t + 1000000001ull, &suppressed));
    assert_int_equal(suppressed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_cannot_be_forged),
        cmocka_unit_test(test_escape_peer_strings),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
