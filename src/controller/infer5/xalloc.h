/* Allocation helpers for the scheduler: the controller cannot make progress without
 * memory, so running out is fatal and reported once, instead of being checked at every
 * call site. */
#ifndef CW_INFER5_XALLOC_H
#define CW_INFER5_XALLOC_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *arr (elements of size elem) so that it holds at least need elements. */
void xgrow(void *arr, unsigned *cap, unsigned need, size_t elem);

#endif
