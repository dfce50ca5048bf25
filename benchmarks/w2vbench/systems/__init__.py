"""The registry of trained systems: one adapter per ``--systems`` name."""
from __future__ import annotations

from typing import Dict, Tuple, Type

from .base import System
from .libraries import Cyw2vSystem, GensimSystem
from .pword2vec import PWord2VecSystem
from .word2vec_c import Word2vecCSystem

#: Adapter classes in table order; cyw2v first, the others are its peers.
_ADAPTERS: Tuple[Type[System], ...] = (Cyw2vSystem, GensimSystem, Word2vecCSystem, PWord2VecSystem)
REGISTRY: Dict[str, Type[System]] = {cls.name: cls for cls in _ADAPTERS}
#: The ``--systems`` names.
SYSTEMS: Tuple[str, ...] = tuple(REGISTRY)


def create(name: str) -> System:
    """A new adapter of the system ``name``."""
    return REGISTRY[name]()


def label(name: str) -> str:
    """The table label of the system ``name``."""
    return REGISTRY[name].label


__all__ = ["REGISTRY", "SYSTEMS", "System", "create", "label"]
