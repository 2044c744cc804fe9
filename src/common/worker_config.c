#include "worker_config.h"
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CLOCKWORK_SOURCE_DIR
#define CLOCKWORK_SOURCE_DIR "."
#endif

void worker_config_defaults(struct worker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->weights_cache_size = 23085449216ULL; /* 1376 pages */
    cfg->weights_cache_page_size = 16777216ULL;
    cfg->io_pool_size = 536870912ULL;
    cfg->workspace_pool_size = 536870912ULL;
    cfg->host_io_pool_size = 226492416ULL;
}

static void read_u64(const config_t *c, const char *key, uint64_t *out)
{
    long long v;
    if (config_lookup_int64(c, key, &v) == CONFIG_TRUE && v > 0)
        *out = (uint64_t)v;
}

int worker_config_load(struct worker_config *cfg, const char *path, char *err, size_t errlen)
{
    config_t c;
    config_init(&c);
    if (config_read_file(&c, path) != CONFIG_TRUE) {
        if (config_error_type(&c) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "cannot read config file %s", path);
        else
            snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&c), config_error_text(&c));
        config_destroy(&c);
        return -1;
    }
    read_u64(&c, "WorkerConfig.memory_settings.weights_cache_size", &cfg->weights_cache_size);
    read_u64(&c, "WorkerConfig.memory_settings.weights_cache_page_size", &cfg->weights_cache_page_size);
    read_u64(&c, "WorkerConfig.memory_settings.io_pool_size", &cfg->io_pool_size);
    read_u64(&c, "WorkerConfig.memory_settings.workspace_pool_size", &cfg->workspace_pool_size);
    read_u64(&c, "WorkerConfig.memory_settings.host_io_pool_size", &cfg->host_io_pool_size);
    snprintf(cfg->source, sizeof cfg->source, "%s", path);
    config_destroy(&c);
    return 0;
}

int worker_config_load_default(struct worker_config *cfg, char *err, size_t errlen)
{
    worker_config_defaults(cfg);
    const char *env = getenv("CLOCKWORK_CONFIG_FILE");
    if (env && *env)
        return worker_config_load(cfg, env, err, errlen);
    const char *fallback = CLOCKWORK_SOURCE_DIR "/config/default.cfg";
    if (access(fallback, R_OK) == 0)
        return worker_config_load(cfg, fallback, err, errlen);
    return 0;
}
