/*
 * test_trace.c - the trace module (ref/trace.c, ref/qed_trace.h): the
 * writer's bytes checked against the dm-log-writes layout field by field,
 * round trips at sector sizes 512 and 4096, and one test per parse error,
 * each asserting that the message names the entry (or the superblock) and
 * the field.  Malformed logs are made by corrupting one field of a log the
 * writer produced, at its documented offset.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "qed_trace.h"

/* A log made by the writer, and what parsing it gave. */
typedef struct logbuf {
    uint8_t *buf;
    size_t len;
    uint32_t ss;
} logbuf;

/* Write the sample trace at sector size ss: a write, a FUA write, a FLUSH,
 * a DISCARD, a METADATA write and a MARK; the data of write i is
 * fill_pattern(seed i).  Returns the log bytes. */
static logbuf sample_log(uint32_t ss)
{
    qed_io *log = mem_io(NULL, 0);
    qed_trace_writer *w = NULL;
    uint8_t *data = malloc((size_t)3 * ss);
    logbuf lb = { .ss = ss };

    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    CU_ASSERT_EQUAL_FATAL(qed_trace_writer_new(log, ss, &w), QED_OK);
    fill_pattern(data, (size_t)3 * ss, 1);
    CU_ASSERT_EQUAL(qed_trace_write(w, 7, 3, 0, data), QED_OK);
    fill_pattern(data, ss, 2);
    CU_ASSERT_EQUAL(qed_trace_write(w, 0, 1, QED_TRACE_FUA, data), QED_OK);
    CU_ASSERT_EQUAL(qed_trace_flush(w), QED_OK);
    CU_ASSERT_EQUAL(qed_trace_discard(w, 100, 8), QED_OK);
    fill_pattern(data, ss, 3);
    CU_ASSERT_EQUAL(qed_trace_write(w, 2, 1, QED_TRACE_METADATA, data), QED_OK);
    CU_ASSERT_EQUAL(qed_trace_mark(w, "op:0"), QED_OK);
    CU_ASSERT_EQUAL(qed_trace_writer_entries(w), 6);
    CU_ASSERT_EQUAL(qed_trace_writer_sector_size(w), ss);
    CU_ASSERT_EQUAL(qed_trace_writer_finish(w), QED_OK);
    qed_trace_writer_free(w);
    lb.buf = io_bytes(log, &lb.len);
    qed_io_close(log);
    free(data);
    return lb;
}

/* Byte offsets of the sample log's entry headers (in units of ss):
 * super 0, write 1 (+3 data), FUA 5 (+1), FLUSH 7, DISCARD 8,
 * METADATA 9 (+1), MARK 11; 12 sectors in all. */
static const unsigned sample_hdr[6] = { 1, 5, 7, 8, 9, 11 };

/* Parse lb, expecting failure; returns the message (static buffer). */
static const char *parse_fails(const logbuf *lb)
{
    static char err[256];
    qed_trace t;

    memset(err, 0, sizeof(err));
    CU_ASSERT_EQUAL(qed_trace_parse(lb->buf, lb->len, &t, err, sizeof(err)),
                    QED_ERR_INVAL);
    CU_ASSERT_PTR_NULL(t.entries);
    CU_ASSERT_EQUAL(t.count, 0);
    CU_ASSERT(strlen(err) > 0 && strchr(err, '\n') == NULL);
    return err;
}

/* Assert that msg contains both needles. */
#define ASSERT_NAMES(msg, a, b) do {                 \
        const char *m_ = (msg);                      \
        CU_ASSERT_PTR_NOT_NULL(strstr(m_, (a)));     \
        CU_ASSERT_PTR_NOT_NULL(strstr(m_, (b)));     \
    } while (0)

/* The field at byte off of entry i's header (i indexes sample_hdr). */
static uint8_t *field(logbuf *lb, unsigned i, unsigned off)
{
    return lb->buf + (size_t)sample_hdr[i] * lb->ss + off;
}

