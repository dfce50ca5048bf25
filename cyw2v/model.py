"""The gensim-compatible ``Word2Vec``: a façade over the parameter table (:mod:`.params`),
the vocabulary (:mod:`.vocab`), the weights (:mod:`.weights`) and the trainer
(:mod:`.training`)."""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._dispatch import core as _core
from .keyedvectors import KeyedVectors
from .params import BY_NAME, PARAM_DEFAULTS, batches_windows, bind, centres_per_block, check, check_between, \
    check_vocabulary_size, described, learning_rate, signature, validate
from .persistence import ModelPersistence
from .scoring import Scoring
from .training import Callback, Corpus, Schedule, Source, Stats, Trainer, check_totals, notify, progress_bar, \
    train_epochs
from .vocab import CorpusScan, EmptyVocabularyError, TrimRule, Vocabulary, check_corpus_iterable, \
    check_word_freq, scan_corpus, scan_corpus_file
from .weights import MATRICES, Weights, estimate_memory, init_vectors, matrix_rows

__all__ = ["Word2Vec", "Callback", "PARAM_DEFAULTS"]

logger = logging.getLogger(__name__)

#: The table's parameters with gensim's extra arguments where gensim has them.
_SIGNATURE = signature(leading=[("sentences", None, "Optional[Corpus]"), ("corpus_file", None, "Optional[str]")],
                       inserts={"epochs": ("trim_rule", None, "Optional[TrimRule]"),
                                "compute_loss": ("callbacks", (), "Sequence[Any]")},
                       trailing=[("progress", False, "bool")])


