/*
 * qedtool.c - the qedtool command-line tool: subcommand dispatch, usage
 * text, --version and the adapter capability list.
 *
 * qedtool mirrors qemu-img and qemu-io for QED images, using only libqed's
 * public API (qed.h).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "qedtool.h"

#ifndef QEDREF_VERSION
#define QEDREF_VERSION "0.1.0"
#endif

/* The capability words the conformance runner reads (one per line). */
static const char *const capabilities[] = {
    "create", "info", "check", "map", "convert", "compare", "io", "rebase",
    "resize", "dump", "io-trace", "create-cluster-size", "create-table-size", NULL
};

/* ------------------------------------------------------------------ */
/* Usage text                                                         */
/* ------------------------------------------------------------------ */

static const char overview[] =
"NAME\n"
"    qedtool - create, inspect, check, convert and edit QED disk images\n"
"\n"
"SYNOPSIS\n"
"    qedtool COMMAND [OPTIONS] ARGS...\n"
"    qedtool help [COMMAND]      qedtool COMMAND --help\n"
"    qedtool --version           qedtool capabilities\n"
"\n"
"DESCRIPTION\n"
"    qedtool is the command-line tool of libqed, the qedref reference codec\n"
"    for the QED (QEMU Enhanced Disk) image format.  Its commands and their\n"
"    options follow qemu-img and qemu-io, and its JSON output uses\n"
"    qemu-img's field names, so scripts written for those tools work.\n"
"\n"
"COMMANDS\n"
"    create    create a new QED image, optionally on a backing file\n"
"    info      show an image's size, geometry and backing file\n"
"    check     check an image's metadata and optionally repair it\n"
"    map       show which ranges are allocated, zero, or in a backing file\n"
"    convert   copy an image between raw and QED\n"
"    compare   compare the logical content of two images\n"
"    rebase    change the backing file name (unsafe mode only)\n"
"    resize    grow an image\n"
"    io        run qemu-io style read/write/flush commands on an image\n"
"    dump      print the header and tables of a (possibly invalid) file\n"
"    capabilities  list the commands above, for conformance adapters\n"
"\n"
"CONVENTIONS\n"
"    SIZE, OFF and LEN are bytes, in decimal or 0x-hex, optionally with a\n"
"    suffix k, M, G, T, P or E (powers of 1024; case does not matter).\n"
"    -f FMT names the format of the image argument; only qed is accepted,\n"
"    except where a command also reads raw files (convert, compare).\n"
"    Relative backing file names are resolved against the directory of the\n"
"    image that names them.  Only regular files and block devices are\n"
"    opened (a FIFO, a directory, a socket or a character device is\n"
"    refused by name, never waited on).\n"
"\n"
"LOCKING\n"
"    Images are locked as QEMU locks them (open file description locks on\n"
"    QEMU's bytes), so qedtool and QEMU see each other: a command that\n"
"    writes an image excludes every other writer and reader of it, one\n"
"    that reads it (and the backing files of any open image) excludes\n"
"    writers.  A refused open is the error \"image is locked by another\n"
"    process\".  Commands that only read take -U (--force-share) to read\n"
"    anyway.  convert and create also refuse to write a file that is their\n"
"    source or any file of its backing chain.\n"
"\n"
"UNTRUSTED IMAGES\n"
"    An image's backing file name is data from the image: it may be\n"
"    absolute (/etc/shadow), climb out with \"..\", or pass through links.\n"
"    Every command that opens an image takes --no-backing: no backing file\n"
"    is opened (info and check work; a read of a range the image does not\n"
"    allocate fails), or --backing-dir DIR: the top image's backing name is\n"
"    resolved in DIR (as if the image lay there), a backing image's name\n"
"    against its own directory, and an absolute name, or one whose file\n"
"    lies outside DIR once every link is resolved, is refused, naming it,\n"
"    before anything is opened or written.  rebase and dump never open a\n"
"    backing file.  In --output=json, a byte of a name that is not part of\n"
"    well-formed UTF-8 is written as \\ufffd (U+FFFD, as qemu-img writes\n"
"    it), so the output is always valid JSON.\n"
"\n"
"EXIT STATUS\n"
"    0 on success; 1 on a usage error, an invalid image or a failed\n"
"    operation (one line on stderr: \"qedtool: FILE: reason (RULE-ID)\").\n"
"    check and compare have their own codes; see their help.\n"
"\n"
"EXAMPLES\n"
"    qedtool create -o cluster_size=64k disk.qed 10G\n"
"    qedtool io disk.qed -c 'write -P 0xab 0 64k' -c 'read -P 0xab 0 64k'\n"
"    qedtool check --output=json disk.qed\n"
"    qedtool convert -O raw disk.qed disk.raw\n"
"    qedtool convert --backing-dir . -O raw overlay.qed copy.raw\n"
"\n"
"SEE ALSO\n"
"    qemu-img(1), qemu-io(1), spec/qed-spec.md\n";

