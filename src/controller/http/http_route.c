#include "http_route.h"
#include <stdio.h>
#include <string.h>

#define MAX_SEGMENTS 8

struct segments {
    char seg[MAX_SEGMENTS][HTTP_ROUTE_NAME_MAX];
    unsigned n;
};

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Splits "/a/b%2Fc/d" into decoded segments; -1 if malformed (bad escape, NUL, too many or too
 * long segments, empty segments other than a trailing slash). */
static int split(const char *p, size_t len, struct segments *s)
{
    s->n = 0;
    if (len == 0 || p[0] != '/')
        return -1;
    size_t i = 1;
    while (i < len) {
        if (s->n == MAX_SEGMENTS)
            return -1;
        char *out = s->seg[s->n++];
        size_t o = 0;
        for (; i < len && p[i] != '/'; i++) {
            char c = p[i];
            if (c == '%') {
                int hi = i + 2 < len ? hex(p[i + 1]) : -1, lo = i + 2 < len ? hex(p[i + 2]) : -1;
                if (hi < 0 || lo < 0)
                    return -1;
                c = (char)(hi * 16 + lo);
                i += 2;
            }
            if (c == '\0' || o + 1 >= HTTP_ROUTE_NAME_MAX)
                return -1;
            out[o++] = c;
        }
        out[o] = '\0';
        if (o == 0 && i < len) /* "//" */
            return -1;
        if (o == 0) /* a trailing slash */
            s->n--;
        i++;
    }
    return 0;
}

static int is(const struct segments *s, unsigned i, const char *text) { return i < s->n && !strcmp(s->seg[i], text); }

static enum http_route_kind with_method(const char *method, size_t mlen, const char *want, enum http_route_kind k,
                                        struct http_route *out)
{
    if (mlen == strlen(want) && !memcmp(method, want, mlen))
        return k;
    out->allowed = want;
    return HTTP_ROUTE_BAD_METHOD;
}

/* /v2/models/NAME[/versions/V][/ready|/infer] */
static enum http_route_kind model_route(const struct segments *s, const char *m, size_t ml, struct http_route *out)
{
    unsigned rest = 3;
    snprintf(out->name, sizeof out->name, "%s", s->seg[2]);
    if (is(s, 3, "versions") && s->n >= 5) {
        snprintf(out->version, sizeof out->version, "%s", s->seg[4]);
        rest = 5;
    }
    if (s->n == rest)
        return with_method(m, ml, "GET", HTTP_ROUTE_MODEL, out);
    if (s->n == rest + 1 && is(s, rest, "ready"))
        return with_method(m, ml, "GET", HTTP_ROUTE_MODEL_READY, out);
    if (s->n == rest + 1 && is(s, rest, "infer"))
        return with_method(m, ml, "POST", HTTP_ROUTE_INFER, out);
    return HTTP_ROUTE_NONE;
}

static enum http_route_kind v2_route(const struct segments *s, const char *m, size_t ml, struct http_route *out)
{
    if (s->n == 1)
        return with_method(m, ml, "GET", HTTP_ROUTE_SERVER, out);
    if (s->n == 3 && is(s, 1, "health") && is(s, 2, "live"))
        return with_method(m, ml, "GET", HTTP_ROUTE_LIVE, out);
    if (s->n == 3 && is(s, 1, "health") && is(s, 2, "ready"))
        return with_method(m, ml, "GET", HTTP_ROUTE_READY, out);
    if (s->n >= 3 && is(s, 1, "models"))
        return model_route(s, m, ml, out);
    if (s->n == 3 && is(s, 1, "repository") && is(s, 2, "index"))
        return with_method(m, ml, "POST", HTTP_ROUTE_REPO_INDEX, out);
    if (s->n == 5 && is(s, 1, "repository") && is(s, 2, "models") && (is(s, 4, "load") || is(s, 4, "unload"))) {
        snprintf(out->name, sizeof out->name, "%s", s->seg[3]);
        return with_method(m, ml, "POST", is(s, 4, "load") ? HTTP_ROUTE_REPO_LOAD : HTTP_ROUTE_REPO_UNLOAD, out);
    }
    return HTTP_ROUTE_NONE;
}

void http_route_parse(const char *method, size_t method_len, const char *path, size_t path_len, int metrics_port,
                      struct http_route *out)
{
    struct segments s;
    memset(out, 0, sizeof *out);
    const char *q = memchr(path, '?', path_len);
    if (q)
        path_len = (size_t)(q - path);
    if (split(path, path_len, &s) != 0)
        return;
    if (metrics_port) {
        if (s.n == 1 && is(&s, 0, "metrics"))
            out->kind = with_method(method, method_len, "GET", HTTP_ROUTE_METRICS, out);
        return;
    }
    if (s.n >= 1 && is(&s, 0, "v2"))
        out->kind = v2_route(&s, method, method_len, out);
}

const char *http_route_endpoint(enum http_route_kind kind)
{
    static const char *const names[] = {"unknown",    "bad_method", "health_live", "health_ready",
                                        "server",     "model",      "model_ready", "infer",
                                        "repo_index", "repo_load",  "repo_unload", "metrics"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}
