"""The Word2Vec model: parameters, vocabulary, weights and the multi-threaded trainer."""
from __future__ import annotations

import bisect
import logging
import math
import os
import queue
import threading
import time
from types import SimpleNamespace
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ._dispatch import core as _core
from .corpus import LineSentence
from .keyedvectors import KeyedVectors
from .vocab import (Vocabulary, alias_table, check_corpus_iterable, check_sentence, huffman,
                    keep_thresholds, noise_distribution, scan_corpus, scan_corpus_file)

logger = logging.getLogger(__name__)

# With several workers and hierarchical softmax, each keeps a private copy of the most used
# output rows (the Huffman nodes near the root, and with negative sampling as well the
# frequent words' rows) and merges its changes every _HOT_SYNC_WORDS kept words: every
# pair's path passes the root, and without the copies two workers ran SG-HS ~3x slower.
# Negative sampling alone runs without them: there the copying cost 3-6% more than the
# shared cache lines it saved (BENCHMARKS.md, "Threads").
_HOT_ROWS = 1024
_HOT_SYNC_WORDS = 1024

# The engine trains on weight matrices whose rows are padded with zeros to a multiple of 16
# floats and start on 64-byte boundaries: every vector load then stays within one cache line
# and the loops need no remainder. At d=100 (padded to 112) this trained 30-50% faster than
# packed rows; at d=50 (padded to 64, 28% more arithmetic) it was slower, so rows are padded
# only when that adds at most 1/8 of d (BENCHMARKS.md, "Padded rows"). The padding stays
# zero: every update adds multiples of rows whose padding is zero. Users see rows x d views.
_ROW_FLOATS = 16
_MAX_PADDING = 1 / 8
_MATRICES = ("vectors", "syn1neg", "syn1", "syn1softmax")

# corpus_file mode cuts each epoch into pieces of about this many bytes. Each worker owns a
# contiguous share of them and trains it front to back; a worker whose share is done takes
# pieces from the back of the largest share left. So the workers stay in different parts of
# the text (the same article's words in both would share rows) until the end of the epoch,
# and a worker slowed by the machine does not leave the others idle there.
_FILE_PIECE_BYTES = 1 << 19

Corpus = Iterable[Sequence[str]]


class Callback:
    """Base class for training callbacks; override the hooks you need."""

    def on_train_begin(self, model: "Word2Vec") -> None:
        pass

    def on_epoch_begin(self, model: "Word2Vec") -> None:
        pass

    def on_epoch_end(self, model: "Word2Vec") -> None:
        pass

    def on_train_end(self, model: "Word2Vec") -> None:
        pass


#: Constructor parameters and their defaults (gensim's names and defaults, plus our own).
PARAM_DEFAULTS: Dict[str, Any] = dict(
    vector_size=100, alpha=0.025, window=5, min_count=5, max_vocab_size=None, sample=1e-3,
    seed=1, workers=3, min_alpha=0.0001, sg=0, hs=0, negative=5, ns_exponent=0.75, cbow_mean=1,
    epochs=5, sorted_vocab=1, batch_words=10000, compute_loss=False, max_final_vocab=None,
    shrink_windows=True, softmax=False, batch_window=None, combine_windows=None,
)

#: Skip-gram centres per block when ``combine_windows`` is None and the objective is negative
#: sampling alone: 3 runs ~1.4x faster than 1 on the 16.9M-word benchmark corpus with analogy
#: still above gensim's (BENCHMARKS.md); hierarchical softmax gets slower when combined.
_AUTO_COMBINE = 3


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_float(name: str, value: Any, low: float, strict: bool) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or (v <= low if strict else v < low):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low}, got {value!r}")
    return v


def _check_flag(name: str, value: Any) -> int:
    if value not in (0, 1, True, False):
        raise ValueError(f"{name} must be 0/1 (or a bool), got {value!r}")
    return int(value)


