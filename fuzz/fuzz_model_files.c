/* libFuzzer target: model files into the loaders, as a worker reads them on LoadModel. The
 * input is either raw files (PREFIX.info and .measurements for model_info_load, .plan and
 * .weights for plan_load) or, structure-aware, a small plan (tensors, ops, inputs, outputs)
 * written by plan_save with a few bytes of the file then overwritten, so that mutations reach
 * plan_validate, the activation arena and the weights page packing behind the header checks.
 * Nothing may crash, leak or read out of bounds; a plan the loader accepts must lay out. */
#include "model/act_arena.h"
#include "model/model_info.h"
#include "model/model_path.h"
#include "model/plan.h"
#include "model/weights_pages.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char prefix[64];

struct reader {
    const uint8_t *p;
    size_t n;
};

static unsigned next(struct reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static void write_file(const char *suffix, const void *data, size_t n)
{
    char path[96];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, n, f);
    fclose(f);
}

/* Raw: four files, each given by a 16-bit length and its bytes. */
static void write_raw(struct reader *r)
{
    static const char *suffix[] = {".info", ".measurements", ".plan", ".weights"};
    for (int i = 0; i < 4; i++) {
        size_t n = next(r) | (size_t)next(r) << 8;
        if (n > r->n)
            n = r->n;
        write_file(suffix[i], r->p, n);
        r->p += n;
        r->n -= n;
    }
}

static void build_tensor(struct reader *r, struct plan_tensor *t, unsigned i)
{
    snprintf(t->name, sizeof t->name, "t%u", i);
    t->kind = next(r) & 1;
    t->ndim = next(r) % (PLAN_MAX_DIMS + 2);
    for (unsigned d = 0; d < PLAN_MAX_DIMS; d++)
        t->dims[d] = (int64_t)(next(r) % 9) - 1;
    t->offset = (uint64_t)next(r) * 4;
}

static void build_op(struct reader *r, struct plan_op *o, unsigned n_tensors)
{
    o->type = next(r) % 13;
    o->n_in = next(r) % (PLAN_MAX_IN + 2);
    for (unsigned k = 0; k < PLAN_MAX_IN; k++)
        o->in[k] = (int32_t)(next(r) % (n_tensors + 2)) - 1;
    o->out = (int32_t)(next(r) % (n_tensors + 2)) - 1;
    for (unsigned k = 0; k < 2; k++) {
        o->kernel[k] = next(r) % 5;
        o->stride[k] = next(r) % 4;
        o->dilation[k] = next(r) % 3;
        o->pad_l[k] = next(r) % 3;
        o->pad_r[k] = next(r) % 3;
    }
    o->group = next(r) % 4;
    o->axis = (int64_t)(next(r) % 7) - 3;
    o->act = next(r) % 5;
    o->flag = next(r) & 1;
}

/* Structured: a plan of up to 8 tensors and 6 ops, saved, then up to 4 bytes overwritten. */
static void write_structured(struct reader *r)
{
    struct plan_tensor t[8] = {0};
    struct plan_op ops[6] = {0};
    int32_t ins[2], outs[2];
    float weights[64] = {0};
    struct plan p = {.tensors = t, .ops = ops, .inputs = ins, .outputs = outs, .weights = weights};
    p.n_tensors = 1 + next(r) % 8;
    p.n_ops = next(r) % 7;
    p.n_inputs = next(r) % 3;
    p.n_outputs = next(r) % 3;
    p.weights_size = (next(r) % 65) * 4;
    for (unsigned i = 0; i < p.n_tensors; i++)
        build_tensor(r, &t[i], i);
    for (unsigned i = 0; i < p.n_ops; i++)
        build_op(r, &ops[i], p.n_tensors);
    for (unsigned i = 0; i < 2; i++) {
        ins[i] = (int32_t)(next(r) % (p.n_tensors + 1)) - 1;
        outs[i] = (int32_t)(next(r) % (p.n_tensors + 1)) - 1;
    }
    char err[256], path[96];
    write_file(".info", "", 0); /* no stale files from an earlier input */
    write_file(".measurements", "", 0);
    if (plan_save(&p, prefix, err, sizeof err) != 0)
        abort();
    snprintf(path, sizeof path, "%s.plan", prefix);
    FILE *f = fopen(path, "r+b");
    for (unsigned k = next(r) % 5; f && k > 0; k--) {
        long at = (long)(next(r) | next(r) << 8);
        if (fseek(f, at, SEEK_SET) == 0)
            fputc((int)next(r), f);
    }
    if (f)
        fclose(f);
}

/* A plan the loader accepted must lay out: arena offsets for activations, pages for weights. */
static void lay_out(const struct plan *p)
{
    uint64_t *size = calloc(p->n_tensors + 1, sizeof *size), *off = calloc(p->n_tensors + 1, sizeof *off), total;
    struct weights_slot *slot = calloc(p->n_tensors + 1, sizeof *slot);
    if (!size || !off || !slot)
        abort();
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        uint64_t e = plan_tensor_elems(p, (int32_t)i, 2);
        size[i] = e > (1ull << 40) ? 0 : e * 4;
    }
    act_arena_plan(p, size, 64, off, &total);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        size[i] = p->tensors[i].kind == PLAN_WEIGHT ? size[i] : 0;
    struct weights_pages wp;
    uint32_t too_big;
    weights_pages_pack(size, p->n_tensors, 4096, 64, slot, &wp, &too_big);
    free(size);
    free(off);
    free(slot);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = {data, size};
    if (next(&r) & 1)
        write_structured(&r);
    else
        write_raw(&r);
    char err[512], resolved[512];
    struct model_info m;
    model_info_load(&m, prefix, 1u << 20, err, sizeof err);
    struct plan p;
    memset(&p, 0, sizeof p);
    if (plan_load(&p, prefix, err, sizeof err) == 0) {
        if (plan_validate(&p, err, sizeof err) != 0)
            abort(); /* plan_load validates */
        lay_out(&p);
        plan_free(&p);
    }
    char path[600];
    snprintf(path, sizeof path, "%.*s", (int)(size < 500 ? size : 500), (const char *)data);
    model_path_resolve("/zoo", path, resolved, sizeof resolved, err, sizeof err);
    return 0;
}

static void remove_files(void)
{
    static const char *suffix[] = {".info", ".measurements", ".plan", ".weights"};
    char path[96];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s%s", prefix, suffix[i]);
        unlink(path);
    }
}

/* libconfig 1.5's scanner leaks its string buffer on some parse errors (an unterminated string
 * after a value, e.g. `P1";P1"0`): not ours to fix, and a worker only parses its own model
 * files, so LeakSanitizer is told to ignore leaks from inside libconfig. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libconfig.so\n"; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(prefix, sizeof prefix, "/tmp/cw_fuzz_model_%d", (int)getpid());
    atexit(remove_files);
    return 0;
}
