# conformance/golden.mk - the golden-image generator (`qedtool golden`) and
# the golden corpus under corpus/golden/.
#
#   make golden         regenerate corpus/golden/ in place
#   make golden-check   regenerate into a temporary directory and fail if any
#                       file differs from corpus/golden/, is missing or extra

GOLDEN_OBJ := $(BUILDDIR)/obj/conformance/golden.o \
              $(BUILDDIR)/obj/conformance/sha256.o
QEDTOOL_EXTRA_OBJ += $(GOLDEN_OBJ)
# ref/build.mk's qedtool rule was parsed before this file, so its
# $(QEDTOOL_EXTRA_OBJ) is already expanded there: add the objects here.
$(BUILDDIR)/qedtool: $(GOLDEN_OBJ)

$(BUILDDIR)/sha256-test: $(BUILDDIR)/obj/conformance/golden_sha256_test.o \
                         $(BUILDDIR)/obj/conformance/sha256.o
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

test-sha256: $(BUILDDIR)/sha256-test
	$(Q)$(BUILDDIR)/sha256-test

TEST_TARGETS += test-sha256

.PHONY: test-sha256
