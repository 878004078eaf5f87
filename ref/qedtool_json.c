/*
 * qedtool_json.c - JSON string output and qemu-img style human sizes.
 */
#include "qedtool.h"

/* The length (2..4) of the well-formed UTF-8 sequence at p whose lead
 * byte is p[0] >= 0x80, or 0 when it is not one (a stray continuation
 * byte, an overlong form, a surrogate, a code point past U+10FFFF, or a
 * sequence cut short): RFC 3629's table of well-formed byte sequences. */
static size_t utf8_sequence(const unsigned char *p)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (p[0] == 0xe0)
        lo = 0xa0;                     /* overlong */
    else if (p[0] == 0xed)
        hi = 0x9f;                     /* surrogates */
    else if (p[0] == 0xf0)
        lo = 0x90;                     /* overlong */
    else if (p[0] == 0xf4)
        hi = 0x8f;                     /* past U+10FFFF */
    for (i = 1; i < n; i++) {
        if (p[i] < lo || p[i] > hi)    /* also stops at the NUL */
            return 0;
        lo = 0x80;
        hi = 0xbf;
    }
    return n;
}

/* RFC 8259 string literal: quote, backslash and control bytes escaped;
 * well-formed UTF-8 copied as it is; every other byte (names in an image
 * are bytes, not text) becomes U+FFFD, written as the escape \ufffd, as
 * qemu-img does, so the output is always valid JSON. */
void qt_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

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
        else if (*p < 0x80)
            fputc(*p, out);
        else if ((n = utf8_sequence(p)) == 0)
            fputs("\\ufffd", out);
        else {
            fwrite(p, 1, n, out);
            p += n - 1;
        }
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
