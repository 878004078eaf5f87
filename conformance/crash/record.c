/*
 * record.c - traces made in process (crash.h): the reference runs a
 * workload through libqed's recorder I/O layer over a memory copy of the
 * initial image, with the same marks `qedtool io --trace` writes; and a
 * trace rewritten without its flushes, the simplest broken writer.
 */
#include "crash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The session on an open recorder: op:N before each command, flush:N
 * after each completed flush, then the close. */
static int run_session(const crash_disk *d, qed_io *rec, const crash_op *ops, size_t nops)
{
    qed_image *img = NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint64_t flushes = 0;
    char text[32];
    int ret = crash_open_image(d, rec, QED_OPEN_RDWR, &img);

    for (size_t i = 0; ret == QED_OK && i < nops; i++) {
        snprintf(text, sizeof text, "op:%zu", i);
        if ((ret = qed_io_recorder_mark(rec, text)) == QED_OK)
            ret = crash_op_apply(img, &ops[i], &buf, &cap);
        if (ret == QED_OK && ops[i].kind == COP_FLUSH) {
            snprintf(text, sizeof text, "flush:%llu", (unsigned long long)flushes++);
            ret = qed_io_recorder_mark(rec, text);
        }
    }
    if (ret == QED_OK)
        ret = qed_close(img);
    else
        qed_close(img);
    free(buf);
    return ret;
}

int crash_record_reference(const crash_disk *d, const crash_op *ops, size_t nops,
                           uint32_t sector_size, crash_buf *log, crash_buf *final)
{
    crash_buf img = { 0 };
    qed_io *file = NULL, *logio = NULL, *rec = NULL;
    int ret = crash_buf_set(&img, d->image, d->image_len);

    log->len = 0;
    if (ret == QED_OK)
        ret = crash_buf_io(&img, 1, &file);
    if (ret == QED_OK)
        ret = crash_buf_io(log, 1, &logio);
    if (ret == QED_OK)
        ret = qed_io_recorder_new(file, logio, sector_size, &rec);
    if (ret == QED_OK) {
        file = logio = NULL;                    /* the recorder owns them */
        ret = run_session(d, rec, ops, nops);
        if (ret == QED_OK)
            ret = qed_io_recorder_finish(rec);
    }
    qed_io_close(rec);
    qed_io_close(file);
    qed_io_close(logio);
    if (ret == QED_OK)
        ret = crash_buf_set(final, img.data, img.len);
    crash_buf_free(&img);
    return ret;
}

int crash_trace_without_flushes(const crash_buf *in, crash_buf *out)
{
    qed_trace t = { 0 };
    qed_io *io = NULL;
    qed_trace_writer *w = NULL;
    int ret = qed_trace_parse(in->data, in->len, &t, NULL, 0);

    out->len = 0;
    if (ret == QED_OK)
        ret = crash_buf_io(out, 1, &io);
    if (ret == QED_OK)
        ret = qed_trace_writer_new(io, t.sector_size, &w);
    for (uint64_t i = 0; ret == QED_OK && i < t.count; i++) {
        const qed_trace_entry *e = &t.entries[i];
        char text[256];
        if (e->flags & QED_TRACE_MARK) {
            snprintf(text, sizeof text, "%.*s", (int)(e->data_len < 255 ? e->data_len : 255),
                     (const char *)e->data);
            ret = qed_trace_mark(w, text);
        } else if (e->nr_sectors) {
            ret = qed_trace_write(w, e->sector, e->nr_sectors, 0, e->data);
        }
    }
    if (ret == QED_OK)
        ret = qed_trace_writer_finish(w);
    qed_trace_writer_free(w);
    qed_io_close(io);
    qed_trace_free(&t);
    return ret;
}
