/* profile [check]: checks this machine's environment against what Clockwork needs for
 * predictable latency (limits, mmap count, CPU governor, timer precision, config, dirs) and
 * reports its GPUs, driver and CUDA library versions. */
#include "common/env_check.h"
#include <stdio.h>
#include <string.h>
#ifdef CLOCKWORK_HAVE_CUDA
#include "backend/cuda/cuda_probe.h"
#endif

/* The GPU line: what the CUDA backend finds, or that this build has none. */
static void check_gpus(struct env_result *r)
{
#ifdef CLOCKWORK_HAVE_CUDA
    cuda_probe_env(r);
#else
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "CUDA devices");
    r->verdict = ENV_INFO;
    snprintf(r->value, sizeof r->value, "not checked: this build has no CUDA support (-DCLOCKWORK_CUDA)");
#endif
}

static void usage(FILE *out)
{
    fputs("Usage: profile [check]\n"
          "Checks this machine's environment for Clockwork (worker, controller, client):\n"
          "resource limits (nofile, memlock, rtprio), vm.max_map_count, the CPU frequency\n"
          "governor, timer precision of absolute sleeps, the worker config, the model zoo\n"
          "and the telemetry directory; lists the GPUs, driver, CUDA runtime, cuDNN and\n"
          "cuBLAS versions. Prints one line per check and how to fix warnings.\n"
          "Exit status: 0 if every check passed, 2 if some gave warnings, 1 on bad usage.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "check") != 0)) {
        if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "profile: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 1;
    }
    static const char *tags[] = {"[ OK ]", "[WARN]", "[INFO]"};
    struct env_result results[16];
    unsigned n = env_check_all(results, 15), warnings = 0;
    check_gpus(&results[n++]);
    for (unsigned i = 0; i < n; i++) {
        printf("%s %-36s %s\n", tags[results[i].verdict], results[i].name, results[i].value);
        if (results[i].verdict == ENV_WARN) {
            printf("       -> %s\n", results[i].advice);
            warnings++;
        }
    }
    printf("%u checks, %u warnings\n", n, warnings);
    return warnings ? 2 : 0;
}
