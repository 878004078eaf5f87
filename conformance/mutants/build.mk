# conformance/mutants/build.mk - the mutants of the reference (README.md
# beside this file).
#
#   make mutants        build every mutant (one patch of ref/ each) and run
#                       the suite against it; fails unless all are killed

mutants: all
	$(Q)conformance/mutants/run.sh $(BUILDDIR)

.PHONY: mutants
