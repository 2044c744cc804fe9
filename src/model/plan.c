#include "plan.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_MAGIC "CWPLAN01"

struct plan_header {
    char magic[8];
    uint32_t n_tensors, n_ops, n_inputs, n_outputs;
    uint64_t weights_size;
};

uint64_t plan_tensor_elems(const struct plan *p, int32_t t, unsigned b)
{
    const struct plan_tensor *x = &p->tensors[t];
    uint64_t n = 1;
    for (uint32_t i = 0; i < x->ndim; i++)
        n *= (uint64_t)x->dims[i];
    return x->kind == PLAN_ACT ? n * b : n;
}

static int write_all(FILE *f, const void *buf, size_t len)
{
    return len == 0 || fwrite(buf, 1, len, f) == len ? 0 : -1;
}
static int read_all(FILE *f, void *buf, size_t len) { return len == 0 || fread(buf, 1, len, f) == len ? 0 : -1; }

static int save_plan_file(const struct plan *p, const char *file)
{
    FILE *f = fopen(file, "wb");
    if (!f)
        return -1;
    struct plan_header h = {.n_tensors = p->n_tensors,
                            .n_ops = p->n_ops,
                            .n_inputs = p->n_inputs,
                            .n_outputs = p->n_outputs,
                            .weights_size = p->weights_size};
    memcpy(h.magic, PLAN_MAGIC, 8);
    int rc = write_all(f, &h, sizeof h);
    rc |= write_all(f, p->tensors, p->n_tensors * sizeof *p->tensors);
    rc |= write_all(f, p->ops, p->n_ops * sizeof *p->ops);
    rc |= write_all(f, p->inputs, p->n_inputs * sizeof *p->inputs);
    rc |= write_all(f, p->outputs, p->n_outputs * sizeof *p->outputs);
    rc |= fclose(f);
    return rc ? -1 : 0;
}

int plan_save(const struct plan *p, const char *prefix, char *err, size_t errlen)
{
    char file[1100];
    snprintf(file, sizeof file, "%s.plan", prefix);
    if (save_plan_file(p, file) != 0) {
        snprintf(err, errlen, "cannot write %s", file);
        return -1;
    }
    snprintf(file, sizeof file, "%s.weights", prefix);
    FILE *f = fopen(file, "wb");
    int rc = f ? write_all(f, p->weights, p->weights_size) : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s", file);
        return -1;
    }
    return 0;
}

static void *read_array(FILE *f, uint32_t n, size_t size, int *rc)
{
    if (*rc || n == 0)
        return NULL;
    void *a = calloc(n, size);
    if (!a || read_all(f, a, (size_t)n * size) != 0)
        *rc = -1;
    return a;
}

static int load_plan_file(struct plan *p, const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s", file);
        return -1;
    }
    struct plan_header h;
    int rc = read_all(f, &h, sizeof h);
    if (rc || memcmp(h.magic, PLAN_MAGIC, 8) != 0 || h.n_tensors > 1000000 || h.n_ops > 1000000 || h.n_inputs > 64 ||
        h.n_outputs > 64) {
        fclose(f);
        snprintf(err, errlen, "%s: not a Clockwork plan (bad header)", file);
        return -1;
    }
    p->n_tensors = h.n_tensors;
    p->n_ops = h.n_ops;
    p->n_inputs = h.n_inputs;
    p->n_outputs = h.n_outputs;
    p->weights_size = h.weights_size;
    p->tensors = read_array(f, h.n_tensors, sizeof *p->tensors, &rc);
    p->ops = read_array(f, h.n_ops, sizeof *p->ops, &rc);
    p->inputs = read_array(f, h.n_inputs, sizeof *p->inputs, &rc);
    p->outputs = read_array(f, h.n_outputs, sizeof *p->outputs, &rc);
    fclose(f);
    if (rc)
        snprintf(err, errlen, "%s: truncated", file);
    return rc;
}

static int load_weights_file(struct plan *p, const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s", file);
        return -1;
    }
    int rc = fseek(f, 0, SEEK_END);
    long len = rc == 0 ? ftell(f) : -1;
    if (len < 0 || (uint64_t)len != p->weights_size || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        snprintf(err, errlen, "%s: size %ld, the plan expects %llu bytes", file, len,
                 (unsigned long long)p->weights_size);
        return -1;
    }
    p->weights = aligned_alloc(64, (p->weights_size + 63) / 64 * 64 + 64);
    rc = p->weights ? read_all(f, p->weights, p->weights_size) : -1;
    fclose(f);
    if (rc)
        snprintf(err, errlen, "%s: cannot read %llu bytes", file, (unsigned long long)p->weights_size);
    return rc;
}

