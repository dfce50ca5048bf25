"""C/C++ trainers run as a binary (word2vec.c, pWord2Vec): finding the binary, timing its phases."""
from __future__ import annotations

import argparse
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from typing import Any, ClassVar, Dict, List, Optional, Tuple

from ..common import BIN_DIR, BenchError
from ..machine import cpu_seconds, peak_rss_children_mb
from .base import System

#: Both binaries copy -train/-output into char[100] buffers.
MAX_PATH = 99


def is_native_executable(path: Optional[str]) -> bool:
    """Whether ``path`` is an executable ELF file (a compiled trainer, not a Python entry point)."""
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        return False
    with open(path, "rb") as fh:
        return fh.read(4) == b"\x7fELF"


def run_with_marks(cmd: List[str], output_file: str) -> Tuple[int, str, Dict[str, float], float, float]:
    """Run ``cmd`` and note when its output shows each phase; returns
    (exit code, its output, {mark: perf_counter time}, start time, end time).

    Marks: 'vocab_counted' ("Words in train file"), 'first_progress' (the first "Alpha:" report)
    and 'output_opened' (``output_file`` exists: both trainers open it after their threads join).
    stdbuf makes the binary's stdout line-buffered so that the marks are timely.
    """
    stdbuf = shutil.which("stdbuf")
    chunks: List[bytes] = []
    marks: Dict[str, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(([stdbuf, "-oL"] if stdbuf else []) + cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    tail = b""
    while True:
        if sel.select(timeout=0.005):
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            now = time.perf_counter()
            chunks.append(chunk)
            tail = (tail + chunk)[-4096:]
            if "vocab_counted" not in marks and b"Words in train file" in tail:
                marks["vocab_counted"] = now
            if "first_progress" not in marks and b"Alpha:" in tail:
                marks["first_progress"] = now
        if "output_opened" not in marks and os.path.exists(output_file):
            marks["output_opened"] = time.perf_counter()
    rc = proc.wait()
    return rc, b"".join(chunks).decode("utf-8", "replace"), marks, t0, time.perf_counter()


class NativeBinarySystem(System):
    """A compiled trainer that reads the plain corpus copy and writes word2vec binary vectors.

    vocab s runs from its start to its first progress report, train s from there to the moment it
    opens the output file; the parent turns train s into words/s like for every system.
    """

    reads_plain_copy = True
    writes_sentence_marker = True
    #: The attribute of the parsed options holding 'auto', a path or '' (e.g. 'word2vec_c').
    option: ClassVar[str] = ""
    #: File names looked for in benchmarks/bin, then on PATH, for 'auto'.
    binary_names: ClassVar[Tuple[str, ...]] = ()
    #: The script that builds it into benchmarks/bin.
    build_script: ClassVar[str] = ""
    #: A regular expression for the words/s the binary prints itself (kept in results.json only).
    own_rate_pattern: ClassVar[Optional[str]] = None

    def __init__(self) -> None:
        self.binary: Optional[str] = None

    @property
    def flag(self) -> str:
        """The command-line option naming the binary, e.g. '--word2vec-c'."""
        return "--" + self.option.replace("_", "-")

    def resolve_binary(self, arg: Optional[str]) -> Tuple[Optional[str], str]:
        """(binary path or None, why) for the option's value: a path, 'auto' or ''."""
        if not arg:
            return None, f"not requested (pass {self.flag} PATH or auto)"
        if arg != "auto":
            if os.path.isfile(arg) and os.access(arg, os.X_OK):
                return os.path.abspath(arg), "given"
            return None, f"{arg} is not an executable file"
        candidates = [os.path.join(BIN_DIR, n) for n in self.binary_names]
        candidates += [shutil.which(n) for n in self.binary_names]
        for cand in candidates:
            if is_native_executable(cand):
                return os.path.abspath(cand), "found"
        return None, f"no binary found (run `bash {self.build_script}`, or pass {self.flag} PATH)"

    def unavailable_reason(self, args: argparse.Namespace) -> Optional[str]:
        """None when the binary is found (and remembered for the specs), else why not."""
        self.binary, why = self.resolve_binary(getattr(args, self.option))
        return None if self.binary else why

    def child_options(self, args: argparse.Namespace) -> Dict[str, Any]:
        """The binary's path."""
        return {"binary": self.binary}

    def command(self, binary: str, params: Dict[str, Any], train_path: str, output_path: str) -> List[str]:
        """The command line that trains with ``params`` on ``train_path`` into ``output_path`` (binary)."""
        raise NotImplementedError

    def train(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        """Run the binary on the plain copy; time its phases from its progress output."""
        work = tempfile.mkdtemp(prefix=f"{self.name}-", dir=spec["tmp"])
        out = os.path.join(work, "v.bin")
        for path in (spec["plain"], out):
            if len(path) > MAX_PATH:
                raise BenchError(f"{self.label} takes paths of at most {MAX_PATH} characters: {path}")
        cmd = self.command(spec["binary"], spec["params"], spec["plain"], out)
        rc, output, marks, t0, t_end = run_with_marks(cmd, out)
        if rc != 0 or not os.path.exists(out):
            raise BenchError(f"{self.label} exited with {rc}: {output[-500:]}")
        t_train0 = marks.get("first_progress", marks.get("vocab_counted", t0))
        t_train1 = marks.get("output_opened", t_end)
        words = re.search(r"Words in train file: (\d+)", output)
        vocab = re.search(r"Vocab size: (\d+)", output)
        own_rates = re.findall(self.own_rate_pattern, output) if self.own_rate_pattern else []
        if spec.get("vectors"):
            shutil.move(out, spec["vectors"])
        shutil.rmtree(work, ignore_errors=True)
        return {"version": f"{self.label} ({os.path.basename(spec['binary'])})", "vocab_s": t_train0 - t0,
                "train_s": t_train1 - t_train0, "peak_rss_mb": peak_rss_children_mb(),
                "rss_source": f"ru_maxrss of the {self.label} process", "cpu_s": cpu_seconds("children"),
                "vocab_size": int(vocab.group(1)) if vocab else None,
                "trainer_words": int(words.group(1)) if words else None, "command": " ".join(cmd),
                "own_words_per_s": float(own_rates[-1]) * 1e3 if own_rates else None,
                "marks": {k: t - t0 for k, t in marks.items()}, "log_tail": output[-300:]}
