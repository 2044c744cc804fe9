#include "model_path.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int has_model(const char *prefix)
{
    char info[1200];
    if (snprintf(info, sizeof info, "%s.info", prefix) >= (int)sizeof info)
        return 0;
    return access(info, R_OK) == 0;
}

/* The last two components ("NAME/model") of prefix, or the whole relative prefix. */
static const char *tail_of(const char *prefix)
{
    if (prefix[0] != '/')
        return prefix;
    const char *last = strrchr(prefix, '/');
    const char *p = last;
    while (p > prefix && *(p - 1) != '/')
        p--;
    return p > prefix ? p : last + 1;
}

int model_path_resolve(const char *prefix, char *out, size_t outlen)
{
    if (snprintf(out, outlen, "%s", prefix) >= (int)outlen)
        return -1;
    if (has_model(prefix))
        return 0;
    const char *dir = getenv("CLOCKWORK_MODEL_DIR");
    if (!dir || !*dir)
        return 0;
    char candidate[1200];
    int n = snprintf(candidate, sizeof candidate, "%s/%s", dir, tail_of(prefix));
    if (n < (int)sizeof candidate && n < (int)outlen && has_model(candidate))
        snprintf(out, outlen, "%s", candidate);
    return 0;
}
