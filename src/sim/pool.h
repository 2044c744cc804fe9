/* A free list of same-sized objects. The simulator allocates and frees a few objects per
 * request (the request in flight, controller items, device tasks); reusing them skips malloc.
 * Each object is its own malloc block, so one not given back may still be freed with free(). */
#ifndef CW_SIM_POOL_H
#define CW_SIM_POOL_H
#include <stddef.h>

struct sim_pool {
    size_t size;
    void *free; /* objects given back, linked through their first bytes */
};

void sim_pool_init(struct sim_pool *p, size_t size);
/* A zeroed object, or NULL out of memory. */
void *sim_pool_get(struct sim_pool *p);
void sim_pool_put(struct sim_pool *p, void *obj);
/* Frees the objects given back. */
void sim_pool_destroy(struct sim_pool *p);

#endif