def validate_params(p: Dict[str, Any]) -> Dict[str, Any]:
    """Check every parameter; raise ValueError naming the first bad one."""
    q = dict(p)
    q["vector_size"] = _check_int("vector_size", p["vector_size"], 1)
    q["window"] = _check_int("window", p["window"], 1)
    q["min_count"] = _check_int("min_count", p["min_count"], 0)
    q["negative"] = _check_int("negative", p["negative"], 0)
    q["workers"] = _check_int("workers", p["workers"], 1)
    q["epochs"] = _check_int("epochs", p["epochs"], 1)
    q["batch_words"] = _check_int("batch_words", p["batch_words"], 1)
    q["seed"] = _check_int("seed", p["seed"], 0)
    for name in ("max_vocab_size", "max_final_vocab"):
        if p[name] is not None:
            q[name] = _check_int(name, p[name], 1)
    q["alpha"] = _check_float("alpha", p["alpha"], 0.0, strict=True)
    q["min_alpha"] = _check_float("min_alpha", p["min_alpha"], 0.0, strict=False)
    q["sample"] = _check_float("sample", p["sample"], 0.0, strict=False)
    q["ns_exponent"] = _check_float("ns_exponent", p["ns_exponent"], -math.inf, strict=True)
    for name in ("sg", "hs", "cbow_mean", "sorted_vocab", "compute_loss", "shrink_windows", "softmax"):
        q[name] = _check_flag(name, p[name])
    if p["batch_window"] is not None:   # None: resolved later, see Word2Vec.batches_windows
        q["batch_window"] = _check_flag("batch_window", p["batch_window"])
    if p["combine_windows"] is not None:
        q["combine_windows"] = _check_int("combine_windows", p["combine_windows"], 1)
        if q["combine_windows"] > _core.MAX_COMBINED_CENTRES:
            raise ValueError(f"combine_windows must be <= {_core.MAX_COMBINED_CENTRES}, "
                             f"got {q['combine_windows']}")
        if q["combine_windows"] > 1 and not (q["sg"] and q["batch_window"] in (None, 1)):
            raise ValueError("combine_windows > 1 needs skip-gram with batch_window=True (or None)")
    if q["min_alpha"] > q["alpha"]:
        raise ValueError(f"min_alpha ({q['min_alpha']}) must not exceed alpha ({q['alpha']})")
    if not q["hs"] and q["negative"] == 0 and not q["softmax"]:
        raise ValueError("no objective: set negative > 0, hs=1 or softmax=True")
    return q


