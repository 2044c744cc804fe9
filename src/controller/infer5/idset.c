#include "controller/infer5/idset.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>

static unsigned words_for(unsigned bits) { return (bits + 63) / 64; }

void idset_init(struct idset *s, unsigned n)
{
    s->n = n;
    s->count = 0;
    s->levels = 0;
    unsigned bits = n ? n : 1;
    do {
        s->words[s->levels++] = xcalloc(words_for(bits), sizeof(uint64_t));
        bits = words_for(bits);
    } while (bits > 1);
}

void idset_free(struct idset *s)
{
    for (unsigned l = 0; l < s->levels; l++)
        free(s->words[l]);
    s->levels = 0;
}

int idset_has(const struct idset *s, unsigned i) { return i < s->n && (s->words[0][i / 64] >> (i % 64) & 1); }

void idset_add(struct idset *s, unsigned i)
{
    if (idset_has(s, i) || i >= s->n)
        return;
    s->count++;
    for (unsigned l = 0; l < s->levels; l++, i /= 64) {
        uint64_t before = s->words[l][i / 64];
        s->words[l][i / 64] = before | 1ULL << (i % 64);
        if (before)
            return; /* the levels above already know this word has members */
    }
}

void idset_remove(struct idset *s, unsigned i)
{
    if (!idset_has(s, i))
        return;
    s->count--;
    for (unsigned l = 0; l < s->levels; l++, i /= 64) {
        s->words[l][i / 64] &= ~(1ULL << (i % 64));
        if (s->words[l][i / 64])
            return;
    }
}

long idset_next(const struct idset *s, unsigned i)
{
    if (i >= s->n)
        return -1;
    unsigned l = 0, bits = s->n;
    uint64_t at = i;
    for (;;) { /* up until some word holds a member at or after `at` */
        uint64_t w = s->words[l][at / 64] & (~0ULL << (at % 64));
        if (w) {
            at = at / 64 * 64 + (uint64_t)__builtin_ctzll(w);
            break;
        }
        at = at / 64 + 1;
        bits = words_for(bits);
        if (++l == s->levels || at >= bits)
            return -1;
    }
    while (l-- > 0) /* down along the first member of each word */
        at = at * 64 + (uint64_t)__builtin_ctzll(s->words[l][at]);
    return (long)at;
}
