#include "cpu_runner.h"
#include "cpu_thread.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cpu_runner {
    struct cpu_standalone x;
    dnnl_engine_t engine; /* owned, with the model, when opened from a plan */
    struct cpu_model *owned;
};

static int cpu_load(void *impl, uint64_t *ns, char *err, size_t errlen)
{
    struct cpu_runner *c = impl;
    return cpu_standalone_load(&c->x, ns) == 0 ? 0 : (snprintf(err, errlen, "oneDNN weights reorder failed"), -1);
}

static int cpu_run(void *impl, unsigned bi, const float *in, float *out, struct model_run_times *t, char *err,
                   size_t errlen)
{
    struct cpu_runner *c = impl;
    const struct cpu_model *m = c->x.m;
    unsigned b = m->batch[bi].b;
    memcpy(cpu_binding_act(c->x.b, bi, m->plan.inputs[0]), in, cpu_model_input_bytes(m) * b);
    if (cpu_standalone_run(&c->x, bi, &t->exec_ns) != 0)
        return snprintf(err, errlen, "oneDNN execution failed at batch %u", b), -1;
    t->total_ns = t->exec_ns;
    memcpy(out, cpu_binding_act(c->x.b, bi, m->plan.outputs[0]), cpu_model_output_bytes(m) * b);
    return 0;
}

static void cpu_close(void *impl)
{
    struct cpu_runner *c = impl;
    if (c->x.m)
        cpu_standalone_close(&c->x);
    cpu_model_destroy(c->owned);
    if (c->engine)
        dnnl_engine_destroy(c->engine);
    free(c);
}

static const struct model_runner_ops cpu_runner_ops = {.load = cpu_load, .run = cpu_run, .close = cpu_close};

static int wrap(struct model_runner *r, struct cpu_runner *c, const struct cpu_model *m, char *err, size_t errlen)
{
    if (cpu_standalone_open(&c->x, m, err, errlen) != 0) {
        cpu_close(c);
        return -1;
    }
    memset(r, 0, sizeof *r);
    r->ops = &cpu_runner_ops;
    r->impl = c;
    snprintf(r->device, sizeof r->device, "cpu");
    r->n_batches = m->n_batches;
    for (unsigned i = 0; i < m->n_batches; i++)
        r->batch_sizes[i] = m->batch[i].b;
    r->input_bytes = cpu_model_input_bytes(m);
    r->output_bytes = cpu_model_output_bytes(m);
    r->weights_bytes = m->plan.weights_size;
    return 0;
}

int cpu_runner_wrap(struct model_runner *r, const struct cpu_model *m, char *err, size_t errlen)
{
    struct cpu_runner *c = calloc(1, sizeof *c);
    if (!c)
        return snprintf(err, errlen, "out of memory"), -1;
    return wrap(r, c, m, err, errlen);
}

int cpu_runner_open(struct model_runner *r, struct plan *p, const unsigned *batch_sizes, unsigned n_batches,
                    unsigned cores, char *err, size_t errlen)
{
    struct cpu_runner *c = calloc(1, sizeof *c);
    if (!c) {
        plan_free(p);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    cpu_thread_pin(0, cores);
    if (dnnl_engine_create(&c->engine, dnnl_cpu, 0) != dnnl_success) {
        plan_free(p);
        cpu_close(c);
        return snprintf(err, errlen, "cannot create the oneDNN CPU engine"), -1;
    }
    if (cpu_model_build(&c->owned, p, c->engine, batch_sizes, n_batches, UINT64_C(1) << 30, err, errlen) != 0) {
        cpu_close(c);
        return -1;
    }
    if (wrap(r, c, c->owned, err, errlen) != 0)
        return -1;
    snprintf(r->device, sizeof r->device, "cpu (%u core%s)", cores, cores == 1 ? "" : "s");
    return 0;
}
