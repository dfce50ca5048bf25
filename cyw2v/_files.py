"""Files, below every format: decompressing readers, block reading and atomic writes.

A leaf module (standard library only), so every layer of cyw2v can use it.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import os
import tempfile
from typing import IO, Iterator, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


# ----------------------------------------------------------------------------- reading
def open_read(path: PathLike, what: Optional[str] = None) -> IO[bytes]:
    """Open a file for reading bytes, decompressing by suffix (.gz, .bz2).

    With ``what`` (e.g. ``"corpus file"``) a missing file raises
    ``FileNotFoundError(f"{what} not found: {path}")``; without it, open()'s own error.
    """
    name = os.fspath(path)
    if what is not None and not os.path.exists(name):
        raise FileNotFoundError(f"{what} not found: {name}")
    if name.endswith(".gz"):
        return gzip.open(name, "rb")
    if name.endswith(".bz2"):
        return bz2.open(name, "rb")
    return open(name, "rb")


def iter_blocks(path: PathLike, block_bytes: int, what: Optional[str] = None,
                lines: bool = True) -> Iterator[bytes]:
    """Consecutive pieces of a (decompressed) file of about ``block_bytes``, each ending just
    after a newline; a line longer than a block is cut after ASCII whitespace instead, so no
    token (and no UTF-8 character) is ever cut. ``lines=False`` cuts every piece after its
    last whitespace byte, newline or not. Only the file's last piece can end in another byte.
    ``what``: as for :func:`open_read`."""
    with open_read(path, what) as fh:
        tail = b""
        while True:
            chunk = fh.read(block_bytes)
            if not chunk:
                break
            data = tail + chunk
            cut = data.rfind(b"\n") if lines else -1
            if cut < 0:
                cut = max(data.rfind(b" "), data.rfind(b"\t"), data.rfind(b"\r"), data.rfind(b"\n"))
            if cut < 0:
                tail = data
                continue
            yield data[:cut + 1]
            tail = data[cut + 1:]
        if tail:
            yield tail


# ----------------------------------------------------------------------------- writing
@contextlib.contextmanager
def atomic_path(path: PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield the name of a new temporary file beside ``path`` (ending in ``suffix``), for a
    writer that needs a name. When the block ends without error the file is fsynced, given
    ``path``'s mode (or a new file's) and renamed over ``path``; on any error or interrupt it
    is removed and an existing ``path`` is untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


@contextlib.contextmanager
def atomic_write(path: PathLike, compress: bool = False) -> Iterator[IO[bytes]]:
    """Write ``path`` all or nothing: into a temporary file beside it, fsynced, then renamed
    over it; on any error the temporary file is removed and an existing ``path`` is untouched.
    ``compress`` applies gzip/bz2 by suffix."""
    path = os.fspath(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        if compress and path.endswith(".gz"):
            # no file name and a fixed mtime in the header: the temp name must not leak in
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh:
                yield fh
        elif compress and path.endswith(".bz2"):
            with bz2.BZ2File(raw, "wb") as fh:
                yield fh
        else:
            yield raw


def _new_file_mode(path: str) -> int:
    """The target's current mode, or what open() would give a new file (mkstemp uses 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)  # reading the umask means setting it; restored at once
        os.umask(mask)
        return 0o666 & ~mask


def _fsync_file(name: str) -> None:
    """Flush a closed file's data to disk (the writer may have been a library given a name)."""
    fd = os.open(name, os.O_RDWR)  # Windows' fsync needs a writable descriptor
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: str) -> None:
    """Make the rename durable (POSIX); best effort elsewhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
