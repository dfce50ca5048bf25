"""KeyedVectors: a word -> vector mapping with similarity queries, evaluation and persistence.

Query semantics (and float32 arithmetic) follow gensim 4.4's ``KeyedVectors``, so results
agree with gensim on the same vectors. Every vocabulary-wide query is one BLAS product over
the vector matrix plus a partial sort; row norms are cached until the vectors change.
"""
from __future__ import annotations

import logging
from numbers import Integral, Real
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _formats, _gensim_pickle
from ._ranking import GROUP, argsort_desc, block_top, unitvec
from .distances import Distances
from .evaluation import Evaluation
from .interchange import Word2VecFormat

logger = logging.getLogger(__name__)

Key = str
WordOrVector = Union[str, np.ndarray]
Terms = Union[WordOrVector, Sequence[Union[WordOrVector, Tuple[WordOrVector, float]]], None]

#: Question-batch size for analogy evaluation is chosen so that one score block holds about
#: this many float32 values (64 MiB).
_BLOCK_ELEMENTS = 1 << 24


class KeyedVectors(Evaluation, Distances, Word2VecFormat):
    """Vectors indexed by word, with cached row norms for similarity queries.

    ``KeyedVectors(vector_size, count=0, dtype=np.float32)`` is gensim's constructor: ``count``
    empty slots (key None, zero vector) that :meth:`add_vector` fills in order.
    ``KeyedVectors(keys, vectors, counts=None)`` (also :meth:`from_arrays`) wraps existing rows.

    >>> kv = KeyedVectors(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> kv["a"].tolist(), "b" in kv, len(kv)
    ([1.0, 0.0], True, 2)
    >>> kv.most_similar("a", topn=1)
    [('b', 0.0)]
    >>> KeyedVectors(3).vectors.shape
    (0, 3)
    """

    def __init__(self, vector_size: Union[int, Sequence[str]], count: Any = 0, dtype: Any = np.float32,
                 counts: Optional[np.ndarray] = None) -> None:
        if isinstance(vector_size, Integral) and not isinstance(vector_size, bool):
            if not isinstance(count, Integral) or count < 0:
                raise ValueError(f"count must be a non-negative integer, got {count!r}")
            index_to_key: List[Optional[str]] = [None] * int(count)   # gensim's empty slots
            vectors = np.zeros((int(count), int(vector_size)), dtype=dtype)
        else:  # KeyedVectors(keys, vectors, counts)
            index_to_key, vectors = list(vector_size), np.asarray(count)
            if counts is None and dtype is not np.float32:  # the third positional argument: counts
                counts = dtype
            if vectors.ndim != 2:
                raise ValueError(f"vectors must be 2-D, got shape {vectors.shape}")
            if len(index_to_key) != vectors.shape[0]:
                raise ValueError(f"{len(index_to_key)} keys but {vectors.shape[0]} vectors")
            for key in index_to_key:
                if not isinstance(key, str):
                    raise TypeError(f"keys are str, got {type(key).__name__} {key!r}")
        if vectors.dtype.kind != "f":
            raise TypeError(f"vectors must have a float dtype, got {vectors.dtype}")
        self.index_to_key = index_to_key
        self.key_to_index: Dict[str, int] = {k: i for i, k in enumerate(index_to_key) if k is not None}
        if len(self.key_to_index) != len(index_to_key) and None not in index_to_key:
            raise ValueError("duplicate keys")
        #: The next empty slot :meth:`add_vector` fills (gensim's preallocation).
        self.next_index = len(self.key_to_index)
        if counts is not None and len(counts) != len(index_to_key):
            raise ValueError(f"{len(counts)} counts for {len(index_to_key)} keys")
        self._vectors = vectors
        #: gensim's per-key attributes: name -> array with one entry per row ('count', ...).
        self.expandos: Dict[str, np.ndarray] = {}
        self.counts = counts
        self.vectors_lockf = np.ones(1, dtype=np.float32)
        self._norms: Optional[np.ndarray] = None
        self._div_norms: Optional[np.ndarray] = None

    @classmethod
    def from_arrays(cls, index_to_key: Sequence[str], vectors: np.ndarray,
                    counts: Optional[np.ndarray] = None) -> "KeyedVectors":
        """KeyedVectors over existing rows (``vectors`` is used as given, not copied)."""
        return cls(list(index_to_key), vectors, counts=counts)

    # --- gensim's per-key attributes ----------------------------------------------------------
    @property
    def counts(self) -> Optional[np.ndarray]:
        """Corpus count per row (int64), or None where unknown (e.g. a word2vec.c file read
        without its vocabulary file; ``get_vecattr(key, 'count')`` then gives gensim's stand-in
        counts, ``len(self) - row``)."""
        return self.expandos.get("count") if self._counts_known else None

    @counts.setter
    def counts(self, value: Optional[np.ndarray]) -> None:
        self._counts_known = value is not None
        if value is None:
            self.expandos["count"] = np.arange(len(self.index_to_key), 0, -1, dtype=np.int64)
        else:
            self.expandos["count"] = np.asarray(value, dtype=np.int64)

    def allocate_vecattrs(self, attrs: Optional[Sequence[str]] = None, types: Optional[Sequence[Any]] = None) -> None:
        """Make sure every attribute of ``attrs`` (and every existing one) has one entry per row."""
        for attr, t in zip(attrs or (), types or (object,) * len(attrs or ())):
            if attr not in self.expandos:
                dtype = np.int64 if issubclass(t, Integral) else np.float64 if issubclass(t, Real) else object
                self.expandos[attr] = np.zeros(len(self.index_to_key), dtype=dtype)
        for attr, values in self.expandos.items():
            if len(values) < len(self.index_to_key):
                grown = np.zeros(len(self.index_to_key), dtype=values.dtype)
                grown[:len(values)] = values
                self.expandos[attr] = grown

    def get_vecattr(self, key: Key, attr: str) -> Any:
        """Attribute ``attr`` ('count', ...) of ``key``."""
        return self.expandos[attr][self.get_index(key)]

    def set_vecattr(self, key: Key, attr: str, val: Any) -> None:
        """Set attribute ``attr`` of ``key`` (a new attribute gets an entry for every row)."""
        self.allocate_vecattrs([attr], [type(val)])
        if attr == "count":
            if val is None:
                val = 0
            if not self._counts_known or not self.expandos["count"].flags.writeable:
                self.expandos["count"] = self.expandos["count"].copy()  # shared with a vocabulary
                self._counts_known = True
        self.expandos[attr][self.get_index(key)] = val

    def add_lifecycle_event(self, event_name: str, log_level: int = logging.INFO, **event: Any) -> None:
        """Log an event (gensim keeps a list of them; nothing is stored here)."""
        logger.log(log_level, "%s: %s", event_name, event)

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} keys, vector_size={self.vector_size}, dtype={self._vectors.dtype})"

    # --- basic mapping ---------------------------------------------------------------
    @property
    def vectors(self) -> np.ndarray:
        return self._vectors

    @vectors.setter
    def vectors(self, value: np.ndarray) -> None:
        self._vectors = value
        self.vectors_changed()

    @property
    def vector_size(self) -> int:
        return int(self._vectors.shape[1])

    def vectors_changed(self) -> None:
        """Drop cached norms; call after modifying ``vectors`` in place."""
        self._norms = None
        self._div_norms = None

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self.key_to_index
        except TypeError:  # unhashable, e.g. a list
            return False

    def has_index_for(self, key: object) -> bool:
        """True if ``key`` has a row (same as ``key in self``)."""
        return key in self

    def __iter__(self):
        return iter(self.index_to_key)

    def get_index(self, key: Key, default: Optional[int] = None) -> int:
        """Row of ``key``; ``default`` if given and the key is unknown, else KeyError."""
        try:
            return self.key_to_index[key]
        except KeyError:
            if default is not None:
                return default
            raise KeyError(f"word {key!r} not in vocabulary") from None
        except TypeError:
            raise TypeError(f"keys are str, got {type(key).__name__}") from None

    def get_vector(self, key: Key, norm: bool = False) -> np.ndarray:
        """The row of ``key`` (a view); ``norm=True`` gives a unit-length copy (zero stays zero)."""
        index = self.get_index(key)
        if norm:
            return self._vectors[index] / self._safe_norms()[index]
        return self._vectors[index]

    def __getitem__(self, key: Union[Key, Iterable[Key]]) -> np.ndarray:
        if isinstance(key, str):
            return self.get_vector(key)
        if isinstance(key, np.ndarray) and key.dtype.kind in "iu":
            return self._vectors[key]
        rows = [self.get_index(k) for k in key]
        return self._vectors[np.asarray(rows, dtype=np.intp)]

    def most_similar_to_given(self, key1: Key, keys_list: Sequence[Key]) -> Key:
        """The key of ``keys_list`` most similar to ``key1``."""
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    # --- growing -----------------------------------------------------------------------
    def add_vectors(self, keys: Union[Key, Sequence[Key]], weights: Union[np.ndarray, Sequence[np.ndarray]],
                    extras: Optional[Dict[str, Any]] = None, replace: bool = False) -> None:
        """Append new keys with their vectors (cast to the vectors' dtype); known keys keep their
        vector unless ``replace``. ``extras`` maps attribute names to one value per key.

        New keys get count 0. On a model's ``wv`` use ``build_vocab(update=True)`` instead,
        which also grows the output weights.
        """
        if isinstance(keys, str):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        keys = list(keys)
        weights = np.asarray(weights)
        if weights.ndim != 2 or weights.shape != (len(keys), self.vector_size):
            raise ValueError(f"weights must have shape {(len(keys), self.vector_size)}, got {weights.shape}")
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate keys in add_vectors")
        for k in keys:
            if not isinstance(k, str):
                raise TypeError(f"keys are str, got {type(k).__name__}")
        known = np.fromiter((k in self.key_to_index for k in keys), dtype=bool, count=len(keys))
        new_rows = np.flatnonzero(~known)
        vectors = self._vectors
        if replace and known.any():
            if not vectors.flags.writeable:
                vectors = vectors.copy()
            vectors[[self.key_to_index[keys[i]] for i in np.flatnonzero(known)]] = weights[known]
        if new_rows.size:
            vectors = np.vstack([vectors, weights[new_rows].astype(vectors.dtype)])
            for i in new_rows:
                self.key_to_index[keys[i]] = len(self.index_to_key)
                self.index_to_key.append(keys[i])
            self.allocate_vecattrs()
        for attr, values in (extras or {}).items():
            self.allocate_vecattrs([attr], [type(values[0])])
            for key, value in zip(keys, values):
                self.expandos[attr][self.key_to_index[key]] = value
        self.vectors = vectors  # also drops the cached norms

    def add_vector(self, key: Key, vector: np.ndarray) -> int:
        """Put one new key in the next empty slot (see the constructor), else append it; a known
        key keeps its row. Returns the row."""
        if key in self.key_to_index:
            return self.key_to_index[key]
        slot = self.next_index
        if slot < len(self.index_to_key) and self.index_to_key[slot] is None:
            if not self._vectors.flags.writeable:
                self._vectors = self._vectors.copy()
            self._vectors[slot] = np.asarray(vector).reshape(-1)
            self.index_to_key[slot] = key
            self.key_to_index[key] = slot
            self.vectors_changed()
        else:
            slot = len(self.index_to_key)
            self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        self.next_index = slot + 1
        return slot

    def __setitem__(self, keys: Union[Key, Sequence[Key]], weights: np.ndarray) -> None:
        if isinstance(keys, str):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        self.add_vectors(keys, weights, replace=True)

    # --- norms -----------------------------------------------------------------------
    def get_norms(self) -> np.ndarray:
        """L2 norm of every row (cached)."""
        if self._norms is None or self._norms.shape[0] != self._vectors.shape[0]:
            vectors = self._vectors
            # Row blocks bound the squared-values temporary (1.2 GB for 1M x 300 at once);
            # each row's norm is the same as np.linalg.norm of the whole matrix gives.
            step = 1 << 16
            self._norms = np.concatenate([np.linalg.norm(vectors[s:s + step], axis=1)
                                          for s in range(0, vectors.shape[0], step)]) \
                if vectors.shape[0] > step else np.linalg.norm(vectors, axis=1)
            self._div_norms = None
        return self._norms

    @property
    def norms(self) -> Optional[np.ndarray]:
        """The cached row norms (None until :meth:`fill_norms` or a query computed them)."""
        if self._norms is not None and self._norms.shape[0] != self._vectors.shape[0]:
            return None
        return self._norms

    @norms.setter
    def norms(self, value: Optional[np.ndarray]) -> None:
        self._norms = None if value is None else np.asarray(value)
        self._div_norms = None

    def fill_norms(self, force: bool = False) -> None:
        """Compute the row norms now (again if ``force``)."""
        if force:
            self.vectors_changed()
        self.get_norms()

    def unit_normalize_all(self) -> None:
        """Scale every row to unit length, in place (zero rows stay zero); the original
        lengths are lost."""
        div = self._safe_norms()
        if not self._vectors.flags.writeable:
            self._vectors = self._vectors.copy()
        self._vectors /= div[:, None].astype(self._vectors.dtype)
        self.vectors_changed()
        self._norms = np.ones(self._vectors.shape[0], dtype=self._vectors.dtype)

    def init_sims(self, replace: bool = False) -> None:
        """gensim's deprecated spelling: :meth:`fill_norms`, and with ``replace``
        :meth:`unit_normalize_all`."""
        self.fill_norms()
        if replace:
            self.unit_normalize_all()

    def _safe_norms(self) -> np.ndarray:
        """Norms with zeros replaced by 1, so a zero row has similarity 0 rather than NaN."""
        norms = self.get_norms()
        if self._div_norms is None:
            self._div_norms = np.where(norms > 0, norms, norms.dtype.type(1)) if (norms == 0).any() else norms
        return self._div_norms

    def get_normed_vectors(self) -> np.ndarray:
        """A unit-length copy of every row (zero rows stay zero)."""
        return self._vectors / self._safe_norms()[:, None]

    # --- queries ---------------------------------------------------------------------
    def similarity(self, w1: Key, w2: Key) -> float:
        """Cosine similarity of two keys."""
        return float(self._similarity32(self.get_index(w1), self.get_index(w2)))

    def _similarity32(self, i: int, j: int) -> np.floating:
        return np.dot(unitvec(self._vectors[i]), unitvec(self._vectors[j]))

    def distance(self, w1: Key, w2: Key) -> float:
        """Cosine distance, 1 - similarity."""
        return float(1 - self._similarity32(self.get_index(w1), self.get_index(w2)))

    def n_similarity(self, ws1: Sequence[Key], ws2: Sequence[Key]) -> float:
        """Cosine similarity of the (unnormalised) mean vectors of two key sets."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("at least one of the key lists is empty")
        m1 = self.get_mean_vector(ws1, pre_normalize=False, ignore_missing=False)
        m2 = self.get_mean_vector(ws2, pre_normalize=False, ignore_missing=False)
        return float(np.dot(unitvec(m1), unitvec(m2)))

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """Cosine similarity of one vector with each row of ``vectors_all``."""
        vectors_all = np.asarray(vectors_all)
        return _cosines(np.asarray(vector_1), vectors_all, np.linalg.norm(vectors_all, axis=1))

    def distances(self, word_or_vector: WordOrVector, other_words: Sequence[Key] = ()) -> np.ndarray:
        """Cosine distances from a key or vector to ``other_words`` (default: every key)."""
        vec = self.get_vector(word_or_vector) if isinstance(word_or_vector, str) else np.asarray(word_or_vector)
        if not other_words:
            return 1 - _cosines(vec, self._vectors, self.get_norms())
        rows = np.asarray([self.get_index(w) for w in other_words], dtype=np.intp)
        return 1 - _cosines(vec, self._vectors[rows], self.get_norms()[rows])

    def closer_than(self, key1: Key, key2: Key) -> List[Key]:
        """Every key closer to ``key1`` than ``key2`` is."""
        dists = self.distances(key1)
        i1, i2 = self.get_index(key1), self.get_index(key2)
        return [self.index_to_key[i] for i in np.flatnonzero(dists < dists[i2]) if i != i1]

    def rank(self, key1: Key, key2: Key) -> int:
        """1 + the number of keys closer to ``key1`` than ``key2``."""
        return len(self.closer_than(key1, key2)) + 1

    def get_mean_vector(self, keys: Sequence[WordOrVector], weights: Optional[Sequence[float]] = None,
                        pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """Weighted mean of key vectors (unit-normed first if ``pre_normalize``) and raw vectors,
        divided by the sum of |weights| of the items used."""
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        dtype = self._vectors.dtype
        if weights is None:
            weights = np.ones(len(keys), dtype=dtype)
        elif isinstance(weights, (list, tuple)):
            weights = np.array(weights, dtype=dtype)
        if len(keys) != weights.shape[0]:
            raise ValueError("keys and weights array must have same number of elements")
        # Accumulate in the vectors' dtype, term by term, exactly as gensim does, so that
        # means (and hence rankings) agree with it bit for bit.
        mean = np.zeros(self.vector_size, dtype)
        total = 0
        for key, w in zip(keys, weights):
            if isinstance(key, np.ndarray):
                mean += w * key
                total += abs(w)
            elif key in self:
                mean += w * self.get_vector(key, norm=pre_normalize)
                total += abs(w)
            elif not ignore_missing:
                raise KeyError(f"word {key!r} not in vocabulary")
        if total > 0:
            mean = mean / total
        if post_normalize:
            mean = unitvec(mean).astype(np.float32)
        return mean

    def _limit(self, restrict_vocab: Optional[int]) -> int:
        return len(self) if not restrict_vocab else min(int(restrict_vocab), len(self))

    def _scores(self, unit_query: np.ndarray, limit: int) -> np.ndarray:
        """Cosine of ``unit_query`` with the first ``limit`` rows: one GEMV."""
        return np.dot(self._vectors[:limit], unit_query) / self._safe_norms()[:limit]

    def most_similar(self, positive: Terms = None, negative: Terms = None, topn: Optional[int] = 10,
                     restrict_vocab: Optional[int] = None) -> Union[List[Tuple[str, float]], np.ndarray]:
        """Keys nearest by cosine to the weighted mean of the unit ``positive`` minus the unit
        ``negative`` vectors (3CosAdd). Items are keys, vectors or (item, weight) pairs.

        ``topn=None`` returns the similarity of every key (inputs included) as an array;
        ``restrict_vocab`` searches only the first that many keys.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        keys, weights = _terms(positive, negative)
        mean = self.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True,
                                    ignore_missing=False)
        exclude = [self.key_to_index[k] for k in keys if isinstance(k, str)]
        limit = self._limit(restrict_vocab)
        dists = self._scores(mean, limit)
        if not topn:
            return dists
        best = argsort_desc(dists, topn + len(exclude))
        return [(self.index_to_key[i], float(dists[i])) for i in best if i not in exclude][:topn]

    def most_similar_batch(self, queries: Union[Sequence[Any], np.ndarray], topn: int = 10,
                           restrict_vocab: Optional[int] = None) -> List[List[Tuple[str, float]]]:
        """:meth:`most_similar` for many queries with one matrix-matrix product per block.

        Each query is a key, a 1-D vector, or a dict with ``positive``/``negative`` entries; a
        2-D array is a batch of vectors. Results equal one-at-a-time calls up to float32
        rounding of the product.
        """
        if isinstance(queries, np.ndarray) and queries.ndim == 2:
            queries = list(queries)
        means, excludes = [], []
        for q in queries:
            pos, neg = (q.get("positive"), q.get("negative")) if isinstance(q, dict) else (q, None)
            keys, weights = _terms(pos, neg)
            means.append(self.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True,
                                              ignore_missing=False))
            excludes.append({self.key_to_index[k] for k in keys if isinstance(k, str)})
        limit = self._limit(restrict_vocab)
        if not means or topn < 1 or limit == 0:
            return [[] for _ in means]
        k = min(topn + max(len(e) for e in excludes), limit)
        out: List[List[Tuple[str, float]]] = []
        for start, scores in self._score_blocks(np.vstack(means), limit):
            tops = block_top(scores, k)
            for row, found in enumerate(tops):
                if found is None:  # NaNs in the row: sort it fully
                    cands = argsort_desc(scores[row, :limit], k).tolist()
                    found = (cands, scores[row, cands].tolist())
                excl = excludes[start + row]
                out.append([(self.index_to_key[i], float(v)) for i, v in zip(*found) if i not in excl][:topn])
        return out

    def _score_blocks(self, queries: np.ndarray, limit: int):
        """Yield (first query, cosines block) for blocks of unit query rows, one GEMM each. Blocks
        are padded with -inf columns to a multiple of ``GROUP`` for :func:`block_top`."""
        matrix = self._vectors[:limit]
        norms = self._safe_norms()[:limit]
        width = -(-limit // GROUP) * GROUP
        step = max(1, min(4096, _BLOCK_ELEMENTS // max(width, 1)))
        for start in range(0, queries.shape[0], step):
            q = queries[start:start + step].astype(matrix.dtype, copy=False)
            block = np.empty((q.shape[0], width), dtype=np.result_type(q, matrix))
            np.matmul(q, matrix.T, out=block[:, :limit])
            block[:, :limit] /= norms
            block[:, limit:] = -np.inf
            yield start, block

    def similar_by_word(self, word: Key, topn: Optional[int] = 10,
                        restrict_vocab: Optional[int] = None) -> Union[List[Tuple[str, float]], np.ndarray]:
        """Keys nearest to ``word``."""
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_key = similar_by_word

    def similar_by_vector(self, vector: np.ndarray, topn: Optional[int] = 10,
                          restrict_vocab: Optional[int] = None) -> Union[List[Tuple[str, float]], np.ndarray]:
        """Keys nearest to ``vector``."""
        return self.most_similar(positive=[np.asarray(vector)], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive: Terms = None, negative: Terms = None, topn: Optional[int] = 10,
                            restrict_vocab: Optional[int] = None) -> Union[List[Tuple[str, float]], np.ndarray]:
        """3CosMul (Levy & Goldberg 2014): rank by prod((1 + cos(w, p)) / 2) over positives divided by
        prod((1 + cos(w, n)) / 2) over negatives + 1e-6.

        Vector inputs are unit-normalised (gensim 4.4 uses them raw, which leaves [0, 1]);
        ``restrict_vocab`` is honoured (gensim 4.4 ignores it).
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        pos = _as_list(positive)
        neg = _as_list(negative)
        if not pos:
            raise ValueError("cannot compute similarity with no input")
        exclude = {self.get_index(w) for w in pos + neg if isinstance(w, str)}
        terms = [self.get_vector(w, norm=True) if isinstance(w, str) else unitvec(np.asarray(w, np.float32))
                 for w in pos + neg]
        limit = self._limit(restrict_vocab)
        # One GEMM for all terms instead of one pass over the matrix per term.
        cos = np.asarray(terms, dtype=self._vectors.dtype) @ self._vectors[:limit].T
        cos /= self._safe_norms()[:limit]
        shifted = (1 + cos) / 2
        num = shifted[0].copy()
        for row in shifted[1:len(pos)]:
            num *= row
        if neg:
            den = shifted[len(pos)].copy()
            for row in shifted[len(pos) + 1:]:
                den *= row
            dists = num / (den + 0.000001)
        else:
            dists = num / (1.0 + 0.000001)
        if not topn:
            return dists
        best = argsort_desc(dists, topn + len(exclude))
        return [(self.index_to_key[i], float(dists[i])) for i in best if i not in exclude][:topn]

    def rank_by_centrality(self, words: Sequence[Key], use_norm: bool = True) -> List[Tuple[float, Key]]:
        """(similarity to the centroid, key) pairs, most central first; unknown keys are ignored."""
        used = [w for w in words if w in self]
        if len(used) != len(words):
            logger.warning("ignoring keys not in the vocabulary: %s", sorted(set(words) - set(used)))
        if not used:
            raise ValueError("cannot select a word from an empty list")
        vectors = np.vstack([self.get_vector(w, norm=use_norm) for w in used]).astype(np.float32)
        mean = self.get_mean_vector(vectors, post_normalize=True)
        dists = np.dot(vectors, mean)
        return sorted(zip(dists.tolist(), used), reverse=True)

    def doesnt_match(self, words: Sequence[Key]) -> Key:
        """The key farthest from the centroid of ``words``."""
        return self.rank_by_centrality(words)[-1][1]

    def _exact_analogy_candidates(self, idx: np.ndarray, limit: int, k: int) -> np.ndarray:
        """Top-k rows for one question with single-query (GEMV) arithmetic, as gensim does it."""
        ia, ib, ic = (int(x) for x in idx[:3])
        weights = np.array([1.0, 1.0, -1.0])
        mean = np.zeros(self.vector_size, self._vectors.dtype)
        total = 0
        norms = self._safe_norms()
        for row, w in zip((ib, ic, ia), weights):
            mean += w * (self._vectors[row] / norms[row])
            total += abs(w)
        mean = unitvec(mean / total).astype(np.float32)
        return np.asarray(argsort_desc(self._scores(mean, limit), k))

    # --- persistence -----------------------------------------------------------------
    def save(self, path: str, **gensim_options: Any) -> None:
        """Save to one file (no pickle; atomic). See :mod:`cyw2v.io`. gensim's pickle options
        (``separately``, ``sep_limit``, ``ignore``, ``pickle_protocol``) are accepted and have
        no effect: the native file always holds everything, arrays aligned for ``mmap``."""
        check_gensim_save_options(gensim_options)
        _formats.write_container(path, "keyedvectors", type(self).__name__, *self._get_state())

    @classmethod
    def load(cls, path: str, mmap: Optional[str] = None, verify: bool = True) -> "KeyedVectors":
        """Load a file written by :meth:`save`, or gensim's pickled KeyedVectors (1.x to 4.x, read
        without running code); ``mmap='r'`` maps the vectors read-only, after checking their
        CRC-32 unless ``verify=False``."""
        if _gensim_pickle.looks_like_pickle(path):
            found = _gensim_pickle.read(path, mmap)
            if not isinstance(found, _gensim_pickle.GensimVectors):
                raise _formats.KindError(f"{path} holds a gensim Word2Vec model; load it with cyw2v.Word2Vec.load "
                                         "(its vectors are .wv)")
            return cls.from_arrays(found.keys, found.vectors, found.counts)
        return _formats.load_container(path, "keyedvectors", mmap, cls._from_state, verify)

    def _get_state(self) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
        """(JSON-serialisable metadata, arrays) describing these vectors."""
        meta = {"index_to_key": list(self.index_to_key), "has_counts": self.counts is not None}
        arrays = {"vectors": self._vectors}
        if self.counts is not None:
            arrays["counts"] = self.counts
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: Dict[str, Any], arrays: Dict[str, np.ndarray]) -> "KeyedVectors":
        counts = arrays.get("counts") if meta.get("has_counts") else None
        return cls.from_arrays(meta["index_to_key"], arrays["vectors"], counts)

    def vectors_for_all(self, keys: Iterable[Key], allow_inference: bool = True,
                        copy_vecattrs: bool = False) -> "KeyedVectors":
        """New KeyedVectors with the known keys of ``keys`` (first occurrence order), their
        vectors copied; with ``copy_vecattrs`` their attributes too, else gensim's stand-in
        counts. (``allow_inference`` is gensim's, for FastText; here every key is looked up.)"""
        vocab = list(dict.fromkeys(k for k in keys if k in self))
        rows = np.asarray([self.key_to_index[k] for k in vocab], dtype=np.intp)
        kv = type(self).from_arrays(vocab, np.array(self._vectors[rows]))
        if copy_vecattrs:
            for attr, values in self.expandos.items():
                kv.expandos[attr] = np.array(values[rows])
            kv._counts_known = self._counts_known
        return kv


# --- helpers ---------------------------------------------------------------------------
_GENSIM_SAVE_OPTIONS = {"separately", "sep_limit", "ignore", "pickle_protocol"}


def check_gensim_save_options(options: Dict[str, Any]) -> None:
    unknown = sorted(set(options) - _GENSIM_SAVE_OPTIONS)
    if unknown:
        raise TypeError(f"save() got unexpected keyword argument(s): {', '.join(unknown)}")


def _as_list(x: Any) -> list:
    """None -> [], a key or 1-D vector -> [it], a 2-D array -> its rows, else list(x)."""
    if x is None:
        return []
    if isinstance(x, str) or (isinstance(x, np.ndarray) and x.ndim == 1):
        return [x]
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return list(x)
    return list(x)


def _terms(positive: Terms, negative: Terms) -> Tuple[list, np.ndarray]:
    """Items and float64 weights (default +1 / -1) of a most_similar query."""
    pos, neg = _as_list(positive), _as_list(negative)
    weights = np.concatenate((np.ones(len(pos)), -1.0 * np.ones(len(neg))))
    keys = []
    for i, item in enumerate(pos + neg):
        if isinstance(item, (str, np.ndarray)):
            keys.append(item)
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Real):
            keys.append(np.asarray(item[0]) if isinstance(item[0], (list, tuple)) else item[0])
            weights[i] = item[1]
        else:
            raise TypeError(f"query items are keys, vectors or (item, weight) pairs, got {item!r}")
    if not keys:
        raise ValueError("cannot compute similarity with no input")
    return keys, weights


def _cosines(vec: np.ndarray, matrix: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """Cosine of ``vec`` with each row; 0 where either side is a zero vector."""
    denom = np.linalg.norm(vec) * norms
    dots = np.dot(matrix, vec)
    return dots / np.where(denom == 0, denom.dtype.type(1), denom)
