/* Test harness for the live controller's glue (controller.c, startup.c, client_link.c,
 * worker_rejoin.c): the real controller (controller_run) in a thread, in-process emulated
 * workers (worker.h) in threads on 127.0.0.1, and the test itself playing the client over
 * blocking sockets. Every log line is captured, so tests can wait for what the controller
 * reported. The controller stops on SIGTERM, as the real process does. Header-only so each
 * test binary can include it; not a test itself. Include <cmocka.h> first. */
#ifndef CW_TEST_CONTROLLER_HARNESS_H
#define CW_TEST_CONTROLLER_HARNESS_H
#include "backend/emu/emu_backend.h"
#include "common/log.h"
#include "common/status.h"
#include "controller/controller.h"
#include "controller/frontend.h"
#include "proto/clockwork.pb-c.h"
#include "wire_socket.h"
#include "worker/worker.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#define CH_MAX_WORKERS 4
#define CH_MIB (1024ull * 1024)

struct ch_worker {
    struct worker *w;
    pthread_t thread;
    int port, running;
};

struct ch {
    char dir[64];      /* the workers' model directory (models a/ and b/) and telemetry */
    char model_a[128]; /* path prefixes of two models: DIR/a/model, DIR/b/model */
    char model_b[128];
    struct controller_options *opts;
    const struct controller_frontend *frontend; /* NULL: none; else on free ports http_port, metrics_port */
    int http_port, metrics_port;
    pthread_t ctl_thread;
    int ctl_running;
    struct ch_worker workers[CH_MAX_WORKERS];
    unsigned n_workers;
    pthread_mutex_t log_lock;
    char *log; /* every line logged, '\n'-separated */
    size_t log_len, log_cap;
};

/* A response, whatever its type. */
struct ch_rsp {
    uint64_t type;
    int status, user_request_id;
    char message[512];
    uint32_t model_id;
    int copies;
    uint64_t input_size, output_size;
    size_t body_len;
    unsigned n_models;
    uint32_t model_ids[16];
    char paths[16][128];
};

static inline void ch_on_log(void *data, enum log_level level, const char *line)
{
    (void)level;
    struct ch *h = data;
    size_t n = strlen(line);
    pthread_mutex_lock(&h->log_lock);
    if (h->log_len + n + 2 > h->log_cap) {
        size_t cap = (h->log_cap + n + 2) * 2;
        char *p = realloc(h->log, cap);
        if (p) {
            h->log = p;
            h->log_cap = cap;
        }
    }
    if (h->log_len + n + 2 <= h->log_cap) {
        memcpy(h->log + h->log_len, line, n);
        h->log_len += n;
        h->log[h->log_len++] = '\n';
        h->log[h->log_len] = '\0';
    }
    pthread_mutex_unlock(&h->log_lock);
}

static inline int ch_logged(struct ch *h, const char *text)
{
    pthread_mutex_lock(&h->log_lock);
    int found = h->log && strstr(h->log, text) != NULL;
    pthread_mutex_unlock(&h->log_lock);
    return found;
}

/* Waits (up to `seconds`) until some log line contains `text`. */
static inline int ch_wait_log(struct ch *h, const char *text, int seconds)
{
    for (int i = 0; i < seconds * 50; i++) {
        if (ch_logged(h, text))
            return 1;
        usleep(20000);
    }
    return 0;
}

static inline void ch_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Writes a small emulated model (5-byte input, 8-byte output, 2.5 MB of weights) at prefix. */
static inline void ch_write_model(const char *prefix)
{
    char path[256];
    snprintf(path, sizeof path, "%s.info", prefix);
    ch_write(path, "input_size = 5L; output_size = 8L; weights_size = 2500000L; batch_sizes = [1, 2, 4];\n");
    snprintf(path, sizeof path, "%s.measurements", prefix);
    ch_write(path, "weights = 2000000L; b1 = 1000000L; b2 = 1500000L; b4 = 2000000L;\n");
}

static inline void ch_init(struct ch *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->log_lock, NULL);
    snprintf(h->dir, sizeof h->dir, "/tmp/cw_ctl_test_XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    snprintf(h->model_a, sizeof h->model_a, "%s/a", h->dir);
    mkdir(h->model_a, 0755);
    snprintf(h->model_b, sizeof h->model_b, "%s/b", h->dir);
    mkdir(h->model_b, 0755);
    snprintf(h->model_a, sizeof h->model_a, "%s/a/model", h->dir);
    snprintf(h->model_b, sizeof h->model_b, "%s/b/model", h->dir);
    ch_write_model(h->model_a);
    ch_write_model(h->model_b);
    log_set_observer(ch_on_log, h);
}

static inline void *ch_worker_main(void *arg)
{
    worker_run(arg);
    return NULL;
}

