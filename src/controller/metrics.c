#include "metrics.h"
#include "common/status.h"
#include <stdlib.h>
#include <string.h>

const double METRICS_LATENCY_BOUNDS[METRICS_LATENCY_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                0.25,  0.5,    1,     2.5,  5,     10,   30};
const double METRICS_ERROR_BOUNDS[METRICS_ERROR_BUCKETS] = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                                            0.001,   0.0025,   0.005,   0.01,   0.025,   0.1};

void metrics_init(struct controller_metrics *m) { memset(m, 0, sizeof *m); }

void metrics_free(struct controller_metrics *m)
{
    for (unsigned i = 0; i < m->n_gpus; i++)
        free(m->gpus[i].resident);
    free(m->gpus);
    free(m->models);
    memset(m, 0, sizeof *m);
}

static int grow_resident(struct metrics_gpu *g, unsigned n_models)
{
    unsigned bytes = (n_models + 7) / 8;
    if (bytes <= g->resident_bytes)
        return 0;
    uint8_t *r = realloc(g->resident, bytes);
    if (!r)
        return -1;
    memset(r + g->resident_bytes, 0, bytes - g->resident_bytes);
    g->resident = r;
    g->resident_bytes = bytes;
    return 0;
}

int metrics_grow_models(struct controller_metrics *m, unsigned n)
{
    for (unsigned i = 0; i < m->n_gpus; i++)
        if (grow_resident(&m->gpus[i], n) != 0)
            return -1;
    if (n <= m->n_models)
        return 0;
    if (n > m->cap_models) {
        unsigned cap = m->cap_models ? m->cap_models : 64;
        while (cap < n)
            cap *= 2;
        struct metrics_model *mm = realloc(m->models, cap * sizeof *mm);
        if (!mm)
            return -1;
        m->models = mm;
        m->cap_models = cap;
    }
    memset(&m->models[m->n_models], 0, (n - m->n_models) * sizeof m->models[0]);
    m->n_models = n;
    return 0;
}

int metrics_set_gpus(struct controller_metrics *m, const struct sched_gpu *gpus, unsigned n)
{
    struct metrics_gpu *g = calloc(n + 1, sizeof *g);
    if (!g)
        return -1;
    for (unsigned i = 0; i < m->n_gpus; i++)
        free(m->gpus[i].resident);
    free(m->gpus);
    m->gpus = g;
    m->n_gpus = n;
    for (unsigned i = 0; i < n; i++) {
        g[i].worker_id = gpus[i].worker_id;
        g[i].gpu_id = gpus[i].gpu_id;
        g[i].total_pages = gpus[i].total_pages;
        if (grow_resident(&g[i], m->n_models) != 0)
            return -1;
    }
    return 0;
}

static void observe(struct metrics_histogram *h, const double *bounds, unsigned n_bounds, double seconds)
{
    unsigned b = 0;
    while (b < n_bounds && seconds > bounds[b])
        b++;
    if (b < n_bounds)
        h->buckets[b]++;
    h->count++;
    h->sum += seconds;
}

void metrics_on_admitted(struct controller_metrics *m, unsigned model_id)
{
    if (model_id < m->n_models)
        m->models[model_id].outstanding++;
}

void metrics_on_answered(struct controller_metrics *m, unsigned model_id)
{
    if (model_id < m->n_models && m->models[model_id].outstanding)
        m->models[model_id].outstanding--;
}

void metrics_on_request_row(struct controller_metrics *m, const struct request_row *row)
{
    if (row->model_id >= m->n_models)
        return;
    struct metrics_model *mm = &m->models[row->model_id];
    int result = row->result >= 0 && row->result < METRICS_RESULTS ? row->result : CLIENT_ERROR;
    mm->results[result]++;
    if (row->deadline_met)
        mm->deadline_met++;
    else
        mm->deadline_missed++;
    observe(&mm->latency, METRICS_LATENCY_BOUNDS, METRICS_LATENCY_BUCKETS, (double)row->latency / 1e9);
}

static struct metrics_gpu *gpu_of(struct controller_metrics *m, unsigned worker_id, unsigned gpu_id)
{
    for (unsigned i = 0; i < m->n_gpus; i++)
        if (m->gpus[i].worker_id == worker_id && m->gpus[i].gpu_id == gpu_id)
            return &m->gpus[i];
    return NULL;
}

/* Residency of the model on the GPU after a load (1) or an evict (0). */
static void set_resident(struct metrics_gpu *g, unsigned model, unsigned pages, int resident)
{
    if (model / 8 >= g->resident_bytes)
        return;
    uint8_t bit = (uint8_t)(1u << (model % 8));
    int was = (g->resident[model / 8] & bit) != 0;
    if (was == resident)
        return;
    g->resident[model / 8] ^= bit;
    g->models_loaded += resident ? 1 : -1u;
    g->pages_used += resident ? pages : -pages;
}

void metrics_on_action_row(struct controller_metrics *m, const struct action_row *row, unsigned pages)
{
    int type = row->action_type - SCHED_LOAD_WEIGHTS; /* 0 load, 1 infer, 2 evict */
    if (type < 0 || type >= METRICS_ACTION_TYPES)
        return;
    int status = row->status >= 0 && row->status < METRICS_ACTION_STATUSES ? row->status : ACTION_RUNTIME_ERROR;
    m->actions[type][status]++;
    struct metrics_gpu *g = gpu_of(m, row->worker_id, row->gpu_id);
    if (type == 2 && g) /* evicted, or (on error) not there either */
        set_resident(g, row->model_id, pages, 0);
    if (type == 0 && g && status == ACTION_SUCCESS)
        set_resident(g, row->model_id, pages, 1);
    if (status == ACTION_SUCCESS && type < 2) {
        int64_t err = row->expected_exec_complete - row->worker_exec_complete;
        double seconds = (double)(err < 0 ? -err : err) / 1e9;
        observe(&m->prediction_error[type == 1 ? 0 : 1], METRICS_ERROR_BOUNDS, METRICS_ERROR_BUCKETS, seconds);
    }
}

void metrics_on_gpu_stats(struct controller_metrics *m, const struct sched_gpu_stats *stats, unsigned n,
                          uint64_t interval_ns)
{
    for (unsigned i = 0; i < n; i++) {
        struct metrics_gpu *g = gpu_of(m, stats[i].worker_id, stats[i].gpu_id);
        if (!g)
            continue;
        g->busy_ns += stats[i].infer_busy_ns;
        g->utilization = interval_ns ? (double)stats[i].infer_busy_ns / (double)interval_ns : 0;
    }
}

void metrics_on_worker_reset(struct controller_metrics *m, unsigned worker_id)
{
    for (unsigned i = 0; i < m->n_gpus; i++) {
        struct metrics_gpu *g = &m->gpus[i];
        if (g->worker_id != worker_id)
            continue;
        if (g->resident_bytes)
            memset(g->resident, 0, g->resident_bytes);
        g->pages_used = g->models_loaded = 0;
        g->utilization = 0;
    }
}
