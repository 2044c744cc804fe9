/* End to end: a worker (2 emulated devices) in a thread on 127.0.0.1, driven over real
 * sockets with framed actions. Checks results, error codes, malformed input handling (only
 * that connection closes) and that results for a vanished controller are dropped safely. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/emu/emu_backend.h"
#include "common/clock.h"
#include "common/status.h"
#include "proto/clockwork.pb-c.h"
#include "proto/frame.h"
#include "worker/worker.h"
#include "wire_socket.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MiB (1024ull * 1024)

static struct worker *W;
static pthread_t loop_thread;
static int port;
static char dir[64], prefix[128]; /* the worker's model directory; DIR/m/model */

/* ---- plumbing ---- */

/* Receives an ErrorResultProto and returns its status (checks the action id, and that the
 * failed action's wire type 1..6 is named with the original's 0-based code). */
static int expect_error(int fd, int32_t action_id, int wire_action_type)
{
    struct wire_reply r;
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 100);
    Clockwork__ErrorResultProto *e = clockwork__error_result_proto__unpack(NULL, r.header_len, r.header);
    assert_non_null(e);
    assert_int_equal(e->action_id, action_id);
    assert_int_equal(e->action_type, wire_action_type - 1);
    assert_true(e->message && e->message[0]);
    assert_true(e->result_sent >= e->action_received);
    int status = e->status;
    clockwork__error_result_proto__free_unpacked(e, NULL);
    wire_reply_free(&r);
    return status;
}

/* ---- actions ---- */

static void send_load_model_limited(int fd, int32_t id, int32_t model, const char *path, int copies, unsigned max_batch,
                                    uint64_t max_exec)
{
    Clockwork__LoadModelFromDiskActionProto a = CLOCKWORK__LOAD_MODEL_FROM_DISK_ACTION_PROTO__INIT;
    a.action_id = id;
    a.model_id = model;
    a.model_path = (char *)path;
    a.earliest = 0;
    a.latest = UINT64_MAX;
    a.no_of_copies = copies;
    a.max_batch_size = max_batch;
    a.max_exec_duration = max_exec;
    wire_send_msg(fd, 1, &a.base, NULL, 0);
}

/* With the controller's default limits (max_batch 16, max_exec 25 ms): every batch size. */
static void send_load_model(int fd, int32_t id, int32_t model, const char *path, int copies)
{
    send_load_model_limited(fd, id, model, path, copies, 16, 25 * NS_PER_MS);
}

static void send_load_weights(int fd, int32_t id, int32_t model, unsigned gpu, uint64_t latest)
{
    Clockwork__LoadWeightsActionProto a = CLOCKWORK__LOAD_WEIGHTS_ACTION_PROTO__INIT;
    a.action_id = id;
    a.model_id = model;
    a.gpu_id = gpu;
    a.earliest = 0;
    a.latest = latest;
    wire_send_msg(fd, 2, &a.base, NULL, 0);
}

static void send_evict(int fd, int32_t id, int32_t model, unsigned gpu)
{
    Clockwork__EvictWeightsActionProto a = CLOCKWORK__EVICT_WEIGHTS_ACTION_PROTO__INIT;
    a.action_id = id;
    a.model_id = model;
    a.gpu_id = gpu;
    a.latest = UINT64_MAX;
    wire_send_msg(fd, 4, &a.base, NULL, 0);
}

static void send_infer(int fd, int32_t id, int32_t model, unsigned gpu, unsigned batch, uint32_t *sizes, size_t n,
                       const void *body, size_t blen, uint64_t earliest)
{
    Clockwork__InferActionProto a = CLOCKWORK__INFER_ACTION_PROTO__INIT;
    a.action_id = id;
    a.model_id = model;
    a.gpu_id = gpu;
    a.earliest = earliest;
    a.latest = UINT64_MAX;
    a.batch_size = batch;
    a.n_input_sizes = n;
    a.input_sizes = sizes;
    wire_send_msg(fd, 3, &a.base, body, blen);
}

