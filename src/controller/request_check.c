#include "request_check.h"
#include "common/lz4_block.h"
#include "common/status.h"
#include <math.h>
#include <stdio.h>

static int check_slo(float f, char *msg, size_t msglen)
{
    if (f == 0.0f || (isfinite(f) && f >= REQUEST_SLO_FACTOR_MIN && f <= REQUEST_SLO_FACTOR_MAX))
        return 0;
    snprintf(msg, msglen, "Invalid slo_factor %g: use 0 for the default SLO or a value from %g to %g", (double)f,
             REQUEST_SLO_FACTOR_MIN, REQUEST_SLO_FACTOR_MAX);
    return CLIENT_INVALID_REQUEST;
}

static int check_input(const struct request_fields *r, const struct model_info *m, struct lz4_block_memo *memo,
                       char *msg, size_t msglen)
{
    if (r->input_len == 0)
        return 0;
    if ((memo ? lz4_block_check_memo(memo, r->input, r->input_len, m->input_size)
              : lz4_block_check(r->input, r->input_len, m->input_size)) == 0)
        return 0;
    snprintf(msg, msglen,
             "Invalid input: %zu bytes that are not an LZ4 block of exactly the model's input size (%llu bytes)",
             r->input_len, (unsigned long long)m->input_size);
    return CLIENT_INVALID_REQUEST;
}

int request_check_infer(const struct request_fields *r, const struct sched_model *models, unsigned n_models,
                        struct lz4_block_memo *memo, char *msg, size_t msglen)
{
    if (r->model_id >= n_models) {
        snprintf(msg, msglen, "Invalid model ID %u (%u models are loaded)", r->model_id, n_models);
        return CLIENT_INVALID_REQUEST;
    }
    if (r->batch_size != 1) {
        snprintf(msg, msglen, "Invalid batch_size %u: each request carries one input (1)", r->batch_size);
        return CLIENT_INVALID_REQUEST;
    }
    int status = check_slo(r->slo_factor, msg, msglen);
    return status ? status : check_input(r, &models[r->model_id].info, memo, msg, msglen);
}
