/* Just-in-time infer placement. Each GPU's next infer is decided only when the GPU is about
 * to need it: at its predicted free time minus the measured dispatch lag, so the action
 * reaches the worker as the executor frees up, and late arrivals and tighter requests still
 * compete for the slot. The decision takes the most urgent model resident on the GPU, drops
 * its requests that can no longer make their deadline at the predicted start, and runs the
 * batch that serves the most of the rest per unit of GPU time. */
#include "common/status.h"
#include "controller/infer6/infer6_state.h"

/* ---- the GPU's predicted timeline ---- */

uint64_t i6_usable_from(const struct i6_instance *inst) { return inst->load_complete + I6_LOAD_MARGIN; }

void i6_replan(struct infer6 *s, struct i6_gpu *g)
{
    uint64_t turnaround = s->lags.typical[LAG_TURNAROUND], dispatch = s->lags.typical[LAG_DISPATCH];
    uint64_t t = g->exec_anchor ? g->exec_anchor + turnaround : 0;
    for (struct i6_action *a = g->exec_head; a; a = a->exec_next) {
        uint64_t start = i6_max(t, i6_max(a->earliest, a->sent + dispatch));
        a->expected_complete = start + a->expected_duration;
        t = a->expected_complete + turnaround;
    }
    g->exec_free = t;
}

void i6_exec_remove(struct i6_gpu *g, struct i6_action *a)
{
    struct i6_action **pp = &g->exec_head, *prev = NULL;
    while (*pp && *pp != a) {
        prev = *pp;
        pp = &(*pp)->exec_next;
    }
    if (!*pp)
        return;
    *pp = a->exec_next;
    if (g->exec_tail == a)
        g->exec_tail = prev;
    a->exec_next = NULL;
}

static void exec_append(struct i6_gpu *g, struct i6_action *a)
{
    if (g->exec_tail)
        g->exec_tail->exec_next = a;
    else
        g->exec_head = a;
    g->exec_tail = a;
}

/* How long before a GPU frees up its next infer is decided: the dispatch lag (p90, at most
 * 3x its median), so the action is there in time; never more than schedule_ahead. */
static uint64_t lead(const struct infer6 *s)
{
    return i6_min(lags_allowance(&s->lags, LAG_DISPATCH, 3), s->cfg.schedule_ahead);
}

static void set_wake(struct infer6 *s, struct i6_gpu *g, uint64_t t)
{
    if (t == I6_IDLE) {
        if (g->wake_pos != IDHEAP_NONE)
            idheap_remove(&s->wakes, g->wake_pos);
    } else if (g->wake_pos == IDHEAP_NONE) {
        idheap_push(&s->wakes, (struct idheap_key){t, (uint32_t)(g - s->gpus)}, g, &g->wake_pos);
    } else if (s->wakes.n[g->wake_pos].key.hi != t) { /* same time: the heap stays as it is */
        idheap_update(&s->wakes, g->wake_pos, (struct idheap_key){t, (uint32_t)(g - s->gpus)});
    }
}

/* ---- model urgency ---- */

/* The latest start of the model's most urgent strategy (batch size v with the front of v's
 * virtual queue): front(v).target - estimate(v); ties go to the larger batch. */
static struct idheap_key urgency_of(const struct i6_model *m, unsigned id)
{
    uint64_t start = 0;
    int v = model_queue_most_urgent(&m->q, m->est.est, &start);
    if (v < 0)
        return (struct idheap_key){I6_IDLE, 0};
    return (struct idheap_key){start, ((MODEL_MAX_BATCH_SIZES - 1 - (unsigned)v) << 27) | (id & 0x7FFFFFF)};
}

/* Every copy in a heap is keyed by its model's urgency (collect takes copies out, put_back
 * returns them with the current one), so an unchanged urgency leaves every heap as it is. */
void i6_model_touch(struct infer6 *s, unsigned id)
{
    struct i6_model *m = &s->models[id];
    struct idheap_key k = urgency_of(m, id);
    if (k.hi == m->urgency.hi && k.lo == m->urgency.lo)
        return;
    m->urgency = k;
    for (unsigned i = 0; i < m->n_inst; i++) {
        struct i6_instance *inst = m->inst[i];
        if (inst->heap_pos != IDHEAP_NONE)
            idheap_update(&s->gpus[inst->gpu].urgency, inst->heap_pos, m->urgency);
    }
}

/* ---- choosing and sending a batch ---- */

/* Requests that can no longer meet their target in a batch of v started at `start` leave v's
 * virtual queue; those in no virtual queue any more are answered at once (early drop). */
