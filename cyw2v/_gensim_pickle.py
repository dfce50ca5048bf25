"""gensim's pickled models and vectors (gensim 1.x to 4.x), read without running code.

The only module of cyw2v that touches pickle. Its unpickler's ``find_class`` admits an
explicit allow-list (:data:`ALLOWED`) and refuses every other global with a
:class:`~cyw2v._formats.FormatError` naming it, so no opcode (REDUCE, BUILD, NEWOBJ, INST,
OBJ) can call anything outside the list. What the list admits is inert or checked here:

- gensim's classes, ``numpy.random``'s state constructors, ``gensim.utils.call_on_class_only``
  and the builtins ``hash``/``int``/``long`` become :class:`Record` types: data holders that
  keep their arguments and state dict and never call anything;
- ``numpy.ndarray`` is a marker; numpy's ``_reconstruct`` and ``scalar`` and ``numpy.dtype``
  are replaced by functions that build arrays from raw bytes of plain numeric dtypes
  (bool, int, uint, float, complex) only; an object-dtype array becomes a Python list of its
  elements, which this unpickler already read;
- ``collections.defaultdict``/``OrderedDict`` become plain dicts; ``_codecs.encode`` only
  encodes str to latin-1 bytes (Python 2 pickles).

gensim stores large arrays beside the pickle as ``NAME.ATTR.npy`` (``sep_limit``); they are
read with ``np.load(allow_pickle=False)``, memory-mapped if asked. :func:`read` returns
plain data (:class:`GensimVectors`, :class:`GensimModel`) and knows no class of cyw2v.
"""
from __future__ import annotations

import io
import pickle
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from ._files import open_read
from ._formats import FormatError


class Record:
    """An instance of an allowed class, as data: ``name`` (the class's dotted name), ``args``
    (what REDUCE/NEWOBJ passed) and ``state`` (what BUILD set). Calls nothing."""

    __slots__ = ("args", "state")
    name = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> "Record":
        self = object.__new__(cls)
        self.args, self.state = args, {}
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and (state[0] is None or isinstance(state[0], dict)):
            state = {**(state[0] or {}), **(state[1] or {})}  # (dict state, slot state)
        if not isinstance(state, dict):  # e.g. numpy's RandomState: a tuple, kept as it is
            state = {"__state__": state}
        self.state.update(state)

    def __repr__(self) -> str:
        return f"Record({self.name})"


_RECORD_NAMES = (
    "gensim.models.word2vec.Word2Vec", "gensim.models.word2vec.Vocab", "gensim.models.word2vec.Word2VecVocab",
    "gensim.models.word2vec.Word2VecTrainables", "gensim.models.keyedvectors.KeyedVectors",
    "gensim.models.keyedvectors.Word2VecKeyedVectors", "gensim.models.keyedvectors.EuclideanKeyedVectors",
    "gensim.models.keyedvectors.BaseKeyedVectors", "gensim.models.keyedvectors.Vocab",
    "gensim.utils.call_on_class_only", "gensim.utils.SaveLoad",
    "numpy.random.__RandomState_ctor", "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__bit_generator_ctor", "numpy.random._pickle.__generator_ctor",
    "numpy.random.mtrand.RandomState", "numpy.random._mt19937.MT19937",
    "builtins.hash", "__builtin__.hash", "builtins.int", "__builtin__.int", "__builtin__.long",
)
_RECORDS: Dict[str, type] = {name: type(name, (Record,), {"__slots__": (), "name": name}) for name in _RECORD_NAMES}


class _NdarrayMarker:
    """Stands for ``numpy.ndarray`` as the first argument of ``_reconstruct``; never instantiated."""

    def __new__(cls, *args: Any) -> "_NdarrayMarker":
        raise FormatError("numpy.ndarray may only be named as _reconstruct's argument")


#: Plain numeric dtypes, and fixed-width unicode (numpy.str_ keys, when gensim was given tokens
#: from a numpy array): inert data either way.
_TYPESTR = re.compile(r"\A[<>|=]?([biufc][0-9]{1,2}|U[0-9]{1,4})\Z")


