/* check_model PATH: loads a converted model (PATH = DIR/NAME/model prefix or DIR/NAME) on one
 * device (a GPU, or pinned CPU cores), runs every batch size repeatedly and prints timing
 * percentiles and whether outputs are finite and deterministic. Optionally runs a given
 * input and saves the output. */
#define _GNU_SOURCE
#include "backend/select/backend_select.h"
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct check_args {
    char prefix[480];
    unsigned runs, cores, batch;
    enum backend_kind device;
    const char *in_file, *out_file;
};

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [OPTIONS] PATH\n"
            "Loads a converted Clockwork model (PATH/model or the prefix itself) and checks every batch size.\n"
            "Options:\n"
            "  -d, --device cpu|cuda  where to run (default: cuda when built with CUDA and a GPU is present)\n"
            "  -r, --runs N        timed runs per batch size (default 20)\n"
            "  -c, --cores N       cpu: cores of the device (default 1, pinned from core 0)\n"
            "  -i, --input FILE    raw float32 input to run instead (batch from --batch)\n"
            "  -o, --output FILE   with --input: where to write the raw float32 output\n"
            "  -b, --batch N       with --input: batch size (default 1)\n"
            "  -h, --help          print this message\n",
            prog);
}

static int parse_args(int argc, char **argv, struct check_args *a)
{
    static const struct option lo[] = {
        {"runs", required_argument, NULL, 'r'},  {"cores", required_argument, NULL, 'c'},
        {"input", required_argument, NULL, 'i'}, {"output", required_argument, NULL, 'o'},
        {"batch", required_argument, NULL, 'b'}, {"device", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "r:c:i:o:b:d:h", lo, NULL)) != -1) {
        int v = optarg ? atoi(optarg) : 0;
        switch (c) {
        case 'h': return 1;
        case 'r':
            if (v < 1 || v > 1000000)
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
        case 'd':
            if (backend_select_parse(optarg, &a->device) != 0)
                return -1;
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

/* Percentile q (0..1) of sorted t[0..n). */
static double pct_ms(const uint64_t *t, unsigned n, double q)
{
    unsigned i = (unsigned)(q * n);
    return t[i < n ? i : n - 1] / 1e6;
}

static void print_times(unsigned b, uint64_t *exec, uint64_t *total, unsigned runs, int finite, int same)
{
    qsort(exec, runs, sizeof *exec, cmp_u64);
    qsort(total, runs, sizeof *total, cmp_u64);
    printf("  b%-3u min %9.3f ms  median %9.3f ms  p99 %9.3f ms  outputs %s, %s\n", b, exec[0] / 1e6,
           pct_ms(exec, runs, 0.5), pct_ms(exec, runs, 0.99), finite ? "finite" : "NOT FINITE",
           same ? "deterministic" : "NOT DETERMINISTIC");
    printf("       tail: exec p99.9 %.3f  p99.99 %.3f  max %.3f ms | with copies p50 %.3f  p99 %.3f  p99.99 %.3f  "
           "max %.3f ms\n",
           pct_ms(exec, runs, 0.999), pct_ms(exec, runs, 0.9999), exec[runs - 1] / 1e6, pct_ms(total, runs, 0.5),
           pct_ms(total, runs, 0.99), pct_ms(total, runs, 0.9999), total[runs - 1] / 1e6);
}

/* Runs batch index bi `runs` times (after one untimed run); prints timings and output checks. */
static int check_batch(struct model_runner *r, unsigned bi, unsigned runs, float *in, float *out, float *first)
{
    unsigned b = r->batch_sizes[bi];
    uint64_t n_out = r->output_bytes / 4 * b, *exec = calloc(runs, sizeof *exec), *total = calloc(runs, sizeof *total);
    int rc = exec && total ? 0 : -1, finite = 1, same = 1;
    char err[1024] = "";
    model_runner_pattern(in, r->input_bytes / 4 * b);
    for (unsigned i = 0; rc == 0 && i <= runs; i++) {
        struct model_run_times t;
        rc = r->ops->run(r->impl, bi, in, out, &t, err, sizeof err);
        if (rc == 0 && i == 0)
            memcpy(first, out, n_out * sizeof *first);
        else if (rc == 0)
            exec[i - 1] = t.exec_ns, total[i - 1] = t.total_ns, same &= memcmp(first, out, n_out * sizeof *out) == 0;
    }
    for (uint64_t i = 0; rc == 0 && i < n_out; i++)
        finite &= isfinite(out[i]) != 0;
    if (rc == 0)
        print_times(b, exec, total, runs, finite, same);
    else
        fprintf(stderr, "check_model: batch %u: %s\n", b, err);
    free(exec);
    free(total);
    return rc == 0 && finite && same ? 0 : 1;
}

static int check_all(struct model_runner *r, const struct check_args *a)
{
    unsigned top = r->batch_sizes[r->n_batches - 1];
    float *in = malloc(r->input_bytes * top + 4), *out = malloc(r->output_bytes * top + 4),
          *first = malloc(r->output_bytes * top + 4);
    int rc = in && out && first ? 0 : 1;
    for (unsigned i = 0; rc == 0 && i < r->n_batches; i++)
        rc |= check_batch(r, i, a->runs, in, out, first);
    free(in);
    free(out);
    free(first);
    return rc;
}

static int run_file(struct model_runner *r, const struct check_args *a, const struct model_info *mi)
{
    int bi = model_info_batch_index(mi, a->batch);
    if (bi < 0 || (unsigned)bi >= r->n_batches)
        return fprintf(stderr, "check_model: batch %u not supported\n", a->batch), -1;
    size_t need = (size_t)mi->input_size * a->batch, got = 0, n_out = (size_t)mi->output_size * a->batch;
    float *in = malloc(need + 4), *out = malloc(n_out + 4);
    FILE *f = in ? fopen(a->in_file, "rb") : NULL;
    if (f) {
        got = fread(in, 1, need, f);
        fclose(f);
    }
    struct model_run_times t;
    char err[1024] = "";
    int rc = got == need && out ? r->ops->run(r->impl, (unsigned)bi, in, out, &t, err, sizeof err) : -1;
    if (rc != 0)
        fprintf(stderr, "check_model: cannot read %zu bytes from %s or run it%s%s\n", need, a->in_file,
                err[0] ? ": " : "", err);
    f = rc == 0 && a->out_file ? fopen(a->out_file, "wb") : NULL;
    if (rc == 0 && (!f || fwrite(out, 1, n_out, f) != n_out))
        fprintf(stderr, "check_model: cannot write the output\n");
    if (f)
        fclose(f);
    free(in);
    free(out);
    return rc;
}

static int open_model(const struct check_args *a, struct model_info *mi, struct model_runner *r)
{
    char err[1024];
    struct plan p;
    enum backend_kind kind = a->device;
    if (model_info_load(mi, a->prefix, UINT64_C(1) << 24, err, sizeof err) != 0 ||
        plan_load(&p, a->prefix, err, sizeof err) != 0 || backend_select_resolve(&kind, err, sizeof err) != 0 ||
        backend_select_runner(r, kind, &p, mi->batch_sizes, mi->n_batch_sizes, a->cores, err, sizeof err) != 0) {
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
    struct model_info mi;
    struct model_runner r = {0};
    char err[1024];
    uint64_t load_ns = 0;
    rc = open_model(&a, &mi, &r) ? 1 : 0;
    if (rc == 0 && r.ops->load(r.impl, &load_ns, err, sizeof err) != 0) {
        fprintf(stderr, "check_model: %s\n", err);
        rc = 1;
    }
    if (rc == 0 && a.in_file) {
        rc = run_file(&r, &a, &mi) ? 1 : 0;
    } else if (rc == 0) {
        printf("%s: input %llu B, output %llu B, weights %.2f MB in %u page(s), load %.3f ms, %s\n", a.prefix,
               (unsigned long long)mi.input_size, (unsigned long long)mi.output_size, r.weights_bytes / 1e6,
               (unsigned)((r.weights_bytes + (1 << 24) - 1) >> 24), load_ns / 1e6, r.device);
        rc = check_all(&r, &a);
    }
    model_runner_close(&r);
    return rc;
}
