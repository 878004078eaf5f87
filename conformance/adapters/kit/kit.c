/*
 * kit.c - the adapter kit's subcommands (all but io, which is kit_io.c):
 * capabilities, info, convert, map, check, create, rebase and resize, with
 * qemu-img's flags in and its JSON and exit codes out, each run through
 * the implementer's kit_ops (qed_kit.h).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kit_int.h"

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

/* Print "NAME: CMD: <message>" on stderr, one line. */
void kit_err(const kit_ops *ops, const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: %s: ", ops->name ? ops->name : "adapter", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* "NAME: CMD: [FILE: ]WHAT failed[: errstr(status)]". */
void kit_err_op(const kit_ops *ops, const char *cmd, const char *file,
                const char *what, int status)
{
    const char *text = ops->errstr ? ops->errstr(status) : NULL;

    kit_err(ops, cmd, "%s%s%s failed%s%s", file ? file : "", file ? ": " : "",
            what, text ? ": " : "", text ? text : "");
}

/* ------------------------------------------------------------------ */
/* Arguments                                                          */
/* ------------------------------------------------------------------ */

/* The option of opts named by word ("-o" or "--output[=...]"), its value
 * inline after '=' in *inline_val; NULL when word names none. */
static const kit_opt *find_opt(const kit_opt *opts, const char *word,
                               const char **inline_val)
{
    const char *name = word + (word[1] == '-' ? 2 : 1);
    size_t len = strcspn(name, "=");

    *inline_val = name[len] == '=' ? name + len + 1 : NULL;
    for (; opts->name; opts++) {
        int is_long = strlen(opts->name) > 1;
        if (is_long == (word[1] == '-') && strlen(opts->name) == len &&
            strncmp(opts->name, name, len) == 0)
            return opts;
    }
    return NULL;
}

/* Take the option at argv[*i] (advancing *i past its value) and call fn. */
static int take_opt(const kit_ops *ops, int argc, char **argv, int *i,
                    const kit_opt *opts, kit_opt_fn fn, void *ctx)
{
    const char *val;
    const kit_opt *o = find_opt(opts, argv[*i], &val);

    if (!o) {
        kit_err(ops, argv[0], "unknown option '%s'", argv[*i]);
        return -1;
    }
    if (!o->takes_value && val) {
        kit_err(ops, argv[0], "option '%s' takes no value", o->name);
        return -1;
    }
    if (o->takes_value && !val) {
        if (*i + 1 >= argc) {
            kit_err(ops, argv[0], "option '%s' needs a value", argv[*i]);
            return -1;
        }
        val = argv[++*i];
    }
    return fn(ctx, o->name, val);
}

/* See kit_int.h. */
int kit_scan(const kit_ops *ops, int argc, char **argv, const kit_opt *opts,
             kit_opt_fn fn, void *ctx, kit_operands *out)
{
    int i, options_done = 0;

    out->n = 0;
    for (i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (!options_done && strcmp(w, "--") == 0) {
            options_done = 1;
        } else if (!options_done && w[0] == '-' && w[1] != '\0') {
            if (take_opt(ops, argc, argv, &i, opts, fn, ctx) != 0)
                return -1;
        } else if (out->n == KIT_MAX_OPERANDS) {
            kit_err(ops, argv[0], "too many operands");
            return -1;
        } else {
            out->word[out->n++] = w;
        }
    }
    return 0;
}

/* The power-of-1024 shift of a size suffix, or -1. */
static int suffix_shift(char c)
{
    static const char letters[] = "bkmgtpe";
    const char *p;

    if (c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
    p = c ? strchr(letters, c) : NULL;
    return p ? (int)(p - letters) * 10 : -1;
}

/* The digits at *p in base (10 or 16) into *out, advancing *p; -1 when
 * there is none or the value overflows. */
static int parse_digits(const char **p, unsigned base, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

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
    }
    if (s == *p)
        return -1;
    *p = s;
    *out = v;
    return 0;
}

/* See kit_int.h. */
int kit_parse_size(const char *text, uint64_t *out)
{
    unsigned base = (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) ? 16 : 10;
    const char *p = text + (base == 16 ? 2 : 0);
    uint64_t v;
    int shift = 0;

    if (parse_digits(&p, base, &v) != 0)
        return -1;
    if (*p != '\0') {                 /* one suffix letter, decimal only */
        if (base == 16 || p[1] != '\0' || (shift = suffix_shift(*p)) < 0)
            return -1;
    }
    if (shift > 0 && v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

/* What the options of a subcommand other than io said. */
typedef struct common_opts {
    const kit_ops *ops;
    const char *cmd;
    const char *repair;     /* check -r */
    const char *create_o;   /* create -o */
    const char *backing;    /* create/rebase -b */
    const char *backing_fmt;
    int unsafe;             /* rebase -u */
} common_opts;

/* A format name given with -f or -F: "qed", or "raw" where allowed. */
static int check_format(const common_opts *c, const char *fmt, int raw_ok)
{
    if (strcmp(fmt, "qed") == 0 || (raw_ok && strcmp(fmt, "raw") == 0))
        return 0;
    kit_err(c->ops, c->cmd, "unsupported format '%s'", fmt);
    return -1;
}

/* kit_opt_fn for every subcommand but io. */
static int common_option(void *ctx, const char *name, const char *val)
{
    common_opts *c = ctx;

    if (strcmp(name, "f") == 0)
        return check_format(c, val, 0);
    if (strcmp(name, "O") == 0 && strcmp(val, "raw") != 0) {
        kit_err(c->ops, c->cmd, "only -O raw is supported, not '%s'", val);
        return -1;
    }
    if (strcmp(name, "F") == 0) {
        c->backing_fmt = val;
        return check_format(c, val, 1);
    }
    if (strcmp(name, "output") == 0 && strcmp(val, "json") != 0) {
        kit_err(c->ops, c->cmd, "only --output=json is supported");
        return -1;
    }
    if (strcmp(name, "r") == 0)
        c->repair = val;
    else if (strcmp(name, "o") == 0)
        c->create_o = val;
    else if (strcmp(name, "b") == 0)
        c->backing = val;
    else if (strcmp(name, "u") == 0)
        c->unsafe = 1;
    return 0;                    /* -U, -q, -p: nothing to do */
}

/* Scan a subcommand's arguments; want operands exactly.  0 or -1. */
static int scan_common(const kit_ops *ops, int argc, char **argv,
                       const kit_opt *opts, common_opts *c, kit_operands *o,
                       int want)
{
    memset(c, 0, sizeof(*c));
    c->ops = ops;
    c->cmd = argv[0];
    if (kit_scan(ops, argc, argv, opts, common_option, c, o) != 0)
        return -1;
    if (o->n == want)
        return 0;
    kit_err(ops, argv[0], "expected %d operand%s, got %d", want,
            want == 1 ? "" : "s", o->n);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Opening and closing                                                */
/* ------------------------------------------------------------------ */

/* Open path with ops->open and read its size; 0, or -1 after saying why. */
static int open_image(const kit_ops *ops, const char *cmd, const char *path,
                      int writable, kit_image **img, uint64_t *size)
{
    int rc = ops->open(path, writable, img);

    if (rc != 0) {
        kit_err_op(ops, cmd, path, "open", rc);
        *img = NULL;
        return -1;
    }
    rc = ops->size(*img, size);
    if (rc == 0)
        return 0;
    kit_err_op(ops, cmd, path, "size", rc);
    ops->close(*img);
    *img = NULL;
    return -1;
}

/* Close img; status is the exit status so far, KIT_EXIT_FAIL if close
 * fails. */
static int close_image(const kit_ops *ops, const char *cmd, kit_image *img,
                       int status)
{
    int rc = ops->close(img);

    if (rc == 0)
        return status;
    kit_err_op(ops, cmd, NULL, "close", rc);
    return KIT_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* capabilities                                                       */
/* ------------------------------------------------------------------ */

/* See kit_int.h. */
int kit_supports(const kit_ops *ops, const char *cmd)
{
    if (strcmp(cmd, "info") == 0)
        return 1;
    if (strcmp(cmd, "convert") == 0)
        return ops->read != NULL;
    if (strcmp(cmd, "map") == 0)
        return ops->map != NULL;
    if (strcmp(cmd, "check") == 0)
        return ops->check != NULL;
    if (strcmp(cmd, "create") == 0)
        return ops->create != NULL;
    if (strcmp(cmd, "io") == 0)
        return ops->read && ops->write && ops->flush;
    if (strcmp(cmd, "rebase") == 0)
        return ops->set_backing != NULL;
    if (strcmp(cmd, "resize") == 0)
        return ops->resize != NULL;
    return 0;
}

static const char *const subcommands[] = {
    "create", "info", "check", "map", "convert", "io", "rebase", "resize", NULL
};

/* capabilities: the subcommands the ops can serve, one a line. */
static int cmd_capabilities(const kit_ops *ops)
{
    int i;

    for (i = 0; subcommands[i]; i++) {
        if (kit_supports(ops, subcommands[i]))
            printf("%s\n", subcommands[i]);
    }
    if (ops->create && (ops->create_honours & KIT_HONOURS_CLUSTER_SIZE))
        printf("create-cluster-size\n");
    if (ops->create && (ops->create_honours & KIT_HONOURS_TABLE_SIZE))
        printf("create-table-size\n");
    return KIT_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* info, map                                                          */
/* ------------------------------------------------------------------ */

static const kit_opt report_opts[] = {
    { "f", 1 }, { "output", 1 }, { "U", 0 }, { "force-share", 0 }, { NULL, 0 }
};

/* info [-f qed] [-U] --output=json FILE */
static int cmd_info(const kit_ops *ops, int argc, char **argv)
{
    common_opts c;
    kit_operands o;
    kit_image *img;
    uint64_t size;

    if (scan_common(ops, argc, argv, report_opts, &c, &o, 1) != 0 ||
        open_image(ops, "info", o.word[0], 0, &img, &size) != 0)
        return KIT_EXIT_FAIL;
    kit_print_info(stdout, o.word[0], size);
    return close_image(ops, "info", img, KIT_EXIT_OK);
}

/* Print every extent of img as map's JSON array; 0, or -1 after saying
 * why (the array is closed either way). */
static int walk_map(const kit_ops *ops, kit_image *img, uint64_t size)
{
    uint64_t off = 0;
    kit_extent e;
    int rc = 0;

    while (off < size && rc == 0) {
        memset(&e, 0, sizeof(e));
        rc = ops->map(img, off, size - off, &e);
        if (rc != 0) {
            kit_err_op(ops, "map", NULL, "map", rc);
        } else if (e.start != off || e.length == 0 || e.length > size - off) {
            kit_err(ops, "map", "the map op returned an extent at %llu+%llu "
                    "for offset %llu", (unsigned long long)e.start,
                    (unsigned long long)e.length, (unsigned long long)off);
            rc = -1;
        } else {
            kit_print_extent(stdout, &e, off == 0);
            off += e.length;
        }
    }
    fputs(off == 0 ? "[]\n" : "]\n", stdout);
    return rc == 0 ? 0 : -1;
}

/* map [-f qed] [-U] --output=json FILE */
static int cmd_map(const kit_ops *ops, int argc, char **argv)
{
    common_opts c;
    kit_operands o;
    kit_image *img;
    uint64_t size;

    if (scan_common(ops, argc, argv, report_opts, &c, &o, 1) != 0 ||
        open_image(ops, "map", o.word[0], 0, &img, &size) != 0)
        return KIT_EXIT_FAIL;
    return close_image(ops, "map", img,
                       walk_map(ops, img, size) == 0 ? KIT_EXIT_OK : KIT_EXIT_FAIL);
}

/* ------------------------------------------------------------------ */
/* convert                                                            */
/* ------------------------------------------------------------------ */

/* Bytes from off that read as zeroes by the map op (0 when unknown). */
static uint64_t zero_run(const kit_ops *ops, kit_image *img, uint64_t off,
                         uint64_t max)
{
    kit_extent e;

    memset(&e, 0, sizeof(e));
    if (!ops->map || ops->map(img, off, max, &e) != 0 || e.start != off ||
        !e.zero || e.length > max)
        return 0;
    return e.length;
}

/* 1 if all len bytes of buf are zero. */
static int all_zero(const unsigned char *buf, size_t len)
{
    return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

/* pwrite all len bytes; 0 or -1 (errno set). */
static int write_all(int fd, const unsigned char *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Copy the virtual disk into fd: zero runs and all-zero pieces become
 * holes; the length is set at the end.  0, or -1 after saying why. */
static int copy_out(const kit_ops *ops, kit_image *img, uint64_t size,
                    int fd, const char *dst)
{
    unsigned char *buf = malloc(KIT_PIECE);
    uint64_t off = 0;
    int rc = buf ? 0 : -1;

    while (rc == 0 && off < size) {
        uint64_t skip = zero_run(ops, img, off, size - off);
        size_t n = size - off < KIT_PIECE ? (size_t)(size - off) : KIT_PIECE;
        if (skip) {
            off += skip;
            continue;
        }
        rc = ops->read(img, off, buf, n);
        if (rc != 0)
            kit_err_op(ops, "convert", NULL, "read", rc);
        else if (!all_zero(buf, n) && write_all(fd, buf, n, off) != 0)
            rc = -1, kit_err(ops, "convert", "%s: %s", dst, strerror(errno));
        off += n;
    }
    if (rc == 0 && ftruncate(fd, (off_t)size) != 0)
        rc = -1, kit_err(ops, "convert", "%s: %s", dst, strerror(errno));
    free(buf);
    return rc == 0 ? 0 : -1;
}

/* 1 when a and b name the same existing file. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* convert -f qed -O raw [-U] [-p] [-q] SRC DST */
static int cmd_convert(const kit_ops *ops, int argc, char **argv)
{
    static const kit_opt opts[] = {
        { "f", 1 }, { "O", 1 }, { "U", 0 }, { "force-share", 0 }, { "p", 0 },
        { "q", 0 }, { NULL, 0 }
    };
    common_opts c;
    kit_operands o;
    kit_image *img;
    uint64_t size;
    int fd, status;

    if (scan_common(ops, argc, argv, opts, &c, &o, 2) != 0)
        return KIT_EXIT_FAIL;
    if (same_file(o.word[0], o.word[1])) {
        kit_err(ops, "convert", "%s is the source; refusing to overwrite it", o.word[1]);
        return KIT_EXIT_FAIL;
    }
    if (open_image(ops, "convert", o.word[0], 0, &img, &size) != 0)
        return KIT_EXIT_FAIL;
    fd = open(o.word[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        kit_err(ops, "convert", "%s: %s", o.word[1], strerror(errno));
    status = fd >= 0 && copy_out(ops, img, size, fd, o.word[1]) == 0
             ? KIT_EXIT_OK : KIT_EXIT_FAIL;
    if (fd >= 0 && close(fd) != 0) {
        kit_err(ops, "convert", "%s: %s", o.word[1], strerror(errno));
        status = KIT_EXIT_FAIL;
    }
    return close_image(ops, "convert", img, status);
}

/* ------------------------------------------------------------------ */
/* check                                                              */
/* ------------------------------------------------------------------ */

/* Check (repairing as asked); after a repair that fixed something, check
 * again so the counts are what remains, keeping the -fixed counts, as
 * qemu-img does.  0, or the failed op's status. */
static int run_check(const kit_ops *ops, const char *file, unsigned repair,
                     kit_check_result *r)
{
    kit_check_result again;
    int rc;

    memset(r, 0, sizeof(*r));
    rc = ops->check(file, repair, r);
    if (rc != 0 || !(r->corruptions_fixed || r->leaks_fixed))
        return rc;
    memset(&again, 0, sizeof(again));
    rc = ops->check(file, 0, &again);
    again.corruptions_fixed = r->corruptions_fixed;
    again.leaks_fixed = r->leaks_fixed;
    *r = again;
    return rc;
}

/* check [-f qed] [-r leaks|all] [-U] --output=json FILE: exit 0 clean, 1
 * incomplete, 2 corruptions, 3 leaks only. */
static int cmd_check(const kit_ops *ops, int argc, char **argv)
{
    static const kit_opt opts[] = {
        { "f", 1 }, { "output", 1 }, { "r", 1 }, { "q", 0 }, { "U", 0 },
        { "force-share", 0 }, { NULL, 0 }
    };
    common_opts c;
    kit_operands o;
    kit_check_result r;
    unsigned repair = 0;
    int rc;

    if (scan_common(ops, argc, argv, opts, &c, &o, 1) != 0)
        return KIT_EXIT_FAIL;
    if (c.repair && strcmp(c.repair, "leaks") == 0)
        repair = KIT_REPAIR_LEAKS;
    else if (c.repair && strcmp(c.repair, "all") == 0)
        repair = KIT_REPAIR_ALL;
    else if (c.repair) {
        kit_err(ops, "check", "-r takes 'leaks' or 'all', not '%s'", c.repair);
        return KIT_EXIT_FAIL;
    }
    rc = run_check(ops, o.word[0], repair, &r);
    if (rc != 0) {
        kit_err_op(ops, "check", o.word[0], "check", rc);
        return KIT_EXIT_FAIL;
    }
    kit_print_check(stdout, o.word[0], &r);
    return r.check_errors ? 1 : r.corruptions ? 2 : r.leaks ? 3 : KIT_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* create, rebase, resize                                             */
/* ------------------------------------------------------------------ */

/* One "key=value" of -o into a; 0 or -1 after saying why. */
static int create_pair(const kit_ops *ops, char *item, kit_create_args *a)
{
    char *eq = strchr(item, '=');
    uint64_t v;

    if (!eq || kit_parse_size(eq + 1, &v) != 0 || v > UINT32_MAX) {
        kit_err(ops, "create", "-o wants key=N, not '%s'", item);
        return -1;
    }
    *eq = '\0';
    unsigned bit = strcmp(item, "cluster_size") == 0 ? KIT_HONOURS_CLUSTER_SIZE
                   : strcmp(item, "table_size") == 0 ? KIT_HONOURS_TABLE_SIZE : 0;
    if (bit && !(ops->create_honours & bit)) {
        kit_err(ops, "create", "-o %s: this implementation does not honour it "
                "(its capabilities do not declare create-%s)", item,
                bit == KIT_HONOURS_CLUSTER_SIZE ? "cluster-size" : "table-size");
        return -1;
    }
    if (bit == KIT_HONOURS_CLUSTER_SIZE)
        a->cluster_size = (uint32_t)v;
    else if (bit == KIT_HONOURS_TABLE_SIZE)
        a->table_size = (uint32_t)v;
    else {
        kit_err(ops, "create", "unknown -o option '%s' (known: cluster_size, "
                "table_size)", item);
        return -1;
    }
    return 0;
}

/* -o cluster_size=N,table_size=N into a; 0 or -1. */
static int create_options(const kit_ops *ops, const char *text, kit_create_args *a)
{
    char buf[256], *item, *save = NULL;

    if (strlen(text) >= sizeof(buf)) {
        kit_err(ops, "create", "-o value too long");
        return -1;
    }
    strcpy(buf, text);
    for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (create_pair(ops, item, a) != 0)
            return -1;
    }
    return 0;
}

/* create [-f qed] [-o OPTS] [-b BACKING [-F FMT]] [-q] FILE SIZE */
static int cmd_create(const kit_ops *ops, int argc, char **argv)
{
    static const kit_opt opts[] = {
        { "f", 1 }, { "o", 1 }, { "b", 1 }, { "F", 1 }, { "q", 0 }, { NULL, 0 }
    };
    kit_create_args a;
    common_opts c;
    kit_operands o;
    int rc;

    if (scan_common(ops, argc, argv, opts, &c, &o, 2) != 0)
        return KIT_EXIT_FAIL;
    memset(&a, 0, sizeof(a));
    a.backing = c.backing;
    a.backing_format = c.backing ? c.backing_fmt : NULL;
    if (c.create_o && create_options(ops, c.create_o, &a) != 0)
        return KIT_EXIT_FAIL;
    if (kit_parse_size(o.word[1], &a.size) != 0) {
        kit_err(ops, "create", "invalid size '%s'", o.word[1]);
        return KIT_EXIT_FAIL;
    }
    rc = ops->create(o.word[0], &a);
    if (rc != 0)
        kit_err_op(ops, "create", o.word[0], "create", rc);
    return rc == 0 ? KIT_EXIT_OK : KIT_EXIT_FAIL;
}

/* rebase -u [-f qed] [-b NEW] [-F FMT] [-q] [-p] FILE: name only. */
static int cmd_rebase(const kit_ops *ops, int argc, char **argv)
{
    static const kit_opt opts[] = {
        { "f", 1 }, { "b", 1 }, { "F", 1 }, { "u", 0 }, { "q", 0 }, { "p", 0 },
        { NULL, 0 }
    };
    common_opts c;
    kit_operands o;
    kit_image *img;
    uint64_t size;
    const char *name;
    int rc;

    if (scan_common(ops, argc, argv, opts, &c, &o, 1) != 0)
        return KIT_EXIT_FAIL;
    if (!c.unsafe) {
        kit_err(ops, "rebase", "only -u (change the name, not the data) is supported");
        return KIT_EXIT_FAIL;
    }
    if (open_image(ops, "rebase", o.word[0], 1, &img, &size) != 0)
        return KIT_EXIT_FAIL;
    name = c.backing && c.backing[0] ? c.backing : NULL;
    rc = ops->set_backing(img, name, name ? c.backing_fmt : NULL);
    if (rc != 0)
        kit_err_op(ops, "rebase", NULL, "set_backing", rc);
    return close_image(ops, "rebase", img, rc == 0 ? KIT_EXIT_OK : KIT_EXIT_FAIL);
}

/* resize [-f qed] [-q] FILE [+]SIZE: grow. */
static int cmd_resize(const kit_ops *ops, int argc, char **argv)
{
    static const kit_opt opts[] = { { "f", 1 }, { "q", 0 }, { NULL, 0 } };
    common_opts c;
    kit_operands o;
    kit_image *img;
    uint64_t size, n;
    int rc, plus;

    if (scan_common(ops, argc, argv, opts, &c, &o, 2) != 0)
        return KIT_EXIT_FAIL;
    plus = o.word[1][0] == '+';
    if (kit_parse_size(o.word[1] + plus, &n) != 0) {
        kit_err(ops, "resize", "invalid size '%s'", o.word[1]);
        return KIT_EXIT_FAIL;
    }
    if (open_image(ops, "resize", o.word[0], 1, &img, &size) != 0)
        return KIT_EXIT_FAIL;
    if (plus && n > UINT64_MAX - size)
        rc = -1, kit_err(ops, "resize", "size '%s' is too large", o.word[1]);
    else if ((rc = ops->resize(img, plus ? size + n : n)) != 0)
        kit_err_op(ops, "resize", NULL, "resize", rc);
    return close_image(ops, "resize", img, rc == 0 ? KIT_EXIT_OK : KIT_EXIT_FAIL);
}

/* ------------------------------------------------------------------ */
/* The adapter                                                        */
/* ------------------------------------------------------------------ */

typedef int (*kit_cmd_fn)(const kit_ops *ops, int argc, char **argv);

/* The handler of the subcommand named cmd, or NULL. */
static kit_cmd_fn find_cmd(const char *cmd)
{
    static const struct { const char *name; kit_cmd_fn fn; } cmds[] = {
        { "info", cmd_info }, { "map", cmd_map }, { "convert", cmd_convert },
        { "check", cmd_check }, { "create", cmd_create }, { "io", kit_cmd_io },
        { "rebase", cmd_rebase }, { "resize", cmd_resize }
    };
    size_t i;

    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(cmds[i].name, cmd) == 0)
            return cmds[i].fn;
    }
    return NULL;
}

/* --help: what this program is and the subcommands its ops serve. */
static int cmd_help(const kit_ops *ops)
{
    int i;

    printf("Usage: %s SUBCOMMAND [ARG]...\n\n"
           "A qed-conform adapter built with the adapter kit: it takes the\n"
           "suite's calls (qemu-img's and qemu-io's flags, conformance/ADAPTERS.md)\n"
           "and runs them through a QED library.  Exit status 0 on success, 1 on\n"
           "a failure or a usage error; check exits 2 for corruptions, 3 for leaks\n"
           "only.\n\nSubcommands this implementation serves:\n  capabilities\n",
           ops->name ? ops->name : "adapter");
    for (i = 0; subcommands[i]; i++) {
        if (kit_supports(ops, subcommands[i]))
            printf("  %s\n", subcommands[i]);
    }
    return KIT_EXIT_OK;
}

/* See qed_kit.h. */
int kit_main(const kit_ops *ops, int argc, char **argv)
{
    kit_cmd_fn fn;

    if (!ops->open || !ops->size || !ops->close) {
        kit_err(ops, "kit", "the ops table lacks open, size or close");
        return KIT_EXIT_FAIL;
    }
    if (argc < 2) {
        kit_err(ops, "usage", "SUBCOMMAND ARGS... (see --help)");
        return KIT_EXIT_FAIL;
    }
    if (strcmp(argv[1], "capabilities") == 0)
        return cmd_capabilities(ops);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(ops);
    fn = find_cmd(argv[1]);
    if (!fn || !kit_supports(ops, argv[1])) {
        kit_err(ops, argv[1], fn ? "not supported by this implementation"
                                 : "unknown subcommand");
        return KIT_EXIT_FAIL;
    }
    return fn(ops, argc - 1, argv + 1);
}
