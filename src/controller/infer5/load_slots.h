/* Which GPUs a load pass offers the wanted models to, least loaded first (ties to the lower
 * index). A GPU is open while it can take another LoadWeights; it becomes offerable once its
 * load timeline is within reach (ready_at). A pass sees the GPUs' order as it was when the
 * pass began, like a sort done then: loads and openings reported during a pass apply after
 * it. Openings cost O(log n) in GPUs, a load report O(1) (the order is brought up to date
 * when a pass begins, O(log n) per GPU whose load changed), a pass O(log n) per GPU offered. */
#ifndef CW_INFER5_LOAD_SLOTS_H
#define CW_INFER5_LOAD_SLOTS_H
#include "controller/infer5/idheap.h"
#include <stdint.h>

#define LOAD_SLOTS_NEVER UINT64_MAX

struct load_slot {
    uint64_t load, ready_at;
    unsigned pos; /* in whichever heap `where` says */
    unsigned char where, open, stale;
};

struct load_slots {
    unsigned n;
    struct idheap waiting; /* open, not yet offerable: by (ready_at, index) */
    struct idheap offer;   /* offerable: by (load, index) */
    struct load_slot *gpu; /* per GPU: one cache line touched per report */
    uint64_t offer_since;  /* `now` of the last pass: offerable means ready_at <= it */
    unsigned *stale_list;  /* GPUs to re-place when the pass ends */
    unsigned n_stale;
    int passing;
};

void load_slots_init(struct load_slots *ls, unsigned n_gpus);
void load_slots_free(struct load_slots *ls);
/* g can take a load from ready_at on (a time), or not at all (open = 0). */
void load_slots_set_open(struct load_slots *ls, unsigned g, int open, uint64_t ready_at);
/* g's load as the load tracker measures it (the order key). */
void load_slots_set_load(struct load_slots *ls, unsigned g, uint64_t load);
/* Earliest time some open GPU becomes offerable (at most the last pass's now if one already
 * is), LOAD_SLOTS_NEVER if none is open. */
uint64_t load_slots_next_ready(const struct load_slots *ls);

/* Earliest time an open GPU that the last pass could not offer becomes offerable
 * (LOAD_SLOTS_NEVER if none): until then a pass would offer the same GPUs as the last one,
 * as long as no GPU opened, closed or changed its load since. */
uint64_t load_slots_next_new(const struct load_slots *ls);

/* A pass at `now`: returns how many GPUs are offerable; load_slots_next hands them out least
 * loaded first (-1 at the end); load_slots_end_pass re-files them. */
unsigned load_slots_begin_pass(struct load_slots *ls, uint64_t now);
int load_slots_next(struct load_slots *ls);
void load_slots_end_pass(struct load_slots *ls);

#endif
