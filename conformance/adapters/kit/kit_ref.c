/*
 * kit_ref.c - libqed plugged into the adapter kit: build/qed-kit-ref, an
 * adapter made of one kit_ops table (qed_kit.h) and nothing else, the
 * worked example of README.md.  `make conform-kit` requires it to get the
 * same result as build/qedtool on every case of the suite.
 *
 * Each op is a few libqed calls.  Files are opened through libqed's POSIX
 * layer, which takes QEMU's locks; backing files are opened read-only by
 * libqed itself (qed_open_opts.open_backing NULL).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "qed.h"
#include "qed_kit.h"

struct kit_image {
    qed_io *io;          /* the image's file */
    qed_image *img;      /* the open image, with its backing chain */
};

/* Open path (read-write when writable, flags QED_OPEN_*) with its chain. */
static int open_with(const char *path, int writable, unsigned flags,
                     kit_image **out)
{
    kit_image *k = calloc(1, sizeof(*k));
    qed_open_opts opts;
    int rc;

    if (!k)
        return QED_ERR_NOMEM;
    rc = qed_io_posix_open(path, writable ? QED_IO_RDWR : 0, &k->io);
    memset(&opts, 0, sizeof(opts));
    opts.flags = flags | (writable ? QED_OPEN_RDWR : 0);
    opts.path = path;                      /* BACK-1: names relative to it */
    if (rc == QED_OK)
        rc = qed_open(k->io, &opts, &k->img);
    if (rc == QED_OK) {
        *out = k;
        return QED_OK;
    }
    qed_io_close(k->io);
    free(k);
    return rc;
}

/* kit_ops.open */
static int ref_open(const char *path, int writable, kit_image **out)
{
    return open_with(path, writable, 0, out);
}

/* kit_ops.close: WR-4 happens in qed_close. */
static int ref_close(kit_image *k)
{
    int rc = qed_close(k->img);

    qed_io_close(k->io);
    free(k);
    return rc;
}

/* kit_ops.size */
static int ref_size(kit_image *k, uint64_t *bytes)
{
    *bytes = qed_get_header(k->img)->image_size;
    return QED_OK;
}

/* kit_ops.read */
static int ref_read(kit_image *k, uint64_t off, void *buf, size_t len)
{
    return qed_read(k->img, off, buf, len);
}

/* kit_ops.write */
static int ref_write(kit_image *k, uint64_t off, const void *buf, size_t len)
{
    return qed_write(k->img, off, buf, len);
}

/* kit_ops.write_zeroes (WR-8) */
static int ref_write_zeroes(kit_image *k, uint64_t off, uint64_t len)
{
    return qed_write_zeroes(k->img, off, len);
}

/* kit_ops.flush */
static int ref_flush(kit_image *k)
{
    return qed_flush(k->img);
}

/* kit_ops.map: libqed's extent in the kit's terms. */
static int ref_map(kit_image *k, uint64_t off, uint64_t max_len, kit_extent *e)
{
    qed_extent x;
    int rc = qed_map(k->img, off, max_len, &x);

    if (rc != QED_OK)
        return rc;
    e->start = x.start;
    e->length = x.length;
    e->depth = x.depth;
    e->present = (x.flags & QED_MAP_PRESENT) != 0;
    e->zero = (x.flags & QED_MAP_ZERO) != 0;
    e->data = (x.flags & QED_MAP_DATA) != 0;
    e->offset = x.offset;
    return QED_OK;
}

/* kit_ops.check: read-only, or read-write without WR-5 for a repair
 * (the repair is what the check itself does). */
static int ref_check(const char *path, unsigned repair, kit_check_result *r)
{
    unsigned how = (repair & KIT_REPAIR_ALL) == KIT_REPAIR_ALL ? QED_REPAIR_ALL
                 : repair ? QED_REPAIR_LEAKS : QED_REPAIR_NONE;
    qed_check_result res;
    kit_image *k;
    int rc = open_with(path, repair != 0, repair ? QED_OPEN_NO_CHECK : 0, &k);

    if (rc != QED_OK)
        return rc;
    memset(&res, 0, sizeof(res));
    rc = qed_check(k->img, how, &res);
    r->corruptions = res.corruptions;
    r->corruptions_fixed = res.corruptions_fixed;
    r->leaks = res.leaks;
    r->leaks_fixed = res.leaks_fixed;
    r->check_errors = res.check_errors;
    if (ref_close(k) != QED_OK && rc == QED_OK)
        rc = QED_ERR_IO;
    return rc;
}

