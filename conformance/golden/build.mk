# conformance/golden/build.mk - the golden-image generator (README.md beside
# this file), linked into qed-conform as `qed-conform golden`, and the corpus
# it writes under corpus/golden/.
#
#   make golden         regenerate corpus/golden/ in place
#   make golden-check   regenerate into a temporary directory and fail if any
#                       file differs from corpus/golden/, is missing or extra;
#                       also check that every rule of spec/rules.tsv is cited

GOLDEN_SRC := conformance/golden/golden.c conformance/golden/golden_gen.c \
              conformance/golden/golden_img.c conformance/golden/golden_json.c \
              conformance/golden/golden_lib.c conformance/golden/golden_read.c \
              conformance/golden/golden_reject.c conformance/golden/golden_check.c \
              conformance/golden/golden_write.c conformance/golden/golden_random.c \
              conformance/golden/golden_wmodel.c conformance/golden/golden_readerr.c \
              conformance/golden/golden_sweep.c
# The generator uses only the constants of qed.h, never libqed's code.
GOLDEN_OBJ := $(GOLDEN_SRC:%.c=$(BUILDDIR)/obj/%.o)

# Regenerated from scratch, so that files of removed cases do not linger.
golden: $(BUILDDIR)/qed-conform
	$(Q)rm -rf corpus/golden && $(BUILDDIR)/qed-conform golden --out corpus/golden

# Regenerate into a fresh directory and compare every byte; every rule ID
# of spec/rules.tsv must be cited by some case, and every cited ID exist.
golden-check: $(BUILDDIR)/qed-conform
	$(Q)conformance/golden/check.sh $(BUILDDIR)/qed-conform

# The random family is deterministic too: two runs with one seed agree.
golden-random-check: $(BUILDDIR)/qed-conform
	$(Q)conformance/golden/random-check.sh $(BUILDDIR)/qed-conform

TEST_TARGETS += golden-check golden-random-check

.PHONY: golden golden-check golden-random-check
