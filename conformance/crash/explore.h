/*
 * explore.h - the crash-state explorer (spec section 9, "Crash states").
 *
 * From an initial image file and a trace of what a writer issued to it, the
 * explorer derives every crash state the model allows and hands each one,
 * built in memory, to a callback that judges it.  Nothing here knows the
 * QED format: a state is the bytes a file could hold after a power loss.
 *
 * A state has a stable id "CUT:SUBSET:TORN":
 *   CUT     the number of trace entries issued before the power loss;
 *   SUBSET  which writes of the flush epoch open at the cut reached the
 *           disk: "all", or a hex bitmask over the epoch's writes issued
 *           before the cut (bit 0 = the epoch's first write), most
 *           significant digit first; writes before the epoch's opening
 *           flush always persist, and so does a FUA write once issued;
 *   TORN    "-", or "Nf" / "Nl" / "Nm": epoch write N (0-based) persisted
 *           only in part: its first sector, its last sector, or a middle
 *           run of sectors (the other sectors keep their old bytes).
 * After a crash the file is as long as the larger of its length at the
 * epoch's start and the end of every persisted write; a truncate that
 * persisted sets the length; bytes never written read as zeroes.
 */
#ifndef CRASH_EXPLORE_H
#define CRASH_EXPLORE_H

#include "qed_trace.h"

#include <stddef.h>
#include <stdint.h>

/* What one trace entry does to the file, as the crash model sees it. */
enum crash_event_kind {
    EV_WRITE,        /* data at [off, off+len) */
    EV_ZERO,         /* zeroes at [off, off+len) (DISCARD, fallocate punch/zero) */
    EV_SETLEN,       /* the file length becomes off (truncate:LEN) */
    EV_EXTEND,       /* the file length becomes at least off (fallocate) */
    EV_FLUSH,        /* everything before it is durable */
    EV_MARK_OP,      /* "op:N": workload command n is about to start */
    EV_MARK_FLUSH,   /* "flush:N": workload flush n has completed */
    EV_MARK_OTHER    /* any other mark: no effect */
};

typedef struct crash_event {
    uint8_t kind;         /* enum crash_event_kind */
    uint8_t forced;       /* 1: durable as soon as issued (FUA) */
    uint32_t entry;       /* trace entry index */
    uint32_t sectors;     /* EV_WRITE: log sectors in the write */
    uint64_t off, len;    /* bytes */
    uint64_t n;           /* EV_MARK_OP / EV_MARK_FLUSH: the number */
    const uint8_t *data;  /* EV_WRITE: len bytes inside the trace buffer */
} crash_event;

typedef struct crash_events {
    crash_event *ev;
    size_t count;
    size_t entries;       /* trace entries (cuts run 0..entries) */
    uint32_t sector_size;
    int has_op_marks;     /* the trace carries op:N marks */
    int has_flush_marks;  /* the trace carries flush:N marks */
} crash_events;

/* Largest file the explorer builds in memory. */
#define CRASH_MAX_FILE ((uint64_t)1 << 30)

/* Turn a parsed trace into events.  Refuses (QED_ERR_INVAL, one line in
 * err naming the entry) a trace with a "refused:" mark, an unknown
 * fallocate mode, a malformed op/flush/truncate mark, or a write past
 * CRASH_MAX_FILE.  Returns QED_OK, QED_ERR_INVAL or QED_ERR_NOMEM. */
int crash_events_from_trace(const qed_trace *t, crash_events *out, char *err, size_t errlen);
void crash_events_free(crash_events *e);

/* A growable file image in memory; also a qed_io (crash_buf_io). */
typedef struct crash_buf {
    uint8_t *data;
    size_t len, cap;
} crash_buf;

/* Make b a copy of src[0..len).  QED_OK or QED_ERR_NOMEM. */
int crash_buf_set(crash_buf *b, const uint8_t *src, size_t len);
void crash_buf_free(crash_buf *b);

/* Read the regular file DIR/NAME (NAME alone when dir is NULL) whole into
 * b, at most CRASH_MAX_FILE bytes.  QED_OK, or QED_ERR_IO with errno set
 * (the open or read error; EISDIR or EINVAL for what is not a regular
 * file; EFBIG when it is too large), or QED_ERR_NOMEM. */
int crash_buf_load(crash_buf *b, const char *dir, const char *name);

/* Write data[0..len) to DIR/NAME (NAME alone when dir is NULL), created or
 * truncated.  QED_OK, or QED_ERR_IO with errno set. */
int crash_buf_save(const char *dir, const char *name, const void *data, size_t len);

/* Set b's length to len; new bytes are zero.  QED_OK, NOSPC or NOMEM. */
int crash_buf_resize(crash_buf *b, uint64_t len);

/* A qed_io over b (reads, writes that grow it up to CRASH_MAX_FILE,
 * truncate, flush as a no-op).  The io does not own b; close frees only
 * the io.  writable 0 makes writes fail with QED_ERR_RDONLY. */
int crash_buf_io(crash_buf *b, int writable, qed_io **out);

/* Apply event e in full to b (writes, zeroes, lengths). */
int crash_apply(crash_buf *b, const crash_event *e);

/* What the workload had done at a cut, from the marks before it. */
typedef struct crash_progress {
    uint64_t ops_started;   /* commands begun (op marks), or UINT64_MAX if unknown */
    uint64_t ops_durable;   /* commands made durable by a completed flush mark */
} crash_progress;

/* One crash state, handed to the judge. */
typedef struct crash_state {
    char id[192];
    size_t cut;
    int final;              /* the whole trace, every write persisted */
    crash_progress progress;
    crash_buf *file;        /* the file's bytes; the judge may change them */
} crash_state;

typedef struct crash_explore_opts {
    unsigned max_subset;    /* exhaustive subsets while an epoch has at most this many writes (default 12) */
    unsigned samples;       /* seeded random subsets per larger epoch (default 1024) */
    uint64_t seed;          /* sampling seed */
    int no_torn;            /* 1: no torn writes */
} crash_explore_opts;

typedef struct crash_explore_stats {
    uint64_t states;        /* states handed to the judge */
    uint64_t cuts, subset_states, torn_states;
    uint64_t epochs, sampled_epochs, sampled_states;
    uint64_t largest_epoch; /* writes in the largest epoch */
} crash_explore_stats;

/* Called once per state; a non-zero return stops the exploration and is
 * returned by crash_explore. */
typedef int (*crash_state_fn)(void *ctx, crash_state *st);

/* Explore every state of the trace from the initial file init[0..len).
 * opts may be NULL (defaults).  Returns 0 when every state was judged, the
 * callback's non-zero value, or a negative QED_ERR_* (memory). */
int crash_explore(const crash_events *ev, const uint8_t *init, size_t len,
                  const crash_explore_opts *opts, crash_state_fn fn, void *ctx,
                  crash_explore_stats *stats);

/* Build the one state named by id (as crash_explore with opts names it) into *st,
 * whose file buffer is *buf.  Returns QED_OK, QED_ERR_INVAL (with err: a
 * malformed id, or one that names no state of this trace) or NOMEM. */
int crash_build_state(const crash_events *ev, const uint8_t *init, size_t len,
                      const char *id, const crash_explore_opts *opts, crash_buf *buf,
                      crash_state *st, char *err, size_t errlen);

/* The progress of the workload at cut (marks before it). */
crash_progress crash_progress_at(const crash_events *ev, size_t cut);

#endif
