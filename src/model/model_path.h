/* Where a model named by the controller's path prefix lives on this machine. Clients name
 * models by paths from their own zoo; a worker whose zoo is elsewhere ($CLOCKWORK_MODEL_DIR)
 * finds the same model by its directory name, so machines need not share a checkout path. */
#ifndef CW_MODEL_PATH_H
#define CW_MODEL_PATH_H
#include <stddef.h>

/* The prefix itself if PREFIX.info exists; else, if $CLOCKWORK_MODEL_DIR is set (or for a
 * relative prefix), DIR/NAME/BASE where NAME/BASE are the prefix's last two components.
 * Returns 0 with out set (to the prefix itself when nothing better exists), -1 if too long. */
int model_path_resolve(const char *prefix, char *out, size_t outlen);

#endif
