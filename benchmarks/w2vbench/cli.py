"""The harness's options and its main flow: the configuration tables, then the scaling runs."""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import shutil
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import systems
from .common import BENCH_DIR, CONFIGS, SMALL_CORPUS, STANDARD_CORPUS, BenchError, config_label, log
from .corpora import resolve_corpus, stem
from .machine import machine_info, machine_line
from .report import render, update_markdown, write_results
from .runner import Runner, child_main
from .stats import median_of, paired_ratio, ratios, summarize

DESCRIPTION = ("Side-by-side speed and quality benchmark: cyw2v against gensim, word2vec.c and pWord2Vec, "
               "every training run in a fresh subprocess, every run scored by cyw2v's evaluator.")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options of the harness."""
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=DESCRIPTION,
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join("..", "shared", "data", STANDARD_CORPUS),
                    help="corpus (.gz/.bz2/plain), or 'demo' for the packaged 1.7M-word corpus")
    ap.add_argument("--fallback-demo", action="store_true",
                    help="use the packaged corpus when --corpus is missing (instead of exiting)")
    ap.add_argument("--configs", default="sg-ns,cbow-ns,sg-hs,cbow-hs", help="comma list of " + ",".join(CONFIGS))
    ap.add_argument("--systems", default=",".join(systems.SYSTEMS), help="comma list of " + ",".join(systems.SYSTEMS))
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
    ap.add_argument("--pword2vec", default="auto", metavar="PATH",
                    help="pWord2Vec binary, 'auto' (benchmarks/bin/pWord2Vec or pWord2Vec on PATH) or ''")
    ap.add_argument("--cyw2v-args", default="", metavar="K=V,...",
                    help="extra cyw2v.Word2Vec parameters, e.g. batch_window=0 for word2vec.c's per-pair SG updates")
    ap.add_argument("--input-mode", choices=("file", "iterable"), default="file",
                    help="file: corpus_file on a decompressed copy; iterable: streaming readers")
    ap.add_argument("--reader", choices=("auto", "text8", "line"), default="auto",
                    help="streaming reader in iterable mode (auto: text8 for a one-line corpus)")
    ap.add_argument("--restrict-vocab", type=int, default=30000, help="analogy vocabulary cut-off")
    ap.add_argument("--evaluator", choices=("auto", "cyw2v"), default="auto",
                    help="kept for old command lines: every run is scored by cyw2v's evaluate_standard")
    ap.add_argument("--no-eval", action="store_true", help="skip saving and scoring vectors")
    ap.add_argument("--out", default=os.path.join(BENCH_DIR, "out"), help="folder for vectors, logs, results.json")
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
    args.systems = _split(args.systems, systems.SYSTEMS, ap, "--systems")
    args.scaling_configs = _split(args.scaling_configs, CONFIGS, ap, "--scaling-configs")
    args.cyw2v_args = _parse_kv(args.cyw2v_args, ap, "--cyw2v-args")
    args.repeat_of = _parse_kv(args.repeat_of, ap, "--repeat-of")
    for system, n in args.repeat_of.items():
        if system not in systems.SYSTEMS or not isinstance(n, int) or n < 1:
            ap.error(f"--repeat-of: expected SYSTEM=N with SYSTEM in {','.join(systems.SYSTEMS)} and N >= 1")
    try:
        args.scaling_workers = sorted({int(x) for x in args.scaling_workers.split(",") if x.strip()})
    except ValueError:
        ap.error("--scaling-workers takes a comma list of integers")
    modes = [m.strip() for m in (args.scaling_input_modes or args.input_mode).split(",") if m.strip()]
    if not modes or any(m not in ("iterable", "file") for m in modes):
        ap.error("--scaling-input-modes takes a comma list of 'iterable' and 'file'")
    args.scaling_input_modes = list(dict.fromkeys(modes))
    return args


def _parse_kv(value: str, ap: argparse.ArgumentParser, flag: str) -> Dict[str, Any]:
    """'a=1,b=0.5,c=x' -> {'a': 1, 'b': 0.5, 'c': 'x'} (ints, floats, true/false, else strings)."""
    out: Dict[str, Any] = {}
    for item in (x.strip() for x in value.split(",") if x.strip()):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            ap.error(f"{flag}: expected KEY=VALUE, got {item!r}")
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
    """A comma list of names out of ``allowed``, lower-cased, without repeats."""
    items = [x.strip().lower() for x in value.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        ap.error(f"{flag}: unknown {bad or 'empty list'}; choose from {', '.join(allowed)}")
    return list(dict.fromkeys(items))


def make_params(args: argparse.Namespace, config: str, workers: int, epochs: int) -> Dict[str, Any]:
    """Trainer parameters of one configuration."""
    flags = CONFIGS[config][1]
    return {"vector_size": args.vector_size, "window": args.window, "min_count": args.min_count,
            "sample": args.sample, "alpha": args.alpha, "seed": args.seed, "workers": workers, "epochs": epochs,
            "sg": flags["sg"], "hs": flags["hs"], "negative": 0 if flags["hs"] else args.negative}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark (or, with ``--_child``, one training run); returns the exit code."""
    args = parse_args(argv)
    if args._child:
        return child_main(args._child)
    try:
        return _main(args)
    except BenchError as exc:
        print(f"benchmarks/run.py: {exc}", file=sys.stderr)
        return 2