int plan_load(struct plan *p, const char *prefix, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    char file[1100];
    snprintf(file, sizeof file, "%s.plan", prefix);
    int rc = load_plan_file(p, file, err, errlen);
    if (rc == 0 && plan_validate(p, err, errlen) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s: %s", file, why);
        rc = -1;
    }
    snprintf(file, sizeof file, "%s.weights", prefix);
    if (rc == 0)
        rc = load_weights_file(p, file, err, errlen);
    if (rc)
        plan_free(p);
    return rc;
}

static int check_tensor(const struct plan *p, uint32_t i, char *err, size_t errlen)
{
    struct plan_tensor *t = &p->tensors[i];
    t->name[PLAN_NAME_LEN - 1] = '\0';
    uint64_t n = 1;
    if (t->ndim < 1 || t->ndim > PLAN_MAX_DIMS || t->kind > PLAN_WEIGHT) {
        snprintf(err, errlen, "tensor %u (%s): bad rank or kind", i, t->name);
        return -1;
    }
    for (uint32_t d = 0; d < t->ndim; d++) {
        if (t->dims[d] < 1 || t->dims[d] > (1 << 24) || n > (UINT64_C(1) << 34) / (uint64_t)t->dims[d]) {
            snprintf(err, errlen, "tensor %u (%s): bad dimension", i, t->name);
            return -1;
        }
        n *= (uint64_t)t->dims[d];
    }
    if (t->kind == PLAN_WEIGHT &&
        (t->offset % 4 || t->offset > p->weights_size || n * 4 > p->weights_size - t->offset)) {
        snprintf(err, errlen, "tensor %u (%s): weights outside the blob", i, t->name);
        return -1;
    }
    return 0;
}

/* Every op input must be a weight, a graph input or an earlier op's output. */
static int check_op(const struct plan *p, uint32_t i, uint8_t *defined, char *err, size_t errlen)
{
    struct plan_op *o = &p->ops[i];
    o->name[PLAN_NAME_LEN - 1] = '\0';
    if (o->n_in < 1 || o->n_in > PLAN_MAX_IN || o->type < OP_CONV || o->type > OP_CHANNEL_AFFINE || o->out < 0 ||
        (uint32_t)o->out >= p->n_tensors || defined[o->out] || p->tensors[o->out].kind != PLAN_ACT) {
        snprintf(err, errlen, "op %u (%s): bad type, arity or output", i, o->name);
        return -1;
    }
    for (uint32_t k = 0; k < o->n_in; k++)
        if (o->in[k] < 0 || (uint32_t)o->in[k] >= p->n_tensors || !defined[o->in[k]]) {
            snprintf(err, errlen, "op %u (%s): input %u undefined", i, o->name, k);
            return -1;
        }
    defined[o->out] = 1;
    return 0;
}

static int check_io(const struct plan *p, const int32_t *ids, uint32_t n, const uint8_t *defined)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= p->n_tensors || (defined && !defined[ids[i]]) ||
            p->tensors[ids[i]].kind != PLAN_ACT)
            return -1;
    return 0;
}

int plan_validate(const struct plan *p, char *err, size_t errlen)
{
    if (p->n_inputs < 1 || p->n_outputs < 1 || p->n_ops < 1) {
        snprintf(err, errlen, "plan has no inputs, outputs or ops");
        return -1;
    }
    uint8_t *defined = calloc(p->n_tensors, 1);
    int rc = defined ? 0 : -1;
    for (uint32_t i = 0; rc == 0 && i < p->n_tensors; i++) {
        rc = check_tensor(p, i, err, errlen);
        defined[i] = p->tensors[i].kind == PLAN_WEIGHT;
    }
    if (rc == 0 && check_io(p, p->inputs, p->n_inputs, NULL) != 0) {
        snprintf(err, errlen, "plan: bad input tensor id");
        rc = -1;
    }
    for (uint32_t i = 0; rc == 0 && i < p->n_inputs; i++)
        defined[p->inputs[i]] = 1;
    for (uint32_t i = 0; rc == 0 && i < p->n_ops; i++)
        rc = check_op(p, i, defined, err, errlen);
    if (rc == 0 && check_io(p, p->outputs, p->n_outputs, defined) != 0) {
        snprintf(err, errlen, "plan: bad output tensor id");
        rc = -1;
    }
    free(defined);
    return rc;
}

void plan_free(struct plan *p)
{
    free(p->tensors);
    free(p->ops);
    free(p->inputs);
    free(p->outputs);
    free(p->weights);
    memset(p, 0, sizeof *p);
}
