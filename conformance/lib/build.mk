# conformance/lib/build.mk - the suite's small shared library (README.md
# beside this file), linked into the runner and the generator.
#
#   make test-sha256    lib/sha256.c against the FIPS 180-4 example vectors

CONFORM_LIB_SRC := conformance/lib/sha256.c conformance/lib/files.c \
                   conformance/lib/json_string.c
CONFORM_LIB_OBJ := $(CONFORM_LIB_SRC:%.c=$(BUILDDIR)/obj/%.o)

$(BUILDDIR)/sha256-test: $(BUILDDIR)/obj/conformance/lib/sha256_test.o \
                         $(BUILDDIR)/obj/conformance/lib/sha256.o
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

test-sha256: $(BUILDDIR)/sha256-test
	$(Q)$(BUILDDIR)/sha256-test

TEST_TARGETS += test-sha256

.PHONY: test-sha256
