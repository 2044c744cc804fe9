/* The KServe v2 REST bodies (controller/http/kserve.h): inference requests as flat JSON, nested
 * JSON and binary tensor data, with batches, SLO parameters and binary outputs; every malformed
 * request refused with a message naming the problem; responses (JSON data that round-trips FP32
 * exactly, binary data after the JSON), metadata, the repository index and load parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controller/http/kserve.h"
#include "kserve_fixture.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *json, struct kserve_request *r, char *err)
{
    struct kserve_model m = kserve_fixture_model();
    return kserve_parse_infer(&m, (const uint8_t *)json, strlen(json), -1, r, err, 300);
}

/* Expects 400 with `text` in the message. */
static void refused(const char *json, const char *text)
{
    struct kserve_request r;
    char err[300] = "";
    assert_int_equal(parse(json, &r, err), 400);
    if (!strstr(err, text))
        fail_msg("'%s' lacks '%s'", err, text);
    assert_null(r.data);
}

#define IN(shape, rest) "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":" shape rest "}]"

static void test_flat_and_nested(void **state)
{
    (void)state;
    struct kserve_request r;
    char err[300];
    assert_int_equal(parse(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6.5]") ",\"id\":\"r1\"}", &r, err), 0);
    assert_int_equal(r.batch, 1);
    assert_true(r.data[5] == 6.5f);
    assert_string_equal(r.id, "r1");
    assert_int_equal(r.binary_output, 0);
    kserve_request_free(&r);
    assert_int_equal(parse(IN("[2,2,3]", ",\"data\":[[[1,2,3],[4,5,6]],[[7,8,9],[10,11,12]]]") "}", &r, err), 0);
    assert_int_equal(r.batch, 2);
    for (int i = 0; i < 12; i++)
        assert_true(r.data[i] == (float)(i + 1));
    kserve_request_free(&r);
    /* float32 values survive JSON: the shortest double text of each parses back to it */
    assert_int_equal(
        parse(IN("[1,2,3]", ",\"data\":[0.1,1e-45,3.4028234663852886e+38,-0.0,16777217,1.5]") "}", &r, err), 0);
    assert_true(r.data[0] == 0.1f && r.data[1] == 1e-45f && r.data[2] == 3.4028234663852886e+38f);
    assert_true(r.data[4] == 16777216.0f);
    kserve_request_free(&r);
}

static void test_parameters(void **state)
{
    (void)state;
    struct kserve_request r;
    char err[300];
    assert_int_equal(parse(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"parameters\":{\"slo_ms\":25.5,\"user_id\":7,"
                                                                    "\"binary_data_output\":true,\"other\":\"x\"}}",
                           &r, err),
                     0);
    assert_true(r.slo_ms == 25.5 && r.slo_factor == 0);
    assert_int_equal(r.user_id, 7);
    assert_int_equal(r.binary_output, 1);
    kserve_request_free(&r);
    assert_int_equal(parse(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"parameters\":{\"slo_factor\":3},"
                                                                    "\"outputs\":[{\"name\":\"OUTPUT0\",\"parameters\":"
                                                                    "{\"binary_data\":true}}]}",
                           &r, err),
                     0);
    assert_true(r.slo_factor == 3);
    assert_int_equal(r.binary_output, 1);
    kserve_request_free(&r);
}

static void test_binary_input(void **state)
{
    (void)state;
    struct kserve_model m = kserve_fixture_model();
    const char *json = IN("[2,2,3]", ",\"parameters\":{\"binary_data_size\":48}") "}";
    size_t jl = strlen(json);
    uint8_t body[256];
    memcpy(body, json, jl);
    float values[12];
    for (int i = 0; i < 12; i++)
        values[i] = (float)i / 3;
    memcpy(body + jl, values, sizeof values);
    struct kserve_request r;
    char err[300];
    assert_int_equal(kserve_parse_infer(&m, body, jl + 48, (long long)jl, &r, err, sizeof err), 0);
    assert_int_equal(r.batch, 2);
    assert_memory_equal(r.data, values, sizeof values);
    kserve_request_free(&r);
    assert_int_equal(kserve_parse_infer(&m, body, jl + 40, (long long)jl, &r, err, sizeof err), 400);
    assert_non_null(strstr(err, "exceeds the 40 bytes of binary data"));
    assert_int_equal(kserve_parse_infer(&m, body, jl + 48, (long long)jl + 100, &r, err, sizeof err), 400);
    assert_non_null(strstr(err, "Inference-Header-Content-Length"));
    assert_int_equal(kserve_parse_infer(&m, body, jl + 48, -2, &r, err, sizeof err), 400);
    memcpy(body + jl + 48, "xx", 2); /* two bytes nobody claims */
    assert_int_equal(kserve_parse_infer(&m, body, jl + 50, (long long)jl, &r, err, sizeof err), 400);
    assert_non_null(strstr(err, "2 bytes of binary data after the JSON are not claimed"));
}

