/* The residency rules of one device's weights cache, pure and not thread-safe: which models
 * hold pages, whether their transfer has finished, and a per-model version that every load
 * start and evict bumps (so a check after a transfer or an inference detects an evict in
 * between). The threaded device (under its lock) and the simulator's device share it. */
#ifndef CW_WEIGHTS_CACHE_H
#define CW_WEIGHTS_CACHE_H
#include "page_cache.h"
#include <stddef.h>
#include <stdint.h>

struct wc_entry {
    unsigned *pages; /* NULL when not resident */
    unsigned npages;
    int ready;        /* transfer complete */
    uint64_t version; /* bumped by every load start and evict */
};

struct weights_cache {
    struct page_cache pages;
    struct wc_entry *models; /* indexed by model id, grown on demand */
    size_t n_models;
};

/* 0, or -1 for bad sizes / out of memory (see page_cache_init). */
int weights_cache_init(struct weights_cache *wc, uint64_t cache_size, uint64_t page_size);
void weights_cache_destroy(struct weights_cache *wc);

/* LoadWeights starts: takes npages for the model. 0 with *version, or ACTION_LOAD_WEIGHTS_
 * ALREADY_LOADED (21), ..._INSUFFICIENT_CACHE (53), ACTION_RUNTIME_ERROR (bad id, no memory). */
int weights_cache_load_begin(struct weights_cache *wc, int32_t model, unsigned npages, uint64_t *version);
/* LoadWeights ends with the transfer's status: on success the weights become ready, unless
 * they were evicted meanwhile (ACTION_LOAD_WEIGHTS_CONCURRENT_EVICT, 54); a failed transfer
 * frees the pages and its status is returned. */
int weights_cache_load_end(struct weights_cache *wc, int32_t model, uint64_t version, int status);
/* EvictWeights: 0, or ACTION_EVICT_WEIGHTS_NOT_PRESENT (63). */
int weights_cache_evict(struct weights_cache *wc, int32_t model);
/* Infer starts: 0 with the weights' *version, or ACTION_EXEC_WEIGHTS_NOT_PRESENT (82). */
int weights_cache_infer_begin(const struct weights_cache *wc, int32_t model, uint64_t *version);
/* Infer ends: 0, or ACTION_EXEC_WEIGHTS_CHANGED (84) if evicted or reloaded meanwhile. */
int weights_cache_infer_end(const struct weights_cache *wc, int32_t model, uint64_t version);
/* ClearCache: evicts every model (in-flight loads then end with 53). */
void weights_cache_clear(struct weights_cache *wc);

/* The model's pages (NULL if not resident); valid until the next change. */
const unsigned *weights_cache_pages(const struct weights_cache *wc, int32_t model, unsigned *n);
int weights_cache_ready(const struct weights_cache *wc, int32_t model);
/* Ids of the resident models (loaded or loading), ascending; caller frees; 0 if none/no memory. */
size_t weights_cache_resident(const struct weights_cache *wc, int32_t **ids);
unsigned weights_cache_total_pages(const struct weights_cache *wc);
unsigned weights_cache_free_pages(const struct weights_cache *wc);

#endif
