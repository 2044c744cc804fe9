#include "registry.h"
#include <stdlib.h>
#include <string.h>

void registry_init(struct model_registry *r) { memset(r, 0, sizeof *r); }

void registry_destroy(struct model_registry *r)
{
    for (size_t i = 0; i < r->n_infos; i++) {
        if (r->free_data && r->infos[i]->backend_data)
            r->free_data(r->free_ctx, r->infos[i]);
        free(r->infos[i]);
    }
    free(r->infos);
    free(r->by_id);
    memset(r, 0, sizeof *r);
}

const struct model_info *registry_get(const struct model_registry *r, int32_t id)
{
    if (id < 0 || (size_t)id >= r->cap)
        return NULL;
    return r->by_id[id];
}

int registry_ids_free(const struct model_registry *r, int32_t first, int32_t copies)
{
    if (first < 0 || copies < 1 || (int64_t)first + copies > REGISTRY_MAX_MODEL_ID)
        return 0;
    for (int32_t i = 0; i < copies; i++)
        if (registry_get(r, first + i))
            return 0;
    return 1;
}

static int grow_ids(struct model_registry *r, size_t need)
{
    if (need <= r->cap)
        return 0;
    size_t n = r->cap ? r->cap : 64;
    while (n < need)
        n *= 2;
    const struct model_info **p = realloc(r->by_id, n * sizeof *p);
    if (!p)
        return -1;
    memset(p + r->cap, 0, (n - r->cap) * sizeof *p);
    r->by_id = p;
    r->cap = n;
    return 0;
}

static int grow_infos(struct model_registry *r)
{
    if (r->n_infos < r->infos_cap)
        return 0;
    size_t n = r->infos_cap ? r->infos_cap * 2 : 16;
    struct model_info **p = realloc(r->infos, n * sizeof *p);
    if (!p)
        return -1;
    r->infos = p;
    r->infos_cap = n;
    return 0;
}

int registry_holds(const struct model_registry *r, int32_t first, int32_t copies, const char *path)
{
    if (first < 0 || copies < 1 || (int64_t)first + copies > REGISTRY_MAX_MODEL_ID)
        return 0;
    for (int32_t i = 0; i < copies; i++) {
        const struct model_info *m = registry_get(r, first + i);
        if (!m || strcmp(m->source, path) != 0)
            return 0;
    }
    return 1;
}

int registry_add(struct model_registry *r, int32_t first, int32_t copies, const struct model_info *info)
{
    if (!registry_ids_free(r, first, copies))
        return -1;
    if (grow_ids(r, (size_t)first + (size_t)copies) != 0 || grow_infos(r) != 0)
        return -1;
    struct model_info *m = malloc(sizeof *m);
    if (!m)
        return -1;
    *m = *info;
    r->infos[r->n_infos++] = m;
    for (int32_t i = 0; i < copies; i++)
        r->by_id[first + i] = m;
    r->count += (size_t)copies;
    return 0;
}

uint64_t registry_host_bytes(const struct model_registry *r)
{
    uint64_t total = 0;
    for (size_t i = 0; i < r->n_infos; i++)
        total += r->infos[i]->weights_size;
    return total;
}