static void test_malformed_requests(void **state)
{
    (void)state;
    refused("{\"inputs\": [", "malformed JSON at line 1, column");
    refused("[1,2]", "must be a JSON object");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"id\":5}", "'id' must be a string");
    refused("{\"inputs\":[]}", "'inputs' must be a list of one tensor");
    refused("{\"inputs\":[{\"name\":\"X\",\"datatype\":\"FP32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]}",
            "unknown input 'X': model tiny has one input, INPUT0");
    refused("{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"INT32\",\"shape\":[1,2,3],\"data\":[1,2,3,4,5,6]}]}",
            "datatype 'INT32' is not supported: model tiny takes FP32");
    refused(IN("[1,6]", ",\"data\":[1,2,3,4,5,6]") "}", "'shape' must be a list of 3 dimensions, [-1,2,3]");
    refused(IN("[1,3,2]", ",\"data\":[1,2,3,4,5,6]") "}", "shape does not match [-1,2,3]");
    refused(IN("[0,2,3]", ",\"data\":[]") "}", "batch dimension must be from 1 to 256");
    refused(IN("[257,2,3]", ",\"data\":[]") "}", "batch dimension must be from 1 to 256");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5]") "}", "data has 5 elements, its shape needs 6");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6,7]") "}", "more than the 6 elements");
    refused(IN("[1,2,3]", ",\"data\":[1,2,\"3\",4,5,6]") "}", "data element 2 is not a number");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,1e39]") "}", "outside the FP32 range");
    refused(IN("[1,2,3]", ",\"data\":[[[1,2],[3,4,5,6]]]") "}", "a list of 2 at depth 2 where its shape needs 3");
    refused(IN("[1,2,3]", ",\"data\":[[1,2,3,4,5,6]]") "}", "a list of 6 at depth 1 where its shape needs 2");
    refused(IN("[1,2,3]", ",\"data\":[[[1,2,3],[4,5,[6]]]]") "}", "data element 5 is not a number");
    refused(IN("[1,2,3]", "") "}", "no 'data' and no binary_data_size");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6],\"parameters\":{\"binary_data_size\":24}") "}",
            "give 'data' or binary_data_size, not both");
    refused(IN("[1,2,3]", ",\"parameters\":{\"binary_data_size\":20}") "}", "binary_data_size must be 24 bytes");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"parameters\":{\"slo_ms\":5,\"slo_factor\":2}}",
            "give parameter 'slo_ms' or 'slo_factor', not both");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"parameters\":{\"slo_ms\":-1}}",
            "parameter 'slo_ms' must be a positive number");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"parameters\":{\"binary_data_output\":1}}",
            "parameter 'binary_data_output' must be true or false");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"parameters\":{\"user_id\":-3}}", "parameter 'user_id'");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"outputs\":[{\"name\":\"probs\"}]}",
            "unknown output 'probs': model tiny has one output, OUTPUT0");
    refused(IN("[1,2,3]", ",\"data\":[1,2,3,4,5,6]") ",\"id\":\"a\",\"id\":\"b\"}", "duplicate");
}

static void test_responses(void **state)
{
    (void)state;
    struct kserve_model m = kserve_fixture_model();
    struct kserve_request r = {.id = "q", .batch = 2};
    float out[8] = {0.1f, -2.5f, 3e-38f, 7, 1, 2, 3, 4};
    struct http_buf b;
    char err[300];
    long long json_len;
    http_buf_init(&b);
    assert_int_equal(kserve_infer_response(&m, "3", &r, (const uint8_t *)out, &b, &json_len, err, sizeof err), 0);
    assert_int_equal(json_len, -1);
    assert_string_equal(b.data, "{\"model_name\":\"tiny\",\"model_version\":\"3\",\"outputs\":[{\"name\":\"OUTPUT0\","
                                "\"datatype\":\"FP32\",\"shape\":[2,4],\"data\":[0.100000001,-2.5,3.00000009e-38,7.0,"
                                "1.0,2.0,3.0,4.0]}],\"id\":\"q\"}");
    http_buf_free(&b);
    r.binary_output = 1;
    assert_int_equal(kserve_infer_response(&m, "3", &r, (const uint8_t *)out, &b, &json_len, err, sizeof err), 0);
    assert_true(json_len > 0 && (size_t)json_len + 32 == b.len);
    assert_non_null(strstr(b.data, "\"parameters\":{\"binary_data_size\":32}"));
    assert_memory_equal(b.data + json_len, out, 32);
    http_buf_free(&b);
    r.binary_output = 0;
    out[3] = 0.0f / 0.0f; /* JSON has no NaN */
    assert_int_equal(kserve_infer_response(&m, "3", &r, (const uint8_t *)out, &b, &json_len, err, sizeof err), 500);
    assert_non_null(strstr(err, "output element 3"));
    http_buf_free(&b);
}

