/* Minimal leveled logging to stderr/stdout. Info goes to stdout (the status lines users
 * read, as in the original); warnings and errors go to stderr with a level prefix. */
#ifndef CW_LOG_H
#define CW_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Also hands every message that passes the level to fn (formatted, no newline), from the
 * thread that logs it; NULL: none. For tests that check what a component reported. */
typedef void (*log_observer_fn)(void *data, enum log_level level, const char *line);
void log_set_observer(log_observer_fn fn, void *data);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
