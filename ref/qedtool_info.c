/*
 * qedtool_info.c - info, check and map: read-mostly reports in qemu-img's
 * human and JSON formats.
 *
 * JSON objects list their keys in the order qemu-img 7.2 prints them (its
 * dictionary order), so `diff` works as well as `jq -S`.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qedtool.h"

enum { OPT_FORMAT = 1, OPT_OUTPUT, OPT_REPAIR, OPT_QUIET, OPT_FORCE_SHARE };

/* The operands and options of info, check and map. */
typedef struct report_args {
    const char *cmd;     /* "info", "check" or "map" */
    enum qt_output output;
    const char *file;
    const char *repair;  /* check -r value, or NULL */
    int quiet;
    int force_share;     /* -U: read without a lock */
} report_args;

/* One option of info, check or map. */
static int report_option(void *ctx, int id, const char *val)
{
    report_args *ra = ctx;

    switch (id) {
    case OPT_FORMAT:
        return qt_check_format(ra->cmd, val, 0);
    case OPT_OUTPUT:
        return qt_parse_output(ra->cmd, val, &ra->output);
    case OPT_REPAIR:
        ra->repair = val;
        return 0;
    case OPT_QUIET:
        ra->quiet = 1;
        return 0;
    case OPT_FORCE_SHARE:
        ra->force_share = 1;
        qt_set_force_share();
        return 0;
    default:
        return 0;
    }
}

/* Parse "[-f qed] [--output=F] [-r R] [-q] FILE" into ra.  Returns -1 to
 * go on, or the exit status to return at once (help, usage error). */
static int parse_report_args(int argc, char **argv, const qt_option *opts,
                             report_args *ra)
{
    qt_args a;
    int status;

    memset(ra, 0, sizeof(*ra));
    ra->cmd = argv[0];
    status = qt_scan_options(&a, argc, argv, opts, report_option, ra);
    if (status < 0 && a.n_operands != 1)
        status = qt_usage_error(argv[0], a.n_operands ? "too many operands"
                                                      : "missing FILE");
    if (status < 0)
        ra->file = a.operands[0];
    qt_args_free(&a);
    return status;
}

/* ------------------------------------------------------------------ */
/* info                                                               */
/* ------------------------------------------------------------------ */

/* The facts info reports. */
typedef struct info_facts {
    const char *file;
    const qed_header *h;
    uint64_t actual_size;        /* bytes allocated on disk */
    const char *backing;         /* as stored, or NULL */
    const char *backing_format;  /* "raw" / "qed" / NULL */
    int format_recorded;         /* NO_PROBE set: the header names it */
    char full_backing[4096];     /* resolved against the image (BACK-1) */
} info_facts;

/* Print info as qemu-img's JSON object.  Like qemu-img, the backing
 * format appears only when the image records it (NO_PROBE, FEAT-3). */
static void print_info_json(const info_facts *f)
{
    printf("{\n");
    if (f->backing && f->format_recorded) {
        printf("    \"backing-filename-format\": ");
        qt_json_string(stdout, f->backing_format ? f->backing_format : "");
        printf(",\n");
    }
    printf("    \"virtual-size\": %" PRIu64 ",\n", f->h->image_size);
    printf("    \"filename\": ");
    qt_json_string(stdout, f->file);
    printf(",\n    \"cluster-size\": %" PRIu32 ",\n", f->h->cluster_size);
    printf("    \"format\": \"qed\",\n");
    printf("    \"actual-size\": %" PRIu64 ",\n", f->actual_size);
    if (f->backing) {
        printf("    \"full-backing-filename\": ");
        qt_json_string(stdout, f->full_backing);
        printf(",\n    \"backing-filename\": ");
        qt_json_string(stdout, f->backing);
        printf(",\n");
    }
    printf("    \"dirty-flag\": %s\n}\n",
           (f->h->features & QED_F_NEED_CHECK) ? "true" : "false");
}

