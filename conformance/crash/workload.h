/*
 * workload.h - the crash family's workloads: the bounded, exhaustive
 * generator (in the spirit of ACE, CrashMonkey's workload generator) and
 * the initial disks they start from.
 *
 * A workload is a geometry (cluster and table size), a backing file (none,
 * raw, qed), an initial state (a fresh image, one that already has tables
 * and data, one left with NEED_CHECK set and a broken entry), and up to
 * three commands from a small alphabet (spec section 9 names why each is
 * there):
 *
 *   A  write a whole aligned cluster            (allocation; WR-2, WR-7)
 *   U  write 1500 bytes at an unaligned offset  (partial cluster: COW fill, WR-3)
 *   X  write across a cluster boundary          (two clusters in one request)
 *   N  first write into an unallocated L2 range (a new L2 table: WR-2)
 *   Z  write-zeroes of a whole cluster          (zero cluster: WR-8)
 *   P  write-zeroes of part of a cluster        (written as data: WR-8)
 *   F  flush                                    (durability: O4)
 *   G  grow the image by one L2 range           (WR-9), alone or first
 */
#ifndef CRASH_WORKLOAD_H
#define CRASH_WORKLOAD_H

#include "oracle.h"

#include <stddef.h>
#include <stdint.h>

enum crash_backing { CB_NONE, CB_RAW, CB_QED };
enum crash_initial { CI_FRESH, CI_TABLES, CI_NEEDCHECK, CI_NEEDCHECK_DUP };

#define CRASH_MAX_OPS 4

typedef struct crash_workload {
    char id[96];
    uint32_t cluster_size, table_size;
    uint64_t size;
    int backing;        /* enum crash_backing */
    int initial;        /* enum crash_initial */
    crash_op ops[CRASH_MAX_OPS];
    size_t nops;
    char letters[CRASH_MAX_OPS + 1];
} crash_workload;

/* Expand the op letters of a workload into commands for its geometry. */
int crash_workload_ops(crash_workload *w, const char *letters);

/* The whole generated family as a qedref-manifest-1 JSON document (family
 * "crash"), in a deterministic order.  Returns a malloc'd string. */
char *crash_manifest_json(size_t *len, size_t *count);

/* Fill w from a manifest test object's fields. */
int crash_workload_from_fields(crash_workload *w, const char *id, uint64_t cluster_size,
                               uint64_t table_size, uint64_t size, const char *backing,
                               const char *initial, const char *letters);

/* An initial disk built in memory with the reference: the image and its
 * backing file (named "base.raw" or "base.qed" beside it). */
typedef struct crash_owned_disk {
    crash_disk disk;
    uint8_t *owned[CRASH_MAX_FILES + 1];   /* the buffers disk points into */
    const char *base_name;   /* "base.raw", "base.qed" or NULL */
} crash_owned_disk;

int crash_build_disk(const crash_workload *w, crash_owned_disk *d, char *err, size_t errlen);
void crash_owned_disk_free(crash_owned_disk *d);

/* The initial disk from files on disk: the image and the files its chain
 * names (resolved beside it, BACK-1), registered under CRASH_IMAGE_PATH's
 * directory.  Used by crash-check. */
int crash_load_disk(const char *image_path, crash_owned_disk *d, char *err, size_t errlen);

#endif
