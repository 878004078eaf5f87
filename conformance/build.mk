# conformance/build.mk - the conformance suite (conformance/README.md maps
# its folders).  Each folder's rules are in its own build.mk; lib/ and
# golden/ and crash/ come first because the runner links their objects.

include conformance/lib/build.mk
include conformance/golden/build.mk
include conformance/crash/build.mk
include conformance/runner/build.mk
include conformance/adapters/kit/build.mk
include conformance/mutants/build.mk
