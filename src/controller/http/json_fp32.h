/* JSON numbers, FP32 values in particular, without Jansson's per-value cost (kserve.c's
 * inference bodies): writing a float exactly as Jansson writes a real (JSON_REAL_PRECISION(9)),
 * and reading numbers, or a list of them into floats, exactly as Jansson's parse (then a
 * (float) cast) would, or declining so that the caller parses them the slow way. Pure, no
 * allocation but the list's. */
#ifndef CW_JSON_FP32_H
#define CW_JSON_FP32_H
#include <stddef.h>

#define JSON_FP32_TEXT_MAX 32

/* Finite v as snprintf("%.9g") would print it, then as Jansson writes a real: ".0" after what
 * would read as an integer, the exponent without '+' or leading zeros ("1e-05" -> "1e-5").
 * Exact (integer arithmetic, ties to even as glibc). Writes a NUL; returns the length. */
size_t json_fp32_format(float v, char out[JSON_FP32_TEXT_MAX]);

/* A JSON number as Jansson's parser reads it: an integer (no fraction, no exponent) as a long
 * long, a real as a correctly rounded strtod. */
struct json_number {
    int is_integer;
    long long integer; /* when is_integer */
    double real;       /* the value (an integer's as (double)) */
};
/* One JSON number token at *p (before end): 0 with *out and *p past it; -1 if it is not a
 * strict JSON number, is an integer of over 18 digits (Jansson refuses those beyond long long),
 * or a real that overflows a double (Jansson refuses it) or has 64 bytes or more. */
int json_number_scan(const char **p, const char *end, struct json_number *out);

/* One JSON number token at *p (before end): 0 with *v = (float) of the double Jansson's parser
 * makes of it (an integer through long long, a real through a correctly rounded strtod), *p
 * past it; -1 if it is not a strict JSON number, is an integer Jansson would refuse or could
 * not hold (over 18 digits), overflows a double, or is out of the FP32 range (not finite or
 * beyond FLT_MAX). */
int json_fp32_scan(const char **p, const char *end, float *v);

/* A JSON list of numbers at *p ('[' first, whitespace allowed where JSON allows it): 0 with
 * *values (malloc'd, *n of them; NULL when empty) and *p past the ']'; -1 if anything in it
 * is not a number json_fp32_scan takes (nested lists included) or it is not closed. */
int json_fp32_list(const char **p, const char *end, float **values, size_t *n);

/* Skips whitespace as JSON defines it. */
const char *json_skip_ws(const char *p, const char *end);
/* Skips one JSON value at p (a string, number, literal, or a list or object nested at most 64
 * deep) without checking more than its extent needs; NULL where it cannot tell where it ends. */
const char *json_skip_value(const char *p, const char *end);

#endif
