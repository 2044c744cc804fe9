#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level min_level = LOG_INFO;
static log_observer_fn observer;
static void *observer_data;

void log_set_level(enum log_level level) { min_level = level; }

void log_set_observer(log_observer_fn fn, void *data)
{
    observer = fn;
    observer_data = data;
}

/* A log line escapes control characters; a peer's string (strict) also '\\' and non-ASCII bytes,
 * so that what is shown is unambiguous whatever the peer sent. */
static int plain(unsigned char c, int strict) { return c >= 0x20 && c != 0x7f && (!strict || (c < 0x7f && c != '\\')); }

/* Escapes n bytes of s into out (room for 4 * n + 1). Returns the length written. */
static size_t escape_bytes(char *out, const char *s, size_t n, int strict)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (plain(c, strict)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\', out[o++] = 'x', out[o++] = hex[c >> 4], out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

char *log_escape(char out[LOG_ESCAPED_SIZE], const char *s)
{
    size_t n = s ? strlen(s) : 0;
    size_t o = escape_bytes(out, s ? s : "", n > LOG_PEER_MAX ? LOG_PEER_MAX : n, 1);
    if (n > LOG_PEER_MAX)
        snprintf(out + o, LOG_ESCAPED_SIZE - o, "...(+%zu bytes)", n - LOG_PEER_MAX);
    return out;
}

int log_limit_allow(struct log_limit *l, uint64_t now, unsigned long long *suppressed)
{
    if (now - l->window_start >= 1000000000ull || now < l->window_start) {
        l->window_start = now;
        l->in_window = 0;
    }
    if (l->in_window >= LOG_LIMIT_BURST) {
        l->suppressed++;
        return 0;
    }
    l->in_window++;
    *suppressed = l->suppressed;
    l->suppressed = 0;
    return 1;
}

/* Formats one line, cut at LOG_LINE_MAX, and escapes what is not printable (a newline in a
 * peer's string would otherwise start a forged line). */
static void format_line(char *out, const char *fmt, va_list ap)
{
    char raw[LOG_LINE_MAX + 1];
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n > LOG_LINE_MAX ? LOG_LINE_MAX : (size_t)n;
    size_t o = 0;
    while (o < len && plain((unsigned char)raw[o], 0)) /* most lines need no escaping */
        o++;
    memcpy(out, raw, o);
    o += escape_bytes(out + o, raw + o, len - o, 0);
    if (n > LOG_LINE_MAX)
        snprintf(out + o, 48, "...(cut, %d bytes)", n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char line[4 * LOG_LINE_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    format_line(line, fmt, ap);
    va_end(ap);
    if (observer)
        observer(observer_data, level, line);
    FILE *out = level >= LOG_WARN ? stderr : stdout;
    fprintf(out, "%s%s\n", level == LOG_WARN ? "WARN: " : level == LOG_ERROR ? "ERROR: " : "", line);
    fflush(out);
}
