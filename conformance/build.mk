# conformance/ - qed-conform and its data.  The golden generator's rules
# live in conformance/golden.mk.
-include conformance/golden.mk

#   make conform        build qedtool + qed-conform, run the suite against the
#                       reference (fixed corpus + 50 seeded random cases);
#                       needs only a C compiler and make
#   make conform-qemu   run it against QEMU (conformance/adapters/qemu) and
#                       require the failing case ids to be exactly the list
#                       in conformance/KNOWN-DEVIATIONS.md

CONFORM_SRC := conformance/qed-conform.c conformance/conform_case.c \
               conformance/conform_json.c conformance/conform_map.c \
               conformance/conform_proc.c conformance/conform_fs.c \
               conformance/conform_report.c
CONFORM_OBJ := $(CONFORM_SRC:%.c=$(BUILDDIR)/obj/%.o) \
               $(BUILDDIR)/obj/conformance/sha256.o

ALL_TARGETS += $(BUILDDIR)/qed-conform

$(BUILDDIR)/qed-conform: $(CONFORM_OBJ)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

CONFORM_FLAGS ?= -j 2

conform: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)$(BUILDDIR)/qed-conform --impl ref --random 1:50 $(CONFORM_FLAGS) \
	    --junit $(BUILDDIR)/conform-ref.xml --json $(BUILDDIR)/conform-ref.json

# The failing ids of the QEMU run must equal the "- id — RULE — why" lines
# of KNOWN-DEVIATIONS.md: a new failure or a fixed deviation both fail.
conform-qemu: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)$(BUILDDIR)/qed-conform --impl qemu $(CONFORM_FLAGS) \
	    --junit $(BUILDDIR)/conform-qemu.xml --json $(BUILDDIR)/conform-qemu.json \
	    > $(BUILDDIR)/conform-qemu.log; rc=$$?; tail -n 1 $(BUILDDIR)/conform-qemu.log; \
	  [ $$rc -le 1 ] || { cat $(BUILDDIR)/conform-qemu.log; exit 1; }
	$(Q)sed -n 's/^FAIL \([^ ]*\) .*/\1/p' $(BUILDDIR)/conform-qemu.log | LC_ALL=C sort \
	    > $(BUILDDIR)/conform-qemu.failing
	$(Q)sed -n 's/^- \([^ ]*\) .*/\1/p' conformance/KNOWN-DEVIATIONS.md | LC_ALL=C sort \
	    > $(BUILDDIR)/conform-qemu.known
	$(Q)if cmp -s $(BUILDDIR)/conform-qemu.known $(BUILDDIR)/conform-qemu.failing; then \
	    echo 'conform-qemu: QEMU fails exactly the known deviations'; \
	else \
	    echo 'conform-qemu: failing cases differ from conformance/KNOWN-DEVIATIONS.md'; \
	    echo '  (< known deviation that now passes, > new failure)'; \
	    diff $(BUILDDIR)/conform-qemu.known $(BUILDDIR)/conform-qemu.failing | grep '^[<>]'; \
	    exit 1; \
	fi

ifneq ($(shell command -v qemu-img 2>/dev/null),)
TEST_TARGETS += conform-qemu
else
TEST_TARGETS += conform-qemu-skipped
endif

conform-qemu-skipped:
	@echo 'conform-qemu: skipped (qemu-img not installed)'

CLEAN_FILES +=

.PHONY: conform conform-qemu conform-qemu-skipped
