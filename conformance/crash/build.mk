# conformance/crash/ - the crash subsystem (README.md beside this file).
include conformance/crash/shim/build.mk
