#!/usr/bin/env python
"""Words/s of one training run, for comparing workers=1 and workers=2 (BENCHMARKS.md, "Threads:
shares and stealing"): the packaged 1.7M-word corpus, standard settings, only training timed.

    python benchmarks/thread_scaling.py file 1 1 5      # MODE SG WORKERS EPOCHS
    python benchmarks/thread_scaling.py file 1 2 5 --sample 1e-5
    python benchmarks/thread_scaling.py file 1 2 3 --variant disjoint
    (python benchmarks/thread_scaling.py file 1 1 5 & python benchmarks/thread_scaling.py file 1 1 5 & wait)

MODE ``file`` trains ``corpus_file`` on a plain copy (made once in /tmp); ``iterable`` streams
``Text8Corpus`` over the packaged .gz. ``--variant`` (file mode) rewrites the plain copy so that the
two halves of the file, which two workers train, share no rows (``disjoint``: every word of the
first half prefixed ``a``, of the second ``b``) or all of them (``same``: the first half, prefixed
``a``, twice).
"""
import argparse
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)

from cyw2v import Text8Corpus, Word2Vec, datasets  # noqa: E402
from w2vbench.common import STANDARD_SETTINGS  # noqa: E402
from w2vbench.corpora import write_plain  # noqa: E402


def variant(plain: str, kind: str) -> str:
    """The plain copy rewritten as ``kind`` (see the module doc), in lines of 10,000 words."""
    dest = f"{plain[:-4]}-{kind}.txt"
    if os.path.exists(dest):
        return dest
    with open(plain) as f:
        words = f.read().split()
    half = len(words) // 2
    if kind == "disjoint":
        words = ["a" + w for w in words[:half]] + ["b" + w for w in words[half:]]
    else:
        words = ["a" + w for w in words[:half]] * 2
    with open(dest + ".part", "w") as out:
        for i in range(0, len(words), 10_000):
            out.write(" ".join(words[i:i + 10_000]) + "\n")
    os.replace(dest + ".part", dest)
    return dest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("file", "iterable"))
    ap.add_argument("sg", type=int)
    ap.add_argument("workers", type=int)
    ap.add_argument("epochs", type=int)
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--plain", default="/tmp/cyw2v-demo-plain.txt")
    ap.add_argument("--variant", choices=("plain", "disjoint", "same"), default="plain")
    a = ap.parse_args()
    model = Word2Vec(**dict(STANDARD_SETTINGS, sample=a.sample, workers=a.workers, epochs=a.epochs), sg=a.sg, seed=1)
    if a.mode == "file":
        if not os.path.exists(a.plain):
            write_plain(datasets.demo_corpus_path(), a.plain + ".part")
            os.replace(a.plain + ".part", a.plain)
        path = a.plain if a.variant == "plain" else variant(a.plain, a.variant)
        model.build_vocab(corpus_file=path)
        t = time.perf_counter()
        model.train(corpus_file=path, total_words=model.corpus_total_words, epochs=a.epochs)
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
