#!/usr/bin/env python
"""Time the engine alone: one training run of cyw2v in ``corpus_file`` mode (no reader thread).

For quick experiments between runs of the full harness (benchmarks/run.py), e.g.

    zcat ../shared/data/enwiki-text8like.gz > /tmp/big.txt
    python benchmarks/engine_timing.py /tmp/big.txt --sg 0 --workers 2 hs=1 negative=0
    python benchmarks/engine_timing.py /tmp/big.txt --sg 0 --workers 2 hs=1 negative=0 --hot-rows 0
    python benchmarks/engine_timing.py /tmp/big.txt --epochs 5 --evaluate combine_windows=3
    python benchmarks/engine_timing.py /tmp/big.txt --sg 0 --epochs 5 --evaluate cbow_gradient=exact alpha=0.075

Extra ``key=value`` arguments are Word2Vec parameters (integers, floats or strings). ``--hot-rows`` and
``--hot-sync-words`` override the per-thread cache of the most used output rows, which
cyw2v.params resolves on for hs=1 only. Prints words/s of wall time, the CPU time per wall second, the
vocabulary size and the wall time per word kept after subsampling (``min_count=2000`` keeps every row in
cache: the cost of the kernel alone), and with
``--evaluate`` the packaged analogy (30k most frequent words), WS-353 and SimLex-999 scores.
"""
from __future__ import annotations

import argparse
import time

import cyw2v.params as params_module
from cyw2v import Word2Vec


def _value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", help="uncompressed text file")
    ap.add_argument("--sg", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--hot-rows", type=int, default=None)
    ap.add_argument("--hot-sync-words", type=int, default=None)
    ap.add_argument("--evaluate", action="store_true", help="also score the vectors")
    ap.add_argument("params", nargs="*", help="extra Word2Vec parameters as key=value")
    args = ap.parse_intermixed_args()
    extra = {k: _value(v) for k, v in (p.split("=", 1) for p in args.params)}
    if args.hot_rows is not None:
        params_module.HOT_ROWS = args.hot_rows
    if args.hot_sync_words is not None:
        params_module.HOT_SYNC_WORDS = args.hot_sync_words
    model = Word2Vec(sg=args.sg, workers=args.workers, epochs=args.epochs, **extra)
    model.build_vocab(corpus_file=args.corpus)
    t, cpu = time.perf_counter(), time.process_time()
    kept, raw = model.train(corpus_file=args.corpus, total_words=model.corpus_total_words)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    config = params_module.resolve(model.get_params(), compute_loss=False)
    print(f"sg={args.sg} workers={args.workers} hot_rows={config.hot_rows} "
          f"sync={config.hot_sync_words} {extra}: {raw / wall / 1e6:.3f}M words/s, "
          f"cpu/wall {cpu / wall:.2f}, V={len(model.wv)}, "
          f"{wall / max(kept, 1) * 1e9:.0f} ns per kept word")
    if args.evaluate:
        scores = model.wv.evaluate_standard(restrict_vocab=30000)
        print(f"analogy {scores['analogy']:.4f}  WS-353 {scores['ws353_spearman']:.4f}  "
              f"SimLex {scores['simlex_spearman']:.4f}")


if __name__ == "__main__":
    main()
