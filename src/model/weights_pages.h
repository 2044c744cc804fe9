/* Where each weight of a model lives in the weights cache: weights are packed in plan order
 * into pages of the cache's page size, each aligned and never straddling a page, so a model
 * occupies a whole number of pages that need not be contiguous (DESIGN §5). */
#ifndef CW_MODEL_WEIGHTS_PAGES_H
#define CW_MODEL_WEIGHTS_PAGES_H
#include <stdint.h>

struct weights_slot {
    unsigned page;   /* index among the model's pages */
    uint64_t offset; /* bytes from the start of that page */
};

struct weights_pages {
    unsigned n_pages;
    uint64_t last_page_used; /* bytes used in the last page */
};

/* size[i]: bytes of item i in the cache (0: not a weight, no slot). Each item starts at a
 * multiple of `align` (a power of two). Fills slot[i] for every item of non-zero size.
 * Returns -1 and the offending index in *too_big if an item exceeds a page, else 0. */
int weights_pages_pack(const uint64_t *size, uint32_t n, uint64_t page_size, uint64_t align, struct weights_slot *slot,
                       struct weights_pages *out, uint32_t *too_big);

#endif
