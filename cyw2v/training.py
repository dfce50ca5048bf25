"""Training: the learning-rate schedule, jobs, the piece queue, the worker threads and their
supervision, progress and ETA.

:class:`Trainer` trains given parameters, a :class:`~cyw2v.vocab.Vocabulary` and the
engine's weight matrices on a stream of sentences or a range of a text file, for a span of
the learning-rate schedule; it needs no ``Word2Vec``. :func:`train_epochs` runs whole
epochs of one ``train()`` call.
"""
from __future__ import annotations

import bisect
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ._dispatch import core as _core
from .corpus import LineSentence
from .params import INT64_MAX, Integer, check_vocabulary_size, resolve
from .vocab import Vocabulary, check_corpus_iterable, check_sentence

logger = logging.getLogger(__name__)

Corpus = Iterable[Sequence[str]]
#: The learning rate at a fraction (0..1) of the span being trained.
AlphaSpan = Callable[[float], float]

# corpus_file mode cuts each epoch into pieces of about this many bytes. Each worker owns a
# contiguous share of them and trains it front to back; a worker whose share is done takes
# pieces from the back of the largest share left. So the workers stay in different parts of
# the text (the same article's words in both would share rows) until the end of the epoch,
# and a worker slowed by the machine does not leave the others idle there.
FILE_PIECE_BYTES = 1 << 19

_COUNT = Integer(0, INT64_MAX)


class Callback:
    """Base class for training callbacks; override the hooks you need."""

    def on_train_begin(self, model: Any) -> None:
        pass

    def on_epoch_begin(self, model: Any) -> None:
        pass

    def on_epoch_end(self, model: Any) -> None:
        pass

    def on_train_end(self, model: Any) -> None:
        pass


def notify(callbacks: Sequence[Any], hook: str, model: Any) -> None:
    """Call ``hook(model)`` on every callback that has it (duck-typed, as gensim)."""
    for callback in callbacks:
        fn = getattr(callback, hook, None)
        if fn is not None:
            fn(model)


class Schedule:
    """Linear learning-rate decay across all epochs of one train() call."""

    def __init__(self, start: float, end: float, epochs: int) -> None:
        self.start, self.end, self.epochs = start, end, epochs

    def alpha(self, epoch: int, fraction: float) -> float:
        progress = (epoch + fraction) / self.epochs
        return max(self.end, self.start - (self.start - self.end) * progress)

    def epoch(self, epoch: int) -> AlphaSpan:
        """The schedule within epoch ``epoch``."""
        return lambda fraction: self.alpha(epoch, fraction)


@dataclass
class Stats:
    """What one span of training did."""
    raw: int = 0          # words read
    kept: int = 0         # words trained (after subsampling)
    loss: float = 0.0     # summed loss (with compute_loss)
    terms: int = 0        # loss terms summed


@dataclass(frozen=True)
class Source:
    """The corpus of one call: a restartable iterable of token lists, or a plain-text file."""
    corpus: Optional[Corpus] = None
    path: Optional[str] = None

    @classmethod
    def of(cls, corpus_iterable: Optional[Corpus], corpus_file: Optional[Any]) -> "Source":
        """Checked: exactly one of the two, of the right kind."""
        if (corpus_iterable is None) == (corpus_file is None):
            raise ValueError("give exactly one of corpus_iterable or corpus_file")
        if corpus_iterable is not None:
            check_corpus_iterable(corpus_iterable)
            return cls(corpus=corpus_iterable)
        return cls(path=check_corpus_file(corpus_file))

    def longest_sentence(self, batch_words: int) -> int:
        """The most words a job's sentence can have: ``batch_words`` splits sentences,
        except in a file corpus read block by block, which splits at its own length."""
        if isinstance(self.corpus, LineSentence):
            return max(batch_words, self.corpus.max_sentence_length)
        return batch_words


