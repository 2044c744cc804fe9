/* The CUDA worker backend on a GPU, through the ops the worker's executors call: a converted
 * model (asymmetric-pad conv + ReLU, max pool, flatten, GEMM, softmax) written to disk, loaded
 * (LoadModelFromDisk hook: plan, algorithms, pinned weights, measurements), its weights copied
 * into non-contiguous cache pages, inferences with LZ4 inputs padded to a supported batch and
 * with generated (zero-size) inputs compared with the CPU backend, event timings in order,
 * bad requests refused while the device keeps serving, and a weights cache larger than the
 * GPU refused at start-up. Skipped (77, "no CUDA device") without a GPU. */
#include "backend/backend_input.h"
#include "backend/cpu/cpu_runner.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_gpu.h"
#include "common/clock.h"
#include "common/status.h"
#include "model/model_files.h"
#include <lz4.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define IN_FLOATS (3 * 12 * 12)
#define OUT_FLOATS 10

static const unsigned batch_sizes[3] = {1, 2, 4};
static char dir[64], prefix[128];

static struct plan_tensor tensors[12];
static struct plan_op ops[5];
static int32_t graph_in = 0, graph_out = 9;
static float blob[8 * 27 + 8 + 72 * 10 + 10];

/* x [1,3,12,12] -conv 3x3/2 pads (0,0)-(1,1), ReLU-> [1,8,6,6] -maxpool 2/2-> [1,8,3,3]
 * -flatten-> [1,72] -gemm [72,10] + [1,10]-> [1,10] -softmax-> [1,10] */
