/*
 * io_seam.h - the test seam of ref/io.c; not libqed's API (qed.h is), and
 * hidden from libqed.so: only a program linked with libqed.a (the unit
 * tests) can call it.
 *
 * io_posix_open_with_stat is qed_io_posix_open with stat_fn standing for
 * fstat(2) wherever the POSIX layer asks what the file is: its type at
 * open (regular file, block device, or refused) and its length.  A test
 * passes a function that calls fstat and then changes the answer (a
 * regular file said to be a block device, whose st_size is 0), so the
 * block-device path runs on machines where no device can be made.
 * qed_io_posix_open passes fstat itself.
 */
#ifndef QED_IO_SEAM_H
#define QED_IO_SEAM_H

#include <sys/stat.h>

#include "qed.h"

typedef int (*io_stat_fn)(int fd, struct stat *st);

__attribute__((visibility("hidden")))
int io_posix_open_with_stat(const char *path, unsigned flags,
                            io_stat_fn stat_fn, qed_io **out);

#endif /* QED_IO_SEAM_H */
