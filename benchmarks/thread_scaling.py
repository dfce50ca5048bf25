#!/usr/bin/env python
"""Words/s of one training run, for comparing workers=1 and workers=2 (BENCHMARKS.md, "Threads:
shares and stealing"): the packaged 1.7M-word corpus, standard settings, only training timed.

    python benchmarks/thread_scaling.py file 1 1 5      # MODE SG WORKERS EPOCHS
    python benchmarks/thread_scaling.py file 1 2 5 --sample 1e-5
    (python benchmarks/thread_scaling.py file 1 1 5 & python benchmarks/thread_scaling.py file 1 1 5 & wait)

MODE ``file`` trains ``corpus_file`` on a plain copy (made once in /tmp); ``iterable`` streams
``Text8Corpus`` over the packaged .gz.
"""
import argparse
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)

from cyw2v import Text8Corpus, Word2Vec, datasets  # noqa: E402
from w2vbench.corpora import write_plain  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("file", "iterable"))
    ap.add_argument("sg", type=int)
    ap.add_argument("workers", type=int)
    ap.add_argument("epochs", type=int)
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--plain", default="/tmp/cyw2v-demo-plain.txt")
    a = ap.parse_args()
    model = Word2Vec(vector_size=100, window=5, negative=5, sample=a.sample, min_count=5, sg=a.sg,
                     workers=a.workers, epochs=a.epochs, seed=1)
    if a.mode == "file":
        if not os.path.exists(a.plain):
            write_plain(datasets.demo_corpus_path(), a.plain + ".part")
            os.replace(a.plain + ".part", a.plain)
        model.build_vocab(corpus_file=a.plain)
        t = time.perf_counter()
        model.train(corpus_file=a.plain, total_words=model.corpus_total_words, epochs=a.epochs)
    else:
        corpus = Text8Corpus(datasets.demo_corpus_path())
        model.build_vocab(corpus)
        t = time.perf_counter()
        model.train(corpus, total_examples=model.corpus_count, epochs=a.epochs)
    seconds = time.perf_counter() - t
    print(f"{a.mode} sg={a.sg} workers={a.workers} epochs={a.epochs} sample={a.sample:g}: {seconds:.3f}s "
          f"{model.corpus_total_words * a.epochs / seconds / 1e6:.2f}M words/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
