"""Vocabulary: counting, pruning, subsampling thresholds, the noise distribution and the
Huffman tree."""
from __future__ import annotations

import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import _files
from ._dispatch import core as _core

logger = logging.getLogger(__name__)


#: 2**32: a keep threshold of this value keeps a word with probability exactly 1.
KEEP_ALWAYS = 1 << 32

#: What a ``trim_rule(word, count, min_count)`` returns (gensim.utils' values): apply
#: min_count, drop the word, or keep it whatever its count.
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2

TrimRule = Optional[Callable[[str, int, int], int]]


class EmptyVocabularyError(ValueError, RuntimeError):
    """The corpus is empty, or min_count (or trim_rule) removed every word: the documented
    ValueError, and the RuntimeError gensim raises."""


def keep_word(word: str, count: int, min_count: int, trim_rule: TrimRule = None) -> bool:
    """gensim's keep_vocab_item: ``trim_rule``'s verdict, or count >= min_count by default."""
    if trim_rule is not None:
        verdict = trim_rule(word, count, min_count)
        if verdict == RULE_KEEP:
            return True
        if verdict == RULE_DISCARD:
            return False
    return count >= min_count


def check_corpus_iterable(corpus: object, name: str = "corpus_iterable") -> None:
    """Reject a str/bytes or a one-shot iterator given where a restartable corpus is needed."""
    if isinstance(corpus, (str, bytes)):
        raise TypeError(
            f"{name} must be an iterable of token lists, not a {type(corpus).__name__}; "
            "for a file use LineSentence(path) or corpus_file=path")
    try:
        it = iter(corpus)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{name} must be an iterable of token lists, got {type(corpus).__name__}") from None
    if it is corpus:
        raise TypeError(
            f"{name} is a one-shot iterator (e.g. a generator); build_vocab and train each read "
            "the corpus (train once per epoch, or once with corpus_cache_mb), so pass a restartable iterable "
            "such as a list or LineSentence")


def check_sentence(sentence: object) -> None:
    if isinstance(sentence, (str, bytes)):
        raise TypeError(
            "each sentence must be a list of tokens (str), got a "
            f"{type(sentence).__name__}: {str(sentence)[:40]!r}; split it first, e.g. text.split()")


def check_word_freq(word_freq: object) -> None:
    """Reject anything but a non-empty dict of str -> non-negative int."""
    if not isinstance(word_freq, dict):
        raise TypeError("word_freq must be a dict of word -> count")
    for w, c in word_freq.items():
        if not isinstance(w, str):
            raise TypeError(f"word_freq keys must be str, got {w!r}")
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
            raise ValueError(f"count of {w!r} must be a non-negative integer, got {c!r}")
    if not word_freq:
        raise ValueError("word_freq is empty")


@dataclass
class CorpusScan:
    """Raw counts from one pass over a corpus."""
    counts: dict
    total_words: int
    total_sentences: int
    pruned: bool = False
    min_reduce: int = 1


def _prune_rare(counts: Counter, min_reduce: int, max_vocab_size: int, already_pruned: bool,
                trim_rule: TrimRule = None) -> None:
    """word2vec.c's ReduceVocab: drop every word seen at most ``min_reduce`` times (unless
    ``trim_rule`` keeps it)."""
    before = len(counts)
    for word in [w for w, c in counts.items() if not keep_word(w, c, min_reduce + 1, trim_rule)]:
        del counts[word]
    _log_pruning(before - len(counts), min_reduce, max_vocab_size, already_pruned)


def _log_pruning(removed: int, min_reduce: int, max_vocab_size: int, already_pruned: bool) -> None:
    if not already_pruned:
        logger.warning("vocabulary exceeded max_vocab_size=%d: pruning rare words; "
                       "word counts are now approximate", max_vocab_size)
    logger.info("pruned %d words seen <= %d times", removed, min_reduce)


