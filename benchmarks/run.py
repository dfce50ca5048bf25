#!/usr/bin/env python
"""Side-by-side speed and quality benchmark: cyw2v against gensim and word2vec.c.

Every training run happens in a fresh subprocess (this script with ``--_child``), which times
the vocabulary build and the training separately and reports its own peak RSS. The parent
scores every run's saved vectors with one evaluator (analogy accuracy, WS-353 and SimLex-999
Spearman) and writes Markdown and JSON tables. See BENCHMARKS.md for the columns.

Examples::

    python benchmarks/run.py --corpus demo --epochs 1 --repeat 1          # quick, 1.7M words
    python benchmarks/run.py --corpus ../shared/data/enwiki-text8like.gz --repeat 3 \\
        --markdown BENCHMARKS.md --scaling                                # the standard table
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from cyw2v.corpus import open_binary  # the same .gz/.bz2 handling as the library's readers

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

#: Configuration name -> (label, Word2Vec parameters). HS runs use hs=1 and negative=0.
CONFIGS: Dict[str, Tuple[str, Dict[str, int]]] = {
    "sg-ns": ("SG-NS", {"sg": 1, "hs": 0}),
    "cbow-ns": ("CBOW-NS", {"sg": 0, "hs": 0}),
    "sg-hs": ("SG-HS", {"sg": 1, "hs": 1}),
    "cbow-hs": ("CBOW-HS", {"sg": 0, "hs": 1}),
}
SYSTEMS = ("cyw2v", "gensim", "word2vec-c")
SYSTEM_LABELS = {"cyw2v": "cyw2v", "gensim": "gensim", "word2vec-c": "word2vec.c"}
EVALUATOR_LABELS = {"cyw2v": "cyw2v `KeyedVectors.evaluate_standard`",
                    "gensim": "gensim's `evaluate_word_analogies`/`evaluate_word_pairs` (fallback until "
                              "cyw2v's `evaluate_standard` lands)"}
MARK_START = "<!-- bench:start -->"
MARK_END = "<!-- bench:end -->"
STANDARD_CORPUS = "enwiki-text8like.gz"
SMALL_CORPUS = "enwiki-text8like-1e7.gz"
#: word2vec.c copies -train/-output into char[100] buffers.
W2VC_MAX_PATH = 99
#: Words per line of the plain corpus copy (gensim's corpus_file reader truncates longer lines).
MAX_LINE_WORDS = 10_000
#: A trainer whose own count of trained raw words is off by more than this is flagged (gensim's
#: corpus_file count runs ~1% over: each worker finishes the line it is in).
COVERAGE_TOLERANCE = 0.05
#: Thread pools of BLAS/OpenMP libraries pinned in the children so `workers` is the only parallelism.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


class BenchError(Exception):
    """A problem the harness reports in one line and exits on."""


# ====================================================================== small helpers
def iter_chunks(path: str, size: int = 1 << 22) -> Iterator[bytes]:
    """Decompressed bytes of a corpus in chunks of about ``size`` bytes."""
    with open_binary(path) as fh:
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
    with open_binary(path) as fh:
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


def write_word2vec_binary(path: str, words: Sequence[str], vectors: Any) -> None:
    """Write vectors in word2vec.c's binary format (header, then 'word ' + float32s + '\\n')."""
    import numpy as np
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    with open(path, "wb") as fh:
        fh.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
        for word, row in zip(words, vectors):
            fh.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")


def read_word2vec_binary(path: str) -> Tuple[List[str], Any]:
    """Read word2vec.c's binary format; returns (words, float32 array of shape (V, D))."""
    import numpy as np
    with open(path, "rb") as fh:
        data = fh.read()
    nl = data.index(b"\n")
    n_words, dim = (int(x) for x in data[:nl].split())
    vectors = np.empty((n_words, dim), dtype=np.float32)
    words: List[str] = []
    pos = nl + 1
    row_bytes = 4 * dim
    for i in range(n_words):
        while data[pos:pos + 1] in (b"\n", b" "):
            pos += 1
        space = data.index(b" ", pos)
        words.append(data[pos:space].decode("utf-8", "replace"))
        start = space + 1
        vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=start)
        pos = start + row_bytes
    return words, vectors


def peak_rss_self_mb() -> float:
    """This process's peak resident set size in MB (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def peak_rss_children_mb() -> float:
    """Peak RSS in MB of the largest waited-for child process (ru_maxrss of RUSAGE_CHILDREN)."""
    import resource
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def cpu_seconds(who: str) -> float:
    """User + system CPU seconds of this process ('self') or of its waited-for children ('children')."""
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def fmt_rate(x: Optional[float]) -> str:
    """Words per second as 1.23M / 850k."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.0f}k"


def fmt_num(x: Optional[float], digits: int = 3) -> str:
    """A number with ``digits`` decimals, or an en dash when missing."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.{digits}f}"


def fmt_secs(x: Optional[float]) -> str:
    """Seconds with 2 decimals below 10 s, 1 decimal above."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def fmt_ratio(x: Optional[float]) -> str:
    """A ratio as ×1.23."""
    return "–" if x is None or not math.isfinite(x) else f"×{x:.2f}"


def fmt_delta(x: Optional[float]) -> str:
    """A quality difference as +0.012 / −0.004."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{'+' if x >= 0 else '−'}{abs(x):.3f}"


def fmt_words(n: int) -> str:
    """A word count as 16.9M."""
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


# ====================================================================== machine
def blas_info() -> str:
    """numpy's BLAS: threadpoolctl's view when installed, else numpy.show_config's."""
    import numpy as np
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return ", ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                             for p in pools)
    except Exception:  # noqa: BLE001 - any failure falls back to numpy's build info
        pass
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]  # numpy >= 1.25
        blas = deps.get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001
        return "unknown"


