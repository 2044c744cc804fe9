/* FP32 values in JSON text (controller/http/json_fp32.h) and the inference request's fast path:
 * (1) json_fp32_format is byte for byte snprintf("%.9g") as Jansson lays out a real, and Jansson's
 * own JSON_REAL_PRECISION(9) text, over edge cases (zeros, subnormals, FLT_MIN/MAX, powers of
 * ten and two, ties at the ninth digit), a sweep of consecutive floats and a million random
 * ones, and it reads back as the same float (strtod and a cast); (2) json_fp32_scan makes of a number token exactly
 * the float Jansson's parse and a cast make, and refuses what Jansson refuses or the FP32 range
 * cannot hold; json_fast_load builds Jansson's tree or declines, over generated and damaged
 * documents; (3) kserve_parse_infer answers every request exactly as kserve_parse_infer_tree
 * (every value through Jansson) does: status, message, values, over generated and damaged
 * requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controller/http/json_fast.h"
#include "controller/http/json_fp32.h"
#include "controller/http/kserve.h"
#include "kserve_fixture.h"
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference: %.9g, then as Jansson writes a real (".0" after an integer; the exponent
 * without '+' and leading zeros). */
static void reference_text(float v, char *buf)
{
    int n = snprintf(buf, 40, "%.9g", (double)v);
    char *e = memchr(buf, 'e', (size_t)n);
    if (!e && !memchr(buf, '.', (size_t)n)) {
        memcpy(buf + n, ".0", 3);
        return;
    }
    if (!e)
        return;
    char *digits = e + 1 + (e[1] == '-'), *from = e + 1 + (e[1] == '-' || e[1] == '+');
    while (*from == '0' && from[1])
        from++;
    memmove(digits, from, strlen(from) + 1);
}

static uint64_t rng = 88172645463325252ull;
static uint32_t next_random(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static float from_bits(uint32_t bits)
{
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static unsigned checked;

/* v formats as the reference and reads back as v. */
static void check_format(float v)
{
    char got[JSON_FP32_TEXT_MAX], want[40];
    size_t n = json_fp32_format(v, got);
    reference_text(v, want);
    if (strcmp(got, want) != 0 || n != strlen(want))
        fail_msg("%a: '%s', %%.9g as Jansson: '%s'", (double)v, got, want);
    float back = (float)strtod(got, NULL), scanned;
    assert_memory_equal(&back, &v, sizeof v);
    const char *p = got; /* the request parser reads it back too (FLT_MAX's text is beyond FLT_MAX: refused) */
    if (json_fp32_scan(&p, got + n, &scanned) == 0)
        assert_memory_equal(&scanned, &v, sizeof v);
    else
        assert_true(fabs(strtod(got, NULL)) > FLT_MAX);
    checked++;
}

static void test_format_edges(void **state)
{
    (void)state;
    static const float edges[] = {0.0f,
                                  -0.0f,
                                  1e-45f,
                                  -1e-45f,
                                  1.17549421e-38f,
                                  1.17549435e-38f,
                                  FLT_MAX,
                                  -FLT_MAX,
                                  FLT_MIN,
                                  1.0f,
                                  0.1f,
                                  0.5f,
                                  1e-5f,
                                  1e-4f,
                                  9.99999975e-5f,
                                  1e8f,
                                  1e9f,
                                  999999999.0f,
                                  99999999.0f,
                                  999999936.0f,
                                  1e10f,
                                  1e38f,
                                  123456789.0f,
                                  16777216.0f,
                                  1048576.125f,
                                  1048576.375f,
                                  1048577.125f,
                                  -7.25e-12f};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        check_format(edges[i]);
    for (int x = -45; x <= 38; x++) { /* around every power of ten */
        float p = (float)pow(10.0, x);
        uint32_t bits;
        memcpy(&bits, &p, sizeof bits);
        for (int d = -3; d <= 3; d++)
            if (bits + (uint32_t)d < 0x7f800000u)
                check_format(from_bits(bits + (uint32_t)d));
    }
    for (uint32_t e = 0; e < 255; e++) { /* every binade: its ends, its middle, some of it */
        static const uint32_t m[] = {0, 1, 2, 3, 0x400000, 0x7ffffe, 0x7fffff};
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
            check_format(from_bits(e << 23 | m[i]));
        for (int i = 0; i < 200; i++)
            check_format(from_bits(e << 23 | (next_random() & 0x7fffff)));
    }
}

/* Consecutive floats where a ninth-digit tie is common (an eighth of a unit apart), then random
 * bit patterns. */
static void test_format_sweeps(void **state)
{
    (void)state;
    uint32_t start;
    float v = 1048576.0f;
    memcpy(&start, &v, sizeof start);
    for (uint32_t i = 0; i < 400000; i++)
        check_format(from_bits(start + i));
    for (int i = 0; i < 1000000; i++) {
        uint32_t bits = next_random() ^ (next_random() << 16);
        if ((bits & 0x7f800000u) != 0x7f800000u)
            check_format(from_bits(bits));
    }
    print_message("%u floats formatted as %%.9g\n", checked);
}

/* The text Jansson writes for v, as json_real with JSON_REAL_PRECISION(9). */
static void test_format_as_jansson(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        float v = from_bits(next_random() ^ (next_random() << 16));
        if (!isfinite(v))
            continue;
        json_t *a = json_pack("[f]", (double)v);
        char *want = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(9)), got[JSON_FP32_TEXT_MAX + 2] = "[";
        json_fp32_format(v, got + 1);
        strcat(got, "]");
        assert_string_equal(got, want);
        free(want);
        json_decref(a);
    }
}

