/* Test harness for the INFER5 scheduler: a fake host that records every effect the
 * scheduler produces (actions, answers, telemetry rows), plus helpers to build models,
 * GPUs and requests. Header-only so each test_sched_*.c stays one ctest binary. */
#ifndef TEST_SCHED_HARNESS_H
#define TEST_SCHED_HARNESS_H
#include "common/status.h"
#include "controller/scheduler.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ULL
#define H_MAX_REQ 8192
#define H_MAX_ACT 16384

struct h_action {
    struct sched_action a;
    uint64_t req_ids[128];
};

struct h_done {
    uint64_t req_id;
    int status;
    size_t out_len;
    uint8_t first_byte;
};

struct harness {
    struct scheduler *s;
    struct sched_config cfg;
    struct sched_request reqs[H_MAX_REQ];
    unsigned n_reqs;
    unsigned answered[H_MAX_REQ];
    struct h_action *acts;
    unsigned n_acts;
    struct h_done dones[H_MAX_REQ];
    unsigned n_dones;
    struct request_row rrows[H_MAX_REQ];
    unsigned n_rrows;
    struct action_row *arows;
    unsigned n_arows;
};

static inline void h_send(void *d, const struct sched_action *a)
{
    struct harness *h = d;
    if (h->n_acts >= H_MAX_ACT)
        abort();
    struct h_action *x = &h->acts[h->n_acts++];
    x->a = *a;
    for (unsigned i = 0; i < a->n_requests && i < 128; i++)
        x->req_ids[i] = a->requests[i]->id;
    x->a.requests = NULL;
}

static inline void h_done_cb(void *d, struct sched_request *r, int status, const char *msg, const uint8_t *out,
                             size_t len)
{
    struct harness *h = d;
    (void)msg;
    h->answered[r->id]++;
    if (h->n_dones < H_MAX_REQ)
        h->dones[h->n_dones++] = (struct h_done){r->id, status, len, len ? out[0] : 0};
}

static inline void h_log_req(void *d, const struct request_row *row)
{
    struct harness *h = d;
    if (h->n_rrows < H_MAX_REQ)
        h->rrows[h->n_rrows++] = *row;
}

static inline void h_log_act(void *d, const struct action_row *row)
{
    struct harness *h = d;
    if (h->n_arows < H_MAX_ACT)
        h->arows[h->n_arows++] = *row;
}

static const struct sched_ops h_ops = {h_send, h_done_cb, h_log_req, h_log_act};

/* A model: n batch sizes 1,2,4,... with the given exec times (ns). */
static inline struct sched_model h_model(unsigned id, unsigned n, const uint64_t *exec, uint64_t load_ns,
                                         unsigned pages, uint64_t output_size)
{
    struct sched_model m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.info.n_batch_sizes = n;
    for (unsigned i = 0; i < n; i++) {
        m.info.batch_sizes[i] = 1u << i;
        m.info.exec_ns[i] = exec[i];
    }
    m.info.weights_load_ns = load_ns;
    m.info.num_weights_pages = pages;
    m.info.output_size = output_size;
    return m;
}

static inline struct harness *h_new(void)
{
    struct harness *h = calloc(1, sizeof *h);
    h->acts = calloc(H_MAX_ACT, sizeof h->acts[0]);
    h->arows = calloc(H_MAX_ACT, sizeof h->arows[0]);
    sched_config_defaults(&h->cfg);
    return h;
}

static inline void h_start(struct harness *h, const struct sched_model *models, unsigned n_models,
                           const struct sched_gpu *gpus, unsigned n_gpus)
{
    h->s = scheduler_create(&h->cfg, models, n_models, gpus, n_gpus, &h_ops, h);
}

static inline void h_free(struct harness *h)
{
    scheduler_destroy(h->s);
    free(h->acts);
    free(h->arows);
    free(h);
}

static inline struct sched_request *h_request(struct harness *h, uint64_t now, unsigned model, float slo_factor)
{
    struct sched_request *r = &h->reqs[h->n_reqs];
    memset(r, 0, sizeof *r);
    r->id = h->n_reqs++;
    r->model_id = model;
    r->slo_factor = slo_factor;
    r->arrival = now;
    r->user_id = 7;
    scheduler_on_request(h->s, now, r);
    return r;
}

static inline struct sched_result h_ok(const struct h_action *x, uint64_t begin, uint64_t duration, uint64_t now)
{
    struct sched_result r;
    memset(&r, 0, sizeof r);
    r.action_id = x->a.id;
    r.worker_exec_begin = begin;
    r.worker_exec_end = begin + duration;
    r.worker_exec_duration = duration;
    r.received = now;
    return r;
}

static inline const struct h_action *h_last(const struct harness *h, enum sched_action_type t)
{
    for (unsigned i = h->n_acts; i-- > 0;)
        if (h->acts[i].a.type == t)
            return &h->acts[i];
    return NULL;
}

static inline uint64_t h_fnv(uint64_t h, uint64_t x)
{
    for (unsigned i = 0; i < 8; i++, x >>= 8)
        h = (h ^ (x & 0xff)) * 1099511628211ULL;
    return h;
}

/* Every decision the scheduler made, in order (actions with their fields and batches, answers
 * with their status and time): equal fingerprints mean the same decisions. */
static inline uint64_t h_fingerprint(const struct harness *h)
{
    uint64_t f = 1469598103934665603ULL;
    for (unsigned i = 0; i < h->n_acts; i++) {
        const struct sched_action *a = &h->acts[i].a;
        const uint64_t v[] = {a->id,
                              a->type,
                              a->worker_id,
                              a->gpu_id,
                              a->model_id,
                              a->batch_size,
                              a->n_requests,
                              a->earliest,
                              a->latest,
                              a->expected_duration,
                              a->expected_complete,
                              a->send_by};
        for (unsigned k = 0; k < sizeof v / sizeof v[0]; k++)
            f = h_fnv(f, v[k]);
        for (unsigned k = 0; k < a->n_requests && k < 128; k++)
            f = h_fnv(f, h->acts[i].req_ids[k]);
    }
    for (unsigned i = 0; i < h->n_dones; i++)
        f = h_fnv(h_fnv(f, h->dones[i].req_id), (uint64_t)h->dones[i].status);
    for (unsigned i = 0; i < h->n_rrows; i++)
        f = h_fnv(h_fnv(f, (uint64_t)h->rrows[i].latency), (uint64_t)h->rrows[i].deadline_met);
    return f;
}

static inline unsigned h_count(const struct harness *h, enum sched_action_type t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < h->n_acts; i++)
        n += h->acts[i].a.type == t;
    return n;
}

#endif
