/*
 * qedtool_io.c - `qedtool io`, an interpreter for qemu-io's command
 * vocabulary (read, write, write -z, flush, truncate) on one open image.
 *
 * Commands come from -c arguments, in order, or one per line from stdin
 * when there is no -c.  The first failing command stops the run (exit 1);
 * qemu-io goes on after a failure, which hides it in long scripts.
 * Requests of any length are served through one fixed buffer.
 *
 * With --trace LOG the image file is opened on libqed's recorder I/O layer
 * (qed_io_recorder_new) from before qed_open to after qed_close, so the
 * trace holds the open (WR-5 repair, HDR-7 clearing), every command's
 * writes and flushes, and the close (WR-4); MARKs "op:N" and "flush:N"
 * (spec section 9, "Trace encodings") tie it to the commands.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "qed_trace.h"
#include "qedtool.h"

enum { IO_BUF_BYTES = 1024 * 1024 };   /* per-call request size */
enum { MAX_WORDS = 16 };               /* words in one command */
enum { MAX_LINE = 4096 };              /* bytes in one stdin command */

enum { OPT_FORMAT = 1, OPT_READONLY, OPT_CACHE, OPT_COMMAND, OPT_TRACE,
       OPT_TRACE_SECTOR, OPT_FORCE_SHARE };

/* One open image and the state shared by its commands. */
typedef struct io_session {
    const char *file;
    qed_image *img;
    uint8_t *buf;              /* IO_BUF_BYTES */
    qed_io *rec;               /* the recorder with --trace, else NULL */
    const char *trace;         /* its log's path */
    uint64_t ops;              /* commands run so far (op:N) */
    uint64_t flushes;          /* flush commands completed (flush:N) */
} io_session;

/* A parsed read or write command. */
typedef struct io_request {
    const char *name;          /* "read" / "write" */
    uint64_t off, len;
    int pattern;               /* -P byte, or -1 */
    int zero;                  /* write -z */
    int quiet;                 /* -q */
} io_request;

/* ------------------------------------------------------------------ */
/* Reporting, in qemu-io's words                                       */
/* ------------------------------------------------------------------ */

/* Seconds on the monotonic clock. */
static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Format value with a binary unit, "4 KiB" or "6.192 MiB", into out. */
static void format_amount(char *out, size_t size, double value)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB",
                                         "TiB", "PiB", "EiB" };
    unsigned i = 0;
    char *dot;

    while (i < 6 && value >= 1024.0) {
        value /= 1024.0;
        i++;
    }
    snprintf(out, size, "%.3f", value);
    dot = strstr(out, ".000");
    if (dot)
        *dot = '\0';
    snprintf(out + strlen(out), size - strlen(out), " %s", units[i]);
}

/* The two lines qemu-io prints after a successful read or write. */
static void report_done(const io_request *rq, const char *verb, double secs)
{
    char amount[32], rate[32];

    if (rq->quiet)
        return;
    if (secs <= 0)
        secs = 1e-9;
    printf("%s %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n", verb,
           rq->len, rq->len, rq->off);
    format_amount(amount, sizeof(amount), (double)rq->len);
    format_amount(rate, sizeof(rate), (double)rq->len / secs);
    printf("%s, 1 ops; %05.2f sec (%s/sec and %.4f ops/sec)\n", amount, secs,
           rate, 1.0 / secs);
}

static int cmd_error(const char *name, const char *text, const char *arg);

/* A failed libqed call during command name. */
static int io_fail(const io_session *s, const char *name, uint64_t off,
                   int rc)
{
    qt_err("%s: %s failed at offset %" PRIu64 ": %s", s->file, name, off,
           qt_strerror(rc));
    return -1;
}

/* ------------------------------------------------------------------ */
/* Commands                                                           */
/* ------------------------------------------------------------------ */

/* The size of the next piece of a request at pos. */
static size_t piece(const io_request *rq, uint64_t pos)
{
    uint64_t left = rq->len - pos;

    return left < IO_BUF_BYTES ? (size_t)left : IO_BUF_BYTES;
}

/* 1 if every byte of buf is the pattern byte. */
static int matches_pattern(const uint8_t *buf, size_t len, int pattern)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i] != (uint8_t)pattern)
            return 0;
    }
    return 1;
}

