"""DaskWord2Vec: data-parallel word2vec on a Dask cluster, driven from the client.

The driver counts the vocabulary (a tree reduction over partitions), builds the merged
model (:class:`~cyw2v.model.Word2Vec`, the checkpoint), makes one replica per Dask worker
(an actor) and runs rounds, each one actor call per replica: every replica trains about
``sync_period`` words of its shard, then the rows due this round are merged among the
replicas, worker to worker (``sync="hot"``: pWord2Vec's hot-row
schedule; ``sync="epoch"``: every row once per epoch, Spark MLlib's scheme). Every epoch
ends with a merge of all rows and a checkpoint; a lost worker restarts the epoch from it.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Sequence, Tuple

from ..model import Word2Vec
from ..params import BY_NAME, Choice, Integer, OrNone, Param, PathLike, bind, described, learning_rate, signature, \
    validate
from ..training import Schedule, notify, progress_bar
from ..weights import MATRICES, matrix_rows
from . import replica
from .inputs import source_of
from .merge import RULES, Ranges, bytes_moved, gathers, hot_count, merge_ranges, payload_bytes

logger = logging.getLogger(__name__)


#: The parameters of DaskWord2Vec besides Word2Vec's, declared once.
DASK_PARAMETERS = (
    Param("sync", "hot", Choice(("hot", "epoch")),
          "'hot': merge the hot rows every round and all rows at each epoch end; 'epoch': all rows once per epoch"),
    Param("merge", "average", Choice(tuple(RULES)),
          "'average': the replicas' average, each training at replicas x alpha; 'mean': a row's updates "
          "divided by the replicas that touched it; 'sum': every replica's whole update"),
    Param("sync_period", None, OrNone(Integer(1)),
          "raw words each replica trains between merges; None: 1,000,000 / K**2 for skip-gram "
          "(250k at K = 2 replicas), 2,000,000 / K for CBOW"),
    Param("hot_rows", 1024, Integer(1), "rows of each matrix merged at round n: hot_rows * 2**tz(n)"),
    Param("overlap", "large", Choice(("never", "large", "always")),
          "which merges land at the end of the next round (travelling while it trains) instead of at once: "
          "'large': those whose payload exceeds 4 MiB per replica (the epoch ends, the rare big hot rounds)"),
    Param("max_retries", 3, Integer(0), "times training restarts from the checkpoint after losing a worker"),
    Param("checkpoint", None, OrNone(PathLike()), "also save the merged model here at each epoch end"),
)
DASK_BY_NAME = {p.name: p for p in DASK_PARAMETERS}

_SIGNATURE = signature(leading=[("client", None, "Optional[distributed.Client]")],
                       inserts={"compute_loss": ("callbacks", (), "Sequence[Any]")},
                       trailing=[("progress", False, "bool")]
                       + [(p.name, p.default, p.constraint.annotation) for p in DASK_PARAMETERS])

#: A merge whose payload per replica exceeds this lands a round late with overlap="large".
OVERLAP_BYTES = 4 << 20
#: The shortest default round, in words per replica.
MIN_SYNC_PERIOD = 10_000
#: Rounds queued on the replicas ahead of the one the driver waits for.
QUEUED_ROUNDS = 2
#: Seconds between checks that the replicas' workers are still there.
POLL_S = 0.25
#: Seconds to wait for a replica to confirm it stopped.
STOP_S = 2.0


class WorkerLost(RuntimeError):
    """A replica's worker left the cluster during training."""


@dataclass
class Round:
    """What one round did: words, seconds and the merge."""
    epoch: int
    round: int
    words: int
    compute_s: float          # the slowest replica's training
    sync_s: float             # the rest of the round's wall time: apply, extract, transfer, reduce, scheduling
    rows: int                 # rows merged (all matrices)
    bytes_moved: int
    worker_words: Dict[str, int] = field(default_factory=dict)   # raw words each replica trained
    per_worker: Dict[str, float] = field(default_factory=dict)   # words/s of each replica


