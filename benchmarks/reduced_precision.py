"""What 16-bit weights would cost the embeddings: the harness once per storage precision,
with the emulating engine (CYW2V_KERNEL=emulate), then one table.

    python benchmarks/reduced_precision.py --corpus ../shared/data/enwiki-text8like.gz \\
        --precisions float32,bf16,bf16-stochastic,fp16 --configs sg-ns,cbow-ns --repeat 3 \\
        --out /tmp/precision

Every precision runs the same engine (AVX2, rounding each weight row it writes; float32
rounds nothing and is the AVX2 engine bit for bit), so the differences are the storage
format's alone. Options after ``--`` go to benchmarks/run.py unchanged (the standard
settings otherwise; the input mode is corpus_file). Words/s are the emulator's, which
rounds in scalar code: they say nothing about the speed of real 16-bit storage.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
PRECISIONS = ("float32", "bf16", "bf16-stochastic", "fp16")


def run_precision(precision: str, args: argparse.Namespace, extra: List[str]) -> Dict:
    """One harness run with every weight rounded to ``precision``; its results.json."""
    out = os.path.join(args.out, precision)
    env = {**os.environ, "CYW2V_KERNEL": "emulate", "CYW2V_EMULATE_WEIGHTS": precision}
    cmd = [sys.executable, os.path.join(HERE, "run.py"), "--corpus", args.corpus, "--systems", "cyw2v",
           "--configs", args.configs, "--repeat", str(args.repeat), "--input-mode", "file",
           "--out", out, *extra]
    print(f"== {precision}: {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, env=env, check=True)
    with open(os.path.join(out, "results.json")) as f:
        return json.load(f)


def table(results: Dict[str, Dict]) -> str:
    """Markdown: one row per configuration and precision, medians over the seeds, and the
    median of the per-seed analogy differences from float32 (same seeds, paired)."""
    lines = ["| config | weights | runs | words/s | analogy | Δ analogy vs float32 (paired) | WS-353 | SimLex |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    base = results.get("float32")
    for config in sorted({r["config"] for res in results.values() for r in res["runs"]}):
        for precision, res in results.items():
            runs = [r for r in res["runs"] if r["config"] == config and r.get("ok")]
            if not runs:
                continue
            med = {k: statistics.median(r[k] for r in runs) for k in ("words_per_s", "analogy", "ws353", "simlex")}
            delta = ""
            if base is not None and precision != "float32":
                ref = {r["seed"]: r["analogy"] for r in base["runs"] if r["config"] == config and r.get("ok")}
                diffs = [r["analogy"] - ref[r["seed"]] for r in runs if r["seed"] in ref]
                delta = f"{statistics.median(diffs):+.4f}" if diffs else ""
            lines.append(f"| {config} | {precision} | {len(runs)} | {med['words_per_s'] / 1e6:.2f}M | "
                         f"{med['analogy']:.4f} | {delta} | {med['ws353']:.4f} | {med['simlex']:.4f} |")
    return "\n".join(lines)


def main(argv: List[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: List[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "shared", "data", "enwiki-text8like.gz"))
    ap.add_argument("--precisions", default=",".join(PRECISIONS))
    ap.add_argument("--configs", default="sg-ns,cbow-ns")
    ap.add_argument("--repeat", type=int, default=3, help="seeds 1..repeat per precision")
    ap.add_argument("--out", default="/tmp/cyw2v-precision")
    args = ap.parse_args(argv)
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    unknown = sorted(set(precisions) - set(PRECISIONS))
    if unknown:
        ap.error(f"unknown precisions {unknown}; choose from {list(PRECISIONS)}")
    results = {p: run_precision(p, args, extra) for p in precisions}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "precision.json"), "w") as f:
        json.dump({p: {"settings": r["settings"], "machine": r["machine"], "runs": r["runs"]}
                   for p, r in results.items()}, f, indent=1)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
