/*
 * kit_json.c - the kit's JSON output: qemu-img info's, map's and check's
 * objects, with only the keys the adapter contract reads (and the file
 * name and format, which qemu-img always prints).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <inttypes.h>

#include "kit_int.h"

/* s as a JSON string: quotes, backslashes and control bytes escaped;
 * other bytes (UTF-8 included) as they are. */
void kit_json_string(FILE *f, const char *s)
{
    const unsigned char *p;

    fputc('"', f);
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* info --output=json: {"virtual-size", "filename", "format"}. */
void kit_print_info(FILE *f, const char *file, uint64_t size)
{
    fprintf(f, "{\n    \"virtual-size\": %" PRIu64 ",\n    \"filename\": ", size);
    kit_json_string(f, file);
    fprintf(f, ",\n    \"format\": \"qed\"\n}\n");
}

/* One element of map's array; the caller closes it with "]\n". */
void kit_print_extent(FILE *f, const kit_extent *e, int first)
{
    fprintf(f, "%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64
            ", \"depth\": %u, \"present\": %s, \"zero\": %s, \"data\": %s",
            first ? "[" : ",\n", e->start, e->length, e->depth,
            e->present ? "true" : "false", e->zero ? "true" : "false",
            e->data ? "true" : "false");
    if (e->data)
        fprintf(f, ", \"offset\": %" PRIu64, e->offset);
    fputc('}', f);
}

/* One "key": value member, with its separator; zero counts are left out
 * unless always, as qemu-img leaves them out. */
static void count_member(FILE *f, const char *key, uint64_t v, int always)
{
    if (v || always)
        fprintf(f, "    \"%s\": %" PRIu64 ",\n", key, v);
}

/* check --output=json: qemu-img's ImageCheck object. */
void kit_print_check(FILE *f, const char *file, const kit_check_result *r)
{
    fprintf(f, "{\n");
    count_member(f, "corruptions", r->corruptions, 0);
    count_member(f, "corruptions-fixed", r->corruptions_fixed, 0);
    count_member(f, "check-errors", r->check_errors, 1);
    count_member(f, "leaks", r->leaks, 0);
    count_member(f, "leaks-fixed", r->leaks_fixed, 0);
    fprintf(f, "    \"filename\": ");
    kit_json_string(f, file);
    fprintf(f, ",\n    \"format\": \"qed\"\n}\n");
}
