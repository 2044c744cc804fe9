/* A one-shot timer with nanosecond resolution on a libuv loop, for schedulers that want to be
 * woken exactly at their next decision (INFER6) rather than on a millisecond tick (libuv
 * timers have millisecond resolution): a timerfd on CLOCK_REALTIME, the scheduler's clock,
 * watched by a uv_poll handle. The caller owns the struct; close it before the loop closes. */
#ifndef CW_WAKE_TIMER_H
#define CW_WAKE_TIMER_H
#include <stdint.h>
#include <uv.h>

struct wake_timer;
typedef void (*wake_timer_cb)(struct wake_timer *t, void *data);

struct wake_timer {
    uv_poll_t poll;
    int fd;
    uint64_t armed; /* absolute CLOCK_REALTIME ns; UINT64_MAX when disarmed */
    wake_timer_cb cb;
    void *data;
};

/* 0, or -1 (errno set) when no timerfd can be made. */
int wake_timer_init(uv_loop_t *loop, struct wake_timer *t, wake_timer_cb cb, void *data);
/* Fires once at `at` (at once if it has passed); UINT64_MAX disarms. Re-arming to the time
 * already armed costs nothing. */
void wake_timer_arm(struct wake_timer *t, uint64_t at);
void wake_timer_close(struct wake_timer *t);

#endif
