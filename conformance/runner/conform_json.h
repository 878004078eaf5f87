/*
 * conform_json.h - a small, bounded JSON reader for qed-conform: manifests,
 * adapter output (info/check/map) and result files.  (Strings are written
 * by conformance/lib/json_string.h.)
 *
 * The parser builds a tree; every allocation is bounded by the input length
 * and nesting is limited, so hostile adapter output cannot exhaust memory or
 * the stack.  Numbers keep their source text; cj_u64() converts exactly.
 */
#ifndef CONFORM_JSON_H
#define CONFORM_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { CJ_NULL, CJ_BOOL, CJ_NUMBER, CJ_STRING, CJ_ARRAY, CJ_OBJECT } cj_type;

typedef struct cj_value cj_value;
struct cj_value {
    cj_type type;
    int boolean;          /* CJ_BOOL */
    char *text;           /* CJ_STRING (decoded, NUL-terminated), CJ_NUMBER (source) */
    size_t count;         /* CJ_ARRAY / CJ_OBJECT: members */
    cj_value *items;      /* CJ_ARRAY / CJ_OBJECT: member values */
    char **keys;          /* CJ_OBJECT: member names */
};

/* Parse len bytes of text into *out (free with cj_free).  Returns 0, or -1
 * with a one-line reason (and byte offset) in err. */
int cj_parse(const char *text, size_t len, cj_value **out, char *err, size_t errlen);
/* Free a tree returned by cj_parse (NULL is allowed). */
void cj_free(cj_value *v);

/* Member of an object by name, or NULL (also when v is not an object). */
const cj_value *cj_get(const cj_value *v, const char *key);
/* Element i of an array, or NULL. */
const cj_value *cj_at(const cj_value *v, size_t i);
/* Number of array elements (0 when v is not an array). */
size_t cj_len(const cj_value *v);
/* The string, or NULL when v is not a string. */
const char *cj_str(const cj_value *v);
/* A non-negative integer that fits in 64 bits: 0 and *out set, else -1. */
int cj_u64(const cj_value *v, uint64_t *out);
/* A boolean: 0 and *out set, else -1. */
int cj_bool(const cj_value *v, int *out);
/* A number as a double (for timings): 0 and *out set, else -1. */
int cj_double(const cj_value *v, double *out);

#endif
