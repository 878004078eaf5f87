/*
 * conform_unit_test.c - unit tests of qed-conform's parts that read
 * untrusted text: the JSON reader, map normalisation and comparison, and
 * the manifest path check, the guard that reading does not write; and of
 * the JSON string writer the reports and
 * manifests share (its output must read back through the reader).  Prints
 * one line per failed check and closes with "N passed, N failed"; exit
 * status 0 only when nothing failed.
 */
#include "../lib/files.h"
#include "../lib/json_string.h"
#include "../lib/sha256.h"
#include "conform_guard.h"
#include "conform_json.h"
#include "conform_map.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned passed, failed;

/* Count one check; print it when it fails. */
static void expect(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

/* 1 when text parses as JSON. */
static int parses(const char *text)
{
    cj_value *v;
    char err[128];
    int ok = cj_parse(text, strlen(text), &v, err, sizeof err) == 0;
    cj_free(v);
    return ok;
}

static void test_json_accepts_and_rejects(void)
{
    static const char *good[] = {
        "{}", "[]", "0", "-0.5e+3", "\"\"", " [1, true, false, null, \"x\"] ",
        "{\"a\": {\"b\": [ {\"c\": \"\\u00e9\\ud83d\\ude00\\n\"} ]}}",
    };
    static const char *bad[] = {
        "", "[", "{", "[1,]", "{\"a\":1,}", "{\"a\"}", "01", "1.", "1e", "-",
        "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\u0000\"", "\"\x01\"", "[1 2]",
        "tru", "nul", "{} {}", "{1: 2}",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        expect(parses(good[i]), good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(!parses(bad[i]), bad[i]);
}

static void test_json_depth_limit(void)
{
    size_t n = 100000;
    char *deep = malloc(n);
    if (deep == NULL)
        return;
    memset(deep, '[', n);
    cj_value *v;
    char err[128];
    expect(cj_parse(deep, n, &v, err, sizeof err) < 0, "100000 nested arrays are refused");
    expect(strstr(err, "too deep") != NULL, "depth error names the nesting");
    free(deep);
}

static void test_json_accessors(void)
{
    const char *text = "{\"n\": 18446744073709551615, \"big\": 18446744073709551616,"
                       " \"neg\": -1, \"f\": 1.5, \"s\": \"a\\\"b\", \"a\": [1, 2]}";
    cj_value *v;
    char err[128];
    uint64_t u = 0;
    if (cj_parse(text, strlen(text), &v, err, sizeof err) < 0) {
        expect(0, "accessor document parses");
        return;
    }
    expect(cj_u64(cj_get(v, "n"), &u) == 0 && u == UINT64_MAX, "u64 max is exact");
    expect(cj_u64(cj_get(v, "big"), &u) < 0, "2^64 is out of range");
    expect(cj_u64(cj_get(v, "neg"), &u) < 0, "negative is not a u64");
    expect(cj_u64(cj_get(v, "f"), &u) < 0, "a fraction is not a u64");
    expect(cj_str(cj_get(v, "s")) && strcmp(cj_str(cj_get(v, "s")), "a\"b") == 0, "string escape");
    expect(cj_len(cj_get(v, "a")) == 2 && cj_at(cj_get(v, "a"), 2) == NULL, "array bounds");
    expect(cj_get(v, "missing") == NULL && cj_get(cj_get(v, "a"), "x") == NULL, "missing member");
    cj_free(v);
}

/* Parse a map from JSON text (the caller frees it). */
static int map_from(const char *text, cm_map *m)
{
    cj_value *v;
    char err[128];
    if (cj_parse(text, strlen(text), &v, err, sizeof err) < 0)
        return -1;
    int rc = cm_from_json(v, m, err, sizeof err);
    cj_free(v);
    return rc;
}

static void test_map_normalise_and_compare(void)
{
    cm_map split, whole, other;
    char diff[256];
    const char *a = "[{\"start\":0,\"length\":4096,\"depth\":0,\"present\":true,\"zero\":false,"
                    "\"data\":true,\"offset\":8192},"
                    "{\"start\":4096,\"length\":4096,\"depth\":0,\"present\":true,\"zero\":false,"
                    "\"data\":true,\"offset\":12288},"
                    "{\"start\":8192,\"length\":4096,\"depth\":0,\"present\":false,\"zero\":true,"
                    "\"data\":false}]";
    const char *b = "[{\"start\":0,\"length\":8192,\"depth\":0,\"present\":true,\"zero\":false,"
                    "\"data\":true,\"offset\":8192},"
                    "{\"start\":8192,\"length\":4096,\"depth\":0,\"present\":false,\"zero\":true,"
                    "\"data\":false}]";
    const char *c = "[{\"start\":0,\"length\":4096,\"depth\":0,\"present\":true,\"zero\":false,"
                    "\"data\":true,\"offset\":8192},"
                    "{\"start\":4096,\"length\":4096,\"depth\":0,\"present\":true,\"zero\":false,"
                    "\"data\":true,\"offset\":20480}]";
    if (map_from(a, &split) < 0 || map_from(b, &whole) < 0 || map_from(c, &other) < 0) {
        expect(0, "map documents parse");
        return;
    }
    cm_normalise(&split);
    cm_normalise(&whole);
    cm_normalise(&other);
    expect(split.count == 2, "contiguous data extents merge");
    expect(cm_compare(&whole, &split, diff, sizeof diff) == 0, "split map equals merged map");
    expect(other.count == 2, "data extents with a gap in offsets stay apart");
    expect(cm_compare(&whole, &other, diff, sizeof diff) < 0 && strstr(diff, "extent 0:") != NULL,
           "a different map is reported at its first differing extent");
    cm_free(&split);
    cm_free(&whole);
    cm_free(&other);
    const char *deep = "[{\"start\":0,\"length\":4096,\"depth\":2,\"present\":false,"
                       "\"zero\":true,\"data\":false},{\"start\":4096,\"length\":4096,"
                       "\"depth\":0,\"present\":false,\"zero\":true,\"data\":false}]";
    if (map_from(deep, &split) == 0) {
        cm_normalise(&split);
        expect(split.count == 1 && split.ext[0].length == 8192,
               "absent extents merge whatever their depth");
        cm_free(&split);
    }
    expect(map_from("[{\"start\":0}]", &split) < 0, "an extent missing fields is refused");
    expect(map_from("{}", &split) < 0, "a map that is not an array is refused");
}

static void test_safe_paths(void)
{
    expect(cf_path_is_safe("valid/a.qed"), "plain relative path");
    expect(!cf_path_is_safe("/etc/passwd"), "absolute path");
    expect(!cf_path_is_safe("../x"), "parent component");
    expect(!cf_path_is_safe("a/../../x"), "inner parent component");
    expect(!cf_path_is_safe("a//b"), "empty component");
    expect(!cf_path_is_safe("a/"), "trailing slash");
    expect(!cf_path_is_safe("./a"), "dot component");
    expect(!cf_path_is_safe(""), "empty path");
    expect(cf_path_is_safe("a/..b/c.."), "dots inside names are fine");
}

/* A json_sink into a fixed buffer (truncates silently; tests stay short). */
typedef struct {
    char text[256];
    size_t len;
} text_sink;

static void put_text(void *sink, const char *bytes, size_t n)
{
    text_sink *t = sink;
    if (n > sizeof t->text - 1 - t->len)
        n = sizeof t->text - 1 - t->len;
    memcpy(t->text + t->len, bytes, n);
    t->len += n;
    t->text[t->len] = '\0';
}

/* s written by json_write_string must be exactly want and parse back to s. */
static void expect_json_string(const char *s, const char *want)
{
    text_sink t = { "", 0 };
    cj_value *v = NULL;
    char err[128];
    json_write_string(put_text, &t, s);
    expect(strcmp(t.text, want) == 0, want);
    int back = cj_parse(t.text, t.len, &v, err, sizeof err) == 0 && cj_str(v) != NULL &&
               strcmp(cj_str(v), s) == 0;
    expect(back, "a written string reads back unchanged");
    cj_free(v);
}

static void test_json_string_writer(void)
{
    expect_json_string("", "\"\"");
    expect_json_string("read/plain-4k", "\"read/plain-4k\"");
    expect_json_string("a\"b\\c", "\"a\\\"b\\\\c\"");
    expect_json_string("l1\nl2\tx", "\"l1\\nl2\\tx\"");
    expect_json_string("\x01\x1f\x7f\r", "\"\\u0001\\u001f\\u007f\\u000d\"");
    expect_json_string("caf\xc3\xa9", "\"caf\xc3\xa9\"");   /* UTF-8 as it is */
}

/* Write n bytes of text to dir/name; 0 or -1. */
static int write_named(const char *dir, const char *name, const char *text, size_t n)
{
    char path[PATH_MAX];
    FILE *f;
    if (cf_join(path, sizeof path, dir, name) < 0 || (f = fopen(path, "wb")) == NULL)
        return -1;
    int ok = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* cg_verify after the scratch copy of "x.img" became text (removed when
 * text is NULL): its message must hold want ("" = unchanged). */
static void expect_guard(const char *orig, const char *scratch, const char *text,
                         const char *want)
{
    static const char original[] = "QED-header-bytes";   /* 16 bytes */
    cg_inputs in = { NULL, 0, 0 };
    char hex[65], path[PATH_MAX], msg[512];
    sha256_buffer_hex(original, strlen(original), hex);
    int ready = write_named(orig, "x.img", original, strlen(original)) == 0 &&
                cg_add(&in, "x.img", hex) == 0 && cf_join(path, sizeof path, scratch, "x.img") == 0;
    if (ready && text != NULL)
        ready = write_named(scratch, "x.img", text, strlen(text)) == 0;
    else if (ready)
        remove(path);
    int rc = ready ? cg_verify(&in, scratch, orig, msg, sizeof msg) : -2;
    expect(ready && (want[0] ? rc == -1 && strstr(msg, want) != NULL : rc == 0 && msg[0] == '\0'),
           want[0] ? want : "an unchanged input passes the guard");
    cg_free(&in);
}

/* An input an adapter grew to 2 TiB (sparse) is named as grown, at once:
 * the guard takes lengths from stat and reads no byte past the original's
 * 16 (reading the 2 TiB would take hours; the test's time shows it). */
static void expect_guard_grown_sparse(const char *orig, const char *scratch)
{
    static const char original[] = "QED-header-bytes";
    cg_inputs in = { NULL, 0, 0 };
    char hex[65], path[PATH_MAX], msg[512];
    sha256_buffer_hex(original, strlen(original), hex);
    int ready = write_named(orig, "x.img", original, strlen(original)) == 0 &&
                write_named(scratch, "x.img", original, strlen(original)) == 0 &&
                cg_add(&in, "x.img", hex) == 0 && cf_join(path, sizeof path, scratch, "x.img") == 0 &&
                truncate(path, (off_t)2 << 40) == 0;
    int rc = ready ? cg_verify(&in, scratch, orig, msg, sizeof msg) : -2;
    expect(ready && rc == -1 && strstr(msg, "x.img grew from 16 to 2199023255552 bytes") != NULL,
           "an input grown to 2 TiB is named as grown without being read");
    remove(path);
    cg_free(&in);
}

static void test_guard(void)
{
    char orig[] = "/tmp/conform-unit-orig.XXXXXX", scratch[] = "/tmp/conform-unit-new.XXXXXX";
    if (mkdtemp(orig) == NULL || mkdtemp(scratch) == NULL) {
        expect(0, "mkdtemp for the guard test");
        return;
    }
    expect_guard(orig, scratch, "QED-header-bytes", "");
    expect_guard(orig, scratch, "QED-header-bytEs", "x.img changed at byte 14 (0xe)");
    expect_guard(orig, scratch, "XED-header-bytes", "x.img changed at byte 0 (0x0)");
    expect_guard(orig, scratch, "QED-header-bytes!", "x.img grew from 16 to 17 bytes");
    expect_guard(orig, scratch, "QED-header", "x.img shrank from 16 to 10 bytes");
    expect_guard(orig, scratch, "QED-header-b", "x.img shrank from 16 to 12 bytes");
    expect_guard(orig, scratch, "", "x.img shrank from 16 to 0 bytes");
    expect_guard(orig, scratch, "QED-HEADER", "x.img changed at byte 4 (0x4)");
    expect_guard(orig, scratch, NULL, "x.img was removed or cannot be read");
    expect_guard_grown_sparse(orig, scratch);
    cf_remove_tree(orig);
    cf_remove_tree(scratch);
}

int main(void)
{
    test_json_string_writer();
    test_json_accepts_and_rejects();
    test_json_depth_limit();
    test_json_accessors();
    test_map_normalise_and_compare();
    test_safe_paths();
    test_guard();
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