/* The writer's bytes, field by field, against the layout in qed_trace.h. */
static void check_layout(const logbuf *lb)
{
    const uint32_t ss = lb->ss;
    const uint8_t *b = lb->buf;

    CU_ASSERT_EQUAL_FATAL(lb->len, (size_t)12 * ss);
    CU_ASSERT_EQUAL(get_le64(b), 0x6a736677736872ull);
    CU_ASSERT_EQUAL(get_le64(b + 8), 1);
    CU_ASSERT_EQUAL(get_le64(b + 16), 6);
    CU_ASSERT_EQUAL(get_le32(b + 24), ss);
    CU_ASSERT(all_zero(b + 28, ss - 28));
    /* entry 0: {7, 3, 0, data_len 0} as Linux and QEMU write it */
    CU_ASSERT_EQUAL(get_le64(b + ss), 7);
    CU_ASSERT_EQUAL(get_le64(b + ss + 8), 3);
    CU_ASSERT_EQUAL(get_le64(b + ss + 16), 0);
    CU_ASSERT_EQUAL(get_le64(b + ss + 24), 0);
    CU_ASSERT(all_zero(b + ss + 32, ss - 32));
    /* the FLUSH: {0, 0, 1, 0} */
    CU_ASSERT_EQUAL(get_le64(b + 7 * ss + 16), QED_TRACE_FLUSH);
    CU_ASSERT_EQUAL(get_le64(b + 7 * ss + 8), 0);
    /* the MARK: text right after the 32-byte header, rest of sector zero */
    CU_ASSERT_EQUAL(get_le64(b + 11 * ss + 16), QED_TRACE_MARK);
    CU_ASSERT_EQUAL(get_le64(b + 11 * ss + 24), 4);
    CU_ASSERT(memcmp(b + 11 * ss + 32, "op:0", 4) == 0);
    CU_ASSERT(all_zero(b + 11 * ss + 36, ss - 36));
}

/* Parse the sample log and check every entry. */
static void check_round_trip(const logbuf *lb)
{
    const uint32_t ss = lb->ss;
    uint8_t *want = malloc((size_t)3 * ss);
    char err[256] = "";
    qed_trace t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    CU_ASSERT_EQUAL_FATAL(qed_trace_parse(lb->buf, lb->len, &t, err, sizeof(err)), QED_OK);
    CU_ASSERT_EQUAL(t.sector_size, ss);
    CU_ASSERT_EQUAL_FATAL(t.count, 6);
    CU_ASSERT_EQUAL(t.log_end, lb->len);
    for (unsigned i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(t.entries[i].index, i);
        CU_ASSERT_EQUAL(t.entries[i].log_offset, (uint64_t)sample_hdr[i] * ss);
    }
    const qed_trace_entry *e = t.entries;
    fill_pattern(want, (size_t)3 * ss, 1);
    CU_ASSERT(e[0].sector == 7 && e[0].nr_sectors == 3 && e[0].flags == 0);
    CU_ASSERT(e[0].data && memcmp(e[0].data, want, (size_t)3 * ss) == 0);
    fill_pattern(want, ss, 2);
    CU_ASSERT(e[1].sector == 0 && e[1].nr_sectors == 1 && e[1].flags == QED_TRACE_FUA);
    CU_ASSERT(e[1].data && memcmp(e[1].data, want, ss) == 0);
    CU_ASSERT(e[2].flags == QED_TRACE_FLUSH && e[2].nr_sectors == 0 && !e[2].data);
    CU_ASSERT(e[3].flags == QED_TRACE_DISCARD && e[3].sector == 100 &&
              e[3].nr_sectors == 8 && !e[3].data);
    fill_pattern(want, ss, 3);
    CU_ASSERT(e[4].flags == QED_TRACE_METADATA && e[4].data &&
              memcmp(e[4].data, want, ss) == 0);
    CU_ASSERT(qed_trace_mark_is(&e[5], "op:0"));
    CU_ASSERT(!qed_trace_mark_is(&e[5], "op:"));
    CU_ASSERT(!qed_trace_mark_is(&e[0], "op:0"));
    const char *rest;
    size_t rest_len;
    CU_ASSERT(qed_trace_mark_prefix(&e[5], "op:", &rest, &rest_len));
    CU_ASSERT(rest_len == 1 && rest[0] == '0');
    CU_ASSERT(!qed_trace_mark_prefix(&e[5], "flush:", &rest, &rest_len));
    qed_trace_free(&t);
    qed_trace_free(&t);                 /* idempotent */
    free(want);
}

