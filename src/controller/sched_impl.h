/* The implementer's side of scheduler.h: each scheduler (infer5/, infer6/, test_controllers/)
 * exports one table of its entry points, and its state struct starts with a struct sched_head,
 * through which the dispatcher (scheduler.c) finds the table. Hosts never include this header. */
#ifndef CW_SCHED_IMPL_H
#define CW_SCHED_IMPL_H
#include "controller/scheduler.h"

struct sched_impl {
    struct scheduler *(*create)(const struct sched_config *cfg, const struct sched_model *models, unsigned n_models,
                                const struct sched_gpu *gpus, unsigned n_gpus, const struct sched_ops *ops, void *data);
    void (*destroy)(struct scheduler *s);
    void (*on_request)(struct scheduler *s, uint64_t now, struct sched_request *r);
    void (*on_result)(struct scheduler *s, uint64_t now, const struct sched_result *res);
    void (*tick)(struct scheduler *s, uint64_t now);
    uint64_t (*next_wakeup)(const struct scheduler *s, uint64_t now);
    void (*on_worker_lost)(struct scheduler *s, uint64_t now, unsigned worker_id);
    void (*on_worker_back)(struct scheduler *s, uint64_t now, unsigned worker_id);
    void (*drain)(struct scheduler *s, uint64_t now, int status);
    unsigned (*take_stats)(struct scheduler *s, struct sched_gpu_stats *out, unsigned max);
    unsigned (*gpu_count)(const struct scheduler *s);
    /* optional (NULL: every periodic tick may act) */
    uint64_t (*next_tick)(const struct scheduler *s, uint64_t now);
    /* optional (NULL: the TYPE cannot change its models while serving) */
    int (*add_models)(struct scheduler *s, uint64_t now, const struct sched_model *models, unsigned n_models);
    int (*set_model_serving)(struct scheduler *s, uint64_t now, unsigned model_id, int serving);
};

/* First member of every scheduler's state; set by the dispatcher after create. */
struct sched_head {
    const struct sched_impl *impl;
};

extern const struct sched_impl infer5_impl;
extern const struct sched_impl infer6_impl;
extern const struct sched_impl echo_impl;
extern const struct sched_impl direct_impl;
extern const struct sched_impl stress_impl;

#endif
