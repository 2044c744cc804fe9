/* Running a cpu_model outside a worker device (measurement, check_model, convert, bench):
 * a private weights buffer, arena and stream; plus pinning of the calling thread to a
 * device's cores with oneDNN's OpenMP team sized to them, and the CPU clock. */
#ifndef CW_CPU_THREAD_H
#define CW_CPU_THREAD_H
#include "cpu_backend.h"
#include "cpu_model.h"

struct cpu_thread {
    int ready; /* set up by its own thread on first use */
};

/* Pins the calling thread to device `dev`'s cores and sets its OpenMP team size (once). */
void cpu_thread_setup(struct cpu_thread *t, unsigned dev, const struct cpu_options *o);
/* Pins the calling thread to cores [first, first+n) (mod online CPUs) and sets the team. */
void cpu_thread_pin(unsigned first, unsigned n);
/* Sets the calling thread's OpenMP team size. oneDNN sizes a primitive's parallelism when it
 * is created, so primitives must be built with the team size they will run with. */
void cpu_thread_team(unsigned n);
unsigned cpu_thread_clock_mhz(void);

struct cpu_standalone {
    const struct cpu_model *m;
    uint8_t *mem, **pages, *arena;
    dnnl_stream_t stream;
    struct cpu_binding *b;
};

int cpu_standalone_open(struct cpu_standalone *x, const struct cpu_model *m, char *err, size_t errlen);
/* Loads (reorders) the weights; returns 0 and the time taken in *ns, or -1. */
int cpu_standalone_load(struct cpu_standalone *x, uint64_t *ns);
/* Runs batch index bi; the input is whatever is in the arena. 0 and *ns, or -1. */
int cpu_standalone_run(struct cpu_standalone *x, unsigned bi, uint64_t *ns);
void cpu_standalone_close(struct cpu_standalone *x);

/* Fills m->weights_load_ns and m->exec_ns[] by measuring on device 0's cores (median of runs). */
int cpu_thread_measure(const struct cpu_model *cm, struct model_info *m, const struct cpu_options *o, char *err,
                       size_t errlen);

#endif
