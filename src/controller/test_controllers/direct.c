/* DIRECT, the original's DirectController ("Used for testing"): each inference request goes
 * straight to a GPU as an Infer action of its own (batch 1, window [now, now + 10 s]), no
 * queueing, batching, SLO or admission decisions; its result is the request's answer (any
 * worker error: status 1 with the worker's message, as the original). Requests are spread over
 * the GPUs round robin, as the original alternates its two; a model whose weights are not on
 * the chosen GPU gets a LoadWeights first, its requests waiting for it. Unlike the original
 * (worker 0 only, and no eviction), every worker's GPUs are used and, when a GPU's pages run
 * out, its least recently used idle model is evicted. It measures the controller -> worker path
 * without the scheduler. */
#include "common/log.h"
#include "common/status.h"
#include "controller/sched_impl.h"
#include "controller/test_controllers/tc_common.h"
#include <stdlib.h>
#include <string.h>

enum residency { ABSENT = 0, LOADING, READY };

struct waiter {
    struct waiter *next;
    struct sched_request *r;
};

/* One model on one GPU. */
struct placement {
    enum residency state;
    unsigned infers; /* in flight */
    uint64_t last_used;
    struct waiter *head, *tail; /* requests waiting for the weights */
};

struct scheduler {
    struct sched_head head;
    struct tc_base base;
    struct sched_model *models;
    unsigned n_models;
    struct placement *placements; /* [gpu * n_models + model] */
    unsigned *pages_used;         /* per GPU: resident and loading weights */
    unsigned next_gpu;            /* round robin */
};

static struct placement *at(struct scheduler *s, unsigned gpu, unsigned model)
{
    return &s->placements[(size_t)gpu * s->n_models + model];
}

static struct scheduler *direct_create(const struct sched_config *cfg, const struct sched_model *models,
                                       unsigned n_models, const struct sched_gpu *gpus, unsigned n_gpus,
                                       const struct sched_ops *ops, void *data)
{
    struct scheduler *s = calloc(1, sizeof *s);
    if (!s || tc_base_init(&s->base, cfg, gpus, n_gpus, ops, data) != 0) {
        free(s);
        return NULL;
    }
    s->n_models = n_models;
    s->models = calloc(n_models + 1, sizeof *s->models);
    s->placements = calloc((size_t)n_gpus * n_models + 1, sizeof *s->placements);
    s->pages_used = calloc(n_gpus + 1, sizeof *s->pages_used);
    if (!s->models || !s->placements || !s->pages_used) {
        tc_base_free(&s->base);
        free(s->models);
        free(s->placements);
        free(s->pages_used);
        free(s);
        return NULL;
    }
    memcpy(s->models, models, n_models * sizeof *models);
    log_info("DIRECT: forwarding each inference request to a GPU, round robin over %u GPUs, no scheduler", n_gpus);
    return s;
}

static void direct_destroy(struct scheduler *s)
{
    if (!s)
        return;
    tc_base_free(&s->base);
    for (size_t i = 0; i < (size_t)s->base.n_gpus * s->n_models; i++)
        for (struct waiter *w = s->placements[i].head, *next; w; w = next) {
            next = w->next;
            free(w);
        }
    free(s->models);
    free(s->placements);
    free(s->pages_used);
    free(s);
}

static void send_infer(struct scheduler *s, uint64_t now, unsigned gpu, struct sched_request *r)
{
    struct placement *p = at(s, gpu, r->model_id);
    const struct model_info *m = &s->models[r->model_id].info;
    if (!tc_action_send(&s->base, now, SCHED_INFER, gpu, r->model_id, m->n_batch_sizes ? m->exec_ns[0] : 0, r)) {
        tc_answer(&s->base, now, r, CLIENT_ERROR, "controller out of memory", NULL, 0);
        return;
    }
    p->infers++;
    p->last_used = now;
}

