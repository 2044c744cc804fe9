/* The ONNX node conformance cases our importer covers (Debian's libonnx-testdata, or the
 * directory in $CW_ONNX_TESTDATA), shared by the CPU and GPU tests: listing them, importing a
 * case into a plan, reading its input and expected output, the comparison tolerance (the ORT
 * comparison's: |got - want| <= 1e-4 + 1e-3 |want|), and the verdict: every case must pass except
 * those in onnx_expected_unsupported, which the importer must refuse for the reason given. */
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
    static const char *const prefixes[] = {"test_conv_",         "test_maxpool_", "test_averagepool_",
                                           "test_batchnorm_",    "test_gemm_",    "test_relu",
                                           "test_add",           "test_mul",      "test_concat_",
                                           "test_softmax_",      "test_flatten_", "test_globalaveragepool",
                                           "test_globalmaxpool", "test_sigmoid",  "test_clip",
                                           "test_reshape_",      "test_matmul_",  "test_dropout_"};
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
        if (onnx_case_applicable(e->d_name) && (names[*n] = strdup(e->d_name)) != NULL)
            (*n)++;
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

/* Cases the importer refuses on purpose: name, then a fragment of the importer's message. */
static const struct {
    const char *name, *reason;
} onnx_expected_unsupported[] = {
    /* only float32 graphs are imported (the served models are float32) */
    {"test_add_uint8", "must be a float32 tensor"},
    {"test_clip_default_int8_inbounds", "must be a float32 tensor"},
    {"test_clip_default_int8_max", "must be a float32 tensor"},
    {"test_clip_default_int8_min", "must be a float32 tensor"},
    {"test_maxpool_2d_uint8", "must be a float32 tensor"},
    {"test_mul_uint8", "must be a float32 tensor"},
    /* pooling is 2-D only (N,C,H,W images) */
    {"test_averagepool_1d_default", "input must be 4-D"},
    {"test_averagepool_3d_default", "input must be 4-D"},
    {"test_maxpool_1d_default", "input must be 4-D"},
    {"test_maxpool_3d_default", "input must be 4-D"},
    /* training-only outputs: inference serves the main output only */
    {"test_batchnorm_epsilon_training_mode", "training mode"},
    {"test_batchnorm_example_training_mode", "training mode"},
    {"test_dropout_default_mask", "mask output is not supported"},
    {"test_dropout_default_mask_ratio", "mask output is not supported"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "Indices output is not supported"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "Indices output is not supported"},
    /* Gemm/MatMul: A is a 2-D activation, B a 2-D constant (classifier heads) */
    {"test_gemm_all_attributes", "A must be a 2-D activation"},
    {"test_gemm_transposeA", "A must be a 2-D activation"},
    {"test_matmul_3d", "B must be a 2-D float constant"},
    {"test_matmul_4d", "B must be a 2-D float constant"},
    /* Reshape with allowzero=1 and a 0 in the shape: an empty tensor */
    {"test_reshape_allowzero_reordered", "zero or negative dimension"},
};
#define ONNX_N_EXPECTED_UNSUPPORTED (sizeof onnx_expected_unsupported / sizeof onnx_expected_unsupported[0])

/* Outcomes of a run over the cases. */
struct onnx_tally {
    int pass, listed, bad; /* passed; unsupported as listed; not as expected */
    int seen[ONNX_N_EXPECTED_UNSUPPORTED];
};

/* Index in onnx_expected_unsupported, or -1. */
static int onnx_case_expected_index(const char *name)
{
    for (size_t i = 0; i < ONNX_N_EXPECTED_UNSUPPORTED; i++)
        if (strcmp(name, onnx_expected_unsupported[i].name) == 0)
            return (int)i;
    return -1;
}

/* Prints and counts one case's outcome rc (0 pass, 1 fail, 2 refused by the importer, with why):
 * as expected is PASS for an unlisted case, UNSUPPORTED for the listed reason for a listed one. */
static void onnx_tally_add(struct onnx_tally *t, const char *name, int rc, const char *why)
{
    int x = onnx_case_expected_index(name);
    if (x >= 0)
        t->seen[x] = 1;
    int ok = x < 0 ? rc == 0 : rc == 2 && strstr(why, onnx_expected_unsupported[x].reason) != NULL;
    const char *tag = rc == 0 ? "PASS" : rc == 1 ? "FAIL" : "UNSUPPORTED";
    printf("%-12s %s%s%s%s\n", tag, name, why[0] ? ": " : "", why,
           ok        ? ""
           : x < 0   ? "  <-- expected PASS"
           : rc == 0 ? "  <-- listed as unsupported: remove it from the list"
                     : "  <-- unsupported for another reason than listed");
    t->pass += ok && rc == 0;
    t->listed += ok && rc == 2;
    t->bad += !ok;
}

/* Prints the summary for `what` over n cases; the test's exit status (1 when any case was not as expected). */
static int onnx_tally_finish(const struct onnx_tally *t, const char *what, size_t n)
{
    for (size_t i = 0; i < ONNX_N_EXPECTED_UNSUPPORTED; i++)
        if (!t->seen[i]) /* another libonnx-testdata version: nothing to check */
            printf("NOTE         %s (listed as unsupported) is not in this data set\n",
                   onnx_expected_unsupported[i].name);
    printf("%s: %d passed, %d unsupported as listed, %d not as expected (of %zu applicable)\n", what, t->pass,
           t->listed, t->bad, n);
    return t->bad ? 1 : 0;
}

#endif
