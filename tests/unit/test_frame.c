/* Framing and every message type round-trip; malformed frames are rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/frame.h"
#include "proto/clockwork.pb-c.h"
#include "net/skew.h"

static void test_preheader_roundtrip(void **state)
{
    (void)state;
    struct frame_preheader in = {123, 456, 103, 789, 1700000000000000000ULL, -42}, out;
    uint8_t buf[FRAME_PREHEADER_LEN];
    frame_preheader_encode(&in, buf);
    assert_int_equal(buf[0], 123); /* little endian */
    assert_int_equal(buf[8], 456 & 0xff);
    assert_int_equal(buf[9], 456 >> 8);
    frame_preheader_decode(buf, &out);
    assert_memory_equal(&in, &out, sizeof in);
}

static void test_preheader_rejects_oversized(void **state)
{
    (void)state;
    const char *reason = NULL;
    struct frame_preheader ph = {FRAME_MAX_HEADER_LEN + 1, 0, 1, 0, 0, 0};
    assert_int_equal(frame_preheader_check(&ph, FRAME_MAX_BODY_LEN, &reason), -1);
    assert_non_null(reason);
    ph.header_len = 10;
    ph.body_len = 1000;
    assert_int_equal(frame_preheader_check(&ph, 999, &reason), -1);
    assert_int_equal(frame_preheader_check(&ph, 1000, &reason), 0);
}

static void test_skew_estimate(void **state)
{
    (void)state;
    struct clock_skew s;
    clock_skew_init(&s);
    assert_int_equal(clock_skew_offset(&s), 0);
    assert_true(clock_skew_local_min(&s) == INT64_MAX);
    /* peer clock is 1000 behind ours; one-way delay 50 each way */
    clock_skew_update(&s, 10050 + 1000, 10000, 50 - 1000);
    assert_int_equal(clock_skew_offset(&s), 1000);
    assert_int_equal(clock_skew_rtt(&s), 100);
    /* a slower message does not change the minimum */
    clock_skew_update(&s, 20500 + 1000, 20000, 400 - 1000);
    assert_int_equal(clock_skew_offset(&s), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preheader_roundtrip),
        cmocka_unit_test(test_preheader_rejects_oversized),
        cmocka_unit_test(test_skew_estimate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
