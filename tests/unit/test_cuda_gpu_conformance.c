/* ONNX node conformance on a GPU: every applicable case of the ONNX test data ($CW_ONNX_TESTDATA
 * or Debian's libonnx-testdata) imported, run by the CUDA runner (cuDNN, cuBLAS, our kernels)
 * and compared with output_0.pb at the ORT comparison's tolerance. Every case must pass except
 * those the importer refuses as listed in onnx_cases.h (as on the CPU). Skipped (77) without a
 * GPU or without the data. */
#include "backend/cuda/cuda_runner.h"
#include "onnx_cases.h"

static struct cuda_gpu gpu; /* one for all cases: cuDNN/cuBLAS handles are costly to create */

/* 0 pass, 1 fail, 2 unsupported (refused before running). */
static int run_case(const char *name, char *why, size_t whylen)
{
    struct plan p;
    struct model_runner r = {0};
    struct cuda_model *m = NULL;
    unsigned b1 = 1;
    if (onnx_case_import(name, &p, why, whylen) != 0)
        return 2;
    /* every case the importer takes must run on the GPU */
    if (cuda_model_build(&m, &p, &b1, 1, CUDA_RUNNER_PAGE_SIZE, why, whylen) != 0)
        return 1;
    if (cuda_model_prepare(m, &gpu, CUDA_RUNNER_ARENA, why, whylen) != 0 ||
        cuda_runner_wrap(&r, m, &gpu, why, whylen) != 0) {
        cuda_model_destroy(m);
        return 1;
    }
    uint64_t n_in = 0, n_out = 0, ns;
    float *in = onnx_case_tensor(name, "input_0.pb", &n_in), *want = onnx_case_tensor(name, "output_0.pb", &n_out);
    float *out = malloc(n_out * 4 + 4);
    struct model_run_times t;
    double worst = 0;
    int rc = 1;
    if (!in || !want || !out || n_in * 4 != r.input_bytes || n_out * 4 != r.output_bytes)
        snprintf(why, whylen, "test data missing or shapes differ");
    else if (r.ops->load(r.impl, &ns, why, whylen) == 0 && r.ops->run(r.impl, 0, in, out, &t, why, whylen) == 0) {
        rc = onnx_case_compare(out, want, n_out, &worst) == 0 ? 0 : 1;
        if (rc)
            snprintf(why, whylen, "output differs by %g", worst);
    }
    model_runner_close(&r);
    cuda_model_destroy(m);
    free(in);
    free(want);
    free(out);
    return rc;
}

int main(void)
{
    char *names[ONNX_CASES_MAX], why[1024];
    size_t n = 0;
    if (cuda_gpu_count(why, sizeof why) < 1) {
        printf("SKIP: no CUDA device (%s)\n", why);
        return 77;
    }
    if (onnx_cases_list(names, ONNX_CASES_MAX, &n) != 0) {
        printf("SKIP: %s not found (apt-get install libonnx-testdata, or set CW_ONNX_TESTDATA)\n", onnx_cases_dir());
        return 77;
    }
    if (cuda_gpu_open(&gpu, 0, why, sizeof why) != 0) {
        printf("FAIL: %s\n", why);
        return 1;
    }
    struct onnx_tally t = {0};
    for (size_t i = 0; i < n; i++) {
        why[0] = '\0';
        onnx_tally_add(&t, names[i], run_case(names[i], why, sizeof why), why);
        free(names[i]);
    }
    cuda_gpu_close(&gpu);
    return onnx_tally_finish(&t, "ONNX node conformance on the GPU", n);
}
