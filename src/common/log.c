#include "log.h"
#include <stdarg.h>
#include <stdio.h>

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level level) { min_level = level; }

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
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}
