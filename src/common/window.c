#include "window.h"
#include <string.h>

void window_init(struct sample_window *w, unsigned size)
{
    memset(w, 0, sizeof *w);
    w->size = size == 0 ? 1 : (size > WINDOW_MAX ? WINDOW_MAX : size);
}

void window_add(struct sample_window *w, uint64_t sample)
{
    w->samples[w->next] = sample;
    w->next = (w->next + 1) % w->size;
    if (w->count < w->size)
        w->count++;
}

/* Insertion sort: at most WINDOW_MAX samples, and the scheduler asks after every result, where
 * qsort's generic calls cost ten times more. */
static void sort_u64(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        uint64_t x = v[i];
        unsigned j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

uint64_t window_percentile(const struct sample_window *w, double p, uint64_t fallback)
{
    if (w->count == 0)
        return fallback;
    uint64_t sorted[WINDOW_MAX];
    memcpy(sorted, w->samples, w->count * sizeof sorted[0]);
    sort_u64(sorted, w->count);
    unsigned idx = (unsigned)(p * (double)(w->count - 1) + 0.5);
    if (idx >= w->count)
        idx = w->count - 1;
    return sorted[idx];
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