def scan_corpus(corpus: Iterable[Sequence[str]], max_vocab_size: Optional[int] = None,
                progress_per: int = 10_000_000, trim_rule: TrimRule = None) -> CorpusScan:
    """Count tokens in one streaming pass.

    With ``max_vocab_size``, whenever more than that many distinct words are held, every
    word seen at most ``min_reduce`` times is dropped and ``min_reduce`` grows by one
    (word2vec.c's ReduceVocab): memory stays bounded but counts become approximate.
    """
    counts: Counter = Counter()
    total_words = 0
    total_sentences = 0
    min_reduce = 1
    pruned = False
    next_report = progress_per
    for sentence in corpus:
        check_sentence(sentence)
        counts.update(sentence)
        total_words += len(sentence)
        total_sentences += 1
        if max_vocab_size is not None and len(counts) > max_vocab_size:
            _prune_rare(counts, min_reduce, max_vocab_size, pruned, trim_rule)
            pruned = True
            min_reduce += 1
        if total_words >= next_report:
            logger.info("vocabulary scan: %d words, %d sentences, %d word types",
                        total_words, total_sentences, len(counts))
            next_report += progress_per
    check_tokens(counts)
    return CorpusScan(dict(counts), total_words, total_sentences, pruned, min_reduce)


def check_tokens(counts: Mapping[Any, int]) -> None:
    """Every distinct token must be a str: None, numbers or bytes would silently become
    vocabulary keys no file format can hold (TypeError). One pass over the distinct words."""
    for token in counts:
        if not isinstance(token, str):
            raise TypeError(f"tokens must be str, got {type(token).__name__} {token!r}; "
                            "convert them first, e.g. [str(t) for t in sentence]")


#: A file smaller than this is counted by one thread: below it the merge of the threads'
#: counts (in Python) eats what the second core saves (10 MB: 0.087 s either way; 20 MB:
#: 0.187 s against 0.144; 100 MB: 1.04 against 0.68, BENCHMARKS.md).
PARALLEL_SCAN_BYTES = 1 << 24


def scan_corpus_file(path: str, max_vocab_size: Optional[int] = None,
                     chunk_bytes: int = 1 << 22, workers: int = 1) -> CorpusScan:
    """Count tokens of a plain-text file with the same tokenisation as the engine's reader
    (ASCII whitespace, '\\n' ends a sentence). Keys are decoded with surrogateescape, so
    they map back to the exact bytes. With ``workers`` > 1, an uncompressed file of at least
    :data:`PARALLEL_SCAN_BYTES` and no ``max_vocab_size`` (whose pruning follows the stream's
    order), each thread counts one range of the file (cut after whitespace) and the counts
    are summed, keys in first-seen order as one thread would give them."""
    size = os.path.getsize(path) if os.path.isfile(path) else 0
    parts = workers if (workers > 1 and max_vocab_size is None and size >= PARALLEL_SCAN_BYTES
                        and not path.endswith((".gz", ".bz2"))) else 1
    if parts == 1:
        counted = [_count_range(path, chunk_bytes, 0, None, max_vocab_size)]
    else:
        cuts = _files.whitespace_cuts(path, parts)
        with ThreadPoolExecutor(parts) as pool:   # the counting releases the GIL
            counted = list(pool.map(lambda start, stop: _count_range(path, chunk_bytes, start, stop, None),
                                    cuts[:-1], cuts[1:]))
    counters = [c for c, _, _, _ in counted]
    last = next((b for _, b, _, _ in reversed(counted) if b), b"")
    _, _, pruned, min_reduce = counted[0]
    # a last line without '\n' counts (unless the file ends in ' ', '\t' or '\r')
    total_lines = sum(c.total_lines for c in counters) + (1 if last and last not in b" \n\t\r" else 0)
    total_words = sum(c.total_words for c in counters)
    items = counters[0].items()
    if len(counters) > 1:   # later ranges' new keys after the earlier ones': first-seen order
        summed: Dict[bytes, int] = dict(items)
        for counter in counters[1:]:
            for key, count in counter.items():
                summed[key] = summed.get(key, 0) + count
        items = list(summed.items())
    decoded = {k.decode("utf-8", "surrogateescape"): v for k, v in items}
    return CorpusScan(decoded, total_words, max(total_lines, 1 if total_words else 0), pruned, min_reduce)


