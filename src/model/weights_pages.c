#include "weights_pages.h"

int weights_pages_pack(const uint64_t *size, uint32_t n, uint64_t page_size, uint64_t align, struct weights_slot *slot,
                       struct weights_pages *out, uint32_t *too_big)
{
    unsigned page = 0;
    uint64_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (size[i] == 0)
            continue;
        if (size[i] > page_size) {
            *too_big = i;
            return -1;
        }
        uint64_t at = (used + align - 1) & ~(align - 1);
        if (at + size[i] > page_size) {
            page++;
            at = 0;
        }
        slot[i] = (struct weights_slot){page, at};
        used = at + size[i];
    }
    out->n_pages = page + 1;
    out->last_page_used = used;
    return 0;
}
