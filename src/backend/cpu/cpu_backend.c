#define _GNU_SOURCE
#include "cpu_backend.h"
#include "common/clock.h"
#include "backend/backend_input.h"
#include "common/status.h"
#include "cpu_model.h"
#include "cpu_thread.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct cpu_worker {
    struct cpu_options opt;
    struct worker_config cfg;
    dnnl_engine_t engine;
    unsigned clock_mhz;
};

/* A model copy's weights resident in this device, keyed by its first page. */
struct bound {
    struct cpu_binding *b;
    const struct model_info *info;
    int in_use, doomed; /* doomed: replaced while the exec thread was using it */
};

struct cpu_device {
    struct cpu_worker *w;
    unsigned id, total_pages;
    uint8_t *cache, *arena;
    size_t cache_len, arena_len;
    dnnl_stream_t exec_stream, load_stream;
    struct cpu_thread exec_thread, load_thread; /* per-thread pinning state */
    pthread_mutex_t lock;
    struct bound **by_page;
};

void cpu_options_defaults(struct cpu_options *o)
{
    memset(o, 0, sizeof *o);
    o->cores_per_device = 1;
    o->measure = 1;
    o->measure_runs = 3;
}

struct cpu_worker *cpu_worker_create(const struct cpu_options *o, const struct worker_config *cfg, char *err,
                                     size_t errlen)
{
    struct cpu_worker *w = calloc(1, sizeof *w);
    if (!w)
        return snprintf(err, errlen, "out of memory"), NULL;
    w->opt = *o;
    w->cfg = *cfg;
    if (w->opt.cores_per_device < 1)
        w->opt.cores_per_device = 1;
    if (w->opt.measure_runs < 1)
        w->opt.measure_runs = 1;
    if (dnnl_engine_create(&w->engine, dnnl_cpu, 0) != dnnl_success) {
        free(w);
        return snprintf(err, errlen, "cannot create the oneDNN CPU engine"), NULL;
    }
    w->clock_mhz = cpu_thread_clock_mhz();
    return w;
}

void cpu_worker_destroy(struct cpu_worker *w)
{
    if (!w)
        return;
    dnnl_engine_destroy(w->engine);
    free(w);
}

/* ---- device ---- */

static void drop_bound(struct bound *x)
{
    if (x) {
        cpu_binding_destroy(x->b);
        free(x);
    }
}