static void test_round_trip_512(void)
{
    logbuf lb = sample_log(512);
    check_layout(&lb);
    check_round_trip(&lb);
    free(lb.buf);
}

static void test_round_trip_4096(void)
{
    logbuf lb = sample_log(4096);
    check_layout(&lb);
    check_round_trip(&lb);
    free(lb.buf);
}

/* The superblock counts entries after each FLUSH, before finish. */
static void test_super_on_flush(void)
{
    qed_io *log = mem_io(NULL, 0);
    qed_trace_writer *w = NULL;
    uint8_t sec[512] = { 1 };
    qed_trace t;

    CU_ASSERT_EQUAL_FATAL(qed_trace_writer_new(log, 512, &w), QED_OK);
    CU_ASSERT_EQUAL(qed_trace_write(w, 0, 1, 0, sec), QED_OK);
    CU_ASSERT_EQUAL(qed_trace_flush(w), QED_OK);
    CU_ASSERT_EQUAL(qed_trace_write(w, 1, 1, 0, sec), QED_OK);
    size_t len;
    uint8_t *b = io_bytes(log, &len);
    CU_ASSERT_EQUAL(get_le64(b + 16), 2);
    /* the uncounted third entry is not part of the trace */
    CU_ASSERT_EQUAL_FATAL(qed_trace_parse(b, len, &t, NULL, 0), QED_OK);
    CU_ASSERT_EQUAL(t.count, 2);
    CU_ASSERT_EQUAL(t.log_end, 4 * 512);
    CU_ASSERT(t.log_end < len);
    qed_trace_free(&t);
    free(b);
    qed_trace_writer_free(w);
    qed_io_close(log);
}

/* Arguments the writer refuses. */
static void test_writer_refuses(void)
{
    qed_io *log = mem_io(NULL, 0);
    qed_trace_writer *w = NULL;
    char text[600];
    uint8_t sec[512] = { 0 };

    CU_ASSERT_EQUAL(qed_trace_writer_new(log, 1000, &w), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_writer_new(log, 256, &w), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_writer_new(log, 131072, &w), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_writer_new(NULL, 512, &w), QED_ERR_INVAL);
    CU_ASSERT_EQUAL_FATAL(qed_trace_writer_new(log, 512, &w), QED_OK);
    memset(text, 'x', sizeof(text));
    text[480] = '\0';                   /* 512 - 32 bytes: fits exactly */
    CU_ASSERT_EQUAL(qed_trace_mark(w, text), QED_OK);
    text[480] = 'x';
    text[481] = '\0';
    CU_ASSERT_EQUAL(qed_trace_mark(w, text), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_write(w, 0, 1, QED_TRACE_FLUSH, sec), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_write(w, 0, 1, QED_TRACE_MARK, sec), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_write(w, 0, 0, 0, sec), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_write(w, 0, 1, 0, NULL), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_write(w, UINT64_MAX / 512, 1, 0, sec), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_discard(w, UINT64_MAX - 1, 2), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_discard(w, 0, 0), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_trace_writer_entries(w), 1);
    qed_trace_writer_free(w);
    qed_trace_writer_free(NULL);
    qed_io_close(log);
}

/* A failed log write stops the writer: no later entry, no hole. */
static void test_writer_sticky_failure(void)
{
    qed_io *inner = mem_io(NULL, 0), *log = NULL;
    qed_trace_writer *w = NULL;
    uint8_t sec[512] = { 0 };

    /* calls: 1 superblock, 2 header, 3 data (fails) */
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(inner, 3, QED_ERR_IO, 0, &log), QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_trace_writer_new(log, 512, &w), QED_OK);
    CU_ASSERT_EQUAL(qed_trace_write(w, 0, 1, 0, sec), QED_ERR_IO);
    CU_ASSERT_EQUAL(qed_trace_mark(w, "after"), QED_ERR_IO);
    CU_ASSERT_EQUAL(qed_trace_flush(w), QED_ERR_IO);
    CU_ASSERT_EQUAL(qed_trace_writer_entries(w), 0);
    CU_ASSERT_EQUAL(qed_trace_writer_finish(w), QED_OK);
    qed_trace_writer_free(w);
    qed_io_close(log);
}

/* ---- one test per parse error ------------------------------------- */

