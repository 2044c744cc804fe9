/* Writes a converted model's metadata next to its plan: PREFIX.info (sizes, batch sizes,
 * shapes; read by model_info_load) and PREFIX.measurements (weights/exec ns per batch). */
#ifndef CW_MODEL_MODEL_FILES_H
#define CW_MODEL_MODEL_FILES_H
#include "model/model_info.h"
#include "model/plan.h"
#include <stddef.h>

int model_files_write_info(const char *prefix, const struct plan *p, const unsigned *batch_sizes, unsigned n, char *err,
                           size_t errlen);
int model_files_write_measurements(const char *prefix, const struct model_info *m, char *err, size_t errlen);

#endif
