"""The file formats, on plain arrays and lists: cyw2v's native container and word2vec.c's
text/binary formats. No class of cyw2v is known here; the classes turn themselves into
(meta, arrays) or (keys, vectors) and back.

Native format (``Word2Vec.save``, ``KeyedVectors.save``): one uncompressed zip file holding
``meta.json`` (format marker and version, kind, metadata) and one ``NAME.npy`` per array,
each array's data aligned to 64 bytes so ``mmap='r'`` can map it in place. Only plain
numeric dtypes are read (no object, string or structured ones), so loading never executes
code; every size a file declares is checked against the file before anything is allocated,
and every member's CRC-32 is checked (for a mapped one, unless ``verify=False``).
``np.load(path, allow_pickle=False)`` also opens the file. Saves are atomic: a temporary file in the same
folder is written, fsynced and renamed over the target.

word2vec.c format: a "V D" header line, then per word either ``word + b" "`` and D
little-endian float32 (binary; an optional ``b"\\n"`` follows each vector) or
``"word v1 ... vD\\n"`` (text). ``.gz``/``.bz2`` suffixes are (de)compressed.
"""
from __future__ import annotations

import codecs
import contextlib
import json
import logging
import math
import mmap as mmap_module
import os
import struct
import zipfile
import zlib
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

import numpy as np

from ._files import FormatError, PathLike, atomic_write, open_read
from ._version import __version__

logger = logging.getLogger(__name__)

#: Version of the native format written by this cyw2v; files with a larger number are refused.
FORMAT_VERSION = 1
FORMAT_MARKER = "cyw2v"
_META_NAME = "meta.json"
_ALIGN = 64
_PAD_EXTRA_ID = 0xCA1F  # zip "extra field" id of our alignment padding (ignored by readers)
_CHUNK = 1 << 22
_MAX_WORD_BYTES = 1 << 16
#: Largest vector dimension a word2vec file may declare (its lines are read in pieces of
#: at most ~64 bytes a value, so this also bounds one line's buffer).
MAX_DIMENSION = 1 << 20
_MAX_VALUE_BYTES = 64   # a float32 printed with 9 digits takes <= 16; allow padding
#: A compressed zip member may declare at most this many times its compressed size (cyw2v
#: writes only stored members; deflated float arrays shrink ~1.1x, JSON ~5x): beyond it, a
#: small file would ask for gigabytes (a zip bomb).
MAX_INFLATION = 200
#: Largest meta.json accepted (it holds the vocabulary: ~20 MB for 1M words).
MAX_META_BYTES = 1 << 30
#: Numeric dtype kinds an array may have (bool, signed, unsigned, float).
_NUMERIC_KINDS = "biuf"

T = TypeVar("T")


# FormatError itself is defined in _files (the one error of every reader), re-exported here.
class TruncatedError(FormatError, EOFError):
    """The file ends before the data its header declares (also an EOFError, as gensim raises)."""


class KindError(FormatError, AttributeError):
    """A native file holds another kind of object (also an AttributeError, as gensim raises)."""


class DecodeError(FormatError, UnicodeDecodeError):
    """Invalid text in the file's encoding (also the UnicodeDecodeError gensim raises)."""

    def __init__(self, message: str, exc: UnicodeDecodeError) -> None:
        UnicodeDecodeError.__init__(self, exc.encoding, exc.object, exc.start, exc.end, exc.reason)
        self.message = message

    def __str__(self) -> str:
        return self.message


# ----------------------------------------------------------------------------- native format
def write_container(path: PathLike, kind: str, class_name: str, meta: Dict[str, Any],
                    arrays: Dict[str, np.ndarray]) -> None:
    """Write a native file atomically: ``meta`` (JSON-serialisable) and plain numeric
    ``arrays``, marked as holding ``kind`` written by class ``class_name``."""
    table = {}
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.dtype.hasobject:
            raise TypeError(f"array {name!r} has an object dtype; only plain numeric arrays can be saved")
        table[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape)}
    doc = {"format": FORMAT_MARKER, "format_version": FORMAT_VERSION, "kind": kind,
           "class": class_name, "cyw2v_version": __version__, "arrays": table, "meta": meta}
    payload = json.dumps(doc, ensure_ascii=True).encode("ascii")
    with atomic_write(path) as fh:
        with zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(_zipinfo(_META_NAME), payload)
            for name, arr in arrays.items():
                _write_member_array(zf, fh, name + ".npy", np.asarray(arr))


