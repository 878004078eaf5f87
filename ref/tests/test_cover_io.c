/*
 * test_cover_io.c - the error paths of the four struct qed_io
 * implementations (ref/io.c) that test_io.c's contract tests do not reach:
 * POSIX open/create/read/write/truncate failures and their errno mapping,
 * memory-buffer argument and size limits, the fault injector's counting of
 * every call kind (sticky and not), and the recorder's argument checks,
 * MARK length limit and failures of its inner file or its log.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "helpers.h"

int suite_cover_io(void);

#if defined(__SANITIZE_ADDRESS__)
#define COVER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COVER_ASAN 1
#endif
#endif

#ifdef COVER_ASAN
const char *__asan_default_options(void);
/* test_mem_nomem asks for an impossible buffer and expects QED_ERR_NOMEM;
 * ASan must return NULL for it instead of aborting the run. */
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

/* A fresh empty temporary file; its path is written to path[32]. */
static void temp_file(char path[32])
{
    strcpy(path, "/tmp/qed-cover-io-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
}

/* ------------------------------------------------------------------ */
/* POSIX                                                              */
/* ------------------------------------------------------------------ */

/* Open and create failures map errno to QED_ERR_IO; a directory is not
 * a file libqed serves, for reading (open succeeds, fstat says) as for
 * writing (open fails with EISDIR): QED_ERR_FILETYPE either way. */
static void test_posix_open_errors(void)
{
    qed_io *io = NULL;

    CU_ASSERT_EQUAL(qed_io_posix_open("/nonexistent-qed-dir/f", 0, &io), QED_ERR_IO);
    CU_ASSERT_EQUAL(qed_io_posix_open("/nonexistent-qed-dir/f", 1, &io), QED_ERR_IO);
    CU_ASSERT_EQUAL(qed_io_posix_create("/nonexistent-qed-dir/f", &io), QED_ERR_IO);
    CU_ASSERT_EQUAL(qed_io_posix_open("/tmp", 1, &io), QED_ERR_FILETYPE);
    CU_ASSERT_EQUAL(qed_io_posix_open("/tmp", 0, &io), QED_ERR_FILETYPE);
    CU_ASSERT_EQUAL(qed_io_posix_create("/tmp", &io), QED_ERR_FILETYPE);
    CU_ASSERT_PTR_NULL(io);
}

/* /proc/self/mem is a regular file whose pread and pwrite at address 0
 * (never mapped) fail with EIO: QED_ERR_IO; its fdatasync is EINVAL, which
 * flush accepts; a zero-length read at any in-range offset succeeds
 * without touching the file. */
static void test_posix_read_errors(void)
{
    qed_io *io = NULL;
    uint8_t b[8] = { 0 };

    if (qed_io_posix_open("/proc/self/mem", 1, &io) != QED_OK) {
        CU_FAIL("/proc/self/mem cannot be opened read-write on this machine");
        return;
    }
    CU_ASSERT_EQUAL(io->read(io, 0, b, sizeof(b)), QED_ERR_IO);
    CU_ASSERT_EQUAL(io->write(io, 0, b, sizeof(b)), QED_ERR_IO);
    CU_ASSERT_EQUAL(io->read(io, 12345, b, 0), QED_OK);
    CU_ASSERT_EQUAL(io->flush(io), QED_OK);
    qed_io_close(io);
}

/* Offsets and lengths that do not fit in off_t are refused up front. */
static void test_posix_range(void)
{
    char path[32];
    qed_io *io = NULL;
    uint8_t b[4] = "abc";
    uint64_t len = 7;

    temp_file(path);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(path, &io), QED_OK);
    CU_ASSERT_EQUAL(io->write(io, (uint64_t)INT64_MAX, b, 1), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(io->write(io, (uint64_t)INT64_MAX + 1, b, 0), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(io->read(io, (uint64_t)INT64_MAX - 1, b, 2), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(io->read(io, UINT64_MAX, b, 1), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(io->truncate(io, (uint64_t)INT64_MAX + 1), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(io->truncate(io, UINT64_MAX), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 0);                       /* nothing was written */
    qed_io_close(io);
    unlink(path);
}

/* A read-only descriptor: writes and truncates fail with QED_ERR_IO and
 * leave the file as it was. */
static void test_posix_readonly(void)
{
    char path[32];
    qed_io *io = NULL;
    uint64_t len = 0;

    temp_file(path);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(path, 1, &io), QED_OK);
    CU_ASSERT_EQUAL(io->write(io, 0, "0123456789", 10), QED_OK);
    qed_io_close(io);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(path, 0, &io), QED_OK);
    CU_ASSERT_EQUAL(io->write(io, 0, "x", 1), QED_ERR_IO);
    CU_ASSERT_EQUAL(io->truncate(io, 2), QED_ERR_IO);
    CU_ASSERT_EQUAL(io->flush(io), QED_OK);
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 10);
    qed_io_close(io);
    unlink(path);
}

/* Character devices (/dev/full, /dev/null) are not served: a read of
 * /dev/null would see an empty file, a write to it vanish. */
static void test_posix_char_device(void)
{
    qed_io *io = NULL;

    CU_ASSERT_EQUAL(qed_io_posix_open("/dev/full", 1, &io), QED_ERR_FILETYPE);
    CU_ASSERT_EQUAL(qed_io_posix_open("/dev/null", 0, &io), QED_ERR_FILETYPE);
    CU_ASSERT_EQUAL(qed_io_posix_create("/dev/null", &io), QED_ERR_FILETYPE);
    CU_ASSERT_PTR_NULL(io);
}

/* A write past RLIMIT_FSIZE fails with EFBIG, which is QED_ERR_TOO_LARGE
 * (the process ignores SIGXFSZ meanwhile; both are restored). */
static void test_posix_efbig(void)
{
    char path[32];
    qed_io *io = NULL;
    struct rlimit old, small;
    struct sigaction ign, old_sa;

    temp_file(path);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(path, &io), QED_OK);
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    CU_ASSERT_EQUAL_FATAL(sigaction(SIGXFSZ, &ign, &old_sa), 0);
    small = old;
    small.rlim_cur = 4096;
    CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &small), 0);
    int wrote_far = io->write(io, 8192, "x", 1);
    int grew = io->truncate(io, 1 << 20);
    int wrote_near = io->write(io, 0, "y", 1);
    setrlimit(RLIMIT_FSIZE, &old);
    sigaction(SIGXFSZ, &old_sa, NULL);
    CU_ASSERT_EQUAL(wrote_far, QED_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(grew, QED_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(wrote_near, QED_OK);
    qed_io_close(io);
    unlink(path);
}

/* ------------------------------------------------------------------ */
/* Memory buffer                                                      */
/* ------------------------------------------------------------------ */

/* Bad arguments to qed_io_mem_new. */
static void test_mem_args(void)
{
    qed_io *io = NULL;

    CU_ASSERT_EQUAL(qed_io_mem_new("abcd", 4, 3, &io), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_io_mem_new(NULL, 1, 16, &io), QED_ERR_INVAL);
    CU_ASSERT_PTR_NULL(io);
    CU_ASSERT_EQUAL_FATAL(qed_io_mem_new("abcd", 4, 4, &io), QED_OK);
    qed_io_close(io);
    CU_ASSERT_EQUAL_FATAL(qed_io_mem_new(NULL, 0, 0, &io), QED_OK);
    CU_ASSERT_EQUAL(io->write(io, 0, "x", 1), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(io->write(io, 0, "x", 0), QED_OK);
    CU_ASSERT_EQUAL(io->truncate(io, 1), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(io->truncate(io, 0), QED_OK);
    qed_io_close(io);
}

/* Reads: zero length at the end is fine, anything past it is EOF; growth
 * is capped at max_len exactly, also when it is not a power of two. */
static void test_mem_edges(void)
{
    qed_io *io = NULL;
    uint8_t b[16];
    const uint8_t *data;
    size_t len;

    CU_ASSERT_EQUAL_FATAL(qed_io_mem_new("0123", 4, 5000, &io), QED_OK);
    CU_ASSERT_EQUAL(io->read(io, 4, b, 0), QED_OK);
    CU_ASSERT_EQUAL(io->read(io, 5, b, 0), QED_ERR_EOF);
    CU_ASSERT_EQUAL(io->read(io, 3, b, 2), QED_ERR_EOF);
    CU_ASSERT_EQUAL(io->write(io, 4999, "z", 1), QED_OK);
    CU_ASSERT_EQUAL(io->write(io, 5000, "z", 1), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(io->write(io, 5000, "z", 0), QED_OK);
    qed_io_mem_data(io, &data, &len);
    CU_ASSERT_EQUAL(len, 5000);
    CU_ASSERT_EQUAL(data[4999], 'z');
    CU_ASSERT_EQUAL(memcmp(data, "0123", 4), 0);
    CU_ASSERT(all_zero(data + 4, 4995));
    /* shrink then grow: the dropped bytes come back as zeroes */
    CU_ASSERT_EQUAL(io->truncate(io, 2), QED_OK);
    CU_ASSERT_EQUAL(io->truncate(io, 4), QED_OK);
    CU_ASSERT_EQUAL(io->read(io, 0, b, 4), QED_OK);
    CU_ASSERT_EQUAL(memcmp(b, "01\0\0", 4), 0);
    qed_io_close(io);
}

/* A buffer the allocator cannot provide is QED_ERR_NOMEM, and the io is
 * unchanged afterwards. */
static void test_mem_nomem(void)
{
    qed_io *io = NULL;
    uint64_t len = 0;

    CU_ASSERT_EQUAL_FATAL(qed_io_mem_new("ab", 2, SIZE_MAX, &io), QED_OK);
    CU_ASSERT_EQUAL(io->truncate(io, (uint64_t)1 << 62), QED_ERR_NOMEM);
    CU_ASSERT_EQUAL(io->write(io, (uint64_t)1 << 61, "x", 1), QED_ERR_NOMEM);
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 2);
    qed_io_close(io);
}

/* ------------------------------------------------------------------ */
/* Fault injector                                                     */
/* ------------------------------------------------------------------ */

/* Call kind k (0 read, 1 write, 2 flush, 3 length, 4 truncate) on io. */
static int call_kind(qed_io *io, int k)
{
    uint8_t b[4] = { 0 };
    uint64_t len;

    switch (k) {
    case 0: return io->read(io, 0, b, 1);
    case 1: return io->write(io, 0, "W", 1);
    case 2: return io->flush(io);
    case 3: return io->length(io, &len);
    default: return io->truncate(io, 1);
    }
}

/* Each call kind counts as a call and is the one that fails when its
 * number comes up; a failed write does not reach the inner file. */
static void test_fault_each_kind(void)
{
    for (int k = 0; k < 5; k++) {
        qed_io *inner = mem_io("a", 1), *io = NULL;
        CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(inner, 2, QED_ERR_IO, 0, &io), QED_OK);
        CU_ASSERT_EQUAL(call_kind(io, 3), QED_OK);
        CU_ASSERT_EQUAL(call_kind(io, k), QED_ERR_IO);
        CU_ASSERT_EQUAL(call_kind(io, k), QED_OK);       /* not sticky */
        CU_ASSERT_EQUAL(qed_io_fault_calls(io), 3);
        uint8_t b = 0;
        CU_ASSERT_EQUAL(inner->read(inner, 0, &b, 1), QED_OK);
        CU_ASSERT_EQUAL(b, k == 1 ? 'W' : 'a');        /* one write passed */
        qed_io_close(io);
    }
}

/* Sticky: every call kind fails after the failing one, and still counts;
 * calls before it pass through. */
static void test_fault_sticky(void)
{
    qed_io *io = NULL;

    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(NULL, 0), 2, QED_ERR_NOSPC, 1, &io), QED_OK);
    CU_ASSERT_EQUAL(call_kind(io, 1), QED_OK);
    for (int k = 0; k < 5; k++)
        CU_ASSERT_EQUAL(call_kind(io, k), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(qed_io_fault_calls(io), 6);
    qed_io_close(io);
}

/* Bad arguments: no inner file, a non-error status to inject. */
static void test_fault_args(void)
{
    qed_io *io = NULL, *inner = mem_io(NULL, 0);

    CU_ASSERT_EQUAL(qed_io_fault_new(NULL, 1, QED_ERR_IO, 0, &io), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_io_fault_new(inner, 1, QED_E_MAGIC, 0, &io), QED_ERR_INVAL);
    CU_ASSERT_PTR_NULL(io);
    qed_io_close(inner);
}

/* ------------------------------------------------------------------ */
/* Recorder                                                           */
/* ------------------------------------------------------------------ */

/* Entries in a recorder log, from its superblock. */
static uint64_t log_count(qed_io *log)
{
    uint8_t sb[32];

    CU_ASSERT_EQUAL(log->read(log, 0, sb, sizeof(sb)), QED_OK);
    return get_le64(sb + 16);
}

/* Sector sizes outside [512, 65536] or not a power of two (the trace
 * module's range), and missing files, are refused; the bounds themselves
 * are accepted. */
static void test_recorder_args(void)
{
    static const uint32_t bad[] = { 0, 32, 64, 256, 511, 1000, 131072, 65535 };
    qed_io *a = mem_io(NULL, 0), *b = mem_io(NULL, 0), *rec = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(qed_io_recorder_new(a, b, bad[i], &rec), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_io_recorder_new(NULL, b, 512, &rec), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_io_recorder_new(a, NULL, 512, &rec), QED_ERR_INVAL);
    CU_ASSERT_PTR_NULL(rec);
    CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(a, b, 512, &rec), QED_OK);
    qed_io_close(rec);
    a = mem_io(NULL, 0);
    b = mem_io(NULL, 0);
    CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(a, b, 65536, &rec), QED_OK);
    qed_io_close(rec);
}

