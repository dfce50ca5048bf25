"""Build the Cython engine.

The default build is portable: on x86-64 the engine is compiled three times (baseline
x86-64, AVX2+FMA, AVX-512) and ``cyw2v._dispatch`` picks the best one the CPU supports at
import. ``CYW2V_NATIVE=1`` additionally compiles the baseline copy with ``-march=native``
(such a build only runs on CPUs like the build machine's).
"""
import os
import platform
import sys

import numpy as np  # noqa: F401  (build requirement; imported to fail early if absent)
from Cython.Build import cythonize
from setuptools import Extension, setup

compile_args = []
variants = {}
if sys.platform != "win32":
    # -fassociative-math (with the flags it needs) lets GCC vectorise float reductions
    # (dot products); we keep IEEE NaN/Inf semantics, unlike -ffast-math.
    compile_args = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fno-signed-zeros",
                    "-fassociative-math", "-funroll-loops"]
    if os.environ.get("CYW2V_NATIVE", "") not in ("", "0"):
        compile_args.append("-march=native")
    if platform.machine().lower() in ("x86_64", "amd64"):
        # Extra copies of the same engine for newer CPUs; cyw2v._dispatch picks one at import.
        variants = {
            "avx2": ["-mavx2", "-mfma"],
            # a measuring instrument: the AVX2 engine rounding its weights (see _core.pyx);
            # F16C (on every AVX2 CPU) converts float16 in hardware, not in libgcc
            "emulate": ["-mavx2", "-mfma", "-mf16c", "-DCYW2V_ROUNDED_WEIGHTS=1"],
            "avx512": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma",
                       "-mprefer-vector-width=512", "--param=vect-partial-vector-usage=2"],
        }

extensions = [Extension("cyw2v._core", ["cyw2v/_core.pyx"], extra_compile_args=compile_args)]
for name, flags in variants.items():
    extensions.append(Extension(f"cyw2v._core_{name}", [f"cyw2v/_core_{name}.pyx"],
                                extra_compile_args=compile_args + flags))

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False,
                             "cdivision": True, "initializedcheck": False},
    ),
)