/* Starts worker i (port chosen on its first start, kept on restarts). */
static inline void ch_worker_start(struct ch *h, unsigned i, unsigned devices, uint64_t page_size)
{
    struct ch_worker *cw = &h->workers[i];
    if (!cw->port)
        cw->port = wire_free_port();
    if (i >= h->n_workers)
        h->n_workers = i + 1;
    struct worker_options o;
    worker_options_defaults(&o);
    o.make_backend = emu_backend_factory;
    o.num_devices = devices;
    o.host = "127.0.0.1";
    o.port = cw->port;
    o.print_status = 0;
    o.handle_signals = 0;
    o.model_dir = h->dir;
    struct worker_config cfg;
    worker_config_defaults(&cfg);
    cfg.weights_cache_page_size = page_size;
    cfg.weights_cache_size = 64 * page_size;
    char err[256];
    cw->w = worker_create(&o, &cfg, err, sizeof err);
    if (!cw->w)
        fail_msg("worker_create: %s", err);
    assert_int_equal(pthread_create(&cw->thread, NULL, ch_worker_main, cw->w), 0);
    cw->running = 1;
}

static inline void ch_worker_stop(struct ch *h, unsigned i)
{
    struct ch_worker *cw = &h->workers[i];
    if (!cw->running)
        return;
    worker_stop(cw->w);
    pthread_join(cw->thread, NULL);
    worker_destroy(cw->w);
    cw->running = 0;
}

static inline void *ch_controller_main(void *arg)
{
    struct ch *h = arg;
    controller_run_with(h->opts, h->frontend);
    return NULL;
}

/* Starts a controller of TYPE on the workers started so far (short start-up quiet period), with
 * the TYPE's options (space-separated, may be ""). */
