#include "controller/infer6/lags.h"
#include <string.h>

#define LAG_WINDOW 64            /* samples per kind */
#define LAG_REFRESH 8            /* recompute the quantiles after this many new samples */
#define LAG_STALE_NS 50000000ULL /* 50 ms without a sample */
#define US 1000ULL

/* Before any measurement: what a loopback cluster shows (docs/simulator.md). */
static const uint64_t DEFAULT_LOW[LAG_KINDS] = {
    [LAG_DISPATCH] = 70 * US, [LAG_POST] = 170 * US, [LAG_TURNAROUND] = 70 * US};
static const uint64_t DEFAULT_TYPICAL[LAG_KINDS] = {
    [LAG_DISPATCH] = 130 * US, [LAG_POST] = 300 * US, [LAG_TURNAROUND] = 130 * US};
static const uint64_t DEFAULT_HIGH[LAG_KINDS] = {
    [LAG_DISPATCH] = 300 * US, [LAG_POST] = 550 * US, [LAG_TURNAROUND] = 300 * US};

void lags_init(struct lags *l)
{
    memset(l, 0, sizeof *l);
    for (int k = 0; k < LAG_KINDS; k++) {
        window_init(&l->win[k], LAG_WINDOW);
        l->low[k] = DEFAULT_LOW[k];
        l->typical[k] = DEFAULT_TYPICAL[k];
        l->high[k] = DEFAULT_HIGH[k];
    }
}

void lags_add(struct lags *l, enum lag_kind k, uint64_t ns, uint64_t now)
{
    l->last[k] = now ? now : 1;
    window_add(&l->win[k], ns);
    if (++l->fresh[k] < LAG_REFRESH)
        return;
    l->fresh[k] = 0;
    l->low[k] = window_percentile(&l->win[k], 0.1, l->low[k]);
    l->typical[k] = window_percentile(&l->win[k], 0.5, l->typical[k]);
    l->high[k] = window_percentile(&l->win[k], 0.9, l->high[k]);
}

uint64_t lags_allowance(const struct lags *l, enum lag_kind k, unsigned cap)
{
    uint64_t capped = l->typical[k] * cap;
    return l->high[k] < capped ? l->high[k] : capped;
}

static uint64_t at_most(uint64_t x, uint64_t max) { return x < max ? x : max; }

void lags_forget_stale(struct lags *l, uint64_t now)
{
    for (int k = 0; k < LAG_KINDS; k++) {
        if (!l->last[k] || now < l->last[k] + LAG_STALE_NS)
            continue;
        window_init(&l->win[k], LAG_WINDOW);
        l->fresh[k] = 0;
        l->last[k] = 0;
        l->low[k] = at_most(l->low[k], DEFAULT_LOW[k]);
        l->typical[k] = at_most(l->typical[k], DEFAULT_TYPICAL[k]);
        l->high[k] = at_most(l->high[k], DEFAULT_HIGH[k]);
    }
}
