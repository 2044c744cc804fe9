#include "page_cache.h"
#include <stdlib.h>
#include <string.h>

int page_cache_init(struct page_cache *pc, uint64_t cache_size, uint64_t page_size)
{
    memset(pc, 0, sizeof *pc);
    if (page_size == 0 || cache_size / page_size > 0x7FFFFFFFu)
        return -1;
    pc->page_size = page_size;
    pc->total_pages = (unsigned)(cache_size / page_size);
    size_t n = pc->total_pages ? pc->total_pages : 1;
    pc->free_pages = malloc(n * sizeof *pc->free_pages);
    pc->used = calloc(n, 1);
    if (!pc->free_pages || !pc->used) {
        page_cache_destroy(pc);
        return -1;
    }
    /* Stack top = page 0, so a fresh cache hands out pages in ascending order. */
    for (unsigned i = 0; i < pc->total_pages; i++)
        pc->free_pages[i] = pc->total_pages - 1 - i;
    pc->n_free = pc->total_pages;
    return 0;
}

void page_cache_destroy(struct page_cache *pc)
{
    free(pc->free_pages);
    free(pc->used);
    memset(pc, 0, sizeof *pc);
}

int page_cache_alloc(struct page_cache *pc, unsigned n, unsigned *out)
{
    if (n > pc->n_free)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        unsigned p = pc->free_pages[--pc->n_free];
        pc->used[p] = 1;
        out[i] = p;
    }
    return 0;
}

int page_cache_free(struct page_cache *pc, const unsigned *pages, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned p = pages[i];
        if (p >= pc->total_pages || !pc->used[p])
            return -1;
        pc->used[p] = 0;
        pc->free_pages[pc->n_free++] = p;
    }
    return 0;
}

unsigned page_cache_free_count(const struct page_cache *pc) { return pc->n_free; }
unsigned page_cache_used_count(const struct page_cache *pc) { return pc->total_pages - pc->n_free; }
