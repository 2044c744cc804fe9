/* clockwork-sim's engine: the controller's scheduler (controller/scheduler.h), emulated devices
 * (sim_device.h, the worker's weights-cache rules) and a client workload (the same workload
 * code and request sources as `client`) on one virtual clock and event queue. No sockets, no
 * sleeping; same config + seed give byte-identical telemetry. A process may run many. */
#ifndef CW_SIM_H
#define CW_SIM_H
#include "workload/workloads.h"
#include "controller/scheduler.h"
#include "latency.h"
#include <stdint.h>
#include <stdio.h>

#define SIM_EPOCH_NS 1600000000000000000ULL /* virtual time 0 = 2020-09-13 12:26:40 UTC */
#define SIM_TICK_SCHEDULER UINT64_MAX

/* What each device did, for tests that check the scheduler's properties. */
struct sim_trace {
    unsigned device, worker_id, gpu_id;
    int type; /* SCHED_LOAD_WEIGHTS, SCHED_INFER, SCHED_EVICT_WEIGHTS */
    int status;
    int32_t model_id;
    unsigned batch_size;
    uint64_t earliest, latest, received, start, end;
    unsigned pages_used, pages_total; /* the device's cache right after the action started */
};

struct sim_observer {
    void (*action)(void *data, const struct sim_trace *t);
    void (*response)(void *data, uint64_t request_id, int status);
    void *data;
};

struct sim_config {
    unsigned n_workers, gpus_per_worker;
    uint64_t cache_size, page_size;
    struct sched_config sched;
    struct sim_latency lat;
    uint64_t client_tick_ns; /* the client's timer granularity (live: libuv's 1 ms); 0 (default): exact */
    uint64_t tick_ns;        /* the controller's scheduler tick; 0: exact wake-ups; SIM_TICK_SCHEDULER (default):
                              * the scheduler type's own, as live (INFER5: 1 ms, INFER6: exact) */
    double duration_s;       /* simulated seconds; <= 0: until the workload ends */
    uint64_t seed;           /* 0: the workload's own seeds, as the live client */
    const char *log_dir;     /* telemetry TSVs; NULL: none */
    const char *zoo_dir;     /* NULL: zoo_default_dir() */
    FILE *progress;          /* a line per progress_s simulated seconds; NULL: none */
    double progress_s;
    FILE *out; /* workload messages and the summary; NULL: none */
    struct sim_observer obs;
};

void sim_config_defaults(struct sim_config *c);

struct sim_stats {
    uint64_t events, requests, responses, success, deadline_met, actions;
    uint64_t sim_ns; /* virtual time simulated */
    unsigned devices, models;
};

/* Runs the workload to its end (or duration). 0, or -1 with err. */
int sim_run(const struct sim_config *c, const struct wl_def *def, const struct wl_args *args, struct sim_stats *st,
            char *err, size_t errlen);

#endif
