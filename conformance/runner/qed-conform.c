/*
 * qed-conform.c - the QED conformance runner: loads a case manifest
 * (conformance/MANIFEST.md), runs every selected case against one
 * implementation through its adapter (conformance/ADAPTERS.md), and
 * reports pass / fail / skip per case.  `qed-conform golden ...` runs the
 * golden generator (conformance/golden/), linked in, so the suite is one
 * tool.
 */
/* realpath() is XSI in glibc's headers. */
#define _XOPEN_SOURCE 700

#include "conform.h"
#include "../lib/files.h"
#include "conform_adapter_check.h"
#include "conform_keep.h"
#include "conform_proc.h"
#include "conform_report.h"
#include "conform_run.h"
#include "../golden/golden.h"
#include "../crash/crash.h"
#include "../crash/trace_dump.h"

#include <errno.h>
#include <inttypes.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_MAX ((size_t)64 << 20)

static const char usage_text[] =
"Usage: qed-conform [OPTION]...\n"
"       qed-conform --html-merge OUT.html RESULT.json...\n"
"       qed-conform golden [--out DIR] [--check]\n"
"       qed-conform golden --random SEED --count N --out DIR\n"
"       qed-conform crash [OPTION]...\n"
"       qed-conform crash-check --image INITIAL.qed --trace LOG [OPTION]...\n"
"       qed-conform crash-golden --out DIR | --check DIR\n"
"       qed-conform trace dump LOG [--image INITIAL.qed]\n"
"       qed-conform --merge OUT.json [--junit F] [--html F] SHARD.json...\n"
"       qed-conform adapter-check [--impl ref|qemu|cmd:PATH] [--timeout SECONDS]\n"
"\n"
"Run the QED conformance suite against one implementation and report every\n"
"case as passed, failed (with the spec rule IDs and what differed) or\n"
"skipped (with the reason).  The last line printed is\n"
"'N passed, N failed, N skipped'; the exit status is 0 only when no case\n"
"failed, 1 when some did, 2 on a usage or setup error.\n"
"\n"
"`qed-conform golden` generates the golden corpus (by default into\n"
"corpus/golden) or compares a directory with it; `qed-conform golden\n"
"--help` describes its options.\n"
"\n"
"`qed-conform crash` runs the crash family instead of the corpus: every\n"
"generated workload (up to three writes, write-zeroes, flushes or a grow,\n"
"over 4 KiB and 64 KiB clusters, table sizes 1 and 4, no, raw or QED\n"
"backing, fresh images, images with tables and images left with NEED_CHECK,\n"
"one of them with a duplicate reference that its repair must copy) is\n"
"recorded from the implementation (its own `io --trace`, or the\n"
"LD_PRELOAD recorder build/libqedtrace.so) and every crash state of its\n"
"trace is judged against the oracles O1..O5 of spec section 9; the other\n"
"options below apply.  `crash-check` judges one trace recorded elsewhere,\n"
"`crash-golden` writes or checks corpus/traces, `trace dump` prints a trace\n"
"for a person; each has its own --help.\n"
"\n"
"`qed-conform adapter-check` tries an adapter before a full run: it calls\n"
"each subcommand the adapter declares once on a known image and says in\n"
"plain words which part of the contract it breaks; `qed-conform\n"
"adapter-check --help` describes it.\n"
"\n";

