"""What every module of the harness shares: configurations, paths, its error and its log line."""
from __future__ import annotations

import os
import sys
from typing import Dict, Tuple

#: The benchmarks/ folder and the repository root.
BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH_DIR)
#: The entry point that children are started through (``run.py --_child SPEC``).
RUN_PY = os.path.join(BENCH_DIR, "run.py")
#: Where the build scripts put the peers' binaries.
BIN_DIR = os.path.join(BENCH_DIR, "bin")

#: Configuration name -> (label, Word2Vec parameters). HS runs use hs=1 and negative=0.
CONFIGS: Dict[str, Tuple[str, Dict[str, int]]] = {
    "sg-ns": ("SG-NS", {"sg": 1, "hs": 0}),
    "cbow-ns": ("CBOW-NS", {"sg": 0, "hs": 0}),
    "sg-hs": ("SG-HS", {"sg": 1, "hs": 1}),
    "cbow-hs": ("CBOW-HS", {"sg": 0, "hs": 1}),
}
STANDARD_CORPUS = "enwiki-text8like.gz"
SMALL_CORPUS = "enwiki-text8like-1e7.gz"
#: The 16.9M-word corpus beside the repository (absent in a user's clone).
STANDARD_CORPUS_PATH = os.path.join(os.path.dirname(REPO), "shared", "data", STANDARD_CORPUS)
#: The standard settings of BENCHMARKS.md's tables, as Word2Vec parameters.
STANDARD_SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025,
                         epochs=5, workers=2)
#: A trainer whose own count of trained raw words is off by more than this is flagged (gensim's
#: corpus_file count runs ~1% over: each worker finishes the line it is in).
COVERAGE_TOLERANCE = 0.05


class BenchError(Exception):
    """A problem the harness reports in one line and exits on."""


def log(msg: str) -> None:
    """Progress message on stderr."""
    print(msg, file=sys.stderr, flush=True)


def config_label(config: str) -> str:
    """Table label of a configuration, e.g. 'SG-NS'."""
    return CONFIGS[config][0]
