/*
 * conform_json.c - a small, bounded JSON (RFC 8259) reader.  See
 * conform_json.h.
 */
#include "conform_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CJ_MAX_DEPTH 64

typedef struct {
    const char *p;     /* input */
    size_t len;        /* input length */
    size_t pos;        /* next byte to read */
    int depth;         /* current nesting */
    char *err;         /* where the first error goes */
    size_t errlen;
    int failed;
} cj_parser;

static int parse_value(cj_parser *ps, cj_value *out);

/* Record the first error with its byte offset; always returns -1. */
static int fail(cj_parser *ps, const char *what)
{
    if (!ps->failed && ps->errlen > 0)
        snprintf(ps->err, ps->errlen, "JSON: %s at byte %zu", what, ps->pos);
    ps->failed = 1;
    return -1;
}

/* The byte at the cursor, or -1 at the end of the input. */
static int peek(const cj_parser *ps)
{
    return ps->pos < ps->len ? (unsigned char)ps->p[ps->pos] : -1;
}

/* Skip JSON whitespace. */
static void skip_ws(cj_parser *ps)
{
    int c;
    while ((c = peek(ps)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        ps->pos++;
}

/* Consume the literal word (true/false/null) or fail. */
static int expect_word(cj_parser *ps, const char *word)
{
    size_t n = strlen(word);
    if (ps->len - ps->pos < n || memcmp(ps->p + ps->pos, word, n) != 0)
        return fail(ps, "unexpected token");
    ps->pos += n;
    return 0;
}

/* Value of one hex digit, or -1. */
static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Read the 4 hex digits of a \u escape into *cp. */
static int read_hex4(cj_parser *ps, unsigned *cp)
{
    *cp = 0;
    if (ps->len - ps->pos < 4)
        return fail(ps, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        int d = hex_digit((unsigned char)ps->p[ps->pos++]);
        if (d < 0)
            return fail(ps, "bad \\u escape");
        *cp = *cp * 16 + (unsigned)d;
    }
    return 0;
}

/* Append code point cp as UTF-8 to buf at *n (buf has room: an escape of
 * 6 or 12 source bytes never yields more than 4 bytes). */
static void put_utf8(char *buf, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        buf[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xE0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[(*n)++] = (char)(0xF0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Decode a \uXXXX escape (cursor after the 'u'), joining surrogate pairs. */
static int decode_u_escape(cj_parser *ps, char *buf, size_t *n)
{
    unsigned cp, lo;
    if (read_hex4(ps, &cp) < 0)
        return -1;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (ps->len - ps->pos < 2 || ps->p[ps->pos] != '\\' || ps->p[ps->pos + 1] != 'u')
            return fail(ps, "lone surrogate");
        ps->pos += 2;
        if (read_hex4(ps, &lo) < 0)
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(ps, "bad surrogate pair");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return fail(ps, "lone surrogate");
    }
    if (cp == 0)
        return fail(ps, "NUL in string");
    put_utf8(buf, n, cp);
    return 0;
}

/* Decode a one-character escape (cursor after the backslash). */
static int decode_escape(cj_parser *ps, char *buf, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int c = peek(ps);
    if (c < 0)
        return fail(ps, "truncated escape");
    ps->pos++;
    if (c == 'u')
        return decode_u_escape(ps, buf, n);
    const char *hit = strchr(from, c);
    if (hit == NULL || c == 0)
        return fail(ps, "bad escape");
    buf[(*n)++] = to[hit - from];
    return 0;
}

/* Parse a string literal (cursor on the quote) into a new NUL-terminated
 * buffer; its decoded length never exceeds its source length. */
static int parse_string(cj_parser *ps, char **out)
{
    size_t start = ++ps->pos, n = 0, end = start;
    while (end < ps->len && ps->p[end] != '"')
        end += (ps->p[end] == '\\' && end + 1 < ps->len) ? 2 : 1;
    char *buf = malloc(end - start + 1);
    if (buf == NULL)
        return fail(ps, "out of memory");
    for (;;) {
        int c = peek(ps);
        if (c < 0) { free(buf); return fail(ps, "unterminated string"); }
        ps->pos++;
        if (c == '"')
            break;
        if (c < 0x20) { free(buf); return fail(ps, "control character in string"); }
        if (c == '\\') {
            if (decode_escape(ps, buf, &n) < 0) { free(buf); return -1; }
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

/* Skip a run of ASCII digits; returns how many. */
static size_t skip_digits(cj_parser *ps)
{
    size_t n = 0;
    while (peek(ps) >= '0' && peek(ps) <= '9') {
        ps->pos++;
        n++;
    }
    return n;
}

/* Parse a number, keeping its source text. */
static int parse_number(cj_parser *ps, cj_value *out)
{
    size_t start = ps->pos;
    if (peek(ps) == '-')
        ps->pos++;
    if (peek(ps) == '0')
        ps->pos++;
    else if (skip_digits(ps) == 0)
        return fail(ps, "bad number");
    if (peek(ps) == '.') {
        ps->pos++;
        if (skip_digits(ps) == 0)
            return fail(ps, "bad fraction");
    }
    if (peek(ps) == 'e' || peek(ps) == 'E') {
        ps->pos++;
        if (peek(ps) == '+' || peek(ps) == '-')
            ps->pos++;
        if (skip_digits(ps) == 0)
            return fail(ps, "bad exponent");
    }
    out->type = CJ_NUMBER;
    out->text = malloc(ps->pos - start + 1);
    if (out->text == NULL)
        return fail(ps, "out of memory");
    memcpy(out->text, ps->p + start, ps->pos - start);
    out->text[ps->pos - start] = '\0';
    return 0;
}

/* Make room for one more member in an array or object. */
static int grow_members(cj_parser *ps, cj_value *v, size_t *cap)
{
    if (v->count < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    cj_value *items = realloc(v->items, ncap * sizeof *items);
    if (items == NULL)
        return fail(ps, "out of memory");
    v->items = items;
    if (v->type == CJ_OBJECT) {
        char **keys = realloc(v->keys, ncap * sizeof *keys);
        if (keys == NULL)
            return fail(ps, "out of memory");
        v->keys = keys;
    }
    *cap = ncap;
    return 0;
}

/* Parse one object member "key": value into slot v->count. */
static int parse_member(cj_parser *ps, cj_value *v)
{
    skip_ws(ps);
    if (peek(ps) != '"')
        return fail(ps, "expected member name");
    if (parse_string(ps, &v->keys[v->count]) < 0)
        return -1;
    memset(&v->items[v->count], 0, sizeof v->items[0]);
    v->count++;   /* the key is owned now; cj_free releases it on error */
    skip_ws(ps);
    if (peek(ps) != ':')
        return fail(ps, "expected ':'");
    ps->pos++;
    return parse_value(ps, &v->items[v->count - 1]);
}

/* Parse an array or object (cursor on '[' or '{'). */
static int parse_container(cj_parser *ps, cj_value *v, cj_type type)
{
    char close = type == CJ_ARRAY ? ']' : '}';
    size_t cap = 0;
    v->type = type;
    if (++ps->depth > CJ_MAX_DEPTH)
        return fail(ps, "nesting too deep");
    ps->pos++;
    skip_ws(ps);
    if (peek(ps) == close) {
        ps->pos++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        if (grow_members(ps, v, &cap) < 0)
            return -1;
        if (type == CJ_OBJECT) {
            if (parse_member(ps, v) < 0)
                return -1;
        } else {
            memset(&v->items[v->count], 0, sizeof v->items[0]);
            v->count++;
            if (parse_value(ps, &v->items[v->count - 1]) < 0)
                return -1;
        }
        skip_ws(ps);
        int c = peek(ps);
        ps->pos++;
        if (c == close)
            break;
        if (c != ',')
            return fail(ps, type == CJ_ARRAY ? "expected ',' or ']'" : "expected ',' or '}'");
    }
    ps->depth--;
    return 0;
}

/* Parse any value into *out (zero-initialised by the caller). */
static int parse_value(cj_parser *ps, cj_value *out)
{
    skip_ws(ps);
    switch (peek(ps)) {
    case '{': return parse_container(ps, out, CJ_OBJECT);
    case '[': return parse_container(ps, out, CJ_ARRAY);
    case '"': out->type = CJ_STRING; return parse_string(ps, &out->text);
    case 't': out->type = CJ_BOOL; out->boolean = 1; return expect_word(ps, "true");
    case 'f': out->type = CJ_BOOL; out->boolean = 0; return expect_word(ps, "false");
    case 'n': out->type = CJ_NULL; return expect_word(ps, "null");
    case -1: return fail(ps, "unexpected end of input");
    default: return parse_number(ps, out);
    }
}

/* Free the members of v, not v itself. */
static void free_inner(cj_value *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free_inner(&v->items[i]);
        if (v->keys != NULL)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->text);
}

void cj_free(cj_value *v)
{
    if (v == NULL)
        return;
    free_inner(v);
    free(v);
}

int cj_parse(const char *text, size_t len, cj_value **out, char *err, size_t errlen)
{
    cj_parser ps = { text, len, 0, 0, err, errlen, 0 };
    cj_value *v = calloc(1, sizeof *v);
    *out = NULL;
    if (v == NULL)
        return fail(&ps, "out of memory");
    if (parse_value(&ps, v) == 0) {
        skip_ws(&ps);
        if (ps.pos == ps.len) {
            *out = v;
            return 0;
        }
        fail(&ps, "trailing data");
    }
    cj_free(v);
    return -1;
}

const cj_value *cj_get(const cj_value *v, const char *key)
{
    if (v == NULL || v->type != CJ_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->keys[i], key) == 0)
            return &v->items[i];
    return NULL;
}

const cj_value *cj_at(const cj_value *v, size_t i)
{
    if (v == NULL || v->type != CJ_ARRAY || i >= v->count)
        return NULL;
    return &v->items[i];
}

size_t cj_len(const cj_value *v)
{
    return (v != NULL && v->type == CJ_ARRAY) ? v->count : 0;
}

const char *cj_str(const cj_value *v)
{
    return (v != NULL && v->type == CJ_STRING) ? v->text : NULL;
}

int cj_u64(const cj_value *v, uint64_t *out)
{
    uint64_t n = 0;
    if (v == NULL || v->type != CJ_NUMBER || v->text[0] == '\0')
        return -1;
    for (const char *p = v->text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;   /* sign, fraction or exponent: not a plain u64 */
        unsigned d = (unsigned)(*p - '0');
        if (n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

int cj_bool(const cj_value *v, int *out)
{
    if (v == NULL || v->type != CJ_BOOL)
        return -1;
    *out = v->boolean;
    return 0;
}

int cj_double(const cj_value *v, double *out)
{
    if (v == NULL || v->type != CJ_NUMBER)
        return -1;
    *out = strtod(v->text, NULL);
    return 0;
}
