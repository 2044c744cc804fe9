/* Emulated device: no computation, each operation just takes its profiled time
 * (model.measurements). It returns at once with the end time; the worker's executor holds
 * the device until then with a precise wait, as it waits for every action's start. */
#ifndef CW_EMU_BACKEND_H
#define CW_EMU_BACKEND_H
#include "backend/backend.h"

#define EMU_DEFAULT_CLOCK_MHZ 1380 /* a V100 pinned at its top graphics clock */

/* Returns 0 and fills `out`, or -1 (out of memory). Free with out->ops->destroy(out->impl). */
int emu_backend_create(struct backend *out, unsigned clock_mhz);
/* A worker backend factory (worker_options.make_backend) for emulated devices; ctx: NULL for
 * the default clock, or a pointer to an unsigned clock in MHz. */
int emu_backend_factory(unsigned gpu_id, struct backend *out, void *ctx);

#endif
