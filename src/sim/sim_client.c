/* The simulated client: the workload's wl_builder in virtual time (models are read from the
 * zoo and registered as the controller would), its request sources driven exactly as the
 * live engine drives them, and requests / responses crossing the client-controller hop. */
#include "common/status.h"
#include "sim_internal.h"
#include <stdlib.h>
#include <string.h>

/* ---- the builder ---- */

static int add_models(struct sim *s, const struct model_info *info, unsigned copies)
{
    if (s->n_models + copies > s->cap_models) {
        unsigned cap = s->cap_models ? s->cap_models : 64;
        while (cap < s->n_models + copies)
            cap *= 2;
        struct sched_model *m = realloc(s->models, cap * sizeof *m);
        unsigned *tm = realloc(s->target_model, cap * sizeof *tm);
        if (m)
            s->models = m;
        if (tm)
            s->target_model = tm;
        if (!m || !tm)
            return -1;
        s->cap_models = cap;
    }
    int first = wl_sources_add_targets(s->src, copies);
    if (first < 0 || (unsigned)first != s->n_targets)
        return -1;
    for (unsigned i = 0; i < copies; i++) {
        s->models[s->n_models] = (struct sched_model){.id = s->n_models, .info = *info};
        s->target_model[s->n_targets++] = s->n_models++;
    }
    return first;
}

static int b_load(void *data, const char *name, unsigned copies, struct wl_loaded *out)
{
    struct sim *s = data;
    char path[4400], err[512];
    struct model_info info;
    if (zoo_model_path(&s->zoo, name, path, sizeof path) != 0) {
        fprintf(stderr, "Unknown model %s: no %s/%s/model.info (%zu models found)\n", name, s->zoo.dir, name,
                s->zoo.count);
        return -1;
    }
    if (model_info_load(&info, path, s->cfg->page_size, err, sizeof err) != 0) {
        fprintf(stderr, "Loading %s failed: %s\n", path, err);
        return -1;
    }
    unsigned first_id = s->n_models;
    int first = add_models(s, &info, copies);
    if (first < 0) {
        fprintf(stderr, "out of memory loading %u copies of %s\n", copies, name);
        return -1;
    }
    if (s->cfg->out)
        fprintf(s->cfg->out, "Loaded %u cop%s of %s: model ids %u-%u input=%llu output=%llu\n", copies,
                copies == 1 ? "y" : "ies", name, first_id, first_id + copies - 1, (unsigned long long)info.input_size,
                (unsigned long long)info.output_size);
    *out = (struct wl_loaded){
        .first = (unsigned)first, .n = copies, .input_size = info.input_size, .output_size = info.output_size};
    return 0;
}

static uint32_t b_model_id(void *data, unsigned target)
{
    struct sim *s = data;
    return target < s->n_targets ? s->target_model[target] : 0;
}

