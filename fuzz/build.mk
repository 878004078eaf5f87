# fuzz/build.mk - the libqed fuzz harnesses (fuzz/README.md explains them).
#
#   make fuzz-build     libFuzzer + ASan + UBSan builds in $(BUILDDIR)/fuzz/
#   make fuzz-afl       AFL++ builds (afl-clang-fast) in $(BUILDDIR)/afl/
#   make fuzz-replay    replay corpus/fuzz/ and corpus/regressions/ through
#                       plain $(CC) builds ($(BUILDDIR)/replay/); part of
#                       make test
#   make fuzz           run each libFuzzer harness FUZZ_SECONDS (default 20)
#   make fuzz-bench     each harness's exec/s, cov and ft after
#                       FUZZ_BENCH_SECONDS (default 10), one at a time, as a
#                       table (fuzz/bench.sh); FUZZ_BENCH_MIN=N fails a
#                       harness below N exec per CPU second; not part of
#                       make test
#   make fuzz-merge     minimise corpus/fuzz/<harness>/ with -merge=1
#   make fuzz-seeds     regenerate the seeds (fuzz/make_seeds.c) and add the
#                       golden corpus (fuzz/golden_seeds.sh)
#   make fuzz-coverage  lcov of ref/ reached by the seed corpora
#
# Knobs: FUZZ_CC (clang), AFL_CC (afl-clang-fast), FUZZ_SECONDS,
# FUZZ_BENCH_SECONDS.

# every fuzz/fuzz_*.c but the shared fuzz_util.c
FUZZ_NAMES := $(filter-out fuzz_util,$(basename $(notdir $(wildcard fuzz/fuzz_*.c))))
FUZZ_CC ?= clang
AFL_CC ?= afl-clang-fast
FUZZ_SECONDS ?= 20
FUZZ_BENCH_SECONDS ?= 10
FUZZ_BENCH_MIN ?= 0

# One source, three builds: the harness file plus libqed's sources compiled
# straight in with the engine's flags.  fuzz_util.c carries the harnesses'
# oracles' hot loops; it is built without coverage instrumentation so that
# the engines' feedback is about libqed, not about the checks.
FUZZ_LIBQED_SRC := ref/qed.c ref/io.c ref/trace.c
FUZZ_DEPS := $(FUZZ_LIBQED_SRC) ref/qed.h ref/qed_trace.h fuzz/fuzz_util.h fuzz/build.mk \
             $(BUILDDIR)/FLAGS
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
FUZZ_ENGINE_CFLAGS := $(CPPFLAGS) $(QED_CFLAGS) -g -O1 $(FUZZ_SAN) \
                      -ffunction-sections -fdata-sections
# Each harness links only the functions it can reach (--gc-sections), and
# with them only their coverage counters (-z start-stop-gc: the counters'
# section no longer keeps every function alive).  libFuzzer scans every
# counter after every input: fuzz_header now links 569 counters, not
# 2404, and the scan's share of its time fell from 13% to 5%.
FUZZ_GC_LDFLAGS := -Wl,--gc-sections -Wl,-z,start-stop-gc
# fuzz_check_repair is built without comparison tracing (trace-cmp, the
# operands libFuzzer's mutations borrow): its walks put every table entry
# through a dozen comparisons, UBSan's null and alignment checks among
# them, and their hooks took 47% of its time (64% on its slowest
# inputs).  Over equal CPU time it runs twice the inputs and reaches the
# same lines and branches of ref/qed.c, with more features (fuzz/README.md,
# "Measured").  The other harnesses keep the tracing.
FUZZ_COVERAGE :=
$(BUILDDIR)/fuzz/fuzz_check_repair: \
    FUZZ_COVERAGE := -fno-sanitize-coverage=trace-cmp

$(BUILDDIR)/fuzz/fuzz_util.o: fuzz/fuzz_util.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(FUZZ_CC) $(FUZZ_ENGINE_CFLAGS) -c -o $@ $<

$(BUILDDIR)/fuzz/fuzz_%: fuzz/fuzz_%.c $(BUILDDIR)/fuzz/fuzz_util.o $(FUZZ_DEPS)
	$(QUIET_LINK)$(FUZZ_CC) $(FUZZ_ENGINE_CFLAGS) -fsanitize=fuzzer \
	    $(FUZZ_COVERAGE) $(FUZZ_GC_LDFLAGS) -o $@ \
	    $< $(FUZZ_LIBQED_SRC) $(BUILDDIR)/fuzz/fuzz_util.o

# AFL++ 4.x: afl-clang-fast turns -fsanitize=fuzzer into its libFuzzer
# driver (libAFLDriver.a); AFL_USE_ASAN etc. stay the user's choice.
$(BUILDDIR)/afl/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)AFL_QUIET=1 $(AFL_CC) $(CPPFLAGS) $(QED_CFLAGS) -g -O2 -fsanitize=fuzzer \
	    -o $@ $< fuzz/fuzz_util.c $(FUZZ_LIBQED_SRC)

# The replay build: normal objects, normal compiler, fuzz/replay_main.c.
$(BUILDDIR)/replay/fuzz_%: $(BUILDDIR)/obj/fuzz/fuzz_%.o \
                           $(BUILDDIR)/obj/fuzz/fuzz_util.o \
                           $(BUILDDIR)/obj/fuzz/replay_main.o $(BUILDDIR)/libqed.a
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILDDIR)/fuzz/%)
AFL_BINS := $(FUZZ_NAMES:%=$(BUILDDIR)/afl/%)
REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILDDIR)/replay/%)
# The harness objects come from a pattern rule, which would make them
# intermediate files that make deletes after every build; keep them.
.SECONDARY: $(FUZZ_NAMES:%=$(BUILDDIR)/obj/fuzz/%.o) $(BUILDDIR)/obj/fuzz/fuzz_util.o \
            $(BUILDDIR)/obj/fuzz/replay_main.o
ALL_TARGETS += $(REPLAY_BINS)

fuzz-build: $(FUZZ_BINS)
fuzz-afl: $(AFL_BINS)

fuzz-replay: $(REPLAY_BINS)
	$(Q)fuzz/replay.sh $(BUILDDIR)/replay

TEST_TARGETS += fuzz-replay

fuzz: $(FUZZ_BINS)
	$(Q)fuzz/run.sh $(BUILDDIR) $(FUZZ_SECONDS)

fuzz-bench: $(FUZZ_BINS)
	$(Q)fuzz/bench.sh --min $(FUZZ_BENCH_MIN) $(BUILDDIR) $(FUZZ_BENCH_SECONDS)

fuzz-merge: $(FUZZ_BINS)
	$(Q)fuzz/merge.sh $(BUILDDIR)

# The seed generator uses libqed itself (create, write, write-zeroes).
$(BUILDDIR)/fuzz-make-seeds: $(BUILDDIR)/obj/fuzz/make_seeds.o \
                             $(BUILDDIR)/obj/fuzz/fuzz_util.o $(BUILDDIR)/libqed.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

fuzz-seeds: $(BUILDDIR)/fuzz-make-seeds
	$(Q)$(BUILDDIR)/fuzz-make-seeds corpus/fuzz
	$(Q)fuzz/golden_seeds.sh corpus/golden corpus/fuzz

fuzz-coverage:
	$(Q)CC=$(CC) fuzz/coverage.sh $(BUILDDIR)/fuzz-coverage

.PHONY: fuzz fuzz-build fuzz-afl fuzz-replay fuzz-merge fuzz-seeds fuzz-bench \
        fuzz-coverage