static void send_get_state(int fd, int32_t id)
{
    Clockwork__GetWorkerStateActionProto a = CLOCKWORK__GET_WORKER_STATE_ACTION_PROTO__INIT;
    a.action_id = id;
    wire_send_msg(fd, 6, &a.base, NULL, 0);
}

static Clockwork__GetWorkerStateResultProto *get_state(int fd, int32_t id)
{
    send_get_state(fd, id);
    struct wire_reply r;
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 106);
    Clockwork__GetWorkerStateResultProto *s =
        clockwork__get_worker_state_result_proto__unpack(NULL, r.header_len, r.header);
    assert_non_null(s);
    assert_int_equal(s->action_id, id);
    wire_reply_free(&r);
    return s;
}

/* ---- fixture ---- */

static void write_file(const char *suffix, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void *run_loop(void *arg)
{
    worker_run(arg);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cw_worker_e2e_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(prefix, sizeof prefix, "%s/m", dir);
    mkdir(prefix, 0755);
    snprintf(prefix, sizeof prefix, "%s/m/model", dir);
    write_file(".info", "input_size = 5L; output_size = 8L; weights_size = 2500000L; batch_sizes = [1, 2, 4];\n");
    write_file(".measurements", "weights = 2000000L; b1 = 1000000L; b2 = 1500000L; b4 = 2000000L;\n");
    struct worker_options o;
    worker_options_defaults(&o);
    o.make_backend = emu_backend_factory;
    o.num_devices = 2;
    o.host = "127.0.0.1";
    o.port = port = wire_free_port();
    o.print_status = 0;
    o.handle_signals = 0;
    o.model_dir = dir;
    o.driver_timeout_ms = 1000;
    struct worker_config cfg;
    worker_config_defaults(&cfg);
    cfg.weights_cache_page_size = MiB;
    cfg.weights_cache_size = 10 * MiB; /* 10 pages; the model takes 3 */
    char err[256];
    W = worker_create(&o, &cfg, err, sizeof err);
    if (!W) {
        fprintf(stderr, "worker_create: %s\n", err);
        return -1;
    }
    return pthread_create(&loop_thread, NULL, run_loop, W);
}

static int teardown(void **state)
{
    (void)state;
    worker_stop(W);
    pthread_join(loop_thread, NULL);
    worker_destroy(W);
    char path[256];
    snprintf(path, sizeof path, "%s.info", prefix);
    unlink(path);
    snprintf(path, sizeof path, "%s.measurements", prefix);
    unlink(path);
    snprintf(path, sizeof path, "%s/m", dir);
    rmdir(path);
    rmdir(dir);
    return 0;
}

/* ---- tests (run in order, sharing the worker) ---- */

static void test_initial_state(void **state)
{
    (void)state;
    int fd = wire_dial(port);
    Clockwork__GetWorkerStateResultProto *s = get_state(fd, 0);
    Clockwork__WorkerMemoryInfoProto *m = s->worker_memory_info;
    assert_int_equal(m->page_size, MiB);
    assert_int_equal(m->n_gpus, 2);
    assert_int_equal(m->gpus[1]->id, 1);
    assert_int_equal(m->gpus[0]->weights_cache_total_pages, 10);
    assert_int_equal(m->gpus[0]->weights_cache_size, 10 * MiB);
    assert_int_equal(m->gpus[0]->n_models, 0);
    assert_int_equal(m->n_models, 0);
    assert_true(s->result_sent >= s->action_received);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    close(fd);
}

static void test_load_model_from_disk(void **state)
{
    (void)state;
    int fd = wire_dial(port);
    send_load_model(fd, 1, 0, prefix, 2);
    struct wire_reply r;
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 101);
    Clockwork__LoadModelFromDiskResultProto *l =
        clockwork__load_model_from_disk_result_proto__unpack(NULL, r.header_len, r.header);
    assert_non_null(l);
    assert_int_equal(l->action_id, 1);
    assert_int_equal(l->input_size, 5);
    assert_int_equal(l->output_size, 8);
    assert_int_equal(l->num_weights_pages, 3);
    assert_int_equal(l->weights_size_in_cache, 3 * MiB);
    assert_int_equal(l->weights_load_time_nanos, 2000000);
    assert_int_equal(l->n_supported_batch_sizes, 3);
    assert_int_equal(l->supported_batch_sizes[2], 4);
    assert_int_equal(l->n_batch_size_exec_times_nanos, 3);
    assert_int_equal(l->batch_size_exec_times_nanos[1], 1500000);
    assert_int_equal(l->copies_created, 2);
    assert_true(l->timing->end >= l->timing->begin);
    clockwork__load_model_from_disk_result_proto__free_unpacked(l, NULL);
    wire_reply_free(&r);

    /* A restarted controller re-sending the same registration is answered as a success... */
    send_load_model(fd, 2, 1, prefix, 1);
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 101);
    wire_reply_free(&r);
    /* ...but id 1 (a copy of 0) cannot be taken by another model. */
    send_load_model(fd, 2, 1, "/elsewhere/model", 1);
    assert_int_equal(expect_error(fd, 2, 1), ACTION_INVALID_MODEL_ID);
    send_load_model(fd, 5, -3, prefix, 1);
    assert_int_equal(expect_error(fd, 5, 1), ACTION_INVALID_MODEL_ID);
    send_load_model(fd, 6, INT32_MAX, prefix, 2);
    assert_int_equal(expect_error(fd, 6, 1), ACTION_INVALID_MODEL_ID);
    send_load_model(fd, 7, 8, prefix, 0);
    assert_int_equal(expect_error(fd, 7, 1), ACTION_INVALID_MODEL_ID);
    char bad[200];
    snprintf(bad, sizeof bad, "%s/missing/model", dir);
    send_load_model(fd, 3, 5, bad, 1);
    assert_int_equal(expect_error(fd, 3, 1), ACTION_INVALID_MODEL_PATH);

    Clockwork__GetWorkerStateResultProto *s = get_state(fd, 4);
    assert_int_equal(s->worker_memory_info->n_models, 2);
    assert_int_equal(s->worker_memory_info->models[1]->id, 1);
    assert_string_equal(s->worker_memory_info->models[1]->source, prefix);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    close(fd);
}

