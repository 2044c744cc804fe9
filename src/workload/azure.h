/* Reader for the Azure Functions 2019 trace (AzureFunctionsDataset2019): a day file
 * invocations_per_function_md.anon.dNN.csv holds a header row, then one row per function:
 * HashOwner,HashApp,HashFunction,Trigger and 1440 per-minute invocation counts. Functions come
 * back sorted by total invocations, busiest first. Malformed input: an error naming file:line. */
#ifndef CW_WL_AZURE_H
#define CW_WL_AZURE_H
#include <stddef.h>
#include <stdint.h>

#define AZURE_MINUTES 1440
#define AZURE_MAX_DAY 14

struct azure_trace {
    unsigned n_functions;
    uint32_t *counts; /* n_functions rows of AZURE_MINUTES counts */
    uint64_t *totals; /* per row, descending */
};

/* Writes DIR/invocations_per_function_md.anon.dNN.csv (day 1..14) to out; if that file does
 * not exist but the older name ...md.svls.anon.dNN.csv does, that one. 0, or -1 (bad day). */
int azure_trace_path(const char *dir, unsigned day, char *out, size_t outlen);
/* Reads a day file. 0, or -1 with err saying what is wrong and where. */
int azure_trace_load(const char *path, struct azure_trace *t, char *err, size_t errlen);
void azure_trace_free(struct azure_trace *t);
const uint32_t *azure_trace_row(const struct azure_trace *t, unsigned function);

#endif
