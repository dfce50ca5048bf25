"""A replica: a full copy of the model on one Dask worker, trained on that worker's shard
by :class:`cyw2v.training.Trainer` with all of the worker's threads, and the Dask actor
that holds it and exchanges merges with the other replicas.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .._dispatch import core as _core
from ..model import Word2Vec
from ..vocab import CorpusScan
from ..training import CorpusCache, FileCache, Progress, Schedule, SpanCaches, Stats
from ..weights import MATRICES
from .inputs import Segment, shard_words
from .merge import Payload, Ranges, merge_payloads, split_ranges

#: What a round or fetch raises once the driver has stopped the replica.
_STOPPED = "the replica was stopped (the driver gave up this attempt)"
# Seconds between a blocked fetch's checks that the replica was stopped.
_POLL_S = 0.25
# Replicas do not report progress themselves: the driver does, from the rounds' results.
_QUIET = 3600.0


@dataclass(frozen=True)
class RoundPlan:
    """What one replica does in one round: train span ``round_no``/``rounds`` of ``epoch``
    (its share of the schedule follows the global word count), then merge ``ranges``
    (cut into ``slices`` pieces) with the other replicas."""
    epoch: int
    round_no: int       # 0-based within the epoch
    rounds: int
    schedule: Schedule
    seed: int
    ranges: Ranges
    slices: int
    alpha_scale: float = 1.0   # the merge rule's factor on the learning rate
    merge: str = "average"     # the merge rule
    seq: int = 0               # the round's number in this attempt (all epochs)
    overlap: bool = False      # apply the merge at the end of the next round, not at once
    checkpoint: bool = False   # the epoch's last round: replica 0 keeps the merged model

    @property
    def gather(self) -> bool:
        """Whether every replica fetches every payload (one slice), rather than slice j
        being reduce-scattered (one slice per replica)."""
        return self.slices == 1


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
        # every epoch trains the same spans: read each once, replay it later (corpus_cache_mb)
        self.caches = SpanCaches(self.trainer.params["corpus_cache_mb"] << 20)
        self.d = self.model.vector_size
        self.storage = {name: self.model._weights.storage[name] for name in MATRICES
                        if self.model._weights.storage[name].shape[0]}
        self.base = {name: w[:, :self.d].copy() for name, w in self.storage.items()}

    @property
    def size(self) -> int:
        """Raw words (bag) or bytes (files) of the shard."""
        return int(self.cum[-1]) if len(self.cum) else 0

    def extract(self, ranges: Ranges, slices: int) -> List[Payload]:
        """D = W - B on ``ranges``, cut into ``slices`` payloads."""
        return [{name: (a, self.storage[name][a:b, :self.d] - self.base[name][a:b]) for name, (a, b) in piece.items()}
                for piece in split_ranges(ranges, slices)]

    def apply(self, merged: Sequence[Payload], late: Optional[Sequence[Payload]] = None) -> None:
        """A round's merge M (slices) on the merged rows: B += M and W = B; or, when the merge
        lands after more training (``late``: this replica's own payload D of that round, the
        same slices), W += M - D, keeping what was trained since. A row this replica has not
        trained since its last merge stays bit-identical to B either way (its D is zero)."""
        for j, payload in enumerate(merged):
            for name, (start, delta) in payload.items():
                stop = start + delta.shape[0]
                base = self.base[name][start:stop]
                base += delta
                trained = self.storage[name][start:stop, :self.d]
                if late is None:
                    trained[...] = base
                else:
                    trained += delta
                    trained -= late[j][name][1]

    def train(self, plan: RoundPlan, replica_no: int) -> Stats:
        """This replica's share of round ``plan.round_no``."""
        R, r = plan.rounds, plan.round_no
        lo, hi = self.size * r // R, self.size * (r + 1) // R
        seed = _core.mix_seed(plan.seed, (plan.epoch * 1_000_003 + r) * 4099 + replica_no)
        total = Stats()
        if hi <= lo:
            return total
        progress = Progress(None, "replica", hi - lo, _QUIET)
        record = plan.epoch < plan.schedule.epochs - 1   # a later epoch trains these spans again

        def span(f0: float, f1: float) -> Any:
            # the global schedule: every replica is at the same fraction of its round
            return lambda x: plan.alpha_scale * plan.schedule.alpha(plan.epoch, (r + f0 + (f1 - f0) * x) / R)

        if self.files:
            offset = 0   # of the segment in the shard
            for k, (path, start, end) in enumerate(self.segments):
                a, b = max(lo, offset), min(hi, offset + end - start)
                if a < b:
                    first, last = start + a - offset, start + b - offset
                    _add(total, self.trainer.train_file(path, span((a - lo) / (hi - lo), (b - lo) / (hi - lo)),
                                                        _core.mix_seed(seed, k), progress, first, last,
                                                        self.caches.get((path, first, last), FileCache, record)))
                offset += end - start
        else:
            # sentence i ends at word cum[i]: it belongs to the round its end falls in
            i0, i1 = (int(i) for i in np.searchsorted(self.cum, [lo, hi], side="right"))
            words = int(self.cum[i1 - 1] - (self.cum[i0 - 1] if i0 else 0)) if i1 > i0 else 0
            if words:
                _add(total, self.trainer.train_iterable(self.sentences[i0:i1], span(0.0, 1.0), seed, None,
                                                        words, progress,
                                                        self.caches.get((i0, i1), CorpusCache, record)))
        return total

    def merged_state(self, merged: Sequence[Payload]) -> Dict[str, np.ndarray]:
        """B + M: the matrices (rows x vector_size) as the merge ``merged`` of every row leaves
        them, whatever W does meanwhile (a copy; B is unchanged)."""
        state = {name: self.base[name].copy() for name in self.storage}
        for payload in merged:
            for name, (start, delta) in payload.items():
                state[name][start:start + delta.shape[0]] += delta
        return state


