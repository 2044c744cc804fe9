/* Frames captured from the original Clockwork's binaries (tests/wire-golden/, see its README):
 * every one goes through our frame reader and schema; its pre-header, body and every decoded
 * field must equal the README's catalogue; re-encoding the decoded header must give the
 * captured bytes back. A schema that drifts from the original's (a field missing, renumbered or
 * of another type) fails here: the frame no longer decodes, leaves unknown fields, prints other
 * fields or re-encodes differently -- test_schema_drift_is_caught proves it on a tampered copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "golden_frames.h"
#include "proto/clockwork.pb-c.h"
#include "proto/frame.h"
#include <dirent.h>

static const ProtobufCMessageDescriptor *const ALL_MESSAGES[] = {
#define CW_MESSAGE(d) &d,
#define CW_ENUM(d)
#include "proto/clockwork_descriptors.inc"
#undef CW_MESSAGE
#undef CW_ENUM
};

static const ProtobufCMessageDescriptor *message_named(const char *name)
{
    for (size_t i = 0; i < sizeof ALL_MESSAGES / sizeof ALL_MESSAGES[0]; i++)
        if (!strcmp(ALL_MESSAGES[i]->short_name, name))
            return ALL_MESSAGES[i];
    return NULL;
}

/* The frame, cut into 7-byte reads, through the frame reader: exactly one message. */
static void read_frame(const uint8_t *data, size_t len, struct frame_reader *r, struct frame_message *m)
{
    frame_reader_init(r, FRAME_MAX_BODY_LEN);
    int got = 0;
    for (size_t off = 0; off < len; off += 7) {
        size_t n = len - off < 7 ? len - off : 7, avail;
        uint8_t *dst = frame_reader_reserve(r, n, &avail);
        assert_non_null(dst);
        memcpy(dst, data + off, n);
        frame_reader_commit(r, n);
        const char *reason = NULL;
        int rc = frame_reader_next(r, m, &reason);
        assert_int_not_equal(rc, -1);
        got += rc;
        if (rc == 1)
            assert_int_equal(off + n, len); /* complete only with its last byte */
    }
    assert_int_equal(got, 1);
    assert_int_equal(frame_reader_pending(r), 0);
}

/* Decodes the header with d and compares it with the catalogue; NULL if all agrees, else what
 * differs (in why). */
static const char *check_header(const struct golden_entry *e, const ProtobufCMessageDescriptor *d,
                                const struct frame_message *m, char *why, size_t len)
{
    ProtobufCMessage *msg = protobuf_c_message_unpack(d, NULL, m->ph.header_len, m->header);
    if (!msg) {
        snprintf(why, len, "%s: header does not decode as %s", e->name, d->short_name);
        return why;
    }
    struct golden_printed p = {.n = 0};
    golden_print_message(msg, "", &p);
    uint8_t *again = malloc(m->ph.header_len + 1);
    size_t packed = protobuf_c_message_get_packed_size(msg);
    size_t n = packed == m->ph.header_len ? protobuf_c_message_pack(msg, again) : 0;
    why[0] = '\0';
    if (msg->n_unknown_fields)
        snprintf(why, len, "%s: %u field(s) unknown to our schema", e->name, msg->n_unknown_fields);
    else if (p.overflow || p.n != e->n_fields)
        snprintf(why, len, "%s: %u fields decoded, the original's %u", e->name, p.n, e->n_fields);
    for (unsigned i = 0; !why[0] && i < p.n; i++)
        if (strcmp(p.fields[i].path, e->fields[i].path) || strcmp(p.fields[i].value, e->fields[i].value))
            snprintf(why, len, "%s: field %u is %s = %s, the original's %s = %s", e->name, i, p.fields[i].path,
                     p.fields[i].value, e->fields[i].path, e->fields[i].value);
    if (!why[0] && (packed != m->ph.header_len || n != packed || memcmp(again, m->header, n)))
        snprintf(why, len, "%s: re-encoded header differs from the captured bytes (%zu vs %llu bytes)", e->name, packed,
                 (unsigned long long)m->ph.header_len);
    free(again);
    protobuf_c_message_free_unpacked(msg, NULL);
    return why[0] ? why : NULL;
}

