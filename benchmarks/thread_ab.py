#!/usr/bin/env python
"""Paired thread-configuration A/B in one process (BENCHMARKS.md, "Where the second core waits").

One model and one vocabulary; the configurations alternate run by run, one epoch of
``corpus_file`` each, so that a slow phase of the shared machine hits every configuration
alike. Prints each configuration's median words/s and its median paired ratio to the first.

    python benchmarks/thread_ab.py /tmp/cyw2v-demo-plain.txt --sg 1 --rounds 7 workers=1 workers=2
    python benchmarks/thread_ab.py /tmp/mid.txt --sg 0 --rounds 5 workers=1 workers=2 workers=2,hot=128

A configuration is comma-separated ``key=value`` Word2Vec attributes; ``hot=N`` forces the
per-thread copies of the N most used output rows (cyw2v.params resolves them on for hs=1 only),
for any objective.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
import warnings
from typing import Dict, List, Optional

import cyw2v.params as params_module
import cyw2v.training as training_module
from cyw2v import Word2Vec
from engine_timing import _value  # this folder is on sys.path when run as a script

_forced_hot_rows: Dict[str, Optional[int]] = {"rows": None}
_resolve = params_module.resolve


def _resolve_with_hot_rows(p, compute_loss):
    config = _resolve(p, compute_loss)
    rows = _forced_hot_rows["rows"]
    return config if rows is None else dataclasses.replace(config, hot_rows=rows)


def _parse(text: str) -> Dict[str, object]:
    """``key=value,...`` with engine_timing's value rule (int, float or string)."""
    return {key: _value(value) for key, value in (item.split("=", 1) for item in text.split(","))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", help="uncompressed text file")
    ap.add_argument("--sg", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("configs", nargs="+", help="e.g. workers=1 workers=2 workers=2,hot=128")
    args = ap.parse_args()
    configs = [_parse(c) for c in args.configs]
    # the trainer resolves its configuration through the name it imported
    params_module.resolve = training_module.resolve = _resolve_with_hot_rows
    warnings.filterwarnings("ignore", message="Effective 'alpha'")
    model = Word2Vec(sg=args.sg, workers=1, epochs=1, seed=1)
    model.build_vocab(corpus_file=args.corpus)
    rates: List[List[float]] = [[] for _ in configs]
    for _ in range(args.rounds):
        for i, config in enumerate(configs):
            _forced_hot_rows["rows"] = config.get("hot")
            for key, value in config.items():
                if key != "hot":
                    setattr(model, key, value)
            t = time.perf_counter()
            _, raw = model.train(corpus_file=args.corpus, total_words=model.corpus_total_words, epochs=1)
            rates[i].append(raw / (time.perf_counter() - t) / 1e6)
    for text, runs in zip(args.configs, rates):
        ratio = statistics.median(a / b for a, b in zip(runs, rates[0]))
        print(f"{text:28s} median {statistics.median(runs):.2f}M words/s  x{ratio:.3f} paired  "
              f"runs {' '.join(f'{x:.2f}' for x in runs)}")


if __name__ == "__main__":
    main()
