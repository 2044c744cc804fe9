#define _GNU_SOURCE
#include "cpu_thread.h"
#include "cpu_runner.h"
#include "common/clock.h"
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void omp_set_num_threads(int n); /* libgomp, which oneDNN's OpenMP build uses */

void cpu_thread_pin(unsigned first, unsigned n)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cpus = online > 0 ? (unsigned)online : 1;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned i = 0; i < n; i++)
        CPU_SET((first + i) % cpus, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort: may be restricted */
    omp_set_num_threads((int)n);
}

void cpu_thread_team(unsigned n) { omp_set_num_threads(n > 0 ? (int)n : 1); }

void cpu_thread_setup(struct cpu_thread *t, unsigned dev, const struct cpu_options *o)
{
    if (t->ready)
        return;
    cpu_thread_pin(o->first_core + dev * o->cores_per_device, o->cores_per_device);
    t->ready = 1;
}

unsigned cpu_thread_clock_mhz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    double mhz = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "cpu MHz", 7) == 0 &&
            sscanf(strchr(line, ':') ? strchr(line, ':') + 1 : "", "%lf", &mhz) == 1)
            break;
    if (f)
        fclose(f);
    return mhz > 0 && mhz < 100000 ? (unsigned)mhz : 0;
}

int cpu_standalone_open(struct cpu_standalone *x, const struct cpu_model *m, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->m = m;
    size_t bytes = (size_t)(m->n_pages - 1) * m->page_size + m->last_page_used; /* only what is used */
    x->mem = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096 + 4096);
    x->pages = malloc((m->n_pages + 1) * sizeof *x->pages);
    x->arena = aligned_alloc(4096, (m->arena_need + 4095) / 4096 * 4096 + 4096);
    if (!x->mem || !x->pages || !x->arena) {
        cpu_standalone_close(x);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    memset(x->arena, 0, m->arena_need);
    for (unsigned i = 0; i < m->n_pages; i++)
        x->pages[i] = x->mem + (size_t)i * m->page_size;
    if (dnnl_stream_create(&x->stream, m->engine, dnnl_stream_default_flags) != dnnl_success) {
        cpu_standalone_close(x);
        return snprintf(err, errlen, "cannot create a oneDNN stream"), -1;
    }
    if (cpu_binding_create(&x->b, m, x->pages, x->arena, err, errlen) != 0) {
        cpu_standalone_close(x);
        return -1;
    }
    return 0;
}

int cpu_standalone_load(struct cpu_standalone *x, uint64_t *ns)
{
    uint64_t t0 = clock_now_ns();
    int rc = cpu_binding_load_weights(x->b, x->stream);
    *ns = clock_now_ns() - t0;
    return rc;
}

int cpu_standalone_run(struct cpu_standalone *x, unsigned bi, uint64_t *ns)
{
    uint64_t t0 = clock_now_ns();
    int rc = cpu_binding_run(x->b, bi, x->stream);
    *ns = clock_now_ns() - t0;
    return rc;
}

void cpu_standalone_close(struct cpu_standalone *x)
{
    cpu_binding_destroy(x->b);
    if (x->stream)
        dnnl_stream_destroy(x->stream);
    free(x->mem);
    free(x->pages);
    free(x->arena);
    memset(x, 0, sizeof *x);
}

int cpu_thread_measure(const struct cpu_model *cm, struct model_info *m, const struct cpu_options *o, char *err,
                       size_t errlen)
{
    err[0] = '\0';
    cpu_set_t saved;
    int have_saved = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
    cpu_thread_pin(o->first_core, o->cores_per_device);
    struct model_runner r;
    int rc = cpu_runner_wrap(&r, cm, err, errlen);
    if (rc == 0) {
        rc = model_runner_measure(&r, o->measure_runs, &m->weights_load_ns, m->exec_ns, err, errlen);
        model_runner_close(&r);
    }
    if (rc != 0) {
        char why[400];
        snprintf(why, sizeof why, "%s", err[0] ? err : "oneDNN execution error");
        snprintf(err, errlen, "%s: measuring failed (%s)", m->source, why);
    }
    if (have_saved)
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    return rc;
}
