# qedref - top-level Makefile.
#
#   make                 build libqed, qedtool, qed-conform into $(BUILDDIR)
#   make conform         run the conformance suite against the reference
#   make test            install missing test dependencies, run every test
#   make bench           qedtool vs QEMU, side by side, as ratios
#   make coverage        gcov + lcov over ref/, HTML in build/coverage/
#   make install         PREFIX=/usr/local DESTDIR=
#
# Knobs: V=1 (show commands), CC, CPPFLAGS, CFLAGS, LDFLAGS, BUILDDIR=dir,
#        SANITIZE=address,undefined (build a sanitizer tree, e.g. with
#        BUILDDIR=build/asan), PARTS (the folders whose build.mk is read).

.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

CPPFLAGS ?=
CFLAGS   ?= -O2 -g
LDFLAGS  ?=
PREFIX   ?= /usr/local
BUILDDIR ?= build
SANITIZE ?=

WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wvla -Wundef -Wpointer-arith \
            -Wcast-qual -Wwrite-strings
QED_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 \
              $(WARNINGS) -Iref
ifneq ($(SANITIZE),)
  SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
endif
ALL_CPPFLAGS = $(CPPFLAGS)
ALL_CFLAGS   = $(QED_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS  = $(SAN_FLAGS) $(LDFLAGS)

ifeq ($(V),1)
  Q :=
  QUIET_CC = 
  QUIET_AR =
  QUIET_LINK =
  QUIET_GEN =
else
  Q := @
  QUIET_CC   = @echo '   CC      $@';
  QUIET_AR   = @echo '   AR      $@';
  QUIET_LINK = @echo '   LINK    $@';
  QUIET_GEN  = @echo '   GEN     $@';
endif

# Each fragment appends to these.
ALL_TARGETS :=
TEST_TARGETS :=
CLEAN_FILES :=

# A test target that cannot run, or runs only in part, because a tool is
# missing prints SKIPPED and leaves the reason in $(SKIP_DIR)/TARGET (the
# directory is $QEDREF_SKIP_DIR in its recipe; ci/count-skips.sh does it
# for scripts that end with "N passed, N failed, N skipped").  make test's
# summary counts those targets as SKIPPED, never as passed.
SKIP_DIR = $(BUILDDIR)/skipped
export QEDREF_SKIP_DIR = $(abspath $(SKIP_DIR))

# The parts of the tree, each with its build.mk (a missing one is an error,
# never a silent loss of its targets).  `make PARTS=ref` builds a tree that
# holds only ref/; `make ref-alone` (ci/build.mk) proves that it does.
PARTS ?= ref conformance fuzz ci spec
include $(PARTS:%=%/build.mk)

all: $(ALL_TARGETS)

# $(BUILDDIR)/FLAGS holds the compiler and every flag that shapes a build
# (as Git's GIT-CFLAGS does); it is rewritten only when they change, and
# every object depends on it, so a new CC, CPPFLAGS, CFLAGS, SANITIZE or
# LDFLAGS rebuilds the tree (LDFLAGS too, so that every binary is relinked).
BUILD_FLAGS = $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS)
$(BUILDDIR)/FLAGS: FORCE
	@mkdir -p $(dir $@)
	@flags='$(subst ','\'',$(BUILD_FLAGS))'; \
	if [ x"$$flags" != x"$$(cat $@ 2>/dev/null)" ]; then \
	    [ ! -f $@ ] || echo '   * new build flags'; \
	    printf '%s\n' "$$flags" > $@; \
	fi

# The compile rule for every C file (ref/build.mk has the PIC one), with
# header dependencies: each object's .d file, written by -MMD, is read back
# for the objects under obj/ and pic/ alike.
$(BUILDDIR)/obj/%.o: %.c $(BUILDDIR)/FLAGS
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
-include $(shell find $(BUILDDIR)/obj $(BUILDDIR)/pic -name '*.d' 2>/dev/null)

FORCE:

# make test: dependencies first (ci/install-deps installs them as root with
# apt-get, or prints the command to run), then every test target, then one
# summary line (ci/test-summary.sh) that names the skipped ones.
test:
	$(Q)ci/install-deps
	$(Q)$(MAKE) --no-print-directory test-all

# (Under make -n the recursive make only lists commands: no summary then.)
DRY_RUN = $(findstring n,$(firstword -$(MAKEFLAGS)))
test-all:
	$(Q)rm -rf $(SKIP_DIR)
	$(Q)$(MAKE) --no-print-directory test-targets; \
	    $(if $(DRY_RUN),:,ci/test-summary.sh $(SKIP_DIR) $$? $(TEST_TARGETS))

test-targets: $(TEST_TARGETS)

clean:
	$(RM) -r $(BUILDDIR) $(CLEAN_FILES)

.PHONY: all test test-all test-targets clean install uninstall FORCE
