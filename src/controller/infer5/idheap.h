/* Indexed binary min-heap: each item records its own position, so the scheduler can
 * re-key or remove an entry in O(log n) (request deadlines, per-GPU model urgency,
 * load-tracker priorities). Keys compare lexicographically (hi, then lo). */
#ifndef CW_INFER5_IDHEAP_H
#define CW_INFER5_IDHEAP_H
#include <stdint.h>

#define IDHEAP_NONE UINT32_MAX

struct idheap_key {
    uint64_t hi;
    uint32_t lo;
};

struct idheap_node {
    struct idheap_key key;
    void *item;
    unsigned *pos; /* the item's position field, kept current */
};

struct idheap {
    struct idheap_node *n;
    unsigned len, cap;
};

void idheap_init(struct idheap *h);
void idheap_free(struct idheap *h);
void idheap_push(struct idheap *h, struct idheap_key k, void *item, unsigned *pos);
void idheap_update(struct idheap *h, unsigned pos, struct idheap_key k);
void *idheap_remove(struct idheap *h, unsigned pos);
int idheap_key_less(struct idheap_key a, struct idheap_key b);

static inline void *idheap_top(const struct idheap *h) { return h->len ? h->n[0].item : 0; }
static inline struct idheap_key idheap_top_key(const struct idheap *h) { return h->n[0].key; }

#endif