def _count_range(path: str, chunk_bytes: int, start: int, stop: Optional[int],
                 max_vocab_size: Optional[int]) -> Tuple[Any, bytes, bool, int]:
    """One TokenCounter over bytes [start, stop) of the file, pruned as word2vec.c does when
    it grows past ``max_vocab_size``: (counter, the range's last byte, pruned, min_reduce)."""
    counter = _core.TokenCounter()
    min_reduce = 1
    pruned = False
    last = b""
    for block in _files.iter_blocks(path, chunk_bytes, lines=False, start=start, stop=stop):
        counter.add(block)   # each block ends after whitespace
        last = block[-1:]
        if max_vocab_size is not None and len(counter) > max_vocab_size:
            _log_pruning(counter.prune(min_reduce), min_reduce, max_vocab_size, pruned)
            pruned = True
            min_reduce += 1
    counter.finish()
    return counter, last, pruned, min_reduce


@dataclass(frozen=True)
class Tables:
    """What the engine reads besides the weights: keep thresholds for subsampling, the noise
    alias table (negative sampling) and the Huffman paths (hierarchical softmax); a table
    whose objective is off is empty."""
    keep: np.ndarray
    alias_prob: np.ndarray
    alias_index: np.ndarray
    hs_offset: np.ndarray
    hs_code: np.ndarray
    hs_point: np.ndarray


