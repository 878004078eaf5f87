/*
 * conform_case.c - run one manifest case against an adapter: scratch
 * directory, adapter calls, the checks of each family (MANIFEST.md), and
 * --keep-failures.
 */
#include "conform.h"
#include "../lib/files.h"
#include "../lib/le.h"
#include "../crash/crash.h"
#include "conform_guard.h"
#include "conform_keep.h"
#include "conform_map.h"
#include "conform_proc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

#define LOG_MAX 16384
#define MAX_ARGS 4096

enum { TOOL_ADAPTER, TOOL_REFERENCE };

/* Everything one case run needs. */
typedef struct {
    const conform_config *cfg;
    const conform_case *c;
    case_result *r;
    char dir[PATH_MAX];     /* scratch directory ("" before it exists) */
    double budget;          /* seconds of adapter/reference time left */
    char log[LOG_MAX];      /* the command lines run, for --keep-failures */
    size_t log_len;
    int timed_out;          /* a command hung: run nothing more */
    cg_inputs inputs;       /* the staged input files (reading must not write) */
    char unchecked[512];    /* the parts not judged, each with the capability lacking */
    unsigned checked;       /* how many parts of the case were judged */
    int no_backing;         /* pass --no-backing to the ref adapter */
} case_ctx;

static const char *const cap_names[] = {
    "create", "info", "check", "map", "convert", "io", "rebase", "resize", "io-trace",
    "create-cluster-size", "create-table-size"
};