/* The options (a second literal: C99 guarantees 4095 bytes per literal). */
static const char usage_options[] =
"Options:\n"
"  --impl ref|qemu|cmd:PATH  implementation to test (default ref).  ref is\n"
"                      build/qedtool; qemu is conformance/adapters/qemu\n"
"                      (qemu-img and qemu-io); cmd:PATH is any adapter\n"
"                      executable (see conformance/ADAPTERS.md), for example\n"
"                      a mutant qedtool build.\n"
"  --manifest FILE     case manifest (default corpus/golden/manifest.json)\n"
"  --random SEED:COUNT also run COUNT random read cases that\n"
"                      'qed-conform golden --random SEED --count COUNT'\n"
"                      generates (run as a child process)\n"
"  --filter GLOB       only cases whose id matches GLOB (fnmatch), e.g. 'read/*'\n"
"  --shard K/N         only cases whose index i (0-based) has i % N == K-1\n"
"  -j N                run N cases in parallel (default 1); output order is\n"
"                      always the case order\n"
"  --timeout SECONDS   time limit per case (default 20), summed over its\n"
"                      adapter calls; on expiry the adapter's process group\n"
"                      is killed and the case fails as a hang\n"
"  --keep-failures DIR keep each failing case's files in DIR/<id>/ with a\n"
"                      README giving the exact adapter command lines; files\n"
"                      are copied sparse (holes stay holes), within a keep\n"
"                      budget per case of --keep-limit bytes of data and 10 s;\n"
"                      what does not fit is left out and listed in the README\n"
"  --keep-limit SIZE   the keep budget's bytes of file data per failing case\n"
"                      (default 256M; K, M, G suffixes)\n"
"  --json FILE         write every case's result as JSON\n"
"  --junit FILE        write JUnit XML (one testsuite per family)\n"
"  --html FILE         write a static HTML report of this run\n"
"  --html-merge OUT.html RESULT.json...\n"
"                      merge --json files of several runs (e.g. ref and qemu)\n"
"                      into one HTML matrix, case x implementation\n"
"  --merge OUT.json [--junit F] [--html F] SHARD.json...\n"
"                      merge the --json files of the shards of one run\n"
"                      (--shard K/N) into one report, and print its summary\n"
"  --list              print the selected case ids, one per line; run nothing\n"
"  --fail-fast         start no further case after the first failure; the\n"
"                      cases not run are reported as skipped (used by\n"
"                      make mutants: one failure kills a mutant)\n"
"  -v, --verbose       print one line per case, not only per failure\n"
"  -h, --help          print this help\n"
"\n"
"Output: a progress line on stderr when it is a terminal; on stdout one\n"
"line per failure (per case with -v), a summary per family, the failures\n"
"and the skip reasons, then the closing line.  Each case runs in its own\n"
"temporary directory (under $TMPDIR or /tmp), removed afterwards.\n"
"\n"
"Examples:\n"
"  qed-conform                                   # the reference, full corpus\n"
"  qed-conform --impl qemu --filter 'read/*' -j 2\n"
"  qed-conform --impl cmd:./myadapter --junit out.xml --keep-failures fails/\n";

static const char adapter_check_usage[] =
"Usage: qed-conform adapter-check [--impl ref|qemu|cmd:PATH] [--timeout SECONDS]\n"
"\n"
"Try an adapter (conformance/ADAPTERS.md) before a full run.  The reference\n"
"(build/qedtool) makes a known image in a temporary directory: known.qed,\n"
"1 MiB, 64 KiB clusters, over the raw backing file base.raw, with one data\n"
"cluster and one zero cluster.  Then `capabilities` is asked, and each\n"
"subcommand the adapter declares is called on that image, once, or twice\n"
"where the contract also asks for a refusal or an exit code:\n"
"\n"
"  info      exit 0 and JSON with the right \"virtual-size\"; non-zero for a\n"
"            raw file and for an image whose backing file is missing (BACK-5)\n"
"  convert   exit 0 and the image's bytes in DST; non-zero for a raw file\n"
"  map       exit 0 and qemu-img's JSON array, equal to the image's map\n"
"  check     exit 0 and 0 counts when clean; exit 3 and 1 leak for an image\n"
"            with one leaked cluster\n"
"  create    exit 0, and the reference opens the new image: clean, of the size\n"
"            asked\n"
"  io        exit 0, and the reference reads the written bytes back; non-zero\n"
"            when a read -P finds other bytes\n"
"  rebase    exit 0, and the header names the new backing file\n"
"  resize    exit 0, and the reference sees the new size\n"
"  io-trace  exit 0, and the log starts with a dm-log-writes superblock\n"
"\n"
"Reading must not write: after info, convert, map and check, every file\n"
"they read must be byte-identical.  Each line printed is \"ok\", \"BROKEN\"\n"
"(what is wrong: a crash, a hang, an exit status, JSON, or what a file\n"
"holds afterwards), \"-\" for a subcommand not declared (with what a run\n"
"then skips) or \"note\".\n"
"\n"
"Options:\n"
"  --impl ref|qemu|cmd:PATH  the adapter, as for a run (default ref)\n"
"  --timeout SECONDS   time limit of each call (default 20)\n"
"  -h, --help          print this help\n"
"\n"
"Exit status: 0 when the adapter keeps the contract for what it declares,\n"
"1 when it breaks it, 2 on a usage error or when the reference could not\n"
"make the known image.\n"
"\n"
"Example:\n"
"  qed-conform adapter-check --impl cmd:conformance/adapters/example\n";

