/* Start-up phase: query every worker's state, forward clients' LoadModel requests to all
 * workers (one at a time, so global model ids stay consistent), and hand over to the
 * scheduler once no LoadModel has arrived for the quiet period. */
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "controller_internal.h"
#include <stdlib.h>
#include <string.h>

static void print_model_line(const char *prefix, const struct model_info *m)
{
    char times[256] = "";
    size_t off = 0;
    for (unsigned i = 0; i < m->n_batch_sizes && off < sizeof times; i++)
        off += (size_t)snprintf(times + off, sizeof times - off, " b%u=%.1f", m->batch_sizes[i],
                                (double)m->exec_ns[i] / 1e6);
    log_info("%sinput=%llu output=%llu weights=%.1f MB (%u pages) xfer=%.1f%s", prefix,
             (unsigned long long)m->input_size, (unsigned long long)m->output_size,
             (double)m->weights_size / (1024.0 * 1024.0), m->num_weights_pages, (double)m->weights_load_ns / 1e6,
             times);
}

static void print_workers(struct controller *ctl)
{
    log_info("Clockwork page_size=%llu", (unsigned long long)ctl->page_size);
    for (unsigned i = 0; i < ctl->n_workers; i++) {
        struct worker_result *st = &ctl->workers[i].state;
        log_info("Worker %u %u GPUs %u models", i, st->n_gpus, ctl->n_models);
        for (unsigned g = 0; g < st->n_gpus; g++)
            log_info("GPU %u %.1f GB (%u pages) %u loaded models", st->gpus[g].id,
                     (double)st->gpus[g].weights_cache_size / (1024.0 * 1024 * 1024), st->gpus[g].total_pages,
                     st->gpus[g].n_models);
    }
}

static int all_workers_ready(struct controller *ctl)
{
    for (unsigned i = 0; i < ctl->n_workers; i++)
        if (!ctl->workers[i].state_received)
            return 0;
    return 1;
}

static void on_quiet(uv_timer_t *t);

static void restart_quiet_timer(struct controller *ctl)
{
    uv_timer_stop(&ctl->quiet_timer);
    uv_timer_start(&ctl->quiet_timer, on_quiet, ctl->opts->startup_quiet_ns / NS_PER_MS, 0);
}

static void finish_load(struct controller *ctl);

/* While serving, a lost worker (also one rejoining) gets the load when it rejoins. */
static int skips_worker(const struct controller *ctl, const struct worker_peer *w)
{
    return ctl->serving && (w->lost || !w->conn);
}

static void send_next_load(struct controller *ctl)
{
    struct pending_load *l = ctl->loads_head;
    if (!l || l->sent || !all_workers_ready(ctl))
        return;
    if (!ctl->serving && ctl->startup_stage < STARTUP_LOADING_MODELS) {
        log_info("(Startup-4) LoadModelStage has begun");
        ctl->startup_stage = STARTUP_LOADING_MODELS;
    }
    uv_timer_stop(&ctl->quiet_timer);
    l->sent = 1;
    l->first_model_id = ctl->n_models;
    for (unsigned i = 0; i < ctl->n_workers; i++) {
        struct worker_peer *w = &ctl->workers[i];
        if (skips_worker(ctl, w))
            continue;
        l->expected++;
        int id = ctl->next_action_id++;
        log_info("Worker <-- A%d:LoadModelFromDisk model=%u [0.0, %.1f] %s", id, l->first_model_id,
                 (double)UINT64_MAX / 1e6, l->path);
        if (!w->conn ||
            worker_send_load_model(w->conn, id, l->first_model_id, l->path, l->copies, &ctl->opts->sched) != 0) {
            l->failed = 1;
            snprintf(l->error, sizeof l->error, "worker %u is not connected", i);
            l->responses++;
        } else {
            l->awaiting[i] = 1;
        }
    }
    if (l->expected == 0) {
        l->failed = 1;
        snprintf(l->error, sizeof l->error, "no worker is in service");
    }
    if (l->responses == l->expected)
        finish_load(ctl);
}

static struct pending_load *queue_load(struct controller *ctl, const char *path, int copies)
{
    struct pending_load *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    snprintf(l->path, sizeof l->path, "%s", path);
    l->copies = copies;
    if (ctl->loads_tail)
        ctl->loads_tail->next = l;
    else
        ctl->loads_head = l;
    ctl->loads_tail = l;
    return l;
}

