#include "gen.h"
#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void wl_rng_seed(struct wl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
uint64_t wl_rng_next(struct wl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double wl_rng_uniform(struct wl_rng *r) { return (double)(wl_rng_next(r) >> 11) * 0x1.0p-53; }

uint32_t wl_rng_below(struct wl_rng *r, uint32_t n) { return (uint32_t)(((wl_rng_next(r) >> 32) * n) >> 32); }

double wl_rng_exponential(struct wl_rng *r, double mean) { return -mean * log1p(-wl_rng_uniform(r)); }

int wl_dist_parse(const char *s, enum wl_dist *out)
{
    if (strcmp(s, "poisson") == 0)
        *out = WL_DIST_POISSON;
    else if (strcmp(s, "fixed-rate") == 0)
        *out = WL_DIST_FIXED_RATE;
    else
        return -1;
    return 0;
}

static double next_gap(struct wl_arrivals *a)
{
    if (a->dist == WL_DIST_FIXED_RATE)
        return a->mean_gap_ns;
    return wl_rng_exponential(&a->rng, a->mean_gap_ns);
}

void wl_arrivals_init(struct wl_arrivals *a, enum wl_dist dist, double rate_per_s, uint64_t seed, uint64_t start_ns)
{
    a->dist = dist;
    a->mean_gap_ns = 1e9 / rate_per_s;
    wl_rng_seed(&a->rng, seed);
    wl_arrivals_restart(a, start_ns);
}

void wl_arrivals_restart(struct wl_arrivals *a, uint64_t t_ns) { a->next_ns = (double)t_ns + next_gap(a); }

void wl_arrivals_set_rate(struct wl_arrivals *a, double rate_per_s) { a->mean_gap_ns = 1e9 / rate_per_s; }

uint64_t wl_arrivals_peek(const struct wl_arrivals *a) { return (uint64_t)a->next_ns; }

uint64_t wl_arrivals_pop(struct wl_arrivals *a)
{
    uint64_t t = (uint64_t)a->next_ns;
    a->next_ns += next_gap(a);
    return t;
}

/* Draws the next arrival after `from`: an exponential gap at the current interval's rate; a
 * gap that crosses the interval's end restarts at the next interval (Poisson is memoryless). */
static void trace_draw(struct wl_trace_arrivals *t, double from)
{
    if (!t->any) {
        t->next_ns = (double)UINT64_MAX;
        return;
    }
    for (;;) {
        uint32_t c = t->counts[t->interval];
        if (c > 0) {
            double at = from + wl_rng_exponential(&t->rng, 60e9 / ((double)c * t->scale));
            if (at < t->interval_end) {
                t->next_ns = at;
                return;
            }
        }
        from = t->interval_end;
        t->interval = (t->interval + 1) % t->n;
        t->interval_end += t->interval_ns;
    }
}

void wl_trace_init(struct wl_trace_arrivals *t, const uint32_t *counts, unsigned n, double scale, double interval_ns,
                   unsigned start, double first_len_ns, uint64_t seed, uint64_t start_ns)
{
    t->counts = counts;
    t->n = n;
    t->any = 0;
    for (unsigned i = 0; i < n && !t->any; i++)
        t->any = counts[i] > 0;
    t->scale = scale;
    t->interval_ns = interval_ns;
    t->interval = start % n;
    double first = first_len_ns > 0 && first_len_ns <= interval_ns ? first_len_ns : interval_ns;
    t->interval_end = (double)start_ns + first;
    wl_rng_seed(&t->rng, seed);
    trace_draw(t, (double)start_ns);
}

uint64_t wl_trace_peek(const struct wl_trace_arrivals *t)
{
    return t->next_ns >= (double)UINT64_MAX ? UINT64_MAX : (uint64_t)t->next_ns;
}

uint64_t wl_trace_pop(struct wl_trace_arrivals *t)
{
    uint64_t at = wl_trace_peek(t);
    if (at != UINT64_MAX)
        trace_draw(t, t->next_ns);
    return at;
}

void wl_trace_set_scale(struct wl_trace_arrivals *t, double scale) { t->scale = scale; }

int wl_slo_op_parse(const char *s, enum wl_slo_op *out)
{
    if (strcmp(s, "add") == 0)
        *out = WL_SLO_ADD;
    else if (strcmp(s, "mul") == 0)
        *out = WL_SLO_MUL;
    else
        return -1;
    return 0;
}

void wl_slo_init(struct wl_slo_schedule *s, enum wl_slo_op op, double start, double factor, double end, int has_end)
{
    s->op = op;
    s->start = start;
    s->factor = factor;
    s->end = end;
    s->has_end = has_end;
    s->current = start;
}

int wl_slo_step(struct wl_slo_schedule *s)
{
    switch (s->op) {
    case WL_SLO_ADD: s->current += s->factor; break;
    case WL_SLO_MUL: s->current *= s->factor; break;
    case WL_SLO_TOGGLE: s->current = s->current == s->start ? s->factor : s->start; break;
    }
    /* A small tolerance so that accumulated rounding (0.1 added ten times) still reaches end. */
    return s->has_end && s->current > s->end * (1 + 1e-9);
}
