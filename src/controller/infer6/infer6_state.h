/* INFER6 scheduler internals shared by its modules (infer6_scheduler.c: admission, drops,
 * wake-ups, worker loss; infer6_place.c: just-in-time infer placement; infer6_load.c:
 * weights loads and evictions; infer6_results.c: results and telemetry).
 *
 * Every per-event cost is O(log n) or amortised O(1) in GPUs and models, except where it is
 * per copy of the one model concerned: GPUs wait in heaps keyed by when they next need a
 * decision (infer) or can take a load (those due since the last load pass by tracker load,
 * re-keyed lazily just before a pass, so a pass takes only the GPUs it offers); each GPU keeps its resident models in a
 * heap by urgency and its evictable ones in an LRU list; queued requests wait in a heap by the time they become
 * hopeless. Nothing scans all GPUs x models. */
#ifndef CW_INFER6_STATE_H
#define CW_INFER6_STATE_H
#include "controller/infer5/action_table.h"
#include "controller/infer5/estimates.h"
#include "controller/infer5/idheap.h"
#include "controller/infer5/load_tracker.h"
#include "controller/infer5/model_queue.h"
#include "controller/infer6/lags.h"
#include "controller/sched_impl.h"

#define I6_IDLE UINT64_MAX        /* heap key: nothing to do */
#define I6_MAX_LOADS 2            /* outstanding LoadWeights per GPU */
#define I6_LOAD_MARGIN 1000000ULL /* a loading copy takes infers this long after its predicted end */

/* A model resident (or loading) on a GPU. */
struct i6_instance {
    unsigned model, gpu;
    int loaded;             /* 0 while its LoadWeights is outstanding */
    uint64_t load_complete; /* predicted, while loading */
    unsigned heap_pos;      /* in its GPU's urgency heap */
    unsigned gpu_slot, model_slot;
    unsigned inflight; /* infers outstanding on it */
    struct i6_instance *lru_prev, *lru_next;
    int in_lru; /* evictable: loaded, idle, and its model without demand or
                 * with another copy loaded */
};

/* Laid out for the cache: what every request touches first, then the estimates, whose
 * current values lead their struct and whose sample windows (kilobytes, read only when a
 * result comes) trail it, so the hot part of a model spans a few adjacent lines. */
struct i6_model {
    int known; /* ids the host did not describe are rejected */
    unsigned pages;
    uint64_t output_size;
    struct i6_instance **inst;
    unsigned n_inst, cap_inst, n_loaded;
    uint64_t arrivals, departures;
    struct idheap_key urgency; /* its key in its GPUs' heaps; hi = I6_IDLE when nothing queued */
    struct model_queue q;      /* its queued requests, a virtual queue per batch size */
    struct model_estimates est;
};

/* An outstanding action; infers also sit in their GPU's FIFO (the worker runs them in order). */
struct i6_action {
    uint64_t id;
    enum sched_action_type type;
    unsigned gpu, model, v, batch_size, n_req;
    uint64_t sent, earliest, latest, expected_duration, expected_complete;
    struct i6_instance *inst;
    struct i6_action *exec_next;
    struct sched_request *reqs[]; /* infer: the batch */
};

struct i6_gpu {
    unsigned worker_id, gpu_id, total_pages, free_pages, evictable_pages;
    int alive;
    uint64_t exec_anchor; /* last known end on its exec executor (0: none) */
    uint64_t exec_free;   /* predicted: when its exec executor can start the next infer */
    uint64_t load_free;   /* predicted: when its load executor is free */
    unsigned infers_inflight, loads_inflight;
    struct i6_action *exec_head, *exec_tail; /* outstanding infers, in the order sent */
    struct idheap urgency;                   /* resident instances by their model's urgency */
    struct i6_instance **res;
    unsigned n_res, cap_res;
    struct i6_instance *lru_head, *lru_tail; /* evictable instances, least recent first */
    unsigned wake_pos, load_pos;             /* in the scheduler's wake heaps */
    unsigned ready_pos;                      /* in the scheduler's heap of GPUs due since the last load pass */
    int load_dirty;                          /* in load_ready with a stale key: re-key before a pass */
    int fits_some, open;                     /* counted in n_fit / n_open */
    unsigned roomy_pos;                      /* in the scheduler's heap by free pages */
    unsigned last_clock;
    struct sched_gpu_stats stats;
};

/* A GPU that came due since the last load pass, to order by load. */
struct i6_due {
    uint64_t load, since; /* since: when it came due (its load wake-up) */
    unsigned pos, gpu;    /* pos: the order it came due in */
};

