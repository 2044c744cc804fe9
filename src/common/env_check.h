/* Environment checks behind `profile check`: the settings Clockwork's README asks for
 * (open files, locked memory, real-time priority, mmap count, CPU governor, timer precision,
 * directories). Each check fills a verdict and, when it is not OK, the command that fixes it. */
#ifndef CW_ENV_CHECK_H
#define CW_ENV_CHECK_H
#include <stdint.h>
#include <sys/resource.h>

enum env_verdict { ENV_OK, ENV_WARN, ENV_INFO };

struct env_result {
    char name[48];
    enum env_verdict verdict;
    char value[640];
    char advice[320];
};

/* Pure rules, testable with any values. */
void env_judge_rlimit(struct env_result *r, const char *name, rlim_t soft, rlim_t hard, rlim_t want,
                      const char *limits_item);
void env_judge_map_count(struct env_result *r, long value, long want);
void env_judge_governors(struct env_result *r, unsigned cpus, unsigned performance);
/* Timer overshoot of absolute sleeps: p50/p99 in ns. */
void env_judge_timer(struct env_result *r, uint64_t p50_ns, uint64_t p99_ns);

/* Runs every check on this machine into out (up to max); returns how many were written. */
unsigned env_check_all(struct env_result *out, unsigned max);

#endif
