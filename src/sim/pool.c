#include "pool.h"
#include <stdlib.h>
#include <string.h>

void sim_pool_init(struct sim_pool *p, size_t size)
{
    p->size = size < sizeof(void *) ? sizeof(void *) : size;
    p->free = NULL;
}

void *sim_pool_get(struct sim_pool *p)
{
    void *obj = p->free;
    if (!obj)
        return calloc(1, p->size);
    memcpy(&p->free, obj, sizeof p->free);
    memset(obj, 0, p->size);
    return obj;
}

void sim_pool_put(struct sim_pool *p, void *obj)
{
    if (!obj)
        return;
    memcpy(obj, &p->free, sizeof p->free);
    p->free = obj;
}

void sim_pool_destroy(struct sim_pool *p)
{
    while (p->free) {
        void *obj = p->free;
        memcpy(&p->free, obj, sizeof p->free);
        free(obj);
    }
}
