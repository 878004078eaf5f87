/*
 * golden_json.h - a small deterministic JSON writer for the manifests.
 *
 * Output is pretty-printed with two-space indentation; containers opened
 * "inline" (and everything inside them) stay on one line.
 */
#ifndef QED_GOLDEN_JSON_H
#define QED_GOLDEN_JSON_H

#include "golden_img.h"

#define GJ_MAX_DEPTH 16

typedef struct gjson {
    gbuf out;
    int depth;
    int count[GJ_MAX_DEPTH];     /* values written at each level */
    int inline_from;             /* first inline level, or GJ_MAX_DEPTH */
    int after_key;               /* a key was just written */
} gjson;

void gj_init(gjson *j);
/* Start a fragment that will be spliced in at nesting depth (see gj_splice). */
void gj_init_at(gjson *j, int depth);
/* Append the values of fragment (nvalues of them, written at j's current
 * depth) to the container j has open. */
void gj_splice(gjson *j, const gjson *fragment, int nvalues);
void gj_object(gjson *j, int is_inline);
void gj_end_object(gjson *j);
void gj_array(gjson *j, int is_inline);
void gj_end_array(gjson *j);
void gj_key(gjson *j, const char *key);
void gj_string(gjson *j, const char *s);
void gj_u64(gjson *j, uint64_t v);
void gj_bool(gjson *j, int v);
/* A string array from the space-separated words of list. */
void gj_words(gjson *j, const char *list);
/* key + value shorthands */
void gj_kstr(gjson *j, const char *key, const char *s);
void gj_ku64(gjson *j, const char *key, uint64_t v);
void gj_kbool(gjson *j, const char *key, int v);

#endif