/* MARK text fits in its entry's sector after the 32-byte header: 480
 * bytes with 512-byte sectors, 4064 with 4096-byte ones; one more is INVAL
 * and logs nothing. */
static void test_recorder_mark_limit(void)
{
    static const uint32_t sectors[] = { 512, 4096 };
    char text[4100];

    for (size_t i = 0; i < 2; i++) {
        qed_io *log = mem_io(NULL, 0), *rec = NULL;
        size_t room = sectors[i] - 32;
        CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(mem_io(NULL, 0), io_borrow(log),
                                                  sectors[i], &rec), QED_OK);
        memset(text, 'm', room + 1);
        text[room + 1] = '\0';
        CU_ASSERT_EQUAL(qed_io_recorder_mark(rec, text), QED_ERR_INVAL);
        text[room] = '\0';
        CU_ASSERT_EQUAL(qed_io_recorder_mark(rec, text), QED_OK);
        CU_ASSERT_EQUAL(qed_io_recorder_mark(rec, ""), QED_OK);
        CU_ASSERT_EQUAL(rec->flush(rec), QED_OK);
        CU_ASSERT_EQUAL(log_count(log), 3);             /* 2 marks + flush */
        uint64_t len = 0;
        CU_ASSERT_EQUAL(log->length(log, &len), QED_OK);
        CU_ASSERT_EQUAL(len, 4 * sectors[i]);           /* one sector each */
        qed_io_close(rec);
        qed_io_close(log);
    }
}

