#include "model_runner.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 64

void model_runner_pattern(float *x, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *t, unsigned n)
{
    qsort(t, n, sizeof *t, cmp_u64);
    return t[n / 2] > 0 ? t[n / 2] : 1;
}

static int measure_batch(struct model_runner *r, unsigned bi, unsigned runs, float *in, float *out, uint64_t *ns,
                         char *err, size_t errlen)
{
    uint64_t t[MAX_RUNS];
    unsigned b = r->batch_sizes[bi];
    model_runner_pattern(in, r->input_bytes / 4 * b);
    for (unsigned i = 0; i <= runs; i++) {
        struct model_run_times rt;
        if (r->ops->run(r->impl, bi, in, out, &rt, err, errlen) != 0)
            return -1;
        if (i > 0)
            t[i - 1] = rt.total_ns;
    }
    *ns = median(t, runs);
    return 0;
}

int model_runner_measure(struct model_runner *r, unsigned runs, uint64_t *load_ns, uint64_t *exec_ns, char *err,
                         size_t errlen)
{
    runs = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;
    unsigned top = r->batch_sizes[r->n_batches - 1];
    float *in = malloc(r->input_bytes * top + 4), *out = malloc(r->output_bytes * top + 4);
    uint64_t t[MAX_RUNS];
    int rc = in && out ? 0 : (snprintf(err, errlen, "out of memory"), -1);
    for (unsigned i = 0; rc == 0 && i <= runs; i++) {
        uint64_t ns;
        rc = r->ops->load(r->impl, &ns, err, errlen);
        if (i > 0)
            t[i - 1] = ns;
    }
    if (rc == 0)
        *load_ns = median(t, runs);
    for (unsigned bi = 0; rc == 0 && bi < r->n_batches; bi++)
        rc = measure_batch(r, bi, runs, in, out, &exec_ns[bi], err, errlen);
    free(in);
    free(out);
    return rc;
}

void model_runner_close(struct model_runner *r)
{
    if (r->ops)
        r->ops->close(r->impl);
    memset(r, 0, sizeof *r);
}
