"""Corpus files: opening (.gz/.bz2/plain), counting words, the plain copy, resolving ``--corpus``."""
from __future__ import annotations

import bz2
import gzip
import os
from typing import IO, Iterator, List

from .common import STANDARD_CORPUS, BenchError, log

#: Words per line of the plain corpus copy (gensim's corpus_file reader truncates longer lines).
MAX_LINE_WORDS = 10_000


def open_corpus(path: str) -> IO[bytes]:
    """Open a corpus for reading bytes, decompressing by suffix (.gz, .bz2).

    The harness's own opener: the library's openers are internal and may move.
    """
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def iter_chunks(path: str, size: int = 1 << 22) -> Iterator[bytes]:
    """Decompressed bytes of a corpus in chunks of about ``size`` bytes."""
    with open_corpus(path) as fh:
        while True:
            chunk = fh.read(size)
            if not chunk:
                return
            yield chunk


def count_words(path: str) -> int:
    """Number of whitespace-separated tokens in a (possibly compressed) corpus."""
    total = 0
    carry = b""
    for chunk in iter_chunks(path):
        data = carry + chunk
        cut = max(data.rfind(b" "), data.rfind(b"\n"), data.rfind(b"\t"), data.rfind(b"\r"))
        if cut < 0:
            carry = data
            continue
        total += len(data[:cut].split())
        carry = data[cut:]
    return total + len(carry.split())


def detect_reader(path: str) -> str:
    """'text8' for a corpus whose first 4 MB hold at most one line break, else 'line'."""
    with open_corpus(path) as fh:
        head = fh.read(4 << 20)
    return "text8" if head.count(b"\n") <= 1 else "line"


def write_plain(path: str, dest: str, max_words: int = MAX_LINE_WORDS, chunk_bytes: int = 1 << 22) -> str:
    """Write the corpus uncompressed to ``dest``, one line per source line but at most ``max_words``
    words a line (a text8-style single line becomes lines of ``max_words`` words); return ``dest``.

    gensim's ``corpus_file`` reader keeps only the first 10,000 words of a line, so on the one-line
    text8 layout it would train on 10,000 words per worker and epoch; every system reads this copy.
    """
    pending: List[bytes] = []
    carry = b""
    with open(dest, "wb") as out:
        def emit(final: bool) -> None:
            while len(pending) >= max_words or (final and pending):
                out.write(b" ".join(pending[:max_words]) + b"\n")
                del pending[:max_words]

        for chunk in iter_chunks(path, chunk_bytes):
            lines = (carry + chunk).split(b"\n")
            unfinished = lines.pop()
            for line in lines:
                pending.extend(line.split())
                emit(final=True)
            tokens = unfinished.split()
            carry = tokens.pop() if tokens and not unfinished[-1:].isspace() else b""
            pending.extend(tokens)
            emit(final=False)
        pending.extend(carry.split())
        emit(final=True)
    return dest


def stem(path: str) -> str:
    """File name without directory and compression/text suffixes."""
    name = os.path.basename(path)
    for suffix in (".gz", ".bz2", ".txt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def resolve_corpus(arg: str, fallback_demo: bool) -> str:
    """The corpus path: 'demo' is the packaged 1.7M-word corpus, a bare file name is looked up in
    ../shared/data; a missing file raises BenchError or, with ``fallback_demo``, falls back to the
    packaged corpus."""
    import cyw2v
    if arg == "demo":
        return cyw2v.datasets.demo_corpus_path()
    if os.path.isfile(arg):
        return os.path.abspath(arg)
    shared = cyw2v.datasets.shared_data_path(arg) if os.sep not in arg else None  # a bare file name
    if shared:
        return shared
    if fallback_demo:
        log(f"corpus {arg} not found (../shared/data is absent?): falling back to the packaged "
            f"1.7M-word corpus {cyw2v.datasets.demo_corpus_path()}")
        return cyw2v.datasets.demo_corpus_path()
    raise BenchError(f"corpus not found: {arg}. The standard table needs ../shared/data/{STANDARD_CORPUS} "
                     f"(16.9M words) beside the repository, or CYW2V_SHARED_DATA pointing at its folder; "
                     f"`make bench-quick` runs on the packaged 1.7M-word corpus instead.")
