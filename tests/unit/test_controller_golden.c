/* Our controller against the original Clockwork (tests/wire-golden/):
 * - every result frame of the original worker decodes (worker_link.c) to the README's values;
 * - with a worker that answers start-up with the original worker's own frames, and the original
 *   client's frames sent byte for byte, our controller (INFER5 with the original's built-in
 *   max_exec 250 ms / max_batch 8) sends what the original controller sent (GetWorkerState
 *   byte-identical, LoadModelFromDisk equal but for its action id, LoadWeights and Infer of the
 *   same shape) and answers the client as the original controller did (the initializing LS
 *   byte-identical; LoadModel, LS and the inferences equal but for request ids of the capture). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controller/worker_link.h"
#include "controller_harness.h"
#include "golden_frames.h"

/* ---- the original worker's results through our decoder ---- */

static const char *value_of(const struct golden_entry *e, const char *path)
{
    for (unsigned i = 0; i < e->n_fields; i++)
        if (!strcmp(e->fields[i].path, path))
            return e->fields[i].value;
    fail_msg("%s has no %s", e->name, path);
    return NULL;
}

static unsigned long long num(const struct golden_entry *e, const char *path)
{
    return strtoull(value_of(e, path), NULL, 10);
}

static void decode_golden(const struct golden_entry *e, struct worker_result *r, uint8_t **data)
{
    size_t len;
    *data = golden_read(e->name, &len);
    struct net_msg m = {.type = e->msg_type,
                        .header = *data + FRAME_PREHEADER_LEN,
                        .header_len = e->header_len,
                        .body = *data + FRAME_PREHEADER_LEN + e->header_len,
                        .body_len = e->body_len};
    if (worker_result_decode(&m, 0, r) != 0)
        fail_msg("%s: %s", e->name, r->message);
    assert_int_equal(r->action_id, num(e, "action_id"));
}

static void check_decoded(const struct golden_entry *e, struct worker_result *r)
{
    if (e->msg_type == 100) {
        assert_int_equal(r->sched.status, num(e, "status"));
        assert_int_equal(r->action_type, num(e, "action_type") + 1); /* the original's 0-based codes */
        char quoted[600];
        snprintf(quoted, sizeof quoted, "\"%s\"", r->message);
        assert_string_equal(quoted, value_of(e, "message"));
        assert_int_equal(r->sched.worker_result_sent, num(e, "result_sent"));
    } else if (e->msg_type == 101) {
        assert_int_equal(r->info.input_size, num(e, "input_size"));
        assert_int_equal(r->info.output_size, num(e, "output_size"));
        assert_int_equal(r->info.num_weights_pages, num(e, "num_weights_pages"));
        assert_int_equal(r->info.weights_load_ns, num(e, "weights_load_time_nanos"));
        assert_int_equal(r->info.n_batch_sizes, 5);
        assert_int_equal(r->info.batch_sizes[4], num(e, "supported_batch_sizes[4]"));
        assert_int_equal(r->info.exec_ns[4], num(e, "batch_size_exec_times_nanos[4]"));
        assert_int_equal(r->copies_created, num(e, "copies_created"));
    } else if (e->msg_type == 102 || e->msg_type == 104) {
        assert_int_equal(r->sched.worker_exec_duration, num(e, "timing.duration"));
        assert_int_equal(r->sched.worker_exec_end, num(e, "timing.end"));
        assert_int_equal(r->sched.worker_action_received, num(e, "action_received"));
    } else if (e->msg_type == 103) {
        assert_int_equal(r->sched.worker_exec_duration, num(e, "exec_timing.duration"));
        assert_int_equal(r->sched.gpu_clock, num(e, "gpu_clock"));
        assert_int_equal(r->sched.output_len, e->body_len);
        assert_int_equal(r->sched.worker_result_sent, num(e, "result_sent"));
    } else if (e->msg_type == 106) {
        assert_int_equal(r->page_size, num(e, "worker_memory_info.page_size"));
        assert_int_equal(r->n_gpus, 1);
        assert_int_equal(r->gpus[0].total_pages, num(e, "worker_memory_info.gpus[0].weights_cache_total_pages"));
        assert_int_equal(r->gpus[0].weights_cache_size, num(e, "worker_memory_info.gpus[0].weights_cache_size"));
    }
}

static void test_original_worker_results_decode(void **state)
{
    (void)state;
    struct golden_readme g;
    golden_readme_load(&g);
    unsigned n = 0;
    for (unsigned i = 0; i < g.n_entries; i++) {
        const struct golden_entry *e = &g.entries[i];
        if (strncmp(e->name, "worker_to_controller/", 21) != 0)
            continue;
        struct worker_result r;
        uint8_t *data;
        decode_golden(e, &r, &data);
        check_decoded(e, &r);
        worker_result_free(&r);
        free(data);
        n++;
    }
    assert_int_equal(n, 12);
    golden_readme_free(&g);
}

