/* STRESS, the original's StressTestController ("Used for testing"): no clients; the controller
 * loads copies of one model on every worker itself (controller_options.preload) and then keeps
 * every GPU busy: up to max_outstanding LoadWeights in flight, evicting the oldest resident copy
 * whenever more than max_models_on_gpu are resident, and up to max_outstanding Infer actions
 * (batch 1, no input) on resident copies. It measures the worker path under churn: the status
 * lines give per GPU LoadWeights and Infer throughput, exec and end-to-end times and errors.
 * Unlike the original, which aborts on an inference request, STRESS answers clients with an
 * error; and it keeps fewer copies resident when the GPU's pages cannot hold max_models_on_gpu. */
#include "common/log.h"
#include "common/status.h"
#include "controller/sched_impl.h"
#include "controller/test_controllers/tc_common.h"
#include <stdlib.h>
#include <string.h>

/* A FIFO of model ids (capacity: every model). */
struct ring {
    unsigned *ids;
    unsigned head, count, cap;
};

struct stress_gpu {
    struct ring resident;    /* oldest first */
    struct ring not_loaded;  /* next to load first */
    unsigned loads, infers;  /* in flight */
    unsigned evicting;       /* evictions sent, not yet answered */
    unsigned limit;          /* resident copies kept */
    unsigned infer_rotation; /* spreads infers over the newer copies */
};

struct scheduler {
    struct sched_head head;
    struct tc_base base;
    struct sched_model *models;
    unsigned n_models;
    struct stress_gpu *g;
    unsigned max_outstanding;
    struct sched_request blank; /* the empty input of every Infer */
};

static void ring_push(struct ring *r, unsigned id) { r->ids[(r->head + r->count++) % r->cap] = id; }

