/* The live controller: one libuv loop that connects to the workers, runs the start-up
 * phase, then wires the scheduler state machine to real time, sockets and telemetry. */
#ifndef CW_CONTROLLER_H
#define CW_CONTROLLER_H
#include "controller/options.h"

/* Runs until SIGINT/SIGTERM. Returns the process exit code. */
int controller_run(const struct controller_options *opts);

#endif