static void cpu_destroy(void *impl)
{
    struct cpu_device *d = impl;
    for (unsigned i = 0; d->by_page && i < d->total_pages; i++)
        drop_bound(d->by_page[i]);
    free(d->by_page);
    if (d->exec_stream)
        dnnl_stream_destroy(d->exec_stream);
    if (d->load_stream)
        dnnl_stream_destroy(d->load_stream);
    if (d->cache)
        munmap(d->cache, d->cache_len);
    if (d->arena)
        munmap(d->arena, d->arena_len);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static uint8_t **page_addresses(struct cpu_device *d, const unsigned *pages, unsigned npages)
{
    uint8_t **p = malloc((npages + 1) * sizeof *p);
    for (unsigned i = 0; p && i < npages; i++)
        p[i] = d->cache + (uint64_t)pages[i] * d->w->cfg.weights_cache_page_size;
    return p;
}

static int valid_pages(const struct cpu_device *d, const struct cpu_model *cm, const unsigned *pages, unsigned npages)
{
    if (!cm || npages < cm->n_pages)
        return 0;
    for (unsigned i = 0; i < npages; i++)
        if (pages[i] >= d->total_pages)
            return 0;
    return 1;
}

static void install(struct cpu_device *d, unsigned first, struct bound *x)
{
    pthread_mutex_lock(&d->lock);
    struct bound *old = d->by_page[first];
    d->by_page[first] = x;
    if (old && old->in_use) {
        old->doomed = 1; /* the exec thread frees it when done */
        old = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    drop_bound(old);
}

static int cpu_load_weights(void *impl, const struct model_info *m, const unsigned *pages, unsigned npages,
                            uint64_t start, uint64_t *end)
{
    struct cpu_device *d = impl;
    const struct cpu_model *cm = m->backend_data;
    (void)start;
    cpu_thread_setup(&d->load_thread, d->id, &d->w->opt);
    if (!valid_pages(d, cm, pages, npages)) {
        *end = clock_now_ns();
        return ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL;
    }
    uint8_t **addr = page_addresses(d, pages, npages);
    struct bound *x = calloc(1, sizeof *x);
    char err[256];
    int rc = addr && x ? cpu_binding_create(&x->b, cm, addr, d->arena, err, sizeof err) : -1;
    free(addr);
    if (rc == 0)
        rc = cpu_binding_load_weights(x->b, d->load_stream);
    *end = clock_now_ns();
    if (rc != 0) {
        if (x)
            drop_bound(x);
        return ACTION_RUNTIME_ERROR;
    }
    x->info = m;
    install(d, pages[0], x);
    return ACTION_SUCCESS;
}

static struct bound *acquire(struct cpu_device *d, const struct model_info *m, unsigned first)
{
    pthread_mutex_lock(&d->lock);
    struct bound *x = first < d->total_pages ? d->by_page[first] : NULL;
    if (x && x->info == m)
        x->in_use = 1;
    else
        x = NULL;
    pthread_mutex_unlock(&d->lock);
    return x;
}

static void release(struct cpu_device *d, struct bound *x)
{
    pthread_mutex_lock(&d->lock);
    x->in_use = 0;
    int doomed = x->doomed;
    pthread_mutex_unlock(&d->lock);
    if (doomed)
        drop_bound(x);
}

static int copy_input(struct cpu_binding *b, unsigned bi, const struct model_info *m, const struct backend_infer_io *io)
{
    const struct cpu_model *cm = cpu_binding_model(b);
    return backend_input_unpack(io, m->input_size, (uint8_t *)cpu_binding_act(b, bi, cm->plan.inputs[0]));
}

static int run_infer(struct cpu_device *d, struct bound *x, const struct model_info *m,
                     const struct backend_infer_io *io, struct backend_infer_timing *t)
{
    int bi = model_info_batch_index(m, io->padded_batch);
    if (bi < 0 || (unsigned)bi >= cpu_binding_model(x->b)->n_batches)
        return ACTION_COPY_INPUT_INVALID_BATCH_SIZE;
    t->copy_input_begin = clock_now_ns();
    if (copy_input(x->b, (unsigned)bi, m, io) != 0)
        return ACTION_COPY_INPUT_INVALID_INPUT;
    t->copy_input_end = t->exec_begin = clock_now_ns();
    int rc = cpu_binding_run(x->b, (unsigned)bi, d->exec_stream);
    t->exec_end = t->copy_output_begin = clock_now_ns();
    if (rc != 0)
        return ACTION_RUNTIME_ERROR;
    const struct cpu_model *cm = cpu_binding_model(x->b);
    size_t n = (size_t)io->batch_size * m->output_size;
    if (io->output && n <= io->output_len)
        memcpy(io->output, cpu_binding_act(x->b, (unsigned)bi, cm->plan.outputs[0]), n);
    t->copy_output_end = clock_now_ns();
    return ACTION_SUCCESS;
}

static int cpu_infer(void *impl, const struct model_info *m, const unsigned *pages, unsigned npages,
                     const struct backend_infer_io *io, uint64_t start, struct backend_infer_timing *t)
{
    struct cpu_device *d = impl;
    (void)start;
    cpu_thread_setup(&d->exec_thread, d->id, &d->w->opt);
    t->clock_before = t->clock_after = d->w->clock_mhz;
    struct bound *x = npages > 0 ? acquire(d, m, pages[0]) : NULL;
    if (!x) {
        uint64_t now = clock_now_ns();
        t->copy_input_begin = t->copy_input_end = t->exec_begin = t->exec_end = now;
        t->copy_output_begin = t->copy_output_end = now;
        return ACTION_EXEC_WEIGHTS_NOT_PRESENT;
    }
    int rc = run_infer(d, x, m, io, t);
    release(d, x);
    return rc;
}

static const struct backend_ops cpu_ops = {
    .name = "cpu",
    .needs_input = 1,
    .load_weights = cpu_load_weights,
    .infer = cpu_infer,
    .destroy = cpu_destroy,
};

static void *map(size_t len)
{
    void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int cpu_worker_make_backend(unsigned gpu_id, struct backend *out, void *ctx)
{
    struct cpu_worker *w = ctx;
    struct cpu_device *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    pthread_mutex_init(&d->lock, NULL);
    d->w = w;
    d->id = gpu_id;
    d->total_pages = (unsigned)(w->cfg.weights_cache_size / w->cfg.weights_cache_page_size);
    d->cache_len = (size_t)d->total_pages * w->cfg.weights_cache_page_size;
    d->arena_len = w->cfg.workspace_pool_size;
    d->cache = map(d->cache_len);
    d->arena = map(d->arena_len);
    d->by_page = calloc(d->total_pages + 1, sizeof *d->by_page);
    if (!d->cache || !d->arena || !d->by_page ||
        dnnl_stream_create(&d->exec_stream, w->engine, dnnl_stream_default_flags) != dnnl_success ||
        dnnl_stream_create(&d->load_stream, w->engine, dnnl_stream_default_flags) != dnnl_success) {
        cpu_destroy(d);
        return -1;
    }
    out->ops = &cpu_ops;
    out->impl = d;
    return 0;
}

/* ---- LoadModelFromDisk ---- */

static int check_io(const struct cpu_model *cm, const struct model_info *m, char *err, size_t errlen)
{
    if (cm->plan.n_inputs != 1 || cm->plan.n_outputs != 1)
        return snprintf(err, errlen, "%s: the plan has %u inputs and %u outputs (1 and 1 needed)", m->source,
                        cm->plan.n_inputs, cm->plan.n_outputs),
               -1;
    if (cpu_model_input_bytes(cm) != m->input_size || cpu_model_output_bytes(cm) != m->output_size)
        return snprintf(err, errlen, "%s: plan input/output sizes (%llu/%llu) differ from model.info", m->source,
                        (unsigned long long)cpu_model_input_bytes(cm), (unsigned long long)cpu_model_output_bytes(cm)),
               -1;
    return 0;
}

int cpu_worker_load_model(void *ctx, struct model_info *m, char *err, size_t errlen)
{
    struct cpu_worker *w = ctx;
    struct plan p;
    if (plan_load(&p, m->source, err, errlen) != 0)
        return -1;
    struct cpu_model *cm;
    char msg[400];
    cpu_thread_team(w->opt.cores_per_device);
    if (cpu_model_build(&cm, &p, w->engine, m->batch_sizes, m->n_batch_sizes, w->cfg.weights_cache_page_size, msg,
                        sizeof msg) != 0)
        return snprintf(err, errlen, "%s: %s", m->source, msg), -1;
    int rc = check_io(cm, m, err, errlen);
    if (rc == 0 && cm->arena_need > w->cfg.workspace_pool_size) {
        snprintf(err, errlen, "%s needs %llu bytes of workspace, the device has %llu (workspace_pool_size)", m->source,
                 (unsigned long long)cm->arena_need, (unsigned long long)w->cfg.workspace_pool_size);
        rc = -1;
    }
    if (rc == 0 && w->opt.measure)
        rc = cpu_thread_measure(cm, m, &w->opt, err, errlen);
    if (rc != 0) {
        cpu_model_destroy(cm);
        return -1;
    }
    m->num_weights_pages = cm->n_pages;
    m->backend_data = cm;
    return 0;
}

void cpu_worker_free_model(void *ctx, struct model_info *m)
{
    (void)ctx;
    cpu_model_destroy(m->backend_data);
    m->backend_data = NULL;
}
