/* libFuzzer target: every message of the input goes to the worker's action handler
 * (decoding and validation: windows, GPU and model ids, batch sizes, input lengths, model
 * paths), as if a controller had sent it. The worker has two emulated devices and one
 * registered model (ids 0-1) and answers over a real loopback connection, whose replies
 * are read and dropped. Actions that pass validation run; a worker still busy after an input
 * (e.g. an action waiting for a far `earliest`) is replaced, so inputs stay independent of
 * time. Nothing may crash, leak or read out of bounds. */
#include "backend/emu/emu_backend.h"
#include "common/log.h"
#include "fuzz_input.h"
#include "proto/clockwork.pb-c.h"
#include "worker/worker_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct worker *W;
static char model_dir[64], model_prefix[96]; /* the worker's model directory; DIR/m/model */

static int drop_reply(struct net_conn *c, const struct net_msg *m, void *data)
{
    (void)c, (void)m, (void)data;
    return 0;
}

static void write_file(const char *suffix, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s%s", model_prefix, suffix);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0)
        abort();
    fclose(f);
}

static void handle(const struct net_msg *m, int64_t peer_offset, void *ctx)
{
    (void)peer_offset, (void)ctx;
    if (W->sessions.head)
        worker_actions_handle(W, W->sessions.head, m);
}

static void register_model(void)
{
    Clockwork__LoadModelFromDiskActionProto a = CLOCKWORK__LOAD_MODEL_FROM_DISK_ACTION_PROTO__INIT;
    a.model_path = model_prefix;
    a.no_of_copies = 2;
    a.latest = UINT64_MAX;
    a.max_batch_size = 16; /* every batch size of the model */
    a.max_exec_duration = UINT64_MAX;
    uint8_t buf[256];
    size_t n = protobuf_c_message_pack(&a.base, buf);
    struct net_msg m = {.type = CLOCKWORK__ACTION_TYPE__ACT_LOAD_MODEL_FROM_DISK, .header = buf, .header_len = n};
    handle(&m, 0, NULL);
    if (!registry_get(&W->registry, 1))
        abort();
}

/* A worker on an ephemeral port with our connection to it accepted. */
static void start_worker(void)
{
    struct worker_options o;
    worker_options_defaults(&o);
    o.make_backend = emu_backend_factory;
    o.num_devices = 2;
    o.host = "127.0.0.1";
    o.port = 0;
    o.print_status = 0;
    o.handle_signals = 0;
    o.model_dir = model_dir;
    struct worker_config cfg;
    worker_config_defaults(&cfg);
    cfg.weights_cache_page_size = 1 << 20;
    cfg.weights_cache_size = 8 << 20;
    char err[256];
    W = worker_create(&o, &cfg, err, sizeof err);
    if (!W)
        abort();
    struct net_handlers h = {.on_message = drop_reply};
    if (!net_connect(&W->loop, "127.0.0.1", net_server_port(W->server), &h, err, sizeof err))
        abort();
    for (int i = 0; i < 1000 && !W->sessions.head; i++)
        uv_run(&W->loop, UV_RUN_ONCE);
    if (!W->sessions.head)
        abort();
    register_model();
}

/* Lets finished tasks come back and replies leave; replaces a worker that stays busy. */
static void settle(void)
{
    for (int i = 0; i < 50 && (W->pending || i < 2); i++) {
        uv_run(&W->loop, UV_RUN_NOWAIT);
        if (W->pending)
            usleep(100);
    }
    if (W->pending) {
        worker_destroy(W);
        start_worker();
    }
}

static void remove_model(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s.info", model_prefix);
    unlink(path);
    snprintf(path, sizeof path, "%s.measurements", model_prefix);
    unlink(path);
    snprintf(path, sizeof path, "%s/m", model_dir);
    rmdir(path);
    rmdir(model_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level((enum log_level)(LOG_ERROR + 1)); /* quiet: every rejected action would log */
    snprintf(model_dir, sizeof model_dir, "/tmp/cw_fuzz_worker_%d", (int)getpid());
    snprintf(model_prefix, sizeof model_prefix, "%s/m", model_dir);
    mkdir(model_dir, 0755);
    mkdir(model_prefix, 0755);
    snprintf(model_prefix, sizeof model_prefix, "%s/m/model", model_dir);
    write_file(".info", "input_size = 5L; output_size = 8L; weights_size = 2000000L; batch_sizes = [1, 2, 4];\n");
    write_file(".measurements", "weights = 20000L; b1 = 10000L; b2 = 15000L; b4 = 20000L;\n");
    atexit(remove_model);
    start_worker();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_messages(data, size, handle, NULL);
    settle();
    return 0;
}
