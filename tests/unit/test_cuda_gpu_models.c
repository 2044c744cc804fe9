/* Whole models on a GPU against the CPU backend: the generated tiny CNN (grouped and dilated
 * convolutions, sigmoid, mul, concat, average pool, softmax), a small MobileNet (depthwise,
 * ReLU6, MatMul + Add) and a small ResNet-18 (residual adds), at every batch size 1-8, on a
 * fixed input: |gpu - cpu| <= 1e-4 + 1e-3 |cpu|. Skipped (77) without a GPU or python3-onnx.
 * env: PY (python with onnx; default /usr/bin/python3), CLOCKWORK_SOURCE_DIR (the repository). */
#include "backend/cpu/cpu_runner.h"
#include "backend/cuda/cuda_runner.h"
#include "onnx_cases.h"
#include <unistd.h>

static const unsigned batches[4] = {1, 2, 4, 8};

static int open_both(const char *path, struct cuda_gpu *g, struct cuda_model **m, struct model_runner *gpu,
                     struct model_runner *cpu, char *err, size_t errlen)
{
    struct plan p, q;
    if (onnx_import_file(path, &p, err, errlen) != 0)
        return -1;
    if (onnx_import_file(path, &q, err, errlen) != 0) {
        plan_free(&p);
        return -1;
    }
    if (cpu_runner_open(cpu, &q, batches, 4, 1, err, errlen) != 0) {
        plan_free(&p);
        return -1;
    }
    if (cuda_model_build(m, &p, batches, 4, UINT64_C(16) << 20, err, errlen) != 0 ||
        cuda_model_prepare(*m, g, UINT64_C(1) << 30, err, errlen) != 0 ||
        cuda_runner_wrap(gpu, *m, g, err, errlen) != 0)
        return -1;
    return 0;
}

/* 0 when every batch size agrees. */
static int compare_model(const char *path, const char *name, struct cuda_gpu *g)
{
    char err[1024] = "";
    struct cuda_model *m = NULL;
    struct model_runner gpu = {0}, cpu = {0};
    int rc = open_both(path, g, &m, &gpu, &cpu, err, sizeof err);
    uint64_t ns;
    if (rc == 0)
        rc = gpu.ops->load(gpu.impl, &ns, err, sizeof err) | cpu.ops->load(cpu.impl, &ns, err, sizeof err);
    float *in = malloc(gpu.input_bytes * 8 + 4), *a = malloc(gpu.output_bytes * 8 + 4);
    float *b = malloc(gpu.output_bytes * 8 + 4);
    for (unsigned i = 0; rc == 0 && i < 4; i++) {
        struct model_run_times t;
        uint64_t n = gpu.output_bytes / 4 * batches[i];
        double worst = 0;
        model_runner_pattern(in, gpu.input_bytes / 4 * batches[i]);
        rc = gpu.ops->run(gpu.impl, i, in, a, &t, err, sizeof err);
        rc = rc ? rc : cpu.ops->run(cpu.impl, i, in, b, &t, err, sizeof err);
        if (rc == 0 && onnx_case_compare(a, b, n, &worst) != 0)
            rc = (snprintf(err, sizeof err, "batch %u: outputs differ by %g", batches[i], worst), -1);
        if (rc == 0)
            printf("PASS %s b%u: %llu values, max abs error %.3g\n", name, batches[i], (unsigned long long)n, worst);
    }
    if (rc != 0)
        printf("FAIL %s: %s\n", name, err);
    free(in);
    free(a);
    free(b);
    model_runner_close(&gpu);
    model_runner_close(&cpu);
    cuda_model_destroy(m);
    return rc != 0;
}

int main(void)
{
    char why[256], dir[] = "/tmp/cw-cuda-models.XXXXXX", cmd[1024];
    if (cuda_gpu_count(why, sizeof why) < 1) {
        printf("SKIP: no CUDA device (%s)\n", why);
        return 77;
    }
    const char *models[] = {"tiny_cnn", "mobilenet_tiny", "resnet18_small"}, *py = getenv("PY"),
               *src = getenv("CLOCKWORK_SOURCE_DIR"); /* where tools/ is when not where this was built */
    if (!mkdtemp(dir))
        return 1;
    snprintf(cmd, sizeof cmd, "%s %s/tools/gen_onnx_models.py %s %s %s %s > /dev/null 2>&1",
             py && *py ? py : "/usr/bin/python3", src && *src ? src : CLOCKWORK_SOURCE_DIR, dir, models[0], models[1],
             models[2]);
    int failed = 0, skipped = system(cmd) != 0;
    struct cuda_gpu g;
    if (!skipped && cuda_gpu_open(&g, 0, why, sizeof why) != 0) {
        printf("FAIL: %s\n", why);
        return 1;
    }
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        snprintf(cmd, sizeof cmd, "%s/%s.onnx", dir, models[i]);
        if (!skipped)
            failed += compare_model(cmd, models[i], &g);
        unlink(cmd);
    }
    rmdir(dir);
    if (skipped) {
        printf("SKIP: python3-onnx could not generate the models\n");
        return 77;
    }
    cuda_gpu_close(&g);
    printf("models on the GPU vs the CPU backend: %d failed\n", failed);
    return failed ? 1 : 0;
}
