/* The worker's model registry: model id -> model info, filled by LoadModelFromDisk. Copies
 * of one model share a single info. Used from the network thread only; infos stay valid
 * until registry_destroy, so tasks on executor threads may hold pointers to them. */
#ifndef CW_REGISTRY_H
#define CW_REGISTRY_H
#include "model/model_info.h"
#include <stddef.h>
#include <stdint.h>

#define REGISTRY_MAX_MODEL_ID (1 << 24)

struct model_registry {
    const struct model_info **by_id; /* by_id[id] or NULL */
    size_t cap;                      /* slots in by_id */
    struct model_info **infos;       /* owned, one per LoadModelFromDisk */
    size_t n_infos, infos_cap;
    size_t count; /* registered ids */
    /* Optional: releases an info's backend_data on registry_destroy (set after registry_init). */
    void (*free_data)(void *ctx, struct model_info *m);
    void *free_ctx;
};

void registry_init(struct model_registry *r);
void registry_destroy(struct model_registry *r);
const struct model_info *registry_get(const struct model_registry *r, int32_t id);
/* 1 if ids first..first+copies-1 are all valid and unused. */
int registry_ids_free(const struct model_registry *r, int32_t first, int32_t copies);
/* 1 if ids first..first+copies-1 are all registered for the model at `path`: a restarted
 * controller re-sending its LoadModelFromDisk is then answered as a success. */
int registry_holds(const struct model_registry *r, int32_t first, int32_t copies, const char *path);
/* Registers those ids sharing a copy of `info`. Returns 0, or -1 (ids not free / out of memory). */
int registry_add(struct model_registry *r, int32_t first, int32_t copies, const struct model_info *info);
/* Sum of the distinct models' weights held in host memory. */
uint64_t registry_host_bytes(const struct model_registry *r);

#endif