/* BACK-2: 1 if the file at path starts with the QED magic, 0 if not, or a
 * negative QED_ERR_* when it cannot be read. */
static int probe_qed(const char *path)
{
    unsigned char buf[QED_HEADER_BYTES];
    uint64_t len = 0;
    size_t n = 0;
    qed_io *io = NULL;
    int rc = qed_io_posix_open(path, 0, &io);

    if (rc == QED_OK)
        rc = io->length(io, &len);
    n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
    if (rc == QED_OK && n > 0)
        rc = io->read(io, 0, buf, n);
    qed_io_close(io);
    return rc == QED_OK ? (n > 0 && qed_probe(buf, n)) : rc;
}

/* The backing file's format when create was not told (probed, BACK-2);
 * a QED backing file must also open.  QED_OK or the error. */
static int backing_format(const char *file, const char *name, const char **fmt)
{
    char path[4096];
    kit_image *k;
    int rc = qed_resolve_backing(file, name, path, sizeof(path));
    int is_qed = rc == QED_OK ? probe_qed(path) : rc;

    if (is_qed < 0)
        return is_qed;
    if (!*fmt)
        *fmt = is_qed ? "qed" : "raw";
    if (strcmp(*fmt, "qed") != 0)
        return QED_OK;
    if (!is_qed)
        return QED_E_MAGIC;
    rc = ref_open(path, 0, &k);
    return rc == QED_OK ? ref_close(k) : rc;
}

/* kit_ops.create: qemu-img's rounding of the size to whole sectors
 * (HDR-9), then qed_create on a new file. */
static int ref_create(const char *path, const kit_create_args *a)
{
    qed_create_opts co;
    qed_io *io = NULL;
    int rc;

    memset(&co, 0, sizeof(co));
    if (a->size > UINT64_MAX - (QED_SECTOR_SIZE - 1))
        return QED_E_IMAGE_SIZE_MAX;
    co.image_size = (a->size + QED_SECTOR_SIZE - 1) / QED_SECTOR_SIZE * QED_SECTOR_SIZE;
    co.cluster_size = a->cluster_size;
    co.table_size = a->table_size;
    co.backing_file = a->backing;
    co.backing_format = a->backing_format;
    rc = a->backing ? backing_format(path, a->backing, &co.backing_format) : QED_OK;
    if (rc == QED_OK)
        rc = qed_io_posix_create(path, &io);
    if (rc == QED_OK)
        rc = qed_create(io, &co);
    if (rc == QED_OK)
        rc = io->flush(io);
    qed_io_close(io);
    return rc;
}

/* kit_ops.resize (WR-9: grow only) */
static int ref_resize(kit_image *k, uint64_t new_size)
{
    return qed_resize(k->img, new_size);
}

/* kit_ops.set_backing (rebase -u) */
static int ref_set_backing(kit_image *k, const char *name, const char *format)
{
    return qed_set_backing(k->img, name, format);
}

static const kit_ops ref_ops = {
    .name = "qed-kit-ref",
    .open = ref_open,
    .size = ref_size,
    .close = ref_close,
    .read = ref_read,
    .write = ref_write,
    .flush = ref_flush,
    .write_zeroes = ref_write_zeroes,
    .create = ref_create,
    .create_honours = KIT_HONOURS_CLUSTER_SIZE | KIT_HONOURS_TABLE_SIZE,
    .map = ref_map,
    .check = ref_check,
    .resize = ref_resize,
    .set_backing = ref_set_backing,
    .errstr = qed_strerror,
};

/* The same library as a reader that cannot check or write (no check,
 * create, write ...): the kit then declares only info, map and convert.
 * QED_KIT_REF_OPS=reader selects it (make test-conform-kit's proof that
 * capabilities follow the ops table). */
static const kit_ops reader_ops = {
    .name = "qed-kit-ref (reader)",
    .open = ref_open,
    .size = ref_size,
    .close = ref_close,
    .read = ref_read,
    .map = ref_map,
    .errstr = qed_strerror,
};

/* build/qed-kit-ref SUBCOMMAND ARG...: the adapter. */
int main(int argc, char **argv)
{
    const char *which = getenv("QED_KIT_REF_OPS");

    signal(SIGXFSZ, SIG_IGN);    /* a file too large is an error, not a kill */
    return kit_main(which && strcmp(which, "reader") == 0 ? &reader_ops : &ref_ops,
                    argc, argv);
}
