# conformance/ - qed-conform and its data.  The golden generator's rules
# live in conformance/golden.mk.
-include conformance/golden.mk
-include conformance/crash/build.mk

#   make conform        build qedtool + qed-conform, run the suite against the
#                       reference (fixed corpus + 50 seeded random cases);
#                       needs only a C compiler and make
#   make conform-qemu   run it against QEMU (conformance/adapters/qemu) and
#                       require the failing case ids to be exactly the list
#                       in conformance/KNOWN-DEVIATIONS.md
#   make conform-html   build/conform.html: the two runs above side by side
#   make conform-selftest  inject faults through conformance/adapters/faulty:
#                       the runner must report each one

CONFORM_SRC := conformance/qed-conform.c conformance/conform_case.c \
               conformance/conform_json.c conformance/conform_map.c \
               conformance/conform_proc.c conformance/conform_fs.c \
               conformance/conform_run.c \
               conformance/conform_report.c \
               conformance/crash/trace_dump.c conformance/crash/layout.c
CONFORM_OBJ := $(CONFORM_SRC:%.c=$(BUILDDIR)/obj/%.o) \
               $(BUILDDIR)/obj/conformance/sha256.o

ALL_TARGETS += $(BUILDDIR)/qed-conform

$(BUILDDIR)/qed-conform: $(CONFORM_OBJ) $(BUILDDIR)/libqed.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

# Unit tests of the runner's JSON reader, maps and path checks.
$(BUILDDIR)/conform-unit-test: $(BUILDDIR)/obj/conformance/conform_unit_test.o \
        $(BUILDDIR)/obj/conformance/conform_json.o $(BUILDDIR)/obj/conformance/conform_map.o \
        $(BUILDDIR)/obj/conformance/conform_fs.o $(BUILDDIR)/obj/conformance/sha256.o
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

test-conform-unit: $(BUILDDIR)/conform-unit-test
	$(Q)$(BUILDDIR)/conform-unit-test

TEST_TARGETS += test-conform-unit

# CONFORM_FLAGS: extra runner options; CONFORM_MANIFEST: another manifest.
CONFORM_FLAGS ?= -j 2
CONFORM_MANIFEST ?=
CONFORM_MANIFEST_OPT = $(if $(CONFORM_MANIFEST),--manifest $(CONFORM_MANIFEST))

conform: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)$(BUILDDIR)/qed-conform --impl ref --random 1:50 $(CONFORM_FLAGS) $(CONFORM_MANIFEST_OPT) \
	    --junit $(BUILDDIR)/conform-ref.xml --json $(BUILDDIR)/conform-ref.json

TEST_TARGETS += conform

# The failing ids of the QEMU run must equal the "- family/name — RULE — why"
# lines of KNOWN-DEVIATIONS.md: a new failure or a fixed deviation both fail.
conform-qemu: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)$(BUILDDIR)/qed-conform --impl qemu $(CONFORM_FLAGS) $(CONFORM_MANIFEST_OPT) \
	    --junit $(BUILDDIR)/conform-qemu.xml --json $(BUILDDIR)/conform-qemu.json \
	    > $(BUILDDIR)/conform-qemu.log; rc=$$?; tail -n 1 $(BUILDDIR)/conform-qemu.log; \
	  [ $$rc -le 1 ] || { cat $(BUILDDIR)/conform-qemu.log; exit 1; }
	$(Q)sed -n 's/^FAIL \([^ ]*\) .*/\1/p' $(BUILDDIR)/conform-qemu.log | LC_ALL=C sort \
	    > $(BUILDDIR)/conform-qemu.failing
	$(Q)sed -n 's|^- \([a-z][a-z0-9-]*/[^ ]*\) — .*|\1|p' conformance/KNOWN-DEVIATIONS.md | LC_ALL=C sort \
	    > $(BUILDDIR)/conform-qemu.known
	$(Q)if cmp -s $(BUILDDIR)/conform-qemu.known $(BUILDDIR)/conform-qemu.failing; then \
	    echo 'conform-qemu: QEMU fails exactly the known deviations'; \
	else \
	    echo 'conform-qemu: failing cases differ from conformance/KNOWN-DEVIATIONS.md'; \
	    echo '  (< known deviation that now passes, > new failure)'; \
	    diff $(BUILDDIR)/conform-qemu.known $(BUILDDIR)/conform-qemu.failing | grep '^[<>]'; \
	    exit 1; \
	fi

# The HTML matrix of the last `make conform` and `make conform-qemu` runs,
# side by side (failures first, a filter for disagreements).
conform-html: $(BUILDDIR)/qed-conform
	$(Q)$(BUILDDIR)/qed-conform --html-merge $(BUILDDIR)/conform.html \
	    $(wildcard $(BUILDDIR)/conform-ref.json $(BUILDDIR)/conform-qemu.json)
	@echo 'conform-html: wrote $(BUILDDIR)/conform.html'

# The runner's self-test: conformance/adapters/faulty injects one fault at a
# time into the reference; each must be reported as a failure with the
# expected message.  "FAULT|GLOB|PHRASE": the hang runs only the first case
# matching GLOB, the others every sixth matching case (--shard 1/6).
CONFORM_FAULTS := \
    'hang|read/*|timeout (hang)' \
    'crash|read/*|crash (signal 11: SIGSEGV)' \
    'content|read/*|content_sha256' \
    'size|read/*|virtual-size' \
    'map|read/*|map' \
    'json|read/*|no valid JSON' \
    'accept|reject/*|accepted the invalid image' \
    'counts|check/*|corruptions' \
    'lostwrite|write/*|content_sha256'

conform-selftest: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)qc="$(BUILDDIR)/qed-conform $(CONFORM_MANIFEST_OPT)"; pass=0; fail=0; \
	for spec in $(CONFORM_FAULTS); do \
	    fault=$${spec%%|*}; rest=$${spec#*|}; glob=$${rest%%|*}; phrase=$${rest#*|}; \
	    sel="--shard 1/6 --timeout 20"; \
	    if [ "$$fault" = hang ]; then \
	        glob=$$($$qc --list --filter "$$glob" | head -n 1); sel="--timeout 2"; \
	    fi; \
	    out=$$(QED_CONFORM_FAULT=$$fault $$qc --impl cmd:conformance/adapters/faulty \
	           --filter "$$glob" $$sel -j 2 2>&1); rc=$$?; \
	    if [ $$rc -eq 1 ] && printf '%s\n' "$$out" | grep -q "^FAIL .*$$phrase"; then \
	        pass=$$((pass + 1)); \
	    else \
	        fail=$$((fail + 1)); \
	        echo "conform-selftest: fault '$$fault' on $$glob not reported as '$$phrase' (exit $$rc)"; \
	    fi; \
	done; \
	echo "conform-selftest: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

TEST_TARGETS += conform-selftest

ifneq ($(shell command -v qemu-img 2>/dev/null),)
TEST_TARGETS += conform-qemu
else
TEST_TARGETS += conform-qemu-skipped
endif

conform-qemu-skipped:
	@echo 'conform-qemu: skipped (qemu-img not installed)'

.PHONY: conform conform-qemu conform-qemu-skipped conform-selftest test-conform-unit \
        conform-html
