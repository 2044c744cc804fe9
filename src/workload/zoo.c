#include "zoo.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CLOCKWORK_SOURCE_DIR
#define CLOCKWORK_SOURCE_DIR "."
#endif

const char *zoo_default_dir(void)
{
    const char *env = getenv("CLOCKWORK_MODEL_DIR");
    return env && *env ? env : CLOCKWORK_SOURCE_DIR "/modelzoo";
}

static int is_model_dir(const char *dir, const char *name)
{
    char path[8192];
    struct stat st;
    if (name[0] == '.')
        return 0;
    snprintf(path, sizeof path, "%s/%s/model.info", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int add_name(struct zoo *z, size_t *cap, const char *name)
{
    if (z->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        char **nn = realloc(z->names, ncap * sizeof *nn);
        if (!nn)
            return -1;
        z->names = nn;
        *cap = ncap;
    }
    z->names[z->count] = strdup(name);
    if (!z->names[z->count])
        return -1;
    z->count++;
    return 0;
}

int zoo_scan(struct zoo *z, const char *dir, char *err, size_t errlen)
{
    memset(z, 0, sizeof *z);
    snprintf(z->dir, sizeof z->dir, "%s", dir);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot read model directory %s: %s (set CLOCKWORK_MODEL_DIR)", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (is_model_dir(dir, e->d_name) && add_name(z, &cap, e->d_name) != 0) {
            closedir(d);
            zoo_free(z);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    closedir(d);
    if (z->count > 1)
        qsort(z->names, z->count, sizeof *z->names, cmp_names);
    return 0;
}

void zoo_free(struct zoo *z)
{
    for (size_t i = 0; i < z->count; i++)
        free(z->names[i]);
    free(z->names);
    z->names = NULL;
    z->count = 0;
}

int zoo_model_path(const struct zoo *z, const char *name, char *out, size_t outlen)
{
    for (size_t i = 0; i < z->count; i++) {
        if (strcmp(z->names[i], name) == 0) {
            int n = snprintf(out, outlen, "%s/%s/model", z->dir, name);
            return n > 0 && (size_t)n < outlen ? 0 : -1;
        }
    }
    return -1;
}