struct infer6 {
    struct sched_head head; /* first: the dispatcher's view */
    struct sched_config cfg;
    struct sched_ops ops;
    void *data;
    struct i6_model *models;
    unsigned n_models;
    struct i6_gpu *gpus;
    unsigned n_gpus;
    struct load_tracker *lt;
    struct lags lags;
    struct idheap drops;      /* queued requests by when they can no longer make it */
    struct idheap wakes;      /* GPUs by when their next infer must be decided */
    struct idheap load_wakes; /* GPUs by when their load executor can take a load (set since the last pass) */
    struct idheap load_ready; /* GPUs due at the last load pass and still due, by tracker load */
    uint64_t last_pass;       /* when the last load pass ran: load_ready's GPUs all came due then */
    unsigned min_pages;       /* of the smallest known model */
    unsigned n_fit;           /* live GPUs with room (free + evictable) for the smallest model */
    unsigned n_open;          /* those of them under the load tracker's capacity */
    struct idheap roomy;      /* live GPUs, most free pages first (spare copies go there) */
    unsigned n_alive;
    struct action_table actions;
    uint64_t next_action_id;
    int loads_stuck; /* the last load pass placed nothing: wait for an event */
    int unknown_result_logged;
    unsigned max_req;    /* largest usable batch size of any model */
    struct qreq **batch; /* scratch, max_req entries */
    unsigned *scratch;   /* the GPUs a load pass took from load_ready, n_gpus entries */
    unsigned *dirty;     /* GPUs of load_ready whose load moved since the last pass, n_gpus entries */
    unsigned n_dirty;
    struct i6_due *due; /* the GPUs newly due in a load pass, n_gpus entries */
};

static inline uint64_t i6_max(uint64_t a, uint64_t b) { return a > b ? a : b; }
static inline uint64_t i6_min(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* infer6_scheduler.c */
void i6_answer(struct infer6 *s, uint64_t now, struct qreq *q, int status, const char *msg, const uint8_t *out,
               size_t out_len, int *met);
/* Answers a queued request with a timeout (it leaves its model's queue first). */
void i6_drop(struct infer6 *s, uint64_t now, struct qreq *q, const char *msg);
/* The model's queue changed: re-key it on every GPU holding it. */
void i6_model_touch(struct infer6 *s, unsigned model);
struct i6_action *i6_action_new(struct infer6 *s, enum sched_action_type type, unsigned gpu, unsigned model,
                                uint64_t now);
void i6_action_free(struct i6_action *a);

/* infer6_place.c */
/* Decides the GPU's next infer if it is due (its predicted free time minus the dispatch lag
 * has come), and re-arms its wake-up. */
void i6_place(struct infer6 *s, unsigned g, uint64_t now);
/* Places on every GPU holding the model whose decision is due. */
void i6_place_model(struct infer6 *s, unsigned model, uint64_t now);
/* Recomputes the GPU's predicted free time from its last known end and outstanding infers. */
void i6_replan(struct infer6 *s, struct i6_gpu *g);
void i6_exec_remove(struct i6_gpu *g, struct i6_action *a);
uint64_t i6_usable_from(const struct i6_instance *inst);

/* infer6_load.c */
struct i6_instance *i6_instance_add(struct infer6 *s, unsigned g, unsigned m, int loaded);
void i6_instance_loaded(struct infer6 *s, struct i6_instance *inst);
void i6_instance_remove(struct infer6 *s, struct i6_instance *inst);
/* Re-evaluates whether the instance may be evicted (after inflight, loaded or demand change). */
void i6_lru_update(struct infer6 *s, struct i6_instance *inst);
/* Keeps the load tracker's demand and the evictable lists in step. */
void i6_demand_add(struct infer6 *s, unsigned model, uint64_t d);
void i6_demand_remove(struct infer6 *s, unsigned model, uint64_t d);
void i6_load_set_wake(struct infer6 *s, unsigned g, uint64_t now);
/* The GPU takes no loads any more (worker lost). */
void i6_load_unwake(struct infer6 *s, unsigned g);
/* The load tracker's watcher: recounts room and marks the GPU for re-keying in load_ready. */
void i6_load_moved(void *data, unsigned g, uint64_t load);
/* Offers the wanted models to the GPUs whose load executor is due, least loaded first. */
void i6_schedule_loads(struct infer6 *s, uint64_t now);
/* The model has requests waiting and no copy free to take them: if a GPU has room for one
 * more copy without evicting anything, load it there (free memory is free capacity). */
void i6_replicate(struct infer6 *s, unsigned model, uint64_t now);
/* The GPU's free pages or liveness changed: re-key it in the roomy heap. */
void i6_roomy_update(struct infer6 *s, unsigned g);
/* The GPU's free or evictable pages, liveness or load changed: recount n_fit and n_open. */
void i6_room_update(struct infer6 *s, unsigned g);

/* infer6_results.c */
void i6_result(struct infer6 *s, uint64_t now, struct i6_action *a, const struct sched_result *res);
/* An action that will never report back (worker lost, shutdown). */
void i6_result_fail(struct infer6 *s, uint64_t now, struct i6_action *a, int status, int client_status,
                    const char *msg);

#endif
