/*
 * qed_trace.h - libqed's trace module: the dm-log-writes log format, read
 * and written in one place (ref/trace.c).
 *
 * A trace is the ordered list of writes, flushes and marks a writer issued
 * to one image file (spec section 9).  The format is the log of the Linux
 * dm-log-writes target, unchanged; QEMU's blklogwrites driver writes the
 * same.  Every writer of traces in the project (libqed's recorder I/O
 * layer, the LD_PRELOAD shim, the suite's tests) goes through
 * qed_trace_writer; every reader (the crash explorer, `qed-conform trace
 * dump`, the fuzz harness fuzz_trace, the unit tests) through
 * qed_trace_parse.
 *
 * Layout, all integers little-endian, S = the log's sector size:
 *
 *   log sector 0   superblock: u64 magic 0x6a736677736872, u64 version 1,
 *                  u64 nr_entries, u32 sector_size; rest of the sector zero
 *   then, per entry, starting at log sector 1:
 *                  one sector: u64 sector, u64 nr_sectors, u64 flags,
 *                  u64 data_len (32 bytes), then for a MARK its text
 *                  (data_len bytes), the rest zero;
 *                  then nr_sectors sectors of data, except for a MARK
 *                  and a DISCARD (sector and nr_sectors count units of S
 *                  in the image); a plain FLUSH has nr_sectors 0.
 *
 * What the two writers of the format actually put there (read in Linux
 * drivers/md/dm-log-writes.c and QEMU block/blklogwrites.c), which the
 * parser accepts and the writer follows:
 *   - data_len of a write is 0 in both (Linux 4.x's DAX path, since
 *     removed, stored the byte count, at most nr_sectors * S, with the data
 *     still in nr_sectors sectors): the parser accepts any data_len up to
 *     nr_sectors * S; the writer writes 0.
 *   - a FLUSH is {0, 0, FLUSH, 0}.  Linux also logs a write that carried
 *     REQ_PREFLUSH as one entry with FLUSH set and its data following
 *     (everything before it is flushed, then the write); REQ_FUA sets FUA.
 *     QEMU never sets FUA (its write entries have flags 0) and logs
 *     write-zeroes as a plain write whose data sectors are zero.
 *   - a DISCARD has nr_sectors set and no data sectors (data_len 0).
 *   - a MARK (Linux only: `dmsetup message ... mark TEXT`, and
 *     "dm-log-writes-end" at teardown) is {0, 0, MARK, strlen(TEXT)}, the
 *     text right after the 32-byte header in the same sector, not
 *     NUL-terminated, at most S - 33 bytes (Linux) and S - 32 (here), the
 *     rest of the sector zero.
 *   - the superblock's nr_entries is rewritten after a FLUSH (both), a FUA
 *     or a MARK (Linux), every log-super-update-interval entries (QEMU,
 *     default 4096): a log may hold entries past nr_entries, which are
 *     not part of the trace (qed_trace.log_end says where the counted ones
 *     end).  QEMU accepts sector sizes that are powers of two below 2^24,
 *     Linux uses the device's logical block size; this module takes powers
 *     of two in [512, 65536].
 *
 * Encodings this project adds (spec section 9, "Trace encodings"), all as
 * MARK entries so that any dm-log-writes tool still reads the log:
 *   "op:N"                      before workload command N (0-based)
 *   "flush:N"                   workload flush N (0-based) has completed
 *   "truncate:LEN"              the file's length was set to LEN bytes
 *   "fallocate:MODE:OFF:LEN"    fallocate(2) with mode MODE (hex) succeeded
 *   "refused:WHAT"              the recorder saw something it cannot model;
 *                               a trace holding it must not be judged
 */
#ifndef QED_TRACE_H
#define QED_TRACE_H

#include "qed.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QED_TRACE_MAGIC      0x6a736677736872ull
#define QED_TRACE_VERSION    1u
#define QED_TRACE_ENTRY_BYTES 32u     /* entry header, at the start of its sector */
#define QED_TRACE_MIN_SECTOR 512u     /* sector sizes: powers of two in [512, 65536] */
#define QED_TRACE_MAX_SECTOR 65536u

/* Entry flags, as the Linux target defines them. */
enum qed_trace_flag {
    QED_TRACE_FLUSH    = 1u,   /* everything before it is durable */
    QED_TRACE_FUA      = 2u,   /* a write, then a flush of that write only */
    QED_TRACE_DISCARD  = 4u,   /* sectors discarded: read as zeroes */
    QED_TRACE_MARK     = 8u,   /* a text label, no data */
    QED_TRACE_METADATA = 16u,  /* a hint; no effect on the model */
    QED_TRACE_KNOWN_FLAGS = 31u
};

