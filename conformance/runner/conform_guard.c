/*
 * conform_guard.c - "reading must not write" (conform_guard.h): a read,
 * reject or check case remembers the hash of every input file it staged;
 * after the adapter's read calls each is hashed again, and a file that
 * changed is compared with its original to name the first differing byte.
 */
#include "conform_guard.h"
#include "../lib/files.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CMP_CHUNK ((size_t)64 << 10)

int cg_add(cg_inputs *in, const char *rel, const char hex[65])
{
    if (in->count == in->cap) {
        size_t ncap = in->cap ? in->cap * 2 : 8;
        cg_file *n = realloc(in->files, ncap * sizeof *n);
        if (n == NULL)
            return -1;
        in->files = n;
        in->cap = ncap;
    }
    cg_file *f = &in->files[in->count];
    if ((f->rel = strdup(rel)) == NULL)
        return -1;
    memcpy(f->hex, hex, 65);
    f->hex[64] = '\0';
    in->count++;
    return 0;
}

void cg_free(cg_inputs *in)
{
    for (size_t i = 0; i < in->count; i++)
        free(in->files[i].rel);
    free(in->files);
    in->files = NULL;
    in->count = in->cap = 0;
}

/* The length of the open stream f, from fstat (never by reading it), or
 * -1. */
static int64_t stream_length(FILE *f)
{
    struct stat st;
    return fstat(fileno(f), &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Compare the first n bytes of two open streams chunk by chunk; the first
 * differing offset goes to *off.  Returns 1 (differ), 0 or -1 (error).
 * Only n bytes are read: n is the shorter length, so a file an adapter grew
 * to terabytes costs no more than its original (see cg_first_difference). */
static int compare_prefix(FILE *fa, FILE *fb, unsigned char *ba, unsigned char *bb,
                          uint64_t n, uint64_t *off)
{
    for (uint64_t pos = 0; pos < n;) {
        size_t want = n - pos < CMP_CHUNK ? (size_t)(n - pos) : CMP_CHUNK;
        if (fread(ba, 1, want, fa) != want || fread(bb, 1, want, fb) != want)
            return -1;
        for (size_t i = 0; i < want; i++)
            if (ba[i] != bb[i]) {
                *off = pos + (uint64_t)i;
                return 1;
            }
        pos += want;
    }
    return 0;
}

/* Both streams' lengths, then their common prefix compared. */
static int compare_streams(FILE *fa, FILE *fb, unsigned char *ba, unsigned char *bb,
                           uint64_t *off, uint64_t *len_a, uint64_t *len_b)
{
    int64_t la = stream_length(fa), lb = stream_length(fb);
    if (la < 0 || lb < 0)
        return -1;
    *len_a = (uint64_t)la;
    *len_b = (uint64_t)lb;
    uint64_t common = la < lb ? (uint64_t)la : (uint64_t)lb;
    int d = compare_prefix(fa, fb, ba, bb, common, off);
    if (d == 0 && la != lb) {
        *off = common;
        d = 1;
    }
    return d;
}

int cg_first_difference(const char *a, const char *b, uint64_t *off, uint64_t *len_a,
                        uint64_t *len_b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    unsigned char *ba = malloc(CMP_CHUNK), *bb = malloc(CMP_CHUNK);
    int rc = -1;
    *off = *len_a = *len_b = 0;
    if (fa != NULL && fb != NULL && ba != NULL && bb != NULL)
        rc = compare_streams(fa, fb, ba, bb, off, len_a, len_b);
    if (fa != NULL)
        fclose(fa);
    if (fb != NULL)
        fclose(fb);
    free(ba);
    free(bb);
    return rc;
}

/* True when path's length (stat) differs from the size its original had
 * when staged: then it changed, and hashing it (which reads every byte of
 * a file an adapter may have grown to terabytes) is not needed. */
static int length_differs(const char *path, const char *orig)
{
    struct stat sn, so;
    return stat(path, &sn) == 0 && stat(orig, &so) == 0 && sn.st_size != so.st_size;
}

static void add_finding(char *msg, size_t cap, const char *text)
{
    size_t len = strlen(msg);
    if (len + 1 < cap)
        snprintf(msg + len, cap - len, "%s%s", len ? "; " : "", text);
}

/* Describe how the scratch copy of f differs from its original. */
static void describe_change(const cg_file *f, const char *now, const char *orig, char *out,
                            size_t cap)
{
    uint64_t off, len_now, len_orig;
    int d = cg_first_difference(now, orig, &off, &len_now, &len_orig);
    if (d < 0)
        snprintf(out, cap, "%s changed (its original cannot be read to locate the change)", f->rel);
    else if (d == 0)   /* the original itself differs from what was staged */
        snprintf(out, cap, "%s changed (hash differs; the original changed too)", f->rel);
    else if (len_now != len_orig && off == (len_now < len_orig ? len_now : len_orig))
        snprintf(out, cap, "%s %s from %llu to %llu bytes", f->rel,
                 len_now < len_orig ? "shrank" : "grew", (unsigned long long)len_orig,
                 (unsigned long long)len_now);
    else
        snprintf(out, cap, "%s changed at byte %llu (0x%llx)", f->rel, (unsigned long long)off,
                 (unsigned long long)off);
}

int cg_verify(const cg_inputs *in, const char *scratch, const char *orig_dir, char *msg,
              size_t cap)
{
    char now[PATH_MAX], orig[PATH_MAX], hex[65], finding[PATH_MAX + 96];
    uint64_t size;
    msg[0] = '\0';
    for (size_t i = 0; i < in->count; i++) {
        const cg_file *f = &in->files[i];
        if (cf_join(now, sizeof now, scratch, f->rel) < 0 ||
            cf_join(orig, sizeof orig, orig_dir, f->rel) < 0)
            continue;   /* staging joined the same paths: cannot happen */
        if (length_differs(now, orig))
            describe_change(f, now, orig, finding, sizeof finding);
        else if (cf_hash_file(now, hex, &size) < 0)
            snprintf(finding, sizeof finding, "%s was removed or cannot be read", f->rel);
        else if (strcmp(hex, f->hex) == 0)
            continue;
        else
            describe_change(f, now, orig, finding, sizeof finding);
        add_finding(msg, cap, finding);
    }
    return msg[0] ? -1 : 0;
}
