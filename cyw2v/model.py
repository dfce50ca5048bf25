"""The gensim-compatible ``Word2Vec``: a façade over the parameter table (:mod:`.params`),
the vocabulary (:mod:`.vocab`), the weights (:mod:`.weights`) and the trainer
(:mod:`.training`)."""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import _formats
from ._dispatch import core as _core
from .keyedvectors import KeyedVectors
from .params import BY_NAME, PARAM_DEFAULTS, STATE, batches_windows, bind, centres_per_block, check, \
    check_vocabulary_size, described, signature, validate
from .training import Callback, Corpus, Schedule, Source, Stats, Trainer, check_totals, notify, progress_bar, \
    train_epochs
from .vocab import Vocabulary, check_corpus_iterable, check_word_freq, scan_corpus, scan_corpus_file
from .weights import MATRICES, Weights, init_vectors, matrix_rows

__all__ = ["Word2Vec", "Callback", "PARAM_DEFAULTS"]

logger = logging.getLogger(__name__)

#: The table's parameters with gensim's extra arguments where gensim has them.
_SIGNATURE = signature(leading=[("sentences", None, "Optional[Corpus]"), ("corpus_file", None, "Optional[str]")],
                       inserts={"compute_loss": ("callbacks", (), "Sequence[Any]")},
                       trailing=[("progress", False, "bool")])


