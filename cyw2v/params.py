"""Training parameters, declared once: name, default, constraint and a one-line doc.

``Word2Vec``'s signature, ``Word2VecTransformer``'s parameters and the ``cyw2v train``
options are all made from :data:`PARAMETERS`. :func:`validate` checks a full set once, at
the door; :func:`resolve` turns a valid set into the :class:`EngineConfig` the engine
runs (what ``batch_window=None`` and ``combine_windows=None`` become). Nothing
downstream re-checks or re-derives them.
"""
from __future__ import annotations

import inspect
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

import numpy as np

from ._dispatch import core as _core


class Constraint:
    """A rule for one value: ``check(name, value)`` returns it normalised or raises ValueError."""

    #: Python type of a valid value (for the CLI parser and the signature's annotation).
    type: type = object

    @property
    def annotation(self) -> str:
        return self.type.__name__

    def check(self, name: str, value: Any) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Integer(Constraint):
    low: int
    high: Optional[int] = None
    type = int

    def check(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < self.low:
            raise ValueError(f"{name} must be >= {self.low}, got {value}")
        if self.high is not None and value > self.high:
            raise ValueError(f"{name} must be <= {self.high}, got {value}")
        return int(value)


@dataclass(frozen=True)
class Real(Constraint):
    low: float
    strict: bool   # value > low (else value >= low)
    high: float = math.inf   # value <= high
    type = float

    def check(self, name: str, value: Any) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
        if not math.isfinite(v) or (v <= self.low if self.strict else v < self.low):
            raise ValueError(f"{name} must be {'>' if self.strict else '>='} {self.low}, got {value!r}")
        if v > self.high:
            raise ValueError(f"{name} must be <= {self.high}, got {value!r}")
        return v


@dataclass(frozen=True)
class Flag(Constraint):
    type = int

    def check(self, name: str, value: Any) -> int:
        if value not in (0, 1, True, False):
            raise ValueError(f"{name} must be 0/1 (or a bool), got {value!r}")
        return int(value)


@dataclass(frozen=True)
class OrNone(Constraint):
    """None (a documented automatic choice), or a value of ``inner``."""
    inner: Constraint

    @property
    def type(self) -> type:  # type: ignore[override]
        return self.inner.type

    @property
    def annotation(self) -> str:
        return f"Optional[{self.inner.annotation}]"

    def check(self, name: str, value: Any) -> Any:
        return None if value is None else self.inner.check(name, value)


@dataclass(frozen=True)
class Choice(Constraint):
    """One of ``options``."""
    options: tuple
    type = str

    def check(self, name: str, value: Any) -> str:
        if value not in self.options:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, self.options))}, got {value!r}")
        return value


@dataclass(frozen=True)
class PathLike(Constraint):
    """A file path (str or os.PathLike), returned as a str."""
    type = str

    def check(self, name: str, value: Any) -> str:
        if not isinstance(value, (str, os.PathLike)):
            raise ValueError(f"{name} must be a path, got {value!r}")
        return os.fspath(value)


@dataclass(frozen=True)
class Param:
    """One training parameter. ``cli`` is its ``cyw2v train`` flag (None: not offered);
    ``cli_default`` overrides the default there (a callable is called when the parser is made)."""
    name: str
    default: Any
    constraint: Constraint
    doc: str
    cli: Optional[str] = ""            # "" means --name-with-dashes
    cli_default: Any = inspect.Parameter.empty

    @property
    def flag(self) -> Optional[str]:
        if self.cli is None:
            return None
        return self.cli or "--" + self.name.replace("_", "-")


def _available_cores() -> int:
    """the cores this process may run on"""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# Limits. The engine holds sizes in C ints (int32) and allocates per-thread scratch buffers
