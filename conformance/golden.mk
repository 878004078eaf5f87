# conformance/golden.mk - the golden-image generator (`qedtool golden`, also
# built alone as $(BUILDDIR)/qed-golden) and the corpus under corpus/golden/.
#
#   make golden         regenerate corpus/golden/ in place
#   make golden-check   regenerate into a temporary directory and fail if any
#                       file differs from corpus/golden/, is missing or extra;
#                       also check that every rule of spec/rules.tsv is cited

GOLDEN_SRC := conformance/golden.c conformance/golden_gen.c \
              conformance/golden_img.c conformance/golden_json.c \
              conformance/golden_lib.c conformance/golden_read.c \
              conformance/golden_reject.c conformance/golden_check.c \
              conformance/golden_write.c conformance/golden_stub.c conformance/sha256.c
GOLDEN_OBJ := $(GOLDEN_SRC:%.c=$(BUILDDIR)/obj/%.o)
QEDTOOL_EXTRA_OBJ += $(GOLDEN_OBJ)
# ref/build.mk's qedtool rule was parsed before this file, so its
# $(QEDTOOL_EXTRA_OBJ) is already expanded there: add the objects here.
$(BUILDDIR)/qedtool: $(GOLDEN_OBJ)

# The generator alone, without libqed (it uses only the constants of qed.h).
$(BUILDDIR)/qed-golden: $(BUILDDIR)/obj/conformance/golden_main.o $(GOLDEN_OBJ)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^
ALL_TARGETS += $(BUILDDIR)/qed-golden

golden: $(BUILDDIR)/qed-golden
	$(Q)$(BUILDDIR)/qed-golden --out corpus/golden

$(BUILDDIR)/sha256-test: $(BUILDDIR)/obj/conformance/golden_sha256_test.o \
                         $(BUILDDIR)/obj/conformance/sha256.o
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

test-sha256: $(BUILDDIR)/sha256-test
	$(Q)$(BUILDDIR)/sha256-test

TEST_TARGETS += test-sha256

.PHONY: golden test-sha256