/* Print info as qemu-img's human text. */
static void print_info_human(const info_facts *f)
{
    printf("image: %s\nfile format: qed\nvirtual size: ", f->file);
    qt_human_size(stdout, f->h->image_size);
    printf(" (%" PRIu64 " bytes)\ndisk size: ", f->h->image_size);
    qt_human_size(stdout, f->actual_size);
    printf("\ncluster_size: %" PRIu32 "\n", f->h->cluster_size);
    if (f->backing) {
        printf("backing file: %s", f->backing);
        if (strcmp(f->backing, f->full_backing) != 0)
            printf(" (actual path: %s)", f->full_backing);
        printf("\nbacking file format: %s%s\n",
               f->backing_format ? f->backing_format : "?",
               f->format_recorded ? "" : " (probed)");
    }
    if (f->h->features & QED_F_NEED_CHECK)
        printf("cleanly shut down: no\n");
}

/* Gather the facts of an open image.  Returns 0 or an exit status. */
static int gather_info(const char *file, const qt_image *im, info_facts *f)
{
    struct stat st;
    int rc;

    memset(f, 0, sizeof(*f));
    f->file = file;
    f->h = qed_get_header(im->img);
    if (stat(file, &st) == 0)
        f->actual_size = (uint64_t)st.st_blocks * 512u;
    f->backing = qed_backing_name(im->img);
    f->backing_format = qed_backing_format(im->img);
    f->format_recorded =
        (f->h->features & QED_F_BACKING_FORMAT_NO_PROBE) != 0;  /* FEAT-3 */
    if (!f->backing)
        return 0;
    rc = qt_backing_path(file, 1, f->backing, f->full_backing,
                         sizeof(f->full_backing));
    if (rc != QED_OK) {
        qt_err_status(file, rc);
        return QT_EXIT_FAIL;
    }
    return 0;
}

/* qedtool info [-f qed] [--output=human|json] FILE */
int qt_cmd_info(int argc, char **argv)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "output", 1, OPT_OUTPUT },
        { "U", 0, OPT_FORCE_SHARE }, { "force-share", 0, OPT_FORCE_SHARE },
        QT_BACKING_OPTIONS, { NULL, 0, 0 }
    };
    report_args ra;
    qt_image im;
    info_facts *f;
    int status = parse_report_args(argc, argv, opts, &ra);

    if (status >= 0)
        return status;
    if (qt_image_open(ra.file, 0, &im) != QED_OK)
        return QT_EXIT_FAIL;
    f = malloc(sizeof(*f));
    status = f ? gather_info(ra.file, &im, f) : QT_EXIT_FAIL;
    if (status == 0 && ra.output == QT_OUTPUT_JSON)
        print_info_json(f);
    else if (status == 0)
        print_info_human(f);
    free(f);
    if (qt_image_close(&im, ra.file) != QED_OK)
        status = QT_EXIT_FAIL;
    return status;
}

/* ------------------------------------------------------------------ */
/* check                                                              */
/* ------------------------------------------------------------------ */

/* Print one "key": value line of the check object when it is present. */
static void json_count(const char *key, uint64_t v, int always, int *first)
{
    if (!v && !always)
        return;
    printf("%s    \"%s\": %" PRIu64, *first ? "" : ",\n", key, v);
    *first = 0;
}

/* qemu-img's ImageCheck object: optional counts appear only when non-zero,
 * in qemu-img's key order. */
static void print_check_json(const char *file, const qed_check_result *r)
{
    int first = 1;

    printf("{\n");
    json_count("image-end-offset", r->image_end_offset, 0, &first);
    json_count("total-clusters", r->total_clusters, 0, &first);
    json_count("corruptions", r->corruptions, 0, &first);
    json_count("corruptions-fixed", r->corruptions_fixed, 0, &first);
    json_count("check-errors", r->check_errors, 1, &first);
    json_count("leaks", r->leaks, 0, &first);
    json_count("leaks-fixed", r->leaks_fixed, 0, &first);
    json_count("allocated-clusters", r->allocated_clusters, 0, &first);
    printf(",\n    \"filename\": ");
    qt_json_string(stdout, file);
    printf(",\n    \"format\": \"qed\"");
    first = 0;
    json_count("fragmented-clusters", r->fragmented_clusters, 0, &first);
    printf("\n}\n");
}