# of about (2 window + combine) x (2 vector_size + 2 targets + negative) floats; every
# limit below keeps those products inside int32 and the buffers small (validate() also
# bounds their product: MAX_SCRATCH_BYTES). Each is far above any useful value.
INT32_MAX = 2 ** 31 - 1
INT64_MAX = 2 ** 63 - 1
MAX_VECTOR_SIZE = 1 << 16      # rows of 64k floats; published models use <= 1000
MAX_WINDOW = 100_000           # 10x the longest sentence LineSentence yields by default
MAX_NEGATIVE = 1000            # word2vec's advice is 2-20
MAX_WORKERS = 1024             # threads; each has its own scratch buffers
MAX_EPOCHS = 1_000_000
MAX_BATCH_WORDS = 10_000_000   # words per job: the engine's sentence buffer is 4 bytes a word
MAX_ALPHA = 1.0                # a learning rate above 1 diverges on any corpus
MAX_NS_EXPONENT = 10.0         # count ** 10 already overflows float64 for counts > 1e30
MAX_CORPUS_CACHE_MB = 1 << 30    # MiB: 1 PiB, past any machine's memory
#: All workers' scratch buffers together may take at most this many bytes (see
#: :func:`scratch_bytes`).
MAX_SCRATCH_BYTES = 1 << 30
#: negative may be at most this many times the vocabulary size (checked at build time):
#: far beyond it every word is its own noise many times per target and training diverges
#: (negative=1000 on 20 words gave NaN vectors).
MAX_NEGATIVE_PER_WORD = 10

_POSITIVE = Integer(1)
#: ``cbow_gradient``'s values: word2vec.c's update of the context rows, or the exact gradient.
CBOW_GRADIENTS = ("word2vec", "exact")
_VOCAB_LIMIT = OrNone(Integer(1, INT32_MAX))  # rows are int32 in the engine
#: ``sigmoid``'s values and the affine map of the score each applies before sigma.
#: word2vec.c and gensim read sigma(x) from a 1,000-entry table over (-6, 6) at index
#: int((x + 6) * (1000 / 6 / 2)), where C's integer division makes the factor 83, not 83.33:
#: entry i holds sigma(0.012 i - 6), so they train with sigma(0.012 floor(83 (x + 6)) - 6),
#: whose mean over each entry's bin is sigma(0.996 x - 0.030). "word2vec" is that map with
#: an exact sigma; "exact" is sigma(x). Replaying gensim's random streams
#: (benchmarks/gensim_replay.py) showed it to be the only difference between gensim's CBOW-NS
#: update and cyw2v's; it is worth ~0.3 analogy points (BENCHMARKS.md, "CBOW-NS against gensim").
SIGMOIDS = {"word2vec": (0.996, -0.030), "exact": (1.0, 0.0)}

# alpha=None: the initial learning rate by model (BENCHMARKS.md, "CBOW: the learning rate"; the
# 16.9M-word benchmark corpus, medians of 3 seeds). CBOW's mean with negative sampling at 0.05
# (word2vec.c's CBOW default) scored analogy 0.342 / WS-353 0.641 against 0.291 / 0.595 at
# gensim's 0.025; CBOW-HS lost 1.9 analogy points at 0.05, so it keeps 0.025, as do skip-gram
# and the CBOW sum (whose hidden vector is C times the mean's). The exact gradient's steps are
# about C (~6) times smaller: 0.1 scored 0.324 / 0.658 against 0.201 / 0.497 at 0.025.
GENSIM_ALPHA = 0.025
CBOW_NS_ALPHA = 0.05
EXACT_CBOW_ALPHA = 0.1

