#include "describe.h"
#include <stdio.h>

void describe_millis(char *buf, size_t len, uint64_t t)
{
    snprintf(buf, len, "%llu.%llu", (unsigned long long)(t / 1000000), (unsigned long long)((t % 1000000) / 100000));
}

void describe_window(char *buf, size_t len, uint64_t now, uint64_t earliest, uint64_t latest)
{
    char e[32], l[32];
    describe_millis(e, sizeof e, earliest > now ? earliest - now : 0);
    describe_millis(l, sizeof l, latest > now ? latest - now : 0);
    snprintf(buf, len, "[%s, %s]", e, l);
}

void describe_model(char *buf, size_t len, const struct model_info *m, uint64_t page_size)
{
    double in_cache_mb = (double)m->num_weights_pages * (double)page_size / (1024.0 * 1024.0);
    int n = snprintf(buf, len, "input=%llu output=%llu weights=%.1f MB (%u pages) xfer=%.1f",
                     (unsigned long long)m->input_size, (unsigned long long)m->output_size, in_cache_mb,
                     m->num_weights_pages, (double)m->weights_load_ns / 1e6);
    for (unsigned i = 0; i < m->n_batch_sizes && n > 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, " b%u=%.1f", m->batch_sizes[i], (double)m->exec_ns[i] / 1e6);
}

void describe_task_result(char *buf, size_t len, const struct worker_task *t)
{
    char a[32], b[32], c[32];
    if (t->status != 0) {
        snprintf(buf, len, "R%d:Error %d: %s", t->action_id, t->status, t->message);
    } else if (t->kind == TASK_INFER) {
        describe_millis(a, sizeof a, t->infer.exec_end - t->infer.exec_begin);
        describe_millis(b, sizeof b, t->infer.copy_input_end - t->infer.copy_input_begin);
        describe_millis(c, sizeof c, t->infer.copy_output_end - t->infer.copy_output_begin);
        snprintf(buf, len, "R%d:Infer exec=%s input=%s output=%s", t->action_id, a, b, c);
    } else {
        describe_millis(a, sizeof a, t->end - t->begin);
        snprintf(buf, len, "R%d:%s duration=%s", t->action_id, task_kind_name(t->kind), a);
    }
}
