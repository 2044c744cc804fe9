#include "output_saver.h"
#include "common/log.h"
#include <errno.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct output_saver {
    char dir[1024];
    uint8_t *saved; /* per model id: 1 once written */
    size_t cap;
};

struct output_saver *output_saver_new(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        log_error("cannot create output directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct output_saver *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    return s;
}

void output_saver_free(struct output_saver *s)
{
    if (!s)
        return;
    free(s->saved);
    free(s);
}

static int mark(struct output_saver *s, uint32_t id)
{
    if (id >= s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap <= id)
            cap *= 2;
        uint8_t *n = realloc(s->saved, cap);
        if (!n)
            return -1;
        memset(n + s->cap, 0, cap - s->cap);
        s->saved = n;
        s->cap = cap;
    }
    if (s->saved[id])
        return -1;
    s->saved[id] = 1;
    return 0;
}

static void write_file(const char *dir, uint32_t id, const char *ext, const void *data, size_t len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/model_%u.%s", dir, id, ext);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len)
        log_error("cannot write %s: %s", path, strerror(errno));
    if (f)
        fclose(f);
}

void output_saver_offer(struct output_saver *s, uint32_t model_id, const uint8_t *input, size_t input_len,
                        uint64_t input_size, const uint8_t *output, size_t output_len)
{
    if (!s || !output || output_len == 0 || mark(s, model_id) != 0)
        return;
    write_file(s->dir, model_id, "out", output, output_len);
    if (!input || input_len == 0 || input_size == 0 || input_size > INT32_MAX)
        return;
    char *raw = malloc(input_size);
    if (!raw)
        return;
    int n = LZ4_decompress_safe((const char *)input, raw, (int)input_len, (int)input_size);
    if (n == (int)input_size)
        write_file(s->dir, model_id, "in", raw, input_size);
    else
        log_error("cannot decompress the input of model %u for saving", model_id);
    free(raw);
}
