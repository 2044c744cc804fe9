/* ECHO, the original's EchoScheduler ("Used for testing"): after the usual start-up (models
 * loaded on the workers), every inference request is answered at once by the controller
 * itself; no action ever reaches a worker. It measures the client <-> controller path alone.
 * Unlike the original, which answers every request with an error ("infer not implemented on
 * EchoScheduler"), ECHO answers with success and, for a request that carried an input, an
 * output of the model's output size (zeros), as a worker's reply would be. */
#include "common/log.h"
#include "common/status.h"
#include "controller/sched_impl.h"
#include "controller/test_controllers/tc_common.h"
#include <stdlib.h>
#include <string.h>

struct scheduler {
    struct sched_head head;
    struct tc_base base;
    uint64_t *output_size; /* per model */
    uint8_t *unloaded;     /* per model */
    unsigned n_models;
    uint8_t *zeros; /* the largest output */
    uint64_t largest;
};

/* Makes room for models [0, n) with these output sizes; 0, or -1 out of memory (nothing changed). */
static int echo_grow(struct scheduler *s, unsigned n, const struct sched_model *models, unsigned n_models)
{
    uint64_t largest = s->largest ? s->largest : 1;
    for (unsigned i = 0; i < n_models; i++)
        largest = models[i].info.output_size > largest ? models[i].info.output_size : largest;
    uint64_t *sizes = calloc(n + 1, sizeof *sizes);
    uint8_t *unloaded = calloc(n + 1, 1), *zeros = largest > s->largest ? calloc(largest, 1) : NULL;
    if (!sizes || !unloaded || (largest > s->largest && !zeros)) {
        free(sizes), free(unloaded), free(zeros);
        return -1;
    }
    if (s->n_models) {
        memcpy(sizes, s->output_size, s->n_models * sizeof *sizes);
        memcpy(unloaded, s->unloaded, s->n_models);
    }
    for (unsigned i = 0; i < n_models; i++)
        sizes[models[i].id] = models[i].info.output_size;
    free(s->output_size), free(s->unloaded);
    s->output_size = sizes, s->unloaded = unloaded, s->n_models = n;
    if (zeros) {
        free(s->zeros);
        s->zeros = zeros, s->largest = largest;
    }
    return 0;
}

static struct scheduler *echo_create(const struct sched_config *cfg, const struct sched_model *models,
                                     unsigned n_models, const struct sched_gpu *gpus, unsigned n_gpus,
                                     const struct sched_ops *ops, void *data)
{
    (void)gpus, (void)n_gpus;
    struct scheduler *s = calloc(1, sizeof *s);
    if (!s || tc_base_init(&s->base, cfg, NULL, 0, ops, data) != 0) {
        free(s);
        return NULL;
    }
    if (echo_grow(s, n_models, models, n_models) != 0) {
        tc_base_free(&s->base);
        free(s);
        return NULL;
    }
    log_info("ECHO: answering every inference request from the controller; workers get no actions");
    return s;
}

static void echo_destroy(struct scheduler *s)
{
    if (!s)
        return;
    tc_base_free(&s->base);
    free(s->output_size);
    free(s->unloaded);
    free(s->zeros);
    free(s);
}

static int echo_add_models(struct scheduler *s, uint64_t now, const struct sched_model *models, unsigned n_models)
{
    (void)now;
    unsigned n = s->n_models;
    for (unsigned i = 0; i < n_models; i++)
        n = models[i].id + 1 > n ? models[i].id + 1 : n;
    return echo_grow(s, n, models, n_models);
}

/* Nothing of ECHO's is ever queued: unloading only refuses later requests. */
static int echo_set_model_serving(struct scheduler *s, uint64_t now, unsigned model_id, int serving)
{
    (void)now;
    if (model_id >= s->n_models)
        return -1;
    s->unloaded[model_id] = !serving;
    return 0;
}

static void echo_on_request(struct scheduler *s, uint64_t now, struct sched_request *r)
{
    r->arrival_count = ++s->base.arrivals;
    if (r->model_id >= s->n_models) {
        tc_answer(&s->base, now, r, CLIENT_INVALID_REQUEST, "Invalid model ID", NULL, 0);
        return;
    }
    if (s->unloaded[r->model_id]) {
        tc_answer(&s->base, now, r, CLIENT_INVALID_REQUEST, "Model unloaded", NULL, 0);
        return;
    }
    size_t out = r->input_len ? s->output_size[r->model_id] : 0;
    tc_answer(&s->base, now, r, CLIENT_SUCCESS, "", out ? s->zeros : NULL, out);
}

static void echo_on_result(struct scheduler *s, uint64_t now, const struct sched_result *res)
{
    (void)s, (void)now;
    log_warn("ECHO: unexpected result for action %llu ignored", (unsigned long long)res->action_id);
}

static void echo_tick(struct scheduler *s, uint64_t now) { (void)s, (void)now; }

static uint64_t echo_next_wakeup(const struct scheduler *s, uint64_t now)
{
    (void)s, (void)now;
    return UINT64_MAX;
}

static void echo_on_worker(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    (void)s, (void)now, (void)worker_id; /* nothing of ECHO's is on a worker */
}

static void echo_drain(struct scheduler *s, uint64_t now, int status) { (void)s, (void)now, (void)status; }

static unsigned echo_take_stats(struct scheduler *s, struct sched_gpu_stats *out, unsigned max)
{
    return tc_take_stats(&s->base, out, max);
}

static unsigned echo_gpu_count(const struct scheduler *s) { return s->base.n_gpus; }

const struct sched_impl echo_impl = {
    .create = echo_create,
    .destroy = echo_destroy,
    .on_request = echo_on_request,
    .on_result = echo_on_result,
    .tick = echo_tick,
    .next_wakeup = echo_next_wakeup,
    .on_worker_lost = echo_on_worker,
    .on_worker_back = echo_on_worker,
    .drain = echo_drain,
    .take_stats = echo_take_stats,
    .gpu_count = echo_gpu_count,
    .add_models = echo_add_models,
    .set_model_serving = echo_set_model_serving,
};
