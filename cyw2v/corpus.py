"""Streaming corpus readers: plain, .gz and .bz2 text files."""
from __future__ import annotations

import itertools
import os
from typing import IO, Any, Iterator, List, Optional, Union

from . import _files
from ._files import PathLike

#: Default cap on the length of one yielded sentence; longer lines are split, never cut.
MAX_SENTENCE_LENGTH = 10_000
#: A sentence also ends after about this many characters of tokens (only text with
#: tokens of kilobytes gets there), so a line of huge tokens never fills memory.
MAX_SENTENCE_CHARS = 1 << 24


def open_binary(path: PathLike) -> IO[bytes]:
    """Open a corpus file for reading bytes, decompressing by suffix (.gz, .bz2)."""
    return _files.open_read(path, what="corpus file")


def _iter_lines(path: PathLike, chunk_bytes: int = 1 << 20) -> Iterator[str]:
    """Lines of a file read in bounded blocks: a single 100 MB line never sits in memory
    whole, it arrives in pieces cut at whitespace (a piece ends without a newline)."""
    for block in iter_blocks(path, chunk_bytes):
        lines = block.decode("utf-8", "replace").split("\n")
        last = lines.pop()  # '' after a newline; otherwise a piece of a long (or final) line
        for line in lines:
            yield line + "\n"
        if last:
            yield last


def iter_blocks(path: PathLike, block_bytes: int) -> Iterator[bytes]:
    """Pieces of a (decompressed) corpus file of about ``block_bytes``, each ending just after a
    newline, or after ASCII whitespace for a longer line (see :func:`cyw2v._files.iter_blocks`)."""
    return _files.iter_blocks(path, block_bytes, what="corpus file")


def _split_long(tokens: List[str], limit: int) -> Iterator[List[str]]:
    for start in range(0, len(tokens), limit):
        yield tokens[start:start + limit]


class LineSentence:
    """One sentence per line, tokens separated by whitespace.

    Lines longer than ``max_sentence_length`` tokens are yielded as consecutive pieces.
    Restartable: every iteration re-reads the file.

    >>> import cyw2v, itertools
    >>> first = next(iter(cyw2v.LineSentence(cyw2v.datasets.demo_corpus_path())))
    >>> first[:3]
    ['anarchism', 'is', 'a']
    """

    def __init__(self, source: Union[PathLike, IO[Any]], max_sentence_length: int = MAX_SENTENCE_LENGTH,
                 limit: Optional[int] = None) -> None:
        if isinstance(source, (list, tuple)):
            raise TypeError("LineSentence takes a file path; pass a list of token lists directly as the corpus")
        if max_sentence_length < 1:
            raise ValueError("max_sentence_length must be >= 1")
        #: An open file (text or bytes; rewound with seek(0) on each pass), or None for a path.
        self.stream = source if hasattr(source, "read") else None
        self.source = source if self.stream is not None else os.fspath(source)
        if self.stream is None and not os.path.exists(self.source):
            raise FileNotFoundError(f"corpus file not found: {self.source}")
        self.max_sentence_length = max_sentence_length
        self.limit = limit

    def __iter__(self) -> Iterator[List[str]]:
        if self.stream is not None:
            return self._iter_stream()
        return self._sentences(self.newline_ends_sentence, self.limit)

    def _sentences(self, newline_ends: bool, limit: Optional[int]) -> Iterator[List[str]]:
        """Sentences of at most ``max_sentence_length`` tokens (and about MAX_SENTENCE_CHARS
        characters), ended by newlines if ``newline_ends``; ``limit``: lines to read. Linear:
        each token is copied once into the sentence that yields it."""
        m = self.max_sentence_length
        pending: List[str] = []
        chars = lines = 0
        for piece in _iter_lines(self.source):
            ends_line = piece.endswith("\n")
            pending.extend(piece.split())
            chars += len(piece)
            if len(pending) >= m:
                full = len(pending) - len(pending) % m
                for start in range(0, full, m):
                    yield pending[start:start + m]
                pending = pending[full:]
                chars = sum(map(len, pending))
            if (ends_line and newline_ends) or chars >= MAX_SENTENCE_CHARS:
                if pending:
                    yield pending
                pending, chars = [], 0
            if ends_line and newline_ends:
                lines += 1
                if limit is not None and lines >= limit:
                    return
        if pending:
            yield pending

    def _iter_stream(self) -> Iterator[List[str]]:
        """The lines of an open file, as gensim reads them (UTF-8, invalid bytes replaced)."""
        try:
            self.stream.seek(0)
        except (AttributeError, OSError):
            pass  # not seekable: one pass only
        for line in itertools.islice(self.stream, self.limit):
            text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
            yield from _split_long(text.split(), self.max_sentence_length)

    def __repr__(self) -> str:
        return f"LineSentence({self.source!r})"

    #: Whether a newline ends a sentence (the engine's fast reader needs to know).
    newline_ends_sentence = True

    def blocks(self, block_bytes: int = 1 << 16) -> Iterator[bytes]:
        """The file as raw byte blocks cut after newlines (see :func:`iter_blocks`)."""
        return iter_blocks(self.source, block_bytes)

    def sentences_in_block(self, block: bytes) -> List[List[str]]:
        """Sentences of one block, as iteration would yield them within that block."""
        text = block.decode("utf-8", "replace")
        parts = text.split("\n") if self.newline_ends_sentence else [text]
        return [piece for part in parts for piece in _split_long(part.split(), self.max_sentence_length)]


class Text8Corpus(LineSentence):
    """A one-line corpus such as text8, yielded in sentences of ``max_sentence_length``
    words (newlines, if any, are treated as spaces)."""

    def __iter__(self) -> Iterator[List[str]]:
        return self._sentences(False, None)

    newline_ends_sentence = False

    def __repr__(self) -> str:
        return f"Text8Corpus({self.source!r})"


class PathLineSentences:
    """:class:`LineSentence` over every file of a folder, in sorted name order (or over one
    file); plain, .gz or .bz2.

    >>> import cyw2v
    >>> len(next(iter(PathLineSentences(cyw2v.datasets.demo_corpus_path(), max_sentence_length=5))))
    5
    """

    def __init__(self, source: PathLike, max_sentence_length: int = MAX_SENTENCE_LENGTH,
                 limit: Optional[int] = None) -> None:
        self.source = os.fspath(source)
        self.max_sentence_length = max_sentence_length
        self.limit = limit
        if os.path.isfile(self.source):
            self.input_files = [self.source]
        elif os.path.isdir(self.source):
            self.input_files = [os.path.join(self.source, name) for name in sorted(os.listdir(self.source))
                                if os.path.isfile(os.path.join(self.source, name))]
        else:
            raise FileNotFoundError(f"corpus file or folder not found: {self.source}")

    def __iter__(self) -> Iterator[List[str]]:
        for path in self.input_files:
            yield from LineSentence(path, self.max_sentence_length, self.limit)

    def __repr__(self) -> str:
        return f"PathLineSentences({self.source!r})"
