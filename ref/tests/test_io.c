/*
 * test_io.c - the four struct qed_io implementations: POSIX file, memory
 * buffer, fault injector and dm-log-writes recorder (its log is parsed
 * back with the trace module's qed_trace_parse).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

/* The common contract, on any empty writable io: writes extend (gaps read
 * zero), reads past the end fail with QED_ERR_EOF, truncate sets length. */
static void exercise_io(qed_io *io)
{
    uint64_t len = 99;
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(io->write(io, 1000, "abcdef", 6), QED_OK);
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 1006);
    uint8_t buf[1006];
    CU_ASSERT_EQUAL(io->read(io, 0, buf, sizeof(buf)), QED_OK);
    CU_ASSERT(all_zero(buf, 1000));
    CU_ASSERT_EQUAL(memcmp(buf + 1000, "abcdef", 6), 0);
    CU_ASSERT_EQUAL(io->read(io, 1000, buf, 7), QED_ERR_EOF);
    CU_ASSERT_EQUAL(io->read(io, 5000, buf, 1), QED_ERR_EOF);
    int rc = io->read(io, UINT64_MAX - 2, buf, 8);
    CU_ASSERT(rc == QED_ERR_EOF || rc == QED_ERR_INVAL);
    CU_ASSERT_EQUAL(io->flush(io), QED_OK);
    CU_ASSERT_EQUAL(io->truncate(io, 1003), QED_OK);
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 1003);
    CU_ASSERT_EQUAL(io->read(io, 1000, buf, 4), QED_ERR_EOF);
    CU_ASSERT_EQUAL(io->truncate(io, 2000), QED_OK);      /* grows with zeroes */
    CU_ASSERT_EQUAL(io->read(io, 1000, buf, 1000), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, "abc", 3), 0);
    CU_ASSERT(all_zero(buf + 3, 997));
}

static void test_posix(void)
{
    char path[] = "/tmp/qed-unit-io-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    qed_io *io = NULL;
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(path, &io), QED_OK);
    exercise_io(io);
    qed_io_close(io);
    /* read-only: reads work, writes fail with an environment error */
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(path, 0, &io), QED_OK);
    /* the descriptor under it is the file's */
    struct stat st_fd, st_path;
    CU_ASSERT_FATAL(qed_io_posix_fd(io) >= 0);
    CU_ASSERT_EQUAL_FATAL(fstat(qed_io_posix_fd(io), &st_fd), 0);
    CU_ASSERT_EQUAL_FATAL(stat(path, &st_path), 0);
    CU_ASSERT_EQUAL(st_fd.st_ino, st_path.st_ino);
    uint8_t b[3];
    CU_ASSERT_EQUAL(io->read(io, 1000, b, 3), QED_OK);
    CU_ASSERT_EQUAL(memcmp(b, "abc", 3), 0);
    CU_ASSERT(io->write(io, 0, b, 1) < 0);
    qed_io_close(io);
    unlink(path);
    CU_ASSERT(qed_io_posix_open(path, 0, &io) < 0);
    CU_ASSERT(qed_io_posix_open("/nonexistent-dir/x", 1, &io) < 0);
    qed_io_close(NULL);
}

