/*
 * conform_map.h - allocation maps in the `qemu-img map --output=json` form:
 * reading them from JSON, merging adjacent extents, comparing two maps.
 */
#ifndef CONFORM_MAP_H
#define CONFORM_MAP_H

#include "conform_json.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t start, length, depth;
    int present, zero, data;
    int has_offset;
    uint64_t offset;
} cm_extent;

typedef struct {
    cm_extent *ext;
    size_t count;
} cm_map;

/* Read a JSON array of extents.  Returns 0, or -1 with a reason in err. */
int cm_from_json(const cj_value *arr, cm_map *map, char *err, size_t errlen);

/* Merge adjacent extents with equal depth/present/zero/data whose offsets
 * (when they have data) are contiguous, as MANIFEST.md defines.  The depth
 * of an absent extent is set to 0 first: MANIFEST.md leaves it uncompared. */
void cm_normalise(cm_map *map);

/* Compare two normalised maps: 0 when equal, else -1 with the first
 * difference described in diff. */
int cm_compare(const cm_map *expected, const cm_map *got, char *diff, size_t difflen);

void cm_free(cm_map *map);

#endif
