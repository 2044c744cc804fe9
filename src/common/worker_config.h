/* Worker configuration from a libconfig file (config/default.cfg or $CLOCKWORK_CONFIG_FILE).
 * Missing keys keep their defaults, so a partial file is fine. */
#ifndef CW_WORKER_CONFIG_H
#define CW_WORKER_CONFIG_H
#include <stddef.h>
#include <stdint.h>

struct worker_config {
    uint64_t weights_cache_size;
    uint64_t weights_cache_page_size;
    uint64_t io_pool_size;
    uint64_t workspace_pool_size;
    uint64_t host_io_pool_size;
    char source[1024]; /* the file it was read from, "" for built-in defaults */
};

void worker_config_defaults(struct worker_config *cfg);
/* Reads `path`; returns 0, or -1 with a message in err (cfg keeps defaults for what failed). */
int worker_config_load(struct worker_config *cfg, const char *path, char *err, size_t errlen);
/* Resolves the config path: $CLOCKWORK_CONFIG_FILE, else config/default.cfg next to the
 * build tree (compiled-in source dir), else built-in defaults. Returns 0 or -1 with err. */
int worker_config_load_default(struct worker_config *cfg, char *err, size_t errlen);

#endif