static void drop_infeasible(struct infer6 *s, unsigned id, uint64_t start, uint64_t now)
{
    struct i6_model *m = &s->models[id];
    model_queue_drop_infeasible(&m->q, m->est.est, start);
    struct qreq *q;
    while ((q = model_queue_pop_orphan(&m->q)))
        i6_drop(s, now, q, "Request could not meet its deadline");
}

/* Every request of the model that cannot make it even alone at `start` is answered. */
static void drop_hopeless(struct infer6 *s, unsigned id, uint64_t start, uint64_t now)
{
    drop_infeasible(s, id, start, now);
    i6_model_touch(s, id);
}

/* The batch size that serves the most requests per unit of GPU time (executor turnaround
 * included), padding allowed; ties go to the smaller batch. -1 when nothing is queued. */
static int pick_batch(const struct infer6 *s, const struct i6_model *m, const struct model_queue *q)
{
    int best = -1;
    double best_rate = 0;
    uint64_t turnaround = s->lags.typical[LAG_TURNAROUND];
    for (unsigned v = 0; v < q->nv; v++) {
        unsigned n = q->vcount[v] < m->est.bs[v] ? q->vcount[v] : m->est.bs[v];
        double rate = (double)n / (double)(m->est.est[v] + turnaround);
        if (n && rate > best_rate) {
            best = (int)v;
            best_rate = rate;
        }
    }
    return best;
}

static void send_infer(struct infer6 *s, struct i6_gpu *g, struct i6_instance *inst, unsigned v, unsigned n,
                       uint64_t now)
{
    struct i6_model *m = &s->models[inst->model];
    unsigned gi = (unsigned)(g - s->gpus);
    struct i6_action *a = i6_action_new(s, SCHED_INFER, gi, inst->model, now);
    uint64_t est = m->est.est[v], last_deadline = 0;
    a->v = v;
    a->batch_size = m->est.bs[v];
    a->n_req = n;
    a->inst = inst;
    for (unsigned i = 0; i < n; i++) {
        a->reqs[i] = s->batch[i]->r;
        last_deadline = i6_max(last_deadline, a->reqs[i]->deadline);
    }
    a->earliest = inst->loaded ? now : i6_max(now, i6_usable_from(inst));
    /* worth starting while the batch's last deadline can still be met */
    uint64_t useful = last_deadline > est + s->lags.low[LAG_POST] ? last_deadline - est - s->lags.low[LAG_POST] : 0;
    a->latest = i6_max(useful, a->earliest + 1);
    a->expected_duration = est;
    exec_append(g, a);
    i6_replan(s, g);
    g->infers_inflight++;
    inst->inflight++;
    i6_lru_update(s, inst);
    uint64_t dispatch_low = s->lags.low[LAG_DISPATCH];
    struct sched_action act = {
        .id = a->id,
        .type = SCHED_INFER,
        .worker_id = g->worker_id,
        .gpu_id = g->gpu_id,
        .model_id = inst->model,
        .batch_size = a->batch_size,
        .n_requests = n,
        .requests = a->reqs,
        .earliest = a->earliest,
        .latest = a->latest,
        .expected_duration = est,
        .expected_complete = a->expected_complete,
        .send_by = a->latest > now + dispatch_low ? a->latest - dispatch_low : now,
    };
    s->ops.send_action(s->data, &act);
}

struct cand {
    struct i6_instance *inst;
    int v; /* its best batch, -1 if nothing left */
    unsigned n;
    double rate;     /* requests per second of GPU time */
    uint64_t latest; /* latest start of that batch for its front request */
};

/* Weighs the instance's model for a batch starting at `start` without changing its queue:
 * on a copy of the queue's bookkeeping (dropping fronts only moves its virtual heads; the
 * ring of requests is shared and left as it is), its best batch and that batch's latest start. */
static void evaluate(struct infer6 *s, struct cand *c, uint64_t start)
{
    struct i6_model *m = &s->models[c->inst->model];
    struct model_queue q = m->q;
    model_queue_drop_infeasible(&q, m->est.est, start);
    c->v = pick_batch(s, m, &q);
    if (c->v < 0)
        return;
    uint64_t est = m->est.est[c->v];
    c->n = q.vcount[c->v] < m->est.bs[c->v] ? q.vcount[c->v] : m->est.bs[c->v];
    c->rate = (double)c->n * 1e9 / (double)(est + s->lags.typical[LAG_TURNAROUND]);
    uint64_t t = model_queue_front(&q, (unsigned)c->v)->target;
    c->latest = t > est ? t - est : 0;
}

/* The most urgent candidate, unless serving it first would make others on this GPU miss:
 * among those, the one serving the most requests per unit of GPU time. */
