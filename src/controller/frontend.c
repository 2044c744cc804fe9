/* The controller's side of frontend.h: read-only views of its state, and requests and loads
 * routed into the same paths a native client's take. */
#include "common/clock.h"
#include "common/status.h"
#include "controller_internal.h"
#include <stdlib.h>

const struct controller_options *controller_options_of(const struct controller *ctl) { return ctl->opts; }

int controller_is_serving(const struct controller *ctl) { return ctl->serving; }

int controller_worker_up(const struct controller *ctl, unsigned i)
{
    return i < ctl->n_workers && ctl->workers[i].conn && ctl->workers[i].connected && !ctl->workers[i].lost;
}

unsigned controller_model_count(const struct controller *ctl) { return ctl->n_models; }

const struct model_info *controller_model(const struct controller *ctl, unsigned id, enum controller_model_state *state)
{
    if (id >= ctl->n_models)
        return NULL;
    if (state)
        *state = (enum controller_model_state)ctl->model_state[id];
    return &ctl->models[id].info;
}

const struct controller_metrics *controller_metrics_of(const struct controller *ctl) { return &ctl->metrics; }

static void answer_frontend(struct ctl_request *req, int status, const char *message, const uint8_t *output,
                            size_t output_len)
{
    req->fe_answer(req->fe_data, status, message, output, output_len);
}

void controller_infer_submit(struct controller *ctl, const struct controller_infer_request *in)
{
    struct ctl_request *req = calloc(1, sizeof *req);
    if (!req) {
        free(in->input);
        in->answer(in->data, CLIENT_ERROR, "controller out of memory", NULL, 0);
        return;
    }
    req->r.model_id = in->model_id;
    req->r.user_id = in->user_id;
    req->r.user_request_id = in->user_request_id;
    req->r.slo_factor = in->slo_factor;
    req->r.input = in->input;
    req->r.input_len = in->input ? in->input_len : 0;
    req->answer = answer_frontend;
    req->fe_answer = in->answer;
    req->fe_data = in->data;
    controller_infer(ctl, req);
}

void controller_commit_requests(struct controller *ctl) { telemetry_commit_requests(ctl->telemetry); }

int controller_models_changeable(const struct controller *ctl)
{
    return !ctl->serving || scheduler_models_changeable(ctl->sched);
}

int controller_load_models(struct controller *ctl, const char *path, int copies, controller_load_fn done, void *data,
                           char *err, size_t errlen)
{
    if (!controller_models_changeable(ctl)) {
        snprintf(err, errlen, "the %s controller cannot load models while serving", ctl->opts->type);
        return -1;
    }
    startup_load_for_frontend(ctl, path, copies, done, data);
    return 0;
}

int controller_set_model_serving(struct controller *ctl, unsigned id, int serving, char *err, size_t errlen)
{
    if (!ctl->serving) {
        snprintf(err, errlen, "models can be unloaded only once start-up is over");
        return -1;
    }
    if (id >= ctl->n_models || ctl->model_state[id] == CONTROLLER_MODEL_FAILED) {
        snprintf(err, errlen, "no model %u", id);
        return -1;
    }
    if (scheduler_set_model_serving(ctl->sched, clock_now_ns(), id, serving) != 0) {
        snprintf(err, errlen, "the %s controller cannot unload models", ctl->opts->type);
        return -1;
    }
    ctl->model_state[id] = serving ? CONTROLLER_MODEL_SERVING : CONTROLLER_MODEL_UNLOADED;
    controller_pump(ctl);
    return 0;
}
