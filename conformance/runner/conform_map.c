/*
 * conform_map.c - allocation maps: read, normalise, compare.  See
 * conform_map.h.
 */
#include "conform_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read one extent object; fields other than offset are required. */
static int extent_from_json(const cj_value *o, cm_extent *e)
{
    memset(e, 0, sizeof *e);
    if (cj_u64(cj_get(o, "start"), &e->start) < 0 || cj_u64(cj_get(o, "length"), &e->length) < 0 ||
        cj_u64(cj_get(o, "depth"), &e->depth) < 0 || cj_bool(cj_get(o, "present"), &e->present) < 0 ||
        cj_bool(cj_get(o, "zero"), &e->zero) < 0 || cj_bool(cj_get(o, "data"), &e->data) < 0)
        return -1;
    if (cj_get(o, "offset") != NULL) {
        if (cj_u64(cj_get(o, "offset"), &e->offset) < 0)
            return -1;
        e->has_offset = 1;
    }
    return 0;
}

int cm_from_json(const cj_value *arr, cm_map *map, char *err, size_t errlen)
{
    map->ext = NULL;
    map->count = 0;
    if (arr == NULL || arr->type != CJ_ARRAY) {
        snprintf(err, errlen, "map is not a JSON array");
        return -1;
    }
    map->ext = calloc(arr->count ? arr->count : 1, sizeof *map->ext);
    if (map->ext == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < arr->count; i++) {
        if (extent_from_json(&arr->items[i], &map->ext[i]) < 0) {
            snprintf(err, errlen, "map extent %zu lacks a field or has a bad value", i);
            cm_free(map);
            return -1;
        }
    }
    map->count = arr->count;
    return 0;
}

/* 1 when b continues a with the same properties. */
static int extents_mergeable(const cm_extent *a, const cm_extent *b)
{
    if (a->depth != b->depth || a->present != b->present || a->zero != b->zero ||
        a->data != b->data || a->has_offset != b->has_offset)
        return 0;
    if (b->start != a->start + a->length)
        return 0;
    return !a->has_offset || b->offset == a->offset + a->length;
}

void cm_normalise(cm_map *map)
{
    size_t out = 0;
    for (size_t i = 0; i < map->count; i++) {
        if (map->ext[i].length == 0)
            continue;
        /* MANIFEST.md: the depth of a range present in no layer is not
         * compared (qemu-img says 0 past a shorter backing file). */
        if (!map->ext[i].present)
            map->ext[i].depth = 0;
        if (out > 0 && extents_mergeable(&map->ext[out - 1], &map->ext[i]))
            map->ext[out - 1].length += map->ext[i].length;
        else
            map->ext[out++] = map->ext[i];
    }
    map->count = out;
}

/* One extent for a human: "[start+length depth 0 present data @offset]"
 * (no depth for an absent range: it is not compared). */
static void describe(const cm_extent *e, char *buf, size_t len)
{
    char off[40] = "", depth[40] = "";
    if (e->has_offset)
        snprintf(off, sizeof off, " @%llu", (unsigned long long)e->offset);
    if (e->present)
        snprintf(depth, sizeof depth, " depth %llu", (unsigned long long)e->depth);
    snprintf(buf, len, "[%llu+%llu%s%s%s%s%s]", (unsigned long long)e->start,
             (unsigned long long)e->length, depth, e->present ? " present" : " absent",
             e->zero ? " zero" : "", e->data ? " data" : "", off);
}

/* 1 when two extents are identical. */
static int extents_equal(const cm_extent *a, const cm_extent *b)
{
    return a->start == b->start && a->length == b->length && a->depth == b->depth &&
           a->present == b->present && a->zero == b->zero && a->data == b->data &&
           a->has_offset == b->has_offset && (!a->has_offset || a->offset == b->offset);
}

int cm_compare(const cm_map *expected, const cm_map *got, char *diff, size_t difflen)
{
    char a[128], b[128];
    size_t n = expected->count < got->count ? expected->count : got->count;
    for (size_t i = 0; i < n; i++) {
        if (extents_equal(&expected->ext[i], &got->ext[i]))
            continue;
        describe(&expected->ext[i], a, sizeof a);
        describe(&got->ext[i], b, sizeof b);
        snprintf(diff, difflen, "map extent %zu: expected %s, got %s", i, a, b);
        return -1;
    }
    if (expected->count == got->count)
        return 0;
    if (expected->count > n) {
        describe(&expected->ext[n], a, sizeof a);
        snprintf(diff, difflen, "map: %zu extents, expected %zu; missing %s", got->count,
                 expected->count, a);
    } else {
        describe(&got->ext[n], b, sizeof b);
        snprintf(diff, difflen, "map: %zu extents, expected %zu; extra %s", got->count,
                 expected->count, b);
    }
    return -1;
}

void cm_free(cm_map *map)
{
    free(map->ext);
    map->ext = NULL;
    map->count = 0;
}
