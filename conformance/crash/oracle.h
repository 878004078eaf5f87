/*
 * oracle.h - the crash oracles O1..O5 (spec section 9) and the expected
 * content they judge against.
 *
 * The expected content of the virtual disk is a list of versions: version
 * k is the disk after the workload's first k commands (from a workload run
 * through the reference in process), or, for a trace judged alone, the
 * disk the in-order replay of the trace shows at each cut.  Only a window
 * of the disk is kept: every cluster a command touched or any version (or
 * the initial image) allocates; everywhere else every version equals the
 * initial disk, which the oracles read from the initial image itself.
 */
#ifndef CRASH_ORACLE_H
#define CRASH_ORACLE_H

#include "explore.h"
#include "qed.h"

#include <stdio.h>

/* A file the image's backing chain may open, by resolved path. */
typedef struct crash_file {
    char path[256];
    const uint8_t *data;
    size_t len;
} crash_file;

#define CRASH_MAX_FILES 8
#define CRASH_IMAGE_PATH "/crash/image.qed"   /* the image's path for BACK-1 */

/* The initial image and its backing files. */
typedef struct crash_disk {
    const uint8_t *image;
    size_t image_len;
    crash_file files[CRASH_MAX_FILES];
    size_t nfiles;
} crash_disk;

/* Open an image on io (flags: enum qed_open_flags) with path
 * CRASH_IMAGE_PATH and d's files as its backing chain. */
int crash_open_image(const crash_disk *d, qed_io *io, unsigned flags, qed_image **img);

typedef struct crash_model {
    uint64_t *woff, *wlen;  /* window: sorted, disjoint logical ranges */
    size_t nwin;
    uint64_t wtotal;        /* bytes in the window */
    uint8_t **ver;          /* nver buffers of wtotal bytes */
    uint64_t *vsize;        /* image_size of each version */
    uint64_t *vfrom;        /* the progress point (command or cut) it shows from */
    size_t nver;
} crash_model;

/* One command of a workload (the qemu-io vocabulary the suite uses). */
enum crash_op_kind { COP_WRITE, COP_ZERO, COP_FLUSH, COP_TRUNCATE };
typedef struct crash_op {
    int kind;
    uint64_t off, len;      /* COP_TRUNCATE: off is the new size */
    uint8_t pattern;        /* COP_WRITE: the -P byte */
} crash_op;

/* Parse one qemu-io command ("write -P 0xab 0 64k", "write -z 4k 4k",
 * "flush", "truncate 8M"); blank lines and '#' comments give *op kind -1.
 * QED_OK or QED_ERR_INVAL with err. */
int crash_op_parse(const char *line, crash_op *op, char *err, size_t errlen);

/* Run one command on an open image through libqed; *buf (of *cap bytes,
 * grown as needed, the caller frees it) holds the write pattern. */
int crash_op_apply(qed_image *img, const crash_op *op, uint8_t **buf, size_t *cap);

/* The command as qemu-io takes it. */
void crash_op_format(const crash_op *op, char *out, size_t cap);

/* Versions from a workload: the reference applies ops[0..nops) in process
 * to a copy of the initial image.  QED_OK, or the libqed error (with err). */
int crash_model_from_ops(const crash_disk *d, const crash_op *ops, size_t nops,
                         crash_model *m, char *err, size_t errlen);

/* Versions from the trace alone: the in-order replay at every cut. */
int crash_model_from_trace(const crash_disk *d, const crash_events *ev,
                           crash_model *m, char *err, size_t errlen);

void crash_model_free(crash_model *m);

/* A violation as reported: oracle, state, what broke. */
typedef struct crash_violation {
    char oracle[4];         /* "O1".."O5" */
    char state[192];
    char what[320];
    const char *rules;      /* the write rules the oracle protects */
} crash_violation;

#define CRASH_KEEP_VIOLATIONS 64

typedef struct crash_judge {
    const crash_disk *disk;
    const crash_model *model;
    const crash_events *events;
    uint64_t *initial_l1;             /* the initial image's L1 entries */
    size_t initial_l1_n;
    int versions_by_ops;              /* 1: versions count workload commands */
    /* results */
    uint64_t states, failed_states;
    uint64_t by_oracle[6];            /* violations per oracle, index 1..5 */
    crash_violation kept[CRASH_KEEP_VIOLATIONS];
    size_t nkept;
    int o4_checked;                   /* 0: the trace had no flush marks */
    int checked_clean;                /* this state: O2 checked it clean */
    /* scratch */
    uint8_t *window;                  /* wtotal bytes */
    uint8_t *sector;                  /* one cluster */
    qed_image *initial;               /* the initial image, read-only */
    qed_io *initial_io;
} crash_judge;

/* Set up a judge.  QED_OK or an error with err. */
int crash_judge_init(crash_judge *j, const crash_disk *d, const crash_model *m,
                     const crash_events *ev, char *err, size_t errlen);
void crash_judge_free(crash_judge *j);

/* Judge one state against O1..O4 (and O5 when st->final); the state's
 * bytes may be changed (O1 repairs them).  Always returns 0 (so it can be
 * a crash_state_fn), or a negative QED_ERR_* when memory ran out. */
int crash_judge_state(void *judge, crash_state *st);

/* The oracles, one function each (oracle.c); each returns 1 when the state
 * passes, 0 after recording a violation. */

/* Print one violation line: "O3 12:5:- ... (WR-3, WR-6)". */
void crash_violation_print(FILE *f, const crash_violation *v);

#endif
