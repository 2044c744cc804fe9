#define _GNU_SOURCE
#include "thread_policy.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

void thread_policy_defaults(struct thread_policy *p)
{
    memset(p, 0, sizeof *p);
    p->rt_priority = THREAD_POLICY_DEFAULT_RT;
    p->nice = THREAD_POLICY_DEFAULT_NICE;
    p->spin_ns = THREAD_POLICY_DEFAULT_SPIN_NS;
}

static int parse_cpu(const char *s, char **end, long *cpu)
{
    errno = 0;
    *cpu = strtol(s, end, 10);
    return *end != s && errno == 0 && *cpu >= 0 && *cpu < THREAD_POLICY_MAX_CPUS ? 0 : -1;
}

int thread_policy_parse_cpus(struct thread_policy *p, const char *list)
{
    uint64_t mask[THREAD_POLICY_MAX_CPUS / 64] = {0};
    const char *s = list;
    do {
        char *end;
        long lo, hi;
        if (parse_cpu(s, &end, &lo) != 0)
            return -1;
        hi = lo;
        if (*end == '-' && parse_cpu(end + 1, &end, &hi) != 0)
            return -1;
        if (hi < lo || (*end != ',' && *end != '\0'))
            return -1;
        for (long c = lo; c <= hi; c++)
            mask[c / 64] |= 1ULL << (c % 64);
        s = end + (*end == ',');
    } while (s[-1] == ',');
    memcpy(p->cpus, mask, sizeof mask);
    return 0;
}

int thread_policy_has_cpus(const struct thread_policy *p)
{
    for (size_t i = 0; i < THREAD_POLICY_MAX_CPUS / 64; i++)
        if (p->cpus[i])
            return 1;
    return 0;
}

void thread_policy_plan(const struct thread_policy *p, uint64_t rtprio_limit, int nice_floor, int privileged,
                        struct thread_policy_plan *out)
{
    int rt = p->rt_priority < 0 ? 0 : p->rt_priority > 99 ? 99 : p->rt_priority;
    if (!privileged && (uint64_t)rt > rtprio_limit)
        rt = (int)rtprio_limit; /* 0 when the limit forbids real-time altogether */
    int nice = p->nice < -20 ? -20 : p->nice > 19 ? 19 : p->nice;
    if (!privileged && nice < nice_floor)
        nice = nice_floor;
    out->rt_priority = rt;
    out->nice = nice;
}

static void os_limits(uint64_t *rtprio, int *nice_floor)
{
    struct rlimit r;
    *rtprio = getrlimit(RLIMIT_RTPRIO, &r) == 0 ? (r.rlim_cur == RLIM_INFINITY ? 99 : (uint64_t)r.rlim_cur) : 0;
    rlim_t n = getrlimit(RLIMIT_NICE, &r) == 0 ? r.rlim_cur : 0; /* allows nice down to 20 - n */
    *nice_floor = n == RLIM_INFINITY || n >= 40 ? -20 : 20 - (int)n;
    if (*nice_floor > 0)
        *nice_floor = 0;
}

static void apply_nice(int nice, struct thread_policy_outcome *out)
{
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* real-time threads have none; others 50 µs */
    if (nice == 0)
        return;
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), nice) == 0)
        out->nice = nice;
    else
        out->nice_errno = errno;
}

static void apply_cpus(const struct thread_policy *p, struct thread_policy_outcome *out)
{
    if (!thread_policy_has_cpus(p))
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c = 0; c < THREAD_POLICY_MAX_CPUS && c < CPU_SETSIZE; c++)
        if (p->cpus[c / 64] & (1ULL << (c % 64)))
            CPU_SET(c, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    out->pinned = rc == 0;
    out->pin_errno = rc;
}

void thread_policy_apply(const struct thread_policy *p, struct thread_policy_outcome *out)
{
    memset(out, 0, sizeof *out);
    uint64_t rtprio;
    int floor;
    os_limits(&rtprio, &floor);
    struct thread_policy_plan plan;
    thread_policy_plan(p, rtprio, floor, geteuid() == 0, &plan);
    out->rt_limited = p->rt_priority > 0 && plan.rt_priority == 0;
    out->nice_limited = plan.nice != p->nice;
    if (plan.rt_priority > 0) {
        struct sched_param sp = {.sched_priority = plan.rt_priority};
        int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
        if (rc == 0)
            out->rt_priority = plan.rt_priority;
        else
            out->rt_errno = rc;
    }
    if (!out->rt_priority)
        apply_nice(plan.nice, out);
    apply_cpus(p, out);
}

void thread_policy_describe(const struct thread_policy_outcome *o, char *buf, size_t len)
{
    char why[160] = "";
    if (o->rt_limited)
        snprintf(why, sizeof why, "real-time not permitted by RLIMIT_RTPRIO");
    else if (o->rt_errno)
        snprintf(why, sizeof why, "real-time refused: %s", strerror(o->rt_errno));
    const char *nice_why = o->nice_errno     ? "lower niceness refused"
                           : o->nice_limited ? "RLIMIT_NICE limits niceness"
                                             : "";
    if (!o->rt_priority && nice_why[0]) {
        size_t n = strlen(why);
        snprintf(why + n, sizeof why - n, "%s%s", n ? "; " : "", nice_why);
    }
    if (o->rt_priority)
        snprintf(buf, len, "SCHED_FIFO priority %d", o->rt_priority);
    else if (o->nice)
        snprintf(buf, len, "nice %d%s%s%s", o->nice, why[0] ? " (" : "", why, why[0] ? ")" : "");
    else
        snprintf(buf, len, "normal priority%s%s%s", why[0] ? " (" : "", why, why[0] ? ")" : "");
    if (o->pin_errno) {
        size_t n = strlen(buf);
        snprintf(buf + n, len > n ? len - n : 0, ", not pinned (%s)", strerror(o->pin_errno));
    }
}
