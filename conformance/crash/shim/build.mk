# conformance/crash/shim/ - libqedtrace.so, the LD_PRELOAD recorder, and its
# tests (README.md beside this file).  Included from conformance/crash/build.mk.
#
#   make test-shim        shim-test under the shim (every intercepted call,
#                         checked entry by entry, at sector sizes 512 and
#                         4096), the refusals, the environment checks, and
#                         qedtool's own recorder against the shim
#   make test-shim-qemu   QEMU's blklogwrites against the shim on the same
#                         qemu-io workloads; SKIPPED without qemu-io

SHIM_DIR := conformance/crash/shim
SHIM_OBJ := $(BUILDDIR)/shim-obj/$(SHIM_DIR)/qedtrace.o $(BUILDDIR)/shim-obj/ref/trace.o

ALL_TARGETS += $(BUILDDIR)/libqedtrace.so $(BUILDDIR)/shim-test

# The shim is never sanitized (SAN_FLAGS left out): a preloaded library
# cannot bring its own ASan runtime into a program built without one.
$(BUILDDIR)/shim-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(QED_CFLAGS) $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<
-include $(shell find $(BUILDDIR)/shim-obj -name '*.d' 2>/dev/null)

$(BUILDDIR)/libqedtrace.so: $(SHIM_OBJ) $(SHIM_DIR)/qedtrace.map
	$(QUIET_LINK)$(CC) -shared -Wl,--version-script=$(SHIM_DIR)/qedtrace.map \
	    -Wl,-z,defs $(LDFLAGS) -o $@ $(SHIM_OBJ) -ldl -lpthread

$(BUILDDIR)/shim-test: $(BUILDDIR)/obj/$(SHIM_DIR)/shim_test.o $(BUILDDIR)/libqed.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

test-shim: $(BUILDDIR)/libqedtrace.so $(BUILDDIR)/shim-test $(BUILDDIR)/qedtool
	$(Q)$(SHIM_DIR)/test-shim.sh $(BUILDDIR)

test-shim-qemu: $(BUILDDIR)/libqedtrace.so $(BUILDDIR)/shim-test $(BUILDDIR)/qedtool
	$(Q)$(SHIM_DIR)/test-shim-qemu.sh $(BUILDDIR)

TEST_TARGETS += test-shim test-shim-qemu
.PHONY: test-shim test-shim-qemu
