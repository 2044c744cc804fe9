/* A set of small integers (0..n-1) kept as a hierarchy of 64-bit words, each bit of a level
 * saying whether a word below has any member: add, remove, membership and "the smallest member
 * from i on" cost O(log64 n), a few word operations for any realistic n, with no scan. */
#ifndef CW_INFER5_IDSET_H
#define CW_INFER5_IDSET_H
#include <stdint.h>

#define IDSET_MAX_LEVELS 6 /* 64^6 > 2^32 */

struct idset {
    unsigned n, levels;
    uint64_t *words[IDSET_MAX_LEVELS]; /* [0]: one bit per member; [k]: one per word of [k-1] */
    unsigned count;
};

void idset_init(struct idset *s, unsigned n);
void idset_free(struct idset *s);
int idset_has(const struct idset *s, unsigned i);
void idset_add(struct idset *s, unsigned i);
void idset_remove(struct idset *s, unsigned i);
/* The smallest member >= i, or -1. */
long idset_next(const struct idset *s, unsigned i);

#endif
