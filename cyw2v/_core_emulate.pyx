# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The AVX2 engine with reduced-precision weights emulated (compiled with
CYW2V_ROUNDED_WEIGHTS=1; see _core.pyx): a measuring instrument, chosen only by
``CYW2V_KERNEL=emulate``, with the precision from ``CYW2V_EMULATE_WEIGHTS``."""
include "_core.pyx"
