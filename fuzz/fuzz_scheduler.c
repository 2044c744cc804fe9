/* libFuzzer target: event sequences into the INFER5 and INFER6 schedulers and the DIRECT and
 * ECHO test controllers (each input runs through every one) on a fake clock, as the live
 * controller and the simulator drive them: requests (any model id, any slo_factor bits), clock
 * steps with ticks, results of the actions it sent (success with fuzzed timings and outputs,
 * any error status), duplicate and unknown results, workers lost and back, and a final
 * drain. Two workers with two GPUs each, three models. Checked: no action goes to a worker
 * the scheduler was told is lost, every request is answered exactly once, nothing crashes,
 * leaks or overflows (UBSan: a float or a time that overflows aborts). */
#include "common/status.h"
#include "controller/scheduler.h"
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define N_MODELS 3
#define N_WORKERS 2
#define MAX_ACTIONS 512
#define MAX_REQUESTS 4096

struct sent {
    uint64_t id;
    unsigned worker, batch;
    int type, done;
    uint64_t expected_complete;
};

struct host {
    struct scheduler *s;
    uint64_t now;
    struct sent acts[MAX_ACTIONS];
    unsigned n_acts;
    unsigned answered[MAX_REQUESTS];
    unsigned n_requests;
    int lost[N_WORKERS];
    uint8_t output[16 * 8];
};

static void on_send(void *data, const struct sched_action *a)
{
    struct host *h = data;
    if (a->worker_id >= N_WORKERS || h->lost[a->worker_id])
        abort(); /* an action for a lost worker */
    if (h->n_acts < MAX_ACTIONS)
        h->acts[h->n_acts++] = (struct sent){a->id, a->worker_id, a->batch_size, a->type, 0, a->expected_complete};
}

static void on_done(void *data, struct sched_request *r, int status, const char *msg, const uint8_t *out, size_t len)
{
    struct host *h = data;
    (void)status, (void)msg, (void)out, (void)len;
    if (r->id >= h->n_requests || h->answered[r->id]++)
        abort(); /* answered twice */
    free(r);
}

static void on_log_request(void *data, const struct request_row *row) { (void)data, (void)row; }
static void on_log_action(void *data, const struct action_row *row) { (void)data, (void)row; }

static const struct sched_ops ops = {on_send, on_done, on_log_request, on_log_action};

struct reader {
    const uint8_t *p;
    size_t n;
};

static unsigned byte(struct reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t bytes(struct reader *r, int k)
{
    uint64_t v = 0;
    for (int i = 0; i < k; i++)
        v |= (uint64_t)byte(r) << (8 * i);
    return v;
}

static struct scheduler *create(struct host *h, enum sched_type type)
{
    struct sched_model models[N_MODELS];
    struct sched_gpu gpus[2 * N_WORKERS];
    static const unsigned pages[N_MODELS] = {3, 5, 8};
    memset(models, 0, sizeof models);
    for (unsigned i = 0; i < N_MODELS; i++) {
        struct model_info *m = &models[i].info;
        models[i].id = i;
        m->input_size = 8, m->output_size = 8;
        m->num_weights_pages = pages[i];
        m->weights_load_ns = (2 + i) * MS;
        m->n_batch_sizes = 3;
        m->batch_sizes[0] = 1, m->batch_sizes[1] = 4, m->batch_sizes[2] = 16;
        m->exec_ns[0] = (1 + i) * MS, m->exec_ns[1] = (2 + i) * MS, m->exec_ns[2] = (6 + 2 * i) * MS;
    }
    for (unsigned g = 0; g < 2 * N_WORKERS; g++)
        gpus[g] = (struct sched_gpu){.worker_id = g / 2, .gpu_id = g % 2, .total_pages = 10};
    struct sched_config cfg;
    sched_config_defaults(&cfg);
    cfg.type = type;
    return scheduler_create(&cfg, models, N_MODELS, gpus, 2 * N_WORKERS, &ops, h);
}

static void request(struct host *h, struct reader *r)
{
    if (h->n_requests >= MAX_REQUESTS)
        return;
    struct sched_request *q = calloc(1, sizeof *q);
    if (!q)
        abort();
    uint32_t bits = (uint32_t)bytes(r, 4);
    q->id = h->n_requests++;
    q->model_id = byte(r) % (N_MODELS + 1); /* N_MODELS: an unknown model */
    memcpy(&q->slo_factor, &bits, sizeof bits);
    q->arrival = h->now;
    scheduler_on_request(h->s, h->now, q);
}

static void result(struct host *h, struct reader *r, int fail)
{
    if (h->n_acts == 0)
        return;
    struct sent *a = &h->acts[byte(r) % h->n_acts];
    unsigned how = byte(r);
    struct sched_result res = {.action_id = a->id, .received = h->now};
    if (how % 8 == 7)
        res.action_id = bytes(r, 2); /* a result nobody asked for */
    else if (a->done && how % 8 != 6)
        return; /* 6: deliver a duplicate */
    a->done = 1;
    res.status = fail ? (int)(byte(r) % 93) : ACTION_SUCCESS;
    uint64_t begin = h->now - (h->now > 20 * MS ? bytes(r, 2) * 1000 : 0);
    res.worker_exec_begin = begin;
    res.worker_exec_end = begin + bytes(r, 3) * 100;
    res.worker_exec_duration = res.worker_exec_end - begin;
    if (a->type == SCHED_INFER && byte(r) & 1) {
        res.output = h->output;
        res.output_len = a->batch * 8 <= sizeof h->output ? a->batch * 8 : 0;
    }
    scheduler_on_result(h->s, h->now, &res);
}

static void worker_event(struct host *h, struct reader *r)
{
    unsigned w = byte(r) % N_WORKERS;
    if (!h->lost[w]) {
        h->lost[w] = 1;
        scheduler_on_worker_lost(h->s, h->now, w);
        for (unsigned i = 0; i < h->n_acts; i++)
            if (h->acts[i].worker == w)
                h->acts[i].done = 1; /* answered by the scheduler */
    } else {
        h->lost[w] = 0;
        scheduler_on_worker_back(h->s, h->now, w);
    }
}

static void run_events(enum sched_type type, const uint8_t *data, size_t size)
{
    static struct host h;
    memset(&h, 0, sizeof h);
    h.now = 1000 * MS;
    h.s = create(&h, type);
    if (!h.s)
        abort();
    struct reader r = {data, size};
    while (r.n > 0) {
        switch (byte(&r) % 6) {
        case 0: request(&h, &r); break;
        case 1:
            h.now += bytes(&r, 2) * 10000; /* up to 655 ms */
            scheduler_tick(h.s, h.now);
            break;
        case 2: result(&h, &r, 0); break;
        case 3: result(&h, &r, 1); break;
        case 4: worker_event(&h, &r); break;
        default: { /* straight to the scheduler's next wake-up, as the live host's timer */
            uint64_t next = scheduler_next_wakeup(h.s, h.now);
            if (next >= h.now && next - h.now < 3600000 * MS)
                h.now = next + byte(&r);
            scheduler_tick(h.s, h.now);
            break;
        }
        }
    }
    scheduler_drain(h.s, h.now, CLIENT_ERROR);
    for (unsigned i = 0; i < h.n_requests; i++)
        if (h.answered[i] != 1)
            abort(); /* a request left without its one answer */
    scheduler_destroy(h.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum sched_type types[] = {SCHED_TYPE_INFER5, SCHED_TYPE_INFER6, SCHED_TYPE_DIRECT, SCHED_TYPE_ECHO};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        run_events(types[i], data, size);
    return 0;
}
