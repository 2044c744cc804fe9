/* client: runs a workload against a Clockwork controller (see `client -h`). */
#include "client/workload_cli.h"

int main(int argc, char **argv) { return wl_cli_main(argc, argv); }
