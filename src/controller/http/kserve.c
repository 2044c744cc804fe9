#include "kserve.h"
#include "json_fast.h"
#include "json_fp32.h"
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), 400)

#define SHAPE_TEXT_MAX ((KSERVE_MAX_RANK + 1) * 21 + 2)

/* c, then v in decimal, at o (21 bytes at most); returns the length. Every request writes a
 * shape or two: snprintf was a tenth of the request's own cost. */
static size_t put_dim(char *o, char c, int64_t v)
{
    char d[20];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        d[n++] = (char)('0' + u % 10);
    while (u /= 10);
    o[len++] = c;
    if (v < 0)
        o[len++] = '-';
    while (n)
        o[len++] = d[--n];
    return len;
}

/* "[2,3,32,32]" (batch first; -1 for a variable batch) into buf (SHAPE_TEXT_MAX bytes). */
static const char *shape_text(int64_t batch, const struct kserve_tensor *t, char buf[SHAPE_TEXT_MAX])
{
    size_t off = put_dim(buf, '[', batch);
    for (unsigned i = 0; i < t->rank && i < KSERVE_MAX_RANK; i++)
        off += put_dim(buf + off, ',', t->dims[i]);
    memcpy(buf + off, "]", 2);
    return buf;
}

/* ---- request ---- */

/* inputs[0].data read ahead of Jansson (the fast path of kserve_parse_infer). */
struct data_list {
    float *values;
    size_t n;
};

struct flatten {
    const struct kserve_tensor *t;
    int64_t shape[KSERVE_MAX_RANK + 1]; /* batch first */
    unsigned rank;
    float *out;
    uint64_t n, total;
    const struct data_list *pre; /* the values, when read ahead (Jansson then sees "[]") */
};

static int put_number(struct flatten *f, const json_t *v, char *err, size_t errlen)
{
    if (!json_is_number(v))
        return FAIL("input %s: data element %llu is not a number", f->t->name, (unsigned long long)f->n);
    double d = json_number_value(v);
    if (!isfinite(d) || fabs(d) > FLT_MAX)
        return FAIL("input %s: data element %llu (%g) is outside the FP32 range", f->t->name, (unsigned long long)f->n,
                    d);
    if (f->n == f->total)
        return FAIL("input %s: data has more than the %llu elements its shape needs", f->t->name,
                    (unsigned long long)f->total);
    f->out[f->n++] = (float)d;
    return 0;
}