static void test_weights_and_infer(void **state)
{
    (void)state;
    int fd = wire_dial(port);
    send_load_weights(fd, 10, 0, 0, UINT64_MAX);
    struct wire_reply r;
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 102);
    Clockwork__LoadWeightsResultProto *lw = clockwork__load_weights_result_proto__unpack(NULL, r.header_len, r.header);
    assert_non_null(lw);
    assert_int_equal(lw->action_id, 10);
    assert_int_equal(lw->timing->duration, 2000000);
    assert_true(lw->timing->begin >= lw->action_received);
    assert_true(lw->result_sent >= lw->timing->end);
    clockwork__load_weights_result_proto__free_unpacked(lw, NULL);
    wire_reply_free(&r);

    /* batch 3 padded to 4; output is 3 x 8 bytes */
    uint32_t sizes[3] = {4, 6, 5};
    uint8_t body[15] = {0};
    send_infer(fd, 11, 0, 0, 3, sizes, 3, body, sizeof body, 0);
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 103);
    assert_int_equal(r.body_len, 24);
    Clockwork__InferResultProto *ir = clockwork__infer_result_proto__unpack(NULL, r.header_len, r.header);
    assert_non_null(ir);
    assert_int_equal(ir->action_id, 11);
    assert_int_equal(ir->gpu_id, 0);
    assert_int_equal(ir->gpu_clock, 1380);
    assert_int_equal(ir->gpu_clock_before, 1380);
    assert_int_equal(ir->exec_timing->duration, 2000000); /* b4 */
    assert_true(ir->copy_output_timing->end >= ir->exec_timing->end);
    clockwork__infer_result_proto__free_unpacked(ir, NULL);
    wire_reply_free(&r);

    /* zero-size inputs (CLOCKWORK_DISABLE_INPUTS): empty output */
    send_infer(fd, 12, 1, 0, 1, NULL, 0, NULL, 0, 0);
    assert_int_equal(expect_error(fd, 12, 3), ACTION_EXEC_WEIGHTS_NOT_PRESENT); /* copy 1 has no weights */
    send_infer(fd, 13, 0, 0, 2, NULL, 0, NULL, 0, 0);
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 103);
    assert_int_equal(r.body_len, 0);
    wire_reply_free(&r);
    close(fd);
}

