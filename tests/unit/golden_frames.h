/* The frames captured from the original Clockwork (tests/wire-golden/, a copy of the capture
 * with its README) as test data: the README's catalogue (per frame: message, sizes, pre-header,
 * body prefix and every decoded field), its field table of the original schema, and the frame
 * files themselves. Plus a generic printer of a decoded protobuf-c message in the README's
 * "path = value" form, so a decoded frame can be compared with the catalogue field by field.
 * Header-only (static inline) for the test binaries; include <cmocka.h> first. */
#ifndef CW_TEST_GOLDEN_FRAMES_H
#define CW_TEST_GOLDEN_FRAMES_H
#include <inttypes.h>
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_DIR CLOCKWORK_SOURCE_DIR "/tests/wire-golden"
#define GOLDEN_MAX_FIELDS 64

struct golden_field {
    char path[192];  /* e.g. worker_memory_info.gpus[0].id */
    char value[160]; /* as the README prints it: 42, "text", 0.0 */
};

/* One catalogue entry: what the README says about one .bin file. */
struct golden_entry {
    char name[128];   /* relative to GOLDEN_DIR, e.g. controller_to_worker/002_load_weights_action.bin */
    char message[64]; /* the header's protobuf message, e.g. LoadWeightsActionProto */
    uint64_t file_size, header_len, body_len;
    uint64_t msg_type, msg_id, send_ts;
    int64_t delta;
    int has_body_prefix;
    uint8_t body_prefix[16];
    struct golden_field fields[GOLDEN_MAX_FIELDS];
    unsigned n_fields;
};

/* One row of the original schema's field table. */
struct golden_schema_row {
    char message[64], field[64], label[64], type[64], wire[64];
    unsigned number;
};

struct golden_enum_row {
    char enum_name[64], name[64];
    int value;
};

struct golden_readme {
    struct golden_entry *entries;
    unsigned n_entries;
    struct golden_schema_row *rows;
    unsigned n_rows;
    struct golden_enum_row *enums;
    unsigned n_enums;
};

/* Copies the text between the n-th pair of backticks (n from 0) of line into out; 0 or -1. */
static inline int golden_backticked(const char *line, int n, char *out, size_t len)
{
    const char *p = line;
    for (int i = 0; i <= n; i++) {
        const char *open = strchr(p, '`');
        const char *close = open ? strchr(open + 1, '`') : NULL;
        if (!close)
            return -1;
        if (i == n) {
            snprintf(out, len, "%.*s", (int)(close - open - 1), open + 1);
            return 0;
        }
        p = close + 1;
    }
    return -1;
}

/* Splits a "| a | b | c |" table row into trimmed cells; returns how many. */
static inline int golden_cells(char *line, char cells[][64], int max)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, "|", &save); tok && n < max; tok = strtok_r(NULL, "|", &save)) {
        while (*tok == ' ')
            tok++;
        size_t l = strlen(tok);
        while (l > 0 && (tok[l - 1] == ' ' || tok[l - 1] == '\n'))
            tok[--l] = '\0';
        if (l == 0)
            continue;
        snprintf(cells[n++], 64, "%s", tok);
    }
    return n;
}

static inline void golden_entry_line(struct golden_entry *e, const char *line)
{
    char hex[64];
    if (!strncmp(line, "* produced by:", 14) && strstr(line, "message `"))
        golden_backticked(strstr(line, "message `"), 0, e->message, sizeof e->message);
    else if (!strncmp(line, "* file size", 11))
        sscanf(line, "* file size %" SCNu64 " = 48 + header_len %" SCNu64 " + body_len %" SCNu64, &e->file_size,
               &e->header_len, &e->body_len);
    else if (!strncmp(line, "* pre-header:", 13))
        sscanf(line, "* pre-header: msg_type=%" SCNu64 ", msg_id=%" SCNu64 ", send_ts=%" SCNu64 ", delta=%" SCNd64,
               &e->msg_type, &e->msg_id, &e->send_ts, &e->delta);
    else if (!strncmp(line, "* body:", 7) && strstr(line, "first 16 bytes `")) {
        golden_backticked(strstr(line, "first 16 bytes `"), 0, hex, sizeof hex);
        const char *p = hex;
        for (int i = 0; i < 16; i++, p += 3)
            e->body_prefix[i] = (uint8_t)strtoul(p, NULL, 16);
        e->has_body_prefix = 1;
    } else if (!strncmp(line, "| `", 3) && e->n_fields < GOLDEN_MAX_FIELDS) {
        struct golden_field *f = &e->fields[e->n_fields];
        if (golden_backticked(line, 0, f->path, sizeof f->path) == 0 &&
            golden_backticked(line, 1, f->value, sizeof f->value) == 0)
            e->n_fields++;
    }
}

/* Field-table and enum rows: cells whose number column is numeric. */
static inline void golden_table_line(struct golden_readme *g, int in_enums, const char *line)
{
    char copy[4096], cells[8][64];
    snprintf(copy, sizeof copy, "%s", line);
    int n = golden_cells(copy, cells, 8);
    if (!in_enums && n == 6 && cells[2][0] >= '0' && cells[2][0] <= '9') {
        struct golden_schema_row *r = &g->rows[g->n_rows++];
        snprintf(r->message, sizeof r->message, "%s", cells[0]);
        snprintf(r->field, sizeof r->field, "%s", cells[1]);
        r->number = (unsigned)atoi(cells[2]);
        snprintf(r->label, sizeof r->label, "%s", cells[3]);
        snprintf(r->type, sizeof r->type, "%s", cells[4]);
        snprintf(r->wire, sizeof r->wire, "%s", cells[5]);
    } else if (in_enums && n == 3 && cells[2][0] >= '0' && cells[2][0] <= '9') {
        struct golden_enum_row *r = &g->enums[g->n_enums++];
        snprintf(r->enum_name, sizeof r->enum_name, "%s", cells[0]);
        snprintf(r->name, sizeof r->name, "%s", cells[1]);
        r->value = atoi(cells[2]);
    }
}

