#include "controller/infer5/action_table.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>

static unsigned hash(uint64_t id, unsigned cap)
{
    id *= 0x9E3779B97F4A7C15ULL;
    return (unsigned)(id >> 32) & (cap - 1);
}

void action_table_init(struct action_table *t)
{
    t->cap = 64;
    t->len = 0;
    t->keys = xcalloc(t->cap, sizeof t->keys[0]);
    t->vals = xcalloc(t->cap, sizeof t->vals[0]);
}

void action_table_free(struct action_table *t)
{
    free(t->keys);
    free(t->vals);
    t->keys = NULL;
    t->vals = NULL;
    t->cap = t->len = 0;
}

static void insert(struct action_table *t, uint64_t id, void *val)
{
    unsigned i = hash(id, t->cap);
    while (t->keys[i])
        i = (i + 1) & (t->cap - 1);
    t->keys[i] = id;
    t->vals[i] = val;
    t->len++;
}

static void rehash(struct action_table *t)
{
    struct action_table old = *t;
    t->cap *= 2;
    t->len = 0;
    t->keys = xcalloc(t->cap, sizeof t->keys[0]);
    t->vals = xcalloc(t->cap, sizeof t->vals[0]);
    for (unsigned i = 0; i < old.cap; i++)
        if (old.keys[i])
            insert(t, old.keys[i], old.vals[i]);
    action_table_free(&old);
}

void action_table_put(struct action_table *t, uint64_t id, void *val)
{
    if (2 * (t->len + 1) > t->cap)
        rehash(t);
    insert(t, id, val);
}

static int find(const struct action_table *t, uint64_t id)
{
    unsigned i = hash(id, t->cap);
    while (t->keys[i]) {
        if (t->keys[i] == id)
            return (int)i;
        i = (i + 1) & (t->cap - 1);
    }
    return -1;
}

void *action_table_get(const struct action_table *t, uint64_t id)
{
    int i = id ? find(t, id) : -1;
    return i < 0 ? NULL : t->vals[i];
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
void *action_table_remove(struct action_table *t, uint64_t id)
{
    int found = id ? find(t, id) : -1;
    if (found < 0)
        return NULL;
    unsigned i = (unsigned)found, mask = t->cap - 1;
    void *val = t->vals[i];
    for (unsigned j = (i + 1) & mask; t->keys[j]; j = (j + 1) & mask) {
        unsigned home = hash(t->keys[j], t->cap);
        /* move j into the hole at i unless its home lies cyclically in (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            t->keys[i] = t->keys[j];
            t->vals[i] = t->vals[j];
            i = j;
        }
    }
    t->keys[i] = 0;
    t->vals[i] = NULL;
    t->len--;
    return val;
}