/* Parsed command line. */
typedef struct {
    const char *impl, *manifest, *filter, *json, *junit, *html, *keep_dir;
    unsigned long long keep_limit;  /* --keep-limit, bytes */
    unsigned long shard_k, shard_n, jobs;
    double timeout;
    int list, verbose, has_random, fail_fast;
    int crash;                  /* `qed-conform crash`: the crash family */
    unsigned long long random_seed, random_count;
} options;

/* A loaded manifest: its tree and its cases. */
typedef struct {
    cj_value *doc;
    char base_dir[PATH_MAX];
} manifest;

/* All cases of the run, in order. */
typedef struct {
    conform_case *cases;
    size_t count, cap;
} case_list;

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Print a one-line error and return exit status 2. */
static int PRINTF_LIKE(1, 2) setup_error(const char *fmt, ...)
{
    va_list ap;
    fputs("qed-conform: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

/* Parse an unsigned decimal number filling the whole string. */
static int parse_ulong(const char *s, unsigned long long *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return (errno != 0 || *end != '\0') ? -1 : 0;
}

/* Parse a size: digits and an optional K, M or G suffix (binary). */
static int parse_size(const char *s, unsigned long long *out)
{
    char buf[32];
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    const char *units = "KMG", *u = strchr(units, buf[n - 1]);
    if (u != NULL && *u != '\0') {
        shift = 10u * (unsigned)(u - units + 1);
        buf[n - 1] = '\0';
    }
    if (parse_ulong(buf, out) < 0 || *out > (ULLONG_MAX >> shift))
        return -1;
    *out <<= shift;
    return 0;
}

/* Parse "A<sep>B" into two unsigned numbers. */
static int parse_pair(const char *s, char sep, unsigned long long *a, unsigned long long *b)
{
    char buf[64];
    const char *mid = strchr(s, sep);
    if (mid == NULL || (size_t)(mid - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(mid - s));
    buf[mid - s] = '\0';
    return (parse_ulong(buf, a) < 0 || parse_ulong(mid + 1, b) < 0) ? -1 : 0;
}

/* The value of option name at argv[*i] ("--name=V" or "--name V"). */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (strcmp(argv[*i], name) == 0 && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* Apply one option that takes a value; 1 if recognised, -1 if bad. */
static int value_option(options *o, const char *name, const char *v)
{
    unsigned long long a, b;
    if (strcmp(name, "--impl") == 0) o->impl = v;
    else if (strcmp(name, "--manifest") == 0) o->manifest = v;
    else if (strcmp(name, "--filter") == 0) o->filter = v;
    else if (strcmp(name, "--json") == 0) o->json = v;
    else if (strcmp(name, "--junit") == 0) o->junit = v;
    else if (strcmp(name, "--html") == 0) o->html = v;
    else if (strcmp(name, "--keep-failures") == 0) o->keep_dir = v;
    else if (strcmp(name, "--keep-limit") == 0) {
        if (parse_size(v, &o->keep_limit) < 0)
            return -1;
    }
    else if (strcmp(name, "--timeout") == 0) {
        char *end;
        o->timeout = strtod(v, &end);
        if (*end != '\0' || !(o->timeout > 0 && o->timeout <= 86400))
            return -1;
    } else if (strcmp(name, "--shard") == 0) {
        if (parse_pair(v, '/', &a, &b) < 0 || b == 0 || a == 0 || a > b || b > 1000000)
            return -1;
        o->shard_k = (unsigned long)a;
        o->shard_n = (unsigned long)b;
    } else if (strcmp(name, "-j") == 0) {
        if (parse_ulong(v, &a) < 0 || a == 0 || a > CONFORM_MAX_JOBS)
            return -1;
        o->jobs = (unsigned long)a;
    } else if (strcmp(name, "--random") == 0) {
        if (parse_pair(v, ':', &o->random_seed, &o->random_count) < 0 ||
            o->random_count == 0 || o->random_count > 100000)
            return -1;
        o->has_random = 1;
    } else
        return 0;
    return 1;
}

static const char *const value_options[] = {
    "--impl", "--manifest", "--filter", "--json", "--junit", "--html", "--keep-failures",
    "--keep-limit",
    "--timeout", "--shard", "-j", "--random",
};

/* Parse argv into o; returns 0, 1 after --help, or 2 on a usage error. */
static int parse_options(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return fputs(usage_text, stdout), fputs(usage_options, stdout), 1;
        if (strcmp(a, "--list") == 0) { o->list = 1; continue; }
        if (strcmp(a, "--fail-fast") == 0) { o->fail_fast = 1; continue; }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) { o->verbose = 1; continue; }
        if (strncmp(a, "-j", 2) == 0 && a[2] >= '0' && a[2] <= '9') {
            if (value_option(o, "-j", a + 2) < 0)
                return setup_error("bad -j value: %s (1..64)", a + 2);
            continue;
        }
        size_t k = 0, nk = sizeof value_options / sizeof value_options[0];
        const char *v = NULL;
        while (k < nk && (v = option_value(argc, argv, &i, value_options[k])) == NULL)
            k++;
        if (k == nk)
            return setup_error("unknown option or missing value: %s (see --help)", a);
        if (value_option(o, value_options[k], v) < 0)
            return setup_error("bad value for %s (see --help)", value_options[k]);
    }
    return 0;
}

/* Path of this executable ("" if unknown). */
static void self_path(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
}

/* Directory holding this executable ("" if unknown). */
static void self_dir(char *out, size_t cap)
{
    self_path(out, cap);
    char *slash = strrchr(out, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        out[0] = '\0';
}

/* Find a project file: beside the runner (build/), one level up from it
 * (the source tree), then relative to the cwd.  Absolute path in out. */
static int find_project_file(const char *rel_from_build, const char *rel_from_top, int want_exec,
                             char *out, size_t cap)
{
    char dir[PATH_MAX], cand[3][PATH_MAX + 64];
    self_dir(dir, sizeof dir);
    snprintf(cand[0], sizeof cand[0], "%s/%s", dir, rel_from_build ? rel_from_build : "");
    snprintf(cand[1], sizeof cand[1], "%s/../%s", dir, rel_from_top);
    snprintf(cand[2], sizeof cand[2], "%s", rel_from_top);
    for (int i = rel_from_build ? 0 : 1; i < 3; i++) {
        if (access(cand[i], want_exec ? X_OK : R_OK) == 0 && realpath(cand[i], out) != NULL)
            return strlen(out) < cap ? 0 : -1;
    }
    return -1;
}

/* The reference qedtool (build/qedtool), "" when it is not built. */
static void find_reference(char *out, size_t cap)
{
    if (find_project_file("qedtool", "build/qedtool", 1, out, cap) < 0)
        out[0] = '\0';
}

/* Resolve --impl into the adapter path; 0 or 2 on error. */
static int resolve_impl(const options *o, conform_config *cfg)
{
    snprintf(cfg->impl, sizeof cfg->impl, "%s", o->impl);
    if (strcmp(o->impl, "ref") == 0) {
        if (cfg->reference[0] == '\0')
            return setup_error("%s: build/qedtool not found (run make)", o->impl);
        snprintf(cfg->adapter, sizeof cfg->adapter, "%s", cfg->reference);
        return 0;
    }
    if (strcmp(o->impl, "qemu") == 0) {
        if (find_project_file(NULL, "conformance/adapters/qemu", 1, cfg->adapter, sizeof cfg->adapter) < 0)
            return setup_error("%s: conformance/adapters/qemu not found", o->impl);
        return 0;
    }
    if (strncmp(o->impl, "cmd:", 4) == 0) {
        if (access(o->impl + 4, X_OK) != 0 || realpath(o->impl + 4, cfg->adapter) == NULL)
            return setup_error("%s: not an executable file", o->impl + 4);
        return 0;
    }
    return setup_error("unknown --impl %s (ref, qemu or cmd:PATH)", o->impl);
}

/* Ask the adapter for its subcommands; without `capabilities`, all. */
static unsigned query_caps(const conform_config *cfg)
{
    char *argv[] = { (char *)(uintptr_t)cfg->adapter, (char *)(uintptr_t)"capabilities", NULL };
    cp_result res;
    unsigned caps = 0;
    if (cp_run(argv, NULL, 10.0, &res) < 0)
        return CAP_ALL;
    if (!res.exited || res.exit_code != 0) {
        cp_result_free(&res);
        return CAP_ALL;
    }
    for (char *line = strtok(res.out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        line[strcspn(line, " \t\r")] = '\0';
        caps |= conform_cap_from_name(line);
    }
    cp_result_free(&res);
    return caps;
}

/* Read a whole regular file of at most MANIFEST_MAX bytes. */
static char *read_file(const char *path, size_t *len)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    memset(&st, 0, sizeof st);
    if (f == NULL)
        return NULL;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || (uintmax_t)st.st_size > MANIFEST_MAX) {
        int why = S_ISDIR(st.st_mode) ? EISDIR : S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        fclose(f);
        errno = why;
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    *len = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    int bad = buf == NULL || ferror(f) || *len != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    return buf;
}

/* Append a case to the list. */
static int add_case(case_list *list, const conform_case *c)
{
    if (list->count == list->cap) {
        size_t ncap = list->cap ? list->cap * 2 : 256;
        conform_case *n = realloc(list->cases, ncap * sizeof *n);
        if (n == NULL)
            return -1;
        list->cases = n;
        list->cap = ncap;
    }
    list->cases[list->count++] = *c;
    return 0;
}

/* 1 when id is already in the list. */
static int has_id(const case_list *list, const char *id)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->cases[i].id, id) == 0)
            return 1;
    return 0;
}

