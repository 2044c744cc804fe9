/* The HTTP front end on the real controller (controller_harness.h with http_frontend): replies
 * leave once per loop turn after one commit of the request rows, so (1) every inference answer
 * a client holds has its row in the request log already, and (2) a request whose client goes
 * away while its reply waits for that turn is dropped safely (an HTTP/2 stream reset arriving
 * in the same read as the request: the reply is made at once and waits; the reset disposes of
 * the request before the turn's flush) and counted; the controller keeps serving. Run under
 * ASan by scripts/test.sh, which catches a reply sent from a disposed request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controller/http/http_front.h"
#include "controller_harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sends req on a new connection to port and reads the reply until the server closes;
 * returns its status code and the reply (body and head) in out. */
static int http_exchange(int port, const char *req, char *out, size_t cap)
{
    int fd = wire_try_dial(port);
    assert_true(fd >= 0);
    wire_write_all(fd, req, strlen(req));
    size_t n = 0;
    ssize_t got;
    while (n + 1 < cap && (got = read(fd, out + n, cap - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = '\0';
    close(fd);
    int code = 0;
    sscanf(out, "HTTP/1.%*d %d", &code);
    return code;
}

static int http_get(int port, const char *path, char *out, size_t cap)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    return http_exchange(port, req, out, cap);
}

static uint64_t metric(struct ch *h, const char *name)
{
    static char page[1 << 16];
    assert_int_equal(http_get(h->metrics_port, "/metrics", page, sizeof page), 200);
    char *at = page;
    size_t len = strlen(name);
    while ((at = strstr(at, name)) && (at[len] != ' ' || at[-1] != '\n'))
        at += len;
    if (!at)
        fail_msg("%s is not in /metrics", name);
    return strtoull(at + len + 1, NULL, 10);
}

static unsigned log_rows(struct ch *h)
{
    char path[128], line[1024];
    snprintf(path, sizeof path, "%s/clockwork_request_log.tsv", h->dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, "t\t", 2) != 0;
    fclose(f);
    return n;
}

/* One HTTP/2 frame header: length, type, flags, stream. */
static size_t h2_frame(uint8_t *p, size_t len, uint8_t type, uint8_t flags, uint32_t stream)
{
    uint8_t head[9] = {(uint8_t)(len >> 16),    (uint8_t)(len >> 8),     (uint8_t)len,           type,           flags,
                       (uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8), (uint8_t)stream};
    memcpy(p, head, 9);
    return 9;
}

/* HPACK literal without indexing, the name from the static table. */
static size_t hpack_literal(uint8_t *p, uint8_t name_index, const char *value)
{
    size_t n = strlen(value);
    p[0] = name_index;
    p[1] = (uint8_t)n;
    memcpy(p + 2, value, n);
    return 2 + n;
}

/* Preface, SETTINGS, HEADERS of GET path on stream 1 (ends the stream) and RST_STREAM of
 * stream 1, in one write: the server reads them in one go. */
static void h2_request_then_reset(int port, const char *path)
{
    uint8_t msg[512], block[256];
    size_t n = 0, b = 0;
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    memcpy(msg, preface, sizeof preface - 1);
    n += sizeof preface - 1;
    n += h2_frame(msg + n, 0, 0x4, 0, 0);
    block[b++] = 0x82; /* :method GET */
    block[b++] = 0x86; /* :scheme http */
    b += hpack_literal(block + b, 0x04, path);
    b += hpack_literal(block + b, 0x01, "localhost");
    n += h2_frame(msg + n, b, 0x1, 0x5, 1); /* END_STREAM | END_HEADERS */
    memcpy(msg + n, block, b);
    n += b;
    n += h2_frame(msg + n, 4, 0x3, 0, 1);
    static const uint8_t cancel[4] = {0, 0, 0, 0x8};
    memcpy(msg + n, cancel, 4);
    n += 4;
    int fd = wire_try_dial(port);
    assert_true(fd >= 0);
    wire_write_all(fd, msg, n);
    uint8_t sink[4096];
    struct timeval tv = {.tv_sec = 0, .tv_usec = 300000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (read(fd, sink, sizeof sink) > 0) /* the server's SETTINGS; no reply on stream 1 */
        ;
    close(fd);
}

static void start(struct ch *h)
{
    ch_init(h);
    char prefix[128], path[160];
    snprintf(prefix, sizeof prefix, "%s/f", h->dir);
    mkdir(prefix, 0755);
    snprintf(path, sizeof path, "%s/f/model.info", h->dir);
    ch_write(path, "input_size = 16L; output_size = 8L; weights_size = 2500000L; batch_sizes = [1, 2, 4];\n");
    snprintf(path, sizeof path, "%s/f/model.measurements", h->dir);
    ch_write(path, "weights = 2000000L; b1 = 1000000L; b2 = 1500000L; b4 = 2000000L;\n");
    ch_worker_start(h, 0, 1, 16 * CH_MIB);
    h->frontend = &http_frontend;
    ch_controller_start(h);
    int fd = ch_dial(h);
    struct ch_rsp r;
    snprintf(prefix, sizeof prefix, "%s/f/model", h->dir);
    assert_int_equal(ch_load(fd, 1, prefix, 1, &r), 0);
    assert_int_equal(r.status, CLIENT_SUCCESS);
    ch_wait_serving(fd);
    close(fd);
    assert_true(ch_wait_log(h, "HTTP metrics (GET /metrics) listening", 10));
}

/* Every answer a client holds has its row in the file: the once-a-second flush alone would
 * leave most of them out at this pace. */
static void test_answer_after_its_row(void **state)
{
    (void)state;
    static struct ch h;
    start(&h);
    static const char body[] = "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"FP32\",\"shape\":[1,4],"
                               "\"data\":[1,2,3,4]}],\"parameters\":{\"slo_factor\":100}}";
    char req[512], out[4096];
    snprintf(req, sizeof req,
             "POST /v2/models/f/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             sizeof body - 1, body);
    unsigned ok = 0, before = log_rows(&h);
    for (int i = 0; i < 30; i++) {
        int code = http_exchange(h.http_port, req, out, sizeof out);
        assert_true(code == 200 || code == 503); /* a cold start may be dropped: it has its row too */
        ok += code == 200;
        assert_int_equal(log_rows(&h), before + (unsigned)i + 1);
    }
    assert_true(ok > 0);
    ch_free(&h);
}

/* A reply waiting for the turn's flush when its HTTP/2 stream is reset is dropped and counted;
 * the front end keeps answering. */
static void test_reset_while_reply_waits(void **state)
{
    (void)state;
    static struct ch h;
    start(&h);
    char out[4096];
    assert_int_equal(metric(&h, "clockwork_http_replies_dropped_total"), 0);
    for (int i = 0; i < 3; i++)
        h2_request_then_reset(h.http_port, "/v2/health/live");
    assert_int_equal(metric(&h, "clockwork_http_replies_dropped_total"), 3);
    assert_int_equal(http_get(h.http_port, "/v2/health/live", out, sizeof out), 200);
    assert_int_equal(http_get(h.http_port, "/v2/health/ready", out, sizeof out), 200);
    ch_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_after_its_row),
        cmocka_unit_test(test_reset_while_reply_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