const char *conform_cap_name(unsigned cap)
{
    for (unsigned i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
        if (cap == 1u << i)
            return cap_names[i];
    return "?";
}

unsigned conform_cap_from_name(const char *name)
{
    for (unsigned i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
        if (strcmp(name, cap_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *conform_status_name(case_status s)
{
    return s == CS_PASS ? "pass" : s == CS_FAIL ? "fail" : "skip";
}

/* Append formatted text to buf (size cap), keeping it NUL-terminated and
 * silently cutting what does not fit. */
static void PRINTF_LIKE(3, 0) vappend(char *buf, size_t cap, const char *fmt, va_list ap)
{
    size_t len = strlen(buf);
    if (len + 1 < cap)
        vsnprintf(buf + len, cap - len, fmt, ap);
}

/* Record a failure; several failures of one case are joined with "; ". */
static void PRINTF_LIKE(2, 3) fail(case_ctx *x, const char *fmt, ...)
{
    va_list ap;
    if (x->r->status == CS_FAIL)
        strncat(x->r->message, "; ", CR_MESSAGE_MAX - strlen(x->r->message) - 1);
    else
        x->r->message[0] = '\0';
    x->r->status = CS_FAIL;
    va_start(ap, fmt);
    vappend(x->r->message, CR_MESSAGE_MAX, fmt, ap);
    va_end(ap);
}

/* Mark the case skipped with a reason (unless it already failed). */
static void PRINTF_LIKE(2, 3) skip(case_ctx *x, const char *fmt, ...)
{
    va_list ap;
    if (x->r->status == CS_FAIL)
        return;
    x->r->status = CS_SKIP;
    x->r->message[0] = '\0';
    va_start(ap, fmt);
    vappend(x->r->message, CR_MESSAGE_MAX, fmt, ap);
    va_end(ap);
}

/* 1 when an argument needs quoting for a POSIX shell. */
static int needs_quote(const char *s)
{
    return s[0] == '\0' || s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789_./=,:+-@%")] != '\0';
}

/* Append text to buf (size cap), cutting what does not fit. */
static void append(char *buf, size_t cap, const char *text)
{
    size_t len = strlen(buf);
    if (len + 1 < cap)
        snprintf(buf + len, cap - len, "%s", text);
}

/* Write argv as one shell-quoted command line into buf. */
static void format_command(char *const argv[], char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; argv[i] != NULL; i++) {
        if (i > 0)
            append(buf, cap, " ");
        if (!needs_quote(argv[i])) {
            append(buf, cap, argv[i]);
            continue;
        }
        append(buf, cap, "'");
        for (const char *p = argv[i]; *p; p++) {
            char one[2] = { *p, '\0' };
            append(buf, cap, *p == '\'' ? "'\\''" : one);
        }
        append(buf, cap, "'");
    }
}

/* First line of a tool's stderr, printable ASCII only, at most 200 bytes. */
static void first_line(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    while (*text == '\n' || *text == ' ')
        text++;
    for (; *text && *text != '\n' && n + 1 < cap && n < 200; text++)
        out[n++] = (*text >= 0x20 && *text < 0x7F) ? *text : '?';
    out[n] = '\0';
}

/* The command line as shown in messages: argv without the tool path. */
static void short_command(char *const argv[], char *buf, size_t cap)
{
    format_command(argv + 1, buf, cap);
}

/* Add a command line to the case's log (for the --keep-failures README). */
static void log_command(case_ctx *x, char *const argv[])
{
    char line[1024];
    format_command(argv, line, sizeof line);
    if (x->log_len + strlen(line) + 2 < LOG_MAX)
        x->log_len += (size_t)snprintf(x->log + x->log_len, LOG_MAX - x->log_len, "%s\n", line);
}

/* Run one adapter or reference command in the scratch directory.
 * Returns 0 when it ran to an exit (any code; *res filled, caller frees),
 * or -1 after recording a failure: timeout (hang), crash, not executable. */
static int run_argv(case_ctx *x, const char *who, char *const argv[], cp_result *res);

/* 1 if qedtool's subcommand cmd takes --no-backing. */
static int takes_no_backing(const char *cmd)
{
    static const char *const cmds[] = { "info", "check", "map", "convert", "io",
                                        "resize", "create", "compare" };
    for (size_t i = 0; cmd != NULL && i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i]) == 0)
            return 1;
    return 0;
}

static int run_tool(case_ctx *x, int tool, const char *const args[], cp_result *res)
{
    char *argv[MAX_ARGS + 3];
    size_t n = 0;
    /* execv() takes char *const[]; it does not modify the strings. */
    argv[n++] = (char *)(uintptr_t)(tool == TOOL_ADAPTER ? x->cfg->adapter : x->cfg->reference);
    for (size_t i = 0; args[i] != NULL && n <= MAX_ARGS; i++) {
        argv[n++] = (char *)(uintptr_t)args[i];
        if (i == 0 && tool == TOOL_ADAPTER && x->no_backing && takes_no_backing(args[0]))
            argv[n++] = (char *)(uintptr_t)"--no-backing";   /* untrusted: open none */
    }
    argv[n] = NULL;
    return run_argv(x, tool == TOOL_ADAPTER ? "" : "reference ", argv, res);
}

/* run_tool for a whole command line (argv[0] the program). */
static int run_argv(case_ctx *x, const char *who, char *const argv[], cp_result *res)
{
    char line[1024], err[256];
    short_command(argv, line, sizeof line);
    double left = x->budget;
    if (x->timed_out)
        return -1;
    if (left <= 0) {
        fail(x, "timeout (hang): case time limit spent before %s`%s`", who, line);
        x->timed_out = 1;
        return -1;
    }
    log_command(x, argv);
    if (cp_run(argv, x->dir, left, res) < 0) {
        fail(x, "runner could not start %s`%s`", who, line);
        return -1;
    }
    if (cp_interrupted()) {   /* the run is being stopped: no verdict */
        cp_result_free(res);
        fail(x, "interrupted");
        x->timed_out = 1;
        return -1;
    }
    x->budget -= res->seconds;
    if (!res->timed_out && !res->signal && !res->spawn_failed)
        return 0;
    x->timed_out = res->timed_out;
    if (res->timed_out)
        fail(x, "timeout (hang) in %s`%s` after %.1f s", who, line, res->seconds);
    else if (res->signal)
        fail(x, "crash (signal %d: %s) in %s`%s`", res->signal, cp_signal_name(res->signal), who, line);
    else {
        first_line(res->err, err, sizeof err);
        fail(x, "cannot execute %s (%s)", argv[0], err);
    }
    cp_result_free(res);
    return -1;
}

/* Run a command that must exit 0; returns 0 with *res to free, else -1
 * after recording the failure (exit code and the first stderr line). */
static int run_ok(case_ctx *x, int tool, const char *const args[], cp_result *res)
{
    if (run_tool(x, tool, args, res) < 0)
        return -1;
    if (res->exit_code == 0)
        return 0;
    char line[512], err[256];
    format_command((char *const *)(uintptr_t)args, line, sizeof line);
    first_line(res->err, err, sizeof err);
    fail(x, "%s`%s` exited %d, expected 0 (%s)", tool == TOOL_ADAPTER ? "" : "reference ", line,
         res->exit_code, err[0] ? err : "no message");
    cp_result_free(res);
    return -1;
}

/* Parse a command's stdout as JSON; records a failure on bad output. */
static cj_value *parse_output(case_ctx *x, const cp_result *res, const char *what)
{
    char err[160];
    cj_value *v;
    if (cj_parse(res->out, res->out_len, &v, err, sizeof err) == 0)
        return v;
    fail(x, "`%s` printed no valid JSON (%s%s)", what, err,
         res->truncated ? "; output cut at 16 MiB" : "");
    return NULL;
}

/* Run a JSON-printing command that must exit 0 and return its output
 * (free with cj_free), or NULL after recording a failure. */
static cj_value *run_json(case_ctx *x, int tool, const char *const args[])
{
    cp_result res;
    if (run_ok(x, tool, args, &res) < 0)
        return NULL;
    cj_value *v = parse_output(x, &res, args[0]);
    cp_result_free(&res);
    return v;
}

/* The u64 member key of the test object; 0 and *out set when present. */
static int test_u64(const case_ctx *x, const char *key, uint64_t *out)
{
    return cj_u64(cj_get(x->c->test, key), out);
}

/* Convert img to raw (by tool) and compare size and SHA-256 with the
 * test's image_size and sha_key ("content_sha256" ...); a mismatch is
 * reported under label. */
static void verify_content_as(case_ctx *x, int tool, const char *img, const char *sha_key,
                              const char *label)
{
    static int serial;
    char raw[64], hex[65];
    uint64_t size, want_size;
    const char *want = cj_str(cj_get(x->c->test, sha_key));
    cp_result res;
    if (want == NULL) {
        fail(x, "manifest: case has no %s", sha_key);
        return;
    }
    snprintf(raw, sizeof raw, "qed-conform-out%d.raw", ++serial);
    const char *args[] = { "convert", "-f", "qed", "-O", "raw", img, raw, NULL };
    if (run_ok(x, tool, args, &res) < 0)
        return;
    cp_result_free(&res);
    char path[PATH_MAX];
    if (cf_join(path, sizeof path, x->dir, raw) < 0 || cf_hash_file(path, hex, &size) < 0) {
        fail(x, "`convert -f qed -O raw %s %s` exited 0 but wrote no readable %s", img, raw, raw);
        return;
    }
    if (test_u64(x, "image_size", &want_size) == 0 && size != want_size)
        fail(x, "raw export of %s is %llu bytes, expected image_size %llu", img,
             (unsigned long long)size, (unsigned long long)want_size);
    else if (strcmp(hex, want) != 0)
        fail(x, "%s: raw export sha256 %.16s..., expected %.16s...", label, hex, want);
}

/* verify_content_as, reported under the key's own name. */
static void verify_content(case_ctx *x, int tool, const char *img, const char *sha_key)
{
    verify_content_as(x, tool, img, sha_key, sha_key);
}

/* info --output=json: virtual-size must equal image_size. */
static void verify_info_size(case_ctx *x, const char *img)
{
    const char *args[] = { "info", "--output=json", img, NULL };
    uint64_t want, got;
    if (test_u64(x, "image_size", &want) < 0) {
        fail(x, "manifest: case has no image_size");
        return;
    }
    cj_value *info = run_json(x, TOOL_ADAPTER, args);
    if (info == NULL)
        return;
    if (cj_u64(cj_get(info, "virtual-size"), &got) < 0)
        fail(x, "info: no numeric \"virtual-size\"");
    else if (got != want)
        fail(x, "info: virtual-size %llu, expected image_size %llu", (unsigned long long)got,
             (unsigned long long)want);
    cj_free(info);
}

/* map --output=json, normalised, must equal the manifest's map. */
static void verify_map(case_ctx *x, const char *img)
{
    const char *args[] = { "map", "--output=json", img, NULL };
    char err[512];
    cm_map want, got;
    if (cm_from_json(cj_get(x->c->test, "map"), &want, err, sizeof err) < 0) {
        fail(x, "manifest: %s", err);
        return;
    }
    cj_value *out = run_json(x, TOOL_ADAPTER, args);
    if (out != NULL && cm_from_json(out, &got, err, sizeof err) < 0)
        fail(x, "map output: %s", err);
    else if (out != NULL) {
        cm_normalise(&want);
        cm_normalise(&got);
        if (cm_compare(&want, &got, err, sizeof err) < 0)
            fail(x, "%s", err);
        cm_free(&got);
    }
    cj_free(out);
    cm_free(&want);
}

/* Counts from check JSON; a missing field counts 0 (qemu-img omits them). */
static int read_counts(const cj_value *j, uint64_t *corruptions, uint64_t *leaks)
{
    *corruptions = *leaks = 0;
    const cj_value *c = cj_get(j, "corruptions"), *l = cj_get(j, "leaks");
    if ((c != NULL && cj_u64(c, corruptions) < 0) || (l != NULL && cj_u64(l, leaks) < 0))
        return -1;
    return 0;
}

/* Expected counts of the test's "check" object (missing: 0). */
static int expected_counts(const case_ctx *x, uint64_t *corruptions, uint64_t *leaks)
{
    const cj_value *want = cj_get(x->c->test, "check");
    if (want == NULL) {
        *corruptions = *leaks = 0;
        return 0;
    }
    return read_counts(want, corruptions, leaks);
}

/* Run `check [repair] --output=json img` with tool; *corr and *leaks get the
 * counts and *code the exit code.  Returns -1 after recording a failure. */
static int run_check(case_ctx *x, int tool, const char *repair, const char *img,
                     uint64_t *corr, uint64_t *leaks, int *code)
{
    const char *plain[] = { "check", "--output=json", img, NULL };
    const char *fix[] = { "check", "-r", repair, "--output=json", img, NULL };
    cp_result res;
    if (run_tool(x, tool, repair ? fix : plain, &res) < 0)
        return -1;
    *code = res.exit_code;
    if (res.exit_code != 0 && res.exit_code != 2 && res.exit_code != 3) {
        char err[256];
        first_line(res.err, err, sizeof err);
        fail(x, "%s`check%s%s %s` exited %d: could not check (%s)",
             tool == TOOL_ADAPTER ? "" : "reference ", repair ? " -r " : "", repair ? repair : "",
             img, res.exit_code, err[0] ? err : "no message");
        cp_result_free(&res);
        return -1;
    }
    cj_value *j = parse_output(x, &res, repair ? "check -r" : "check");
    int rc = j ? read_counts(j, corr, leaks) : -1;
    if (j != NULL && rc < 0)
        fail(x, "check: \"corruptions\"/\"leaks\" are not counts");
    cj_free(j);
    cp_result_free(&res);
    return rc;
}

/* The exit code `qemu-img check` gives for these counts. */
static int check_exit_code(uint64_t corruptions, uint64_t leaks)
{
    return corruptions ? 2 : leaks ? 3 : 0;
}

/* Compare a check run's counts (and exit code) with the expected ones. */
static void compare_counts(case_ctx *x, const char *who, uint64_t corr, uint64_t leaks, int code,
                           uint64_t want_corr, uint64_t want_leaks)
{
    if (corr != want_corr || leaks != want_leaks)
        fail(x, "%scheck: %llu corruptions, %llu leaks; expected %llu and %llu", who,
             (unsigned long long)corr, (unsigned long long)leaks,
             (unsigned long long)want_corr, (unsigned long long)want_leaks);
    else if (code != check_exit_code(want_corr, want_leaks))
        fail(x, "%scheck: exit code %d, expected %d", who, code,
             check_exit_code(want_corr, want_leaks));
}

/* The image the case works on, relative to the scratch directory. */
static const char *case_file(const case_ctx *x)
{
    const char *f = cj_str(cj_get(x->c->test, "file"));
    return f ? f : "image.qed";
}

/* The names of the capability bits in mask, quoted: "'map'", "'convert'
 * and 'info'", "'convert', 'info' and 'map'". */
static void cap_list(unsigned mask, char *out, size_t cap)
{
    unsigned left = mask;
    out[0] = '\0';
    while (left != 0) {
        unsigned bit = left & (~left + 1u);
        left &= ~bit;
        append(out, cap, out[0] == '\0' ? "'" : left != 0 ? ", '" : " and '");
        append(out, cap, conform_cap_name(bit));
        append(out, cap, "'");
    }
}

/* Judge the part `what` of a case only when the adapter has cap: 1 when it
 * does (the part counts as judged), else 0 after noting the part as not
 * checked, with the capability it lacks. */
static int can_judge(case_ctx *x, unsigned cap, const char *what)
{
    char item[128];
    if (x->cfg->caps & cap) {
        x->checked++;
        return 1;
    }
    snprintf(item, sizeof item, "%s%s (adapter lacks '%s')", x->unchecked[0] ? ", " : "", what,
             conform_cap_name(cap));
    append(x->unchecked, sizeof x->unchecked, item);
    return 0;
}

/* End a case judged in parts: a failure stands (with what was not checked
 * added); a case in which nothing could be judged is a skip naming what
 * it lacks, never a pass; a pass says what was not checked. */
static void finish_parts(case_ctx *x, const char *why_nothing)
{
    if (x->unchecked[0] == '\0')
        return;
    if (x->r->status != CS_FAIL && x->checked == 0) {
        skip(x, "nothing checked: %s%s", x->unchecked, why_nothing ? why_nothing : "");
        return;
    }
    append(x->r->message, CR_MESSAGE_MAX, x->r->message[0] ? "; not checked: " : "not checked: ");
    append(x->r->message, CR_MESSAGE_MAX, x->unchecked);
}

/* Reading must not write: after the adapter's read calls (and before any
 * repair), every staged input file must still be byte-identical. */
static void verify_inputs_unchanged(case_ctx *x)
{
    char msg[CR_MESSAGE_MAX];
    if (cp_interrupted())
        return;
    if (cg_verify(&x->inputs, x->dir, x->c->base_dir, msg, sizeof msg) < 0)
        fail(x, "reading must not write: %s", msg);
}

/* Compare the adapter's check counts of img with the test's "check". */
static void verify_counts(case_ctx *x, const char *img)
{
    uint64_t want_corr, want_leaks, corr, leaks;
    int code;
    if (expected_counts(x, &want_corr, &want_leaks) < 0)
        fail(x, "manifest: bad \"check\" counts");
    else if (run_check(x, TOOL_ADAPTER, NULL, img, &corr, &leaks, &code) == 0)
        compare_counts(x, "", corr, leaks, code, want_corr, want_leaks);
}

/* Run `io IMG -c CMD ...` with the strings of cmds (a JSON array); 0 with
 * *res to free when it ran to an exit, else -1 (failure recorded). */
static int run_io_cmds(case_ctx *x, const cj_value *cmds, const char *img, cp_result *res)
{
    size_t n = cj_len(cmds), k = 0;
    const char **args = calloc(2 * n + 3, sizeof *args);
    if (args == NULL || n > MAX_ARGS / 2 - 2) {
        free(args);
        fail(x, "runner: too many reads");
        return -1;
    }
    args[k++] = "io";
    args[k++] = img;
    for (size_t i = 0; i < n; i++) {
        const char *cmd = cj_str(cj_at(cmds, i));
        if (cmd == NULL) {
            free(args);
            fail(x, "manifest: a read that is not a string");
            return -1;
        }
        args[k++] = "-c";
        args[k++] = cmd;
    }
    args[k] = NULL;
    int rc = run_tool(x, TOOL_ADAPTER, args, res);
    free(args);
    return rc;
}

/* The test's `reads` (io read -P commands) must all succeed: the content
 * of an image too large to export, or the ranges of a read-error case that
 * need no invalid entry. */
static void verify_reads(case_ctx *x, const char *img, const char *what)
{
    cp_result res;
    char err[256];
    if (run_io_cmds(x, cj_get(x->c->test, "reads"), img, &res) < 0)
        return;
    if (res.exit_code != 0) {
        first_line(res.err, err, sizeof err);
        fail(x, "%s: `io %s -c 'read -P ...'` (%zu reads from the manifest) exited %d (%s)",
             what, img, cj_len(cj_get(x->c->test, "reads")), res.exit_code,
             err[0] ? err : "no message");
    }
    cp_result_free(&res);
}

/* XLT-4: the bad range [start, start+len) of img must not read. */
static void expect_range_fails(case_ctx *x, const char *img, uint64_t start, uint64_t len,
                               const char *rule)
{
    char cmd[80];
    cp_result res;
    snprintf(cmd, sizeof cmd, "read %llu %llu", (unsigned long long)start,
             (unsigned long long)len);
    const char *args[] = { "io", img, "-c", cmd, NULL };
    if (run_tool(x, TOOL_ADAPTER, args, &res) < 0)
        return;
    if (res.exit_code == 0)
        fail(x, "`io %s -c '%s'` exited 0: it read bytes that need an invalid entry (%s); "
             "a reader must fail that read or refuse the image (XLT-4)", img, cmd, rule);
    cp_result_free(&res);
}

/* What convert exported for a bad range, for the failure message. */
static const char *exported_kind(case_ctx *x, const char *raw, uint64_t start, uint64_t len)
{
    char path[PATH_MAX];
    unsigned char buf[4096];
    FILE *f;
    if (cf_join(path, sizeof path, x->dir, raw) < 0 || (f = fopen(path, "rb")) == NULL)
        return "no readable output";
    size_t n = fseeko(f, (off_t)start, SEEK_SET) == 0
                   ? fread(buf, 1, len < sizeof buf ? (size_t)len : sizeof buf, f) : 0;
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (buf[i] != 0)
            return "bytes that are not disk data";
    return n ? "zeroes" : "nothing (the output is short)";
}

/* convert must fail: the whole disk includes the bad ranges. */
static void expect_convert_fails(case_ctx *x, const char *img, const cj_value *bad)
{
    const char *raw = "qed-conform-badread.raw";
    const char *args[] = { "convert", "-f", "qed", "-O", "raw", img, raw, NULL };
    uint64_t start = 0, len = 0;
    cp_result res;
    if (run_tool(x, TOOL_ADAPTER, args, &res) < 0)
        return;
    int code = res.exit_code;
    cp_result_free(&res);
    if (code != 0)
        return;
    cj_u64(cj_get(cj_at(bad, 0), "start"), &start);
    cj_u64(cj_get(cj_at(bad, 0), "length"), &len);
    fail(x, "`convert -f qed -O raw %s %s` exited 0: it exported [%llu, %llu), which needs "
         "an invalid entry (%s), as %s; a reader must fail that read or refuse the image "
         "(XLT-4)", img, raw, (unsigned long long)start, (unsigned long long)(start + len),
         cj_str(cj_get(cj_at(bad, 0), "rule")) ? cj_str(cj_get(cj_at(bad, 0), "rule")) : "?",
         exported_kind(x, raw, start, len));
}

/* info may refuse the image (returns 0) or open it (returns 1, and then
 * virtual-size must be image_size); -1 when it crashed or hung. */
static int info_opens(case_ctx *x, const char *img)
{
    const char *args[] = { "info", "--output=json", img, NULL };
    uint64_t want = 0, got;
    cp_result res;
    if (run_tool(x, TOOL_ADAPTER, args, &res) < 0)
        return -1;
    if (res.exit_code != 0) {
        cp_result_free(&res);
        return 0;
    }
    cj_value *info = parse_output(x, &res, "info");
    cp_result_free(&res);
    test_u64(x, "image_size", &want);
    if (info != NULL && (cj_u64(cj_get(info, "virtual-size"), &got) < 0 || got != want))
        fail(x, "info opened the image but gives no virtual-size %llu",
             (unsigned long long)want);
    cj_free(info);
    return 1;
}

/* Family read-error (XLT-4): an image with invalid entries behind the
 * bad_ranges.  convert must fail (content); info may refuse, and if it
 * opens the image the size must be right; io must fail each bad range and,
 * unless info refused the image, read every other range right (reads).
 * The inputs must be unchanged after convert and info, and again after the
 * io sessions of reads. */
static void run_read_error(case_ctx *x)
{
    const char *img = case_file(x);
    const cj_value *bad = cj_get(x->c->test, "bad_ranges");
    int opened = -1;
    if (cj_len(bad) == 0) {
        fail(x, "manifest: read-error case without bad_ranges");
        return;
    }
    if (can_judge(x, CAP_CONVERT, "convert fails"))
        expect_convert_fails(x, img, bad);
    if (can_judge(x, CAP_INFO, "size"))
        opened = info_opens(x, img);
    verify_inputs_unchanged(x);
    if (x->timed_out || !can_judge(x, CAP_IO, "bad ranges fail, other ranges read right"))
        goto out;
    for (size_t i = 0; i < cj_len(bad); i++) {
        uint64_t start = 0, len = 0;
        const char *rule = cj_str(cj_get(cj_at(bad, i), "rule"));
        cj_u64(cj_get(cj_at(bad, i), "start"), &start);
        cj_u64(cj_get(cj_at(bad, i), "length"), &len);
        expect_range_fails(x, img, start, len, rule ? rule : "?");
        if (len > 512) {   /* every request that needs it: also its first and last sector */
            expect_range_fails(x, img, start, 512, rule ? rule : "?");
            expect_range_fails(x, img, start + len - 512, 512, rule ? rule : "?");
        }
    }
    if (opened != 0)
        verify_reads(x, img, opened == 1 ? "the image opens, but a range that needs no "
                     "invalid entry does not read right" : "a range that needs no invalid "
                     "entry does not read right");
    /* The read-error images have clean headers (no NEED_CHECK, no
     * autoclear bit), so even io's read-write open has nothing to write:
     * sessions of reads alone must leave them as they were too. */
    verify_inputs_unchanged(x);
out:
    finish_parts(x, NULL);
}

/* Family read (and random): content (convert), size (info), map (map)
 * and the check counts (check), each judged when the adapter has what it
 * needs; then the inputs must be unchanged. */
static void run_read(case_ctx *x)
{
    const char *img = case_file(x);
    int by_reads = cj_get(x->c->test, "content_sha256") == NULL &&
                   cj_get(x->c->test, "reads") != NULL;
    if (!by_reads && can_judge(x, CAP_CONVERT, "content"))
        verify_content(x, TOOL_ADAPTER, img, "content_sha256");
    if (can_judge(x, CAP_INFO, "size"))
        verify_info_size(x, img);
    if (can_judge(x, CAP_MAP, "map"))
        verify_map(x, img);
    if (cj_get(x->c->test, "check") != NULL && can_judge(x, CAP_CHECK, "check counts"))
        verify_counts(x, img);
    verify_inputs_unchanged(x);
    /* too large to export: content by sampled reads (io opens for writing,
     * so after the inputs are checked) */
    if (by_reads && !x->timed_out && can_judge(x, CAP_IO, "content by reads"))
        verify_reads(x, img, "content");
    finish_parts(x, NULL);
}

/* Run a command that must refuse the image: exit non-zero, no crash. */
static void expect_refusal(case_ctx *x, const char *const args[])
{
    cp_result res;
    if (run_tool(x, TOOL_ADAPTER, args, &res) < 0)
        return;
    if (res.exit_code == 0) {
        char line[512];
        format_command((char *const *)(uintptr_t)args, line, sizeof line);
        fail(x, "`%s` accepted the invalid image (exit 0), expected a refusal", line);
    }
    cp_result_free(&res);
}

/* Family reject: info and convert must both refuse (each judged when the
 * adapter has it); the inputs must be unchanged. */
static void run_reject(case_ctx *x)
{
    const char *info[] = { "info", "--output=json", case_file(x), NULL };
    const char *conv[] = { "convert", "-f", "qed", "-O", "raw", case_file(x),
                           "qed-conform-reject.raw", NULL };
    if (can_judge(x, CAP_INFO, "info refuses"))
        expect_refusal(x, info);
    if (can_judge(x, CAP_CONVERT, "convert refuses"))
        expect_refusal(x, conv);
    verify_inputs_unchanged(x);
    finish_parts(x, NULL);
}

/* result acceptable: refusing is fine, accepting must give the content. */
static void run_acceptable(case_ctx *x)
{
    const char *conv[] = { "convert", "-f", "qed", "-O", "raw", case_file(x),
                           "qed-conform-probe.raw", NULL };
    cp_result res;
    if (run_tool(x, TOOL_ADAPTER, conv, &res) < 0)
        return;
    int accepted = res.exit_code == 0;
    cp_result_free(&res);
    if (accepted && cj_get(x->c->test, "content_sha256") != NULL)
        verify_content(x, TOOL_ADAPTER, case_file(x), "content_sha256");
    verify_inputs_unchanged(x);
    if (x->r->status == CS_FAIL)
        return;
    snprintf(x->r->message, CR_MESSAGE_MAX, "%s",
             !accepted ? "refused (allowed)"
             : cj_get(x->c->test, "content_sha256") == NULL
                 ? "accepted (the case gives no content to compare)"
                 : "accepted, with the expected content");
}

/* Copy the case image to a sibling name for a destructive step. */
static int copy_sibling(case_ctx *x, const char *img, const char *suffix, char *out, size_t cap)
{
    char src[PATH_MAX], dst[PATH_MAX], hex[65], err[256];
    if ((size_t)snprintf(out, cap, "%s%s", img, suffix) >= cap ||
        cf_join(src, sizeof src, x->dir, img) < 0 || cf_join(dst, sizeof dst, x->dir, out) < 0 ||
        cf_copy_file(src, dst, hex, err, sizeof err) < 0) {
        fail(x, "runner: cannot copy %s for repair", img);
        return -1;
    }
    return 0;
}

/* 1 when the test's rules cite rule. */
static int cites_rule(const case_ctx *x, const char *rule)
{
    const cj_value *rules = cj_get(x->c->test, "rules");
    for (size_t i = 0; i < cj_len(rules); i++)
        if (cj_str(cj_at(rules, i)) != NULL && strcmp(cj_str(cj_at(rules, i)), rule) == 0)
            return 1;
    return 0;
}

/* The key of the content a reader must see in a check case's image as
 * found, or NULL when the manifest does not say.  An explicit
 * content_sha256 says it; so does repaired_content_sha256 when the case
 * cites neither CHK-2 nor CHK-3: only the entries those rules reset read
 * differently after repair (CHK-6), leak repair changes no content
 * (CHK-4, CHK-7), and a duplicate reads the same through its copy. */
static const char *as_found_content_key(const case_ctx *x)
{
    if (cj_get(x->c->test, "content_sha256") != NULL)
        return "content_sha256";
    if (cj_get(x->c->test, "repaired_content_sha256") != NULL && !cites_rule(x, "CHK-2") &&
        !cites_rule(x, "CHK-3"))
        return "repaired_content_sha256";
    return NULL;
}

/* Run a read command whose outcome is not judged: only a crash or a hang
 * (recorded by run_tool) fails. */
static void run_unjudged(case_ctx *x, const char *const args[])
{
    cp_result res;
    if (run_tool(x, TOOL_ADAPTER, args, &res) == 0)
        cp_result_free(&res);
}

/* Family check, adapter without `check`: the reader is judged on what it
 * reads from the image as found, where the manifest says what that is;
 * otherwise info and convert still run, and must not crash, hang or
 * write, but that alone is no pass. */
static void read_as_found(case_ctx *x)
{
    const char *img = case_file(x), *key = as_found_content_key(x);
    const char *info[] = { "info", "--output=json", img, NULL };
    const char *conv[] = { "convert", "-f", "qed", "-O", "raw", img, "qed-conform-asis.raw", NULL };
    can_judge(x, CAP_CHECK, "check counts");
    if (key == NULL) {
        if (x->cfg->caps & CAP_INFO)
            run_unjudged(x, info);
        if (x->cfg->caps & CAP_CONVERT)
            run_unjudged(x, conv);
    } else {
        if (can_judge(x, CAP_CONVERT, "content as found"))
            verify_content_as(x, TOOL_ADAPTER, img, key, "content as found");
        if (can_judge(x, CAP_INFO, "size"))
            verify_info_size(x, img);
    }
    verify_inputs_unchanged(x);
    finish_parts(x, key ? NULL : "; the manifest gives no content for reading this corrupt "
                                 "image as found (info and convert ran without crash, hang "
                                 "or write)");
}

/* Repair the copy of a check case's image with `check -r all`: a re-check
 * must find no corruption (CHK-5) and, when the adapter can convert, the
 * content must be repaired_content_sha256 (CHK-6). */
static void verify_repair(case_ctx *x, const char *copy)
{
    uint64_t corr, leaks;
    int code;
    if (run_check(x, TOOL_ADAPTER, "all", copy, &corr, &leaks, &code) < 0)
        return;
    if (run_check(x, TOOL_ADAPTER, NULL, copy, &corr, &leaks, &code) < 0)
        return;
    if (corr != 0)   /* CHK-5: repair leaves no corruption */
        fail(x, "re-check after `check -r all`: %llu corruptions, expected 0",
             (unsigned long long)corr);
    if (can_judge(x, CAP_CONVERT, "repaired content"))
        verify_content(x, TOOL_ADAPTER, copy, "repaired_content_sha256");
}

/* Family check: counts and exit code, the inputs unchanged; then repair a
 * copy, re-check it and compare its content with repaired_content_sha256.
 * Without `check`, the image is read as found (read_as_found). */
static void run_check_family(case_ctx *x)
{
    uint64_t want_corr, want_leaks, corr, leaks;
    int code;
    char copy[PATH_MAX];
    if (expected_counts(x, &want_corr, &want_leaks) < 0 || cj_get(x->c->test, "check") == NULL) {
        fail(x, "manifest: check case without valid \"check\" counts");
        return;
    }
    if (!(x->cfg->caps & CAP_CHECK)) {
        read_as_found(x);
        return;
    }
    if (copy_sibling(x, case_file(x), ".repair", copy, sizeof copy) < 0)
        return;
    if (run_check(x, TOOL_ADAPTER, NULL, case_file(x), &corr, &leaks, &code) == 0)
        compare_counts(x, "", corr, leaks, code, want_corr, want_leaks);
    x->checked++;
    verify_inputs_unchanged(x);   /* before any repair call */
    if (cj_get(x->c->test, "repaired_content_sha256") != NULL)
        verify_repair(x, copy);
    finish_parts(x, NULL);
}

/* The geometry fields of a create object and of a QED header: the
 * capability that lets the runner pass each, and its header offset. */
static const struct { const char *key; unsigned cap; unsigned off; } geometry_fields[] = {
    { "cluster_size", CAP_CREATE_CS, 4 },    /* HDR-2 */
    { "table_size", CAP_CREATE_TS, 8 },      /* HDR-3 */
};
#define N_GEOMETRY (sizeof geometry_fields / sizeof geometry_fields[0])

/* Append ",KEY=VALUE" (without the comma when opts is empty) to opts. */
static void add_create_option(char *opts, size_t cap, const char *key, uint64_t value)
{
    size_t len = strlen(opts);
    snprintf(opts + len, cap - len, "%s%s=%llu", len ? "," : "", key, (unsigned long long)value);
}

/* create -o ... [-b NAME -F FMT] IMG SIZE from the test's create object,
 * run by tool.  With geom NULL the -o options are the case's geometry
 * fields the adapter honours (the others are left to the implementation);
 * with geom, exactly that geometry (cluster_size, table_size). */
static void write_create(case_ctx *x, int tool, const cj_value *create, const char *img,
                         const uint64_t *geom)
{
    char opts[96] = "", size[24];
    uint64_t v;
    const char *args[12];
    size_t n = 0;
    if (cj_u64(cj_get(create, "size"), &v) < 0) {
        fail(x, "manifest: create without a numeric size");
        return;
    }
    snprintf(size, sizeof size, "%llu", (unsigned long long)v);
    for (size_t i = 0; i < N_GEOMETRY; i++) {
        uint64_t value;
        if (geom != NULL)
            add_create_option(opts, sizeof opts, geometry_fields[i].key, geom[i]);
        else if ((x->cfg->caps & geometry_fields[i].cap) &&
                 cj_u64(cj_get(create, geometry_fields[i].key), &value) == 0)
            add_create_option(opts, sizeof opts, geometry_fields[i].key, value);
    }
    args[n++] = "create";
    if (opts[0]) { args[n++] = "-o"; args[n++] = opts; }
    const char *backing = cj_str(cj_get(create, "backing"));
    const char *fmt = cj_str(cj_get(create, "backing_format"));
    if (backing) { args[n++] = "-b"; args[n++] = backing; }
    if (backing && fmt) { args[n++] = "-F"; args[n++] = fmt; }
    args[n++] = img;
    args[n++] = size;
    args[n] = NULL;
    cp_result res;
    if (run_ok(x, tool, args, &res) == 0)
        cp_result_free(&res);
}

/* Run ops[from, to) (all strings) as one `io IMG -c OP ...` by tool. */
static int write_io_run(case_ctx *x, int tool, const cj_value *ops, size_t from, size_t to,
                        const char *img)
{
    const char **args = calloc(2 * (to - from) + 3, sizeof *args);
    size_t n = 0;
    cp_result res;
    if (args == NULL || to - from > MAX_ARGS / 2 - 2) {
        free(args);
        fail(x, "runner: too many ops");
        return -1;
    }
    args[n++] = "io";
    args[n++] = img;
    for (size_t i = from; i < to; i++) {
        args[n++] = "-c";
        args[n++] = cj_str(cj_at(ops, i));
    }
    args[n] = NULL;
    int rc = run_ok(x, tool, args, &res);
    if (rc == 0)
        cp_result_free(&res);
    free(args);
    return rc;
}

/* Run one step object by tool: resize or rebase. */
static int write_step(case_ctx *x, int tool, const cj_value *step, const char *img)
{
    const char *cmd = cj_str(cj_get(step, "cmd"));
    char size[24];
    uint64_t v;
    cp_result res;
    if (cmd && strcmp(cmd, "resize") == 0 && cj_u64(cj_get(step, "size"), &v) == 0) {
        snprintf(size, sizeof size, "%llu", (unsigned long long)v);
        const char *args[] = { "resize", img, size, NULL };
        if (run_ok(x, tool, args, &res) < 0)
            return -1;
    } else if (cmd && strcmp(cmd, "rebase") == 0 && cj_str(cj_get(step, "backing")) != NULL) {
        const char *fmt = cj_str(cj_get(step, "backing_format"));
        const char *args[] = { "rebase", "-u", "-b", cj_str(cj_get(step, "backing")),
                               "-F", fmt ? fmt : "raw", img, NULL };
        if (run_ok(x, tool, args, &res) < 0)
            return -1;
    } else {
        fail(x, "manifest: unknown or malformed step");
        return -1;
    }
    cp_result_free(&res);
    return 0;
}

/* Run the ops list by tool: each run of consecutive strings is one io call. */
static int write_ops(case_ctx *x, int tool, const char *img)
{
    const cj_value *ops = cj_get(x->c->test, "ops");
    size_t i = 0, n = cj_len(ops);
    while (i < n) {
        if (cj_at(ops, i)->type == CJ_STRING) {
            size_t j = i;
            while (j < n && cj_at(ops, j)->type == CJ_STRING)
                j++;
            if (write_io_run(x, tool, ops, i, j, img) < 0)
                return -1;
            i = j;
        } else if (write_step(x, tool, cj_at(ops, i++), img) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Read the first 64 bytes of the result img into h; -1 after recording a
 * failure. */
static int read_result_header(case_ctx *x, const char *img, unsigned char h[64])
{
    char path[PATH_MAX];
    FILE *f;
    if (cf_join(path, sizeof path, x->dir, img) != 0 || (f = fopen(path, "rb")) == NULL) {
        fail(x, "cannot read the header of the result %s", img);
        return -1;
    }
    size_t got = fread(h, 1, 64, f);
    fclose(f);
    if (got != 64) {
        fail(x, "the result %s is shorter than a 64-byte header", img);
        return -1;
    }
    return 0;
}

/* header_after: the feature fields the result's header must hold after
 * the implementation's clean close (WR-4, WR-5, HDR-7). */
static void verify_header_after(case_ctx *x, const char *img)
{
    static const struct { const char *key; unsigned off; } fields[] = {
        { "features", 16 }, { "compat_features", 24 }, { "autoclear_features", 32 },
    };
    const cj_value *want = cj_get(x->c->test, "header_after");
    unsigned char h[64];
    if (want == NULL || x->r->status == CS_FAIL || read_result_header(x, img, h) < 0)
        return;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint64_t expect, have = le_get(h + fields[i].off, 8);
        const cj_value *v = cj_get(want, fields[i].key);
        if (v == NULL)
            continue;
        if (cj_u64(v, &expect) != 0) {
            fail(x, "manifest: bad header_after.%s", fields[i].key);
            return;
        }
        if (have != expect)
            fail(x, "header after the session: %s = 0x%llx, expected 0x%llx",
                 fields[i].key, (unsigned long long)have, (unsigned long long)expect);
    }
}

/* The geometry of a create case's result against the one asked: an
 * option passed to the adapter (one it declares it honours) must hold
 * exactly, one left to the implementation may differ.  got[] gets the
 * result's geometry; returns 1 when it differs from the case's (the
 * implementation's own geometry), 0 when equal, -1 after a failure. */
static int compare_geometry(case_ctx *x, const cj_value *create, const char *img, uint64_t *got)
{
    unsigned char h[64];
    int own = 0;
    if (read_result_header(x, img, h) < 0)
        return -1;
    for (size_t i = 0; i < N_GEOMETRY; i++) {
        uint64_t asked;
        got[i] = le_get(h + geometry_fields[i].off, 4);
        if (cj_u64(cj_get(create, geometry_fields[i].key), &asked) != 0 || got[i] == asked)
            continue;
        if (x->cfg->caps & geometry_fields[i].cap) {
            fail(x, "`create -o %s=%llu` made an image with %s %llu (the adapter declares '%s')",
                 geometry_fields[i].key, (unsigned long long)asked, geometry_fields[i].key,
                 (unsigned long long)got[i], conform_cap_name(geometry_fields[i].cap));
            return -1;
        }
        own = 1;
    }
    return own;
}

/* SHA-256 (hex) of img's raw export by the reference; -1 after a failure. */
static int reference_export_sha(case_ctx *x, const char *img, const char *raw, char hex[65])
{
    const char *args[] = { "convert", "-f", "qed", "-O", "raw", img, raw, NULL };
    char path[PATH_MAX];
    uint64_t size;
    cp_result res;
    if (run_ok(x, TOOL_REFERENCE, args, &res) < 0)
        return -1;
    cp_result_free(&res);
    if (cf_join(path, sizeof path, x->dir, raw) < 0 || cf_hash_file(path, hex, &size) < 0) {
        fail(x, "reference `convert` of %s wrote no readable %s", img, raw);
        return -1;
    }
    return 0;
}

/* A create case made with the implementation's own geometry (got): the
 * reference makes the same image with that geometry and runs the same
 * ops on it; the result must read the same and carry the same feature
 * bits (the content of a cluster-granular model depends on the cluster
 * size, WR-7, WR-9; the byte layout is not judged). */
static void verify_own_geometry(case_ctx *x, const cj_value *create, const char *img,
                                const uint64_t *got)
{
    const char *twin = "qed-conform-twin.qed";
    char want[65], have[65];
    unsigned char h_want[64], h_have[64];
    write_create(x, TOOL_REFERENCE, create, twin, got);
    if (x->r->status == CS_FAIL || write_ops(x, TOOL_REFERENCE, twin) < 0 ||
        reference_export_sha(x, twin, "qed-conform-twin.raw", want) < 0 ||
        reference_export_sha(x, img, "qed-conform-result.raw", have) < 0 ||
        read_result_header(x, twin, h_want) < 0 || read_result_header(x, img, h_have) < 0)
        return;
    if (strcmp(want, have) != 0)
        fail(x, "content at the implementation's own geometry (cluster_size %llu, table_size "
                "%llu): raw export sha256 %.16s..., the reference's at that geometry %.16s...",
             (unsigned long long)got[0], (unsigned long long)got[1], have, want);
    for (unsigned off = 16; off <= 32; off += 8)   /* features, compat, autoclear */
        if (le_get(h_want + off, 8) != le_get(h_have + off, 8))
            fail(x, "header after the session: %s = 0x%llx, the reference's at the same "
                    "geometry 0x%llx", off == 16 ? "features" : off == 24 ? "compat_features"
                                                                    : "autoclear_features",
                 (unsigned long long)le_get(h_have + off, 8),
                 (unsigned long long)le_get(h_want + off, 8));
    if (x->r->status != CS_FAIL)
        snprintf(x->r->message, CR_MESSAGE_MAX, "judged at the implementation's own geometry "
                 "(cluster_size %llu, table_size %llu) against the reference's replay of the ops",
                 (unsigned long long)got[0], (unsigned long long)got[1]);
}

/* Family write: create or copy, run the ops, check the header the session
 * left, then the reference checks the result and its content.  A created
 * image of another geometry than the case's (an option the adapter does
 * not honour) is judged against the reference's replay at that geometry. */
static void run_write(case_ctx *x)
{
    const cj_value *create = cj_get(x->c->test, "create");
    const char *img = create ? "new.qed" : case_file(x);
    uint64_t want_corr, want_leaks, corr, leaks, got[N_GEOMETRY];
    int code, own = 0;
    if (create != NULL)
        write_create(x, TOOL_ADAPTER, create, img, NULL);
    if (x->r->status == CS_FAIL || write_ops(x, TOOL_ADAPTER, img) < 0)
        return;
    verify_header_after(x, img);
    if (create != NULL && (own = compare_geometry(x, create, img, got)) < 0)
        return;
    if (expected_counts(x, &want_corr, &want_leaks) < 0) {
        fail(x, "manifest: bad \"check\" counts");
        return;
    }
    if (run_check(x, TOOL_REFERENCE, NULL, img, &corr, &leaks, &code) == 0 &&
        (corr != want_corr || leaks != want_leaks))
        fail(x, "reference check of the result: %llu corruptions, %llu leaks; expected %llu and %llu",
             (unsigned long long)corr, (unsigned long long)leaks,
             (unsigned long long)want_corr, (unsigned long long)want_leaks);
    if (own)
        verify_own_geometry(x, create, img, got);
    else
        verify_content(x, TOOL_REFERENCE, img, "content_sha256");
}

/* 1 when a write case is about the geometry it creates (its flags say
 * Geometry or L2Boundary, MANIFEST.md): only then does it need the
 * capabilities of the create options it gives. */
static int about_geometry(const case_ctx *x)
{
    const cj_value *flags = cj_get(x->c->test, "flags");
    for (size_t i = 0; i < cj_len(flags); i++) {
        const char *f = cj_str(cj_at(flags, i));
        if (f != NULL && (strcmp(f, "Geometry") == 0 || strcmp(f, "L2Boundary") == 0))
            return 1;
    }
    return 0;
}

/* Capability bits the ops of a write case use, and the create options
 * (create-cluster-size, create-table-size) of a case about geometry. */
static unsigned write_caps(const case_ctx *x)
{
    const cj_value *ops = cj_get(x->c->test, "ops"), *create = cj_get(x->c->test, "create");
    unsigned caps = create ? CAP_CREATE : 0;
    for (size_t i = 0; create != NULL && about_geometry(x) && i < N_GEOMETRY; i++)
        if (cj_get(create, geometry_fields[i].key) != NULL)
            caps |= geometry_fields[i].cap;
    for (size_t i = 0; i < cj_len(ops); i++) {
        const char *cmd = cj_str(cj_get(cj_at(ops, i), "cmd"));
        if (cj_at(ops, i)->type == CJ_STRING)
            caps |= CAP_IO;
        else if (cmd != NULL)
            caps |= conform_cap_from_name(cmd);
    }
    return caps;
}

/* crash_case_io.run: an adapter command of a crash case. */
static int crash_run_cb(void *ctx, char *const argv[], int *code, char *why, size_t cap)
{
    case_ctx *x = ctx;
    cp_result res;
    if (run_argv(x, "", argv, &res) < 0)
        return -1;
    *code = res.exit_code;
    if (res.exit_code != 0) {
        char err[256];
        first_line(res.err, err, sizeof err);
        snprintf(why, cap, "exit %d (%s)", res.exit_code, err[0] ? err : "no message");
    }
    cp_result_free(&res);
    return 0;
}

/* The LD_PRELOAD recorder beside qed-conform, or NULL when not built. */
static const char *find_shim(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 32);
    char *slash;
    if (n <= 0)
        return NULL;
    out[n] = '\0';
    if ((slash = strrchr(out, '/')) == NULL)
        return NULL;
    snprintf(slash, 32, "/libqedtrace.so");
    return access(out, R_OK) == 0 ? out : NULL;
}

/* The crash family (conformance/crash): record the workload from the
 * adapter, judge every crash state of its trace. */
static void run_crash(case_ctx *x)
{
    const cj_value *t = x->c->test;
    uint64_t cs = 0, ts = 0, size = 0;
    crash_workload w;
    char shim[PATH_MAX], msg[CR_MESSAGE_MAX], rules[CR_RULES_MAX];
    cj_u64(cj_get(t, "cluster_size"), &cs);
    cj_u64(cj_get(t, "table_size"), &ts);
    cj_u64(cj_get(t, "size"), &size);
    if (crash_workload_from_fields(&w, x->c->id, cs, ts, size, cj_str(cj_get(t, "backing")),
                                   cj_str(cj_get(t, "initial")), cj_str(cj_get(t, "ops"))) < 0) {
        fail(x, "manifest: a crash workload with bad fields");
        return;
    }
    crash_case_io io = { x->dir, x->cfg->adapter, (x->cfg->caps & CAP_IO_TRACE) != 0,
                         find_shim(shim, sizeof shim), crash_run_cb, x };
    rules[0] = '\0';
    int verdict = crash_run_workload(&io, &w, msg, sizeof msg, rules, sizeof rules,
                                     x->r->detail, sizeof x->r->detail);
    if (verdict == 2)
        skip(x, "%s", msg);
    else if (verdict != 0 && x->r->status != CS_FAIL)
        fail(x, "%s", msg);
    else if (verdict == 0)
        snprintf(x->r->message, sizeof x->r->message, "%s", msg);
    if (verdict == 1 && rules[0]) {
        snprintf(x->r->rules, sizeof x->r->rules, "%s", rules);
        snprintf(x->r->broke, sizeof x->r->broke, "%s", rules);
    }
}

typedef void (*family_fn)(case_ctx *x);

/* The family handler, the capabilities it needs all of (*caps) and those
 * it needs at least one of (*any, 0 for none); NULL if unknown.  The read,
 * reject and check families judge each part of a case with the
 * capability it needs, so they need only some.  In the read families the
 * result field decides: invalid images are handled as rejects, acceptable
 * ones as acceptable. */
static family_fn pick_family(const case_ctx *x, unsigned *caps, unsigned *any)
{
    const char *fam = x->c->family, *res = x->c->result ? x->c->result : "valid";
    int readish = strcmp(fam, "read") == 0 || strcmp(fam, "random") == 0;
    *caps = *any = 0;
    if (strcmp(fam, "reject") == 0 || (readish && strcmp(res, "invalid") == 0))
        return *any = CAP_INFO | CAP_CONVERT, run_reject;
    if (strcmp(fam, "acceptable") == 0 || (readish && strcmp(res, "acceptable") == 0))
        return *caps = CAP_CONVERT, run_acceptable;
    if (readish)
        return *any = CAP_CONVERT | CAP_INFO | CAP_MAP | CAP_CHECK | CAP_IO, run_read;
    if (strcmp(fam, "read-error") == 0)
        return *any = CAP_CONVERT | CAP_INFO | CAP_IO, run_read_error;
    if (strcmp(fam, "check") == 0)
        return *any = CAP_CHECK | CAP_CONVERT | CAP_INFO, run_check_family;
    if (strcmp(fam, "write") == 0)
        return *caps = write_caps(x), run_write;
    if (strcmp(fam, "crash") == 0)
        return *caps = CAP_IO, run_crash;
    return NULL;
}

/* Copy one manifest file into the scratch directory, checking its hash. */
static int stage_file(case_ctx *x, const char *rel, const char *want_sha)
{
    char src[PATH_MAX], dst[PATH_MAX], hex[65], err[PATH_MAX + 64];
    if (!cf_path_is_safe(rel)) {
        fail(x, "manifest: unsafe path \"%s\"", rel);
        return -1;
    }
    if (cf_join(src, sizeof src, x->c->base_dir, rel) < 0 || cf_join(dst, sizeof dst, x->dir, rel) < 0 ||
        cf_copy_file(src, dst, hex, err, sizeof err) < 0) {
        fail(x, "corpus: %s", err);
        return -1;
    }
    if (want_sha != NULL && strcmp(hex, want_sha) != 0) {
        fail(x, "corpus: %s has sha256 %.16s..., manifest says %.16s... (corpus damaged)", rel, hex,
             want_sha);
        return -1;
    }
    if (cg_add(&x->inputs, rel, hex) < 0) {
        fail(x, "runner: out of memory");
        return -1;
    }
    return 0;
}

/* 1 when the case needs no backing file: it stages no extra file, creates
 * none, and its image does not set BACKING_FILE (FEAT-1; a case whose
 * backing file is missing on purpose sets it). */
static int needs_no_backing(const case_ctx *x)
{
    const char *file = cj_str(cj_get(x->c->test, "file"));
    const cj_value *create = cj_get(x->c->test, "create");
    unsigned char h[24] = { 0 };
    char path[PATH_MAX];

    if (cj_len(cj_get(x->c->test, "extra_files")) > 0 || cj_get(x->c->test, "backing") != NULL ||
        (create != NULL && cj_get(create, "backing") != NULL))
        return 0;
    if (file == NULL)
        return 1;
    FILE *f = cf_join(path, sizeof path, x->dir, file) < 0 ? NULL : fopen(path, "rb");
    size_t got = f != NULL ? fread(h, 1, sizeof h, f) : 0;
    if (f != NULL)
        fclose(f);
    return got == sizeof h && (h[16] & 1) == 0;   /* features, little-endian */
}

/* Create the scratch directory and copy file + extra_files into it. */
static int stage_inputs(case_ctx *x)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(x->dir, sizeof x->dir, "%s/qed-conform.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(x->dir) == NULL) {
        fail(x, "runner: mkdtemp: %s", strerror(errno));
        x->dir[0] = '\0';
        return -1;
    }
    const char *file = cj_str(cj_get(x->c->test, "file"));
    if (file != NULL && stage_file(x, file, cj_str(cj_get(x->c->test, "sha256"))) < 0)
        return -1;
    const cj_value *extra = cj_get(x->c->test, "extra_files");
    for (size_t i = 0; i < cj_len(extra); i++) {
        const char *rel = cj_str(cj_get(cj_at(extra, i), "file"));
        if (rel == NULL) {
            fail(x, "manifest: extra_files entry without \"file\"");
            return -1;
        }
        if (stage_file(x, rel, cj_str(cj_get(cj_at(extra, i), "sha256"))) < 0)
            return -1;
    }
    /* The reference adapter runs in its untrusted-image mode wherever the
     * case allows it (README, "Reliability"). */
    x->no_backing = strcmp(x->cfg->impl, "ref") == 0 && needs_no_backing(x);
    return 0;
}

/* The case's rule IDs, comma-separated, error_rule first when present. */
static void collect_rules(const conform_case *c, char *out, size_t cap)
{
    const char *err_rule = cj_str(cj_get(c->test, "error_rule"));
    const cj_value *rules = cj_get(c->test, "rules");
    out[0] = '\0';
    if (err_rule != NULL)
        snprintf(out, cap, "%s", err_rule);
    for (size_t i = 0; i < cj_len(rules); i++) {
        const char *id = cj_str(cj_at(rules, i));
        if (id == NULL || (err_rule != NULL && strcmp(id, err_rule) == 0))
            continue;
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", len ? "," : "", id);
    }
}

/* Write README of a kept failure: what failed, how to reproduce it, and
 * what the keep budget left out. */
static void write_keep_readme(const case_ctx *x, const char *dir, const keep_budget *b)
{
    char path[PATH_MAX];
    if (cf_join(path, sizeof path, dir, "README") < 0)
        return;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    fprintf(f, "qed-conform case %s failed with --impl %s\n\n%s\n\n", x->c->id, x->cfg->impl,
            x->r->message);
    fprintf(f, "This directory holds the case's original input files; after/ holds the\n"
               "scratch directory as the failing run left it.  To reproduce, run these\n"
               "commands, in this order, from a fresh copy of this directory:\n\n%s",
            x->log);
    fprintf(f, "\nKept: %u files, %llu bytes of data (holes stay holes).  The keep budget of a\n"
               "case is %llu bytes of data (--keep-limit) and %.0f s.\n", b->kept_files,
            (unsigned long long)b->kept_bytes, (unsigned long long)x->cfg->keep_limit,
            KEEP_MAX_SECONDS);
    if (b->left_files)
        fprintf(f, "Left out (%u files):\n%s", b->left_files, b->left_out);
    else
        fputs("Nothing was left out.\n", f);
    fclose(f);
}

/* --keep-failures: DIR/<id with '/' as '_'>/ gets inputs, after/, README,
 * within the keep budget (conform_keep.h); a file left out is named in
 * the README and, counted, in the case's message. */
static void keep_failure(case_ctx *x)
{
    char name[PATH_MAX], dir[PATH_MAX], after[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
    keep_budget b;
    snprintf(name, sizeof name, "%s", x->c->id);
    for (char *p = name; *p; p++)
        if (*p == '/' || *p == '\\')
            *p = '_';
    if (cf_join(dir, sizeof dir, x->cfg->keep_dir, name) < 0 ||
        cf_join(after, sizeof after, dir, "after") < 0)
        return;
    cf_remove_tree(dir);
    keep_budget_init(&b, x->cfg->keep_limit, KEEP_MAX_SECONDS);
    if (cf_make_parents(after) < 0 || keep_tree(&b, x->dir, after, "after/") < 0) {
        fprintf(stderr, "qed-conform: cannot keep %s in %s\n", x->c->id, dir);
        return;
    }
    const char *file = cj_str(cj_get(x->c->test, "file"));
    const cj_value *extra = cj_get(x->c->test, "extra_files");
    for (size_t i = 0; i <= cj_len(extra); i++) {
        const char *rel = i == 0 ? file : cj_str(cj_get(cj_at(extra, i - 1), "file"));
        if (rel != NULL && cf_path_is_safe(rel) && cf_join(src, sizeof src, x->c->base_dir, rel) == 0 &&
            cf_join(dst, sizeof dst, dir, rel) == 0)
            keep_file(&b, src, dst, rel);
    }
    write_keep_readme(x, dir, &b);
    if (b.left_files) {
        char note[320];
        snprintf(note, sizeof note, "; --keep-failures left out %u file%s (over the keep budget: "
                 "see %.200s/README)", b.left_files, b.left_files == 1 ? "" : "s", name);
        append(x->r->message, CR_MESSAGE_MAX, note);
    }
}

/* The lowest set bit of a non-zero mask. */
static unsigned lowest_bit(unsigned mask)
{
    return mask & (~mask + 1u);
}

void conform_run_case(const conform_config *cfg, const conform_case *c, case_result *r)
{
    static case_ctx x;   /* large (log buffer): one case at a time per process */
    unsigned need = 0, any = 0;
    char lacking[128];
    memset(&x, 0, sizeof x);
    memset(r, 0, sizeof *r);
    x.cfg = cfg;
    x.c = c;
    x.r = r;
    double start = cp_now();
    x.budget = cfg->timeout;   /* the runner's own hashing does not count */
    collect_rules(c, r->rules, sizeof r->rules);
    family_fn run = pick_family(&x, &need, &any);
    if (run == NULL)
        fail(&x, "manifest: unknown family \"%s\"", c->family);
    else if ((need & ~cfg->caps) & ~(unsigned)(CAP_CREATE_CS | CAP_CREATE_TS))
        skip(&x, "adapter lacks '%s'", conform_cap_name(lowest_bit(need & ~cfg->caps)));
    else if (need & ~cfg->caps) {
        cap_list(need & ~cfg->caps, lacking, sizeof lacking);
        skip(&x, "adapter lacks %s: the case is about the geometry it creates", lacking);
    }
    else if (any != 0 && (any & cfg->caps) == 0) {
        cap_list(any, lacking, sizeof lacking);
        skip(&x, "adapter lacks %s: nothing could be checked", lacking);
    }
    else if (run == run_write && cfg->reference[0] == '\0')
        skip(&x, "the reference build/qedtool (needed to verify writes) was not found");
    else if (stage_inputs(&x) == 0)
        run(&x);
    if (r->status == CS_FAIL && r->broke[0] == '\0' && cj_str(cj_get(c->test, "error_rule")))
        snprintf(r->broke, sizeof r->broke, "%s", cj_str(cj_get(c->test, "error_rule")));
    if (r->status == CS_FAIL && cfg->keep_dir != NULL && x.dir[0] && !cp_interrupted())
        keep_failure(&x);
    if (x.dir[0])
        cf_remove_tree(x.dir);
    cg_free(&x.inputs);
    r->seconds = cp_now() - start;
}
