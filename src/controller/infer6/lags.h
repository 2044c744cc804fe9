/* INFER6's measured overheads around an action, learnt from worker results: dispatch (action
 * created -> received by the worker), post (worker exec end -> result at the controller) and
 * turnaround (an executor's previous end -> start of an action already waiting for it). The
 * scheduler plans with them instead of fixed margins, so tight SLOs are aimed at exactly. */
#ifndef CW_INFER6_LAGS_H
#define CW_INFER6_LAGS_H
#include "common/window.h"
#include <stdint.h>

enum lag_kind { LAG_DISPATCH, LAG_POST, LAG_TURNAROUND, LAG_KINDS };

struct lags {
    struct sample_window win[LAG_KINDS];
    unsigned fresh[LAG_KINDS];   /* samples since the quantiles were computed */
    uint64_t low[LAG_KINDS];     /* 10th percentile */
    uint64_t typical[LAG_KINDS]; /* median */
    uint64_t high[LAG_KINDS];    /* 90th percentile */
    uint64_t last[LAG_KINDS];    /* when the latest sample came (0: none since the start or a reset) */
};

/* Starts from loopback-like defaults until samples arrive. */
void lags_init(struct lags *l);
/* Adds one measurement taken at `now`; quantiles are recomputed every few samples (amortised
 * O(1)). */
void lags_add(struct lags *l, enum lag_kind k, uint64_t ns, uint64_t now);
/* Forgets a kind whose latest sample is older than LAG_STALE_NS, keeping no quantile above its
 * default: estimates that say every request is hopeless stop the infers whose results would
 * correct them, so they must not outlive the results they came from. */
void lags_forget_stale(struct lags *l, uint64_t now);
/* A safe allowance for lag k: its 90th percentile, but at most `cap` times its median, so that
 * a burst of outliers (a stalled controller) cannot inflate it: a margin that made every
 * request look hopeless would stop the very infers whose results bring it back down. */
uint64_t lags_allowance(const struct lags *l, enum lag_kind k, unsigned cap);

#endif