/* Add the tests of one group; 0 or 2 on a malformed manifest. */
static int add_group(const manifest *m, const cj_value *group, case_list *list, const char *path)
{
    const char *family = cj_str(cj_get(group, "family"));
    const cj_value *tests = cj_get(group, "tests");
    if (family == NULL || tests == NULL || tests->type != CJ_ARRAY)
        return setup_error("%s: a testGroup lacks \"family\" or \"tests\"", path);
    for (size_t i = 0; i < cj_len(tests); i++) {
        const cj_value *t = cj_at(tests, i);
        conform_case c = { cj_str(cj_get(t, "id")), family, cj_str(cj_get(t, "result")), t,
                           m->base_dir };
        if (c.id == NULL)
            return setup_error("%s: a test lacks its \"id\"", path);
        if (has_id(list, c.id))
            return setup_error("duplicate case id %s", c.id);
        if (add_case(list, &c) < 0)
            return setup_error("%s: out of memory", path);
    }
    return 0;
}

/* Parse a manifest's text (named path in messages, its files relative to
 * base_dir) and append its cases; 0 or 2. */
static int parse_manifest(const char *text, size_t len, const char *path, const char *base_dir,
                          manifest *m, case_list *list)
{
    char err[160];
    int rc = cj_parse(text, len, &m->doc, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "qed-conform: %s: %s\n", path, err);
        return 2;
    }
    const char *schema = cj_str(cj_get(m->doc, "schema"));
    if (schema == NULL || strcmp(schema, "qedref-manifest-1") != 0)
        return setup_error("%s: not a qedref-manifest-1 manifest", path);
    snprintf(m->base_dir, sizeof m->base_dir, "%s", base_dir);
    const cj_value *groups = cj_get(m->doc, "testGroups");
    size_t before = list->count;
    uint64_t declared;
    for (size_t g = 0; g < cj_len(groups); g++)
        if ((rc = add_group(m, cj_at(groups, g), list, path)) != 0)
            return rc;
    if (cj_u64(cj_get(m->doc, "numberOfTests"), &declared) < 0 || declared != list->count - before)
        return setup_error("%s: numberOfTests does not match its %zu tests", path,
                           list->count - before);
    return 0;
}

