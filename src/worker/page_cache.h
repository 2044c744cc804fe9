/* A device's weights cache cut into fixed-size pages with exact accounting. A model's
 * weights take a whole number of pages, which need not be contiguous. Not thread-safe:
 * the owning device serialises access with its own lock. */
#ifndef CW_PAGE_CACHE_H
#define CW_PAGE_CACHE_H
#include <stdint.h>

struct page_cache {
    uint64_t page_size;
    unsigned total_pages;
    unsigned n_free;
    unsigned *free_pages; /* stack of free page indices, n_free valid */
    uint8_t *used;        /* per page: 1 if allocated (detects double frees) */
};

/* total_pages = floor(cache_size / page_size). Returns 0 or -1 (bad sizes, out of memory). */
int page_cache_init(struct page_cache *pc, uint64_t cache_size, uint64_t page_size);
void page_cache_destroy(struct page_cache *pc);

/* Takes n pages into out[0..n-1]. Returns 0, or -1 when fewer than n are free (nothing taken). */
int page_cache_alloc(struct page_cache *pc, unsigned n, unsigned *out);
/* Returns pages to the cache. Returns 0, or -1 if a page is out of range or not allocated
 * (the valid ones before it are still freed). */
int page_cache_free(struct page_cache *pc, const unsigned *pages, unsigned n);

unsigned page_cache_free_count(const struct page_cache *pc);
unsigned page_cache_used_count(const struct page_cache *pc);

#endif
