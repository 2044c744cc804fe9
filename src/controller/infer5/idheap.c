#include "controller/infer5/idheap.h"
#include "controller/infer5/xalloc.h"
#include <stdlib.h>

int idheap_key_less(struct idheap_key a, struct idheap_key b) { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); }

void idheap_init(struct idheap *h)
{
    h->n = 0;
    h->len = h->cap = 0;
}

void idheap_free(struct idheap *h)
{
    free(h->n);
    idheap_init(h);
}

static void place(struct idheap *h, unsigned i, struct idheap_node node)
{
    h->n[i] = node;
    *node.pos = i;
}

static void sift_up(struct idheap *h, unsigned i)
{
    struct idheap_node node = h->n[i];
    while (i > 0) {
        unsigned parent = (i - 1) / 2;
        if (!idheap_key_less(node.key, h->n[parent].key))
            break;
        place(h, i, h->n[parent]);
        i = parent;
    }
    place(h, i, node);
}

static void sift_down(struct idheap *h, unsigned i)
{
    struct idheap_node node = h->n[i];
    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && idheap_key_less(h->n[c + 1].key, h->n[c].key))
            c++;
        if (!idheap_key_less(h->n[c].key, node.key))
            break;
        place(h, i, h->n[c]);
        i = c;
    }
    place(h, i, node);
}

void idheap_push(struct idheap *h, struct idheap_key k, void *item, unsigned *pos)
{
    xgrow(&h->n, &h->cap, h->len + 1, sizeof h->n[0]);
    h->n[h->len] = (struct idheap_node){k, item, pos};
    *pos = h->len;
    h->len++;
    sift_up(h, h->len - 1);
}

void idheap_update(struct idheap *h, unsigned pos, struct idheap_key k)
{
    struct idheap_key old = h->n[pos].key;
    h->n[pos].key = k;
    if (idheap_key_less(k, old))
        sift_up(h, pos);
    else
        sift_down(h, pos);
}

void *idheap_remove(struct idheap *h, unsigned pos)
{
    struct idheap_node gone = h->n[pos];
    *gone.pos = IDHEAP_NONE;
    h->len--;
    if (pos < h->len) {
        struct idheap_node last = h->n[h->len];
        h->n[pos] = last;
        *last.pos = pos;
        sift_up(h, pos);
        sift_down(h, *last.pos);
    }
    return gone.item;
}