def load_container(path: PathLike, kind: str, mmap: Optional[str],
                   build: Callable[[Dict[str, Any], Dict[str, np.ndarray]], T], verify: bool = True) -> T:
    """``build(meta, arrays)`` of a native file holding ``kind`` (see :func:`read_container`);
    any error of ``build`` but MemoryError becomes a :class:`FormatError`."""
    meta, arrays = read_container(path, kind, mmap, verify)
    with _damage_is_format_error(path, "inconsistent contents"):
        return build(meta, arrays)


@contextlib.contextmanager
def _damage_is_format_error(path: PathLike,
                            what: str = "damaged or not in the expected format") -> Iterator[None]:
    """Re-raise any error of the block as a :class:`FormatError` naming ``path`` (chained);
    a FormatError passes unchanged, and a MemoryError too (no check may let one happen)."""
    try:
        yield
    except (FormatError, MemoryError):
        raise
    except Exception as exc:
        raise FormatError(f"{os.fspath(path)}: {what} ({type(exc).__name__}: {_one_line(exc)})") from exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def read_container(path: PathLike, kind: str, mmap: Optional[str],
                   verify: bool = True) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """(meta, arrays) of a native file holding ``kind``; ``mmap='r'`` maps the arrays read-only
    (``'c'``: copy-on-write), ``verify`` then checks each mapped member's CRC-32 (one read of
    the mapped pages, which stay shared; unmapped arrays are always checked). Every
    member's declared size is checked against the file before anything is allocated.
    Raises :class:`FormatError` for a damaged or foreign file."""
    path = os.fspath(path)
    if mmap not in (None, "r", "c"):
        raise ValueError(f"mmap must be None, 'r' or 'c', got {mmap!r} "
                         "('r+' would write into the file behind its checksums)")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    size = os.path.getsize(path)
    raw = open(path, "rb")  # an OSError here is the file's (permissions); below, its contents'
    try:
        zf = zipfile.ZipFile(raw, mode="r")
    except Exception as exc:
        raw.close()
        if isinstance(exc, MemoryError):
            raise
        raise FormatError(f"{path}: not a cyw2v file, or truncated/corrupt ({_one_line(exc)}); gensim's pickled "
                          ".model files are not read: export them with save_word2vec_format") from exc
    with raw, zf, _damage_is_format_error(path):
        for info in zf.infolist():
            _check_member_sizes(path, info, size)
        doc = _read_meta(zf, path)
        found = doc.get("kind")
        if found != kind:
            hint = {"model": "load it with cyw2v.Word2Vec.load (its vectors are .wv)",
                    "keyedvectors": "load it with cyw2v.KeyedVectors.load"}.get(found, "")
            raise KindError(f"{path} holds {found!r}, not {kind!r}" + (f"; {hint}" if hint else ""))
        table = doc.get("arrays")
        if not isinstance(table, dict) or not isinstance(doc.get("meta"), dict):
            raise FormatError(f"{path}: {_META_NAME} lacks 'arrays' or 'meta'")
        arrays = {}
        for name, spec in table.items():
            arrays[name] = _read_member_array(zf, path, name, spec, mmap, verify)
    return doc["meta"], arrays


def _check_member_sizes(path: str, info: zipfile.ZipInfo, file_size: int) -> None:
    """A member's declared sizes must fit in the file and not inflate beyond MAX_INFLATION."""
    if info.header_offset + info.compress_size > file_size:
        raise FormatError(f"{path}: member {info.filename} declares {info.compress_size} bytes at byte offset "
                          f"{info.header_offset}, past the end of the {file_size}-byte file (truncated?)")
    stored = info.compress_type == zipfile.ZIP_STORED
    if stored and info.file_size != info.compress_size:
        raise FormatError(f"{path}: stored member {info.filename} declares {info.file_size} bytes but holds "
                          f"{info.compress_size}")
    if not stored and info.file_size > MAX_INFLATION * max(info.compress_size, 1):
        raise FormatError(f"{path}: member {info.filename} would inflate {info.compress_size} bytes to "
                          f"{info.file_size} (more than {MAX_INFLATION}x): refused as a zip bomb")

