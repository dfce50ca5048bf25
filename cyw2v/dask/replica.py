"""A replica: a full copy of the model on one Dask worker, trained on that worker's shard
by :class:`cyw2v.training.Trainer` with all of the worker's threads, and the tasks that
reach it. Replicas live in this module's registry, keyed by the run, for as long as the
worker process does.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .._dispatch import core as _core
from ..model import Word2Vec
from ..vocab import CorpusScan
from ..training import Progress, Schedule, Stats
from ..weights import MATRICES
from .inputs import Segment, shard_words
from .merge import Payload, Ranges, merge_payloads, split_ranges

_REPLICAS: Dict[str, "Replica"] = {}


class ReplicaMissing(RuntimeError):
    """The worker holds no replica of the run (it was restarted)."""


def _replica(run: str) -> "Replica":
    try:
        return _REPLICAS[run]
    except KeyError:
        raise ReplicaMissing(f"this worker holds no replica of run {run} (restarted?)") from None

# Replicas do not report progress themselves: the driver does, from the rounds' results.
_QUIET = 3600.0


@dataclass(frozen=True)
class RoundPlan:
    """What one replica does in one round: train span ``round_no``/``rounds`` of ``epoch``
    (its share of the schedule follows the global word count), then extract the payload
    of ``ranges`` cut into ``slices`` pieces."""
    epoch: int
    round_no: int       # 0-based within the epoch
    rounds: int
    schedule: Schedule
    seed: int
    ranges: Ranges
    slices: int
    alpha_scale: float = 1.0   # the merge rule's factor on the learning rate


class Replica:
    """Weights W (the engine's padded storage), their base B (each row at its last merge)
    and the shard."""

    def __init__(self, params: Dict[str, Any], vocab_meta: Dict[str, Any], counts: np.ndarray,
                 state: Optional[Tuple[Dict[str, Any], Dict[str, np.ndarray]]], shard: Sequence[Any],
                 compute_loss: bool) -> None:
        if state is None:   # built as the driver built its model: the same seed, the same rows
            self.model = Word2Vec(**params)
            self.model._scan = CorpusScan(dict(zip(vocab_meta["index_to_key"], counts.tolist())),
                                          vocab_meta["corpus_total_words"], vocab_meta["corpus_count"],
                                          vocab_meta["vocab_pruned"])
            self.model.prepare_vocab()
        else:               # a checkpoint
            meta, arrays = state
            self.model = Word2Vec._from_state({**meta, "params": params}, arrays)
        self.files = bool(shard) and isinstance(shard[0], tuple)
        if self.files:
            self.segments: List[Segment] = list(shard)
            self.cum = np.cumsum([end - start for _, start, end in self.segments])
        else:
            self.sentences: List[Any] = [s for part in shard for s in part]
            self.cum = shard_words(self.sentences)
        self.trainer = self.model._trainer(compute_loss)
        self.d = self.model.vector_size
        self.storage = {name: self.model._weights.storage[name] for name in MATRICES
                        if self.model._weights.storage[name].shape[0]}
        self.base = {name: w[:, :self.d].copy() for name, w in self.storage.items()}

    @property
    def size(self) -> int:
        """Raw words (bag) or bytes (files) of the shard."""
        return int(self.cum[-1]) if len(self.cum) else 0

    def apply(self, merged: Sequence[Payload]) -> None:
        """W = B = B + merged delta on the merged rows."""
        for payload in merged:
            for name, (start, delta) in payload.items():
                stop = start + delta.shape[0]
                value = self.base[name][start:stop] + delta
                self.base[name][start:stop] = value
                self.storage[name][start:stop, :self.d] = value

    def extract(self, ranges: Ranges, slices: int) -> List[Payload]:
        """D = W - B on ``ranges``, cut into ``slices`` payloads."""
        out: List[Payload] = []
        for piece in split_ranges(ranges, slices):
            out.append({name: (a, self.storage[name][a:b, :self.d] - self.base[name][a:b])
                        for name, (a, b) in piece.items()})
        return out

    def train(self, plan: RoundPlan, replica_no: int) -> Stats:
        """This replica's share of round ``plan.round_no``."""
        R, r = plan.rounds, plan.round_no
        lo, hi = self.size * r // R, self.size * (r + 1) // R
        seed = _core.mix_seed(plan.seed, (plan.epoch * 1_000_003 + r) * 4099 + replica_no)
        total = Stats()
        if hi <= lo:
            return total
        progress = Progress(None, "replica", hi - lo, _QUIET)

        def span(f0: float, f1: float) -> Any:
            # the global schedule: every replica is at the same fraction of its round
            return lambda x: plan.alpha_scale * plan.schedule.alpha(plan.epoch, (r + f0 + (f1 - f0) * x) / R)

        if self.files:
            offset = 0   # of the segment in the shard
            for k, (path, start, end) in enumerate(self.segments):
                a, b = max(lo, offset), min(hi, offset + end - start)
                if a < b:
                    _add(total, self.trainer.train_file(path, span((a - lo) / (hi - lo), (b - lo) / (hi - lo)),
                                                        _core.mix_seed(seed, k), progress,
                                                        start + a - offset, start + b - offset))
                offset += end - start
        else:
            # sentence i ends at word cum[i]: it belongs to the round its end falls in
            i0, i1 = (int(i) for i in np.searchsorted(self.cum, [lo, hi], side="right"))
            words = int(self.cum[i1 - 1] - (self.cum[i0 - 1] if i0 else 0)) if i1 > i0 else 0
            if words:
                _add(total, self.trainer.train_iterable(self.sentences[i0:i1], span(0.0, 1.0), seed, None,
                                                        words, progress))
        return total

    def state(self) -> Dict[str, np.ndarray]:
        """The merged matrices (rows x vector_size), as the driver's model publishes them."""
        return {name: np.ascontiguousarray(self.base[name]) for name in self.storage}


def _add(total: Stats, stats: Stats) -> None:
    total.raw += stats.raw
    total.kept += stats.kept
    total.loss += stats.loss
    total.terms += stats.terms


# ----------------------------------------------------------------------------- tasks
def create(run: str, params: Dict[str, Any], vocab: Tuple[Dict[str, Any], np.ndarray],
           state: Optional[Tuple[Dict[str, Any], Dict[str, np.ndarray]]], shard: Sequence[Any],
           compute_loss: bool) -> int:
    """Make this worker's replica of run ``run``; returns the size of its shard."""
    _REPLICAS[run] = Replica(params, vocab[0], vocab[1], state, shard, compute_loss)
    return _REPLICAS[run].size


def step(run: str, replica_no: int, merged: Sequence[Payload], plan: RoundPlan, after: Any) -> tuple:
    """Apply the previous round's merge, train this round, extract this round's payload:
    (info, payload slice 0, ..., slice S-1). ``after`` (the previous step's info) orders
    the steps of a replica when no merge does."""
    replica = _replica(run)
    t0 = time.perf_counter()
    replica.apply(merged)
    t1 = time.perf_counter()
    stats = replica.train(plan, replica_no)
    t2 = time.perf_counter()
    payloads = replica.extract(plan.ranges, plan.slices)
    t3 = time.perf_counter()
    info = {"raw": stats.raw, "kept": stats.kept, "loss": stats.loss, "terms": stats.terms,
            "compute_s": t2 - t1, "sync_s": (t1 - t0) + (t3 - t2)}
    return (info, *payloads)


def reduce(rule: str, *payloads: Payload) -> Payload:
    """One slice merged by ``rule`` from every replica's payload."""
    return merge_payloads(payloads, rule)


def finish(run: str, merged: Sequence[Payload], want_state: bool, after: Any) -> Optional[Dict[str, np.ndarray]]:
    """Apply the epoch's last merge; the merged matrices if ``want_state``."""
    replica = _replica(run)
    replica.apply(merged)
    return replica.state() if want_state else None


def drop(run: str) -> None:
    """Forget run ``run``'s replica (client.run on every worker)."""
    _REPLICAS.pop(run, None)
