/* Every wire message type round-trips through protobuf packing, framing and a real
 * loopback connection; malformed frames close only the offending connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/conn.h"
#include "proto/clockwork.pb-c.h"
#include "proto/frame.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_MSGS 64

struct received {
    uint64_t type, id;
    uint8_t header[4096];
    size_t header_len;
    uint8_t body[256];
    size_t body_len;
};

struct harness {
    uv_loop_t loop;
    struct net_server *server;
    int port;
    struct received msgs[MAX_MSGS];
    unsigned n_msgs;
    unsigned closes;
    unsigned expect;
    struct net_conn *client;
    int connected;
    struct net_conn *open[16]; /* every live connection, so teardown can close them */
};

static void track(struct harness *h, struct net_conn *c, int add)
{
    for (int i = 0; i < 16; i++)
        if (add ? h->open[i] == NULL : h->open[i] == c) {
            h->open[i] = add ? c : NULL;
            return;
        }
}

static int on_msg(struct net_conn *c, const struct net_msg *m, void *data)
{
    (void)c;
    struct harness *h = data;
    if (h->n_msgs < MAX_MSGS) {
        struct received *r = &h->msgs[h->n_msgs++];
        r->type = m->type;
        r->id = m->id;
        r->header_len = m->header_len < sizeof r->header ? m->header_len : sizeof r->header;
        memcpy(r->header, m->header, r->header_len);
        r->body_len = m->body_len < sizeof r->body ? m->body_len : sizeof r->body;
        memcpy(r->body, m->body, r->body_len);
    }
    if (h->n_msgs >= h->expect)
        uv_stop(&h->loop);
    return 0;
}

static void on_close(struct net_conn *c, const char *reason, void *data)
{
    (void)reason;
    struct harness *h = data;
    track(h, c, 0);
    h->closes++;
    uv_stop(&h->loop);
}

static void on_connect(struct net_conn *c, int status, void *data)
{
    struct harness *h = data;
    if (status == 0)
        track(h, c, 1);
    if (status == 0 && c == h->client) {
        h->connected = 1;
        uv_stop(&h->loop);
    }
}

static void timer_stop_cb(uv_timer_t *t) { uv_stop(t->loop); }

static void run_until(struct harness *h, int ms)
{
    uv_timer_t t;
    uv_timer_init(&h->loop, &t);
    uv_timer_start(&t, timer_stop_cb, (uint64_t)ms, 0);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&h->loop, UV_RUN_NOWAIT);
}

static struct net_handlers handlers(struct harness *h)
{
    struct net_handlers x = {.on_message = on_msg, .on_close = on_close, .on_connect = on_connect, .data = h};
    return x;
}

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof *h);
    uv_loop_init(&h->loop);
    struct net_handlers x = handlers(h);
    char err[256];
    for (int port = 29000 + (getpid() % 500); !h->server && port < 30000; port++) {
        h->server = net_server_start(&h->loop, "127.0.0.1", port, &x, err, sizeof err);
        h->port = port;
    }
    assert_non_null(h->server);
    h->client = net_connect(&h->loop, "127.0.0.1", h->port, &x, err, sizeof err);
    assert_non_null(h->client);
    run_until(h, 2000);
    assert_true(h->connected);
    *state = h;
    return 0;
}

static void close_all(uv_handle_t *hd, void *arg)
{
    (void)arg;
    if (!uv_is_closing(hd))
        uv_close(hd, NULL);
}

