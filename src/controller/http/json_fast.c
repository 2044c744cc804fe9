/* A small JSON reader (json_fast.h). Declining is always safe: json_loadb then reads the text.
 * What it accepts it reads exactly as Jansson does: ASCII strings without escapes are their
 * bytes, numbers are json_number_scan's (integers as long long), a key seen twice in one object
 * declines (Jansson refuses duplicates), and only whitespace may follow the root. */
#include "json_fast.h"
#include "json_fp32.h"
#include <string.h>

#define JSON_FAST_DEPTH 64

struct reader {
    const char *p, *end;
};

static json_t *read_value(struct reader *r, int depth);

/* A string of printable ASCII without escapes: its bytes and length, r past it. */
static const char *read_text(struct reader *r, size_t *len)
{
    if (r->p == r->end || *r->p != '"')
        return NULL;
    const char *start = ++r->p;
    while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (unsigned char)*r->p >= 0x20 &&
           (unsigned char)*r->p < 0x80)
        r->p++;
    if (r->p == r->end || *r->p != '"')
        return NULL;
    *len = (size_t)(r->p++ - start);
    return start;
}

/* Steps over whitespace, then over c if it is next; 0 if it was not. */
static int expect(struct reader *r, char c)
{
    r->p = json_skip_ws(r->p, r->end);
    if (r->p == r->end || *r->p != c)
        return 0;
    r->p = json_skip_ws(r->p + 1, r->end);
    return 1;
}

/* After '{' or '[': 1 and past the closing c if it is next (an empty container), else 0. */
static int closes(struct reader *r, char c)
{
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return 1;
    }
    return 0;
}

static json_t *read_object(struct reader *r, int depth)
{
    json_t *o = json_object();
    if (!o || closes(r, '}'))
        return o;
    do {
        size_t len;
        const char *key = read_text(r, &len);
        json_t *v = key && expect(r, ':') && !json_object_getn(o, key, len) ? read_value(r, depth) : NULL;
        if (!v || json_object_setn_new_nocheck(o, key, len, v) != 0) {
            json_decref(o);
            return NULL;
        }
    } while (expect(r, ','));
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return o;
    }
    json_decref(o);
    return NULL;
}

static json_t *read_array(struct reader *r, int depth)
{
    json_t *a = json_array();
    if (!a || closes(r, ']'))
        return a;
    do {
        json_t *v = read_value(r, depth);
        if (!v || json_array_append_new(a, v) != 0) {
            json_decref(a);
            return NULL;
        }
    } while (expect(r, ','));
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return a;
    }
    json_decref(a);
    return NULL;
}

/* true, false, null: the word, then no letter or digit (Jansson reads them as one token). */
static json_t *read_word(struct reader *r)
{
    static const char *const words[3] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        const char *after = r->p + n;
        if ((size_t)(r->end - r->p) < n || memcmp(r->p, words[i], n) != 0)
            continue;
        if (after < r->end && ((*after | 0x20) >= 'a' && (*after | 0x20) <= 'z'))
            return NULL;
        r->p = after;
        return i == 0 ? json_true() : i == 1 ? json_false() : json_null();
    }
    return NULL;
}

static json_t *read_value(struct reader *r, int depth)
{
    r->p = json_skip_ws(r->p, r->end);
    if (r->p == r->end)
        return NULL;
    char c = *r->p;
    if ((c == '{' || c == '[') && depth >= JSON_FAST_DEPTH)
        return NULL;
    r->p += c == '{' || c == '[';
    if (c == '{' || c == '[') {
        r->p = json_skip_ws(r->p, r->end);
        return c == '{' ? read_object(r, depth + 1) : read_array(r, depth + 1);
    }
    if (c == '"') {
        size_t len;
        const char *s = read_text(r, &len);
        return s ? json_stringn_nocheck(s, len) : NULL;
    }
    struct json_number n;
    if ((c == '-' || (c >= '0' && c <= '9')) && json_number_scan(&r->p, r->end, &n) == 0)
        return n.is_integer ? json_integer(n.integer) : json_real(n.real);
    return read_word(r);
}

json_t *json_fast_load(const char *text, size_t len)
{
    struct reader r = {text, text + len};
    r.p = json_skip_ws(r.p, r.end);
    if (r.p == r.end || (*r.p != '{' && *r.p != '['))
        return NULL;
    json_t *root = read_value(&r, 0);
    if (root && json_skip_ws(r.p, r.end) != r.end) {
        json_decref(root);
        return NULL;
    }
    return root;
}
