/* A growable byte buffer for building HTTP response bodies (JSON, Prometheus text, binary
 * tensors). Running out of memory sticks: later appends do nothing and http_buf_failed says so,
 * so builders check once at the end. */
#ifndef CW_HTTP_BUF_H
#define CW_HTTP_BUF_H
#include <stddef.h>
#include <stdint.h>

struct http_buf {
    char *data; /* malloc'd; the caller owns it (http_buf_take) or frees it (http_buf_free) */
    size_t len, cap;
    int failed;
};

void http_buf_init(struct http_buf *b);
void http_buf_free(struct http_buf *b);
void http_buf_append(struct http_buf *b, const void *data, size_t len);
void http_buf_puts(struct http_buf *b, const char *s);
void http_buf_printf(struct http_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int http_buf_failed(const struct http_buf *b);
/* The contents (malloc'd, NUL-terminated, *len bytes) for the caller to free; the buffer is
 * empty again. NULL if an append had failed (the buffer is freed). */
char *http_buf_take(struct http_buf *b, size_t *len);

#endif