static int teardown(void **state)
{
    struct harness *h = *state;
    for (int i = 0; i < 16; i++)
        if (h->open[i])
            net_conn_close(h->open[i], "done");
    net_server_stop(h->server);
    uv_run(&h->loop, UV_RUN_NOWAIT);
    uv_walk(&h->loop, close_all, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_loop_close(&h->loop);
    free(h);
    return 0;
}

/* Sends one packed message and returns what the server received. */
static struct received *send_and_receive(struct harness *h, uint64_t type, const ProtobufCMessage *msg,
                                         const char *body)
{
    unsigned before = h->n_msgs;
    h->expect = before + 1;
    assert_int_equal(net_conn_send(h->client, type, 1000 + type, msg, body, body ? strlen(body) : 0), 0);
    run_until(h, 2000);
    assert_int_equal(h->n_msgs, before + 1);
    struct received *r = &h->msgs[before];
    assert_int_equal(r->type, type);
    assert_int_equal(r->id, 1000 + type);
    assert_int_equal(r->header_len, protobuf_c_message_get_packed_size(msg));
    uint8_t packed[4096];
    protobuf_c_message_pack(msg, packed);
    assert_memory_equal(packed, r->header, r->header_len);
    /* and it unpacks with the same descriptor */
    ProtobufCMessage *back = protobuf_c_message_unpack(msg->descriptor, NULL, r->header_len, r->header);
    assert_non_null(back);
    protobuf_c_message_free_unpacked(back, NULL);
    if (body) {
        assert_int_equal(r->body_len, strlen(body));
        assert_memory_equal(r->body, body, r->body_len);
    }
    return r;
}

static void test_client_messages(void **state)
{
    struct harness *h = *state;
    Clockwork__RequestHeaderProto rq = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    rq.has_user_id = rq.has_user_request_id = 1;
    rq.user_id = 7;
    rq.user_request_id = 42;
    Clockwork__ResponseHeaderProto rs = CLOCKWORK__RESPONSE_HEADER_PROTO__INIT;
    rs.has_user_request_id = rs.has_status = 1;
    rs.user_request_id = 42;
    rs.status = 5;
    rs.message = "Controller initializing";

    Clockwork__ModelInferenceReqProto inf = CLOCKWORK__MODEL_INFERENCE_REQ_PROTO__INIT;
    inf.header = &rq;
    inf.model_id = 3;
    inf.batch_size = 1;
    inf.slo_factor = 1.5f;
    struct received *r = send_and_receive(h, 2, &inf.base, "compressed-input");
    Clockwork__ModelInferenceReqProto *back =
        clockwork__model_inference_req_proto__unpack(NULL, r->header_len, r->header);
    assert_non_null(back);
    assert_int_equal(back->model_id, 3);
    assert_true(back->slo_factor == 1.5f);
    assert_int_equal(back->header->user_request_id, 42);
    clockwork__model_inference_req_proto__free_unpacked(back, NULL);

    Clockwork__ModelInferenceRspProto infr = CLOCKWORK__MODEL_INFERENCE_RSP_PROTO__INIT;
    infr.header = &rs;
    infr.model_id = 3;
    infr.batch_size = 1;
    send_and_receive(h, 102, &infr.base, "output");

    Clockwork__LoadModelFromDiskReqProto lm = CLOCKWORK__LOAD_MODEL_FROM_DISK_REQ_PROTO__INIT;
    lm.header = &rq;
    lm.remote_path = "/zoo/resnet50_v2/model";
    lm.no_of_copies = 12;
    send_and_receive(h, 3, &lm.base, NULL);
    Clockwork__LoadModelFromDiskRspProto lmr = CLOCKWORK__LOAD_MODEL_FROM_DISK_RSP_PROTO__INIT;
    lmr.header = &rs;
    lmr.model_id = 0;
    lmr.input_size = 602112;
    lmr.output_size = 4000;
    lmr.copies_created = 12;
    send_and_receive(h, 103, &lmr.base, NULL);

    Clockwork__LSReqProto ls = CLOCKWORK__LSREQ_PROTO__INIT;
    ls.header = &rq;
    send_and_receive(h, 5, &ls.base, NULL);
    Clockwork__ClientModelInfoProto mi = CLOCKWORK__CLIENT_MODEL_INFO_PROTO__INIT, *mis[1] = {&mi};
    mi.model_id = 1;
    mi.remote_path = "/zoo/x/model";
    mi.input_size = 10;
    mi.output_size = 20;
    Clockwork__LSRspProto lsr = CLOCKWORK__LSRSP_PROTO__INIT;
    lsr.header = &rs;
    lsr.n_models = 1;
    lsr.models = mis;
    send_and_receive(h, 105, &lsr.base, NULL);

    Clockwork__EvictReqProto ev = CLOCKWORK__EVICT_REQ_PROTO__INIT;
    ev.header = &rq;
    ev.model_id = 9;
    send_and_receive(h, 4, &ev.base, NULL);
    Clockwork__EvictRspProto evr = CLOCKWORK__EVICT_RSP_PROTO__INIT;
    evr.header = &rs;
    send_and_receive(h, 104, &evr.base, NULL);

    Clockwork__ModelUploadReqProto up = CLOCKWORK__MODEL_UPLOAD_REQ_PROTO__INIT;
    up.header = &rq;
    up.batchsize = 1;
    up.so_len = 3;
    up.clockwork_len = 2;
    up.params_len = 1;
    send_and_receive(h, 1, &up.base, "abcdef");
    Clockwork__ModelUploadRspProto upr = CLOCKWORK__MODEL_UPLOAD_RSP_PROTO__INIT;
    upr.header = &rs;
    send_and_receive(h, 101, &upr.base, NULL);
}

static void test_worker_messages(void **state)
{
    struct harness *h = *state;
    Clockwork__TimingProto t = CLOCKWORK__TIMING_PROTO__INIT;
    t.begin = 1700000000000000000ULL;
    t.end = t.begin + 2900000;
    t.duration = 2900000;

    Clockwork__LoadModelFromDiskActionProto a1 = CLOCKWORK__LOAD_MODEL_FROM_DISK_ACTION_PROTO__INIT;
    a1.action_id = 1;
    a1.model_path = "/zoo/resnet50_v2/model";
    a1.latest = UINT64_MAX;
    a1.no_of_copies = 2;
    send_and_receive(h, 1, &a1.base, NULL);
    uint32_t bs[] = {1, 2, 4, 8};
    uint64_t times[] = {2900000, 5300000, 7500000, 12400000};
    Clockwork__LoadModelFromDiskResultProto r1 = CLOCKWORK__LOAD_MODEL_FROM_DISK_RESULT_PROTO__INIT;
    r1.action_id = 1;
    r1.timing = &t;
    r1.n_supported_batch_sizes = 4;
    r1.supported_batch_sizes = bs;
    r1.n_batch_size_exec_times_nanos = 4;
    r1.batch_size_exec_times_nanos = times;
    r1.copies_created = 2;
    send_and_receive(h, 101, &r1.base, NULL);

    Clockwork__LoadWeightsActionProto a2 = CLOCKWORK__LOAD_WEIGHTS_ACTION_PROTO__INIT;
    a2.action_id = 2;
    a2.earliest = t.begin;
    a2.latest = t.end;
    send_and_receive(h, 2, &a2.base, NULL);
    Clockwork__LoadWeightsResultProto r2 = CLOCKWORK__LOAD_WEIGHTS_RESULT_PROTO__INIT;
    r2.action_id = 2;
    r2.timing = &t;
    send_and_receive(h, 102, &r2.base, NULL);

    uint32_t sizes[] = {5, 5};
    Clockwork__InferActionProto a3 = CLOCKWORK__INFER_ACTION_PROTO__INIT;
    a3.action_id = 3;
    a3.batch_size = 2;
    a3.n_input_sizes = 2;
    a3.input_sizes = sizes;
    struct received *rr = send_and_receive(h, 3, &a3.base, "aaaaabbbbb");
    Clockwork__InferActionProto *back = clockwork__infer_action_proto__unpack(NULL, rr->header_len, rr->header);
    assert_non_null(back);
    assert_int_equal(back->n_input_sizes, 2);
    assert_int_equal(back->input_sizes[1], 5);
    clockwork__infer_action_proto__free_unpacked(back, NULL);
    Clockwork__InferResultProto r3 = CLOCKWORK__INFER_RESULT_PROTO__INIT;
    r3.action_id = 3;
    r3.copy_input_timing = r3.exec_timing = r3.copy_output_timing = &t;
    r3.gpu_clock = r3.gpu_clock_before = 1380;
    send_and_receive(h, 103, &r3.base, "out");

    Clockwork__EvictWeightsActionProto a4 = CLOCKWORK__EVICT_WEIGHTS_ACTION_PROTO__INIT;
    a4.action_id = 4;
    send_and_receive(h, 4, &a4.base, NULL);
    Clockwork__EvictWeightsResultProto r4 = CLOCKWORK__EVICT_WEIGHTS_RESULT_PROTO__INIT;
    r4.action_id = 4;
    r4.timing = &t;
    send_and_receive(h, 104, &r4.base, NULL);

    Clockwork__ClearCacheActionProto a5 = CLOCKWORK__CLEAR_CACHE_ACTION_PROTO__INIT;
    send_and_receive(h, 5, &a5.base, NULL);
    Clockwork__ClearCacheResultProto r5 = CLOCKWORK__CLEAR_CACHE_RESULT_PROTO__INIT;
    send_and_receive(h, 105, &r5.base, NULL);

    Clockwork__GetWorkerStateActionProto a6 = CLOCKWORK__GET_WORKER_STATE_ACTION_PROTO__INIT;
    send_and_receive(h, 6, &a6.base, NULL);
    uint32_t models[] = {0, 1};
    Clockwork__GPUInfoProto g = CLOCKWORK__GPUINFO_PROTO__INIT, *gs[1] = {&g};
    g.weights_cache_total_pages = 1376;
    g.n_models = 2;
    g.models = models;
    Clockwork__ModelInfoProto m = CLOCKWORK__MODEL_INFO_PROTO__INIT, *ms[1] = {&m};
    m.source = "/zoo/resnet50_v2/model";
    Clockwork__WorkerMemoryInfoProto wm = CLOCKWORK__WORKER_MEMORY_INFO_PROTO__INIT;
    wm.page_size = 16777216;
    wm.n_gpus = 1;
    wm.gpus = gs;
    wm.n_models = 1;
    wm.models = ms;
    Clockwork__GetWorkerStateResultProto r6 = CLOCKWORK__GET_WORKER_STATE_RESULT_PROTO__INIT;
    r6.worker_memory_info = &wm;
    send_and_receive(h, 106, &r6.base, NULL);

    Clockwork__ErrorResultProto e = CLOCKWORK__ERROR_RESULT_PROTO__INIT;
    e.action_id = 3;
    e.action_type = 3;
    e.status = 11;
    e.message = "could not start in time";
    send_and_receive(h, 100, &e.base, NULL);
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void test_oversized_header_closes_only_that_connection(void **state)
{
    struct harness *h = *state;
    int fd = raw_connect(h->port);
    struct frame_preheader ph = {.header_len = FRAME_MAX_HEADER_LEN + 1, .msg_type = 2};
    uint8_t buf[FRAME_PREHEADER_LEN];
    frame_preheader_encode(&ph, buf);
    assert_int_equal(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
    unsigned closes = h->closes;
    run_until(h, 2000);
    assert_true(h->closes > closes); /* the server closed the raw connection */
    char c;
    assert_true(read(fd, &c, 1) <= 0);
    close(fd);
    /* the original client connection still works */
    Clockwork__LSReqProto ls = CLOCKWORK__LSREQ_PROTO__INIT;
    Clockwork__RequestHeaderProto rq = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    ls.header = &rq;
    send_and_receive(h, 5, &ls.base, NULL);
}

static void test_partial_frames_reassemble(void **state)
{
    struct harness *h = *state;
    int fd = raw_connect(h->port);
    Clockwork__ClearCacheActionProto a = CLOCKWORK__CLEAR_CACHE_ACTION_PROTO__INIT;
    a.action_id = 77;
    uint8_t frame[128];
    size_t hl = protobuf_c_message_pack(&a.base, frame + FRAME_PREHEADER_LEN);
    struct frame_preheader ph = {.header_len = hl, .body_len = 3, .msg_type = 5, .msg_id = 9, .peer_offset = INT64_MAX};
    frame_preheader_encode(&ph, frame);
    memcpy(frame + FRAME_PREHEADER_LEN + hl, "xyz", 3);
    size_t total = FRAME_PREHEADER_LEN + hl + 3;
    unsigned before = h->n_msgs;
    h->expect = before + 1;
    for (size_t i = 0; i < total; i++) { /* one byte at a time */
        assert_int_equal(write(fd, frame + i, 1), 1);
        run_until(h, 5);
    }
    run_until(h, 500);
    assert_int_equal(h->n_msgs, before + 1);
    assert_int_equal(h->msgs[before].type, 5);
    assert_int_equal(h->msgs[before].body_len, 3);
    close(fd);
    run_until(h, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_client_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worker_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_header_closes_only_that_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_frames_reassemble, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
