/* The controller's side of the worker protocol: encodes actions (start-up and scheduler
 * actions) into frames and decodes worker results, mapping worker timestamps into the
 * controller's clock with the connection's skew estimate. */
#ifndef CW_WORKER_LINK_H
#define CW_WORKER_LINK_H
#include "controller/scheduler.h"
#include "model/model_info.h"
#include "net/conn.h"

#define WORKER_MAX_GPUS 64
#define WORKER_MAX_MODELS_LISTED 4096

struct worker_gpu_state {
    unsigned id;
    uint64_t weights_cache_size;
    unsigned total_pages;
    uint64_t io_pool_size, workspace_pool_size;
    unsigned n_models;
    unsigned *models; /* resident model ids, owned */
};

/* A decoded result of any type. */
struct worker_result {
    uint64_t msg_type;
    int action_id;
    int action_type;           /* for errors: the failed action's wire type (1..6) */
    struct sched_result sched; /* status, message, timings (controller clock), output */
    char message[512];
    /* LoadModelFromDisk */
    struct model_info info;
    int copies_created;
    uint64_t duration;
    /* GetWorkerState */
    uint64_t page_size;
    unsigned n_gpus;
    struct worker_gpu_state gpus[WORKER_MAX_GPUS];
};

int worker_send_get_state(struct net_conn *c, int action_id);
int worker_send_clear_cache(struct net_conn *c, int action_id);
/* The worker offers only the batch sizes within limits->max_batch and, above batch 1,
 * limits->max_exec (the original controller sends its max_batch and max_exec options). */
int worker_send_load_model(struct net_conn *c, int action_id, unsigned model_id, const char *path, int copies,
                           const struct sched_config *limits);
/* Encodes a scheduler action; for infers the body is the batch's inputs concatenated. */
int worker_send_sched_action(struct net_conn *c, const struct sched_action *a);

/* Decodes `m` (a result frame). offset = controller clock - worker clock. Returns 0, or -1
 * with a reason in out->message for an unknown type or unparsable header. */
int worker_result_decode(const struct net_msg *m, int64_t offset, struct worker_result *out);
void worker_result_free(struct worker_result *r);

#endif
