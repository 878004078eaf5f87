/*
 * qed.h - libqed, the qedref reference codec for the QED image format.
 *
 * Rule IDs in comments (HDR-2, TBL-4, WR-1 ...) refer to spec/qed-spec.md
 * and spec/rules.tsv.
 *
 * Conventions
 *   - Every function returning int returns QED_OK (0) on success, a negative
 *     QED_ERR_* for a failure of the environment or the caller (I/O error,
 *     out of memory, a configured limit, a bad argument) and a positive
 *     QED_E_* when the image breaks a rule of the format.  qed_strerror()
 *     names the error, qed_rule_id() gives the rule it belongs to.
 *   - The library never calls POSIX I/O itself except inside the POSIX
 *     implementation of struct qed_io (qed_io_posix_open/create).
 *   - Nothing here is thread-safe; one image is used by one thread at a time.
 */
#ifndef QED_H
#define QED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Format constants (spec section 2 and 3)                            */
/* ------------------------------------------------------------------ */

#define QED_MAGIC                 0x00444551u  /* "QED\0" little-endian, HDR-1 */
#define QED_HEADER_BYTES          64u          /* the fixed header fields */
#define QED_MIN_CLUSTER_SIZE      4096u        /* HDR-2 */
#define QED_MAX_CLUSTER_SIZE      67108864u    /* HDR-2, 2^26 */
#define QED_MIN_TABLE_SIZE        1u           /* HDR-3 */
#define QED_MAX_TABLE_SIZE        16u          /* HDR-3 */
#define QED_DEFAULT_CLUSTER_SIZE  65536u       /* what qemu-img uses */
#define QED_DEFAULT_TABLE_SIZE    4u
#define QED_SECTOR_SIZE           512u         /* HDR-9 */
#define QED_ZERO_CLUSTER          1u           /* L2 entry value, ZERO-1 */
#define QED_RESERVED_BITS         0xfffu       /* TBL-2 */

#define QED_F_BACKING_FILE             0x1u    /* FEAT-1 */
#define QED_F_NEED_CHECK               0x2u    /* FEAT-2 */
#define QED_F_BACKING_FORMAT_NO_PROBE  0x4u    /* FEAT-3 */
#define QED_FEATURE_MASK               0x7u    /* HDR-5: all known feature bits */
#define QED_COMPAT_FEATURE_MASK        0x0u    /* HDR-6: none defined */
#define QED_AUTOCLEAR_FEATURE_MASK     0x0u    /* HDR-7: none defined */

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

enum qed_status {
    QED_OK = 0,

    /* Environment and caller failures: negative. */
    QED_ERR_IO          = -1,  /* the I/O layer reported an error (EIO ...) */
    QED_ERR_NOMEM       = -2,  /* an allocation failed */
    QED_ERR_LIMIT       = -3,  /* a configured qed_limits bound would be exceeded */
    QED_ERR_INVAL       = -4,  /* bad argument (e.g. a request past image_size, XLT-3) */
    QED_ERR_RDONLY      = -5,  /* write to an image opened read-only */
    QED_ERR_NOSPC       = -6,  /* the I/O layer ran out of space */
    QED_ERR_BACKING     = -7,  /* the backing file could not be opened (BACK-5) */
    QED_ERR_FAILED      = -8,  /* refused: an earlier write or flush of this
                                  session failed (see qed_close) */
    QED_ERR_EOF         = -9,  /* the I/O layer hit end of file inside a read */
    QED_ERR_LOCKED      = -10, /* the file is locked by another process
                                  (qed_io_posix_open) */
    QED_ERR_FILETYPE    = -11, /* not a regular file or a block device: a
                                  FIFO, a directory ... (qed_io_posix_open) */
    QED_ERR_TOO_LARGE   = -12, /* the file would grow past the largest size
                                  allowed (EFBIG: ulimit -f, the file system) */
    QED_ERR_REPAIR_BUDGET = -13, /* refused before writing: a repair's copies
                                  would pass qed_limits.max_repair_bytes
                                  (qed_check_result says by how much) */
    QED_ERR_CONFINED    = -14, /* a confined open refused a backing name:
                                  absolute, or outside backing_dir
                                  (QED_BACKING_CONFINED) */

