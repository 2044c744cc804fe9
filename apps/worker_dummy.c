/* worker_dummy: a Clockwork worker with emulated devices (timings from each model's
 * profile, exact page accounting), indistinguishable from a real worker to the controller. */
#include "backend/emu/emu_backend.h"
#include "worker/worker_main.h"

static int install_emulated(void *data, struct worker_options *o, const struct worker_config *cfg, char *err,
                            size_t errlen)
{
    (void)data, (void)cfg, (void)err, (void)errlen;
    o->make_backend = emu_backend_factory;
    o->backend_ctx = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    const struct worker_program p = {
        .description = "Runs a Clockwork worker with emulated GPUs.",
        .device_noun = "GPUs to emulate",
        .setup = install_emulated,
    };
    return worker_program_main(&p, argc, argv);
}