/* XLT-3: the whole request must lie on the disk; it is refused before
 * any piece of it runs, so a failed request changes nothing. */
static int check_range(const io_session *s, const char *name, const io_request *rq)
{
    uint64_t size = qed_get_header(s->img)->image_size;

    if (rq->len <= size && rq->off <= size - rq->len)
        return 0;
    qt_err("%s: %s of %" PRIu64 " bytes at offset %" PRIu64 " is past the end "
           "of the %" PRIu64 "-byte disk (XLT-3)", s->file, name, rq->len,
           rq->off, size);
    return -1;
}

/* read [-P PATTERN] [-q] OFF LEN */
static int do_read(io_session *s, const io_request *rq)
{
    double t0 = now_seconds();
    uint64_t pos;
    int ok = 1;

    if (check_range(s, "read", rq) != 0)
        return -1;

    for (pos = 0; pos < rq->len; pos += piece(rq, pos)) {
        int rc = qed_read(s->img, rq->off + pos, s->buf, piece(rq, pos));
        if (rc != QED_OK)
            return io_fail(s, "read", rq->off + pos, rc);
        if (rq->pattern >= 0 && ok)
            ok = matches_pattern(s->buf, piece(rq, pos), rq->pattern);
    }
    if (!ok) {
        printf("Pattern verification failed at offset %" PRIu64
               ", %" PRIu64 " bytes\n", rq->off, rq->len);
        return -1;
    }
    report_done(rq, "read", now_seconds() - t0);
    return 0;
}

/* write [-P PATTERN] [-z] [-q] OFF LEN; the default pattern is 0xcd. */
static int do_write(io_session *s, const io_request *rq)
{
    double t0 = now_seconds();
    uint64_t pos;
    int rc;

    if (check_range(s, "write", rq) != 0)
        return -1;
    if (rq->zero) {
        rc = qed_write_zeroes(s->img, rq->off, rq->len);   /* WR-8 */
        if (rc != QED_OK)
            return io_fail(s, "write -z", rq->off, rc);
    } else {
        memset(s->buf, rq->pattern >= 0 ? rq->pattern : 0xcd,
               piece(rq, 0));
        for (pos = 0; pos < rq->len; pos += piece(rq, pos)) {
            rc = qed_write(s->img, rq->off + pos, s->buf, piece(rq, pos));
            if (rc != QED_OK)
                return io_fail(s, "write", rq->off + pos, rc);
        }
    }
    report_done(rq, "wrote", now_seconds() - t0);
    return 0;
}

/* With --trace, append the MARK "WHAT:N"; 0, or -1 after printing why. */
static int trace_mark(io_session *s, const char *what, uint64_t n)
{
    char text[48];
    int rc;

    if (!s->rec)
        return 0;
    snprintf(text, sizeof(text), "%s:%" PRIu64, what, n);
    rc = qed_io_recorder_mark(s->rec, text);
    if (rc == QED_OK)
        return 0;
    qt_err("%s: cannot append the mark \"%s\": %s", s->trace, text,
           qt_strerror(rc));
    return -1;
}

/* flush; with --trace, "flush:N" once it has completed. */
static int do_flush(io_session *s)
{
    int rc = qed_flush(s->img);

    if (rc != QED_OK)
        return io_fail(s, "flush", 0, rc);
    return trace_mark(s, "flush", s->flushes++);
}

/* truncate SIZE: grow the disk to SIZE bytes (WR-9: never shrink). */
static int do_truncate(io_session *s, int n, char **words)
{
    uint64_t size;
    int rc;

    if (n != 2)
        return cmd_error("truncate", "expected SIZE", NULL);
    if (qt_parse_size(words[1], &size) != 0)
        return cmd_error("truncate", "invalid size", words[1]);
    rc = qed_resize(s->img, size);
    if (rc == QED_OK)
        return 0;
    qt_err("%s: truncate to %" PRIu64 " bytes failed: %s", s->file, size,
           qt_strerror(rc));
    return -1;
}

/* ------------------------------------------------------------------ */
/* Parsing one command                                                */
/* ------------------------------------------------------------------ */

