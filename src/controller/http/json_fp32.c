/* FP32 values in JSON text (json_fp32.h). Writing: a float m x 2^e is scaled to its nine
 * significant digits with integer arithmetic (up to 192 bits), rounded half to even as glibc's
 * printf does, then laid out as %.9g and Jansson would. Reading: the few number forms clients
 * send are converted exactly without strtod (Clinger's fast path); the rest through strtod,
 * as Jansson does. */
#include "json_fp32.h"
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

/* ---- writing ---- */

/* 5^p for p <= 55 (< 2^128): 5^(8k) x 5^j. */
static u128 pow5(int p)
{
    static const uint64_t big[7][2] = {
        {0x0ULL, 0x1ULL},
        {0x0ULL, 0x5f5e1ULL},
        {0x0ULL, 0x2386f26fc1ULL},
        {0x0ULL, 0xd3c21bcecceda1ULL},
        {0x4eeULL, 0x2d6d415b85acef81ULL},
        {0x1d6329f1ULL, 0xc35ca4bfabb9f561ULL},
        {0xaf298d050e43ULL, 0x95d69670b12b7f41ULL},
    };
    static const uint32_t small[8] = {1, 5, 25, 125, 625, 3125, 15625, 78125};
    return (((u128)big[p >> 3][0] << 64) | big[p >> 3][1]) * small[p & 7];
}

static int compare(u128 a, u128 b) { return a < b ? -1 : a > b; }

/* floor(n / 2^s) of the 192-bit n = hi x 2^64 + lo (s >= 1); *rest: how the remainder compares
 * with half the divisor. UINT64_MAX if the quotient does not fit. */
static uint64_t shift_right(u128 hi, uint64_t lo, int s, int *rest)
{
    if (s < 64) {
        if (hi >> 64)
            return UINT64_MAX;
        u128 n = (hi << 64) | lo, q = n >> s;
        *rest = compare(n & (((u128)1 << s) - 1), (u128)1 << (s - 1));
        return q >> 64 ? UINT64_MAX : (uint64_t)q;
    }
    s -= 64;
    if (s >= 128)
        return *rest = -1, 0;
    if (s == 0) {
        *rest = compare(lo, (u128)1 << 63);
        return hi >> 64 ? UINT64_MAX : (uint64_t)hi;
    }
    u128 q = hi >> s;
    *rest = compare(hi & (((u128)1 << s) - 1), (u128)1 << (s - 1));
    if (*rest == 0 && lo)
        *rest = 1;
    return q >> 64 ? UINT64_MAX : (uint64_t)q;
}

/* floor(m x 2^e x 10^p) and how the rest compares with one half. p in [-30, 55]; a negative p
 * only for m x 2^e >= 10^8 (then e >= 0). */
static uint64_t scale(uint32_t m, int e, int p, int *rest)
{
    *rest = -1;
    if (p < 0) {
        u128 n = (u128)m << e, d = pow5(-p) << -p, q = n / d;
        *rest = compare(2 * (n % d), d);
        return q >> 64 ? UINT64_MAX : (uint64_t)q;
    }
    u128 f = pow5(p), a = (u128)m * (uint64_t)f, b = (u128)m * (uint64_t)(f >> 64);
    u128 hi = b + (a >> 64); /* m x 5^p = hi x 2^64 + lo */
    uint64_t lo = (uint64_t)a;
    int t = e + p;
    if (t < 0)
        return shift_right(hi, lo, -t, rest);
    if (hi || t >= 40 || lo >> (64 - t - 1))
        return UINT64_MAX;
    return lo << t;
}

