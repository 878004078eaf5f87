# conformance/runner/build.mk - qed-conform, the suite's runner (README.md
# beside this file).
#
#   make conform        build qedtool + qed-conform, run the suite against the
#                       reference (fixed corpus + 50 seeded random cases);
#                       needs only a C compiler and make
#   make conform-qemu   run it against QEMU (conformance/adapters/qemu) and
#                       require the failing case ids to be exactly the list
#                       in conformance/KNOWN-DEVIATIONS.md
#   make conform-html   build/conform.html: the two runs above side by side
#   make conform-selftest  inject faults through conformance/adapters/faulty:
#                       the runner must report each one
#   make conform-partial   run the suite against conformance/adapters/partial
#                       (info and convert only): read cases still judged,
#                       every skip names the capability it lacks
#   make conform-geometry  the write family through conformance/adapters/
#                       fixed-geometry (create ignores table_size, or both
#                       options): geometry cases skipped, the rest pass
#   make test-keep-failures  --keep-failures keeps a 2 TiB sparse file sparse,
#                       in seconds, and leaves out what is over its budget
#   make test-report-summary  the HTML summary of a faulty run against its JSON
#   make test-adapter-check  qed-conform adapter-check on the reference, the
#                       partial adapter, QEMU and deliberately broken adapters

CONFORM_SRC := conformance/runner/qed-conform.c conformance/runner/conform_case.c \
               conformance/runner/conform_json.c conformance/runner/conform_map.c \
               conformance/runner/conform_proc.c conformance/runner/conform_run.c \
               conformance/runner/conform_report.c conformance/runner/conform_guard.c \
               conformance/runner/conform_adapter_check.c conformance/runner/conform_keep.c
# qed-conform golden: the generator is linked in.
# qed-conform crash and crash-check: the crash subsystem is linked in, with libqed.
CONFORM_OBJ := $(CONFORM_SRC:%.c=$(BUILDDIR)/obj/%.o) $(GOLDEN_OBJ) $(CONFORM_LIB_OBJ) \
               $(CRASH_OBJ) $(BUILDDIR)/libqed.a

ALL_TARGETS += $(BUILDDIR)/qed-conform

$(BUILDDIR)/qed-conform: $(CONFORM_OBJ)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

# Unit tests of the runner's JSON reader, maps, path checks and read guard.
$(BUILDDIR)/conform-unit-test: $(BUILDDIR)/obj/conformance/runner/conform_unit_test.o \
        $(BUILDDIR)/obj/conformance/runner/conform_json.o \
        $(BUILDDIR)/obj/conformance/runner/conform_map.o \
        $(BUILDDIR)/obj/conformance/runner/conform_guard.o $(CONFORM_LIB_OBJ)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

test-conform-unit: $(BUILDDIR)/conform-unit-test
	$(Q)$(BUILDDIR)/conform-unit-test

TEST_TARGETS += test-conform-unit

# CONFORM_FLAGS: extra runner options; CONFORM_MANIFEST: another manifest.
CONFORM_FLAGS ?= -j 2
CONFORM_MANIFEST ?=
CONFORM_MANIFEST_OPT = $(if $(CONFORM_MANIFEST),--manifest $(CONFORM_MANIFEST))

conform: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)ci/count-skips.sh conform $(BUILDDIR)/qed-conform --impl ref --random 1:50 \
	    $(CONFORM_FLAGS) $(CONFORM_MANIFEST_OPT) \
	    --junit $(BUILDDIR)/conform-ref.xml --json $(BUILDDIR)/conform-ref.json

TEST_TARGETS += conform

# The failing ids of the QEMU run must equal the "- family/name — RULE — why"
# lines of KNOWN-DEVIATIONS.md: a new failure or a fixed deviation both fail.
# Without qemu-img/qemu-io the target is SKIPPED (and make test says so).
conform-qemu: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/runner/conform-qemu.sh $(BUILDDIR) $(CONFORM_FLAGS) $(CONFORM_MANIFEST_OPT)

TEST_TARGETS += conform-qemu

# The HTML matrix of the last `make conform` and `make conform-qemu` runs,
# side by side (failures first, a filter for disagreements).
conform-html: $(BUILDDIR)/qed-conform
	$(Q)$(BUILDDIR)/qed-conform --html-merge $(BUILDDIR)/conform.html \
	    $(wildcard $(BUILDDIR)/conform-ref.json $(BUILDDIR)/conform-qemu.json)
	@echo 'conform-html: wrote $(BUILDDIR)/conform.html'

# The runner's self-test: conformance/adapters/faulty injects one fault at a
# time into the reference; each must be reported as a failure with the
# expected message (the faults are listed in selftest.sh).
conform-selftest: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/runner/selftest.sh $(BUILDDIR)/qed-conform $(BUILDDIR)/qedtool \
	    $(CONFORM_MANIFEST_OPT)

TEST_TARGETS += conform-selftest

# A partial implementation (conformance/adapters/partial: info and convert
# of the reference): what a run judges and skips (conform-partial.sh).
conform-partial: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/runner/conform-partial.sh $(BUILDDIR) --random 1:50 $(CONFORM_MANIFEST_OPT)

TEST_TARGETS += conform-partial

# An implementation that cannot choose its geometry
# (conformance/adapters/fixed-geometry): write cases not about geometry pass
# at its own, the others are skipped naming the create option
# (conform-geometry.sh).
conform-geometry: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/runner/conform-geometry.sh $(BUILDDIR)

TEST_TARGETS += conform-geometry

# --keep-failures within its budget: a 2 TiB sparse scratch file is kept
# sparse in seconds, what is over --keep-limit is left out and listed.
test-keep-failures: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/runner/keep-test.sh $(BUILDDIR)/qed-conform $(BUILDDIR)/qedtool

TEST_TARGETS += test-keep-failures

# The HTML report's summary (per family, per spec rule, skips by capability)
# must agree with the JSON results of a faulty run.
test-report-summary: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/runner/summary-test.sh $(BUILDDIR)/qed-conform $(BUILDDIR)/qedtool

TEST_TARGETS += test-report-summary

# qed-conform adapter-check against adapters that keep and break the contract.
test-adapter-check: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)ci/count-skips.sh test-adapter-check conformance/runner/adapter-check-test.sh \
	    $(BUILDDIR)/qed-conform $(BUILDDIR)/qedtool

TEST_TARGETS += test-adapter-check

.PHONY: conform conform-qemu conform-selftest test-conform-unit conform-html conform-partial \
        test-adapter-check conform-geometry test-keep-failures test-report-summary
