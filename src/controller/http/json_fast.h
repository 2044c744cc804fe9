/* A small JSON reader for the documents clients commonly send (kserve.c's inference requests):
 * it builds the same Jansson tree json_loadb(..., JSON_REJECT_DUPLICATES) would, without
 * Jansson's per-character lexer, or declines, and the caller then loads the text with Jansson,
 * which words any error. Strings are taken only as printable ASCII without escapes; numbers as
 * json_number_scan reads them; nesting up to 64 deep. */
#ifndef CW_JSON_FAST_H
#define CW_JSON_FAST_H
#include <jansson.h>
#include <stddef.h>

/* The tree of the object or array that is all of [text, text + len) (the caller owns it), or
 * NULL: the text is not such a document, or is not one this reader takes. */
json_t *json_fast_load(const char *text, size_t len);

#endif
