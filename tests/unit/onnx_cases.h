/* The ONNX node conformance cases our importer covers (Debian's libonnx-testdata, or the
 * directory in $CW_ONNX_TESTDATA), shared by the CPU and GPU tests: listing them, importing a
 * case into a plan, reading its input and expected output, and the comparison tolerance
 * (the ORT comparison's: |got - want| <= 1e-4 + 1e-3 |want|). */
#ifndef CW_TEST_ONNX_CASES_H
#define CW_TEST_ONNX_CASES_H
#define _GNU_SOURCE
#include "backend/cpu/onnx_import.h"
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ONNX_CASES_MAX 2048

static const char *onnx_cases_dir(void)
{
    const char *d = getenv("CW_ONNX_TESTDATA");
    return d && *d ? d : "/usr/share/libonnx-testdata/data/node";
}

static int onnx_case_applicable(const char *name)
{
    static const char *const prefixes[] = {"test_conv_", "test_maxpool_", "test_averagepool_", "test_batchnorm_",
                                           "test_gemm_", "test_relu", "test_add", "test_mul", "test_concat_",
                                           "test_softmax_", "test_flatten_", "test_globalaveragepool",
                                           "test_globalmaxpool", "test_sigmoid", "test_clip", "test_reshape_",
                                           "test_matmul_", "test_dropout_"};
    if (strstr(name, "_expanded"))
        return 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

static int onnx_case_by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of the applicable cases (caller frees each); -1 when the directory is missing. */
static int onnx_cases_list(char **names, size_t max, size_t *n)
{
    DIR *d = opendir(onnx_cases_dir());
    *n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d)) && *n < max;)
        if (onnx_case_applicable(e->d_name))
            names[(*n)++] = strdup(e->d_name);
    closedir(d);
    qsort(names, *n, sizeof *names, onnx_case_by_name);
    return 0;
}

/* DIR/NAME/test_data_set_0/FILE as floats (caller frees); NULL if absent. */
static float *onnx_case_tensor(const char *name, const char *file, uint64_t *n)
{
    char path[1200], err[256];
    snprintf(path, sizeof path, "%s/%s/test_data_set_0/%s", onnx_cases_dir(), name, file);
    size_t len;
    uint8_t *b = onnx_read_file(path, &len, err, sizeof err);
    float *data = NULL;
    int64_t dims[6];
    unsigned nd = 0;
    if (b && onnx_tensor_decode(b, len, &data, dims, &nd, err, sizeof err) == 0) {
        *n = 1;
        for (unsigned i = 0; i < nd; i++)
            *n *= (uint64_t)dims[i];
    }
    free(b);
    return data;
}

/* Imports the case; inputs 1.. of test_data_set_0 become constants. 0, or -1 with why. */
static int onnx_case_import(const char *name, struct plan *p, char *why, size_t whylen)
{
    char path[1200];
    struct onnx_blob ex[8];
    size_t n_ex = 0, len;
    for (; n_ex < 8; n_ex++) {
        snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_%zu.pb", onnx_cases_dir(), name, n_ex + 1);
        uint8_t *b = onnx_read_file(path, &len, why, whylen);
        if (!b)
            break;
        ex[n_ex] = (struct onnx_blob){b, len};
    }
    why[0] = '\0';
    snprintf(path, sizeof path, "%s/%s/model.onnx", onnx_cases_dir(), name);
    uint8_t *model = onnx_read_file(path, &len, why, whylen);
    int rc = model ? onnx_import(model, len, ex, n_ex, p, why, whylen) : -1;
    free(model);
    for (size_t i = 0; i < n_ex; i++)
        free((void *)ex[i].data);
    return rc;
}

static int onnx_case_compare(const float *got, const float *want, uint64_t n, double *worst)
{
    *worst = 0;
    for (uint64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]), tol = 1e-4 + 1e-3 * fabs(want[i]);
        if (!(d <= tol))
            return *worst = d, -1;
        *worst = d > *worst ? d : *worst;
    }
    return 0;
}

#endif
