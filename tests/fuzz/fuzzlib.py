"""A seeded, structure-aware fuzzer for cyw2v's loaders (issue 17).

Seed files (native KeyedVectors and model files, word2vec text and binary files, plain,
.gz and .bz2, and corpora) are mutated: bytes flipped, inserted, deleted or truncated;
zip header fields, ``meta.json`` values and ``.npy`` headers rewritten (then re-zipped with
valid checksums); word2vec headers and lines edited; corpora given NULs, control bytes,
invalid UTF-8, huge tokens and damaged compression. Each case is loaded in a child process
under an address-space limit (RLIMIT_AS) and a time limit, many cases per child; a crash,
hang, MemoryError, undocumented exception or silent load of a damaged checksummed file is
a failure, and its input is kept.

    python tests/fuzz/fuzzlib.py --cases 100000 --seed 1     # what `make fuzz` runs
"""
from __future__ import annotations

import argparse
import bz2
import gzip
import hashlib
import io
import json
import os
import random
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from typing import Callable, Dict, List, Optional, Tuple

AS_LIMIT = 2 << 30          # bytes of address space a child may map
TIME_LIMIT = 10.0           # seconds one case may take
CASES_PER_CHILD = 400       # a fresh child after this many (and after any crash)
INTERESTING = [0, 1, 2, 3, -1, 7, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
               2 ** 63 - 1, 2 ** 63, 2 ** 64, 10 ** 6, 10 ** 9, 10 ** 20]


# ----------------------------------------------------------------------------- seeds
def make_seeds(folder: str) -> Dict[str, str]:
    """The files mutations start from: kind -> path."""
    import numpy as np
    from cyw2v import KeyedVectors, Word2Vec
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)] + ["é", "日本"]
    corpus = [list(rng.choice(words, 12)) for _ in range(60)]
    model = Word2Vec(corpus, vector_size=6, min_count=1, workers=1, epochs=1, hs=1, seed=3)
    seeds = {}
    seeds["native_model"] = os.path.join(folder, "seed.model")
    model.save(seeds["native_model"])
    kv = KeyedVectors(words[:12], rng.random((12, 5), dtype=np.float32), np.arange(12))
    seeds["native_kv"] = os.path.join(folder, "seed.kv")
    kv.save(seeds["native_kv"])
    seeds["w2v_text"] = os.path.join(folder, "seed.txt")
    kv.save_word2vec_format(seeds["w2v_text"])
    seeds["w2v_binary"] = os.path.join(folder, "seed.bin")
    kv.save_word2vec_format(seeds["w2v_binary"], binary=True)
    seeds["corpus"] = os.path.join(folder, "seed-corpus.txt")
    with open(seeds["corpus"], "w", encoding="utf-8") as fh:
        fh.write("\n".join(" ".join(s) for s in corpus) + "\n")
    return seeds