void startup_on_load_model_request(struct controller *ctl, struct net_session *s, uint64_t msg_id, int user_request_id,
                                   const char *path, int copies)
{
    struct pending_load *l = queue_load(ctl, path, copies);
    if (!l) {
        client_send_load_model_response(s, msg_id, user_request_id, CLIENT_ERROR, "out of memory", 0, NULL, 0);
        return;
    }
    char shown[LOG_ESCAPED_SIZE];
    if (s)
        log_info("Client --> Req%d:LoadModel path=%s copies=%d", user_request_id, log_escape(shown, path), copies);
    else
        log_info("Controller --> LoadModel path=%s copies=%d (%s)", path, copies, ctl->opts->type);
    l->session = s;
    if (s)
        net_session_ref(s);
    l->msg_id = msg_id;
    l->user_request_id = user_request_id;
    send_next_load(ctl);
}

void startup_load_for_frontend(struct controller *ctl, const char *path, int copies, controller_load_fn done,
                               void *data)
{
    struct pending_load *l = queue_load(ctl, path, copies);
    if (!l) {
        done(data, CLIENT_ERROR, "controller out of memory", 0, 0);
        return;
    }
    log_info("Front end --> LoadModel path=%s copies=%d", path, copies);
    l->fe_done = done;
    l->fe_data = data;
    send_next_load(ctl);
}

static int same_model(const struct model_info *a, const struct model_info *b)
{
    return a->input_size == b->input_size && a->output_size == b->output_size &&
           a->num_weights_pages == b->num_weights_pages && a->n_batch_sizes == b->n_batch_sizes &&
           !memcmp(a->batch_sizes, b->batch_sizes, sizeof a->batch_sizes);
}

static int record_group(struct controller *ctl, const struct pending_load *l)
{
    if (ctl->n_groups == ctl->cap_groups) {
        unsigned cap = ctl->cap_groups ? 2 * ctl->cap_groups : 16;
        struct load_group *g = realloc(ctl->groups, cap * sizeof *g);
        if (!g)
            return -1;
        ctl->groups = g;
        ctl->cap_groups = cap;
    }
    struct load_group *g = &ctl->groups[ctl->n_groups++];
    g->first = l->first_model_id;
    g->copies = l->copies_created;
    snprintf(g->path, sizeof g->path, "%s", l->path);
    return 0;
}

static int grow_models(struct controller *ctl, unsigned need)
{
    if (metrics_grow_models(&ctl->metrics, need) != 0)
        return -1;
    if (need <= ctl->cap_models)
        return 0;
    unsigned cap = ctl->cap_models ? ctl->cap_models : 64;
    while (cap < need)
        cap *= 2;
    struct sched_model *nm = realloc(ctl->models, cap * sizeof *nm);
    if (nm)
        ctl->models = nm;
    uint8_t *ns = nm ? realloc(ctl->model_state, cap) : NULL;
    if (!ns)
        return -1;
    ctl->model_state = ns;
    ctl->cap_models = cap;
    return 0;
}

/* Models first..first+copies-1 from l's path: in service, or (a failed load's) retired. */
static int add_models(struct controller *ctl, const struct pending_load *l, int copies,
                      enum controller_model_state state)
{
    if (grow_models(ctl, ctl->n_models + (unsigned)copies) != 0)
        return -1;
    for (int i = 0; i < copies; i++) {
        struct sched_model *m = &ctl->models[ctl->n_models];
        ctl->model_state[ctl->n_models] = (uint8_t)state;
        m->id = ctl->n_models++;
        m->info = l->info;
        snprintf(m->info.source, sizeof m->info.source, "%s", l->path);
    }
    client_link_model_added(ctl, &l->info);
    return 0;
}

static int register_models(struct controller *ctl, const struct pending_load *l)
{
    if (record_group(ctl, l) != 0 || add_models(ctl, l, l->copies_created, CONTROLLER_MODEL_SERVING) != 0)
        return -1;
    if (!ctl->serving)
        return 0;
    if (scheduler_add_models(ctl->sched, clock_now_ns(), &ctl->models[l->first_model_id],
                             (unsigned)l->copies_created) == 0) {
        controller_pump(ctl); /* its next tick may come sooner */
        return 0;
    }
    for (unsigned i = l->first_model_id; i < ctl->n_models; i++)
        ctl->model_state[i] = CONTROLLER_MODEL_FAILED;
    return -1;
}

