# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The engine compiled for avx2; identical source (see _core.pyx), chosen at import by cyw2v._dispatch."""
include "_core.pyx"
