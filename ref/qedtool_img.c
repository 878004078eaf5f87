/*
 * qedtool_img.c - create, rebase and resize: the commands that write an
 * image's header.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qedtool.h"

enum { OPT_FORMAT = 1, OPT_OPTIONS, OPT_BACKING, OPT_BACKING_FMT, OPT_QUIET,
       OPT_UNSAFE, OPT_PROGRESS };

/* ------------------------------------------------------------------ */
/* create                                                             */
/* ------------------------------------------------------------------ */

/* What `create` was asked to do. */
typedef struct create_args {
    qed_create_opts co;
    const char *file;
    const char *size_text;   /* NULL: take the backing file's size */
    int quiet;
} create_args;

/* Apply one create option; returns 0, or -1 after printing why. */
static int create_option(void *ctx, int id, const char *val)
{
    create_args *ca = ctx;

    switch (id) {
    case OPT_FORMAT:
        return qt_check_format("create", val, 0);
    case OPT_OPTIONS:
        return qt_parse_create_options("create", val, &ca->co);
    case OPT_BACKING:
        ca->co.backing_file = val;
        return 0;
    case OPT_BACKING_FMT:
        ca->co.backing_format = val;
        return qt_check_format("create", val, 1);
    case OPT_QUIET:
        ca->quiet = 1;
        return 0;
    default:
        return -1;
    }
}

/* Parse create's command line.  Returns -1 to go on, or an exit status. */
static int parse_create_args(int argc, char **argv, create_args *ca)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "o", 1, OPT_OPTIONS },
        { "b", 1, OPT_BACKING }, { "F", 1, OPT_BACKING_FMT },
        { "q", 0, OPT_QUIET }, QT_BACKING_OPTIONS, { NULL, 0, 0 }
    };
    qt_args a;
    int status;

    memset(ca, 0, sizeof(*ca));
    status = qt_scan_options(&a, argc, argv, opts, create_option, ca);
    if (status < 0 && (a.n_operands < 1 || a.n_operands > 2))
        status = qt_usage_error("create", a.n_operands ? "too many operands"
                                                       : "missing FILE");
    if (status < 0 && a.n_operands == 1 && !ca->co.backing_file)
        status = qt_usage_error("create", "SIZE is required without -b");
    if (status < 0 && a.n_operands == 1 &&
        qt_backing_policy() == QED_BACKING_NONE)
        status = qt_usage_error("create", "SIZE is required with "
                                "--no-backing (BACKING is not opened)");
    if (status < 0) {
        ca->file = a.operands[0];
        ca->size_text = a.n_operands == 2 ? a.operands[1] : NULL;
    }
    qt_args_free(&a);
    return status;
}

/* The length of a raw file; 0 or -1 after printing why. */
static int raw_file_size(const char *path, uint64_t *size)
{
    qed_io *io = NULL;
    int rc = qt_open_file(path, 0, 0, &io);

    if (rc != QED_OK)
        return -1;
    rc = io->length(io, size);
    qed_io_close(io);
    if (rc != QED_OK)
        qt_err_status(path, rc);
    return rc == QED_OK ? 0 : -1;
}

/* The logical size and probed format of the backing file a new image will
 * name (resolved against the new image's directory, BACK-1).  Opening it
 * also proves it exists and, if QED, is valid, within the limits the new
 * image's open will leave its chain (its two tables take new_tables
 * bytes).  Returns 0 or -1. */
static int inspect_backing(const char *file, const char *name,
                           uint64_t new_tables, const char **format,
                           uint64_t *size)
{
    char path[4096];
    qt_image im;
    int rc = qed_resolve_backing(file, name, path, sizeof(path));
    int is_qed = rc == QED_OK ? qt_probe_file(path, 1) : -1;

    if (rc != QED_OK)
        qt_err_status(name, rc);
    if (is_qed < 0)
        return -1;
    if (*format && strcmp(*format, "qed") == 0 && !is_qed) {
        qt_err("%s: -F qed given but the backing file is not a QED image",
               path);
        return -1;
    }
    if (!*format)
        *format = is_qed ? "qed" : "raw";
    if (strcmp(*format, "qed") == 0) {
        if (qt_image_open_below(path, file, new_tables, &im) != QED_OK)
            return -1;
        *size = qed_get_header(im.img)->image_size;
        return qt_image_close(&im, path) == QED_OK ? 0 : -1;
    }
    return raw_file_size(path, size);
}