/* qemu-img's human check report (after any repair). */
static void print_check_human(const qed_check_result *r)
{
    if (!r->corruptions && !r->leaks && !r->check_errors)
        printf("No errors were found on the image.\n");
    if (r->corruptions)
        printf("\n%" PRIu64 " errors were found on the image.\n"
               "Data may be corrupted, or further writes to the image may "
               "corrupt it.\n", r->corruptions);
    if (r->leaks)
        printf("\n%" PRIu64 " leaked clusters were found on the image.\n"
               "This means waste of disk space, but no harm to data.\n",
               r->leaks);
    if (r->check_errors)
        printf("\n%" PRIu64 " internal errors have occurred during the "
               "check.\n", r->check_errors);
    if (r->total_clusters && r->allocated_clusters)
        printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% "
               "fragmented, 0.00%% compressed clusters\n",
               r->allocated_clusters, r->total_clusters,
               (double)r->allocated_clusters * 100.0 /
                   (double)r->total_clusters,
               (double)r->fragmented_clusters * 100.0 /
                   (double)r->allocated_clusters);
    if (r->image_end_offset)
        printf("Image end offset: %" PRIu64 "\n", r->image_end_offset);
}

/* -r leaks|all -> QED_REPAIR_*; -1 for anything else. */
static int parse_repair(const char *value)
{
    if (!value)
        return QED_REPAIR_NONE;
    if (strcmp(value, "leaks") == 0)
        return QED_REPAIR_LEAKS;
    if (strcmp(value, "all") == 0)
        return QED_REPAIR_ALL;
    return -1;
}

/* Check (and repair), then as qemu-img does after a repair that fixed
 * something, check again so the counts describe the image as it is now,
 * keeping the -fixed counts of the repair pass. */
static int run_check(qed_image *img, unsigned repair, qed_check_result *r)
{
    qed_check_result again;
    int rc = qed_check(img, repair, r);

    if (rc != QED_OK || !(r->corruptions_fixed || r->leaks_fixed))
        return rc;
    rc = qed_check(img, QED_REPAIR_NONE, &again);
    if (rc != QED_OK)
        return rc;
    again.corruptions_fixed = r->corruptions_fixed;
    again.leaks_fixed = r->leaks_fixed;
    *r = again;
    return QED_OK;
}

/* Print the human note about what a repair fixed. */
static void print_repair_note(const qed_check_result *r)
{
    printf("The following inconsistencies were found and repaired:\n\n"
           "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
           "Double checking the fixed image now...\n",
           r->leaks_fixed, r->corruptions_fixed);
}

/* Exit status from the final counts: 1 incomplete, 2 corrupt, 3 leaks.
 * After a repair run_check has checked again, so the counts are what
 * remains in the image as it is now, as qemu-img's are: what the repair
 * fixed does not enter into it. */
static int check_exit_status(const qed_check_result *r)
{
    if (r->check_errors)
        return 1;
    if (r->corruptions)
        return 2;
    if (r->leaks)
        return 3;
    return 0;
}

/* Open for check: read-only, or read-write without WR-5 for -r, since the
 * repair is what check itself does. */
static int open_for_check(const char *file, unsigned repair, qt_image *im)
{
    unsigned flags = repair ? (QED_OPEN_RDWR | QED_OPEN_NO_CHECK) : 0;

    return qt_image_open(file, flags, im);
}

/* Report a finished check in the chosen format; returns the exit status. */
static int report_check(const report_args *ra, const qed_check_result *r)
{
    if (ra->output == QT_OUTPUT_JSON) {
        print_check_json(ra->file, r);
    } else if (!ra->quiet) {
        if (r->corruptions_fixed || r->leaks_fixed)
            print_repair_note(r);
        print_check_human(r);
    }
    return check_exit_status(r);
}

