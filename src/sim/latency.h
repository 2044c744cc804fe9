/* The simulator's overhead model: each network hop and host overhead is a fixed base plus an
 * exponentially distributed jitter (mean `jitter`), drawn from one seeded generator, and the
 * optional relative noise on execution times. Defaults are measured from live loopback runs
 * (docs/simulator.md). */
#ifndef CW_SIM_LATENCY_H
#define CW_SIM_LATENCY_H
#include "workload/gen.h"
#include <stdint.h>

/* base + Exp(jitter), plus, with probability tail_prob, Exp(tail): the rare stall a loaded
 * machine adds (0 by default). */
struct sim_delay {
    uint64_t base, jitter; /* ns */
    uint64_t tail;         /* ns, mean of the stall */
    double tail_prob;
};

enum sim_hop {
    HOP_CLIENT_TO_CTL,   /* request: client send -> controller receive */
    HOP_CTL_TO_CLIENT,   /* response: controller -> client */
    HOP_CTL_TO_WORKER,   /* action: controller send -> worker action_received */
    HOP_WORKER_RESULT,   /* worker: action end -> result_sent */
    HOP_WORKER_TO_CTL,   /* result: worker result_sent -> controller receive */
    HOP_EXEC_TURNAROUND, /* an executor: one action's end -> ready for the next */
    HOP_CTL_EVENT,       /* controller processing time per event (request, result, tick) */
    HOP_SEND,            /* how long one action send occupies one of the 2 send slots */
    HOP_EXEC_WAKEUP,     /* an idle executor: action received -> started (its thread wakes up) */
    SIM_N_HOPS
};

struct sim_latency {
    struct sim_delay hop[SIM_N_HOPS];
    double exec_noise; /* relative standard deviation of infer exec times (0: exact profile) */
};

void sim_latency_defaults(struct sim_latency *l);
const char *sim_hop_name(enum sim_hop h);
/* A draw of hop h. */
uint64_t sim_delay_sample(const struct sim_latency *l, enum sim_hop h, struct wl_rng *rng);
/* duration scaled by the exec noise (never below half of it). */
uint64_t sim_exec_sample(const struct sim_latency *l, uint64_t duration, struct wl_rng *rng);

#endif