def available_systems(args: argparse.Namespace) -> Tuple[Dict[str, systems.System], Dict[str, str]]:
    """({name: adapter} of the requested systems that can run, {name: why not} of the others)."""
    adapters: Dict[str, systems.System] = {}
    skipped: Dict[str, str] = {}
    for name in args.systems:
        adapter = systems.create(name)
        why = adapter.unavailable_reason(args)
        if why:
            skipped[name] = why
            log(f"{adapter.label}: skipped ({why})")
        else:
            adapters[name] = adapter
    if "cyw2v" not in adapters:
        raise BenchError("--systems must include cyw2v")
    return adapters, skipped


def _main(args: argparse.Namespace) -> int:
    corpus = resolve_corpus(args.corpus, args.fallback_demo)
    os.makedirs(args.out, exist_ok=True)
    machine = machine_info()
    print(machine_line(machine), flush=True)
    adapters, skipped = available_systems(args)
    names = list(adapters)
    evaluator = None if args.no_eval else "cyw2v"
    args.evaluator = evaluator

    workdir = tempfile.mkdtemp(prefix="cyw2v-bench-")
    runner = Runner(args, workdir, adapters)
    started = _dt.datetime.now(_dt.timezone.utc)
    t_start = time.perf_counter()
    try:
        words = runner.corpus_words(corpus)
        all_runs: List[Dict[str, Any]] = []
        summary: Dict[str, Any] = {}
        for config in args.configs:
            params = make_params(args, config, args.workers, args.epochs)
            not_run = {s: a.unsupported_note() for s, a in adapters.items() if not a.supports(config)}
            for system, note in not_run.items():
                log(f"{adapters[system].label}: not run on {config_label(config)} ({note})")
            per_system: Dict[str, List[Dict[str, Any]]] = {s: [] for s in names if s not in not_run}
            for rep in range(args.repeat):  # repeats interleave the systems, spreading load drift
                for system in per_system:
                    if rep >= min(args.repeat, args.repeat_of.get(system, args.repeat)):
                        continue
                    per_system[system] = runner.run(system, config, corpus, params, rep + 1, not args.no_eval)
            sums = {s: summarize(r) for s, r in per_system.items()}
            rats = {p: ratios(sums["cyw2v"], sums[p]) for p in sums if p != "cyw2v"}
            summary[config] = {"params": params, "systems": sums, "cyw2v_vs": rats, "not_run": not_run}
            for runs in per_system.values():
                all_runs.extend(runs)

        scaling = run_scaling(args, runner, corpus) if args.scaling else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if hasattr(os, "getloadavg"):
        machine["load_avg_end"] = list(os.getloadavg())
    notes = [note for a in adapters.values() for note in a.notes]
    section = render(args, machine, corpus, words, names, skipped, summary, scaling, evaluator, started, notes)
    print(section)
    binaries = {s: a.binary for s, a in adapters.items() if getattr(a, "binary", None)}
    result = {"schema": 1, "created": started.isoformat(timespec="seconds"),
              "elapsed_s": time.perf_counter() - t_start, "machine": machine,
              "corpus": {"path": corpus, "name": stem(corpus), "words": words},
              "settings": {k: v for k, v in vars(args).items() if not k.startswith("_")},
              "systems": names, "skipped": skipped, "word2vec_c": binaries.get("word2vec-c"),
              "binaries": binaries, "evaluator": evaluator, "summary": summary, "scaling": scaling,
              "runs": all_runs}
    json_path = os.path.join(args.out, "results.json")
    write_results(json_path, result)
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
                                             r, False, mode)
                rates[mode][config][c] = {str(w): median_of(summarize(cell[w]), "words_per_s") for w in workers}
                paired[mode][config][c] = paired_ratio(cell[workers[-1]], cell[workers[0]])
    return {"corpora": corpora, "words": words, "workers": workers, "epochs": epochs,
            "repeat": repeat, "modes": args.scaling_input_modes, "rates": rates, "paired": paired}