static void test_err_short(void)
{
    logbuf lb = sample_log(512);
    lb.len = 20;
    ASSERT_NAMES(parse_fails(&lb), "superblock", "28-byte");
    lb.len = 300;                       /* superblock fields, not its sector */
    ASSERT_NAMES(parse_fails(&lb), "superblock", "512-byte superblock sector");
    free(lb.buf);
}

static void test_err_magic(void)
{
    logbuf lb = sample_log(512);
    lb.buf[0] ^= 1;
    ASSERT_NAMES(parse_fails(&lb), "superblock", "magic");
    free(lb.buf);
}

static void test_err_version(void)
{
    logbuf lb = sample_log(512);
    put_le64(lb.buf + 8, 2);
    ASSERT_NAMES(parse_fails(&lb), "superblock", "version 2");
    free(lb.buf);
}

static void test_err_sector_size(void)
{
    static const uint32_t bad[] = { 0, 256, 1000, 131072, 4097 };
    logbuf lb = sample_log(512);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put_le32(lb.buf + 24, bad[i]);
        ASSERT_NAMES(parse_fails(&lb), "superblock", "sector_size");
    }
    free(lb.buf);
}

/* nr_entries claims more entries than the log holds. */
static void test_err_count_past_end(void)
{
    logbuf lb = sample_log(512);
    put_le64(lb.buf + 16, 7);
    ASSERT_NAMES(parse_fails(&lb), "entry 6:", "nr_entries is 7");
    put_le64(lb.buf + 16, UINT64_MAX);  /* memory follows the log, not the claim */
    ASSERT_NAMES(parse_fails(&lb), "entry 6:", "nr_entries");
    free(lb.buf);
}

static void test_err_flags(void)
{
    logbuf lb = sample_log(4096);
    put_le64(field(&lb, 3, 16), QED_TRACE_DISCARD | 0x40);
    ASSERT_NAMES(parse_fails(&lb), "entry 3:", "flags 0x44 has unknown bits 0x40");
    free(lb.buf);
}

/* A MARK combined with an I/O flag, or carrying sectors. */
static void test_err_mark_fields(void)
{
    logbuf lb = sample_log(512);
    put_le64(field(&lb, 5, 16), QED_TRACE_MARK | QED_TRACE_FLUSH);
    ASSERT_NAMES(parse_fails(&lb), "entry 5:", "flags 0x9");
    put_le64(field(&lb, 5, 16), QED_TRACE_MARK);
    put_le64(field(&lb, 5, 8), 1);
    ASSERT_NAMES(parse_fails(&lb), "entry 5:", "nr_sectors 1 on a MARK");
    free(lb.buf);
}

/* A write's data_len larger than its data. */
static void test_err_data_len(void)
{
    logbuf lb = sample_log(512);
    put_le64(field(&lb, 0, 24), 3 * 512);       /* the whole data: accepted */
    qed_trace t;
    CU_ASSERT_EQUAL(qed_trace_parse(lb.buf, lb.len, &t, NULL, 0), QED_OK);
    qed_trace_free(&t);
    put_le64(field(&lb, 0, 24), 3 * 512 + 1);
    ASSERT_NAMES(parse_fails(&lb), "entry 0:", "data_len 1537 does not fit");
    put_le64(field(&lb, 0, 24), 0);
    put_le64(field(&lb, 3, 24), 1);             /* on the DISCARD */
    ASSERT_NAMES(parse_fails(&lb), "entry 3:", "data_len 1 on a DISCARD");
    free(lb.buf);
}

/* nr_sectors * sector_size overflows 64 bits. */
static void test_err_nr_sectors_overflow(void)
{
    logbuf lb = sample_log(512);
    put_le64(field(&lb, 3, 8), UINT64_MAX / 256);   /* on the DISCARD */
    ASSERT_NAMES(parse_fails(&lb), "entry 3:", "nr_sectors");
    CU_ASSERT_PTR_NOT_NULL(strstr(parse_fails(&lb), "overflows"));
    free(lb.buf);
}