/* Load a manifest file and append its cases; 0 or 2. */
static int load_manifest(const char *path, manifest *m, case_list *list)
{
    char abs[PATH_MAX];
    size_t len;
    char *text = read_file(path, &len);
    if (text == NULL)
        return setup_error("cannot read manifest %s: %s", path, strerror(errno));
    if (realpath(path, abs) == NULL) {
        free(text);
        return setup_error("cannot resolve %s", path);
    }
    *strrchr(abs, '/') = '\0';
    int rc = parse_manifest(text, len, path, abs, m, list);
    free(text);
    return rc;
}

/* The crash family: the workloads conformance/crash generates. */
static int load_crash_cases(manifest *m, case_list *list)
{
    size_t len, count;
    char *text = crash_manifest_json(&len, &count);
    if (text == NULL)
        return setup_error("out of memory generating the crash workloads");
    int rc = parse_manifest(text, len, "crash workloads", "/", m, list);
    free(text);
    return rc;
}

/* Generate the random cases into dir with `qed-conform golden --random`,
 * run as a child of this very executable so that the generator's output and
 * its exit on a failure stay out of the run; 0 or 2. */
static int generate_random(const options *o, const char *dir)
{
    char self[PATH_MAX], seed[32], count[32];
    self_path(self, sizeof self);
    snprintf(seed, sizeof seed, "%llu", o->random_seed);
    snprintf(count, sizeof count, "%llu", o->random_count);
    char *argv[] = { self, (char *)(uintptr_t)"golden",
                     (char *)(uintptr_t)"--random", seed, (char *)(uintptr_t)"--count", count,
                     (char *)(uintptr_t)"--out", (char *)(uintptr_t)dir, NULL };
    cp_result res;
    if (self[0] == '\0')
        return setup_error("--random: cannot find this executable (/proc/self/exe)");
    if (cp_run(argv, NULL, 600.0, &res) < 0)
        return 2;
    int ok = res.exited && res.exit_code == 0;
    if (!ok)
        fprintf(stderr, "qed-conform: `qed-conform golden --random %s --count %s` failed: %s\n",
                seed, count, res.err);
    cp_result_free(&res);
    return ok ? 0 : 2;
}