/* The one line for a check that stopped with rc: for a repair refused over
 * its budget (nothing written), the bytes it needed and the budget. */
static void report_check_failure(const char *file, int rc,
                                 const qed_check_result *r)
{
    if (rc == QED_ERR_REPAIR_BUDGET)
        qt_err("%s: check failed: repair refused, nothing written: its copies "
               "need at least %" PRIu64 " bytes, over the repair budget of %"
               PRIu64 " bytes (2 x the file's length + 64 MiB, "
               "qed_limits.max_repair_bytes)", file, r->repair_bytes,
               r->repair_budget);
    else
        qt_err("%s: check failed: %s", file, qt_strerror(rc));
}

/* qedtool check [-f qed] [-r leaks|all] [-q] [--output=human|json] FILE */
int qt_cmd_check(int argc, char **argv)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "output", 1, OPT_OUTPUT },
        { "r", 1, OPT_REPAIR }, { "q", 0, OPT_QUIET },
        { "U", 0, OPT_FORCE_SHARE }, { "force-share", 0, OPT_FORCE_SHARE },
        QT_BACKING_OPTIONS, { NULL, 0, 0 }
    };
    report_args ra;
    qed_check_result r;
    qt_image im;
    int repair, rc, status = parse_report_args(argc, argv, opts, &ra);

    if (status >= 0)
        return status;
    repair = parse_repair(ra.repair);
    if (repair < 0)
        return qt_usage_error(argv[0], "-r takes 'leaks' or 'all'");
    if (repair && ra.force_share)
        return qt_usage_error(argv[0], "-U (--force-share) reads without a "
                              "lock; it cannot be used with -r, which writes");
    if (open_for_check(ra.file, (unsigned)repair, &im) != QED_OK)
        return QT_EXIT_FAIL;
    memset(&r, 0, sizeof(r));
    rc = run_check(im.img, (unsigned)repair, &r);
    if (rc != QED_OK) {
        report_check_failure(ra.file, rc, &r);
        qt_image_close(&im, ra.file);
        return QT_EXIT_FAIL;
    }
    status = report_check(&ra, &r);
    if (qt_image_close(&im, ra.file) != QED_OK)
        status = QT_EXIT_FAIL;
    return status;
}

/* ------------------------------------------------------------------ */
/* map                                                                */
/* ------------------------------------------------------------------ */

/* Paths of the chain's layers for the human map's "File" column: layer 0
 * is the image, layer d+1 the backing file of layer d (BACK-1), found by
 * opening each layer's header without its backing file. */
enum { CHAIN_MAX = 32 };  /* layers named; deeper ones print as "?" */
typedef struct chain_names {
    char *path[CHAIN_MAX];   /* owned; NULL = unknown */
    unsigned known;          /* layers looked up so far */
} chain_names;

/* The resolved name of the backing file of the QED image at path, or
 * NULL when it has none, is not QED, or cannot be read. */
static char *backing_path_of(const char *path, int top)
{
    char buf[4096];
    qed_open_opts opts;
    qed_image *img = NULL;
    qed_io *io = NULL;
    char *result = NULL;

    if (qt_probe_file(path, 0) != 1 ||
        qed_io_posix_open(path, qt_read_flags(), &io) != QED_OK)
        return NULL;
    memset(&opts, 0, sizeof(opts));
    opts.flags = QED_OPEN_NO_BACKING;
    opts.path = path;
    if (qed_open(io, &opts, &img) == QED_OK && qed_backing_name(img) &&
        qt_backing_path(path, top, qed_backing_name(img), buf,
                        sizeof(buf)) == QED_OK)
        result = strdup(buf);
    qed_close(img);
    qed_io_close(io);
    return result;
}

/* The display name of layer depth (computing deeper names on demand). */
static const char *chain_name(chain_names *c, unsigned depth)
{
    while (c->known <= depth && c->known < CHAIN_MAX) {
        const char *above = c->path[c->known - 1];
        c->path[c->known] = above ? backing_path_of(above, c->known == 1)
                                  : NULL;
        c->known++;
    }
    if (depth >= c->known || !c->path[depth])
        return "?";
    return c->path[depth];
}

