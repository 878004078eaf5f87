# ref/tests/tests.mk - extra test targets for libqed (included by ref/build.mk).
#
#   make test-interop        QEMU <-> qedtool interoperability (ref/tests/interop.sh)
#   make test-cli-errors     qedtool's error paths and options (ref/tests/test_cli_errors.sh)
#   make test-unit-asan      unit tests built with ASan+UBSan in $(BUILDDIR)/asan
#   make test-unit-valgrind  unit tests under valgrind --leak-check=full
#   make test-unit-mutants   every conformance mutant must fail the unit tests
#   make test-wr-tags        each write rule tagged once, where qed.c's list says
#
# test-interop, test-cli-errors and test-wr-tags are in TEST_TARGETS; CI
# decides about the others.

test-interop: $(BUILDDIR)/qedtool
	$(Q)QEDTOOL=$(BUILDDIR)/qedtool ref/tests/interop.sh

test-cli-errors: $(BUILDDIR)/qedtool
	$(Q)ref/tests/test_cli_errors.sh $(BUILDDIR)/qedtool

test-unit-asan:
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined \
	    BUILDDIR=$(BUILDDIR)/asan test-unit

test-unit-valgrind: $(BUILDDIR)/unit-tests
	$(Q)cd $(BUILDDIR) && valgrind --error-exitcode=99 --leak-check=full ./unit-tests

test-unit-mutants:
	$(Q)MUTANT_DIR=$(BUILDDIR)/mutants-unit ref/tests/mutants-unit.sh

test-wr-tags:
	$(Q)mkdir -p $(BUILDDIR) && ref/tests/wr-tags.sh >$(BUILDDIR)/wr-tags.log || \
	    { cat $(BUILDDIR)/wr-tags.log; exit 1; }

TEST_TARGETS += test-interop test-cli-errors test-wr-tags
.PHONY: test-interop test-cli-errors test-unit-asan test-unit-valgrind test-unit-mutants \
        test-wr-tags