/* Digits q (exactly nine) with decimal exponent x, laid out as %.9g, then as Jansson does. */
static size_t lay_out(char *o, uint64_t q, int x)
{
    char d[9], *start = o;
    for (int i = 8; i >= 0; i--, q /= 10)
        d[i] = (char)('0' + q % 10);
    int n = 9;
    while (n > 1 && d[n - 1] == '0')
        n--;
    if (x < -4 || x >= 9) {
        *o++ = d[0];
        if (n > 1)
            *o++ = '.';
        memcpy(o, d + 1, (size_t)n - 1);
        o += n - 1;
        *o++ = 'e';
        if (x < 0)
            *o++ = '-';
        unsigned ax = (unsigned)abs(x);
        if (ax >= 10)
            *o++ = (char)('0' + ax / 10);
        *o++ = (char)('0' + ax % 10);
    } else if (x >= 0) {
        memcpy(o, d, (size_t)x + 1);
        o += x + 1;
        *o++ = '.';
        if (n > x + 1) {
            memcpy(o, d + x + 1, (size_t)(n - x - 1));
            o += n - x - 1;
        } else {
            *o++ = '0';
        }
    } else {
        memcpy(o, "0.000", (size_t)(1 - x));
        o += 1 - x;
        memcpy(o, d, (size_t)n);
        o += n;
    }
    *o = '\0';
    return (size_t)(o - start);
}

size_t json_fp32_format(float v, char out[JSON_FP32_TEXT_MAX])
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    char *o = out;
    if (bits >> 31)
        *o++ = '-';
    uint32_t frac = bits & 0x7fffff, bexp = (bits >> 23) & 0xff;
    if (bexp == 0xff || (bexp == 0 && frac == 0)) { /* not JSON (callers check), or zero */
        memcpy(o, bexp ? (frac ? "nan" : "inf") : "0.0", 4);
        return (size_t)(o - out) + 3;
    }
    uint32_t m = bexp ? frac | 0x800000 : frac;
    int e = bexp ? (int)bexp - 150 : -149, rest;
    int x = (int)floor(log10(fabs((double)v))); /* off by one at most: corrected below */
    uint64_t q;
    for (;;) {
        q = scale(m, e, 8 - x, &rest);
        if (q >= 1000000000)
            x++;
        else if (q < 100000000)
            x--;
        else
            break;
    }
    if (rest > 0 || (rest == 0 && (q & 1)))
        q++;
    if (q == 1000000000) {
        q = 100000000;
        x++;
    }
    return (size_t)(o - out) + lay_out(o, q, x);
}

/* ---- reading ---- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

struct number_text {
    uint64_t w; /* the first 19 significant digits */
    int sig;    /* significant digits (more than 19: w is not all of them) */
    int exp10;  /* value = w x 10^exp10 when sig <= 19 */
    int real;   /* has a fraction or an exponent: Jansson makes a real of it */
    int negative;
};

static const char *digits(const char *p, const char *end, struct number_text *n, int fraction)
{
    for (; p < end && is_digit(*p); p++) {
        int d = *p - '0';
        if (n->sig || d) {
            if (n->sig < 19)
                n->w = n->w * 10 + (uint64_t)d;
            n->sig++;
        }
        n->exp10 -= fraction;
    }
    return p;
}

/* The strict JSON number grammar; NULL if p is not one. */
static const char *lex(const char *p, const char *end, struct number_text *n)
{
    memset(n, 0, sizeof *n);
    n->negative = p < end && *p == '-';
    p += n->negative;
    if (p == end || !is_digit(*p))
        return NULL;
    p = *p == '0' ? p + 1 : digits(p, end, n, 0);
    if (p < end && *p == '.') {
        n->real = 1;
        if (++p == end || !is_digit(*p))
            return NULL;
        p = digits(p, end, n, 1);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        n->real = 1;
        p++;
        int negative = p < end && *p == '-';
        p += p < end && (*p == '-' || *p == '+');
        if (p == end || !is_digit(*p))
            return NULL;
        int e = 0;
        for (; p < end && is_digit(*p); p++)
            e = e < 100000 ? e * 10 + (*p - '0') : e;
        n->exp10 += negative ? -e : e;
    }
    return p;
}

/* A real as strtod makes it, copying the token to terminate it (as Jansson does). -1 on an
 * overflow, which Jansson refuses. */
static int real_by_strtod(const char *start, size_t len, double *d)
{
    char text[64];
    if (len >= sizeof text)
        return -1;
    memcpy(text, start, len);
    text[len] = '\0';
    char *stop;
    errno = 0;
    *d = strtod(text, &stop);
    if (stop != text + len || ((*d == HUGE_VAL || *d == -HUGE_VAL) && errno == ERANGE))
        return -1;
    return 0;
}

