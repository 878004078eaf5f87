/*
 * qedtool_json.c - JSON string output and qemu-img style human sizes.
 */
#include "qedtool.h"

/* RFC 8259 string literal: quote, backslash and control bytes escaped;
 * other bytes are copied as they are. */
void qt_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', out);
    for (; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Three significant digits and a binary unit, as qemu-img's size_to_str:
 * the unit is the largest 1024^i with bytes >= 1000 * 1024^(i-1). */
void qt_human_size(FILE *out, uint64_t bytes)
{
    static const char *const units[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi",
                                         "Ei" };
    unsigned i = 0;

    while (i < 6 && bytes / 1000 >= ((uint64_t)1 << (10 * i)))
        i++;
    fprintf(out, "%0.3g %sB", (double)bytes / (double)((uint64_t)1 << (10 * i)),
            units[i]);
}