#: Every training parameter, in gensim's positional order (then ours). ``Word2Vec`` puts
#: ``callbacks`` after ``compute_loss`` as gensim does; it is not a parameter of training.
PARAMETERS: Tuple[Param, ...] = (
    Param("vector_size", 100, Integer(1, MAX_VECTOR_SIZE), "dimensionality of the word vectors", cli="--dim"),
    Param("alpha", None, OrNone(Real(0.0, strict=True, high=MAX_ALPHA)),
          f"initial learning rate (None: {CBOW_NS_ALPHA} for the CBOW mean with negative sampling alone, as in "
          f"word2vec.c, {EXACT_CBOW_ALPHA} with cbow_gradient='exact', else gensim's {GENSIM_ALPHA})"),
    Param("window", 5, Integer(1, MAX_WINDOW), "largest distance between the centre and a context word"),
    Param("min_count", 5, Integer(0, INT64_MAX), "drop words rarer than this"),
    Param("max_vocab_size", None, _VOCAB_LIMIT,
          "prune rare words while counting whenever more than this many are held (None: no limit)"),
    Param("sample", 1e-3, Real(0.0, strict=False, high=1.0), "subsampling threshold for frequent words (0: off)"),
    Param("seed", 1, Integer(0, 2 ** 64 - 1), "random seed (results repeat exactly only with workers=1)"),
    Param("workers", 3, Integer(1, MAX_WORKERS), "training threads", cli_default=_available_cores),
    Param("min_alpha", 0.0001, Real(0.0, strict=False, high=MAX_ALPHA), "final learning rate (linear decay)"),
    Param("sg", 0, Flag(), "1: skip-gram; 0: CBOW"),
    Param("hs", 0, Flag(), "1: hierarchical softmax as an objective"),
    Param("negative", 5, Integer(0, MAX_NEGATIVE), "negative samples per target (0: no negative sampling)"),
    Param("ns_exponent", 0.75, Real(-MAX_NS_EXPONENT, strict=False, high=MAX_NS_EXPONENT),
          "noise distribution ~ count ** ns_exponent"),
    Param("cbow_mean", 1, Flag(), "CBOW: 1 averages the context vectors, 0 sums them"),
    Param("epochs", 5, Integer(1, MAX_EPOCHS), "passes over the corpus"),
    Param("sorted_vocab", 1, Flag(), "1: order the vocabulary by descending count"),
    Param("batch_words", 10000, Integer(1, MAX_BATCH_WORDS), "words per job; longer sentences are split"),
    Param("compute_loss", False, Flag(), "record each epoch's training loss in loss_history"),
    Param("max_final_vocab", None, _VOCAB_LIMIT,
          "keep at most this many words, raising min_count as needed (None: no limit)"),
    Param("shrink_windows", True, Flag(), "1: draw each window's size uniformly in [1, window]"),
    Param("softmax", False, Flag(), "1: the exact full softmax as an objective (O(V d) per target)"),
    Param("batch_window", None, OrNone(Flag()),
          "skip-gram: 1 trains a window as one batch, 0 per pair (None: batch unless hs)"),
    Param("combine_windows", None, OrNone(Integer(1, _core.MAX_COMBINED_CENTRES)),
          "skip-gram: centres trained as one block, sharing one draw of negatives (None: 1; 3 trains "
          "SG-NS ~1.4x faster for ~1.8 analogy points less)"),
    Param("cbow_gradient", "word2vec", Choice(CBOW_GRADIENTS),
          "CBOW mean: 'word2vec' gives each context row the mean's whole gradient, 'exact' 1/C of it "
          "(Irsoy et al. 2021; its steps are C times smaller, so its default alpha is larger)"),
    Param("sigmoid", "word2vec", Choice(tuple(SIGMOIDS)),
          "the logistic units' sigma (negative sampling, hierarchical softmax): 'word2vec' is the "
          "sigma(0.996 x - 0.03) that word2vec.c's and gensim's table computes on average, 'exact' "
          "is sigma(x)"),
    Param("corpus_cache_mb", 1024, Integer(0, MAX_CORPUS_CACHE_MB),
          "the corpus (iterable or corpus_file) is read once per train() call (a Dask replica's shard: "
          "once per fit) and its encoded words (~1.5 bytes each) kept for the later epochs if they fit "
          "in this many MiB; else, or at 0, it is read every epoch, as in gensim"),
)

BY_NAME: Dict[str, Param] = {p.name: p for p in PARAMETERS}

#: What a saved model records about its training besides the parameters, with its bounds
#: (a file's values are checked on load; ``loss_history`` holds values of the loss's).
STATE: Dict[str, Constraint] = {
    "epochs_trained": Integer(0, INT32_MAX), "train_calls": Integer(0, INT32_MAX),
    "running_training_loss": Real(0.0, strict=False), "total_train_time": Real(0.0, strict=False),
}

#: Constructor parameters and their defaults.
PARAM_DEFAULTS: Dict[str, Any] = {p.name: p.default for p in PARAMETERS}


def bounds(constraint: Constraint) -> str:
    """A constraint's range in words, e.g. ``'1 .. 100000'`` or ``'> 0.0 .. 1.0'``."""
    if isinstance(constraint, OrNone):
        return bounds(constraint.inner) + " or None"
    if isinstance(constraint, Flag):
        return "0 or 1"
    if isinstance(constraint, Integer):
        return f"{constraint.low} .. {constraint.high}"
    if isinstance(constraint, Real):
        return f"{'> ' if constraint.strict else ''}{constraint.low:g} .. {constraint.high:g}"
    if isinstance(constraint, Choice):
        return " or ".join(map(repr, constraint.options))
    return "any"


def limits() -> str:
    """One line per numeric parameter: its name, type and range (the table's, so always current)."""
    def numeric(c: Constraint) -> bool:
        if isinstance(c, OrNone):
            return numeric(c.inner)
        return isinstance(c, (Integer, Real))
    return "\n".join(f"{p.name:<16} {p.constraint.type.__name__:<6} {bounds(p.constraint)}"
                     for p in PARAMETERS if numeric(p.constraint))


