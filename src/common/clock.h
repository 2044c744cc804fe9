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

#endif
