/* convert: turns an ONNX model into a Clockwork model at OUTDIR/NAME/model (.info,
 * .measurements, .plan, .weights), measuring its timings on this machine's GPU or CPU. */
#define _GNU_SOURCE
#include "backend/cpu/onnx_import.h"
#include "backend/select/backend_select.h"
#include "model/model_files.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct convert_args {
    const char *onnx, *out;
    unsigned batch_sizes[MODEL_MAX_BATCH_SIZES], n_batch;
    unsigned runs, cores;
    enum backend_kind device;
};

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [OPTIONS] MODEL.onnx OUTDIR/NAME\n"
            "Converts an ONNX model into a Clockwork model at OUTDIR/NAME/model.{info,measurements,plan,weights}.\n"
            "Options:\n"
            "  -b, --batch-sizes LIST  supported batch sizes (default 1,2,4,8,16)\n"
            "  -d, --device cpu|cuda   where to measure (default: cuda when built with CUDA and a GPU is present)\n"
            "  -r, --runs N            timed runs per batch size when measuring (default 3)\n"
            "  -c, --cores N           cpu: cores to measure on (default 1, pinned from core 0)\n"
            "  -h, --help              print this message\n",
            prog);
}

static int parse_batches(const char *s, struct convert_args *a)
{
    a->n_batch = 0;
    char *dup = strdup(s), *save = NULL;
    int rc = dup ? 0 : -1;
    for (char *tok = dup ? strtok_r(dup, ",", &save) : NULL; tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(tok, &end, 10);
        if (*end || v < 1 || v > 1024 || a->n_batch >= MODEL_MAX_BATCH_SIZES ||
            (a->n_batch && (unsigned)v <= a->batch_sizes[a->n_batch - 1]))
            rc = -1;
        else
            a->batch_sizes[a->n_batch++] = (unsigned)v;
    }
    free(dup);
    return rc == 0 && a->n_batch ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct convert_args *a)
{
    static const struct option lo[] = {{"batch-sizes", required_argument, NULL, 'b'},
                                       {"runs", required_argument, NULL, 'r'},
                                       {"cores", required_argument, NULL, 'c'},
                                       {"device", required_argument, NULL, 'd'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "b:r:c:d:h", lo, NULL)) != -1) {
        if (c == 'h')
            return 1;
        if ((c == 'b' && parse_batches(optarg, a) == 0) || (c == 'd' && backend_select_parse(optarg, &a->device) == 0))
            continue;
        if ((c == 'r' || c == 'c') && atoi(optarg) >= 1 && atoi(optarg) <= 64) {
            *(c == 'r' ? &a->runs : &a->cores) = (unsigned)atoi(optarg);
            continue;
        }
        return -1;
    }
    if (argc - optind != 2)
        return -1;
    a->onnx = argv[optind];
    a->out = argv[optind + 1];
    return 0;
}

static int mkdirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Measures on the chosen device; takes *p. */
static int measure(struct plan *p, struct model_info *mi, const struct convert_args *a, char *err, size_t errlen)
{
    enum backend_kind kind = a->device;
    struct model_runner r;
    if (backend_select_resolve(&kind, err, errlen) != 0) {
        plan_free(p);
        return -1;
    }
    if (backend_select_runner(&r, kind, p, a->batch_sizes, a->n_batch, a->cores, err, errlen) != 0)
        return -1;
    mi->n_batch_sizes = a->n_batch;
    memcpy(mi->batch_sizes, a->batch_sizes, sizeof a->batch_sizes);
    int rc = model_runner_measure(&r, a->runs, &mi->weights_load_ns, mi->exec_ns, err, errlen);
    printf("measuring on %s\n", r.device);
    model_runner_close(&r);
    return rc;
}

int main(int argc, char **argv)
{
    struct convert_args a = {.batch_sizes = {1, 2, 4, 8, 16}, .n_batch = 5, .runs = 3, .cores = 1};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr, argv[0]);
        return rc > 0 ? 0 : 2;
    }
    char err[1024], prefix[480];
    struct plan p;
    if (onnx_import_file(a.onnx, &p, err, sizeof err) != 0) {
        fprintf(stderr, "convert: %s\n", err);
        return 1;
    }
    if (p.n_inputs != 1 || p.n_outputs != 1) {
        fprintf(stderr, "convert: %s: %u inputs and %u outputs; a Clockwork model has exactly one of each\n", a.onnx,
                p.n_inputs, p.n_outputs);
        plan_free(&p);
        return 1;
    }
    if (strlen(a.out) + 7 > sizeof prefix) {
        fprintf(stderr, "convert: output path too long\n");
        return 2;
    }
    snprintf(prefix, sizeof prefix, "%s/model", a.out);
    struct model_info mi;
    memset(&mi, 0, sizeof mi);
    if (mkdirs(a.out) != 0 || plan_save(&p, prefix, err, sizeof err) != 0 ||
        model_files_write_info(prefix, &p, a.batch_sizes, a.n_batch, err, sizeof err) != 0) {
        fprintf(stderr, "convert: %s\n", err[0] ? err : "cannot create the output directory");
        plan_free(&p);
        return 1;
    }
    printf("%s: %u ops, %u tensors, %.1f MB weights\n", a.onnx, p.n_ops, p.n_tensors, p.weights_size / 1e6);
    snprintf(mi.source, sizeof mi.source, "%s", prefix);
    if (measure(&p, &mi, &a, err, sizeof err) != 0 ||
        model_files_write_measurements(prefix, &mi, err, sizeof err) != 0) {
        fprintf(stderr, "convert: %s\n", err);
        return 1;
    }
    printf("weights load %.3f ms", mi.weights_load_ns / 1e6);
    for (unsigned i = 0; i < mi.n_batch_sizes; i++)
        printf(", b%u %.3f ms", mi.batch_sizes[i], mi.exec_ns[i] / 1e6);
    printf("\nwrote %s.{info,measurements,plan,weights}\n", prefix);
    return 0;
}
