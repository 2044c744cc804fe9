/* Scheduler interface: a pure state machine. It never reads a clock or touches a socket:
 * the host (live controller or simulator) feeds it `now` and events, and it acts only
 * through the ops table. The same code runs live and in virtual time. */
#ifndef CW_SCHEDULER_H
#define CW_SCHEDULER_H
#include "controller/telemetry.h"
#include "model/model_info.h"
#include <stddef.h>
#include <stdint.h>

struct scheduler;

/* What runs the controller's serving phase (its TYPE on the command line): a scheduler (the
 * Clockwork scheduler INFER5 or our INFER6), or one of the original's test controllers
 * (src/controller/test_controllers/). */
enum sched_type {
    SCHED_TYPE_INFER5 = 0, /* the Clockwork scheduler (infer5/), the default */
    SCHED_TYPE_ECHO,       /* answers every inference at once, no worker involved */
    SCHED_TYPE_DIRECT,     /* forwards each inference to a GPU, no scheduling */
    SCHED_TYPE_STRESS,     /* keeps every GPU loading, evicting and inferring; no clients */
    SCHED_TYPE_INFER6,     /* just-in-time placement for tight SLOs and overload (infer6/) */
};
/* 0 with *type set if name is a TYPE (INFER5, INFER4, INFER6, ECHO, DIRECT, STRESS), else -1. */
int sched_type_parse(const char *name, enum sched_type *type);
const char *sched_type_name(enum sched_type type);
/* 1 for a scheduler (INFER5, INFER6), 0 for a test controller of the original (ECHO, DIRECT,
 * STRESS: they exercise the live paths and have nothing to simulate). */
int sched_type_is_scheduler(enum sched_type type);
/* How the host drives this TYPE's ticks: > 0, call scheduler_tick on that period (INFER5 and
 * the test controllers: 1 ms, as the original); 0, call it exactly at each scheduler_next_wakeup. */
uint64_t sched_type_tick_ns(enum sched_type type);

/* STRESS's options; 0 means the default of each. */
struct sched_stress_config {
    unsigned max_models_on_gpu; /* default 200, fewer if the GPU's pages do not hold them */
    unsigned max_outstanding;   /* LoadWeights and Infer in flight per GPU, each (default 2) */
    int no_infer, no_load;      /* 1: no Infer / no LoadWeights-EvictWeights churn */
};

struct sched_config {
    enum sched_type type;       /* default INFER5 */
    uint64_t default_slo;       /* ns, default 100 ms */
    uint64_t schedule_ahead;    /* ns, default 10 ms */
    uint64_t latest_delta;      /* ns, default 10 ms */
    uint64_t max_exec;          /* ns, default 25 ms: batch sizes > 1 slower than this are not used */
    unsigned max_batch;         /* default 16 */
    uint64_t buffer;            /* ns, default 5 ms safety margin */
    unsigned estimate_window;   /* default 10 */
    double estimate_percentile; /* default 0.99 */
    int generate_inputs;        /* ask workers to generate inputs when a request has none */
    unsigned max_gpus;          /* default 100 */
    int full_ticks;             /* tests: INFER5 runs every part of every tick, even provably idle ones */
    struct sched_stress_config stress;
};
void sched_config_defaults(struct sched_config *c);

struct sched_model {
    unsigned id; /* global model id, dense from 0 */
    struct model_info info;
};

struct sched_gpu {
    unsigned worker_id;
    unsigned gpu_id;
    unsigned total_pages;
    unsigned n_loaded;
    const unsigned *loaded_models; /* models resident at start-up */
};

/* A client's inference request. The host allocates it; the scheduler holds it until it
 * hands it back through ops->request_done (exactly once), after which the host frees it. */
struct sched_request {
    uint64_t id; /* controller-wide request id */
    int user_id;
    int user_request_id;
    unsigned model_id;
    float slo_factor;
    uint64_t arrival; /* controller clock, ns */
    void *input;      /* LZ4-compressed input, may be NULL/0 */
    size_t input_len;
    void *host_ctx; /* host's handle on the client connection */
    /* set by the scheduler */
    uint64_t deadline;
    int is_coldstart;
    uint64_t arrival_count;
    void *sched_priv;
};

enum sched_action_type { SCHED_LOAD_WEIGHTS = 2, SCHED_INFER = 3, SCHED_EVICT_WEIGHTS = 4 };

/* An action the scheduler wants sent. Valid only during ops->send_action. */
struct sched_action {
    uint64_t id;
    enum sched_action_type type;
    unsigned worker_id;
    unsigned gpu_id;
    unsigned model_id;
    unsigned batch_size;                   /* infer: padded batch size */
    unsigned n_requests;                   /* infer: requests in the batch (<= batch_size) */
    struct sched_request *const *requests; /* infer */
    uint64_t earliest, latest;             /* controller clock */
    uint64_t expected_duration;
    uint64_t expected_complete; /* controller clock */
    uint64_t send_by;           /* controller clock: if the host cannot start sending
                                 * by then, it fails the action locally with
                                 * ACTION_NETWORK_SEND_TOO_LATE; UINT64_MAX = no limit */
};

