/* Our worker against the original Clockwork (tests/wire-golden/): it accepts the frames the
 * original controller sent (replayed byte for byte) and answers each as the original worker
 * would; and, driven through the dialogue the original worker_dummy was recorded in, its results
 * equal the original's field for field, except for times and what the README lists as the
 * original's bugs. The model is the capture's synthetic resnet50_v2 profile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/emu/emu_backend.h"
#include "common/status.h"
#include "golden_frames.h"
#include "proto/clockwork.pb-c.h"
#include "wire_socket.h"
#include "worker/worker.h"
#include <pthread.h>
#include <sys/stat.h>

#define MiB (1024ull * 1024)

struct fixture {
    char dir[64];
    struct worker *w;
    pthread_t thread;
    int port, fd;
    struct golden_readme g;
};

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void *run_loop(void *arg)
{
    worker_run(arg);
    return NULL;
}

/* The capture's model zoo (/models/resnet50_v2/model: weights 8.4 ms, b1 2.9 ... b16 22.0 ms,
 * 7 pages) in a directory of our own, found through CLOCKWORK_MODEL_DIR as the original's
 * paths name it; and worker_dummy -n 1 with the original's default.cfg. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cw_worker_golden_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/resnet50_v2", f->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/resnet50_v2/model.info", f->dir);
    write_text(path, "input_size = 602112L; output_size = 4000L; weights_size = 112000000L;\n"
                     "batch_sizes = [1, 2, 4, 8, 16];\n");
    snprintf(path, sizeof path, "%s/resnet50_v2/model.measurements", f->dir);
    write_text(path, "weights = 8400000L; b1 = 2900000L; b2 = 5300000L; b4 = 7500000L; b8 = 12400000L;\n"
                     "b16 = 22000000L;\n");
    setenv("CLOCKWORK_MODEL_DIR", f->dir, 1);
    struct worker_options o;
    worker_options_defaults(&o);
    o.make_backend = emu_backend_factory;
    o.num_devices = 1;
    o.host = "127.0.0.1";
    o.port = f->port = wire_free_port();
    o.print_status = 0;
    o.handle_signals = 0;
    struct worker_config cfg;
    worker_config_defaults(&cfg); /* 1376 pages of 16 MiB, 512 MiB io and workspace pools */
    cfg.host_io_pool_size = 512 * MiB;
    char err[256];
    f->w = worker_create(&o, &cfg, err, sizeof err);
    if (!f->w || pthread_create(&f->thread, NULL, run_loop, f->w) != 0)
        return -1;
    f->fd = wire_dial(f->port);
    golden_readme_load(&f->g);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close(f->fd);
    worker_stop(f->w);
    pthread_join(f->thread, NULL);
    worker_destroy(f->w);
    golden_readme_free(&f->g);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Reads one result; checks its type and action id; returns it decoded with d (caller frees). */
static ProtobufCMessage *expect_result(int fd, uint64_t type, int32_t action_id, const ProtobufCMessageDescriptor *d,
                                       size_t *body_len)
{
    struct wire_reply r;
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, type);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, r.header_len, r.header);
    assert_non_null(m);
    assert_int_equal(*(const int32_t *)((const char *)m + d->fields[0].offset), action_id); /* field 1: action_id */
    if (body_len)
        *body_len = r.body_len;
    wire_reply_free(&r);
    return m;
}

static Clockwork__ErrorResultProto *expect_error(int fd, int32_t action_id)
{
    return (Clockwork__ErrorResultProto *)expect_result(fd, 100, action_id, &clockwork__error_result_proto__descriptor,
                                                        NULL);
}

static void send_golden(struct fixture *f, const char *name)
{
    size_t len;
    uint8_t *data = golden_read(name, &len);
    wire_write_all(f->fd, data, len);
    free(data);
}

/* The original controller's frames (capture A: INFER5, then inputs of capture B), in the order
 * it sent them. Its LoadWeights/Infer windows lie in the capture's past: the worker fails them
 * as too late, with the original's codes. */
