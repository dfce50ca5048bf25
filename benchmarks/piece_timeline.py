"""One ``corpus_file`` training call in this fresh process, and when each worker took each piece.

    python benchmarks/piece_timeline.py /tmp/small.txt --sg 0 --workers 2 [--piece-bytes 524288]

Prints the call's wall time, and per worker: when it took its first piece, when it found none left,
and how long each piece took. Start-up, a cold first piece and the epoch's tail show up directly
(BENCHMARKS.md, "Threads: workers=2 against workers=1" on Zen 5). One epoch, seed 1, alpha 0.025.
"""
from __future__ import annotations

import argparse
import time
from typing import Dict, List

import cyw2v.training as training
from cyw2v import Word2Vec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", help="uncompressed text file")
    ap.add_argument("--sg", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--piece-bytes", type=int, default=training.FILE_PIECE_BYTES)
    args = ap.parse_args()

    taken: List[tuple] = []
    take = training.PieceQueue.take

    def recording_take(queue: training.PieceQueue, worker: int):
        piece = take(queue, worker)
        taken.append((time.perf_counter(), worker))
        return piece

    training.PieceQueue.take = recording_take
    training.FILE_PIECE_BYTES = args.piece_bytes
    model = Word2Vec(sg=args.sg, workers=args.workers, epochs=1, seed=1, alpha=0.025)
    model.build_vocab(corpus_file=args.corpus)
    start = time.perf_counter()
    model.train(corpus_file=args.corpus, total_words=model.corpus_total_words, epochs=1)
    wall = time.perf_counter() - start

    per_worker: Dict[int, List[float]] = {}
    for when, worker in taken:
        per_worker.setdefault(worker, []).append((when - start) * 1e3)
    parts = [f"workers={args.workers} total {wall * 1e3:.0f} ms"]
    for worker, times in sorted(per_worker.items()):
        pieces = [round(b - a) for a, b in zip(times, times[1:])]
        parts.append(f"[worker {worker}: first {times[0]:.1f} ms, done {times[-1]:.0f} ms, pieces {pieces}]")
    print(" ".join(parts))


if __name__ == "__main__":
    main()