/* ---- a worker speaking with the original worker's frames ---- */

struct seen {
    uint64_t type;
    uint8_t *header;
    size_t header_len, body_len;
};

struct fake_worker {
    int listen_fd, port;
    pthread_t thread;
    pthread_mutex_t lock;
    struct seen seen[64]; /* the first frames of each action type the controller sent */
    unsigned n_seen;
};

static void send_golden_frame(int fd, const char *name)
{
    size_t len;
    uint8_t *data = golden_read(name, &len);
    wire_write_all(fd, data, len);
    free(data);
}

/* The original's LoadModelFromDisk result, for the ids and copies asked (re-encoded). */
static void answer_load_model(int fd, const struct wire_reply *w)
{
    Clockwork__LoadModelFromDiskActionProto *a =
        clockwork__load_model_from_disk_action_proto__unpack(NULL, w->header_len, w->header);
    assert_non_null(a);
    size_t len;
    uint8_t *data = golden_read("worker_to_controller/101_load_model_from_disk_result.bin", &len);
    struct frame_preheader ph;
    frame_preheader_decode(data, &ph);
    Clockwork__LoadModelFromDiskResultProto *r =
        clockwork__load_model_from_disk_result_proto__unpack(NULL, ph.header_len, data + FRAME_PREHEADER_LEN);
    assert_non_null(r);
    r->action_id = a->action_id;
    r->copies_created = a->no_of_copies;
    wire_send_msg(fd, 101, &r->base, NULL, 0);
    clockwork__load_model_from_disk_result_proto__free_unpacked(r, NULL);
    clockwork__load_model_from_disk_action_proto__free_unpacked(a, NULL);
    free(data);
}

/* LoadWeights, Infer and Evict: done at once (an output body for real inputs). */
static void answer_timed(int fd, const struct wire_reply *w)
{
    uint64_t now = clock_now_ns();
    Clockwork__TimingProto t = CLOCKWORK__TIMING_PROTO__INIT;
    t.begin = t.end = now;
    if (w->type == 3) {
        Clockwork__InferActionProto *a = clockwork__infer_action_proto__unpack(NULL, w->header_len, w->header);
        assert_non_null(a);
        Clockwork__InferResultProto r = CLOCKWORK__INFER_RESULT_PROTO__INIT;
        r.action_id = a->action_id;
        r.copy_input_timing = r.exec_timing = r.copy_output_timing = &t;
        r.action_received = r.result_sent = now;
        size_t out = w->body_len ? 4000u * a->batch_size : 0;
        uint8_t *body = calloc(out + 1, 1);
        wire_send_msg(fd, 103, &r.base, body, out);
        free(body);
        clockwork__infer_action_proto__free_unpacked(a, NULL);
        return;
    }
    Clockwork__LoadWeightsActionProto *a = clockwork__load_weights_action_proto__unpack(NULL, w->header_len, w->header);
    assert_non_null(a); /* EvictWeights has the same first fields */
    Clockwork__LoadWeightsResultProto r = CLOCKWORK__LOAD_WEIGHTS_RESULT_PROTO__INIT;
    r.action_id = a->action_id;
    r.timing = &t;
    r.action_received = r.result_sent = now;
    wire_send_msg(fd, w->type + 100, &r.base, NULL, 0);
    clockwork__load_weights_action_proto__free_unpacked(a, NULL);
}

static void *fake_worker_main(void *arg)
{
    struct fake_worker *fw = arg;
    int fd = accept(fw->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    struct wire_reply w;
    while (wire_recv(fd, &w) == 0) {
        pthread_mutex_lock(&fw->lock);
        int first = 1;
        for (unsigned i = 0; i < fw->n_seen; i++)
            first &= fw->seen[i].type != w.type;
        if (first && fw->n_seen < 64) {
            uint8_t *copy = malloc(w.header_len + 1);
            memcpy(copy, w.header, w.header_len);
            fw->seen[fw->n_seen++] = (struct seen){w.type, copy, w.header_len, w.body_len};
        }
        pthread_mutex_unlock(&fw->lock);
        if (w.type == 6)
            send_golden_frame(fd, "worker_to_controller/106_get_worker_state_result.bin"); /* action 0 */
        else if (w.type == 5)
            send_golden_frame(fd, "worker_to_controller/105_clear_cache_result.bin"); /* action 1 */
        else if (w.type == 1)
            answer_load_model(fd, &w);
        else
            answer_timed(fd, &w);
        wire_reply_free(&w);
    }
    close(fd);
    return NULL;
}

static void fake_worker_start(struct fake_worker *fw)
{
    memset(fw, 0, sizeof *fw);
    pthread_mutex_init(&fw->lock, NULL);
    fw->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fw->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fw->listen_fd, 4), 0);
    getsockname(fw->listen_fd, (struct sockaddr *)&a, &len);
    fw->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&fw->thread, NULL, fake_worker_main, fw), 0);
}

