#include "cuda_backend.h"
#include "common/log.h"
#include "cuda_internal.h"
#include "cuda_model.h"
#include "cuda_runner.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cuda_options_defaults(struct cuda_options *o)
{
    memset(o, 0, sizeof *o);
    o->measure = 1;
    o->measure_runs = 5;
}

struct cuda_worker *cuda_worker_create(const struct cuda_options *o, const struct worker_config *cfg,
                                       unsigned num_devices, char *err, size_t errlen)
{
    char why[256] = "";
    int n = cuda_gpu_count(why, sizeof why);
    if (n < 1)
        return snprintf(err, errlen, "no CUDA device (%s)", why), NULL;
    if ((unsigned)n < num_devices)
        return snprintf(err, errlen, "%u GPUs requested (-n), this machine has %d", num_devices, n), NULL;
    struct cuda_worker *w = calloc(1, sizeof *w);
    if (!w)
        return snprintf(err, errlen, "out of memory"), NULL;
    w->opt = *o;
    w->cfg = *cfg;
    w->n_gpus = n;
    if (cuda_gpu_open(&w->loader, 0, err, errlen) != 0) {
        free(w);
        return NULL;
    }
    w->nvml = cuda_nvml_open(why, sizeof why);
    if (!w->nvml)
        log_warn("GPU clocks will read 0: %s", why);
    return w;
}

void cuda_worker_destroy(struct cuda_worker *w)
{
    if (!w)
        return;
    cuda_gpu_close(&w->loader);
    cuda_nvml_close(w->nvml);
    free(w);
}

/* ---- LoadModelFromDisk ---- */

static int check_io(const struct cuda_worker *w, const struct cuda_model *cm, const struct model_info *m, char *err,
                    size_t errlen)
{
    uint64_t in = cuda_plan_input_bytes(&cm->cp), out = cuda_plan_output_bytes(&cm->cp);
    if (in != m->input_size || out != m->output_size)
        return snprintf(err, errlen, "%s: plan input/output sizes (%llu/%llu) differ from model.info", m->source,
                        (unsigned long long)in, (unsigned long long)out),
               -1;
    unsigned top = cm->cp.batch[cm->cp.n_batches - 1].b;
    uint64_t half = w->cfg.host_io_pool_size / 2, need = (in > out ? in : out) * top;
    if (need > half)
        return snprintf(err, errlen,
                        "%s needs %llu bytes of pinned IO at batch %u, the device has %llu for each "
                        "direction (host_io_pool_size / 2)",
                        m->source, (unsigned long long)need, top, (unsigned long long)half),
               -1;
    return 0;
}

static int measure(struct cuda_worker *w, const struct cuda_model *cm, struct model_info *m, char *err, size_t errlen)
{
    struct model_runner r;
    char why[600];
    int rc = cuda_runner_wrap(&r, cm, &w->loader, why, sizeof why);
    if (rc == 0) {
        rc = model_runner_measure(&r, w->opt.measure_runs, &m->weights_load_ns, m->exec_ns, why, sizeof why);
        model_runner_close(&r);
    }
    if (rc != 0)
        snprintf(err, errlen, "%s: measuring on GPU 0 failed: %s", m->source, why);
    return rc;
}

static void log_model(const struct cuda_model *cm, const struct model_info *m)
{
    char line[400], algos[300];
    size_t used = 0;
    for (unsigned i = 0; i < m->n_batch_sizes && used + 1 < sizeof line; i++) {
        int k = snprintf(line + used, sizeof line - used, " b%u %.3f ms", m->batch_sizes[i], m->exec_ns[i] / 1e6);
        used += k > 0 ? (size_t)k : 0;
    }
    cuda_model_describe_algorithms(cm, algos, sizeof algos);
    log_info("GPU model %s: %u steps, %u page(s), arena %.1f MiB, load %.3f ms,%s; convolutions: %s", m->source,
             cm->cp.batch[0].n_steps, cm->cp.pages.n_pages, cm->arena_need / 1048576.0, m->weights_load_ns / 1e6, line,
             algos);
}

int cuda_worker_load_model(void *ctx, struct model_info *m, char *err, size_t errlen)
{
    struct cuda_worker *w = ctx;
    struct plan p;
    if (plan_load(&p, m->source, err, errlen) != 0)
        return -1;
    struct cuda_model *cm;
    char msg[800];
    if (cuda_model_build(&cm, &p, m->batch_sizes, m->n_batch_sizes, w->cfg.weights_cache_page_size, msg, sizeof msg) !=
        0)
        return snprintf(err, errlen, "%s: %s", m->source, msg), -1;
    int rc = check_io(w, cm, m, err, errlen);
    if (rc == 0 && cuda_model_prepare(cm, &w->loader, w->cfg.workspace_pool_size, msg, sizeof msg) != 0)
        rc = (snprintf(err, errlen, "%s: %s", m->source, msg), -1);
    if (rc == 0 && w->opt.measure)
        rc = measure(w, cm, m, err, errlen);
    if (rc != 0) {
        cuda_model_destroy(cm);
        return -1;
    }
    m->num_weights_pages = cm->cp.pages.n_pages;
    m->backend_data = cm;
    log_model(cm, m);
    return 0;
}

void cuda_worker_free_model(void *ctx, struct model_info *m)
{
    (void)ctx;
    cuda_model_destroy(m->backend_data);
    m->backend_data = NULL;
}
