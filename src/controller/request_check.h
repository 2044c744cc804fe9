/* The controller's edge: every value of a client's inference request is checked before
 * anything is queued, so that bad input gets a clear error response (status 6) and never
 * reaches the scheduler or a worker: the model id, batch_size (1: the controller batches),
 * slo_factor (0 = the default SLO, else finite and within range) and the input (empty, or an
 * LZ4 block that decodes to exactly the model's input size, checked in linear time). */
#ifndef CW_REQUEST_CHECK_H
#define CW_REQUEST_CHECK_H
#include "common/lz4_block.h"
#include "controller/scheduler.h"
#include <stddef.h>
#include <stdint.h>

#define REQUEST_SLO_FACTOR_MIN 1.0 /* an SLO shorter than one batch-1 execution cannot be met */
#define REQUEST_SLO_FACTOR_MAX 1e6

struct request_fields {
    unsigned model_id;
    uint32_t batch_size;
    float slo_factor;
    const uint8_t *input;
    size_t input_len;
};

/* 0 if the request may be scheduled; else CLIENT_INVALID_REQUEST with the reason in msg.
 * models[i].id == i (the controller's dense model table). memo: inputs that passed lately
 * (lz4_block.h), the caller's; NULL checks every input in full. */
int request_check_infer(const struct request_fields *r, const struct sched_model *models, unsigned n_models,
                        struct lz4_block_memo *memo, char *msg, size_t msglen);

#endif
