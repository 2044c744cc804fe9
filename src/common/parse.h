/* Strict parsing of command-line numbers: the whole string must be a number in range, so
 * a typo is an error rather than a silent 0. */
#ifndef CW_PARSE_H
#define CW_PARSE_H
#include <stdint.h>

int parse_u64(const char *s, uint64_t *out);                        /* decimal, no sign; 0 or -1 */
int parse_nonneg_double(const char *s, double *out);                /* finite and >= 0; 0 or -1 */
int parse_long_range(const char *s, long min, long max, long *out); /* 0 or -1 */
int parse_bool(const char *s, int *out);                            /* 1/0/true/false; 0 or -1 */

#endif
