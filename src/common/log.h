/* Minimal leveled logging to stderr/stdout. Info goes to stdout (the status lines users
 * read, as in the original); warnings and errors go to stderr with a level prefix. Every
 * line is one line: control characters in it are escaped and it is cut at LOG_LINE_MAX, so
 * a string a peer chose can neither forge a line nor flood the log. */
#ifndef CW_LOG_H
#define CW_LOG_H
#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 4096 /* bytes of a formatted line kept (before escaping) */
#define LOG_PEER_MAX 256  /* bytes of a peer's string shown by log_escape */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Also hands every message that passes the level to fn (formatted, escaped, no newline), from
 * the thread that logs it; NULL: none. For tests that check what a component reported. */
typedef void (*log_observer_fn)(void *data, enum log_level level, const char *line);
void log_set_observer(log_observer_fn fn, void *data);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* A peer's string for a log line or a message: bytes outside printable ASCII and '\' become
 * \xNN, and after LOG_PEER_MAX bytes it is cut with a note of how much more there was.
 * Returns out, always terminated. */
#define LOG_ESCAPED_SIZE (4 * LOG_PEER_MAX + 48)
char *log_escape(char out[LOG_ESCAPED_SIZE], const char *s);

/* At most LOG_LIMIT_BURST lines per second of one kind (e.g. refused connections), so that a
 * peer cannot flood the log; the next line let through says how many were suppressed. */
#define LOG_LIMIT_BURST 5
struct log_limit {
    uint64_t window_start; /* ns, any monotonic clock */
    unsigned in_window;
    unsigned long long suppressed;
};
/* 1 if a line may be logged at `now`, with *suppressed set to the lines dropped since the
 * last one let through (then reset); 0 if this one is to be dropped. */
int log_limit_allow(struct log_limit *l, uint64_t now, unsigned long long *suppressed);

#endif
