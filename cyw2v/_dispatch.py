"""Pick the fastest compiled variant of the engine this CPU can run.

The same source (_core.pyx) is compiled three times on x86-64: portable baseline,
AVX2+FMA and AVX-512. ``CYW2V_KERNEL=baseline|avx2|avx512`` forces a variant.
``CYW2V_KERNEL=emulate`` picks a fourth copy, never chosen on its own: the AVX2 engine
that rounds the weights it writes to the precision in ``CYW2V_EMULATE_WEIGHTS``.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Dict, Tuple

from . import _core as _baseline

_REQUIREMENTS = {
    "avx512": ("avx512f", "avx512vl", "avx512bw", "avx512dq", "avx2", "fma"),
    "avx2": ("avx2", "fma"),
    "baseline": (),
}
#: Measuring instruments: compiled like the others, used only when CYW2V_KERNEL names them.
_INSTRUMENTS = {"emulate": ("avx2", "fma")}


def available_kernels() -> Dict[str, ModuleType]:
    """Compiled variants that this CPU can run, fastest first."""
    found: Dict[str, ModuleType] = {}
    for name, features in _REQUIREMENTS.items():
        if not all(_baseline.cpu_supports(f) for f in features):
            continue
        if name == "baseline":
            found[name] = _baseline
            continue
        try:
            found[name] = importlib.import_module(f"cyw2v._core_{name}")
        except ImportError:
            continue
    return found


def _instrument(name: str) -> Dict[str, ModuleType]:
    """The instrument ``name`` as {name: module} if this CPU runs it, else empty."""
    if name not in _INSTRUMENTS or not all(_baseline.cpu_supports(f) for f in _INSTRUMENTS[name]):
        return {}
    try:
        return {name: importlib.import_module(f"cyw2v._core_{name}")}
    except ImportError:
        return {}


def _choose() -> Tuple[str, ModuleType]:
    kernels = available_kernels()
    forced = os.environ.get("CYW2V_KERNEL", "").strip().lower()
    if forced:
        kernels.update(_instrument(forced))
        if forced not in kernels:
            have = sorted(kernels) + [name for name in _INSTRUMENTS if _instrument(name)]
            raise ImportError(f"CYW2V_KERNEL={forced!r} is not available here; have {have}")
        return forced, kernels[forced]
    return next(iter(kernels.items()))


KERNEL: str
core: ModuleType
KERNEL, core = _choose()
