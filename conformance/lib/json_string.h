/*
 * json_string.h - the suite's one JSON string writer (RFC 8259), used by
 * the runner's reports and the generator's manifests.  It writes through a
 * sink callback, so the runner can send it to a stdio stream and the
 * generator to its byte buffer, and both escape exactly alike.
 */
#ifndef CONFORM_LIB_JSON_STRING_H
#define CONFORM_LIB_JSON_STRING_H

#include <stddef.h>

/* Receives the next n bytes of output. */
typedef void json_sink(void *sink, const char *bytes, size_t n);

/* Write the NUL-terminated s as a JSON string literal, quotes included:
 * quote and backslash escaped, \n and \t as such, every other byte below
 * 0x20 and 0x7f as \u00XX; other bytes (UTF-8 included) as they are. */
void json_write_string(json_sink *put, void *sink, const char *s);

/* A json_sink for a stdio stream: sink is the FILE *.  Errors stay in the
 * stream (ferror) for the caller's final check. */
void json_sink_file(void *sink, const char *bytes, size_t n);

#endif
