/* libFuzzer target: every message of the input goes to the controller's client-request
 * handler (client_link_handle: decoding, then start-up bouncing, LoadModel, LS, inference
 * through the scheduler, the send queue and the action encoder), as if a client had sent it,
 * twice: to a controller still starting up (its worker has not answered yet) and to one
 * serving two models on one GPU of a worker that takes every action and never answers
 * (requests end by timing out). Everything travels over real loopback connections, and what
 * arrives is dropped. Nothing may crash, leak or read out of bounds. */
#include "common/log.h"
#include "controller/controller_internal.h"
#include "fuzz_input.h"
#include <stdio.h>
#include <stdlib.h>

#define MODEL_PATH "/fuzz/resnet50_v2/model"

static struct controller_options opts;
static struct controller *starting, *serving;

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

/* Connects to port on the controller's loop and waits until connected. */
static struct net_conn *dial(struct controller *ctl, int port)
{
    static int connected;
    struct net_handlers h = {.on_message = drop, .on_connect = on_connect, .data = &connected};
    char err[256];
    connected = 0;
    struct net_conn *c = net_connect(&ctl->loop, "127.0.0.1", port, &h, err, sizeof err);
    for (int i = 0; c && i < 1000 && connected == 0; i++)
        uv_run(&ctl->loop, UV_RUN_ONCE);
    if (!c || connected != 1)
        abort();
    return c;
}

/* The serving controller's worker: takes every action, answers none. */
static void connect_silent_worker(struct controller *ctl)
{
    struct net_handlers h = {.on_message = drop};
    char err[256];
    struct net_server *srv = net_server_start(&ctl->loop, "127.0.0.1", 0, &h, err, sizeof err);
    if (!srv)
        abort();
    ctl->workers[0].conn = dial(ctl, net_server_port(srv));
    ctl->workers[0].connected = 1;
}

static void add_models(struct controller *ctl)
{
    ctl->models = calloc(2, sizeof *ctl->models);
    ctl->model_state = calloc(2, sizeof *ctl->model_state); /* 0: CONTROLLER_MODEL_SERVING */
    if (!ctl->models || !ctl->model_state)
        abort();
    for (unsigned i = 0; i < 2; i++) {
        struct model_info *m = &ctl->models[i].info;
        ctl->models[i].id = i;
        snprintf(m->source, sizeof m->source, "%s", MODEL_PATH);
        m->input_size = 602112;
        m->output_size = 4000;
        m->weights_size = 102000000;
        m->num_weights_pages = 7;
        m->weights_load_ns = 8000000;
        m->n_batch_sizes = 2;
        m->batch_sizes[0] = 1, m->batch_sizes[1] = 2;
        m->exec_ns[0] = 3000000, m->exec_ns[1] = 5000000;
    }
    ctl->n_models = ctl->cap_models = 2;
}

/* A controller listening on an ephemeral port with our client connection accepted. */
static struct controller *start(int serve)
{
    struct controller *ctl = controller_create(&opts);
    char err[256];
    if (!ctl || client_link_start(ctl, err, sizeof err) != 0)
        abort();
    startup_begin(ctl);
    if (serve) {
        add_models(ctl);
        struct worker_result *st = &ctl->workers[0].state;
        st->n_gpus = 1;
        st->gpus[0] = (struct worker_gpu_state){.id = 0, .total_pages = 64};
        ctl->workers[0].state_received = 1;
        connect_silent_worker(ctl);
        controller_start_serving(ctl);
        if (!ctl->serving)
            abort();
    }
    dial(ctl, net_server_port(ctl->client_server));
    for (int i = 0; i < 1000 && !ctl->sessions.head; i++)
        uv_run(&ctl->loop, UV_RUN_ONCE);
    if (!ctl->sessions.head)
        abort();
    return ctl;
}

static void handle(const struct net_msg *m, int64_t peer_offset, void *ctx)
{
    (void)peer_offset, (void)ctx;
    /* -1 would close the connection: the frame is dropped here, the session kept for the rest */
    client_link_handle(starting, starting->sessions.head, m);
    client_link_handle(serving, serving->sessions.head, m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level((enum log_level)(LOG_ERROR + 1)); /* quiet: every request would log */
    snprintf(opts.type, sizeof opts.type, "INFER5");
    opts.n_workers = 1;
    snprintf(opts.workers[0].host, sizeof opts.workers[0].host, "127.0.0.1");
    opts.workers[0].port = 1; /* not dialled: the fuzzer connects the worker itself */
    sched_config_defaults(&opts.sched);
    opts.client_port = 0;
    starting = start(0);
    serving = start(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_messages(data, size, handle, NULL);
    startup_free(starting); /* LoadModels wait for a worker that never answers: drop them */
    controller_pump(serving);
    for (int i = 0; i < 3; i++) {
        uv_run(&starting->loop, UV_RUN_NOWAIT);
        uv_run(&serving->loop, UV_RUN_NOWAIT);
    }
    return 0;
}