# ----------------------------------------------------------------------------- mutators
def _flip(r: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(r.choice([1, 1, 2, 4, 8])):
        if b:
            b[r.randrange(len(b))] ^= 1 << r.randrange(8) if r.random() < 0.7 else r.randrange(1, 256)
    return bytes(b)


def _splice(r: random.Random, data: bytes) -> bytes:
    op = r.randrange(4)
    i = r.randrange(len(data) + 1)
    if op == 0:
        return data[:i]                                             # truncate
    if op == 1:
        return data[:i] + data[i + r.randrange(1, 64):]             # delete
    if op == 2:
        return data[:i] + bytes(r.randrange(256) for _ in range(r.randrange(1, 16))) + data[i:]
    j = r.randrange(len(data) + 1)
    return data[:i] + data[min(i, j):max(i, j)][:4096] + data[i:]   # duplicate a piece


def _raw(r: random.Random, data: bytes) -> bytes:
    return _flip(r, data) if r.random() < 0.6 else _splice(r, data)


def _zip_field(r: random.Random, data: bytes) -> bytes:
    """Overwrite one field of a local header, central header or end record."""
    b = bytearray(data)
    sigs = [(b"PK\x03\x04", [(4, "H"), (6, "H"), (8, "H"), (14, "I"), (18, "I"), (22, "I"), (26, "H"), (28, "H")]),
            (b"PK\x01\x02", [(10, "H"), (16, "I"), (20, "I"), (24, "I"), (28, "H"), (30, "H"), (42, "I")]),
            (b"PK\x05\x06", [(8, "H"), (10, "H"), (12, "I"), (16, "I"), (20, "H")]),
            (b"PK\x06\x06", [(24, "Q"), (32, "Q"), (40, "Q"), (48, "Q")]),
            (b"PK\x06\x07", [(8, "Q")]),
            (b"\x01\x00", [(4, "Q"), (12, "Q")])]  # zip64 extra
    sig, fields = r.choice(sigs)
    places = []
    start = 0
    while (start := data.find(sig, start)) >= 0:
        places.append(start)
        start += 1
    if not places:
        return _raw(r, data)
    at = r.choice(places)
    off, fmt = r.choice(fields)
    size = struct.calcsize(fmt)
    if at + off + size > len(b):
        return _raw(r, data)
    value = r.choice(INTERESTING + [r.randrange(1 << (8 * size))]) % (1 << (8 * size))
    b[at + off:at + off + size] = struct.pack("<" + fmt, value)
    return bytes(b)


def _members(data: bytes) -> List[Tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _rezip(members: List[Tuple[str, bytes]], r: random.Random) -> bytes:
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if r.random() < 0.2 else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are a mutation
        for name, payload in members:
            zf.writestr(name, payload)
    return out.getvalue()


def _json_value(r: random.Random):
    return r.choice([None, True, -1, 0, 2 ** 31 - 1, 2 ** 64, 1e308, float("nan"), "x", "", [], {}, [1, "a"],
                     {"shape": [-1]}, [[[[[]]]]], "a" * 1000, r.choice(INTERESTING), [None] * 5,
                     ["w1", "w1", "w2"], [10 ** 12, 3]])


def _mutate_json(r: random.Random, doc):
    """Replace, delete or add one value somewhere in ``doc`` (in place); returns doc."""
    node, path = doc, []
    while isinstance(node, (dict, list)) and node and r.random() < 0.75:
        key = r.choice(list(node)) if isinstance(node, dict) else r.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return _json_value(r)
    parent, key = path[-1]
    op = r.random()
    if op < 0.15 and isinstance(parent, dict):
        del parent[key]
    elif op < 0.25 and isinstance(parent, list):
        parent.append(_json_value(r))
    else:
        parent[key] = _json_value(r)
    return doc


def _npy_header(r: random.Random, payload: bytes) -> bytes:
    """A .npy member with its header's shape, dtype or order rewritten."""
    if not payload.startswith(b"\x93NUMPY") or len(payload) < 10:
        return _raw(r, payload)
    hlen = struct.unpack("<H", payload[8:10])[0]
    head, body = payload[10:10 + hlen].decode("latin1"), payload[10 + hlen:]
    choice = r.randrange(4)
    if choice == 0:
        dims = [r.choice(INTERESTING + [r.randrange(50)]) for _ in range(r.randrange(0, 4))]
        shape = "(" + ", ".join(str(abs(d)) for d in dims) + ("," if len(dims) == 1 else "") + ")"
        head = head[:head.index("'shape':")] + f"'shape': {shape}, }}"
    elif choice == 1:
        dt = r.choice(["'<U4'", "'|O'", "'<i8'", "'>f4'", "'<f8'", "'|b1'", "'|V8'", "'<c8'", "'<M8[s]'",
                       "[('a', '<f4')]", "'<f2'", "'S3'", "'bogus'", "('<f4', (2,))"])
        head = head.replace(head[head.index("'descr':"):head.index(", 'fortran_order'")], f"'descr': {dt}")
    elif choice == 2:
        head = head.replace("False", "True") if "False" in head else head.replace("True", "False")
    else:
        return _raw(r, payload[:10 + hlen]) + body
    head = head.ljust(((len(head) + 11) // 64 + 1) * 64 - 11) + "\n"
    return payload[:8] + struct.pack("<H", len(head)) + head.encode("latin1") + body


def mutate_native(r: random.Random, data: bytes) -> Tuple[bytes, bool]:
    """(mutated file, whether its checksums were left as they were, so a load must not
    succeed with other contents)."""
    op = r.random()
    if op < 0.35:
        return _raw(r, data), True
    if op < 0.55:
        return _zip_field(r, data), True
    members = _members(data)
    which = r.random()
    if which < 0.45:
        members = [(n, json.dumps(_mutate_json(r, json.loads(p))).encode() if n == "meta.json" else p)
                   for n, p in members]
    elif which < 0.8:
        k = r.randrange(len(members))
        name, payload = members[k]
        members[k] = (name, _npy_header(r, payload) if name.endswith(".npy") else _raw(r, payload))
    elif which < 0.9:
        k = r.randrange(len(members))
        op2 = r.randrange(3)
        if op2 == 0:
            del members[k]
        elif op2 == 1:
            members.append(members[k])
        else:
            members[k] = (r.choice(["x.npy", "meta.json", "vectors.npy", "../e.npy"]), members[k][1])
    else:
        k = r.randrange(len(members))
        members[k] = (members[k][0], _raw(r, members[k][1]))
    return _rezip(members, r), False


def _text_line_edit(r: random.Random, text: bytes) -> bytes:
    lines = text.split(b"\n")
    i = r.randrange(len(lines))
    op = r.randrange(9)
    if op == 0 and i == 0 or op == 1:
        lines[0] = f"{r.choice(INTERESTING)} {r.choice(INTERESTING)}".encode()
    elif op == 2:
        del lines[i]
    elif op == 3:
        lines.insert(i, lines[r.randrange(len(lines))])
    elif op == 4:
        lines[i] += r.choice([b" 1.0", b" nan", b" inf", b" x", b" 1e999", b"\0", b"\xff\xfe", b"\r", b"  "])
    elif op == 5:
        fields = lines[i].split(b" ")
        if fields:
            fields[r.randrange(len(fields))] = r.choice([b"", b"-", b"1e5000", b"0x10", b"\x80", b"a" * 70000])
        lines[i] = b" ".join(fields)
    elif op == 6:
        lines.insert(i, b"")
    elif op == 7:
        lines[i] = b"w " + b"1 " * r.choice([1, 100, 40000])
    else:
        return _raw(r, text)
    return b"\n".join(lines)


def _binary_edit(r: random.Random, data: bytes) -> bytes:
    nl = data.find(b"\n")
    if r.random() < 0.4 and nl > 0:
        header = f"{r.choice(INTERESTING)} {r.choice(INTERESTING)}".encode() if r.random() < 0.7 \
            else data[:nl] + r.choice([b" 3", b"x", b"\0"])
        return header + data[nl:]
    if r.random() < 0.3:
        i = r.randrange(len(data) + 1)
        return data[:i] + r.choice([b" ", b"\n", b"\0", b" " * 70000, b"\xff"]) + data[i:]
    return _raw(r, data)


def _compress(r: random.Random, data: bytes, suffix: str) -> bytes:
    if suffix == ".gz":
        packed = gzip.compress(data, compresslevel=1, mtime=0)
    elif suffix == ".bz2":
        packed = bz2.compress(data, 1)
    else:
        return data
    return _raw(r, packed) if r.random() < 0.3 else packed


def _corpus(r: random.Random, seed: bytes) -> bytes:
    op = r.randrange(8)
    if op == 0:
        return bytes(r.randrange(256) for _ in range(r.randrange(0, 3000)))
    if op == 1:
        odd = r.choice([b"\0", b"\x1c", b"\r", b"\t", b"\xa0", b"\xc2\xa0", b" \0 "])
        return seed.replace(b" ", odd, r.randrange(1, 50))
    if op == 2:
        return seed[:r.randrange(len(seed))] + b"x" * r.choice([10, 5000, 2 ** 20 + 3]) + seed[:200]
    if op == 3:
        return r.choice([b"", b"\n" * 100, b" " * 1000, b"\0" * 5000, b"a", b"\xff" * 100])
    if op == 4:
        return seed.replace(b"\n", b"", r.randrange(1, 60))
    return _raw(r, seed)


def _params(r: random.Random) -> bytes:
    """A random parameter set: each parameter its default or an odd value (JSON)."""
    from cyw2v.params import PARAMETERS
    odd = {int: INTERESTING + [-5, 4, 17], float: [0.0, 1e-30, 0.5, 1.0, 1.5, 1e30, "nan", "inf", -1.0, 2 ** 64]}
    chosen = {}
    for p in PARAMETERS:
        if r.random() < 0.2:
            pool = odd.get(p.constraint.type, [0, 1, 2, None, True, "x", 0.5])
            chosen[p.name] = r.choice(pool + [None, "x", [1]])
    return json.dumps(chosen).encode()


def make_case(r: random.Random, seeds: Dict[str, str], cache: Dict[str, bytes]) -> Tuple[str, str, bytes, bool]:
    """(kind, file suffix, content, checksummed) of one random case."""
    kind = r.choices(["native_model", "native_kv", "w2v_text", "w2v_binary", "corpus", "params"],
                     [3, 3, 2, 2, 1.5, 0.5])[0]
    if kind == "params":
        return kind, ".json", _params(r), False
    seed = cache.setdefault(kind, open(seeds[kind], "rb").read())
    if kind.startswith("native"):
        data, checked = mutate_native(r, seed)
        return kind, ".model" if kind == "native_model" else ".kv", data, checked
    suffix = r.choice(["", "", ".gz", ".bz2"])
    if kind == "w2v_text":
        data = _text_line_edit(r, seed) if r.random() < 0.7 else _raw(r, seed)
    elif kind == "w2v_binary":
        data = _binary_edit(r, seed)
    else:
        data = _corpus(r, seed)
    return kind, (".txt" if kind != "w2v_binary" else ".bin") + suffix, _compress(r, data, suffix), False


# ----------------------------------------------------------------------------- child
def _digest_kv(kv) -> str:
    import numpy as np
    h = hashlib.sha256("\0".join(kv.index_to_key).encode("utf-8", "surrogateescape"))
    h.update(np.ascontiguousarray(kv.vectors).tobytes())
    h.update(b"-" if kv.counts is None else np.asarray(kv.counts).tobytes())
    return h.hexdigest()


def _digest_model(m) -> str:
    import numpy as np
    h = hashlib.sha256(_digest_kv(m.wv).encode())
    for name in ("syn1neg", "syn1", "syn1softmax"):
        h.update(np.ascontiguousarray(getattr(m, name)).tobytes())
    h.update(json.dumps([m.get_params(), m.corpus_count, m.corpus_total_words, m.epochs_trained,
                         m.loss_history], sort_keys=True, default=str).encode())
    return h.hexdigest()


#: How each case is loaded: plainly, memory-mapped (native; word2vec files: limit=3;
#: corpora: corpus_file) and through the command line's loaders.
VARIANTS = (None, "r", "cli")


def _load(kind: str, path: str, mmap: Optional[str]):
    """Load ``path`` as ``kind``; returns a digest of the contents (or None)."""
    from cyw2v import KeyedVectors, LineSentence, Word2Vec
    if mmap == "cli":
        from cyw2v import cli
        if kind == "corpus":
            cli.train_model(path, dict(vector_size=4, min_count=1, workers=1, epochs=1), False, out=io.StringIO())
            return None
        if kind == "params":
            return None
        kv = cli.load_vectors(path, {"w2v_text": "text", "w2v_binary": "binary"}.get(kind))
        return _digest_kv(kv) if kind == "native_kv" else None
    if kind == "native_kv":
        return _digest_kv(KeyedVectors.load(path, mmap=mmap))
    if kind == "native_model":
        m = Word2Vec.load(path, mmap=mmap)
        digest = _digest_model(m)
        if mmap is None and len(m.wv):   # a loaded model must also train without crashing
            m.train([m.wv.index_to_key[:8]] * 3, total_examples=3, epochs=1)
        return digest
    if kind == "w2v_text":
        return _digest_kv(KeyedVectors.load_word2vec_format(path, limit=None if mmap is None else 3))
    if kind == "w2v_binary":
        return _digest_kv(KeyedVectors.load_word2vec_format(path, binary=True, limit=None if mmap is None else 3))
    if kind == "params":
        return _train_with(json.load(open(path)), mmap)
    if mmap is not None and not path.endswith((".gz", ".bz2")):
        Word2Vec(corpus_file=path, vector_size=4, min_count=1, workers=1, epochs=1)
    else:
        Word2Vec(LineSentence(path), vector_size=4, min_count=1, workers=1, epochs=1)
    return None


def _train_with(params: dict, variant: Optional[str]) -> None:
    """Train a tiny model with ``params``; values valid but slow to run (many epochs or
    threads) are made small first, as the point is what the checks let through."""
    from cyw2v import Word2Vec
    from cyw2v.params import validate
    params = {k: float(v) if v in ("nan", "inf") else v for k, v in params.items()}
    try:
        q = validate(params)
    except (ValueError, TypeError):
        q = None
    if q is not None:
        params.update(epochs=min(q["epochs"], 2), workers=min(q["workers"], 4))
    words = [f"w{i}" for i in range(25)]
    corpus = [words[i:] + words[:i] for i in range(25)]
    model = Word2Vec(**params)
    model.build_vocab(corpus)
    model.train(corpus, total_examples=len(corpus), epochs=model.epochs, compute_loss=variant is not None)
    import numpy as np
    if not np.isfinite(model.wv.vectors).all():
        raise AssertionError("NaN vectors without an error")


def child_main() -> None:
    """Read 'index<TAB>kind<TAB>path<TAB>reference-digest-or-dash' lines; for each, print
    'S index' before and 'R index outcome;outcome' after (one outcome per loader)."""
    import logging
    logging.disable(logging.CRITICAL)
    import warnings
    warnings.simplefilter("ignore")
    for line in sys.stdin:
        index, kind, path, reference = line.rstrip("\n").split("\t")
        print("S", index, flush=True)
        outcomes = []
        for mmap in VARIANTS:
            try:
                digest = _load(kind, path, mmap)
                outcomes.append("ok" if reference == "-" or digest is None or digest == reference else "SILENT")
            except MemoryError:
                outcomes.append("MemoryError")
            except Exception as exc:  # noqa: BLE001 - classified by the parent
                documented = isinstance(exc, (ValueError, TypeError)) or type(exc).__name__ == "CLIError"
                outcomes.append(type(exc).__name__ + ("" if documented else "!"))
        print("R", index, ";".join(outcomes), flush=True)


# ----------------------------------------------------------------------------- parent
def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
    os.nice(5)


class Child:
    def __init__(self) -> None:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                     preexec_fn=_limit_child, text=True, bufsize=1)
        self.fd = self.proc.stdout.fileno()
        self.buffer = b""
        self.done = 0

    def run(self, index: int, kind: str, path: str, reference: str) -> Tuple[str, float]:
        """(outcome, seconds): 'R ...' outcomes, or CRASH/HANG."""
        t0 = time.monotonic()
        try:
            self.proc.stdin.write(f"{index}\t{kind}\t{path}\t{reference}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "CRASH(startup)", 0.0
        deadline = t0 + TIME_LIMIT + 20.0  # the first case of a child also imports numpy
        started = None
        while True:
            line = self._line()
            while line is None:
                left = (started + TIME_LIMIT if started else deadline) - time.monotonic()
                if left <= 0:
                    self.kill()
                    return "HANG", time.monotonic() - t0
                ready, _, _ = select.select([self.fd], [], [], left)
                if ready:
                    chunk = os.read(self.fd, 65536)
                    if not chunk:
                        code = self.proc.wait()
                        return f"CRASH({code if code >= 0 else signal.Signals(-code).name})", time.monotonic() - t0
                    self.buffer += chunk
                line = self._line()
            if line.startswith("S "):
                started = time.monotonic()
            elif line.startswith("R "):
                self.done += 1
                return line.split(" ", 2)[2].strip(), time.monotonic() - (started or t0)

    def _line(self) -> Optional[str]:
        """The next complete line the child wrote (select() cannot see Python's buffers, so
        the pipe is read raw)."""
        end = self.buffer.find(b"\n")
        if end < 0:
            return None
        line, self.buffer = self.buffer[:end], self.buffer[end + 1:]
        return line.decode("utf-8", "replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.kill()


def bad_outcome(outcome: str) -> bool:
    return outcome.startswith(("CRASH", "HANG")) or any(
        o == "SILENT" or o == "MemoryError" or o.endswith("!") for o in outcome.split(";"))


def campaign(cases: int, seed: int, keep: Optional[str] = None, log: Callable[[str], None] = lambda s: None) -> dict:
    """Run ``cases`` cases; returns the summary (failures' inputs are kept in ``keep``)."""
    r = random.Random(seed)
    work = tempfile.mkdtemp(prefix="cyw2v-fuzz-work-")
    keep = keep or tempfile.mkdtemp(prefix="cyw2v-fuzz-kept-")
    os.makedirs(keep, exist_ok=True)
    seeds = make_seeds(work)
    references = {"native_kv": _load("native_kv", seeds["native_kv"], None),
                  "native_model": _digest_model(__import__("cyw2v").Word2Vec.load(seeds["native_model"]))}
    cache: Dict[str, bytes] = {}
    counts: Counter = Counter()
    by_kind: Counter = Counter()
    failures: List[str] = []
    slowest: Dict[str, float] = {}
    damaged_checked: Counter = Counter()   # True: loaded, with the original's contents
    child = Child()
    t0 = time.monotonic()
    try:
        for i in range(cases):
            kind, suffix, data, checked = make_case(r, seeds, cache)
            path = os.path.join(work, f"case{i % 64}{suffix}")
            with open(path, "wb") as fh:
                fh.write(data)
            reference = references[kind] if checked and data != cache[kind] else "-"
            outcome, seconds = child.run(i, kind, path, reference)
            slowest[kind] = max(slowest.get(kind, 0.0), round(seconds, 2))
            by_kind[kind] += 1
            if reference != "-":
                damaged_checked[outcome.split(";")[0] == "ok"] += 1
            for o in outcome.split(";"):
                counts[o] += 1
            if bad_outcome(outcome):
                kept = os.path.join(keep, f"case{i}-{kind}{suffix}")
                shutil.copyfile(path, kept)
                failures.append(f"{outcome}: {kept}")
                log(f"FAIL case {i} ({kind}): {outcome} -> {kept}")
            if outcome.startswith(("CRASH", "HANG")) or child.done >= CASES_PER_CHILD:
                child.close()
                child = Child()
            if (i + 1) % 5000 == 0:
                log(f"{i + 1} cases, {len(failures)} failures, {time.monotonic() - t0:.0f}s")
    finally:
        child.close()
        shutil.rmtree(work, ignore_errors=True)
        if not failures and not os.listdir(keep):
            os.rmdir(keep)
    return {"cases": cases, "seed": seed, "seconds": round(time.monotonic() - t0, 1), "failures": failures,
            "outcomes": dict(counts.most_common()), "kinds": dict(by_kind), "slowest_case_s": slowest,
            "damaged_checksummed_native_cases": sum(damaged_checked.values()),
            "of_which_loaded_with_original_contents": damaged_checked[True],
            "kept": keep, "as_limit_gib": AS_LIMIT / 2 ** 30, "time_limit_s": TIME_LIMIT}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=int(os.environ.get("FUZZ_CASES", 3000)))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", 1)))
    ap.add_argument("--keep", default=None, help="folder for failing inputs (default: a new temp folder)")
    ap.add_argument("--json", default=None, help="write the summary here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_main()
        return 0
    summary = campaign(args.cases, args.seed, args.keep, log=lambda s: print(s, flush=True))
    text = json.dumps(summary, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text + "\n")
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
