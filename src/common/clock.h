/* Time in nanoseconds. Wall-clock (CLOCK_REALTIME) time is what crosses the wire and
 * lands in telemetry, as in the original; absolute sleeps use the same clock so a
 * worker can wait for a controller-given start time directly. */
#ifndef CW_CLOCK_H
#define CW_CLOCK_H
#include <stdint.h>

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

uint64_t clock_now_ns(void);           /* CLOCK_REALTIME, ns since the Unix epoch */
uint64_t clock_mono_ns(void);          /* CLOCK_MONOTONIC, for measuring durations */
void clock_sleep_until(uint64_t t_ns); /* absolute CLOCK_REALTIME sleep, restarts on EINTR */

/* A precise wait for t: sleep to spin_ns before it, then spin. A wake-up from a sleep comes
 * tens of µs (or, on a busy machine, ms) late; spinning the last stretch absorbs that at the
 * cost of about spin_ns of CPU per wait. clock_wait_split is the plan, as a pure function:
 * returns 1 with *sleep_to when a sleep comes first (then spin from there to t), 0 when only
 * a spin (or nothing: now >= t) is left. spin_ns 0: a plain sleep to t. */
int clock_wait_split(uint64_t now, uint64_t t, uint64_t spin_ns, uint64_t *sleep_to);
void clock_wait_until(uint64_t t_ns, uint64_t spin_ns);

#endif