static void test_mem(void)
{
    qed_io *io = NULL;
    CU_ASSERT_EQUAL_FATAL(qed_io_mem_new(NULL, 0, 1 << 20, &io), QED_OK);
    exercise_io(io);
    CU_ASSERT_EQUAL(qed_io_posix_fd(io), -1);     /* not a POSIX file */
    CU_ASSERT_EQUAL(qed_io_posix_fd(NULL), -1);
    qed_io_close(io);
    /* the initial contents are copied, max_len is enforced */
    uint8_t src[16] = "0123456789abcde";
    CU_ASSERT_EQUAL_FATAL(qed_io_mem_new(src, sizeof(src), 32, &io), QED_OK);
    src[0] = 'X';
    const uint8_t *data;
    size_t len;
    qed_io_mem_data(io, &data, &len);
    CU_ASSERT_EQUAL(len, 16);
    CU_ASSERT_EQUAL(data[0], '0');
    CU_ASSERT_EQUAL(io->write(io, 16, src, 16), QED_OK);
    CU_ASSERT_EQUAL(io->write(io, 32, src, 1), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(io->write(io, 20, src, 13), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(io->write(io, UINT64_MAX - 4, src, 8), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(io->truncate(io, 33), QED_ERR_NOSPC);
    qed_io_mem_data(io, &data, &len);
    CU_ASSERT_EQUAL(len, 32);
    qed_io_close(io);
}

/* fail_at 0 counts; fail_at k fails exactly call k (or k and after). */
static void test_fault(void)
{
    qed_io *io = NULL;
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(NULL, 0), 0, QED_ERR_IO, 0, &io), QED_OK);
    uint64_t len;
    uint8_t b[4] = "abc";
    CU_ASSERT_EQUAL(io->write(io, 0, b, 4), QED_OK);
    CU_ASSERT_EQUAL(io->read(io, 0, b, 4), QED_OK);
    CU_ASSERT_EQUAL(io->flush(io), QED_OK);
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(io->truncate(io, 2), QED_OK);
    CU_ASSERT_EQUAL(qed_io_fault_calls(io), 5);
    qed_io_close(io);

    for (int sticky = 0; sticky <= 1; sticky++) {
        CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(NULL, 0), 3, QED_ERR_NOSPC, sticky, &io), QED_OK);
        CU_ASSERT_EQUAL(io->write(io, 0, b, 4), QED_OK);
        CU_ASSERT_EQUAL(io->read(io, 0, b, 4), QED_OK);
        CU_ASSERT_EQUAL(io->flush(io), QED_ERR_NOSPC);
        CU_ASSERT_EQUAL(io->length(io, &len), sticky ? QED_ERR_NOSPC : QED_OK);
        CU_ASSERT_EQUAL(io->read(io, 0, b, 4), sticky ? QED_ERR_NOSPC : QED_OK);
        CU_ASSERT_EQUAL(qed_io_fault_calls(io), 5);
        qed_io_close(io);
    }
    qed_io *inner = mem_io(NULL, 0);
    CU_ASSERT_EQUAL(qed_io_fault_new(inner, 1, QED_OK, 0, &io), QED_ERR_INVAL);
    qed_io_close(inner);           /* still the caller's on failure */
}

/* A recorder over a mem io, logging into another mem io. */
static qed_io *recorder(qed_io **log, uint32_t sector)
{
    qed_io *rec = NULL;
    *log = mem_io(NULL, 0);
    CU_ASSERT_EQUAL(qed_io_recorder_new(mem_io(NULL, 0), *log, sector, &rec), QED_OK);
    return rec;
}

/* Parse the recorder's log as it stands. */
static int parse_log(qed_io *log, qed_trace *l)
{
    const uint8_t *data;
    size_t len;
    qed_io_mem_data(log, &data, &len);
    return qed_trace_parse(data, len, l, NULL, 0);
}

/* Writes are widened to whole sectors with the data read back; flushes are
 * logged; the superblock count follows each flush. */
static void test_recorder_entries(void)
{
    qed_io *log, *rec = recorder(&log, 512);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    uint8_t buf[1024];
    memset(buf, 0x41, 100);
    CU_ASSERT_EQUAL(rec->write(rec, 700, buf, 100), QED_OK);     /* sector 1 */
    memset(buf, 0x42, 100);
    CU_ASSERT_EQUAL(rec->write(rec, 1000, buf, 100), QED_OK);    /* sectors 1-2 */
    CU_ASSERT_EQUAL(rec->flush(rec), QED_OK);
    qed_trace l;
    CU_ASSERT_EQUAL_FATAL(parse_log(log, &l), QED_OK);
    CU_ASSERT_EQUAL(l.sector_size, 512);
    CU_ASSERT_EQUAL_FATAL(l.count, 3);
    CU_ASSERT_EQUAL(l.entries[0].sector, 1);
    CU_ASSERT_EQUAL(l.entries[0].nr_sectors, 1);
    CU_ASSERT_EQUAL(l.entries[0].flags, 0);
    CU_ASSERT(all_zero(l.entries[0].data, 188));
    CU_ASSERT_EQUAL(l.entries[0].data[188], 0x41);
    CU_ASSERT_EQUAL(l.entries[0].data[287], 0x41);
    CU_ASSERT(all_zero(l.entries[0].data + 288, 224));
    CU_ASSERT_EQUAL(l.entries[1].sector, 1);
    CU_ASSERT_EQUAL(l.entries[1].nr_sectors, 2);
    CU_ASSERT_EQUAL(l.entries[1].data[188], 0x41);                   /* read back */
    CU_ASSERT_EQUAL(l.entries[1].data[488], 0x42);
    CU_ASSERT_EQUAL(l.entries[1].data[587], 0x42);
    CU_ASSERT_EQUAL(l.entries[2].flags, QED_TRACE_FLUSH);
    CU_ASSERT_EQUAL(l.entries[2].nr_sectors, 0);
    qed_trace_free(&l);
    qed_io_close(rec);
}

/* MARK entries: the Linux target (and replay-log) keep the text inline in
 * the entry's own sector, so the next entry follows immediately. */
