#include "controller/infer5/estimates.h"
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
    for (unsigned i = 0; i < mi->n_batch_sizes && i < MODEL_MAX_BATCH_SIZES; i++) {
        if (!usable(mi, i, cfg))
            continue;
        e->bs[e->n] = mi->batch_sizes[i];
        e->est[e->n] = mi->exec_ns[i] ? mi->exec_ns[i] : EST_DEFAULT_EXEC_NS;
        window_init(&e->win[e->n], cfg->estimate_window);
        e->n++;
    }
    if (e->n == 0) { /* a model without batch sizes still runs as batch 1 */
        e->bs[0] = 1;
        e->est[0] = EST_DEFAULT_EXEC_NS;
        window_init(&e->win[0], cfg->estimate_window);
        e->n = 1;
    }
    e->load_est = mi->weights_load_ns ? mi->weights_load_ns : 1;
    window_init(&e->load_win, cfg->estimate_window);
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
    window_add(&e->win[idx], ns);
    uint64_t est = window_percentile(&e->win[idx], e->percentile, e->est[idx]);
    e->est[idx] = est ? est : 1; /* a zero estimate would stall the timeline */
}

void estimates_add_load(struct model_estimates *e, uint64_t ns)
{
    window_add(&e->load_win, ns);
    uint64_t est = window_percentile(&e->load_win, e->percentile, e->load_est);
    e->load_est = est ? est : 1;
}
