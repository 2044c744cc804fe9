/* Our schema against the original's, field for field: every message and enum that protoc-c
 * generated from src/proto/clockwork.proto (the list is generated too, so nothing escapes) is
 * compared with the field table of the original proto/clockwork.proto (HEAD 5917620) committed
 * in tests/wire-golden/README.md: same messages, and per message the same fields with the same
 * names, numbers, labels, types and wire types, none packed and none with a default; same enum
 * values. test_a_drift_is_reported proves the comparison fails on a tampered descriptor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "golden_frames.h"
#include "proto/clockwork.pb-c.h"

static const ProtobufCMessageDescriptor *const MESSAGES[] = {
#define CW_MESSAGE(d) &d,
#define CW_ENUM(d)
#include "proto/clockwork_descriptors.inc"
#undef CW_MESSAGE
#undef CW_ENUM
};
static const ProtobufCEnumDescriptor *const ENUMS[] = {
#define CW_MESSAGE(d)
#define CW_ENUM(d) &d,
#include "proto/clockwork_descriptors.inc"
#undef CW_MESSAGE
#undef CW_ENUM
};
#define N_MESSAGES (sizeof MESSAGES / sizeof MESSAGES[0])
#define N_ENUMS (sizeof ENUMS / sizeof ENUMS[0])

static const char *type_name(const ProtobufCFieldDescriptor *f)
{
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_ENUM] = "enum",
        [PROTOBUF_C_TYPE_STRING] = "string",     [PROTOBUF_C_TYPE_BYTES] = "bytes",
    };
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return ((const ProtobufCMessageDescriptor *)f->descriptor)->short_name;
    return names[f->type];
}

/* The README's names for the wire types. */
static const char *wire_name(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return "64-bit (I64)";
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT: return "32-bit (I32)";
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE: return "length-delimited";
    default: return "varint";
    }
}

static const char *label_name(ProtobufCLabel l)
{
    return l == PROTOBUF_C_LABEL_REQUIRED ? "required" : l == PROTOBUF_C_LABEL_OPTIONAL ? "optional" : "repeated";
}

static const struct golden_schema_row *row_of(const struct golden_readme *g, const char *message, const char *field)
{
    for (unsigned i = 0; i < g->n_rows; i++)
        if (!strcmp(g->rows[i].message, message) && !strcmp(g->rows[i].field, field))
            return &g->rows[i];
    return NULL;
}

static unsigned rows_of(const struct golden_readme *g, const char *message)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g->n_rows; i++)
        n += !strcmp(g->rows[i].message, message);
    return n;
}

/* Differences between one of our messages and the original's table rows for it, printed;
 * returns how many. */
static int compare_message(const struct golden_readme *g, const ProtobufCMessageDescriptor *d)
{
    int bad = 0;
    if (strcmp(d->package_name, "clockwork") != 0) {
        print_error("%s: package %s, the original's is clockwork\n", d->short_name, d->package_name);
        bad++;
    }
    if (rows_of(g, d->short_name) != d->n_fields) {
        print_error("%s: %u fields, the original has %u\n", d->short_name, d->n_fields, rows_of(g, d->short_name));
        bad++;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const struct golden_schema_row *r = row_of(g, d->short_name, f->name);
        if (!r) {
            print_error("%s.%s: the original has no such field\n", d->short_name, f->name);
            bad++;
        } else if (r->number != f->id || strcmp(r->label, label_name(f->label)) || strcmp(r->type, type_name(f)) ||
                   strcmp(r->wire, wire_name(f))) {
            print_error("%s.%s: ours %s %s = %u (%s), the original's %s %s = %u (%s)\n", d->short_name, f->name,
                        label_name(f->label), type_name(f), f->id, wire_name(f), r->label, r->type, r->number, r->wire);
            bad++;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_PACKED) || f->default_value) {
            print_error("%s.%s: packed or with a default, the original's is neither\n", d->short_name, f->name);
            bad++;
        }
    }
    return bad;
}

static void test_every_message_matches_the_original(void **state)
{
    (void)state;
    struct golden_readme g;
    golden_readme_load(&g);
    assert_true(g.n_rows > 100);
    int bad = 0;
    for (size_t i = 0; i < N_MESSAGES; i++)
        bad += compare_message(&g, MESSAGES[i]);
    /* and the original has no message we lack */
    for (unsigned i = 0; i < g.n_rows; i++) {
        int found = 0;
        for (size_t k = 0; k < N_MESSAGES && !found; k++)
            found = !strcmp(MESSAGES[k]->short_name, g.rows[i].message);
        if (!found) {
            print_error("the original's %s is missing from our schema\n", g.rows[i].message);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    golden_readme_free(&g);
}

static void test_every_enum_matches_the_original(void **state)
{
    (void)state;
    struct golden_readme g;
    golden_readme_load(&g);
    unsigned ours = 0;
    for (size_t i = 0; i < N_ENUMS; i++) {
        const ProtobufCEnumDescriptor *e = ENUMS[i];
        for (unsigned v = 0; v < e->n_values; v++, ours++) {
            int found = 0;
            for (unsigned k = 0; k < g.n_enums; k++)
                found |= !strcmp(g.enums[k].enum_name, e->short_name) && !strcmp(g.enums[k].name, e->values[v].name) &&
                         g.enums[k].value == e->values[v].value;
            if (!found)
                fail_msg("%s.%s = %d is not the original's", e->short_name, e->values[v].name, e->values[v].value);
        }
    }
    assert_int_equal(ours, g.n_enums);
    assert_int_equal(N_ENUMS, 2);
    golden_readme_free(&g);
}

/* The comparison is not blind: tampered copies of real descriptors are reported. */
static void test_a_drift_is_reported(void **state)
{
    (void)state;
    struct golden_readme g;
    golden_readme_load(&g);
    const ProtobufCMessageDescriptor *real = &clockwork__clear_cache_result_proto__descriptor;
    assert_int_equal(compare_message(&g, real), 0);
    ProtobufCFieldDescriptor fields[16];
    ProtobufCMessageDescriptor d = *real;
    d.fields = fields;
    memcpy(fields, real->fields, real->n_fields * sizeof fields[0]);
    fields[1].type = PROTOBUF_C_TYPE_FIXED64; /* action_received as fixed64: this project's old drift */
    assert_int_equal(compare_message(&g, &d), 1);
    memcpy(fields, real->fields, real->n_fields * sizeof fields[0]);
    fields[2].id = 4;
    assert_int_equal(compare_message(&g, &d), 1);
    memcpy(fields, real->fields, real->n_fields * sizeof fields[0]);
    fields[0].label = PROTOBUF_C_LABEL_OPTIONAL;
    assert_int_equal(compare_message(&g, &d), 1);
    d.n_fields = 2; /* a field missing */
    memcpy(fields, real->fields, real->n_fields * sizeof fields[0]);
    assert_int_equal(compare_message(&g, &d), 1);
    golden_readme_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_message_matches_the_original),
        cmocka_unit_test(test_every_enum_matches_the_original),
        cmocka_unit_test(test_a_drift_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
