/*
 * kit_io.c - the kit's `io`: qemu-io's command language on one open image,
 * as the adapter contract uses it (conformance/ADAPTERS.md):
 *
 *   read [-P BYTE] [-q] OFF LEN       read; with -P every byte must be BYTE
 *   write [-P BYTE] [-z] [-q] OFF LEN write BYTE (default 0xcd) or zeroes
 *   flush                             the flush op
 *   truncate SIZE                     grow the disk (the resize op)
 *   quit                              stop here
 *
 * Commands come from -c, in order, or one a line from stdin without -c.
 * OFF, LEN and SIZE take k/M/G/T/P/E suffixes and need not be aligned.  A
 * request past the end of the disk fails before any op runs.  The first
 * command that fails ends the run with exit status 1.  `io --trace` is not
 * offered: the suite records a kit adapter through its LD_PRELOAD shim.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kit_int.h"

enum { MAX_WORDS = 16, MAX_LINE = 4096 };

/* One open image and its commands' shared state. */
typedef struct io_session {
    const kit_ops *ops;
    const char *file;
    kit_image *img;
    uint64_t size;             /* the virtual size, kept after truncate */
    unsigned char *buf;        /* KIT_PIECE bytes */
} io_session;

/* A parsed read or write. */
typedef struct io_request {
    const char *name;          /* "read" or "write" */
    uint64_t off, len;
    int pattern;               /* -P byte, or -1 */
    int zero;                  /* write -z */
    int quiet;                 /* -q */
} io_request;

/* A command error: "NAME: io: WHAT". */
static int io_error(const io_session *s, const char *what, const char *arg)
{
    kit_err(s->ops, "io", "%s%s%s", what, arg ? " " : "", arg ? arg : "");
    return -1;
}

/* An op that failed at off. */
static int op_failed(const io_session *s, const char *what, uint64_t off, int rc)
{
    char text[96];

    snprintf(text, sizeof(text), "%s at offset %" PRIu64, what, off);
    kit_err_op(s->ops, "io", s->file, text, rc);
    return -1;
}

/* The length of the piece of rq that starts pos bytes in. */
static size_t piece(const io_request *rq, uint64_t pos)
{
    uint64_t left = rq->len - pos;

    return left < KIT_PIECE ? (size_t)left : KIT_PIECE;
}

/* The whole request must lie on the disk; refused before any op runs. */
static int check_range(const io_session *s, const io_request *rq)
{
    char text[128];

    if (rq->len <= s->size && rq->off <= s->size - rq->len)
        return 0;
    snprintf(text, sizeof(text), "%s of %" PRIu64 " bytes at offset %" PRIu64
             " is past the end of the %" PRIu64 "-byte disk", rq->name, rq->len,
             rq->off, s->size);
    return io_error(s, text, NULL);
}

/* 1 if every byte of buf is pattern. */
static int matches(const unsigned char *buf, size_t len, int pattern)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i] != (unsigned char)pattern)
            return 0;
    }
    return 1;
}

/* read [-P BYTE] [-q] OFF LEN */
static int do_read(io_session *s, const io_request *rq)
{
    uint64_t pos;
    int ok = 1, rc;

    for (pos = 0; pos < rq->len; pos += piece(rq, pos)) {
        rc = s->ops->read(s->img, rq->off + pos, s->buf, piece(rq, pos));
        if (rc != 0)
            return op_failed(s, "read", rq->off + pos, rc);
        if (rq->pattern >= 0 && ok)
            ok = matches(s->buf, piece(rq, pos), rq->pattern);
    }
    if (!ok) {
        printf("Pattern verification failed at offset %" PRIu64 ", %" PRIu64
               " bytes\n", rq->off, rq->len);
        return -1;
    }
    if (!rq->quiet)
        printf("read %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n",
               rq->len, rq->len, rq->off);
    return 0;
}