static const struct seen *seen_of(struct fake_worker *fw, uint64_t type)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&fw->lock);
        for (unsigned k = 0; k < fw->n_seen; k++)
            if (fw->seen[k].type == type) {
                pthread_mutex_unlock(&fw->lock);
                return &fw->seen[k];
            }
        pthread_mutex_unlock(&fw->lock);
        usleep(10000);
    }
    fail_msg("the controller never sent an action of type %llu", (unsigned long long)type);
    return NULL;
}

/* ---- comparing with the original's frames ---- */

static const uint8_t *golden_header(const char *name, uint8_t **data, struct frame_preheader *ph)
{
    size_t len;
    *data = golden_read(name, &len);
    frame_preheader_decode(*data, ph);
    return *data + FRAME_PREHEADER_LEN;
}

/* Ours and the original's, decoded with d and printed: equal except the paths listed in `except`
 * (separated by spaces; a path ending in '*' matches a prefix). */
static void same_fields(const ProtobufCMessageDescriptor *d, const uint8_t *ours, size_t ours_len, const char *name,
                        const char *except)
{
    uint8_t *data;
    struct frame_preheader ph;
    const uint8_t *theirs = golden_header(name, &data, &ph);
    ProtobufCMessage *a = protobuf_c_message_unpack(d, NULL, ours_len, ours);
    ProtobufCMessage *b = protobuf_c_message_unpack(d, NULL, ph.header_len, theirs);
    assert_non_null(a);
    assert_non_null(b);
    struct golden_printed pa = {.n = 0}, pb = {.n = 0};
    golden_print_message(a, "", &pa);
    golden_print_message(b, "", &pb);
    if (pa.n != pb.n)
        fail_msg("%s: ours has %u fields, the original's %u", name, pa.n, pb.n);
    for (unsigned i = 0; i < pa.n; i++) {
        if (strcmp(pa.fields[i].path, pb.fields[i].path))
            fail_msg("%s: field %u is %s, the original's %s", name, i, pa.fields[i].path, pb.fields[i].path);
        char key[200];
        snprintf(key, sizeof key, " %s ", pa.fields[i].path);
        char list[300];
        snprintf(list, sizeof list, " %s ", except);
        int skipped = strstr(list, key) != NULL;
        for (char *star = strchr(list, '*'); star && !skipped; star = strchr(star + 1, '*')) {
            char *start = star;
            while (start > list && start[-1] != ' ')
                start--;
            skipped = !strncmp(pa.fields[i].path, start, (size_t)(star - start));
        }
        if (!skipped && strcmp(pa.fields[i].value, pb.fields[i].value))
            fail_msg("%s: %s is %s, the original's %s", name, pa.fields[i].path, pa.fields[i].value,
                     pb.fields[i].value);
    }
    protobuf_c_message_free_unpacked(a, NULL);
    protobuf_c_message_free_unpacked(b, NULL);
    free(data);
}

/* Sends a golden client frame and reads the reply, checking it echoes the frame's msg_id. */
static void client_call(int fd, const char *request, struct wire_reply *w)
{
    uint8_t *data;
    struct frame_preheader ph;
    golden_header(request, &data, &ph);
    wire_write_all(fd, data, FRAME_PREHEADER_LEN + ph.header_len + ph.body_len);
    free(data);
    assert_int_equal(wire_recv(fd, w), 0);
    assert_int_equal(w->type, ph.msg_type + 100);
    assert_int_equal(w->msg_id, ph.msg_id);
}

static int reply_status(const struct wire_reply *w)
{
    struct ch_rsp r;
    ch_decode(w, &r);
    return r.status;
}

/* Repeats an inference until it succeeds (the first ones may meet a cold start). */
static void infer_until_success(int fd, const char *request, struct wire_reply *w)
{
    for (int i = 0; i < 200; i++) {
        client_call(fd, request, w);
        if (reply_status(w) == CLIENT_SUCCESS)
            return;
        wire_reply_free(w);
        usleep(20000);
    }
    fail_msg("%s never succeeded", request);
}

