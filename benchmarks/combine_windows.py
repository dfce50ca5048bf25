#!/usr/bin/env python
"""SG-NS with C centres per block (BENCHMARKS.md, "Skip-gram: context combining"): Text8Corpus over
the 16.9M-word corpus, the standard settings, workers=2; prints words/s and the standard scores.

    python benchmarks/combine_windows.py 1 --seed 1      # one centre per block (the default)
    python benchmarks/combine_windows.py 3 --seed 1      # three, sharing one draw of negatives
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cyw2v import Text8Corpus, Word2Vec  # noqa: E402
from w2vbench.common import STANDARD_CORPUS_PATH, STANDARD_SETTINGS  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("centres", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch-window", type=int, choices=(0, 1), default=None)
    ap.add_argument("--corpus", default=STANDARD_CORPUS_PATH)
    a = ap.parse_args()
    if not os.path.exists(a.corpus):
        print(f"no corpus at {a.corpus}", file=sys.stderr)
        return 2
    corpus = Text8Corpus(a.corpus)
    model = Word2Vec(**STANDARD_SETTINGS, sg=1, seed=a.seed, combine_windows=a.centres,
                     batch_window=None if a.batch_window is None else bool(a.batch_window))
    model.build_vocab(corpus)
    t = time.perf_counter()
    model.train(corpus, total_examples=model.corpus_count, epochs=model.epochs)
    seconds = time.perf_counter() - t
    s = model.wv.evaluate_standard(restrict_vocab=30000)
    print(f"combine_windows={a.centres} batch_window={a.batch_window} seed={a.seed}: "
          f"{model.corpus_total_words * model.epochs / seconds / 1e6:.2f}M words/s, analogy {s['analogy']:.3f}, "
          f"WS-353 {s['ws353_spearman']:.3f}, SimLex {s['simlex_spearman']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
