/*
 * qedtool.h - shared declarations of the qedtool command-line tool.
 *
 * qedtool is a client of libqed's public API (qed.h) only.  The files:
 *   qedtool.c          dispatch, usage text, help, version, capabilities
 *   qedtool_util.c     errors, argument scanner, sizes, opening images
 *   qedtool_json.c     JSON and human-readable output helpers
 *   qedtool_img.c      create, rebase, resize
 *   qedtool_info.c     info, check, map
 *   qedtool_convert.c  convert, compare (raw or QED sources)
 *   qedtool_io.c       io, the qemu-io command interpreter
 *   qedtool_dump.c     dump, the raw header and table printer
 */
#ifndef QEDTOOL_H
#define QEDTOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "qed.h"

/* Exit statuses shared by every subcommand (qemu-img uses 1 for usage and
 * open failures). */
enum { QT_EXIT_OK = 0, QT_EXIT_FAIL = 1 };

/* ---- errors (qedtool_util.c) ---------------------------------------- */

/* Print "qedtool: " + the formatted text + newline on stderr. */
void qt_err(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Print "qedtool: WHAT: <qed_strerror(status)>" on stderr; libqed's text
 * names the rule an image breaks. */
void qt_err_status(const char *what, int status);
/* qed_strerror(status), except for QED_ERR_BACKING under --no-backing: "the
 * range is not allocated in the image, and --no-backing opens no backing
 * file". */
const char *qt_strerror(int status);
/* Open (or with create, create) a file with libqed's POSIX layer, locked
 * as qed_io_posix_open locks (a read-only open without a lock after
 * qt_set_force_share); prints "qedtool: PATH: reason" on failure (the
 * type of a file that is not a regular file or block device, "image is
 * locked by another process", the system's text).  Returns a QED
 * status. */
int qt_open_file(const char *path, int writable, int create, qed_io **out);
/* -U / --force-share: every later read-only open takes and tests no lock
 * (qemu-img's flag).  The first such open prints a one-line warning that
 * what is read may be inconsistent if another process writes the file. */
void qt_set_force_share(void);
/* The qed_io_posix_open flags of a read-only open: 0, or QED_IO_NO_LOCK
 * after qt_set_force_share. */
unsigned qt_read_flags(void);
/* 1 if nothing exists at path yet (so a failed create may remove it). */
int qt_path_is_new(const char *path);
/* After a failed create: remove path if it was new and is a regular file;
 * an existing file, a device or a directory is never removed. */
void qt_remove_if_new(const char *path, int was_new);
/* Print "qedtool: CMD: TEXT" and the hint to run `qedtool help CMD`;
 * returns QT_EXIT_FAIL so callers can `return qt_usage_error(...)`. */
int qt_usage_error(const char *cmd, const char *text);

/* ---- argument scanner (qedtool_util.c) ------------------------------ */

/* One option a subcommand accepts: a short name ("f" for -f) or a long
 * one ("output" for --output), whether it takes a value, and the id the
 * scanner returns for it. */
typedef struct qt_option {
    const char *name;
    int takes_value;
    int id;
} qt_option;

enum { QT_OPT_END = 0, QT_OPT_ERROR = -1, QT_OPT_HELP = -2 };

/* Scanner state over argv[1..argc-1] of a subcommand (argv[0] is its
 * name).  Options and operands may be interleaved; "--" ends options. */
typedef struct qt_args {
    int argc;
    char **argv;
    int next;             /* next argv index to look at */
    const char **operands;/* operands in order (argc slots) */
    int n_operands;
    int options_done;     /* "--" was seen */
    const char *bundle;   /* flags left in a "-qr" word, or NULL */
} qt_args;

/* Set up a scanner; returns 0 or -1 when out of memory. */
int qt_args_init(qt_args *a, int argc, char **argv);
void qt_args_free(qt_args *a);
/* Next option: its id with *value set (or NULL), QT_OPT_END when argv is
 * used up, QT_OPT_HELP for -h/--help, QT_OPT_ERROR after printing why. */
int qt_args_next(qt_args *a, const qt_option *opts, const char **value);

/* Handle one option of a subcommand: 0 to go on, non-zero after reporting
 * why it is wrong. */
typedef int (*qt_option_fn)(void *ctx, int id, const char *value);

/* Scan all options of subcommand argv[0] through fn(ctx, ...), collecting
 * operands in a.  Returns -1 to go on, or the exit status to return at
 * once: 0 after printing --help, 1 on a usage error.  a must be released
 * with qt_args_free whatever the outcome. */
int qt_scan_options(qt_args *a, int argc, char **argv, const qt_option *opts,
                    qt_option_fn fn, void *ctx);

/* ---- untrusted images: --no-backing, --backing-dir (qedtool_util.c) -- */

/* Option ids every subcommand that opens an image puts in its table with
 * QT_BACKING_OPTIONS; qt_scan_options handles them itself and sets the
 * policy that every later qt_image_open uses (qed_open_opts's
 * backing_policy and backing_dir). */
enum { QT_OPT_NO_BACKING = 1000, QT_OPT_BACKING_DIR = 1001 };
#define QT_BACKING_OPTIONS \
    { "no-backing", 0, QT_OPT_NO_BACKING }, \
    { "backing-dir", 1, QT_OPT_BACKING_DIR }
/* The policy set by --no-backing / --backing-dir (QED_BACKING_FOLLOW when
 * neither was given) and its directory (NULL unless CONFINED). */
enum qed_backing_policy qt_backing_policy(void);
const char *qt_backing_dir(void);
/* Where the backing name of the image at image_path leads under the
 * policy: BACK-1, or with --backing-dir the confined path (top: 1 when
 * image_path is the image named on the command line).  A QED status. */
int qt_backing_path(const char *image_path, int top, const char *name,
                    char *out, size_t out_len);

/* ---- numbers and sizes (qedtool_util.c) ----------------------------- */

/* Parse a byte count: decimal or 0x-hex, optional suffix b/k/M/G/T/P/E
 * (case-insensitive, powers of 1024).  Returns 0 or -1 (bad text or
 * overflow). */
int qt_parse_size(const char *text, uint64_t *out);
/* Round up to a multiple of 512 (HDR-9); -1 on overflow. */
int qt_round_up_sector(uint64_t size, uint64_t *out);
/* Parse "-o cluster_size=N,table_size=N" into co.  -1 after printing
 * why. */
int qt_parse_create_options(const char *cmd, const char *text,
                            qed_create_opts *co);

/* ---- opening images (qedtool_util.c) -------------------------------- */

/* The files (device and inode, links followed) of an image and its
 * backing chain, so that a command can refuse to overwrite its input. */
enum { QT_CHAIN_FILES = 64 };   /* > the default max_chain_depth + 1 */
typedef struct qt_files {
    dev_t dev[QT_CHAIN_FILES];
    ino_t ino[QT_CHAIN_FILES];
    unsigned n;
} qt_files;

/* An open QED image with the file object it lives on. */
typedef struct qt_image {
    qed_io *io;
    qed_image *img;
    qt_files files;     /* the image and every backing file opened */
} qt_image;

/* Open path as a QED image with qed_open flags (QED_OPEN_*); the path is
 * passed as opts.path so relative backing names resolve (BACK-1), and the
 * backing files are opened read-only (locked as readers unless -U).
 * Prints "qedtool: PATH: reason" and returns non-zero on failure; a
 * backing file that cannot be opened is named with its own reason. */
int qt_image_open(const char *path, unsigned flags, qt_image *out);
/* Open path read-only, as qt_image_open, as the backing file of a new
 * image label whose two tables take label_table_bytes: the chain gets the
 * limits label's own open would leave it (one level of depth fewer, the
 * table bound less label_table_bytes), and a refusal for depth or tables
 * is reported as the open of label reports it, so that create -b never
 * makes an image its open refuses. */
int qt_image_open_below(const char *path, const char *label,
                        uint64_t label_table_bytes, qt_image *out);
/* Add the file at path (links followed) to f; a path that cannot be
 * stat'ed adds nothing.  0, or -1 when f is full. */
int qt_files_add(qt_files *f, const char *path);
/* The files of the image (and chain) at path opened as fmt ("raw", "qed"
 * or NULL to probe, BACK-2).  0, or -1 after printing why. */
int qt_chain_files(const char *path, const char *fmt, qt_files *f);
/* Before cmd writes dst: if dst (links followed) is one of the files of
 * src's chain, print "qedtool: CMD: DST is WHAT SRC or a file of its
 * backing chain; refusing to overwrite it" and return -1; else 0. */
int qt_refuse_overwrite(const char *cmd, const char *dst, const qt_files *f,
                        const char *what, const char *src);
/* Under --no-backing a chain below the files opened is unknown: if dst
 * exists, print "qedtool: CMD: DST exists and --no-backing does not open
 * the backing chain of SRC, so ..." and return -1 (dst might be a file of
 * that chain); else 0.  Call it only when SRC names a backing file. */
int qt_refuse_unknown_chain_overwrite(const char *cmd, const char *dst,
                                      const char *src);
/* create -b NAME FILE: refuse (as qt_refuse_overwrite) when FILE is the
 * backing file NAME names (resolved against FILE, BACK-1) or a file of its
 * chain; fmt as for qt_chain_files.  0, or -1 after printing why. */
int qt_refuse_backing_overwrite(const char *cmd, const char *file,
                                const char *name, const char *fmt);
/* If an image with header h (valid geometry) exceeds a bound of the
 * default qed_limits (qed_header_limit), print "qedtool: WHAT: ..." naming
 * the bound and its value and return 1; else 0.  qt_image_open reports
 * QED_ERR_LIMIT through it, and create refuses with it, so create never
 * makes what open refuses and both say the same. */
int qt_report_header_limit(const char *what, const qed_header *h);
/* Close; prints and returns non-zero when qed_close reports an error. */
int qt_image_close(qt_image *im, const char *path);
/* 1 if the file at path starts with the QED magic, 0 if not, -1 when it
 * cannot be read (printing why when report is non-zero). */
int qt_probe_file(const char *path, int report);
/* Check that a -f/-F value names a format this command accepts: "qed", or
 * also "raw" when raw_ok.  Prints a usage error and returns -1 if not. */
int qt_check_format(const char *cmd, const char *fmt, int raw_ok);

/* ---- output helpers (qedtool_json.c) -------------------------------- */

/* Print s as a JSON string literal (quotes included): quote, backslash
 * and control bytes escaped, well-formed UTF-8 kept, any other byte
 * written as \ufffd (U+FFFD, as qemu-img), so the output is valid JSON. */
void qt_json_string(FILE *out, const char *s);
/* Print a size as qemu-img does: "1 MiB", "32 KiB", "512 B". */
void qt_human_size(FILE *out, uint64_t bytes);

/* ---- output format option ------------------------------------------- */

enum qt_output { QT_OUTPUT_HUMAN, QT_OUTPUT_JSON };
/* Parse --output's value; -1 after a usage error. */
int qt_parse_output(const char *cmd, const char *value, enum qt_output *out);

/* ---- subcommands ---------------------------------------------------- */

int qt_cmd_create(int argc, char **argv);
int qt_cmd_info(int argc, char **argv);
int qt_cmd_check(int argc, char **argv);
int qt_cmd_map(int argc, char **argv);
int qt_cmd_convert(int argc, char **argv);
int qt_cmd_compare(int argc, char **argv);
int qt_cmd_rebase(int argc, char **argv);
int qt_cmd_resize(int argc, char **argv);
int qt_cmd_io(int argc, char **argv);
int qt_cmd_dump(int argc, char **argv);

/* Print the usage text of a subcommand (qedtool.c); returns 0, or -1 for
 * an unknown name. */
int qt_print_help(FILE *out, const char *cmd);

#endif /* QEDTOOL_H */