/* One subcommand's help page. */
typedef struct help_page {
    const char *cmd;
    const char *text;
} help_page;

static const help_page pages[] = {
{ "create",
"SYNOPSIS\n"
"    qedtool create [-f qed] [-o OPTIONS] [-b BACKING [-F raw|qed]] [-q]\n"
"                   [--no-backing | --backing-dir DIR] FILE [SIZE]\n"
"\n"
"    Create FILE as an empty QED image of SIZE bytes (overwriting FILE,\n"
"    unless FILE is BACKING or a file of its chain, or another process\n"
"    has it open: both are refused).\n"
"    A SIZE that is not a multiple of 512 is rounded up (HDR-9).  With -b,\n"
"    SIZE may be left out: the backing file's size is taken.  An image that\n"
"    qedtool's open would refuse (tables over a limit of qed_limits, a chain\n"
"    too deep or its tables too large with the new image on top) is not\n"
"    made: the error names the limit and its value, as open's does.\n"
"\n"
"OPTIONS\n"
"    -f qed        the format to create (only qed)\n"
"    -o OPTIONS    comma-separated key=value list: cluster_size=N (a power\n"
"                  of two, 4k..64M, default 64k), table_size=N (clusters\n"
"                  per table, 1..16, default 4)\n"
"    -b BACKING    the backing file; unallocated clusters read from it.  A\n"
"                  relative name is stored as given and resolved against\n"
"                  FILE's directory.  It must exist.\n"
"    -F raw|qed    the backing file's format; raw sets\n"
"                  BACKING_FORMAT_NO_PROBE.  Default: probed.\n"
"    -q            do not print the \"Formatting ...\" line\n"
"    --no-backing  do not open BACKING: SIZE is then required, and only\n"
"                  FILE being BACKING itself is refused\n"
"    --backing-dir DIR\n"
"                  follow BACKING's own backing names only inside DIR\n"
"                  (see UNTRUSTED IMAGES in qedtool --help)\n"
"\n"
"EXIT STATUS\n"
"    0 created; 1 otherwise (FILE is removed if it was half written).\n"
"\n"
"EXAMPLES\n"
"    qedtool create -o cluster_size=4k,table_size=1 small.qed 1M\n"
"    qedtool create -b base.raw -F raw overlay.qed\n" },
{ "info",
"SYNOPSIS\n"
"    qedtool info [-f qed] [-U] [--output=human|json]\n"
"                 [--no-backing | --backing-dir DIR] FILE\n"
"\n"
"    Show FILE's virtual size, disk usage, cluster size, backing file and\n"
"    whether it was cleanly shut down.  The image is opened read-only.\n"
"    The JSON object has qemu-img's keys: filename, format, virtual-size,\n"
"    actual-size, cluster-size, dirty-flag, and with a backing file\n"
"    backing-filename, full-backing-filename, and, when the image records\n"
"    it (BACKING_FORMAT_NO_PROBE), backing-filename-format.\n"
"    dirty-flag is true when NEED_CHECK is set (qemu-img 7.2 always says\n"
"    false for QED).\n"
"\n"
"OPTIONS\n"
"    -f qed              the image format (only qed)\n"
"    --output=FORMAT     human (default) or json\n"
"    -U, --force-share   read without taking or testing the image lock\n"
"                        (as qemu-img -U); a warning says that what is read\n"
"                        may be inconsistent if another process writes\n"
"    --no-backing        open no backing file (untrusted images): the\n"
"                        header shows; reading an unallocated range fails\n"
"    --backing-dir DIR   follow backing names only inside DIR (see\n"
"                        UNTRUSTED IMAGES in qedtool --help)\n"
"\n"
"EXIT STATUS\n"
"    0 shown; 1 the image could not be opened.\n"
"\n"
"EXAMPLES\n"
"    qedtool info --output=json disk.qed | jq '.\"virtual-size\"'\n"
"    qedtool info --no-backing overlay.qed\n" },
{ "check",
"SYNOPSIS\n"
"    qedtool check [-f qed] [-r leaks|all | -U] [-q] [--output=human|json]\n"
"                  [--no-backing | --backing-dir DIR] FILE\n"
"\n"
"    Check FILE's metadata (spec section 8): clusters referenced twice,\n"
"    entries out of range or misaligned (corruptions), clusters referenced\n"
"    by nothing (leaks).  Without -r the image is opened read-only.  With\n"
"    -r it is opened read-write without the automatic open-time repair and\n"
"    repaired; after a repair that fixed anything it is checked again and\n"
"    the counts describe the image as it is now (as qemu-img does).\n"
"    Corruption repair has a budget: when the copies it must make (of\n"
"    clusters referenced twice) would add more than 2 x the file's length\n"
"    + 64 MiB, it is refused before anything is written, in one line that\n"
"    gives the bytes needed and the budget.\n"
"    JSON keys are qemu-img's (check-errors, image-end-offset,\n"
"    total-clusters, allocated-clusters, fragmented-clusters, corruptions,\n"
"    corruptions-fixed, leaks, leaks-fixed, filename, format); like\n"
"    qemu-img, counts that are zero are left out, except check-errors.\n"
"\n"
"OPTIONS\n"
"    -f qed              the image format (only qed)\n"
"    -r leaks            repair leaks only (CHK-7)\n"
"    -r all              repair leaks and corruptions (CHK-5, CHK-7)\n"
"    -q                  no human output (the exit status tells)\n"
"    --output=FORMAT     human (default) or json\n"
"    -U, --force-share   read without taking or testing the image lock\n"
"                        (as qemu-img -U); a warning says that what is read\n"
"                        may be inconsistent if another process writes\n"
"                        (not with -r)\n"
"    --no-backing        open no backing file (untrusted images): the\n"
"                        header shows; reading an unallocated range fails\n"
"    --backing-dir DIR   follow backing names only inside DIR (see\n"
"                        UNTRUSTED IMAGES in qedtool --help)\n"
"\n"
"EXIT STATUS\n"
"    0 no problem found; 1 the check could not complete (including an image\n"
"    that cannot be opened, and a repair that failed or was refused over\n"
"    its budget: qemu-img too exits 1 when a repair stops with an error);\n"
"    2 corruptions remain; 3 only leaks remain.\n"
"    After -r the status describes the image as the repair left it (what\n"
"    was fixed does not count), as qemu-img's does.\n"
"\n"
"EXAMPLES\n"
"    qedtool check -r all --output=json disk.qed\n" },
{ "map",
"SYNOPSIS\n"
"    qedtool map [-f qed] [-U] [--output=human|json]\n"
"                [--no-backing | --backing-dir DIR] FILE\n"
"\n"
"    Describe every range of FILE's virtual disk.  JSON: an array of\n"
"    qemu-img map's objects {start, length, depth, present, zero, data,\n"
"    offset}: depth is the layer the range comes from (0 the image, 1 its\n"
"    backing file, ...); present means allocated in some layer (data or a\n"
"    zero cluster); zero means it reads as zeroes; offset (only with data)\n"
"    is the byte offset in the file at that depth.  Human: one line for\n"
"    each range with data, with the file it lives in.\n"
"\n"
"OPTIONS\n"
"    -f qed              the image format (only qed)\n"
"    --output=FORMAT     human (default) or json\n"
"    -U, --force-share   read without taking or testing the image lock\n"
"                        (as qemu-img -U); a warning says that what is read\n"
"                        may be inconsistent if another process writes\n"
"    --no-backing        open no backing file (untrusted images): the\n"
"                        header shows; reading an unallocated range fails\n"
"    --backing-dir DIR   follow backing names only inside DIR (see\n"
"                        UNTRUSTED IMAGES in qedtool --help)\n"
"\n"
"EXIT STATUS\n"
"    0 shown; 1 the image could not be opened or mapped.\n"
"\n"
"EXAMPLES\n"
"    qedtool map --output=json overlay.qed\n" },
{ "convert",
"SYNOPSIS\n"
"    qedtool convert [-f raw|qed] [-O raw|qed] [-o OPTIONS] [-p] [-q] [-U]\n"
"                    [--no-backing | --backing-dir DIR] SRC DST\n"
"\n"
"    Copy the logical content of SRC (with its whole backing chain) into a\n"
"    new DST without a backing file.  SRC's format is probed (the QED magic\n"
"    means QED, anything else raw) unless -f is given.  All-zero clusters\n"
"    are not written: a QED DST leaves them unallocated and a raw DST is\n"
"    sparse.  A QED DST's size is SRC's rounded up to a multiple of 512.\n"
"    DST must not be SRC or any file of its backing chain (links followed):\n"
"    that is refused before anything is written.  A DST this run created\n"
"    is removed when the conversion fails (e.g. \"file too large\" under\n"
"    ulimit -f).\n"
"\n"
"    Only what SRC holds is read: a raw SRC's holes (found with SEEK_DATA\n"
"    and SEEK_HOLE) and a QED SRC's unallocated and zero clusters are\n"
"    skipped, so the time follows the data, not the virtual size.\n"
"\n"
"OPTIONS\n"
"    -f FMT        SRC's format (raw or qed)\n"
"    -O FMT        DST's format: raw (the default, as in qemu-img) or qed\n"
"    -o OPTIONS    with -O qed: cluster_size=N,table_size=N\n"
"    -p            show progress (only when stdout is a terminal)\n"
"    -q            quiet (accepted for qemu-img compatibility)\n"
"    -U, --force-share\n"
"                  read SRC without taking or testing its lock (DST is\n"
"                  always locked); a warning says that what is read may be\n"
"                  inconsistent if another process writes SRC\n"
"    --no-backing  open no backing file (untrusted images): reading a\n"
"                  range the image does not allocate fails\n"
"    --backing-dir DIR\n"
"                  follow backing names only inside DIR (see UNTRUSTED\n"
"                  IMAGES in qedtool --help)\n"
"\n"
"EXIT STATUS\n"
"    0 converted; 1 otherwise.\n"
"\n"
"EXAMPLES\n"
"    qedtool convert -O raw disk.qed disk.raw\n"
"    qedtool convert -f raw -O qed -o cluster_size=4k disk.raw disk.qed\n"
"    qedtool convert --backing-dir . -O raw overlay.qed copy.raw\n" },
{ "compare",
"SYNOPSIS\n"
"    qedtool compare [-f FMT] [-F FMT] [-q] [-U]\n"
"                    [--no-backing | --backing-dir DIR] A B\n"
"\n"
"    Compare the logical content of A and B (raw files or QED images, with\n"
"    their backing chains).  The first difference is reported as\n"
"    \"Content mismatch at offset N!\", N the start of the first differing\n"
"    512-byte sector.  Images of different sizes are equal when the\n"
"    common part is equal and the rest of the larger one reads as zeroes\n"
"    (a warning is printed, as qemu-img does).  Neither is read where it\n"
"    is known to read as zeroes (raw holes; unallocated or zero QED\n"
"    clusters).\n"
"\n"
"OPTIONS\n"
"    -f FMT        A's format (raw or qed; default probed)\n"
"    -F FMT        B's format (raw or qed; default probed)\n"
"    -q            print nothing; the exit status tells\n"
"    -U, --force-share\n"
"                  read A and B without taking or testing their locks\n"
"    --no-backing  open no backing file (untrusted images): reading a\n"
"                  range the image does not allocate fails\n"
"    --backing-dir DIR\n"
"                  follow backing names only inside DIR (see UNTRUSTED\n"
"                  IMAGES in qedtool --help)\n"
"\n"
"EXIT STATUS\n"
"    0 same content; 1 different; 2 an error (including usage errors, so\n"
"    that 1 always means different).\n"
"\n"
"EXAMPLES\n"
"    qedtool compare disk.qed disk.raw && echo same\n" },
{ "rebase",
"SYNOPSIS\n"
"    qedtool rebase -u [-b NEW] [-F raw|qed] [-f qed] FILE\n"
"\n"
"    Unsafe rebase: record NEW as FILE's backing file without reading or\n"
"    copying any data (the caller guarantees NEW holds what the old one\n"
"    did).  -b \"\" (or no -b) removes the backing file.  Refused while\n"
"    unknown compat feature bits are set (HDR-6).  Safe rebase (copying\n"
"    the differences) is not supported: -u is required.  No backing file\n"
"    is opened, so an overlay whose base has moved can be repointed.\n"
"\n"
"OPTIONS\n"
"    -u            unsafe mode (required)\n"
"    -b NEW        the new backing file name, stored as given\n"
"    -F raw|qed    its format; raw sets BACKING_FORMAT_NO_PROBE\n"
"    -f qed        FILE's format (only qed)\n"
"    -p, -q        accepted for qemu-img compatibility\n"
"\n"
"EXIT STATUS\n"
"    0 rebased; 1 otherwise.\n"
"\n"
"EXAMPLES\n"
"    qedtool rebase -u -b new-base.raw -F raw overlay.qed\n" },
{ "resize",
"SYNOPSIS\n"
"    qedtool resize [-f qed] [-q] [--no-backing | --backing-dir DIR]\n"
"                   FILE [+]SIZE\n"
"\n"
"    Grow FILE's virtual size to SIZE, or by SIZE with a leading +.  The\n"
"    new size is rounded up to a multiple of 512 and must fit the image's\n"
"    geometry (HDR-10).  Shrinking is refused (WR-9).\n"
"\n"
"OPTIONS\n"
"    -f qed        the image format (only qed)\n"
"    -q            do not print \"Image resized.\"\n"
"    --no-backing  open no backing file (untrusted images): reading a\n"
"                  range the image does not allocate fails\n"
"    --backing-dir DIR\n"
"                  follow backing names only inside DIR (see UNTRUSTED\n"
"                  IMAGES in qedtool --help)\n"
"\n"
"EXIT STATUS\n"
"    0 resized; 1 otherwise.\n"
"\n"
"EXAMPLES\n"
"    qedtool resize disk.qed +1G\n" },
{ "io",
"SYNOPSIS\n"
"    qedtool io [-f qed] [-r [-U]] [-t MODE] [--no-backing | --backing-dir DIR]\n"
"               [--trace LOG [--trace-sector-size N]] FILE [-c COMMAND]...\n"
"\n"
"    Open FILE (read-write unless -r; a NEED_CHECK image is checked and\n"
"    repaired first, WR-5) and run qemu-io style commands in order: those\n"
"    given with -c, or one per line from standard input when there is no\n"
"    -c.  The first failing command stops the run (qemu-io would go on).\n"
"\n"
"COMMANDS\n"
"    read [-P PATTERN] [-q] OFF LEN\n"
"        read LEN bytes at OFF; with -P every byte must equal PATTERN,\n"
"        else \"Pattern verification failed at offset OFF, LEN bytes\"\n"
"    write [-P PATTERN] [-q] OFF LEN\n"
"        write LEN bytes of PATTERN (default 0xcd) at OFF\n"
"    write -z [-q] OFF LEN\n"
"        write zeroes: whole clusters become zero clusters (WR-8)\n"
"    flush\n"
"        flush the image to stable storage\n"
"    truncate SIZE\n"
"        grow the disk to SIZE bytes, as resize does; a SIZE below the\n"
"        current one fails (WR-9: QED images never shrink), one that is not\n"
"        a multiple of 512 too (HDR-9)\n"
"    quit\n"
"        stop here (the image is closed cleanly)\n"
"    -q suppresses the two report lines of a successful read or write.\n"
"    Blank lines and lines starting with # are not commands.\n"
"\n"
"OPTIONS\n"
"    -f qed        the image format (only qed)\n"
"    -r            open read-only\n"
"    -U, --force-share\n"
"                  with -r: read without taking or testing the image lock;\n"
"                  a warning says reads may be inconsistent\n"
"    -t MODE       cache mode (none, writeback, writethrough, directsync,\n"
"                  unsafe): accepted and ignored; qedtool always runs as\n"
"                  writeback, flushing where the format's write-ordering\n"
"                  rules (WR-1..WR-4) or a flush command need it\n"
"    -c COMMAND    a command to run; repeat for more\n"
"    --no-backing  open no backing file (untrusted images): reading a\n"
"                  range the image does not allocate fails\n"
"    --backing-dir DIR\n"
"                  follow backing names only inside DIR (see UNTRUSTED\n"
"                  IMAGES in qedtool --help)\n"

"    --trace LOG   record the session in LOG (created, or truncated if it\n"
"                  exists), a dm-log-writes log as Linux's dm-log-writes and\n"
"                  QEMU's blklogwrites write it: every write FILE receives,\n"
"                  widened to whole log sectors, every flush, and each change\n"
"                  of its length as the mark \"truncate:LEN\", from the open\n"
"                  (the repair of a NEED_CHECK image, the clearing of unknown\n"
"                  autoclear bits, HDR-7) to the close (WR-4).  The mark\n"
"                  \"op:N\" comes before command N and \"flush:N\" after flush\n"
"                  command N has completed (both counted from 0; see spec\n"
"                  section 9, \"Trace encodings\").  Read it with\n"
"                  `qed-conform trace dump LOG`.\n"
"    --trace-sector-size N\n"
"                  the log's sector size, a power of two in [512, 65536]:\n"
"                  512 (the default) or 4096 as with QEMU's\n"
"                  file.log-sector-size\n"
"\n"
"EXIT STATUS\n"
"    0 every command succeeded; 1 otherwise.  With --trace, a failure to\n"
"    write the log fails the command that caused it.\n"
"\n"
"EXAMPLES\n"
"    qedtool io disk.qed -c 'write -P 0xab 0 64k' -c 'write -z 1M 1M' \\\n"
"        -c 'read -P 0xab 0 64k' -c flush\n"
"    qedtool io --trace session.log disk.qed -c 'write 0 4k' -c flush \\\n"
"        -c 'truncate 2G'\n" },
{ "dump",
"SYNOPSIS\n"
"    qedtool dump [-f qed] [-U] FILE\n"
"\n"
"    Print FILE's header field by field (each with its meaning and the\n"
"    rule it is checked by), the feature bits by name, the header verdict\n"
"    of libqed's validator, the non-zero L1 entries and, under each valid\n"
"    one, the non-zero entries of its L2 table (zero clusters marked).\n"
"    The file is read raw, so images that fail validation are shown as far\n"
"    as their geometry allows; broken entries are marked BROKEN with the\n"
"    rule they break.\n"
"\n"
"OPTIONS\n"
"    -f qed        the image format (only qed)\n"
"    -U, --force-share\n"
"                  read without taking or testing the image lock\n"
"\n"
"EXIT STATUS\n"
"    0 the header is valid and no table entry breaks a rule; 1 otherwise.\n"
"\n"
"EXAMPLES\n"
"    qedtool dump suspicious.qed | less\n" },
{ "capabilities",
"SYNOPSIS\n"
"    qedtool capabilities\n"
"\n"
"    Print the commands this tool offers, one per line, for conformance\n"
"    adapters: create info check map convert compare io rebase resize dump\n"
"    io-trace; and create-cluster-size, create-table-size: create makes an\n"
"    image of exactly the cluster_size and table_size its -o asks.\n"
"\n"
"EXIT STATUS\n"
"    0.\n" },
};

