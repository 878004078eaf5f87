# ci/build.mk - coverage, the sanitizer and valgrind passes, the benchmark.
# Included from the top-level Makefile (PARTS).
#
#   make coverage       gcov build in build/cov, runs the unit, CLI, interop,
#                       conformance and fuzz-replay tests there, lcov over
#                       ref/ (not ref/tests/), HTML in build/coverage/index.html
#   make test-asan      unit tests and conformance suite built with
#                       -fsanitize=address,undefined in $(BUILDDIR)/asan
#   make test-valgrind  unit tests under valgrind --leak-check=full
#                       (the only sanitizer and valgrind targets)
#   make bench          $(BUILDDIR)/qedtool against qemu-img/qemu-io; see
#                       bench/README.md (knobs: RUNS, CONVERT_RUNS, WRITES)
#   make ref-alone      build libqed, qedtool and the unit tests from a copy
#                       of the top Makefile and ref/ alone (in TEST_TARGETS)
#   make doc-examples   run every command example of README.md, ADAPTERS.md,
#                       the shim's README and the --help texts, as written
#                       (ci/doc-examples.sh; in TEST_TARGETS)
#
# None of these but ref-alone and doc-examples is in TEST_TARGETS: .ci/run
# calls them as stages of their own.
# A target whose tool is missing prints SKIPPED with the reason and fails.

ASAN_BUILDDIR ?= $(BUILDDIR)/asan

coverage:
	$(Q)ci/coverage.sh

# The conformance suite runs the ASan qedtool too (about 2 minutes).
test-asan:
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined \
	    BUILDDIR=$(ASAN_BUILDDIR) test-unit conform test-crash-unit test-crash-check

VALGRIND_CMD := valgrind -q --error-exitcode=99 --leak-check=full \
                --errors-for-leak-kinds=definite,indirect
test-valgrind: need-valgrind $(BUILDDIR)/unit-tests $(BUILDDIR)/crash-unit-test
	$(Q)$(UNIT_TEST_ENV) $(VALGRIND_CMD) $(BUILDDIR)/unit-tests
	$(Q)$(VALGRIND_CMD) $(BUILDDIR)/crash-unit-test

need-valgrind:
	$(Q)command -v valgrind >/dev/null || \
	    { echo 'test-valgrind: SKIPPED: valgrind not installed (run ci/install-deps)'; exit 1; }

bench: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)bench/bench.sh $(BUILDDIR)/qedtool
	$(Q)bench/crash.sh $(BUILDDIR) 2

# ref/ builds from a tree holding only the top Makefile and ref/; CC,
# CPPFLAGS and CFLAGS are those of this build.
ref-alone:
	$(Q)ci/ref-alone.sh CC='$(CC)' CPPFLAGS='$(CPPFLAGS)' CFLAGS='$(CFLAGS)'

TEST_TARGETS += ref-alone

# The examples use qedtool, qed-conform, the shim and shim-test; two blocks
# of examples run at a time (DOC_EXAMPLES_JOBS).
DOC_EXAMPLES_JOBS ?= 2
doc-examples: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform \
              $(BUILDDIR)/libqedtrace.so $(BUILDDIR)/shim-test
	$(Q)ci/count-skips.sh doc-examples ci/doc-examples.sh -j $(DOC_EXAMPLES_JOBS) $(BUILDDIR)

TEST_TARGETS += doc-examples

# For .ci/run: which targets `make test` runs.
print-test-targets:
	@echo $(TEST_TARGETS)

CLEAN_FILES += build/coverage

.PHONY: coverage test-asan test-valgrind need-valgrind bench \
        print-test-targets ref-alone doc-examples
