/* The scheduler interface's dispatcher: scheduler_create picks the implementation named by
 * cfg->type; every other call goes through the table recorded in the state's sched_head. */
#include "controller/sched_impl.h"
#include <string.h>

/* tick_ns: INFER5 and the test controllers are ticked every millisecond, as the original; INFER6
 * is woken exactly when it asks (0). The test controllers keep the tick rather than exact
 * wake-ups: ECHO and DIRECT never ask, and STRESS asks for "now" while a GPU has room, even when
 * it could not send for want of memory, which it retries on the next tick. */
static const struct {
    const char *name;
    enum sched_type type;
    const struct sched_impl *impl;
    uint64_t tick_ns;
    int is_scheduler;
} TYPES[] = {
    {"INFER5", SCHED_TYPE_INFER5, &infer5_impl, 1000000ULL, 1},
    {"INFER4", SCHED_TYPE_INFER5, &infer5_impl, 1000000ULL, 1},
    {"INFER6", SCHED_TYPE_INFER6, &infer6_impl, 0, 1},
    {"ECHO", SCHED_TYPE_ECHO, &echo_impl, 1000000ULL, 0},
    {"DIRECT", SCHED_TYPE_DIRECT, &direct_impl, 1000000ULL, 0},
    {"STRESS", SCHED_TYPE_STRESS, &stress_impl, 1000000ULL, 0},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

int sched_type_parse(const char *name, enum sched_type *type)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (!strcmp(name, TYPES[i].name)) {
            *type = TYPES[i].type;
            return 0;
        }
    return -1;
}

static size_t type_index(enum sched_type type)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (TYPES[i].type == type)
            return i;
    return 0;
}

const char *sched_type_name(enum sched_type type) { return TYPES[type_index(type)].name; }
uint64_t sched_type_tick_ns(enum sched_type type) { return TYPES[type_index(type)].tick_ns; }
int sched_type_is_scheduler(enum sched_type type) { return TYPES[type_index(type)].is_scheduler; }

static const struct sched_impl *impl_of(const struct scheduler *s)
{
    return ((const struct sched_head *)(const void *)s)->impl;
}

struct scheduler *scheduler_create(const struct sched_config *cfg, const struct sched_model *models, unsigned n_models,
                                   const struct sched_gpu *gpus, unsigned n_gpus, const struct sched_ops *ops,
                                   void *data)
{
    const struct sched_impl *impl = TYPES[type_index(cfg->type)].impl;
    struct scheduler *s = impl->create(cfg, models, n_models, gpus, n_gpus, ops, data);
    if (s)
        ((struct sched_head *)(void *)s)->impl = impl;
    return s;
}

void scheduler_destroy(struct scheduler *s)
{
    if (s)
        impl_of(s)->destroy(s);
}

void scheduler_on_request(struct scheduler *s, uint64_t now, struct sched_request *r)
{
    impl_of(s)->on_request(s, now, r);
}

void scheduler_on_result(struct scheduler *s, uint64_t now, const struct sched_result *res)
{
    impl_of(s)->on_result(s, now, res);
}

void scheduler_tick(struct scheduler *s, uint64_t now) { impl_of(s)->tick(s, now); }

uint64_t scheduler_next_wakeup(const struct scheduler *s, uint64_t now) { return impl_of(s)->next_wakeup(s, now); }

uint64_t scheduler_next_tick(const struct scheduler *s, uint64_t now)
{
    return impl_of(s)->next_tick ? impl_of(s)->next_tick(s, now) : now;
}

void scheduler_on_worker_lost(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    impl_of(s)->on_worker_lost(s, now, worker_id);
}

void scheduler_on_worker_back(struct scheduler *s, uint64_t now, unsigned worker_id)
{
    impl_of(s)->on_worker_back(s, now, worker_id);
}

void scheduler_drain(struct scheduler *s, uint64_t now, int status) { impl_of(s)->drain(s, now, status); }

unsigned scheduler_take_stats(struct scheduler *s, struct sched_gpu_stats *out, unsigned max)
{
    return impl_of(s)->take_stats(s, out, max);
}

unsigned scheduler_gpu_count(const struct scheduler *s) { return impl_of(s)->gpu_count(s); }

int scheduler_models_changeable(const struct scheduler *s)
{
    return impl_of(s)->add_models && impl_of(s)->set_model_serving;
}

int scheduler_add_models(struct scheduler *s, uint64_t now, const struct sched_model *models, unsigned n_models)
{
    return impl_of(s)->add_models ? impl_of(s)->add_models(s, now, models, n_models) : -1;
}

int scheduler_set_model_serving(struct scheduler *s, uint64_t now, unsigned model_id, int serving)
{
    return impl_of(s)->set_model_serving ? impl_of(s)->set_model_serving(s, now, model_id, serving) : -1;
}
