/*
 * golden_gen.c - files out (or compared) and one manifest entry per case
 * (see golden_gen.h).
 */
#include "golden_gen.h"

#include "../lib/files.h"
#include "../lib/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* Files                                                              */
/* ------------------------------------------------------------------ */

/* "dir/rel" into out (PATH_MAX bytes); a longer path is a generator bug
 * or a hopeless --out. */
static void join_or_die(char *out, const char *dir, const char *rel)
{
    if (cf_join(out, PATH_MAX, dir, rel) < 0)
        g_die("path too long: %s/%s", dir, rel);
}

/* Write len bytes to path (replacing it), creating its directories. */
static void write_whole(const char *path, const uint8_t *data, size_t len)
{
    if (cf_make_parents(path) < 0)
        g_die("cannot create the directories of %s: %s", path, strerror(errno));
    FILE *f = fopen(path, "wb");
    if (!f)
        g_die("cannot create %s: %s", path, strerror(errno));
    if ((len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
        g_die("cannot write %s: %s", path, strerror(errno));
}

/* 1 if the file at path holds exactly the len bytes of data. */
static int same_contents(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    uint8_t chunk[65536];
    size_t pos = 0, n;
    int same = f != NULL;

    while (same && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        same = n <= len - pos && memcmp(chunk, data + pos, n) == 0;
        pos += n;
    }
    if (f)
        fclose(f);
    return same && pos == len;
}

/* The record of path, or NULL. */
static const gen_file *find_file(const gen *G, const char *path)
{
    for (size_t k = 0; k < G->nfiles; k++)
        if (strcmp(G->files[k].path, path) == 0)
            return &G->files[k];
    return NULL;
}

void gen_put_file(gen *G, const char *path, const uint8_t *data, size_t len)
{
    char hex[65];
    const gen_file *old = find_file(G, path);

    sha256_buffer_hex(data, len, hex);
    if (old) {
        if (strcmp(old->sha, hex) != 0)
            g_die("%s produced twice with different bytes", path);
        return;
    }
    G->files = realloc(G->files, (G->nfiles + 1) * sizeof *G->files);
    if (!G->files)
        g_die("out of memory");
    G->files[G->nfiles].path = g_strdup(path);
    memcpy(G->files[G->nfiles++].sha, hex, sizeof hex);
    char full[PATH_MAX];
    join_or_die(full, G->root, path);
    if (!G->compare)
        write_whole(full, data, len);
    else if (!same_contents(full, data, len)) {
        fprintf(stderr, "golden: %s differs from the generator's output\n", full);
        G->differences++;
    }
}

void gen_put_chain(gen *G, const glayer *l)
{
    for (; l; l = l->is_qed ? l->backing : NULL)
        gen_put_file(G, l->path, l->file.data, l->file.len);
}

/* Compare mode: count the files under root/dir that were not produced. */
static unsigned count_extra(const gen *G, const char *dir)
{
    char full[PATH_MAX], rel[PATH_MAX], path[PATH_MAX];
    unsigned extra = 0;
    struct dirent *de;
    struct stat st;

    join_or_die(full, G->root, dir);
    DIR *d = opendir(full);
    if (!d)
        g_die("cannot read directory %s: %s", full, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (dir[0])
            join_or_die(rel, dir, de->d_name);
        else
            snprintf(rel, sizeof rel, "%s", de->d_name);   /* NAME_MAX < PATH_MAX */
        join_or_die(path, G->root, rel);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            extra += count_extra(G, rel);
        else if (!find_file(G, rel)) {
            fprintf(stderr, "golden: %s is not produced by the generator\n", path);
            extra++;
        }
    }
    closedir(d);
    return extra;
}

/* ------------------------------------------------------------------ */
/* Manifest                                                           */
/* ------------------------------------------------------------------ */

void gen_init(gen *G, const char *root, int compare)
{
    memset(G, 0, sizeof *G);
    G->root = root;
    G->compare = compare;
    gj_init_at(&G->body, 2);
}

/* Close the open test group, if any. */
static void end_group(gen *G)
{
    if (!G->group_open)
        return;
    gj_end_array(&G->body);
    gj_end_object(&G->body);
    G->group_open = 0;
}

void gen_group(gen *G, const char *family, const char *comment)
{
    end_group(G);
    gj_object(&G->body, 0);
    gj_kstr(&G->body, "family", family);
    gj_kstr(&G->body, "comment", comment);
    gj_key(&G->body, "tests");
    gj_array(&G->body, 0);
    G->family = family;
    G->group_open = 1;
    G->ngroups++;
}

unsigned gen_finish(gen *G, const char *comment)
{
    gjson j;

    end_group(G);
    gj_init(&j);
    gj_object(&j, 0);
    gj_kstr(&j, "schema", "qedref-manifest-1");
    gj_kstr(&j, "generator", "qed-conform golden");
    gj_kstr(&j, "comment", comment);
    gj_ku64(&j, "numberOfTests", G->ntests);
    gj_key(&j, "testGroups");
    gj_array(&j, 0);
    gj_splice(&j, &G->body, G->ngroups);
    gj_end_array(&j);
    gj_end_object(&j);
    gen_put_file(G, "manifest.json", j.out.data, j.out.len);
    gbuf_free(&j.out);
    gbuf_free(&G->body.out);
    if (G->compare)
        G->differences += count_extra(G, "");
    for (size_t k = 0; k < G->nfiles; k++)
        free(G->files[k].path);
    free(G->files);
    return G->differences;
}

void gen_case_head(gen *G, const char *name, const char *comment,
                      const glayer *img, const char *result, const char *flags,
                      const char *rules)
{
    gjson *j = &G->body;
    char id[256], hex[65];

    if (!G->group_open)
        g_die("case %s outside a group", name);
    snprintf(id, sizeof id, "%s/%s", G->family, name);
    gj_object(j, 0);
    gj_ku64(j, "tcId", ++G->ntests);
    gj_kstr(j, "id", id);
    gj_kstr(j, "comment", comment);
    if (img) {
        gm_file_sha256(img, hex);
        gj_kstr(j, "file", img->path);
        gj_kstr(j, "sha256", hex);
    }
    gj_kstr(j, "result", result);
    gj_key(j, "flags");
    gj_words(j, flags);
    gj_key(j, "rules");
    gj_words(j, rules);
}

/* One extra_files entry per file of the chain starting at l (may be NULL),
 * each file also produced. */
void gen_put_file_entries(gen *G, const glayer *l)
{
    char hex[65];

    for (; l; l = l->is_qed ? l->backing : NULL) {
        gen_put_chain(G, l);
        gm_file_sha256(l, hex);
        gj_object(&G->body, 1);
        gj_kstr(&G->body, "file", l->path);
        gj_kstr(&G->body, "sha256", hex);
        gj_end_object(&G->body);
    }
}

/* extra_files: every layer below top, plus extra (may be NULL). */
static void put_extra_files(gen *G, const glayer *below, const glayer *extra)
{
    gj_key(&G->body, "extra_files");
    gj_array(&G->body, 0);
    gen_put_file_entries(G, below);
    gen_put_file_entries(G, extra);
    gj_end_array(&G->body);
}

/* The map of top as inline extent objects. */
static void put_map(gen *G, const glayer *top)
{
    gjson *j = &G->body;
    gext *map;
    size_t n = gm_map(top, &map);

    gj_key(j, "map");
    gj_array(j, 0);
    for (size_t k = 0; k < n; k++) {
        gj_object(j, 1);
        gj_ku64(j, "start", map[k].start);
        gj_ku64(j, "length", map[k].length);
        gj_ku64(j, "depth", map[k].depth);
        gj_kbool(j, "present", map[k].present);
        gj_kbool(j, "zero", map[k].zero);
        gj_kbool(j, "data", map[k].data);
        if (map[k].data)
            gj_ku64(j, "offset", map[k].offset);
        gj_end_object(j);
    }
    gj_end_array(j);
    free(map);
}

/* "check": {corruptions, leaks} */
static void put_check(gen *G, const gcheck *c)
{
    gj_key(&G->body, "check");
    gj_object(&G->body, 1);
    gj_ku64(&G->body, "corruptions", c->corruptions);
    gj_ku64(&G->body, "leaks", c->leaks);
    gj_end_object(&G->body);
}

/* Above this image_size a read case gives `reads` (sampled io reads)
 * instead of content_sha256: hashing 2 TiB of mostly zeroes is not a test. */
#define HASH_MAX (4ull << 30)
/* A range read whole up to SAMPLE_WHOLE bytes; longer ones by their first
 * and last SAMPLE_EDGE bytes. */
#define SAMPLE_WHOLE (1ull << 20)
#define SAMPLE_EDGE (64ull << 10)

/* One `read -P B OFF LEN` for [off, off+len), which must read the one byte
 * value B in the model (else the case cannot be judged by io: a generator
 * bug). */
static void put_sample(gen *G, const glayer *top, uint64_t off, uint64_t len)
{
    uint8_t *buf = calloc((size_t)len + 1, 1);
    char cmd[96];

    if (!buf)
        g_die("out of memory");
    gm_read(top, off, buf, (size_t)len);
    for (size_t k = 1; k < len; k++)
        if (buf[k] != buf[0])
            g_die("%s: [%llu, +%llu) holds more than one byte value", top->path,
                  (unsigned long long)off, (unsigned long long)len);
    snprintf(cmd, sizeof cmd, "read -P 0x%02x %llu %llu", buf[0],
             (unsigned long long)off, (unsigned long long)len);
    gj_string(&G->body, cmd);
    free(buf);
}

/* The samples of [a, b) (b > a): whole, or its two edges. */
static void put_samples(gen *G, const glayer *top, uint64_t a, uint64_t b)
{
    if (b - a <= SAMPLE_WHOLE) {
        put_sample(G, top, a, b - a);
        return;
    }
    put_sample(G, top, a, SAMPLE_EDGE);
    put_sample(G, top, b - SAMPLE_EDGE, SAMPLE_EDGE);
}

/* The samples of [a, b) outside the bad ranges (sorted, disjoint). */
static void put_clipped(gen *G, const glayer *top, uint64_t a, uint64_t b,
                        const gbad *bad, size_t nbad)
{
    for (size_t k = 0; k < nbad && a < b; k++) {
        uint64_t bs = bad[k].start, be = bad[k].start + bad[k].length;
        if (be <= a || bs >= b)
            continue;
        if (bs > a)
            put_samples(G, top, a, bs);
        a = be;
    }
    if (a < b)
        put_samples(G, top, a, b);
}

/* "reads": io read -P commands over the whole disk but the bad ranges, one
 * per data cluster and one per other extent (sampled when long). */
static void put_reads(gen *G, const glayer *top, const gbad *bad, size_t nbad)
{
    gext *map;
    size_t n = gm_map(top, &map);
    uint64_t cs = top->cluster_size;

    gj_key(&G->body, "reads");
    gj_array(&G->body, 0);
    for (size_t k = 0; k < n; k++) {
        uint64_t a = map[k].start, end = a + map[k].length;
        while (a < end) {
            uint64_t b = map[k].data ? a - a % cs + cs : end;
            if (b > end)
                b = end;
            put_clipped(G, top, a, b, bad, nbad);
            a = b;
        }
    }
    gj_end_array(&G->body);
    free(map);
}

void emit_read(gen *G, const char *name, const char *comment, const glayer *top,
               const char *flags, const char *rules)
{
    char hex[65];
    gcheck c;

    gm_check(top, &c);
    if (c.corruptions)
        g_die("read case %s: the model finds %llu corruptions", name,
              (unsigned long long)c.corruptions);
    gen_put_chain(G, top);
    gen_case_head(G, name, comment, top, "valid", flags, rules);
    put_extra_files(G, top->backing, NULL);
    gj_ku64(&G->body, "image_size", top->image_size);
    if (top->image_size <= HASH_MAX) {
        gm_content_sha256(top, hex);
        gj_kstr(&G->body, "content_sha256", hex);
    } else {
        put_reads(G, top, NULL, 0);
    }
    put_map(G, top);
    put_check(G, &c);
    gj_end_object(&G->body);
}

void emit_read_error(gen *G, const char *name, const char *comment,
                     const glayer *top, const gbad *bad, size_t nbad,
                     const char *flags, const char *rules)
{
    gjson *j = &G->body;

    gen_put_chain(G, top);
    gen_case_head(G, name, comment, top, "invalid", flags, rules);
    put_extra_files(G, top->backing, NULL);
    gj_kstr(j, "error_rule", bad[0].rule);
    gj_ku64(j, "image_size", top->image_size);
    gj_key(j, "bad_ranges");
    gj_array(j, 0);
    for (size_t k = 0; k < nbad; k++) {
        gj_object(j, 1);
        gj_ku64(j, "start", bad[k].start);
        gj_ku64(j, "length", bad[k].length);
        gj_kstr(j, "rule", bad[k].rule);
        gj_end_object(j);
    }
    gj_end_array(j);
    put_reads(G, top, bad, nbad);
    gj_end_object(j);
}

void emit_reject(gen *G, const char *name, const char *comment, const glayer *img,
                 const glayer *extra, const char *error_rule, const char *flags,
                 const char *rules)
{
    gen_put_chain(G, img);
    gen_put_chain(G, extra);
    gen_case_head(G, name, comment, img, "invalid", flags, rules);
    put_extra_files(G, img->is_qed ? img->backing : NULL, extra);
    gj_kstr(&G->body, "error_rule", error_rule);
    gj_end_object(&G->body);
}

void emit_check(gen *G, const char *name, const char *comment, const glayer *top,
                uint64_t corruptions, uint64_t leaks, const char *flags,
                const char *rules)
{
    char hex[65];
    gcheck c;

    gm_check(top, &c);
    if (c.corruptions != corruptions || c.leaks != leaks)
        g_die("check case %s: designed for %llu/%llu, the model counts %llu/%llu",
              name, (unsigned long long)corruptions, (unsigned long long)leaks,
              (unsigned long long)c.corruptions, (unsigned long long)c.leaks);
    gen_put_chain(G, top);
    gen_case_head(G, name, comment, top, c.corruptions ? "invalid" : "valid", flags, rules);
    put_extra_files(G, top->backing, NULL);
    gj_ku64(&G->body, "image_size", top->image_size);
    put_check(G, &c);
    gm_content_sha256(top, hex);            /* invalid entries read as unallocated */
    gj_kstr(&G->body, "repaired_content_sha256", hex);
    gj_end_object(&G->body);
}
