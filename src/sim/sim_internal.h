/* State shared by the simulator's modules (not a public header): sim.c (event loop, run),
 * sim_ctl.c (the controller host around the scheduler), sim_client.c (workload builder and
 * request sources), sim_worker.c (worker links and devices). */
#ifndef CW_SIM_INTERNAL_H
#define CW_SIM_INTERNAL_H
#include "workload/sources.h"
#include "workload/zoo.h"
#include "controller/send_queue.h"
#include "controller/telemetry.h"
#include "event_queue.h"
#include "sim.h"
#include "sim_device.h"

enum sim_ev {
    EV_SOURCES,     /* the workload's sources are due */
    EV_STOP,        /* the duration is over */
    EV_CTL_ARRIVE,  /* p: ctl_item reaches the controller */
    EV_CTL_FREE,    /* the controller finished processing an item */
    EV_TICK,        /* scheduler tick */
    EV_SEND_DONE,   /* a send slot frees */
    EV_WORKER_RECV, /* p: sim_task reaches its worker; idx: device */
    EV_DEVICE_WAKE, /* idx: device * 2 + executor */
    EV_CLIENT_RECV, /* p: sim_req's response reaches the client */
};

struct sim_req {
    struct sched_request r;
    unsigned source;
    int status;
};

enum ctl_kind { CTL_REQUEST, CTL_RESULT, CTL_TICK };

struct ctl_item {
    struct ctl_item *next;
    enum ctl_kind kind;
    struct sim_req *req;     /* CTL_REQUEST */
    struct sched_result res; /* CTL_RESULT */
};

struct sim_link {
    uint64_t to_worker_last, to_ctl_last; /* keeps each direction in order, as TCP does */
};

struct sim {
    const struct sim_config *cfg;
    struct event_queue q;
    uint64_t now, t0;
    struct wl_rng rng_net, rng_exec;
    struct sim_stats *st;
    int stopping, failed;
    char *err;
    size_t errlen;

    /* client */
    struct zoo zoo;
    struct wl_sources *src;
    struct wl_emit emit;
    unsigned *target_model; /* target -> model id */
    unsigned n_targets;
    uint64_t pending_sources; /* time of the EV_SOURCES event that counts, UINT64_MAX: none */
    uint64_t sources_woke;    /* when the sources last ran (the client tick counts from there) */
    uint64_t outstanding, next_user_request;

    /* models, shared by the scheduler and the devices */
    struct sched_model *models;
    unsigned n_models, cap_models;

    /* controller */
    struct scheduler *sched;
    struct telemetry_writer *tel;
    struct ctl_item *ctl_head, *ctl_tail;
    int ctl_busy;
    uint64_t ctl_done_at; /* end of the item being processed: when its effects leave */
    uint64_t pending_tick;
    uint64_t tick_ns; /* the tick grid in use (cfg->tick_ns resolved) */
    uint64_t next_request_id;
    struct send_queue sends;
    unsigned sends_in_flight; /* sends holding a slot until their EV_SEND_DONE */

    /* workers */
    struct sim_device *devices;
    unsigned n_devices;
    struct sim_link *links; /* per worker */
    struct sim_device_ops dev_ops;
};

void sim_push(struct sim *s, uint64_t t, unsigned kind, unsigned idx, void *p);
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sim_client.c */
int sim_client_init(struct sim *s);
void sim_client_free(struct sim *s);
void sim_client_builder(struct sim *s, struct wl_builder *b);
void sim_client_start(struct sim *s);
void sim_client_sources_due(struct sim *s, uint64_t t);
void sim_client_response(struct sim *s, struct sim_req *r);
void sim_client_stop(struct sim *s, const char *reason);

/* sim_ctl.c */
int sim_ctl_start(struct sim *s);
void sim_ctl_free(struct sim *s);
void sim_ctl_arrive(struct sim *s, struct ctl_item *it);
void sim_ctl_free_done(struct sim *s);
void sim_ctl_tick_due(struct sim *s, uint64_t t);
void sim_ctl_send_done(struct sim *s);
struct ctl_item *sim_ctl_item(struct sim *s, enum ctl_kind kind);

/* sim_worker.c */
int sim_workers_init(struct sim *s);
void sim_workers_free(struct sim *s);
/* Sends action a from the controller at time t (arrives after the network hop). */
void sim_worker_send(struct sim *s, const struct sched_action *a, uint64_t t);
void sim_worker_recv(struct sim *s, unsigned device, struct sim_task *t);
void sim_free_task(struct sim_task *t);

#endif