    /* Format violations: positive, one per rule. */
    QED_E_TRUNCATED       = 1,   /* FILE-2 */
    QED_E_MAGIC           = 2,   /* HDR-1 */
    QED_E_CLUSTER_SIZE    = 3,   /* HDR-2 */
    QED_E_TABLE_SIZE      = 4,   /* HDR-3 */
    QED_E_HEADER_SIZE     = 5,   /* HDR-4 */
    QED_E_FEATURES        = 6,   /* HDR-5 */
    QED_E_COMPAT_REBASE   = 7,   /* HDR-6 */
    QED_E_L1_OFFSET       = 8,   /* HDR-8 */
    QED_E_IMAGE_SIZE_ALIGN = 9,  /* HDR-9 */
    QED_E_IMAGE_SIZE_MAX  = 10,  /* HDR-10 */
    QED_E_BACKING_RANGE   = 11,  /* HDR-11 */
    QED_E_BACKING_EMPTY   = 12,  /* HDR-12 */
    QED_E_BACKING_NUL     = 13,  /* HDR-13 */
    QED_E_RESERVED_BITS   = 14,  /* TBL-2 */
    QED_E_MISALIGNED      = 15,  /* TBL-3 */
    QED_E_TABLE_RANGE     = 16,  /* TBL-4 */
    QED_E_DATA_RANGE      = 17,  /* TBL-6 */
    QED_E_CHAIN_DEPTH     = 18,  /* BACK-4 */
    QED_E_SHRINK          = 19,  /* WR-9: resize to a smaller size */
    QED_E_LAST            = 19
};

/* Human-readable text for any status, e.g. "cluster_size is not a power of
 * two in [4096, 67108864] (HDR-2)".  Never NULL. */
const char *qed_strerror(int status);

/* The spec rule ID a status belongs to ("HDR-2"), or "" for environment
 * errors and QED_OK.  Never NULL. */
const char *qed_rule_id(int status);

/* ------------------------------------------------------------------ */
/* The I/O interface                                                  */
/* ------------------------------------------------------------------ */

/*
 * struct qed_io: the only way the codec touches a file.  Every operation
 * returns QED_OK or a negative QED_ERR_*.  read must fill exactly len bytes
 * or fail (QED_ERR_EOF past the end of the file); write extends the file
 * when it goes past the end (a gap reads as zeroes); truncate sets the
 * length; close releases the object itself (may be NULL-safe no-op).
 */
typedef struct qed_io qed_io;
struct qed_io {
    int  (*read)(qed_io *io, uint64_t off, void *buf, size_t len);
    int  (*write)(qed_io *io, uint64_t off, const void *buf, size_t len);
    int  (*flush)(qed_io *io);
    int  (*length)(qed_io *io, uint64_t *len);
    int  (*truncate)(qed_io *io, uint64_t len);
    void (*close)(qed_io *io);
};

/* Close and free any qed_io (NULL is allowed). */
void qed_io_close(qed_io *io);

