# conformance/build.mk - the conformance suite (conformance/README.md maps
# its folders).  Each folder's rules are in its own build.mk; lib/ comes
# first because the others link its objects.

include conformance/lib/build.mk
include conformance/runner/build.mk
include conformance/golden/build.mk
include conformance/mutants/build.mk
include conformance/crash/build.mk