def _zipinfo(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: reproducible files
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _write_member_array(zf: zipfile.ZipFile, fh: IO[bytes], name: str, arr: np.ndarray) -> None:
    """Stream one .npy member whose data starts on a 64-byte boundary of the file."""
    info = _zipinfo(name)
    # local header: 30 fixed bytes + name + extra (our padding record, then zipfile's 20-byte
    # zip64 record, always present with force_zip64); the .npy header itself is a multiple of 64.
    start = fh.tell() + 30 + len(name.encode("ascii")) + 4 + 20
    pad = (-start) % _ALIGN
    info.extra = struct.pack("<HH", _PAD_EXTRA_ID, pad) + b"\0" * pad
    with zf.open(info, mode="w", force_zip64=True) as out:
        np.lib.format.write_array(out, np.ascontiguousarray(arr), allow_pickle=False)


def _read_meta(zf: zipfile.ZipFile, path: str) -> Dict[str, Any]:
    try:
        info = zf.getinfo(_META_NAME)
    except KeyError:
        raise FormatError(f"{path}: no {_META_NAME}: a zip file, but not a cyw2v file") from None
    if info.file_size > MAX_META_BYTES:
        raise FormatError(f"{path}: {_META_NAME} declares {info.file_size} bytes (at most {MAX_META_BYTES})")
    try:
        raw = zf.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FormatError(f"{path}: corrupt {_META_NAME} ({exc})") from exc
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FormatError(f"{path}: {_META_NAME} is not valid JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_MARKER:
        raise FormatError(f"{path}: not a cyw2v file (no '{FORMAT_MARKER}' format marker)")
    version = doc.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise FormatError(f"{path}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise FormatError(f"{path} was written by a newer cyw2v (format {version}); upgrade cyw2v "
                          f"(this one reads format {FORMAT_VERSION})")
    return doc


def _read_member_array(zf: zipfile.ZipFile, path: str, name: str, spec: Any, mmap: Optional[str],
                       verify: bool) -> np.ndarray:
    member = name + ".npy"
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise FormatError(f"{path}: array {member} listed in {_META_NAME} is missing") from None
    try:
        if mmap is not None and info.compress_type == zipfile.ZIP_STORED:
            arr = _map_member(path, info, mmap, verify)
        else:
            with zf.open(info) as fh:
                arr = _read_npy(fh, path, info)
    except FormatError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        # read_array refuses object arrays with ValueError; a bad CRC is BadZipFile
        raise FormatError(f"{path}: array {member} is unreadable or corrupt ({exc})") from exc
    if not isinstance(spec, dict) or list(arr.shape) != spec.get("shape") or arr.dtype.str != spec.get("dtype"):
        got = spec if not isinstance(spec, dict) else f"{spec.get('dtype')} {spec.get('shape')}"
        raise FormatError(f"{path}: array {member} is {arr.dtype.str} {list(arr.shape)} but "
                          f"{_META_NAME} says {got}")
    return arr


def _read_npy_header(fh: IO[bytes], path: str, info: zipfile.ZipInfo,
                     base: int = 0) -> Tuple[tuple, bool, np.dtype, int]:
    """(shape, fortran_order, dtype, header bytes) of a .npy member, checked: a plain numeric
    dtype, and exactly the member's size of data (a lying shape allocates nothing). ``base``:
    the position of the member's first byte in ``fh``."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise FormatError(f"{path}: {info.filename}: unsupported .npy version {version}")
    header = fh.tell() - base
    if dtype.hasobject or dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype:
        raise FormatError(f"{path}: {info.filename} has dtype {dtype}; only plain numeric arrays are read")
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: a lying shape cannot overflow
    if header + nbytes != info.file_size:
        raise FormatError(f"{path}: {info.filename}'s header says {list(shape)} x {dtype.itemsize} bytes = "
                          f"{nbytes} bytes of data, but the member holds {info.file_size - header}")
    return shape, fortran, dtype, header


def _read_npy(fh: IO[bytes], path: str, info: zipfile.ZipInfo) -> np.ndarray:
    """A .npy member read into an array allocated from its checked header (zipfile checks
    the CRC-32 when the last byte is read)."""
    shape, fortran, dtype, _ = _read_npy_header(fh, path, info)
    arr = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    target = memoryview(arr.reshape(-1, order="A").view(np.uint8)) if arr.size else memoryview(b"")
    done = 0
    while done < len(target):
        got = fh.readinto(target[done:])  # type: ignore[attr-defined]
        if not got:
            raise FormatError(f"{path}: {info.filename} ends after {done} of its {len(target)} data bytes")
        done += got
    if fh.read(1):
        raise FormatError(f"{path}: {info.filename} holds data after its array")
    return arr


def _map_member(path: str, info: zipfile.ZipInfo, mode: str, verify: bool) -> np.ndarray:
    """Memory-map a stored .npy member in place; ``verify`` checks its CRC-32 first."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise FormatError(f"{path}: bad zip local header at byte offset {info.header_offset}")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        if fh.read(name_len) != info.filename.encode("utf-8"):
            raise FormatError(f"{path}: zip local header of {info.filename} names another member")
        if start + info.file_size > os.fstat(fh.fileno()).st_size:
            raise FormatError(f"{path}: {info.filename} runs past the end of the file (truncated?)")
        if verify:
            _check_crc(path, fh, info, start)
        fh.seek(start)
        shape, fortran, dtype, header = _read_npy_header(fh, path, info, start)
    if math.prod(shape) == 0:  # mmap cannot map zero bytes
        return np.zeros(shape, dtype=dtype, order="F" if fortran else "C")
    return np.memmap(path, dtype=dtype, mode=mode, offset=start + header, shape=shape,
                     order="F" if fortran else "C")


def _check_crc(path: str, fh: IO[bytes], info: zipfile.ZipInfo, start: int) -> None:
    """Compare a stored member's CRC-32 with the central directory's, reading the file
    through a shared read-only map in 4 MiB steps (no copy on the heap)."""
    crc = 0
    if info.file_size:
        with mmap_module.mmap(fh.fileno(), 0, access=mmap_module.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                for s in range(start, start + info.file_size, _CHUNK):
                    crc = zlib.crc32(view[s:min(s + _CHUNK, start + info.file_size)], crc)
            finally:
                view.release()
    if crc != info.CRC:
        raise FormatError(f"{path}: {info.filename} fails its CRC-32 check (damaged; "
                          "load with verify=False to map it unchecked)")


# ----------------------------------------------------------------------------- word2vec.c format
def write_word2vec(path: PathLike, keys: Sequence[str], vectors: np.ndarray, binary: bool = False,
                   write_header: bool = True) -> None:
    """Write ``keys`` and the rows of ``vectors`` in word2vec.c's format, atomically.

    Binary: header, then per key ``key + b" "`` + float32 little-endian + ``b"\\n"`` (exactly
    what word2vec.c writes). Text: ``"key v1 ... vD\\n"`` with float32 values printed with
    9 significant digits (lossless). Keys are encoded as UTF-8 (surrogate escapes back to
    their original bytes). ``.gz``/``.bz2`` suffixes compress.
    """
    words = [_encode_key(k) for k in keys]
    vectors = np.asarray(vectors)
    n, d = vectors.shape
    with atomic_write(path, compress=True) as fh:
        if write_header:
            fh.write(f"{n} {d}\n".encode("ascii"))
        step = max(1, (1 << 22) // max(d * 4, 1))
        if binary:
            little = np.ascontiguousarray(vectors, dtype="<f4")
            for s in range(0, n, step):
                block = little[s:s + step]
                parts: List[bytes] = []
                for word, row in zip(words[s:s + step], block):
                    parts += (word, b" ", row.tobytes(), b"\n")
                fh.write(b"".join(parts))
        else:
            fmt = " ".join(["%.9g" if vectors.dtype.itemsize <= 4 else "%.17g"] * d)
            for s in range(0, n, step):
                lines = [word + b" " + (fmt % tuple(row)).encode("ascii") + b"\n"
                         for word, row in zip(words[s:s + step], vectors[s:s + step].tolist())]
                fh.write(b"".join(lines))


def _encode_key(key: str) -> bytes:
    if not storable_key(key):
        raise ValueError(f"key {key!r} cannot be stored in word2vec format "
                         "(empty, or contains whitespace or NUL)")
    return key.encode("utf-8", "surrogateescape")


def storable_key(key: str) -> bool:
    """Whether word2vec.c's formats can hold ``key`` (not empty, no whitespace or NUL)."""
    word = key.encode("utf-8", "surrogateescape")
    return bool(word) and not any(c in word for c in (b" ", b"\n", b"\r", b"\t", b"\0"))


def read_word2vec(path: PathLike, binary: bool = False, limit: Optional[int] = None,
                  datatype: Any = np.float32, unicode_errors: str = "strict",
                  no_header: bool = False) -> Tuple[List[str], np.ndarray]:
    """(keys, vectors as ``datatype``) of a word2vec.c text or binary file.

    ``limit`` reads only the first that many vectors. A file that disagrees with its header,
    is truncated, holds non-numbers or (with ``unicode_errors='strict'``) invalid UTF-8
    raises :class:`FormatError` naming the line or byte offset. NaN and inf are accepted.
    Repeated keys keep their first vector (with a warning), as in gensim.
    ``no_header`` (text only) reads a file without the "V D" line (e.g. GloVe).
    """
    path = os.fspath(path)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    if no_header and binary:
        raise ValueError("no_header=True works only for text files: a binary file needs its header's dimension")
    if np.dtype(datatype).kind != "f":
        raise TypeError(f"datatype must be a float type, got {np.dtype(datatype)}")
    codecs.lookup_error(unicode_errors)  # LookupError for an unknown handler, before reading
    # the bytes a plain file really holds bound what a binary reader allocates for what its
    # header declares; a compressed one is allocated as it arrives (text always is)
    available = None if path.endswith((".gz", ".bz2")) else os.path.getsize(path)
    with open_read(path) as fh, _damage_is_format_error(path, "damaged or not a word2vec file"):
        try:
            if binary:
                words, vectors = _read_binary(fh, path, limit, unicode_errors, available)
            else:
                words, vectors = _read_text(fh, path, limit, unicode_errors, no_header)
        except FormatError:
            raise
        except (OSError, EOFError, zlib.error) as exc:  # damaged .gz/.bz2 streams
            raise FormatError(f"{path}: cannot decompress or read ({exc})") from exc
    words, vectors = _drop_repeats(path, words, vectors)
    return words, vectors.astype(datatype, copy=False)


def _drop_repeats(path: str, words: List[str], vectors: np.ndarray) -> Tuple[List[str], np.ndarray]:
    seen: Dict[str, int] = {}
    for i, w in enumerate(words):
        seen.setdefault(w, i)
    if len(seen) == len(words):
        return words, vectors
    logger.warning("%s: %d repeated words; keeping the first vector of each", path, len(words) - len(seen))
    keep = np.fromiter(sorted(seen.values()), dtype=np.intp, count=len(seen))
    return [words[i] for i in keep], np.ascontiguousarray(vectors[keep])


def _parse_header(line: bytes, path: str) -> Tuple[int, int]:
    fields = line.split()
    try:
        if len(fields) != 2:
            raise ValueError
        n, d = int(fields[0]), int(fields[1])
    except ValueError:
        raise FormatError(f"{path}, line 1: expected a header 'VOCAB_SIZE DIMENSION', got "
                          f"{line[:60]!r} (for a text file without header pass no_header=True)") from None
    if n < 0 or d < 1 or d > MAX_DIMENSION:
        raise FormatError(f"{path}, line 1: invalid header {n} x {d}" +
                          (f" (dimension at most {MAX_DIMENSION})" if d > MAX_DIMENSION else ""))
    return n, d


def _rows_to_allocate(want: int, bytes_each: int, available: Optional[int]) -> int:
    """Rows to allocate at first for ``want`` vectors of at least ``bytes_each`` bytes: no
    more than the ``available`` bytes of a plain file can hold (a header may lie), and for a
    compressed stream (None) about one read's worth; more are allocated as rows arrive."""
    return min(want, max(1, (_CHUNK if available is None else available) // bytes_each))


def _read_binary(fh: IO[bytes], path: str, limit: Optional[int], errors: str,
                 available: Optional[int]) -> Tuple[List[str], np.ndarray]:
    header = fh.readline(1024)
    if not header.endswith(b"\n"):
        raise FormatError(f"{path}: empty or truncated before the end of the header line" if len(header) < 1024
                          else f"{path}: first line is not a 'VOCAB_SIZE DIMENSION' header")
    n, d = _parse_header(header, path)
    want = n if limit is None else min(n, limit)
    width = 4 * d
    rows = _rows_to_allocate(want, width + 2, None if available is None else available - len(header))
    out = np.empty((rows, d), dtype="<f4")
    out_bytes = memoryview(out.reshape(-1).view(np.uint8)) if rows else memoryview(b"")
    words: List[str] = []
    buf = b""
    view = memoryview(buf)
    pos = 0
    base = len(header)  # stream offset of buf[0]
    eof = False
    i = 0
    while i < want:
        sp = buf.find(b" ", pos, pos + _MAX_WORD_BYTES)
        end = sp + 1 + width
        if sp < 0 or end > len(buf):
            if sp < 0 and len(buf) - pos >= _MAX_WORD_BYTES:
                raise FormatError(f"{path}: no word separator within {_MAX_WORD_BYTES} bytes at byte offset "
                                  f"{base + pos} (vector {i}): not a word2vec binary file, or a wrong header")
            if eof:
                raise TruncatedError(f"{path}: file ends inside vector {i} of the {n} the header declares "
                                  f"(byte offset {base + pos}): truncated, or the header is wrong")
            chunk = fh.read(max(_CHUNK, width + _MAX_WORD_BYTES))
            eof = not chunk
            buf = buf[pos:] + chunk
            view = memoryview(buf)
            base += pos
            pos = 0
            continue
        word = buf[pos:sp]
        if word[:1] == b"\n":  # the optional newline after the previous vector
            word = word.lstrip(b"\n")
        if not word or b"\0" in word:
            raise FormatError(f"{path}: {'empty word' if not word else 'NUL byte in word'} at byte offset "
                              f"{base + pos} (vector {i}): corrupt file, or the header's dimension {d} is wrong")
        try:
            words.append(word.decode("utf-8", errors))
        except UnicodeDecodeError as exc:
            raise DecodeError(f"{path}: invalid UTF-8 in word {i} at byte offset {base + pos + exc.start} "
                              f"({exc.reason}); pass unicode_errors='replace' or 'ignore' to accept it, "
                              "or the header's dimension may be wrong", exc) from None
        if i == len(out):
            out = np.concatenate([out, np.empty((min(want, 2 * len(out)) - len(out), d), dtype="<f4")])
            out_bytes = memoryview(out.reshape(-1).view(np.uint8))
        out_bytes[i * width:(i + 1) * width] = view[sp + 1:end]
        pos = end + 1 if buf[end:end + 1] == b"\n" else end
        i += 1
    if limit is None or limit >= n:
        rest = buf[pos:]
        offset = base + pos
        while True:
            if rest.strip():
                lead = len(rest) - len(rest.lstrip())
                raise FormatError(f"{path}: data after the {n} vectors the header declares (byte offset "
                                  f"{offset + lead}): the header's count or dimension is wrong")
            offset += len(rest)
            rest = fh.read(_CHUNK)
            if not rest:
                break
    return words, out


def _read_text(fh: IO[bytes], path: str, limit: Optional[int], errors: str,
               no_header: bool) -> Tuple[List[str], np.ndarray]:
    line_no = 0
    if no_header:
        n, d = -1, None
    else:
        header = fh.readline(1024)
        line_no = 1
        if not header.strip():
            raise FormatError(f"{path}: empty file (no header line)")
        n, d = _parse_header(header, path)
    want = n if limit is None else (limit if n < 0 else min(n, limit))
    partial = limit is not None and (n < 0 or limit < n)  # stopping early was asked for
    words: List[str] = []
    blocks: List[np.ndarray] = []
    flat: List[bytes] = []
    block_start = line_no + 1
    block_rows = 0
    for line in _bounded_lines(fh, path, line_no, _MAX_WORD_BYTES + _MAX_VALUE_BYTES * (d or MAX_DIMENSION)):
        line_no += 1
        if want >= 0 and len(words) >= want:
            if partial:
                break
            if line.strip():
                raise FormatError(f"{path}, line {line_no}: more vectors than the {n} the header declares")
            continue
        stripped = line.rstrip()
        if not stripped:
            if no_header:
                continue
            raise FormatError(f"{path}, line {line_no}: blank line where vector {len(words) + 1} of {n} "
                              "was expected")
        sp = stripped.find(b" ")
        values = stripped[sp + 1:].split() if sp > 0 else []
        if d is None:
            d = len(values)
            if d == 0:
                raise FormatError(f"{path}, line {line_no}: no values after the word")
        if len(values) != d:
            raise FormatError(f"{path}, line {line_no}: {len(values)} values, expected {d}")
        try:
            words.append(stripped[:sp].decode("utf-8", errors))
        except UnicodeDecodeError as exc:
            raise DecodeError(f"{path}, line {line_no}: invalid UTF-8 in the word at byte {exc.start} "
                              f"({exc.reason}); pass unicode_errors='replace' or 'ignore' to accept it", exc) from None
        flat += values
        block_rows += 1
        if block_rows >= 16384:
            blocks.append(_parse_floats(flat, d, path, block_start))
            flat, block_rows, block_start = [], 0, line_no + 1
    if flat:
        blocks.append(_parse_floats(flat, d, path, block_start))
    if want >= 0 and len(words) < want:
        raise TruncatedError(f"{path}: file ends after {len(words)} vectors (line {line_no}), but the header "
                          f"declares {n}: truncated, or the header is wrong")
    if d is None:
        raise FormatError(f"{path}: no vectors found")
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, d), np.float32)
    return words, vectors


def _bounded_lines(fh: IO[bytes], path: str, line_no: int, longest: int) -> Iterator[bytes]:
    """The lines of ``fh``, each read with a bound: a line of more than ``longest`` bytes
    (e.g. one 2 GiB line in a small .gz) is a FormatError, never a 2 GiB buffer."""
    while True:
        line = fh.readline(longest + 1)
        if not line:
            return
        line_no += 1
        if len(line) > longest:
            raise FormatError(f"{path}, line {line_no}: longer than {longest} bytes: not a word2vec text file, "
                              "or the header's dimension is wrong")
        yield line


def _parse_floats(flat: List[bytes], d: int, path: str, first_line: int) -> np.ndarray:
    """Parse a block of numeric tokens (numpy's C parser); on failure find the bad token."""
    try:
        return np.array(flat, dtype=np.float32).reshape(-1, d)
    except ValueError:
        for k, tok in enumerate(flat):
            try:
                float(tok)
            except ValueError:
                raise FormatError(f"{path}, line {first_line + k // d}: value {k % d + 1} is not a number: "
                                  f"{tok[:40]!r}") from None
        raise


# ----------------------------------------------------------------------------- word2vec.c vocabulary
def write_counts(path: PathLike, keys: Sequence[str], counts: Sequence[int]) -> None:
    """Write word2vec.c's vocabulary file (``-save-vocab``): ``"word count\n"`` per key, atomically."""
    with atomic_write(path, compress=True) as fh:
        fh.write(b"".join(_encode_key(k) + b" %d\n" % int(c) for k, c in zip(keys, counts)))


def read_counts(path: PathLike, unicode_errors: str = "strict") -> Dict[str, int]:
    """word -> count of a word2vec.c vocabulary file; a bad line raises :class:`FormatError`."""
    path = os.fspath(path)
    counts: Dict[str, int] = {}
    with open_read(path) as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                fields = line.decode("utf-8", unicode_errors).split()
            except UnicodeDecodeError as exc:
                raise DecodeError(f"{path}, line {line_no}: invalid UTF-8 at byte {exc.start} ({exc.reason}); "
                                  "pass unicode_errors='replace' or 'ignore' to accept it", exc) from None
            if not fields:
                continue
            try:
                word, count = fields
                counts[word] = int(count)
            except ValueError:
                raise FormatError(f"{path}, line {line_no}: expected 'word count', got {line[:60]!r}") from None
    return counts