/* Split line (modified in place) into at most MAX_WORDS words. */
static int split_words(char *line, char *words[MAX_WORDS])
{
    int n = 0;
    char *save = NULL, *w;

    for (w = strtok_r(line, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == MAX_WORDS)
            return -1;
        words[n++] = w;
    }
    return n;
}

/* A pattern byte as qemu-io takes it: decimal or 0x-hex, 0..255. */
static int parse_pattern(const char *text)
{
    uint64_t v;

    if (qt_parse_size(text, &v) != 0 || v > 255 ||
        (text[0] < '0' || text[0] > '9'))
        return -1;
    return (int)v;
}

/* A command-level error: prints "qedtool: io: NAME: TEXT". */
static int cmd_error(const char *name, const char *text, const char *arg)
{
    qt_err("io: %s: %s%s%s", name, text, arg ? " " : "", arg ? arg : "");
    return -1;
}

/* Apply one option word of read/write to rq; value is the next word. */
static int request_option(io_request *rq, const char *opt, const char *value,
                          int *used_value)
{
    int is_write = strcmp(rq->name, "write") == 0;

    *used_value = 0;
    if (strcmp(opt, "-q") == 0)
        rq->quiet = 1;
    else if (is_write && strcmp(opt, "-z") == 0)
        rq->zero = 1;
    else if (strcmp(opt, "-P") == 0) {
        if (!value || (rq->pattern = parse_pattern(value)) < 0)
            return cmd_error(rq->name, "-P needs a byte value, not",
                             value ? value : "nothing");
        *used_value = 1;
    } else
        return cmd_error(rq->name, "unknown option", opt);
    return 0;
}

/* Parse "read|write [options] OFF LEN" from words into rq. */
static int parse_request(int n, char **words, io_request *rq)
{
    int i = 1, used;

    memset(rq, 0, sizeof(*rq));
    rq->name = words[0];
    rq->pattern = -1;
    for (; i < n && words[i][0] == '-'; i += 1 + used) {
        if (request_option(rq, words[i], i + 1 < n ? words[i + 1] : NULL,
                           &used) != 0)
            return -1;
    }
    if (n - i != 2)
        return cmd_error(rq->name, "expected OFF and LEN", NULL);
    if (qt_parse_size(words[i], &rq->off) != 0)
        return cmd_error(rq->name, "invalid offset", words[i]);
    if (qt_parse_size(words[i + 1], &rq->len) != 0)
        return cmd_error(rq->name, "invalid length", words[i + 1]);
    if (rq->zero && rq->pattern >= 0)
        return cmd_error(rq->name, "-z and -P exclude each other", NULL);
    return 0;
}

/* Run one command line.  Returns 0, 1 for "quit", or -1 on failure. */
static int run_command(io_session *s, const char *text)
{
    char line[MAX_LINE];
    char *words[MAX_WORDS];
    io_request rq;
    int n;

    if (strlen(text) >= sizeof(line))
        return cmd_error("command", "too long", NULL);
    strcpy(line, text);
    n = split_words(line, words);
    if (n < 0)
        return cmd_error("command", "too many words in", text);
    if (n == 0 || words[0][0] == '#')
        return 0;
    if (trace_mark(s, "op", s->ops++) != 0)
        return -1;
    if (strcmp(words[0], "read") == 0 || strcmp(words[0], "write") == 0) {
        if (parse_request(n, words, &rq) != 0)
            return -1;
        return words[0][0] == 'r' ? do_read(s, &rq) : do_write(s, &rq);
    }
    if (strcmp(words[0], "flush") == 0 && n == 1)
        return do_flush(s);
    if (strcmp(words[0], "truncate") == 0)
        return do_truncate(s, n, words);
    if ((strcmp(words[0], "quit") == 0 || strcmp(words[0], "q") == 0) &&
        n == 1)
        return 1;
    qt_err("io: command \"%s\" not found (known: read, write, flush, "
           "truncate, quit)", text);
    return -1;
}

