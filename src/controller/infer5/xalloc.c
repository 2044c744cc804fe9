#include "controller/infer5/xalloc.h"
#include <stdio.h>
#include <stdlib.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "scheduler: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

void xgrow(void *arr, unsigned *cap, unsigned need, size_t elem)
{
    if (need <= *cap)
        return;
    unsigned c = *cap ? *cap : 4;
    while (c < need)
        c *= 2;
    void **a = arr;
    *a = xrealloc(*a, (size_t)c * elem);
    *cap = c;
}