static inline void ch_controller_start_type(struct ch *h, const char *type, const char *options)
{
    char line[1024], *argv[16], *save = NULL;
    snprintf(line, sizeof line, "controller %s ", type);
    for (unsigned i = 0; i < h->n_workers; i++) {
        size_t n = strlen(line);
        snprintf(line + n, sizeof line - n, "%s127.0.0.1:%d", i ? "," : "", h->workers[i].port);
    }
    snprintf(line + strlen(line), sizeof line - strlen(line), " %s", options);
    int argc = 0;
    for (char *t = strtok_r(line, " ", &save); t && argc < 16; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    h->opts = calloc(1, sizeof *h->opts);
    assert_non_null(h->opts);
    char err[256];
    assert_int_equal(controller_options_parse(h->opts, argc, argv, err, sizeof err), OPTIONS_OK);
    h->opts->client_port = wire_free_port();
    h->opts->http.port = h->frontend ? (h->http_port = wire_free_port()) : 0;
    h->opts->http.metrics_port = h->frontend ? (h->metrics_port = wire_free_port()) : 0;
    h->opts->startup_quiet_ns = 300 * NS_PER_MS;
    snprintf(h->opts->log_dir, sizeof h->opts->log_dir, "%s", h->dir);
    assert_int_equal(pthread_create(&h->ctl_thread, NULL, ch_controller_main, h), 0);
    h->ctl_running = 1;
}

static inline void ch_controller_start(struct ch *h) { ch_controller_start_type(h, "INFER5", ""); }

/* SIGTERM, as for the real process; only once the controller listens (its handler is set). */
static inline void ch_controller_stop(struct ch *h)
{
    if (!h->ctl_running)
        return;
    kill(getpid(), SIGTERM);
    pthread_join(h->ctl_thread, NULL);
    h->ctl_running = 0;
    free(h->opts);
    h->opts = NULL;
}

static inline void ch_free(struct ch *h)
{
    ch_controller_stop(h);
    for (unsigned i = 0; i < h->n_workers; i++)
        ch_worker_stop(h, i);
    log_set_observer(NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", h->dir);
    assert_int_equal(system(cmd), 0);
    free(h->log);
    pthread_mutex_destroy(&h->log_lock);
}

/* ---- the client's side ---- */

/* Connects to the controller's client port, waiting for it to listen. */
static inline int ch_dial(struct ch *h)
{
    for (int i = 0; i < 500; i++) {
        int fd = wire_try_dial(h->opts->client_port);
        if (fd >= 0)
            return fd;
        usleep(20000);
    }
    fail_msg("the controller does not listen on %d", h->opts->client_port);
    return -1;
}

static inline void ch_copy_header(struct ch_rsp *r, const Clockwork__ResponseHeaderProto *hd)
{
    if (!hd)
        return;
    r->status = hd->status;
    r->user_request_id = hd->user_request_id;
    snprintf(r->message, sizeof r->message, "%s", hd->message ? hd->message : "");
}

static inline void ch_decode(const struct wire_reply *w, struct ch_rsp *r)
{
    memset(r, 0, sizeof *r);
    r->type = w->type;
    r->status = -1;
    r->body_len = w->body_len;
    if (w->type == 102) {
        Clockwork__ModelInferenceRspProto *p =
            clockwork__model_inference_rsp_proto__unpack(NULL, w->header_len, w->header);
        assert_non_null(p);
        ch_copy_header(r, p->header);
        r->model_id = p->model_id;
        clockwork__model_inference_rsp_proto__free_unpacked(p, NULL);
    } else if (w->type == 103) {
        Clockwork__LoadModelFromDiskRspProto *p =
            clockwork__load_model_from_disk_rsp_proto__unpack(NULL, w->header_len, w->header);
        assert_non_null(p);
        ch_copy_header(r, p->header);
        r->model_id = p->model_id;
        r->copies = p->copies_created;
        r->input_size = p->input_size;
        r->output_size = p->output_size;
        clockwork__load_model_from_disk_rsp_proto__free_unpacked(p, NULL);
    } else if (w->type == 105) {
        Clockwork__LSRspProto *p = clockwork__lsrsp_proto__unpack(NULL, w->header_len, w->header);
        assert_non_null(p);
        ch_copy_header(r, p->header);
        r->n_models = (unsigned)p->n_models;
        for (size_t i = 0; i < p->n_models && i < 16; i++) {
            r->model_ids[i] = p->models[i]->model_id;
            snprintf(r->paths[i], sizeof r->paths[i], "%s", p->models[i]->remote_path);
        }
        clockwork__lsrsp_proto__free_unpacked(p, NULL);
    } else { /* 101 upload, 104 evict: only the header (field 1 of both) matters */
        Clockwork__EvictRspProto *p = clockwork__evict_rsp_proto__unpack(NULL, w->header_len, w->header);
        assert_non_null(p);
        ch_copy_header(r, p->header);
        clockwork__evict_rsp_proto__free_unpacked(p, NULL);
    }
}

/* Sends a request and reads its response (of type `type` + 100). 0, or -1 if the controller
 * closed the connection instead. */
static inline int ch_call(int fd, uint64_t type, const ProtobufCMessage *m, struct ch_rsp *r)
{
    wire_send_msg(fd, type, m, NULL, 0);
    struct wire_reply w;
    if (wire_recv(fd, &w) != 0)
        return -1;
    assert_int_equal(w.type, type + 100);
    ch_decode(&w, r);
    wire_reply_free(&w);
    return 0;
}

static inline int ch_load(int fd, int urid, const char *path, int copies, struct ch_rsp *r)
{
    Clockwork__RequestHeaderProto hd = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    hd.has_user_request_id = 1;
    hd.user_request_id = urid;
    Clockwork__LoadModelFromDiskReqProto p = CLOCKWORK__LOAD_MODEL_FROM_DISK_REQ_PROTO__INIT;
    p.header = &hd;
    p.remote_path = (char *)path;
    p.no_of_copies = copies;
    return ch_call(fd, 3, &p.base, r);
}

static inline int ch_ls(int fd, int urid, struct ch_rsp *r)
{
    Clockwork__RequestHeaderProto hd = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    hd.has_user_request_id = 1;
    hd.user_request_id = urid;
    Clockwork__LSReqProto p = CLOCKWORK__LSREQ_PROTO__INIT;
    p.header = &hd;
    return ch_call(fd, 5, &p.base, r);
}

static inline int ch_infer(int fd, int urid, uint32_t model_id, struct ch_rsp *r)
{
    Clockwork__RequestHeaderProto hd = CLOCKWORK__REQUEST_HEADER_PROTO__INIT;
    hd.has_user_request_id = 1;
    hd.user_request_id = urid;
    Clockwork__ModelInferenceReqProto p = CLOCKWORK__MODEL_INFERENCE_REQ_PROTO__INIT;
    p.header = &hd;
    p.model_id = model_id;
    p.batch_size = 1;
    p.slo_factor = 0;
    return ch_call(fd, 2, &p.base, r);
}

/* The usual cluster: two one-GPU workers (pages of page0 and page1 bytes) and the controller;
 * returns a client connection. */
static inline int ch_start(struct ch *h, uint64_t page0, uint64_t page1)
{
    ch_init(h);
    ch_worker_start(h, 0, 1, page0);
    ch_worker_start(h, 1, 1, page1);
    ch_controller_start(h);
    return ch_dial(h);
}

/* Asks LS until the controller serves (start-up over). */
static inline void ch_wait_serving(int fd)
{
    struct ch_rsp r;
    for (int i = 0; i < 1500; i++) {
        assert_int_equal(ch_ls(fd, 0, &r), 0);
        if (r.status == CLIENT_SUCCESS)
            return;
        assert_int_equal(r.status, CLIENT_INITIALIZING);
        usleep(20000);
    }
    fail_msg("the controller never finished starting up");
}

#endif
