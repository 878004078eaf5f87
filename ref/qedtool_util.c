/*
 * qedtool_util.c - errors, the argument scanner, size parsing and image
 * opening shared by every qedtool subcommand.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qedtool.h"

/* ------------------------------------------------------------------ */
/* Errors                                                             */
/* ------------------------------------------------------------------ */

/* --no-backing / --backing-dir: the policy of every qt_image_open. */
static enum qed_backing_policy backing_policy;  /* QED_BACKING_FOLLOW */
static const char *backing_dir;

/* Print "qedtool: <message>" as one line on stderr. */
void qt_err(const char *fmt, ...)
{
    va_list ap;

    fputs("qedtool: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Print "qedtool: WHAT: <libqed's text for status>". */
void qt_err_status(const char *what, int status)
{
    qt_err("%s: %s", what, qt_strerror(status));
}

/* libqed's text, or for a read that needed the backing file under
 * --no-backing, why it was not there. */
const char *qt_strerror(int status)
{
    if (status == QED_ERR_BACKING && backing_policy == QED_BACKING_NONE)
        return "the range is not allocated in the image, and --no-backing "
               "opens no backing file";
    return qed_strerror(status);
}

/* ------------------------------------------------------------------ */
/* Opening files: locks, -U, file types                               */
/* ------------------------------------------------------------------ */

static int force_share;        /* -U given: read-only opens take no lock */

/* -U / --force-share (see qedtool.h). */
void qt_set_force_share(void)
{
    force_share = 1;
}

/* The flags of a read-only open; the first unlocked one warns, once. */
unsigned qt_read_flags(void)
{
    static int warned;

    if (!force_share)
        return 0;
    if (!warned)
        qt_err("warning: -U (--force-share): images are read without a "
               "lock; if another process is writing one, what is read may "
               "be inconsistent");
    warned = 1;
    return QED_IO_NO_LOCK;
}

/* What kind of file st is, for "is a FIFO, not a regular file ...". */
static const char *file_type_name(const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return "a directory";
    if (S_ISFIFO(st->st_mode))
        return "a FIFO";
    if (S_ISSOCK(st->st_mode))
        return "a socket";
    if (S_ISCHR(st->st_mode))
        return "a character device";
    return "not a regular file";
}

/* Write "PATH: reason" for a failed open of path with status rc (errno is
 * still the system's) into buf; with quote, PATH is in single quotes. */
static void describe_open_failure(char *buf, size_t size, const char *path,
                                  int rc, int err, int quote)
{
    const char *q = quote ? "'" : "";
    struct stat st;

    if (rc == QED_ERR_FILETYPE && stat(path, &st) == 0)
        snprintf(buf, size, "%s%s%s: is %s, not a regular file or block "
                 "device", q, path, q, file_type_name(&st));
    else if ((rc == QED_ERR_IO || rc == QED_ERR_BACKING) && err != 0)
        snprintf(buf, size, "%s%s%s: %s", q, path, q, strerror(err));
    else
        snprintf(buf, size, "%s%s%s: %s", q, path, q, qed_strerror(rc));
}

/* Open path through libqed's POSIX layer with flags (QED_IO_*). */
static int open_with_flags(const char *path, unsigned flags, qed_io **out)
{
    *out = NULL;
    errno = 0;
    return qed_io_posix_open(path, flags, out);
}

/* Open a file through libqed's POSIX layer; on failure name the file and
 * the reason in one line. */
int qt_open_file(const char *path, int writable, int create, qed_io **out)
{
    unsigned flags = create ? QED_IO_RDWR | QED_IO_CREATE
                   : writable ? QED_IO_RDWR : qt_read_flags();
    int rc = open_with_flags(path, flags, out);
    char why[4200];

    if (rc == QED_OK)
        return rc;
    describe_open_failure(why, sizeof(why), path, rc, errno, 0);
    qt_err("%s", why);
    *out = NULL;
    return rc;
}

/* 1 if nothing exists at path yet. */
int qt_path_is_new(const char *path)
{
    struct stat st;

    return lstat(path, &st) != 0 && errno == ENOENT;
}

/* Remove what a failed create left at path, if this run made it. */
void qt_remove_if_new(const char *path, int was_new)
{
    struct stat st;

    if (was_new && lstat(path, &st) == 0 && S_ISREG(st.st_mode))
        unlink(path);
}

/* A usage error: the reason and where to find the synopsis, one line. */
int qt_usage_error(const char *cmd, const char *text)
{
    qt_err("%s: %s (see 'qedtool help %s')", cmd, text, cmd);
    return QT_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* Argument scanner                                                   */
/* ------------------------------------------------------------------ */

/* Prepare to scan argv[1..]; operands are collected as they are met. */
int qt_args_init(qt_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->argc = argc;
    a->argv = argv;
    a->next = 1;
    a->operands = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
    return a->operands ? 0 : -1;
}

/* Release the operand list. */
void qt_args_free(qt_args *a)
{
    free(a->operands);
    a->operands = NULL;
}

/* The option in opts whose name is name (len bytes), or NULL. */
static const qt_option *find_option(const qt_option *opts, const char *name,
                                    size_t len)
{
    for (; opts->name; opts++) {
        if (strlen(opts->name) == len && memcmp(opts->name, name, len) == 0)
            return opts;
    }
    return NULL;
}

/* Take an option's value: the rest of the word (inline, may be NULL) or
 * the next argv word.  Returns the option id or QT_OPT_ERROR. */
static int take_value(qt_args *a, const qt_option *o, const char *inline_val,
                      const char **value)
{
    if (!o->takes_value) {
        if (inline_val) {
            qt_err("%s: option '%s' takes no value", a->argv[0], o->name);
            return QT_OPT_ERROR;
        }
        *value = NULL;
        return o->id;
    }
    if (inline_val) {
        *value = inline_val;
        return o->id;
    }
    if (a->next >= a->argc) {
        qt_err("%s: option '%s' needs a value (see 'qedtool help %s')",
               a->argv[0], o->name, a->argv[0]);
        return QT_OPT_ERROR;
    }
    *value = a->argv[a->next++];
    return o->id;
}

/* "--name" or "--name=value". */
static int scan_long(qt_args *a, const qt_option *opts, const char *word,
                     const char **value)
{
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) : strlen(word);
    const qt_option *o;

    if (len == 4 && memcmp(word, "help", 4) == 0 && !eq)
        return QT_OPT_HELP;
    o = len > 1 ? find_option(opts, word, len) : NULL;
    if (!o) {
        qt_err("%s: unknown option '--%.*s' (see 'qedtool help %s')",
               a->argv[0], (int)len, word, a->argv[0]);
        return QT_OPT_ERROR;
    }
    return take_value(a, o, eq ? eq + 1 : NULL, value);
}

/* "-x", "-xVALUE", "-x VALUE", or flags bundled as "-qr": the letters
 * after a flag are kept in a->bundle for the next call. */
static int scan_short(qt_args *a, const qt_option *opts, const char *word,
                      const char **value)
{
    const qt_option *o;

    a->bundle = NULL;
    if (word[0] == 'h')
        return QT_OPT_HELP;
    o = find_option(opts, word, 1);
    if (!o) {
        qt_err("%s: unknown option '-%c' (see 'qedtool help %s')",
               a->argv[0], word[0], a->argv[0]);
        return QT_OPT_ERROR;
    }
    if (!o->takes_value) {
        a->bundle = word[1] ? word + 1 : NULL;
        *value = NULL;
        return o->id;
    }
    return take_value(a, o, word[1] ? word + 1 : NULL, value);
}

/* Next option id; operands met on the way are stored in a->operands. */
int qt_args_next(qt_args *a, const qt_option *opts, const char **value)
{
    if (a->bundle)
        return scan_short(a, opts, a->bundle, value);
    while (a->next < a->argc) {
        const char *word = a->argv[a->next++];

        if (a->options_done || word[0] != '-' || word[1] == '\0') {
            a->operands[a->n_operands++] = word;
        } else if (strcmp(word, "--") == 0) {
            a->options_done = 1;
        } else if (word[1] == '-') {
            return scan_long(a, opts, word + 2, value);
        } else {
            return scan_short(a, opts, word + 1, value);
        }
    }
    return QT_OPT_END;
}

/* ------------------------------------------------------------------ */
/* Untrusted images: --no-backing, --backing-dir                      */
/* ------------------------------------------------------------------ */

enum qed_backing_policy qt_backing_policy(void)
{
    return backing_policy;
}

const char *qt_backing_dir(void)
{
    return backing_dir;
}

/* --no-backing or --backing-dir DIR; the two exclude each other. */
static int backing_option(const char *cmd, int id, const char *value)
{
    struct stat st;

    if (backing_policy != QED_BACKING_FOLLOW)
        return qt_usage_error(cmd, "--no-backing and --backing-dir are given "
                              "together or twice");
    if (id == QT_OPT_NO_BACKING) {
        backing_policy = QED_BACKING_NONE;
        return 0;
    }
    if (stat(value, &st) != 0) {
        qt_err("%s: --backing-dir %s: %s", cmd, value, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        qt_err("%s: --backing-dir %s: not a directory", cmd, value);
        return -1;
    }
    backing_policy = QED_BACKING_CONFINED;
    backing_dir = value;
    return 0;
}

/* Where a backing name leads under the policy (qedtool.h). */
int qt_backing_path(const char *image_path, int top, const char *name,
                    char *out, size_t out_len)
{
    if (backing_policy != QED_BACKING_CONFINED)
        return qed_resolve_backing(image_path, name, out, out_len);
    return qed_resolve_backing_confined(backing_dir, top ? NULL : image_path,
                                        name, out, out_len);
}

/* The option loop every subcommand shares (see qedtool.h). */
int qt_scan_options(qt_args *a, int argc, char **argv, const qt_option *opts,
                    qt_option_fn fn, void *ctx)
{
    const char *val;
    int id, status = -1;

    memset(a, 0, sizeof(*a));
    if (qt_args_init(a, argc, argv) != 0)
        return QT_EXIT_FAIL;
    while (status < 0 && (id = qt_args_next(a, opts, &val)) != QT_OPT_END) {
        if (id == QT_OPT_HELP)
            status = qt_print_help(stdout, argv[0]) ? QT_EXIT_FAIL : QT_EXIT_OK;
        else if (id == QT_OPT_NO_BACKING || id == QT_OPT_BACKING_DIR)
            status = backing_option(argv[0], id, val) ? QT_EXIT_FAIL : -1;
        else if (id == QT_OPT_ERROR || fn(ctx, id, val) != 0)
            status = QT_EXIT_FAIL;
    }
    return status;
}

/* ------------------------------------------------------------------ */
/* Sizes                                                              */
/* ------------------------------------------------------------------ */

/* The power-of-1024 shift of a size suffix letter, or -1. */
static int suffix_shift(char c)
{
    static const char letters[] = "bkmgtpe";
    const char *p;

    if (c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
    p = c ? strchr(letters, c) : NULL;
    return p ? (int)(p - letters) * 10 : -1;
}

/* Parse the digits at *p in base 10 or 16 into *out, advancing *p;
 * -1 on overflow or when there are no digits. */
static int parse_digits(const char **p, unsigned base, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int any = 0;

    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            break;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
        any = 1;
    }
    *p = s;
    *out = v;
    return any ? 0 : -1;
}

/* Decimal or 0x-hex with an optional binary suffix; overflow-checked. */
int qt_parse_size(const char *text, uint64_t *out)
{
    const char *p = text;
    unsigned base = 10;
    uint64_t v;
    int shift = 0;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (parse_digits(&p, base, &v) != 0)
        return -1;
    if (*p != '\0') {
        if (base == 16 || p[1] != '\0')
            return -1;
        shift = suffix_shift(*p);
        if (shift < 0)
            return -1;
    }
    if (shift > 0 && v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

/* HDR-9: image sizes are whole sectors; qemu-img rounds up. */
int qt_round_up_sector(uint64_t size, uint64_t *out)
{
    if (size > UINT64_MAX - (QED_SECTOR_SIZE - 1))
        return -1;
    *out = (size + QED_SECTOR_SIZE - 1) / QED_SECTOR_SIZE * QED_SECTOR_SIZE;
    return 0;
}

/* Parse a u32 option value (with size suffixes) into *out. */
static int parse_u32_option(const char *cmd, const char *key, const char *val,
                            uint32_t *out)
{
    uint64_t v;

    if (qt_parse_size(val, &v) != 0 || v > UINT32_MAX) {
        qt_err("%s: invalid value '%s' for option %s", cmd, val, key);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Apply one "key=value" pair of -o. */
static int apply_create_option(const char *cmd, const char *key,
                               const char *val, qed_create_opts *co)
{
    if (strcmp(key, "cluster_size") == 0)
        return parse_u32_option(cmd, key, val, &co->cluster_size);
    if (strcmp(key, "table_size") == 0)
        return parse_u32_option(cmd, key, val, &co->table_size);
    qt_err("%s: unknown -o option '%s' (known: cluster_size, table_size)",
           cmd, key);
    return -1;
}

/* Split text on ',' and '=' and apply each pair to co. */
int qt_parse_create_options(const char *cmd, const char *text,
                            qed_create_opts *co)
{
    char *copy = strdup(text);
    char *item, *save = NULL;
    int rc = 0;

    if (!copy) {
        qt_err_status(cmd, QED_ERR_NOMEM);
        return -1;
    }
    for (item = strtok_r(copy, ",", &save); item && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            qt_err("%s: -o option '%s' needs a value (key=value)", cmd, item);
            rc = -1;
        } else {
            *eq = '\0';
            rc = apply_create_option(cmd, item, eq + 1, co);
        }
    }
    free(copy);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Formats and images                                                 */
/* ------------------------------------------------------------------ */

/* -f / -F: "qed" always, "raw" only where the command reads raw files. */
int qt_check_format(const char *cmd, const char *fmt, int raw_ok)
{
    if (strcmp(fmt, "qed") == 0 || (raw_ok && strcmp(fmt, "raw") == 0))
        return 0;
    qt_err("%s: unsupported format '%s' (this command takes %s)", cmd, fmt,
           raw_ok ? "qed or raw" : "qed only");
    return -1;
}

/* --output=human|json */
int qt_parse_output(const char *cmd, const char *value, enum qt_output *out)
{
    if (strcmp(value, "human") == 0) {
        *out = QT_OUTPUT_HUMAN;
        return 0;
    }
    if (strcmp(value, "json") == 0) {
        *out = QT_OUTPUT_JSON;
        return 0;
    }
    qt_err("%s: --output must be 'human' or 'json', not '%s'", cmd, value);
    return -1;
}

/* While qt_image_open runs: where backing files' identities go, and why
 * the first one that failed did. */
typedef struct backing_ctx {
    qt_files *files;
    char why[4200];
    char last[4096];    /* the last backing file opened, or "" */
} backing_ctx;

/* 1 if the file at path is already one of f's files (a loop). */
static int files_have(const qt_files *f, const char *path)
{
    struct stat st;
    unsigned i;

    for (i = 0; stat(path, &st) == 0 && i < f->n; i++) {
        if (f->dev[i] == st.st_dev && f->ino[i] == st.st_ino)
            return 1;
    }
    return 0;
}

/* qed_open's backing opener: read-only (locked unless -U), recording the
 * file's identity or the reason it could not be opened, and the last path
 * opened (the image whose backing name a refusal is about). */
static int open_backing_file(void *ctx, const char *path, qed_io **out)
{
    backing_ctx *bc = ctx;
    int rc = open_with_flags(path, qt_read_flags(), out);

    if (rc != QED_OK) {
        if (!bc->why[0])
            describe_open_failure(bc->why, sizeof(bc->why), path, rc, errno, 1);
        return rc;
    }
    snprintf(bc->last, sizeof(bc->last), "%s", path);
    if (!bc->why[0] && files_have(bc->files, path))
        snprintf(bc->why, sizeof(bc->why), "'%s' is a file of the chain "
                 "above it: a loop", path);
    if (qt_files_add(bc->files, path) != 0) {  /* beyond any chain depth */
        snprintf(bc->why, sizeof(bc->why), "%s: more than %d files in the "
                 "chain", path, QT_CHAIN_FILES);
        qed_io_close(*out);
        *out = NULL;
        return QED_ERR_LIMIT;
    }
    return QED_OK;
}

/* ------------------------------------------------------------------ */
/* Limits: which one, and its value                                   */
/* ------------------------------------------------------------------ */

/* Name the qed_limits bound (default values, as qedtool opens images)
 * that an image with header h exceeds (qedtool.h). */
int qt_report_header_limit(const char *what, const qed_header *h)
{
    uint64_t value, tb = (uint64_t)h->table_size * h->cluster_size;
    const char *name = qed_header_limit(h, NULL, &value);

    if (!name)
        return 0;
    if (strcmp(name, "QED_MAX_BACKING_NAME") == 0)
        qt_err("%s: the backing file name has %" PRIu32 " bytes; libqed takes "
               "names shorter than QED_MAX_BACKING_NAME (%" PRIu64 " bytes)",
               what, h->backing_filename_size, value);
    else
        qt_err("%s: a table of table_size * cluster_size = %" PRIu64 " bytes "
               "exceeds the limit qed_limits.%s = %" PRIu64 " bytes%s", what,
               tb, name, value, strcmp(name, "max_table_bytes") == 0 ? ""
               : " (for the L1 table and the L2 cache together)");
    return 1;
}

/* After qed_open failed with QED_ERR_LIMIT on path: the bound the header
 * of image (path, or the deepest backing file opened) exceeds, else the
 * chain's bound. */
static void report_limit(const char *path, const char *image)
{
    uint8_t buf[QED_HEADER_BYTES];
    qed_limits lim;
    qed_header h;
    qed_io *io = NULL;
    int rc = qed_io_posix_open(image, QED_IO_NO_LOCK, &io);

    if (rc == QED_OK)
        rc = io->read(io, 0, buf, sizeof(buf));
    qed_io_close(io);
    qed_header_decode(buf, &h);
    if (rc == QED_OK && qed_header_validate(&h, UINT64_MAX) == QED_OK &&
        qt_report_header_limit(strcmp(path, image) ? image : path, &h))
        return;
    qed_limits_default(&lim);
    qt_err("%s: the tables of its backing chain (the L1 table and the L2 "
           "cache of each image) would exceed the limit "
           "qed_limits.max_chain_table_bytes = %" PRIu64 " bytes, or a "
           "backing path is too long", path, lim.max_chain_table_bytes);
}

/* The backing name stored in the image at path (read without its backing
 * file) into out, or "?" when it cannot be read. */
static void stored_backing_name(const char *path, char *out, size_t size)
{
    qed_open_opts opts;
    qed_image *img = NULL;
    qed_io *io = NULL;

    snprintf(out, size, "?");
    memset(&opts, 0, sizeof(opts));
    opts.flags = QED_OPEN_NO_BACKING;
    if (qed_io_posix_open(path, QED_IO_NO_LOCK, &io) == QED_OK &&
        qed_open(io, &opts, &img) == QED_OK && qed_backing_name(img))
        snprintf(out, size, "%s", qed_backing_name(img));
    qed_close(img);
    qed_io_close(io);
}

/* A backing name the policy could not follow: refused (QED_ERR_CONFINED)
 * or not resolvable inside --backing-dir (err: realpath's errno).  The
 * name is the one stored in the deepest image opened. */
static void report_confined(const char *path, int rc, int err,
                            const backing_ctx *bc)
{
    char name[4200], where[4300] = "";
    const char *holder = bc->last[0] ? bc->last : path;

    stored_backing_name(holder, name, sizeof(name));
    if (strcmp(holder, path) != 0)     /* deeper in the chain: say where */
        snprintf(where, sizeof(where), " (the name is stored in %s)", holder);
    if (rc == QED_ERR_CONFINED)
        qt_err("%s: backing file name '%s' refused: --backing-dir %s takes "
               "only relative names that stay inside it after links are "
               "followed%s", path, name, backing_dir, where);
    else
        qt_err("%s: backing file '%s' (in --backing-dir %s): %s%s", path, name,
               backing_dir, err ? strerror(err) : qed_strerror(rc), where);
}

/* Print why qed_open failed on path: the backing file's own reason, the
 * loop, the refused name, or libqed's text.  A bound of the chain (its
 * depth, its tables) is reported for label, the image the chain is for. */
static void report_open_failure(const char *path, const char *label, int rc,
                                int err, const backing_ctx *bc)
{
    if (rc == QED_E_CHAIN_DEPTH && !bc->why[0])
        qt_err_status(label, rc);
    else if ((rc == QED_ERR_BACKING || rc == QED_E_CHAIN_DEPTH) && bc->why[0])
        qt_err("%s: backing file %s (%s)", path, bc->why,
               rc == QED_ERR_BACKING ? "BACK-5" : "BACK-4");
    else if (rc == QED_ERR_CONFINED || (rc == QED_ERR_BACKING &&
                                        backing_policy == QED_BACKING_CONFINED))
        report_confined(path, rc, err, bc);
    else if (rc == QED_ERR_LIMIT && bc->why[0])
        qt_err("%s: backing file %s", path, bc->why);
    else if (rc == QED_ERR_LIMIT)
        report_limit(label, bc->last[0] ? bc->last : path);
    else
        qt_err_status(path, rc);
}

/* Open path with flags and limits lim; errors name path, a chain bound
 * label (see report_open_failure). */
static int image_open(const char *path, unsigned flags, const qed_limits *lim,
                      const char *label, qt_image *out)
{
    qed_open_opts opts;
    backing_ctx bc;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = qt_open_file(path, (flags & QED_OPEN_RDWR) != 0, 0, &out->io);
    if (rc != QED_OK)
        return rc;
    qt_files_add(&out->files, path);
    memset(&opts, 0, sizeof(opts));
    opts.flags = flags;
    opts.path = path;                  /* BACK-1: resolve relative names */
    opts.backing_policy = backing_policy;
    opts.backing_dir = backing_dir;
    opts.limits = lim;
    bc.files = &out->files;
    bc.why[0] = bc.last[0] = '\0';
    opts.open_backing = open_backing_file;
    opts.backing_ctx = &bc;
    errno = 0;
    rc = qed_open(out->io, &opts, &out->img);
    if (rc != QED_OK)
        report_open_failure(path, label, rc, errno, &bc);
    if (rc != QED_OK) {
        qed_io_close(out->io);
        out->io = NULL;
        out->img = NULL;
    }
    return rc;
}

/* Open the file and the QED image on it; errors name the file. */
int qt_image_open(const char *path, unsigned flags, qt_image *out)
{
    return image_open(path, flags, NULL, path, out);
}

/* Open path as the backing file of a new image label (see qedtool.h). */
int qt_image_open_below(const char *path, const char *label,
                        uint64_t label_table_bytes, qt_image *out)
{
    qed_limits lim;

    qed_limits_default(&lim);
    lim.max_chain_depth = lim.max_chain_depth ? lim.max_chain_depth - 1 : 0;
    lim.max_chain_table_bytes -= label_table_bytes < lim.max_chain_table_bytes
                                 ? label_table_bytes : lim.max_chain_table_bytes;
    return image_open(path, 0, &lim, label, out);
}

/* Record the device and inode of the file path names (links followed). */
int qt_files_add(qt_files *f, const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return 0;
    if (f->n == QT_CHAIN_FILES)
        return -1;
    f->dev[f->n] = st.st_dev;
    f->ino[f->n] = st.st_ino;
    f->n++;
    return 0;
}

/* The files of the image (and chain) at path, opened as fmt. */
int qt_chain_files(const char *path, const char *fmt, qt_files *f)
{
    int is_qed = fmt ? strcmp(fmt, "qed") == 0 : qt_probe_file(path, 1);
    qt_image im;

    memset(f, 0, sizeof(*f));
    if (is_qed < 0)
        return -1;
    if (!is_qed)
        return qt_files_add(f, path);
    if (qt_image_open(path, 0, &im) != QED_OK)
        return -1;
    *f = im.files;
    return qt_image_close(&im, path) == QED_OK ? 0 : -1;
}

/* Refuse to write dst when it is one of src's files (see qedtool.h). */
int qt_refuse_overwrite(const char *cmd, const char *dst, const qt_files *f,
                        const char *what, const char *src)
{
    struct stat st;
    unsigned i;

    if (stat(dst, &st) != 0)
        return 0;                      /* nothing there: nothing of src */
    for (i = 0; i < f->n; i++) {
        if (f->dev[i] == st.st_dev && f->ino[i] == st.st_ino) {
            qt_err("%s: %s is %s %s or a file of its backing chain; "
                   "refusing to overwrite it", cmd, dst, what, src);
            return -1;
        }
    }
    return 0;
}

/* The guard when the chain is not opened (see qedtool.h). */
int qt_refuse_unknown_chain_overwrite(const char *cmd, const char *dst,
                                      const char *src)
{
    struct stat st;

    if (stat(dst, &st) != 0)
        return 0;                      /* nothing there: nothing lost */
    qt_err("%s: %s exists and --no-backing does not open the backing chain "
           "of %s, so it cannot be shown not to be a file of it; refusing to "
           "overwrite it (remove it first)", cmd, dst, src);
    return -1;
}

/* create's guard: FILE must not be its own backing file or in its chain. */
int qt_refuse_backing_overwrite(const char *cmd, const char *file,
                                const char *name, const char *fmt)
{
    char path[4096];
    qt_files f;
    struct stat st;

    if (stat(file, &st) != 0)
        return 0;                      /* FILE is new: it overwrites nothing */
    if (qed_resolve_backing(file, name, path, sizeof(path)) != QED_OK) {
        qt_err_status(name, QED_ERR_LIMIT);
        return -1;
    }
    if (qt_chain_files(path, fmt, &f) != 0)
        return -1;
    return qt_refuse_overwrite(cmd, file, &f, "the backing file", path);
}

/* Close the image (WR-4 on a dirtied read-write image) and its file. */
int qt_image_close(qt_image *im, const char *path)
{
    int rc = qed_close(im->img);

    qed_io_close(im->io);
    im->img = NULL;
    im->io = NULL;
    if (rc != QED_OK)
        qt_err_status(path, rc);
    return rc;
}

/* BACK-2 style probe of a file: read up to the header size and look for the
 * magic.  A file shorter than the magic is not QED. */
int qt_probe_file(const char *path, int report)
{
    uint8_t buf[QED_HEADER_BYTES];
    uint64_t len = 0;
    qed_io *io = NULL;
    int rc = report ? qt_open_file(path, 0, 0, &io)
                    : qed_io_posix_open(path, qt_read_flags(), &io);

    if (rc != QED_OK)
        return -1;                     /* already reported if asked */
    rc = io->length(io, &len);
    if (rc == QED_OK && len > 0) {
        size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        rc = io->read(io, 0, buf, n);
        if (rc == QED_OK)
            rc = qed_probe(buf, n) ? 1 : 0;
    }
    qed_io_close(io);
    if (rc < 0) {
        if (report)
            qt_err_status(path, rc);
        return -1;
    }
    return rc;
}
