"""Persistence: cyw2v's own pickle-free file format and word2vec.c's text/binary formats.

The public face of :mod:`cyw2v._formats` (the formats, described there) and
:mod:`cyw2v._files` (decompressing reads, atomic writes). Every writer is atomic: a
temporary file in the same folder is written, fsynced and renamed over the target.
"""
from __future__ import annotations

from typing import Any, Optional, Type

import numpy as np

from ._files import atomic_write, open_read
from ._formats import FORMAT_MARKER, FORMAT_VERSION, FormatError
from .keyedvectors import KeyedVectors
from .model import Word2Vec

__all__ = ["save_model", "load_model", "save_keyedvectors", "load_keyedvectors", "save_word2vec_format",
           "load_word2vec_format", "atomic_write", "open_read", "FormatError", "FORMAT_VERSION",
           "FORMAT_MARKER"]


def save_model(model: Word2Vec, path: str) -> None:
    """Save a Word2Vec model (everything needed to resume training) to one file."""
    model.save(path)


def load_model(path: str, mmap: Optional[str] = None, cls: Type[Word2Vec] = Word2Vec,
               verify: bool = True) -> Word2Vec:
    """Load a model written by :func:`save_model`; ``mmap='r'`` maps arrays read-only
    (``'c'``: copy-on-write) after checking their CRC-32 unless ``verify=False``."""
    return cls.load(path, mmap=mmap, verify=verify)


def save_keyedvectors(kv: KeyedVectors, path: str) -> None:
    """Save KeyedVectors (keys, vectors, counts) to one file."""
    kv.save(path)


def load_keyedvectors(path: str, mmap: Optional[str] = None, cls: Type[KeyedVectors] = KeyedVectors,
                      verify: bool = True) -> KeyedVectors:
    """Load KeyedVectors written by :func:`save_keyedvectors` (``mmap``, ``verify``: as
    :func:`load_model`)."""
    return cls.load(path, mmap=mmap, verify=verify)


def save_word2vec_format(kv: KeyedVectors, path: str, fvocab: Optional[str] = None, binary: bool = False,
                         write_header: bool = True) -> None:
    """Write ``kv`` in word2vec.c's format, keys in row order, atomically (see
    :func:`cyw2v._formats.write_word2vec`); with ``fvocab`` also its vocabulary-counts file."""
    kv.save_word2vec_format(path, fvocab, binary=binary, write_header=write_header)


def load_word2vec_format(path: str, fvocab: Optional[str] = None, binary: bool = False,
                         limit: Optional[int] = None, datatype: Any = np.float32, unicode_errors: str = "strict",
                         no_header: bool = False, cls: Type[KeyedVectors] = KeyedVectors) -> KeyedVectors:
    """Read word2vec.c's text or binary format into KeyedVectors, with the counts of the
    vocabulary file ``fvocab`` if given (else no counts).

    ``limit`` reads only the first that many vectors. A file that disagrees with its header,
    is truncated, holds non-numbers or (with ``unicode_errors='strict'``) invalid UTF-8
    raises :class:`FormatError` naming the line or byte offset. NaN and inf are accepted.
    Repeated keys keep their first vector (with a warning), as in gensim.
    ``no_header`` (text only) reads a file without the "V D" line (e.g. GloVe).
    """
    return cls.load_word2vec_format(path, fvocab, binary=binary, limit=limit, datatype=datatype,
                                    unicode_errors=unicode_errors, no_header=no_header)
