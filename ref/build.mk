# ref/ - libqed and qedtool.

LIBQED_SRC := ref/qed.c ref/io.c ref/trace.c
QEDTOOL_SRC := $(wildcard ref/qedtool*.c)
LIBQED_OBJ := $(LIBQED_SRC:%.c=$(BUILDDIR)/obj/%.o)
LIBQED_PIC := $(LIBQED_SRC:%.c=$(BUILDDIR)/pic/%.o)
QEDTOOL_OBJ := $(QEDTOOL_SRC:%.c=$(BUILDDIR)/obj/%.o)

ALL_TARGETS += $(BUILDDIR)/libqed.a $(BUILDDIR)/libqed.so $(BUILDDIR)/qedtool

$(BUILDDIR)/libqed.a: $(LIBQED_OBJ)
	$(QUIET_AR)$(AR) rcs $@ $^

$(BUILDDIR)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(BUILDDIR)/libqed.so: $(LIBQED_PIC)
	$(QUIET_LINK)$(CC) -shared -Wl,-soname,libqed.so.0 $(ALL_LDFLAGS) -o $@ $^

$(BUILDDIR)/qedtool: $(QEDTOOL_OBJ) $(QEDTOOL_EXTRA_OBJ) $(BUILDDIR)/libqed.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

# Unit tests (CUnit).
UNIT_SRC := $(wildcard ref/tests/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILDDIR)/obj/%.o)
$(BUILDDIR)/unit-tests: $(UNIT_OBJ) $(BUILDDIR)/libqed.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcunit

test-unit: $(BUILDDIR)/unit-tests $(BUILDDIR)/qedtool
	$(Q)cd $(BUILDDIR) && ./unit-tests

TEST_TARGETS += test-unit

# qedtool end to end, and side by side with qemu-img/qemu-io when present.
test-cli: $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform
	$(Q)ref/tests/cli-test.sh $(BUILDDIR)/qedtool

TEST_TARGETS += test-cli

# install / uninstall (libqed.pc is written at install time, so it names the
# PREFIX given to make install)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILDDIR)/qedtool $(DESTDIR)$(PREFIX)/bin/qedtool
	install -m 644 $(BUILDDIR)/libqed.a $(DESTDIR)$(PREFIX)/lib/libqed.a
	install -m 755 $(BUILDDIR)/libqed.so $(DESTDIR)$(PREFIX)/lib/libqed.so.0
	ln -sf libqed.so.0 $(DESTDIR)$(PREFIX)/lib/libqed.so
	install -m 644 ref/qed.h $(DESTDIR)$(PREFIX)/include/qed.h
	install -m 644 ref/qed_trace.h $(DESTDIR)$(PREFIX)/include/qed_trace.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' ref/libqed.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libqed.pc

uninstall:
	$(RM) $(DESTDIR)$(PREFIX)/bin/qedtool $(DESTDIR)$(PREFIX)/lib/libqed.a \
	    $(DESTDIR)$(PREFIX)/lib/libqed.so.0 $(DESTDIR)$(PREFIX)/lib/libqed.so \
	    $(DESTDIR)$(PREFIX)/include/qed.h $(DESTDIR)$(PREFIX)/include/qed_trace.h \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/libqed.pc

.PHONY: test-unit test-cli

# Extra test targets for ref/ (interop, fault injection ...), owned by ref/tests/.
-include ref/tests/tests.mk
