/* libFuzzer target: the HTTP front end's request handler (http_api_handle: routing, KServe v2
 * JSON and binary tensor parsing, metadata, the repository, metrics, and inference through the
 * controller's entry point into the scheduler) on a serving controller whose one worker takes
 * every action and never answers. An input is "METHOD PATH\n" (METHOD any bytes up to the
 * space), then optionally "#LEN\n" (the Inference-Header-Content-Length) or "!\n" (the metrics
 * port), then the body. After each input, what is still pending is answered (drain), so every
 * call ends. Nothing may crash, leak or read out of bounds. */
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "controller/controller_internal.h"
#include "controller/http/http_api.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct controller_options opts;
static struct controller *ctl;
static struct http_api *api;

static int drop(struct net_conn *c, const struct net_msg *m, void *data)
{
    (void)c, (void)m, (void)data;
    return 0;
}

static void on_connect(struct net_conn *c, int status, void *data)
{
    (void)c;
    *(int *)data = status == 0 ? 1 : -1;
}

/* The worker: a loopback connection that takes every action and answers none. */
static void connect_silent_worker(void)
{
    static int connected;
    struct net_handlers h = {.on_message = drop};
    char err[256];
    struct net_server *srv = net_server_start(&ctl->loop, "127.0.0.1", 0, &h, err, sizeof err);
    struct net_handlers dh = {.on_message = drop, .on_connect = on_connect, .data = &connected};
    struct net_conn *c = srv ? net_connect(&ctl->loop, "127.0.0.1", net_server_port(srv), &dh, err, sizeof err) : NULL;
    for (int i = 0; c && i < 1000 && connected == 0; i++)
        uv_run(&ctl->loop, UV_RUN_ONCE);
    if (!c || connected != 1)
        abort();
    ctl->workers[0].conn = c;
    ctl->workers[0].connected = 1;
}

/* Models 0-1 "tiny" (24 floats in, 10 out), 2 "wide" (an input that is not whole FP32 values). */
static void add_models(void)
{
    unsigned n = 3;
    ctl->models = calloc(n, sizeof *ctl->models);
    ctl->model_state = calloc(n, 1);
    if (!ctl->models || !ctl->model_state || metrics_grow_models(&ctl->metrics, n) != 0)
        abort();
    for (unsigned i = 0; i < n; i++) {
        struct model_info *m = &ctl->models[i].info;
        ctl->models[i].id = i;
        snprintf(m->source, sizeof m->source, "%s", i < 2 ? "/fuzz/tiny/model" : "/fuzz/wide/model");
        m->input_size = i < 2 ? 96 : 99;
        m->output_size = 40;
        m->weights_size = 1000000;
        m->num_weights_pages = 1;
        m->weights_load_ns = 1000000;
        m->n_batch_sizes = 2;
        m->batch_sizes[0] = 1, m->batch_sizes[1] = 2;
        m->exec_ns[0] = 1000000, m->exec_ns[1] = 1500000;
    }
    ctl->n_models = ctl->cap_models = n;
}

static void on_reply(void *data, struct http_reply *r)
{
    (void)data;
    free(r->body);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level((enum log_level)(LOG_ERROR + 1));
    snprintf(opts.type, sizeof opts.type, "INFER5");
    opts.n_workers = 1;
    snprintf(opts.workers[0].host, sizeof opts.workers[0].host, "127.0.0.1");
    opts.workers[0].port = 1; /* not dialled */
    sched_config_defaults(&opts.sched);
    char err[256];
    ctl = controller_create(&opts);
    if (!ctl)
        abort();
    startup_begin(ctl);
    add_models();
    struct worker_result *st = &ctl->workers[0].state;
    st->n_gpus = 1;
    st->gpus[0] = (struct worker_gpu_state){.id = 0, .total_pages = 64};
    ctl->workers[0].state_received = 1;
    connect_silent_worker();
    controller_start_serving(ctl);
    if (!ctl->serving || !(api = http_api_create(ctl, err, sizeof err)))
        abort();
    return 0;
}

/* Cuts the input into the request view (see the header). */
static void parse(const uint8_t *data, size_t size, struct http_request_view *v)
{
    memset(v, 0, sizeof *v);
    v->json_len = -1;
    const uint8_t *sp = memchr(data, ' ', size), *nl = memchr(data, '\n', size);
    if (!sp || !nl || sp > nl) {
        v->method = "GET", v->method_len = 3, v->path = "/", v->path_len = 1;
        return;
    }
    v->method = (const char *)data, v->method_len = (size_t)(sp - data);
    v->path = (const char *)sp + 1, v->path_len = (size_t)(nl - sp - 1);
    const uint8_t *rest = nl + 1, *end = data + size;
    if (rest < end && (*rest == '#' || *rest == '!')) {
        const uint8_t *nl2 = memchr(rest, '\n', (size_t)(end - rest));
        if (nl2) {
            if (*rest == '!')
                v->metrics_port = 1;
            else
                v->json_len = strtoll((const char *)rest + 1, NULL, 10) % (1 << 20);
            rest = nl2 + 1;
        }
    }
    v->body = rest, v->body_len = (size_t)(end - rest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* strtoll needs a terminated string */
    uint8_t *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    struct http_request_view v;
    parse(copy, size, &v);
    http_api_handle(api, &v, on_reply, NULL);
    controller_pump(ctl);
    uv_run(&ctl->loop, UV_RUN_NOWAIT);
    scheduler_drain(ctl->sched, clock_now_ns(), CLIENT_ERROR); /* every pending call ends */
    send_queue_clear(&ctl->sends);
    startup_free(ctl); /* loads the silent worker would never answer */
    free(copy);
    return 0;
}
