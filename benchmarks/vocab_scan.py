#!/usr/bin/env python
"""Seconds of the corpus_file vocabulary count on one thread and on two (BENCHMARKS.md, "The
vocabulary count of corpus_file on the workers' threads"): the median of 5 calls each.

    python benchmarks/vocab_scan.py /tmp/big.txt      # an uncompressed text file
"""
import argparse
import statistics
import time

from cyw2v.vocab import scan_corpus_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", help="uncompressed text file")
    ap.add_argument("--calls", type=int, default=5)
    args = ap.parse_args()
    for workers in (1, 2):
        seconds = []
        for _ in range(args.calls):
            start = time.perf_counter()
            scan = scan_corpus_file(args.path, workers=workers)
            seconds.append(time.perf_counter() - start)
        print(f"{args.path} workers={workers}: median {statistics.median(seconds):.3f} s, "
              f"min {min(seconds):.3f} s; {len(scan.counts)} keys, {scan.total_words} words")


if __name__ == "__main__":
    main()
