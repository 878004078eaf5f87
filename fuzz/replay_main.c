/*
 * replay_main.c - a main() for the fuzz harnesses without a fuzzing engine:
 * feeds every file named on the command line (or found directly inside a
 * named directory) to LLVMFuzzerTestOneInput, each in a child process so
 * one failing input does not hide the others.  Built with plain $(CC).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (64u << 20)      /* larger files are refused */

#define USAGE \
"Usage: %s [--no-fork] [--quiet] FILE|DIR...\n" \
"\n" \
"Replay fuzz inputs through this harness's LLVMFuzzerTestOneInput, as a\n" \
"libFuzzer binary would with the same arguments, but built with any C\n" \
"compiler.  A directory stands for the regular files directly inside it.\n" \
"Each input runs in a child process; an input passes when the child exits\n" \
"with status 0 (a property failure aborts it).\n" \
"\n" \
"  --no-fork  run every input in this process (stop at the first failure;\n" \
"             for a debugger)\n" \
"  --quiet    print only failing inputs and the summary\n" \
"  --help     this text\n" \
"\n" \
"Prints PASS or FAIL and the path per input (with --quiet only FAIL\n" \
"lines), then a closing line 'N passed, N failed'.\n" \
"Exit status: 0 all passed, 1 some input failed, 2 usage or I/O error.\n"

typedef struct replay {
    int fork_each;
    int quiet;
    unsigned passed, failed, errors;
} replay;

/* Read a whole regular file into a malloc'd buffer (never NULL). */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *buf = NULL;
    size_t n = 0;

    if (!f)
        return -1;
    if (fstat(fileno(f), &st) == 0 && st.st_size >= 0 &&
        (uint64_t)st.st_size <= MAX_INPUT)
        buf = malloc((size_t)st.st_size + 1);
    if (buf)
        n = fread(buf, 1, (size_t)st.st_size + 1, f);
    if (!buf || ferror(f) || n != (size_t)st.st_size) {
        fclose(f);
        free(buf);
        errno = buf ? EIO : EFBIG;
        return -1;
    }
    fclose(f);
    *data = buf;
    *size = n;
    return 0;
}

enum { REPLAY_TIMEOUT = 60 };    /* seconds one input may take */

/* Run one input in a child; returns 1 if it passed. */
static int run_forked(const uint8_t *data, size_t size)
{
    int status;
    pid_t pid;

    fflush(NULL);                  /* nothing buffered is written twice */
    pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        alarm(REPLAY_TIMEOUT);     /* a hang is a failure (SIGALRM), not a stall */
        LLVMFuzzerTestOneInput(data, size);
        exit(0);                   /* exit, not _exit: --coverage data */
    }
    if (waitpid(pid, &status, 0) != pid)
        return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Replay one file and count the outcome. */
static void replay_file(replay *r, const char *path)
{
    uint8_t *data;
    size_t size;
    int ok;

    if (read_file(path, &data, &size) != 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        r->errors++;
        return;
    }
    if (r->fork_each) {
        ok = run_forked(data, size);
    } else {
        LLVMFuzzerTestOneInput(data, size);
        ok = 1;
    }
    free(data);
    if (ok)
        r->passed++;
    else
        r->failed++;
    if (!ok || !r->quiet)
        printf("%s %s\n", ok ? "PASS" : "FAIL", path);
    fflush(stdout);
}

/* Replay the regular files directly inside dir. */
static void replay_dir(replay *r, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    char path[4096];
    struct stat st;

    if (!d) {
        fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
        r->errors++;
        return;
    }
    while ((ent = readdir(d)) != NULL) {
        int n = snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        replay_file(r, path);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    replay r = { 1, 0, 0, 0, 0 };
    struct stat st;
    int i = 1;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf(USAGE, argv[0]);
            return 0;
        } else if (strcmp(argv[i], "--no-fork") == 0) {
            r.fork_each = 0;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            r.quiet = 1;
        } else {
            fprintf(stderr, "replay: unknown option %s\n", argv[i]);
            fprintf(stderr, USAGE, argv[0]);
            return 2;
        }
    }
    if (i == argc) {
        fprintf(stderr, USAGE, argv[0]);
        return 2;
    }
    for (; i < argc; i++) {
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            replay_dir(&r, argv[i]);
        else
            replay_file(&r, argv[i]);
    }
    printf("%u passed, %u failed\n", r.passed, r.failed + r.errors);
    return r.errors ? 2 : r.failed ? 1 : 0;
}
