#include "controller/infer5/gpu_wake.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>

enum { NOT_LISTED, LISTED_WANTED, LISTED_CLEAN }; /* deferred[g] */

void gpu_wake_init(struct gpu_wake *w, unsigned n_gpus)
{
    w->n = n_gpus;
    idheap_init(&w->due);
    idheap_init(&w->marked);
    w->due_pos = xcalloc(n_gpus ? n_gpus : 1, sizeof w->due_pos[0]);
    w->marked_pos = xcalloc(n_gpus ? n_gpus : 1, sizeof w->marked_pos[0]);
    w->deferred = xcalloc(n_gpus ? n_gpus : 1, sizeof w->deferred[0]);
    w->later = xcalloc(n_gpus ? n_gpus : 1, sizeof w->later[0]);
    for (unsigned g = 0; g < n_gpus; g++)
        w->due_pos[g] = w->marked_pos[g] = IDHEAP_NONE;
    w->n_later = 0;
    w->passing = 0;
    w->next_min = 0;
}

void gpu_wake_free(struct gpu_wake *w)
{
    idheap_free(&w->due);
    idheap_free(&w->marked);
    free(w->due_pos);
    free(w->marked_pos);
    free(w->deferred);
    free(w->later);
}

void gpu_wake_mark(struct gpu_wake *w, unsigned g)
{
    if (w->marked_pos[g] != IDHEAP_NONE || w->deferred[g] == LISTED_WANTED)
        return;
    if (w->passing && g < w->next_min) {
        if (w->deferred[g] == NOT_LISTED)
            w->later[w->n_later++] = g;
        w->deferred[g] = LISTED_WANTED;
        return;
    }
    idheap_push(&w->marked, (struct idheap_key){0, g}, NULL, &w->marked_pos[g]);
}

void gpu_wake_ran(struct gpu_wake *w, unsigned g, uint64_t t)
{
    if (w->marked_pos[g] != IDHEAP_NONE)
        idheap_remove(&w->marked, w->marked_pos[g]);
    if (w->deferred[g] == LISTED_WANTED)
        w->deferred[g] = LISTED_CLEAN;
    struct idheap_key k = {t, g};
    if (t == GPU_WAKE_NEVER) {
        if (w->due_pos[g] != IDHEAP_NONE)
            idheap_remove(&w->due, w->due_pos[g]);
    } else if (w->due_pos[g] == IDHEAP_NONE) {
        idheap_push(&w->due, k, NULL, &w->due_pos[g]);
    } else {
        idheap_update(&w->due, w->due_pos[g], k);
    }
}

uint64_t gpu_wake_next(const struct gpu_wake *w) { return w->due.len ? idheap_top_key(&w->due).hi : GPU_WAKE_NEVER; }

void gpu_wake_begin(struct gpu_wake *w, uint64_t now)
{
    w->passing = 1;
    w->next_min = 0;
    while (w->due.len && idheap_top_key(&w->due).hi <= now) {
        unsigned g = idheap_top_key(&w->due).lo;
        idheap_remove(&w->due, 0);
        gpu_wake_mark(w, g);
    }
}

int gpu_wake_step(struct gpu_wake *w)
{
    if (!w->marked.len)
        return -1;
    unsigned g = idheap_top_key(&w->marked).lo;
    idheap_remove(&w->marked, 0);
    w->next_min = g + 1;
    return (int)g;
}

void gpu_wake_end(struct gpu_wake *w)
{
    w->passing = 0;
    for (unsigned i = 0; i < w->n_later; i++) {
        unsigned g = w->later[i];
        int wanted = w->deferred[g] == LISTED_WANTED;
        w->deferred[g] = NOT_LISTED;
        if (wanted)
            gpu_wake_mark(w, g);
    }
    w->n_later = 0;
}
