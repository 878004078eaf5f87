# conformance/crash/ - the crash subsystem (README.md beside this file).
#
# Its objects link into qed-conform (crash-check, crash); they include
# ref/ (libqed and its trace module) and the runner's headers, and nothing
# in ref/ includes them.

CRASH_SRC := conformance/crash/explore.c conformance/crash/oracle.c \
             conformance/crash/workload.c conformance/crash/judge.c \
             conformance/crash/crash_check.c conformance/crash/crash_case.c
CRASH_OBJ := $(CRASH_SRC:%.c=$(BUILDDIR)/obj/%.o)


# Unit tests of the explorer, the oracles and the state ids.
$(BUILDDIR)/crash-unit-test: $(BUILDDIR)/obj/conformance/crash/crash_test.o \
        $(filter-out %/crash_check.o %/crash_case.o,$(CRASH_OBJ)) $(BUILDDIR)/libqed.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

test-crash-unit: $(BUILDDIR)/crash-unit-test
	$(Q)$(BUILDDIR)/crash-unit-test

TEST_TARGETS += test-crash-unit
.PHONY: test-crash-unit