/* Run commands read from stdin, one per line, until EOF or quit. */
static int run_stdin(io_session *s)
{
    char line[MAX_LINE];
    int rc = 0;

    while (rc == 0 && fgets(line, sizeof(line), stdin)) {
        char *nl = strchr(line, '\n');
        if (!nl && !feof(stdin))
            return cmd_error("command", "line too long", NULL);
        if (nl)
            *nl = '\0';
        rc = run_command(s, line);
    }
    return rc < 0 ? -1 : 0;
}

/* Run the -c commands in order; the first failure stops them. */
static int run_list(io_session *s, const char *const *cmds, int n)
{
    int i, rc = 0;

    for (i = 0; i < n && rc == 0; i++)
        rc = run_command(s, cmds[i]);
    return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The subcommand                                                     */
/* ------------------------------------------------------------------ */

/* What `io` was asked to do. */
typedef struct io_args {
    const char *file;
    const char **cmds;         /* the -c values in order */
    int n_cmds;
    int readonly;
    int force_share;           /* -U: with -r, read without a lock */
    const char *trace;         /* --trace LOG, or NULL */
    uint32_t trace_sector;     /* --trace-sector-size, 0 when not given */
} io_args;

/* -t: qemu-io's cache modes are accepted; qedtool always runs writeback
 * (flushes only where the format's ordering rules or `flush` need them). */
static int check_cache_mode(const char *mode)
{
    static const char *const modes[] = { "none", "writeback", "writethrough",
                                         "directsync", "unsafe", NULL };
    int i;

    for (i = 0; modes[i]; i++) {
        if (strcmp(mode, modes[i]) == 0)
            return 0;
    }
    qt_err("io: unknown cache mode '%s'", mode);
    return -1;
}

/* --trace-sector-size: a power of two in [512, 65536] (qed_trace.h). */
static int parse_trace_sector(const char *val, uint32_t *out)
{
    uint64_t v;

    if (qt_parse_size(val, &v) != 0 || v < QED_TRACE_MIN_SECTOR ||
        v > QED_TRACE_MAX_SECTOR || (v & (v - 1)) != 0) {
        qt_usage_error("io", "--trace-sector-size must be a power of two "
                       "in [512, 65536], such as 512 or 4096");
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Apply one io option; 0, or -1 after printing why. */
static int io_option(void *ctx, int id, const char *val)
{
    io_args *ia = ctx;

    switch (id) {
    case OPT_FORMAT:
        return qt_check_format("io", val, 0);
    case OPT_READONLY:
        ia->readonly = 1;
        return 0;
    case OPT_CACHE:
        return check_cache_mode(val);
    case OPT_COMMAND:
        ia->cmds[ia->n_cmds++] = val;
        return 0;
    case OPT_TRACE:
        ia->trace = val;
        return 0;
    case OPT_TRACE_SECTOR:
        return parse_trace_sector(val, &ia->trace_sector);
    case OPT_FORCE_SHARE:
        ia->force_share = 1;
        qt_set_force_share();
        return 0;
    default:
        return -1;
    }
}

/* Parse io's command line.  Returns -1 to go on, or an exit status. */
static int parse_io_args(int argc, char **argv, io_args *ia)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "r", 0, OPT_READONLY },
        { "t", 1, OPT_CACHE }, { "c", 1, OPT_COMMAND },
        { "trace", 1, OPT_TRACE }, { "trace-sector-size", 1, OPT_TRACE_SECTOR },
        { "U", 0, OPT_FORCE_SHARE }, { "force-share", 0, OPT_FORCE_SHARE },
        QT_BACKING_OPTIONS, { NULL, 0, 0 }
    };
    qt_args a;
    int status;

    memset(ia, 0, sizeof(*ia));
    ia->cmds = calloc((size_t)argc, sizeof(char *));
    if (!ia->cmds)
        return QT_EXIT_FAIL;
    status = qt_scan_options(&a, argc, argv, opts, io_option, ia);
    if (status < 0 && a.n_operands != 1)
        status = qt_usage_error("io", a.n_operands ? "too many operands"
                                                   : "missing FILE");
    if (status < 0 && ia->trace_sector && !ia->trace)
        status = qt_usage_error("io", "--trace-sector-size needs --trace");
    if (status < 0 && ia->force_share && !ia->readonly)
        status = qt_usage_error("io", "-U (--force-share) reads without a "
                                "lock, so it needs -r");
    if (status < 0)
        ia->file = a.operands[0];
    qt_args_free(&a);
    return status;
}