/* create -b: BACKING's size and format (inspect_backing), and FILE must
 * not be BACKING or a file of its chain.  With --no-backing BACKING is not
 * opened: FILE is checked against BACKING itself (device and inode), and
 * an existing FILE is refused (it might lie deeper in the chain).  0 or -1
 * after printing why. */
static int check_backing(create_args *ca, uint64_t *backing_size)
{
    const char *name = ca->co.backing_file;
    uint64_t tables = 2 * (uint64_t)(ca->co.cluster_size ? ca->co.cluster_size
                                     : QED_DEFAULT_CLUSTER_SIZE) *
                      (ca->co.table_size ? ca->co.table_size
                                         : QED_DEFAULT_TABLE_SIZE);
    char path[4096];
    qt_files f;

    if (qt_backing_policy() != QED_BACKING_NONE)
        return inspect_backing(ca->file, name, tables, &ca->co.backing_format,
                               backing_size) != 0 ||
               qt_refuse_backing_overwrite("create", ca->file, name,
                                           ca->co.backing_format) != 0
               ? -1 : 0;
    if (qed_resolve_backing(ca->file, name, path, sizeof(path)) != QED_OK) {
        qt_err_status(ca->file, QED_ERR_LIMIT);
        return -1;
    }
    memset(&f, 0, sizeof(f));
    qt_files_add(&f, path);
    return qt_refuse_overwrite("create", ca->file, &f, "the backing file",
                               path) != 0 ||
           qt_refuse_unknown_chain_overwrite("create", ca->file, path) != 0
           ? -1 : 0;
}

/* Decide the image size: SIZE if given, else the backing file's; then
 * round up to whole sectors as qemu-img does (HDR-9). */
static int decide_size(create_args *ca, uint64_t backing_size)
{
    uint64_t size = backing_size;

    if (ca->size_text && qt_parse_size(ca->size_text, &size) != 0) {
        qt_err("create: invalid size '%s'", ca->size_text);
        return -1;
    }
    if (qt_round_up_sector(size, &ca->co.image_size) != 0) {
        qt_err("create: size '%s' is too large", ca->size_text);
        return -1;
    }
    return 0;
}

/* Say what is being made, in qemu-img's words. */
static void print_formatting(const create_args *ca)
{
    const qed_create_opts *co = &ca->co;

    printf("Formatting '%s', fmt=qed size=%" PRIu64, ca->file, co->image_size);
    if (co->backing_file)
        printf(" backing_file=%s backing_fmt=%s", co->backing_file,
               co->backing_format);
    printf(" cluster_size=%" PRIu32 " table_size=%" PRIu32 "\n",
           co->cluster_size ? co->cluster_size : QED_DEFAULT_CLUSTER_SIZE,
           co->table_size ? co->table_size : QED_DEFAULT_TABLE_SIZE);
}

/* qed_create refused the options with QED_ERR_LIMIT: name the bound as
 * qedtool's open of the image would (qt_report_header_limit).  1 if it
 * printed. */
static int report_create_limit(const create_args *ca)
{
    const qed_create_opts *co = &ca->co;
    size_t name_len = co->backing_file ? strlen(co->backing_file) : 0;
    qed_header h;

    memset(&h, 0, sizeof(h));
    h.cluster_size = co->cluster_size ? co->cluster_size
                                      : QED_DEFAULT_CLUSTER_SIZE;
    h.table_size = co->table_size ? co->table_size : QED_DEFAULT_TABLE_SIZE;
    if (co->backing_file)
        h.features = QED_F_BACKING_FILE;
    h.backing_filename_size = name_len > UINT32_MAX ? UINT32_MAX
                                                    : (uint32_t)name_len;
    return qt_report_header_limit(ca->file, &h);
}

/* Check the new image's header before anything is printed or opened:
 * qed_create runs on a memory file that may hold no byte, so libqed's own
 * checks of the options (geometry HDR-2/HDR-3, HDR-10, the backing name,
 * HDR-12) decide, and a valid header only fails its first write with
 * QED_ERR_NOSPC.  (HDR-9 holds already: decide_size rounded the size up.)
 * Returns 0, or -1 after printing the rule broken; FILE is left alone. */