/* A load that failed while serving may have registered its ids on some workers: they are
 * retired, so that no later load reuses them. */
static void retire_ids(struct controller *ctl, const struct pending_load *l)
{
    if (ctl->serving && ctl->n_models == l->first_model_id && add_models(ctl, l, l->copies, CONTROLLER_MODEL_FAILED))
        log_error("out of memory retiring model ids %u..%u", l->first_model_id, l->first_model_id + l->copies - 1);
}

static void answer_load(struct controller *ctl, struct pending_load *l)
{
    if (l->failed && l->fe_done) {
        l->fe_done(l->fe_data, CLIENT_ERROR, l->error, 0, 0);
    } else if (l->fe_done) {
        log_info("Front end <-- LoadModel model_id=[%u->%u] %s", l->first_model_id,
                 l->first_model_id + (unsigned)l->copies_created - 1, l->path);
        l->fe_done(l->fe_data, CLIENT_SUCCESS, "", l->first_model_id, (unsigned)l->copies_created);
    } else if (l->failed && !l->session) {
        log_error("%s cannot load its model %s: %s; stopping", ctl->opts->type, l->path, l->error);
        ctl->exit_code = 1;
        uv_stop(&ctl->loop);
    } else if (l->failed) {
        log_info("Client <-- Rsp%d:LoadModel error %d: %s", l->user_request_id, CLIENT_ERROR, l->error);
        client_send_load_model_response(l->session, l->msg_id, l->user_request_id, CLIENT_ERROR, l->error, 0, NULL, 0);
    } else if (l->session) {
        log_info("Client <-- Rsp%d:LoadModel model_id=[%u->%u] input=%llu output=%llu", l->user_request_id,
                 l->first_model_id, l->first_model_id + (unsigned)l->copies_created - 1,
                 (unsigned long long)l->info.input_size, (unsigned long long)l->info.output_size);
        client_send_load_model_response(l->session, l->msg_id, l->user_request_id, CLIENT_SUCCESS, "",
                                        l->first_model_id, &l->info, l->copies_created);
    }
}

static void finish_load(struct controller *ctl)
{
    struct pending_load *l = ctl->loads_head;
    ctl->loads_head = l->next;
    if (!ctl->loads_head)
        ctl->loads_tail = NULL;
    if (!l->failed && register_models(ctl, l) != 0) {
        l->failed = 1;
        snprintf(l->error, sizeof l->error, "controller out of memory");
    }
    if (l->failed)
        retire_ids(ctl, l);
    answer_load(ctl, l);
    if (l->session)
        net_session_unref(l->session);
    free(l);
    restart_quiet_timer(ctl);
    send_next_load(ctl);
}

void startup_on_load_model_result(struct controller *ctl, struct worker_peer *w, struct worker_result *r)
{
    struct pending_load *l = ctl->loads_head;
    if (!l || !l->sent || !l->awaiting[w->index]) {
        log_warn("worker %u: unexpected LoadModelFromDisk result A%d ignored", w->index, r->action_id);
        return;
    }
    l->awaiting[w->index] = 0;
    if (r->msg_type == 100) {
        log_info("Worker --> R%d:LoadModelFromDisk error %d: %s", r->action_id, r->sched.status, r->message);
        l->failed = 1;
        snprintf(l->error, sizeof l->error, "worker %u: %s", w->index, r->message);
    } else {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "Worker --> R%d:LoadModelFromDisk ", r->action_id);
        print_model_line(prefix, &r->info);
        if (r->copies_created != l->copies) {
            l->failed = 1;
            snprintf(l->error, sizeof l->error, "worker %u created %d copies of %d", w->index, r->copies_created,
                     l->copies);
        } else if (l->copies_created == 0) {
            l->info = r->info;
            l->copies_created = r->copies_created;
        } else if (!same_model(&l->info, &r->info) || l->copies_created != r->copies_created) {
            l->failed = 1;
            snprintf(l->error, sizeof l->error, "workers disagree about model %s", l->path);
        }
    }
    if (++l->responses == l->expected)
        finish_load(ctl);
}