static void check_startup(struct fake_worker *fw, int fd)
{
    struct wire_reply w;
    uint8_t *data;
    struct frame_preheader ph;
    /* GetWorkerState: byte for byte the original controller's first frame */
    const struct seen *s = seen_of(fw, 6);
    const uint8_t *g = golden_header("controller_to_worker/006_get_worker_state_action.bin", &data, &ph);
    assert_int_equal(s->header_len, ph.header_len);
    assert_memory_equal(s->header, g, ph.header_len);
    free(data);
    /* LS while initializing: byte for byte the original's answer */
    client_call(fd, "client_to_controller/005_ls_request.bin", &w);
    g = golden_header("controller_to_client/105_ls_response_initializing.bin", &data, &ph);
    assert_int_equal(w.header_len, ph.header_len);
    assert_memory_equal(w.header, g, ph.header_len);
    wire_reply_free(&w);
    free(data);
    /* LoadModel: our LoadModelFromDisk is the original's but for its action id; the reply too,
     * but for the original's uninitialized header.user_request_id */
    client_call(fd, "client_to_controller/003_load_remote_model_request.bin", &w);
    s = seen_of(fw, 1);
    same_fields(&clockwork__load_model_from_disk_action_proto__descriptor, s->header, s->header_len,
                "controller_to_worker/001_load_model_from_disk_action.bin", "action_id");
    same_fields(&clockwork__load_model_from_disk_rsp_proto__descriptor, w.header, w.header_len,
                "controller_to_client/103_load_remote_model_response.bin", "header.user_request_id");
    struct ch_rsp r;
    ch_decode(&w, &r);
    assert_int_equal(r.user_request_id, 0); /* the request's */
    wire_reply_free(&w);
}

static void check_serving(struct fake_worker *fw, int fd)
{
    struct wire_reply w;
    for (int i = 0; i < 500; i++) { /* LS until the start-up phase is over */
        client_call(fd, "client_to_controller/005_ls_request.bin", &w);
        if (reply_status(&w) == CLIENT_SUCCESS)
            break;
        wire_reply_free(&w);
        usleep(20000);
    }
    /* the original answered request 2 with the same list */
    same_fields(&clockwork__lsrsp_proto__descriptor, w.header, w.header_len, "controller_to_client/105_ls_response.bin",
                "header.user_request_id");
    wire_reply_free(&w);
    /* an inference without input (model 0, request 3; the original's reply was to request 4, model 1) */
    infer_until_success(fd, "client_to_controller/002_inference_request.bin", &w);
    assert_int_equal(w.body_len, 0);
    same_fields(&clockwork__model_inference_rsp_proto__descriptor, w.header, w.header_len,
                "controller_to_client/102_inference_response.bin", "header.user_request_id model_id");
    wire_reply_free(&w);
    const struct seen *s = seen_of(fw, 2);
    same_fields(&clockwork__load_weights_action_proto__descriptor, s->header, s->header_len,
                "controller_to_worker/002_load_weights_action.bin", "action_id model_id earliest latest");
    s = seen_of(fw, 3);
    same_fields(&clockwork__infer_action_proto__descriptor, s->header, s->header_len,
                "controller_to_worker/003_infer_action.bin", "action_id model_id earliest latest");
    /* with the original client's compressed input: the reply is byte for byte the original's */
    infer_until_success(fd, "client_to_controller/002_inference_request_with_input.bin", &w);
    assert_int_equal(w.body_len, 4000);
    uint8_t *data;
    struct frame_preheader ph;
    const uint8_t *g = golden_header("controller_to_client/102_inference_response_with_output.bin", &data, &ph);
    assert_int_equal(w.header_len, ph.header_len);
    assert_memory_equal(w.header, g, ph.header_len);
    free(data);
    wire_reply_free(&w);
}

static void test_speaks_like_the_original_controller(void **state)
{
    (void)state;
    struct ch h;
    ch_init(&h);
    struct fake_worker fw;
    fake_worker_start(&fw);
    h.workers[0].port = fw.port;
    h.n_workers = 1;
    ch_controller_start_type(&h, "INFER5", "0 100 10000000 100000000 250000000 8");
    int fd = ch_dial(&h);
    check_startup(&fw, fd);
    check_serving(&fw, fd);
    close(fd);
    ch_free(&h);
    pthread_join(fw.thread, NULL);
    close(fw.listen_fd);
    for (unsigned i = 0; i < fw.n_seen; i++)
        free(fw.seen[i].header);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_original_worker_results_decode),
        cmocka_unit_test(test_speaks_like_the_original_controller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
