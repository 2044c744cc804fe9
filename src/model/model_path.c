#include "model_path.h"
#include "common/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CLOCKWORK_SOURCE_DIR
#define CLOCKWORK_SOURCE_DIR "."
#endif

const char *model_path_default_dir(void)
{
    const char *env = getenv("CLOCKWORK_MODEL_DIR");
    return env && *env ? env : CLOCKWORK_SOURCE_DIR "/modelzoo";
}

/* The last two components of prefix (one if it has only one); NULL for an empty last one. */
static const char *tail_of(const char *prefix)
{
    const char *last = strrchr(prefix, '/');
    if (!last)
        return prefix;
    if (last[1] == '\0')
        return NULL;
    const char *p = last;
    while (p > prefix && *(p - 1) != '/')
        p--;
    return p == last ? last + 1 : p;
}

static int valid_component(const char *s, size_t n)
{
    return n > 0 && !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

static int valid_tail(const char *tail)
{
    for (const char *p = tail; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    const char *slash = strchr(tail, '/');
    if (!slash)
        return valid_component(tail, strlen(tail));
    return valid_component(tail, (size_t)(slash - tail)) && valid_component(slash + 1, strlen(slash + 1));
}

int model_path_resolve(const char *dir, const char *prefix, char *out, size_t outlen, char *err, size_t errlen)
{
    char shown[LOG_ESCAPED_SIZE];
    const char *tail = prefix ? tail_of(prefix) : NULL;
    if (!tail || !valid_tail(tail)) {
        snprintf(err, errlen, "invalid model path '%s': expected .../NAME/model", log_escape(shown, prefix));
        return -1;
    }
    if (snprintf(out, outlen, "%s/%s", dir, tail) >= (int)outlen) {
        snprintf(err, errlen, "model path '%s' is too long", log_escape(shown, prefix));
        return -1;
    }
    return 0;
}