static void test_bad_actions_answered(void **state)
{
    (void)state;
    int fd = wire_dial(port);
    uint32_t sizes[2] = {4, 4};
    uint8_t body[8] = {0};
    send_infer(fd, 20, 0, 0, 5, NULL, 0, NULL, 0, 0); /* largest is 4 */
    assert_int_equal(expect_error(fd, 20, 3), ACTION_COPY_INPUT_INVALID_BATCH_SIZE);
    send_infer(fd, 21, 0, 0, 2, sizes, 2, body, 7, 0); /* sizes add up to 8, body 7 */
    assert_int_equal(expect_error(fd, 21, 3), ACTION_COPY_INPUT_INVALID_INPUT);
    send_infer(fd, 22, 0, 0, 3, sizes, 2, body, 8, 0); /* 2 inputs for batch 3 */
    assert_int_equal(expect_error(fd, 22, 3), ACTION_COPY_INPUT_INVALID_INPUT);
    send_infer(fd, 22, 0, 0, 2, NULL, 0, body, 7, 0); /* a raw input of 2 x 5 bytes would be 10 */
    assert_int_equal(expect_error(fd, 22, 3), ACTION_COPY_INPUT_INVALID_INPUT);
    send_infer(fd, 23, 77, 0, 1, NULL, 0, NULL, 0, 0);
    assert_int_equal(expect_error(fd, 23, 3), ACTION_COPY_INPUT_UNKNOWN_MODEL);
    send_load_weights(fd, 24, 0, 7, UINT64_MAX);
    assert_int_equal(expect_error(fd, 24, 2), ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL);
    send_load_weights(fd, 25, 99, 0, UINT64_MAX);
    assert_int_equal(expect_error(fd, 25, 2), ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL);
    send_load_weights(fd, 26, 0, 0, UINT64_MAX); /* already on GPU 0 */
    assert_int_equal(expect_error(fd, 26, 2), ACTION_LOAD_WEIGHTS_ALREADY_LOADED);
    send_load_weights(fd, 27, 1, 1, 1); /* latest long past */
    assert_int_equal(expect_error(fd, 27, 2), ACTION_LOAD_WEIGHTS_TOO_LATE);
    send_evict(fd, 28, 0, 9);
    assert_int_equal(expect_error(fd, 28, 4), ACTION_INVALID_GPU);
    send_evict(fd, 29, 42, 0);
    assert_int_equal(expect_error(fd, 29, 4), ACTION_EVICT_UNKNOWN_MODEL);
    send_evict(fd, 30, 1, 1);
    assert_int_equal(expect_error(fd, 30, 4), ACTION_EVICT_WEIGHTS_NOT_PRESENT);
    /* the worker still serves this connection */
    Clockwork__GetWorkerStateResultProto *s = get_state(fd, 31);
    assert_int_equal(s->worker_memory_info->gpus[0]->n_models, 1);
    assert_int_equal(s->worker_memory_info->gpus[0]->models[0], 0);
    assert_int_equal(s->worker_memory_info->gpus[1]->n_models, 0);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    close(fd);
}

