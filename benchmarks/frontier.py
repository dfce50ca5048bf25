#!/usr/bin/env python
"""Quality per second (issue 19): analogy accuracy against training time for cyw2v and gensim,
SG-NS and CBOW-NS, sweeping epochs (and, at one epoch, negatives and window) on the 16.9M-word
corpus; every model scored by cyw2v's one evaluator (``evaluate_standard(restrict_vocab=30000)``,
gensim's vectors through the word2vec text format). Both stream ``Text8Corpus``-style input
(iterable), workers=2, the standard settings otherwise (alpha 0.025 for both), seed 1; CBOW-NS
also at cyw2v's own default alpha. Results are cached in --out.

    python benchmarks/frontier.py --out benchmarks/results/frontier.json --png docs/frontier.png
    python benchmarks/frontier.py --out benchmarks/results/frontier.json --png docs/frontier.png --plot-only
"""
import argparse
import json
import os
import sys
import tempfile
import time
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from w2vbench.common import STANDARD_CORPUS_PATH, STANDARD_SETTINGS  # noqa: E402

STANDARD = dict(STANDARD_SETTINGS, seed=1)
#: (epochs, negative, window) points of the sweep; the first is the default run (5 epochs,
#: negative 5, window 5). gensim gets the epochs only (its skip-gram takes ~40 s an epoch here).
SWEEP = [(5, 5, 5), (1, 5, 5), (2, 5, 5), (3, 5, 5), (8, 5, 5), (1, 2, 5), (1, 5, 2), (2, 2, 3)]
#: The series per model: (system, alpha, its sweep). alpha None is cyw2v's own default
#: (``params.learning_rate``: 0.05 for CBOW-NS, word2vec.c's), beside the equal-settings 0.025.
SERIES = {1: [("cyw2v", 0.025, SWEEP), ("gensim", 0.025, SWEEP[:4])],
          0: [("cyw2v", 0.025, SWEEP), ("cyw2v", None, SWEEP[:5]), ("gensim", 0.025, SWEEP[:4])]}


def train(system: str, sg: int, epochs: int, negative: int, window: int, corpus: str,
          alpha: Optional[float] = 0.025) -> dict:
    from cyw2v import KeyedVectors, Text8Corpus
    params = dict(STANDARD, sg=sg, epochs=epochs, negative=negative, window=window, alpha=alpha)
    if system == "cyw2v":
        from cyw2v import Word2Vec
        sentences = Text8Corpus(corpus)
        model = Word2Vec(**params)
        model.build_vocab(sentences)
        t = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
        seconds = time.perf_counter() - t
        wv = model.wv
    else:
        import gensim
        sentences = gensim.models.word2vec.Text8Corpus(corpus)
        model = gensim.models.Word2Vec(**params)
        model.build_vocab(sentences)
        t = time.perf_counter()
        model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
        seconds = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "v.txt")
            model.wv.save_word2vec_format(path)
            wv = KeyedVectors.load_word2vec_format(path)
    scores = wv.evaluate_standard(restrict_vocab=30000)
    return dict(system=system, sg=sg, epochs=epochs, negative=negative, window=window, alpha=alpha,
                train_s=seconds,
                analogy=scores["analogy"], ws353=scores["ws353_spearman"], simlex=scores["simlex_spearman"])


def series_style(system: str, alpha: Optional[float]) -> tuple:
    """(colour, legend label) of a series."""
    if system == "gensim":
        return "tab:orange", "gensim, alpha 0.025"
    if alpha is None:
        return "tab:green", "cyw2v, its default alpha (0.05)"
    return "tab:blue", f"cyw2v, alpha {alpha:g}"


def plot(results: list, png: str) -> None:
    import matplotlib
    import matplotlib.ticker
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (sg, title) in zip(axes, ((1, "SG-NS"), (0, "CBOW-NS"))):
        for system, alpha, _ in SERIES[sg]:
            pts = sorted((r["train_s"], 100 * r["analogy"], r) for r in results
                         if (r["system"], r["sg"], r.get("alpha", 0.025)) == (system, sg, alpha))
            if not pts:
                continue
            color, label = series_style(system, alpha)
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=color, label=label, s=22)
            best, frontier = -1.0, []
            for x, y, _ in pts:
                if y > best:
                    best = y
                    frontier.append((x, y))
            ax.plot([p[0] for p in frontier], [p[1] for p in frontier], color=color, lw=1.2)
            for x, y, r in pts:
                if (r["epochs"], r["negative"], r["window"]) == SWEEP[0]:
                    ax.annotate("5 epochs", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8, color=color)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("training seconds (2 workers, log scale)")
        ax.set_ylabel("analogy accuracy, % (30k restriction)")
        ax.set_title(f"{title}, 16.9M words")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=STANDARD_CORPUS_PATH)
    ap.add_argument("--out", default="benchmarks/results/frontier.json")
    ap.add_argument("--png", default="docs/frontier.png")
    ap.add_argument("--systems", default="cyw2v,gensim")
    ap.add_argument("--models", default="1,0", help="sg values")
    ap.add_argument("--plot-only", action="store_true")
    a = ap.parse_args()
    results = json.load(open(a.out)) if os.path.exists(a.out) else []
    if not a.plot_only:
        if not os.path.exists(a.corpus):
            print(f"no corpus at {a.corpus}", file=sys.stderr)
            return 2
        systems = a.systems.split(",")
        for sg in map(int, a.models.split(",")):
            for system, alpha, sweep in SERIES[sg]:
                if system not in systems:
                    continue
                for epochs, negative, window in sweep:
                    key = (system, sg, epochs, negative, window, alpha)
                    if any((r["system"], r["sg"], r["epochs"], r["negative"], r["window"],
                            r.get("alpha", 0.025)) == key for r in results):
                        continue
                    r = train(system, sg, epochs, negative, window, a.corpus, alpha)
                    print(json.dumps(r), flush=True)
                    results.append(r)
                    with open(a.out + ".part", "w") as f:
                        json.dump(results, f, indent=1)
                    os.replace(a.out + ".part", a.out)
    plot(results, a.png)
    print(f"wrote {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
