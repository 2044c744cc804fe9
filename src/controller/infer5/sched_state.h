/* INFER5 scheduler internals shared by its modules: models with their queues and
 * estimates, GPUs with their infer and load timelines, model instances (a model resident
 * or loading on a GPU) and records of outstanding actions. */
#ifndef CW_INFER5_SCHED_STATE_H
#define CW_INFER5_SCHED_STATE_H
#include "controller/infer5/action_table.h"
#include "controller/infer5/estimates.h"
#include "controller/infer5/gpu_wake.h"
#include "controller/infer5/idheap.h"
#include "controller/infer5/load_slots.h"
#include "controller/infer5/load_tracker.h"
#include "controller/infer5/model_queue.h"
#include "controller/sched_impl.h"
#include "controller/scheduler.h"

#define SCHED_NET_LAG 1000000ULL     /* expected delay before an action reaches a worker */
#define SCHED_SEND_MARGIN 5000000ULL /* send an infer at least this long before `latest` */
#define SCHED_MAX_LOADS 2            /* outstanding LoadWeights per GPU */
#define SCHED_IDLE UINT64_MAX        /* urgency of a model with nothing queued */

struct infer5_instance {
    unsigned model, gpu;
    int loaded;             /* 0 while its LoadWeights is outstanding */
    uint64_t load_complete; /* predicted, while loading */
    unsigned heap_pos;      /* in its GPU's urgency heap */
    unsigned gpu_slot;      /* index in its GPU's resident list */
    unsigned inflight;      /* infer actions outstanding */
    uint64_t last_used;     /* LRU stamp */
};

struct infer5_model {
    int known;    /* ids the host did not describe are rejected */
    int unloaded; /* takes no requests; its copies are evicted first (scheduler_set_model_serving) */
    unsigned pages;
    uint64_t output_size;
    struct model_queue q;
    struct infer5_instance **inst;
    unsigned n_inst, cap_inst;
    unsigned n_loaded;
    uint64_t arrivals, departures;
    struct idheap_key urgency;  /* most urgent strategy; hi = SCHED_IDLE when none */
    struct model_estimates est; /* its samples apart: a model is a few cache lines */
};

struct infer5_gpu {
    unsigned worker_id, gpu_id, total_pages, free_pages;
    int alive;
    uint64_t exec_free, load_free;  /* predicted time each executor becomes free */
    int64_t exec_shift, load_shift; /* corrections results made to each, summed (results.c) */
    unsigned infers_inflight, loads_inflight;
    struct idheap urgency; /* its instances, keyed by their model's urgency */
    struct infer5_instance **res;
    unsigned n_res, cap_res;
    uint64_t infer_wake; /* when its infer loop may next act */
    unsigned last_clock;
    struct sched_gpu_stats stats;
};

struct action_rec {
    uint64_t id;
    enum sched_action_type type;
    unsigned gpu, model, v, batch_size, n_req;
    uint64_t sent, earliest, latest, expected_duration, expected_complete;
    int64_t shift; /* its executor's correction sum when it was planned */
    struct infer5_instance *inst;
    struct action_rec *next_free;
    struct sched_request *reqs[]; /* infer: the batch */
};

struct scheduler {
    struct sched_head head; /* first: the dispatcher's (controller/sched_impl.h) */
    struct sched_config cfg;
    struct sched_ops ops;
    void *data;
    struct infer5_model *models;
    unsigned n_models;
    struct infer5_gpu *gpus;
    unsigned n_gpus;
    struct load_tracker *lt;
    struct idheap timeouts; /* queued requests by target */
    struct action_table actions;
    uint64_t next_action_id, use_seq;
    int loads_stuck; /* last load pass placed nothing; wait for an event */
    /* Events taken, actions sent and requests answered so far: the state a load pass reads
     * changes only with one of them (or with time, through which GPUs it may offer). */
    uint64_t changes;
    /* The last load pass placed nothing and changed nothing (no priority refreshed): until
     * `changes` moves on or another GPU becomes offerable, a pass would do the same. */
    int idle_pass;
    uint64_t idle_pass_changes, idle_pass_refreshes;
    int unknown_result_logged;
    unsigned max_req;    /* largest usable batch size of any model */
    struct qreq **batch; /* scratch, max_req entries */
    struct qreq *free_qreqs;
    void **chunks; /* pool allocations, freed at destroy */
    unsigned n_chunks, cap_chunks;
    struct action_rec *free_actions;
    struct gpu_wake wake;    /* GPUs whose infer loop a tick must run */
    struct load_slots slots; /* GPUs that can take a load, least loaded first */
};

/* infer5_scheduler.c */
struct qreq *sched_qreq_of(struct sched_request *r);
void sched_answer(struct scheduler *s, uint64_t now, struct qreq *q, int status, const char *msg, const uint8_t *out,
                  size_t out_len, int *met);
void sched_timeout_queued(struct scheduler *s, uint64_t now, struct qreq *q, const char *msg);
void sched_answer_queued(struct scheduler *s, uint64_t now, struct qreq *q, int status, const char *msg);
void sched_model_touch(struct scheduler *s, unsigned m);
void sched_instance_remove(struct scheduler *s, struct infer5_instance *inst);
struct action_rec *sched_action_new(struct scheduler *s, enum sched_action_type type, unsigned gpu, unsigned model,
                                    uint64_t now);
void sched_action_free(struct scheduler *s, struct action_rec *a);

/* gpu_schedule.c */
void gpu_schedule_infer(struct scheduler *s, unsigned g, uint64_t now);
void gpu_schedule_load(struct scheduler *s, unsigned g, uint64_t now);
void schedule_loads(struct scheduler *s, uint64_t now);
/* The earliest time a tick's load pass could act (now if it may at once, SCHED_IDLE if only after an event). */
uint64_t schedule_loads_next(const struct scheduler *s, uint64_t now);
void gpus_schedule_infer_due(struct scheduler *s, uint64_t now);
/* Tells s->slots whether and from when GPU g can take a load (after its load state changed). */
void gpu_load_slot_sync(struct scheduler *s, unsigned g);
struct infer5_instance *gpu_add_instance(struct scheduler *s, unsigned g, unsigned m, int loaded);

/* results.c */
void infer5_results_handle(struct scheduler *s, uint64_t now, struct action_rec *a, const struct sched_result *res);
void infer5_results_fail(struct scheduler *s, uint64_t now, struct action_rec *a, int status, int client_status,
                         const char *msg);

#endif
