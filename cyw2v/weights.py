"""The weight matrices: padded, aligned storage for the engine and the views users see.

The engine trains on matrices whose rows are padded with zeros to a multiple of 16 floats
and start on 64-byte boundaries: every vector load then stays within one cache line and the
loops need no remainder. At d=100 (padded to 112) this trained 30-50% faster than packed
rows; at d=50 (padded to 64, 28% more arithmetic) it was slower, so rows are padded only
when that adds at most 1/8 of d (BENCHMARKS.md, "Padded rows"). The padding stays zero:
every update adds multiples of rows whose padding is zero. Users see rows x d views.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np

_ROW_FLOATS = 16
_MAX_PADDING = 1 / 8

#: The input matrix, then the output matrix of each objective.
MATRICES = ("vectors", "syn1neg", "syn1", "syn1softmax")
#: The engine's names for them.
ENGINE_NAMES = {"vectors": "syn0", "syn1neg": "syn1neg", "syn1": "syn1", "syn1softmax": "syn1softmax"}


def padded_width(d: int) -> int:
    """Row length the engine trains on for vector_size d (d, or d padded with zeros)."""
    width = -(-d // _ROW_FLOATS) * _ROW_FLOATS
    return width if width - d <= d * _MAX_PADDING else d


def matrix_rows(name: str, vocabulary_size: int, negative: int, hs: int, softmax: int) -> int:
    """Rows of matrix ``name``: V (for ``syn1`` as in gensim: the Huffman tree's V - 1 inner
    nodes use the first V - 1 rows, the last stays zero), and none for an
    objective that is off."""
    V = vocabulary_size
    return {"vectors": V, "syn1neg": V if negative else 0, "syn1": V if hs else 0,
            "syn1softmax": V if softmax else 0}[name]


def init_vectors(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """gensim 4's initialisation: uniform in [-1/d, 1/d) (word2vec.c uses half that range;
    the wider one trained CBOW-NS about half an analogy point better here, see BENCHMARKS.md)."""
    return ((rng.random((n, d), dtype=np.float32) * np.float32(2) - np.float32(1))
            / np.float32(d)).astype(np.float32)


class Weights:
    """Padded storage of the four matrices of a model with ``vector_size`` columns."""

    def __init__(self, vector_size: int) -> None:
        self.vector_size = vector_size
        self.storage: Dict[str, np.ndarray] = {}

    def adopt(self, name: str, values: Optional[np.ndarray], rows: Optional[int] = None) -> np.ndarray:
        """Put ``values`` (zeros if None), extended with zero rows to ``rows``, into new padded
        storage for matrix ``name``; return the rows x vector_size view to publish."""
        d = self.vector_size
        n = values.shape[0] if rows is None else rows
        storage = _padded_zeros(n, d)
        if values is not None:
            storage[:values.shape[0], :d] = values
        self.storage[name] = storage
        return storage[:, :d]

    def for_training(self, published: Mapping[str, np.ndarray], lockf: Any = None
                     ) -> Tuple[SimpleNamespace, Dict[str, np.ndarray]]:
        """(the engine's matrices and ``lockf`` factors, the views to publish in place of
        replaced arrays).

        A published array that is not the view of its storage (the user assigned another
        array, or it was memory-mapped on load) is copied into new storage, converting to
        float32; a wrong width is a ValueError. ``lockf`` is ``wv.vectors_lockf`` (see
        :func:`lock_factors`).
        """
        replaced: Dict[str, np.ndarray] = {}
        for name in MATRICES:
            array = published[name]
            storage = self.storage.get(name)
            if storage is not None and _is_view_of(array, storage):
                continue
            array = np.asarray(array)
            if array.ndim != 2 or array.shape[1] != self.vector_size:
                raise ValueError(f"{'wv.vectors' if name == 'vectors' else name} has shape "
                                 f"{array.shape}; expected (rows, vector_size={self.vector_size})")
            replaced[name] = self.adopt(name, array)   # the copy into storage converts to float32
        engine = SimpleNamespace(**{ENGINE_NAMES[name]: self.storage[name] for name in MATRICES},
                                 lockf=lock_factors(lockf, self.storage["vectors"].shape[0]))
        return engine, replaced


def lock_factors(lockf: Any, rows: int) -> Optional[np.ndarray]:
    """gensim's ``wv.vectors_lockf`` as the engine takes it: None when it is None or all ones
    (the engine then trains without factors, at full speed), else its float32 factors, one
    for every row or ``rows`` of them; another length or a non-finite factor is a ValueError."""
    if lockf is None:
        return None
    try:
        factors = np.asarray(lockf, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"wv.vectors_lockf must be an array of numbers, not {type(lockf).__name__}") from None
    if factors.ndim > 1 or factors.size not in (1, rows):
        raise ValueError(f"wv.vectors_lockf has shape {factors.shape}; expected 1 factor or one per word "
                         f"(len(wv) = {rows})")
    if not np.all(np.isfinite(factors)):
        raise ValueError("wv.vectors_lockf must be finite")
    if np.all(factors == 1.0):
        return None
    return np.ascontiguousarray(factors.reshape(-1))


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


def estimate_memory(vocabulary_size: int, vector_size: int, negative: int, hs: int, softmax: int) -> Dict[str, int]:
    """Bytes of each weight matrix as the engine stores it (padded rows), and their 'total'."""
    width = padded_width(vector_size)
    report = {name: matrix_rows(name, vocabulary_size, negative, hs, softmax) * width * 4 for name in MATRICES}
    report = {name: size for name, size in report.items() if size or name == "vectors"}
    report["total"] = sum(report.values())
    return report
