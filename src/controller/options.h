/* Command line of `controller TYPE WORKERS [OPTIONS]`: for INFER5 (and INFER4) `generate_inputs
 * max_gpus schedule_ahead default_slo max_exec max_batch`; the test controllers DIRECT and ECHO
 * take none, STRESS its own. With the usage text of the original. */
#ifndef CW_CONTROLLER_OPTIONS_H
#define CW_CONTROLLER_OPTIONS_H
#include "controller/scheduler.h"
#include <stdio.h>

#define CONTROLLER_MAX_WORKERS 256

struct controller_worker_addr {
    char host[256];
    int port;
};

struct controller_options {
    char type[16];
    unsigned n_workers;
    struct controller_worker_addr workers[CONTROLLER_MAX_WORKERS];
    struct sched_config sched;
    int client_port;            /* 12346 */
    uint64_t startup_quiet_ns;  /* idle time after the last LoadModel before serving */
    uint64_t worker_timeout_ns; /* a worker silent this long with actions outstanding is lost */
    char log_dir[1024];         /* $CLOCKWORK_LOG_DIR or /local */
    /* A model the controller loads itself at start-up, as a client's LoadModel would (STRESS) */
    char preload_path[512];
    int preload_copies; /* 0: none */
};

enum { OPTIONS_OK = 0, OPTIONS_HELP = 1, OPTIONS_ERROR = -1 };

/* Parses argv; on error writes a message to err. Reads CLOCKWORK_LOG_DIR and
 * CLOCKWORK_STARTUP_QUIET_MS, CLOCKWORK_WORKER_TIMEOUT_MS, CLOCKWORK_CONTROLLER_PORT from the environment. */
int controller_options_parse(struct controller_options *o, int argc, char **argv, char *err, size_t errlen);
void controller_usage(FILE *out);
/* Shared with clockwork-sim: 0 if TYPE names a scheduler (INFER5, INFER4, INFER6), else -1 with err
 * (unknown, or a test controller: ECHO, DIRECT and STRESS exercise the live paths only). */
int controller_check_type(const char *type, char *err, size_t errlen);
/* The positional scheduler options (generate_inputs max_gpus schedule_ahead default_slo
 * max_exec max_batch, any prefix of them) over c's current values. 0, or -1 with err. */
int controller_parse_sched_options(struct sched_config *c, int argc, char **argv, char *err, size_t errlen);

#endif
