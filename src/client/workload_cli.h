/* The `client` program: command line, then connect, load the workload's models, wait for
 * the controller to finish initializing, run the workload engine, print a summary. */
#ifndef CW_WL_CLI_H
#define CW_WL_CLI_H

/* Returns the process exit code. */
int wl_cli_main(int argc, char **argv);

#endif
