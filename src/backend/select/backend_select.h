/* Which device the programs that run real models (worker, check_model, convert) use: the
 * names on their command lines ("cpu", "cuda"), the default (cuda when this build has it and
 * a GPU is present, else cpu) and a model_runner on the chosen device. */
#ifndef CW_BACKEND_SELECT_H
#define CW_BACKEND_SELECT_H
#include "backend/model_runner.h"
#include "model/plan.h"
#include <stddef.h>

enum backend_kind { BACKEND_DEFAULT = 0, BACKEND_CPU, BACKEND_CUDA };

/* "cpu" or "cuda"; 0, or -1 for anything else. */
int backend_select_parse(const char *name, enum backend_kind *out);
/* Resolves BACKEND_DEFAULT; 0, or -1 with err when the kind is not available in this build
 * or on this machine (cuda without CUDA support or without a GPU). */
int backend_select_resolve(enum backend_kind *kind, char *err, size_t errlen);
const char *backend_select_name(enum backend_kind kind);
/* Opens a runner for *p (taken) on a resolved kind: cpu on `cores` cores pinned from core 0,
 * cuda on GPU 0. 0, or -1 with err. */
int backend_select_runner(struct model_runner *r, enum backend_kind kind, struct plan *p, const unsigned *batch_sizes,
                          unsigned n_batches, unsigned cores, char *err, size_t errlen);

#endif