/*
 * POSIX file.  qed_io_posix_open opens path as flags say (enum
 * qed_io_posix_flags; 0 is read-only, 1 read-write); qed_io_posix_create
 * is qed_io_posix_open with QED_IO_RDWR | QED_IO_CREATE.
 *
 * Only regular files and block devices are served: anything else (a FIFO,
 * a directory, a socket, a character device) is refused with
 * QED_ERR_FILETYPE, and the open never blocks (O_NONBLOCK until the type
 * is known), so a FIFO named as a backing file cannot hang a reader.
 *
 * Locking, as QEMU's file driver does it, so that libqed and QEMU see each
 * other: open-file-description locks (fcntl F_OFD_SETLK), shared read
 * locks on single bytes, byte 100+i for each permission i held and byte
 * 200+i for each one not shared with others, with QEMU's permission bits
 * (CONSISTENT_READ 0, WRITE 1, WRITE_UNCHANGED 2, RESIZE 3).  A read-only
 * open holds CONSISTENT_READ, a read-write one CONSISTENT_READ, WRITE and
 * RESIZE; both refuse to share WRITE and RESIZE, as qemu-io 7.2 does.  The
 * bytes are taken first and the others' bytes tested after, so of two
 * racing opens at least one sees the other.  So a writer excludes every
 * other writer and reader, a reader excludes writers, readers share: the
 * open fails with QED_ERR_LOCKED.  The locks live until close.  Where the
 * system has no open-file-description locks (the build lacks F_OFD_SETLK,
 * or the kernel or file system answers EINVAL/ENOTSUP), nothing is
 * locked.  QED_IO_NO_LOCK takes and tests no lock (qemu-img -U): the caller
 * then accepts that another process may change the file meanwhile.
 *
 * With QED_IO_CREATE a missing file is created (mode 0644 before umask)
 * and an existing regular file truncated to length 0, only once the lock
 * is held: a file another process has open is refused untouched.
 * An EFBIG from the system (RLIMIT_FSIZE, the file system's largest file)
 * is QED_ERR_TOO_LARGE; the caller should ignore SIGXFSZ to see it.
 */
enum qed_io_posix_flags {
    QED_IO_RDWR    = 1u << 0,   /* read-write; default read-only */
    QED_IO_CREATE  = 1u << 1,   /* create or truncate (implies QED_IO_RDWR) */
    QED_IO_NO_LOCK = 1u << 2    /* take and test no lock (qemu-img -U) */
};
int qed_io_posix_open(const char *path, unsigned flags, qed_io **out);
int qed_io_posix_create(const char *path, qed_io **out);
/* The device and inode of the file a POSIX qed_io has open (fstat), so
 * that a chain can tell a file it already holds.  QED_ERR_INVAL when io is
 * not a POSIX qed_io (its identity is unknown). */
int qed_io_posix_identity(qed_io *io, uint64_t *dev, uint64_t *ino);
/* The confined resolution of QED_BACKING_CONFINED: name resolved against
 * base_path's directory (BACK-1), every link followed, must lie inside
 * dir (itself resolved).  Writes the resolved path to out (out_len bytes).
 * QED_ERR_CONFINED for an absolute or escaping name, QED_ERR_BACKING when
 * the name or dir cannot be resolved (errno tells why), QED_ERR_LIMIT when
 * out is too small. */
int qed_resolve_backing_confined(const char *dir, const char *base_path,
                                 const char *name, char *out, size_t out_len);
/* The descriptor under a qed_io made by qed_io_posix_open, or -1 for any
 * other qed_io.  It stays the qed_io's: use it for what the interface
 * lacks (lseek SEEK_DATA/SEEK_HOLE, copy_file_range), never close it.
 * The qed_io itself only uses pread/pwrite, so moving the file offset
 * changes nothing for it. */
int qed_io_posix_fd(const qed_io *io);

/* Memory buffer.  The initial contents are copied from data (may be NULL
 * when len is 0).  Writes may grow the buffer up to max_len bytes; beyond
 * that they fail with QED_ERR_NOSPC.  qed_io_mem_data returns the current
 * contents (valid until the next write or close). */
int qed_io_mem_new(const void *data, size_t len, size_t max_len, qed_io **out);
void qed_io_mem_data(qed_io *io, const uint8_t **data, size_t *len);

/* Fault injector: passes every call through to inner (which it owns) and
 * fails call number fail_at (1-based, counting read, write, flush, length
 * and truncate alike) with err (QED_ERR_IO or QED_ERR_NOSPC).  With sticky
 * set every call after that one fails too (the device is gone).  fail_at 0
 * never fails, which is how a workload's calls are counted. */
int qed_io_fault_new(qed_io *inner, uint64_t fail_at, int err, int sticky,
                     qed_io **out);   /* on failure inner stays the caller's */
uint64_t qed_io_fault_calls(qed_io *io);   /* calls seen so far */