static void test_malformed_closes_only_that_connection(void **state)
{
    (void)state;
    int other = wire_dial(port);
    int fd = wire_dial(port);
    uint8_t junk[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    wire_send_raw(fd, 77, NULL, 0, NULL, 0); /* unknown type */
    assert_true(wire_closed_by_peer(fd));
    close(fd);
    fd = wire_dial(port);
    wire_send_raw(fd, 3, junk, sizeof junk, NULL, 0); /* unparsable Infer header */
    assert_true(wire_closed_by_peer(fd));
    close(fd);
    fd = wire_dial(port);
    wire_send_raw(fd, 6, NULL, 0, NULL, 0); /* GetWorkerState missing its required field */
    assert_true(wire_closed_by_peer(fd));
    close(fd);
    fd = wire_dial(port);
    struct frame_preheader ph = {FRAME_MAX_HEADER_LEN + 1, 0, 6, 0, clock_now_ns(), INT64_MAX};
    uint8_t pre[FRAME_PREHEADER_LEN];
    frame_preheader_encode(&ph, pre);
    wire_write_all(fd, pre, sizeof pre); /* oversized header */
    assert_true(wire_closed_by_peer(fd));
    close(fd);
    /* the connection opened before is untouched, and once it is gone a new one works */
    Clockwork__GetWorkerStateResultProto *s = get_state(other, 40);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    close(other);
    fd = wire_dial(port);
    s = get_state(fd, 41);
    assert_int_equal(s->worker_memory_info->n_gpus, 2);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    close(fd);
}

/* One controller drives the worker: a second connection's actions are refused (with a reply
 * naming the driver, then the connection closes) until the first closes or is silent past
 * the driver timeout (1 s here); then the second takes over and the first is closed. */
static void test_one_controller_drives(void **state)
{
    (void)state;
    int first = wire_dial(port);
    Clockwork__GetWorkerStateResultProto *s = get_state(first, 100);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    int stranger = wire_dial(port);
    send_evict(stranger, 101, 0, 0);
    assert_int_equal(expect_error(stranger, 101, 4), ACTION_RUNTIME_ERROR);
    assert_true(wire_closed_by_peer(stranger));
    close(stranger);
    stranger = wire_dial(port); /* GetWorkerState, which lists every model path, is refused too */
    Clockwork__GetWorkerStateActionProto a = CLOCKWORK__GET_WORKER_STATE_ACTION_PROTO__INIT;
    a.action_id = 102;
    wire_send_msg(stranger, 6, &a.base, NULL, 0);
    assert_int_equal(expect_error(stranger, 102, 6), ACTION_RUNTIME_ERROR);
    assert_true(wire_closed_by_peer(stranger));
    close(stranger);
    s = get_state(first, 103); /* the driver was not disturbed */
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    usleep(1200 * 1000); /* the driver falls silent past the timeout */
    int second = wire_dial(port);
    s = get_state(second, 104);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    assert_true(wire_closed_by_peer(first)); /* replaced */
    close(first);
    close(second);
}

static void test_disconnect_with_pending_results(void **state)
{
    (void)state;
    int fd = wire_dial(port);
    uint64_t later = clock_now_ns() + 100 * NS_PER_MS;
    for (int i = 0; i < 5; i++)
        send_infer(fd, 50 + i, 0, 0, 1, NULL, 0, NULL, 0, later);
    send_load_weights(fd, 60, 1, 1, UINT64_MAX);
    close(fd); /* controller vanishes; results must be dropped safely */
    fd = wire_dial(port);
    /* wait until copy 1's weights are on GPU 1: the dropped actions did run */
    int resident = 0;
    for (int i = 0; i < 2000 && !resident; i++) {
        Clockwork__GetWorkerStateResultProto *s = get_state(fd, 70 + i);
        resident = s->worker_memory_info->gpus[1]->n_models == 1;
        clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
        if (!resident)
            usleep(1000);
    }
    assert_true(resident);
    /* ClearCache empties every device */
    Clockwork__ClearCacheActionProto cc = CLOCKWORK__CLEAR_CACHE_ACTION_PROTO__INIT;
    cc.action_id = 90;
    wire_send_msg(fd, 5, &cc.base, NULL, 0);
    struct wire_reply r;
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 105);
    wire_reply_free(&r);
    Clockwork__GetWorkerStateResultProto *s = get_state(fd, 91);
    assert_int_equal(s->worker_memory_info->gpus[0]->n_models, 0);
    assert_int_equal(s->worker_memory_info->gpus[1]->n_models, 0);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    /* leave a far-future action queued: shutdown must not wait for it */
    send_infer(fd, 92, 0, 0, 1, NULL, 0, NULL, 0, clock_now_ns() + 3600 * NS_PER_S);
    close(fd);
}

/* Loads the model at a fresh id with the given limits; returns its offered batch sizes as
 * "1,2,..." and checks that each comes with its own exec time. */
