/*
 * conform_keep.c - --keep-failures copies within a budget; see
 * conform_keep.h.
 */
#define _GNU_SOURCE   /* SEEK_DATA, SEEK_HOLE */
#include "conform_keep.h"
#include "conform_proc.h"
#include "../lib/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK ((size_t)1 << 20)   /* bytes copied between two budget checks */
#define MAX_DEPTH 16              /* directory levels kept */

void keep_budget_init(keep_budget *b, uint64_t max_bytes, double seconds)
{
    memset(b, 0, sizeof *b);
    b->bytes_left = max_bytes;
    b->deadline = cp_now() + seconds;
}

/* Note that rel was left out, and why (a size in the reason is the file's). */
static void left_out(keep_budget *b, const char *rel, const char *why)
{
    size_t len = strlen(b->left_out);
    b->left_files++;
    if (len + 1 < sizeof b->left_out)
        snprintf(b->left_out + len, sizeof b->left_out - len, "  %s: %s\n", rel, why);
}

/* The next data extent of fd at or after pos, [*start, *end); 0 when found,
 * 1 when the rest of the file (of length size) is a hole.  A file system
 * without SEEK_DATA gives the whole rest as data. */
static int next_extent(int fd, off_t pos, off_t size, off_t *start, off_t *end)
{
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
        return 1;
    if (data < 0) {          /* SEEK_DATA unsupported: all of it is data */
        *start = pos;
        *end = size;
        return 0;
    }
    off_t hole = lseek(fd, data, SEEK_HOLE);
    *start = data;
    *end = hole < 0 || hole > size ? size : hole;
    return data >= size;
}

/* The bytes of data in fd (length size), or -1 when the deadline passed
 * while counting them. */
static int64_t data_bytes(const keep_budget *b, int fd, off_t size)
{
    int64_t total = 0;
    off_t pos = 0, start, end;
    while (pos < size && next_extent(fd, pos, size, &start, &end) == 0) {
        if (cp_now() > b->deadline)
            return -1;
        total += end - start;
        pos = end;
    }
    return total;
}

/* Copy [start, end) of in to the same offsets of out; -1 on an I/O error,
 * -2 when the deadline passed. */
static int copy_range(const keep_budget *b, int in, int out, off_t start, off_t end, char *buf)
{
    while (start < end) {
        size_t want = (size_t)(end - start) < CHUNK ? (size_t)(end - start) : CHUNK;
        ssize_t n = pread(in, buf, want, start);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return 0;        /* the file shrank while kept: the rest is a hole */
        if (n < 0 || pwrite(out, buf, (size_t)n, start) != n)
            return -1;
        start += n;
        if (cp_now() > b->deadline)
            return -2;
    }
    return 0;
}

/* Copy every data extent of in (length size) to out and give out that
 * length; 0, -1 on an I/O error, -2 out of time. */
static int copy_extents(const keep_budget *b, int in, int out, off_t size)
{
    char *buf = malloc(CHUNK);
    off_t pos = 0, start, end;
    int rc = buf ? 0 : -1;
    while (rc == 0 && pos < size && next_extent(in, pos, size, &start, &end) == 0) {
        rc = copy_range(b, in, out, start, end, buf);
        pos = end;
    }
    free(buf);
    if (rc == 0 && ftruncate(out, size) < 0)
        rc = -1;
    return rc;
}

/* keep_file once both files are open; the reason left out, or NULL. */
static const char *keep_open_file(keep_budget *b, int in, int out, off_t size, char *why,
                                  size_t cap)
{
    int64_t data = data_bytes(b, in, size);
    if (data < 0)
        return "left out: out of the keep time";
    if ((uint64_t)data > b->bytes_left) {
        snprintf(why, cap, "left out: %lld bytes (%lld of them data), over what the keep "
                 "budget has left (%llu bytes of data)", (long long)size, (long long)data,
                 (unsigned long long)b->bytes_left);
        return why;
    }
    int rc = copy_extents(b, in, out, size);
    if (rc == -2)
        return "left out: out of the keep time while copying";
    if (rc < 0) {
        snprintf(why, cap, "left out: cannot copy (%s)", strerror(errno));
        return why;
    }
    b->bytes_left -= (uint64_t)data;
    b->kept_bytes += (uint64_t)data;
    return NULL;
}

int keep_file(keep_budget *b, const char *src, const char *dst, const char *rel)
{
    char why[256];
    struct stat st;
    if (cp_now() > b->deadline) {
        left_out(b, rel, "left out: out of the keep time");
        return 1;
    }
    int in = open(src, O_RDONLY);
    if (in < 0 || fstat(in, &st) < 0) {
        snprintf(why, sizeof why, "left out: cannot read it (%s)", strerror(errno));
        if (in >= 0)
            close(in);
        left_out(b, rel, why);
        return 1;
    }
    int out = cf_make_parents(dst) == 0 ? open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
    const char *reason = out < 0 ? "left out: cannot create the copy"
                                 : keep_open_file(b, in, out, st.st_size, why, sizeof why);
    close(in);
    if (out >= 0 && close(out) < 0 && reason == NULL)
        reason = "left out: cannot write the copy";
    if (reason == NULL) {
        b->kept_files++;
        return 0;
    }
    if (out >= 0)
        unlink(dst);
    left_out(b, rel, reason);
    return 1;
}

/* keep_tree at a depth (directories deeper than MAX_DEPTH are left out). */
static int keep_tree_at(keep_budget *b, const char *src, const char *dst, const char *rel,
                        int depth)
{
    struct stat st;
    if (lstat(src, &st) < 0)
        return 0;
    if (S_ISREG(st.st_mode))
        return keep_file(b, src, dst, rel), 0;
    if (!S_ISDIR(st.st_mode))
        return 0;   /* links, fifos ...: nothing an adapter needs */
    if (depth > MAX_DEPTH) {
        left_out(b, rel, "left out: directory nested too deep");
        return 0;
    }
    if (mkdir(dst, 0755) < 0 && errno != EEXIST)
        return -1;
    DIR *d = opendir(src);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char s[PATH_MAX], t[PATH_MAX], r[PATH_MAX];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            cf_join(s, sizeof s, src, e->d_name) < 0 || cf_join(t, sizeof t, dst, e->d_name) < 0)
            continue;
        snprintf(r, sizeof r, "%s%s%s", rel, rel[0] && rel[strlen(rel) - 1] != '/' ? "/" : "",
                 e->d_name);
        keep_tree_at(b, s, t, r, depth + 1);
    }
    if (d != NULL)
        closedir(d);
    return 0;
}

int keep_tree(keep_budget *b, const char *src, const char *dst, const char *rel_prefix)
{
    return keep_tree_at(b, src, dst, rel_prefix, 0);
}
