# conformance/crash/ - the crash subsystem (README.md beside this file).

# --- trace dump (qed-conform trace dump; conformance/crash/trace_dump.c,
# layout.c, compiled into qed-conform through CONFORM_SRC in
# conformance/build.mk; its test is conformance/trace-dump-test.sh) --------
#   make test-trace-dump   trace dump on sessions recorded by qedtool io --trace

test-trace-dump: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)conformance/trace-dump-test.sh $(BUILDDIR)

TEST_TARGETS += test-trace-dump
.PHONY: test-trace-dump
# --- end of trace dump -------------------------------------------------------

include conformance/crash/shim/build.mk
