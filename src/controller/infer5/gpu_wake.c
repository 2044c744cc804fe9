#include "controller/infer5/gpu_wake.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>

void gpu_wake_init(struct gpu_wake *w, unsigned n_gpus)
{
    idheap_init(&w->due);
    w->due_pos = xcalloc(n_gpus ? n_gpus : 1, sizeof w->due_pos[0]);
    for (unsigned g = 0; g < n_gpus; g++)
        w->due_pos[g] = IDHEAP_NONE;
    idset_init(&w->marked, n_gpus);
    w->next_min = 0;
}

void gpu_wake_free(struct gpu_wake *w)
{
    idheap_free(&w->due);
    free(w->due_pos);
    idset_free(&w->marked);
}

void gpu_wake_mark(struct gpu_wake *w, unsigned g) { idset_add(&w->marked, g); }

void gpu_wake_ran(struct gpu_wake *w, unsigned g, uint64_t t)
{
    idset_remove(&w->marked, g);
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

int gpu_wake_any_marked(const struct gpu_wake *w) { return idset_next(&w->marked, 0) >= 0; }

uint64_t gpu_wake_next(const struct gpu_wake *w) { return w->due.len ? idheap_top_key(&w->due).hi : GPU_WAKE_NEVER; }

void gpu_wake_begin(struct gpu_wake *w, uint64_t now)
{
    w->next_min = 0;
    while (w->due.len && idheap_top_key(&w->due).hi <= now) {
        unsigned g = idheap_top_key(&w->due).lo;
        idheap_remove(&w->due, 0);
        idset_add(&w->marked, g);
    }
}

/* Marks below next_min stay in the set for the next tick: a scan has passed them. */
int gpu_wake_step(struct gpu_wake *w)
{
    long g = idset_next(&w->marked, w->next_min);
    if (g < 0)
        return -1;
    idset_remove(&w->marked, (unsigned)g);
    w->next_min = (unsigned)g + 1;
    return (int)g;
}