/* The response as Jansson writes it (the way it was built before it was written directly). */
static char *jansson_response(const struct kserve_model *m, const struct kserve_request *r, const float *out)
{
    json_t *data = json_array(), *shape = json_array();
    for (unsigned i = 0; i < r->batch * m->output.elems; i++)
        json_array_append_new(data, json_real(out[i]));
    json_array_append_new(shape, json_integer(r->batch));
    json_array_append_new(shape, json_integer(m->output.dims[0]));
    json_t *t = json_pack("{s:s, s:s, s:o, s:o}", "name", "OUTPUT0", "datatype", "FP32", "shape", shape, "data", data);
    json_t *root =
        json_pack("{s:s, s:s, s:[o], s:s}", "model_name", m->name, "model_version", "12", "outputs", t, "id", r->id);
    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(root);
    return text;
}

/* The directly written response is byte for byte what Jansson writes: values of every magnitude
 * (exponents, subnormals, -0, integers) and an id that needs escaping. */
static void test_response_text_as_jansson(void **state)
{
    (void)state;
    struct kserve_model m = kserve_fixture_model();
    struct kserve_request r = {.id = "a\"b\\c/\n\t\x01\x1f\xc3\xa9 z", .batch = 64};
    float out[256] = {0.0f,  -0.0f, 1e-45f, 1.17549435e-38f, 3.40282347e38f, -3.40282347e38f, 1e9f,       123456789.0f,
                      1e-5f, 1e-4f, 0.5f,   100.0f,          1e8f,           1e10f,           -7.25e-12f, 16777216.0f};
    uint32_t x = 12345;
    for (unsigned i = 16; i < 256; i++) {
        do {
            x = x * 1103515245u + 12345u;
            memcpy(&out[i], &x, sizeof x);
        } while (!isfinite(out[i]));
    }
    struct http_buf b;
    char err[300];
    long long json_len;
    http_buf_init(&b);
    assert_int_equal(kserve_infer_response(&m, "12", &r, (const uint8_t *)out, &b, &json_len, err, sizeof err), 0);
    char *want = jansson_response(&m, &r, out);
    assert_non_null(want);
    assert_string_equal(b.data, want);
    free(want);
    http_buf_free(&b);
}

static void test_metadata_and_repository(void **state)
{
    (void)state;
    struct kserve_model m = kserve_fixture_model();
    struct http_buf b;
    http_buf_init(&b);
    unsigned versions[2] = {4, 5};
    kserve_model_metadata(&b, &m, versions, 2);
    assert_string_equal(b.data, "{\"name\":\"tiny\",\"versions\":[\"4\",\"5\"],\"platform\":\"clockwork\",\"inputs\":[{"
                                "\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[-1,2,3]}],\"outputs\":[{\"name\":"
                                "\"OUTPUT0\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]}");
    http_buf_free(&b);
    kserve_server_metadata(&b, "2.0");
    assert_non_null(strstr(b.data, "\"extensions\":[\"binary_tensor_data\",\"model_repository\"]"));
    http_buf_free(&b);
    struct kserve_index_entry e[2] = {{"a", "", "READY", ""}, {"b", "", "UNAVAILABLE", "unloaded"}};
    kserve_repository_index(&b, e, 2);
    assert_string_equal(b.data,
                        "[{\"name\":\"a\",\"version\":\"\",\"state\":\"READY\",\"reason\":\"\"},{\"name\":\"b\","
                        "\"version\":\"\",\"state\":\"UNAVAILABLE\",\"reason\":\"unloaded\"}]");
    http_buf_free(&b);
    kserve_error_body(&b, "bad \"thing\"\n");
    assert_string_equal(b.data, "{\"error\":\"bad \\\"thing\\\"\\n\"}");
    http_buf_free(&b);

    int copies, ready;
    char err[300];
    assert_int_equal(kserve_parse_load(NULL, 0, &copies, err, sizeof err), 0);
    assert_int_equal(copies, 1);
    const char *load = "{\"parameters\":{\"copies\":12}}";
    assert_int_equal(kserve_parse_load((const uint8_t *)load, strlen(load), &copies, err, sizeof err), 0);
    assert_int_equal(copies, 12);
    load = "{\"parameters\":{\"copies\":0}}";
    assert_int_equal(kserve_parse_load((const uint8_t *)load, strlen(load), &copies, err, sizeof err), 400);
    load = "{\"parameters\":{\"config\":\"{}\"}}";
    assert_int_equal(kserve_parse_load((const uint8_t *)load, strlen(load), &copies, err, sizeof err), 400);
    assert_non_null(strstr(err, "load parameter 'config' is not supported"));
    const char *index = "{\"ready\":true}";
    assert_int_equal(kserve_parse_index((const uint8_t *)index, strlen(index), &ready, err, sizeof err), 0);
    assert_int_equal(ready, 1);
    assert_int_equal(kserve_parse_index((const uint8_t *)"{", 1, &ready, err, sizeof err), 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_and_nested),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_binary_input),
        cmocka_unit_test(test_malformed_requests),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_metadata_and_repository),
        cmocka_unit_test(test_response_text_as_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
