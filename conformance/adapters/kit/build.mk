# conformance/adapters/kit/build.mk - the adapter kit for QED libraries
# (README.md beside this file) and build/qed-kit-ref, libqed through it.
#
#   make conform-kit       the whole comparison: adapter-check, then the
#                          fixed corpus + 50 random cases and the crash
#                          family (recorded through the LD_PRELOAD shim), each
#                          case's result through the kit equal to the
#                          reference's (conform-kit.sh)
#   make test-conform-kit  the same but for the crash family (in make test;
#                          the crash family through the kit takes minutes)

KIT_SRC := conformance/adapters/kit/kit.c conformance/adapters/kit/kit_io.c \
           conformance/adapters/kit/kit_json.c
KIT_OBJ := $(KIT_SRC:%.c=$(BUILDDIR)/obj/%.o)
KIT_REF_OBJ := $(BUILDDIR)/obj/conformance/adapters/kit/kit_ref.o

# The kit includes nothing of libqed (a third party links it with their
# own library): it is compiled without -Iref, so an #include "qed.h" in it
# cannot build.  (private: FLAGS, a prerequisite, must not inherit it.)
$(KIT_OBJ): private ALL_CFLAGS = $(filter-out -Iref,$(QED_CFLAGS)) $(SAN_FLAGS) $(CFLAGS)

ALL_TARGETS += $(BUILDDIR)/qed-kit-ref

$(BUILDDIR)/qed-kit-ref: $(KIT_REF_OBJ) $(KIT_OBJ) $(BUILDDIR)/libqed.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

KIT_DEPS := $(BUILDDIR)/qed-kit-ref $(BUILDDIR)/qedtool $(BUILDDIR)/qed-conform

# The reference's results come from `make conform` (and `make
# conform-crash`), which make test runs anyway: only the kit's runs are new.
# KIT_RANDOM must be what the conform target runs.
KIT_RANDOM := --random 1:50
test-conform-kit: $(KIT_DEPS) conform
	$(Q)conformance/adapters/kit/conform-kit.sh $(BUILDDIR) $(KIT_RANDOM) $(CONFORM_MANIFEST_OPT)

conform-kit: $(KIT_DEPS) conform conform-crash
	$(Q)conformance/adapters/kit/conform-kit.sh --crash $(BUILDDIR) $(KIT_RANDOM) \
	    $(CONFORM_MANIFEST_OPT)

TEST_TARGETS += test-conform-kit
.PHONY: test-conform-kit conform-kit