/* read and length pass straight through and are not logged, truncate is
 * logged as a MARK; a zero-length write is passed through and not logged. */
static void test_recorder_passthrough(void)
{
    qed_io *inner = mem_io("hello", 5), *log = mem_io(NULL, 0), *rec = NULL;
    uint8_t b[5];
    uint64_t len = 0;

    CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(io_borrow(inner), io_borrow(log),
                                              512, &rec), QED_OK);
    CU_ASSERT_EQUAL(rec->read(rec, 0, b, 5), QED_OK);
    CU_ASSERT_EQUAL(memcmp(b, "hello", 5), 0);
    CU_ASSERT_EQUAL(rec->read(rec, 3, b, 5), QED_ERR_EOF);
    CU_ASSERT_EQUAL(rec->truncate(rec, 2), QED_OK);
    CU_ASSERT_EQUAL(rec->length(rec, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 2);
    CU_ASSERT_EQUAL(rec->write(rec, 1, "x", 0), QED_OK);
    CU_ASSERT_EQUAL(rec->flush(rec), QED_OK);
    CU_ASSERT_EQUAL(log_count(log), 2);                 /* truncate:2 + flush */
    CU_ASSERT_EQUAL(inner->length(inner, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 2);
    qed_io_close(rec);
    qed_io_close(inner);
    qed_io_close(log);
}

/* Failures of the inner file: a failed write or flush is reported and not
 * logged; a failed length during the read-back fails the write. */
static void test_recorder_inner_fails(void)
{
    qed_io *log = mem_io(NULL, 0), *rec = NULL, *inner = NULL;

    /* inner calls: 1 write ok, 2 length (read-back) fails, 3 read ok... */
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(NULL, 0), 2, QED_ERR_IO, 0, &inner), QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(inner, io_borrow(log), 512, &rec), QED_OK);
    CU_ASSERT_EQUAL(rec->write(rec, 0, "abc", 3), QED_ERR_IO);
    CU_ASSERT_EQUAL(qed_io_fault_calls(inner), 2);
    qed_io_close(rec);
    CU_ASSERT_EQUAL(log_count(log), 0);
    qed_io_close(log);

    log = mem_io(NULL, 0);
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(NULL, 0), 1, QED_ERR_NOSPC, 1, &inner), QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(inner, io_borrow(log), 512, &rec), QED_OK);
    CU_ASSERT_EQUAL(rec->write(rec, 0, "abc", 3), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(rec->flush(rec), QED_ERR_NOSPC);
    qed_io_close(rec);
    CU_ASSERT_EQUAL(log_count(log), 0);
    uint64_t len = 0;
    CU_ASSERT_EQUAL(log->length(log, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 512);                          /* superblock only */
    qed_io_close(log);
}

/* Failures of the log: the superblock write at creation is QED_ERR_IO
 * (inner and log stay the caller's); later, a full log fails the write,
 * the data padding, the flush entry and the superblock update. */
static void test_recorder_log_fails(void)
{
    qed_io *inner = mem_io(NULL, 0), *log = NULL, *rec = NULL;
    uint8_t data[100];

    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(NULL, 0), 1, QED_ERR_IO, 0, &log), QED_OK);
    CU_ASSERT_EQUAL(qed_io_recorder_new(inner, log, 512, &rec), QED_ERR_IO);
    CU_ASSERT_PTR_NULL(rec);
    qed_io_close(inner);
    qed_io_close(log);

    memset(data, 0x5a, sizeof(data));
    /* log calls: 1 superblock, 2 entry header, 3 data (whole sectors) */
    for (uint64_t at = 2; at <= 3; at++) {
        CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(NULL, 0), at, QED_ERR_NOSPC, 0, &log), QED_OK);
        CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(mem_io(NULL, 0), log, 512, &rec), QED_OK);
        CU_ASSERT_EQUAL(rec->write(rec, 600, data, sizeof(data)), QED_ERR_NOSPC);
        CU_ASSERT_EQUAL(qed_io_fault_calls(log), at);
        qed_io_close(rec);
    }
    /* log calls: 1 superblock, 2 flush entry, 3 superblock update */
    for (uint64_t at = 2; at <= 3; at++) {
        CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(NULL, 0), at, QED_ERR_IO, 0, &log), QED_OK);
        CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(mem_io(NULL, 0), log, 512, &rec), QED_OK);
        CU_ASSERT_EQUAL(rec->flush(rec), QED_ERR_IO);
        CU_ASSERT_EQUAL(qed_io_fault_calls(log), at);
        qed_io_close(rec);
    }
}

