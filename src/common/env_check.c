#include "env_check.h"
#include "clock.h"
#include "worker_config.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CLOCKWORK_SOURCE_DIR
#define CLOCKWORK_SOURCE_DIR "."
#endif

#define WANT_NOFILE 16384
#define WANT_MAP_COUNT 10000000L

static void set(struct env_result *r, const char *name, enum env_verdict v, const char *value, const char *advice)
{
    snprintf(r->name, sizeof r->name, "%s", name);
    r->verdict = v;
    snprintf(r->value, sizeof r->value, "%s", value);
    snprintf(r->advice, sizeof r->advice, "%s", advice ? advice : "");
}

static void format_rlim(char *out, size_t len, rlim_t v)
{
    if (v == RLIM_INFINITY)
        snprintf(out, len, "unlimited");
    else
        snprintf(out, len, "%llu", (unsigned long long)v);
}

void env_judge_rlimit(struct env_result *r, const char *name, rlim_t soft, rlim_t hard, rlim_t want,
                      const char *limits_item)
{
    char s[32], h[32], value[96], advice[256];
    format_rlim(s, sizeof s, soft);
    format_rlim(h, sizeof h, hard);
    snprintf(value, sizeof value, "soft=%s hard=%s", s, h);
    int ok = want == RLIM_INFINITY ? soft == RLIM_INFINITY : (soft == RLIM_INFINITY || soft >= want);
    snprintf(advice, sizeof advice, "add '* soft %s unlimited' and '* hard %s unlimited' to /etc/security/limits.conf",
             limits_item, limits_item);
    set(r, name, ok ? ENV_OK : ENV_WARN, value, ok ? NULL : advice);
}

void env_judge_map_count(struct env_result *r, long value, long want)
{
    char v[64];
    snprintf(v, sizeof v, "%ld", value);
    if (value < 0)
        set(r, "vm.max_map_count", ENV_INFO, "unreadable", NULL);
    else
        set(r, "vm.max_map_count", value >= want ? ENV_OK : ENV_WARN, v,
            value >= want ? NULL : "run /sbin/sysctl -w vm.max_map_count=10000000 as root");
}

void env_judge_governors(struct env_result *r, unsigned cpus, unsigned performance)
{
    char v[64];
    snprintf(v, sizeof v, "%u of %u CPUs on 'performance'", performance, cpus);
    if (cpus == 0)
        set(r, "cpu frequency governor", ENV_INFO, "no cpufreq (virtual machine?)", NULL);
    else
        set(r, "cpu frequency governor", performance == cpus ? ENV_OK : ENV_WARN, v,
            performance == cpus ? NULL
                                : "echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor");
}

void env_judge_timer(struct env_result *r, uint64_t p50_ns, uint64_t p99_ns)
{
    char v[96];
    snprintf(v, sizeof v, "absolute sleep overshoot p50=%.1fus p99=%.1fus", p50_ns / 1e3, p99_ns / 1e3);
    /* Executors start actions with such sleeps: overshoot beyond ~100us is visible in the
     * controller's predictions. */
    set(r, "timer precision", p99_ns <= 100000 ? ENV_OK : ENV_WARN, v,
        p99_ns <= 100000 ? NULL : "use an idle machine, the performance governor, and fewer co-located processes");
}

static long read_long_file(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void count_governors(unsigned *cpus, unsigned *performance)
{
    *cpus = *performance = 0;
    for (unsigned i = 0; i < 4096; i++) {
        char path[128], gov[64] = "";
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpufreq/scaling_governor", i);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        if (fscanf(f, "%63s", gov) == 1) {
            (*cpus)++;
            *performance += strcmp(gov, "performance") == 0;
        }
        fclose(f);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void measure_timer(uint64_t *p50, uint64_t *p99)
{
    enum { N = 200 };
    uint64_t over[N];
    for (int i = 0; i < N; i++) {
        uint64_t target = clock_now_ns() + 200 * NS_PER_US;
        clock_sleep_until(target);
        uint64_t now = clock_now_ns();
        over[i] = now > target ? now - target : 0;
    }
    qsort(over, N, sizeof over[0], cmp_u64);
    *p50 = over[N / 2];
    *p99 = over[N * 99 / 100];
}

static void check_rlimit(struct env_result *r, const char *name, int resource, rlim_t want, const char *item)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) != 0)
        set(r, name, ENV_INFO, "unreadable", NULL);
    else
        env_judge_rlimit(r, name, rl.rlim_cur, rl.rlim_max, want, item);
}

static void check_dir(struct env_result *r, const char *name, const char *env, const char *fallback, int writable)
{
    const char *dir = getenv(env);
    char value[320];
    if (!dir || !*dir)
        dir = fallback;
    snprintf(value, sizeof value, "%.300s%s", dir, getenv(env) ? "" : " (default)");
    int ok = access(dir, writable ? W_OK : R_OK) == 0;
    char advice[320];
    snprintf(advice, sizeof advice, "create %.250s or set %s", dir, env);
    set(r, name, ok ? ENV_OK : ENV_WARN, value, ok ? NULL : advice);
}

static void check_config(struct env_result *r)
{
    struct worker_config cfg;
    char err[512], value[512];
    if (worker_config_load_default(&cfg, err, sizeof err) != 0) {
        set(r, "worker config", ENV_WARN, err, "fix the file or CLOCKWORK_CONFIG_FILE");
        return;
    }
    snprintf(value, sizeof value, "%.400s: weights cache %.1f GiB, pages of %llu MiB",
             cfg.source[0] ? cfg.source : "built-in defaults", (double)cfg.weights_cache_size / (1 << 30),
             (unsigned long long)(cfg.weights_cache_page_size >> 20));
    set(r, "worker config", ENV_OK, value, NULL);
}

unsigned env_check_all(struct env_result *out, unsigned max)
{
    unsigned n = 0;
    if (max < 9)
        return 0;
    check_rlimit(&out[n++], "open files (RLIMIT_NOFILE)", RLIMIT_NOFILE, WANT_NOFILE, "nofile");
    check_rlimit(&out[n++], "locked memory (RLIMIT_MEMLOCK)", RLIMIT_MEMLOCK, RLIM_INFINITY, "memlock");
    check_rlimit(&out[n++], "real-time priority (RLIMIT_RTPRIO)", RLIMIT_RTPRIO, 1, "rtprio");
    env_judge_map_count(&out[n++], read_long_file("/proc/sys/vm/max_map_count"), WANT_MAP_COUNT);
    unsigned cpus, perf;
    count_governors(&cpus, &perf);
    env_judge_governors(&out[n++], cpus, perf);
    uint64_t p50, p99;
    measure_timer(&p50, &p99);
    env_judge_timer(&out[n++], p50, p99);
    check_config(&out[n++]);
    check_dir(&out[n++], "model zoo", "CLOCKWORK_MODEL_DIR", CLOCKWORK_SOURCE_DIR "/modelzoo", 0);
    check_dir(&out[n++], "telemetry directory", "CLOCKWORK_LOG_DIR", "/local", 1);
    return n;
}
