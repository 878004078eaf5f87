/*
 * qed_kit.h - the qed-conform adapter kit for QED libraries.  Fill one
 * kit_ops table with calls into your library and call kit_main from main():
 * the kit speaks the whole adapter contract of conformance/ADAPTERS.md
 * (arguments, the io command language, qemu-img's JSON, exit codes, and
 * `capabilities`, derived from which ops are non-NULL).  C11 and POSIX;
 * it includes nothing of any QED library.  README.md beside it: a worked
 * example (kit_ref.c plugs in libqed).
 *
 * Every int op returns 0 on success, non-zero on failure (kept as the
 * status passed to errstr).  Ops must not write to stdout (the kit prints
 * the JSON there); a message on stderr is welcome.  Paths are as given,
 * relative to the working directory; backing names are relative to the
 * image's directory.
 */
#ifndef QED_KIT_H
#define QED_KIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct kit_image kit_image;     /* yours: define struct kit_image */

typedef struct kit_create_args {
    uint64_t size;               /* virtual size in bytes, as the caller gave it */
    uint32_t cluster_size;       /* 0: not asked for (use your default) */
    uint32_t table_size;         /* 0: not asked for (use your default) */
    const char *backing;         /* backing file name to record, or NULL */
    const char *backing_format;  /* "raw", "qed", or NULL (probe it) */
} kit_create_args;

typedef struct kit_extent {      /* one run of qemu-img map's output */
    uint64_t start, length;      /* start: the offset asked for; length > 0 */
    unsigned depth;              /* 0: this image, 1: its backing file, ... */
    int present, zero, data;     /* qemu-img map's three flags, 0 or 1 */
    uint64_t offset;             /* with data: byte offset in that layer's file */
} kit_extent;

typedef struct kit_check_result {
    uint64_t corruptions, leaks;             /* found (before any repair) */
    uint64_t corruptions_fixed, leaks_fixed; /* repaired */
    uint64_t check_errors;                   /* what could not be checked */
} kit_check_result;

enum { KIT_REPAIR_LEAKS = 1, KIT_REPAIR_ALL = 3 };   /* check's repair */
enum { KIT_HONOURS_CLUSTER_SIZE = 1, KIT_HONOURS_TABLE_SIZE = 2 };  /* create_honours */

typedef struct kit_ops {
    const char *name;   /* your adapter's name, first word of its messages */
    /* Required.  Open the image at path and its whole backing chain;
     * refuse (non-zero) any file that is not a valid QED image, without
     * probing other formats.  writable 0: never change a byte of any file. */
    int (*open)(const char *path, int writable, kit_image **out);
    int (*size)(kit_image *img, uint64_t *bytes);        /* virtual size */
    /* Close and free; flush what is pending; the status is the session's. */
    int (*close)(kit_image *img);
    /* Read len bytes of the virtual disk at off (the kit keeps requests
     * within the size and at most 1 MiB).  Needed by convert and io. */
    int (*read)(kit_image *img, uint64_t off, void *buf, size_t len);
    /* Needed by io (with read and flush); writable images only. */
    int (*write)(kit_image *img, uint64_t off, const void *buf, size_t len);
    int (*flush)(kit_image *img);      /* make what was written durable */
    /* Optional: io's write -z (NULL: the kit writes zero bytes instead). */
    int (*write_zeroes)(kit_image *img, uint64_t off, uint64_t len);
    /* Optional: create FILE (overwrite it) with the geometry asked for;
     * fail on geometry you cannot make rather than make another. */
    int (*create)(const char *path, const kit_create_args *args);
    /* With create: the kit_create_args fields create honours, as
     * KIT_HONOURS_* bits (declared as the create-cluster-size and
     * create-table-size capabilities).  A -o option not honoured is
     * refused before create is called; the suite skips the cases about
     * that geometry and judges the others at your own. */
    unsigned create_honours;
    /* Optional: the run at off (< size), at most max_len bytes. */
    int (*map)(kit_image *img, uint64_t off, uint64_t max_len, kit_extent *out);
    /* Optional: check the image at path; repair 0 opens it read-only, else
     * repair as much as KIT_REPAIR_* says.  0 when the check ran to its
     * end, whatever it found (the kit checks again after a repair). */
    int (*check)(const char *path, unsigned repair, kit_check_result *out);
    int (*resize)(kit_image *img, uint64_t new_size);   /* optional: grow */
    /* Optional: record a new backing name and format (NULL: none), data
     * untouched (rebase -u). */
    int (*set_backing)(kit_image *img, const char *name, const char *format);
    /* Optional: one line of text for a status an op returned. */
    const char *(*errstr)(int status);
} kit_ops;

/* The adapter: argv is the whole command line (argv[0] the program, argv[1]
 * the subcommand); returns the exit status for main to return. */
int kit_main(const kit_ops *ops, int argc, char **argv);

#endif /* QED_KIT_H */