class Vocabulary:
    """The retained words and their counts, the statistics of the corpus they came from and
    the tables derived from them (:meth:`prepare`), plus the C token index for file input.

    Immutable once made: an online update (:meth:`updated`) makes a new one.
    """

    def __init__(self, index_to_key: Sequence[str] = (), counts: Optional[np.ndarray] = None,
                 corpus_count: int = 0, corpus_total_words: int = 0, pruned: bool = False) -> None:
        self.index_to_key: List[str] = list(index_to_key)
        self.counts = (np.zeros(len(self.index_to_key), np.int64) if counts is None
                       else np.asarray(counts, dtype=np.int64))
        if self.counts.shape != (len(self.index_to_key),):
            raise ValueError(f"counts has shape {self.counts.shape}, expected ({len(self.index_to_key)},)")
        self.corpus_count = int(corpus_count)
        #: None where unknown (models saved by gensim before 3.x had no such count)
        self.corpus_total_words = None if corpus_total_words is None else int(corpus_total_words)
        self.pruned = bool(pruned)
        self.effective_min_count: Optional[int] = None
        #: The Huffman tree a model was trained with, if not the one :func:`huffman` builds
        #: from the counts (a model read from gensim): (offsets, codes, points).
        self.huffman: Optional[tuple] = None
        self.tables: Optional[Tables] = None
        self._token_index = None
        self._key_to_index: Optional[Dict[str, int]] = None

    @classmethod
    def from_counts(cls, raw_counts: Mapping[str, int], min_count: int = 5,
                    max_final_vocab: Optional[int] = None, sorted_vocab: bool = True,
                    corpus_count: int = 0, corpus_total_words: Optional[int] = 0,
                    pruned: bool = False, trim_rule: TrimRule = None) -> "Vocabulary":
        """Keep words with count >= min_count (raised, if needed, so that at most
        ``max_final_vocab`` words remain; words tied at the cut are dropped together), or as
        ``trim_rule`` decides (see :func:`keep_word`). ``sorted_vocab`` orders by descending
        count, ties in first-seen order. The min_count used is ``effective_min_count``."""
        words = list(raw_counts.keys())
        counts = np.fromiter((raw_counts[w] for w in words), dtype=np.int64, count=len(words))
        effective_min = min_count
        if max_final_vocab is not None and len(words) > max_final_vocab:
            ranked = np.sort(counts)[::-1]
            # the first excluded word's count + 1 keeps exactly the words above the cut
            effective_min = max(min_count, int(ranked[max_final_vocab]) + 1)
            if effective_min > min_count:
                logger.info("max_final_vocab=%d raised min_count from %d to %d",
                            max_final_vocab, min_count, effective_min)
        if trim_rule is None:
            keep = np.flatnonzero(counts >= effective_min)
        else:
            keep = np.fromiter((i for i, w in enumerate(words) if keep_word(w, int(counts[i]), effective_min,
                                                                              trim_rule)), dtype=np.intp)
        if sorted_vocab:
            keep = keep[np.argsort(-counts[keep], kind="stable")]
        vocab = cls([words[i] for i in keep], counts[keep].copy(), corpus_count, corpus_total_words, pruned)
        vocab.effective_min_count = effective_min
        return vocab

    def updated(self, raw_counts: Mapping[str, int], min_count: int, sorted_vocab: bool,
                corpus_count: int, corpus_total_words: int, pruned: bool,
                trim_rule: TrimRule = None) -> "Vocabulary":
        """This vocabulary with the new counts added to known words and the new words that
        :func:`keep_word` keeps appended (by descending count if ``sorted_vocab``): known words
        keep their rows, so the weights only grow."""
        index = self.key_to_index()
        counts = self.counts.copy()
        new_words: List[str] = []
        new_counts: List[int] = []
        for word, c in raw_counts.items():
            idx = index.get(word)
            if idx is not None:
                counts[idx] += c
            elif keep_word(word, c, min_count, trim_rule):
                new_words.append(word)
                new_counts.append(c)
        if new_words and sorted_vocab:
            order = np.argsort(-np.asarray(new_counts), kind="stable")
            new_words = [new_words[i] for i in order]
            new_counts = [new_counts[i] for i in order]
        logger.info("vocabulary update: %d new words, %d known words recounted", len(new_words), len(self))
        vocab = Vocabulary(self.index_to_key + new_words,
                           np.concatenate([counts, np.asarray(new_counts, dtype=np.int64)]),
                           corpus_count, corpus_total_words, self.pruned or pruned)
        vocab.effective_min_count = min_count
        return vocab

    def report(self, raw_counts: Mapping[str, int], sample: float) -> Dict[str, int]:
        """gensim's prepare_vocab figures for this vocabulary made from ``raw_counts``."""
        kept = self.counts
        p = keep_probabilities(kept, sample)
        return {"drop_unique": len(raw_counts) - len(self) if len(raw_counts) >= len(self) else 0,
                "retain_total": int(kept.sum()), "downsample_unique": int((p < 1.0).sum()),
                "downsample_total": int((p * kept).sum()), "num_retained_words": len(self)}

    def __len__(self) -> int:
        return len(self.index_to_key)

    @staticmethod
    def statistic(name: str, doc: str) -> property:
        """A property of an owner with a ``vocab`` that reads and sets ``vocab.<name>``."""
        def set_value(owner: Any, value: Any) -> None:
            old = getattr(owner.vocab, name)
            setattr(owner.vocab, name, value if value is None or old is None else type(old)(value))

        return property(lambda owner: getattr(owner.vocab, name), set_value, doc=doc)

    def key_to_index(self) -> Dict[str, int]:
        """Word -> row (made once; do not modify)."""
        if self._key_to_index is None:
            self._key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        return self._key_to_index

    def prepare(self, sample: float, negative: int, ns_exponent: float, hs: int) -> Tables:
        """Build (and keep) the engine's tables for these parameters."""
        counts = self.counts
        empty_u32, empty_i32 = np.zeros(0, np.uint32), np.zeros(0, np.int32)
        alias_prob, alias_index = empty_u32, empty_i32
        if negative:
            probs = noise_distribution(np.maximum(counts, 0), ns_exponent) if counts.sum() > 0 \
                else np.full(len(counts), 1.0 / len(counts))
            alias_prob, alias_index = alias_table(probs)
        if hs:
            hs_offset, hs_code, hs_point = self.huffman if self.huffman is not None else huffman(counts)
        else:
            hs_offset = np.zeros(len(counts) + 1, np.int64)
            hs_code, hs_point = np.zeros(0, np.uint8), empty_i32
        self.tables = Tables(keep_thresholds(counts, sample), alias_prob, alias_index,
                             hs_offset, hs_code, hs_point)
        return self.tables

    def token_index(self) -> "_core.TokenIndex":
        """The words in a C hash table, for tokenising files without Python objects."""
        if self._token_index is None:
            self._token_index = _core.TokenIndex(self.index_to_key)
        return self._token_index

    def state(self) -> Dict[str, Any]:
        """JSON-serialisable metadata (the counts are saved as an array)."""
        return {"index_to_key": list(self.index_to_key), "corpus_count": self.corpus_count,
                "corpus_total_words": self.corpus_total_words, "vocab_pruned": self.pruned,
                "effective_min_count": self.effective_min_count}

    def huffman_paths(self) -> Dict[str, np.ndarray]:
        """gensim's 'code' and 'point' vector attributes of the prepared tree: per word, its
        codes and inner-node rows (object arrays of array slices; kept in memory only)."""
        tables = self.tables
        out = {}
        for attr, flat in (("code", tables.hs_code), ("point", tables.hs_point)):
            out[attr] = per_word = np.empty(len(self), dtype=object)
            for i, part in enumerate(np.split(flat, tables.hs_offset[1:-1])):
                per_word[i] = part
        return out

    def huffman_arrays(self) -> Dict[str, np.ndarray]:
        """The Huffman tree as arrays to save, if it is not the one the counts give."""
        if self.huffman is None:
            return {}
        return dict(zip(("hs_offset", "hs_code", "hs_point"), self.huffman))

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], counts: np.ndarray,
                   arrays: Optional[Mapping[str, np.ndarray]] = None) -> "Vocabulary":
        if counts.size and counts.min() < 0:
            raise ValueError("negative word counts")
        vocab = cls(meta["index_to_key"], counts, meta.get("corpus_count", 0),
                    meta.get("corpus_total_words", 0), meta.get("vocab_pruned", False))
        vocab.effective_min_count = meta.get("effective_min_count")
        if arrays is not None and "hs_code" in arrays:
            vocab.huffman = tuple(np.asarray(arrays[k]) for k in ("hs_offset", "hs_code", "hs_point"))
        return vocab

    def cum_table(self, ns_exponent: float, domain: int = 2 ** 31 - 1) -> np.ndarray:
        """gensim's cumulative noise table (uint32, ``domain`` at the end), for code that reads it;
        cyw2v itself draws negatives from an alias table of the same distribution."""
        if not len(self):
            return np.zeros(0, dtype=np.uint32)
        weights = noise_distribution(np.maximum(self.counts, 0), ns_exponent) if self.counts.sum() else \
            np.full(len(self), 1.0 / len(self))
        return np.round(np.cumsum(weights) * domain).astype(np.uint32)


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec.c's subsampling keep probability, capped at 1:
    p(w) = (sqrt(f / (s T)) + 1) * (s T) / f, with f the word's count and T the total."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0 or counts.size == 0:
        return np.ones(counts.shape, dtype=np.float64)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        p = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    p[~np.isfinite(p)] = 1.0
    return np.minimum(p, 1.0)


def keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """Keep probabilities as integer thresholds for a 32-bit uniform draw (uint64, <= 2**32)."""
    p = keep_probabilities(counts, sample)
    return np.minimum(np.round(p * KEEP_ALWAYS), KEEP_ALWAYS).astype(np.uint64)


def noise_distribution(counts: np.ndarray, ns_exponent: float) -> np.ndarray:
    """P_noise(w) proportional to count(w) ** ns_exponent (float64, sums to 1)."""
    weights = np.asarray(counts, dtype=np.float64) ** ns_exponent
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("noise distribution is degenerate: all words have zero weight")
    return weights / total


def alias_table(probabilities: np.ndarray) -> tuple:
    """Vose's alias method: (prob as uint32 thresholds out of 2**32, alias indices int32).

    Drawing: column i uniform, then keep i if a 32-bit uniform < prob[i], else alias[i].
    Full columns have alias[i] = i, so the 2**32 - 1 cap changes nothing.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    n = p.size
    scaled = p * n
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int32)
    small = [i for i in np.flatnonzero(scaled < 1.0)]
    large = [i for i in np.flatnonzero(scaled >= 1.0)]
    scaled = scaled.tolist()
    while small and large:
        s = small.pop()
        g = large.pop()
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        (small if scaled[g] < 1.0 else large).append(g)
    # leftovers are 1 up to rounding
    thresholds = np.minimum(np.round(prob * KEEP_ALWAYS), KEEP_ALWAYS - 1).astype(np.uint32)
    full = prob >= 1.0
    alias[full] = np.flatnonzero(full)
    return thresholds, alias


def alias_distribution(thresholds: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """The exact distribution an alias table draws from (for tests)."""
    n = thresholds.size
    keep = thresholds.astype(np.float64) / KEEP_ALWAYS
    out = keep / n
    np.add.at(out, alias, (1.0 - keep) / n)
    return out


def huffman(counts: np.ndarray) -> tuple:
    """(offsets, codes, points) of the Huffman tree; see :func:`cyw2v._core.build_huffman`."""
    return _core.build_huffman(np.ascontiguousarray(counts, dtype=np.int64))