class Word2Vec:
    """word2vec: skip-gram or CBOW with negative sampling, hierarchical softmax and/or the
    exact full softmax, trained by nogil Cython kernels in ``workers`` threads.

    Parameters are those of :data:`cyw2v.params.PARAMETERS` (gensim's names and defaults,
    plus ``softmax``, ``batch_window`` and ``combine_windows``); bad values raise ValueError
    naming the parameter, here and when a parameter attribute is set later.

    >>> from cyw2v import Word2Vec
    >>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> model = Word2Vec(corpus, vector_size=8, min_count=1, workers=1, epochs=2)
    >>> model.wv["cat"].shape
    (8,)
    """

    wv: KeyedVectors
    syn1neg: np.ndarray
    syn1: np.ndarray
    syn1softmax: np.ndarray
    vocab: Vocabulary

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        a = bind(_SIGNATURE, "Word2Vec", (self, *args), kwargs)
        object.__setattr__(self, "_params", validate({k: v for k, v in a.items() if k in BY_NAME}))
        self.callbacks = tuple(a["callbacks"])
        self.progress = bool(a["progress"])
        self._weights = Weights(self.vector_size)
        self.vocab = Vocabulary()
        self._publish({name: np.zeros((0, self.vector_size), dtype=np.float32) for name in MATRICES})
        self.epochs_trained = self.train_calls = 0
        self.loss_history: List[float] = []
        self.running_training_loss = self.total_train_time = 0.0
        sentences, corpus_file = a["sentences"], a["corpus_file"]
        if sentences is not None and corpus_file is not None:
            raise ValueError("give either sentences or corpus_file, not both")
        if sentences is not None or corpus_file is not None:
            if sentences is not None:
                check_corpus_iterable(sentences, "sentences")
            self.fit(sentences, corpus_file=corpus_file)

    # ------------------------------------------------------------------ parameters
    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("_params")
        if params is not None and name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in BY_NAME:  # a parameter: the whole set is validated again
            if name == "vector_size" and value != self.vector_size:
                raise AttributeError("vector_size is fixed once the model exists")
            object.__setattr__(self, "_params", validate({**self._params, name: value}))
        else:
            object.__setattr__(self, name, value)

    def get_params(self) -> Dict[str, Any]:
        """Constructor parameters (JSON-serialisable)."""
        return dict(self._params)

    @property
    def batches_windows(self) -> bool:
        """Whether skip-gram trains each window as one batch: ``batch_window`` resolved
        (see :func:`cyw2v.params.batches_windows`)."""
        return batches_windows(self._params)

    @property
    def centres_per_block(self) -> int:
        """Skip-gram centre words trained as one block: ``combine_windows`` resolved."""
        return centres_per_block(self._params)

    corpus_count = Vocabulary.statistic("corpus_count", "Sentences in the corpus the vocabulary was built from.")
    corpus_total_words = Vocabulary.statistic("corpus_total_words", "Raw words in that corpus.")
    vocab_pruned = Vocabulary.statistic("pruned", "Whether max_vocab_size pruned words while counting.")

    def __repr__(self) -> str:
        arch = "skip-gram" if self.sg else "CBOW"
        return (f"Word2Vec({arch}, vocab={len(self.wv)}, vector_size={self.vector_size}, "
                f"window={self.window}, negative={self.negative}, hs={self.hs}, "
                f"softmax={bool(self.softmax)}, epochs_trained={self.epochs_trained})")

    # ------------------------------------------------------------------ vocabulary
    def build_vocab(self, corpus_iterable: Optional[Corpus] = None, corpus_file: Optional[str] = None,
                    update: bool = False, progress_per: int = 10_000_000) -> "Word2Vec":
        """Count the corpus in one streaming pass and prepare weights and tables."""
        source = Source.of(corpus_iterable, corpus_file)
        if source.path is not None:
            scan = scan_corpus_file(source.path, self.max_vocab_size)
        else:
            scan = scan_corpus(source.corpus, self.max_vocab_size, progress_per)
        if scan.total_words == 0:
            raise ValueError("the corpus is empty: it contains no tokens")
        return self._set_vocab(scan.counts, update, scan.total_sentences, scan.total_words, scan.pruned)

    def build_vocab_from_freq(self, word_freq: Dict[str, int], corpus_count: Optional[int] = None,
                              update: bool = False) -> "Word2Vec":
        """Build the vocabulary from a {word: count} mapping instead of a corpus."""
        check_word_freq(word_freq)
        return self._set_vocab(word_freq, update, corpus_count or 0, int(sum(word_freq.values())), False)

    def _set_vocab(self, raw_counts: Dict[str, int], update: bool, sentences: int, words: int,
                   pruned: bool) -> "Word2Vec":
        if update:
            if len(self.wv) == 0:
                raise RuntimeError("build_vocab(update=True) needs an existing vocabulary; "
                                   "call build_vocab first")
            vocab = self.vocab.updated(raw_counts, self.min_count, bool(self.sorted_vocab), sentences, words,
                                       pruned)
        else:
            vocab = Vocabulary.from_counts(raw_counts, self.min_count, self.max_final_vocab,
                                           bool(self.sorted_vocab), sentences, words, self.vocab_pruned or pruned)
            if len(vocab) == 0:
                top = max(raw_counts.values()) if raw_counts else 0
                raise ValueError(f"min_count={self.min_count} removed all {len(raw_counts)} word types "
                                 f"(the most frequent occurs {top} times); lower min_count")
            logger.info("vocabulary: %d words kept of %d (min_count=%d), %d corpus words",
                        len(vocab), len(raw_counts), self.min_count, words)
        check_vocabulary_size(self._params, len(vocab))
        # known words keep their rows (copied once into the new storage); new input rows are
        # initialised, new output rows start at zero; the Huffman tree is rebuilt from the
        # new counts and the inner-node rows keep their values
        V, V_old = len(vocab), len(self.wv) if update else 0
        rng = np.random.default_rng([self.seed, V_old, self.train_calls] if update else self.seed)
        old = {name: self._published(name) for name in MATRICES} if update else {}
        views = {name: self._weights.adopt(name, old.get(name), matrix_rows(name, V, self.negative, self.hs,
                                                                              self.softmax))
                 for name in MATRICES}
        views["vectors"][V_old:] = init_vectors(rng, V - V_old, self.vector_size)
        self._use_vocab(vocab, views)
        return self

    def _use_vocab(self, vocab: Vocabulary, matrices: Dict[str, np.ndarray]) -> None:
        self.vocab = vocab
        self.wv = KeyedVectors(vocab.index_to_key, matrices["vectors"], vocab.counts)
        self._publish(matrices)
        if len(vocab):
            vocab.prepare(self.sample, self.negative, self.ns_exponent, self.hs)

    def _published(self, name: str) -> np.ndarray:
        return self.wv.vectors if name == "vectors" else getattr(self, name)

    def _publish(self, matrices: Dict[str, np.ndarray]) -> None:
        for name, view in matrices.items():
            if name == "vectors":
                if "wv" in self.__dict__:
                    self.wv.vectors = view
                else:
                    self.wv = KeyedVectors([], view)
            else:
                setattr(self, name, view)

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
        source = Source.of(corpus_iterable, corpus_file)
        total_examples, total_words = check_totals(total_examples, total_words)
        epochs = self.epochs if epochs is None else check("epochs", epochs)
        start_alpha = self.alpha if start_alpha is None else check("alpha", start_alpha, "start_alpha")
        end_alpha = self.min_alpha if end_alpha is None else check("min_alpha", end_alpha, "end_alpha")
        compute_loss = bool(self.compute_loss if compute_loss is None else compute_loss)
        callbacks = tuple(self.callbacks if callbacks is None else callbacks)
        if total_words is None and total_examples is None:
            total_words, total_examples = self.corpus_total_words, self.corpus_count
        if source.corpus is not None and not total_words and not total_examples:
            raise ValueError("train needs total_examples or total_words to schedule the learning rate")
        trainer = self._trainer(compute_loss, source.longest_sentence(self.batch_words))
        self.train_calls += 1
        self.loss_history = [] if compute_loss else self.loss_history

        def on_epoch_end(stats: Stats) -> None:
            self.epochs_trained += 1
            if compute_loss:
                self.running_training_loss = stats.loss
                self.loss_history.append(stats.loss)
            notify(callbacks, "on_epoch_end", self)

        show = self.progress if progress is None else bool(progress)
        bar = progress_bar(show, epochs * (total_words or self.corpus_total_words or 0))
        notify(callbacks, "on_train_begin", self)
        t_start = time.perf_counter()
        try:
            total = train_epochs(trainer, source, Schedule(start_alpha, end_alpha, epochs), self._epoch_seed,
                                 total_examples, total_words, report_delay, bar,
                                 lambda: notify(callbacks, "on_epoch_begin", self), on_epoch_end)
        finally:
            if bar is not None:
                bar.close()
            self.wv.vectors_changed()
        self.total_train_time += time.perf_counter() - t_start
        notify(callbacks, "on_train_end", self)
        return total.kept, total.raw

    def _trainer(self, compute_loss: bool, max_sentence: Optional[int] = None) -> Trainer:
        """A trainer over this model's parameters, vocabulary and (padded) weights; arrays
        the user replaced are copied into storage first and their views published."""
        if len(self.vocab) == 0:
            raise RuntimeError("the model has no vocabulary: call build_vocab first")
        engine_weights, replaced = self._weights.for_training({name: self._published(name) for name in MATRICES})
        self._publish(replaced)
        return Trainer(self._params, self.vocab, engine_weights, compute_loss, max_sentence)

    def _epoch_seed(self) -> int:
        return _core.mix_seed(self.seed, self.train_calls * 1_000_003 + self.epochs_trained)

    def get_latest_training_loss(self) -> float:
        """Summed loss of the latest epoch (float64; needs compute_loss=True)."""
        return float(self.running_training_loss)

    # ---------------------------------------------------------------- persistence
    def save(self, path: str) -> None:
        """Save everything needed to resume training (no pickle; atomic). See cyw2v.io."""
        _formats.write_container(path, "model", type(self).__name__, *self._get_state())

    @classmethod
    def load(cls, path: str, mmap: Optional[str] = None, verify: bool = True) -> "Word2Vec":
        """Load a model written by :meth:`save`; ``mmap='r'`` maps the arrays read-only, after
        checking their CRC-32 unless ``verify=False``."""
        return _formats.load_container(path, "model", mmap, cls._from_state, verify)

    _STATE = (*STATE, "loss_history")  # the training record saved besides the parameters

    def _get_state(self) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
        """(JSON-serialisable metadata, arrays) describing everything needed to resume."""
        meta = {"params": self.get_params(), **self.vocab.state(),
                **{key: getattr(self, key) for key in self._STATE}}
        meta["loss_history"] = [float(x) for x in self.loss_history]
        arrays = {name: self._published(name) for name in MATRICES}
        arrays["counts"] = self.vocab.counts
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: Dict[str, Any], arrays: Dict[str, np.ndarray]) -> "Word2Vec":
        params = {k: v for k, v in meta["params"].items() if k in PARAM_DEFAULTS}
        model = cls(**params)
        vocab = Vocabulary.from_state(meta, np.asarray(arrays["counts"], dtype=np.int64))
        V, d = len(vocab), model.vector_size
        for name in MATRICES:
            shape = (matrix_rows(name, V, model.negative, model.hs, model.softmax), d)
            if tuple(arrays[name].shape) != shape or arrays[name].dtype.kind != "f":
                raise ValueError(f"{name} is {arrays[name].dtype} {arrays[name].shape}, expected float {shape}")
        # published as loaded (possibly memory-mapped read-only); train() copies them into
        # padded storage
        model._use_vocab(vocab, {name: arrays[name] for name in MATRICES})
        for key in STATE:
            if key in meta:
                setattr(model, key, STATE[key].check(key, meta[key]))
        model.loss_history = [STATE["running_training_loss"].check("loss_history", x)
                              for x in meta.get("loss_history", [])]
        return model


Word2Vec.__init__ = described(Word2Vec.__init__, _SIGNATURE)