class Word2Vec:
    """word2vec: skip-gram or CBOW with negative sampling, hierarchical softmax and/or the
    exact full softmax, trained by nogil Cython kernels in ``workers`` threads.

    Parameters follow gensim's names and defaults. Our additions:

    * ``softmax``: also train the exact full softmax (O(V d) per target; small vocabularies).
    * ``batch_window``: skip-gram trains all contexts of a centre word as one batch that
      shares its negative samples (HogBatch, Ji et al. 2016). ``False`` gives word2vec.c's
      per-pair updates with fresh negatives per pair. ``None`` batches unless hierarchical
      softmax is an objective: batched HS loses about a point of analogy accuracy (see
      ``batches_windows``).
    * ``combine_windows``: skip-gram with batched windows trains the windows of this many
      consecutive centre words as one block (context combining, Rengasamy et al. 2017): each
      context row enters once, predicts the centres whose window holds it, and all share
      one draw of negatives. ``None`` picks 3 for negative sampling alone and 1 otherwise;
      1 trains one window at a time.

    >>> from cyw2v import Word2Vec
    >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> model = Word2Vec(corpus, vector_size=8, min_count=1, workers=1, epochs=2)
    >>> model.wv["cat"].shape
    (8,)
    """

    # parameters (validated copies of the constructor arguments)
    vector_size: int
    alpha: float
    window: int
    min_count: int
    max_vocab_size: Optional[int]
    sample: float
    seed: int
    workers: int
    min_alpha: float
    sg: int
    hs: int
    negative: int
    ns_exponent: float
    cbow_mean: int
    epochs: int
    sorted_vocab: int
    batch_words: int
    compute_loss: int
    max_final_vocab: Optional[int]
    shrink_windows: int
    softmax: int
    batch_window: int
    combine_windows: Optional[int]
    # learned state
    wv: KeyedVectors
    syn1neg: np.ndarray
    syn1: np.ndarray
    syn1softmax: np.ndarray

    def __init__(self, sentences: Optional[Corpus] = None, corpus_file: Optional[str] = None,
                 vector_size: int = 100, alpha: float = 0.025, window: int = 5, min_count: int = 5,
                 max_vocab_size: Optional[int] = None, sample: float = 1e-3, seed: int = 1,
                 workers: int = 3, min_alpha: float = 0.0001, sg: int = 0, hs: int = 0,
                 negative: int = 5, ns_exponent: float = 0.75, cbow_mean: int = 1, epochs: int = 5,
                 sorted_vocab: int = 1, batch_words: int = 10000, compute_loss: bool = False,
                 callbacks: Sequence[Any] = (), max_final_vocab: Optional[int] = None,
                 shrink_windows: bool = True, softmax: bool = False,
                 batch_window: Optional[bool] = None,
                 combine_windows: Optional[int] = None, progress: bool = False) -> None:
        params = {k: v for k, v in locals().items() if k in PARAM_DEFAULTS}
        self.__dict__.update(validate_params(params))
        self.callbacks = tuple(callbacks)
        self.progress = bool(progress)
        self._storage: Dict[str, np.ndarray] = {}   # padded matrices behind the published views
        self.wv = KeyedVectors([], np.zeros((0, self.vector_size), dtype=np.float32))
        self.syn1neg = np.zeros((0, self.vector_size), dtype=np.float32)
        self.syn1 = np.zeros((0, self.vector_size), dtype=np.float32)
        self.syn1softmax = np.zeros((0, self.vector_size), dtype=np.float32)
        self.corpus_count = 0
        self.corpus_total_words = 0
        self.epochs_trained = 0
        self.train_calls = 0
        self.loss_history: List[float] = []
        self.running_training_loss = 0.0
        self.total_train_time = 0.0
        self.vocab_pruned = False
        self._tables: Dict[str, np.ndarray] = {}
        if sentences is not None and corpus_file is not None:
            raise ValueError("give either sentences or corpus_file, not both")
        if sentences is not None or corpus_file is not None:
            if sentences is not None:
                check_corpus_iterable(sentences, "sentences")
            self.build_vocab(sentences, corpus_file=corpus_file)
            self.train(sentences, corpus_file=corpus_file, total_examples=self.corpus_count,
                       total_words=self.corpus_total_words, epochs=self.epochs)

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> Dict[str, Any]:
        """Constructor parameters (JSON-serialisable)."""
        return {k: getattr(self, k) for k in PARAM_DEFAULTS}

    @property
    def batches_windows(self) -> bool:
        """Whether skip-gram trains each window as one batch: ``batch_window`` resolved.

        ``None`` means yes, except with hierarchical softmax: there the path nodes near the
        root take the summed step of the whole window at once, and analogy accuracy on the
        16.9M-word benchmark corpus fell ~0.9 points below per-pair training (BENCHMARKS.md).
        Asking for ``combine_windows`` > 1 means yes.
        """
        if self.batch_window is not None:
            return bool(self.batch_window)
        if self.combine_windows is not None and self.combine_windows > 1:
            return True
        return not self.hs

    @property
    def centres_per_block(self) -> int:
        """Skip-gram centre words trained as one block: ``combine_windows`` resolved."""
        if self.combine_windows is not None:
            return self.combine_windows
        if self.sg and self.batches_windows and self.negative > 0 and not self.hs and not self.softmax:
            return _AUTO_COMBINE
        return 1

    def __repr__(self) -> str:
        arch = "skip-gram" if self.sg else "CBOW"
        return (f"Word2Vec({arch}, vocab={len(self.wv)}, vector_size={self.vector_size}, "
                f"window={self.window}, negative={self.negative}, hs={self.hs}, "
                f"softmax={bool(self.softmax)}, epochs_trained={self.epochs_trained})")

    # ------------------------------------------------------------------ vocabulary
    def build_vocab(self, corpus_iterable: Optional[Corpus] = None, corpus_file: Optional[str] = None,
                    update: bool = False, progress_per: int = 10_000_000) -> "Word2Vec":
        """Count the corpus in one streaming pass and prepare weights and tables."""
        if (corpus_iterable is None) == (corpus_file is None):
            raise ValueError("give exactly one of corpus_iterable or corpus_file")
        if corpus_file is not None:
            scan = scan_corpus_file(_check_corpus_file(corpus_file), self.max_vocab_size)
        else:
            check_corpus_iterable(corpus_iterable)
            scan = scan_corpus(corpus_iterable, self.max_vocab_size, progress_per)
        if scan.total_words == 0:
            raise ValueError("the corpus is empty: it contains no tokens")
        self.vocab_pruned = self.vocab_pruned or scan.pruned
        self.corpus_count = scan.total_sentences
        self.corpus_total_words = scan.total_words
        return self._set_vocab(scan.counts, update)

    def build_vocab_from_freq(self, word_freq: Dict[str, int], corpus_count: Optional[int] = None,
                              update: bool = False) -> "Word2Vec":
        """Build the vocabulary from a {word: count} mapping instead of a corpus."""
        if not isinstance(word_freq, dict):
            raise TypeError("word_freq must be a dict of word -> count")
        for w, c in word_freq.items():
            if not isinstance(w, str):
                raise TypeError(f"word_freq keys must be str, got {w!r}")
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
                raise ValueError(f"count of {w!r} must be a non-negative integer, got {c!r}")
        if not word_freq:
            raise ValueError("word_freq is empty")
        self.corpus_total_words = int(sum(word_freq.values()))
        self.corpus_count = corpus_count if corpus_count is not None else 0
        return self._set_vocab(word_freq, update)

    def _set_vocab(self, raw_counts: Dict[str, int], update: bool) -> "Word2Vec":
        vocab = Vocabulary.from_counts(raw_counts, self.min_count, self.max_final_vocab,
                                       bool(self.sorted_vocab))
        if update:
            if len(self.wv) == 0:
                raise RuntimeError("build_vocab(update=True) needs an existing vocabulary; "
                                   "call build_vocab first")
            return self._update_vocab(raw_counts)
        if len(vocab) == 0:
            top = max(raw_counts.values()) if raw_counts else 0
            raise ValueError(f"min_count={self.min_count} removed all {len(raw_counts)} word types "
                             f"(the most frequent occurs {top} times); lower min_count")
        logger.info("vocabulary: %d words kept of %d (min_count=%d), %d corpus words",
                    len(vocab), len(raw_counts), self.min_count, self.corpus_total_words)
        V, d = len(vocab), self.vector_size
        vectors = _init_vectors(np.random.default_rng(self.seed), V, d)
        self.wv = KeyedVectors(vocab.index_to_key, self._adopt("vectors", vectors), vocab.counts)
        self.syn1neg = self._adopt("syn1neg", None, V if self.negative else 0)
        self.syn1 = self._adopt("syn1", None, max(V - 1, 0) if self.hs else 0)
        self.syn1softmax = self._adopt("syn1softmax", None, V if self.softmax else 0)
        self._prepare_tables()
        return self

    def _update_vocab(self, raw_counts: Dict[str, int]) -> "Word2Vec":
        """Add new words (count >= min_count) and add the new counts to known words."""
        wv = self.wv
        counts = wv.counts.copy()
        new_words: List[str] = []
        new_counts: List[int] = []
        for word, c in raw_counts.items():
            idx = wv.key_to_index.get(word)
            if idx is not None:
                counts[idx] += c
            elif c >= self.min_count:
                new_words.append(word)
                new_counts.append(c)
        if new_words and self.sorted_vocab:
            order = np.argsort(-np.asarray(new_counts), kind="stable")
            new_words = [new_words[i] for i in order]
            new_counts = [new_counts[i] for i in order]
        V_old, d = len(wv), self.vector_size
        n_new = len(new_words)
        logger.info("vocabulary update: %d new words, %d known words recounted", n_new, V_old)
        rng = np.random.default_rng([self.seed, V_old, self.train_calls])
        V = V_old + n_new
        vectors = self._adopt("vectors", wv.vectors, V)   # old rows copied once, new ones zero
        vectors[V_old:] = _init_vectors(rng, n_new, d)
        all_counts = np.concatenate([counts, np.asarray(new_counts, dtype=np.int64)])
        self.wv = KeyedVectors(wv.index_to_key + new_words, vectors, all_counts)
        # new rows start at zero; the Huffman tree is rebuilt from the new counts and the
        # inner-node rows keep their values
        if self.negative:
            self.syn1neg = self._adopt("syn1neg", self.syn1neg, V)
        if self.hs:
            self.syn1 = self._adopt("syn1", self.syn1, max(V - 1, 0))
        if self.softmax:
            self.syn1softmax = self._adopt("syn1softmax", self.syn1softmax, V)
        self._prepare_tables()
        return self

    def _prepare_tables(self) -> None:
        counts = self.wv.counts
        tables: Dict[str, np.ndarray] = {"keep": keep_thresholds(counts, self.sample)}
        empty_u32 = np.zeros(0, np.uint32)
        empty_i32 = np.zeros(0, np.int32)
        if self.negative:
            probs = noise_distribution(np.maximum(counts, 0), self.ns_exponent) if counts.sum() > 0 \
                else np.full(len(counts), 1.0 / len(counts))
            tables["alias_prob"], tables["alias_index"] = alias_table(probs)
        else:
            tables["alias_prob"], tables["alias_index"] = empty_u32, empty_i32
        if self.hs:
            tables["hs_offset"], tables["hs_code"], tables["hs_point"] = huffman(counts)
        else:
            tables["hs_offset"] = np.zeros(len(counts) + 1, np.int64)
            tables["hs_code"], tables["hs_point"] = np.zeros(0, np.uint8), empty_i32
        self._tables = tables

    # ------------------------------------------------------------------ engine
    def _engine(self, compute_loss: bool) -> "_core.Engine":
        if len(self.wv) == 0:
            raise RuntimeError("the model has no vocabulary: call build_vocab first")
        t = self._tables
        syn0, syn1neg, syn1, syn1softmax = (self._training_matrix(name) for name in _MATRICES)
        weights = SimpleNamespace(syn0=syn0, syn1neg=syn1neg, syn1=syn1, syn1softmax=syn1softmax)
        tables = SimpleNamespace(**t)
        config = SimpleNamespace(sg=self.sg, cbow_mean=self.cbow_mean, window=self.window,
                                 shrink_windows=self.shrink_windows, negative=self.negative, hs=self.hs,
                                 softmax=self.softmax, batch_window=int(self.batches_windows),
                                 compute_loss=int(compute_loss), hot_rows=self._hot_rows(),
                                 hot_sync_words=_HOT_SYNC_WORDS, combine=self.centres_per_block)
        return _core.Engine(weights, tables, config)

    def _published(self, name: str) -> np.ndarray:
        return self.wv.vectors if name == "vectors" else getattr(self, name)

    def _adopt(self, name: str, values: Optional[np.ndarray], rows: Optional[int] = None) -> np.ndarray:
        """Put ``values`` (zeros if None), extended with zero rows to ``rows``, into new padded
        storage for matrix ``name``; return the rows x vector_size view to publish."""
        d = self.vector_size
        n = values.shape[0] if rows is None else rows
        storage = _padded_zeros(n, d)
        if values is not None:
            storage[:values.shape[0], :d] = values
        self._storage[name] = storage
        return storage[:, :d]

    def _training_matrix(self, name: str) -> np.ndarray:
        """The padded storage behind the published matrix ``name``; if the user replaced the
        published array, it is copied into new storage and the new view published."""
        published = self._published(name)
        storage = self._storage.get(name)
        if storage is not None and _is_view_of(published, storage):
            return storage
        published = np.asarray(published)
        if published.ndim != 2 or published.shape[1] != self.vector_size:
            raise ValueError(f"{'wv.vectors' if name == 'vectors' else name} has shape "
                             f"{published.shape}; expected (rows, vector_size={self.vector_size})")
        view = self._adopt(name, published)   # the copy into storage converts to float32
        if name == "vectors":
            self.wv.vectors = view
        else:
            setattr(self, name, view)
        return self._storage[name]

    def _hot_rows(self) -> int:
        """Output rows each worker keeps a private copy of (see _HOT_ROWS)."""
        return _HOT_ROWS if self.workers > 1 and self.hs else 0

    # ------------------------------------------------------------------ training
    def fit(self, corpus: Optional[Corpus] = None, corpus_file: Optional[str] = None) -> "Word2Vec":
        """Build the vocabulary and train for ``epochs`` epochs; returns self."""
        self.build_vocab(corpus, corpus_file=corpus_file)
        self.train(corpus, corpus_file=corpus_file, total_examples=self.corpus_count,
                   total_words=self.corpus_total_words, epochs=self.epochs)
        return self

    def train(self, corpus_iterable: Optional[Corpus] = None, corpus_file: Optional[str] = None,
              total_examples: Optional[int] = None, total_words: Optional[int] = None,
              epochs: Optional[int] = None, start_alpha: Optional[float] = None,
              end_alpha: Optional[float] = None, compute_loss: Optional[bool] = None,
              callbacks: Optional[Sequence[Any]] = None, progress: Optional[bool] = None,
              report_delay: float = 1.0) -> Tuple[int, int]:
        """Train on a corpus; the learning rate decays linearly from ``start_alpha`` (alpha)
        to ``end_alpha`` (min_alpha) across all epochs of this call.

        ``total_examples`` (sentences) or ``total_words`` sizes the schedule; by default the
        counts from ``build_vocab``. Returns (words kept after subsampling, raw words).
        """
        if (corpus_iterable is None) == (corpus_file is None):
            raise ValueError("give exactly one of corpus_iterable or corpus_file")
        if corpus_iterable is not None:
            check_corpus_iterable(corpus_iterable)
        else:
            corpus_file = _check_corpus_file(corpus_file)
        epochs = self.epochs if epochs is None else _check_int("epochs", epochs, 1)
        start_alpha = self.alpha if start_alpha is None else _check_float("start_alpha", start_alpha, 0.0, True)
        end_alpha = self.min_alpha if end_alpha is None else _check_float("end_alpha", end_alpha, 0.0, False)
        compute_loss = bool(self.compute_loss if compute_loss is None else compute_loss)
        callbacks = tuple(self.callbacks if callbacks is None else callbacks)
        show_progress = self.progress if progress is None else bool(progress)
        if total_words is None and total_examples is None:
            total_words = self.corpus_total_words
            total_examples = self.corpus_count
        if corpus_iterable is not None and not total_words and not total_examples:
            raise ValueError("train needs total_examples or total_words to schedule the learning rate")
        engine = self._engine(compute_loss)
        # one worker (scratch space) per thread for the whole call; the iterable path's
        # sentences are at most batch_words long, or a LineSentence's max_sentence_length
        max_sentence = self.batch_words
        if isinstance(corpus_iterable, LineSentence):
            max_sentence = max(max_sentence, corpus_iterable.max_sentence_length)
        workers = [engine.worker(max_sentence) for _ in range(self.workers)]
        schedule = _Schedule(start_alpha, end_alpha, epochs)
        self.train_calls += 1
        self.loss_history = [] if compute_loss else self.loss_history
        bar = _make_progress_bar(show_progress, epochs * (total_words or self.corpus_total_words or 0))
        for cb in callbacks:
            _call(cb, "on_train_begin", self)
        kept_total = raw_total = 0
        t_start = time.perf_counter()
        try:
            for epoch in range(epochs):
                for cb in callbacks:
                    _call(cb, "on_epoch_begin", self)
                t0 = time.perf_counter()
                if corpus_file is not None:
                    stats = self._train_epoch_file(engine, workers, corpus_file, epoch, schedule,
                                                   report_delay, bar)
                else:
                    stats = self._train_epoch_iterable(engine, workers, corpus_iterable, epoch, schedule,
                                                       total_examples, total_words, report_delay, bar)
                raw, kept, loss, terms = stats
                elapsed = time.perf_counter() - t0
                kept_total += kept
                raw_total += raw
                self.epochs_trained += 1
                if compute_loss:
                    self.running_training_loss = loss
                    self.loss_history.append(loss)
                logger.info("epoch %d/%d: %d raw words (%d kept) in %.1fs, %.0f words/s%s",
                            epoch + 1, epochs, raw, kept, elapsed, raw / max(elapsed, 1e-9),
                            f", loss {loss:.6g} ({loss / max(terms, 1):.4f}/term)" if compute_loss else "")
                for cb in callbacks:
                    _call(cb, "on_epoch_end", self)
        finally:
            for worker in workers:
                worker.close()
            if bar is not None:
                bar.close()
            self.wv.vectors_changed()
        self.total_train_time += time.perf_counter() - t_start
        for cb in callbacks:
            _call(cb, "on_train_end", self)
        return kept_total, raw_total

    def get_latest_training_loss(self) -> float:
        """Summed loss of the latest epoch (float64; needs compute_loss=True)."""
        return float(self.running_training_loss)

    # ---------------------------------------------------------------- epoch drivers
    def _job_seed(self, epoch: int, job: int) -> int:
        return _core.mix_seed(_core.mix_seed(self.seed, self.train_calls * 1_000_003 + self.epochs_trained),
                              job)

    def _jobs(self, corpus: Corpus, epoch: int, schedule: "_Schedule", total_examples: Optional[int],
              total_words: Optional[int]) -> Iterator[tuple]:
        """Batches of about ``batch_words`` raw words; long sentences are split, never cut."""
        key_to_index = self.wv.key_to_index
        cap = self.batch_words
        batch: List[Sequence[str]] = []
        batch_raw = 0
        words_done = sentences_done = 0
        job_no = 0

        def progress(words: int, sentences: int) -> float:
            if total_words:
                return min(words / total_words, 1.0)
            return min(sentences / total_examples, 1.0)

        def make_job(words: np.ndarray, ends: np.ndarray, raw: int) -> tuple:
            """A job with the learning rate at its first and last word (linear decay)."""
            nonlocal words_done, sentences_done, job_no
            p0 = progress(words_done, sentences_done)
            words_done += raw
            sentences_done += len(ends)
            p1 = progress(words_done, sentences_done)
            job_no += 1
            return (words, ends, raw, schedule.alpha(epoch, p0), schedule.alpha(epoch, p1),
                    self._job_seed(epoch, job_no - 1))

        def flush() -> tuple:
            nonlocal batch, batch_raw
            job = make_job(*_core.encode_sentences(batch, key_to_index))
            batch, batch_raw = [], 0
            return job

        if isinstance(corpus, LineSentence) and corpus.limit is None:
            # File-backed corpus: tokenise and look up whole blocks in C, without the GIL.
            # ASCII blocks tokenise exactly as str.split(); others take the Python path.
            index = self._token_index()
            for block in corpus.blocks(max(1 << 12, 8 * cap)):
                if block.isascii():
                    yield make_job(*_core.encode_text(block, index, corpus.max_sentence_length,
                                                      corpus.newline_ends_sentence))
                else:
                    yield make_job(*_core.encode_sentences(corpus.sentences_in_block(block), key_to_index))
            return

        for sentence in corpus:
            check_sentence(sentence)
            if not hasattr(sentence, "__len__"):
                sentence = list(sentence)
            n = len(sentence)
            start = 0
            while n - start > cap - batch_raw:
                take = cap - batch_raw
                batch.append(sentence[start:start + take] if (start or take < n) else sentence)
                batch_raw += take
                start += take
                yield flush()
            if n - start > 0:
                batch.append(sentence[start:] if start else sentence)
                batch_raw += n - start
            if batch_raw >= cap:
                yield flush()
        if batch:
            yield flush()

    def _train_epoch_iterable(self, engine, workers, corpus, epoch, schedule, total_examples, total_words,
                              report_delay, bar):
        # No reader thread: each worker reads and encodes its next job itself, under a lock,
        # while the other workers train. A separate reader would be a third thread on a
        # 2-core machine with workers=2 (taking a share of both cores: 20-30% of CBOW's
        # words/s), and with workers=1 it would run on a core the caller did not give us.
        # BENCHMARKS.md, "Iterable input: workers read for themselves".
        jobs = self._jobs(corpus, epoch, schedule, total_examples, total_words)
        read_lock = threading.Lock()
        done_q: "queue.Queue" = queue.Queue()

        def next_job(worker: int) -> Optional[tuple]:
            with read_lock:
                return next(jobs, None)

        def train(worker: int, job: tuple) -> tuple:
            words, ends, raw, a0, a1, seed = job
            return (raw, *workers[worker].train_job(words, ends, a0, a1, seed))

        threads = self._worker_threads(engine, done_q, next_job, train)
        try:
            return self._supervise(engine, threads, done_q, None, epoch, report_delay, bar)
        finally:
            jobs.close()  # the corpus's file is closed even when training stopped early

    def _train_epoch_file(self, engine, workers, path, epoch, schedule, report_delay, bar):
        size = os.path.getsize(path)
        n = self.workers
        n_pieces = max(n, -(-size // _FILE_PIECE_BYTES))
        bounds = [size * k // n_pieces for k in range(n_pieces + 1)]
        pieces = _PieceQueue(n_pieces, n)
        progress = np.zeros((n, 8), dtype=np.int64)  # one cache line per worker
        done_q: "queue.Queue" = queue.Queue()
        index = self._token_index()
        encoded_path = os.fsencode(path)

        def alphas(k: int) -> Tuple[float, float]:
            """Learning rates at the start and end of piece k: its share's progress there
            (all shares advance together)."""
            first, end = pieces.share_of(k)
            span = max(bounds[end] - bounds[first], 1)
            return (schedule.alpha(epoch, (bounds[k] - bounds[first]) / span),
                    schedule.alpha(epoch, (bounds[k + 1] - bounds[first]) / span))

        def train(i: int, k: int) -> tuple:
            return workers[i].train_file_range(index, encoded_path, bounds[k], bounds[k + 1], *alphas(k),
                                               self._job_seed(epoch, k), progress[i])

        threads = self._worker_threads(engine, done_q, pieces.take, train)
        return self._supervise(engine, threads, done_q, progress, epoch, report_delay, bar)

    def _worker_threads(self, engine, done_q: "queue.Queue", next_task, train) -> List[threading.Thread]:
        """``workers`` threads; thread i repeats ``task = next_task(i)`` (None ends) and
        ``train(i, task)`` -> (raw, kept, loss, terms), reporting to ``done_q``. An error stops
        the engine and is reported for the main thread to re-raise."""
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

        return [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(self.workers)]

    def _token_index(self):
        cached = getattr(self, "_token_index_cache", None)
        if cached is None or cached[0] != len(self.wv):
            cached = (len(self.wv), _core.TokenIndex(self.wv.index_to_key))
            self._token_index_cache = cached
        return cached[1]

    def _supervise(self, engine, threads, done_q, file_progress, epoch, report_delay, bar):
        """Run worker threads, gather their results, log progress; re-raise their errors."""
        n_exit_expected = self.workers
        raw = kept = terms = 0
        loss = 0.0
        errors: List[BaseException] = []
        exits = 0
        engine.clear_stop()
        t0 = last = time.perf_counter()
        shown = 0
        for t in threads:
            t.start()
        try:
            while exits < n_exit_expected:
                try:
                    msg = done_q.get(timeout=report_delay)
                except queue.Empty:
                    msg = None
                if msg is not None:
                    if msg[0] == "job":
                        raw += msg[1]
                        kept += msg[2]
                        loss += msg[3]
                        terms += msg[4]
                    elif msg[0] == "error":
                        errors.append(msg[1])
                    else:
                        exits += 1
                now = time.perf_counter()
                seen = raw if file_progress is None else int(file_progress[:, 0].sum())
                if bar is not None and seen > shown:
                    bar.update(seen - shown)
                    shown = seen
                if now - last >= report_delay and exits < n_exit_expected:
                    last = now
                    rate = seen / max(now - t0, 1e-9)
                    total = self.corpus_total_words or 0
                    eta = (total - seen) / rate if rate > 0 and total > seen else 0.0
                    logger.info("epoch %d: %d words, %.0f words/s, eta %.0fs",
                                epoch + 1, seen, rate, eta)
        except BaseException:
            engine.request_stop()
            for t in threads:
                t.join()
            raise
        for t in threads:
            t.join()
        if bar is not None and raw > shown:
            bar.update(raw - shown)
        if errors:
            raise errors[0]
        return raw, kept, loss, terms

    # ---------------------------------------------------------------- persistence
    def save(self, path: str) -> None:
        """Save everything needed to resume training (no pickle; atomic). See cyw2v.io."""
        from .io import save_model
        save_model(self, path)

    @classmethod
    def load(cls, path: str, mmap: Optional[str] = None) -> "Word2Vec":
        """Load a model written by :meth:`save`; ``mmap='r'`` maps the arrays read-only."""
        from .io import load_model
        return load_model(path, mmap=mmap, cls=cls)

    def _get_state(self) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
        """(JSON-serialisable metadata, arrays) describing everything needed to resume."""
        meta = {
            "params": self.get_params(),
            "index_to_key": list(self.wv.index_to_key),
            "corpus_count": int(self.corpus_count),
            "corpus_total_words": int(self.corpus_total_words),
            "epochs_trained": int(self.epochs_trained),
            "train_calls": int(self.train_calls),
            "loss_history": [float(x) for x in self.loss_history],
            "running_training_loss": float(self.running_training_loss),
            "total_train_time": float(self.total_train_time),
            "vocab_pruned": bool(self.vocab_pruned),
        }
        counts = self.wv.counts if self.wv.counts is not None else np.zeros(len(self.wv), np.int64)
        arrays = {"vectors": self.wv.vectors, "counts": counts, "syn1neg": self.syn1neg,
                  "syn1": self.syn1, "syn1softmax": self.syn1softmax}
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: Dict[str, Any], arrays: Dict[str, np.ndarray]) -> "Word2Vec":
        params = dict(PARAM_DEFAULTS)
        params.update({k: v for k, v in meta["params"].items() if k in PARAM_DEFAULTS})
        model = cls(**params)
        words = list(meta["index_to_key"])
        vectors = arrays["vectors"]
        V, d = len(words), model.vector_size
        if vectors.shape != (V, d):
            raise ValueError(f"vectors have shape {vectors.shape}, expected {(V, d)}")
        expected = {"syn1neg": (V if model.negative else 0, d), "syn1": (max(V - 1, 0) if model.hs else 0, d),
                    "syn1softmax": (V if model.softmax else 0, d), "counts": (V,)}
        for name, shape in expected.items():
            if tuple(arrays[name].shape) != shape:
                raise ValueError(f"{name} has shape {arrays[name].shape}, expected {shape}")
        # published as loaded (possibly memory-mapped read-only); train() copies them into
        # padded storage
        model.wv = KeyedVectors(words, vectors, np.asarray(arrays["counts"], dtype=np.int64))
        model.syn1neg, model.syn1, model.syn1softmax = arrays["syn1neg"], arrays["syn1"], arrays["syn1softmax"]
        for key in ("corpus_count", "corpus_total_words", "epochs_trained", "train_calls",
                    "running_training_loss", "total_train_time", "vocab_pruned"):
            if key in meta:
                setattr(model, key, meta[key])
        model.loss_history = list(meta.get("loss_history", []))
        if V:
            model._prepare_tables()
        return model


class _PieceQueue:
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


class _Schedule:
    """Linear learning-rate decay across all epochs of one train() call."""

    def __init__(self, start: float, end: float, epochs: int) -> None:
        self.start, self.end, self.epochs = start, end, epochs

    def alpha(self, epoch: int, fraction: float) -> float:
        progress = (epoch + fraction) / self.epochs
        return max(self.end, self.start - (self.start - self.end) * progress)


def padded_width(d: int) -> int:
    """Row length the engine trains on for vector_size d (d, or d padded with zeros)."""
    width = -(-d // _ROW_FLOATS) * _ROW_FLOATS
    return width if width - d <= d * _MAX_PADDING else d


def _padded_zeros(rows: int, d: int) -> np.ndarray:
    """Zeros, rows x padded_width(d) float32, the first row on a 64-byte boundary."""
    width = padded_width(d)
    flat = np.zeros(rows * width + 64 // 4, dtype=np.float32)
    start = (-flat.ctypes.data % 64) // flat.itemsize
    return flat[start:start + rows * width].reshape(rows, width)


def _is_view_of(view: np.ndarray, storage: np.ndarray) -> bool:
    """Whether ``view`` is exactly storage[:, :d] (same memory, rows and row stride)."""
    return (isinstance(view, np.ndarray) and view.dtype == np.float32 and view.ndim == 2
            and view.shape[0] == storage.shape[0] and view.shape[1] <= storage.shape[1]
            and view.strides == storage.strides and view.flags.writeable
            and view.__array_interface__["data"][0] == storage.__array_interface__["data"][0])


def _init_vectors(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """gensim 4's initialisation: uniform in [-1/d, 1/d) (word2vec.c uses half that range;
    the wider one trained CBOW-NS about half an analogy point better here, see BENCHMARKS.md)."""
    return ((rng.random((n, d), dtype=np.float32) * np.float32(2) - np.float32(1))
            / np.float32(d)).astype(np.float32)


def _check_corpus_file(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"corpus_file must be a path, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"corpus_file not found: {path}")
    if path.endswith((".gz", ".bz2")):
        raise ValueError(f"corpus_file must be uncompressed text (worker threads seek into it): {path}; "
                         "decompress it, or pass LineSentence(path) as the corpus")
    return path


def _call(callback: Any, hook: str, model: Word2Vec) -> None:
    fn = getattr(callback, hook, None)
    if fn is not None:
        fn(model)


def _make_progress_bar(enabled: bool, total: int):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        logger.warning("progress=True needs tqdm (pip install tqdm); logging progress instead")
        return None
    return tqdm(total=total or None, unit="word", unit_scale=True, smoothing=0.1)