def machine_info() -> Dict[str, Any]:
    """CPU, cores, OS, Python, numpy and BLAS, library versions, git commit, load."""
    import numpy as np
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    info: Dict[str, Any] = {
        "cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable,
        "os": platform.platform(), "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__, "blas": blas_info(),
        "load_avg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    for mod in ("cyw2v", "gensim"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            info[mod] = None
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["git"] = (commit + ("+dirty" if dirty else "")) or None
    except (OSError, subprocess.SubprocessError):
        info["git"] = None
    return info


def machine_line(m: Dict[str, Any]) -> str:
    """One line describing the machine."""
    load = m.get("load_avg")
    return (f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['os']}, "
            f"Python {m['python'].split()[-1]}, numpy {m['numpy']} (BLAS: {m['blas']}), "
            f"cyw2v {m.get('cyw2v')} ({m.get('git') or 'no git'}), gensim {m.get('gensim') or 'absent'}"
            + (f", load {load[0]:.2f}" if load else ""))


# ====================================================================== evaluation
def _as_float(value: Any) -> Optional[float]:
    """A score from an evaluator result: a number, a (statistic, p) pair, or a dict with one."""
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("accuracy", "score", "spearman", "statistic"):
            if key in value:
                return _as_float(value[key])
        return None
    stat = getattr(value, "statistic", None)
    if stat is not None:
        return float(stat)
    if isinstance(value, (tuple, list)):
        return float(value[0])
    return float(value)


def choose_evaluator(preference: str) -> str:
    """'cyw2v' or 'gensim': the one evaluator every run is scored with.

    'auto' takes cyw2v.KeyedVectors.evaluate_standard when it exists and works on a tiny probe,
    else gensim's evaluators (the documented fallback until cyw2v's lands).
    """
    import numpy as np
    import cyw2v
    if preference in ("auto", "cyw2v"):
        why = "cyw2v.KeyedVectors.evaluate_standard is missing"
        if hasattr(cyw2v.KeyedVectors, "evaluate_standard"):
            probe = cyw2v.KeyedVectors(["king", "queen", "man", "woman", "love", "sex", "old", "new"],
                                       np.random.default_rng(0).random((8, 4), dtype=np.float32))
            try:
                evaluate(probe.index_to_key, probe.vectors, 30000, "cyw2v")
                return "cyw2v"
            except Exception as exc:  # noqa: BLE001
                why = f"cyw2v's evaluate_standard failed on a probe ({type(exc).__name__}: {exc})"
        if preference == "cyw2v":
            raise BenchError(f"--evaluator cyw2v: {why}")
        log(f"evaluator: {why}; falling back to gensim's evaluators on the same vectors")
    import importlib.util
    if importlib.util.find_spec("gensim") is None:
        raise BenchError("no evaluator: cyw2v's is unavailable and gensim is not installed; pass --no-eval")
    return "gensim"


def evaluate(words: Sequence[str], vectors: Any, restrict_vocab: int, evaluator: str) -> Dict[str, Any]:
    """Analogy accuracy (top ``restrict_vocab`` words), WS-353 and SimLex-999 Spearman.

    ``evaluator`` 'cyw2v' calls ``cyw2v.KeyedVectors.evaluate_standard``; 'gensim' runs gensim's
    evaluators (analogies restricted alike; word pairs with gensim's defaults) on a gensim
    KeyedVectors of the same arrays, with cyw2v's packaged evaluation files.
    """
    import cyw2v
    if evaluator == "cyw2v":
        res = cyw2v.KeyedVectors(list(words), vectors).evaluate_standard(restrict_vocab=restrict_vocab)
        return {"analogy": _as_float(res.get("analogy")), "ws353": _as_float(res.get("ws353_spearman")),
                "simlex": _as_float(res.get("simlex_spearman")), "evaluator": "cyw2v",
                "eval_raw": {k: v for k, v in res.items() if isinstance(v, (int, float, str, bool))}}
    import logging
    from gensim.models import KeyedVectors as GensimKV
    logging.getLogger("gensim").setLevel(logging.WARNING)
    kv = GensimKV(vectors.shape[1], dtype=vectors.dtype)
    kv.add_vectors(list(words), vectors)
    ds = cyw2v.datasets
    analogy, _ = kv.evaluate_word_analogies(ds.analogies_path(), restrict_vocab=restrict_vocab)
    ws = kv.evaluate_word_pairs(ds.wordsim353_path())
    sl = kv.evaluate_word_pairs(ds.simlex999_path())
    return {"analogy": float(analogy), "ws353": _as_float(ws[1]), "simlex": _as_float(sl[1]),
            "evaluator": "gensim", "eval_raw": {"ws353_oov_pct": ws[2], "simlex_oov_pct": sl[2]}}


# ====================================================================== child side
def _child_corpus(spec: Dict[str, Any], system: str) -> Any:
    """The streaming corpus object of ``system`` for iterable mode."""
    path, reader = spec["corpus"], spec["reader"]
    if system == "cyw2v":
        import cyw2v
        return cyw2v.Text8Corpus(path) if reader == "text8" else cyw2v.LineSentence(path)
    from gensim.models.word2vec import LineSentence, Text8Corpus
    return Text8Corpus(path) if reader == "text8" else LineSentence(path)


