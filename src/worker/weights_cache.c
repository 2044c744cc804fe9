#include "weights_cache.h"
#include "common/status.h"
#include <stdlib.h>
#include <string.h>

int weights_cache_init(struct weights_cache *wc, uint64_t cache_size, uint64_t page_size)
{
    memset(wc, 0, sizeof *wc);
    return page_cache_init(&wc->pages, cache_size, page_size);
}

void weights_cache_destroy(struct weights_cache *wc)
{
    for (size_t i = 0; i < wc->n_models; i++)
        free(wc->models[i].pages);
    free(wc->models);
    page_cache_destroy(&wc->pages);
    memset(wc, 0, sizeof *wc);
}

/* The entry of id, or NULL if it has none yet. */
static struct wc_entry *find(const struct weights_cache *wc, int32_t id)
{
    return id >= 0 && (size_t)id < wc->n_models ? &wc->models[id] : NULL;
}

/* The entry of id, growing the table; NULL for a negative id or out of memory. */
static struct wc_entry *grow(struct weights_cache *wc, int32_t id)
{
    if (id < 0)
        return NULL;
    size_t i = (size_t)id;
    if (i < wc->n_models)
        return &wc->models[i];
    size_t n = wc->n_models ? wc->n_models : 64;
    while (n <= i)
        n *= 2;
    struct wc_entry *m = realloc(wc->models, n * sizeof *m);
    if (!m)
        return NULL;
    memset(m + wc->n_models, 0, (n - wc->n_models) * sizeof *m);
    wc->models = m;
    wc->n_models = n;
    return &m[i];
}

static void release(struct weights_cache *wc, struct wc_entry *e)
{
    page_cache_free(&wc->pages, e->pages, e->npages);
    free(e->pages);
    e->pages = NULL;
    e->npages = 0;
    e->ready = 0;
    e->version++;
}

int weights_cache_load_begin(struct weights_cache *wc, int32_t model, unsigned npages, uint64_t *version)
{
    struct wc_entry *e = grow(wc, model);
    if (!e)
        return ACTION_RUNTIME_ERROR;
    if (e->pages)
        return ACTION_LOAD_WEIGHTS_ALREADY_LOADED;
    if (npages > page_cache_free_count(&wc->pages))
        return ACTION_LOAD_WEIGHTS_INSUFFICIENT_CACHE;
    unsigned *p = malloc((npages ? npages : 1) * sizeof *p);
    if (!p)
        return ACTION_RUNTIME_ERROR;
    page_cache_alloc(&wc->pages, npages, p);
    e->pages = p;
    e->npages = npages;
    e->ready = 0;
    *version = ++e->version;
    return ACTION_SUCCESS;
}

int weights_cache_load_end(struct weights_cache *wc, int32_t model, uint64_t version, int status)
{
    struct wc_entry *e = find(wc, model);
    if (!e || e->version != version)
        return ACTION_LOAD_WEIGHTS_CONCURRENT_EVICT;
    if (status != ACTION_SUCCESS) {
        release(wc, e);
        return status;
    }
    e->ready = 1;
    return ACTION_SUCCESS;
}

int weights_cache_evict(struct weights_cache *wc, int32_t model)
{
    struct wc_entry *e = find(wc, model);
    if (!e || !e->pages)
        return ACTION_EVICT_WEIGHTS_NOT_PRESENT;
    release(wc, e);
    return ACTION_SUCCESS;
}

int weights_cache_infer_begin(const struct weights_cache *wc, int32_t model, uint64_t *version)
{
    const struct wc_entry *e = find(wc, model);
    if (!e || !e->ready)
        return ACTION_EXEC_WEIGHTS_NOT_PRESENT;
    *version = e->version;
    return ACTION_SUCCESS;
}

int weights_cache_infer_end(const struct weights_cache *wc, int32_t model, uint64_t version)
{
    const struct wc_entry *e = find(wc, model);
    return e && e->ready && e->version == version ? ACTION_SUCCESS : ACTION_EXEC_WEIGHTS_CHANGED;
}

void weights_cache_clear(struct weights_cache *wc)
{
    for (size_t i = 0; i < wc->n_models; i++)
        if (wc->models[i].pages)
            release(wc, &wc->models[i]);
}

const unsigned *weights_cache_pages(const struct weights_cache *wc, int32_t model, unsigned *n)
{
    const struct wc_entry *e = find(wc, model);
    *n = e && e->pages ? e->npages : 0;
    return e ? e->pages : NULL;
}

int weights_cache_ready(const struct weights_cache *wc, int32_t model)
{
    const struct wc_entry *e = find(wc, model);
    return e && e->ready;
}

size_t weights_cache_resident(const struct weights_cache *wc, int32_t **ids)
{
    size_t n = 0;
    for (size_t i = 0; i < wc->n_models; i++)
        n += wc->models[i].pages != NULL;
    *ids = malloc((n ? n : 1) * sizeof **ids);
    if (!*ids)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < wc->n_models; i++)
        if (wc->models[i].pages)
            (*ids)[k++] = (int32_t)i;
    return n;
}

unsigned weights_cache_total_pages(const struct weights_cache *wc) { return wc->pages.total_pages; }
unsigned weights_cache_free_pages(const struct weights_cache *wc) { return page_cache_free_count(&wc->pages); }
