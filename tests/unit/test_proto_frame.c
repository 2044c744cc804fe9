/* Framing (proto/frame.h): preheaders round-trip, the reader reassembles frames from any
 * split, malformed frames are rejected; messages decode the same through the arena allocator
 * (proto/pb_arena.h), small ones inside it and larger ones partly on the heap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/clockwork.pb-c.h"
#include "proto/pb_arena.h"

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

static size_t put_frame(uint8_t *out, uint64_t type, const char *header, const char *body)
{
    struct frame_preheader ph = {strlen(header), strlen(body), type, 1, 0, INT64_MAX};
    frame_preheader_encode(&ph, out);
    memcpy(out + FRAME_PREHEADER_LEN, header, strlen(header));
    memcpy(out + FRAME_PREHEADER_LEN + strlen(header), body, strlen(body));
    return FRAME_PREHEADER_LEN + strlen(header) + strlen(body);
}

/* Two frames fed in every possible split come out whole, in order. */
static void test_reader_every_split(void **state)
{
    (void)state;
    uint8_t stream[256];
    size_t n = put_frame(stream, 2, "hdr", "body");
    n += put_frame(stream + n, 105, "h2", "");
    for (size_t cut = 0; cut <= n; cut++) {
        struct frame_reader r;
        frame_reader_init(&r, 1024);
        uint64_t types[2];
        unsigned got = 0;
        size_t parts[2] = {cut, n - cut}, pos = 0;
        for (int p = 0; p < 2; p++) {
            size_t avail;
            uint8_t *dst = frame_reader_reserve(&r, parts[p] ? parts[p] : 1, &avail);
            assert_non_null(dst);
            memcpy(dst, stream + pos, parts[p]);
            frame_reader_commit(&r, parts[p]);
            pos += parts[p];
            struct frame_message m;
            const char *reason;
            while (frame_reader_next(&r, &m, &reason) == 1) {
                assert_true(got < 2);
                types[got++] = m.ph.msg_type;
                if (m.ph.msg_type == 2) {
                    assert_memory_equal(m.header, "hdr", 3);
                    assert_memory_equal(m.body, "body", 4);
                }
            }
            frame_reader_compact(&r, 0);
        }
        assert_int_equal(got, 2);
        assert_int_equal(types[0], 2);
        assert_int_equal(types[1], 105);
        assert_int_equal(frame_reader_pending(&r), 0);
        frame_reader_free(&r);
    }
}

static void test_reader_rejects_oversized_body(void **state)
{
    (void)state;
    struct frame_reader r;
    frame_reader_init(&r, 100);
    struct frame_preheader ph = {0, 101, 3, 0, 0, 0};
    size_t avail;
    uint8_t *dst = frame_reader_reserve(&r, FRAME_PREHEADER_LEN, &avail);
    frame_preheader_encode(&ph, dst);
    frame_reader_commit(&r, FRAME_PREHEADER_LEN);
    struct frame_message m;
    const char *reason = NULL;
    assert_int_equal(frame_reader_next(&r, &m, &reason), -1);
    assert_string_equal(reason, "body length exceeds limit");
    frame_reader_free(&r);
}

/* An error result with a message of `len` bytes, packed, then decoded through an arena. */
static void arena_roundtrip(size_t len)
{
    char *text = malloc(len + 1);
    memset(text, 'x', len);
    text[len] = '\0';
    Clockwork__ErrorResultProto in = CLOCKWORK__ERROR_RESULT_PROTO__INIT;
    in.action_id = 77;
    in.action_type = 3;
    in.status = 20;
    in.message = text;
    size_t n = clockwork__error_result_proto__get_packed_size(&in);
    uint8_t *buf = malloc(n);
    clockwork__error_result_proto__pack(&in, buf);
    struct pb_arena arena;
    pb_arena_init(&arena);
    Clockwork__ErrorResultProto *out = clockwork__error_result_proto__unpack(&arena.allocator, n, buf);
    assert_non_null(out);
    assert_int_equal(out->action_id, 77);
    assert_int_equal(out->status, 20);
    assert_string_equal(out->message, text);
    int inside = (uint8_t *)out->message >= arena.buf && (uint8_t *)out->message < arena.buf + sizeof arena.buf;
    assert_int_equal(inside, len < PB_ARENA_BYTES / 2); /* a long message spills to the heap */
    assert_true((uint8_t *)out >= arena.buf && (uint8_t *)out < arena.buf + sizeof arena.buf);
    clockwork__error_result_proto__free_unpacked(out, &arena.allocator); /* frees the heap part (LeakSanitizer) */
    free(buf);
    free(text);
}

static void test_arena_decodes_small_and_large(void **state)
{
    (void)state;
    arena_roundtrip(0);
    arena_roundtrip(100);
    arena_roundtrip(5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preheader_roundtrip),
        cmocka_unit_test(test_preheader_rejects_oversized),
        cmocka_unit_test(test_reader_every_split),
        cmocka_unit_test(test_reader_rejects_oversized_body),
        cmocka_unit_test(test_arena_decodes_small_and_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