static void test_accepts_the_original_controllers_frames(void **state)
{
    struct fixture *f = *state;
    send_golden(f, "controller_to_worker/006_get_worker_state_action.bin");
    protobuf_c_message_free_unpacked(
        expect_result(f->fd, 106, 0, &clockwork__get_worker_state_result_proto__descriptor, NULL), NULL);

    /* LoadModelFromDisk with max_batch_size 8, max_exec_duration 250 ms: b16 is not offered */
    send_golden(f, "controller_to_worker/001_load_model_from_disk_action.bin");
    Clockwork__LoadModelFromDiskResultProto *l = (Clockwork__LoadModelFromDiskResultProto *)expect_result(
        f->fd, 101, 0, &clockwork__load_model_from_disk_result_proto__descriptor, NULL);
    assert_int_equal(l->input_size, 602112);
    assert_int_equal(l->output_size, 4000);
    assert_int_equal(l->copies_created, 2);
    assert_int_equal(l->num_weights_pages, 7);
    assert_int_equal(l->weights_size_in_cache, 117440512);
    assert_int_equal(l->n_supported_batch_sizes, 4);
    assert_int_equal(l->supported_batch_sizes[3], 8);
    assert_int_equal(l->n_batch_size_exec_times_nanos, 4);
    assert_int_equal(l->batch_size_exec_times_nanos[3], 12400000);
    protobuf_c_message_free_unpacked(&l->base, NULL);

    static const struct {
        const char *name;
        int32_t action_id;
        int action_type, status;
    } late[] = {
        {"controller_to_worker/002_load_weights_action.bin", 0, 1, ACTION_LOAD_WEIGHTS_TOO_LATE},
        {"controller_to_worker/003_infer_action.bin", 1, 2, ACTION_EXEC_TOO_LATE},
        {"controller_to_worker/003_infer_action_with_input.bin", 62, 2, ACTION_EXEC_TOO_LATE},
        {"controller_to_worker/004_evict_weights_action.bin", 2, 3, ACTION_EVICT_WEIGHTS_NOT_PRESENT},
    };
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++) {
        send_golden(f, late[i].name);
        Clockwork__ErrorResultProto *e = expect_error(f->fd, late[i].action_id);
        assert_int_equal(e->action_type, late[i].action_type);
        assert_int_equal(e->status, late[i].status);
        protobuf_c_message_free_unpacked(&e->base, NULL);
    }
}

/* Paths that differ by nature (times, error texts) or by the original's bugs (README finding 7). */
static int comparable(const char *path)
{
    static const char *const skip[] = {
        "action_received", "result_sent", ".begin", ".end", ".duration", "message", "host_weights_cache_size"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strstr(path, skip[i]))
            return 0;
    return !(strstr(path, "models[") && strstr(path, "num_weights_pages")); /* the original's is the page size */
}

/* Our result (decoded with the golden entry's message) equals the original's in every
 * comparable field, and has no field the original lacks. */
