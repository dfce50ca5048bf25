"""Files, below every format: decompressing readers, block reading, atomic writes (and the
cleanup of killed ones) and :class:`FormatError`, the error of every damaged file.

A leaf module (standard library only), so every layer of cyw2v can use it.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import os
import zlib
import re
import socket
import stat
import tempfile
import time
from typing import IO, Iterator, List, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]
#: The bytes after which a block or a range may be cut: they end a token for the tokeniser.
WHITESPACE = (b" ", b"\t", b"\r", b"\n")


class FormatError(ValueError):
    """A file is not in the expected format, or is damaged; the message names the file and,
    where known, the line or byte offset."""


#: A token longer than this many bytes is cut into pieces of this size (at a UTF-8
#: character boundary): the readers' buffers stay bounded on a file without whitespace
#: (e.g. /dev/zero), and reading stays linear.
MAX_TOKEN_BYTES = 1 << 20


# ----------------------------------------------------------------------------- reading
def open_read(path: PathLike, what: Optional[str] = None) -> IO[bytes]:
    """Open a file for reading bytes, decompressing by suffix (.gz, .bz2).

    With ``what`` (e.g. ``"corpus file"``) a missing file raises
    ``FileNotFoundError(f"{what} not found: {path}")``; without it, open()'s own error.
    """
    name = os.fspath(path)
    if what is not None and not os.path.exists(name):
        raise FileNotFoundError(f"{what} not found: {name}")
    if what is not None and os.path.isdir(name):
        raise IsADirectoryError(f"{what} is a folder, not a file: {name}")
    if name.endswith(".gz"):
        return gzip.open(name, "rb")
    if name.endswith(".bz2"):
        return bz2.open(name, "rb")
    return open(name, "rb")


def iter_blocks(path: PathLike, block_bytes: int, what: Optional[str] = None,
                lines: bool = True, start: int = 0, stop: Optional[int] = None) -> Iterator[bytes]:
    """Consecutive pieces of a (decompressed) file of about ``block_bytes``, each ending just
    after a newline; a line longer than a block is cut after ASCII whitespace instead, so no
    token (and no UTF-8 character) is ever cut, except a token longer than
    :data:`MAX_TOKEN_BYTES`, which is cut into pieces of that size (at a character boundary).
    ``lines=False`` cuts every piece after its last whitespace byte, newline or not. Only the
    file's last piece and the pieces of such a long token can end in another byte.
    ``start``, ``stop``: only bytes [start, stop) (for ranges from :func:`whitespace_cuts`).
    ``what``: as for :func:`open_read`."""
    with open_read(path, what) as fh:
        if start:
            fh.seek(start)
        left = None if stop is None else max(stop - start, 0)
        tail = b""
        while True:
            chunk = _read_stream(fh, path, block_bytes if left is None else min(block_bytes, left))
            if left is not None:
                left -= len(chunk)
            if not chunk:
                break
            data = tail + chunk
            cut = data.rfind(b"\n") if lines else -1
            if cut < 0:
                cut = max(data.rfind(c) for c in WHITESPACE)
            # no whitespace: data is one token (tail always starts after whitespace); emit its
            # first MAX_TOKEN_BYTES so the buffer never grows past it
            while cut < 0 and len(data) > MAX_TOKEN_BYTES:
                end = _char_boundary(data, MAX_TOKEN_BYTES)
                yield data[:end]
                data = data[end:]
            if cut < 0:
                tail = data
                continue
            yield data[:cut + 1]
            tail = data[cut + 1:]
        if tail:
            yield tail


def whitespace_cuts(path: PathLike, parts: int, probe_bytes: int = 1 << 16) -> List[int]:
    """Offsets 0 = c_0 <= c_1 <= ... <= c_parts = the size of an uncompressed file, where each
    inner c_i lies just after the first ASCII whitespace byte at or past i / parts of the
    file (or at its end): no token spans two of the ranges [c_i, c_i+1), so counting the
    ranges apart counts the file's tokens. A range may be empty."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as fh:
        for i in range(1, parts):
            at = max(size * i // parts, cuts[-1])
            fh.seek(at)
            while True:
                data = fh.read(probe_bytes)
                if not data:
                    break
                found = [k for k in (data.find(c) for c in WHITESPACE) if k >= 0]
                if found:
                    at += min(found) + 1
                    break
                at += len(data)
            cuts.append(min(at, size))
    cuts.append(size)
    return cuts


def _read_stream(fh: IO[bytes], path: PathLike, size: int) -> bytes:
    """``fh.read(size)``; a damaged or truncated .gz/.bz2 stream raises FormatError."""
    try:
        return fh.read(size)
    except (EOFError, zlib.error) as exc:
        raise FormatError(f"{os.fspath(path)}: truncated or damaged compressed file ({exc})") from exc
    except OSError as exc:
        if isinstance(fh, (gzip.GzipFile, bz2.BZ2File)):  # bad headers, "Invalid data stream"
            raise FormatError(f"{os.fspath(path)}: damaged compressed file ({exc})") from exc
        raise


def _char_boundary(data: bytes, end: int) -> int:
    """``end`` moved back to the start of the UTF-8 character it falls in (at most 3 bytes)."""
    for k in range(end, max(end - 3, 1) - 1, -1):
        if data[k] & 0xC0 != 0x80:  # not a continuation byte: a character starts here
            return k
    return end


# ----------------------------------------------------------------------------- writing
@contextlib.contextmanager
def atomic_path(path: PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield the name of a new temporary file beside ``path`` (ending in ``suffix``), for a
    writer that needs a name. When the block ends without error the file is fsynced, given
    ``path``'s mode (or a new file's) and renamed over ``path``; on any error or interrupt it
    is removed and an existing ``path`` is untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    remove_stale_temps(directory)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}{_TEMP_MARK}{_HOST}-{os.getpid()}-",
                               suffix=suffix, dir=directory)
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


# Temporary files are named .NAME.cyw2v-tmp-HOST-PID-RANDOM[SUFFIX], so that a later save
# into the folder can tell which are left over from a killed save: those of a process of
# this host that no longer runs, and any older than STALE_TEMP_SECONDS (another host's).
_TEMP_MARK = ".cyw2v-tmp-"
_HOST = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:32] or "host"
_TEMP_NAME = re.compile(r"\A\..*" + re.escape(_TEMP_MARK) + r"(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[^/]*\Z",
                        re.DOTALL)
#: A temporary file this old is stale whoever made it (no save takes a day).
STALE_TEMP_SECONDS = 24 * 3600


def remove_stale_temps(directory: str) -> int:
    """Remove the temporary files of killed saves in ``directory`` (see above); returns how
    many. Only regular files with cyw2v's temporary name are touched; errors are ignored."""
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name) if _TEMP_MARK in entry.name else None
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            mine = match.group("host") == _HOST
            if (mine and not _process_alive(int(match.group("pid")))) or now - info.st_mtime > STALE_TEMP_SECONDS:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # Windows' os.kill(pid, 0) would send CTRL_C_EVENT
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's), or cannot tell: keep the file
    return True


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