def _add(total: Stats, stats: Stats) -> None:
    total.raw += stats.raw
    total.kept += stats.kept
    total.loss += stats.loss
    total.terms += stats.terms


# ----------------------------------------------------------------------------- the actor
class ReplicaActor:
    """A Dask actor holding one worker's replica. A round is one call of :meth:`round` from
    the driver; the replicas exchange the round's payloads and merges directly, worker to
    worker through each other's :meth:`fetch` (the scheduler is not on the round's path),
    in a thread of this actor's own: with ``overlap`` while the next round trains, the
    merge being applied at that round's end.

    Merging: with ``gather``, every replica fetches every payload and merges them itself
    (one network round trip); otherwise slice j of round s is reduced by replica
    (j + s) % K, which gathers slice j from every replica and publishes the merge, and every
    replica fetches the merged slices (two round trips, 2 (K-1)/K of a payload each way).

    :meth:`connect` runs in the worker's actor thread, the other methods on its event loop,
    which alone touches the mailbox; a round trains in the actor's round thread and merges
    in its merger thread.
    """

    def __init__(self, params: Dict[str, Any], vocab: Tuple[Dict[str, Any], np.ndarray],
                 state: Optional[Tuple[Dict[str, Any], Dict[str, np.ndarray]]], shard: Sequence[Any],
                 compute_loss: bool) -> None:
        from concurrent.futures import ThreadPoolExecutor
        from distributed import get_worker
        self.replica = Replica(params, vocab[0], vocab[1], state, shard, compute_loss)
        self.size = self.replica.size
        self._loop = get_worker().loop
        self._runner = ThreadPoolExecutor(1, thread_name_prefix="cyw2v-round")   # trains, one round at a time
        self._merger = ThreadPoolExecutor(1, thread_name_prefix="cyw2v-merge")   # fetches and merges
        self._turns = asyncio.Condition()
        self._box: Dict[tuple, Any] = {}            # (kind, round seq or epoch, slice) -> payload, merge, checkpoint
        self._events: Dict[tuple, asyncio.Event] = {}
        self._stopped = False
        self._seq = 0                               # rounds done (the next one's number)
        self._inflight: Optional[Tuple[Optional[List[Payload]], Any]] = None   # (own payload if late, the merge)
        self.k, self._fetch = 0, []                 # type: Tuple[int, List[Any]]

    def connect(self, k: int, peers: List[Any]) -> int:
        """This replica is number ``k`` of ``peers`` (the actor handles of all replicas)."""
        # a handle finds its worker where its method is first looked up, so look them up
        # here, in the actor thread, for the merger thread to call
        self.k, self._fetch = k, [peer.fetch for peer in peers]
        return self.size

    async def round(self, plan: RoundPlan) -> Dict[str, Any]:
        """Round ``plan.seq``: train this replica's share, then take part in its merge. Calls
        may arrive early or out of order (the driver keeps the next round queued, so that no
        replica waits for the driver between rounds): each waits for its turn here."""
        async with self._turns:
            await self._turns.wait_for(lambda: self._seq == plan.seq or self._stopped)
        if self._stopped:
            raise RuntimeError(_STOPPED)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._runner, self._round, plan)
        finally:
            async with self._turns:
                self._seq += 1
                self._turns.notify_all()

    def _round(self, plan: RoundPlan) -> Dict[str, Any]:
        t0 = time.perf_counter()
        stats = self.replica.train(plan, self.k)
        t1 = time.perf_counter()
        self._land()
        if plan.ranges:
            own = self.replica.extract(plan.ranges, plan.slices)
            for j, part in enumerate(own):
                self._post(("payload", plan.seq, j), part)
            self._inflight = (own if plan.overlap else None, self._merger.submit(self._merge, plan, own))
            if not plan.overlap:
                self._land()
        # a replica in round s has finished every fetch of round s - 2 (it waited for our s - 1)
        self._loop.add_callback(self._forget, plan.seq - 2)
        return {"raw": stats.raw, "kept": stats.kept, "loss": stats.loss, "terms": stats.terms,
                "compute_s": t1 - t0, "sync_s": time.perf_counter() - t1}

    def _land(self) -> None:
        """Apply the merge in flight (waiting for it)."""
        if self._inflight is not None:
            late, future = self._inflight
            self._inflight = None
            self.replica.apply(self._result(future), late)

    def _merge(self, plan: RoundPlan, own: List[Payload]) -> List[Payload]:
        """This round's merge, from the other replicas' payloads (the merger thread)."""
        K, k, seq = len(self._fetch), self.k, plan.seq
        if plan.gather:
            merged = [self._gathered(seq, 0, own[0], plan.merge)]
        else:
            mine = {}
            for j in range(plan.slices):
                if (j + seq) % K == k:
                    mine[j] = self._gathered(seq, j, own[j], plan.merge)
                    self._post(("merged", seq, j), mine[j])
            fetched = {j: self._fetch[(j + seq) % K]("merged", seq, j) for j in range(plan.slices) if j not in mine}
            merged = [mine[j] if j in mine else self._result(fetched[j]) for j in range(plan.slices)]
        if plan.checkpoint and k == 0:
            # every row merges at an epoch's end: B + M is the merged model
            self._post(("checkpoint", plan.epoch, 0), self.replica.merged_state(merged))
        return merged

    def _gathered(self, seq: int, j: int, mine: Payload, rule: str) -> Payload:
        """Slice ``j`` of round ``seq`` merged by ``rule`` from every replica's payload (this
        one's: ``mine``)."""
        K = len(self._fetch)
        theirs = {i: self._fetch[i]("payload", seq, j) for i in range(K) if i != self.k}
        return merge_payloads([mine if i == self.k else self._result(theirs[i]) for i in range(K)], rule)

    async def checkpoint(self, epoch: int) -> Dict[str, np.ndarray]:
        """The merged model at the end of ``epoch`` (replica 0; once)."""
        state = await self.fetch("checkpoint", epoch, 0)
        self._box.pop(("checkpoint", epoch, 0), None)
        return state

    async def fetch(self, kind: str, seq: int, j: int) -> Any:
        """Slice ``j`` of round ``seq``: this replica's payload, or the merge it reduced."""
        key = (kind, seq, j)
        while key not in self._box:
            if self._stopped:
                raise RuntimeError(_STOPPED)
            await self._events.setdefault(key, asyncio.Event()).wait()
        return self._box[key]

    async def stop(self) -> None:
        """Fail every fetch and round waiting here, so that none blocks on a replica that is gone."""
        self._stopped = True
        for event in self._events.values():
            event.set()
        async with self._turns:
            self._turns.notify_all()
        self._runner.shutdown(wait=False)
        self._merger.shutdown(wait=False)

    def _result(self, future: Any) -> Any:
        """A fetch's (or the merge's) result; RuntimeError once :meth:`stop` was called (a
        fetch from a peer that is gone may hang until the connection times out, and this
        attempt's threads must not outlive it)."""
        while True:
            try:
                return future.result(timeout=_POLL_S)
            except (TimeoutError, asyncio.TimeoutError, concurrent.futures.TimeoutError):
                if self._stopped:
                    raise RuntimeError(_STOPPED) from None

    def _post(self, key: tuple, value: Any) -> None:
        self._loop.add_callback(self._put, key, value)

    def _put(self, key: tuple, value: Any) -> None:
        self._box[key] = value
        event = self._events.pop(key, None)
        if event is not None:
            event.set()

    def _forget(self, seq: int) -> None:
        for key in [key for key in self._box if key[0] != "checkpoint" and key[1] == seq]:
            del self._box[key]
