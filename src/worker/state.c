/* GetWorkerState: a snapshot of the worker's memory (page size, per-device cache and
 * resident models) and of every registered model, encoded and printed like the original. */
#include "common/clock.h"
#include "common/log.h"
#include "describe.h"
#include "proto/clockwork.pb-c.h"
#include "worker_internal.h"
#include <stdlib.h>

struct state_buffers {
    Clockwork__GPUInfoProto *gpus;
    Clockwork__GPUInfoProto **gpu_ptrs;
    uint32_t **gpu_models;
    Clockwork__ModelInfoProto *models;
    Clockwork__ModelInfoProto **model_ptrs;
    unsigned n_gpus;
};

static void free_buffers(struct state_buffers *b)
{
    for (unsigned i = 0; b->gpu_models && i < b->n_gpus; i++)
        free(b->gpu_models[i]);
    free(b->gpu_models);
    free(b->gpus);
    free(b->gpu_ptrs);
    free(b->models);
    free(b->model_ptrs);
}

static uint32_t *resident_ids(struct device *d, size_t *n)
{
    int32_t *ids;
    *n = device_resident_models(d, &ids);
    uint32_t *out = (uint32_t *)ids; /* same size; ids are non-negative */
    return out;
}

static int fill_gpus(struct worker *w, struct state_buffers *b)
{
    b->n_gpus = w->n_devices;
    b->gpus = calloc(w->n_devices, sizeof *b->gpus);
    b->gpu_ptrs = calloc(w->n_devices, sizeof *b->gpu_ptrs);
    b->gpu_models = calloc(w->n_devices, sizeof *b->gpu_models);
    if (!b->gpus || !b->gpu_ptrs || !b->gpu_models)
        return -1;
    for (unsigned i = 0; i < w->n_devices; i++) {
        const struct device_config *c = device_get_config(w->devices[i]);
        Clockwork__GPUInfoProto g = CLOCKWORK__GPUINFO_PROTO__INIT;
        g.id = (int32_t)i;
        g.weights_cache_size = c->weights_cache_size;
        g.weights_cache_total_pages = (int32_t)device_total_pages(w->devices[i]);
        g.io_pool_size = c->io_pool_size;
        g.workspace_pool_size = c->workspace_pool_size;
        b->gpu_models[i] = resident_ids(w->devices[i], &g.n_models);
        if (!b->gpu_models[i])
            return -1;
        g.models = b->gpu_models[i];
        b->gpus[i] = g;
        b->gpu_ptrs[i] = &b->gpus[i];
    }
    return 0;
}

static void model_proto(Clockwork__ModelInfoProto *p, int32_t id, const struct model_info *m, uint64_t page_size)
{
    Clockwork__ModelInfoProto x = CLOCKWORK__MODEL_INFO_PROTO__INIT;
    x.id = id;
    x.source = (char *)m->source;
    x.input_size = m->input_size;
    x.output_size = m->output_size;
    x.n_supported_batch_sizes = m->n_batch_sizes;
    x.supported_batch_sizes = (uint32_t *)m->batch_sizes;
    x.weights_size = (uint64_t)m->num_weights_pages * page_size;
    x.num_weights_pages = m->num_weights_pages;
    x.weights_load_time_nanos = m->weights_load_ns;
    x.n_batch_size_exec_times_nanos = m->n_batch_sizes;
    x.batch_size_exec_times_nanos = (uint64_t *)m->exec_ns;
    *p = x;
}

static int fill_models(struct worker *w, struct state_buffers *b, size_t *n)
{
    const struct model_registry *r = &w->registry;
    b->models = calloc(r->count ? r->count : 1, sizeof *b->models);
    b->model_ptrs = calloc(r->count ? r->count : 1, sizeof *b->model_ptrs);
    if (!b->models || !b->model_ptrs)
        return -1;
    *n = 0;
    for (size_t id = 0; id < r->cap && *n < r->count; id++) {
        if (!r->by_id[id])
            continue;
        model_proto(&b->models[*n], (int32_t)id, r->by_id[id], w->cfg.weights_cache_page_size);
        b->model_ptrs[*n] = &b->models[*n];
        (*n)++;
    }
    return 0;
}

