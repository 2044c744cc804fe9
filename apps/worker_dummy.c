/* worker_dummy: a Clockwork worker with emulated devices (timings from each model's
 * profile, exact page accounting), indistinguishable from a real worker to the controller. */
#include "worker/worker_main.h"

int main(int argc, char **argv)
{
    const struct worker_program p = {
        .description = "Runs a Clockwork worker with emulated GPUs.",
        .device_noun = "GPUs to emulate",
    };
    return worker_program_main(&p, argc, argv);
}