/* Evicts the least recently used idle model of the GPU; 0, or -1 if none is idle. */
static int evict_one(struct scheduler *s, uint64_t now, unsigned gpu)
{
    struct placement *victim = NULL;
    unsigned model = 0;
    for (unsigned i = 0; i < s->n_models; i++) {
        struct placement *p = at(s, gpu, i);
        if (p->state == READY && p->infers == 0 && (!victim || p->last_used < victim->last_used)) {
            victim = p;
            model = i;
        }
    }
    if (!victim || !tc_action_send(&s->base, now, SCHED_EVICT_WEIGHTS, gpu, model, 0, NULL))
        return -1;
    victim->state = ABSENT; /* the worker evicts before any later load: same executor, in order */
    s->pages_used[gpu] -= s->models[model].info.num_weights_pages;
    return 0;
}

/* Starts loading the model's weights on the GPU; 0, or -1 with why. */
static int load(struct scheduler *s, uint64_t now, unsigned gpu, unsigned model, const char **why)
{
    const struct model_info *m = &s->models[model].info;
    if (m->num_weights_pages > s->base.gpus[gpu].total_pages) {
        *why = "the model's weights are larger than the GPU's weights cache";
        return -1;
    }
    while (s->pages_used[gpu] + m->num_weights_pages > s->base.gpus[gpu].total_pages)
        if (evict_one(s, now, gpu) != 0) {
            *why = "GPU weights cache full: every resident model is in use";
            return -1;
        }
    if (!tc_action_send(&s->base, now, SCHED_LOAD_WEIGHTS, gpu, model, m->weights_load_ns, NULL)) {
        *why = "controller out of memory";
        return -1;
    }
    at(s, gpu, model)->state = LOADING;
    s->pages_used[gpu] += m->num_weights_pages;
    return 0;
}

static int wait_for_weights(struct placement *p, struct sched_request *r)
{
    struct waiter *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->r = r;
    if (p->tail)
        p->tail->next = w;
    else
        p->head = w;
    p->tail = w;
    return 0;
}

/* The next GPU that is not lost, round robin; -1 if there is none. */
static long next_gpu(struct scheduler *s)
{
    for (unsigned k = 0; k < s->base.n_gpus; k++) {
        unsigned g = s->next_gpu++ % s->base.n_gpus;
        if (!s->base.gpus[g].lost)
            return g;
    }
    return -1;
}

static void direct_on_request(struct scheduler *s, uint64_t now, struct sched_request *r)
{
    r->arrival_count = ++s->base.arrivals;
    long gpu = r->model_id < s->n_models ? next_gpu(s) : -1;
    if (gpu < 0) {
        tc_answer(&s->base, now, r, r->model_id < s->n_models ? CLIENT_ERROR : CLIENT_INVALID_REQUEST,
                  r->model_id < s->n_models ? "No GPU available" : "Invalid model ID", NULL, 0);
        return;
    }
    struct placement *p = at(s, (unsigned)gpu, r->model_id);
    const char *why = "controller out of memory";
    if (p->state == READY) {
        send_infer(s, now, (unsigned)gpu, r);
        return;
    }
    r->is_coldstart = 1;
    if ((p->state == ABSENT && load(s, now, (unsigned)gpu, r->model_id, &why) != 0) || wait_for_weights(p, r) != 0)
        tc_answer(&s->base, now, r, CLIENT_ERROR, why, NULL, 0);
}

/* The weights arrived (loaded), or not: send, or answer with status, every waiting request. */
static void release_waiters(struct scheduler *s, uint64_t now, unsigned gpu, unsigned model, int loaded, int status,
                            const char *message)
{
    struct placement *p = at(s, gpu, model);
    struct waiter *w = p->head;
    p->head = p->tail = NULL;
    while (w) {
        struct waiter *next = w->next;
        if (loaded)
            send_infer(s, now, gpu, w->r);
        else
            tc_answer(&s->base, now, w->r, status, message, NULL, 0);
        free(w);
        w = next;
    }
}