static void print_state(const Clockwork__WorkerMemoryInfoProto *info, int32_t action_id)
{
    log_info("Sending R%d:GetWorkerState:", action_id);
    log_info("page_size=%llu", (unsigned long long)info->page_size);
    log_info("gpus=");
    for (size_t i = 0; i < info->n_gpus; i++) {
        const Clockwork__GPUInfoProto *g = info->gpus[i];
        log_info("GPU-%d weights_cache=%.1fGB (%d pages) io_pool=%.1fMB workspace_pool=%.1fMB %zu models currently on "
                 "GPU",
                 g->id, (double)g->weights_cache_size / (1024.0 * 1024 * 1024), g->weights_cache_total_pages,
                 (double)g->io_pool_size / (1024.0 * 1024), (double)g->workspace_pool_size / (1024.0 * 1024),
                 g->n_models);
    }
    log_info("models=");
    for (size_t i = 0; i < info->n_models; i++) {
        const Clockwork__ModelInfoProto *m = info->models[i];
        char batches[128];
        int n = 0;
        batches[0] = '\0';
        for (size_t k = 0; k < m->n_supported_batch_sizes && n >= 0 && (size_t)n < sizeof batches; k++)
            n += snprintf(batches + n, sizeof batches - (size_t)n, "%s%u", k ? ", " : "", m->supported_batch_sizes[k]);
        log_info("M-%d src=%s input=%llu output=%llu batch=[%s] weights=%llu (%u pages)", m->id, m->source,
                 (unsigned long long)m->input_size, (unsigned long long)m->output_size, batches,
                 (unsigned long long)m->weights_size, m->num_weights_pages);
    }
}

int worker_state_handle(struct worker *w, struct net_session *s, const struct net_msg *m)
{
    Clockwork__GetWorkerStateActionProto *a =
        clockwork__get_worker_state_action_proto__unpack(NULL, m->header_len, m->header);
    if (!a)
        return -1;
    if (w->state_shown != s || w->opt.verbose)
        log_info("Received A%d:GetWorkerState", a->action_id);
    struct state_buffers b = {0};
    size_t n_models = 0;
    if (fill_gpus(w, &b) != 0 || fill_models(w, &b, &n_models) != 0) {
        worker_results_send_error(s, a->action_id, CLOCKWORK__ACTION_TYPE__ACT_GET_WORKER_STATE, 2, "out of memory",
                                  m->recv_time);
    } else {
        Clockwork__WorkerMemoryInfoProto info = CLOCKWORK__WORKER_MEMORY_INFO_PROTO__INIT;
        info.page_size = w->cfg.weights_cache_page_size;
        info.host_weights_cache_size = registry_host_bytes(&w->registry);
        info.host_io_pool_size = w->cfg.host_io_pool_size;
        info.n_gpus = w->n_devices;
        info.gpus = b.gpu_ptrs;
        info.n_models = n_models;
        info.models = b.model_ptrs;
        Clockwork__GetWorkerStateResultProto r = CLOCKWORK__GET_WORKER_STATE_RESULT_PROTO__INIT;
        r.action_id = a->action_id;
        r.worker_memory_info = &info;
        r.action_received = m->recv_time;
        if (w->state_shown != s) /* in full once per controller: ours asks again as a heartbeat */
            print_state(&info, a->action_id);
        else if (w->opt.verbose)
            log_info("Sending R%d:GetWorkerState (%u GPUs, %zu models)", a->action_id, w->n_devices, n_models);
        w->state_shown = s;
        r.result_sent = clock_now_ns();
        net_conn_send(s->conn, CLOCKWORK__ACTION_TYPE__RES_GET_WORKER_STATE, 0, &r.base, NULL, 0);
    }
    free_buffers(&b);
    clockwork__get_worker_state_action_proto__free_unpacked(a, NULL);
    return 0;
}
