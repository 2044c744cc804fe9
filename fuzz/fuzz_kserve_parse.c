/* libFuzzer target: the inference request's fast path (kserve_parse_infer: a flat data list
 * read without Jansson's tree, the rest by json_fast_load) against the reference that parses
 * every value with Jansson (kserve_parse_infer_tree), on a model with input [2,3]; and
 * json_fast_load against json_loadb on the body. Inputs as fuzz_http_requests reads
 * them (its corpus serves): an optional "METHOD PATH\n" line, an optional "#LEN\n" (the
 * Inference-Header-Content-Length), then the body. Any difference in status, message or the
 * request parsed aborts. */
#include "controller/http/json_fast.h"
#include "controller/http/kserve.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long header_length(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    if (nl && *size && (*data)[0] != '{') { /* the request line */
        *size -= (size_t)(nl + 1 - *data);
        *data = nl + 1;
    }
    if (*size < 2 || (*data)[0] != '#')
        return -1;
    long long n = 0;
    size_t i = 1;
    for (; i < *size && i < 12 && (*data)[i] >= '0' && (*data)[i] <= '9'; i++)
        n = n * 10 + ((*data)[i] - '0');
    if (i < *size && (*data)[i] == '\n')
        i++;
    *size -= i;
    *data += i;
    return n;
}

static int same_request(const struct kserve_request *a, const struct kserve_request *b, uint64_t elems)
{
    return a->batch == b->batch && !memcmp(a->data, b->data, a->batch * elems * sizeof(float)) &&
           (a->id == NULL) == (b->id == NULL) && (!a->id || !strcmp(a->id, b->id)) &&
           a->binary_output == b->binary_output && a->user_id == b->user_id && a->slo_ms == b->slo_ms &&
           a->slo_factor == b->slo_factor;
}

static char *canonical(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
}

/* json_fast_load takes only what json_loadb takes, as the same tree. */
static void check_fast_load(const uint8_t *data, size_t size)
{
    json_t *fast = json_fast_load((const char *)data, size);
    if (!fast)
        return;
    json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    char *a = canonical(fast), *b = ref ? canonical(ref) : NULL;
    if (!a || !b || strcmp(a, b) != 0) {
        fprintf(stderr, "json_fast_load: %s\njson_loadb: %s\n", a ? a : "(none)", b ? b : "(refused)");
        abort();
    }
    free(a);
    free(b);
    json_decref(fast);
    json_decref(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kserve_model m = {.name = "tiny"};
    snprintf(m.input.name, sizeof m.input.name, "INPUT0");
    m.input.rank = 2, m.input.dims[0] = 2, m.input.dims[1] = 3, m.input.elems = 6;
    snprintf(m.output.name, sizeof m.output.name, "OUTPUT0");
    m.output.rank = 1, m.output.dims[0] = 4, m.output.elems = 4;
    long long json_len = header_length(&data, &size);
    check_fast_load(data, size);
    struct kserve_request a, b;
    char ea[600] = "", eb[600] = "";
    int ra = kserve_parse_infer(&m, data, size, json_len, &a, ea, sizeof ea);
    int rb = kserve_parse_infer_tree(&m, data, size, json_len, &b, eb, sizeof eb);
    if (ra != rb || strcmp(ea, eb) != 0 || (ra == 0 && !same_request(&a, &b, m.input.elems))) {
        fprintf(stderr, "fast path: %d %s\ntree: %d %s\n", ra, ea, rb, eb);
        abort();
    }
    kserve_request_free(&a);
    kserve_request_free(&b);
    return 0;
}