/* write [-P BYTE] [-z] [-q] OFF LEN */
static int do_write(io_session *s, const io_request *rq)
{
    uint64_t pos;
    int rc;

    if (rq->zero && s->ops->write_zeroes) {
        rc = s->ops->write_zeroes(s->img, rq->off, rq->len);
        if (rc != 0)
            return op_failed(s, "write -z", rq->off, rc);
    } else {
        memset(s->buf, rq->zero ? 0 : rq->pattern >= 0 ? rq->pattern : 0xcd,
               piece(rq, 0));
        for (pos = 0; pos < rq->len; pos += piece(rq, pos)) {
            rc = s->ops->write(s->img, rq->off + pos, s->buf, piece(rq, pos));
            if (rc != 0)
                return op_failed(s, "write", rq->off + pos, rc);
        }
    }
    if (!rq->quiet)
        printf("wrote %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n",
               rq->len, rq->len, rq->off);
    return 0;
}

/* truncate SIZE: grow the disk with the resize op. */
static int do_truncate(io_session *s, int n, char **words)
{
    uint64_t size;
    int rc;

    if (n != 2 || kit_parse_size(words[1], &size) != 0)
        return io_error(s, "truncate: expected SIZE, got", n > 1 ? words[1] : "nothing");
    if (!s->ops->resize)
        return io_error(s, "truncate: this implementation cannot resize", NULL);
    rc = s->ops->resize(s->img, size);
    if (rc != 0)
        return op_failed(s, "truncate", size, rc);
    rc = s->ops->size(s->img, &s->size);
    return rc == 0 ? 0 : op_failed(s, "size", 0, rc);
}

/* A pattern byte, decimal or 0x-hex, 0..255; -1 otherwise. */
static int parse_pattern(const char *text)
{
    uint64_t v;

    if (!text || text[0] < '0' || text[0] > '9' || kit_parse_size(text, &v) != 0 ||
        v > 255)
        return -1;
    return (int)v;
}

/* "read|write [options] OFF LEN" from words into rq; 0 or -1. */
static int parse_request(const io_session *s, int n, char **words, io_request *rq)
{
    int i;

    memset(rq, 0, sizeof(*rq));
    rq->name = words[0];
    rq->pattern = -1;
    for (i = 1; i < n && words[i][0] == '-'; i++) {
        if (strcmp(words[i], "-q") == 0) {
            rq->quiet = 1;
        } else if (strcmp(words[i], "-z") == 0 && rq->name[0] == 'w') {
            rq->zero = 1;
        } else if (strcmp(words[i], "-P") == 0) {
            const char *v = i + 1 < n ? words[++i] : NULL;
            if ((rq->pattern = parse_pattern(v)) < 0)
                return io_error(s, "-P needs a byte value 0..255, not",
                                v ? v : "nothing");
        } else {
            return io_error(s, "unknown option", words[i]);
        }
    }
    if (n - i != 2)
        return io_error(s, rq->name, "expects OFF and LEN");
    if (kit_parse_size(words[i], &rq->off) != 0 ||
        kit_parse_size(words[i + 1], &rq->len) != 0)
        return io_error(s, "invalid offset or length in", rq->name);
    if (rq->zero && rq->pattern >= 0)
        return io_error(s, "write: -z and -P exclude each other", NULL);
    return check_range(s, rq);
}

/* Run one command line: 0, 1 for quit, -1 when it failed. */
static int run_command(io_session *s, const char *text)
{
    char line[MAX_LINE], *words[MAX_WORDS], *save = NULL, *w;
    io_request rq;
    int n = 0;

    if (strlen(text) >= sizeof(line))
        return io_error(s, "command too long", NULL);
    strcpy(line, text);
    for (w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == MAX_WORDS)
            return io_error(s, "too many words in", text);
        words[n++] = w;
    }
    if (n == 0 || words[0][0] == '#')
        return 0;
    if (strcmp(words[0], "read") == 0 || strcmp(words[0], "write") == 0) {
        if (parse_request(s, n, words, &rq) != 0)
            return -1;
        return words[0][0] == 'r' ? do_read(s, &rq) : do_write(s, &rq);
    }
    if (strcmp(words[0], "flush") == 0 && n == 1) {
        int rc = s->ops->flush(s->img);
        return rc == 0 ? 0 : op_failed(s, "flush", 0, rc);
    }
    if (strcmp(words[0], "truncate") == 0)
        return do_truncate(s, n, words);
    if ((strcmp(words[0], "quit") == 0 || strcmp(words[0], "q") == 0) && n == 1)
        return 1;
    return io_error(s, "unknown command (known: read, write, flush, truncate, "
                    "quit):", text);
}

