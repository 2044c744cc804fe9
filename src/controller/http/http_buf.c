#include "http_buf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void http_buf_init(struct http_buf *b) { memset(b, 0, sizeof *b); }

void http_buf_free(struct http_buf *b)
{
    free(b->data);
    http_buf_init(b);
}

/* Room for n more bytes and a NUL; 0, or -1 (failed). */
static int reserve(struct http_buf *b, size_t n)
{
    if (b->failed)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void http_buf_append(struct http_buf *b, const void *data, size_t len)
{
    if (len == 0 || reserve(b, len) != 0)
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void http_buf_puts(struct http_buf *b, const char *s) { http_buf_append(b, s, strlen(s)); }

void http_buf_printf(struct http_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int http_buf_failed(const struct http_buf *b) { return b->failed; }

char *http_buf_take(struct http_buf *b, size_t *len)
{
    if (b->failed || reserve(b, 0) != 0) {
        http_buf_free(b);
        return NULL;
    }
    char *d = b->data;
    *len = b->len;
    http_buf_init(b);
    return d;
}
