/*
 * files.c - file helpers of the runner and the generator.  See files.h.
 */
#include "files.h"

#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cf_join(char *out, size_t outlen, const char *dir, const char *rel)
{
    int n = snprintf(out, outlen, "%s/%s", dir, rel);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int cf_path_is_safe(const char *rel)
{
    if (rel == NULL || rel[0] == '\0' || rel[0] == '/')
        return 0;
    for (const char *p = rel; *p; ) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n;
        if (*p == '/')
            p++;
        if (*p == '\0' && p[-1] == '/')
            return 0;   /* trailing slash: an empty last component */
    }
    return 1;
}

int cf_make_parents(const char *path)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf)
        return errno = ENAMETOOLONG, -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* Write all n bytes of buf to fd. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 1 when the n bytes at buf are all zero. */
static int all_zero(const char *buf, size_t n)
{
    return n == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0);
}

/* Write a block to out_fd, or with sparse set skip over it when it is all
 * zeroes (the caller sets the final length). */
static int put_block(int out_fd, const char *buf, size_t n, int sparse)
{
    if (sparse && all_zero(buf, n))
        return lseek(out_fd, (off_t)n, SEEK_CUR) < 0 ? -1 : 0;
    return write_all(out_fd, buf, n);
}

/* Stream in_fd to out_fd (if >= 0) and into the hash; -1 on I/O error. */
static int stream_fd(int in_fd, int out_fd, int sparse, sha256_ctx *ctx, uint64_t *size)
{
    static char buf[1 << 16];
    *size = 0;
    for (;;) {
        ssize_t n = read(in_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return (out_fd >= 0 && sparse) ? ftruncate(out_fd, (off_t)*size) : 0;
        sha256_update(ctx, buf, (size_t)n);
        *size += (uint64_t)n;
        if (out_fd >= 0 && put_block(out_fd, buf, (size_t)n, sparse) < 0)
            return -1;
    }
}

int cf_hash_file(const char *path, char hex[65], uint64_t *size)
{
    sha256_ctx ctx;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    sha256_init(&ctx);
    int rc = stream_fd(fd, -1, 0, &ctx, size);
    int saved = errno;
    close(fd);
    if (rc < 0)
        return errno = saved, -1;
    sha256_final_hex(&ctx, hex);
    return 0;
}

/* Copy src to dst, hashing it; sparse: leave holes for zero blocks. */
static int copy_file(const char *src, const char *dst, int sparse, char hex[65], char *err,
                     size_t errlen)
{
    sha256_ctx ctx;
    uint64_t size;
    int in = open(src, O_RDONLY);
    if (in < 0) {
        snprintf(err, errlen, "cannot open %s: %s", src, strerror(errno));
        return -1;
    }
    int out = -1;
    if (cf_make_parents(dst) == 0)
        out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dst, strerror(errno));
        close(in);
        return -1;
    }
    sha256_init(&ctx);
    int rc = stream_fd(in, out, sparse, &ctx, &size);
    if (rc < 0)
        snprintf(err, errlen, "cannot copy %s: %s", src, strerror(errno));
    close(in);
    if (close(out) < 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
        rc = -1;
    }
    if (rc == 0)
        sha256_final_hex(&ctx, hex);
    return rc;
}

int cf_copy_file(const char *src, const char *dst, char hex[65], char *err, size_t errlen)
{
    return copy_file(src, dst, 0, hex, err, errlen);
}

/* Apply fn to each entry of directory dir except . and ..; stops at the
 * first failure. */
static int for_each_entry(const char *dir,
                          int (*fn)(const char *path, const char *name, const void *arg),
                          const void *arg)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (cf_join(path, sizeof path, dir, e->d_name) < 0)
            rc = -1;
        else
            rc = fn(path, e->d_name, arg);
    }
    closedir(d);
    return rc;
}

/* for_each_entry callback of cf_remove_tree. */
static int remove_entry(const char *path, const char *name, const void *arg)
{
    (void)name;
    (void)arg;
    return cf_remove_tree(path);
}

int cf_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    if (for_each_entry(path, remove_entry, NULL) < 0)
        return -1;
    return rmdir(path);
}

/* for_each_entry callback of cf_copy_tree: arg is the destination dir. */
static int copy_entry(const char *path, const char *name, const void *arg)
{
    char dst[PATH_MAX];
    if (cf_join(dst, sizeof dst, (const char *)arg, name) < 0)
        return -1;
    return cf_copy_tree(path, dst);
}

int cf_copy_tree(const char *src, const char *dst)
{
    struct stat st;
    char hex[65], err[256];
    if (lstat(src, &st) < 0)
        return -1;
    if (S_ISREG(st.st_mode))
        return copy_file(src, dst, 1, hex, err, sizeof err);
    if (!S_ISDIR(st.st_mode))
        return 0;   /* links, fifos ...: nothing an adapter needs */
    if (mkdir(dst, 0755) < 0 && errno != EEXIST)
        return -1;
    return for_each_entry(src, copy_entry, dst);
}
