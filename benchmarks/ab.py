#!/usr/bin/env python
"""Paired A/B of two cyw2v builds: the same training run alternates between two source trees
(each built in place), every run in a fresh process, and the median of the per-round ratios
B/A is reported per configuration (the machine is shared and noisy: a round's two runs see
similar load, so their ratio is steadier than either rate). Words per CPU second (all
threads) is reported too: on a loaded machine it shows the code's own cost better than wall
time, which then mostly measures how much of the cores the run was given.

Example (A = the parent commit checked out and built in /tmp/base)::

    git worktree add /tmp/base HEAD~1 && (cd /tmp/base && python setup.py build_ext --inplace)
    python benchmarks/ab.py /tmp/base . --corpus ../shared/data/enwiki-text8like.gz --rounds 5

``file`` mode trains ``corpus_file`` on a plain copy of the corpus (made once, in --tmp);
``iterable`` mode streams ``Text8Corpus`` over the compressed file. Only training is timed.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
from typing import Dict, List

#: Both trees train with the same settings: sg-ns pins three centres per block, the default of
#: every tree before 2026-12-01 (one since), so that A/Bs against older trees stay like for like.
CONFIGS = {"sg-ns": {"sg": 1, "combine_windows": 3}, "sg-ns-c1": {"sg": 1, "combine_windows": 1},
           "cbow-ns": {"sg": 0}, "sg-hs": {"sg": 1, "hs": 1, "negative": 0},
           "cbow-hs": {"sg": 0, "hs": 1, "negative": 0}}

CHILD = r"""
import json, sys, time
spec = json.loads(sys.argv[1])
import cyw2v
from cyw2v import Word2Vec, Text8Corpus
model = Word2Vec(workers=spec["workers"], epochs=spec["epochs"], seed=spec["seed"], **spec["params"])
if spec["mode"] == "file":
    model.build_vocab(corpus_file=spec["plain"])
    t, cpu = time.perf_counter(), time.process_time()
    _, raw = model.train(corpus_file=spec["plain"], total_words=model.corpus_total_words)
else:
    corpus = Text8Corpus(spec["corpus"])
    model.build_vocab(corpus)
    t, cpu = time.perf_counter(), time.process_time()
    _, raw = model.train(corpus, total_examples=model.corpus_count, total_words=model.corpus_total_words)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
print(json.dumps({"words_per_s": raw / seconds, "words_per_cpu_s": raw / cpu, "file": cyw2v.__file__}))
"""


def plain_copy(corpus: str, tmp: str) -> str:
    """The corpus decompressed once into ``tmp`` (corpus_file needs a seekable plain file)."""
    dest = os.path.join(tmp, os.path.basename(corpus).removesuffix(".gz") + ".txt")
    if not os.path.exists(dest):
        with gzip.open(corpus, "rb") as src, open(dest + ".part", "wb") as out:
            shutil.copyfileobj(src, out, 1 << 22)
        os.replace(dest + ".part", dest)
    return dest


def run(tree: str, spec: Dict) -> Dict[str, float]:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], env=env, cwd="/",
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["file"].startswith(os.path.abspath(tree)):
        raise SystemExit(f"{tree}: imported {result['file']} instead (is it built in place?)")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", help="source tree A (the baseline)")
    ap.add_argument("b", help="source tree B")
    ap.add_argument("--corpus", required=True, help=".gz corpus")
    ap.add_argument("--configs", default="sg-ns,cbow-ns")
    ap.add_argument("--modes", default="file,iterable")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--json", default=None, help="write every run here")
    args = ap.parse_args()
    plain = plain_copy(args.corpus, args.tmp)
    rows: List[Dict] = []
    print("| config | mode | A words/s (median) | B words/s (median) | B/A paired median | rounds B faster "
          "| B/A per CPU second (paired median) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for config in args.configs.split(","):
        for mode in args.modes.split(","):
            spec = {"params": CONFIGS[config], "mode": mode, "corpus": os.path.abspath(args.corpus), "plain": plain,
                    "workers": args.workers, "epochs": args.epochs, "seed": 1}
            a_rates, b_rates = [], []
            for r in range(args.rounds):
                order = (("a", args.a), ("b", args.b)) if r % 2 == 0 else (("b", args.b), ("a", args.a))
                for name, tree in order:
                    (a_rates if name == "a" else b_rates).append(run(tree, spec))
            ratios = [b["words_per_s"] / a["words_per_s"] for a, b in zip(a_rates, b_rates)]
            cpu_ratios = [b["words_per_cpu_s"] / a["words_per_cpu_s"] for a, b in zip(a_rates, b_rates)]
            rows.append({"config": config, "mode": mode, "a": a_rates, "b": b_rates, "ratios": ratios,
                         "cpu_ratios": cpu_ratios})
            print(f"| {config} | {mode} | {statistics.median(r['words_per_s'] for r in a_rates) / 1e6:.2f}M | "
                  f"{statistics.median(r['words_per_s'] for r in b_rates) / 1e6:.2f}M | "
                  f"×{statistics.median(ratios):.3f} | {sum(x > 1 for x in ratios)}/{len(ratios)} | "
                  f"×{statistics.median(cpu_ratios):.3f} |", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
