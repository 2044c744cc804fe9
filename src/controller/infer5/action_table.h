/* Outstanding actions by id (open addressing, linear probing), so a worker's result
 * finds the scheduler's record of what was sent in O(1). */
#ifndef CW_INFER5_ACTION_TABLE_H
#define CW_INFER5_ACTION_TABLE_H
#include <stdint.h>

struct action_table {
    uint64_t *keys; /* 0 = empty slot; action ids start at 1 */
    void **vals;
    unsigned cap, len;
};

void action_table_init(struct action_table *t);
void action_table_free(struct action_table *t);
void action_table_put(struct action_table *t, uint64_t id, void *val);
void *action_table_get(const struct action_table *t, uint64_t id);
void *action_table_remove(struct action_table *t, uint64_t id);
/* Iteration: for (i = 0; i < t->cap; i++) if (t->keys[i]) ... t->vals[i] */

#endif