class _Dtype(Record):
    """``numpy.dtype(typestr, align, copy)`` and its BUILD state, checked by :meth:`resolve`."""

    __slots__ = ()
    name = "numpy.dtype"

    def __setstate__(self, state: Any) -> None:
        self.state = {"tuple": state}

    def resolve(self) -> np.dtype:
        typestr = self.args[0] if self.args else None
        if not isinstance(typestr, str) or not _TYPESTR.match(typestr):
            raise FormatError(f"refused numpy dtype {typestr!r}: only plain bool/int/uint/float/complex "
                              "or fixed-width unicode")
        state = self.state.get("tuple", ())
        order = "|"
        if isinstance(state, tuple) and len(state) >= 2:
            order = state[1]
            if len(state) >= 5 and (state[3] is not None or state[4] is not None):
                raise FormatError("refused a structured numpy dtype")
        if order not in ("<", ">", "|", "="):
            raise FormatError(f"refused numpy byte order {order!r}")
        dtype = np.dtype(typestr[1:] if typestr[0] in "<>|=" else typestr)
        return dtype.newbyteorder(order) if order in "<>" else dtype


class _Array(Record):
    """``numpy.core.multiarray._reconstruct(ndarray, shape, typecode)`` and the array's BUILD
    state (version, shape, dtype, fortran, raw bytes), turned into data by :meth:`resolve`."""

    __slots__ = ()
    name = "numpy.ndarray"

    def __setstate__(self, state: Any) -> None:
        self.state = {"tuple": state}

    def resolve(self, resolve: Callable[[Any], Any]) -> Any:
        state = self.state.get("tuple")
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise FormatError("malformed numpy array state")
        shape, dtype, fortran, raw = state[-4:]
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise FormatError("malformed numpy array shape")
        if isinstance(dtype, _Dtype) and dtype.args and dtype.args[0] in ("O", "O4", "O8") and isinstance(raw, list):
            # an object array: its elements went through this unpickler; kept as a list, never as
            # a numpy object array
            if len(shape) > 1:
                raise FormatError("refused a multi-dimensional object array")
            return [resolve(x) for x in raw]
        if not isinstance(dtype, _Dtype):
            raise FormatError("numpy array without a dtype")
        dt = dtype.resolve()
        if isinstance(raw, str):  # Python 2 str, decoded as latin-1 by the unpickler
            raw = raw.encode("latin-1")
        if not isinstance(raw, (bytes, bytearray)):
            raise FormatError("numpy array data is not raw bytes")
        count = int(np.prod(shape, dtype=np.int64))
        if len(raw) != count * dt.itemsize:
            raise FormatError(f"numpy array data has {len(raw)} bytes, its shape {shape} needs {count * dt.itemsize}")
        arr = np.frombuffer(bytes(raw), dtype=dt, count=count)
        return arr.reshape(shape, order="F" if fortran else "C").astype(dt.newbyteorder("="), copy=True)


def _reconstruct(cls: Any, shape: Any = (0,), typecode: Any = b"b") -> _Array:
    if cls is not _NdarrayMarker:
        raise FormatError("numpy _reconstruct may only rebuild numpy.ndarray")
    return _Array.__new__(_Array)


def _scalar(dtype: Any, raw: Any = b"") -> Any:
    if not isinstance(dtype, _Dtype):
        raise FormatError("numpy scalar without a dtype")
    dt = dtype.resolve()
    if isinstance(raw, str):
        raw = raw.encode("latin-1")
    if not isinstance(raw, bytes) or len(raw) != dt.itemsize:
        raise FormatError("malformed numpy scalar")
    return np.frombuffer(raw, dtype=dt)[0].item()


def _plain_dict(*args: Any) -> dict:
    """defaultdict(factory) / OrderedDict(): a plain dict (the factory is never called)."""
    return {}


def _latin1(text: Any, encoding: Any = "latin1") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise FormatError("_codecs.encode is admitted only for latin-1 text")
    return text.encode("latin-1")


