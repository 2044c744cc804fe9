/* What a front end of the controller (src/controller/http/: the KServe v2 REST API and the
 * Prometheus metrics) may see and ask. It runs on the controller's loop thread and never
 * sees the controller's internals: an inference request enters through the same entry point
 * as a native client's (same checks, same scheduler, same telemetry rows), and a model load
 * through the same start-up/LoadModel path. A front end is chosen in apps/ and handed to
 * controller_run_with. */
#ifndef CW_CONTROLLER_FRONTEND_H
#define CW_CONTROLLER_FRONTEND_H
#include "controller/metrics.h"
#include "controller/options.h"
#include "model/model_info.h"
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct controller;

/* A front end's life inside controller_run_with. start: once the loop exists, before workers
 * are dialled (NULL with err: the controller exits 1). stop: at shutdown, after every request
 * was answered: stop listening, close connections. destroy: after the loop ran once more. */
struct controller_frontend {
    void *(*start)(struct controller *ctl, uv_loop_t *loop, char *err, size_t errlen);
    void (*stop)(void *state);
    void (*destroy)(void *state);
};

/* controller_run with a front end (NULL: none). Returns the process exit code. */
int controller_run_with(const struct controller_options *opts, const struct controller_frontend *fe);

const struct controller_options *controller_options_of(const struct controller *ctl);
/* Start-up is over and the scheduler runs. */
int controller_is_serving(const struct controller *ctl);
/* Worker i (i < opts->n_workers) is connected and in service. */
int controller_worker_up(const struct controller *ctl, unsigned i);

enum controller_model_state {
    CONTROLLER_MODEL_SERVING = 0,
    CONTROLLER_MODEL_UNLOADED, /* controller_set_model_serving(0) */
    CONTROLLER_MODEL_FAILED,   /* a load while serving failed: the id is retired */
};
/* Model ids are dense: [0, controller_model_count). */
unsigned controller_model_count(const struct controller *ctl);
/* Model id's info (source = its path prefix), NULL if no such id. */
const struct model_info *controller_model(const struct controller *ctl, unsigned id,
                                          enum controller_model_state *state);
const struct controller_metrics *controller_metrics_of(const struct controller *ctl);

/* An inference request. input: the request's input as the native protocol carries it (an LZ4
 * block of the model's input_size bytes; malloc'd: the controller owns it from the call on).
 * answer is called exactly once, maybe before controller_infer_submit returns; output is
 * valid during the call only. The answer's request row is logged but maybe not yet in the
 * file: the front end calls controller_commit_requests before the answer leaves the process. */
typedef void (*controller_answer_fn)(void *data, int status, const char *message, const uint8_t *output,
                                     size_t output_len);
struct controller_infer_request {
    unsigned model_id;
    int user_id, user_request_id;
    float slo_factor; /* 0: the controller's default_slo */
    void *input;
    size_t input_len;
    controller_answer_fn answer;
    void *data;
};
void controller_infer_submit(struct controller *ctl, const struct controller_infer_request *req);
/* Hands the request rows logged so far to the file (cheap when there are none): a front end
 * calls it once before the answers it collected leave, as a native client's connection does
 * once per flush, so that no answered request is missing from a killed controller's log. */
void controller_commit_requests(struct controller *ctl);

/* Loads `copies` copies of the model at path prefix on every worker, as a client's LoadModel
 * (during start-up it delays serving like one); while serving the scheduler then takes them.
 * done gets a client status, a message and the first id, exactly once. -1 with err when it
 * cannot be started (the scheduler TYPE cannot add models while serving). */
typedef void (*controller_load_fn)(void *data, int status, const char *message, unsigned first, unsigned copies);
int controller_load_models(struct controller *ctl, const char *path, int copies, controller_load_fn done, void *data,
                           char *err, size_t errlen);
/* Unloads (serving 0) or serves again (1) model id: scheduler_set_model_serving. 0, or -1 with
 * err (not serving yet, unknown id, or the TYPE cannot). */
int controller_set_model_serving(struct controller *ctl, unsigned id, int serving, char *err, size_t errlen);
/* Whether models can be loaded while serving and unloaded (the TYPE supports it). */
int controller_models_changeable(const struct controller *ctl);

#endif