def check(name: str, value: Any, as_name: Optional[str] = None) -> Any:
    """``value`` checked against parameter ``name``'s constraint (errors say ``as_name``)."""
    return BY_NAME[name].constraint.check(as_name or name, value)


def validate(values: Mapping[str, Any], between: bool = True) -> Dict[str, Any]:
    """Every parameter checked (defaults for the missing ones) and, if ``between``, the rules
    between them (:func:`check_between`); raises ValueError naming the first bad one,
    TypeError for an unknown name."""
    unknown = sorted(set(values) - set(BY_NAME))
    if unknown:
        raise TypeError(f"unknown parameter(s): {', '.join(unknown)}")
    q = {p.name: p.constraint.check(p.name, values.get(p.name, p.default)) for p in PARAMETERS}
    return check_between(q) if between else q


def check_between(q: Dict[str, Any]) -> Dict[str, Any]:
    """``q`` if the rules between parameters hold, else ValueError. A model checks them at
    construction and when training starts, not when one attribute is set: gensim users
    change pairs such as alpha and min_alpha one after the other."""
    if q["combine_windows"] is not None and q["combine_windows"] > 1 \
            and not (q["sg"] and q["batch_window"] in (None, 1)):
        raise ValueError("combine_windows > 1 needs skip-gram with batch_window=True (or None)")
    if q["cbow_gradient"] != "word2vec" and (q["sg"] or not q["cbow_mean"]):
        raise ValueError(f"cbow_gradient={q['cbow_gradient']!r} is the gradient of CBOW's mean: it needs "
                         f"sg=0 and cbow_mean=1 (got sg={q['sg']}, cbow_mean={q['cbow_mean']})")
    alpha = learning_rate(q)
    if q["min_alpha"] > alpha:
        raise ValueError(f"min_alpha ({q['min_alpha']}) must not exceed alpha ({alpha}"
                         f"{', the default for this model' if q['alpha'] is None else ''})")
    if not q["hs"] and q["negative"] == 0 and not q["softmax"]:
        raise ValueError("no objective: set negative > 0, hs=1 or softmax=True")
    if q["workers"] * scratch_bytes(q) > MAX_SCRATCH_BYTES:
        raise ValueError(f"window={q['window']} with vector_size={q['vector_size']}, negative={q['negative']} and "
                         f"workers={q['workers']} needs {q['workers'] * scratch_bytes(q) / 2 ** 20:.0f} MiB of "
                         f"buffers (at most {MAX_SCRATCH_BYTES >> 20} MiB): lower window, vector_size or workers")
    return q


def scratch_bytes(p: Mapping[str, Any]) -> int:
    """Bytes of one worker's scratch buffers (an upper bound of the engine's, softmax's
    V-sized one aside): (2 window + combine) positions x (hidden and gradient rows, logits
    and weights of every target, drawn negatives) of 4 bytes, plus the private copies of
    the hot output rows (a copy and a snapshot per row, see HOT_ROWS)."""
    combine = centres_per_block(p)
    targets = combine * (p["negative"] + _core.MAX_CODE_LENGTH)
    window = (2 * p["window"] + combine) * (2 * p["vector_size"] + 2 * targets + p["negative"]) * 4
    hot = HOT_ROWS * p["vector_size"] * 8 * (1 + (p["negative"] > 0)) if p["workers"] > 1 and p["hs"] else 0
    return window + hot


def check_vocabulary_size(p: Mapping[str, Any], vocabulary_size: int) -> None:
    """Refuse parameters that make no sense for a vocabulary of this many words (ValueError)."""
    if p["negative"] > MAX_NEGATIVE_PER_WORD * vocabulary_size:
        raise ValueError(f"negative={p['negative']} is more than {MAX_NEGATIVE_PER_WORD}x the vocabulary of "
                         f"{vocabulary_size} words: training would diverge; lower negative")
    if vocabulary_size > INT32_MAX:
        raise ValueError(f"{vocabulary_size} words: the engine holds at most {INT32_MAX}")


# ----------------------------------------------------------------------------- resolution
# With several workers and hierarchical softmax, each keeps a private copy of the most used
# output rows (the Huffman nodes near the root, and with negative sampling as well the
# frequent words' rows) and merges its changes every HOT_SYNC_WORDS kept words: every
# pair's path passes the root, and without the copies two workers ran SG-HS ~3x slower.
# Negative sampling alone runs without them: there the copying cost 3-6% more than the
# shared cache lines it saved (BENCHMARKS.md, "Threads").
HOT_ROWS = 1024
HOT_SYNC_WORDS = 1024