/* Reads GOLDEN_DIR/README.md: the catalogue ("### `dir/file.bin`" sections) and the tables
 * after "## Field table". */
static inline void golden_readme_load(struct golden_readme *g)
{
    memset(g, 0, sizeof *g);
    g->entries = calloc(64, sizeof *g->entries);
    g->rows = calloc(512, sizeof *g->rows);
    g->enums = calloc(64, sizeof *g->enums);
    assert_non_null(g->entries);
    assert_non_null(g->rows);
    assert_non_null(g->enums);
    FILE *f = fopen(GOLDEN_DIR "/README.md", "r");
    assert_non_null(f);
    char line[4096];
    struct golden_entry *cur = NULL;
    int in_table = 0, in_enums = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "### `", 5) && g->n_entries < 64) {
            cur = &g->entries[g->n_entries++];
            golden_backticked(line, 0, cur->name, sizeof cur->name);
        } else if (!strncmp(line, "## ", 3)) {
            cur = NULL;
            in_table = !strncmp(line, "## Field table", 14);
        } else if (in_table && !strncmp(line, "Enums", 5)) {
            in_enums = 1;
        } else if (cur) {
            golden_entry_line(cur, line);
        } else if (in_table && g->n_rows < 512 && g->n_enums < 64) {
            golden_table_line(g, in_enums, line);
        }
    }
    fclose(f);
}

static inline void golden_readme_free(struct golden_readme *g)
{
    free(g->entries);
    free(g->rows);
    free(g->enums);
}

static inline const struct golden_entry *golden_find(const struct golden_readme *g, const char *name)
{
    for (unsigned i = 0; i < g->n_entries; i++)
        if (!strcmp(g->entries[i].name, name))
            return &g->entries[i];
    return NULL;
}

/* The bytes of GOLDEN_DIR/name (malloc'ed, *len set); fails the test if unreadable. */
static inline uint8_t *golden_read(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- printing a decoded message as the README's field rows ---- */

struct golden_printed {
    struct golden_field fields[GOLDEN_MAX_FIELDS];
    unsigned n;
    int overflow;
};

/* A float as Python's repr prints simple values: 0.0, 1.5, 2.25. */
static inline void golden_format_float(double v, char *out, size_t len)
{
    snprintf(out, len, "%.9g", v);
    if (!strpbrk(out, ".einf"))
        snprintf(out + strlen(out), len - strlen(out), ".0");
}

static inline void golden_format_scalar(const ProtobufCFieldDescriptor *fd, const void *p, char *out, size_t len)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: snprintf(out, len, "%" PRId32, *(const int32_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: snprintf(out, len, "%" PRIu32, *(const uint32_t *)p); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: snprintf(out, len, "%" PRId64, *(const int64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: snprintf(out, len, "%" PRIu64, *(const uint64_t *)p); break;
    case PROTOBUF_C_TYPE_FLOAT: golden_format_float(*(const float *)p, out, len); break;
    case PROTOBUF_C_TYPE_DOUBLE: golden_format_float(*(const double *)p, out, len); break;
    case PROTOBUF_C_TYPE_BOOL: snprintf(out, len, "%s", *(const protobuf_c_boolean *)p ? "True" : "False"); break;
    case PROTOBUF_C_TYPE_STRING: snprintf(out, len, "\"%s\"", *(char *const *)p ? *(char *const *)p : ""); break;
    default: snprintf(out, len, "<%d bytes>", (int)((const ProtobufCBinaryData *)p)->len); break;
    }
}

static inline size_t golden_element_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    default: return 4;
    }
}

static inline void golden_print_message(const ProtobufCMessage *m, const char *prefix, struct golden_printed *out);

static inline void golden_print_value(const ProtobufCFieldDescriptor *fd, const void *p, const char *path,
                                      struct golden_printed *out)
{
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        char prefix[160];
        snprintf(prefix, sizeof prefix, "%s.", path);
        if (*(ProtobufCMessage *const *)p)
            golden_print_message(*(ProtobufCMessage *const *)p, prefix, out);
        return;
    }
    if (out->n == GOLDEN_MAX_FIELDS) {
        out->overflow = 1;
        return;
    }
    struct golden_field *f = &out->fields[out->n++];
    snprintf(f->path, sizeof f->path, "%s", path);
    golden_format_scalar(fd, p, f->value, sizeof f->value);
}

/* Every field present, in field order (the order the README and C++ protobuf list them):
 * required ones always, optional ones when set, repeated ones per element as name[i]. */
static inline void golden_print_message(const ProtobufCMessage *m, const char *prefix, struct golden_printed *out)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        const char *base = (const char *)m;
        char path[160];
        snprintf(path, sizeof path, "%s%s", prefix, fd->name);
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + fd->quantifier_offset);
            const char *arr = *(char *const *)(base + fd->offset);
            for (size_t k = 0; k < n; k++) {
                char item[192];
                snprintf(item, sizeof item, "%s[%zu]", path, k);
                golden_print_value(fd, arr + k * golden_element_size(fd), item, out);
            }
            continue;
        }
        int is_pointer = fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE;
        if (fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
            (is_pointer ? *(void *const *)(base + fd->offset) == NULL
                        : !*(const protobuf_c_boolean *)(base + fd->quantifier_offset)))
            continue;
        golden_print_value(fd, base + fd->offset, path, out);
    }
}

#endif
