"""Word2Vec persistence, mixed into :class:`~cyw2v.model.Word2Vec`: the native file (no
pickle; everything needed to resume training) and gensim's pickled models, read through the
restricted reader of :mod:`cyw2v._gensim_pickle`."""
from __future__ import annotations

import types
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from . import _formats, _gensim_pickle
from ._formats import FormatError, KindError
from .keyedvectors import check_gensim_save_options
from .params import PARAM_DEFAULTS, STATE
from .vocab import Vocabulary
from .weights import MATRICES, matrix_rows


class class_only:
    """A classmethod that raises AttributeError when looked up on an instance, as gensim's
    ``call_on_class_only``: ``model.load(path)`` returns a new model and would leave ``model``
    as it was, so it is refused."""

    def __init__(self, func: Callable) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, owner: type) -> Callable:
        if obj is not None:
            raise AttributeError(f"{self.func.__name__} is a class method: call "
                                 f"{owner.__name__}.{self.func.__name__}(path), which returns a new model")
        return types.MethodType(self.func, owner)


class ModelPersistence:
    """save/load of Word2Vec."""

    def save(self, path: str, **gensim_options: Any) -> None:
        """Save everything needed to resume training (no pickle; atomic). See cyw2v.io. gensim's
        pickle options (``sep_limit``, ...) are accepted and have no effect."""
        check_gensim_save_options(gensim_options)
        _formats.write_container(path, "model", type(self).__name__, *self._get_state())

    @class_only
    def load(cls, path: str, mmap: Optional[str] = None, verify: bool = True) -> Any:
        """Load a model written by :meth:`save` or by gensim (1.x to 4.x, read without running
        code); ``mmap='r'`` maps the arrays read-only, after checking their CRC-32 unless
        ``verify=False``."""
        if _gensim_pickle.looks_like_pickle(path):
            found = _gensim_pickle.read(path, mmap)
            try:
                return cls._from_gensim(found, path)
            except FormatError:
                raise
            except (KeyError, ValueError, TypeError) as exc:
                raise FormatError(f"{path}: inconsistent gensim model: {exc}") from exc
        return _formats.load_container(path, "model", mmap, cls._from_state, verify)

    _STATE = (*STATE, "loss_history")  # the training record saved besides the parameters

    def _get_state(self) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
        """(JSON-serialisable metadata, arrays) describing everything needed to resume."""
        meta = {"params": self.get_params(), **self.vocab.state(),
                **{key: getattr(self, key) for key in self._STATE}}
        meta["loss_history"] = [float(x) for x in self.loss_history]
        arrays = {name: self._published(name) for name in MATRICES}
        arrays["counts"] = self.vocab.counts
        arrays.update(self.vocab.huffman_arrays())
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: Dict[str, Any], arrays: Dict[str, np.ndarray]) -> Any:
        params = {k: v for k, v in meta["params"].items() if k in PARAM_DEFAULTS}
        model = cls(**params)
        vocab = Vocabulary.from_state(meta, np.asarray(arrays["counts"], dtype=np.int64), arrays)
        model._adopt(vocab, {name: arrays[name] for name in MATRICES})
        for key in STATE:
            if key in meta:
                setattr(model, key, STATE[key].check(key, meta[key]))
        model.loss_history = [STATE["running_training_loss"].check("loss_history", x)
                              for x in meta.get("loss_history", [])]
        return model

    @classmethod
    def _from_gensim(cls, found: Any, path: str) -> Any:
        if not isinstance(found, _gensim_pickle.GensimModel):
            raise KindError(f"{path} holds gensim KeyedVectors, not a model; load it with cyw2v.KeyedVectors.load")
        try:
            model = cls(**{k: v for k, v in found.settings.items() if k in PARAM_DEFAULTS})
        except (TypeError, ValueError) as exc:
            raise FormatError(f"{path}: the gensim model's parameters are not valid here: {exc}") from None
        wv = found.wv
        V, d = wv.vectors.shape
        counts = wv.counts if wv.counts is not None else np.zeros(V, np.int64)
        vocab = Vocabulary(wv.keys, counts, found.corpus_count, found.corpus_total_words)
        vocab.effective_min_count = found.settings.get("effective_min_count", model.min_count)
        if model.hs:
            vocab.huffman = wv.huffman  # gensim's tree: syn1's rows are its nodes
        empty = np.zeros((0, d), np.float32)
        matrices = {"vectors": wv.vectors, "syn1neg": found.syn1neg if model.negative else empty,
                    "syn1": found.syn1 if model.hs else empty, "syn1softmax": empty}
        if model.negative and matrices["syn1neg"] is None:
            matrices["syn1neg"] = np.zeros((V, d), np.float32)
        if model.hs and matrices["syn1"] is None:
            raise FormatError(f"{path}: a hierarchical-softmax model without syn1")
        model._adopt(vocab, matrices, path)
        if wv.lockf is not None:
            model.wv.vectors_lockf = wv.lockf
        for key, value in found.extra.items():
            setattr(model, key, float(value))
        return model

    def _adopt(self, vocab: Vocabulary, matrices: Dict[str, np.ndarray], path: str = "") -> None:
        """Publish loaded matrices (possibly memory-mapped read-only; train() copies them into
        padded storage) after checking their shapes."""
        V, d = len(vocab), self.vector_size
        syn1 = matrices["syn1"]
        if self.hs and V > 0 and syn1.shape == (V - 1, d):   # files written before syn1 had gensim's V rows
            matrices["syn1"] = np.concatenate([syn1, np.zeros((1, d), syn1.dtype)])
        for name in MATRICES:
            shape = (matrix_rows(name, V, self.negative, self.hs, self.softmax), d)
            if tuple(matrices[name].shape) != shape or matrices[name].dtype.kind != "f":
                raise ValueError(f"{path + ': ' if path else ''}{name} is {matrices[name].dtype} "
                                 f"{matrices[name].shape}, expected float {shape}")
        self._use_vocab(vocab, matrices)