@dataclass(frozen=True)
class EngineConfig:
    """What the engine runs: validated parameters with every automatic choice made."""
    sg: int
    cbow_mean: int
    window: int
    shrink_windows: int
    negative: int
    hs: int
    softmax: int
    batch_window: int      # skip-gram trains each window as one batch
    combine: int           # skip-gram centres per block
    compute_loss: int
    hot_rows: int          # output rows each worker keeps a private copy of
    hot_sync_words: int
    cbow_exact: int = 0    # CBOW-mean: each context row gets gradient / C (cbow_gradient="exact")
    logit_scale: float = 1.0   # the logistic units train with sigma(logit_scale x + logit_shift)
    logit_shift: float = 0.0


def learning_rate(p: Mapping[str, Any]) -> float:
    """``alpha`` resolved: the value given, else this model's default (CBOW_NS_ALPHA,
    EXACT_CBOW_ALPHA or GENSIM_ALPHA; see above)."""
    if p["alpha"] is not None:
        return p["alpha"]
    if p["sg"] or not p["cbow_mean"]:
        return GENSIM_ALPHA
    if p["cbow_gradient"] == "exact":
        return EXACT_CBOW_ALPHA
    return CBOW_NS_ALPHA if not (p["hs"] or p["softmax"]) else GENSIM_ALPHA


def batches_windows(p: Mapping[str, Any]) -> bool:
    """``batch_window`` resolved: None means yes, except with hierarchical softmax, where the
    path nodes near the root take the summed step of the whole window at once and analogy
    accuracy on the 16.9M-word benchmark corpus fell ~0.9 points below per-pair training
    (BENCHMARKS.md). Asking for ``combine_windows`` > 1 means yes."""
    if p["batch_window"] is not None:
        return bool(p["batch_window"])
    if p["combine_windows"] is not None and p["combine_windows"] > 1:
        return True
    return not p["hs"]


def centres_per_block(p: Mapping[str, Any]) -> int:
    """``combine_windows`` resolved: one centre per block unless asked (combining shares one
    draw of negatives between the centres, which costs skip-gram about 1.8 analogy points)."""
    return 1 if p["combine_windows"] is None else p["combine_windows"]


def resolve(p: Mapping[str, Any], compute_loss: bool) -> EngineConfig:
    """The engine configuration of valid parameters ``p`` for one training call."""
    logit_scale, logit_shift = SIGMOIDS[p["sigmoid"]]
    return EngineConfig(
        sg=p["sg"], cbow_mean=p["cbow_mean"], window=p["window"], shrink_windows=p["shrink_windows"],
        negative=p["negative"], hs=p["hs"], softmax=p["softmax"], batch_window=int(batches_windows(p)),
        combine=centres_per_block(p), compute_loss=int(compute_loss),
        hot_rows=HOT_ROWS if p["workers"] > 1 and p["hs"] else 0, hot_sync_words=HOT_SYNC_WORDS,
        cbow_exact=int(p["cbow_gradient"] == "exact"),
        logit_scale=logit_scale, logit_shift=logit_shift)


# ----------------------------------------------------------------------------- signatures
#: An argument that is not a parameter of the table: (name, default, annotation).
Extra = Tuple[str, Any, str]


def signature(leading: Iterable[Extra] = (), trailing: Iterable[Extra] = (),
              inserts: Optional[Dict[str, Extra]] = None) -> inspect.Signature:
    """``(self, *leading, *the table's parameters, *trailing)``, each of ``inserts`` placed
    after the parameter it is keyed by."""
    def arg(name: str, default: Any, annotation: str) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default,
                                 annotation=annotation)

    inserts = inserts or {}
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [arg(*extra) for extra in leading]
    for p in PARAMETERS:
        params.append(arg(p.name, p.default, p.constraint.annotation))
        if p.name in inserts:
            params.append(arg(*inserts[p.name]))
    return inspect.Signature(params + [arg(*extra) for extra in trailing])


def bind(sig: inspect.Signature, owner: str, args: tuple, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """Arguments bound to ``sig`` with defaults applied (TypeError as for a plain function)."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{owner}(): {exc}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def described(func: Callable, sig: inspect.Signature) -> Callable:
    """``func`` shown with signature ``sig`` (inspect, help() and scikit-learn read it)."""
    func.__signature__ = sig  # type: ignore[attr-defined]
    return func
