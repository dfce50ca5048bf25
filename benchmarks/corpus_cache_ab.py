#!/usr/bin/env python
"""Paired A/B of the kept corpus in one process (BENCHMARKS.md, "Iterable input: the encoded
corpus kept between epochs").

Two models with one vocabulary each, ``corpus_cache_mb=0`` (read every epoch, as gensim) and
the default; whole ``train()`` calls of ``--epochs`` epochs on ``Text8Corpus(corpus)`` (or,
with ``--mode file``, ``corpus_file`` on a plain copy made once in ``--tmp``) alternate, so
that a slow phase of the shared machine hits both alike. Prints each round's words/s and
ratio, then the medians and the median paired ratio. ``--mode dask`` fits ``DaskWord2Vec`` on
the plain copy instead, on a LocalCluster of ``--workers`` processes of one thread each (the
replicas' shards kept across a fit's rounds), timing the rounds (vocabulary and set-up left out);
with ``--dask-input bag``, on a ``dask.bag`` of the corpus's sentences instead.

    python benchmarks/corpus_cache_ab.py ../shared/data/enwiki-text8like.gz --sg 0 --rounds 6
    python benchmarks/corpus_cache_ab.py ../shared/data/enwiki-text8like.gz --mode file --sg 1
    python benchmarks/corpus_cache_ab.py ../shared/data/enwiki-text8like.gz --mode dask --sg 1 --rounds 3
"""
from __future__ import annotations

import argparse
import gzip
import logging
import os
import shutil
import statistics
import time

from cyw2v import Text8Corpus, Word2Vec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", help="a one-line corpus (.gz or plain) for Text8Corpus")
    ap.add_argument("--sg", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mode", choices=("iterable", "file", "dask"), default="iterable")
    ap.add_argument("--tmp", default="/tmp",
                    help="where --mode file and --mode dask --dask-input files keep the plain copy")
    ap.add_argument("--dask-input", choices=("files", "bag"), default="files", help="what --mode dask fits on")
    args = ap.parse_args()
    if args.mode == "file" or (args.mode == "dask" and args.dask_input == "files"):
        path = args.corpus
        if path.endswith(".gz"):
            path = os.path.join(args.tmp, os.path.basename(path)[:-3] + ".txt")
            if not os.path.exists(path):
                with gzip.open(args.corpus, "rb") as src, open(path + ".part", "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                os.replace(path + ".part", path)
        source = {"corpus_file": path}
    else:
        source = {"corpus_iterable": Text8Corpus(args.corpus)}
    sizes = (0, 1024)
    settings = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025,
                    workers=args.workers, sg=args.sg, epochs=args.epochs, seed=1)
    if args.mode == "dask":
        corpus = source.get("corpus_file") or list(source["corpus_iterable"])   # a path, or the sentences
        train = dask_fits(corpus, settings, args.workers)
    else:
        models = {mb: Word2Vec(**settings, corpus_cache_mb=mb).build_vocab(**source) for mb in sizes}

        def train(mb: int) -> float:
            m = models[mb]
            t0 = time.perf_counter()
            m.train(**source, total_examples=m.corpus_count, total_words=m.corpus_total_words, epochs=args.epochs)
            return m.corpus_total_words * args.epochs / (time.perf_counter() - t0)
    logging.disable(logging.WARNING)   # "alpha higher than previous cycles": the rounds restart it
    rates = {mb: [] for mb in sizes}
    ratios = []
    for r in range(args.rounds):
        for mb in sizes:
            rates[mb].append(train(mb))
        ratios.append(rates[1024][-1] / rates[0][-1])
        print(f"round {r}: read every epoch {rates[0][-1] / 1e6:.2f}M, kept {rates[1024][-1] / 1e6:.2f}M "
              f"words/s, x{ratios[-1]:.3f}", flush=True)
    print(f"medians: read every epoch {statistics.median(rates[0]) / 1e6:.2f}M, kept "
          f"{statistics.median(rates[1024]) / 1e6:.2f}M words/s; median paired ratio x{statistics.median(ratios):.3f}")


def dask_fits(corpus, settings: dict, replicas: int):
    """train(mb): one DaskWord2Vec fit at corpus_cache_mb=mb on a LocalCluster kept for the
    run, on ``corpus`` (a path, or sentences as a bag persisted on the workers); its words/s
    over the rounds' wall time."""
    from distributed import Client, LocalCluster
    from cyw2v.dask import DaskWord2Vec
    client = Client(LocalCluster(n_workers=replicas, threads_per_worker=1, processes=True))
    if not isinstance(corpus, str):
        import dask.bag
        corpus = client.persist(dask.bag.from_sequence(corpus, npartitions=4 * replicas))

    def train(mb: int) -> float:
        model = DaskWord2Vec(client, **settings, corpus_cache_mb=mb).fit(corpus)
        seconds = sum(r.compute_s + r.sync_s for r in model.rounds)
        return sum(r.words for r in model.rounds) / seconds
    return train


if __name__ == "__main__":
    main()
