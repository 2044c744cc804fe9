#include "controller/wake_timer.h"
#include "common/clock.h"
#include "common/log.h"
#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void on_readable(uv_poll_t *p, int status, int events)
{
    (void)events;
    struct wake_timer *t = p->data;
    uint64_t expirations;
    if (read(t->fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        log_warn("wake timer: read: %s", strerror(errno));
    if (status < 0 || t->armed == UINT64_MAX)
        return;
    t->armed = UINT64_MAX;
    t->cb(t, t->data);
}

int wake_timer_init(uv_loop_t *loop, struct wake_timer *t, wake_timer_cb cb, void *data)
{
    memset(t, 0, sizeof *t);
    t->armed = UINT64_MAX;
    t->cb = cb;
    t->data = data;
    t->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0)
        return -1;
    if (uv_poll_init(loop, &t->poll, t->fd) != 0) {
        close(t->fd);
        t->fd = -1;
        errno = EINVAL;
        return -1;
    }
    t->poll.data = t;
    uv_poll_start(&t->poll, UV_READABLE, on_readable);
    return 0;
}

void wake_timer_arm(struct wake_timer *t, uint64_t at)
{
    if (t->fd < 0 || at == t->armed)
        return;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (at != UINT64_MAX) {
        at = at ? at : 1; /* zero would disarm the timerfd */
        its.it_value.tv_sec = (time_t)(at / NS_PER_S);
        its.it_value.tv_nsec = (long)(at % NS_PER_S);
    }
    if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        log_warn("wake timer: timerfd_settime: %s", strerror(errno));
        return;
    }
    t->armed = at;
}

static void on_closed(uv_handle_t *h)
{
    struct wake_timer *t = h->data;
    close(t->fd);
    t->fd = -1;
}

void wake_timer_close(struct wake_timer *t)
{
    if (t->fd < 0 || uv_is_closing((uv_handle_t *)&t->poll))
        return;
    uv_poll_stop(&t->poll);
    uv_close((uv_handle_t *)&t->poll, on_closed);
}