static int validate_new_image(const create_args *ca)
{
    qed_io *io = NULL;
    int rc = qed_io_mem_new(NULL, 0, 0, &io);

    if (rc == QED_OK)
        rc = qed_create(io, &ca->co);
    qed_io_close(io);
    if (rc == QED_OK || rc == QED_ERR_NOSPC)
        return 0;
    if (rc != QED_ERR_LIMIT || !report_create_limit(ca))
        qt_err_status(ca->file, rc);
    return -1;
}

/* Write the new image; on failure the half-made file is removed. */
static int write_new_image(const create_args *ca)
{
    qed_io *io = NULL;
    int was_new = qt_path_is_new(ca->file);
    int rc = qt_open_file(ca->file, 1, 1, &io);

    if (rc != QED_OK)
        return rc;
    rc = qed_create(io, &ca->co);
    if (rc == QED_OK)
        rc = io->flush(io);
    qed_io_close(io);
    if (rc != QED_OK) {
        qt_err_status(ca->file, rc);
        qt_remove_if_new(ca->file, was_new);
    }
    return rc;
}

/* qedtool create [-f qed] [-o ...] [-b BACKING [-F FMT]] [-q] FILE [SIZE] */
int qt_cmd_create(int argc, char **argv)
{
    create_args ca;
    uint64_t backing_size = 0;
    int status = parse_create_args(argc, argv, &ca);

    if (status >= 0)
        return status;
    if (ca.co.backing_file && ca.co.backing_file[0] == '\0')
        return qt_usage_error("create", "the backing file name is empty");
    if (report_create_limit(&ca))
        return QT_EXIT_FAIL;                  /* what open would refuse */
    if (ca.co.backing_file && check_backing(&ca, &backing_size) != 0)
        return QT_EXIT_FAIL;                  /* before anything is written */
    if (decide_size(&ca, backing_size) != 0 || validate_new_image(&ca) != 0)
        return QT_EXIT_FAIL;
    if (!ca.quiet)
        print_formatting(&ca);
    return write_new_image(&ca) == QED_OK ? QT_EXIT_OK : QT_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* rebase                                                             */
/* ------------------------------------------------------------------ */

/* What `rebase` was asked to do. */
typedef struct rebase_args {
    const char *file;
    const char *backing;       /* NULL or "": no backing file */
    const char *backing_fmt;   /* NULL: probe */
    int unsafe;
} rebase_args;

/* Apply one rebase option; returns 0, or -1 after printing why. */
static int rebase_option(void *ctx, int id, const char *val)
{
    rebase_args *ra = ctx;

    switch (id) {
    case OPT_FORMAT:
        return qt_check_format("rebase", val, 0);
    case OPT_BACKING:
        ra->backing = val;
        return 0;
    case OPT_BACKING_FMT:
        ra->backing_fmt = val;
        return qt_check_format("rebase", val, 1);
    case OPT_UNSAFE:
        ra->unsafe = 1;
        return 0;
    case OPT_QUIET:
    case OPT_PROGRESS:
        return 0;            /* nothing to report or show */
    default:
        return -1;
    }
}

/* Parse rebase's command line.  Returns -1 to go on, or an exit status. */
static int parse_rebase_args(int argc, char **argv, rebase_args *ra)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "b", 1, OPT_BACKING },
        { "F", 1, OPT_BACKING_FMT }, { "u", 0, OPT_UNSAFE },
        { "q", 0, OPT_QUIET }, { "p", 0, OPT_PROGRESS }, { NULL, 0, 0 }
    };
    qt_args a;
    int status;

    memset(ra, 0, sizeof(*ra));
    status = qt_scan_options(&a, argc, argv, opts, rebase_option, ra);
    if (status < 0 && a.n_operands != 1)
        status = qt_usage_error("rebase", a.n_operands ? "too many operands"
                                                       : "missing FILE");
    if (status < 0 && !ra->unsafe)
        status = qt_usage_error("rebase", "only unsafe mode (-u) is "
                                "supported: it changes the name, not data");
    if (status < 0)
        ra->file = a.operands[0];
    qt_args_free(&a);
    return status;
}

