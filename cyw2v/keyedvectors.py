"""KeyedVectors: a word -> vector mapping with similarity queries."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

Key = str
WordOrVector = Union[str, np.ndarray]


class KeyedVectors:
    """Vectors indexed by word, with cached unit-norm copies for similarity queries.

    >>> kv = KeyedVectors(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> kv["a"].tolist(), "b" in kv, len(kv)
    ([1.0, 0.0], True, 2)
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
        self._vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self._norms: Optional[np.ndarray] = None

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

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    def __iter__(self):
        return iter(self.index_to_key)

    def get_index(self, key: Key) -> int:
        try:
            return self.key_to_index[key]
        except KeyError:
            raise KeyError(f"word {key!r} not in vocabulary") from None
        except TypeError:
            raise TypeError(f"keys are str, got {type(key).__name__}") from None

    def get_vector(self, key: Key, norm: bool = False) -> np.ndarray:
        index = self.get_index(key)
        if norm:
            return self.get_normed_vectors()[index]
        return self._vectors[index]

    def __getitem__(self, key: Union[Key, Iterable[Key]]) -> np.ndarray:
        if isinstance(key, str):
            return self.get_vector(key)
        return np.vstack([self.get_vector(k) for k in key]) if not isinstance(key, np.ndarray) \
            else self._vectors[key]

    # --- norms -----------------------------------------------------------------------
    def get_norms(self) -> np.ndarray:
        if self._norms is None or self._norms.shape[0] != self._vectors.shape[0]:
            self._norms = np.linalg.norm(self._vectors, axis=1)
        return self._norms

    def get_normed_vectors(self) -> np.ndarray:
        norms = self.get_norms()
        safe = np.where(norms > 0, norms, 1.0).astype(self._vectors.dtype)
        return self._vectors / safe[:, None]

    # --- queries ---------------------------------------------------------------------
    def similarity(self, w1: Key, w2: Key) -> float:
        a = self.get_vector(w1)
        b = self.get_vector(w2)
        denom = float(np.linalg.norm(a) * np.linalg.norm(b))
        return float(np.dot(a, b) / denom) if denom > 0 else 0.0

    def most_similar(self, positive: Union[WordOrVector, Sequence[WordOrVector], None] = None,
                     negative: Union[WordOrVector, Sequence[WordOrVector], None] = None,
                     topn: Optional[int] = 10,
                     restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """Words closest by cosine to mean(unit(positive)) - mean-weighted unit(negative) (3CosAdd)."""
        positive = _as_list(positive)
        negative = _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative word")
        parts = [(p, 1.0) for p in positive] + [(n, -1.0) for n in negative]
        normed = self.get_normed_vectors()
        exclude = set()
        acc = np.zeros(self.vector_size, dtype=np.float64)
        for item, weight in parts:
            if isinstance(item, str):
                idx = self.get_index(item)
                exclude.add(idx)
                acc += weight * normed[idx]
            else:
                vec = np.asarray(item, dtype=np.float64)
                n = np.linalg.norm(vec)
                acc += weight * (vec / n if n > 0 else vec)
        mean = acc / len(parts)
        n = np.linalg.norm(mean)
        mean = (mean / n if n > 0 else mean).astype(normed.dtype)
        limit = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        dists = normed[:limit] @ mean
        if topn is None:
            return dists
        k = min(topn + len(exclude), limit)
        if k <= 0:
            return []
        best = np.argpartition(-dists, k - 1)[:k] if k < limit else np.arange(limit)
        best = best[np.argsort(-dists[best], kind="stable")]
        return [(self.index_to_key[i], float(dists[i])) for i in best if i not in exclude][:topn]


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (str, np.ndarray)):
        return [x]
    return list(x)