/* sector + nr_sectors ends past 2^64 bytes. */
static void test_err_sector_overflow(void)
{
    logbuf lb = sample_log(512);
    put_le64(field(&lb, 3, 0), UINT64_MAX - 4);     /* sector + 8 wraps */
    ASSERT_NAMES(parse_fails(&lb), "entry 3:", "sector 18446744073709551611");
    put_le64(field(&lb, 3, 0), UINT64_MAX / 512 - 4); /* no wrap, bytes overflow */
    ASSERT_NAMES(parse_fails(&lb), "entry 3:", "+ nr_sectors 8 ends past");
    free(lb.buf);
}

/* The last write's data sectors are cut off. */
static void test_err_truncated_data(void)
{
    logbuf lb = sample_log(512);
    lb.len = (size_t)11 * 512 - 1;      /* entry 4's data sector, less a byte */
    ASSERT_NAMES(parse_fails(&lb), "entry 4:", "data of nr_sectors 1");
    CU_ASSERT_PTR_NOT_NULL(strstr(parse_fails(&lb), "runs past the end"));
    lb.len = (size_t)11 * 512 + 100;    /* the MARK's header sector, cut */
    ASSERT_NAMES(parse_fails(&lb), "entry 5:", "header sector");
    free(lb.buf);
}

/* A MARK whose text does not fit in its sector. */
static void test_err_mark_too_long(void)
{
    logbuf lb = sample_log(512);
    put_le64(field(&lb, 5, 24), 481);
    ASSERT_NAMES(parse_fails(&lb), "entry 5:", "MARK data_len 481 does not fit");
    put_le64(field(&lb, 5, 24), UINT64_MAX);
    ASSERT_NAMES(parse_fails(&lb), "entry 5:", "data_len");
    free(lb.buf);
}

/* Logs Linux writes that the writer never makes: a FLUSH carrying data
 * (REQ_PREFLUSH on a write), a write with FUA and FLUSH, an empty log. */
static void test_accepts_linux_forms(void)
{
    logbuf lb = sample_log(512);
    qed_trace t;

    put_le64(field(&lb, 0, 16), QED_TRACE_FLUSH | QED_TRACE_FUA);
    CU_ASSERT_EQUAL_FATAL(qed_trace_parse(lb.buf, lb.len, &t, NULL, 0), QED_OK);
    CU_ASSERT_EQUAL(t.count, 6);
    CU_ASSERT_PTR_EQUAL(t.entries[0].data, lb.buf + 2 * 512);
    qed_trace_free(&t);
    put_le64(lb.buf + 16, 0);
    CU_ASSERT_EQUAL_FATAL(qed_trace_parse(lb.buf, 512, &t, NULL, 0), QED_OK);
    CU_ASSERT_EQUAL(t.count, 0);
    CU_ASSERT_EQUAL(t.log_end, 512);
    qed_trace_free(&t);
    free(lb.buf);
}

int suite_trace(void)
{
    static const test_case cases[] = {
        { .name = "round trip, 512-byte sectors", .fn = test_round_trip_512 },
        { .name = "round trip, 4096-byte sectors", .fn = test_round_trip_4096 },
        { .name = "superblock count on FLUSH", .fn = test_super_on_flush },
        { .name = "writer refuses bad arguments", .fn = test_writer_refuses },
        { .name = "writer stops after a failed write", .fn = test_writer_sticky_failure },
        { .name = "parse: log shorter than the superblock", .fn = test_err_short },
        { .name = "parse: bad magic", .fn = test_err_magic },
        { .name = "parse: bad version", .fn = test_err_version },
        { .name = "parse: bad sector size", .fn = test_err_sector_size },
        { .name = "parse: entry count past the end", .fn = test_err_count_past_end },
        { .name = "parse: unknown flag bits", .fn = test_err_flags },
        { .name = "parse: MARK with I/O flags or sectors", .fn = test_err_mark_fields },
        { .name = "parse: data_len does not fit", .fn = test_err_data_len },
        { .name = "parse: nr_sectors * sector_size overflow", .fn = test_err_nr_sectors_overflow },
        { .name = "parse: sector + nr_sectors overflow", .fn = test_err_sector_overflow },
        { .name = "parse: truncated data", .fn = test_err_truncated_data },
        { .name = "parse: MARK text does not fit", .fn = test_err_mark_too_long },
        { .name = "parse: Linux-only forms accepted", .fn = test_accepts_linux_forms },
    };
    return ADD_SUITE("trace", cases);
}