static void make_plan(struct plan *p)
{
    memset(tensors, 0, sizeof tensors);
    memset(ops, 0, sizeof ops);
    uint64_t w_off = 0, b_off = 8 * 27 * 4, fw_off = b_off + 8 * 4, fb_off = fw_off + 72 * 10 * 4;
    tensors[0] = (struct plan_tensor){"x", PLAN_ACT, 4, {1, 3, 12, 12}, 0};
    tensors[1] = (struct plan_tensor){"w", PLAN_WEIGHT, 4, {8, 3, 3, 3}, w_off};
    tensors[2] = (struct plan_tensor){"b", PLAN_WEIGHT, 1, {8}, b_off};
    tensors[3] = (struct plan_tensor){"c", PLAN_ACT, 4, {1, 8, 6, 6}, 0};
    tensors[4] = (struct plan_tensor){"p", PLAN_ACT, 4, {1, 8, 3, 3}, 0};
    tensors[5] = (struct plan_tensor){"f", PLAN_ACT, 2, {1, 72}, 0};
    tensors[6] = (struct plan_tensor){"fw", PLAN_WEIGHT, 2, {72, 10}, fw_off};
    tensors[7] = (struct plan_tensor){"fb", PLAN_WEIGHT, 2, {1, 10}, fb_off};
    tensors[8] = (struct plan_tensor){"g", PLAN_ACT, 2, {1, 10}, 0};
    tensors[9] = (struct plan_tensor){"y", PLAN_ACT, 2, {1, 10}, 0};
    struct plan_op conv = {.name = "conv",
                           .type = OP_CONV,
                           .n_in = 3,
                           .in = {0, 1, 2},
                           .out = 3,
                           .kernel = {3, 3},
                           .stride = {2, 2},
                           .dilation = {1, 1},
                           .pad_r = {1, 1},
                           .group = 1,
                           .act = ACT_RELU};
    struct plan_op pool = {.name = "pool",
                           .type = OP_MAXPOOL,
                           .n_in = 1,
                           .in = {3},
                           .out = 4,
                           .kernel = {2, 2},
                           .stride = {2, 2},
                           .dilation = {1, 1}};
    struct plan_op flat = {.name = "flatten", .type = OP_COPY, .n_in = 1, .in = {4}, .out = 5};
    struct plan_op fc = {.name = "fc", .type = OP_GEMM, .n_in = 3, .in = {5, 6, 7}, .out = 8};
    struct plan_op sm = {.name = "softmax", .type = OP_SOFTMAX, .n_in = 1, .in = {8}, .out = 9, .axis = 1};
    ops[0] = conv, ops[1] = pool, ops[2] = flat, ops[3] = fc, ops[4] = sm;
    unsigned s = 7;
    for (size_t i = 0; i < sizeof blob / sizeof *blob; i++) {
        s = s * 1103515245u + 12345u;
        blob[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    *p = (struct plan){10, 5, 1, 1, tensors, ops, &graph_in, &graph_out, sizeof blob, blob};
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    struct plan p;
    make_plan(&p);
    snprintf(dir, sizeof dir, "/tmp/cw-cuda-be.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(prefix, sizeof prefix, "%s/model", dir);
    struct model_info mi = {
        .n_batch_sizes = 3, .batch_sizes = {1, 2, 4}, .exec_ns = {1000, 2000, 3000}, .weights_load_ns = 1000};
    if (plan_save(&p, prefix, err, sizeof err) != 0 ||
        model_files_write_info(prefix, &p, batch_sizes, 3, err, sizeof err) != 0 ||
        model_files_write_measurements(prefix, &mi, err, sizeof err) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *ext[] = {"plan", "weights", "info", "measurements"};
    char path[200];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s.%s", prefix, ext[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static void small_config(struct worker_config *cfg)
{
    worker_config_defaults(cfg);
    cfg->weights_cache_page_size = 1 << 20;
    cfg->weights_cache_size = 16 << 20;
    cfg->workspace_pool_size = 64 << 20;
    cfg->host_io_pool_size = 8 << 20;
}

/* The CPU backend's output for `in` at batch index bi (the reference). */
static void cpu_reference(unsigned bi, const float *in, float *out)
{
    struct plan p;
    struct model_runner r;
    struct model_run_times t;
    char err[512];
    assert_int_equal(plan_load(&p, prefix, err, sizeof err), 0);
    assert_int_equal(cpu_runner_open(&r, &p, batch_sizes, 3, 1, err, sizeof err), 0);
    uint64_t ns;
    assert_int_equal(r.ops->load(r.impl, &ns, err, sizeof err), 0);
    assert_int_equal(r.ops->run(r.impl, bi, in, out, &t, err, sizeof err), 0);
    model_runner_close(&r);
}

static void expect_close(const float *got, const float *want, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= 1e-5 + 1e-4 * fabs(want[i]))) {
            print_error("value %zu: GPU %.9g, CPU %.9g\n", i, got[i], want[i]);
            fail();
        }
        worst = d > worst ? d : worst;
    }
    print_message("    %zu values agree with the CPU backend, max abs error %.3g\n", n, worst);
}

struct fixture {
    struct worker_config cfg;
    struct cuda_worker *w;
    struct model_info m;
    struct backend be;
    unsigned pages[16];
};

static void open_all(struct fixture *f)
{
    char err[1024];
    struct cuda_options o;
    cuda_options_defaults(&o);
    o.measure_runs = 2;
    small_config(&f->cfg);
    f->w = cuda_worker_create(&o, &f->cfg, 1, err, sizeof err);
    if (!f->w)
        print_error("%s\n", err);
    assert_non_null(f->w);
    assert_int_equal(model_info_load(&f->m, prefix, f->cfg.weights_cache_page_size, err, sizeof err), 0);
    int rc = cuda_worker_load_model(f->w, &f->m, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(f->m.num_weights_pages, 1);
    for (unsigned i = 0; i < 3; i++)
        assert_true(f->m.exec_ns[i] > 0 && f->m.exec_ns[i] != (i + 1) * 1000); /* measured on the GPU */
    assert_int_equal(cuda_worker_make_backend(0, &f->be, f->w), 0);
    f->pages[0] = 11; /* anywhere in the cache */
    uint64_t end = 0, start = clock_now_ns();
    assert_int_equal(f->be.ops->load_weights(f->be.impl, &f->m, f->pages, 1, start, &end), ACTION_SUCCESS);
    assert_true(end >= start);
}

static void close_all(struct fixture *f)
{
    f->be.ops->destroy(f->be.impl);
    cuda_worker_free_model(f->w, &f->m);
    cuda_worker_destroy(f->w);
}

/* Compresses `rows` rows of the input, infers at padded batch `padded`. */
static int infer_rows(struct fixture *f, const float *in, unsigned rows, unsigned padded, float *out,
                      struct backend_infer_timing *t, int corrupt)
{
    static char packed[4][LZ4_COMPRESSBOUND(IN_FLOATS * 4)];
    static uint8_t joined[sizeof packed];
    uint32_t sizes[4];
    size_t len = 0;
    for (unsigned i = 0; i < rows; i++) {
        int n = LZ4_compress_default((const char *)(in + i * IN_FLOATS), packed[i], IN_FLOATS * 4, sizeof packed[i]);
        assert_true(n > 0);
        sizes[i] = (uint32_t)n;
        memcpy(joined + len, packed[i], (size_t)n);
        len += (size_t)n;
    }
    if (corrupt)
        sizes[0] -= 3;
    struct backend_infer_io io = {.batch_size = rows,
                                  .padded_batch = padded,
                                  .input = joined,
                                  .input_sizes = sizes,
                                  .n_inputs = rows,
                                  .input_len = len,
                                  .output = (uint8_t *)out,
                                  .output_len = (size_t)rows * OUT_FLOATS * 4};
    return f->be.ops->infer(f->be.impl, &f->m, f->pages, 1, &io, clock_now_ns(), t);
}

static void test_infer_padded_batch_matches_cpu(void **state)
{
    (void)state;
    struct fixture f;
    open_all(&f);
    float in[4 * IN_FLOATS], gpu[4 * OUT_FLOATS], cpu[4 * OUT_FLOATS];
    for (int i = 0; i < 4 * IN_FLOATS; i++)
        in[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    memset(in + 3 * IN_FLOATS, 0, IN_FLOATS * 4); /* the padding row the worker zeroes */
    struct backend_infer_timing t;
    memset(&t, 0, sizeof t);
    assert_int_equal(infer_rows(&f, in, 3, 4, gpu, &t, 0), ACTION_SUCCESS);
    cpu_reference(2, in, cpu);
    expect_close(gpu, cpu, 3 * OUT_FLOATS);
    assert_true(t.copy_input_begin <= t.copy_input_end && t.copy_input_end <= t.exec_begin);
    assert_true(t.exec_begin <= t.exec_end && t.exec_end <= t.copy_output_begin);
    assert_true(t.copy_output_begin <= t.copy_output_end && t.copy_output_end <= clock_now_ns());
    print_message("    b4: input %.1f us, exec %.1f us, output %.1f us; SM clock %u -> %u MHz\n",
                  (t.copy_input_end - t.copy_input_begin) / 1e3, (t.exec_end - t.exec_begin) / 1e3,
                  (t.copy_output_end - t.copy_output_begin) / 1e3, t.clock_before, t.clock_after);
    close_all(&f);
}

static void test_generated_input_matches_cpu(void **state)
{
    (void)state;
    struct fixture f;
    open_all(&f);
    float gen[2 * IN_FLOATS], gpu[2 * OUT_FLOATS], again[2 * OUT_FLOATS], cpu[2 * OUT_FLOATS];
    backend_input_generate(gen, 2 * IN_FLOATS);
    struct backend_infer_io io = {
        .batch_size = 2, .padded_batch = 2, .output = (uint8_t *)gpu, .output_len = sizeof gpu};
    struct backend_infer_timing t;
    assert_int_equal(f.be.ops->infer(f.be.impl, &f.m, f.pages, 1, &io, clock_now_ns(), &t), ACTION_SUCCESS);
    io.output = (uint8_t *)again; /* second time: the generated input is reused, not rewritten */
    assert_int_equal(f.be.ops->infer(f.be.impl, &f.m, f.pages, 1, &io, clock_now_ns(), &t), ACTION_SUCCESS);
    assert_memory_equal(gpu, again, sizeof gpu); /* deterministic */
    cpu_reference(1, gen, cpu);
    expect_close(gpu, cpu, 2 * OUT_FLOATS);
    close_all(&f);
}

static void test_bad_requests_fail_and_device_keeps_serving(void **state)
{
    (void)state;
    struct fixture f;
    open_all(&f);
    float in[IN_FLOATS], out[OUT_FLOATS];
    for (int i = 0; i < IN_FLOATS; i++)
        in[i] = (float)(i % 13) / 13.0f;
    struct backend_infer_timing t;
    assert_int_equal(infer_rows(&f, in, 1, 3, out, &t, 0), ACTION_COPY_INPUT_INVALID_BATCH_SIZE);
    assert_int_equal(infer_rows(&f, in, 1, 1, out, &t, 1), ACTION_COPY_INPUT_INVALID_INPUT);
    struct backend_infer_io io = {
        .batch_size = 1, .padded_batch = 1, .output = (uint8_t *)out, .output_len = sizeof out};
    assert_int_equal(f.be.ops->infer(f.be.impl, &f.m, f.pages, 0, &io, clock_now_ns(), &t),
                     ACTION_EXEC_WEIGHTS_NOT_PRESENT);
    unsigned outside = 16; /* past the cache's last page */
    uint64_t end;
    assert_int_equal(f.be.ops->load_weights(f.be.impl, &f.m, &outside, 1, clock_now_ns(), &end),
                     ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL);
    assert_int_equal(infer_rows(&f, in, 1, 1, out, &t, 0), ACTION_SUCCESS);
    float cpu[OUT_FLOATS];
    cpu_reference(0, in, cpu);
    expect_close(out, cpu, OUT_FLOATS);
    close_all(&f);
}

static void test_reload_into_other_pages(void **state)
{
    (void)state;
    struct fixture f;
    open_all(&f);
    float in[IN_FLOATS], first[OUT_FLOATS], moved[OUT_FLOATS];
    for (int i = 0; i < IN_FLOATS; i++)
        in[i] = (float)(i % 29) / 29.0f - 0.5f;
    struct backend_infer_timing t;
    assert_int_equal(infer_rows(&f, in, 1, 1, first, &t, 0), ACTION_SUCCESS);
    f.pages[0] = 0;
    uint64_t end;
    assert_int_equal(f.be.ops->load_weights(f.be.impl, &f.m, f.pages, 1, clock_now_ns(), &end), ACTION_SUCCESS);
    assert_int_equal(infer_rows(&f, in, 1, 1, moved, &t, 0), ACTION_SUCCESS);
    assert_memory_equal(first, moved, sizeof first);
    close_all(&f);
}

static void test_cache_larger_than_gpu_refused_at_startup(void **state)
{
    (void)state;
    char err[1024];
    struct cuda_options o;
    struct worker_config cfg;
    cuda_options_defaults(&o);
    small_config(&cfg);
    cfg.weights_cache_size = UINT64_C(1) << 50; /* 1 PiB */
    struct cuda_worker *w = cuda_worker_create(&o, &cfg, 1, err, sizeof err);
    assert_non_null(w);
    struct backend be;
    assert_int_equal(cuda_worker_make_backend(0, &be, w), -1); /* logs the sizes */
    assert_int_equal(cuda_worker_make_backend(1024, &be, w), -1);
    cuda_worker_destroy(w);
    assert_null(cuda_worker_create(&o, &cfg, 1024, err, sizeof err));
    print_message("    %s\n", err);
    assert_non_null(strstr(err, "1024 GPUs requested"));
}

int main(void)
{
    char why[256];
    if (cuda_gpu_count(why, sizeof why) < 1) {
        printf("SKIP: no CUDA device (%s)\n", why);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infer_padded_batch_matches_cpu),
        cmocka_unit_test(test_generated_input_matches_cpu),
        cmocka_unit_test(test_bad_requests_fail_and_device_keeps_serving),
        cmocka_unit_test(test_reload_into_other_pages),
        cmocka_unit_test(test_cache_larger_than_gpu_refused_at_startup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