/* What Jansson and a cast make of token: 0 with *v, or -1 where the fast path must refuse. */
static int jansson_float(const char *token, float *v)
{
    char doc[256];
    snprintf(doc, sizeof doc, "[%s]", token);
    json_t *a = json_loads(doc, 0, NULL);
    if (!a)
        return -1;
    json_t *n = json_array_size(a) == 1 ? json_array_get(a, 0) : NULL;
    int rc = -1;
    if (n && json_is_number(n) && isfinite(json_number_value(n)) && fabs(json_number_value(n)) <= FLT_MAX) {
        *v = (float)json_number_value(n);
        rc = 0;
    }
    json_decref(a);
    return rc;
}

static void check_scan(const char *token)
{
    float want = 0, got = 0;
    const char *p = token, *end = token + strlen(token);
    int ref = jansson_float(token, &want);
    int rc = json_fp32_scan(&p, end, &got);
    if (rc == 0 && p != end) /* a prefix is a number; a list then sees what follows */
        rc = -1;
    const char *digits = token + (token[0] == '-');
    int long_integer = strspn(digits, "0123456789") == strlen(digits) && strlen(digits) > 18;
    if (ref != 0 && rc == 0)
        fail_msg("'%s' read as %a; Jansson refuses it or FP32 cannot hold it", token, (double)got);
    if (ref == 0 && rc != 0 && !long_integer && strlen(token) < 64)
        fail_msg("'%s' refused; Jansson reads it as %a", token, (double)want);
    if (ref == 0 && rc == 0 && memcmp(&got, &want, sizeof got) != 0)
        fail_msg("'%s' read as %a, Jansson and a cast: %a", token, (double)got, (double)want);
}

static void random_digits(char *o, int n, int leading_zero_ok)
{
    for (int i = 0; i < n; i++)
        o[i] = (char)('0' + next_random() % 10);
    if (!leading_zero_ok && n > 1 && o[0] == '0')
        o[0] = '1';
    o[n] = '\0';
}

/* A number in JSON's grammar: sign, integer part, fraction, exponent, of random lengths. */
static void random_token(char *t)
{
    char part[40];
    t[0] = '\0';
    if (next_random() % 3 == 0)
        strcat(t, "-");
    random_digits(part, (int)(next_random() % 22) + 1, 0);
    strcat(t, part);
    if (next_random() % 3) {
        strcat(t, ".");
        random_digits(part, (int)(next_random() % 22) + 1, 1);
        strcat(t, part);
    }
    if (next_random() % 3 == 0) {
        strcat(t, next_random() % 2 ? "e" : "E");
        strcat(t, next_random() % 3 == 0 ? "-" : next_random() % 2 ? "+" : "");
        random_digits(part, (int)(next_random() % 3) + 1, 1);
        strcat(t, part);
    }
}