static void compare_with_golden(struct fixture *f, const char *name, uint64_t type, int32_t action_id)
{
    const struct golden_entry *e = golden_find(&f->g, name);
    assert_non_null(e);
    assert_int_equal(e->msg_type, type);
    const ProtobufCMessageDescriptor *d = NULL;
    static const ProtobufCMessageDescriptor *const results[] = {
        &clockwork__error_result_proto__descriptor,           &clockwork__load_model_from_disk_result_proto__descriptor,
        &clockwork__load_weights_result_proto__descriptor,    &clockwork__infer_result_proto__descriptor,
        &clockwork__evict_weights_result_proto__descriptor,   &clockwork__clear_cache_result_proto__descriptor,
        &clockwork__get_worker_state_result_proto__descriptor};
    for (size_t i = 0; i < 7; i++)
        if (!strcmp(results[i]->short_name, e->message))
            d = results[i];
    assert_non_null(d);
    size_t body_len;
    ProtobufCMessage *m = expect_result(f->fd, type, action_id, d, &body_len);
    assert_int_equal(body_len, e->body_len);
    struct golden_printed p = {.n = 0};
    golden_print_message(m, "", &p);
    unsigned k = 0;
    for (unsigned i = 0; i < p.n; i++) {
        if (!comparable(p.fields[i].path))
            continue;
        while (k < e->n_fields && !comparable(e->fields[k].path))
            k++;
        if (k == e->n_fields || strcmp(p.fields[i].path, e->fields[k].path) ||
            strcmp(p.fields[i].value, e->fields[k].value))
            fail_msg("%s: ours %s = %s, the original's %s = %s", name, p.fields[i].path, p.fields[i].value,
                     k < e->n_fields ? e->fields[k].path : "(none)", k < e->n_fields ? e->fields[k].value : "");
        k++;
    }
    while (k < e->n_fields && !comparable(e->fields[k].path))
        k++;
    assert_int_equal(k, e->n_fields);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void send_timed(int fd, uint64_t type, int32_t id, int32_t model, uint64_t latest, unsigned batch,
                       const void *body, size_t blen)
{
    Clockwork__LoadWeightsActionProto lw = CLOCKWORK__LOAD_WEIGHTS_ACTION_PROTO__INIT;
    Clockwork__EvictWeightsActionProto ev = CLOCKWORK__EVICT_WEIGHTS_ACTION_PROTO__INIT;
    Clockwork__InferActionProto in = CLOCKWORK__INFER_ACTION_PROTO__INIT;
    lw.action_id = ev.action_id = in.action_id = id;
    lw.model_id = ev.model_id = in.model_id = model;
    lw.latest = ev.latest = in.latest = latest;
    in.batch_size = batch;
    wire_send_msg(fd, type, type == 2 ? &lw.base : type == 4 ? &ev.base : &in.base, body, blen);
}

static void send_load_model(int fd, int32_t id, int32_t model, const char *path)
{
    Clockwork__LoadModelFromDiskActionProto a = CLOCKWORK__LOAD_MODEL_FROM_DISK_ACTION_PROTO__INIT;
    a.action_id = id;
    a.model_id = model;
    a.model_path = (char *)path;
    a.latest = UINT64_MAX;
    a.no_of_copies = 1;
    a.max_batch_size = 16;
    a.max_exec_duration = 25000000;
    wire_send_msg(fd, 1, &a.base, NULL, 0);
}

/* Capture W: the fake controller's dialogue with the original worker_dummy -n 1, replayed. */
static void test_answers_like_the_original_worker(void **state)
{
    struct fixture *f = *state;
    Clockwork__GetWorkerStateActionProto gs = CLOCKWORK__GET_WORKER_STATE_ACTION_PROTO__INIT;
    Clockwork__ClearCacheActionProto cc = CLOCKWORK__CLEAR_CACHE_ACTION_PROTO__INIT;
    wire_send_msg(f->fd, 6, &gs.base, NULL, 0);
    compare_with_golden(f, "worker_to_controller/106_get_worker_state_result.bin", 106, 0);
    cc.action_id = 1;
    wire_send_msg(f->fd, 5, &cc.base, NULL, 0);
    compare_with_golden(f, "worker_to_controller/105_clear_cache_result.bin", 105, 1);
    send_load_model(f->fd, 2, 0, "/models/resnet50_v2/model");
    compare_with_golden(f, "worker_to_controller/101_load_model_from_disk_result.bin", 101, 2);
    gs.action_id = 3;
    wire_send_msg(f->fd, 6, &gs.base, NULL, 0);
    compare_with_golden(f, "worker_to_controller/106_get_worker_state_result_with_model.bin", 106, 3);
    send_timed(f->fd, 2, 4, 0, UINT64_MAX, 0, NULL, 0);
    compare_with_golden(f, "worker_to_controller/102_load_weights_result.bin", 102, 4);
    send_timed(f->fd, 3, 5, 0, UINT64_MAX, 1, NULL, 0);
    compare_with_golden(f, "worker_to_controller/103_infer_result.bin", 103, 5);
    uint8_t *raw = calloc(602112, 1); /* a raw input, without input_sizes */
    send_timed(f->fd, 3, 6, 0, UINT64_MAX, 1, raw, 602112);
    free(raw);
    compare_with_golden(f, "worker_to_controller/103_infer_result_with_output.bin", 103, 6);
    send_timed(f->fd, 4, 7, 0, UINT64_MAX, 0, NULL, 0);
    compare_with_golden(f, "worker_to_controller/104_evict_weights_result.bin", 104, 7);
    send_timed(f->fd, 3, 8, 99, UINT64_MAX, 1, NULL, 0);
    compare_with_golden(f, "worker_to_controller/100_error_result_infer_unknown_model.bin", 100, 8);
    send_timed(f->fd, 4, 9, 0, UINT64_MAX, 0, NULL, 0);
    compare_with_golden(f, "worker_to_controller/100_error_result_evict_not_in_cache.bin", 100, 9);
    send_timed(f->fd, 2, 10, 0, 1, 0, NULL, 0);
    compare_with_golden(f, "worker_to_controller/100_error_result_load_weights_too_late.bin", 100, 10);
    /* action 11 (not captured: the original's text names its build machine): a missing model */
    send_load_model(f->fd, 11, 1, "/models/no_such_model/model");
    Clockwork__ErrorResultProto *e = expect_error(f->fd, 11);
    assert_int_equal(e->action_type, 0);
    assert_int_equal(e->status, ACTION_INVALID_MODEL_PATH);
    protobuf_c_message_free_unpacked(&e->base, NULL);
    /* Action 12 re-sends action 2's registration. The original refuses (40, in
     * 100_error_result_load_model_duplicate_id.bin); ours answers it as a success, so that a
     * restarted controller can register its models again. Another model on that id is refused
     * as the original does. */
    send_load_model(f->fd, 12, 0, "/models/resnet50_v2/model");
    protobuf_c_message_free_unpacked(
        expect_result(f->fd, 101, 12, &clockwork__load_model_from_disk_result_proto__descriptor, NULL), NULL);
    send_load_model(f->fd, 12, 0, "/models/other/model");
    compare_with_golden(f, "worker_to_controller/100_error_result_load_model_duplicate_id.bin", 100, 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accepts_the_original_controllers_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_like_the_original_worker, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
