/* controller TYPE WORKERS [generate_inputs max_gpus schedule_ahead default_slo max_exec max_batch] */
#include "common/log.h"
#include "controller/controller.h"
#include "controller/http/http_front.h"
#include "controller/options.h"
#include <signal.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    static struct controller_options opts;
    char err[512];
    int rc = controller_options_parse(&opts, argc, argv, err, sizeof err);
    if (rc == OPTIONS_HELP) {
        controller_usage(stdout);
        return 0;
    }
    if (rc != OPTIONS_OK) {
        fprintf(stderr, "controller: %s\n\n", err);
        controller_usage(stderr);
        return 1;
    }
    return controller_run_with(&opts, &http_frontend);
}
