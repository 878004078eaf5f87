/*
 * kit_int.h - what the kit's own files share (kit.c, kit_io.c,
 * kit_json.c); not for the implementer, whose whole interface is qed_kit.h.
 */
#ifndef KIT_INT_H
#define KIT_INT_H

#include <stdio.h>

#include "qed_kit.h"

enum { KIT_EXIT_OK = 0, KIT_EXIT_FAIL = 1 };   /* check adds 2 and 3 */
enum { KIT_PIECE = 1024 * 1024 };              /* bytes per read/write op */
enum { KIT_MAX_OPERANDS = 8 };

/* One option a subcommand takes: "o" is -o, "output" is --output. */
typedef struct kit_opt {
    const char *name;
    int takes_value;
} kit_opt;

/* Called for each option met; val is NULL for a flag.  0, or -1 after
 * printing why. */
typedef int (*kit_opt_fn)(void *ctx, const char *name, const char *val);

/* The operands left once the options are taken. */
typedef struct kit_operands {
    const char *word[KIT_MAX_OPERANDS];
    int n;
} kit_operands;

/* Print "NAME: CMD: <message>" on stderr, one line. */
void kit_err(const kit_ops *ops, const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* kit_err for a failed op: "NAME: CMD: [FILE: ]WHAT failed[: errstr(status)]"
 * (file may be NULL). */
void kit_err_op(const kit_ops *ops, const char *cmd, const char *file,
                const char *what, int status);

/* Scan argv[1..] (argv[0] is the subcommand) against opts, calling fn for
 * each option and collecting operands.  0, or -1 after printing why. */
int kit_scan(const kit_ops *ops, int argc, char **argv, const kit_opt *opts,
             kit_opt_fn fn, void *ctx, kit_operands *out);

/* Decimal or 0x-hex, with an optional k/M/G/T/P/E suffix (powers of
 * 1024, either case); overflow-checked.  0, or -1 when invalid. */
int kit_parse_size(const char *text, uint64_t *out);

/* 1 if ops has what the named subcommand needs, else 0. */
int kit_supports(const kit_ops *ops, const char *cmd);

/* `io FILE -c CMD...` (kit_io.c). */
int kit_cmd_io(const kit_ops *ops, int argc, char **argv);

/* JSON, as qemu-img prints it (kit_json.c). */
void kit_json_string(FILE *f, const char *s);
void kit_print_info(FILE *f, const char *file, uint64_t size);
/* One map extent; first says whether it opens the array. */
void kit_print_extent(FILE *f, const kit_extent *e, int first);
void kit_print_check(FILE *f, const char *file, const kit_check_result *r);

#endif /* KIT_INT_H */
