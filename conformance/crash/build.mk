# conformance/crash/ - the crash subsystem (README.md beside this file).
#
# Its objects link into qed-conform (crash-check, crash, trace dump); they
# include ref/ (libqed and its trace module) and the suite's lib/, and
# nothing in ref/ includes them.
#
#   make conform-crash     the crash family against the reference: every
#                          generated workload recorded through qedtool io
#                          --trace, every crash state judged (O1..O5)
#   make test-crash-unit   the explorer, the oracles and state ids
#   make test-trace-dump   trace dump on sessions recorded by qedtool io --trace
#   make bench-crash       crash states judged per second, the family's wall time

CRASH_SRC := conformance/crash/explore.c conformance/crash/oracle.c \
             conformance/crash/workload.c conformance/crash/judge.c \
             conformance/crash/crash_check.c conformance/crash/crash_case.c \
             conformance/crash/strip.c conformance/crash/layout.c \
             conformance/crash/trace_dump.c conformance/crash/record.c \
             conformance/crash/golden_traces.c
CRASH_OBJ := $(CRASH_SRC:%.c=$(BUILDDIR)/obj/%.o)

# Unit tests of the explorer, the oracles and the state ids.
$(BUILDDIR)/crash-unit-test: $(BUILDDIR)/obj/conformance/crash/crash_test.o \
        $(filter-out %/crash_check.o %/crash_case.o %/trace_dump.o %/golden_traces.o,$(CRASH_OBJ)) \
        $(BUILDDIR)/libqed.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

test-crash-unit: $(BUILDDIR)/crash-unit-test
	$(Q)$(BUILDDIR)/crash-unit-test

test-trace-dump: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/crash/trace-dump-test.sh $(BUILDDIR)

conform-crash: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)ci/count-skips.sh conform-crash $(BUILDDIR)/qed-conform crash --impl ref $(CONFORM_FLAGS) \
	    --junit $(BUILDDIR)/conform-crash-ref.xml --json $(BUILDDIR)/conform-crash-ref.json

bench-crash: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)bench/crash.sh $(BUILDDIR) 2

TEST_TARGETS += test-crash-unit test-trace-dump conform-crash
.PHONY: test-crash-unit test-trace-dump conform-crash bench-crash

include conformance/crash/shim/build.mk

#   make traces          regenerate corpus/traces/ (the reference's golden traces)
#   make traces-check    fail if regeneration changes a byte, or a trace's
#                        verdict is not the one its manifest records
traces: $(BUILDDIR)/qed-conform
	$(Q)find corpus/traces -mindepth 1 -maxdepth 1 ! -name qemu -exec rm -rf {} + 2>/dev/null; \
	    $(BUILDDIR)/qed-conform crash-golden --out corpus/traces

traces-check: $(BUILDDIR)/qed-conform
	$(Q)conformance/crash/traces-check.sh $(BUILDDIR)

TEST_TARGETS += traces-check
.PHONY: traces traces-check

#   make conform-crash-qemu  the crash family against QEMU (blklogwrites);
#                        its failures must be exactly the patterns of
#                        KNOWN-DEVIATIONS.md's crash section; SKIPPED
#                        without QEMU
conform-crash-qemu: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/crash/conform-crash-qemu.sh $(BUILDDIR) $(CONFORM_FLAGS)

TEST_TARGETS += conform-crash-qemu
.PHONY: conform-crash-qemu