/* A write of exactly whole sectors needs no padding: 1 header + 2 data
 * sectors after the superblock. */
static void test_recorder_aligned(void)
{
    qed_io *log = mem_io(NULL, 0), *rec = NULL;
    uint8_t data[1024];
    uint64_t len = 0;

    memset(data, 0x11, sizeof(data));
    CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(mem_io(NULL, 0), io_borrow(log), 512, &rec), QED_OK);
    CU_ASSERT_EQUAL(rec->write(rec, 512, data, sizeof(data)), QED_OK);
    CU_ASSERT_EQUAL(log->length(log, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 4 * 512);
    qed_io_close(rec);
    CU_ASSERT_EQUAL(log_count(log), 1);
    qed_io_close(log);
}

int suite_cover_io(void)
{
    static const test_case cases[] = {
        { "posix open/create failures", test_posix_open_errors },
        { "posix EIO on /proc/self/mem", test_posix_read_errors },
        { "posix offsets beyond off_t", test_posix_range },
        { "posix read-only descriptor", test_posix_readonly },
        { "posix character devices refused", test_posix_char_device },
        { "posix EFBIG past RLIMIT_FSIZE", test_posix_efbig },
        { "mem argument checks", test_mem_args },
        { "mem EOF and max_len edges", test_mem_edges },
        { "mem allocation failure", test_mem_nomem },
        { "fault: every call kind counts and fails", test_fault_each_kind },
        { "fault: sticky failures", test_fault_sticky },
        { "fault: argument checks", test_fault_args },
        { "recorder argument checks", test_recorder_args },
        { "recorder MARK length limit", test_recorder_mark_limit },
        { "recorder pass-through calls", test_recorder_passthrough },
        { "recorder inner failures", test_recorder_inner_fails },
        { "recorder log failures", test_recorder_log_fails },
        { "recorder sector-aligned write", test_recorder_aligned },
    };
    return ADD_SUITE("cover_io", cases);
}
