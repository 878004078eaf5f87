# spec/build.mk - the traceability check between spec, code and corpus.
# Included from the top-level Makefile (PARTS).
#
#   make spec-check            every rule of spec/rules.tsv is defined in
#                              spec/qed-spec.md, cited in ref/*.[ch] and
#                              covered by a case of corpus/golden/manifest.json
#   make spec-check-selftest   prove ci/spec-check.sh catches each kind of gap

spec-check:
	$(Q)sh ci/spec-check.sh

spec-check-selftest:
	$(Q)sh spec/tests/spec-check-selftest.sh

TEST_TARGETS += spec-check spec-check-selftest

.PHONY: spec-check spec-check-selftest