/* The simulator's seed perturbs every source's own seed (0 keeps the live client's). */
static uint64_t mix_seed(const struct sim *s, uint64_t seed)
{
    if (s->cfg->seed == 0)
        return seed;
    uint64_t z = seed + s->cfg->seed * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int b_open(void *data, const struct wl_open_spec *spec)
{
    struct sim *s = data;
    struct wl_open_spec o = *spec;
    o.seed = mix_seed(s, o.seed);
    return wl_sources_open_loop(s->src, &o);
}

static int b_closed(void *data, const struct wl_closed_spec *spec)
{
    struct sim *s = data;
    struct wl_closed_spec c = *spec;
    c.seed = mix_seed(s, c.seed);
    return wl_sources_closed_loop(s->src, &c);
}

static int b_trace(void *data, const struct wl_trace_spec *spec)
{
    struct sim *s = data;
    struct wl_trace_spec t = *spec;
    t.seed = mix_seed(s, t.seed);
    return wl_sources_trace_replay(s->src, &t);
}

static int b_bursty(void *data, int source, double burst_s, double idle_s, uint64_t seed)
{
    struct sim *s = data;
    return wl_sources_bursty(s->src, source, burst_s, idle_s, mix_seed(s, seed));
}

static const struct wl_builder_ops SIM_OPS = {
    .load = b_load,
    .model_id = b_model_id,
    .open_loop = b_open,
    .closed_loop = b_closed,
    .trace_replay = b_trace,
    .bursty = b_bursty,
};

void sim_client_builder(struct sim *s, struct wl_builder *b)
{
    *b = (struct wl_builder){.ops = &SIM_OPS, .data = s, .zoo = &s->zoo, .sources = s->src};
}

/* ---- what the sources emit ---- */

static int emit_send(void *data, unsigned source, unsigned target, int user_id, float slo)
{
    struct sim *s = data;
    struct sim_req *r = calloc(1, sizeof *r);
    if (!r) {
        sim_fail(s, "out of memory for a request");
        return -1;
    }
    r->source = source;
    r->r.user_id = user_id;
    r->r.user_request_id = (int)s->next_user_request++;
    r->r.model_id = b_model_id(s, target);
    r->r.slo_factor = slo;
    r->r.host_ctx = r;
    struct ctl_item *it = sim_ctl_item(s, CTL_REQUEST);
    if (!it) {
        free(r);
        return -1;
    }
    it->req = r;
    s->outstanding++;
    s->st->requests++;
    sim_push(s, s->now + sim_delay_sample(&s->cfg->lat, HOP_CLIENT_TO_CTL, &s->rng_net), EV_CTL_ARRIVE, 0, it);
    return 0;
}

static void emit_note(void *data, const char *msg)
{
    struct sim *s = data;
    if (s->cfg->out)
        fprintf(s->cfg->out, "[%.3f] %s\n", (double)(s->now - s->t0) / 1e9, msg);
}

static void emit_stop(void *data, const char *reason) { sim_client_stop(data, reason); }

/* Arms the EV_SOURCES event for the sources' next time, if earlier than the armed one. With a
 * client tick the wake-up is rounded up to whole ticks from the last one, as the live client's
 * libuv timer (milliseconds) rounds it: requests due in between leave together. */
static void arm(struct sim *s)
{
    uint64_t next = wl_sources_next_time(s->src), tick = s->cfg->client_tick_ns, from = s->sources_woke;
    if (next != UINT64_MAX && tick && next > from)
        next = from + (next - from + tick - 1) / tick * tick;
    if (next == UINT64_MAX || s->stopping || next >= s->pending_sources)
        return;
    s->pending_sources = next;
    sim_push(s, next, EV_SOURCES, 0, NULL);
}

void sim_client_stop(struct sim *s, const char *reason)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    wl_sources_stop(s->src);
    if (reason && s->cfg->out)
        fprintf(s->cfg->out, "[%.3f] %s\n", (double)(s->now - s->t0) / 1e9, reason);
}

void sim_client_start(struct sim *s)
{
    if (wl_sources_num_sources(s->src) == 0) {
        sim_client_stop(s, "Stopping: the workload has no request sources");
        return;
    }
    s->sources_woke = s->now;
    if (wl_sources_start(s->src, s->now, &s->emit) != 0 && !s->stopping)
        sim_client_stop(s, "Stopping: cannot start the workload");
    arm(s);
}

void sim_client_sources_due(struct sim *s, uint64_t t)
{
    if (t != s->pending_sources || s->stopping)
        return; /* superseded */
    s->pending_sources = UINT64_MAX;
    s->sources_woke = t;
    wl_sources_advance(s->src, t, &s->emit);
    arm(s);
}

void sim_client_response(struct sim *s, struct sim_req *r)
{
    s->outstanding--;
    s->st->responses++;
    s->st->success += r->status == CLIENT_SUCCESS;
    if (s->cfg->obs.response)
        s->cfg->obs.response(s->cfg->obs.data, r->r.id, r->status);
    unsigned source = r->source;
    free(r);
    if (s->stopping)
        return;
    wl_sources_completed(s->src, source, &s->emit);
    if (!s->stopping && wl_sources_all_done(s->src))
        sim_client_stop(s, "All requests completed");
    arm(s);
}

int sim_client_init(struct sim *s)
{
    char err[4400];
    s->pending_sources = UINT64_MAX;
    s->src = wl_sources_new();
    if (!s->src) {
        sim_fail(s, "out of memory");
        return -1;
    }
    s->emit = (struct wl_emit){.send = emit_send, .note = emit_note, .stop = emit_stop, .data = s};
    const char *dir = s->cfg->zoo_dir ? s->cfg->zoo_dir : zoo_default_dir();
    if (zoo_scan(&s->zoo, dir, err, sizeof err) != 0) {
        sim_fail(s, "%s", err);
        return -1;
    }
    return 0;
}

void sim_client_free(struct sim *s)
{
    wl_sources_free(s->src);
    zoo_free(&s->zoo);
    free(s->target_model);
    free(s->models);
}
