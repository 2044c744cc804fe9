/* State shared by the controller's modules (controller.c: loop, scheduler wiring, status;
 * startup.c: start-up phase; client_link.c: client requests). Not a public header. */
#ifndef CW_CONTROLLER_INTERNAL_H
#define CW_CONTROLLER_INTERNAL_H
#include "controller/frontend.h"
#include "controller/metrics.h"
#include "controller/options.h"
#include "controller/scheduler.h"
#include "controller/send_queue.h"
#include "controller/telemetry.h"
#include "common/log.h"
#include "common/lz4_block.h"
#include "controller/wake_timer.h"
#include "controller/worker_link.h"
#include "net/conn.h"
#include "net/session.h"
#include <uv.h>

struct controller;

struct worker_peer {
    struct controller *ctl;
    unsigned index;
    struct controller_worker_addr addr;
    struct net_conn *conn;
    int connected;
    int lost;
    int state_received;
    struct worker_result state; /* GetWorkerState at start-up */
    unsigned outstanding;       /* actions sent and not yet answered */
    int rejoining;              /* lost, reconnected, models being registered again */
    unsigned failed_connects;   /* consecutive failed connection attempts */
    unsigned rejoin_pending;    /* LoadModelFromDisk results still awaited */
    unsigned rejoin_sent;       /* groups sent so far while rejoining */
    uint64_t last_heard;        /* monotonic ns of the last message from it */
    int state_action_id;        /* the GetWorkerState sent at connect (its reply starts or rejoins) */
    int heartbeat_pending;      /* a heartbeat GetWorkerState is unanswered */
    uint64_t hb_msgs, hb_since; /* messages sent to it, and since when that count is unchanged */
    uv_timer_t retry_timer;
};

/* An inference request from a native client or a front end. Whoever made it fills r and
 * answer; from controller_infer on, the controller owns it (and r.input, malloc'd) and calls
 * answer exactly once, then frees both. */
struct ctl_request {
    struct sched_request r;
    void (*answer)(struct ctl_request *req, int status, const char *message, const uint8_t *output, size_t output_len);
    uint64_t msg_id;                /* native: the client's message id */
    struct net_session *session;    /* native: the client's connection; the request holds a reference */
    controller_answer_fn fe_answer; /* front end: its callback and data */
    void *fe_data;
};

/* A LoadModel forwarded to every worker: a client's during start-up, or a front end's (start-up
 * or serving). While serving it goes to the workers in service; a lost one gets it when it rejoins. */
struct pending_load {
    struct pending_load *next;
    struct net_session *session; /* holds a reference; the reply is dropped if it closed; NULL: the
                                  * controller's own (options.preload_path) or a front end's */
    uint64_t msg_id;
    int user_request_id;
    controller_load_fn fe_done; /* a front end's: called exactly once */
    void *fe_data;
    char path[512];
    int copies;
    unsigned first_model_id;
    int sent;
    unsigned responses, expected;
    uint8_t awaiting[CONTROLLER_MAX_WORKERS]; /* sent to that worker, not answered yet */
    int failed;
    char error[1100];
    struct model_info info;
    int copies_created;
};

/* One LoadModel of start-up: models first..first+copies-1 from path (replayed on rejoin). */
struct load_group {
    unsigned first;
    int copies;
    char path[512];
};

/* Start-up stages, numbered as the original's log lines "(Startup-N)". */
enum startup_stage {
    STARTUP_NOT_BEGUN = 0,
    STARTUP_QUERYING_WORKERS = 2, /* GetWorkerState sent to every worker */
    STARTUP_AWAITING_LOADS = 3,   /* every worker answered; waiting for clients' LoadModel */
    STARTUP_LOADING_MODELS = 4,   /* the first LoadModel went out to the workers */
};

struct client_stats {
    uint64_t count, success, lat_min, lat_max, lat_sum;
};

