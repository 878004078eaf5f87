/*
 * files.h - file helpers of the runner and the generator: safe relative
 * paths, joining, creating parent directories, copying into scratch
 * directories, hashing files, recursive removal.
 */
#ifndef CONFORM_LIB_FILES_H
#define CONFORM_LIB_FILES_H

#include <stdint.h>
#include <stddef.h>

/* 1 when rel is a plain relative path: not empty, not absolute, no "." or
 * ".." component, no empty component. */
int cf_path_is_safe(const char *rel);

/* Create every missing directory leading to path (not path itself). */
int cf_make_parents(const char *path);

/* Copy src to dst (created, mode 0644, every byte written: no holes, so
 * a raw backing file stays allocated), hashing the bytes on the way:
 * hex receives the SHA-256 of src (65 bytes).  Returns 0, or -1 with a
 * message in err. */
int cf_copy_file(const char *src, const char *dst, char hex[65], char *err, size_t errlen);

/* SHA-256 (hex) and length of a file.  Returns 0, or -1 with errno set. */
int cf_hash_file(const char *path, char hex[65], uint64_t *size);

/* Remove a directory tree (never follows symbolic links). */
int cf_remove_tree(const char *path);

/* Copy a directory tree (regular files and directories only) to dst;
 * all-zero 64 KiB blocks become holes, so a kept 1 GiB export is cheap. */
int cf_copy_tree(const char *src, const char *dst);

/* Join dir and rel into out (size outlen); -1 if it does not fit. */
int cf_join(char *out, size_t outlen, const char *dir, const char *rel);

#endif