def _child_python(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Train with cyw2v or gensim in this process; time vocab and training; save the vectors."""
    system = spec["system"]
    if system == "cyw2v":
        import cyw2v
        cls, version = cyw2v.Word2Vec, cyw2v.__version__
    else:
        import gensim
        from gensim.models import Word2Vec as cls  # noqa: N813
        version = gensim.__version__
    p = spec["params"]
    extra = spec.get("cyw2v_args", {}) if system == "cyw2v" else {}
    model = cls(vector_size=p["vector_size"], alpha=p["alpha"], window=p["window"], min_count=p["min_count"],
                sample=p["sample"], seed=p["seed"], workers=p["workers"], sg=p["sg"], hs=p["hs"],
                negative=p["negative"], epochs=p["epochs"], **extra)
    if spec["input_mode"] == "file":
        t0 = time.perf_counter()
        model.build_vocab(corpus_file=spec["plain"])
        t1 = time.perf_counter()
        trained = model.train(corpus_file=spec["plain"], total_examples=model.corpus_count,
                              total_words=model.corpus_total_words, epochs=p["epochs"])
    else:
        corpus = _child_corpus(spec, system)
        t0 = time.perf_counter()
        model.build_vocab(corpus_iterable=corpus)
        t1 = time.perf_counter()
        trained = model.train(corpus_iterable=corpus, total_examples=model.corpus_count,
                              total_words=model.corpus_total_words, epochs=p["epochs"])
    t2 = time.perf_counter()
    rss = peak_rss_self_mb()
    cpu = cpu_seconds("self")
    writer = None
    if spec.get("vectors"):
        wv = model.wv
        try:
            wv.save_word2vec_format(spec["vectors"], binary=True)
            writer = f"{system} save_word2vec_format"
        except Exception as exc:  # noqa: BLE001 - cyw2v before its writer lands
            print(f"save_word2vec_format failed ({type(exc).__name__}: {exc}); using the harness's writer",
                  file=sys.stderr)
            write_word2vec_binary(spec["vectors"], wv.index_to_key, wv.vectors)
            writer = "benchmarks/run.py writer"
    return {"version": version, "writer": writer, "vocab_s": t1 - t0, "train_s": t2 - t1, "peak_rss_mb": rss,
            "rss_source": "VmHWM of the training process", "cpu_s": cpu, "vocab_size": len(model.wv),
            "trainer_words": int(model.corpus_total_words), "trained_raw_words": int(trained[1])}


def _child_word2vec_c(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Run the word2vec.c binary; vocab time = start to its first progress report."""
    p = spec["params"]
    work = tempfile.mkdtemp(prefix="w2vc-", dir=spec["tmp"])
    out = os.path.join(work, "v.bin")
    for path in (spec["plain"], out):
        if len(path) > W2VC_MAX_PATH:
            raise BenchError(f"word2vec.c takes paths of at most {W2VC_MAX_PATH} characters: {path}")
    cmd = [spec["binary"], "-train", spec["plain"], "-output", out, "-cbow", str(1 - p["sg"]),
           "-size", str(p["vector_size"]), "-window", str(p["window"]), "-negative", str(p["negative"]),
           "-hs", str(p["hs"]), "-sample", repr(float(p["sample"])), "-threads", str(p["workers"]),
           "-binary", "1", "-iter", str(p["epochs"]), "-min-count", str(p["min_count"]),
           "-alpha", repr(float(p["alpha"])), "-debug", "2"]
    stdbuf = shutil.which("stdbuf")
    full = ([stdbuf, "-oL"] if stdbuf else []) + cmd
    chunks: List[bytes] = []
    marks: Dict[str, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    text = b""
    while True:
        if sel.select(timeout=0.005):
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            now = time.perf_counter()
            chunks.append(chunk)
            text = (text + chunk)[-4096:]
            if "vocab_counted" not in marks and b"Words in train file" in text:
                marks["vocab_counted"] = now
            if "first_progress" not in marks and b"Alpha:" in text:
                marks["first_progress"] = now
        if "output_opened" not in marks and os.path.exists(out):
            marks["output_opened"] = time.perf_counter()  # fopen(output) follows the thread joins
    rc = proc.wait()
    t_end = time.perf_counter()
    output = b"".join(chunks).decode("utf-8", "replace")
    if rc != 0 or not os.path.exists(out):
        raise BenchError(f"word2vec.c exited with {rc}: {output[-500:]}")
    t_train0 = marks.get("first_progress", marks.get("vocab_counted", t0))
    t_train1 = marks.get("output_opened", t_end)
    m = re.search(r"Words in train file: (\d+)", output)
    v = re.search(r"Vocab size: (\d+)", output)
    if spec.get("vectors"):
        shutil.move(out, spec["vectors"])
    shutil.rmtree(work, ignore_errors=True)
    return {"version": "word2vec.c (" + os.path.basename(spec["binary"]) + ")", "vocab_s": t_train0 - t0,
            "train_s": t_train1 - t_train0, "peak_rss_mb": peak_rss_children_mb(),
            "rss_source": "ru_maxrss of the word2vec.c process", "cpu_s": cpu_seconds("children"),
            "vocab_size": int(v.group(1)) if v else None,
            "trainer_words": int(m.group(1)) if m else None, "command": " ".join(cmd),
            "marks": {k: t - t0 for k, t in marks.items()}, "log_tail": output[-300:]}


def child_main(spec_path: str) -> int:
    """Entry point of a training subprocess: read the spec, train, write the result JSON."""
    with open(spec_path) as fh:
        spec = json.load(fh)
    try:
        if spec["system"] == "word2vec-c":
            result = _child_word2vec_c(spec)
        else:
            result = _child_python(spec)
        result["ok"] = True
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    with open(spec["result"], "w") as fh:
        json.dump(result, fh)
    return 0 if result["ok"] else 1


# ====================================================================== parent side
class Runner:
    """Runs training subprocesses, caching results of identical specs."""

    def __init__(self, args: argparse.Namespace, workdir: str) -> None:
        self.args = args
        self.workdir = workdir
        self.cache: Dict[str, List[Dict[str, Any]]] = {}
        self.plain: Dict[str, str] = {}
        self.words: Dict[str, int] = {}
        self.readers: Dict[str, str] = {}
        self.n_runs = 0

    def corpus_words(self, corpus: str) -> int:
        """Raw word count of a corpus (counted once)."""
        if corpus not in self.words:
            t = time.perf_counter()
            self.words[corpus] = count_words(corpus)
            log(f"counted {self.words[corpus]:,} words in {os.path.basename(corpus)} "
                f"({time.perf_counter() - t:.1f}s)")
        return self.words[corpus]

    def plain_file(self, corpus: str) -> str:
        """The uncompressed copy of ``corpus`` read by every system in file mode (made once)."""
        if corpus not in self.plain:
            dest = os.path.join(self.workdir, f"c{len(self.plain)}.txt")
            t = time.perf_counter()
            write_plain(corpus, dest)
            log(f"wrote the plain copy {dest} ({time.perf_counter() - t:.1f}s)")
            self.plain[corpus] = dest
        return self.plain[corpus]

    def reader(self, corpus: str) -> str:
        """The streaming reader for iterable mode ('text8' or 'line')."""
        if corpus not in self.readers:
            self.readers[corpus] = self.args.reader if self.args.reader != "auto" else detect_reader(corpus)
        return self.readers[corpus]

    def run(self, system: str, config: str, corpus: str, params: Dict[str, Any], repeat: int,
            evaluate_vectors: bool, binary: Optional[str], input_mode: Optional[str] = None) -> List[Dict[str, Any]]:
        """``repeat`` runs of one (system, config, corpus, params); reuses earlier identical runs.
        ``input_mode`` defaults to ``--input-mode``."""
        mode = input_mode or self.args.input_mode
        key = json.dumps([system, config, os.path.abspath(corpus), params, mode,
                          evaluate_vectors or None], sort_keys=True)
        if evaluate_vectors is False:  # a run that was evaluated serves an unevaluated request too
            done = self.cache.get(json.dumps([system, config, os.path.abspath(corpus), params,
                                              mode, True], sort_keys=True), [])
            if len(done) >= repeat:
                return list(done)
        runs = self.cache.setdefault(key, [])
        while len(runs) < repeat:
            runs.append(self._one(system, config, corpus, params, len(runs), evaluate_vectors, binary, mode))
        return runs[:repeat]

    def _one(self, system: str, config: str, corpus: str, params: Dict[str, Any], rep: int,
             evaluate_vectors: bool, binary: Optional[str], mode: str) -> Dict[str, Any]:
        args = self.args
        self.n_runs += 1
        params = dict(params, seed=run_seed(params["seed"], rep, args.same_seed))
        tag = f"{config}-{system}-w{params['workers']}-e{params['epochs']}-{mode}-{_stem(corpus)}"
        spec = {"system": system, "params": params, "input_mode": mode, "corpus": corpus,
                "reader": self.reader(corpus) if mode == "iterable" else None,
                "cyw2v_args": args.cyw2v_args, "binary": binary, "tmp": self.workdir, "result": os.path.join(self.workdir, f"r{self.n_runs}.json"),
                "vectors": os.path.join(args.out, f"{tag}.bin") if evaluate_vectors else None}
        if system == "word2vec-c" or mode == "file":
            spec["plain"] = self.plain_file(corpus)
        spec_path = os.path.join(self.workdir, f"s{self.n_runs}.json")
        with open(spec_path, "w") as fh:
            json.dump(spec, fh)
        env = dict(os.environ)
        for name in THREAD_ENV:
            env.setdefault(name, "1")
        log_path = os.path.join(args.out, f"{tag}-r{rep}.log")
        log(f"run {SYSTEM_LABELS[system]:<10} {CONFIGS[config][0]:<7} workers={params['workers']} "
            f"epochs={params['epochs']} input={mode} corpus={os.path.basename(corpus)} repeat {rep + 1}")
        t0 = time.perf_counter()
        with open(log_path, "wb") as logfh:
            try:
                proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--_child", spec_path],
                                      stdout=logfh, stderr=subprocess.STDOUT, env=env, timeout=args.timeout)
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                rc = -1
        total = time.perf_counter() - t0
        record: Dict[str, Any] = {"system": system, "config": config, "corpus": corpus, "repeat": rep,
                                  "seed": params["seed"],
                                  "workers": params["workers"], "epochs": params["epochs"], "total_s": total,
                                  "log": log_path}
        try:
            with open(spec["result"]) as fh:
                record.update(json.load(fh))
        except (OSError, ValueError):
            record.update({"ok": False, "error": f"child exited with {rc} and no result (see {log_path})"
                           if rc != -1 else f"timed out after {args.timeout}s"})
        if not record.get("ok"):
            log(f"  FAILED: {record.get('error')}")
            return record
        if record.get("cpu_s") is not None:  # < workers when the machine is shared (diagnostic)
            record["cpu_per_wall"] = record["cpu_s"] / max(record["vocab_s"] + record["train_s"], 1e-9)
        record["corpus_words"] = self.corpus_words(corpus)
        record["words_per_s"] = record["corpus_words"] * params["epochs"] / max(record["train_s"], 1e-9)
        if record.get("trained_raw_words") is not None:
            cover = record["trained_raw_words"] / (record["corpus_words"] * params["epochs"])
            record["coverage"] = cover
            if abs(cover - 1.0) > COVERAGE_TOLERANCE:
                log(f"  WARNING: {SYSTEM_LABELS[system]} reports {record['trained_raw_words']:,} raw words trained, "
                    f"{cover:.1%} of corpus words x epochs")
        msg = (f"  total {total:.2f}s, vocab {record['vocab_s']:.2f}s, train {record['train_s']:.2f}s, "
               f"{fmt_rate(record['words_per_s'])} words/s, peak RSS {record['peak_rss_mb']:.0f} MB")
        if evaluate_vectors and spec["vectors"]:
            t = time.perf_counter()
            words, vectors = read_word2vec_binary(spec["vectors"])
            if system == "word2vec-c" and words and words[0] == "</s>":
                words, vectors = words[1:], vectors[1:]  # word2vec.c's sentence marker is no word
            record.update(evaluate(words, vectors, args.restrict_vocab, args.evaluator))
            record["eval_s"] = time.perf_counter() - t
            if not args.keep_vectors:
                os.remove(spec["vectors"])
            msg += (f", analogy {fmt_num(record['analogy'])}, WS-353 {fmt_num(record['ws353'])}, "
                    f"SimLex {fmt_num(record['simlex'])}")
        log(msg)
        return record


def _stem(path: str) -> str:
    """File name without directory and compression/text suffixes."""
    name = os.path.basename(path)
    for suffix in (".gz", ".bz2", ".txt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def log(msg: str) -> None:
    """Progress message on stderr."""
    print(msg, file=sys.stderr, flush=True)


METRICS = ("total_s", "vocab_s", "train_s", "words_per_s", "peak_rss_mb", "analogy", "ws353", "simlex",
           "coverage")


def summarize(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Median, min and max of each metric over the successful runs."""
    ok = [r for r in runs if r.get("ok")]
    out: Dict[str, Any] = {"n": len(ok), "failed": len(runs) - len(ok),
                           "errors": [r.get("error") for r in runs if not r.get("ok")]}
    for metric in METRICS:
        vals = [r[metric] for r in ok if r.get(metric) is not None]
        if vals:
            out[metric] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}
    return out


def _med(summary: Dict[str, Any], metric: str) -> Optional[float]:
    m = summary.get(metric)
    return None if m is None else m["median"]


def ratios(ours: Dict[str, Any], peer: Dict[str, Any]) -> Dict[str, Optional[float]]:
    """cyw2v relative to a peer: words/s and RSS ratios, quality differences (medians)."""
    def div(metric: str) -> Optional[float]:
        a, b = _med(ours, metric), _med(peer, metric)
        return a / b if a is not None and b else None

    def sub(metric: str) -> Optional[float]:
        a, b = _med(ours, metric), _med(peer, metric)
        return a - b if a is not None and b is not None else None

    return {"words_per_s": div("words_per_s"), "peak_rss_mb": div("peak_rss_mb"), "train_s": div("train_s"),
            "analogy": sub("analogy"), "ws353": sub("ws353"), "simlex": sub("simlex")}


def config_table(config: str, systems: Sequence[str], summaries: Dict[str, Dict[str, Any]],
                 rats: Dict[str, Dict[str, Optional[float]]], repeat: int) -> str:
    """Markdown table of one configuration: a row per system, then cyw2v-vs-peer rows."""
    head = ("| system | total s | vocab s | train s | words/s | peak RSS MB | analogy | WS-353 | SimLex |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [f"**{CONFIGS[config][0]}**", "", head]
    for system in systems:
        s = summaries.get(system)
        if s is None:
            continue
        if not s["n"]:
            rows.append(f"| {SYSTEM_LABELS[system]} | failed: {(s['errors'] or ['?'])[0]} |||||||| ")
            continue
        rate = fmt_rate(_med(s, "words_per_s"))
        if repeat > 1 and "words_per_s" in s:
            rate += f" ({fmt_rate(s['words_per_s']['min'])}–{fmt_rate(s['words_per_s']['max'])})"
        rows.append(f"| {SYSTEM_LABELS[system]} | {fmt_secs(_med(s, 'total_s'))} | {fmt_secs(_med(s, 'vocab_s'))} "
                    f"| {fmt_secs(_med(s, 'train_s'))} | {rate} | {fmt_num(_med(s, 'peak_rss_mb'), 0)} "
                    f"| {fmt_num(_med(s, 'analogy'))} | {fmt_num(_med(s, 'ws353'))} | {fmt_num(_med(s, 'simlex'))} |")
    for peer, r in rats.items():
        rows.append(f"| cyw2v vs {SYSTEM_LABELS[peer]} | | | | {fmt_ratio(r['words_per_s'])} "
                    f"| {fmt_ratio(r['peak_rss_mb'])} | {fmt_delta(r['analogy'])} | {fmt_delta(r['ws353'])} "
                    f"| {fmt_delta(r['simlex'])} |")
    for system in systems:
        cover = summaries.get(system, {}).get("coverage")
        if cover and max(abs(cover["min"] - 1), abs(cover["max"] - 1)) > COVERAGE_TOLERANCE:
            rows += ["", f"Warning: {SYSTEM_LABELS[system]} reported training {cover['min']:.1%}–{cover['max']:.1%} "
                         "of the corpus words × epochs; its words/s and quality are not comparable."]
    return "\n".join(rows)


def scaling_table(result: Dict[str, Any]) -> str:
    """Markdown table of cyw2v words/s by input mode, workers and corpus size, with the ratios."""
    workers = result["workers"]
    corpora = result["corpora"]
    cols = " | ".join(f"workers={w}" for w in workers)
    head = f"| config | input | corpus | words | {cols} |" + (f" {workers[-1]}/{workers[0]} workers |"
                                                               if len(workers) > 1 else "")
    rows = [head, "|---|---|---|---:|" + "---:|" * (len(workers) + (len(workers) > 1))]
    for mode in result.get("modes", []):
        for config, by_corpus in result["rates"][mode].items():
            name = CONFIGS[config][0]
            for corpus in corpora:
                rates = [by_corpus.get(corpus, {}).get(str(w)) for w in workers]
                line = (f"| {name} | {mode} | {_stem(corpus)} | {fmt_words(result['words'][corpus])} | "
                        + " | ".join(fmt_rate(x) for x in rates) + " |")
                if len(workers) > 1:
                    a, b = rates[-1], rates[0]
                    ratio = result.get("paired", {}).get(mode, {}).get(config, {}).get(corpus)
                    line += f" {fmt_ratio(ratio if ratio is not None else (a / b if a and b else None))} |"
                rows.append(line)
            if len(corpora) > 1:
                big, small = corpora[-1], corpora[0]
                rr = []
                for w in workers:
                    a, b = by_corpus.get(big, {}).get(str(w)), by_corpus.get(small, {}).get(str(w))
                    rr.append(fmt_ratio(a / b if a and b else None))
                rows.append(f"| {name} | {mode} | {_stem(big)} / {_stem(small)} | | " + " | ".join(rr) + " |"
                            + (" |" if len(workers) > 1 else ""))
    return "\n".join(rows)


def update_markdown(path: str, section: str) -> None:
    """Put ``section`` between the bench markers of ``path`` (appended, with markers, if absent)."""
    block = f"{MARK_START}\n{section.rstrip()}\n{MARK_END}"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    start, end = text.find(MARK_START), text.find(MARK_END)
    if start >= 0 and end > start:
        text = text[:start] + block + text[end + len(MARK_END):]
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


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


def resolve_word2vec_c(arg: Optional[str]) -> Tuple[Optional[str], str]:
    """(binary path or None, why) for ``--word2vec-c``: a path, 'auto' or None."""
    if not arg:
        return None, "not requested (pass --word2vec-c PATH or auto)"
    if arg != "auto":
        if os.path.isfile(arg) and os.access(arg, os.X_OK):
            return os.path.abspath(arg), "given"
        return None, f"{arg} is not an executable file"
    candidates = [os.path.join(HERE, "bin", "word2vec"), shutil.which("word2vec")]
    for cand in candidates:
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            with open(cand, "rb") as fh:
                if fh.read(4) == b"\x7fELF":  # the compiled word2vec.c, not a Python entry point
                    return os.path.abspath(cand), "found"
    return None, "no binary found (run `bash benchmarks/build_word2vec_c.sh`, or pass --word2vec-c PATH)"


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options of the harness."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join("..", "shared", "data", STANDARD_CORPUS),
                    help="corpus (.gz/.bz2/plain), or 'demo' for the packaged 1.7M-word corpus")
    ap.add_argument("--fallback-demo", action="store_true",
                    help="use the packaged corpus when --corpus is missing (instead of exiting)")
    ap.add_argument("--configs", default="sg-ns,cbow-ns,sg-hs,cbow-hs", help="comma list of " + ",".join(CONFIGS))
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="comma list of " + ",".join(SYSTEMS))
    ap.add_argument("--vector-size", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5, help="negative samples for the -ns configurations")
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--alpha", type=float, default=0.025, help="initial learning rate, all configurations")
    ap.add_argument("--seed", type=int, default=1,
                    help="seed of each cell's first run; run r gets seed + r - 1 (see --same-seed)")
    ap.add_argument("--same-seed", action="store_true",
                    help="give every run of a cell the same seed (default: seed, seed + 1, ...)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; the table shows medians and min–max")
    ap.add_argument("--repeat-of", default="", metavar="SYSTEM=N,...",
                    help="fewer runs for some systems, e.g. word2vec-c=1 (its SG runs take ~10 min each)")
    ap.add_argument("--word2vec-c", default="auto", metavar="PATH",
                    help="word2vec.c binary, 'auto' (benchmarks/bin/word2vec or word2vec on PATH) or ''")
    ap.add_argument("--cyw2v-args", default="", metavar="K=V,...",
                    help="extra cyw2v.Word2Vec parameters, e.g. batch_window=0 for word2vec.c's per-pair SG updates")
    ap.add_argument("--input-mode", choices=("file", "iterable"), default="file",
                    help="file: corpus_file on a decompressed copy; iterable: streaming readers")
    ap.add_argument("--reader", choices=("auto", "text8", "line"), default="auto",
                    help="streaming reader in iterable mode (auto: text8 for a one-line corpus)")
    ap.add_argument("--restrict-vocab", type=int, default=30000, help="analogy vocabulary cut-off")
    ap.add_argument("--evaluator", choices=("auto", "cyw2v", "gensim"), default="auto",
                    help="auto: cyw2v's evaluate_standard when it works, else gensim's (fallback)")
    ap.add_argument("--no-eval", action="store_true", help="skip saving and scoring vectors")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="folder for vectors, logs, results.json")
    ap.add_argument("--keep-vectors", action="store_true",
                    help="keep each cell's vectors (word2vec binary) in --out after scoring")
    ap.add_argument("--markdown", default=None, metavar="FILE",
                    help="write the tables between bench markers of FILE (e.g. BENCHMARKS.md)")
    ap.add_argument("--scaling", action="store_true", help="also measure cyw2v scaling by workers and corpus size")
    ap.add_argument("--scaling-configs", default="sg-ns,cbow-ns")
    ap.add_argument("--scaling-workers", default="1,2")
    ap.add_argument("--scaling-input-modes", default=None,
                    help="comma list of input modes for the scaling runs (default: --input-mode); 'file' "
                         "measures the engine alone, without the gzip reading and tokenising of iterable mode")
    ap.add_argument("--scaling-corpora", default=None,
                    help="comma list of corpora (default: the 1.7M-word corpus and --corpus)")
    ap.add_argument("--scaling-epochs", type=int, default=None, help="default: --epochs")
    ap.add_argument("--scaling-repeat", type=int, default=None, help="default: --repeat")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per training run")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    for name in ("vector_size", "window", "epochs", "workers", "repeat", "restrict_vocab"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1")
    args.configs = _split(args.configs, CONFIGS, ap, "--configs")
    args.systems = _split(args.systems, SYSTEMS, ap, "--systems")
    args.scaling_configs = _split(args.scaling_configs, CONFIGS, ap, "--scaling-configs")
    args.cyw2v_args = _parse_kv(args.cyw2v_args, ap)
    args.repeat_of = _parse_kv(args.repeat_of, ap)
    for system, n in args.repeat_of.items():
        if system not in SYSTEMS or not isinstance(n, int) or n < 1:
            ap.error(f"--repeat-of: expected SYSTEM=N with SYSTEM in {','.join(SYSTEMS)} and N >= 1")
    try:
        args.scaling_workers = sorted({int(x) for x in args.scaling_workers.split(",") if x.strip()})
    except ValueError:
        ap.error("--scaling-workers takes a comma list of integers")
    modes = [m.strip() for m in (args.scaling_input_modes or args.input_mode).split(",") if m.strip()]
    if not modes or any(m not in ("iterable", "file") for m in modes):
        ap.error("--scaling-input-modes takes a comma list of 'iterable' and 'file'")
    args.scaling_input_modes = list(dict.fromkeys(modes))
    return args


def _parse_kv(value: str, ap: argparse.ArgumentParser) -> Dict[str, Any]:
    """'a=1,b=0.5,c=x' -> {'a': 1, 'b': 0.5, 'c': 'x'} (ints, floats, true/false, else strings)."""
    out: Dict[str, Any] = {}
    for item in (x.strip() for x in value.split(",") if x.strip()):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            ap.error(f"--cyw2v-args: expected KEY=VALUE, got {item!r}")
        val: Any = raw.strip()
        if val.lower() in ("true", "false"):
            val = val.lower() == "true"
        else:
            for conv in (int, float):
                try:
                    val = conv(val)
                    break
                except ValueError:
                    pass
        out[key.strip()] = val
    return out


def _split(value: str, allowed: Any, ap: argparse.ArgumentParser, flag: str) -> List[str]:
    items = [x.strip().lower() for x in value.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        ap.error(f"{flag}: unknown {bad or 'empty list'}; choose from {', '.join(allowed)}")
    return list(dict.fromkeys(items))


def run_seed(base: int, rep: int, same: bool) -> int:
    """Seed of run ``rep`` (0-based) of a cell. Repeats get different seeds by default: one seed
    compares one draw of initial vectors and samples per system, and on CBOW-NS the spread between
    seeds (about ±0.008 analogy) exceeds the 0.5-point bound of issue 6 (BENCHMARKS.md)."""
    return base if same else base + rep


def make_params(args: argparse.Namespace, config: str, workers: int, epochs: int) -> Dict[str, Any]:
    """Trainer parameters of one configuration."""
    flags = CONFIGS[config][1]
    return {"vector_size": args.vector_size, "window": args.window, "min_count": args.min_count,
            "sample": args.sample, "alpha": args.alpha, "seed": args.seed, "workers": workers, "epochs": epochs,
            "sg": flags["sg"], "hs": flags["hs"], "negative": 0 if flags["hs"] else args.negative}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark; returns the exit code."""
    args = parse_args(argv)
    if args._child:
        return child_main(args._child)
    try:
        return _main(args)
    except BenchError as exc:
        print(f"benchmarks/run.py: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    corpus = resolve_corpus(args.corpus, args.fallback_demo)
    os.makedirs(args.out, exist_ok=True)
    machine = machine_info()
    print(machine_line(machine), flush=True)

    systems = list(args.systems)
    skipped: Dict[str, str] = {}
    if "gensim" in systems:
        import importlib.util
        if importlib.util.find_spec("gensim") is None:
            skipped["gensim"] = "gensim is not installed"
    binary = None
    if "word2vec-c" in systems:
        binary, why = resolve_word2vec_c(args.word2vec_c)
        if binary is None:
            skipped["word2vec-c"] = why
    for system, why in skipped.items():
        log(f"{SYSTEM_LABELS[system]}: skipped ({why})")
        systems.remove(system)
    if "cyw2v" not in systems:
        raise BenchError("--systems must include cyw2v")
    evaluator = None if args.no_eval else choose_evaluator(args.evaluator)
    args.evaluator = evaluator

    workdir = tempfile.mkdtemp(prefix="cyw2v-bench-")
    runner = Runner(args, workdir)
    started = _dt.datetime.now(_dt.timezone.utc)
    t_start = time.perf_counter()
    try:
        words = runner.corpus_words(corpus)
        all_runs: List[Dict[str, Any]] = []
        summary: Dict[str, Any] = {}
        for config in args.configs:
            params = make_params(args, config, args.workers, args.epochs)
            per_system: Dict[str, List[Dict[str, Any]]] = {s: [] for s in systems}
            for rep in range(args.repeat):  # repeats interleave the systems, spreading load drift
                for system in systems:
                    if rep >= min(args.repeat, args.repeat_of.get(system, args.repeat)):
                        continue
                    per_system[system] = runner.run(system, config, corpus, params, rep + 1, not args.no_eval,
                                                    binary)
            sums = {s: summarize(r) for s, r in per_system.items()}
            rats = {p: ratios(sums["cyw2v"], sums[p]) for p in systems if p != "cyw2v"}
            summary[config] = {"params": params, "systems": sums, "cyw2v_vs": rats}
            for runs in per_system.values():
                all_runs.extend(runs)

        scaling = run_scaling(args, runner, corpus) if args.scaling else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if hasattr(os, "getloadavg"):
        machine["load_avg_end"] = list(os.getloadavg())
    section = render(args, machine, corpus, words, systems, skipped, summary, scaling, evaluator, started)
    print(section)
    result = {"schema": 1, "created": started.isoformat(timespec="seconds"),
              "elapsed_s": time.perf_counter() - t_start, "machine": machine,
              "corpus": {"path": corpus, "name": _stem(corpus), "words": words},
              "settings": {k: v for k, v in vars(args).items() if not k.startswith("_")},
              "systems": systems, "skipped": skipped, "word2vec_c": binary, "evaluator": evaluator,
              "summary": summary, "scaling": scaling, "runs": all_runs}
    json_path = os.path.join(args.out, "results.json")
    with open(json_path, "w") as fh:
        json.dump(result, fh, indent=1, default=str)
    log(f"wrote {json_path}")
    if args.markdown:
        update_markdown(args.markdown, section)
        log(f"wrote the tables into {args.markdown}")
    return 0


def run_scaling(args: argparse.Namespace, runner: Runner, corpus: str) -> Dict[str, Any]:
    """cyw2v words/s for each scaling config x corpus x workers (medians)."""
    import cyw2v
    if args.scaling_corpora:
        corpora = [resolve_corpus(c.strip(), False) for c in args.scaling_corpora.split(",") if c.strip()]
    else:
        small = cyw2v.datasets.shared_data_path(SMALL_CORPUS) or cyw2v.datasets.demo_corpus_path()
        corpora = [corpus, small]
    seen: Dict[Tuple[str, int], str] = {}  # the same file in two folders counts once
    for c in corpora:
        seen.setdefault((os.path.basename(c), os.path.getsize(c)), c)
    corpora = list(seen.values())
    words = {c: runner.corpus_words(c) for c in corpora}
    corpora.sort(key=lambda c: words[c])
    epochs = args.scaling_epochs or args.epochs
    repeat = args.scaling_repeat or args.repeat
    workers = args.scaling_workers
    rates: Dict[str, Dict[str, Dict[str, Dict[str, Optional[float]]]]] = {}
    paired: Dict[str, Dict[str, Dict[str, Optional[float]]]] = {}
    for mode in args.scaling_input_modes:
        rates[mode], paired[mode] = {}, {}
        for config in args.scaling_configs:
            rates[mode][config], paired[mode][config] = {}, {}
            for c in corpora:
                cell: Dict[int, List[Dict[str, Any]]] = {}
                # Round r runs every worker count once, so slow drift of the shared machine
                # hits them alike; the ratio is the median of the per-round ratios.
                for r in range(1, repeat + 1):
                    for w in workers:
                        cell[w] = runner.run("cyw2v", config, c, make_params(args, config, w, epochs),
                                             r, False, None, mode)
                rates[mode][config][c] = {str(w): _med(summarize(cell[w]), "words_per_s") for w in workers}
                paired[mode][config][c] = _paired_ratio(cell[workers[-1]], cell[workers[0]])
    return {"corpora": corpora, "words": words, "workers": workers, "epochs": epochs,
            "repeat": repeat, "modes": args.scaling_input_modes, "rates": rates, "paired": paired}


def _paired_ratio(runs: List[Dict[str, Any]], base: List[Dict[str, Any]]) -> Optional[float]:
    """Median over rounds of words/s of ``runs[i]`` / ``base[i]`` (rounds where both ran)."""
    ratios = [a["words_per_s"] / b["words_per_s"] for a, b in zip(runs, base)
              if a.get("ok") and b.get("ok") and a.get("words_per_s") and b.get("words_per_s")]
    return statistics.median(ratios) if ratios else None


def render(args: argparse.Namespace, machine: Dict[str, Any], corpus: str, words: int, systems: Sequence[str],
           skipped: Dict[str, str], summary: Dict[str, Any], scaling: Optional[Dict[str, Any]],
           evaluator: Optional[str], started: _dt.datetime) -> str:
    """The Markdown section: settings, machine, one table per configuration, scaling."""
    parts = [
        f"Corpus `{_stem(corpus)}` ({words:,} words), vector_size={args.vector_size}, window={args.window}, "
        f"negative={args.negative} (0 for -HS), sample={args.sample:g}, min_count={args.min_count}, "
        f"alpha={args.alpha:g}, epochs={args.epochs}, workers={args.workers}, input mode `{args.input_mode}`, "
        f"{args.repeat} run(s) per cell" + (" (medians; words/s min–max in brackets)" if args.repeat > 1 else "")
        + "".join(f"; {s}: {min(n, args.repeat)} run(s)" for s, n in args.repeat_of.items() if n < args.repeat)
        + "." + (" cyw2v with " + ", ".join(f"{k}={v}" for k, v in args.cyw2v_args.items()) + "."
                 if args.cyw2v_args else ""),
        "",
        f"Evaluator: {EVALUATOR_LABELS.get(evaluator, 'none (--no-eval)')}; analogy on questions-words.txt restricted to the "
        f"{args.restrict_vocab:,} most frequent words, WS-353 and SimLex-999 as Spearman correlations.",
        "",
        f"{machine_line(machine)}; run {started.strftime('%Y-%m-%d %H:%M UTC')}.",
    ]
    if skipped:
        parts += ["", "Skipped: " + "; ".join(f"{SYSTEM_LABELS[s]}: {why}" for s, why in skipped.items()) + "."]
    for config, entry in summary.items():
        parts += ["", config_table(config, systems, entry["systems"], entry["cyw2v_vs"], args.repeat)]
    if scaling:
        parts += ["", f"**Scaling** (cyw2v words/s, {scaling['epochs']} epoch(s), "
                      f"median of {scaling['repeat']} run(s), the worker counts alternating run by run; the ratio "
                      f"is the median of the per-round ratios; input `file` is `corpus_file`, the engine "
                      f"without the gzip reading and tokenising of `iterable`)", "",
                  scaling_table(scaling)]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.exit(main())