/* Nested data must follow the shape at every level. */
static int flatten_nested(struct flatten *f, const json_t *v, unsigned depth, char *err, size_t errlen)
{
    if (depth == f->rank)
        return put_number(f, v, err, errlen);
    if (!json_is_array(v))
        return FAIL("input %s: nested data has a number at depth %u where its shape needs a list of %lld", f->t->name,
                    depth, (long long)f->shape[depth]);
    if (json_array_size(v) != (size_t)f->shape[depth])
        return FAIL("input %s: nested data has a list of %zu at depth %u where its shape needs %lld", f->t->name,
                    json_array_size(v), depth, (long long)f->shape[depth]);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        int rc = flatten_nested(f, e, depth + 1, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static int take_data(struct flatten *f, char *err, size_t errlen)
{
    if (f->pre->n != f->total)
        return FAIL("input %s: data has %zu elements, its shape needs %llu", f->t->name, f->pre->n,
                    (unsigned long long)f->total);
    memcpy(f->out, f->pre->values, f->total * sizeof(float));
    f->n = f->total;
    return 0;
}

static int parse_data(struct flatten *f, const json_t *data, char *err, size_t errlen)
{
    if (!json_is_array(data))
        return FAIL("input %s: 'data' must be a list of numbers (flat or nested)", f->t->name);
    if (f->pre)
        return take_data(f, err, errlen);
    const json_t *first = json_array_get(data, 0);
    if (first && json_is_array(first))
        return flatten_nested(f, data, 0, err, errlen);
    size_t i;
    json_t *e;
    json_array_foreach(data, i, e)
    {
        int rc = put_number(f, e, err, errlen);
        if (rc)
            return rc;
    }
    if (f->n != f->total)
        return FAIL("input %s: data has %llu elements, its shape needs %llu", f->t->name, (unsigned long long)f->n,
                    (unsigned long long)f->total);
    return 0;
}

/* shape must be [batch, the model's dims...]; sets f's shape and total. */
static int parse_shape(const struct kserve_model *m, const json_t *shape, struct flatten *f, char *err, size_t errlen)
{
    const struct kserve_tensor *t = &m->input;
    char want[SHAPE_TEXT_MAX];
    shape_text(-1, t, want);
    if (!json_is_array(shape) || json_array_size(shape) != t->rank + 1)
        return FAIL("input %s: 'shape' must be a list of %u dimensions, %s for model %s", t->name, t->rank + 1, want,
                    m->name);
    for (unsigned i = 0; i <= t->rank; i++) {
        const json_t *d = json_array_get(shape, i);
        long long v = json_is_integer(d) ? (long long)json_integer_value(d) : -1;
        if (i == 0 && (v < 1 || v > KSERVE_MAX_BATCH))
            return FAIL("input %s: batch dimension must be from 1 to %d", t->name, KSERVE_MAX_BATCH);
        if (i > 0 && v != t->dims[i - 1])
            return FAIL("input %s: shape does not match %s, the shape of model %s", t->name, want, m->name);
        f->shape[i] = v;
    }
    f->t = t;
    f->rank = t->rank + 1;
    f->total = (uint64_t)f->shape[0] * t->elems;
    return 0;
}

static int parse_bool_param(const json_t *params, const char *key, int *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(params, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return FAIL("parameter '%s' must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

static int parse_positive_param(const json_t *params, const char *key, double *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(params, key);
    if (!v)
        return 0;
    if (!json_is_number(v) || !(json_number_value(v) > 0) || !isfinite(json_number_value(v)))
        return FAIL("parameter '%s' must be a positive number", key);
    *out = json_number_value(v);
    return 0;
}

static int parse_request_params(const json_t *root, struct kserve_request *r, char *err, size_t errlen)
{
    const json_t *p = json_object_get(root, "parameters");
    if (!p)
        return 0;
    if (!json_is_object(p))
        return FAIL("'parameters' must be an object");
    int rc = parse_bool_param(p, "binary_data_output", &r->binary_output, err, errlen);
    if (!rc)
        rc = parse_positive_param(p, "slo_ms", &r->slo_ms, err, errlen);
    if (!rc)
        rc = parse_positive_param(p, "slo_factor", &r->slo_factor, err, errlen);
    if (rc)
        return rc;
    if (r->slo_ms > 0 && r->slo_factor > 0)
        return FAIL("give parameter 'slo_ms' or 'slo_factor', not both");
    const json_t *u = json_object_get(p, "user_id");
    if (u && (!json_is_integer(u) || json_integer_value(u) < 0 || json_integer_value(u) > 0x7fffffff))
        return FAIL("parameter 'user_id' must be an integer from 0 to 2147483647");
    r->user_id = u ? (int)json_integer_value(u) : 0;
    return 0;
}

/* The requested outputs: only OUTPUT0, maybe with {"binary_data": bool}. */
static int parse_outputs(const struct kserve_model *m, const json_t *root, struct kserve_request *r, char *err,
                         size_t errlen)
{
    const json_t *outs = json_object_get(root, "outputs");
    if (!outs)
        return 0;
    if (!json_is_array(outs))
        return FAIL("'outputs' must be a list");
    size_t i;
    json_t *o;
    json_array_foreach(outs, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "name"));
        if (!name || strcmp(name, m->output.name) != 0)
            return FAIL("unknown output '%s': model %s has one output, %s", name ? name : "(no name)", m->name,
                        m->output.name);
        const json_t *p = json_object_get(o, "parameters");
        if (p && !json_is_object(p))
            return FAIL("output %s: 'parameters' must be an object", m->output.name);
        int rc = p ? parse_bool_param(p, "binary_data", &r->binary_output, err, errlen) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* The tensor's bytes from the binary section (binary_data_size), else its JSON data. */
static int parse_tensor_data(const json_t *in, struct flatten *f, const uint8_t *bin, size_t bin_len, size_t *bin_used,
                             char *err, size_t errlen)
{
    const json_t *p = json_object_get(in, "parameters");
    const json_t *size = p ? json_object_get(p, "binary_data_size") : NULL;
    if (p && !json_is_object(p))
        return FAIL("input %s: 'parameters' must be an object", f->t->name);
    if (!size)
        return json_object_get(in, "data") ? parse_data(f, json_object_get(in, "data"), err, errlen)
                                           : FAIL("input %s: no 'data' and no binary_data_size", f->t->name);
    if (json_object_get(in, "data"))
        return FAIL("input %s: give 'data' or binary_data_size, not both", f->t->name);
    uint64_t want = f->total * sizeof(float);
    if (!json_is_integer(size) || (uint64_t)json_integer_value(size) != want)
        return FAIL("input %s: binary_data_size must be %llu bytes (shape x 4 bytes of FP32)", f->t->name,
                    (unsigned long long)want);
    if (bin_len - *bin_used < want)
        return FAIL("input %s: binary_data_size %llu exceeds the %zu bytes of binary data after the JSON", f->t->name,
                    (unsigned long long)want, bin_len - *bin_used);
    memcpy(f->out, bin + *bin_used, want); /* as is, like a native client's input */
    *bin_used += want;
    f->n = f->total;
    return 0;
}

static int parse_input(const struct kserve_model *m, const json_t *root, struct kserve_request *r, const uint8_t *bin,
                       size_t bin_len, const struct data_list *pre, char *err, size_t errlen)
{
    const json_t *inputs = json_object_get(root, "inputs");
    if (!json_is_array(inputs) || json_array_size(inputs) != 1)
        return FAIL("'inputs' must be a list of one tensor: model %s has one input, %s", m->name, m->input.name);
    const json_t *in = json_array_get(inputs, 0);
    const char *name = json_string_value(json_object_get(in, "name"));
    if (!name || strcmp(name, m->input.name) != 0)
        return FAIL("unknown input '%s': model %s has one input, %s", name ? name : "(no name)", m->name,
                    m->input.name);
    const char *type = json_string_value(json_object_get(in, "datatype"));
    if (!type || strcmp(type, "FP32") != 0)
        return FAIL("input %s: datatype '%s' is not supported: model %s takes FP32", name, type ? type : "(none)",
                    m->name);
    struct flatten f;
    memset(&f, 0, sizeof f);
    f.pre = pre;
    int rc = parse_shape(m, json_object_get(in, "shape"), &f, err, errlen);
    if (rc)
        return rc;
    f.out = malloc(f.total * sizeof(float) + 1);
    if (!f.out)
        return FAIL("request too large for the controller's memory");
    size_t used = 0;
    rc = parse_tensor_data(in, &f, bin, bin_len, &used, err, errlen);
    if (!rc && used != bin_len)
        rc = FAIL("%zu bytes of binary data after the JSON are not claimed by any input's binary_data_size",
                  bin_len - used);
    if (rc) {
        free(f.out);
        return rc;
    }
    r->batch = (unsigned)f.shape[0];
    r->data = f.out;
    return 0;
}

static int parse_root(const struct kserve_model *m, const json_t *root, struct kserve_request *r, const uint8_t *bin,
                      size_t bin_len, const struct data_list *pre, char *err, size_t errlen)
{
    if (!json_is_object(root))
        return FAIL("the request must be a JSON object");
    const json_t *id = json_object_get(root, "id");
    if (id && !json_is_string(id))
        return FAIL("'id' must be a string");
    if (id && !(r->id = strdup(json_string_value(id))))
        return FAIL("out of memory");
    int rc = parse_request_params(root, r, err, errlen);
    if (!rc)
        rc = parse_outputs(m, root, r, err, errlen);
    return rc ? rc : parse_input(m, root, r, bin, bin_len, pre, err, errlen);
}

/* The value of key in the object at p (its first occurrence, the key as written), or NULL. */
static const char *member_value(const char *p, const char *end, const char *key)
{
    size_t len = strlen(key);
    p = json_skip_ws(p, end);
    if (p == end || *p != '{')
        return NULL;
    for (p = json_skip_ws(p + 1, end); p < end && *p == '"'; p = json_skip_ws(p + 1, end)) {
        const char *name = p + 1, *stop = json_skip_value(p, end);
        if (!stop)
            return NULL;
        int match = (size_t)(stop - 1 - name) == len && memcmp(name, key, len) == 0;
        p = json_skip_ws(stop, end);
        if (p == end || *p != ':')
            return NULL;
        p = json_skip_ws(p + 1, end);
        if (match)
            return p < end ? p : NULL;
        p = json_skip_value(p, end);
        p = p ? json_skip_ws(p, end) : NULL;
        if (!p || p == end || *p != ',')
            return NULL;
    }
    return NULL;
}

/* The '[' of inputs[0].data in the text, or NULL. */
static const char *find_data(const char *p, const char *end)
{
    p = member_value(p, end, "inputs");
    if (!p || *p != '[')
        return NULL;
    p = member_value(p + 1, end, "data");
    return p && *p == '[' ? p : NULL;
}

/* The fast path: a flat list of plain numbers in inputs[0].data is read straight into floats
 * (json_fp32.h) and the rest, with "[]" in its place, into Jansson's tree by json_fast_load
 * (else by Jansson), without a tree node, a strtod and a free per value. -1 on any problem: the caller then parses the
 * request the slow way, which accepts the same requests with the same values and words every refusal. */
static int parse_fast(const struct kserve_model *m, const char *text, size_t len, const uint8_t *bin, size_t bin_len,
                      struct kserve_request *r, char *err, size_t errlen)
{
    const char *end = text + len, *list = find_data(text, end), *after = list;
    struct data_list pre;
    if (!list || json_fp32_list(&after, end, &pre.values, &pre.n) != 0)
        return -1;
    size_t head = (size_t)(list - text) + 1, tail = (size_t)(end - after) + 1; /* "...[" and "]..." */
    char *rest = malloc(head + tail);
    json_t *root = NULL;
    if (rest) {
        memcpy(rest, text, head);
        memcpy(rest + head, after - 1, tail);
        root = json_fast_load(rest, head + tail);
        root = root ? root : json_loadb(rest, head + tail, JSON_REJECT_DUPLICATES, NULL);
        free(rest);
    }
    int rc = root ? parse_root(m, root, r, bin, bin_len, &pre, err, errlen) : -1;
    json_decref(root);
    free(pre.values);
    if (rc)
        kserve_request_free(r);
    return rc ? -1 : 0;
}

int kserve_parse_infer(const struct kserve_model *m, const uint8_t *body, size_t body_len, long long json_len,
                       struct kserve_request *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int length_ok = json_len >= -1 && json_len <= (long long)body_len; /* else the tree path words it */
    size_t jlen = json_len >= 0 ? (size_t)json_len : body_len;
    if (length_ok && parse_fast(m, (const char *)body, jlen, body + jlen, body_len - jlen, out, err, errlen) == 0)
        return 0;
    return kserve_parse_infer_tree(m, body, body_len, json_len, out, err, errlen);
}

int kserve_parse_infer_tree(const struct kserve_model *m, const uint8_t *body, size_t body_len, long long json_len,
                            struct kserve_request *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (json_len < -1)
        return FAIL("Inference-Header-Content-Length must be a number of bytes");
    if (json_len > (long long)body_len)
        return FAIL("Inference-Header-Content-Length %lld exceeds the body (%zu bytes)", json_len, body_len);
    size_t jlen = json_len >= 0 ? (size_t)json_len : body_len;
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, jlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return FAIL("malformed JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    int rc = parse_root(m, root, out, body + jlen, body_len - jlen, NULL, err, errlen);
    json_decref(root);
    if (rc)
        kserve_request_free(out);
    return rc;
}

void kserve_request_free(struct kserve_request *r)
{
    free(r->id);
    free(r->data);
    memset(r, 0, sizeof *r);
}

/* ---- responses ---- */

static int dump_to_buf(const char *s, size_t n, void *data)
{
    struct http_buf *b = data;
    http_buf_append(b, s, n);
    return http_buf_failed(b) ? -1 : 0;
}

/* Appends j (then frees it) to b; -1 if j is NULL (an allocation failed) or b fails. */
static int dump(struct http_buf *b, json_t *j)
{
    if (!j)
        return -1;
    int rc = json_dump_callback(j, dump_to_buf, b, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(j);
    return rc == 0 && !http_buf_failed(b) ? 0 : -1;
}

static json_t *shape_json(int64_t batch, const struct kserve_tensor *t)
{
    json_t *a = json_array();
    json_array_append_new(a, json_integer(batch));
    for (unsigned i = 0; i < t->rank; i++)
        json_array_append_new(a, json_integer(t->dims[i]));
    return a;
}

static json_t *tensor_json(const struct kserve_tensor *t, int64_t batch)
{
    return json_pack("{s:s, s:s, s:o}", "name", t->name, "datatype", "FP32", "shape", shape_json(batch, t));
}

/* The inference response is written directly rather than built as a Jansson tree: that costs
 * an allocation per output value and was a sixth of the controller's CPU per HTTP request. The
 * text is what Jansson writes (JSON_COMPACT | JSON_REAL_PRECISION(9)); test_http_kserve checks. */

/* s as a JSON string, escaped as Jansson does: quote, backslash and control characters. */
static void put_string(struct http_buf *b, const char *s)
{
    static const char short_escape[0x60] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['"'] = '"', ['\\'] = '\\'};
    http_buf_append(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        char e[8];
        int n =
            short_escape[ch] ? snprintf(e, sizeof e, "\\%c", short_escape[ch]) : snprintf(e, sizeof e, "\\u%04X", ch);
        http_buf_append(b, run, (size_t)(s - run));
        http_buf_append(b, e, (size_t)n);
        run = s + 1;
    }
    http_buf_append(b, run, (size_t)(s - run));
    http_buf_append(b, "\"", 1);
}

/* The output values as a JSON list; -1 with err for a value JSON cannot carry. */
static int put_output_data(struct http_buf *b, const uint8_t *outputs, uint64_t n, char *err, size_t errlen)
{
    http_buf_append(b, "[", 1);
    for (uint64_t i = 0; i < n; i++) {
        float v;
        char text[JSON_FP32_TEXT_MAX];
        memcpy(&v, outputs + i * sizeof v, sizeof v);
        if (!isfinite(v)) {
            snprintf(err, errlen, "output element %llu is %g, which JSON cannot carry: ask for binary_data_output",
                     (unsigned long long)i, (double)v);
            return -1;
        }
        if (i)
            http_buf_append(b, ",", 1);
        http_buf_append(b, text, json_fp32_format(v, text)); /* %.9g, as Jansson writes it */
    }
    http_buf_append(b, "]", 1);
    return 0;
}

static void put_shape(struct http_buf *b, int64_t batch, const struct kserve_tensor *t)
{
    char text[SHAPE_TEXT_MAX];
    http_buf_puts(b, shape_text(batch, t, text));
}

int kserve_infer_response(const struct kserve_model *m, const char *version, const struct kserve_request *r,
                          const uint8_t *outputs, struct http_buf *body, long long *json_len, char *err, size_t errlen)
{
    uint64_t n = (uint64_t)r->batch * m->output.elems;
    http_buf_puts(body, "{\"model_name\":");
    put_string(body, m->name);
    http_buf_puts(body, ",\"model_version\":");
    put_string(body, version);
    http_buf_puts(body, ",\"outputs\":[{\"name\":");
    put_string(body, m->output.name);
    http_buf_puts(body, ",\"datatype\":\"FP32\",\"shape\":");
    put_shape(body, r->batch, &m->output);
    if (r->binary_output) {
        http_buf_printf(body, ",\"parameters\":{\"binary_data_size\":%llu}", (unsigned long long)(n * 4));
    } else {
        http_buf_puts(body, ",\"data\":");
        if (put_output_data(body, outputs, n, err, errlen) != 0)
            return 500;
    }
    http_buf_puts(body, "}]");
    if (r->id) {
        http_buf_puts(body, ",\"id\":");
        put_string(body, r->id);
    }
    http_buf_puts(body, "}");
    *json_len = r->binary_output ? (long long)body->len : -1;
    if (r->binary_output)
        http_buf_append(body, outputs, n * 4);
    return http_buf_failed(body) ? (snprintf(err, errlen, "out of memory building the response"), 500) : 0;
}

void kserve_error_body(struct http_buf *b, const char *message)
{
    json_t *j = json_pack("{s:s}", "error", message);
    if (!j) /* not UTF-8: say so rather than nothing */
        j = json_pack("{s:s}", "error", "(error message not valid UTF-8)");
    dump(b, j);
}

void kserve_model_metadata(struct http_buf *b, const struct kserve_model *m, const unsigned *versions,
                           unsigned n_versions)
{
    json_t *v = json_array();
    for (unsigned i = 0; i < n_versions; i++) {
        char s[16];
        snprintf(s, sizeof s, "%u", versions[i]);
        json_array_append_new(v, json_string(s));
    }
    dump(b, json_pack("{s:s, s:o, s:s, s:[o], s:[o]}", "name", m->name, "versions", v, "platform", "clockwork",
                      "inputs", tensor_json(&m->input, -1), "outputs", tensor_json(&m->output, -1)));
}

void kserve_server_metadata(struct http_buf *b, const char *version)
{
    dump(b, json_pack("{s:s, s:s, s:[s,s]}", "name", "clockwork", "version", version, "extensions",
                      "binary_tensor_data", "model_repository"));
}

void kserve_repository_index(struct http_buf *b, const struct kserve_index_entry *e, unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "name", e[i].name, "version", e[i].version, "state",
                                           e[i].state, "reason", e[i].reason));
    dump(b, a);
}

/* An optional JSON object body (empty: NULL with 0). */
static int parse_object(const uint8_t *body, size_t len, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (len == 0)
        return 0;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return FAIL("malformed JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return FAIL("the request must be a JSON object");
    }
    *out = j;
    return 0;
}

static int load_copies(const json_t *params, int *copies, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)params, key, v)
    {
        if (strcmp(key, "copies") != 0)
            return FAIL("load parameter '%s' is not supported (only 'copies')", key);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 4096)
            return FAIL("load parameter 'copies' must be an integer from 1 to 4096");
        *copies = (int)json_integer_value(v);
    }
    return 0;
}

int kserve_parse_load(const uint8_t *body, size_t body_len, int *copies, char *err, size_t errlen)
{
    json_t *j;
    *copies = 1;
    int rc = parse_object(body, body_len, &j, err, errlen);
    if (rc || !j)
        return rc;
    const json_t *p = json_object_get(j, "parameters");
    if (p && !json_is_object(p))
        rc = FAIL("'parameters' must be an object");
    else if (p)
        rc = load_copies(p, copies, err, errlen);
    json_decref(j);
    return rc;
}

int kserve_parse_index(const uint8_t *body, size_t body_len, int *ready_only, char *err, size_t errlen)
{
    json_t *j;
    *ready_only = 0;
    int rc = parse_object(body, body_len, &j, err, errlen);
    if (rc || !j)
        return rc;
    rc = parse_bool_param(j, "ready", ready_only, err, errlen);
    json_decref(j);
    return rc;
}
