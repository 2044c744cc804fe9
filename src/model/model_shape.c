#include "model_shape.h"
#include <libconfig.h>
#include <stdio.h>
#include <string.h>

static int read_shape(const config_t *c, const char *file, const char *key, struct model_shape *s, char *err,
                      size_t errlen)
{
    memset(s, 0, sizeof *s);
    const config_setting_t *list = config_lookup(c, key);
    if (!list)
        return 0;
    int n = config_setting_length(list);
    if (!config_setting_is_aggregate(list) || n < 1 || n > MODEL_SHAPE_MAX_RANK) {
        snprintf(err, errlen, "%s: '%s' must be a list of 1 to %d dimensions", file, key, MODEL_SHAPE_MAX_RANK);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        int type = e ? config_setting_type(e) : CONFIG_TYPE_NONE;
        long long d = type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64 ? config_setting_get_int64(e) : 0;
        if (d <= 0 || d > (1LL << 32)) {
            snprintf(err, errlen, "%s: '%s' must hold positive integers", file, key);
            return -1;
        }
        s->dims[i] = d;
    }
    s->rank = (unsigned)n;
    return 0;
}

int model_shape_read(const char *prefix, struct model_shape *input, struct model_shape *output, char *err,
                     size_t errlen)
{
    char file[1100];
    memset(input, 0, sizeof *input);
    memset(output, 0, sizeof *output);
    if (snprintf(file, sizeof file, "%s.info", prefix) >= (int)sizeof file) {
        snprintf(err, errlen, "model path too long");
        return -1;
    }
    config_t c;
    config_init(&c);
    if (config_read_file(&c, file) != CONFIG_TRUE) {
        snprintf(err, errlen, "cannot read %s", file);
        config_destroy(&c);
        return -1;
    }
    int rc = read_shape(&c, file, "input_shape", input, err, errlen);
    if (rc == 0)
        rc = read_shape(&c, file, "output_shape", output, err, errlen);
    config_destroy(&c);
    return rc;
}

uint64_t model_shape_elems(const struct model_shape *s)
{
    uint64_t n = 1;
    for (unsigned i = 0; i < s->rank; i++)
        n *= (uint64_t)s->dims[i];
    return n;
}