/* qedtool rebase -u [-b NEW] [-F raw|qed] [-f qed] FILE */
int qt_cmd_rebase(int argc, char **argv)
{
    rebase_args ra;
    qt_image im;
    const char *name;
    int rc, status = parse_rebase_args(argc, argv, &ra);

    if (status >= 0)
        return status;
    name = (ra.backing && ra.backing[0]) ? ra.backing : NULL;
    if (qt_image_open(ra.file, QED_OPEN_RDWR | QED_OPEN_NO_BACKING, &im) !=
        QED_OK)
        return QT_EXIT_FAIL;          /* the old base may be gone: unread */
    rc = qed_set_backing(im.img, name, name ? ra.backing_fmt : NULL);
    if (rc == QED_ERR_LIMIT)
        qt_err("%s: the backing file name does not fit in the header "
               "clusters (HDR-11)", ra.file);
    else if (rc != QED_OK)
        qt_err_status(ra.file, rc);
    if (qt_image_close(&im, ra.file) != QED_OK)
        rc = QED_ERR_IO;
    return rc == QED_OK ? QT_EXIT_OK : QT_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* resize                                                             */
/* ------------------------------------------------------------------ */

/* The new size from "[+|-]SIZE" and the current size; -1 if invalid. */
static int new_size_from(const char *text, uint64_t cur, uint64_t *out)
{
    uint64_t n;
    int sign = (text[0] == '+') ? 1 : (text[0] == '-') ? -1 : 0;

    if (qt_parse_size(text + (sign != 0), &n) != 0)
        return -1;
    if (sign > 0 && n > UINT64_MAX - cur)
        return -1;
    if (sign < 0 && n > cur)
        return -1;
    *out = sign > 0 ? cur + n : sign < 0 ? cur - n : n;
    return qt_round_up_sector(*out, out);
}

/* One option of resize; ctx is the quiet flag. */
static int resize_option(void *ctx, int id, const char *val)
{
    if (id == OPT_QUIET)
        *(int *)ctx = 1;
    return id == OPT_FORMAT ? qt_check_format("resize", val, 0) : 0;
}

/* Parse resize's command line; the size operand may start with '-' (a
 * shrink request), so like qemu-img it is taken from the last word before
 * options are scanned.  Returns -1 to go on, or an exit status. */
static int parse_resize_args(int argc, char **argv, const char **file,
                             const char **size, int *quiet)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "q", 0, OPT_QUIET }, QT_BACKING_OPTIONS,
        { NULL, 0, 0 }
    };
    qt_args a;
    int status;

    *quiet = 0;
    if (argc >= 2 && argv[argc - 1][0] == '-' && argv[argc - 1][1] >= '0' &&
        argv[argc - 1][1] <= '9')
        *size = argv[--argc];
    else
        *size = NULL;
    status = qt_scan_options(&a, argc, argv, opts, resize_option, quiet);
    if (status < 0 && a.n_operands + (*size != NULL) != 2)
        status = qt_usage_error("resize", "expected FILE and SIZE");
    if (status < 0) {
        *file = a.operands[0];
        if (!*size)
            *size = a.operands[1];
    }
    qt_args_free(&a);
    return status;
}

/* qedtool resize [-f qed] [-q] FILE [+]SIZE */
int qt_cmd_resize(int argc, char **argv)
{
    const char *file = NULL, *size_text = NULL;
    uint64_t new_size;
    qt_image im;
    int quiet, rc, status;

    status = parse_resize_args(argc, argv, &file, &size_text, &quiet);
    if (status >= 0)
        return status;
    if (qt_image_open(file, QED_OPEN_RDWR, &im) != QED_OK)
        return QT_EXIT_FAIL;
    if (new_size_from(size_text, qed_get_header(im.img)->image_size,
                      &new_size) != 0) {
        qt_err("resize: invalid size '%s'", size_text);
        qt_image_close(&im, file);
        return QT_EXIT_FAIL;
    }
    rc = qed_resize(im.img, new_size);   /* WR-9: grow only */
    if (rc != QED_OK)
        qt_err_status(file, rc);
    if (qt_image_close(&im, file) != QED_OK)
        rc = QED_ERR_IO;
    if (rc == QED_OK && !quiet)
        printf("Image resized.\n");
    return rc == QED_OK ? QT_EXIT_OK : QT_EXIT_FAIL;
}