/* Recorder: passes every call through to inner (which it owns) and, once
 * the call succeeded, appends to log (which it owns) the dm-log-writes
 * entry that describes it, through the trace module (qed_trace.h's
 * qed_trace_writer; the recorder holds no encoder of its own): a write is
 * logged widened to whole sectors of sector_size bytes (a power of two in
 * [512, 65536]) with the bytes around it read back from inner; a flush is
 * a FLUSH entry; a truncate is the MARK "truncate:LEN" (spec section 9,
 * "Trace encodings"); reads and length calls are not logged.  The
 * superblock's entry count is brought up to date on each flush and on
 * close.  qed_io_recorder_mark appends a MARK entry whose text (at most
 * sector_size - 32 bytes, else QED_ERR_INVAL) sits in the entry's own
 * sector, as the Linux dm-log-writes target lays it out.  After a failed
 * log write every later logged call fails with that error. */
int qed_io_recorder_new(qed_io *inner, qed_io *log, uint32_t sector_size,
                        qed_io **out);  /* on failure inner and log stay the caller's */
int qed_io_recorder_mark(qed_io *io, const char *text);
/* Bring the log's superblock up to date now (close does it too, but cannot
 * report a failure); returns the status of that write. */
int qed_io_recorder_finish(qed_io *io);

/* ------------------------------------------------------------------ */
/* Header                                                             */
/* ------------------------------------------------------------------ */

typedef struct qed_header {
    uint32_t magic;
    uint32_t cluster_size;
    uint32_t table_size;
    uint32_t header_size;
    uint64_t features;
    uint64_t compat_features;
    uint64_t autoclear_features;
    uint64_t l1_table_offset;
    uint64_t image_size;
    uint32_t backing_filename_offset;
    uint32_t backing_filename_size;
} qed_header;

/* Decode / encode the 64 header bytes (FILE-1: little-endian).  Decoding
 * does not validate. */
void qed_header_decode(const uint8_t buf[QED_HEADER_BYTES], qed_header *h);
void qed_header_encode(const qed_header *h, uint8_t buf[QED_HEADER_BYTES]);

/* Validate every header field in spec order (HDR-1 .. HDR-12, with HDR-8
 * checked against file_size, the file's length in bytes).  Returns QED_OK or
 * the QED_E_* of the first rule broken.  HDR-13 needs the name's bytes and is
 * checked by qed_open. */
int qed_header_validate(const qed_header *h, uint64_t file_size);

/* HDR-10: the largest image_size for a geometry, or UINT64_MAX when the
 * true maximum does not fit in 64 bits.  Geometry must already be valid. */
uint64_t qed_max_image_size(uint32_t cluster_size, uint32_t table_size);

