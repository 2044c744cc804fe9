/* check_model PATH: loads a converted model (PATH = DIR/NAME/model prefix or DIR/NAME), runs
 * every batch size repeatedly on one pinned device and prints min/median/p99 timings and
 * whether outputs are finite and deterministic. Optionally runs a given input and saves the output. */
#define _GNU_SOURCE
#include "backend/cpu/cpu_thread.h"
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct check_args {
    char prefix[480];
    unsigned runs, cores, batch;
    const char *in_file, *out_file;
};

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [OPTIONS] PATH\n"
            "Loads a Clockwork CPU model (PATH/model or the prefix itself) and checks every batch size.\n"
            "Options:\n"
            "  -r, --runs N        timed runs per batch size (default 20)\n"
            "  -c, --cores N       cores of the device (default 1, pinned from core 0)\n"
            "  -i, --input FILE    raw float32 input to run instead (batch from --batch)\n"
            "  -o, --output FILE   with --input: where to write the raw float32 output\n"
            "  -b, --batch N       with --input: batch size (default 1)\n"
            "  -h, --help          print this message\n",
            prog);
}

static int parse_args(int argc, char **argv, struct check_args *a)
{
    static const struct option lo[] = {{"runs", required_argument, NULL, 'r'},
                                       {"cores", required_argument, NULL, 'c'},
                                       {"input", required_argument, NULL, 'i'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"batch", required_argument, NULL, 'b'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "r:c:i:o:b:h", lo, NULL)) != -1) {
        int v = optarg ? atoi(optarg) : 0;
        switch (c) {
        case 'h': return 1;
        case 'r':
            if (v < 1 || v > 100000)
                return -1;
            a->runs = (unsigned)v;
            break;
        case 'c':
            if (v < 1 || v > 256)
                return -1;
            a->cores = (unsigned)v;
            break;
        case 'b':
            if (v < 1 || v > 1024)
                return -1;
            a->batch = (unsigned)v;
            break;
        case 'i': a->in_file = optarg; break;
        case 'o': a->out_file = optarg; break;
        default: return -1;
        }
    }
    if (argc - optind != 1 || strlen(argv[optind]) + 8 > sizeof a->prefix)
        return -1;
    struct stat st;
    int is_dir = stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode);
    snprintf(a->prefix, sizeof a->prefix, is_dir ? "%s/model" : "%s", argv[optind]);
    return 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static void fill_input(struct cpu_standalone *x, unsigned bi)
{
    const struct cpu_model *m = x->m;
    float *in = cpu_binding_act(x->b, bi, m->plan.inputs[0]);
    uint64_t n = plan_tensor_elems(&m->plan, m->plan.inputs[0], m->batch[bi].b);
    for (uint64_t i = 0; i < n; i++)
        in[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
}

/* Runs batch index bi `runs` times; prints timings and output checks. */
static int check_batch(struct cpu_standalone *x, unsigned bi, unsigned runs)
{
    const struct cpu_model *m = x->m;
    uint64_t n_out = plan_tensor_elems(&m->plan, m->plan.outputs[0], m->batch[bi].b), *t = calloc(runs, sizeof *t);
    float *first = malloc(n_out * sizeof *first + 1);
    const float *out = cpu_binding_act(x->b, bi, m->plan.outputs[0]);
    int rc = t && first ? 0 : -1, finite = 1, same = 1;
    for (unsigned r = 0; rc == 0 && r <= runs; r++) {
        fill_input(x, bi);
        uint64_t ns;
        rc = cpu_standalone_run(x, bi, &ns);
        if (r == 0)
            memcpy(first, out, n_out * sizeof *first);
        else
            t[r - 1] = ns, same &= memcmp(first, out, n_out * sizeof *first) == 0;
    }
    for (uint64_t i = 0; rc == 0 && i < n_out; i++)
        finite &= isfinite(out[i]) != 0;
    if (rc == 0) {
        qsort(t, runs, sizeof *t, cmp_u64);
        printf("  b%-3u min %9.3f ms  median %9.3f ms  p99 %9.3f ms  outputs %s, %s\n", m->batch[bi].b, t[0] / 1e6,
               t[runs / 2] / 1e6, t[(runs * 99) / 100 < runs ? (runs * 99) / 100 : runs - 1] / 1e6,
               finite ? "finite" : "NOT FINITE", same ? "deterministic" : "NOT DETERMINISTIC");
        rc = finite && same ? 0 : 1;
    }
    free(t);
    free(first);
    return rc;
}

static int run_file(struct cpu_standalone *x, const struct check_args *a, const struct model_info *mi)
{
    int bi = model_info_batch_index(mi, a->batch);
    if (bi < 0)
        return fprintf(stderr, "check_model: batch %u not supported\n", a->batch), -1;
    FILE *f = fopen(a->in_file, "rb");
    size_t need = (size_t)mi->input_size * a->batch, got = 0;
    if (f) {
        got = fread(cpu_binding_act(x->b, (unsigned)bi, x->m->plan.inputs[0]), 1, need, f);
        fclose(f);
    }
    uint64_t ns;
    if (got != need || cpu_standalone_run(x, (unsigned)bi, &ns) != 0)
        return fprintf(stderr, "check_model: cannot read %zu bytes from %s or run\n", need, a->in_file), -1;
    f = a->out_file ? fopen(a->out_file, "wb") : NULL;
    size_t out = (size_t)mi->output_size * a->batch;
    if (!f || fwrite(cpu_binding_act(x->b, (unsigned)bi, x->m->plan.outputs[0]), 1, out, f) != out)
        fprintf(stderr, "check_model: cannot write the output\n");
    if (f)
        fclose(f);
    return 0;
}

static int load(const struct check_args *a, dnnl_engine_t eng, struct model_info *mi, struct cpu_model **cm)
{
    char err[1024];
    struct plan p;
    if (model_info_load(mi, a->prefix, UINT64_C(1) << 24, err, sizeof err) != 0 ||
        plan_load(&p, a->prefix, err, sizeof err) != 0 ||
        cpu_model_build(cm, &p, eng, mi->batch_sizes, mi->n_batch_sizes, UINT64_C(1) << 30, err, sizeof err) != 0) {
        fprintf(stderr, "check_model: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct check_args a = {.runs = 20, .cores = 1, .batch = 1};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr, argv[0]);
        return rc > 0 ? 0 : 2;
    }
    cpu_thread_pin(0, a.cores);
    dnnl_engine_t eng;
    if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success) {
        fprintf(stderr, "check_model: no oneDNN CPU engine\n");
        return 1;
    }
    struct model_info mi;
    struct cpu_model *cm = NULL;
    struct cpu_standalone x = {0};
    char err[512];
    uint64_t load_ns = 0;
    rc = load(&a, eng, &mi, &cm) ? 1 : 0;
    if (rc == 0 && (cpu_standalone_open(&x, cm, err, sizeof err) != 0 || cpu_standalone_load(&x, &load_ns) != 0)) {
        fprintf(stderr, "check_model: %s\n", err);
        rc = 1;
    }
    if (rc == 0 && a.in_file) {
        rc = run_file(&x, &a, &mi) ? 1 : 0;
    } else if (rc == 0) {
        printf("%s: input %llu B, output %llu B, weights %.2f MB in %u page(s), load %.3f ms, %u core(s)\n", a.prefix,
               (unsigned long long)mi.input_size, (unsigned long long)mi.output_size, cm->plan.weights_size / 1e6,
               (unsigned)((cm->plan.weights_size + (1 << 24) - 1) >> 24), load_ns / 1e6, a.cores);
        for (unsigned i = 0; i < cm->n_batches; i++)
            rc |= check_batch(&x, i, a.runs);
    }
    if (x.m)
        cpu_standalone_close(&x);
    cpu_model_destroy(cm);
    dnnl_engine_destroy(eng);
    return rc;
}