static void offered_batches(int fd, int32_t id, unsigned max_batch, uint64_t max_exec, char *out, size_t len)
{
    static const uint64_t exec[] = {1000000, 1500000, 2000000}; /* b1 b2 b4 in the fixture */
    send_load_model_limited(fd, id, 100 + id, prefix, 1, max_batch, max_exec);
    struct wire_reply r;
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 101);
    Clockwork__LoadModelFromDiskResultProto *l =
        clockwork__load_model_from_disk_result_proto__unpack(NULL, r.header_len, r.header);
    assert_non_null(l);
    assert_int_equal(l->n_batch_size_exec_times_nanos, l->n_supported_batch_sizes);
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < l->n_supported_batch_sizes; i++) {
        unsigned b = l->supported_batch_sizes[i];
        assert_int_equal(l->batch_size_exec_times_nanos[i], exec[b == 1 ? 0 : b == 2 ? 1 : 2]);
        off += (size_t)snprintf(out + off, len - off, "%s%u", i ? "," : "", b);
    }
    clockwork__load_model_from_disk_result_proto__free_unpacked(l, NULL);
    wire_reply_free(&r);
}

/* LoadModelFromDisk's max_batch_size / max_exec_duration, as the original worker applies them:
 * a batch size is offered if it is <= max_batch_size and, unless it is batch 1, its exec
 * time is <= max_exec_duration; batch 1 always is. Infers of larger batches pad to what is
 * offered or fail. */
static void test_load_model_batch_limits(void **state)
{
    (void)state;
    int fd = wire_dial(port);
    char got[64];
    offered_batches(fd, 1, 16, 25 * NS_PER_MS, got, sizeof got);
    assert_string_equal(got, "1,2,4");
    offered_batches(fd, 2, 2, 25 * NS_PER_MS, got, sizeof got);
    assert_string_equal(got, "1,2");
    offered_batches(fd, 3, 16, 1500000, got, sizeof got); /* b2 = 1.5 ms fits exactly, b4 = 2 ms does not */
    assert_string_equal(got, "1,2");
    offered_batches(fd, 4, 16, 1, got, sizeof got); /* b1 exceeds it too, yet stays */
    assert_string_equal(got, "1");
    offered_batches(fd, 5, 0, 0, got, sizeof got);
    assert_string_equal(got, "1");
    offered_batches(fd, 6, 3, 25 * NS_PER_MS, got, sizeof got); /* 3 is not a batch size: 4 > 3 */
    assert_string_equal(got, "1,2");
    /* model 102 offers 1 and 2: a batch of 2 runs, a batch of 3 cannot be padded */
    send_load_weights(fd, 7, 102, 1, UINT64_MAX);
    struct wire_reply r;
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 102);
    wire_reply_free(&r);
    send_infer(fd, 8, 102, 1, 2, NULL, 0, NULL, 0, 0);
    assert_int_equal(wire_recv(fd, &r), 0);
    assert_int_equal(r.type, 103);
    wire_reply_free(&r);
    send_infer(fd, 9, 102, 1, 3, NULL, 0, NULL, 0, 0);
    assert_int_equal(expect_error(fd, 9, 3), ACTION_COPY_INPUT_INVALID_BATCH_SIZE);
    /* the GetWorkerState view of the model says the same */
    Clockwork__GetWorkerStateResultProto *s = get_state(fd, 10);
    int found = 0;
    for (size_t i = 0; i < s->worker_memory_info->n_models; i++) {
        Clockwork__ModelInfoProto *m = s->worker_memory_info->models[i];
        if (m->id != 102)
            continue;
        found = 1;
        assert_int_equal(m->n_supported_batch_sizes, 2);
        assert_int_equal(m->n_batch_size_exec_times_nanos, 2);
    }
    assert_true(found);
    clockwork__get_worker_state_result_proto__free_unpacked(s, NULL);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_state),
        cmocka_unit_test(test_load_model_from_disk),
        cmocka_unit_test(test_weights_and_infer),
        cmocka_unit_test(test_bad_actions_answered),
        cmocka_unit_test(test_malformed_closes_only_that_connection),
        cmocka_unit_test(test_disconnect_with_pending_results),
        cmocka_unit_test(test_one_controller_drives),
        cmocka_unit_test(test_load_model_batch_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