class Word2Vec(ModelPersistence, Scoring):
    """word2vec: skip-gram or CBOW with negative sampling, hierarchical softmax and/or the
    exact full softmax, trained by nogil Cython kernels in ``workers`` threads.

    Parameters are those of :data:`cyw2v.params.PARAMETERS` (gensim's names and defaults,
    plus ``softmax``, ``batch_window``, ``combine_windows`` and ``cbow_gradient``), and gensim's ``trim_rule``
    and ``callbacks``; bad values raise ValueError naming the parameter, here and when a
    parameter attribute is set later (rules between parameters: here and when training starts).

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
        self.callbacks, self.trim_rule = tuple(a["callbacks"]), a["trim_rule"]
        self.min_alpha_yet_reached = self.alpha  # gensim warns when a later train() starts above it
        self.progress, self._scan = bool(a["progress"]), None   # _scan: the raw counts (scan_vocab)
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
        if name in self.__dict__.get("_params", ()):   # parameters read as attributes, as in gensim
            return self.__dict__["_params"][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in BY_NAME:  # a parameter: the whole set is validated again
            if name == "vector_size" and value != self.vector_size:
                raise AttributeError("vector_size is fixed once the model exists")
            object.__setattr__(self, "_params", validate({**self._params, name: value}, between=False))
        else:
            object.__setattr__(self, name, value)

    def get_params(self) -> Dict[str, Any]:
        """Constructor parameters (JSON-serialisable)."""
        return dict(self._params)

    @property
    def alpha(self) -> float:
        """The initial learning rate: ``alpha``, or for None this model's default (params.learning_rate)."""
        return learning_rate(self._params)

    @property
    def batches_windows(self) -> bool:
        """Whether skip-gram trains each window as one batch: ``batch_window`` resolved (params.batches_windows)."""
        return batches_windows(self._params)

    @property
    def centres_per_block(self) -> int:
        """Skip-gram centre words trained as one block: ``combine_windows`` resolved."""
        return centres_per_block(self._params)

    corpus_count = Vocabulary.statistic("corpus_count", "Sentences in the corpus the vocabulary was built from.")
    corpus_total_words = Vocabulary.statistic("corpus_total_words", "Raw words in that corpus.")
    vocab_pruned = Vocabulary.statistic("pruned", "Whether max_vocab_size pruned words while counting.")
    effective_min_count = Vocabulary.statistic("effective_min_count", "min_count as max_final_vocab raised it.")

    @property
    def cum_table(self) -> np.ndarray:
        """gensim's cumulative noise table (see :meth:`Vocabulary.cum_table`)."""
        return self.vocab.cum_table(self.ns_exponent)

    def estimate_memory(self, vocab_size: Optional[int] = None, report: Optional[Dict[str, int]] = None
                        ) -> Dict[str, int]:
        """Bytes the weight matrices take for ``vocab_size`` words (default: this vocabulary)."""
        return {**(report or {}), **estimate_memory(len(self.wv) if vocab_size is None else vocab_size,
                                                     self.vector_size, self.negative, self.hs, self.softmax)}

    def __repr__(self) -> str:
        return (f"Word2Vec({'skip-gram' if self.sg else 'CBOW'}, vocab={len(self.wv)}, vector_size={self.vector_size}, "
                f"window={self.window}, negative={self.negative}, hs={self.hs}, "
                f"softmax={bool(self.softmax)}, epochs_trained={self.epochs_trained})")

    # ------------------------------------------------------------------ vocabulary
    def build_vocab(self, corpus_iterable: Optional[Corpus] = None, corpus_file: Optional[str] = None,
                    update: bool = False, progress_per: int = 10_000_000, keep_raw_vocab: bool = False,
                    trim_rule: TrimRule = None) -> "Word2Vec":
        """Count the corpus in one streaming pass (:meth:`scan_vocab`), then keep the words and
        prepare weights and tables (:meth:`prepare_vocab`)."""
        self.scan_vocab(corpus_iterable, corpus_file, progress_per, trim_rule)
        self.prepare_vocab(update=update, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule)
        return self

    def build_vocab_from_freq(self, word_freq: Dict[str, int], keep_raw_vocab: bool = False,
                              corpus_count: Optional[int] = None, trim_rule: TrimRule = None,
                              update: bool = False) -> "Word2Vec":
        """Build the vocabulary from a {word: count} mapping instead of a corpus."""
        check_word_freq(word_freq)
        self._scan = CorpusScan(dict(word_freq), int(sum(word_freq.values())), corpus_count or 0)
        self.prepare_vocab(update=update, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule)
        return self

    def scan_vocab(self, corpus_iterable: Optional[Corpus] = None, corpus_file: Optional[str] = None,
                   progress_per: int = 10_000_000, trim_rule: TrimRule = None) -> Tuple[int, int]:
        """Count the corpus (kept as ``raw_vocab`` for :meth:`prepare_vocab`); returns
        (raw words, sentences)."""
        source = Source.of(corpus_iterable, corpus_file)
        rule = trim_rule if trim_rule is not None else self.trim_rule
        self._scan = (scan_corpus_file(source.path, self.max_vocab_size, workers=self.workers) if source.path
                      else scan_corpus(source.corpus, self.max_vocab_size, progress_per, rule))
        return self._scan.total_words, self._scan.total_sentences

    @property
    def raw_vocab(self) -> Optional[Dict[str, int]]:
        """Raw counts of the latest scan, until :meth:`prepare_vocab` (without keep_raw_vocab)."""
        return None if self._scan is None else self._scan.counts

    def prepare_vocab(self, update: bool = False, keep_raw_vocab: bool = False, trim_rule: TrimRule = None,
                      min_count: Optional[int] = None, sample: Optional[float] = None,
                      dry_run: bool = False) -> Dict[str, int]:
        """Keep the scanned words that min_count, max_final_vocab and ``trim_rule`` (else the
        constructor's) allow and initialise the weights; returns gensim's report (drop_unique,
        retain_total, downsample_unique, downsample_total, num_retained_words). ``dry_run``
        only reports."""
        scan = self._scan
        if scan is None:
            raise RuntimeError("prepare_vocab needs scan_vocab first")
        if scan.total_words == 0:
            raise EmptyVocabularyError("the corpus is empty: it contains no tokens")
        if min_count is not None:
            self.min_count = min_count
        if sample is not None:
            self.sample = sample
        rule = trim_rule if trim_rule is not None else self.trim_rule
        if update:
            if len(self.wv) == 0:
                raise RuntimeError("build_vocab(update=True) needs an existing vocabulary; call build_vocab first")
            vocab = self.vocab.updated(scan.counts, self.min_count, bool(self.sorted_vocab), scan.total_sentences,
                                       scan.total_words, scan.pruned, rule)
        else:
            vocab = Vocabulary.from_counts(scan.counts, self.min_count, self.max_final_vocab, bool(self.sorted_vocab),
                                           scan.total_sentences, scan.total_words,
                                           self.vocab_pruned or scan.pruned, rule)
            if len(vocab) == 0:
                top = max(scan.counts.values()) if scan.counts else 0
                raise EmptyVocabularyError(f"min_count={self.min_count} removed all {len(scan.counts)} word types "
                                           f"(the most frequent occurs {top} times); lower min_count"
                                           + (" or change trim_rule" if rule is not None else ""))
            logger.info("vocabulary: %d words kept of %d (min_count=%d), %d corpus words",
                        len(vocab), len(scan.counts), self.min_count, scan.total_words)
        check_vocabulary_size(self._params, len(vocab))
        report = vocab.report(scan.counts, self.sample)
        if not dry_run:
            self._init_weights(vocab, update)
            if not keep_raw_vocab:
                self._scan = None
        return report

    def reset_from(self, other_model: "Word2Vec") -> None:
        """Take ``other_model``'s vocabulary (words, counts, corpus statistics); start new weights."""
        other = other_model.vocab
        vocab = Vocabulary(other.index_to_key, other.counts.copy(), other.corpus_count, other.corpus_total_words,
                           other.pruned)
        vocab.effective_min_count = other.effective_min_count
        self._init_weights(vocab, update=False)

    def _init_weights(self, vocab: Vocabulary, update: bool) -> None:
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

    def _use_vocab(self, vocab: Vocabulary, matrices: Dict[str, np.ndarray]) -> None:
        self.vocab = vocab
        self.wv = KeyedVectors.from_arrays(vocab.index_to_key, matrices["vectors"], vocab.counts)
        self._publish(matrices)
        if len(vocab):
            vocab.prepare(self.sample, self.negative, self.ns_exponent, self.hs)
            if self.hs:  # gensim's per-word Huffman code and path, as vector attributes
                self.wv.expandos.update(vocab.huffman_paths())

    def _published(self, name: str) -> np.ndarray:
        return self.wv.vectors if name == "vectors" else getattr(self, name)

    def _publish(self, matrices: Dict[str, np.ndarray]) -> None:
        for name, view in matrices.items():
            if name == "vectors":
                if "wv" in self.__dict__:
                    self.wv.vectors = view
                else:
                    self.wv = KeyedVectors.from_arrays([], view)
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

        ``total_examples`` (sentences) or ``total_words`` sizes the schedule: an iterable corpus
        needs one, as in gensim; a ``corpus_file`` defaults to the counts from ``build_vocab``.
        ``epochs`` defaults to the model's. Returns (words kept after subsampling, raw words).
        """
        source = Source.of(corpus_iterable, corpus_file)
        total_examples, total_words = check_totals(total_examples, total_words)
        if source.corpus is not None and total_words is None and total_examples is None:
            raise ValueError("train needs total_examples or total_words (e.g. total_examples=model.corpus_count) "
                             "to schedule the learning rate")
        check_between(self._params)
        epochs = self.epochs if epochs is None else check("epochs", epochs)
        start_alpha = self.alpha if start_alpha is None else check("alpha", start_alpha, "start_alpha")
        end_alpha = self.min_alpha if end_alpha is None else check("min_alpha", end_alpha, "end_alpha")
        compute_loss = bool(self.compute_loss if compute_loss is None else compute_loss)
        callbacks = tuple(self.callbacks if callbacks is None else callbacks)
        if total_words is None and total_examples is None:
            total_words, total_examples = self.corpus_total_words, self.corpus_count
        if source.corpus is not None and not total_words and not total_examples:
            raise ValueError("train needs total_examples or total_words to schedule the learning rate")
        if self.hs and self.negative:
            logger.warning("Both hierarchical softmax and negative sampling are activated. This is probably a "
                           "mistake; set negative=0 or hs=0 unless you want both objectives.")
        if start_alpha > self.min_alpha_yet_reached:
            logger.warning("Effective 'alpha' higher than previous training cycles")
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
        self.min_alpha_yet_reached = end_alpha
        notify(callbacks, "on_train_end", self)
        return total.kept, total.raw

    def _trainer(self, compute_loss: bool, max_sentence: Optional[int] = None) -> Trainer:
        """A trainer over this model's parameters, vocabulary, (padded) weights and
        ``wv.vectors_lockf``; arrays the user replaced are copied into storage first and
        their views published."""
        if len(self.vocab) == 0:
            raise RuntimeError("the model has no vocabulary: call build_vocab first")
        engine_weights, replaced = self._weights.for_training({name: self._published(name) for name in MATRICES},
                                                              self.wv.vectors_lockf)
        self._publish(replaced)
        return Trainer(self._params, self.vocab, engine_weights, compute_loss, max_sentence)

    def _epoch_seed(self) -> int:
        return _core.mix_seed(self.seed, self.train_calls * 1_000_003 + self.epochs_trained)

    def get_latest_training_loss(self) -> float:
        """Summed loss of the latest epoch (float64; needs compute_loss=True)."""
        return float(self.running_training_loss)


Word2Vec.__init__ = described(Word2Vec.__init__, _SIGNATURE)