static int choose(const struct infer6 *s, const struct cand *c, unsigned n, uint64_t start)
{
    int first = -1;
    for (unsigned i = 0; i < n && first < 0; i++)
        if (c[i].v >= 0)
            first = (int)i;
    if (first < 0)
        return first;
    const struct i6_model *m = &s->models[c[first].inst->model];
    uint64_t busy_until = start + m->est.est[c[first].v] + s->lags.typical[LAG_TURNAROUND];
    int best = first;
    for (unsigned i = (unsigned)first + 1; i < n; i++)
        if (c[i].v >= 0 && c[i].latest < busy_until && c[i].rate > c[best].rate)
            best = (int)i;
    return best;
}

/* Runs the chosen batch: its model drops what cannot make it at `start` (answered at once),
 * and the batch leaves the queue. */
static void send_choice(struct infer6 *s, struct i6_gpu *g, const struct cand *c, uint64_t start, uint64_t now)
{
    unsigned id = c->inst->model;
    struct i6_model *m = &s->models[id];
    drop_infeasible(s, id, start, now);
    unsigned n = model_queue_take(&m->q, (unsigned)c->v, m->est.bs[c->v], s->batch);
    for (unsigned i = 0; i < n; i++)
        idheap_remove(&s->drops, s->batch[i]->timeout_pos);
    if (n)
        send_infer(s, g, c->inst, (unsigned)c->v, n, now);
    i6_model_touch(s, id);
}

#define CANDIDATES 8 /* models weighed per decision */
#define ASIDE_MAX 16 /* models still loading passed over per decision */

/* Takes up to CANDIDATES usable models off the GPU's heap, most urgent first; those still
 * loading go aside, and the wake-up for their weights is noted. */
static unsigned collect(struct infer6 *s, struct i6_gpu *g, uint64_t start, struct cand *c, struct i6_instance **aside,
                        unsigned *n_aside, uint64_t *wake)
{
    unsigned n = 0;
    while (n < CANDIDATES && g->urgency.len && idheap_top_key(&g->urgency).hi != I6_IDLE) {
        struct i6_instance *inst = idheap_remove(&g->urgency, 0);
        if (!inst->loaded && i6_usable_from(inst) > start) {
            /* its weights are not in yet: look further, and come back when they are */
            aside[(*n_aside)++] = inst;
            *wake = i6_min(*wake, i6_usable_from(inst) - s->lags.typical[LAG_DISPATCH]);
            if (*n_aside == ASIDE_MAX)
                break;
            continue;
        }
        c[n++].inst = inst;
    }
    return n;
}

static void put_back(struct infer6 *s, struct i6_gpu *g, struct i6_instance *inst)
{
    idheap_push(&g->urgency, s->models[inst->model].urgency, inst, &inst->heap_pos);
}

void i6_place(struct infer6 *s, unsigned gi, uint64_t now)
{
    struct i6_gpu *g = &s->gpus[gi];
    struct i6_instance *aside[ASIDE_MAX];
    struct cand c[CANDIDATES];
    unsigned n_aside = 0;
    uint64_t wake = I6_IDLE;
    while (g->alive && g->urgency.len && idheap_top_key(&g->urgency).hi != I6_IDLE && n_aside < ASIDE_MAX) {
        uint64_t due = g->exec_free > lead(s) ? g->exec_free - lead(s) : 0;
        if (due > now) {
            wake = i6_min(wake, due);
            break;
        }
        uint64_t start = i6_max(g->exec_free, now + s->lags.typical[LAG_DISPATCH]);
        unsigned n = collect(s, g, start, c, aside, &n_aside, &wake);
        for (unsigned i = 0; i < n; i++)
            evaluate(s, &c[i], start);
        int pick = choose(s, c, n, start);
        for (unsigned i = 0; i < n; i++)
            put_back(s, g, c[i].inst);
        for (unsigned i = 0; i < n; i++) /* nothing left for them at all: answer and re-key */
            if (c[i].v < 0 && s->models[c[i].inst->model].q.live)
                drop_hopeless(s, c[i].inst->model, start, now);
        if (pick >= 0)
            send_choice(s, g, &c[pick], start, now);
    }
    for (unsigned i = 0; i < n_aside; i++)
        put_back(s, g, aside[i]);
    set_wake(s, g, wake);
}

void i6_place_model(struct infer6 *s, unsigned id, uint64_t now)
{
    struct i6_model *m = &s->models[id];
    for (unsigned i = 0; i < m->n_inst; i++) {
        struct i6_gpu *g = &s->gpus[m->inst[i]->gpu];
        uint64_t due = g->exec_free > lead(s) ? g->exec_free - lead(s) : 0;
        if (due <= now)
            i6_place(s, m->inst[i]->gpu, now);
        else if (g->wake_pos == IDHEAP_NONE || s->wakes.n[g->wake_pos].key.hi > due)
            set_wake(s, g, due); /* it has work now: decide when it is due */
    }
}