void startup_on_worker_lost(struct controller *ctl, struct worker_peer *w)
{
    struct pending_load *l = ctl->loads_head;
    if (!l || !l->sent || !l->awaiting[w->index])
        return;
    l->awaiting[w->index] = 0;
    if (!ctl->serving) { /* while serving it gets the model when it rejoins */
        l->failed = 1;
        snprintf(l->error, sizeof l->error, "worker %u disconnected", w->index);
    }
    if (++l->responses == l->expected)
        finish_load(ctl);
}

static void print_capacity(struct controller *ctl)
{
    unsigned gpus = 0, pages = 0, per_gpu = 0;
    for (unsigned i = 0; i < ctl->n_workers; i++)
        for (unsigned g = 0; g < ctl->workers[i].state.n_gpus && gpus < ctl->opts->sched.max_gpus; g++, gpus++) {
            pages += ctl->workers[i].state.gpus[g].total_pages;
            per_gpu = ctl->workers[i].state.gpus[g].total_pages;
        }
    uint64_t model_pages = 0;
    for (unsigned i = 0; i < ctl->n_models; i++)
        model_pages += ctl->models[i].info.num_weights_pages;
    log_info("Created %u models", ctl->n_models);
    log_info("Created %u GPUs on %u Workers", gpus, ctl->n_workers);
    log_info("Total GPU capacity %u pages (%u per GPU).", pages, per_gpu);
    log_info("Total model pages %llu (%.0f%% oversubscription).", (unsigned long long)model_pages,
             pages && model_pages > pages ? 100.0 * (double)(model_pages - pages) / pages : 0.0);
}

static void on_quiet(uv_timer_t *t)
{
    struct controller *ctl = t->data;
    if (ctl->serving || ctl->loads_head || ctl->n_models == 0)
        return;
    log_info("(Startup-6) LoadModelStage complete. Printing loaded models:");
    print_workers(ctl);
    for (unsigned i = 0; i < ctl->n_models; i++) {
        char prefix[600];
        snprintf(prefix, sizeof prefix, "M-%u src=%s ", i, ctl->models[i].info.source);
        print_model_line(prefix, &ctl->models[i].info);
    }
    log_info("(Startup-end) Transitioning to scheduler");
    print_capacity(ctl);
    controller_start_serving(ctl);
}

void startup_on_worker_state(struct controller *ctl, struct worker_peer *w)
{
    (void)w;
    if (!all_workers_ready(ctl))
        return;
    ctl->page_size = ctl->workers[0].state.page_size;
    for (unsigned i = 1; i < ctl->n_workers; i++)
        if (ctl->workers[i].state.page_size != ctl->page_size)
            log_warn("worker %u uses page size %llu, worker 0 uses %llu", i,
                     (unsigned long long)ctl->workers[i].state.page_size, (unsigned long long)ctl->page_size);
    print_workers(ctl);
    log_info("(Startup-3) Awaiting LoadModel requests from clients");
    ctl->startup_stage = STARTUP_AWAITING_LOADS;
    send_next_load(ctl);
}

void startup_begin(struct controller *ctl)
{
    uv_timer_init(&ctl->loop, &ctl->quiet_timer);
    ctl->quiet_timer.data = ctl;
    log_info("(Startup) Running ControllerStartup");
    log_info("(Startup-1) Bouncing LS and Infer requests until startup is complete");
    log_info("(Startup-2) Querying current worker state");
    ctl->startup_stage = STARTUP_QUERYING_WORKERS;
    if (ctl->opts->preload_copies > 0) /* sent once every worker has answered */
        startup_on_load_model_request(ctl, NULL, 0, 0, ctl->opts->preload_path, ctl->opts->preload_copies);
}

int startup_find_loaded(const struct controller *ctl, const char *path, int copies, unsigned *first)
{
    unsigned run = 0;
    for (unsigned i = 0; i < ctl->n_models; i++) {
        int usable = ctl->model_state[i] != CONTROLLER_MODEL_FAILED;
        run = usable && strcmp(ctl->models[i].info.source, path) == 0 ? run + 1 : 0;
        if (run == (unsigned)copies) {
            *first = i + 1 - run;
            return 0;
        }
    }
    return -1;
}

void startup_free(struct controller *ctl)
{
    while (ctl->loads_head) {
        struct pending_load *l = ctl->loads_head;
        ctl->loads_head = l->next;
        if (l->session)
            net_session_unref(l->session);
        if (l->fe_done)
            l->fe_done(l->fe_data, CLIENT_ERROR, "Controller shutting down", 0, 0);
        free(l);
    }
    ctl->loads_tail = NULL;
}