static void infer_done(struct scheduler *s, uint64_t now, const struct tc_action *a, const struct sched_result *res)
{
    at(s, a->gpu, a->model)->infers--;
    uint64_t out_size = s->models[a->model].info.output_size;
    if (res->status != 0)
        tc_answer(&s->base, now, a->request, CLIENT_ERROR, res->message, NULL, 0);
    else if (res->output && res->output_len >= out_size)
        tc_answer(&s->base, now, a->request, CLIENT_SUCCESS, "", res->output, out_size);
    else /* zero-size inputs: the worker returns no output */
        tc_answer(&s->base, now, a->request, CLIENT_SUCCESS, "", NULL, 0);
}

static void direct_on_result(struct scheduler *s, uint64_t now, const struct sched_result *res)
{
    struct tc_action *a = tc_action_take(&s->base, res->action_id);
    if (!a)
        return; /* of a lost worker or drained: already answered */
    struct placement *p = at(s, a->gpu, a->model);
    if (a->type == SCHED_INFER) {
        infer_done(s, now, a, res);
    } else if (a->type == SCHED_LOAD_WEIGHTS) {
        p->state = res->status == 0 ? READY : ABSENT;
        if (res->status != 0)
            s->pages_used[a->gpu] -= s->models[a->model].info.num_weights_pages;
        p->last_used = now;
        release_waiters(s, now, a->gpu, a->model, res->status == 0, CLIENT_ERROR, res->message);
    } else if (res->status != 0) {
        log_warn("DIRECT: EvictWeights of model %u on GPU %u failed: %s", a->model, a->gpu, res->message);
    }
    tc_action_finish(&s->base, now, a, res);
}

static void direct_tick(struct scheduler *s, uint64_t now) { (void)s, (void)now; }

static uint64_t direct_next_wakeup(const struct scheduler *s, uint64_t now)
{
    (void)s, (void)now;
    return UINT64_MAX; /* everything happens on requests and results */
}

/* Answers every request of the GPU's worker (or of every worker: worker < 0) and forgets its
 * weights. */
static void fail_all(struct scheduler *s, uint64_t now, long worker, int status, const char *message)
{
    for (struct tc_action *a; (a = tc_action_take_any(&s->base, worker));) {
        if (a->type == SCHED_INFER)
            tc_answer(&s->base, now, a->request, status, message, NULL, 0);
        free(a);
    }
    for (unsigned g = 0; g < s->base.n_gpus; g++) {
        if (worker >= 0 && s->base.gpus[g].worker_id != (unsigned long)worker)
            continue;
        for (unsigned m = 0; m < s->n_models; m++) {
            struct placement *p = at(s, g, m);
            release_waiters(s, now, g, m, 0, status, message);
            memset(p, 0, sizeof *p);
        }
        s->pages_used[g] = 0;
    }
}

static void direct_on_worker_lost(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    tc_mark_worker(&s->base, worker_id, 1);
    fail_all(s, now, worker_id, CLIENT_ERROR, "Worker connection lost");
}

static void direct_on_worker_back(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    (void)now;
    tc_mark_worker(&s->base, worker_id, 0); /* its GPUs come back empty */
}

static void direct_drain(struct scheduler *s, uint64_t now, int status)
{
    fail_all(s, now, -1, status, "Controller shutting down");
}

static unsigned direct_take_stats(struct scheduler *s, struct sched_gpu_stats *out, unsigned max)
{
    return tc_take_stats(&s->base, out, max);
}

static unsigned direct_gpu_count(const struct scheduler *s) { return s->base.n_gpus; }

const struct sched_impl direct_impl = {
    .create = direct_create,
    .destroy = direct_destroy,
    .on_request = direct_on_request,
    .on_result = direct_on_result,
    .tick = direct_tick,
    .next_wakeup = direct_next_wakeup,
    .on_worker_lost = direct_on_worker_lost,
    .on_worker_back = direct_on_worker_back,
    .drain = direct_drain,
    .take_stats = direct_take_stats,
    .gpu_count = direct_gpu_count,
};