/* Free the names. */
static void chain_free(chain_names *c)
{
    unsigned i;

    for (i = 0; i < c->known; i++)
        free(c->path[i]);
}

/* One map entry in qemu-img's JSON form (no newline). */
static void print_extent_json(const qed_extent *e)
{
    printf("{ \"start\": %" PRIu64 ", \"length\": %" PRIu64
           ", \"depth\": %u, \"present\": %s, \"zero\": %s, \"data\": %s",
           e->start, e->length, e->depth,
           (e->flags & QED_MAP_PRESENT) ? "true" : "false",
           (e->flags & QED_MAP_ZERO) ? "true" : "false",
           (e->flags & QED_MAP_DATA) ? "true" : "false");
    if (e->flags & QED_MAP_DATA)
        printf(", \"offset\": %" PRIu64, e->offset);
    putchar('}');
}

/* One human map line; qemu-img lists only extents with data. */
static void print_extent_human(const qed_extent *e, chain_names *c)
{
    char col[3][24];

    if (!(e->flags & QED_MAP_DATA))
        return;
    snprintf(col[0], sizeof(col[0]), "%#" PRIx64, e->start);
    snprintf(col[1], sizeof(col[1]), "%#" PRIx64, e->length);
    snprintf(col[2], sizeof(col[2]), "%#" PRIx64, e->offset);
    printf("%-16s%-16s%-16s%s\n", col[0], col[1], col[2],
           chain_name(c, e->depth));
}

/* Emit a finished extent in the chosen format. */
static void emit_extent(enum qt_output fmt, const qed_extent *e, int first,
                        chain_names *c)
{
    if (fmt == QT_OUTPUT_JSON) {
        fputs(first ? "[" : ",\n", stdout);
        print_extent_json(e);
    } else {
        print_extent_human(e, c);
    }
}

/* Walk the image with qed_map (whose extents are already the longest
 * runs) and print each extent.  Returns QED_OK or the error that stopped
 * the walk. */
static int walk_map(qed_image *img, enum qt_output fmt, chain_names *c)
{
    uint64_t size = qed_get_header(img)->image_size, off = 0;
    qed_extent e;
    int first = 1, rc = QED_OK;

    while (off < size) {
        rc = qed_map(img, off, size - off, &e);
        if (rc != QED_OK)
            break;
        if (e.start != off || e.length == 0 || e.length > size - off) {
            rc = QED_ERR_INVAL;       /* a broken promise of qed_map */
            break;
        }
        emit_extent(fmt, &e, first, c);
        first = 0;
        off += e.length;
    }
    if (fmt == QT_OUTPUT_JSON)
        fputs(first ? "[]\n" : "]\n", stdout);
    return rc;
}

/* qedtool map [-f qed] [--output=human|json] FILE */
int qt_cmd_map(int argc, char **argv)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "output", 1, OPT_OUTPUT },
        { "U", 0, OPT_FORCE_SHARE }, { "force-share", 0, OPT_FORCE_SHARE },
        QT_BACKING_OPTIONS, { NULL, 0, 0 }
    };
    chain_names names;
    report_args ra;
    qt_image im;
    int rc, status = parse_report_args(argc, argv, opts, &ra);

    if (status >= 0)
        return status;
    if (qt_image_open(ra.file, 0, &im) != QED_OK)
        return QT_EXIT_FAIL;
    memset(&names, 0, sizeof(names));
    names.path[0] = strdup(ra.file);
    names.known = 1;
    if (ra.output == QT_OUTPUT_HUMAN)
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    rc = walk_map(im.img, ra.output, &names);
    chain_free(&names);
    status = QT_EXIT_OK;
    if (rc != QED_OK) {
        qt_err("%s: map failed: %s", ra.file, qt_strerror(rc));
        status = QT_EXIT_FAIL;
    }
    if (qt_image_close(&im, ra.file) != QED_OK)
        status = QT_EXIT_FAIL;
    return status;
}
