/* Worker internals shared by worker.c (lifecycle, network), actions.c (decoding and
 * validation) and results.c (encoding). Everything here is touched by the loop thread only,
 * except done/done_lock which executor threads fill. */
#ifndef CW_WORKER_INTERNAL_H
#define CW_WORKER_INTERNAL_H
#include "common/log.h"
#include "device.h"
#include "driver.h"
#include "net/conn.h"
#include "net/session.h"
#include "registry.h"
#include "task.h"
#include "worker.h"
#include <pthread.h>
#include <uv.h>

struct interval_counts {
    unsigned long long loads, infers, evicts, errors;
};

struct worker {
    struct worker_options opt;
    struct worker_config cfg;
    char host[256];
    char model_dir[4096];
    uv_loop_t loop;
    uv_async_t done_async, stop_async;
    uv_timer_t status_timer;
    uv_signal_t sigint, sigterm;
    struct net_server *server;
    struct device **devices;
    unsigned n_devices;
    struct model_registry registry;
    pthread_mutex_t done_lock;
    struct task_queue done;                /* finished tasks from executor threads */
    struct net_session_list sessions;      /* controller connections; tasks hold a reference */
    struct worker_driver driver;           /* the one session whose actions run */
    struct log_limit refusals;             /* refused connections, which a stranger can cause at will */
    const struct net_session *state_shown; /* whose GetWorkerState was printed in full last */
    uint64_t max_infer_body;               /* the largest Infer body a registered model can need */
    unsigned long long pending;            /* tasks submitted and not yet answered */
    struct interval_counts counts;
    int stopped, loop_ready;
};

/* actions.c: handles one action message; returns 0, or -1 to close the connection. An action
 * from a connection that does not drive the worker is refused and that connection closed. */
int worker_actions_handle(struct worker *w, struct net_session *s, const struct net_msg *m);
/* The largest body an action of this type can carry (net_handlers.max_body_of). */
uint64_t worker_actions_max_body(uint64_t msg_type, void *worker);
/* state.c: GetWorkerState; returns 0, or -1 if the header is unparsable. */
int worker_state_handle(struct worker *w, struct net_session *s, const struct net_msg *m);
/* results.c. action_type is the wire action type (1..6); the error carries the original's
 * 0-based code for it (proto/error_action.h). */
void worker_results_send_error(struct net_session *s, int32_t action_id, int action_type, int status,
                               const char *message, uint64_t action_received);
void worker_results_send_task(struct worker *w, struct net_session *s, struct worker_task *t);

#endif