/* One entry, as parsed.  data points into the buffer given to
 * qed_trace_parse (for a write: nr_sectors * sector_size bytes; for a
 * MARK: data_len bytes of text, not NUL-terminated; otherwise NULL). */
typedef struct qed_trace_entry {
    uint64_t index;        /* 0-based entry number */
    uint64_t sector;       /* first image sector, in units of sector_size */
    uint64_t nr_sectors;
    uint64_t flags;        /* enum qed_trace_flag bits */
    uint64_t data_len;     /* as stored */
    const uint8_t *data;
    uint64_t log_offset;   /* byte offset of the entry's header sector in the log */
} qed_trace_entry;

typedef struct qed_trace {
    uint32_t sector_size;
    uint64_t count;            /* entries parsed (== the superblock's nr_entries) */
    qed_trace_entry *entries;  /* count entries, malloc'd */
    uint64_t log_end;          /* byte offset just past the last entry; the
                                  log may hold uncounted bytes after it */
} qed_trace;

/* Parse a whole log held in buf[0..len).  Every field is checked before it
 * is used: magic, version, sector size, an entry count the log cannot hold,
 * each entry's flags (unknown bits; a MARK combined with FLUSH, FUA or
 * DISCARD, or with nr_sectors != 0), sector and nr_sectors (their product
 * with the sector size must not overflow 64 bits), data_len (a MARK's text
 * must fit in its sector; a write's data_len must not exceed its data
 * bytes; a DISCARD's must be 0; a write's data sectors must fit in the log).
 * Memory grows with the entries actually present, never with the count the
 * superblock claims.  Returns QED_OK with *out filled (entries point into
 * buf, which must outlive *out), or QED_ERR_INVAL with one line in err
 * naming the entry and the field ("entry 7: data_len 9000 does not fit in
 * the 512-byte entry sector"), or QED_ERR_NOMEM.  err may be NULL. */
int qed_trace_parse(const uint8_t *buf, size_t len, qed_trace *out,
                    char *err, size_t errlen);

/* Free what qed_trace_parse allocated (not the buffer).  NULL-safe. */
void qed_trace_free(qed_trace *t);

/* 1 when e is a MARK whose text equals text. */
int qed_trace_mark_is(const qed_trace_entry *e, const char *text);

/* 1 when e is a MARK whose text starts with prefix (e.g. "flush:"); then
 * *rest points just after the prefix and *rest_len is what remains. */
int qed_trace_mark_prefix(const qed_trace_entry *e, const char *prefix,
                          const char **rest, size_t *rest_len);

/* The writer: appends entries to log (a qed_io it does not own), keeping
 * the superblock's nr_entries up to date after every FLUSH and on
 * qed_trace_writer_finish.  sector_size: a power of two in [512, 65536]. */
typedef struct qed_trace_writer qed_trace_writer;

int qed_trace_writer_new(qed_io *log, uint32_t sector_size, qed_trace_writer **out);

/* A write of nr_sectors whole sectors starting at image sector `sector`;
 * data holds nr_sectors * sector_size bytes.  flags: 0, QED_TRACE_FUA or
 * QED_TRACE_METADATA. */
int qed_trace_write(qed_trace_writer *w, uint64_t sector, uint64_t nr_sectors,
                    uint64_t flags, const void *data);

/* A FLUSH entry; also rewrites the superblock. */
int qed_trace_flush(qed_trace_writer *w);

/* A DISCARD of nr_sectors sectors starting at sector. */
int qed_trace_discard(qed_trace_writer *w, uint64_t sector, uint64_t nr_sectors);

/* A MARK carrying text (at most sector_size - 32 bytes, else QED_ERR_INVAL). */
int qed_trace_mark(qed_trace_writer *w, const char *text);

/* Rewrite the superblock with the entry count.  The writer stays usable. */
int qed_trace_writer_finish(qed_trace_writer *w);

/* After a failed write to log, every later entry is refused with that
 * error (a log never has a hole); finish still rewrites the superblock so
 * that the entries logged before the failure can be read. */

/* Free the writer (does not finish it, does not close log).  NULL-safe. */
void qed_trace_writer_free(qed_trace_writer *w);

uint32_t qed_trace_writer_sector_size(const qed_trace_writer *w);

/* Entries appended so far (the next entry's index). */
uint64_t qed_trace_writer_entries(const qed_trace_writer *w);

#ifdef __cplusplus
}
#endif

#endif
