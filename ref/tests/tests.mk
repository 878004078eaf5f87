# ref/tests/tests.mk - extra test targets for libqed (included by ref/build.mk).
#
#   make test-interop        QEMU <-> qedtool interoperability (ref/tests/interop.sh)
#   make test-cli-errors     qedtool's error paths and options (ref/tests/test_cli_errors.sh)
#   make test-reliability    locks (with QEMU when present), no self-overwrite,
#                            check -r status, FIFO backing files, ulimit -f,
#                            block devices (loop devices, when root),
#                            untrusted images (backing loops, --backing-dir,
#                            --no-backing, JSON names, limits)
#                            (ref/tests/test_reliability.sh)
#   make test-unit-mutants   every conformance mutant must fail the unit tests
#   make test-wr-tags        each write rule tagged once, where qed.c's list says
#   make test-sparse         convert/compare cost what the images hold: sparse
#                            content, sparse outputs, 4 TiB with 1 MiB of data
#                            (ref/tests/test_sparse.sh)
#
# test-interop, test-cli-errors, test-reliability, test-wr-tags and
# test-sparse are in TEST_TARGETS.  The
# sanitizer and valgrind runs of the unit tests are ci/build.mk's test-asan
# and test-valgrind (one definition each).

test-interop: $(BUILDDIR)/qedtool
	$(Q)QEDTOOL=$(BUILDDIR)/qedtool ci/count-skips.sh test-interop ref/tests/interop.sh

test-cli-errors: $(BUILDDIR)/qedtool
	$(Q)ref/tests/test_cli_errors.sh $(BUILDDIR)/qedtool

test-reliability: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)ci/count-skips.sh test-reliability ref/tests/test_reliability.sh $(BUILDDIR)/qedtool

test-unit-mutants:
	$(Q)MUTANT_DIR=$(BUILDDIR)/mutants-unit ref/tests/mutants-unit.sh

test-wr-tags:
	$(Q)mkdir -p $(BUILDDIR) && ref/tests/wr-tags.sh >$(BUILDDIR)/wr-tags.log || \
	    { cat $(BUILDDIR)/wr-tags.log; exit 1; }

test-sparse: $(BUILDDIR)/qedtool
	$(Q)ci/count-skips.sh test-sparse ref/tests/test_sparse.sh $(BUILDDIR)/qedtool

TEST_TARGETS += test-interop test-cli-errors test-reliability test-wr-tags
TEST_TARGETS += test-sparse
.PHONY: test-interop test-cli-errors test-reliability test-unit-mutants test-wr-tags
.PHONY: test-sparse
