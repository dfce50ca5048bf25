"""word2vec.c interchange, mixed into :class:`~cyw2v.keyedvectors.KeyedVectors`: the vectors
file (text or binary) with its optional vocabulary-counts file, in gensim 4's signatures.

The formats themselves are in :mod:`cyw2v._formats`; this module only maps them onto the
keys, vectors and counts of a KeyedVectors.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

import numpy as np

from . import _formats

logger = logging.getLogger("cyw2v.keyedvectors")

_UTF8 = ("utf8", "utf-8", "UTF8", "UTF-8")


class Word2VecFormat:
    """word2vec.c file methods of KeyedVectors."""

    def save_word2vec_format(self, fname: str, fvocab: Optional[str] = None, binary: bool = False,
                             total_vec: Optional[int] = None, write_header: bool = True, prefix: str = "",
                             append: bool = False, sort_attr: str = "count") -> None:
        """Write word2vec.c's text or binary vectors file (.gz/.bz2 compress by suffix), keys in
        row order, and with ``fvocab`` its vocabulary file of ``"word count"`` lines.

        ``prefix`` is put before every key. ``total_vec``, ``append`` and ``sort_attr`` other
        than their defaults are refused (files are written whole and atomically, in row order).
        """
        if total_vec not in (None, len(self)) or append or sort_attr != "count":
            raise ValueError("total_vec, append and sort_attr are not supported: files are written whole, "
                             "atomically, with the keys in row order")
        keys = [prefix + k for k in self.index_to_key] if prefix else self.index_to_key
        if fvocab is not None:
            _formats.write_counts(fvocab, keys, self.expandos["count"])
        _formats.write_word2vec(fname, keys, self.vectors, binary=binary, write_header=write_header)

    @classmethod
    def load_word2vec_format(cls, fname: str, fvocab: Optional[str] = None, binary: bool = False,
                             encoding: str = "utf8", unicode_errors: str = "strict", limit: Optional[int] = None,
                             datatype: Any = np.float32, no_header: bool = False) -> Any:
        """Read word2vec.c's text or binary format, and with ``fvocab`` the counts from its
        vocabulary file (else ``counts`` is None); see :func:`cyw2v.io.load_word2vec_format`."""
        _check_encoding(encoding)
        keys, vectors = _formats.read_word2vec(fname, binary=binary, limit=limit, datatype=datatype,
                                               unicode_errors=unicode_errors, no_header=no_header)
        counts = None
        if fvocab is not None:
            found = _formats.read_counts(fvocab, unicode_errors)
            missing = [k for k in keys if k not in found]
            if missing:
                logger.warning("vocabulary file %s lacks %d words (count 0), e.g. %r", fvocab, len(missing),
                               missing[0])
            counts = np.fromiter((found.get(k, 0) for k in keys), dtype=np.int64, count=len(keys))
        return cls.from_arrays(keys, vectors, counts)

    def intersect_word2vec_format(self, fname: str, lockf: float = 0.0, binary: bool = False,
                                  encoding: str = "utf8", unicode_errors: str = "strict") -> None:
        """Replace the vectors of the keys that a word2vec.c file also has by the file's, and
        set their ``vectors_lockf`` to ``lockf`` (0.0: training leaves them unchanged)."""
        _check_encoding(encoding)
        keys, vectors = _formats.read_word2vec(fname, binary=binary, unicode_errors=unicode_errors)
        if vectors.shape[1] != self.vector_size:
            raise ValueError(f"incompatible vector size {vectors.shape[1]} in file {fname}")
        rows = [(self.key_to_index[k], i) for i, k in enumerate(keys) if k in self.key_to_index]
        if len(self.vectors_lockf) != len(self):
            self.vectors_lockf = np.full(len(self), self.vectors_lockf[0], dtype=np.float32)
        if rows:
            mine, theirs = (np.asarray(r, dtype=np.intp) for r in zip(*rows))
            self.vectors[mine] = vectors[theirs]
            self.vectors_lockf[mine] = lockf
            self.vectors_changed()
        logger.info("merged %d vectors into %s matrix from %s", len(rows), self.vectors.shape, fname)


def _check_encoding(encoding: str) -> None:
    if encoding not in _UTF8:
        raise ValueError(f"only UTF-8 word2vec files are read, not {encoding!r}")