/* Run the -c commands, or stdin's lines without any; 0 or -1. */
static int run_commands(io_session *s, const char *const *cmds, int n)
{
    char line[MAX_LINE];
    int i, rc = 0;

    for (i = 0; i < n && rc == 0; i++)
        rc = run_command(s, cmds[i]);
    while (n == 0 && rc == 0 && fgets(line, sizeof(line), stdin)) {
        if (!strchr(line, '\n') && !feof(stdin))
            return io_error(s, "command line too long", NULL);
        rc = run_command(s, line);
    }
    return rc < 0 ? -1 : 0;
}

/* What `io` was asked to do. */
typedef struct io_args {
    const kit_ops *ops;
    const char **cmds;         /* the -c values in order */
    int n_cmds;
    int readonly;
} io_args;

/* kit_opt_fn of io. */
static int io_option(void *ctx, const char *name, const char *val)
{
    io_args *a = ctx;

    if (strcmp(name, "c") == 0)
        a->cmds[a->n_cmds++] = val;
    else if (strcmp(name, "r") == 0)
        a->readonly = 1;
    else if (strcmp(name, "f") == 0 && strcmp(val, "qed") != 0) {
        kit_err(a->ops, "io", "unsupported format '%s'", val);
        return -1;
    } else if (strcmp(name, "trace") == 0 || strcmp(name, "trace-sector-size") == 0) {
        kit_err(a->ops, "io", "--%s: this adapter does not record traces "
                "(no 'io-trace' capability)", name);
        return -1;
    }
    return 0;                  /* -t MODE, -U: nothing to do */
}

/* io [-f qed] [-r] [-t MODE] [-U] FILE [-c CMD]... */
int kit_cmd_io(const kit_ops *ops, int argc, char **argv)
{
    static const kit_opt opts[] = {
        { "c", 1 }, { "f", 1 }, { "r", 0 }, { "t", 1 }, { "U", 0 },
        { "force-share", 0 }, { "trace", 1 }, { "trace-sector-size", 1 }, { NULL, 0 }
    };
    io_args a = { ops, calloc((size_t)argc + 1, sizeof(const char *)), 0, 0 };
    io_session s = { ops, NULL, NULL, 0, malloc(KIT_PIECE) };
    kit_operands o;
    int rc, status = KIT_EXIT_FAIL;

    if (!a.cmds || !s.buf)
        kit_err(ops, "io", "out of memory");
    else if (kit_scan(ops, argc, argv, opts, io_option, &a, &o) != 0)
        ;
    else if (o.n != 1)
        kit_err(ops, "io", "expected one FILE, got %d operands", o.n);
    else if ((rc = ops->open(o.word[0], !a.readonly, &s.img)) != 0)
        kit_err_op(ops, "io", o.word[0], "open", rc);
    else {
        s.file = o.word[0];
        rc = ops->size(s.img, &s.size);
        if (rc != 0)
            kit_err_op(ops, "io", s.file, "size", rc);
        status = rc == 0 && run_commands(&s, a.cmds, a.n_cmds) == 0
                 ? KIT_EXIT_OK : KIT_EXIT_FAIL;
        if ((rc = ops->close(s.img)) != 0) {
            kit_err_op(ops, "io", s.file, "close", rc);
            status = KIT_EXIT_FAIL;
        }
    }
    free(a.cmds);
    free(s.buf);
    return status;
}
