# conformance/ - qed-conform and its data.  The golden generator's rules
# live in conformance/golden.mk.
-include conformance/golden.mk
