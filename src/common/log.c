#include "log.h"
#include <stdarg.h>
#include <stdio.h>

static enum log_level min_level = LOG_INFO;
static log_observer_fn observer;
static void *observer_data;

void log_set_level(enum log_level level) { min_level = level; }

void log_set_observer(log_observer_fn fn, void *data)
{
    observer = fn;
    observer_data = data;
}

static void notify(enum log_level level, const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    observer(observer_data, level, line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    FILE *out = level >= LOG_WARN ? stderr : stdout;
    if (level == LOG_WARN)
        fputs("WARN: ", out);
    else if (level == LOG_ERROR)
        fputs("ERROR: ", out);
    va_list ap;
    va_start(ap, fmt);
    if (observer) {
        va_list copy;
        va_copy(copy, ap);
        notify(level, fmt, copy);
        va_end(copy);
    }
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}
