/*
 * conform_adapter_check.c - `qed-conform adapter-check` (see the header):
 * the reference makes a known image (a 1 MiB QED image, 64 KiB clusters,
 * over a raw backing file, with one data cluster and one zero cluster),
 * then each subcommand the adapter declares is called on it and every
 * answer is held against the contract of conformance/ADAPTERS.md: exit
 * codes, JSON, what the files hold afterwards, and that reading wrote
 * nothing.
 */
#include "conform_adapter_check.h"
#include "../lib/files.h"
#include "conform_guard.h"
#include "conform_json.h"
#include "conform_map.h"
#include "conform_proc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

#define KNOWN_SIZE 1048576u     /* the known image's virtual size */
#define GROWN_SIZE 2097152u     /* create and resize use this size */
#define CLUSTER 65536u
#define WANT_REFUSAL (-1)       /* call_adapter: any non-zero exit status */
/* The first u64 of a dm-log-writes log (QED_TRACE_MAGIC of ref/qed_trace.h;
 * the runner judges the reference too, so it does not include ref/). */
#define TRACE_MAGIC 0x6a736677736872ull

enum { ADAPTER, REFERENCE };

/* One adapter-check run. */
typedef struct {
    const conform_config *cfg;
    FILE *out;
    char dir[PATH_MAX];         /* the temporary directory ("" before it exists) */
    char pristine[PATH_MAX];    /* dir/pristine: copies of what reads must not change */
    cg_inputs inputs;           /* known.qed, leaky.qed, base.raw */
    unsigned declared;          /* CAP_* from `capabilities` */
    unsigned ok, broken, undeclared;
    char content_sha[65];       /* the known image's content, by the reference */
    cm_map ref_map;             /* its map, by the reference, normalised */
} ac_ctx;

/* Print one verdict line: ok or BROKEN, then the text. */
static void PRINTF_LIKE(3, 4) verdict(ac_ctx *a, int ok, const char *fmt, ...)
{
    va_list ap;
    fprintf(a->out, "  %-7s ", ok ? "ok" : "BROKEN");
    va_start(ap, fmt);
    vfprintf(a->out, fmt, ap);
    va_end(ap);
    fputc('\n', a->out);
    if (ok)
        a->ok++;
    else
        a->broken++;
}