static unsigned ring_pop(struct ring *r)
{
    unsigned id = r->ids[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    return id;
}

static unsigned ring_at(const struct ring *r, unsigned i) { return r->ids[(r->head + i) % r->cap]; }

/* Every copy back to "not loaded", in id order. */
static void gpu_reset(struct scheduler *s, struct stress_gpu *g)
{
    g->resident.head = g->resident.count = 0;
    g->not_loaded.head = g->not_loaded.count = 0;
    g->loads = g->infers = g->evicting = 0;
    for (unsigned i = 0; i < s->n_models; i++)
        ring_push(&g->not_loaded, i);
}

/* max_models_on_gpu, but no more than the pages hold next to max_outstanding loads. */
static unsigned resident_limit(const struct scheduler *s, unsigned gpu)
{
    unsigned pages = s->n_models ? s->models[0].info.num_weights_pages : 1;
    unsigned fit = s->base.gpus[gpu].total_pages / (pages ? pages : 1);
    unsigned want = s->base.cfg.stress.max_models_on_gpu ? s->base.cfg.stress.max_models_on_gpu : 200;
    unsigned limit = fit > s->max_outstanding ? fit - s->max_outstanding : 1;
    return want < limit ? want : limit;
}

static void stress_destroy(struct scheduler *s)
{
    if (!s)
        return;
    for (unsigned i = 0; s->g && i < s->base.n_gpus; i++) {
        free(s->g[i].resident.ids);
        free(s->g[i].not_loaded.ids);
    }
    tc_base_free(&s->base);
    free(s->g);
    free(s->models);
    free(s);
}

static int gpus_init(struct scheduler *s)
{
    s->g = calloc(s->base.n_gpus + 1, sizeof *s->g);
    if (!s->g)
        return -1;
    for (unsigned i = 0; i < s->base.n_gpus; i++) {
        struct stress_gpu *g = &s->g[i];
        g->resident.cap = g->not_loaded.cap = s->n_models ? s->n_models : 1;
        g->resident.ids = calloc(g->resident.cap, sizeof(unsigned));
        g->not_loaded.ids = calloc(g->not_loaded.cap, sizeof(unsigned));
        if (!g->resident.ids || !g->not_loaded.ids)
            return -1;
        g->limit = resident_limit(s, i);
        gpu_reset(s, g);
        log_info("STRESS: W%u-GPU%u keeps %u of %u copies resident, %u loads and %u infers in flight",
                 s->base.gpus[i].worker_id, s->base.gpus[i].gpu_id, g->limit, s->n_models, s->max_outstanding,
                 s->max_outstanding);
    }
    return 0;
}

static struct scheduler *stress_create(const struct sched_config *cfg, const struct sched_model *models,
                                       unsigned n_models, const struct sched_gpu *gpus, unsigned n_gpus,
                                       const struct sched_ops *ops, void *data)
{
    struct scheduler *s = calloc(1, sizeof *s);
    if (!s || tc_base_init(&s->base, cfg, gpus, n_gpus, ops, data) != 0) {
        free(s);
        return NULL;
    }
    s->n_models = n_models;
    s->max_outstanding = cfg->stress.max_outstanding ? cfg->stress.max_outstanding : 2;
    s->models = calloc(n_models + 1, sizeof *s->models);
    if (s->models)
        memcpy(s->models, models, n_models * sizeof *models);
    if (!s->models || gpus_init(s) != 0) {
        stress_destroy(s);
        return NULL;
    }
    return s;
}

/* What the GPU can take now: 1 evict, 2 load, 3 infer; 0 nothing. */
static int next_step(const struct scheduler *s, unsigned gpu)
{
    const struct stress_gpu *g = &s->g[gpu];
    const struct sched_stress_config *c = &s->base.cfg.stress;
    if (s->base.gpus[gpu].lost || s->n_models == 0)
        return 0;
    if (!c->no_load && g->resident.count > g->limit)
        return 1;
    /* without churn, load only up to the limit, once */
    unsigned cap = c->no_load ? g->limit : g->limit + s->max_outstanding;
    if (g->loads < s->max_outstanding && g->not_loaded.count && g->resident.count + g->loads < cap)
        return 2;
    if (!c->no_infer && g->infers < s->max_outstanding && g->resident.count)
        return 3;
    return 0;
}

/* Sends one action of that step; 0, or -1 out of memory. */
static int step(struct scheduler *s, uint64_t now, unsigned gpu, int what)
{
    struct stress_gpu *g = &s->g[gpu];
    const struct model_info *m = &s->models[0].info;
    if (what == 1) {
        if (!tc_action_send(&s->base, now, SCHED_EVICT_WEIGHTS, gpu, ring_at(&g->resident, 0), 0, NULL))
            return -1;
        ring_pop(&g->resident);
        g->evicting++;
    } else if (what == 2) {
        if (!tc_action_send(&s->base, now, SCHED_LOAD_WEIGHTS, gpu, ring_at(&g->not_loaded, 0), m->weights_load_ns,
                            NULL))
            return -1;
        ring_pop(&g->not_loaded);
        g->loads++;
    } else {
        unsigned newer = g->resident.count > 1 ? g->resident.count / 2 : 1; /* far from eviction */
        unsigned id = ring_at(&g->resident, g->resident.count - 1 - g->infer_rotation++ % newer);
        if (!tc_action_send(&s->base, now, SCHED_INFER, gpu, id, m->n_batch_sizes ? m->exec_ns[0] : 0, &s->blank))
            return -1;
        g->infers++;
    }
    return 0;
}

/* Sends what the GPU can take now: evictions, then loads, then infers. */
static void fill(struct scheduler *s, uint64_t now, unsigned gpu)
{
    for (int what; (what = next_step(s, gpu)) != 0;)
        if (step(s, now, gpu, what) != 0)
            return; /* out of memory: the next tick tries again */
}

static void stress_tick(struct scheduler *s, uint64_t now)
{
    for (unsigned i = 0; i < s->base.n_gpus; i++)
        fill(s, now, i);
}

static uint64_t stress_next_wakeup(const struct scheduler *s, uint64_t now)
{
    for (unsigned i = 0; i < s->base.n_gpus; i++)
        if (next_step(s, i))
            return now;
    return UINT64_MAX; /* results refill their GPU at once */
}

static void stress_on_request(struct scheduler *s, uint64_t now, struct sched_request *r)
{
    r->arrival_count = ++s->base.arrivals;
    tc_answer(&s->base, now, r, CLIENT_INVALID_REQUEST, "The STRESS controller does not serve inference requests", NULL,
              0);
}

static void stress_on_result(struct scheduler *s, uint64_t now, const struct sched_result *res)
{
    struct tc_action *a = tc_action_take(&s->base, res->action_id);
    if (!a)
        return;
    struct stress_gpu *g = &s->g[a->gpu];
    unsigned gpu = a->gpu;
    if (a->type == SCHED_LOAD_WEIGHTS) {
        g->loads--;
        ring_push(res->status == 0 ? &g->resident : &g->not_loaded, a->model);
    } else if (a->type == SCHED_EVICT_WEIGHTS) {
        g->evicting--;
        ring_push(&g->not_loaded, a->model);
    } else {
        g->infers--;
    }
    if (res->status != 0)
        log_warn("STRESS: W%u-GPU%u %s of model %u failed: %s", s->base.gpus[gpu].worker_id, s->base.gpus[gpu].gpu_id,
                 a->type == SCHED_INFER          ? "Infer"
                 : a->type == SCHED_LOAD_WEIGHTS ? "LoadWeights"
                                                 : "EvictWeights",
                 a->model, res->message);
    tc_action_finish(&s->base, now, a, res);
    fill(s, now, gpu);
}

static void drop_actions(struct scheduler *s, long worker)
{
    for (struct tc_action *a; (a = tc_action_take_any(&s->base, worker));)
        free(a); /* STRESS's actions answer no request */
}

static void stress_on_worker_lost(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    (void)now;
    tc_mark_worker(&s->base, worker_id, 1);
    drop_actions(s, worker_id);
    for (unsigned i = 0; i < s->base.n_gpus; i++)
        if (s->base.gpus[i].worker_id == worker_id)
            gpu_reset(s, &s->g[i]);
}

static void stress_on_worker_back(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    tc_mark_worker(&s->base, worker_id, 0);
    stress_tick(s, now);
}

static void stress_drain(struct scheduler *s, uint64_t now, int status)
{
    (void)now, (void)status;
    drop_actions(s, -1);
}

static unsigned stress_take_stats(struct scheduler *s, struct sched_gpu_stats *out, unsigned max)
{
    return tc_take_stats(&s->base, out, max);
}

static unsigned stress_gpu_count(const struct scheduler *s) { return s->base.n_gpus; }

const struct sched_impl stress_impl = {
    .create = stress_create,
    .destroy = stress_destroy,
    .on_request = stress_on_request,
    .on_result = stress_on_result,
    .tick = stress_tick,
    .next_wakeup = stress_next_wakeup,
    .on_worker_lost = stress_on_worker_lost,
    .on_worker_back = stress_on_worker_back,
    .drain = stress_drain,
    .take_stats = stress_take_stats,
    .gpu_count = stress_gpu_count,
};