/* 1 if buf starts with the QED magic (BACK-2), else 0. */
int qed_probe(const void *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Table entries (spec section 4)                                     */
/* ------------------------------------------------------------------ */

/*
 * The entry validation libqed applies wherever it follows an entry (read,
 * map, write, check).  file_len is the file's length in bytes; a range is
 * judged against Lc, that length rounded down to whole clusters (FILE-3),
 * so a trailing partial cluster holds no table and no data cluster.  Each
 * returns QED_OK or the QED_E_* of the first rule broken, in this order:
 * the geometry of h (HDR-2, HDR-3, HDR-4: without it nothing can be
 * judged), TBL-2, TBL-3, then the range rule.
 */

/* FILE-3: Lc, file_len rounded down to a multiple of h->cluster_size (0
 * when cluster_size is 0). */
uint64_t qed_usable_length(const qed_header *h, uint64_t file_len);

/* An L2 table's offset, or l1_table_offset: TBL-2, TBL-3, and TBL-4 (the
 * table's table_size clusters lie after the header clusters and within
 * Lc).  0 is not an offset here: it lies in the header (TBL-4). */
int qed_check_table_offset(const qed_header *h, uint64_t offset,
                           uint64_t file_len);

/* An L1 entry: 0 is unallocated and valid (TBL-5); any other value must
 * be a valid L2 table offset (qed_check_table_offset), so 1 breaks TBL-2. */
int qed_check_l1_entry(const qed_header *h, uint64_t entry, uint64_t file_len);

/* An L2 entry: 0 (unallocated, TBL-5) and 1 (a zero cluster, ZERO-1) are
 * valid; any other value is a data cluster's offset: TBL-2, TBL-3, and
 * TBL-6 (the cluster lies after the header clusters and within Lc). */
int qed_check_l2_entry(const qed_header *h, uint64_t entry, uint64_t file_len);

/* ------------------------------------------------------------------ */
/* Images                                                             */
/* ------------------------------------------------------------------ */

typedef struct qed_image qed_image;

/* Bounds on what an untrusted image may make the library allocate or do. */
typedef struct qed_limits {
    uint64_t max_table_bytes;   /* largest table_size*cluster_size accepted; default 64 MiB */
    unsigned max_chain_depth;   /* BACK-4: backing files below the top; default 16 */
    uint64_t max_check_clusters;/* largest file (in clusters) check will scan; default 2^28 */
    uint64_t max_repair_bytes;  /* the most bytes the copies of one corruption
                                   repair may add to the file (CHK-5's note on
                                   repair's budget); 0, the default, stands
                                   for 2 x the file's length + 64 MiB */
    uint64_t max_chain_table_bytes; /* the tables (L1 and the L2 cache) of the
                                   whole chain, top image included, held
                                   at once; default 256 MiB (0 reads
                                   as the default) */
} qed_limits;

void qed_limits_default(qed_limits *lim);

/* A backing name of this many bytes or more is refused with QED_ERR_LIMIT
 * (a path that long is a limit of the reference, not a rule). */
#define QED_MAX_BACKING_NAME 4096u

/* The bound of lim (NULL: the defaults) that opening an image with header
 * h would exceed, tested as qed_open tests it and as qed_create tests the
 * header it would write, so that qed_create never makes an image qed_open
 * refuses: "max_table_bytes" (table_size * cluster_size), "max_chain_table_bytes"
 * (the image's own two tables), "QED_MAX_BACKING_NAME" (the backing name's
 * length); NULL when none.  *value (may be NULL) gets the bound's value.
 * The geometry must be valid (HDR-2, HDR-3). */
const char *qed_header_limit(const qed_header *h, const qed_limits *lim,
                             uint64_t *value);

/* Called to open a backing file.  path is already resolved (BACK-1).
 * Return QED_OK and a qed_io in *out (the image takes ownership), or a
 * negative QED_ERR_*.  The default (when qed_open_opts.open_backing is
 * NULL) opens path read-only with qed_io_posix_open, locked as a reader;
 * a caller that wants no lock on the chain passes its own function (with
 * QED_IO_NO_LOCK). */
typedef int (*qed_backing_open_fn)(void *ctx, const char *path, qed_io **out);

enum qed_open_flags {
    QED_OPEN_RDWR       = 1u << 0, /* read-write; default read-only */
    QED_OPEN_NO_BACKING = 1u << 1, /* do not open the backing file; unallocated reads fail */
    QED_OPEN_NO_CHECK   = 1u << 2  /* read-write open of a NEED_CHECK image without WR-5
                                      (for check -r, which repairs itself) */
};

/*
 * Which backing files an open may reach (an image's backing name is
 * untrusted input: it may be "/etc/shadow" or "../../x").
 *   FOLLOW    every name is followed as BACK-1 resolves it (the default).
 *   NONE      no backing file is opened, as with QED_OPEN_NO_BACKING:
 *             the header, the name and the tables are read; a read of a
 *             range the image does not allocate fails with
 *             QED_ERR_BACKING, and qed_map reports such a range with no
 *             flag at all (not present, not known to be zero).
 *   CONFINED  backing files come only from inside backing_dir.  The top
 *             image's backing name is resolved against backing_dir, as if
 *             the image lay there, and each backing image's name against
 *             that image's directory (BACK-1); an absolute name, or one
 *             whose file, after every symbolic link is resolved
 *             (realpath), is not inside backing_dir (after its own links
 *             are resolved), is refused with QED_ERR_CONFINED before
 *             anything is opened.  The file opened is the resolved path.
 *             (The check is on names: it does not defend against another
 *             process that swaps files inside backing_dir between the
 *             check and the open.)
 */
enum qed_backing_policy {
    QED_BACKING_FOLLOW   = 0,
    QED_BACKING_NONE     = 1,
    QED_BACKING_CONFINED = 2
};

typedef struct qed_open_opts {
    unsigned flags;                 /* enum qed_open_flags */
    const char *path;               /* the image's own path, for BACK-1; may be NULL */
    qed_backing_open_fn open_backing; /* NULL: POSIX */
    void *backing_ctx;
    const qed_limits *limits;       /* NULL: qed_limits_default */
    enum qed_backing_policy backing_policy;  /* 0: QED_BACKING_FOLLOW */
    const char *backing_dir;        /* CONFINED: an existing directory */
} qed_open_opts;

/* Open an image on io (which stays owned by the caller and must outlive the
 * image).  opts may be NULL (read-only, defaults).  Validates the header,
 * loads the L1 table, opens the backing chain, and on read-write open clears
 * unknown autoclear bits (HDR-7) and runs WR-5 when NEED_CHECK is set.
 * Each backing file is opened, and compared (qed_io_posix_identity) with
 * every file above it in the chain, before its own tables are loaded: a
 * loop is QED_E_CHAIN_DEPTH (BACK-4) at its first repeat, and the chain's
 * tables never take more than max_chain_table_bytes (QED_ERR_LIMIT).
 * WR-5's repair has a budget: over it the open fails with
 * QED_ERR_REPAIR_BUDGET, the file untouched (see qed_check). */
int qed_open(qed_io *io, const qed_open_opts *opts, qed_image **out);

/* Close: what the session wrote is flushed, and when this session set
 * NEED_CHECK the bit is cleared and flushed (WR-4).  After a failed write,
 * flush or repair (every later write and flush then fails with
 * QED_ERR_FAILED) close writes nothing more: NEED_CHECK stays as it is on
 * disk and the next read-write open repairs (WR-5).  Frees the image and
 * its backing chain (NULL is allowed).  Returns the first error. */
int qed_close(qed_image *img);

const qed_header *qed_get_header(const qed_image *img);
/* The backing file name as stored (NUL-terminated), or NULL. */
const char *qed_backing_name(const qed_image *img);
/* "raw", "qed", or NULL when the image has no backing file: the format the
 * backing file was opened as (BACK-2), or would be opened as. */
const char *qed_backing_format(const qed_image *img);

/* Read / write len bytes at logical offset off (XLT-3: off+len <= image_size).
 * A write-side call (qed_write, qed_write_zeroes, qed_flush, qed_resize,
 * qed_set_backing, a repairing qed_check) that fails with a negative status
 * after its checks passed fails the session: every later one of them
 * returns QED_ERR_FAILED, reads still work, and close writes nothing. */
int qed_read(qed_image *img, uint64_t off, void *buf, size_t len);
int qed_write(qed_image *img, uint64_t off, const void *buf, size_t len);
/* WR-8 */
int qed_write_zeroes(qed_image *img, uint64_t off, uint64_t len);
int qed_flush(qed_image *img);

/* Allocation status of the run starting at off (like qemu-img map). */
enum qed_map_flags {
    QED_MAP_PRESENT = 1u << 0,  /* allocated in some layer (data or zero cluster) */
    QED_MAP_ZERO    = 1u << 1,  /* reads as zeroes */
    QED_MAP_DATA    = 1u << 2   /* backed by a data cluster (offset is valid) */
};
typedef struct qed_extent {
    uint64_t start;    /* logical offset */
    uint64_t length;   /* bytes, > 0 */
    unsigned depth;    /* 0: this image, 1: its backing file, ...; for an
                          extent present nowhere, the layer where the lookup
                          ended: the last one whose backing file reaches
                          that far (as qemu-img map reports it) */
    unsigned flags;    /* enum qed_map_flags */
    uint64_t offset;   /* with QED_MAP_DATA: byte offset in the file at depth */
} qed_extent;
/* Describe the longest run starting at off (off < image_size) with the same
 * depth, flags and contiguous offsets, not past off+max_len. */
int qed_map(qed_image *img, uint64_t off, uint64_t max_len, qed_extent *ext);

/* Consistency check (spec section 8). */
enum qed_check_repair {
    QED_REPAIR_NONE    = 0,
    QED_REPAIR_LEAKS   = 1u << 0,   /* CHK-7 */
    QED_REPAIR_CORRUPT = 1u << 1,   /* CHK-5 */
    QED_REPAIR_ALL     = QED_REPAIR_LEAKS | QED_REPAIR_CORRUPT
};
typedef struct qed_check_result {
    uint64_t corruptions;        /* found (before repair) */
    uint64_t corruptions_fixed;
    uint64_t leaks;              /* found (before repair) */
    uint64_t leaks_fixed;
    uint64_t check_errors;       /* I/O errors while checking */
    uint64_t allocated_clusters; /* data clusters referenced (after repair) */
    uint64_t total_clusters;     /* clusters of the virtual disk */
    uint64_t fragmented_clusters;/* data clusters not directly after their predecessor */
    uint64_t image_end_offset;   /* file length after check/repair */
    uint64_t repair_bytes;       /* corruption repair: the bytes its copies
                                    add (when refused: at least this many) */
    uint64_t repair_budget;      /* corruption repair: the budget they had */
} qed_check_result;
/* Check the image and, when repair != 0 (image must be read-write), repair.
 * Returns QED_OK when the check ran to the end (whatever it found), else the
 * error that stopped it.  Before its first write, a corruption repair works
 * out the bytes its copies will add, stopping as soon as they pass the
 * budget (qed_limits.max_repair_bytes); over it, the repair is refused with
 * QED_ERR_REPAIR_BUDGET and nothing is written (the session is not failed).
 * A repair that fails part-way (an I/O error, no space) leaves at most the
 * corruptions it found, and perhaps more leaks (its copies): entries past
 * the end of the file are reset and flushed before the first copy; the
 * failed session then reads what the file holds (its L1 table in memory
 * is read back from the file).  Cost: each L2 table the L1 table names
 * is read once (tables back to back in the file in reads of up to 1 MiB),
 * and only its allocated entries are looked at one by one.  Memory: one
 * bit per cluster of the file (QED_ERR_LIMIT beyond max_check_clusters,
 * 32 MiB of bits by default), one byte per L1 entry, the image's L2 cache
 * buffer, one more buffer of at most 1 MiB when tables lie back to back,
 * and, repairing, a copy of the L1 table (and one more to read it back
 * after a failure), a copy buffer of at most 1 MiB, the list of repairs
 * (24 bytes each) and that of the entries reset past the end of the file
 * (16 bytes each), both bounded by the file's entries. */
int qed_check(qed_image *img, unsigned repair, qed_check_result *res);

/* Create a fresh image on io (which must be empty or will be overwritten):
 * header in cluster 0 (header_size 1, or more when the backing name needs
 * it), a zeroed L1 table right after it. */
typedef struct qed_create_opts {
    uint64_t image_size;          /* HDR-9, HDR-10 */
    uint32_t cluster_size;        /* 0: default */
    uint32_t table_size;          /* 0: default */
    const char *backing_file;     /* NULL: none */
    const char *backing_format;   /* "raw" sets NO_PROBE; "qed" or NULL probe */
} qed_create_opts;
int qed_create(qed_io *io, const qed_create_opts *opts);

/* Change the backing file name and format without touching data (rebase -u).
 * name NULL removes the backing file.  HDR-6: refused while unknown compat
 * bits are set.  Fails with QED_ERR_LIMIT when the name does not fit in the
 * header clusters.  The old backing chain is closed; the new backing file is
 * opened by the next qed_open (until then reading an unallocated cluster
 * fails with QED_ERR_BACKING). */
int qed_set_backing(qed_image *img, const char *name, const char *format);

/* Grow the virtual size (WR-9). */
int qed_resize(qed_image *img, uint64_t new_size);

/* Resolve a backing name against the directory of the image's path
 * (BACK-1).  Writes a NUL-terminated path to out; QED_ERR_LIMIT if it does
 * not fit in out_len bytes. */
int qed_resolve_backing(const char *image_path, const char *name, char *out,
                        size_t out_len);

#ifdef __cplusplus
}
#endif

#endif /* QED_H */
