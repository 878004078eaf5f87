/*
 * strip.c - a failing crash state drawn as the trace it came from
 * (crash.h, crash_strip): one line per trace entry, saying whether the
 * entry reached the disk in that state and what it hit in the image.  The
 * HTML report draws these lines as a strip of boxes; as text they read
 * the same.
 *
 * Line format (the HTML report parses it):
 *   "#N KIND STATUS LABEL"
 *   KIND    W (write), Z (discard or zero range), T (truncate or
 *           fallocate), F (flush), M (mark)
 *   STATUS  durable (before the epoch's opening flush), persisted, lost,
 *           torn, after (not issued before the cut), "-" (flushes, marks)
 *   LABEL   what a write hit, from the layout of the replay up to it
 *           (layout.h), or a mark's text
 * and a line "-- power lost here --" at the cut.
 */
#include "crash.h"
#include "layout.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Parse "CUT:SUBSET:TORN"; 0 or -1.  *all set for "all"; subset bits in
 * mask (at most 64 tracked; more read as persisted). */
static int parse_id(const char *id, size_t *cut, int *all, uint64_t *mask, int *torn_w,
                    char *torn_mode)
{
    char *end;
    const char *p = strchr(id, ':'), *q;

    if (!p || !(q = strchr(p + 1, ':')))
        return -1;
    *cut = (size_t)strtoull(id, &end, 10);
    if (end != p)
        return -1;
    *all = strncmp(p + 1, "all:", 4) == 0;
    *mask = 0;
    for (const char *h = p + 1; !*all && h < q; h++) {
        unsigned v = (unsigned)(*h >= 'a' ? *h - 'a' + 10 : *h - '0');
        *mask = (*mask << 4) | (v & 15u);
    }
    *torn_w = -1;
    *torn_mode = 0;
    if (q[1] != '-') {
        *torn_w = (int)strtol(q + 1, &end, 10);
        *torn_mode = *end;
    }
    return 0;
}

static char kind_letter(const crash_event *e)
{
    switch (e->kind) {
    case EV_WRITE: return 'W';
    case EV_ZERO: return 'Z';
    case EV_SETLEN: case EV_EXTEND: return 'T';
    case EV_FLUSH: return 'F';
    default: return 'M';
    }
}

/* The index of the last FLUSH event issued before cut, or -1. */
static long epoch_flush(const crash_events *ev, size_t cut)
{
    long f = -1;

    for (size_t i = 0; i < ev->count && ev->ev[i].entry < cut; i++)
        if (ev->ev[i].kind == EV_FLUSH)
            f = (long)i;
    return f;
}

/* Whether event i reached the disk in the state. */
static const char *event_status(const crash_events *ev, size_t i, size_t cut, long flush,
                                int all, uint64_t mask, int torn_w, size_t *ordinal)
{
    const crash_event *e = &ev->ev[i];
    int persists = e->kind == EV_WRITE || e->kind == EV_ZERO || e->kind == EV_SETLEN ||
                   e->kind == EV_EXTEND;

    if (e->entry >= cut)
        return "after";
    if (!persists)
        return "-";
    if ((long)i < flush)
        return "durable";
    if (e->forced)
        return "persisted";
    size_t k = (*ordinal)++;
    if ((int)k == torn_w)
        return "torn";
    if (all || k >= 64 || ((mask >> k) & 1u))
        return "persisted";
    return "lost";
}

/* The label of event i: what the write hits, or the mark's text. */
static void event_label(const crash_event *e, const qed_trace *t, const crash_layout *now,
                        const crash_layout *later, char *out, size_t cap)
{
    const qed_trace_entry *te = &t->entries[e->entry];

    out[0] = '\0';
    if (te->flags & QED_TRACE_MARK) {
        snprintf(out, cap, "%.*s", (int)(te->data_len > 80 ? 80 : te->data_len),
                 (const char *)te->data);
        for (char *c = out; *c; c++)
            if (*c < 0x20 || *c > 0x7e)
                *c = '?';
    } else if (e->kind == EV_WRITE || e->kind == EV_ZERO) {
        crash_layout_describe_write(now, later, e->off, e->len,
                                    e->kind == EV_WRITE ? e->data : NULL, out, cap);
    } else if (e->kind == EV_FLUSH) {
        snprintf(out, cap, "flush");
    }
}

/* Append to out as far as it fits. */
static void put(char *out, size_t cap, size_t *at, const char *s)
{
    size_t n = strlen(s);

    if (*at + n + 1 > cap)
        n = *at + 1 < cap ? cap - *at - 1 : 0;
    memcpy(out + *at, s, n);
    *at += n;
    out[*at] = '\0';
}

int crash_strip(const crash_disk *d, const qed_trace *t, const crash_events *ev,
                const char *state_id, char *out, size_t cap)
{
    crash_buf replay = { 0 }, final = { 0 };
    crash_layout *later = NULL;
    size_t cut, ordinal = 0, at = 0;
    int all, torn_w, ret = -1;
    uint64_t mask;
    char torn_mode, label[160], line[256];

    if (cap == 0 || parse_id(state_id, &cut, &all, &mask, &torn_w, &torn_mode) < 0)
        return -1;
    (void)torn_mode;                    /* which part persisted: the id says */
    out[0] = '\0';
    long flush = epoch_flush(ev, cut);
    if (crash_buf_set(&final, d->image, d->image_len) != QED_OK ||
        crash_buf_set(&replay, d->image, d->image_len) != QED_OK)
        goto done;
    for (size_t i = 0; i < ev->count; i++)
        crash_apply(&final, &ev->ev[i]);
    if (crash_layout_new(final.data, final.len, &later) < 0)
        goto done;
    for (size_t i = 0; i < ev->count; i++) {
        const crash_event *e = &ev->ev[i];
        crash_layout *now = NULL;
        if (i > 0 && e->entry >= cut && ev->ev[i - 1].entry < cut)
            put(out, cap, &at, "-- power lost here --\n");
        if (crash_layout_new(replay.data, replay.len, &now) < 0)
            goto done;
        event_label(e, t, now, later, label, sizeof label);
        crash_layout_free(now);
        snprintf(line, sizeof line, "#%" PRIu32 " %c %s %s\n", e->entry, kind_letter(e),
                 event_status(ev, i, cut, flush, all, mask, torn_w, &ordinal), label);
        put(out, cap, &at, line);
        crash_apply(&replay, e);
    }
    if (cut >= ev->entries)
        put(out, cap, &at, "-- power lost here --\n");
    ret = 0;
done:
    crash_layout_free(later);
    crash_buf_free(&replay);
    crash_buf_free(&final);
    return ret;
}