static void check_preheader(const struct golden_entry *e, const struct frame_message *m)
{
    assert_int_equal(m->ph.header_len, e->header_len);
    assert_int_equal(m->ph.body_len, e->body_len);
    assert_int_equal(m->ph.msg_type, e->msg_type);
    assert_int_equal(m->ph.msg_id, e->msg_id);
    assert_int_equal(m->ph.send_time, e->send_ts);
    assert_int_equal(m->ph.peer_offset, e->delta);
    /* our encoder writes the same 48 bytes */
    uint8_t pre[FRAME_PREHEADER_LEN];
    frame_preheader_encode(&m->ph, pre);
    assert_memory_equal(pre, m->header - FRAME_PREHEADER_LEN, FRAME_PREHEADER_LEN);
    if (e->has_body_prefix)
        assert_memory_equal(m->body, e->body_prefix, 16);
}

static void test_every_frame_matches_its_catalogue_entry(void **state)
{
    (void)state;
    struct golden_readme g;
    golden_readme_load(&g);
    assert_true(g.n_entries >= 28);
    for (unsigned i = 0; i < g.n_entries; i++) {
        const struct golden_entry *e = &g.entries[i];
        size_t len;
        uint8_t *data = golden_read(e->name, &len);
        assert_int_equal(len, e->file_size);
        assert_int_equal(e->file_size, FRAME_PREHEADER_LEN + e->header_len + e->body_len);
        struct frame_reader r;
        struct frame_message m;
        read_frame(data, len, &r, &m);
        check_preheader(e, &m);
        const ProtobufCMessageDescriptor *d = message_named(e->message);
        if (!d)
            fail_msg("%s: our schema has no message %s", e->name, e->message);
        char why[512];
        const char *bad = check_header(e, d, &m, why, sizeof why);
        if (bad)
            fail_msg("%s", bad);
        frame_reader_free(&r);
        free(data);
    }
    golden_readme_free(&g);
}

/* The catalogue covers every file on disk, and every entry has its file. */
static void test_catalogue_covers_every_file(void **state)
{
    (void)state;
    static const char *const dirs[] = {"client_to_controller", "controller_to_client", "controller_to_worker",
                                       "worker_to_controller"};
    struct golden_readme g;
    golden_readme_load(&g);
    unsigned files = 0;
    for (size_t i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, dirs[i]);
        DIR *dir = opendir(path);
        assert_non_null(dir);
        for (struct dirent *de; (de = readdir(dir));) {
            if (!strstr(de->d_name, ".bin"))
                continue;
            char name[300];
            snprintf(name, sizeof name, "%s/%s", dirs[i], de->d_name);
            if (!golden_find(&g, name))
                fail_msg("%s is not in the README's catalogue", name);
            files++;
        }
        closedir(dir);
    }
    assert_int_equal(files, g.n_entries);
    golden_readme_free(&g);
}

/* A copy of LoadWeightsActionProto's descriptor with expected_duration as fixed64 (the drift
 * this project once had) must be caught, and so must a message that lacks fields. */
static void test_schema_drift_is_caught(void **state)
{
    (void)state;
    struct golden_readme g;
    golden_readme_load(&g);
    char why[512];
    struct frame_reader r;
    struct frame_message m;
    size_t len;

    const struct golden_entry *e = golden_find(&g, "controller_to_worker/002_load_weights_action.bin");
    assert_non_null(e);
    uint8_t *data = golden_read(e->name, &len);
    read_frame(data, len, &r, &m);
    const ProtobufCMessageDescriptor *real = &clockwork__load_weights_action_proto__descriptor;
    assert_null(check_header(e, real, &m, why, sizeof why));
    ProtobufCFieldDescriptor fields[16];
    memcpy(fields, real->fields, real->n_fields * sizeof fields[0]);
    ProtobufCMessageDescriptor drifted = *real;
    drifted.fields = fields;
    assert_string_equal(fields[5].name, "expected_duration");
    fields[5].type = PROTOBUF_C_TYPE_FIXED64;
    assert_non_null(check_header(e, &drifted, &m, why, sizeof why));
    frame_reader_free(&r);
    free(data);

    /* LoadModelFromDisk decoded with GetWorkerStateAction's schema: unknown fields */
    e = golden_find(&g, "controller_to_worker/001_load_model_from_disk_action.bin");
    assert_non_null(e);
    data = golden_read(e->name, &len);
    read_frame(data, len, &r, &m);
    assert_non_null(check_header(e, &clockwork__get_worker_state_action_proto__descriptor, &m, why, sizeof why));
    assert_non_null(strstr(why, "unknown"));
    frame_reader_free(&r);
    free(data);
    golden_readme_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_frame_matches_its_catalogue_entry),
        cmocka_unit_test(test_catalogue_covers_every_file),
        cmocka_unit_test(test_schema_drift_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