/* Keep the cases selected by --filter and --shard (shard by index in the
 * full list, so the shards of one manifest partition it). */
static void select_cases(const options *o, case_list *list)
{
    size_t out = 0;
    for (size_t i = 0; i < list->count; i++) {
        if (o->shard_n && i % o->shard_n != o->shard_k - 1)
            continue;
        if (o->filter && fnmatch(o->filter, list->cases[i].id, 0) != 0)
            continue;
        list->cases[out++] = list->cases[i];
    }
    list->count = out;
}

/* Build the report view of this run. */
static report_run make_run(const conform_config *cfg, const case_list *list,
                           const case_result *results, double seconds)
{
    report_run run = { cfg->impl, calloc(list->count + 1, sizeof(report_row)), list->count, seconds };
    for (size_t i = 0; run.rows != NULL && i < list->count; i++)
        run.rows[i] = (report_row){ list->cases[i].id, list->cases[i].family, results[i].status,
                                    results[i].rules, results[i].message, results[i].detail,
                                    results[i].seconds, NULL, results[i].broke, NULL };
    if (run.rows == NULL)
        run.count = 0;
    return run;
}

/* Write the requested report files; 0 or -1. */
static int write_reports(const options *o, const report_run *run)
{
    int rc = 0;
    report_summary(stdout, run);
    if (o->json && report_json(o->json, run) < 0)
        rc = -1;
    if (o->junit && report_junit(o->junit, run) < 0)
        rc = -1;
    if (o->html && report_html(o->html, run, 1) < 0)
        rc = -1;
    return rc;
}

/* --html-merge OUT.html RESULT.json...: 0, or 2 on error. */
static int html_merge(int argc, char **argv)
{
    if (argc < 4)
        return setup_error("%s", "usage: qed-conform --html-merge OUT.html RESULT.json...");
    size_t n = (size_t)argc - 3;
    report_run *runs = calloc(n, sizeof *runs);
    cj_value **docs = calloc(n, sizeof *docs);
    int rc = (runs && docs) ? 0 : 2;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (report_load_json(argv[3 + i], &runs[i], &docs[i]) < 0)
            rc = 2;
    if (rc == 0 && report_html(argv[2], runs, n) < 0)
        rc = 2;
    for (size_t i = 0; runs && docs && i < n; i++) {
        report_free_loaded(&runs[i]);
        cj_free(docs[i]);
    }
    free(runs);
    free(docs);
    return rc;
}

/* The rows of shard runs of one implementation as one run, in case id
 * order (shards interleave the case list).  0, or 2 when the shards are of
 * different implementations or name a case twice. */
static int compare_rows(const void *a, const void *b)
{
    return strcmp(((const report_row *)a)->id, ((const report_row *)b)->id);
}

static int merge_rows(report_run *runs, size_t n, report_run *out)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(runs[i].impl, runs[0].impl) != 0)
            return setup_error("--merge: shards of %s and %s cannot be merged", runs[0].impl,
                               runs[i].impl);
        total += runs[i].count;
    }
    *out = (report_run){ runs[0].impl, calloc(total + 1, sizeof(report_row)), total, 0 };
    if (out->rows == NULL)
        return setup_error("%s", "--merge: out of memory");
    for (size_t i = 0; i < n; i++) {
        memcpy(out->rows + k, runs[i].rows, runs[i].count * sizeof(report_row));
        k += runs[i].count;
        out->seconds = runs[i].seconds > out->seconds ? runs[i].seconds : out->seconds;
    }
    qsort(out->rows, total, sizeof(report_row), compare_rows);
    for (size_t i = 1; i < total; i++)
        if (strcmp(out->rows[i - 1].id, out->rows[i].id) == 0)
            return setup_error("--merge: case %s is in two shards", out->rows[i].id);
    return 0;
}