static void test_scan_as_jansson(void **state)
{
    (void)state;
    static const char *const tokens[] = {"0",
                                         "-0",
                                         "0.0",
                                         "-0.0",
                                         "1",
                                         "-1",
                                         "0.5",
                                         "1e5",
                                         "1E5",
                                         "1e+5",
                                         "1e-5",
                                         "1.5e-45",
                                         "1e-46",
                                         "1e-400",
                                         "-1e-400",
                                         "3.4028235e38",
                                         "3.4028236e38",
                                         "3.40282357e38",
                                         "1e39",
                                         "1e400",
                                         "-1e400",
                                         "123456789012345678",
                                         "1234567890123456789",
                                         "9223372036854775807",
                                         "9223372036854775808",
                                         "0.1",
                                         "0.10000000149011612",
                                         "16777217",
                                         "16777217.0",
                                         "1.00000005960464477539062",
                                         "1.000000059604644775390625",
                                         "01",
                                         "1.",
                                         ".5",
                                         "+1",
                                         "-",
                                         "1e",
                                         "1e+",
                                         "--1",
                                         "0x10",
                                         "1.5.5",
                                         "NaN",
                                         "Infinity",
                                         "1,5",
                                         "00",
                                         "-01",
                                         "0e0",
                                         "0e999999999",
                                         "1e-99999999999",
                                         "2.5e-324",
                                         "4.9e-324",
                                         "1.17549435e-38",
                                         "7.0064923e-46",
                                         "1.4012984e-45",
                                         "0.000000000000000000000000000000000000000000001401298464324817"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        check_scan(tokens[i]);
    char t[128];
    for (int i = 0; i < 200000; i++) {
        random_token(t);
        check_scan(t);
    }
    for (int i = 0; i < 100000; i++) { /* what clients write for FP32 values */
        float v = from_bits(next_random() ^ (next_random() << 16));
        if (!isfinite(v))
            continue;
        static const char *const formats[] = {"%.9g", "%.17g", "%.6e", "%.3f", "%g"};
        snprintf(t, sizeof t, formats[i % 5], (double)v);
        check_scan(t);
    }
}

/* ---- json_fast_load against json_loadb ---- */

static void random_json(char *o, size_t cap, int depth);
static void damage(char *body);

static void append(char *o, size_t cap, const char *s)
{
    size_t n = strlen(o);
    snprintf(o + n, cap - n, "%s", s);
}

static void random_scalar(char *o, size_t cap)
{
    static const char *const odd[] = {
        "\"a\\\"b\"", "\"\\u00e9\"", "\"\xc3\xa9\"", "\"tab\there\"",        "true", "false", "null", "nul", "truex",
        "\"\"",       "\"x\x7f\"",   "1e400",        "123456789012345678901"};
    char t[128];
    switch (next_random() % 4) {
    case 0: random_token(t); break;
    case 1: snprintf(t, sizeof t, "\"k%u\"", next_random() % 5); break;
    default: snprintf(t, sizeof t, "%s", odd[next_random() % (sizeof odd / sizeof odd[0])]);
    }
    append(o, cap, t);
}

/* Objects (keys k0..k4: duplicates happen), arrays and scalars, whitespace between. */
static void random_json(char *o, size_t cap, int depth)
{
    unsigned kind = depth > 4 ? 2 : next_random() % 3, n = next_random() % 4;
    if (kind == 2) {
        random_scalar(o, cap);
        return;
    }
    append(o, cap, kind ? "[" : "{");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            append(o, cap, next_random() % 4 ? "," : " ,\n");
        if (!kind) {
            char key[16];
            snprintf(key, sizeof key, "\"k%u\":", next_random() % 5);
            append(o, cap, key);
        }
        random_json(o, cap, depth + 1);
    }
    append(o, cap, kind ? "]" : " }");
}

