/* Where a model named by the controller's path prefix lives on this machine: always inside
 * this worker's model directory. Clients name models by paths from their own zoo; a worker
 * finds the same model by the prefix's last two components (NAME/model) in its directory,
 * so machines need not share a checkout path, and a peer cannot make a worker open anything
 * outside the directory it was given. */
#ifndef CW_MODEL_PATH_H
#define CW_MODEL_PATH_H
#include <stddef.h>

/* $CLOCKWORK_MODEL_DIR, or the source tree's modelzoo/ (as the client's zoo). */
const char *model_path_default_dir(void);

/* DIR/NAME/BASE for a prefix .../NAME/BASE (or DIR/BASE for a one-component prefix). -1 with
 * err when a component is empty, "." or "..", the prefix holds a control character, or the
 * result does not fit in out. */
int model_path_resolve(const char *dir, const char *prefix, char *out, size_t outlen, char *err, size_t errlen);

#endif
