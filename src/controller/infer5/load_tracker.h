/* Load tracker: per model the outstanding demand (normalised exec time of its queued and
 * running requests) and the GPUs holding or loading it. Demand is split evenly over the
 * holders; a GPU whose share exceeds its capacity leaves demand uncovered. The model with
 * the most uncovered demand (models without any copy first) is the next to load. */
#ifndef CW_INFER5_LOAD_TRACKER_H
#define CW_INFER5_LOAD_TRACKER_H
#include <stdint.h>

struct load_tracker;

/* capacity: the demand one GPU can absorb (ns of exec work per default-SLO window). */
struct load_tracker *load_tracker_create(unsigned n_models, unsigned n_gpus, uint64_t capacity);
void load_tracker_destroy(struct load_tracker *lt);
/* Calls watch(data, gpu, load) whenever a GPU's load changes (one watcher; NULL: none). */
void load_tracker_watch(struct load_tracker *lt, void (*watch)(void *data, unsigned gpu, uint64_t load), void *data);
/* Models added while serving: ids up to n_models - 1 become valid (no demand, no copy). */
void load_tracker_grow(struct load_tracker *lt, unsigned n_models);

void load_tracker_add_demand(struct load_tracker *lt, unsigned model, uint64_t d);
void load_tracker_remove_demand(struct load_tracker *lt, unsigned model, uint64_t d);
/* A copy is counted from the moment its load is sent until it is evicted or fails. */
void load_tracker_add_copy(struct load_tracker *lt, unsigned model, unsigned gpu);
void load_tracker_remove_copy(struct load_tracker *lt, unsigned model, unsigned gpu);

uint64_t load_tracker_demand(const struct load_tracker *lt, unsigned model);
unsigned load_tracker_copies(const struct load_tracker *lt, unsigned model);
int load_tracker_holds(const struct load_tracker *lt, unsigned model, unsigned gpu);
uint64_t load_tracker_gpu_load(const struct load_tracker *lt, unsigned gpu);
/* Whether some model would benefit from another copy. */
int load_tracker_has_candidates(const struct load_tracker *lt);
/* Whether load_tracker_next_load could find a model for gpu at all, in O(1): a GPU at capacity
 * only takes models that have no copy yet, and those come first among the candidates. */
int load_tracker_may_load(const struct load_tracker *lt, unsigned gpu);
/* Whether a model without any copy is a candidate (any GPU that does not hold it may take it). */
int load_tracker_wants_first_copy(const struct load_tracker *lt);
/* Whether the GPU's load is under capacity (only such a GPU takes an extra copy of a model). */
int load_tracker_gpu_spare(const struct load_tracker *lt, unsigned gpu);

/* Whether the model is a candidate (some of its demand is uncovered, as last measured). */
int load_tracker_is_candidate(const struct load_tracker *lt, unsigned model);
/* How many candidates gpu holds already (none of them can go there): kept as candidates and
 * copies change, so that a GPU holding them all is refused in O(1). */
unsigned load_tracker_held_candidates(const struct load_tracker *lt, unsigned gpu);

/* How many priorities load_tracker_next_load has refreshed so far (its only change to the
 * tracker: a search that refreshed none and found nothing would find nothing again). */
uint64_t load_tracker_refreshes(const struct load_tracker *lt);

/* The model that most needs a copy on gpu and that `fits` accepts (e.g. enough pages
 * after evictions), or -1. Does not record the copy: call load_tracker_add_copy when loading. */
int load_tracker_next_load(struct load_tracker *lt, unsigned gpu, int (*fits)(void *ctx, unsigned model), void *ctx);

#endif