static void test_recorder_mark(void)
{
    qed_io *log, *rec = recorder(&log, 512);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    CU_ASSERT_EQUAL(rec->write(rec, 0, "x", 1), QED_OK);
    CU_ASSERT_EQUAL(qed_io_recorder_mark(rec, "flushed-1"), QED_OK);
    CU_ASSERT_EQUAL(rec->flush(rec), QED_OK);
    qed_trace l;
    int rc = parse_log(log, &l);
    CU_ASSERT_EQUAL(rc, QED_OK);
    CU_ASSERT_EQUAL(l.count, 3);
    if (rc == QED_OK && l.count == 3) {
        CU_ASSERT_EQUAL(l.entries[1].flags, QED_TRACE_MARK);
        CU_ASSERT_EQUAL(l.entries[1].data_len, 9);
        CU_ASSERT_EQUAL(memcmp(l.entries[1].data, "flushed-1", 9), 0);
        CU_ASSERT_EQUAL(l.entries[2].flags, QED_TRACE_FLUSH);
    }
    qed_trace_free(&l);
    qed_io_close(rec);
}

/* A 4096-byte log sector size widens writes to 4 KiB. */
static void test_recorder_sector_size(void)
{
    qed_io *log, *rec = recorder(&log, 4096);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    CU_ASSERT_EQUAL(rec->write(rec, 5000, "yz", 2), QED_OK);
    CU_ASSERT_EQUAL(rec->flush(rec), QED_OK);
    qed_trace l;
    CU_ASSERT_EQUAL_FATAL(parse_log(log, &l), QED_OK);
    CU_ASSERT_EQUAL(l.sector_size, 4096);
    CU_ASSERT_EQUAL_FATAL(l.count, 2);
    CU_ASSERT_EQUAL(l.entries[0].sector, 1);
    CU_ASSERT_EQUAL(l.entries[0].nr_sectors, 1);
    CU_ASSERT_EQUAL(l.entries[0].data[904], 'y');
    qed_trace_free(&l);
    qed_io_close(rec);
    qed_io *dummy = NULL, *a = mem_io(NULL, 0), *b = mem_io(NULL, 0);
    CU_ASSERT_EQUAL(qed_io_recorder_new(a, b, 1000, &dummy), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_io_recorder_new(a, b, 32, &dummy), QED_ERR_INVAL);
    qed_io_close(a);
    qed_io_close(b);
}

/* A truncate is logged after it succeeded, as the MARK "truncate:LEN";
 * a write after it is read back from the new length (zeroes beyond). */
static void test_recorder_truncate(void)
{
    qed_io *log, *rec = recorder(&log, 512);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    uint8_t buf[600];
    memset(buf, 0x77, sizeof(buf));
    CU_ASSERT_EQUAL(rec->write(rec, 0, buf, sizeof(buf)), QED_OK);
    CU_ASSERT_EQUAL(rec->truncate(rec, 100), QED_OK);
    CU_ASSERT_EQUAL(rec->truncate(rec, 70000), QED_OK);
    CU_ASSERT_EQUAL(rec->write(rec, 50, "k", 1), QED_OK);
    CU_ASSERT_EQUAL(rec->truncate(rec, UINT64_MAX), QED_ERR_NOSPC);  /* not logged */
    qed_trace l;
    CU_ASSERT_EQUAL_FATAL(parse_log(log, &l), QED_OK);
    CU_ASSERT_EQUAL(l.count, 0);        /* no flush yet: superblock not updated */
    qed_trace_free(&l);
    CU_ASSERT_EQUAL(rec->flush(rec), QED_OK);
    CU_ASSERT_EQUAL_FATAL(parse_log(log, &l), QED_OK);
    CU_ASSERT_EQUAL_FATAL(l.count, 5);
    CU_ASSERT_EQUAL(l.entries[0].nr_sectors, 2);
    CU_ASSERT(qed_trace_mark_is(&l.entries[1], "truncate:100"));
    CU_ASSERT(qed_trace_mark_is(&l.entries[2], "truncate:70000"));
    CU_ASSERT_EQUAL(l.entries[3].sector, 0);
    CU_ASSERT_EQUAL(l.entries[3].data[49], 0x77);
    CU_ASSERT_EQUAL(l.entries[3].data[50], 'k');
    CU_ASSERT(all_zero(l.entries[3].data + 100, 412));
    CU_ASSERT_EQUAL(l.entries[4].flags, QED_TRACE_FLUSH);
    qed_trace_free(&l);
    qed_io_close(rec);
}

int suite_io(void)
{
    static const test_case cases[] = {
        { "posix", test_posix },
        { "mem", test_mem },
        { "fault injector", test_fault },
        { "recorder entries", test_recorder_entries },
        { "recorder MARK layout", test_recorder_mark },
        { "recorder 4K sectors", test_recorder_sector_size },
        { "recorder truncate MARK", test_recorder_truncate },
    };
    return ADD_SUITE("io", cases);
}
