#include "clock.h"
#include <errno.h>
#include <time.h>

static uint64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Eases a spin on the core's sibling hyperthread and on power. */
static void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

uint64_t clock_now_ns(void) { return read_clock(CLOCK_REALTIME); }
uint64_t clock_mono_ns(void) { return read_clock(CLOCK_MONOTONIC); }

void clock_sleep_until(uint64_t t_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(t_ns / NS_PER_S), .tv_nsec = (long)(t_ns % NS_PER_S)};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

int clock_wait_split(uint64_t now, uint64_t t, uint64_t spin_ns, uint64_t *sleep_to)
{
    if (now >= t || t - now <= spin_ns)
        return 0;
    *sleep_to = t - spin_ns;
    return 1;
}

void clock_wait_until(uint64_t t_ns, uint64_t spin_ns)
{
    uint64_t sleep_to;
    if (clock_wait_split(clock_now_ns(), t_ns, spin_ns, &sleep_to))
        clock_sleep_until(sleep_to);
    while (clock_now_ns() < t_ns)
        spin_pause();
}
