/* ONNX node conformance: imports each applicable test of Debian's libonnx-testdata
 * (data/node/test_conv*, test_maxpool*, ...), runs it on the CPU executor and compares with
 * output_0.pb. Every case must PASS except those listed in onnx_cases.h's
 * onnx_expected_unsupported, which must be refused by the importer for the reason given (a
 * listed case that passes fails too, so the list stays exact). Exit 77 (skip) without the data. */
#include "backend/cpu/cpu_thread.h"
#include "onnx_cases.h"

/* Runs one imported plan; 0 pass, 1 fail. */
static int run_plan(const char *name, struct plan *p, dnnl_engine_t eng, char *why, size_t whylen)
{
    unsigned b1 = 1;
    struct cpu_model *cm;
    struct cpu_standalone x = {0};
    uint64_t n_in = 0, n_out = 0, ns;
    if (cpu_model_build(&cm, p, eng, &b1, 1, UINT64_C(1) << 30, why, whylen) != 0)
        return 2;
    float *in = onnx_case_tensor(name, "input_0.pb", &n_in), *want = onnx_case_tensor(name, "output_0.pb", &n_out);
    int rc = 1;
    double worst = 0;
    if (!in || !want || n_in != plan_tensor_elems(&cm->plan, cm->plan.inputs[0], 1) ||
        n_out != plan_tensor_elems(&cm->plan, cm->plan.outputs[0], 1))
        snprintf(why, whylen, "test data missing or shapes differ");
    else if (cpu_standalone_open(&x, cm, why, whylen) != 0 || cpu_standalone_load(&x, &ns) != 0)
        snprintf(why, whylen, "cannot bind");
    else {
        memcpy(cpu_binding_act(x.b, 0, cm->plan.inputs[0]), in, n_in * 4);
        if (cpu_standalone_run(&x, 0, &ns) != 0)
            snprintf(why, whylen, "execution failed");
        else if (onnx_case_compare(cpu_binding_act(x.b, 0, cm->plan.outputs[0]), want, n_out, &worst) != 0)
            snprintf(why, whylen, "output differs by %g", worst);
        else
            rc = 0;
    }
    if (x.m)
        cpu_standalone_close(&x);
    free(in);
    free(want);
    cpu_model_destroy(cm);
    return rc;
}

static void run_test(const char *name, dnnl_engine_t eng, struct onnx_tally *t)
{
    char why[512] = "";
    struct plan p;
    int rc = onnx_case_import(name, &p, why, sizeof why) == 0 ? run_plan(name, &p, eng, why, sizeof why) : 2;
    onnx_tally_add(t, name, rc, why);
}

int main(void)
{
    char *names[ONNX_CASES_MAX];
    size_t n = 0;
    if (onnx_cases_list(names, ONNX_CASES_MAX, &n) != 0) {
        printf("SKIP: %s not found (apt-get install libonnx-testdata)\n", onnx_cases_dir());
        return 77;
    }
    cpu_thread_pin(0, 1);
    dnnl_engine_t eng;
    if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success)
        return 1;
    struct onnx_tally t = {0};
    for (size_t i = 0; i < n; i++) {
        run_test(names[i], eng, &t);
        free(names[i]);
    }
    dnnl_engine_destroy(eng);
    return onnx_tally_finish(&t, "ONNX node conformance", n);
}
