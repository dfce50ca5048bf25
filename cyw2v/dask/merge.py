"""The merge of replicas: which rows merge at which round, and the rule that merges them.

Plain numpy, no Dask: the driver plans with it and the workers compute with it.

A replica keeps, next to its training matrices W, a *base* B: every row's value at its last
merge (the same on every replica, since a merge writes one value everywhere). A round's
payload from replica k is ``D_k = W_k[rows] - B[rows]`` for the rows being merged; a row is
*touched* by k when its ``D_k`` row is not all zero (rows a replica did not train are
bit-identical to the base, so the test is exact). The rules, for K replicas:

- ``"average"`` (the default): ``W <- B + sum_k D_k / K``, the plain average of the replicas,
  while every replica trains at K times the learning rate (the linear scaling rule). A row
  that moves linearly in a round (most rows) gets the whole update single-node training
  would give it from the K shards; a row that settles within a round (the most frequent
  ones) settles at the average of where the replicas took it, without overshoot.
- ``"mean"``: ``W <- B + sum_k D_k / n_r``, n_r the replicas that touched row r, at the
  unscaled learning rate: a row every replica trains learns about as much per epoch as from
  1/K of the corpus.
- ``"sum"``: ``W <- B + sum_k D_k`` (what Hogwild threads do to one matrix, with the round as
  the delay): right for rows that move linearly, but a row that settles within a round
  overshoots K-fold, which diverges from K = 4 on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

#: rows [start, stop) of each matrix taking part in a merge
Ranges = Dict[str, Tuple[int, int]]
#: matrix name -> (first row, rows x d float32): a slice of a payload or of a merge
Payload = Dict[str, Tuple[int, np.ndarray]]

#: The matrix whose most used rows are its last: the Huffman inner nodes nearest the root.
ROOT_LAST = "syn1"


def trailing_zeros(n: int) -> int:
    """tz(n): trailing zero bits of n >= 1."""
    if n < 1:
        raise ValueError(f"round numbers start at 1, got {n}")
    return (n & -n).bit_length() - 1


def hot_count(round_no: int, hot_rows: int) -> int:
    """Rows merged at round ``round_no`` (1-based) of an epoch: hot_rows * 2**tz(n)
    (pWord2Vec's schedule), before capping at a matrix's size."""
    return hot_rows << trailing_zeros(round_no)


def merge_ranges(rows: Mapping[str, int], count: Optional[int]) -> Ranges:
    """The rows of each matrix (``rows``: name -> number of rows, 0 = absent) that merge when
    the ``count`` most used ones do (None: all). Words are sorted by count, so these are
    the first rows, except in ``syn1``, where the nodes nearest the root are the last (its
    very last row, gensim's unused V-th, never changes, so it merges as untouched)."""
    out: Ranges = {}
    for name, n in rows.items():
        if n == 0:
            continue
        k = n if count is None else min(count, n)
        out[name] = (n - k, n) if name == ROOT_LAST else (0, k)
    return out


def split_ranges(ranges: Ranges, parts: int) -> List[Ranges]:
    """``ranges`` cut into ``parts`` contiguous pieces per matrix (the reduce-scatter slices)."""
    out: List[Ranges] = [{} for _ in range(parts)]
    for name, (a, b) in ranges.items():
        for j in range(parts):
            out[j][name] = (a + (b - a) * j // parts, a + (b - a) * (j + 1) // parts)
    return out


def _by_replicas(deltas: Sequence[np.ndarray]) -> np.ndarray:
    return np.full((1, 1), len(deltas), dtype=deltas[0].dtype)


def _by_touched(deltas: Sequence[np.ndarray]) -> np.ndarray:
    touched = np.zeros(deltas[0].shape[0], dtype=np.int32)
    for delta in deltas:
        touched += delta.any(axis=1)
    return np.maximum(touched, 1)[:, None].astype(deltas[0].dtype)


def _by_one(deltas: Sequence[np.ndarray]) -> np.ndarray:
    return np.ones((1, 1), dtype=deltas[0].dtype)


#: The highest rate the linear scaling rule may start a replica at. CBOW-NS at K = 4 (16.9M
#: words, seed 1) scored analogy 0.298 with the replicas at 0.1, 0.308 at 0.15 and 0.288 at 0.2,
#: and at K = 2 0.331 at 0.1 (median of 3 seeds) against 0.323 at 0.075 (BENCHMARKS.md,
#: "Distributed"): beyond ~0.15 the replicas' steps overshoot however short the rounds.
MAX_REPLICA_ALPHA = 0.15


@dataclass(frozen=True)
class MergeRule:
    """How replicas' deltas combine (their sum over ``divisor``, per row), and whether the
    replicas train at K times the learning rate."""
    name: str
    divisor: Callable[[Sequence[np.ndarray]], np.ndarray]
    scale_alpha: bool

    def alpha_scale(self, replicas: int, alpha: float) -> float:
        """The factor on the learning rate (starting at ``alpha``) of each of ``replicas``
        replicas: K, or less where K x alpha would exceed MAX_REPLICA_ALPHA."""
        if not self.scale_alpha:
            return 1.0
        return max(1.0, min(float(replicas), MAX_REPLICA_ALPHA / alpha))

    def combine(self, deltas: Sequence[np.ndarray]) -> np.ndarray:
        """The merged update of one matrix's rows from the replicas' deltas (each rows x d)."""
        total = np.zeros_like(deltas[0])
        for delta in deltas:
            total += delta
        total /= self.divisor(deltas)
        return total


#: The merge rules by name (the option ``merge``).
RULES: Dict[str, MergeRule] = {
    "average": MergeRule("average", _by_replicas, True),
    "mean": MergeRule("mean", _by_touched, False),
    "sum": MergeRule("sum", _by_one, False),
}


def merge_payloads(payloads: Sequence[Payload], rule: str = "average") -> Payload:
    """The merge of one slice from every replica (all with the same ranges)."""
    combine = RULES[rule].combine
    return {name: (start, combine([p[name][1] for p in payloads])) for name, (start, _) in payloads[0].items()}


def payload_bytes(ranges: Ranges, d: int) -> int:
    """Bytes of one replica's payload for ``ranges`` (float32 rows of d values)."""
    return sum(b - a for a, b in ranges.values()) * d * 4


#: Above this many bytes of other replicas' payloads per replica, a merge of more than two
#: replicas is reduce-scattered instead of all-gathered.
GATHER_BYTES = 4 << 20


def gathers(ranges: Ranges, d: int, replicas: int) -> bool:
    """Whether every replica fetches every other's payload and merges it itself (all-gather:
    one network round trip) rather than reduce-scattering (two): always for two replicas,
    where both move the same bytes, else while the K - 1 payloads are at most GATHER_BYTES."""
    return replicas <= 2 or (replicas - 1) * payload_bytes(ranges, d) <= GATHER_BYTES


def bytes_moved(ranges: Ranges, d: int, replicas: int, gather: bool) -> int:
    """Bytes crossing the network in one merge of K replicas' payloads P: all-gathered, each
    replica fetches the K - 1 others, K (K - 1) P; reduce-scattered, each sends the (K-1)/K
    of its payload that others reduce and fetches the (K-1)/K of the result they reduced,
    2 (K - 1) P. (For K = 2 both are 2 P.)"""
    P = payload_bytes(ranges, d)
    return replicas * (replicas - 1) * P if gather else 2 * (replicas - 1) * P
