"""Paths to the data shipped inside the package (see data/ATTRIBUTION.md)."""
from __future__ import annotations

import os
from typing import Optional

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def _path(name: str) -> str:
    path = os.path.join(DATA_DIR, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"packaged data file missing: {path} (is the package installed completely?)")
    return path


def demo_corpus_path() -> str:
    """1.69M words of English Wikipedia, text8 layout (CC BY-SA 3.0, Wikipedia contributors)."""
    return _path("enwiki-text8like-1e7.gz")


def analogies_path() -> str:
    """Google analogy questions (questions-words.txt)."""
    return _path("questions-words.txt")


def wordsim353_path() -> str:
    """WordSim-353 pairs with human similarity scores."""
    return _path("wordsim353.tsv")


def simlex999_path() -> str:
    """SimLex-999 pairs with human similarity scores."""
    return _path("simlex999.txt")


def shared_data_path(name: str) -> Optional[str]:
    """A file in the development data folder ``../shared/data`` beside the repository,
    or None when it is absent (as on a user's fresh clone). ``CYW2V_SHARED_DATA`` overrides."""
    roots = [os.environ.get("CYW2V_SHARED_DATA", "")]
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    roots += [os.path.join(here, "..", "shared", "data"), os.path.join(os.getcwd(), "..", "shared", "data")]
    for root in roots:
        if root and os.path.exists(os.path.join(root, name)):
            return os.path.normpath(os.path.join(root, name))
    return None
