/*
 * json_string.c - the JSON string writer (see json_string.h).
 */
#include "json_string.h"

#include <stdio.h>

/* 1 when byte c is written as an escape sequence. */
static int needs_escape(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20 || c == 0x7f;
}

/* The escape sequence of c (needs_escape(c)) into esc; returns its length. */
static size_t escape(unsigned char c, char esc[8])
{
    if (c == '\n' || c == '\t') {
        esc[0] = '\\';
        esc[1] = c == '\n' ? 'n' : 't';
        return 2;
    }
    if (c == '"' || c == '\\') {
        esc[0] = '\\';
        esc[1] = (char)c;
        return 2;
    }
    return (size_t)snprintf(esc, 8, "\\u%04x", c);
}

void json_write_string(json_sink *put, void *sink, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[8];

    put(sink, "\"", 1);
    while (*p) {
        size_t plain = 0;
        while (p[plain] && !needs_escape(p[plain]))
            plain++;
        if (plain) {
            put(sink, (const char *)p, plain);
            p += plain;
            continue;
        }
        put(sink, esc, escape(*p++, esc));
    }
    put(sink, "\"", 1);
}

void json_sink_file(void *sink, const char *bytes, size_t n)
{
    fwrite(bytes, 1, n, (FILE *)sink);
}
