"""KeyedVectors: a word -> vector mapping with similarity queries, evaluation and persistence.

Query semantics (and float32 arithmetic) follow gensim 4.4's ``KeyedVectors``, so results
agree with gensim on the same vectors. Every vocabulary-wide query is one BLAS product over
the vector matrix plus a partial sort; row norms are cached until the vectors change.
"""
from __future__ import annotations

import io as _io
import logging
from numbers import Integral, Real
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _files, _formats, datasets

logger = logging.getLogger(__name__)

Key = str
WordOrVector = Union[str, np.ndarray]
Terms = Union[WordOrVector, Sequence[Union[WordOrVector, Tuple[WordOrVector, float]]], None]

#: Question-batch size for analogy evaluation is chosen so that one score block holds about
#: this many float32 values (64 MiB).
_BLOCK_ELEMENTS = 1 << 24
#: Analogy questions whose top candidates lie closer than this are re-scored with the exact
#: single-query arithmetic, so a batched product's last-bit rounding can never flip a decision.
_TIE_MARGIN = 1e-5


class KeyedVectors:
    """Vectors indexed by word, with cached row norms for similarity queries.

    >>> kv = KeyedVectors(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> kv["a"].tolist(), "b" in kv, len(kv)
    ([1.0, 0.0], True, 2)
    >>> kv.most_similar("a", topn=1)
    [('b', 0.0)]
    """

    def __init__(self, index_to_key: Sequence[str], vectors: np.ndarray,
                 counts: Optional[np.ndarray] = None) -> None:
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D, got shape {vectors.shape}")
        if len(index_to_key) != vectors.shape[0]:
            raise ValueError(f"{len(index_to_key)} keys but {vectors.shape[0]} vectors")
        self.index_to_key: List[str] = list(index_to_key)
        self.key_to_index: Dict[str, int] = {k: i for i, k in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("duplicate keys")
        if counts is not None and len(counts) != len(self.index_to_key):
            raise ValueError(f"{len(counts)} counts for {len(self.index_to_key)} keys")
        self._vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self._norms: Optional[np.ndarray] = None
        self._div_norms: Optional[np.ndarray] = None

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
                    replace: bool = False) -> None:
        """Append new keys with their vectors; known keys keep their vector unless ``replace``.

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
            if self.counts is not None:
                self.counts = np.concatenate([self.counts, np.zeros(new_rows.size, np.int64)])
        self.vectors = vectors  # also drops the cached norms

    def add_vector(self, key: Key, vector: np.ndarray) -> int:
        """Add (or keep) one key; returns its row."""
        self.add_vectors([key], np.asarray(vector).reshape(1, -1))
        return self.key_to_index[key]

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

    fill_norms = get_norms

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
        return np.dot(_unitvec(self._vectors[i]), _unitvec(self._vectors[j]))

    def distance(self, w1: Key, w2: Key) -> float:
        """Cosine distance, 1 - similarity."""
        return float(1 - self._similarity32(self.get_index(w1), self.get_index(w2)))

    def n_similarity(self, ws1: Sequence[Key], ws2: Sequence[Key]) -> float:
        """Cosine similarity of the (unnormalised) mean vectors of two key sets."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("at least one of the key lists is empty")
        m1 = self.get_mean_vector(ws1, pre_normalize=False, ignore_missing=False)
        m2 = self.get_mean_vector(ws2, pre_normalize=False, ignore_missing=False)
        return float(np.dot(_unitvec(m1), _unitvec(m2)))

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
            mean = _unitvec(mean).astype(np.float32)
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
        best = _argsort_desc(dists, topn + len(exclude))
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
            tops = _block_top(scores, k)
            for row, found in enumerate(tops):
                if found is None:  # NaNs in the row: sort it fully
                    cands = _argsort_desc(scores[row, :limit], k).tolist()
                    found = (cands, scores[row, cands].tolist())
                excl = excludes[start + row]
                out.append([(self.index_to_key[i], float(v)) for i, v in zip(*found) if i not in excl][:topn])
        return out

    def _score_blocks(self, queries: np.ndarray, limit: int):
        """Yield (first query, cosines block) for blocks of unit query rows, one GEMM each. Blocks
        are padded with -inf columns to a multiple of ``_GROUP`` for :func:`_block_top`."""
        matrix = self._vectors[:limit]
        norms = self._safe_norms()[:limit]
        width = -(-limit // _GROUP) * _GROUP
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
        terms = [self.get_vector(w, norm=True) if isinstance(w, str) else _unitvec(np.asarray(w, np.float32))
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
        best = _argsort_desc(dists, topn + len(exclude))
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

    # --- evaluation ------------------------------------------------------------------
    def _ok_vocab(self, restrict_vocab: Optional[int], case_insensitive: bool) -> Dict[str, int]:
        """Key (upper-cased if asked) -> row among the first ``restrict_vocab`` keys; with case
        folding the first (most frequent) variant wins."""
        ok: Dict[str, int] = {}
        for i, k in enumerate(self.index_to_key[:restrict_vocab]):
            ok.setdefault(k.upper() if case_insensitive else k, i)
        return ok

    def evaluate_word_analogies(self, path: str, restrict_vocab: int = 300000, case_insensitive: bool = True,
                                dummy4unknown: bool = False) -> Tuple[float, List[Dict[str, Any]]]:
        """Accuracy on an analogy file (": section" lines, then "a b c d" lines), answering
        each question by 3CosAdd over the first ``restrict_vocab`` keys, like gensim 4.4.

        Questions with a word outside those keys are skipped (or counted wrong with
        ``dummy4unknown``). Returns (total accuracy, sections), each section a dict with
        'section', 'correct' and 'incorrect' (lists of 4-tuples), the last 'Total accuracy'.
        """
        ok_vocab = self._ok_vocab(restrict_vocab, case_insensitive)
        limit = self._limit(restrict_vocab) if len(self) else 0
        sections: List[Dict[str, Any]] = []
        # (section number, question, row in ``asked`` or -1 for a dummy OOV miss), in file order
        items: List[Tuple[int, Tuple[str, ...], int]] = []
        asked: List[Tuple[str, ...]] = []
        n_questions = oov = 0
        for line_no, line in enumerate(_read_lines(path)):
            if line.startswith(": "):
                sections.append({"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []})
                continue
            if not sections:
                raise ValueError(f"missing section header before line #{line_no} in {path}")
            words = line.split()
            if len(words) != 4:
                logger.info("skipping invalid line #%d in %s", line_no, path)
                continue
            quad = tuple(w.upper() for w in words) if case_insensitive else tuple(words)
            n_questions += 1
            if any(w not in ok_vocab for w in quad):
                oov += 1
                if dummy4unknown:
                    items.append((len(sections) - 1, quad, -1))
                continue
            items.append((len(sections) - 1, quad, len(asked)))
            asked.append(quad)
        verdicts = self._answer_analogies(asked, ok_vocab, limit, case_insensitive)
        for sec, quad, row in items:
            right = row >= 0 and verdicts[row]
            sections[sec]["correct" if right else "incorrect"].append(quad)
        for sec in sections:
            _log_section(sec)
        total = {"section": "Total accuracy",
                 "correct": [q for s in sections for q in s["correct"]],
                 "incorrect": [q for s in sections for q in s["incorrect"]]}
        if n_questions:
            logger.info("quadruplets with out-of-vocabulary words: %.1f%%", 100.0 * oov / n_questions)
        score = _log_section(total)
        sections.append(total)
        return score, sections

    def _answer_analogies(self, quads: List[Tuple[str, ...]], ok_vocab: Dict[str, int],
                          limit: int, case_insensitive: bool) -> List[bool]:
        """Whether 3CosAdd answers each question right, as gensim decides it: of the 5 best
        candidates other than the three inputs, the first whose folded form is not a question
        word is the answer."""
        if not quads:
            return []
        idx = np.array([[ok_vocab[w] for w in q] for q in quads], dtype=np.intp)
        folded = [k.upper() for k in self.index_to_key[:limit]] if case_insensitive else self.index_to_key
        normed = self._vectors[:limit] / self._safe_norms()[:limit, None]
        # gensim's mean: unit(b) + unit(c) - unit(a) accumulated in the vectors' dtype, / 3 in
        # float64, unit-normalised, cast to float32.
        means = ((normed[idx[:, 1]] + normed[idx[:, 2]]) - normed[idx[:, 0]]).astype(np.float64) / 3.0
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        means = np.divide(means, norms, out=means, where=norms > 0).astype(np.float32)
        verdicts: List[bool] = []
        top = 6  # the 5 candidates gensim looks at, plus the next one to check the last gap
        for start, scores in self._score_blocks(means, limit):
            rows = np.arange(scores.shape[0])
            block_idx = idx[start:start + scores.shape[0]]
            if limit > top + 3:
                scores[rows[:, None], block_idx[:, :3]] = -np.inf  # inputs are never answers
                tops = _block_top(scores, top)
            for row in rows:
                a, b, c, expected = quads[start + row]
                cands = None
                if limit > top + 3 and tops[row] is not None:
                    cands, vals = tops[row]
                    chosen = _first_answer(cands[:5], folded, (a, b, c))
                    # The batched product may round differently from gensim's one-query product in
                    # the last bits: trust it only if every gap down to the answer is clear.
                    if not min(vals[j] - vals[j + 1] for j in range(chosen + 1)) >= _TIE_MARGIN:
                        cands = None
                if cands is None:
                    inputs = set(block_idx[row, :3].tolist())
                    best = self._exact_analogy_candidates(block_idx[row], limit, 8)
                    cands = [i for i in best.tolist() if i not in inputs][:5]
                    chosen = _first_answer(cands, folded, (a, b, c))
                predicted = folded[cands[chosen]] if cands else None
                verdicts.append(predicted == expected)
        return verdicts

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
        mean = _unitvec(mean / total).astype(np.float32)
        return np.asarray(_argsort_desc(self._scores(mean, limit), k))

    def evaluate_word_pairs(self, path: str, delimiter: str = "\t", restrict_vocab: int = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False
                            ) -> Tuple[Tuple[float, float], Tuple[float, float], float]:
        """Correlation of cosine similarity with human scores in a "word1<delim>word2<delim>score"
        file ('#' lines are comments), like gensim 4.4.

        Returns ((pearson r, p), (spearman rho, p), percentage of pairs with an unknown word);
        such pairs are skipped, or scored 0 with ``dummy4unknown``.
        """
        from scipy import stats

        ok_vocab = self._ok_vocab(restrict_vocab, case_insensitive)
        gold: List[float] = []
        model: List[float] = []
        oov = 0
        for line_no, line in enumerate(_read_lines(path)):
            if not line or line.startswith("#"):
                continue
            parts = line.split(delimiter)
            if case_insensitive:
                parts = [p.upper() for p in parts]
            try:
                a, b, sim = parts
                sim = float(sim)
            except (ValueError, TypeError):
                logger.info("skipping invalid line #%d in %s", line_no, path)
                continue
            if a not in ok_vocab or b not in ok_vocab:
                oov += 1
                if dummy4unknown:
                    gold.append(sim)
                    model.append(0.0)
                continue
            gold.append(sim)
            model.append(float(self._similarity32(ok_vocab[a], ok_vocab[b])))
        if not gold:
            raise ValueError(f"no valid similarity judgements found in {path}: "
                             "wrong format, or every pair is out of vocabulary")
        spearman = stats.spearmanr(gold, model)
        pearson = stats.pearsonr(gold, model)
        oov_ratio = 100.0 * oov / (len(gold) if dummy4unknown else len(gold) + oov)
        logger.info("%s: Pearson %.4f, Spearman %.4f, %.1f%% pairs with unknown words",
                    path, pearson[0], spearman[0], oov_ratio)
        return ((float(pearson[0]), float(pearson[1])), (float(spearman[0]), float(spearman[1])),
                float(oov_ratio))

    def evaluate_standard(self, restrict_vocab: int = 30000) -> Dict[str, float]:
        """Google analogies accuracy and WordSim-353 / SimLex-999 correlations on the packaged
        sets, all restricted to the first ``restrict_vocab`` keys."""
        analogy, _ = self.evaluate_word_analogies(datasets.analogies_path(), restrict_vocab=restrict_vocab)
        out: Dict[str, float] = {"analogy": float(analogy)}
        for name, path in (("ws353", datasets.wordsim353_path()), ("simlex", datasets.simlex999_path())):
            try:
                pearson, spearman, oov_ratio = self.evaluate_word_pairs(path, restrict_vocab=restrict_vocab)
            except ValueError:  # every pair out of vocabulary
                pearson, spearman, oov_ratio = (float("nan"), float("nan")), (float("nan"), float("nan")), 100.0
            out[f"{name}_pearson"] = pearson[0]
            out[f"{name}_spearman"] = spearman[0]
            out[f"{name}_oov"] = oov_ratio
        return out

    # --- persistence -----------------------------------------------------------------
    def save(self, path: str) -> None:
        """Save to one file (no pickle; atomic). See :mod:`cyw2v.io`."""
        _formats.write_container(path, "keyedvectors", type(self).__name__, *self._get_state())

    @classmethod
    def load(cls, path: str, mmap: Optional[str] = None) -> "KeyedVectors":
        """Load a file written by :meth:`save`; ``mmap='r'`` maps the vectors read-only."""
        return _formats.load_container(path, "keyedvectors", mmap, cls._from_state)

    def save_word2vec_format(self, path: str, binary: bool = False, write_header: bool = True) -> None:
        """Write word2vec.c's text or binary format (.gz/.bz2 compress by suffix)."""
        _formats.write_word2vec(path, self.index_to_key, self.vectors, binary=binary, write_header=write_header)

    @classmethod
    def load_word2vec_format(cls, path: str, binary: bool = False, limit: Optional[int] = None,
                             datatype: Any = np.float32, unicode_errors: str = "strict",
                             no_header: bool = False) -> "KeyedVectors":
        """Read word2vec.c's text or binary format; see :func:`cyw2v.io.load_word2vec_format`."""
        keys, vectors = _formats.read_word2vec(path, binary=binary, limit=limit, datatype=datatype,
                                               unicode_errors=unicode_errors, no_header=no_header)
        return cls(keys, vectors)

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
        return cls(meta["index_to_key"], arrays["vectors"], counts)


# --- helpers ---------------------------------------------------------------------------
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


def _unitvec(vec: np.ndarray) -> np.ndarray:
    """vec / ||vec|| computed like gensim (float64 BLAS nrm2 and scal on a float64 copy, then
    cast back to the input's float dtype); a zero or NaN norm leaves the vector unchanged."""
    from scipy.linalg.blas import dnrm2, dscal

    vec = np.asarray(vec)
    out_dtype = vec.dtype if vec.dtype.kind == "f" else np.dtype(np.float64)
    work = np.array(vec, dtype=np.float64)  # a copy: dscal scales in place
    if work.size == 0:
        return work.astype(out_dtype)
    veclen = dnrm2(work)
    if veclen > 0.0:
        return dscal(1.0 / veclen, work).astype(out_dtype)
    return work.astype(out_dtype)


def _cosines(vec: np.ndarray, matrix: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """Cosine of ``vec`` with each row; 0 where either side is a zero vector."""
    denom = np.linalg.norm(vec) * norms
    dots = np.dot(matrix, vec)
    return dots / np.where(denom == 0, denom.dtype.type(1), denom)


def _argsort_desc(x: np.ndarray, topn: int) -> np.ndarray:
    """Indices of the ``topn`` largest values, largest first (partial sort; NaN sorts last)."""
    if topn <= 0:
        return np.zeros(0, dtype=np.intp)
    neg = -x
    if topn >= x.size:
        return np.argsort(neg)[:topn]
    top = np.argpartition(neg, topn)[:topn]
    return top.take(np.argsort(neg.take(top)))


_GROUP = 64  # columns per group in _block_top; score blocks are padded to a multiple of it


def _block_top(scores: np.ndarray, top: int) -> List[Optional[Tuple[List[int], List[float]]]]:
    """Per row of ``scores`` (width a multiple of ``_GROUP``): (columns of the ``top`` largest
    values, largest first; those values), or None where NaNs leave too few candidates.

    Cheaper than a partial sort of every row: the ``top``-th largest group maximum bounds the
    ``top``-th largest value from below, so only the few groups reaching it are searched.
    """
    n_rows, n_cols = scores.shape
    n_groups = n_cols // _GROUP
    if n_groups < 4 * top:  # too few groups for the bound to pay off: plain partial sort
        part = np.argpartition(scores, n_cols - top, axis=1)[:, n_cols - top:]
        vals = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        part, vals = np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1)
        return [(part[r].tolist(), vals[r].tolist()) if not np.isnan(vals[r]).any() else None
                for r in range(n_rows)]
    # Group j holds columns j, j + n_groups, j + 2 n_groups, ...: the group maxima are then an
    # elementwise maximum of _GROUP contiguous slices, which vectorises well.
    grouped = scores.reshape(n_rows, _GROUP, n_groups)
    gmax = np.fmax.reduce(grouped, axis=1)  # fmax: a NaN does not hide the rest of its group
    bound = np.partition(gmax, n_groups - top, axis=1)[:, n_groups - top]
    g_row, g_col = np.nonzero(gmax >= bound[:, None])  # row-major: rows come out in order
    members = grouped[g_row, :, g_col]  # (hit groups, _GROUP)
    hit, offset = np.nonzero(members >= bound[g_row, None])
    rows = g_row[hit]
    cols = offset * n_groups + g_col[hit]
    vals = members[hit, offset]
    ends = np.cumsum(np.bincount(rows, minlength=n_rows))
    out: List[Optional[Tuple[List[int], List[float]]]] = []
    begin = 0
    for row in range(n_rows):
        end = int(ends[row])
        if end - begin < top:
            out.append(None)
        else:
            v = vals[begin:end]
            order = np.argsort(-v, kind="stable")[:top]
            out.append((cols[begin:end][order].tolist(), v[order].tolist()))
        begin = end
    return out


def _first_answer(cands: List[int], folded: Sequence[str], question: Tuple[str, ...]) -> int:
    """Position of the first candidate whose folded key is not a question word (else the last)."""
    for pos, i in enumerate(cands):
        if folded[i] not in question:
            return pos
    return len(cands) - 1


def _log_section(section: Dict[str, Any]) -> float:
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info("%s: %.1f%% (%d/%d)", section["section"], 100.0 * score, correct, correct + incorrect)
    return score


def _read_lines(path: str) -> Iterable[str]:
    """Decoded lines of a (possibly .gz/.bz2) UTF-8 text file, universal newlines."""
    with _files.open_read(path) as fh:
        text = _io.TextIOWrapper(fh, encoding="utf-8")
        yield from text