static char *canonical(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

static void test_fast_load_as_jansson(void **state)
{
    (void)state;
    char doc[8192];
    unsigned taken = 0, declined = 0;
    for (int i = 0; i < 30000; i++) {
        doc[0] = '\0';
        if (next_random() % 8 == 0)
            append(doc, sizeof doc, " ");
        random_json(doc, sizeof doc, next_random() % 3 == 0 ? 0 : 5 - (int)(next_random() % 2));
        if (next_random() % 4 == 0)
            damage(doc);
        size_t len = strlen(doc);
        json_t *fast = json_fast_load(doc, len), *ref = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
        if (fast && !ref)
            fail_msg("json_fast_load took what Jansson refuses: %s", doc);
        if (fast) {
            char *a = canonical(fast), *b = canonical(ref);
            if (strcmp(a, b) != 0)
                fail_msg("%s\n  fast: %s\n  Jansson: %s", doc, a, b);
            free(a);
            free(b);
        }
        fast ? taken++ : declined++;
        json_decref(fast);
        json_decref(ref);
    }
    print_message("json_fast_load: %u taken as Jansson does, %u declined\n", taken, declined);
    assert_true(taken > 3000);
}

/* ---- the request's fast path against the tree ---- */

static unsigned fast_ok, fast_refused;

/* Both parsers on body: the same status, message and request. */
static void check_same(const char *body, size_t len, long long json_len)
{
    struct kserve_model m = kserve_fixture_model();
    struct kserve_request a, b;
    char ea[600] = "", eb[600] = "";
    int ra = kserve_parse_infer(&m, (const uint8_t *)body, len, json_len, &a, ea, sizeof ea);
    int rb = kserve_parse_infer_tree(&m, (const uint8_t *)body, len, json_len, &b, eb, sizeof eb);
    if (ra != rb || strcmp(ea, eb) != 0)
        fail_msg("%.*s\n  fast: %d %s\n  tree: %d %s", (int)len, body, ra, ea, rb, eb);
    if (ra == 0) {
        assert_int_equal(a.batch, b.batch);
        assert_memory_equal(a.data, b.data, a.batch * m.input.elems * sizeof(float));
        assert_true((a.id == NULL) == (b.id == NULL) && (!a.id || strcmp(a.id, b.id) == 0));
        assert_true(a.binary_output == b.binary_output && a.user_id == b.user_id);
        assert_true(a.slo_ms == b.slo_ms && a.slo_factor == b.slo_factor);
    }
    ra ? fast_refused++ : fast_ok++;
    kserve_request_free(&a);
    kserve_request_free(&b);
}

static void check_text(const char *body) { check_same(body, strlen(body), -1); }

/* A request with `count` data values (random tokens, now and then anything else), its members
 * in a random order, whitespace anywhere JSON allows it. */
static void random_request(char *o, size_t cap, unsigned batch, unsigned count)
{
    char data[4096] = "[", t[128];
    static const char *const odd[] = {"\"3\"", "[1]", "true", "null", "1e39", "01", "{}", "-"};
    for (unsigned i = 0; i < count; i++) {
        if (next_random() % 50 == 0)
            snprintf(t, sizeof t, "%s", odd[next_random() % 8]);
        else
            random_token(t);
        strcat(data, i ? (next_random() % 4 ? "," : " ,\n ") : "");
        strcat(data, t);
    }
    strcat(data, next_random() % 4 ? "]" : " \t]");
    const char *members[3] = {"\"name\":\"INPUT0\"", "\"datatype\":\"FP32\"", NULL};
    char shape[64];
    snprintf(shape, sizeof shape, "\"shape\":[%u,2,3]", batch);
    members[2] = shape;
    unsigned first = next_random() % 4;
    snprintf(o, cap, "{%s\"inputs\" : [ {%s%s,%s,%s,\"data\":%s} ]%s}", next_random() % 3 ? "" : "\"id\":\"x\",",
             first == 0 ? "\"parameters\":{}," : "", members[first % 3], members[(first + 1) % 3],
             members[(first + 2) % 3], data, next_random() % 3 ? "" : ",\"parameters\":{\"slo_factor\":3}");
}

/* One byte of body changed, removed or doubled: errors anywhere, before, in and after the list. */
static void damage(char *body)
{
    size_t n = strlen(body), at = next_random() % n;
    static const char junk[] = "[]{},:\"\\ 0-e.x\n";
    switch (next_random() % 3) {
    case 0: body[at] = junk[next_random() % (sizeof junk - 1)]; break;
    case 1: memmove(body + at, body + at + 1, n - at); break;
    default: memmove(body + at + 1, body + at, n - at + 1);
    }
}

static void test_fast_path_as_tree(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6,7]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]} x",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}],}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6],"
        "\"data\":[1,2,3,4,5,6]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}],"
        "\"inputs\":[]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6],"
        "\"parameters\":{\"binary_data_size\":24}}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]},{}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"INT8\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[[1,2,3],[4,5,6]]}]}",
        "{\"in\\u0070uts\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"d\\u0061ta\":[1,2,3,4,5,6]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}],"
        "\"outputs\":[{\"name\":\"OUTPUT0\",\"data\":[1]}],\"id\":\"\\\"data\\\":[\"}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,\n6]}]\n,\n}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]}\xff",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,"
        "99999999999999999999]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,1e400]}]}",
        "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,-0]}]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        check_text(bodies[i]);
    /* the binary extension: the JSON part ends before the binary bytes */
    static const char bin[] = "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,2,3],"
                              "\"data\":[1,2,3,4,5,6]}]}\x01\x02";
    check_same(bin, sizeof bin - 1, (long long)sizeof bin - 3);
    check_same(bin, sizeof bin - 1, (long long)sizeof bin + 5);
    check_same(bin, sizeof bin - 1, -2);
    char body[8192];
    for (int i = 0; i < 20000; i++) {
        unsigned batch = 1 + next_random() % 3;
        random_request(body, sizeof body, batch, batch * 6 + (next_random() % 8 == 0 ? 1 : 0));
        if (next_random() % 3 == 0)
            damage(body);
        check_text(body);
    }
    print_message("fast path vs tree: %u accepted, %u refused alike\n", fast_ok, fast_refused);
    assert_true(fast_ok > 1000 && fast_refused > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_edges),         cmocka_unit_test(test_format_sweeps),
        cmocka_unit_test(test_format_as_jansson),    cmocka_unit_test(test_scan_as_jansson),
        cmocka_unit_test(test_fast_load_as_jansson), cmocka_unit_test(test_fast_path_as_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
