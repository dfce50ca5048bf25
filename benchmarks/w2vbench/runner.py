"""Training runs, each in a fresh subprocess: the parent's Runner and the child's entry point.

The parent writes a JSON spec, starts ``python benchmarks/run.py --_child SPEC`` with the BLAS and
OpenMP pools pinned to one thread, and reads back the child's result JSON: vocabulary and training
seconds timed separately, peak RSS, CPU seconds. It then adds words/s and scores the vectors.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

from . import systems
from .common import COVERAGE_TOLERANCE, RUN_PY, config_label, log
from .corpora import count_words, detect_reader, stem, write_plain
from .evaluation import evaluate_file
from .report import fmt_num, fmt_rate

#: Thread pools of BLAS/OpenMP libraries pinned in the children so `workers` is the only parallelism
#: (pWord2Vec names its OpenMP thread count explicitly, so -threads still holds there).
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def child_env() -> Dict[str, str]:
    """The environment of a training child: ours, with unset thread pools pinned to 1."""
    env = dict(os.environ)
    for name in THREAD_ENV:
        env.setdefault(name, "1")
    return env


def child_main(spec_path: str) -> int:
    """Entry point of a training subprocess: read the spec, train, write the result JSON."""
    with open(spec_path) as fh:
        spec = json.load(fh)
    try:
        result = systems.create(spec["system"]).train(spec)
        result["ok"] = True
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    with open(spec["result"], "w") as fh:
        json.dump(result, fh)
    return 0 if result["ok"] else 1


def run_seed(base: int, rep: int, same: bool) -> int:
    """Seed of run ``rep`` (0-based) of a cell. Repeats get different seeds by default: one seed
    compares one draw of initial vectors and samples per system, and on CBOW-NS the spread between
    seeds (about ±0.008 analogy) exceeds the 0.5-point bound of issue 6 (BENCHMARKS.md)."""
    return base if same else base + rep


class Runner:
    """Runs training subprocesses, caching results of identical specs."""

    def __init__(self, args: argparse.Namespace, workdir: str, adapters: Dict[str, systems.System]) -> None:
        self.args = args
        self.workdir = workdir
        self.adapters = adapters
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
        """The uncompressed copy of ``corpus`` read by the C trainers, and by all in file mode (made once)."""
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
            evaluate_vectors: bool, input_mode: Optional[str] = None) -> List[Dict[str, Any]]:
        """``repeat`` runs of one (system, config, corpus, params); reuses earlier identical runs.
        ``input_mode`` defaults to ``--input-mode``."""
        mode = input_mode or self.args.input_mode

        def key(evaluated: Optional[bool]) -> str:
            return json.dumps([system, config, os.path.abspath(corpus), params, mode, evaluated], sort_keys=True)

        if evaluate_vectors is False:  # a run that was evaluated serves an unevaluated request too
            done = self.cache.get(key(True), [])
            if len(done) >= repeat:
                return list(done)
        runs = self.cache.setdefault(key(evaluate_vectors or None), [])
        while len(runs) < repeat:
            runs.append(self._one(system, config, corpus, params, len(runs), evaluate_vectors, mode))
        return runs[:repeat]

    def _spawn(self, spec: Dict[str, Any], log_path: str) -> int:
        """Run one child on ``spec``; its exit code, or -1 when it timed out."""
        spec_path = os.path.join(self.workdir, f"s{self.n_runs}.json")
        with open(spec_path, "w") as fh:
            json.dump(spec, fh)
        with open(log_path, "wb") as logfh:
            try:
                return subprocess.run([sys.executable, RUN_PY, "--_child", spec_path], stdout=logfh,
                                      stderr=subprocess.STDOUT, env=child_env(),
                                      timeout=self.args.timeout).returncode
            except subprocess.TimeoutExpired:
                return -1

    def _one(self, system: str, config: str, corpus: str, params: Dict[str, Any], rep: int,
             evaluate_vectors: bool, mode: str) -> Dict[str, Any]:
        args = self.args
        adapter = self.adapters[system]
        self.n_runs += 1
        params = dict(params, seed=run_seed(params["seed"], rep, args.same_seed))
        tag = f"{config}-{system}-w{params['workers']}-e{params['epochs']}-{mode}-{stem(corpus)}"
        spec = {"system": system, "params": params, "input_mode": mode, "corpus": corpus,
                "reader": self.reader(corpus) if mode == "iterable" else None, "tmp": self.workdir,
                "result": os.path.join(self.workdir, f"r{self.n_runs}.json"),
                "vectors": os.path.join(args.out, f"{tag}.bin") if evaluate_vectors else None,
                **adapter.child_options(args)}
        if adapter.reads_plain_copy or mode == "file":
            spec["plain"] = self.plain_file(corpus)
        log_path = os.path.join(args.out, f"{tag}-r{rep}.log")
        log(f"run {adapter.label:<10} {config_label(config):<7} workers={params['workers']} "
            f"epochs={params['epochs']} input={mode} corpus={os.path.basename(corpus)} repeat {rep + 1}")
        t0 = time.perf_counter()
        rc = self._spawn(spec, log_path)
        total = time.perf_counter() - t0
        record: Dict[str, Any] = {"system": system, "config": config, "corpus": corpus, "repeat": rep,
                                  "seed": params["seed"], "workers": params["workers"],
                                  "epochs": params["epochs"], "total_s": total, "log": log_path}
        try:
            with open(spec["result"]) as fh:
                record.update(json.load(fh))
        except (OSError, ValueError):
            record.update({"ok": False, "error": f"child exited with {rc} and no result (see {log_path})"
                           if rc != -1 else f"timed out after {args.timeout}s"})
        if not record.get("ok"):
            log(f"  FAILED: {record.get('error')}")
            return record
        self._add_rates(record, adapter, corpus, params["epochs"])
        msg = (f"  total {total:.2f}s, vocab {record['vocab_s']:.2f}s, train {record['train_s']:.2f}s, "
               f"{fmt_rate(record['words_per_s'])} words/s, peak RSS {record['peak_rss_mb']:.0f} MB")
        if evaluate_vectors and spec["vectors"]:
            t = time.perf_counter()
            record.update(evaluate_file(spec["vectors"], args.restrict_vocab, adapter.writes_sentence_marker))
            record["eval_s"] = time.perf_counter() - t
            if not args.keep_vectors:
                os.remove(spec["vectors"])
            msg += (f", analogy {fmt_num(record['analogy'])}, WS-353 {fmt_num(record['ws353'])}, "
                    f"SimLex {fmt_num(record['simlex'])}")
        log(msg)
        return record

    def _add_rates(self, record: Dict[str, Any], adapter: systems.System, corpus: str, epochs: int) -> None:
        """words/s (raw corpus words × epochs / train s, the same numerator for every system),
        CPU per wall second, and the coverage check where the trainer counts its words."""
        if record.get("cpu_s") is not None:  # < workers when the machine is shared (diagnostic)
            record["cpu_per_wall"] = record["cpu_s"] / max(record["vocab_s"] + record["train_s"], 1e-9)
        record["corpus_words"] = self.corpus_words(corpus)
        record["words_per_s"] = record["corpus_words"] * epochs / max(record["train_s"], 1e-9)
        if record.get("trained_raw_words") is not None:
            cover = record["trained_raw_words"] / (record["corpus_words"] * epochs)
            record["coverage"] = cover
            if abs(cover - 1.0) > COVERAGE_TOLERANCE:
                log(f"  WARNING: {adapter.label} reports {record['trained_raw_words']:,} raw words trained, "
                    f"{cover:.1%} of corpus words x epochs")