#: Every global a gensim pickle may name, and what it becomes.
ALLOWED: Dict[Tuple[str, str], Any] = {
    **{tuple(name.rsplit(".", 1)): t for name, t in _RECORDS.items()},  # type: ignore[misc]
    ("numpy", "ndarray"): _NdarrayMarker,
    ("numpy", "dtype"): _Dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("collections", "defaultdict"): _plain_dict,
    ("collections", "OrderedDict"): _plain_dict,
    ("_codecs", "encode"): _latin1,
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise FormatError(f"refused global {module}.{name}: not on cyw2v's allow-list of gensim "
                              "classes and numpy array constructors (loading never runs code)") from None

    def persistent_load(self, pid: Any) -> Any:
        raise FormatError("refused a persistent id: gensim pickles have none")


def looks_like_pickle(path: str) -> bool:
    """Whether the (decompressed) file starts like a pickle of protocol 2 or later."""
    try:
        with open_read(path) as fh:
            head = fh.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def unpickle(path: str, mmap: Optional[str] = None) -> Any:
    """The object tree of a gensim pickle (and its side files) as plain data: dicts, lists,
    arrays, scalars and :class:`Record` s."""
    try:
        with open_read(path) as fh:
            data = fh.read()
        raw = _Unpickler(io.BytesIO(data), encoding="latin1").load()
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any malformed pickle
        raise FormatError(f"{path}: not a readable gensim pickle ({type(exc).__name__}: {exc})") from None
    tree = _resolve_all(raw)
    _load_side_files(tree, path, mmap)
    return tree


def _resolve_all(root: Any) -> Any:
    memo: Dict[int, Any] = {}

    def resolve(x: Any) -> Any:
        key = id(x)
        if key in memo:
            return memo[key]
        if isinstance(x, _Array):
            memo[key] = out = x.resolve(resolve)
        elif isinstance(x, _Dtype):
            memo[key] = out = x.resolve()
        elif isinstance(x, Record):
            memo[key] = x
            x.state = {k: resolve(v) for k, v in x.state.items()}
            x.args = tuple(resolve(a) for a in x.args)
            out = x
        elif isinstance(x, dict):
            memo[key] = out = {}
            out.update((resolve(k), resolve(v)) for k, v in x.items())
        elif isinstance(x, list):
            memo[key] = out = []
            out.extend(resolve(v) for v in x)
        elif isinstance(x, tuple):
            memo[key] = out = tuple(resolve(v) for v in x)
        elif isinstance(x, type) and issubclass(x, Record):  # a class named as a value: its name
            out = x.name
        elif isinstance(x, type) or callable(x):
            raise FormatError(f"refused a callable value {x!r}")
        else:
            out = x
        return out

    return resolve(root)


def _load_side_files(record: Any, fname: str, mmap: Optional[str]) -> None:
    """gensim's _load_specials: arrays saved beside the pickle, recursively."""
    if not isinstance(record, Record):
        return
    state = record.state
    compressed = fname.endswith((".gz", ".bz2"))
    for attr in state.get("__recursive_saveloads", []):
        _load_side_files(state.get(attr), f"{fname}.{attr}", mmap)
    for attr in state.get("__numpys", []):
        side = f"{fname}.{attr}.{'npz' if compressed else 'npy'}"
        try:
            if compressed:
                with np.load(side, allow_pickle=False) as npz:
                    state[attr] = npz["val"]
            else:
                state[attr] = np.load(side, mmap_mode=mmap, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise FormatError(f"{side}: gensim's side file for {attr!r} is missing or not a plain array "
                              f"({exc})") from None
    if state.get("__scipys"):
        raise FormatError(f"{fname}: sparse side arrays {state['__scipys']} are not supported")
    for attr in state.get("__ignoreds", []):
        state[attr] = None


# ----------------------------------------------------------------------------- gensim's layouts
@dataclass
class GensimVectors:
    """Keys, vectors and counts of gensim KeyedVectors (any version)."""
    keys: List[str]
    vectors: np.ndarray
    counts: Optional[np.ndarray]
    huffman: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None   # (offsets, codes, points)
    lockf: Optional[np.ndarray] = None


@dataclass
class GensimModel:
    """What a gensim Word2Vec holds that a cyw2v model needs."""
    settings: Dict[str, Any]           # gensim's attribute values, by cyw2v parameter name
    wv: GensimVectors
    syn1neg: Optional[np.ndarray]
    syn1: Optional[np.ndarray]
    corpus_count: int = 0
    corpus_total_words: Optional[int] = None
    extra: Dict[str, Any] = field(default_factory=dict)   # running_training_loss, total_train_time


_KV_CLASSES = ("KeyedVectors", "Word2VecKeyedVectors", "EuclideanKeyedVectors", "BaseKeyedVectors")


def read(path: str, mmap: Optional[str] = None) -> Union[GensimModel, GensimVectors]:
    """A gensim Word2Vec or KeyedVectors pickle as plain data; FormatError for anything else."""
    root = unpickle(path, mmap)
    if not isinstance(root, Record):
        raise FormatError(f"{path}: a pickle of {type(root).__name__}, not of a gensim model")
    if root.name.endswith(".Word2Vec"):
        return _model(root, path)
    if root.name.rsplit(".", 1)[-1] in _KV_CLASSES:
        return _vectors(root.state, path)
    raise FormatError(f"{path}: a pickled {root.name}, not a gensim Word2Vec or KeyedVectors")


def _vectors(s: Dict[str, Any], path: str) -> GensimVectors:
    vectors = s.get("vectors", s.get("syn0"))
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2:
        raise FormatError(f"{path}: the pickled vectors have no 2-D array 'vectors'")
    keys = s.get("index_to_key", s.get("index2word", s.get("index2entity")))
    if not isinstance(keys, list) or len(keys) != len(vectors) or not all(isinstance(k, str) for k in keys):
        raise FormatError(f"{path}: the pickled vectors' keys do not match their rows")
    counts = codes = points = None
    expandos = s.get("expandos")
    if isinstance(expandos, dict):  # gensim 4
        counts = expandos.get("count")
        codes, points = expandos.get("code"), expandos.get("point")
    elif isinstance(s.get("vocab"), dict):  # gensim 1-3: word -> Vocab(count, index, code, point)
        entries = [s["vocab"].get(k) for k in keys]
        if all(isinstance(e, Record) for e in entries):
            counts = np.array([e.state.get("count", 0) for e in entries], dtype=np.int64)
            if all("code" in e.state for e in entries):
                codes, points = [e.state["code"] for e in entries], [e.state["point"] for e in entries]
    huffman = None
    if isinstance(codes, list) and isinstance(points, list) and len(codes) == len(keys) \
            and all(isinstance(c, np.ndarray) for c in codes + points):
        lengths = np.array([len(c) for c in codes], dtype=np.int64)
        huffman = (np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                   np.concatenate(codes).astype(np.uint8) if codes else np.zeros(0, np.uint8),
                   np.concatenate(points).astype(np.int32) if points else np.zeros(0, np.int32))
    lockf = s.get("vectors_lockf")
    return GensimVectors(list(keys), vectors, None if counts is None else np.asarray(counts, dtype=np.int64),
                         huffman, lockf if isinstance(lockf, np.ndarray) else None)


#: cyw2v parameter -> gensim attribute names, newest first (1.x-2.x called epochs ``iter``, the
#: vector size ``layer1_size``).
_SETTINGS = {"vector_size": ("vector_size", "layer1_size"), "epochs": ("epochs", "iter")}


def _model(root: Record, path: str) -> GensimModel:
    s = dict(root.state)
    parts = [s]
    for sub in ("vocabulary", "trainables"):  # gensim 3.3-3.8 split the model in three
        if isinstance(s.get(sub), Record):
            parts.append(s[sub].state)
    merged: Dict[str, Any] = {}
    for part in reversed(parts):
        merged.update(part)
    wv_record = s.get("wv")
    wv = _vectors(wv_record.state if isinstance(wv_record, Record) else s, path)
    if wv.lockf is None:
        lockf = merged.get("vectors_lockf", merged.get("syn0_lockf"))
        wv.lockf = lockf if isinstance(lockf, np.ndarray) else None
    settings = {name: merged[name] for name in merged if isinstance(name, str)}
    for name, aliases in _SETTINGS.items():
        for alias in aliases:
            if isinstance(merged.get(alias), int):
                settings[name] = merged[alias]
                break
    settings.setdefault("vector_size", wv.vectors.shape[1])
    arrays = {name: merged.get(name) for name in ("syn1neg", "syn1")}
    total = merged.get("corpus_total_words")
    return GensimModel(settings, wv, *(a if isinstance(a, np.ndarray) else None for a in arrays.values()),
                       corpus_count=int(merged.get("corpus_count") or 0),
                       corpus_total_words=int(total) if isinstance(total, (int, np.integer)) else None,
                       extra={k: merged[k] for k in ("running_training_loss", "total_train_time") if k in merged})


__all__ = ["ALLOWED", "GensimModel", "GensimVectors", "Record", "looks_like_pickle", "read", "unpickle"]