class _Replicas:
    """The replicas of one attempt: their workers, the actors' futures and handles."""

    def __init__(self, client: Any, addresses: List[str]) -> None:
        self.client, self.addresses = client, addresses
        self.futures: List[Any] = []     # the actors' futures (holding them keeps the actors alive)
        self.actors: List[Any] = []
        self.sizes: List[int] = []
        self.words: List[int] = []

    def create(self, make: Callable[[int, str], tuple]) -> None:
        """One actor per worker, ``make(k, address)`` its arguments; then each learns its peers."""
        for k, a in enumerate(self.addresses):
            self.futures.append(self.client.submit(replica.ReplicaActor, *make(k, a), actor=True, workers=[a],
                                                   allow_other_workers=False, pure=False,
                                                   key=f"cyw2v-replica-{uuid.uuid4().hex}"))
        self.wait_futures(self.futures)
        self.actors = [f.result() for f in self.futures]
        self.sizes = self.call(lambda k, actor: actor.connect(k, self.actors))

    def call(self, method: Callable[[int, Any], Any]) -> List[Any]:
        """``method(k, actor)`` on every replica at once (an actor call each); their results."""
        return [self.result(future) for future in self.send(method)]

    def send(self, method: Callable[[int, Any], Any]) -> List[Any]:
        """``method(k, actor)`` on every replica: the calls' futures."""
        return [self._issue(method, k) for k in range(len(self.actors))]

    def ask(self, k: int, method: Callable[[int, Any], Any]) -> Any:
        """``method(k, actor)`` on replica ``k`` alone: its result."""
        return self.result(self._issue(method, k))

    def _issue(self, method: Callable[[int, Any], Any], k: int) -> Any:
        try:
            return method(k, self.actors[k])
        except Exception as exc:  # noqa: BLE001 - a handle raises when its worker is known lost
            self._raise_loss(exc)
            raise

    def result(self, future: Any) -> Any:
        """An actor call's result; WorkerLost if a replica's worker left or could not be reached."""
        while True:
            try:
                return future.result(timeout=POLL_S)
            except (TimeoutError, asyncio.TimeoutError):
                self._check_alive()
            except Exception as exc:  # noqa: BLE001 - a peer's loss surfaces here as many kinds
                self._raise_loss(exc)
                raise

    def _raise_loss(self, exc: BaseException) -> None:
        """WorkerLost from ``exc`` if it means that a replica's worker is gone."""
        if _is_loss(exc) or self._lost():
            raise WorkerLost(f"{type(exc).__name__}: {exc}") from exc

    def wait_futures(self, futures: Sequence[Any]) -> None:
        """Until ``futures`` (Dask futures) are done; WorkerLost if a replica's worker left."""
        from distributed import wait
        while True:
            try:
                wait(list(futures), timeout=POLL_S)
                break
            except TimeoutError:
                self._check_alive()
        for f in futures:
            if f.status == "error":
                exc = f.exception()
                if _is_loss(exc):
                    raise WorkerLost(f"{type(exc).__name__}: {exc}") from exc
                raise exc
            if f.status == "cancelled":
                raise WorkerLost("a task was cancelled (its worker left)")

    def _lost(self) -> List[str]:
        alive = self.client.nthreads()
        return [a for a in self.addresses if a not in alive]

    def _check_alive(self) -> None:
        lost = self._lost()
        if lost:
            raise WorkerLost(f"lost worker(s) {', '.join(lost)}")

    def close(self) -> None:
        """Unblock the replicas still there, then release them."""
        stopping = []
        for actor in self.actors:
            try:
                stopping.append(actor.stop())
            except Exception as exc:  # noqa: BLE001 - its worker may be gone
                logger.debug("stopping a replica: %s", exc)
        for future in stopping:   # before the release, which deletes the actors
            try:
                future.result(timeout=STOP_S)
            except Exception as exc:  # noqa: BLE001 - its worker may be gone
                logger.debug("stopping a replica: %s", exc)
        self.client.cancel(self.futures)
        self.futures, self.actors = [], []


