#include "window.h"
#include <string.h>

void window_init(struct sample_window *w, unsigned size)
{
    memset(w, 0, sizeof *w);
    w->size = size == 0 ? 1 : (size > WINDOW_MAX ? WINDOW_MAX : size);
}

/* The first position in order[0, n) whose sample is above x (ties: after the equal ones). */
static unsigned upper_bound(const struct sample_window *w, unsigned n, uint64_t x)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (w->samples[w->order[mid]] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Drops ring slot `slot` from order (it holds a sample): its position lies among the equal
 * samples just before their upper bound. */
static void order_remove(struct sample_window *w, unsigned slot)
{
    unsigned p = upper_bound(w, w->count, w->samples[slot]);
    while (w->order[--p] != slot)
        ;
    memmove(&w->order[p], &w->order[p + 1], w->count - 1 - p);
    w->count--;
}

void window_add(struct sample_window *w, uint64_t sample)
{
    unsigned slot = w->next;
    if (w->count == w->size)
        order_remove(w, slot);
    w->samples[slot] = sample;
    unsigned p = upper_bound(w, w->count, sample);
    memmove(&w->order[p + 1], &w->order[p], w->count - p);
    w->order[p] = (uint8_t)slot;
    w->count++;
    w->next = (slot + 1) % w->size;
}

uint64_t window_percentile(const struct sample_window *w, double p, uint64_t fallback)
{
    if (w->count == 0)
        return fallback;
    unsigned idx = (unsigned)(p * (double)(w->count - 1) + 0.5);
    if (idx >= w->count)
        idx = w->count - 1;
    return w->samples[w->order[idx]];
}

void min_window_init(struct min_window *w, unsigned size)
{
    memset(w, 0, sizeof *w);
    w->size = size == 0 || size > MINWIN_CAP ? MINWIN_CAP : size;
}

void min_window_add(struct min_window *w, int64_t v)
{
    uint64_t seq = w->seq++;
    /* drop expired front */
    while (w->len && w->seqs[w->head] + w->size <= seq) {
        w->head = (w->head + 1) % MINWIN_CAP;
        w->len--;
    }
    /* drop larger-or-equal tail values: they can never be the minimum again */
    while (w->len) {
        unsigned tail = (w->head + w->len - 1) % MINWIN_CAP;
        if (w->vals[tail] < v)
            break;
        w->len--;
    }
    unsigned pos = (w->head + w->len) % MINWIN_CAP;
    w->vals[pos] = v;
    w->seqs[pos] = seq;
    w->len++;
}

int64_t min_window_get(const struct min_window *w) { return w->len ? w->vals[w->head] : INT64_MAX; }
