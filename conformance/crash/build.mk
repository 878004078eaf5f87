# conformance/crash/ - the crash subsystem (README.md beside this file).