/* Print a subcommand's page; -1 if there is none. */
int qt_print_help(FILE *out, const char *cmd)
{
    size_t i;

    for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        if (strcmp(pages[i].cmd, cmd) == 0) {
            fprintf(out, "qedtool %s\n\n%s", cmd, pages[i].text);
            return 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                           */
/* ------------------------------------------------------------------ */

/* `qedtool capabilities` */
static int cmd_capabilities(int argc, char **argv)
{
    size_t i;

    (void)argv;
    if (argc > 1)
        return qt_usage_error("capabilities", "takes no arguments");
    for (i = 0; capabilities[i]; i++)
        printf("%s\n", capabilities[i]);
    return QT_EXIT_OK;
}

/* `qedtool help [COMMAND]` */
static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        fputs(overview, stdout);
        return QT_EXIT_OK;
    }
    if (qt_print_help(stdout, argv[1]) == 0)
        return QT_EXIT_OK;
    qt_err("help: unknown command '%s' (see 'qedtool --help')", argv[1]);
    return QT_EXIT_FAIL;
}

typedef int (*command_fn)(int argc, char **argv);

/* The table of subcommands. */
static const struct {
    const char *name;
    command_fn fn;
} commands[] = {
    { "create", qt_cmd_create },   { "info", qt_cmd_info },
    { "check", qt_cmd_check },     { "map", qt_cmd_map },
    { "convert", qt_cmd_convert }, { "compare", qt_cmd_compare },
    { "rebase", qt_cmd_rebase },   { "resize", qt_cmd_resize },
    { "io", qt_cmd_io },           { "dump", qt_cmd_dump },
    { "capabilities", cmd_capabilities }, { "help", cmd_help },
};

/* Run the subcommand named by argv[1]. */
int main(int argc, char **argv)
{
    size_t i;

    /* Past ulimit -f a write fails with EFBIG ("file too large"), which
     * is reported and cleaned up, instead of SIGXFSZ killing the process
     * with a half-written destination. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        qt_err("no command given (see 'qedtool --help')");
        return QT_EXIT_FAIL;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("qedtool (qedref) %s\n", QEDREF_VERSION);
        return QT_EXIT_OK;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    }
    qt_err("unknown command '%s' (see 'qedtool --help')", argv[1]);
    return QT_EXIT_FAIL;
}