struct controller {
    const struct controller_options *opts;
    uv_loop_t loop;
    uv_timer_t tick_timer, status_timer, quiet_timer;
    struct wake_timer wake; /* schedulers without a periodic tick (INFER6): exactly at their wake-ups */
    int precise_wake;
    uint64_t tick_ms;          /* the TYPE's tick period, when it has one */
    uint64_t tick_sleep_until; /* the periodic tick skips ticks until then (CLOCK_REALTIME ns); 0: ticking */
    uv_signal_t sigint, sigterm;
    struct net_server *client_server;
    struct net_session_list sessions; /* client connections */
    struct worker_peer *workers;
    unsigned n_workers;
    struct telemetry_writer *telemetry;
    uint64_t max_infer_body;          /* the largest inference body a loaded model can need */
    uint64_t queued_bytes;            /* requests held (CLOCKWORK_MAX_QUEUED_MB) */
    struct log_limit refusal_log;     /* refused requests, connections: a peer can cause them at will */
    struct lz4_block_memo input_memo; /* inputs that passed the edge check lately */
    struct log_limit connection_log;
    struct controller_metrics metrics;
    const struct controller_frontend *frontend; /* NULL: none (controller_run) */
    void *frontend_state;

    /* start-up */
    int serving; /* 0 during start-up, 1 once the scheduler runs */
    int stopping;
    int exit_code; /* of controller_run */
    enum startup_stage startup_stage;
    uint64_t page_size;
    struct sched_model *models;
    uint8_t *model_state; /* enum controller_model_state, per model */
    unsigned n_models, cap_models;
    struct load_group *groups;
    unsigned n_groups, cap_groups;
    struct pending_load *loads_head, *loads_tail;
    int next_action_id;

    /* serving */
    struct scheduler *sched;
    uint64_t next_request_id;
    struct send_queue sends;
    struct client_stats cstats;
    uint64_t net_prev_bytes_sent, net_prev_msgs_sent, net_prev_bytes_recv, net_prev_msgs_recv;
};

/* startup.c */
void startup_begin(struct controller *ctl);
void startup_on_worker_state(struct controller *ctl, struct worker_peer *w);
/* s: the client's session, or NULL for the controller's own preload. */
void startup_on_load_model_request(struct controller *ctl, struct net_session *s, uint64_t msg_id, int user_request_id,
                                   const char *path, int copies);
void startup_on_load_model_result(struct controller *ctl, struct worker_peer *w, struct worker_result *r);
/* A front end's load (start-up or serving): done is called exactly once. */
void startup_load_for_frontend(struct controller *ctl, const char *path, int copies, controller_load_fn done,
                               void *data);
/* A worker went away: a load it has not answered stops waiting for it. */
void startup_on_worker_lost(struct controller *ctl, struct worker_peer *w);
/* Drops pending LoadModel requests, answering front ends' (shutdown). */
void startup_free(struct controller *ctl);
/* After start-up: finds `copies` consecutive models loaded from `path` (so a client that
 * reconnects can rerun its workload). 0 with *first set, or -1. */
int startup_find_loaded(const struct controller *ctl, const char *path, int copies, unsigned *first);

/* client_link.c */
int client_link_start(struct controller *ctl, char *err, size_t errlen);
/* Handles one message from a client session: 0, or -1 to close the connection (logged). */
int client_link_handle(struct controller *ctl, struct net_session *s, const struct net_msg *m);
/* The native answer of an inference request (ctl_request.answer). */
void client_answer_infer(struct ctl_request *req, int status, const char *message, const uint8_t *output,
                         size_t output_len);
void client_send_load_model_response(struct net_session *s, uint64_t msg_id, int user_request_id, int status,
                                     const char *message, unsigned model_id, const struct model_info *info, int copies);
/* Stops listening and closes every client connection (shutdown). */
void client_link_stop(struct controller *ctl);
/* A model was registered: inference bodies may now be as large as its compressed input. */
void client_link_model_added(struct controller *ctl, const struct model_info *m);

/* worker_rejoin.c: a lost worker that reconnects gets its models registered again and its
 * GPUs handed back to the scheduler. */
void rejoin_begin(struct controller *ctl, struct worker_peer *w, const struct worker_result *state);
void rejoin_on_load_result(struct controller *ctl, struct worker_peer *w, const struct worker_result *r);

/* controller.c. controller_run is create, open telemetry, run the loop, destroy; the fuzzer
 * drives a created controller's handlers without running its loop. */
struct controller *controller_create(const struct controller_options *opts);
/* Answers what is pending, closes every connection and frees everything. */
void controller_destroy(struct controller *ctl);
void controller_start_serving(struct controller *ctl);
/* The single entry of every inference request, native or a front end's: refused at once
 * (answered through req->answer) or handed to the scheduler. Takes ownership of req. */
void controller_infer(struct controller *ctl, struct ctl_request *req);
void controller_submit_request(struct controller *ctl, struct ctl_request *req);
void controller_pump(struct controller *ctl);

#endif
