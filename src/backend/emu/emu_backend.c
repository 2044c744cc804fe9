#include "emu_backend.h"
#include "common/clock.h"
#include "common/status.h"
#include <stdlib.h>

struct emu_device {
    unsigned clock_mhz;
};

static int emu_load_weights(void *impl, const struct model_info *m, const unsigned *pages, unsigned npages,
                            uint64_t start, uint64_t *end)
{
    (void)impl;
    (void)pages;
    (void)npages;
    *end = start + m->weights_load_ns;
    clock_sleep_until(*end);
    return ACTION_SUCCESS;
}

static int emu_infer(void *impl, const struct model_info *m, const unsigned *pages, unsigned npages,
                     const struct backend_infer_io *io, uint64_t start, struct backend_infer_timing *t)
{
    (void)pages;
    (void)npages;
    const struct emu_device *d = impl;
    int idx = model_info_batch_index(m, io->padded_batch);
    if (idx < 0)
        return ACTION_COPY_INPUT_INVALID_BATCH_SIZE;
    uint64_t exec_end = start + m->exec_ns[idx];
    t->copy_input_begin = t->copy_input_end = start;
    t->exec_begin = start;
    t->exec_end = exec_end;
    t->copy_output_begin = t->copy_output_end = exec_end;
    t->clock_before = t->clock_after = d->clock_mhz;
    clock_sleep_until(exec_end);
    return ACTION_SUCCESS;
}

static void emu_destroy(void *impl) { free(impl); }

static const struct backend_ops emu_ops = {
    .name = "emulated",
    .needs_input = 0,
    .load_weights = emu_load_weights,
    .infer = emu_infer,
    .destroy = emu_destroy,
};

int emu_backend_create(struct backend *out, unsigned clock_mhz)
{
    struct emu_device *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    d->clock_mhz = clock_mhz ? clock_mhz : EMU_DEFAULT_CLOCK_MHZ;
    out->ops = &emu_ops;
    out->impl = d;
    return 0;
}

int emu_backend_factory(unsigned gpu_id, struct backend *out, void *ctx)
{
    (void)gpu_id;
    return emu_backend_create(out, ctx ? *(const unsigned *)ctx : EMU_DEFAULT_CLOCK_MHZ);
}
