/* client: runs a workload against a Clockwork controller (see `client -h`). */
#include "client/workload_cli.h"
#include <signal.h>

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a controller that goes away is reported, not fatal */
    return wl_cli_main(argc, argv);
}
