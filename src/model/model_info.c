#include "model_info.h"
#include <libconfig.h>
#include <stdio.h>
#include <string.h>

/* Reads a positive integer (int, int64 or integral float) at `key`; 0 or -1 with err. */
static int read_u64(const config_t *c, const char *file, const char *key, uint64_t *out, char *err, size_t errlen)
{
    const config_setting_t *s = config_lookup(c, key);
    if (!s) {
        snprintf(err, errlen, "%s: missing key '%s'", file, key);
        return -1;
    }
    long long v = -1;
    int type = config_setting_type(s);
    if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
        v = config_setting_get_int64(s);
    else if (type == CONFIG_TYPE_FLOAT && config_setting_get_float(s) >= 0)
        v = (long long)config_setting_get_float(s);
    if (v <= 0) {
        snprintf(err, errlen, "%s: key '%s' must be a positive integer", file, key);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static int open_file(config_t *c, const char *file, char *err, size_t errlen)
{
    config_init(c);
    if (config_read_file(c, file) == CONFIG_TRUE)
        return 0;
    if (config_error_type(c) == CONFIG_ERR_FILE_IO)
        snprintf(err, errlen, "cannot read %s", file);
    else
        snprintf(err, errlen, "%s:%d: %s", file, config_error_line(c), config_error_text(c));
    config_destroy(c);
    return -1;
}

static int read_batch_sizes(const config_t *c, const char *file, struct model_info *m, char *err, size_t errlen)
{
    const config_setting_t *s = config_lookup(c, "batch_sizes");
    if (!s) {
        snprintf(err, errlen, "%s: missing key 'batch_sizes'", file);
        return -1;
    }
    int n = config_setting_length(s);
    if (!config_setting_is_aggregate(s) || n < 1 || n > MODEL_MAX_BATCH_SIZES) {
        snprintf(err, errlen, "%s: key 'batch_sizes' must be a list of 1 to %d sizes", file, MODEL_MAX_BATCH_SIZES);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        long long b = (e && (config_setting_type(e) == CONFIG_TYPE_INT || config_setting_type(e) == CONFIG_TYPE_INT64))
                          ? config_setting_get_int64(e)
                          : 0;
        if (b <= 0 || b > 1 << 20 || (i > 0 && (unsigned)b <= m->batch_sizes[i - 1])) {
            snprintf(err, errlen, "%s: key 'batch_sizes' must hold positive ascending integers", file);
            return -1;
        }
        m->batch_sizes[i] = (unsigned)b;
    }
    m->n_batch_sizes = (unsigned)n;
    return 0;
}

static int load_info(struct model_info *m, const char *file, char *err, size_t errlen)
{
    config_t c;
    if (open_file(&c, file, err, errlen) != 0)
        return -1;
    int rc = read_u64(&c, file, "input_size", &m->input_size, err, errlen);
    if (rc == 0)
        rc = read_u64(&c, file, "output_size", &m->output_size, err, errlen);
    if (rc == 0)
        rc = read_u64(&c, file, "weights_size", &m->weights_size, err, errlen);
    if (rc == 0)
        rc = read_batch_sizes(&c, file, m, err, errlen);
    config_destroy(&c);
    return rc;
}

static int load_measurements(struct model_info *m, const char *file, char *err, size_t errlen)
{
    config_t c;
    if (open_file(&c, file, err, errlen) != 0)
        return -1;
    int rc = read_u64(&c, file, "weights", &m->weights_load_ns, err, errlen);
    for (unsigned i = 0; rc == 0 && i < m->n_batch_sizes; i++) {
        char key[32];
        snprintf(key, sizeof key, "b%u", m->batch_sizes[i]);
        rc = read_u64(&c, file, key, &m->exec_ns[i], err, errlen);
    }
    config_destroy(&c);
    return rc;
}

int model_info_load(struct model_info *m, const char *prefix, uint64_t page_size, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!prefix || !*prefix || strlen(prefix) >= sizeof m->source || page_size == 0) {
        snprintf(err, errlen, "invalid model path '%s'", prefix ? prefix : "");
        return -1;
    }
    snprintf(m->source, sizeof m->source, "%s", prefix);
    char file[600];
    snprintf(file, sizeof file, "%s.info", prefix);
    if (load_info(m, file, err, errlen) != 0)
        return -1;
    snprintf(file, sizeof file, "%s.measurements", prefix);
    if (load_measurements(m, file, err, errlen) != 0)
        return -1;
    uint64_t pages = (m->weights_size + page_size - 1) / page_size;
    if (pages > 0xFFFFFFFFu) {
        snprintf(err, errlen, "%s.info: weights_size too large", prefix);
        return -1;
    }
    m->num_weights_pages = (unsigned)pages;
    return 0;
}

unsigned model_info_padded_batch(const struct model_info *m, unsigned n)
{
    for (unsigned i = 0; i < m->n_batch_sizes; i++)
        if (m->batch_sizes[i] >= n)
            return m->batch_sizes[i];
    return 0;
}

void model_info_limit_batches(struct model_info *m, unsigned max_batch, uint64_t max_exec)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < m->n_batch_sizes; i++) {
        if (i > 0 && (m->batch_sizes[i] > max_batch || m->exec_ns[i] > max_exec))
            continue;
        m->batch_sizes[kept] = m->batch_sizes[i];
        m->exec_ns[kept++] = m->exec_ns[i];
    }
    m->n_batch_sizes = kept;
}

int model_info_batch_index(const struct model_info *m, unsigned b)
{
    for (unsigned i = 0; i < m->n_batch_sizes; i++)
        if (m->batch_sizes[i] == b)
            return (int)i;
    return -1;
}
