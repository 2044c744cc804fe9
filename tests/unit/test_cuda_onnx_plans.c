/* CUDA backend, host side over real models (no GPU needed): every ONNX conformance case the
 * importer takes, and the generated ResNet-18/50, MobileNet and tiny models at batch sizes
 * 1-16, must become GPU step lists whose every cuDNN convolution descriptor agrees with the
 * plan's shapes. Skipped (77) when neither the test data nor python3-onnx is available. */
#include "backend/cuda/cuda_model.h"
#include "onnx_cases.h"
#include <unistd.h>

static int conformance(int *checked)
{
    char *names[ONNX_CASES_MAX];
    size_t n = 0;
    int failed = 0;
    if (onnx_cases_list(names, ONNX_CASES_MAX, &n) != 0) {
        printf("no ONNX conformance data in %s: cases skipped\n", onnx_cases_dir());
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char why[1024] = "";
        struct plan p;
        struct cuda_model *m = NULL;
        unsigned b1 = 1;
        if (onnx_case_import(names[i], &p, why, sizeof why) == 0) {
            int rc = cuda_model_build(&m, &p, &b1, 1, UINT64_C(1) << 30, why, sizeof why);
            printf("%-8s %s%s%s\n", rc == 0 ? "OK" : "REFUSED", names[i], rc ? ": " : "", rc ? why : "");
            failed += rc != 0;
            (*checked)++;
            cuda_model_destroy(m);
        }
        free(names[i]);
    }
    return failed;
}

static int generated(const char *dir, const char *name, int *checked)
{
    char path[512], why[1024] = "";
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    struct plan p;
    if (access(path, R_OK) != 0)
        return 0;
    unsigned bs[5] = {1, 2, 4, 8, 16};
    struct cuda_model *m = NULL;
    int rc = onnx_import_file(path, &p, why, sizeof why);
    if (rc == 0)
        rc = cuda_model_build(&m, &p, bs, 5, UINT64_C(16) << 20, why, sizeof why);
    if (rc == 0) {
        const struct cuda_batch *top = &m->cp.batch[4];
        printf("OK       %s: %u steps (%u convolutions), %u pages of 16 MiB, b16 activations %.1f MiB\n", name,
               top->n_steps, top->n_convs, m->cp.pages.n_pages, top->ws_off / 1048576.0);
    } else {
        printf("REFUSED  %s: %s\n", name, why);
    }
    cuda_model_destroy(m);
    (*checked)++;
    return rc != 0;
}

int main(void)
{
    int checked = 0, failed = conformance(&checked);
    char dir[] = "/tmp/cw-cuda-plans.XXXXXX", cmd[1024];
    if (mkdtemp(dir)) {
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 %s/tools/gen_onnx_models.py %s tiny_cnn mobilenet_tiny "
                 "resnet18_small resnet18 resnet50 mobilenet > /dev/null 2>&1",
                 CLOCKWORK_SOURCE_DIR, dir);
        if (system(cmd) != 0)
            printf("python3-onnx could not generate the models: skipped\n");
        const char *models[] = {"tiny_cnn", "mobilenet_tiny", "resnet18_small", "resnet18", "resnet50", "mobilenet"};
        for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
            failed += generated(dir, models[i], &checked);
            snprintf(cmd, sizeof cmd, "%s/%s.onnx", dir, models[i]);
            unlink(cmd);
        }
        rmdir(dir);
    }
    printf("GPU plans: %d checked, %d refused\n", checked, failed);
    if (checked == 0)
        return 77;
    return failed ? 1 : 0;
}
