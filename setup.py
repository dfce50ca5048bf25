"""Build the Cython engine.

The default build is portable (baseline x86-64 / aarch64 code, no ``-march=native``).
Set ``CYW2V_NATIVE=1`` to compile for the build machine's CPU instead (AVX2/AVX-512
where present); such a build only runs on CPUs with the same instruction sets.
"""
import os
import sys

import numpy as np  # noqa: F401  (build requirement; imported to fail early if absent)
from Cython.Build import cythonize
from setuptools import Extension, setup

compile_args = []
if sys.platform != "win32":
    # -fassociative-math (with the flags it needs) lets GCC vectorise float reductions
    # (dot products); we keep IEEE NaN/Inf semantics, unlike -ffast-math.
    compile_args = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fno-signed-zeros",
                    "-fassociative-math", "-funroll-loops"]
    if os.environ.get("CYW2V_NATIVE", "") not in ("", "0"):
        compile_args.append("-march=native")

extensions = [
    Extension("cyw2v._core", ["cyw2v/_core.pyx"], extra_compile_args=compile_args),
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False,
                             "cdivision": True, "initializedcheck": False},
    ),
)
