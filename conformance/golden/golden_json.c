/*
 * golden_json.c - the deterministic JSON writer (see golden_json.h).
 */
#include "golden_json.h"

#include "../lib/json_string.h"

#include <inttypes.h>
#include <string.h>

void gj_init(gjson *j)
{
    memset(j, 0, sizeof *j);
    j->inline_from = GJ_MAX_DEPTH;
}

void gj_init_at(gjson *j, int depth)
{
    gj_init(j);
    if (depth < 0 || depth >= GJ_MAX_DEPTH)
        g_die("bad JSON fragment depth %d", depth);
    j->depth = depth;
}

void gj_splice(gjson *j, const gjson *fragment, int nvalues)
{
    gbuf_put(&j->out, j->out.len, fragment->out.data, fragment->out.len);
    j->count[j->depth] += nvalues;
}

/* Separator and indentation before a value or key at the current level. */
static void before_value(gjson *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth == 0)
        return;
    if (j->count[j->depth]++)
        gbuf_printf(&j->out, ",");
    if (j->depth >= j->inline_from) {
        if (j->count[j->depth] > 1)
            gbuf_printf(&j->out, " ");
        return;
    }
    gbuf_printf(&j->out, "\n%*s", 2 * j->depth, "");
}

/* Open a container with bracket ch. */
static void open_container(gjson *j, char ch, int is_inline)
{
    before_value(j);
    if (j->depth + 1 >= GJ_MAX_DEPTH)
        g_die("JSON nesting too deep");
    gbuf_printf(&j->out, "%c", ch);
    j->depth++;
    j->count[j->depth] = 0;
    if (is_inline && j->inline_from > j->depth)
        j->inline_from = j->depth;
}

/* Close the current container with bracket ch. */
static void close_container(gjson *j, char ch)
{
    int was_inline = j->depth >= j->inline_from;
    int had_values = j->count[j->depth] > 0;

    if (j->inline_from == j->depth)
        j->inline_from = GJ_MAX_DEPTH;
    j->depth--;
    if (had_values && !was_inline)
        gbuf_printf(&j->out, "\n%*s", 2 * j->depth, "");
    gbuf_printf(&j->out, "%c", ch);
    if (j->depth == 0)
        gbuf_printf(&j->out, "\n");
}

void gj_object(gjson *j, int is_inline) { open_container(j, '{', is_inline); }
void gj_end_object(gjson *j) { close_container(j, '}'); }
void gj_array(gjson *j, int is_inline) { open_container(j, '[', is_inline); }
void gj_end_array(gjson *j) { close_container(j, ']'); }

/* json_sink appending to the gbuf sink. */
static void put_gbuf(void *sink, const char *bytes, size_t n)
{
    gbuf *b = sink;

    gbuf_put(b, b->len, bytes, n);
}

/* Write s as a JSON string literal (the suite's one string writer). */
static void put_string(gjson *j, const char *s)
{
    json_write_string(put_gbuf, &j->out, s);
}

void gj_key(gjson *j, const char *key)
{
    before_value(j);
    put_string(j, key);
    gbuf_printf(&j->out, ": ");
    j->after_key = 1;
}

void gj_string(gjson *j, const char *s)
{
    before_value(j);
    put_string(j, s);
}

void gj_u64(gjson *j, uint64_t v)
{
    before_value(j);
    gbuf_printf(&j->out, "%" PRIu64, v);
}

void gj_bool(gjson *j, int v)
{
    before_value(j);
    gbuf_printf(&j->out, "%s", v ? "true" : "false");
}

void gj_words(gjson *j, const char *list)
{
    char word[128];

    gj_array(j, 1);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n >= sizeof word)
            g_die("word too long in \"%s\"", list);
        if (n) {
            memcpy(word, p, n);
            word[n] = '\0';
            gj_string(j, word);
        }
        p += n + (p[n] == ' ');
    }
    gj_end_array(j);
}

void gj_kstr(gjson *j, const char *key, const char *s) { gj_key(j, key); gj_string(j, s); }
void gj_ku64(gjson *j, const char *key, uint64_t v) { gj_key(j, key); gj_u64(j, v); }
void gj_kbool(gjson *j, const char *key, int v) { gj_key(j, key); gj_bool(j, v); }
