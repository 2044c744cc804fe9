#include "controller/infer5/estimates.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>
#include <string.h>

/* The smallest supported batch size is always usable (padding makes any request fit);
 * larger ones only within max_batch and, being slower, within max_exec. */
static int usable(const struct model_info *mi, unsigned i, const struct sched_config *cfg)
{
    if (i == 0)
        return 1;
    uint64_t ns = mi->exec_ns[i] ? mi->exec_ns[i] : EST_DEFAULT_EXEC_NS;
    return mi->batch_sizes[i] <= cfg->max_batch && ns <= cfg->max_exec;
}

void estimates_init(struct model_estimates *e, const struct model_info *mi, const struct sched_config *cfg)
{
    memset(e, 0, sizeof *e);
    e->percentile = cfg->estimate_percentile;
    e->window = cfg->estimate_window;
    for (unsigned i = 0; i < mi->n_batch_sizes && i < MODEL_MAX_BATCH_SIZES; i++) {
        if (!usable(mi, i, cfg))
            continue;
        e->bs[e->n] = mi->batch_sizes[i];
        e->est[e->n] = mi->exec_ns[i] ? mi->exec_ns[i] : EST_DEFAULT_EXEC_NS;
        e->n++;
    }
    if (e->n == 0) { /* a model without batch sizes still runs as batch 1 */
        e->bs[0] = 1;
        e->est[0] = EST_DEFAULT_EXEC_NS;
        e->n = 1;
    }
    e->load_est = mi->weights_load_ns ? mi->weights_load_ns : 1;
}

void estimates_free(struct model_estimates *e)
{
    free(e->samples);
    e->samples = NULL;
}

static struct estimate_samples *samples_of(struct model_estimates *e)
{
    if (!e->samples) {
        e->samples = xcalloc(1, sizeof *e->samples);
        for (unsigned i = 0; i < e->n; i++)
            window_init(&e->samples->win[i], e->window);
        window_init(&e->samples->load_win, e->window);
    }
    return e->samples;
}

int estimates_index(const struct model_estimates *e, unsigned b)
{
    for (unsigned i = 0; i < e->n; i++)
        if (e->bs[i] == b)
            return (int)i;
    return -1;
}

void estimates_add_exec(struct model_estimates *e, unsigned idx, uint64_t ns)
{
    struct sample_window *w = &samples_of(e)->win[idx];
    window_add(w, ns);
    uint64_t est = window_percentile(w, e->percentile, e->est[idx]);
    e->est[idx] = est ? est : 1; /* a zero estimate would stall the timeline */
}

void estimates_add_load(struct model_estimates *e, uint64_t ns)
{
    struct sample_window *w = &samples_of(e)->load_win;
    window_add(w, ns);
    uint64_t est = window_percentile(w, e->percentile, e->load_est);
    e->load_est = est ? est : 1;
}
