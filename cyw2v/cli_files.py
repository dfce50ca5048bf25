"""The command line's vector files and paths: formats by suffix or content, loading and saving
by format, checks that a path can be read or written, and the one-line error texts; the
commands themselves are in :mod:`cyw2v.cli`."""
from __future__ import annotations

import os
import re
import stat
from typing import Any, Callable, Dict, Optional

from ._files import open_read
from .keyedvectors import KeyedVectors
from .model import Word2Vec


FORMATS = ("text", "binary", "native")
SUFFIX_FORMATS: Dict[str, str] = {
    ".txt": "text", ".vec": "text", ".bin": "binary",
    ".cyw2v": "native", ".npz": "native", ".kv": "native", ".model": "native",
}


class CLIError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


# ----------------------------------------------------------------------------- formats
def guess_format(path: str) -> Optional[str]:
    """Vector format implied by the file name's suffix, or None.

    >>> guess_format("vectors.bin"), guess_format("a.vec.gz"), guess_format("m.cyw2v"), guess_format("x.dat")
    ('binary', 'text', 'native', None)
    """
    root, ext = os.path.splitext(path.lower())
    if ext in (".gz", ".bz2"):  # compressed word2vec files: vectors.txt.gz, vectors.bin.bz2
        fmt = SUFFIX_FORMATS.get(os.path.splitext(root)[1])
        return fmt if fmt in ("text", "binary") else None
    return SUFFIX_FORMATS.get(ext)


_HEADER = re.compile(rb"\A\s*(\d+)[ \t]+(\d+)[ \t]*\r?\n")


def sniff_format(path: str) -> str:
    """Vector format of an existing file, read from its first bytes (see module docstring)."""
    with open_read(path, what="vector file") as fh:
        head = fh.read(1 << 16)
    if not head:
        raise CLIError(f"{path}: file is empty")
    match = _HEADER.match(head)
    if not match:
        return "native"
    dim = int(match.group(2))
    first = head[match.end():].split(b"\n", 1)[0]
    try:
        fields = first.decode("utf-8").split()
        [float(v) for v in fields[1:]]
    except ValueError:  # UnicodeDecodeError included
        return "binary"
    return "text" if len(fields) == dim + 1 else "binary"


def resolve_format(path: str, given: Optional[str], must_exist: bool) -> str:
    """The format named by the user, else the suffix's, else (existing files) the content's."""
    if given:
        return given
    if must_exist:
        check_readable(path)
        suffix_fmt = guess_format(path)
        if suffix_fmt in ("text", "binary"):
            return sniff_format(path)  # .bin holding text (or the reverse) still loads
        return suffix_fmt or sniff_format(path)
    fmt = guess_format(path)
    if fmt is None:
        raise CLIError(f"cannot tell the output format from {path!r}: use a .txt/.vec, .bin or .cyw2v "
                       "name, or --to text|binary|native")
    return fmt


def load_vectors(path: str, fmt: Optional[str] = None, limit: Optional[int] = None) -> KeyedVectors:
    """KeyedVectors from a word2vec text/binary file, a native KeyedVectors file or a native model."""
    check_readable(path)
    fmt = resolve_format(path, fmt, must_exist=True)
    if fmt in ("text", "binary"):
        return wrap_load(path, lambda: KeyedVectors.load_word2vec_format(path, binary=(fmt == "binary"),
                                                                            limit=limit))
    try:
        kv = wrap_load(path, lambda: KeyedVectors.load(path))
    except CLIError as first:
        try:
            kv = wrap_load(path, lambda: Word2Vec.load(path).wv)
        except CLIError:
            raise first from None
    if not isinstance(kv, KeyedVectors):
        kv = getattr(kv, "wv", kv)
    return kv


def wrap_load(path: str, loader: Callable[[], Any], what: str = "a readable vector file") -> Any:
    try:
        return loader()
    except OSError as exc:
        raise CLIError(oserror_text(exc, path)) from None
    except (ValueError, KeyError, EOFError, UnicodeDecodeError) as exc:
        raise CLIError(f"{path}: not {what} ({one_line(exc)})") from None


def save_vectors(kv: KeyedVectors, path: str, fmt: str) -> None:
    """Write ``kv`` to ``path`` in ``fmt`` atomically (the savers write a temporary file, then rename)."""
    check_folder(path)
    if fmt == "native":
        kv.save(path)
    else:
        kv.save_word2vec_format(path, binary=(fmt == "binary"))


def check_readable(path: str) -> None:
    """A regular file we may read (a FIFO would block open() and cannot be read twice)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise CLIError(oserror_text(exc, path)) from None
    if stat.S_ISDIR(mode):
        raise CLIError(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise CLIError(f"{path}: not a regular file (a pipe, device or socket); give a file, which is "
                       "read more than once")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise CLIError(oserror_text(exc, path)) from None


def check_folder(path: str) -> str:
    """The folder ``path`` would be written in, which must exist."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"{path}: output folder {folder} does not exist")
    return folder


def check_writable_target(path: str) -> None:
    folder = check_folder(path)
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a folder, not a file")
    if not os.access(folder, os.W_OK):
        raise CLIError(f"{path}: output folder {folder} is not writable")


def oserror_text(exc: OSError, path: Optional[str] = None) -> str:
    name = exc.filename if exc.filename is not None else path
    reason = exc.strerror or one_line(exc)
    return f"{name}: {reason}" if name else reason


def one_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(text.split()) or type(exc).__name__


# ----------------------------------------------------------------------------- output
