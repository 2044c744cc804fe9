#include "latency.h"
#include <math.h>

#define US 1000ULL

/* Measured on 127.0.0.1 (Figure 7 configuration, 6 worker_dummy + controller + client on
 * 2 cores): base ~ p10, jitter = mean - base. See docs/simulator.md. */
static const struct sim_delay DEFAULTS[SIM_N_HOPS] = {
    [HOP_CLIENT_TO_CTL] = {.base = 30 * US, .jitter = 80 * US},
    [HOP_CTL_TO_CLIENT] = {.base = 30 * US, .jitter = 80 * US},
    [HOP_CTL_TO_WORKER] = {.base = 55 * US, .jitter = 100 * US},
    [HOP_WORKER_RESULT] = {.base = 105 * US, .jitter = 120 * US},
    [HOP_WORKER_TO_CTL] = {.base = 30 * US, .jitter = 80 * US},
    [HOP_EXEC_TURNAROUND] = {.base = 55 * US, .jitter = 110 * US},
    [HOP_CTL_EVENT] = {.base = 5 * US},
    [HOP_SEND] = {.base = 5 * US},
    [HOP_EXEC_WAKEUP] = {.base = 0},
};

static const char *const NAMES[SIM_N_HOPS] = {
    [HOP_CLIENT_TO_CTL] = "client-ctl", [HOP_CTL_TO_CLIENT] = "ctl-client",
    [HOP_CTL_TO_WORKER] = "ctl-worker", [HOP_WORKER_RESULT] = "worker-result",
    [HOP_WORKER_TO_CTL] = "worker-ctl", [HOP_EXEC_TURNAROUND] = "exec-turnaround",
    [HOP_CTL_EVENT] = "ctl-event",      [HOP_SEND] = "send",
    [HOP_EXEC_WAKEUP] = "exec-wakeup",
};

void sim_latency_defaults(struct sim_latency *l)
{
    for (int i = 0; i < SIM_N_HOPS; i++)
        l->hop[i] = DEFAULTS[i];
    l->exec_noise = 0;
}

const char *sim_hop_name(enum sim_hop h) { return h < SIM_N_HOPS ? NAMES[h] : "?"; }

/* llround for x >= 0 without the library call (several per event): below 2^63 the truncation
 * and the fraction x - trunc(x) are exact, and halves round up as llround rounds them. */
static uint64_t round_nonneg(double x)
{
    if (!(x < 9.2e18))
        return (uint64_t)llround(x);
    uint64_t i = (uint64_t)x;
    return i + (x - (double)i >= 0.5);
}

uint64_t sim_delay_sample(const struct sim_latency *l, enum sim_hop h, struct wl_rng *rng)
{
    const struct sim_delay *d = &l->hop[h];
    uint64_t x = d->base;
    if (d->jitter)
        x += round_nonneg(wl_rng_exponential(rng, (double)d->jitter));
    if (d->tail_prob > 0 && wl_rng_uniform(rng) < d->tail_prob)
        x += round_nonneg(wl_rng_exponential(rng, (double)d->tail));
    return x;
}

/* A standard normal draw (Box-Muller). */
static double normal(struct wl_rng *rng)
{
    double u = 1.0 - wl_rng_uniform(rng), v = wl_rng_uniform(rng);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

uint64_t sim_exec_sample(const struct sim_latency *l, uint64_t duration, struct wl_rng *rng)
{
    if (l->exec_noise <= 0)
        return duration;
    double f = 1.0 + l->exec_noise * normal(rng);
    return (uint64_t)llround((double)duration * (f < 0.5 ? 0.5 : f));
}