/* args as one line, each argument with a space or quote in '...'. */
static void join_args(const char *const args[], char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; args[i] != NULL && len + 1 < cap; i++) {
        int quote = args[i][0] == '\0' || strpbrk(args[i], " '\"\t") != NULL;
        int n = snprintf(out + len, cap - len, "%s%s%s%s", i ? " " : "", quote ? "'" : "",
                         args[i], quote ? "'" : "");
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

/* The first line of text, printable ASCII only, at most 160 bytes. */
static void first_line(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    while (*text == '\n' || *text == ' ')
        text++;
    for (; *text && *text != '\n' && n + 1 < cap && n < 160; text++)
        out[n++] = (*text >= 0x20 && *text < 0x7F) ? *text : '?';
    out[n] = '\0';
}

/* Run the adapter or the reference with args in the directory.  Returns 0
 * when it exited (free *res), or -1 with *why set: it was killed by a
 * signal, ran out of time or could not be started. */
static int run_in_dir(ac_ctx *a, int who, const char *const args[], cp_result *res, char *why,
                      size_t cap)
{
    char *argv[24];
    size_t n = 0;
    argv[n++] = (char *)(uintptr_t)(who == ADAPTER ? a->cfg->adapter : a->cfg->reference);
    for (size_t i = 0; args[i] != NULL && n + 1 < sizeof argv / sizeof argv[0]; i++)
        argv[n++] = (char *)(uintptr_t)args[i];
    argv[n] = NULL;
    if (cp_run(argv, a->dir, a->cfg->timeout, res) < 0) {
        snprintf(why, cap, "could not be run (fork failed)");
        return -1;
    }
    if (res->exited && !res->spawn_failed)
        return 0;
    if (res->timed_out)
        snprintf(why, cap, "did not finish within %.0f s (a hang; it was killed)", a->cfg->timeout);
    else if (res->signal)
        snprintf(why, cap, "crashed (signal %d: %s)", res->signal, cp_signal_name(res->signal));
    else
        snprintf(why, cap, "could not be executed");
    cp_result_free(res);
    return -1;
}

/* Call the adapter; when it crashes, hangs or its exit status is not want
 * (WANT_REFUSAL: any non-zero), report it as BROKEN under what, with
 * expect saying what the contract asks, and return -1.  Else 0 (free
 * *res). */
static int call_adapter(ac_ctx *a, const char *what, const char *const args[], int want,
                        const char *expect, cp_result *res)
{
    char line[512], why[160], err[200];
    join_args(args, line, sizeof line);
    if (run_in_dir(a, ADAPTER, args, res, why, sizeof why) < 0) {
        verdict(a, 0, "%s: `%s` %s", what, line, why);
        return -1;
    }
    int good = want == WANT_REFUSAL ? res->exit_code != 0 : res->exit_code == want;
    if (good)
        return 0;
    first_line(res->err, err, sizeof err);
    verdict(a, 0, "%s: `%s` exited %d; %s%s%s%s", what, line, res->exit_code, expect,
            err[0] ? " (it said: " : "", err, err[0] ? ")" : "");
    cp_result_free(res);
    return -1;
}

/* Call the adapter where it must refuse: ok when it exits non-zero. */
static void expect_refusal(ac_ctx *a, const char *what, const char *const args[],
                           const char *expect)
{
    cp_result res;
    if (call_adapter(a, what, args, WANT_REFUSAL, expect, &res) < 0)
        return;
    verdict(a, 1, "%s: exit %d", what, res.exit_code);
    cp_result_free(&res);
}

/* Parse a call's stdout as JSON, or report BROKEN (what, and how the
 * output should look) and return NULL. */
static cj_value *output_json(ac_ctx *a, const char *what, const cp_result *res, const char *shape)
{
    char err[160];
    cj_value *v;
    if (cj_parse(res->out, res->out_len, &v, err, sizeof err) == 0)
        return v;
    verdict(a, 0, "%s: printed no valid JSON (%s); it must print %s", what, err, shape);
    return NULL;
}

/* Reading must not write: the known files must be as they were.  A change
 * is BROKEN, named with its first differing byte, and undone. */
static void guard(ac_ctx *a, const char *sub)
{
    char msg[1024], src[PATH_MAX], dst[PATH_MAX], hex[65], err[256];
    if (cg_verify(&a->inputs, a->dir, a->pristine, msg, sizeof msg) == 0)
        return;
    verdict(a, 0, "%s: changed a file it only reads (%s): reading must not write", sub, msg);
    for (size_t i = 0; i < a->inputs.count; i++)
        if (cf_join(src, sizeof src, a->pristine, a->inputs.files[i].rel) == 0 &&
            cf_join(dst, sizeof dst, a->dir, a->inputs.files[i].rel) == 0)
            cf_copy_file(src, dst, hex, err, sizeof err);
}

/* dir/rel as an absolute path into out; -1 when it does not fit. */
static int in_dir(const ac_ctx *a, const char *rel, char *out, size_t cap)
{
    return cf_join(out, cap, a->dir, rel);
}

/* Copy dir/from to dir/to; 0, or -1 with a message on stderr. */
static int copy_in_dir(const ac_ctx *a, const char *from, const char *to)
{
    char src[PATH_MAX], dst[PATH_MAX], hex[65], err[256];
    if (in_dir(a, from, src, sizeof src) < 0 || in_dir(a, to, dst, sizeof dst) < 0 ||
        cf_make_parents(dst) < 0 || cf_copy_file(src, dst, hex, err, sizeof err) < 0) {
        fprintf(stderr, "qed-conform adapter-check: cannot copy %s to %s\n", from, to);
        return -1;
    }
    return 0;
}

/* The reference's `info --output=json img` (free with cj_free), or NULL
 * with *why set when it does not open the image. */
static cj_value *reference_info(ac_ctx *a, const char *img, char *why, size_t cap)
{
    const char *args[] = { "info", "--output=json", img, NULL };
    cp_result res;
    cj_value *v = NULL;
    char err[160];
    if (run_in_dir(a, REFERENCE, args, &res, why, cap) < 0)
        return NULL;
    if (res.exit_code != 0) {
        first_line(res.err, err, sizeof err);
        snprintf(why, cap, "the reference cannot open %s (%s)", img, err);
    } else if (cj_parse(res.out, res.out_len, &v, err, sizeof err) < 0) {
        snprintf(why, cap, "the reference's info printed no JSON");
        v = NULL;
    }
    cp_result_free(&res);
    return v;
}

/* The reference's virtual-size of img; 0, or -1 with *why set. */
static int reference_size(ac_ctx *a, const char *img, uint64_t *size, char *why, size_t cap)
{
    cj_value *info = reference_info(a, img, why, cap);
    int rc = info != NULL && cj_u64(cj_get(info, "virtual-size"), size) == 0 ? 0 : -1;
    if (info != NULL && rc < 0)
        snprintf(why, cap, "the reference's info has no virtual-size");
    cj_free(info);
    return rc;
}

/* Run the reference and require exit 0; 0, or -1 with *why set. */
static int reference_ok(ac_ctx *a, const char *const args[], char *why, size_t cap)
{
    cp_result res;
    char line[200], err[160];
    if (run_in_dir(a, REFERENCE, args, &res, why, cap) < 0)
        return -1;
    int rc = res.exit_code == 0 ? 0 : -1;
    if (rc < 0) {
        join_args(args, line, sizeof line);
        first_line(res.err, err, sizeof err);
        snprintf(why, cap, "the reference's `%s` exited %d%s%s%s", line, res.exit_code,
                 err[0] ? " (" : "", err, err[0] ? ")" : "");
    }
    cp_result_free(&res);
    return rc;
}

/* Counts of check JSON (a missing count is 0); -1 when not counts. */
static int json_counts(const cj_value *j, uint64_t *corruptions, uint64_t *leaks)
{
    const cj_value *c = cj_get(j, "corruptions"), *l = cj_get(j, "leaks");
    *corruptions = *leaks = 0;
    if (j == NULL || j->type != CJ_OBJECT)
        return -1;
    return (c != NULL && cj_u64(c, corruptions) < 0) || (l != NULL && cj_u64(l, leaks) < 0) ? -1 : 0;
}

/* ---- the probes, one per subcommand ---------------------------------- */

/* " info convert ...": the names of the bits in caps, into out. */
static const char *declared_names(unsigned caps, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (unsigned bit = 1; bit <= CAP_LAST; bit <<= 1)
        if ((caps & bit) && len + strlen(conform_cap_name(bit)) + 2 < cap)
            len += (size_t)snprintf(out + len, cap - len, " %s", conform_cap_name(bit));
    return out;
}

/* `capabilities`: which subcommands the adapter declares. */
static void probe_capabilities(ac_ctx *a)
{
    const char *args[] = { "capabilities", NULL };
    char why[160], unknown[256] = "";
    cp_result res;
    if (run_in_dir(a, ADAPTER, args, &res, why, sizeof why) < 0) {
        verdict(a, 0, "capabilities: `capabilities` %s", why);
        a->declared = CAP_ALL;
        return;
    }
    if (res.exit_code != 0) {
        fprintf(a->out, "  note    capabilities: exited %d, so a run assumes every subcommand "
                        "(not io-trace); each is tried below\n", res.exit_code);
        a->declared = CAP_ALL;
        cp_result_free(&res);
        return;
    }
    for (char *line = strtok(res.out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        line[strcspn(line, " \t\r")] = '\0';
        unsigned bit = conform_cap_from_name(line);
        a->declared |= bit;
        if (bit == 0 && line[0] && strlen(unknown) + strlen(line) + 4 < sizeof unknown)
            snprintf(unknown + strlen(unknown), sizeof unknown - strlen(unknown), " '%s'", line);
    }
    cp_result_free(&res);
    if (a->declared == 0)
        verdict(a, 0, "capabilities: exit 0 but no subcommand name qed-conform knows (one a line: "
                      "create info check map convert io rebase resize io-trace "
                      "create-cluster-size create-table-size); a run would "
                      "skip every case");
    else
        verdict(a, 1, "capabilities: exit 0, declares%s", declared_names(a->declared, why,
                                                                        sizeof why));
    if (unknown[0])
        fprintf(a->out, "  note    capabilities: unknown names ignored:%s\n", unknown);
}

/* `info`: exit 0 and virtual-size on the known image; refusals. */
static void probe_info(ac_ctx *a)
{
    const char *args[] = { "info", "--output=json", "known.qed", NULL };
    const char *raw[] = { "info", "--output=json", "base.raw", NULL };
    const char *orphan[] = { "info", "--output=json", "orphan/known.qed", NULL };
    cp_result res;
    uint64_t size;
    if (call_adapter(a, "info", args, 0, "expected 0: the image is valid", &res) == 0) {
        cj_value *j = output_json(a, "info", &res, "a JSON object as `qemu-img info --output=json`");
        if (j != NULL && cj_u64(cj_get(j, "virtual-size"), &size) < 0)
            verdict(a, 0, "info: the JSON has no numeric \"virtual-size\" (the image size in bytes)");
        else if (j != NULL && size != KNOWN_SIZE)
            verdict(a, 0, "info: \"virtual-size\" is %llu; the image is %u bytes",
                    (unsigned long long)size, KNOWN_SIZE);
        else if (j != NULL)
            verdict(a, 1, "info: exit 0, JSON with \"virtual-size\": %u", KNOWN_SIZE);
        cj_free(j);
        cp_result_free(&res);
    }
    guard(a, "info");
    expect_refusal(a, "info of base.raw, a raw file (must refuse)", raw,
                   "expected non-zero: base.raw is not a QED image, and a refused image must "
                   "give a non-zero exit status, or every reject case fails");
    expect_refusal(a, "info of an image whose backing file is missing (must refuse, BACK-5)",
                   orphan, "expected non-zero: orphan/base.raw does not exist, and info must "
                   "open the whole backing chain (BACK-5)");
}

/* `convert`: the known image's logical bytes; a raw file refused. */
static void probe_convert(ac_ctx *a)
{
    const char *args[] = { "convert", "-f", "qed", "-O", "raw", "known.qed", "out.raw", NULL };
    const char *raw[] = { "convert", "-f", "qed", "-O", "raw", "base.raw", "out2.raw", NULL };
    char path[PATH_MAX], hex[65];
    uint64_t size;
    cp_result res;
    if (call_adapter(a, "convert", args, 0, "expected 0: the image is valid", &res) == 0) {
        cp_result_free(&res);
        if (in_dir(a, "out.raw", path, sizeof path) < 0 || cf_hash_file(path, hex, &size) < 0)
            verdict(a, 0, "convert: exited 0 but wrote no out.raw (DST)");
        else if (size != KNOWN_SIZE)
            verdict(a, 0, "convert: out.raw is %llu bytes; it must hold the image's %u logical "
                          "bytes", (unsigned long long)size, KNOWN_SIZE);
        else if (strcmp(hex, a->content_sha) != 0)
            verdict(a, 0, "convert: out.raw does not hold the image's content (sha256 %.16s..., "
                          "the reference's %.16s...)", hex, a->content_sha);
        else
            verdict(a, 1, "convert: exit 0, out.raw holds the image's %u bytes", KNOWN_SIZE);
    }
    guard(a, "convert");
    expect_refusal(a, "convert of base.raw, a raw file (must refuse)", raw,
                   "expected non-zero: SRC is read as QED, never probed, and base.raw is not "
                   "a QED image");
}

/* `map`: qemu-img's JSON array, equal to the reference's map. */
static void probe_map(ac_ctx *a)
{
    const char *args[] = { "map", "--output=json", "known.qed", NULL };
    char err[512];
    cm_map got;
    cp_result res;
    if (call_adapter(a, "map", args, 0, "expected 0: the image is valid", &res) == 0) {
        cj_value *j = output_json(a, "map", &res, "the JSON array of `qemu-img map --output=json`");
        if (j != NULL && cm_from_json(j, &got, err, sizeof err) < 0) {
            verdict(a, 0, "map: %s (each extent needs start, length, depth, present, zero, data, "
                          "and offset where data is true)", err);
        } else if (j != NULL) {
            cm_normalise(&got);
            if (cm_compare(&a->ref_map, &got, err, sizeof err) < 0)
                verdict(a, 0, "map: differs from the image's map: %s", err);
            else
                verdict(a, 1, "map: exit 0, the image's %zu extents", got.count);
            cm_free(&got);
        }
        cj_free(j);
        cp_result_free(&res);
    }
    guard(a, "map");
}

/* One `check --output=json img`: exit want, counts corr/leaks. */
static void check_once(ac_ctx *a, const char *what, const char *img, int want, uint64_t want_corr,
                       uint64_t want_leaks, const char *expect)
{
    const char *args[] = { "check", "--output=json", img, NULL };
    uint64_t corr, leaks;
    cp_result res;
    if (call_adapter(a, what, args, want, expect, &res) < 0)
        return;
    cj_value *j = output_json(a, what, &res, "{\"corruptions\": N, \"leaks\": N}");
    if (j != NULL && json_counts(j, &corr, &leaks) < 0)
        verdict(a, 0, "%s: the JSON is not an object with numeric \"corruptions\" and \"leaks\"",
                what);
    else if (j != NULL && (corr != want_corr || leaks != want_leaks))
        verdict(a, 0, "%s: %llu corruptions, %llu leaks; the image has %llu and %llu", what,
                (unsigned long long)corr, (unsigned long long)leaks,
                (unsigned long long)want_corr, (unsigned long long)want_leaks);
    else if (j != NULL)
        verdict(a, 1, "%s: exit %d, %llu corruptions, %llu leaks", what, want,
                (unsigned long long)corr, (unsigned long long)leaks);
    cj_free(j);
    cp_result_free(&res);
}

/* `check`: a clean image exits 0, one with a leaked cluster exits 3. */
static void probe_check(ac_ctx *a)
{
    check_once(a, "check", "known.qed", 0, 0, 0, "expected 0: the image is clean");
    check_once(a, "check of an image with one leaked cluster", "leaky.qed", 3, 0, 1,
               "expected 3 (0 clean, 1 could not check, 2 corruptions, 3 leaks only)");
    guard(a, "check");
}

/* Call `create [-o OPTION] IMG 2097152` (what names the probe); 0 when the
 * reference then opens IMG, of the size asked, clean; -1 after a BROKEN
 * verdict. */
static int create_once(ac_ctx *a, const char *what, const char *option, const char *img)
{
    const char *with[] = { "create", "-o", option, img, "2097152", NULL };
    const char *plain[] = { "create", img, "2097152", NULL };
    const char *chk[] = { "check", "--output=json", img, NULL };
    char why[256];
    uint64_t size;
    cp_result res;
    if (call_adapter(a, what, option ? with : plain, 0, "expected 0", &res) < 0)
        return -1;
    cp_result_free(&res);
    if (reference_size(a, img, &size, why, sizeof why) < 0)
        verdict(a, 0, "%s: exit 0, but %s", what, why);
    else if (size != GROWN_SIZE)
        verdict(a, 0, "%s: %s has virtual size %llu, %u was asked", what, img,
                (unsigned long long)size, GROWN_SIZE);
    else if (reference_ok(a, chk, why, sizeof why) < 0)
        verdict(a, 0, "%s: %s is not a clean image: %s", what, img, why);
    else
        return 0;
    return -1;
}

/* `create` without options: the implementation's own geometry. */
static void probe_create(ac_ctx *a)
{
    if (create_once(a, "create", NULL, "new.qed") == 0)
        verdict(a, 1, "create: new.qed opens in the reference, %u bytes, clean", GROWN_SIZE);
}

/* The u32 at byte off of img's header (cluster_size 4, table_size 8);
 * -1 when the file has no 64-byte header. */
static int header_u32(const ac_ctx *a, const char *img, unsigned off, uint32_t *out)
{
    unsigned char h[64];
    char path[PATH_MAX];
    FILE *f;
    if (in_dir(a, img, path, sizeof path) < 0 || (f = fopen(path, "rb")) == NULL)
        return -1;
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (n != sizeof h)
        return -1;
    *out = (uint32_t)h[off] | (uint32_t)h[off + 1] << 8 | (uint32_t)h[off + 2] << 16 |
           (uint32_t)h[off + 3] << 24;
    return 0;
}

/* `create -o KEY=VALUE` (a value no implementation defaults to): the
 * header must hold it (HDR-2, HDR-3), as the capability promises. */
static void probe_geometry(ac_ctx *a, const char *key, unsigned off, uint32_t value)
{
    char what[64], option[48], img[32];
    uint32_t got;
    snprintf(what, sizeof what, "create -o %s", key);
    snprintf(option, sizeof option, "%s=%u", key, value);
    snprintf(img, sizeof img, "geometry-%u.qed", off);
    if (create_once(a, what, option, img) < 0)
        return;
    if (header_u32(a, img, off, &got) < 0)
        verdict(a, 0, "%s: %s has no 64-byte header", what, img);
    else if (got != value)
        verdict(a, 0, "%s: `create -o %s` made %s %u; the capability says the image has "
                      "exactly the %s asked", what, option, key, got, key);
    else
        verdict(a, 1, "%s: the image made has %s %u, as asked", what, key, value);
}

/* create-cluster-size: 16 KiB clusters (qemu-img and qedtool default to 64 KiB). */
static void probe_create_cs(ac_ctx *a)
{
    probe_geometry(a, "cluster_size", 4, 16384);
}

/* create-table-size: table_size 2 (the defaults are 4). */
static void probe_create_ts(ac_ctx *a)
{
    probe_geometry(a, "table_size", 8, 2);
}

/* `io`: a write the reference reads back; a failing read -P exits 1. */
static void probe_io(ac_ctx *a)
{
    const char *args[] = { "io", "io.qed", "-c", "write -P 0x5a 4096 4096", "-c",
                           "read -P 0x5a 4096 4096", "-c", "flush", NULL };
    const char *back[] = { "io", "io.qed", "-c", "read -P 0x5a 4096 4096", NULL };
    const char *chk[] = { "check", "--output=json", "io.qed", NULL };
    const char *bad[] = { "io", "io.qed", "-c", "read -P 0x77 0 512", NULL };
    char why[256];
    cp_result res;
    if (copy_in_dir(a, "known.qed", "io.qed") < 0)
        return;
    if (call_adapter(a, "io", args, 0, "expected 0: every command should succeed", &res) == 0) {
        cp_result_free(&res);
        if (reference_ok(a, back, why, sizeof why) < 0)
            verdict(a, 0, "io: exit 0, but the written bytes (0x5a at 4096..8191) are not in "
                          "io.qed: %s", why);
        else if (reference_ok(a, chk, why, sizeof why) < 0)
            verdict(a, 0, "io: io.qed is not a clean image afterwards: %s", why);
        else
            verdict(a, 1, "io: exit 0, the reference reads the written bytes back");
    }
    expect_refusal(a, "io with a failing `read -P` (must exit non-zero)", bad,
                   "expected 1: byte 0 holds 0xab, so `read -P 0x77 0 512` fails, and a "
                   "failing command must end io with a non-zero exit status (1)");
}

/* `rebase -u`: the header names the new backing file. */
static void probe_rebase(ac_ctx *a)
{
    const char *args[] = { "rebase", "-u", "-b", "base2.raw", "-F", "raw", "rb.qed", NULL };
    char why[256];
    cp_result res;
    if (copy_in_dir(a, "known.qed", "rb.qed") < 0 || copy_in_dir(a, "base.raw", "base2.raw") < 0)
        return;
    if (call_adapter(a, "rebase", args, 0, "expected 0", &res) < 0)
        return;
    cp_result_free(&res);
    cj_value *info = reference_info(a, "rb.qed", why, sizeof why);
    const char *name = cj_str(cj_get(info, "backing-filename"));
    if (info == NULL)
        verdict(a, 0, "rebase: exit 0, but %s", why);
    else if (name == NULL || strcmp(name, "base2.raw") != 0)
        verdict(a, 0, "rebase: exit 0, but rb.qed names backing file '%s', not base2.raw",
                name ? name : "(none)");
    else
        verdict(a, 1, "rebase: exit 0, rb.qed now names base2.raw");
    cj_free(info);
}

/* `resize`: the reference sees the new size. */
static void probe_resize(ac_ctx *a)
{
    const char *args[] = { "resize", "rs.qed", "2097152", NULL };
    char why[256];
    uint64_t size;
    cp_result res;
    if (copy_in_dir(a, "known.qed", "rs.qed") < 0)
        return;
    if (call_adapter(a, "resize", args, 0, "expected 0", &res) < 0)
        return;
    cp_result_free(&res);
    if (reference_size(a, "rs.qed", &size, why, sizeof why) < 0)
        verdict(a, 0, "resize: exit 0, but %s", why);
    else if (size != GROWN_SIZE)
        verdict(a, 0, "resize: exit 0, but rs.qed has virtual size %llu, not %u",
                (unsigned long long)size, GROWN_SIZE);
    else
        verdict(a, 1, "resize: exit 0, rs.qed is now %u bytes", GROWN_SIZE);
}

/* `io --trace`: the log starts with a dm-log-writes superblock. */
static void probe_io_trace(ac_ctx *a)
{
    const char *args[] = { "io", "--trace", "tr.log", "tr.qed", "-c", "write -P 0x11 0 4096",
                           NULL };
    unsigned char sb[8];
    char path[PATH_MAX];
    cp_result res;
    FILE *f;
    if (copy_in_dir(a, "known.qed", "tr.qed") < 0)
        return;
    if (call_adapter(a, "io --trace", args, 0, "expected 0", &res) < 0)
        return;
    cp_result_free(&res);
    uint64_t magic = 0;
    if (in_dir(a, "tr.log", path, sizeof path) == 0 && (f = fopen(path, "rb")) != NULL) {
        if (fread(sb, 1, sizeof sb, f) == sizeof sb)
            for (int i = 7; i >= 0; i--)
                magic = magic << 8 | sb[i];
        fclose(f);
    }
    if (magic != TRACE_MAGIC)
        verdict(a, 0, "io --trace: tr.log does not start with a dm-log-writes superblock "
                      "(magic 0x%llx, ref/qed_trace.h)", (unsigned long long)TRACE_MAGIC);
    else
        verdict(a, 1, "io --trace: exit 0, tr.log is a dm-log-writes log");
}

/* ---- setup: the known image, made by the reference ------------------- */

/* Write the 1 MiB raw backing file: a pattern with no zero byte. */
static int write_base(const ac_ctx *a)
{
    char path[PATH_MAX];
    unsigned char *buf = malloc(KNOWN_SIZE);
    FILE *f = NULL;
    int ok = buf != NULL && in_dir(a, "base.raw", path, sizeof path) == 0 &&
             (f = fopen(path, "wb")) != NULL;
    for (uint32_t i = 0; ok && i < KNOWN_SIZE; i++)
        buf[i] = (unsigned char)(1 + (i * 131u + (i >> 12)) % 255u);
    ok = ok && fwrite(buf, 1, KNOWN_SIZE, f) == KNOWN_SIZE;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    free(buf);
    return ok ? 0 : -1;
}

/* Append one all-zero cluster to dir/rel (then the image leaks it). */
static int append_cluster(const ac_ctx *a, const char *rel)
{
    char path[PATH_MAX];
    unsigned char *zero = calloc(1, CLUSTER);
    FILE *f = NULL;
    int ok = zero != NULL && in_dir(a, rel, path, sizeof path) == 0 &&
             (f = fopen(path, "ab")) != NULL && fwrite(zero, 1, CLUSTER, f) == CLUSTER;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    free(zero);
    return ok ? 0 : -1;
}

/* The known image's content hash and map, by the reference. */
static int reference_answers(ac_ctx *a, char *why, size_t cap)
{
    const char *conv[] = { "convert", "-f", "qed", "-O", "raw", "known.qed", "ref.raw", NULL };
    const char *map[] = { "map", "--output=json", "known.qed", NULL };
    char path[PATH_MAX], err[160];
    uint64_t size;
    cp_result res;
    cj_value *j = NULL;
    if (reference_ok(a, conv, why, cap) < 0)
        return -1;
    if (in_dir(a, "ref.raw", path, sizeof path) < 0 || cf_hash_file(path, a->content_sha, &size) < 0)
        return snprintf(why, cap, "the reference's convert wrote no ref.raw"), -1;
    if (run_in_dir(a, REFERENCE, map, &res, why, cap) < 0)
        return -1;
    int rc = res.exit_code == 0 && cj_parse(res.out, res.out_len, &j, err, sizeof err) == 0 &&
             cm_from_json(j, &a->ref_map, err, sizeof err) == 0 ? 0 : -1;
    if (rc < 0)
        snprintf(why, cap, "the reference's map failed");
    else
        cm_normalise(&a->ref_map);
    cj_free(j);
    cp_result_free(&res);
    return rc;
}

/* Keep pristine copies of the files reads must not change. */
static int keep_pristine(ac_ctx *a)
{
    static const char *const files[] = { "known.qed", "leaky.qed", "base.raw" };
    char src[PATH_MAX], dst[PATH_MAX], hex[65], err[256];
    if (cf_join(a->pristine, sizeof a->pristine, a->dir, "pristine") < 0)
        return -1;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (in_dir(a, files[i], src, sizeof src) < 0 ||
            cf_join(dst, sizeof dst, a->pristine, files[i]) < 0 || cf_make_parents(dst) < 0 ||
            cf_copy_file(src, dst, hex, err, sizeof err) < 0 || cg_add(&a->inputs, files[i], hex) < 0)
            return -1;
    return 0;
}

/* Make the known files: base.raw, known.qed over it (a data cluster at 0,
 * a zero cluster at 128 KiB), leaky.qed (one leaked cluster), and
 * orphan/known.qed (its backing file missing).  0, or -1 with *why. */
static int make_known(ac_ctx *a, char *why, size_t cap)
{
    const char *create[] = { "create", "-o", "cluster_size=65536,table_size=4", "-b", "base.raw",
                             "-F", "raw", "known.qed", "1048576", NULL };
    const char *io[] = { "io", "known.qed", "-c", "write -P 0xab 0 65536", "-c",
                         "write -z 131072 65536", NULL };
    const char *leak[] = { "check", "--output=json", "leaky.qed", NULL };
    cp_result res;
    if (write_base(a) < 0)
        return snprintf(why, cap, "cannot write base.raw"), -1;
    if (reference_ok(a, create, why, cap) < 0 || reference_ok(a, io, why, cap) < 0)
        return -1;
    if (copy_in_dir(a, "known.qed", "leaky.qed") < 0 || append_cluster(a, "leaky.qed") < 0 ||
        copy_in_dir(a, "known.qed", "orphan/known.qed") < 0)
        return snprintf(why, cap, "cannot copy the known image"), -1;
    if (run_in_dir(a, REFERENCE, leak, &res, why, cap) < 0)
        return -1;
    int code = res.exit_code;
    cp_result_free(&res);
    if (code != 3)
        return snprintf(why, cap, "the reference's check of leaky.qed exited %d, not 3", code), -1;
    if (reference_answers(a, why, cap) < 0)
        return -1;
    if (keep_pristine(a) < 0)
        return snprintf(why, cap, "cannot keep pristine copies"), -1;
    return 0;
}

/* ---- the run --------------------------------------------------------- */

typedef struct {
    unsigned cap;
    void (*probe)(ac_ctx *a);
    const char *without;        /* what a run does when it is not declared */
} probe_entry;

static const probe_entry probes[] = {
    { CAP_INFO, probe_info, "read cases are judged without their size, reject cases only on "
                            "convert's refusal" },
    { CAP_CONVERT, probe_convert, "read cases are judged without their content, reject cases "
                                  "only on info's refusal" },
    { CAP_MAP, probe_map, "read cases are judged without their map" },
    { CAP_CHECK, probe_check, "check counts are not judged; check cases are judged only on "
                              "what they read, where the manifest says what that is" },
    { CAP_CREATE, probe_create, "write cases that create an image are skipped" },
    { CAP_CREATE_CS, probe_create_cs, "create is never passed cluster_size: write cases about "
                                      "geometry that set it are skipped, the others judged at "
                                      "the implementation's own cluster size" },
    { CAP_CREATE_TS, probe_create_ts, "create is never passed table_size: write cases about "
                                      "geometry that set it are skipped, the others judged at "
                                      "the implementation's own table size" },
    { CAP_IO, probe_io, "write and crash cases are skipped" },
    { CAP_REBASE, probe_rebase, "write cases with a rebase step are skipped" },
    { CAP_RESIZE, probe_resize, "write cases with a resize step are skipped" },
    { CAP_IO_TRACE, probe_io_trace, "the crash family records `io` through the LD_PRELOAD "
                                    "shim instead" },
};

/* Call every declared subcommand; note the others. */
static void run_probes(ac_ctx *a)
{
    probe_capabilities(a);
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        if (a->declared & probes[i].cap) {
            probes[i].probe(a);
            continue;
        }
        fprintf(a->out, "  -       %s: not declared; %s\n", conform_cap_name(probes[i].cap),
                probes[i].without);
        a->undeclared++;
    }
}

int conform_adapter_check(const conform_config *cfg, FILE *out)
{
    static ac_ctx a;
    const char *tmp = getenv("TMPDIR");
    char why[512];
    memset(&a, 0, sizeof a);
    a.cfg = cfg;
    a.out = out;
    snprintf(a.dir, sizeof a.dir, "%s/qed-conform-adapter-check.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(a.dir) == NULL) {
        fprintf(stderr, "qed-conform adapter-check: mkdtemp: %s\n", strerror(errno));
        return 2;
    }
    int rc = make_known(&a, why, sizeof why);
    if (rc < 0)
        fprintf(stderr, "qed-conform adapter-check: the reference could not make the known "
                        "image: %s\n", why);
    else {
        fprintf(out, "qed-conform adapter-check --impl %s (%s)\n", cfg->impl, cfg->adapter);
        fprintf(out, "  known image: known.qed, %u bytes, 64 KiB clusters, over the raw backing "
                     "file base.raw, made by the reference\n", KNOWN_SIZE);
        run_probes(&a);
        fprintf(out, "adapter-check: %u ok, %u broken, %u not declared\n", a.ok, a.broken,
                a.undeclared);
        fprintf(out, a.broken ? "adapter-check: the adapter breaks the contract (BROKEN above); "
                                "see conformance/ADAPTERS.md\n"
                              : "adapter-check: the adapter keeps the contract for what it "
                                "declares\n");
    }
    cf_remove_tree(a.dir);
    cg_free(&a.inputs);
    cm_free(&a.ref_map);
    return rc < 0 ? 2 : a.broken ? 1 : 0;
}