/* qed-conform --merge OUT.json [--junit F] [--html F] SHARD.json...: the
 * --json files of the shards of one run (--shard K/N) as one report; the
 * summary and the closing line as a single run would print them. */
static int merge_shards(int argc, char **argv)
{
    const char *junit = NULL, *html = NULL;
    int first = 3;
    while (first + 1 < argc && (!strcmp(argv[first], "--junit") || !strcmp(argv[first], "--html"))) {
        *(!strcmp(argv[first], "--junit") ? &junit : &html) = argv[first + 1];
        first += 2;
    }
    if (argc < 3 || first >= argc)
        return setup_error("%s", "usage: qed-conform --merge OUT.json [--junit F] [--html F] "
                           "SHARD.json...");
    size_t n = (size_t)(argc - first);
    report_run *runs = calloc(n, sizeof *runs), all = { 0 };
    cj_value **docs = calloc(n, sizeof *docs);
    int rc = (runs && docs) ? 0 : 2;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (report_load_json(argv[first + (int)i], &runs[i], &docs[i]) < 0)
            rc = 2;
    if (rc == 0)
        rc = merge_rows(runs, n, &all);
    if (rc == 0 && (report_json(argv[2], &all) < 0 || (junit && report_junit(junit, &all) < 0) ||
                    (html && report_html(html, &all, 1) < 0)))
        rc = 2;
    if (rc == 0) {
        size_t count[3] = { 0, 0, 0 };
        report_summary(stdout, &all);
        for (size_t i = 0; i < all.count; i++)
            count[all.rows[i].status]++;
        printf("%zu passed, %zu failed, %zu skipped\n", count[CS_PASS], count[CS_FAIL],
               count[CS_SKIP]);
        rc = count[CS_FAIL] ? 1 : 0;
    }
    free(all.rows);
    for (size_t i = 0; runs && docs && i < n; i++) {
        report_free_loaded(&runs[i]);
        cj_free(docs[i]);
    }
    free(runs);
    free(docs);
    return rc;
}

/* Load the fixed manifest and the random cases as the options say. */
static int load_cases(const options *o, manifest *m, char *rand_dir, case_list *list)
{
    char path[PATH_MAX];
    int rc;
    if (o->crash)
        return load_crash_cases(&m[0], list);
    if (o->manifest != NULL)
        rc = load_manifest(o->manifest, &m[0], list);
    else if (find_project_file(NULL, "corpus/golden/manifest.json", 0, path, sizeof path) == 0)
        rc = load_manifest(path, &m[0], list);
    else
        rc = o->has_random ? 0 : setup_error("%s", "corpus/golden/manifest.json not found (use --manifest)");
    if (rc != 0 || !o->has_random)
        return rc;
    const char *tmp = getenv("TMPDIR");
    snprintf(rand_dir, PATH_MAX, "%s/qed-conform-random.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(rand_dir) == NULL) {
        rand_dir[0] = '\0';
        return setup_error("mkdtemp: %s", strerror(errno));
    }
    if ((rc = generate_random(o, rand_dir)) != 0)
        return rc;
    size_t before = list->count;
    if (cf_join(path, sizeof path, rand_dir, "manifest.json") < 0)
        return 2;
    if ((rc = load_manifest(path, &m[1], list)) != 0)
        return rc;
    if (list->count - before != o->random_count)
        return setup_error("qed-conform golden --random made %zu cases, not the %llu asked for",
                           list->count - before, o->random_count);
    return 0;
}

/* Run the selected cases and report; returns the exit status. */
/* The crash family's one line per implementation: "crash: ref: N
 * workloads, N crash states, N violations" (from the cases' messages). */
static void print_crash_totals(const conform_config *cfg, const case_result *results, size_t n)
{
    uint64_t states = 0, violations = 0, s, v;
    for (size_t i = 0; i < n; i++)
        if (crash_message_counts(results[i].message, &s, &v) == 0) {
            states += s;
            violations += v;
        }
    printf("crash: %s: %zu workloads, %" PRIu64 " crash states, %" PRIu64 " violations\n",
           cfg->impl, n, states, violations);
}