/* An action's outcome, all times already mapped into the controller clock. */
struct sched_result {
    uint64_t action_id;
    int status; /* 0 success, else worker / local error code */
    const char *message;
    uint64_t worker_exec_begin, worker_exec_end, worker_exec_duration; /* infer exec / load timing */
    uint64_t worker_copy_output_complete;
    uint64_t worker_action_received, worker_result_sent;
    unsigned gpu_clock_before, gpu_clock;
    uint64_t received;     /* controller clock when the result arrived */
    const uint8_t *output; /* infer: batch_size x output_size bytes, or NULL */
    size_t output_len;
};

/* Hosts must not call back into the scheduler from inside these callbacks (deliver a
 * local failure later, e.g. from the event loop). */
struct sched_ops {
    /* Send an action to worker a->worker_id. The host may fail it later by calling
     * scheduler_on_result with ACTION_NETWORK_SEND_TOO_LATE. */
    void (*send_action)(void *data, const struct sched_action *a);
    /* Hand a request back: status is a client status code; output may be NULL. */
    void (*request_done)(void *data, struct sched_request *r, int status, const char *message, const uint8_t *output,
                         size_t output_len);
    void (*log_request)(void *data, const struct request_row *row);
    void (*log_action)(void *data, const struct action_row *row);
};

struct scheduler *scheduler_create(const struct sched_config *cfg, const struct sched_model *models, unsigned n_models,
                                   const struct sched_gpu *gpus, unsigned n_gpus, const struct sched_ops *ops,
                                   void *data);
void scheduler_destroy(struct scheduler *s); /* answers nothing; host must drain first */

void scheduler_on_request(struct scheduler *s, uint64_t now, struct sched_request *r);
void scheduler_on_result(struct scheduler *s, uint64_t now, const struct sched_result *res);
/* Runs timeouts and the per-GPU infer/load scheduling loops. */
void scheduler_tick(struct scheduler *s, uint64_t now);
/* Earliest time at which a tick would do something (host arms a timer for it). */
uint64_t scheduler_next_wakeup(const struct scheduler *s, uint64_t now);
/* For a host that ticks on a period (INFER5, the test controllers): the earliest time a tick could
 * act; every tick before it would change nothing, until the next event (`now` where the TYPE
 * cannot tell). Unlike scheduler_next_wakeup this counts all a periodic tick may do. */
uint64_t scheduler_next_tick(const struct scheduler *s, uint64_t now);
/* A worker is gone: fail its outstanding actions (their requests answered with an error)
 * and stop scheduling on its GPUs. */
void scheduler_on_worker_lost(struct scheduler *s, uint64_t now, unsigned worker_id);
/* A lost worker is back with the same GPUs, its models registered again and its weights
 * cache empty: schedule on its GPUs again. */
void scheduler_on_worker_back(struct scheduler *s, uint64_t now, unsigned worker_id);
/* Answers every queued and in-flight request with `status` (shutdown); results that
 * arrive afterwards for those actions are ignored. */
void scheduler_drain(struct scheduler *s, uint64_t now, int status);

/* Changing the models while serving (the HTTP model repository). Optional: a TYPE without
 * them answers -1 and nothing changes; scheduler_models_changeable says which.
 * add_models: models registered on every worker after start-up (ids not known yet) join.
 * set_model_serving(0), "unload": the model takes no new request (answered with
 * CLIENT_INVALID_REQUEST), its queued requests are answered at once with CLIENT_ERROR, its
 * batches in flight complete as usual, and its GPU copies, idle from then on, are the first
 * evicted when a GPU needs pages. set_model_serving(1) serves it again. */
int scheduler_models_changeable(const struct scheduler *s);
int scheduler_add_models(struct scheduler *s, uint64_t now, const struct sched_model *models, unsigned n_models);
int scheduler_set_model_serving(struct scheduler *s, uint64_t now, unsigned model_id, int serving);

/* Counters for the periodic status line. */
struct sched_gpu_stats {
    unsigned worker_id, gpu_id;
    uint64_t infer_count, infer_busy_ns, load_count;
    uint64_t infer_errors, load_errors;                      /* failed actions (filled by the test controllers) */
    uint64_t infer_exec_min, infer_exec_max, infer_exec_sum; /* worker exec durations */
    uint64_t infer_e2e_sum, infer_e2e_max;                   /* send to result received */
    uint64_t load_exec_min, load_exec_max, load_exec_sum, load_e2e_sum, load_e2e_max;
};
/* Copies per-GPU stats accumulated since the last call into out (n_gpus entries) and resets them. */
unsigned scheduler_take_stats(struct scheduler *s, struct sched_gpu_stats *out, unsigned max);
unsigned scheduler_gpu_count(const struct scheduler *s);

#endif