def check_corpus_file(path: Any) -> str:
    """``path`` as a str if it names an uncompressed file the workers can seek into."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"corpus_file must be a path, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        if os.path.isdir(path):
            raise IsADirectoryError(f"corpus_file is a folder, not a file: {path}")
        if os.path.exists(path):
            raise ValueError(f"corpus_file must be a regular file (worker threads seek into it), not a pipe "
                             f"or device: {path}")
        raise FileNotFoundError(f"corpus_file not found: {path}")
    if path.endswith((".gz", ".bz2")):
        raise ValueError(f"corpus_file must be uncompressed text (worker threads seek into it): {path}; "
                         "decompress it, or pass LineSentence(path) as the corpus")
    return path


class Progress:
    """Progress of one epoch: a tqdm bar if given, else a log line every ``report_delay`` s."""

    def __init__(self, bar: Any, label: str, total_words: int, report_delay: float) -> None:
        self.bar, self.label, self.total_words, self.report_delay = bar, label, total_words, report_delay
        self.t0 = self.last = time.perf_counter()
        self.shown = 0

    def update(self, seen: int, final: bool = False) -> None:
        if self.bar is not None and seen > self.shown:
            self.bar.update(seen - self.shown)
            self.shown = seen
        now = time.perf_counter()
        if not final and now - self.last >= self.report_delay:
            self.last = now
            rate = seen / max(now - self.t0, 1e-9)
            eta = (self.total_words - seen) / rate if rate > 0 and self.total_words > seen else 0.0
            logger.info("%s: %d words, %.0f words/s, eta %.0fs", self.label, seen, rate, eta)


class Trainer:
    """The engine over (valid parameters ``params``, a prepared ``vocab``, the engine's weight
    matrices) and one worker state per thread, made once for all the spans it trains."""

    def __init__(self, params: Mapping[str, Any], vocab: Vocabulary, weights: Any, compute_loss: bool,
                 max_sentence: Optional[int] = None) -> None:
        if len(vocab) == 0 or vocab.tables is None:
            raise RuntimeError("the model has no vocabulary: call build_vocab first")
        check_vocabulary_size(params, len(vocab))
        self.params, self.vocab, self.weights = params, vocab, weights
        self.compute_loss = bool(compute_loss)
        self.batch_words = params["batch_words"]
        self.engine = _core.Engine(weights, vocab.tables, resolve(params, compute_loss))
        longest = max(self.batch_words, max_sentence or 0)
        self.workers = [self.engine.worker(longest) for _ in range(params["workers"])]

    # ------------------------------------------------------------------ iterable input
    def train_iterable(self, corpus: Corpus, alpha: AlphaSpan, seed: int, total_examples: Optional[int],
                       total_words: Optional[int], progress: Progress, cache: Optional[CorpusCache] = None) -> Stats:
        """One pass over ``corpus`` (or ``cache``'s record of it); ``total_words`` (else
        ``total_examples``) sizes the span."""
        # No reader thread: each worker reads and encodes its next job itself, under a lock,
        # while the other workers train. A separate reader would be a third thread on a
        # 2-core machine with workers=2 (taking a share of both cores: 20-30% of CBOW's
        # words/s), and with workers=1 it would run on a core the caller did not give us.
        # BENCHMARKS.md, "Iterable input: workers read for themselves".
        batches = (cache.batches(corpus, self.vocab, self.batch_words) if cache is not None
                   else encoded_batches(corpus, self.vocab, self.batch_words))
        job_stream = scheduled(batches, self.vocab, alpha, seed, total_examples, total_words)
        read_lock = threading.Lock()

        def next_job(worker: int) -> Optional[tuple]:
            with read_lock:
                return next(job_stream, None)

        def train(worker: int, job: tuple) -> tuple:
            words, ends, raw, a0, a1, job_seed = job
            return (raw, *self.workers[worker].train_job(words, ends, a0, a1, job_seed))

        try:
            return self._run(next_job, train, None, progress)
        finally:
            job_stream.close()  # the corpus's file is closed even when training stopped early

    # ------------------------------------------------------------------ file input
    def train_file(self, path: str, alpha: AlphaSpan, seed: int, progress: Progress,
                   start: int = 0, end: Optional[int] = None, cache: Optional[FileCache] = None) -> Stats:
        """Bytes [start, end) of a plain-text file (default: all of it), in pieces (or
        ``cache``'s record of them)."""
        end = os.path.getsize(path) if end is None else end
        n = len(self.workers)
        n_pieces = max(n, -(-(end - start) // FILE_PIECE_BYTES))
        bounds = [start + (end - start) * k // n_pieces for k in range(n_pieces + 1)]
        key = (path, start, end, n_pieces)
        recorded = cache.replay(key) if cache is not None else None
        recording = cache.record(key) if cache is not None and not recorded else None
        pieces = PieceQueue(n_pieces, n)
        counters = np.zeros((n, 8), dtype=np.int64)  # one cache line per worker
        index = self.vocab.token_index()
        encoded_path = os.fsencode(path)

        def alphas(k: int) -> Tuple[float, float]:
            """Learning rates at the start and end of piece k: its share's progress there
            (all shares advance together)."""
            first, last = pieces.share_of(k)
            span = max(bounds[last] - bounds[first], 1)
            return (alpha((bounds[k] - bounds[first]) / span), alpha((bounds[k + 1] - bounds[first]) / span))

        def train(i: int, k: int) -> tuple:
            if recorded:
                return self.workers[i].train_recorded(recorded[k], *alphas(k), _core.mix_seed(seed, k), counters[i])
            record = recording.piece() if recording is not None else None
            stats = self.workers[i].train_file_range(index, encoded_path, bounds[k], bounds[k + 1], *alphas(k),
                                                     _core.mix_seed(seed, k), counters[i], record)
            if record is not None:
                recording.keep(k, record)
            return stats

        stats = self._run(pieces.take, train, counters, progress)
        if recording is not None:
            recording.close()   # reached only when every piece was trained (an error raised above)
        return stats

    # ------------------------------------------------------------------ threads
    def _run(self, next_task: Callable[[int], Any], train: Callable[[int, Any], tuple],
             counters: Optional[np.ndarray], progress: Progress) -> Stats:
        """Thread i repeats ``task = next_task(i)`` (None ends) and ``train(i, task)`` ->
        (raw, kept, loss, terms); the calling thread gathers, reports and re-raises errors."""
        engine = self.engine
        done_q: "queue.Queue" = queue.Queue()

        def loop(i: int) -> None:
            try:
                while not engine.stopped:
                    task = next_task(i)
                    if task is None:
                        break
                    done_q.put(("job", *train(i, task)))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                engine.request_stop()
                done_q.put(("error", exc))
            done_q.put(("exit",))

        threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(len(self.workers))]
        stats = Stats()
        errors: List[BaseException] = []
        exits = 0
        engine.clear_stop()
        for t in threads:
            t.start()
        try:
            while exits < len(threads):
                try:
                    msg = done_q.get(timeout=progress.report_delay)
                except queue.Empty:
                    msg = ("tick",)
                if msg[0] == "job":
                    stats.raw += msg[1]
                    stats.kept += msg[2]
                    stats.loss += msg[3]
                    stats.terms += msg[4]
                elif msg[0] == "error":
                    errors.append(msg[1])
                elif msg[0] == "exit":
                    exits += 1
                progress.update(stats.raw if counters is None else int(counters[:, 0].sum()),
                                final=exits == len(threads))
        except BaseException:
            engine.request_stop()
            raise
        finally:
            for t in threads:
                t.join()
        progress.update(stats.raw, final=True)
        if errors:
            raise errors[0]
        return stats


def train_epochs(trainer: Trainer, source: Source, schedule: Schedule, epoch_seed: Callable[[], int],
                 total_examples: Optional[int], total_words: Optional[int], report_delay: float, bar: Any,
                 on_epoch_begin: Callable[[], None], on_epoch_end: Callable[[Stats], None]) -> Stats:
    """``schedule.epochs`` epochs over ``source``; returns the summed statistics."""
    total = Stats()
    # Kept only for a later epoch to replay: a one-epoch call would hold it for nothing.
    limit = trainer.params["corpus_cache_mb"] << 20 if schedule.epochs > 1 else 0
    cache = CorpusCache(limit) if source.corpus is not None else FileCache(limit)
    for epoch in range(schedule.epochs):
        on_epoch_begin()
        t0 = time.perf_counter()
        progress = Progress(bar, f"epoch {epoch + 1}", total_words or trainer.vocab.corpus_total_words or 0,
                            report_delay)
        if source.path is not None:
            stats = trainer.train_file(source.path, schedule.epoch(epoch), epoch_seed(), progress, cache=cache)
        else:
            stats = trainer.train_iterable(source.corpus, schedule.epoch(epoch), epoch_seed(),
                                           total_examples, total_words, progress, cache)
        elapsed = time.perf_counter() - t0
        total.raw += stats.raw
        total.kept += stats.kept
        logger.info("epoch %d/%d: %d raw words (%d kept) in %.1fs, %.0f words/s%s",
                    epoch + 1, schedule.epochs, stats.raw, stats.kept, elapsed, stats.raw / max(elapsed, 1e-9),
                    f", loss {stats.loss:.6g} ({stats.loss / max(stats.terms, 1):.4f}/term)"
                    if trainer.compute_loss else "")
        check_finite(trainer, stats, epoch + 1, schedule)
        on_epoch_end(stats)
    return total


class DivergedError(RuntimeError):
    """Training produced NaN or infinite values (a learning rate or ``negative`` too large)."""


def check_finite(trainer: Trainer, stats: Stats, epoch: int, schedule: Schedule) -> None:
    """Raise :class:`DivergedError` if the epoch's loss or any weight is NaN or infinite.

    One float32 sum per matrix (a single pass: ~40 ms for 1M x 100, far below an epoch's
    time); an infinite sum of finite values means values beyond ~1e30, diverged as well."""
    bad = [shown for name, shown in (("syn0", "wv.vectors"), ("syn1neg", "syn1neg"), ("syn1", "syn1"),
                                     ("syn1softmax", "syn1softmax"))
           if not np.isfinite(getattr(trainer.weights, name).sum())]
    if trainer.compute_loss and not np.isfinite(stats.loss):
        bad.append("the loss")
    if not bad:
        return
    p, V = trainer.params, len(trainer.vocab)
    if schedule.start > 0.1:
        cause = f"the learning rate alpha={schedule.start:g} is too large (the defaults are 0.025-0.1)"
    elif p["negative"] > V:
        cause = f"negative={p['negative']} is larger than the vocabulary ({V} words)"
    elif p["window"] > 100:
        cause = f"window={p['window']} is very large (a batched window sums up to 2 x window rows' steps)"
    else:
        cause = f"alpha={schedule.start:g} or negative={p['negative']} is too large for this corpus"
    raise DivergedError(f"training diverged in epoch {epoch}: NaN or infinite values in "
                        f"{', '.join(bad)}; likely cause: {cause}. Lower it and train again from a "
                        "fresh model (these weights are lost)")


def check_totals(total_examples: Any, total_words: Any) -> Tuple[Optional[int], Optional[int]]:
    """``train()``'s corpus sizes: None or non-negative integers (ValueError otherwise)."""
    return tuple(None if v is None else _COUNT.check(name, v)  # type: ignore[return-value]
                 for name, v in (("total_examples", total_examples), ("total_words", total_words)))


#: (words, sentence_ends, raw): one job's known-word indices, its sentences' end offsets in
#: them, and the raw words (known or not) it was made of.
Batch = Tuple[np.ndarray, np.ndarray, int]


def jobs(corpus: Corpus, vocab: Vocabulary, batch_words: int, alpha: AlphaSpan, seed: int,
         total_examples: Optional[int], total_words: Optional[int]) -> Iterator[tuple]:
    """(words, sentence_ends, raw, alpha0, alpha1, seed) jobs of about ``batch_words`` raw
    words; long sentences are split, never cut; alpha is the span's at each job's ends."""
    return scheduled(encoded_batches(corpus, vocab, batch_words), vocab, alpha, seed, total_examples, total_words)


def scheduled(batches: Iterable[Batch], vocab: Vocabulary, alpha: AlphaSpan, seed: int,
              total_examples: Optional[int], total_words: Optional[int]) -> Iterator[tuple]:
    """Each batch with the span's learning rate at its two ends and its seed (by job number)."""
    # Progress is counted in words. A job's sentence ends are not the corpus's sentences: the
    # block reader cuts the sentence each block ends in, and a sentence longer than a job is
    # split; counted by them, the schedule ran out early (at 68% of an epoch of Text8Corpus:
    # 2,501 ends for 1,695 sentences) and the rest trained at the span's last rate. So
    # total_examples becomes words at the scanned corpus's words per sentence (exactly its
    # words when the corpus is the one scanned); ends are counted only without those stats.
    if not total_words and total_examples and vocab.corpus_count and vocab.corpus_total_words:
        total_words = max(1, round(total_examples * vocab.corpus_total_words / vocab.corpus_count))

    def fraction(words: int, sentences: int) -> float:
        if total_words:
            return min(words / total_words, 1.0)
        return min(sentences / total_examples, 1.0)

    words_done = sentences_done = 0
    for job_no, (words, ends, raw) in enumerate(batches):
        p0 = fraction(words_done, sentences_done)
        words_done += raw
        sentences_done += len(ends)
        yield words, ends, raw, alpha(p0), alpha(fraction(words_done, sentences_done)), _core.mix_seed(seed, job_no)


def encoded_batches(corpus: Corpus, vocab: Vocabulary, batch_words: int) -> Iterator[Batch]:
    """The corpus as batches of about ``batch_words`` raw words; long sentences are split."""
    cap = batch_words
    if isinstance(corpus, LineSentence) and corpus.limit is None and corpus.stream is None:
        # File-backed corpus: tokenise and look up whole blocks in C, without the GIL.
        # ASCII blocks tokenise exactly as str.split(); others take the Python path.
        index = vocab.token_index()
        for block in corpus.blocks(max(1 << 12, 8 * cap)):
            if block.isascii():
                yield _core.encode_text(block, index, corpus.max_sentence_length, corpus.newline_ends_sentence)
            else:
                yield _core.encode_sentences(corpus.sentences_in_block(block), vocab.key_to_index())
        return

    key_to_index = vocab.key_to_index()
    batch: List[Sequence[str]] = []
    batch_raw = 0
    for sentence in corpus:
        check_sentence(sentence)
        if type(sentence) is not list and type(sentence) is not tuple:
            sentence = list(sentence)  # a plain copy: a subclass's len() may lie about what it yields
        n = len(sentence)
        start = 0
        while n - start > cap - batch_raw:
            take = cap - batch_raw
            batch.append(sentence[start:start + take] if (start or take < n) else sentence)
            start += take
            yield _core.encode_sentences(batch, key_to_index)
            batch, batch_raw = [], 0
        if n - start > 0:
            batch.append(sentence[start:] if start else sentence)
            batch_raw += n - start
        if batch_raw >= cap:
            yield _core.encode_sentences(batch, key_to_index)
            batch, batch_raw = [], 0
    if batch:
        yield _core.encode_sentences(batch, key_to_index)


#: What the kept passes count for each record's Python object (a job's bytes in a tuple, a
#: PieceRecord) beside its data, against corpus_cache_mb.
RECORD_HEADER_BYTES = 100


class CorpusCache:
    """An iterable corpus's batches, encoded on the first pass of one ``train()`` call and
    replayed by its later epochs, which then skip reading, decompressing, tokenising and
    lookup (BENCHMARKS.md, "Iterable input: the encoded corpus kept between epochs").

    Kept packed (``_core.pack_job``: ~1.5 bytes a word) while the whole corpus fits in
    ``limit`` bytes; past that, nothing is kept and every epoch reads the corpus again. A
    pass that did not run to the end (an error, a stop) is never replayed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.complete = False
        self._fits = limit > 0
        self._packed: List[Tuple[bytes, int]] = []
        self._size = 0

    @property
    def nbytes(self) -> int:
        """Bytes of the kept pass (0 while none is complete)."""
        return self._size if self.complete else 0

    def batches(self, corpus: Corpus, vocab: Vocabulary, batch_words: int) -> Iterator[Batch]:
        """The recorded pass if there is one, else a pass over ``corpus`` (recorded if it fits)."""
        if self.complete:
            return self._replay()
        fresh = encoded_batches(corpus, vocab, batch_words)
        return self._record(fresh) if self._fits else fresh

    def _record(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        self._packed, self._size = [], 0   # what an unfinished pass kept is dropped
        for words, ends, raw in batches:
            if self._fits:
                blob = _core.pack_job(words, ends)
                self._size += len(blob) + RECORD_HEADER_BYTES
                if self._size > self.limit:
                    self._fits = False          # too large: never recorded again
                    self._packed = []
                else:
                    self._packed.append((blob, raw))
            yield words, ends, raw
        self.complete = self._fits

    def _replay(self) -> Iterator[Batch]:
        for blob, raw in self._packed:
            yield (*_core.unpack_job(blob), raw)


class FileCache:
    """A corpus file's pieces as the workers read them in the first epoch of one ``train()``
    call (``_core.PieceRecord``: the sentences trained, ~1.5 bytes a word), replayed by the
    later epochs, which then skip reading, tokenising and lookup.

    Kept while the whole pass fits in ``limit`` bytes (else every epoch reads the file, as
    at 0); a pass that did not run to the end (an error, a stop) is never replayed. The
    file is read once per ``train()`` call: a change to it during the call is not seen."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._fits = limit > 0
        self._key: Any = None
        self._pieces: List[Any] = []

    def replay(self, key: Any) -> Optional[List[Any]]:
        """The complete record of the pass ``key`` (path, start, end, pieces) names, or None."""
        return self._pieces if self._key == key else None

    def record(self, key: Any) -> Optional["_FileRecording"]:
        """A recording of the pass ``key`` names (None once a pass did not fit)."""
        self._key, self._pieces = None, []
        return _FileRecording(self, key) if self._fits else None

    @property
    def fits(self) -> bool:
        """Whether a pass may still be recorded (none has outgrown the limit)."""
        return self._fits

    @property
    def nbytes(self) -> int:
        """Bytes of the kept pass (0 while none is complete)."""
        return sum(record.nbytes + RECORD_HEADER_BYTES for record in self._pieces)

    def _outgrown(self) -> None:
        self._fits = False   # too large: never recorded again

    def _keep(self, key: Any, pieces: List[Any]) -> None:
        self._key, self._pieces = key, pieces


class _FileRecording:
    """One pass's pieces as the workers finish them (thread-safe)."""

    def __init__(self, cache: FileCache, key: Any) -> None:
        self._cache, self._key = cache, key
        self._pieces: Dict[int, Any] = {}
        self._size = 0
        self._lock = threading.Lock()

    def piece(self) -> Optional[Any]:
        """A fresh record for the next piece, or None once the pass is too large."""
        return _core.PieceRecord() if self._cache.fits else None

    def keep(self, k: int, record: Any) -> None:
        """Piece ``k``'s filled record (dropped with the rest if the pass outgrows the limit)."""
        with self._lock:
            self._size += record.nbytes + RECORD_HEADER_BYTES
            if self._size > self._cache.limit:
                self._cache._outgrown()
                self._pieces.clear()
            elif self._cache.fits:
                self._pieces[k] = record

    def close(self) -> None:
        """Make the pass replayable if every piece was recorded whole."""
        n_pieces = self._key[3]
        if (self._cache.fits and len(self._pieces) == n_pieces
                and all(p.complete for p in self._pieces.values())):
            self._cache._keep(self._key, [self._pieces[k] for k in range(n_pieces)])


class SpanCaches:
    """A cache per span of a corpus that later calls train again (a Dask replica's rounds:
    every epoch trains the same spans of its shard), the kept passes together within one
    byte ``limit``: each new cache gets what the passes kept so far leave of it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._caches: Dict[Any, Any] = {}

    def get(self, key: Any, make: Callable[[int], Any], record: bool = True) -> Optional[Any]:
        """The cache of span ``key``, made by ``make(limit)`` when there is none yet and
        ``record``; else None (the span is then read as it is trained)."""
        cache = self._caches.get(key)
        if cache is None and record and self.limit > 0:
            cache = self._caches[key] = make(max(0, self.limit - self.nbytes))
        return cache

    @property
    def nbytes(self) -> int:
        """Bytes the spans' kept passes hold."""
        return sum(cache.nbytes for cache in self._caches.values())


class PieceQueue:
    """Pieces 0..n_pieces-1 dealt to n_workers: worker i owns the contiguous share
    [n_pieces*i//n_workers, n_pieces*(i+1)//n_workers), takes its own pieces from the front,
    then steals from the back of the share with the most pieces left. Thread-safe."""

    def __init__(self, n_pieces: int, n_workers: int) -> None:
        self._starts = [n_pieces * i // n_workers for i in range(n_workers + 1)]
        self._left = [[self._starts[i], self._starts[i + 1]] for i in range(n_workers)]
        self._lock = threading.Lock()

    def share_of(self, piece: int) -> Tuple[int, int]:
        """(first, end) pieces of the share that holds ``piece``."""
        i = bisect.bisect_right(self._starts, piece) - 1
        return self._starts[i], self._starts[i + 1]

    def take(self, worker: int) -> Optional[int]:
        """The next piece for ``worker``, or None when every piece has been taken."""
        with self._lock:
            own = self._left[worker]
            if own[0] < own[1]:
                own[0] += 1
                return own[0] - 1
            victim = max(self._left, key=lambda share: share[1] - share[0])
            if victim[0] < victim[1]:
                victim[1] -= 1
                return victim[1]
            return None


def progress_bar(enabled: bool, total: int) -> Any:
    """A tqdm bar over ``total`` words, or None (disabled, or tqdm missing: logged instead)."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        logger.warning("progress=True needs tqdm (pip install tqdm); logging progress instead")
        return None
    return tqdm(total=total or None, unit="word", unit_scale=True, smoothing=0.1)
