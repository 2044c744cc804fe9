#include "azure.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_FIELDS 4 /* HashOwner, HashApp, HashFunction, Trigger */

int azure_trace_path(const char *dir, unsigned day, char *out, size_t outlen)
{
    if (day < 1 || day > AZURE_MAX_DAY)
        return -1;
    snprintf(out, outlen, "%s/invocations_per_function_md.anon.d%02u.csv", dir, day);
    if (access(out, F_OK) == 0)
        return 0;
    char old[4200];
    snprintf(old, sizeof old, "%s/invocations_per_function_md.svls.anon.d%02u.csv", dir, day);
    if (access(old, F_OK) == 0)
        snprintf(out, outlen, "%s", old);
    return 0;
}

const uint32_t *azure_trace_row(const struct azure_trace *t, unsigned function)
{
    return t->counts + (size_t)function * AZURE_MINUTES;
}

void azure_trace_free(struct azure_trace *t)
{
    free(t->counts);
    free(t->totals);
    memset(t, 0, sizeof *t);
}

/* Growable rows while reading. */
struct rows {
    uint32_t *counts;
    uint64_t *totals;
    size_t n, cap;
};

static int rows_grow(struct rows *r)
{
    if (r->n < r->cap)
        return 0;
    size_t cap = r->cap ? r->cap * 2 : 1024;
    uint32_t *c = realloc(r->counts, cap * AZURE_MINUTES * sizeof *c);
    if (c)
        r->counts = c;
    uint64_t *t = c ? realloc(r->totals, cap * sizeof *t) : NULL;
    if (!t)
        return -1;
    r->totals = t;
    r->cap = cap;
    return 0;
}

static void chomp(char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
}

/* Parses one function row into out; returns 0, or -1 with err (file:line: why). */
static int parse_row(char *line, uint32_t *out, uint64_t *total, const char *path, size_t lineno, char *err,
                     size_t errlen)
{
    size_t fields = 1;
    for (const char *p = line; *p; p++)
        fields += *p == ',';
    if (fields != ID_FIELDS + AZURE_MINUTES) {
        snprintf(err, errlen, "%s:%zu: expected %d comma-separated fields (4 ids and %d per-minute counts), got %zu",
                 path, lineno, ID_FIELDS + AZURE_MINUTES, AZURE_MINUTES, fields);
        return -1;
    }
    char *rest = line, *tok = NULL;
    for (int i = 0; i < ID_FIELDS; i++)
        strsep(&rest, ",");
    *total = 0;
    for (unsigned m = 0; m < AZURE_MINUTES; m++) {
        tok = strsep(&rest, ","); /* keeps empty fields, unlike strtok */
        char *end = NULL;
        errno = 0;
        unsigned long long v = tok ? strtoull(tok, &end, 10) : 0;
        if (!tok || *tok == '\0' || *tok == '-' || *end != '\0' || errno != 0 || v > UINT32_MAX) {
            snprintf(err, errlen, "%s:%zu: minute %u: expected a non-negative integer count, got \"%s\"", path, lineno,
                     m + 1, tok ? tok : "");
            return -1;
        }
        out[m] = (uint32_t)v;
        *total += v;
    }
    return 0;
}

static int check_header(const char *line, const char *path, char *err, size_t errlen)
{
    if (strncmp(line, "HashOwner,HashApp,HashFunction,Trigger,", 39) == 0)
        return 0;
    snprintf(err, errlen, "%s:1: expected the header row \"HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440\"",
             path);
    return -1;
}

static int read_rows(FILE *f, const char *path, struct rows *r, char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        chomp(line);
        lineno++;
        if (lineno == 1) {
            rc = check_header(line, path, err, errlen);
        } else if (line[0] != '\0') {
            if (rows_grow(r) != 0) {
                snprintf(err, errlen, "%s:%zu: out of memory", path, lineno);
                rc = -1;
            } else if ((rc = parse_row(line, r->counts + r->n * AZURE_MINUTES, &r->totals[r->n], path, lineno, err,
                                       errlen)) == 0) {
                r->n++;
            }
        }
    }
    free(line);
    if (rc == 0 && lineno == 0) {
        snprintf(err, errlen, "%s: empty file (expected a header row and function rows)", path);
        rc = -1;
    }
    if (rc == 0 && r->n == 0) {
        snprintf(err, errlen, "%s: no function rows after the header", path);
        rc = -1;
    }
    return rc;
}

struct order {
    uint64_t total;
    unsigned index;
};

static int by_total_desc(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index; /* ties keep file order */
}

/* Moves the rows into t, busiest first. */
static int sort_rows(struct rows *r, struct azure_trace *t)
{
    struct order *o = malloc(r->n * sizeof *o);
    t->counts = malloc(r->n * AZURE_MINUTES * sizeof *t->counts);
    t->totals = malloc(r->n * sizeof *t->totals);
    if (!o || !t->counts || !t->totals) {
        free(o);
        azure_trace_free(t);
        return -1;
    }
    for (unsigned i = 0; i < r->n; i++)
        o[i] = (struct order){.total = r->totals[i], .index = i};
    qsort(o, r->n, sizeof *o, by_total_desc);
    for (unsigned i = 0; i < r->n; i++) {
        memcpy(t->counts + (size_t)i * AZURE_MINUTES, r->counts + (size_t)o[i].index * AZURE_MINUTES,
               AZURE_MINUTES * sizeof *t->counts);
        t->totals[i] = o[i].total;
    }
    t->n_functions = (unsigned)r->n;
    free(o);
    return 0;
}

int azure_trace_load(const char *path, struct azure_trace *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read Azure trace %s: %s", path, strerror(errno));
        return -1;
    }
    struct rows r = {0};
    int rc = read_rows(f, path, &r, err, errlen);
    fclose(f);
    if (rc == 0 && r.n > UINT32_MAX / 2) {
        snprintf(err, errlen, "%s: too many functions", path);
        rc = -1;
    }
    if (rc == 0 && sort_rows(&r, t) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    }
    free(r.counts);
    free(r.totals);
    return rc;
}
