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
              conformance/golden/golden_wmodel.c
# The generator uses only the constants of qed.h, never libqed's code.
GOLDEN_OBJ := $(GOLDEN_SRC:%.c=$(BUILDDIR)/obj/%.o)

# Regenerated from scratch, so that files of removed cases do not linger.
golden: $(BUILDDIR)/qed-conform
	$(Q)rm -rf corpus/golden && $(BUILDDIR)/qed-conform golden --out corpus/golden

# Regenerate into a fresh directory and compare every byte (diff -r reports
# differing, missing and extra files); then every rule ID of spec/rules.tsv
# must be cited by some case, and every cited ID must exist.
golden-check: $(BUILDDIR)/qed-conform
	$(Q)tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/golden-check.XXXXXX") && \
	trap 'rm -rf "$$tmp"' EXIT && \
	$(BUILDDIR)/qed-conform golden --out "$$tmp" >/dev/null && \
	if diff -r corpus/golden "$$tmp" >"$$tmp.diff" 2>&1; then rm -f "$$tmp.diff"; \
	else cat "$$tmp.diff"; rm -f "$$tmp.diff"; \
	    echo 'golden-check: corpus/golden differs from the generator (run make golden)'; exit 1; fi && \
	jq -r '.testGroups[].tests[].rules[]' corpus/golden/manifest.json | sort -u >"$$tmp/.cited" && \
	cut -f1 spec/rules.tsv | tail -n +2 | sort -u >"$$tmp/.spec" && \
	missing=$$(comm -23 "$$tmp/.spec" "$$tmp/.cited") && unknown=$$(comm -13 "$$tmp/.spec" "$$tmp/.cited") && \
	if [ -n "$$missing$$unknown" ]; then \
	    echo "golden-check: rules cited by no case: $$missing; unknown rules cited: $$unknown"; exit 1; fi && \
	echo "golden-check: corpus/golden matches the generator; all $$(wc -l <"$$tmp/.spec") rules cited"

# The random family is deterministic too: two runs with one seed agree.
golden-random-check: $(BUILDDIR)/qed-conform
	$(Q)tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/golden-random.XXXXXX") && \
	trap 'rm -rf "$$tmp"' EXIT && \
	$(BUILDDIR)/qed-conform golden --random 42 --count 40 --out "$$tmp/a" >/dev/null && \
	$(BUILDDIR)/qed-conform golden --random 42 --count 40 --out "$$tmp/b" >/dev/null && \
	diff -r "$$tmp/a" "$$tmp/b" && \
	echo "golden-random-check: 40 random cases, two runs identical"

TEST_TARGETS += golden-check golden-random-check

.PHONY: golden golden-check golden-random-check