def _is_loss(exc: BaseException) -> bool:
    from distributed.scheduler import KilledWorker
    # CommClosedError and "Unable to contact Actor's worker" are OSErrors
    return isinstance(exc, (KilledWorker, OSError)) or "Worker holding Actor was lost" in str(exc)


class DaskWord2Vec:
    """word2vec trained by one replica per Dask worker, merged every round.

    Parameters: ``client`` (None: the current ``distributed`` client), those of
    :class:`~cyw2v.model.Word2Vec` (``workers`` is replaced by each Dask worker's
    ``nthreads``), ``callbacks`` (also ``on_round_end(model)``), ``progress`` and
    :data:`DASK_PARAMETERS`. After :meth:`fit`, ``model`` is the merged
    :class:`~cyw2v.model.Word2Vec`; ``wv``, ``save``, ``loss_history`` and the vocabulary
    come from it. ``rounds`` records every round (:class:`Round`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        a = bind(_SIGNATURE, "DaskWord2Vec", (self, *args), kwargs)
        self._params = validate({k: v for k, v in a.items() if k in BY_NAME})
        self.options = {p.name: p.constraint.check(p.name, a[p.name]) for p in DASK_PARAMETERS}
        self.client = a["client"]
        self.callbacks = tuple(a["callbacks"])
        self.progress = bool(a["progress"])
        self.model = Word2Vec(**self._params)
        self.rounds: List[Round] = []
        self.restarts = 0
        self.current = (0, 0)   # (epoch, round) last finished, 1-based

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("model", "options"):
            raise AttributeError(name)
        if name in DASK_BY_NAME:
            return self.options[name]
        return getattr(self.model, name)

    def __repr__(self) -> str:
        return f"DaskWord2Vec({self.options['sync']}, {self.model!r})"

    def get_params(self) -> Dict[str, Any]:
        """Word2Vec's parameters and the Dask ones (not the client)."""
        return {**self._params, **self.options}

    def get_latest_training_loss(self) -> float:
        """Summed loss of the latest epoch over all replicas (float64; compute_loss=True)."""
        return self.model.get_latest_training_loss()

    def save(self, path: str) -> None:
        """Save the merged model as a native Word2Vec file (``Word2Vec.load`` opens it)."""
        self.model.save(path)

    # ------------------------------------------------------------------ training
    def fit(self, corpus: Any, column: Optional[str] = None,
            tokenizer: Optional[Callable[[str], List[str]]] = None) -> "DaskWord2Vec":
        """Count the vocabulary and train ``epochs`` epochs on ``corpus``: a dask.bag of
        token lists, a dask dataframe (its text ``column``, split by ``tokenizer``, default
        whitespace) or series, or plain-text file path(s) every worker can read. Returns self."""
        client = self._connect()
        source = source_of(corpus, column, tokenizer, client)
        t0 = time.perf_counter()
        scan = source.count(client, self._params["max_vocab_size"])
        if scan.total_words == 0:
            raise ValueError(f"the corpus ({source.kind}) is empty: it contains no tokens")
        self.model = Word2Vec(**self._params)
        self.model._scan = scan          # the reduced counts, as Word2Vec.scan_vocab leaves them
        self.model.prepare_vocab()
        self.vocab_seconds = time.perf_counter() - t0
        logger.info("vocabulary of %d words from %d corpus words in %.1fs", len(self.model.wv),
                    scan.total_words, self.vocab_seconds)
        notify(self.callbacks, "on_train_begin", self)
        t1 = time.perf_counter()
        self._train(client, source)
        self.model.total_train_time += time.perf_counter() - t1
        self.model.train_calls += 1
        notify(self.callbacks, "on_train_end", self)
        return self

    def _connect(self) -> Any:
        from distributed import get_client
        if self.client is None:
            try:
                self.client = get_client()
            except ValueError:
                raise RuntimeError("no Dask client: pass client=, or create a distributed.Client first") from None
        if not self.client.nthreads():
            raise RuntimeError(f"the Dask cluster at {self.client.scheduler.address} has no workers; "
                               "start some (or wait for them: client.wait_for_workers(n)) before fit")
        return self.client

    def _train(self, client: Any, source: Any) -> None:
        epochs = self._params["epochs"]
        schedule = Schedule(learning_rate(self._params), self._params["min_alpha"], epochs)
        bar = progress_bar(self.progress, epochs * self.model.corpus_total_words)
        self.model.loss_history = []
        self.rounds, self.restarts = [], 0
        self._t_start = time.perf_counter()
        replicas: Optional[_Replicas] = None
        first = self.model.epochs_trained
        try:
            while True:
                done = self.model.epochs_trained - first       # epochs checkpointed
                if done == epochs:
                    break
                try:
                    replicas = self._start(client, source, from_checkpoint=done > 0)
                    self._rounds(replicas, schedule, done, bar)
                    break
                except WorkerLost as exc:
                    done = self.model.epochs_trained - first
                    self.restarts += 1
                    if replicas is not None:
                        replicas.close()
                    replicas = None
                    self.rounds = [r for r in self.rounds if r.epoch <= done]   # Round.epoch counts from 1
                    if self.restarts > self.options["max_retries"]:
                        raise RuntimeError(f"training failed: {exc}; gave up after max_retries="
                                           f"{self.options['max_retries']} restarts") from exc
                    logger.warning("%s during epoch %d; re-creating the replicas on the workers left and resuming "
                                   "from the checkpoint at the end of epoch %d (restart %d of at most %d)",
                                   exc, done + 1, done, self.restarts, self.options["max_retries"])
                    if bar is not None:
                        bar.reset(total=epochs * self.model.corpus_total_words)
                        bar.update(done * self.model.corpus_total_words)
        finally:
            if replicas is not None:
                replicas.close()
            if bar is not None:
                bar.close()

    def _start(self, client: Any, source: Any, from_checkpoint: bool) -> _Replicas:
        """One replica per worker, from the seed or from the checkpoint (the driver's model)."""
        nthreads = client.nthreads()
        if not nthreads:
            raise RuntimeError("the Dask cluster has no workers left")
        addresses = sorted(nthreads)
        K = len(addresses)
        shards = source.shards(client, K)
        model = self.model
        vocab = client.scatter([(model.vocab.state(), model.vocab.counts)], broadcast=True, hash=False)[0]
        state = client.scatter([model._get_state()], broadcast=True, hash=False)[0] if from_checkpoint else None
        replicas = _Replicas(client, addresses)
        replicas.create(lambda k, a: ({**self._params, "workers": nthreads[a]}, vocab, state, shards[k],
                                      bool(self._params["compute_loss"])))
        total = max(sum(replicas.sizes), 1)
        # file shards are sized in bytes: words in proportion
        replicas.words = [s if source.kind == "bag" else round(s * model.corpus_total_words / total)
                          for s in replicas.sizes]
        logger.info("%d replicas on %s (threads %s), shards of %s words; %s", K, ", ".join(addresses),
                    [nthreads[a] for a in addresses], replicas.words,
                    "from the checkpoint" if from_checkpoint else f"initialised from seed {self._params['seed']}")
        return replicas

    def _plans(self, replicas: _Replicas, schedule: Schedule, start: int) -> Iterator[replica.RoundPlan]:
        """The rounds of epochs ``start``.. on these replicas; an epoch's last merges all rows."""
        p, opts = self._params, self.options
        K, d = len(replicas.addresses), p["vector_size"]
        R = max(1, math.ceil(max(replicas.words) / self.sync_period_for(K)))
        alpha_scale = RULES[opts["merge"]].alpha_scale(K, schedule.start)
        rows = {name: matrix_rows(name, len(self.model.wv), p["negative"], p["hs"], p["softmax"]) for name in MATRICES}
        seq = 0
        for epoch in range(start, p["epochs"]):
            for r in range(R):
                ranges: Ranges = {}
                if r == R - 1:
                    ranges = merge_ranges(rows, None)
                elif opts["sync"] == "hot":
                    ranges = merge_ranges(rows, hot_count(r + 1, opts["hot_rows"]))
                yield replica.RoundPlan(epoch, r, R, schedule, p["seed"], ranges, 1 if gathers(ranges, d, K) else K,
                                        alpha_scale, opts["merge"], seq, self._lands_late(payload_bytes(ranges, d)),
                                        r == R - 1)
                seq += 1

    def sync_period_for(self, replicas: int) -> int:
        """The words per replica per round for ``replicas`` replicas: the option, or its
        default. The replicas train at K x alpha, so between merges a hot row moves about K
        times as far as on one machine; skip-gram, which updates each row about 2 x window
        times per word, needs rounds shrinking as K**2 to keep single-node quality (SG-NS,
        16.9M words, K = 4: -0.3 analogy points with 62.5k-word rounds, -1.1 with 125k); CBOW
        holds with rounds of 2M / K words (BENCHMARKS.md, "Distributed")."""
        if self.options["sync_period"] is not None:
            return self.options["sync_period"]
        K = replicas
        return max(MIN_SYNC_PERIOD, 1_000_000 // K ** 2 if self._params["sg"] else 2_000_000 // K)

    def _lands_late(self, payload: int) -> bool:
        """Whether a merge of ``payload`` bytes per replica lands a round late (``overlap``)."""
        mode = self.options["overlap"]
        return mode == "always" or (mode == "large" and payload > OVERLAP_BYTES)

    def _rounds(self, replicas: _Replicas, schedule: Schedule, start: int, bar: Any) -> None:
        """Every round of epochs ``start``.., each queued on the replicas one round ahead (so
        that none waits for the driver between rounds), and the checkpoint at each epoch's
        end, taken while the next epoch's first round trains."""
        plans = self._plans(replicas, schedule, start)
        queued: Deque[Tuple[replica.RoundPlan, List[Any]]] = deque()

        def queue_next() -> None:
            plan = next(plans, None)
            if plan is not None:
                queued.append((plan, replicas.send(lambda k, actor: actor.round(plan))))

        for _ in range(QUEUED_ROUNDS):
            queue_next()
        notify(self.callbacks, "on_epoch_begin", self)
        epoch_stats: Dict[str, Any] = {"raw": 0, "loss": 0.0}
        t_last = time.perf_counter()
        while queued:
            plan, calls = queued.popleft()
            infos = [replicas.result(call) for call in calls]
            queue_next()
            now = time.perf_counter()
            self._complete(replicas, plan, infos, now - t_last, epoch_stats, bar)
            if plan.checkpoint:
                self._checkpoint(replicas.ask(0, lambda k, actor: actor.checkpoint(plan.epoch)), epoch_stats)
                epoch_stats = {"raw": 0, "loss": 0.0}
                if queued:
                    notify(self.callbacks, "on_epoch_begin", self)
                now = time.perf_counter()
            t_last = now

    def _complete(self, replicas: _Replicas, plan: replica.RoundPlan, results: List[Dict[str, Any]], wall: float,
                  epoch_stats: Dict[str, Any], bar: Any) -> None:
        """Record and report a round that took ``wall`` seconds since the one before."""
        words = sum(i["raw"] for i in results)
        compute = max(i["compute_s"] for i in results)
        d, K, ranges = self._params["vector_size"], len(replicas.addresses), plan.ranges
        record = Round(plan.epoch + 1, plan.round_no + 1, words, compute, max(wall - compute, 0.0),
                       sum(b - a for a, b in ranges.values()), bytes_moved(ranges, d, K, plan.gather),
                       {a: i["raw"] for a, i in zip(replicas.addresses, results)},
                       {a: i["raw"] / max(i["compute_s"], 1e-9) for a, i in zip(replicas.addresses, results)})
        self.rounds.append(record)
        epoch_stats["raw"] += words
        epoch_stats["loss"] += sum(i["loss"] for i in results)
        self.current = (plan.epoch + 1, plan.round_no + 1)
        if bar is not None:
            bar.update(words)
        self._report(record, plan.rounds)
        notify(self.callbacks, "on_round_end", self)

    def _report(self, record: Round, R: int) -> None:
        done = sum(r.words for r in self.rounds)
        elapsed = time.perf_counter() - self._t_start
        rate = done / max(elapsed, 1e-9)
        left = self._params["epochs"] * self.model.corpus_total_words - done
        wall = sum(r.compute_s + r.sync_s for r in self.rounds)
        share = sum(r.sync_s for r in self.rounds) / max(wall, 1e-9)
        logger.info("epoch %d round %d/%d: %.0f words/s overall (%s per worker), sync %.0f%% of the time, "
                    "eta %.0fs", record.epoch, record.round, R, rate,
                    ", ".join(f"{w:.0f}" for w in record.per_worker.values()), 100 * share,
                    left / rate if rate > 0 else 0.0)

    def _checkpoint(self, state: Dict[str, Any], epoch_stats: Dict[str, Any]) -> None:
        """The epoch's merged matrices into the driver's model (the checkpoint), then the hooks."""
        model = self.model
        for name, values in state.items():
            model._published(name)[...] = values
        model.wv.vectors_changed()
        model.epochs_trained += 1
        if self._params["compute_loss"]:
            model.running_training_loss = epoch_stats["loss"]
            model.loss_history.append(epoch_stats["loss"])
        if self.options["checkpoint"]:
            model.save(self.options["checkpoint"])
        logger.info("epoch %d: %d raw words on %d replicas; checkpointed", model.epochs_trained,
                    epoch_stats["raw"], len(self.rounds and self.rounds[-1].per_worker))
        notify(self.callbacks, "on_epoch_end", self)

    @property
    def sync_share(self) -> float:
        """Share of the rounds' wall time not spent training (the slowest replica's)."""
        wall = sum(r.compute_s + r.sync_s for r in self.rounds)
        return sum(r.sync_s for r in self.rounds) / wall if wall else 0.0


def train_on_dask(address: str, corpus: str, params: Dict[str, Any], progress: bool, out: Any) -> DaskWord2Vec:
    """``cyw2v train --dask``: a DaskWord2Vec on the cluster at ``address`` (``local:N``: a
    LocalCluster of N worker processes sharing this machine's cores) trained on the file
    ``corpus`` (plain text: read by the workers in byte ranges; .gz/.bz2: a bag of its lines)."""
    from distributed import Client, LocalCluster
    logging.getLogger("distributed").setLevel(logging.ERROR)   # the command reports; Dask's chatter is noise here
    cluster = None
    if address.startswith("local:"):
        n = address[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"--dask local:N needs a positive number of workers, got {address!r}")
        cores = os.cpu_count() or 1
        cluster = LocalCluster(n_workers=int(n), threads_per_worker=max(1, cores // int(n)), processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        client = Client(address, timeout="30s")
    try:
        if corpus.endswith((".gz", ".bz2")):
            import dask.bag as db
            data: Any = db.read_text(corpus).map(str.split)
        else:
            data = [os.path.abspath(corpus)]
        t0 = time.perf_counter()
        model = DaskWord2Vec(client, progress=progress, **params).fit(data)
        seconds = time.perf_counter() - t0
        words = model.corpus_total_words * model.epochs
        print(f"trained {'skip-gram' if model.sg else 'CBOW'} on {model.corpus_total_words:,} words x "
              f"{model.epochs} epochs with {len(client.nthreads())} Dask workers in {seconds:.1f}s "
              f"({words / max(seconds, 1e-9):,.0f} words/s; vocabulary {len(model.wv):,} words; "
              f"sync {100 * model.sync_share:.0f}% of the rounds)", file=out, flush=True)
        return model
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


DaskWord2Vec.__init__ = described(DaskWord2Vec.__init__, _SIGNATURE)  # type: ignore[method-assign]