static int run_suite(const options *o, const conform_config *cfg, const case_list *list)
{
    size_t n[3] = { 0, 0, 0 };
    case_result *results = calloc(list->count + 1, sizeof *results);
    double start = cp_now();
    if (results == NULL ||
        conform_run_all(cfg, list->cases, list->count, (unsigned)o->jobs, o->verbose, results) < 0)
        return setup_error("%s", "cannot run the cases");
    report_run run = make_run(cfg, list, results, cp_now() - start);
    int rc = write_reports(o, &run);
    for (size_t i = 0; i < list->count; i++)
        n[results[i].status]++;
    if (list->count == 0)
        fprintf(stderr, "qed-conform: no case selected: nothing was tested\n");
    if (rc != 0)
        fprintf(stderr, "qed-conform: a report could not be written\n");
    if (o->crash)
        print_crash_totals(cfg, results, list->count);
    printf("%zu passed, %zu failed, %zu skipped\n", n[CS_PASS], n[CS_FAIL], n[CS_SKIP]);
    free(run.rows);
    free(results);
    if (list->count == 0 || rc != 0)
        return 2;                   /* a run that tested nothing is no pass */
    return n[CS_FAIL] == 0 ? 0 : 1;
}

/* qed-conform adapter-check [--impl X] [--timeout S]: the exit status. */
static int adapter_check_main(int argc, char **argv)
{
    options o = { .impl = "ref", .timeout = 20.0 };
    conform_config cfg;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return fputs(adapter_check_usage, stdout), 0;
        if ((v = option_value(argc, argv, &i, "--impl")) != NULL)
            o.impl = v;
        else if ((v = option_value(argc, argv, &i, "--timeout")) == NULL)
            return setup_error("adapter-check: unknown option or missing value: %s (see --help)",
                               argv[i]);
        else if (value_option(&o, "--timeout", v) < 0)
            return setup_error("adapter-check: bad --timeout %s (seconds, at most 86400)", v);
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.timeout = o.timeout;
    find_reference(cfg.reference, sizeof cfg.reference);
    int rc = resolve_impl(&o, &cfg);
    if (rc != 0)
        return rc;
    if (cfg.reference[0] == '\0')
        return setup_error("adapter-check: build/qedtool (the reference, which makes the known "
                           "image) not found: run make");
    signal(SIGPIPE, SIG_IGN);
    cp_install_signal_handlers();
    rc = conform_adapter_check(&cfg, stdout);
    cp_die_if_interrupted();
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "trace") == 0)
        return crash_trace_dump_main(argc - 2, argv + 2);
    options o = { .impl = "ref", .jobs = 1, .timeout = 20.0, .keep_limit = KEEP_DEFAULT_BYTES };
    conform_config cfg;
    manifest m[2];
    case_list list = { NULL, 0, 0 };
    char rand_dir[PATH_MAX] = "";
    if (argc > 1 && strcmp(argv[1], "--html-merge") == 0)
        return html_merge(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--merge") == 0)
        return merge_shards(argc, argv);
    if (argc > 1 && strcmp(argv[1], "golden") == 0)
        return golden_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "crash-golden") == 0)
        return crash_golden_main(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "crash-check") == 0)
        return crash_check_main(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "adapter-check") == 0)
        return adapter_check_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "crash") == 0) {
        o.crash = 1;
        argc--;
        argv++;
    }
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    signal(SIGPIPE, SIG_IGN);
    cp_install_signal_handlers();
    memset(&cfg, 0, sizeof cfg);
    memset(m, 0, sizeof m);
    cfg.timeout = o.timeout;
    cfg.keep_dir = o.keep_dir;
    cfg.keep_limit = o.keep_limit;
    cfg.fail_fast = o.fail_fast;
    find_reference(cfg.reference, sizeof cfg.reference);
    if ((rc = resolve_impl(&o, &cfg)) != 0)
        return rc;
    if (o.keep_dir != NULL && mkdir(o.keep_dir, 0755) < 0 && errno != EEXIST)
        return setup_error("cannot create %s", o.keep_dir);
    rc = load_cases(&o, m, rand_dir, &list);
    if (rc == 0) {
        select_cases(&o, &list);
        if (o.list)
            for (size_t i = 0; i < list.count; i++)
                printf("%s\n", list.cases[i].id);
        else {
            cfg.caps = query_caps(&cfg);
            rc = run_suite(&o, &cfg, &list);
        }
    }
    if (rand_dir[0])
        cf_remove_tree(rand_dir);
    cp_die_if_interrupted();   /* interrupted while generating: die of it */
    cj_free(m[0].doc);
    cj_free(m[1].doc);
    free(list.cases);
    return rc;
}
