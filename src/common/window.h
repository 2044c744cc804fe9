/* Sliding window of the last N samples with order statistics. The scheduler's execution
 * estimates are the 99th percentile of the last 10 measurements per (model, batch size);
 * INFER6's lags three percentiles of the last 64. The window keeps its ring slots sorted by
 * sample as it goes (O(N) byte moves per sample), so a percentile is one lookup. */
#ifndef CW_WINDOW_H
#define CW_WINDOW_H
#include <stdint.h>

#define WINDOW_MAX 64

/* Counts first, then the order, then the ring: a small window (the estimates' 10 samples)
 * spans three cache lines, however large WINDOW_MAX. */
struct sample_window {
    unsigned size;                /* capacity in use, <= WINDOW_MAX */
    unsigned count;               /* samples held, <= size */
    unsigned next;                /* ring position */
    uint8_t order[WINDOW_MAX];    /* the held ring slots, ascending by their sample */
    uint64_t samples[WINDOW_MAX]; /* a ring, in arrival order */
};

void window_init(struct sample_window *w, unsigned size);
void window_add(struct sample_window *w, uint64_t sample);
/* p in [0,1]; nearest-rank percentile of the held samples; `fallback` when empty. O(1). */
uint64_t window_percentile(const struct sample_window *w, double p, uint64_t fallback);

/* Minimum over the last N samples, O(1) amortised (monotonic deque); used for clock skew. */
#define MINWIN_CAP 1024
struct min_window {
    int64_t vals[MINWIN_CAP];
    uint64_t seqs[MINWIN_CAP];
    unsigned head, len; /* deque in a ring */
    uint64_t seq;
    unsigned size;
};

void min_window_init(struct min_window *w, unsigned size);
void min_window_add(struct min_window *w, int64_t v);
int64_t min_window_get(const struct min_window *w); /* INT64_MAX when empty */

#endif
