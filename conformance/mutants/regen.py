#!/usr/bin/env python3
# regen.py - regenerate conformance/mutants/*.patch from ref/qed.c after the
# reference changes: each mutant is (name, what it breaks, exact old text,
# replacement).  A mutant whose old text no longer occurs stops the script.
# Run from the top of the tree: python3 conformance/mutants/regen.py
# Note: a mutant that drops TBL-2 alone is not among them on purpose: with
# clusters of at least 4 KiB every entry with reserved bits set is also
# misaligned (TBL-3), so such an image is refused either way and only the
# rule named in the message differs, which the adapter contract does not
# carry.  The unit tests (ref/tests/test_tables.c) assert the exact code.
import subprocess, sys, os
src = open('ref/qed.c').read()
muts = [
 ("accept-unknown-features", "HDR-5: an image with unknown feature bits is opened",
  "    if (h->features & ~(uint64_t)QED_FEATURE_MASK)\n        return QED_E_FEATURES;                    /* HDR-5 */\n", ""),
 ("refuse-unknown-compat", "HDR-6: unknown compat_features bits make the image unopenable",
  "    /* HDR-6, HDR-7: compat and autoclear bits never make a header invalid. */\n",
  "    if (h->compat_features)\n        return QED_E_FEATURES;\n"),
 ("keep-unknown-autoclear", "HDR-7: unknown autoclear bits survive a read-write open",
  "    img->h.autoclear_features &= QED_AUTOCLEAR_FEATURE_MASK;\n    return write_header_sync(img);\n",
  "    return QED_OK;\n"),
 ("table-offset-off-by-one", "TBL-4/HDR-8: a table may end one cluster past the end of the file",
  "        table_bytes(h) > end - offset)\n        return QED_E_TABLE_RANGE;\n",
  "        table_bytes(h) > end - offset + h->cluster_size)\n        return QED_E_TABLE_RANGE;\n"),
 ("zero-cluster-reads-backing", "ZERO-1: a zero cluster reads from the backing file",
  "        else if (r.kind == K_ZERO)\n            memset(dst, 0, (size_t)r.len);        /* ZERO-1: never the backing file */\n",
  ""),
 ("backing-past-end-not-zero", "BACK-3: a read past the end of a shorter backing file is not zero-filled",
  "    if (img->backing_io && off < img->backing_size)\n        have = (size_t)MIN((uint64_t)len, img->backing_size - off);\n",
  "    if (img->backing_io)\n        have = len;\n"),
 ("wrong-l2-index", "XLT-1: the L2 index drops its top bit",
  "    return (off >> img->cluster_bits) & (img->nentries - 1);\n",
  "    return (off >> img->cluster_bits) & ((img->nentries - 1) >> 1);\n"),
 ("need-check-no-repair", "WR-5/FEAT-2: a NEED_CHECK image is opened read-write without check and repair",
  "        ret = repair_on_open(img);                /* WR-5 */\n", "        ret = QED_OK;\n"),
 ("repair-drops-duplicate", "CHK-5/CHK-6: repair drops a duplicate reference instead of copying it",
  "    if (!duplicate) {\n", "    if (1) {\n"),
 ("repair-copies-before-reset", "CHK-5: repair makes its copies before it resets the entries that point past the end of the file",
  "        ret = reset_past_end_entries(img, &resets);\n", "        ret = QED_OK;\n"),
 ("leaks-not-counted", "CHK-4: leaked clusters are not counted",
  "            chk->res->leaks++;                    /* CHK-4 */\n", ""),
 ("duplicates-not-detected", "CHK-1: a cluster referenced twice is not reported",
  "        if (first + k < chk->nclusters && bit_test(chk->used, first + k))\n            return 0;\n", ""),
 ("no-probe-ignored", "FEAT-3/BACK-2: a NO_PROBE raw backing file is probed anyway",
  "    if (img->h.features & QED_F_BACKING_FORMAT_NO_PROBE)\n        return QED_OK;                            /* FEAT-3 */\n", ""),
 ("max-size-wraps", "HDR-10: the maximum image size is computed with 64-bit wrap-around",
  "    return bits >= 64 ? UINT64_MAX : (uint64_t)1 << bits;\n",
  "    return (uint64_t)1 << (bits & 63);\n"),
 ("header-size-zero-ok", "HDR-4: an image with header_size 0 is opened",
  "    if (h->header_size < 1)\n        return QED_E_HEADER_SIZE;                 /* HDR-4 */\n", ""),
 ("image-size-unaligned-ok", "HDR-9: an image_size that is not a multiple of 512 is accepted",
  "    if (size % QED_SECTOR_SIZE)\n        return QED_E_IMAGE_SIZE_ALIGN;            /* HDR-9 */\n", ""),
 ("backing-name-empty-ok", "HDR-12: an empty backing file name is accepted, as no backing file",
  ("    if (h->backing_filename_size == 0)\n        return QED_E_BACKING_EMPTY;               /* HDR-12 */\n",
   "    if (!(img->h.features & QED_F_BACKING_FILE))\n        return QED_OK;                            /* HDR-14 */\n    if (size >= MAX_BACKING_NAME)\n"),
  ("",
   "    if (!(img->h.features & QED_F_BACKING_FILE) || size == 0)\n        return QED_OK;\n    if (size >= MAX_BACKING_NAME)\n")),
 ("chain-depth-unbounded", "BACK-4: no bound on the backing chain depth (a loop recurses until limits)",
  "    if (img->depth + 1 > img->lim.max_chain_depth)\n        return QED_E_CHAIN_DEPTH;                 /* BACK-4 */\n",
  "    if (img->depth + 1 > 4096)\n        return QED_E_CHAIN_DEPTH;\n"),
 ("cow-ignores-backing", "WR-7: a new cluster's unwritten part is zero instead of the backing file's data",
  "    return kind == K_ZERO || !img->backing_name;\n", "    (void)img;\n    return 1;\n"),
 ("read-only-open-rewrites-header", "HDR-7 and reading must not write: a read-only open clears unknown autoclear bits in the file, through a writable reopen of its path",
  "    if (ret != QED_OK || img->state == SESSION_READ_ONLY)\n        return ret;\n",
  "    if (ret == QED_OK && img->state == SESSION_READ_ONLY && opts->path) {\n"
  "        qed_io *ro = img->io, *rw;\n"
  "        if (qed_io_posix_open(opts->path, QED_IO_RDWR | QED_IO_NO_LOCK, &rw) == QED_OK) {\n"
  "            img->io = rw;\n"
  "            ret = clear_unknown_autoclear(img);\n"
  "            img->io = ro;\n"
  "            qed_io_close(rw);\n"
  "        }\n"
  "    }\n"
  "    if (ret != QED_OK || img->state == SESSION_READ_ONLY)\n        return ret;\n"),
 # Reading (XLT-4, issue 9): each is killed by the read-error family or the
 # sizes over 2 TiB, and survives the corpus without them.
 ("l2-entry-unchecked-on-read", "XLT-4/TBL-6: a read follows an L2 entry without validating it (into the header, past the end, misaligned)",
  "    return check_data_offset(&img->h, entry, img->alloc_end);  /* TBL-2/3/6, XLT-4 */\n",
  "    (void)img;\n    return QED_OK;\n"),
 ("l1-entry-unchecked-on-read", "XLT-4/TBL-4: a read loads the L2 table an L1 entry names without validating the entry",
  "    ret = check_table_offset(&img->h, offset, img->alloc_end);  /* TBL-2/3/4, XLT-4 */\n    if (ret != QED_OK)\n        return ret;\n",
  ""),
 ("invalid-entry-reads-unallocated", "XLT-4: an invalid L2 entry reads as unallocated (zeroes or the backing file) instead of failing",
  "    ret = classify_entry(img, first, &r->kind);\n    if (ret != QED_OK)\n        return ret;\n",
  "    ret = classify_entry(img, first, &r->kind);\n    if (ret != QED_OK) {\n        r->kind = K_UNALLOC;\n        ret = QED_OK;\n    }\n"),
 ("image-size-32bit-sectors", "HDR-9/XLT-3: the virtual size is kept as a 32-bit sector count, so sizes of 2 TiB and more are cut",
  "    img->nentries = (uint64_t)1 << img->entry_bits;\n    return QED_OK;\n",
  "    img->nentries = (uint64_t)1 << img->entry_bits;\n    img->h.image_size = (uint64_t)(uint32_t)(img->h.image_size / 512) * 512;\n    return QED_OK;\n"),
 # The write-ordering rules: each mutant passes every other family and must
 # be killed by the crash family (qed-conform crash).
 ("wr1-no-flush-after-need-check", "WR-1: NEED_CHECK is written but not flushed before the first table write",
  "    ret = write_header_sync(img);                 /* WR-1 */\n",
  "    ret = write_header(img);\n"),
 ("wr2-l1-before-l2-flushed", "WR-2: the L1 entry is written before the new L2 table is flushed",
  "        ret = img->io->flush(img->io);            /* WR-2 */\n", "        ret = QED_OK;\n"),
 ("wr3-l2-before-data-flushed", "WR-3: the L2 entry is written before the new cluster's copied backing data is flushed",
  "        ret = img->io->flush(img->io);            /* WR-3 */\n", "        ret = QED_OK;\n"),
 ("wr4-clear-before-final-flush", "WR-4: close clears NEED_CHECK without first flushing the session's writes",
  "        return clear_need_check(img);             /* WR-4 */\n",
  "        img->state = SESSION_CLEAN;               /* skips the flush */\n        return clear_need_check(img);\n"),
 ("wr5-clear-before-repair", "WR-5: NEED_CHECK is cleared (and flushed) before the repair is written",
  "    if (ret == QED_OK && needs_repair(res, repair)) {\n",
  "    if (ret == QED_OK && (repair & QED_REPAIR_CORRUPT))\n        ret = clear_need_check(img);\n    if (ret == QED_OK && needs_repair(res, repair)) {\n"),
 ("wr6-new-cluster-over-old", "WR-6: a new cluster is placed over the last cluster of the file instead of after it",
  "    *offset = start;\n    img->alloc_end = start + n * cluster_size;    /* WR-6 */\n",
  "    *offset = start > 4 * cluster_size ? start - cluster_size : start;\n    img->alloc_end = start + n * cluster_size;\n"),
]
os.makedirs('/tmp/mk/a/ref', exist_ok=True); os.makedirs('/tmp/mk/b/ref', exist_ok=True)
open('/tmp/mk/a/ref/qed.c','w').write(src)
# A mutant may change several places: old and new are then tuples, one
# (old, new) pair per place.
for name, why, old, new in muts:
    olds, news = (old, new) if isinstance(old, tuple) else ((old,), (new,))
    mutated = src
    for o, n in zip(olds, news):
        assert mutated.count(o) == 1, name
        mutated = mutated.replace(o, n)
    open('/tmp/mk/b/ref/qed.c','w').write(mutated)
    d = subprocess.run(['diff','-u','--label','a/ref/qed.c','--label','b/ref/qed.c','/tmp/mk/a/ref/qed.c','/tmp/mk/b/ref/qed.c'],capture_output=True,text=True).stdout
    open(f'conformance/mutants/{name}.patch','w').write(f"Mutant: {name}\nBreaks: {why}\n\n" + d)
print(len(muts))