/* 1 when a and b name the same existing file. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Open the image file on a recorder logging to a new (truncated) LOG;
 * sets im->io to the recorder.  0, or -1 after printing why. */
static int open_recorder(const io_args *ia, qt_image *im)
{
    qed_io *file = NULL, *log = NULL;
    int rc;

    if (same_file(ia->file, ia->trace)) {
        qt_err("io: --trace %s is the image itself", ia->trace);
        return -1;
    }
    if (qt_open_file(ia->file, !ia->readonly, 0, &file) != QED_OK)
        return -1;
    if (qt_open_file(ia->trace, 1, 1, &log) != QED_OK) {
        qed_io_close(file);
        return -1;
    }
    rc = qed_io_recorder_new(file, log, ia->trace_sector ? ia->trace_sector : 512,
                             &im->io);
    if (rc == QED_OK)
        return 0;
    qt_err("%s: cannot start the trace: %s", ia->trace, qed_strerror(rc));
    qed_io_close(file);
    qed_io_close(log);
    return -1;
}

/* Open the session's image: as qt_image_open, or with --trace on the
 * recorder (s->rec).  0, or -1 after printing why. */
static int session_open(const io_args *ia, io_session *s, qt_image *im)
{
    unsigned flags = ia->readonly ? 0 : QED_OPEN_RDWR;
    qed_open_opts opts;
    int rc;

    if (!ia->trace)
        return qt_image_open(ia->file, flags, im) == QED_OK ? 0 : -1;
    memset(im, 0, sizeof(*im));
    if (open_recorder(ia, im) != 0)
        return -1;
    s->rec = im->io;
    s->trace = ia->trace;
    memset(&opts, 0, sizeof(opts));
    opts.flags = flags;
    opts.path = ia->file;              /* BACK-1: resolve relative names */
    opts.backing_policy = qt_backing_policy();
    opts.backing_dir = qt_backing_dir();
    rc = qed_open(im->io, &opts, &im->img);
    if (rc == QED_OK)
        return 0;
    qt_err_status(ia->file, rc);
    qed_io_close(im->io);              /* the log keeps what the open wrote */
    return -1;
}

/* Close the session's image (WR-4), then, with --trace, bring the log's
 * superblock up to date and close it.  0, or -1 after printing why. */
static int session_close(io_session *s, qt_image *im)
{
    qed_io *rec = s->rec;
    int rc, frc;

    if (!rec)
        return qt_image_close(im, s->file) == QED_OK ? 0 : -1;
    rc = qed_close(im->img);
    if (rc != QED_OK)
        qt_err_status(s->file, rc);
    frc = qed_io_recorder_finish(rec);
    if (frc != QED_OK)
        qt_err("%s: cannot finish the trace: %s", s->trace, qed_strerror(frc));
    qed_io_close(rec);
    im->img = NULL;
    im->io = NULL;
    return rc == QED_OK && frc == QED_OK ? 0 : -1;
}

/* qedtool io [-f qed] [-r] [-t MODE] [--trace LOG [--trace-sector-size N]]
 * FILE [-c CMD ...] */
int qt_cmd_io(int argc, char **argv)
{
    io_args ia;
    io_session s;
    qt_image im;
    int rc, status = parse_io_args(argc, argv, &ia);

    if (status >= 0) {
        free(ia.cmds);
        return status;
    }
    memset(&s, 0, sizeof(s));
    s.file = ia.file;
    s.buf = malloc(IO_BUF_BYTES);
    if (!s.buf)
        qt_err_status("io", QED_ERR_NOMEM);
    if (!s.buf || session_open(&ia, &s, &im) != 0) {
        free(s.buf);
        free(ia.cmds);
        return QT_EXIT_FAIL;
    }
    s.img = im.img;
    rc = ia.n_cmds ? run_list(&s, ia.cmds, ia.n_cmds) : run_stdin(&s);
    if (session_close(&s, &im) != 0)
        rc = -1;
    free(s.buf);
    free(ia.cmds);
    return rc == 0 ? QT_EXIT_OK : QT_EXIT_FAIL;
}