int json_number_scan(const char **pp, const char *end, struct json_number *out)
{
    static const double exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    struct number_text n;
    const char *p = lex(*pp, end, &n);
    if (!p || (!n.real && n.sig > 18))
        return -1;
    double d;
    out->is_integer = !n.real;
    out->integer = n.negative ? -(long long)n.w : (long long)n.w;
    if (!n.real) {
        d = (double)out->integer;
    } else if (n.sig == 0) {
        d = n.negative ? -0.0 : 0.0;
    } else if (n.sig <= 15 && n.exp10 >= -22 && n.exp10 <= 22) { /* one correctly rounded operation */
        d = n.exp10 >= 0 ? (double)n.w * exact[n.exp10] : (double)n.w / exact[-n.exp10];
        d = n.negative ? -d : d;
    } else if (real_by_strtod(*pp, (size_t)(p - *pp), &d) != 0) {
        return -1;
    }
    out->real = d;
    *pp = p;
    return 0;
}

int json_fp32_scan(const char **pp, const char *end, float *v)
{
    struct json_number n;
    const char *p = *pp;
    if (json_number_scan(&p, end, &n) != 0 || !isfinite(n.real) || fabs(n.real) > FLT_MAX)
        return -1;
    *v = (float)n.real;
    *pp = p;
    return 0;
}

const char *json_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int push(float **values, size_t *n, size_t *cap, float v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        float *grown = realloc(*values, c * sizeof *grown);
        if (!grown)
            return -1;
        *values = grown;
        *cap = c;
    }
    (*values)[(*n)++] = v;
    return 0;
}

int json_fp32_list(const char **pp, const char *end, float **values, size_t *n)
{
    const char *p = *pp;
    size_t cap = 0;
    *values = NULL;
    *n = 0;
    if (p == end || *p != '[')
        return -1;
    p = json_skip_ws(p + 1, end);
    int closed = p < end && *p == ']';
    while (!closed) {
        float v;
        if (json_fp32_scan(&p, end, &v) != 0 || push(values, n, &cap, v) != 0)
            break;
        p = json_skip_ws(p, end);
        closed = p < end && *p == ']';
        if (closed || p == end || *p != ',')
            break;
        p = json_skip_ws(p + 1, end);
    }
    if (closed) {
        *pp = p + 1;
        return 0;
    }
    free(*values);
    *values = NULL;
    *n = 0;
    return -1;
}

static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\')
            p++;
    }
    return NULL;
}

static const char *skip_nested(const char *p, const char *end, int depth);

/* An object's "key": part (p at the key); NULL if it is not one. */
static const char *skip_key(const char *p, const char *end)
{
    if (p == end || *p != '"' || !(p = skip_string(p, end)))
        return NULL;
    p = json_skip_ws(p, end);
    return p < end && *p == ':' ? json_skip_ws(p + 1, end) : NULL;
}

static const char *skip_any(const char *p, const char *end, int depth)
{
    if (p == end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '[' || *p == '{')
        return depth < 64 ? skip_nested(p, end, depth + 1) : NULL;
    const char *start = p;
    while (p < end && (is_digit(*p) || (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '+' || *p == '.' || *p == 'E'))
        p++;
    return p > start ? p : NULL;
}

static const char *skip_nested(const char *p, const char *end, int depth)
{
    char close = *p == '[' ? ']' : '}';
    p = json_skip_ws(p + 1, end);
    if (p < end && *p == close)
        return p + 1;
    while (p) {
        if (close == '}')
            p = skip_key(p, end);
        p = p ? skip_any(p, end, depth) : NULL;
        p = p ? json_skip_ws(p, end) : NULL;
        if (!p || p == end || (*p != ',' && *p != close))
            return NULL;
        if (*p == close)
            return p + 1;
        p = json_skip_ws(p + 1, end);
    }
    return NULL;
}

const char *json_skip_value(const char *p, const char *end) { return skip_any(p, end, 0); }
