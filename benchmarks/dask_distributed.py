#!/usr/bin/env python
"""Distributed benchmark (BENCHMARKS.md, "Distributed"): quality of cyw2v.dask against
single-node cyw2v by replicas K and sync scheme, the costs of a round, and a projection to
K nodes over 10 GbE.

Every replica is one Dask worker process with one thread (LocalCluster), so K = 2 uses this
machine's 2 cores as single-node cyw2v with workers=2 does, and K > 2 oversubscribes them
(fine for quality, meaningless for speed). K = 1 is single-node ``Word2Vec(corpus_file=...,
workers=2)``. The corpus is read from a plain copy (lines of 10,000 words) by the file fast path.

    nice -n 10 python benchmarks/dask_distributed.py --corpus ../shared/data/enwiki-text8like.gz \\
        --configs sg-ns,cbow-ns --replicas 1,2,4 --epoch-sync 4 --seeds 1 --out benchmarks/out/distributed
    python benchmarks/dask_distributed.py --report benchmarks/out/distributed/results.json   # tables only
"""
import argparse
import json
import logging
import os
import statistics
import sys
import time
from typing import Callable

_HERE = os.path.dirname(os.path.abspath(__file__))
# benchmarks/ goes on the path (run.py puts it first too): so no file here may be named like
# a package it imports, which is why this one is not "distributed.py".
sys.path.insert(0, _HERE)

from w2vbench.common import STANDARD_CORPUS_PATH, STANDARD_SETTINGS  # noqa: E402
from w2vbench.corpora import write_plain  # noqa: E402

CONFIGS = {"sg-ns": dict(sg=1, hs=0, negative=5), "cbow-ns": dict(sg=0, hs=0, negative=5)}
#: the standard settings; workers are each run's own (2 single-node, one thread per replica)
STANDARD = {k: v for k, v in STANDARD_SETTINGS.items() if k != "workers"}
TEN_GBE = 1.25e9          # bytes/s

#: the settings of the quality table (the defaults); other runs appear in the cost table only
SP, HR, EPOCHS = 250_000, 1024, 5
#: DaskWord2Vec's default merge rule, and the label single-node runs carry
DEFAULT_MERGE, SINGLE = "average", "mean"
#: DaskWord2Vec's default overlap
DEFAULT_OVERLAP = "large"


def plain_copy(corpus: str, workdir: str) -> str:
    if not corpus.endswith((".gz", ".bz2")):
        return corpus
    dest = os.path.join(workdir, os.path.basename(corpus).rsplit(".", 1)[0] + ".txt")
    if not os.path.exists(dest):
        write_plain(corpus, dest + ".part")
        os.replace(dest + ".part", dest)
    return dest


def resolved(config: str, K: int, args: argparse.Namespace) -> tuple:
    """(sync_period, overlap) of a run: the options given, or DaskWord2Vec's defaults for K."""
    if K == 1:
        return SP, "-"
    from cyw2v.dask import DaskWord2Vec
    return DaskWord2Vec(**CONFIGS[config], sync_period=args.sync_period).sync_period_for(K), args.overlap


def run_one(path: str, config: str, K: int, sync: str, merge: str, seed: int, args: argparse.Namespace) -> dict:
    from cyw2v import Word2Vec
    params = dict(STANDARD, **CONFIGS[config], seed=seed, epochs=args.epochs,
                  alpha=None if args.alpha == "default" else float(args.alpha))
    t0 = time.perf_counter()
    sync_period, overlap = resolved(config, K, args)
    record = {"config": config, "K": K, "sync": sync if K > 1 else "single", "merge": merge, "seed": seed,
              "sync_period": sync_period, "hot_rows": args.hot_rows, "epochs": args.epochs, "overlap": overlap,
              "alpha": params["alpha"],
              "defaults": args.sync_period is None and args.overlap == DEFAULT_OVERLAP}
    if K == 1:
        model = Word2Vec(corpus_file=path, workers=2, **params)
        record["train_s"] = model.total_train_time
        wv = model.wv
    else:
        from distributed import Client, LocalCluster
        from cyw2v.dask import DaskWord2Vec
        with LocalCluster(n_workers=K, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            model = DaskWord2Vec(client, sync=sync, merge=merge, sync_period=sync_period, hot_rows=args.hot_rows,
                                 overlap=overlap, **params).fit([path])
            record["train_s"] = model.model.total_train_time
            record["vocab_s"] = model.vocab_seconds
            record["sync_share"] = model.sync_share
            record["rounds"] = [dict(epoch=r.epoch, round=r.round, words=r.words, compute_s=r.compute_s,
                                     sync_s=r.sync_s, rows=r.rows, bytes_moved=r.bytes_moved)
                                for r in model.rounds]
            wv = model.wv
    record["total_s"] = time.perf_counter() - t0
    scores = wv.evaluate_standard(restrict_vocab=30000)
    record.update(analogy=scores["analogy"], ws353=scores["ws353_spearman"], simlex=scores["simlex_spearman"],
                  vocab=len(wv))
    print(json.dumps({k: v for k, v in record.items() if k != "rounds"}), flush=True)
    return record


def rule(record: dict) -> str:
    """The merge rule of a run, and its overlap when not the default."""
    overlap = record.get("overlap", DEFAULT_OVERLAP)   # (the first version's runs have none)
    return record.get("merge", "mean") + ("" if overlap in (DEFAULT_OVERLAP, "-") else f", overlap={overlap}")


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def quality_table(results: list) -> str:
    rows = ["| config | K | sync | merge | sync_period | seeds | analogy | WS-353 | SimLex | Δ analogy vs K=1 "
            "| Δ WS-353 vs K=1 | train s |", "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    cells = {}
    for r in results:
        if r["hot_rows"] == HR and r["epochs"] == EPOCHS:
            period = r["sync_period"] if r["K"] > 1 else SP
            cells.setdefault((r["config"], r["K"], r["sync"], rule(r), period), []).append(r)
    for (config, K, sync, merge, period), runs in sorted(cells.items()):
        base = cells.get((config, 1, "single", SINGLE, SP), [])
        a, w, s = (median([x[m] for x in runs]) for m in ("analogy", "ws353", "simlex"))
        da = a - median([x["analogy"] for x in base]) if base else float("nan")
        dw = w - median([x["ws353"] for x in base]) if base else float("nan")
        rows.append(f"| {config} | {K} | {sync} | {merge if K > 1 else '-'} | "
                    f"{f'{period:,}' if K > 1 else '-'} | {len(runs)} | {100 * a:.2f} | {w:.3f} | {s:.3f} | "
                    f"{100 * da:+.2f} | {dw:+.3f} | {median([x['train_s'] for x in runs]):.0f} |")
    return "\n".join(rows)


def round_costs(results: list) -> list:
    """Per (config, K, sync, sync_period, hot_rows): mean compute, hot-merge and epoch-end
    merge seconds per round, bytes per hot round and per epoch end, sync share."""
    groups = {}
    for r in results:
        if r["K"] > 1:
            groups.setdefault((r["config"], r["K"], r["sync"], r["sync_period"], r["hot_rows"], rule(r),
                               r["epochs"]), []).append(r)
    out = []
    for key, runs in sorted(groups.items()):
        rounds = [x for r in runs for x in r["rounds"]]
        last = {}
        for x in rounds:
            last[x["epoch"]] = max(last.get(x["epoch"], 0), x["round"])
        ends = [x for x in rounds if x["round"] == last[x["epoch"]]]
        middle = [x for x in rounds if x["round"] != last[x["epoch"]]]
        out.append(dict(config=key[0], K=key[1], sync=key[2], sync_period=key[3], hot_rows=key[4], merge=key[5],
                        epochs=key[6],
                        rounds_per_epoch=statistics.mean(last.values()),
                        compute_s=statistics.mean(x["compute_s"] for x in rounds),
                        hot_sync_s=statistics.mean(x["sync_s"] for x in middle) if middle else 0.0,
                        end_sync_s=statistics.mean(x["sync_s"] for x in ends),
                        hot_bytes=statistics.mean(x["bytes_moved"] for x in middle) if middle else 0.0,
                        end_bytes=statistics.mean(x["bytes_moved"] for x in ends),
                        sync_share=median([r["sync_share"] for r in runs])))
    return out


def cost_table(costs: list) -> str:
    rows = ["| config | K | sync | merge | epochs | sync_period | hot_rows | rounds/epoch | compute s/round | sync s/hot round | "
            "sync s/epoch end | MB moved/hot round | MB moved/epoch end | sync share |",
            "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in costs:
        rows.append(f"| {c['config']} | {c['K']} | {c['sync']} | {c['merge']} | {c['epochs']} | {c['sync_period']:,} | {c['hot_rows']} | "
                    f"{c['rounds_per_epoch']:.0f} | {c['compute_s']:.3f} | {c['hot_sync_s']:.3f} | "
                    f"{c['end_sync_s']:.3f} | {c['hot_bytes'] / 1e6:.1f} | {c['end_bytes'] / 1e6:.0f} | "
                    f"{100 * c['sync_share']:.1f}% |")
    return "\n".join(rows)


def projection(costs: list, corpus_words: int, vocab: int, d: int = 100, hot_rows: int = 1024,
               sync_period: Callable[[int], int] = lambda K: SP, node_rate: float = 0.0, latency: float = 0.0,
               end_local: float = 0.0, measured_vocab: int = 1) -> str:
    """Expected words/s of K nodes. Each round a node trains sync_period(K) words at node_rate
    (the measured one-thread replica rate unless given); its merge travels while the next
    round trains (``overlap``), so a round costs compute plus a fixed cost (``latency``: the
    hot rounds' measured sync seconds at K=2, an upper bound) plus whatever of the transfer
    the compute does not hide. A node receives (K-1) payloads (all-gather, K = 2 or at most
    4 MiB) or 2 (K-1)/K of one (reduce-scatter) over 10 GbE. An epoch's merge of all rows
    adds ``end_local`` (measured at K=2: extract, merge, apply of every row, here
    memory-bound) scaled by V. The driver's K actor calls a round are queued ahead and bound
    the round only when K * CALL_S exceeds the compute."""
    import math
    lines = ["| K | rounds/epoch | compute s/round | hot sync s/round | epoch-end sync s | sync share | "
             "words/s (all nodes) | speed-up vs 1 node |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for K in (2, 4, 8, 16, 32, 64):
        shard = corpus_words / K
        R = max(1, math.ceil(shard / sync_period(K)))
        compute = max(min(sync_period(K), shard) / node_rate, K * CALL_S)
        mean_rows = statistics.mean(min(vocab, hot_rows << ((n & -n).bit_length() - 1)) for n in range(1, R))\
            if R > 1 else 0
        P_hot = 2 * mean_rows * d * 4
        P_end = 2 * vocab * d * 4
        received = lambda P: (K - 1) * P if K <= 2 or (K - 1) * P <= (4 << 20) else 2 * (K - 1) / K * P  # noqa: E731
        hidden = lambda P: max(0.0, received(P) / TEN_GBE - compute)  # noqa: E731
        hot = latency + hidden(P_hot) if R > 1 else 0.0
        end = end_local * vocab / measured_vocab + hidden(P_end)
        epoch_time = R * compute + (R - 1) * hot + end
        share = 1 - R * compute / epoch_time
        rate = corpus_words / epoch_time
        lines.append(f"| {K} | {R} | {compute:.3f} | {hot:.3f} | {end:.3f} | {100 * share:.1f}% | "
                     f"{rate / 1e6:.1f}M | {rate / node_rate:.1f}× |")
    return "\n".join(lines)


#: the driver's time per actor call (an assumption of Dask's order, not measured here)
CALL_S = 0.5e-3


def report(results: list) -> str:
    parts = ["### Quality", "", quality_table(results), "", "### Costs per round", "",
             cost_table(round_costs(results))]
    for config in ("cbow-ns", "sg-ns"):
        parts += projections(results, config)
    return "\n".join(parts)


def projections(results: list, config: str) -> list:
    """The projection from ``config`` at K = 2 with DaskWord2Vec's defaults, its rounds
    following the default sync_period at every K."""
    from cyw2v.dask import DaskWord2Vec
    dask_runs = [r for r in results if r["K"] == 2 and r["sync"] == "hot" and r.get("defaults")
                 and r["hot_rows"] == HR and r["epochs"] == EPOCHS and r.get("merge", "mean") == DEFAULT_MERGE
                 and r["config"] == config]
    k2 = [c for c in round_costs(results) if dask_runs and c["K"] == 2 and c["sync"] == "hot"
          and c["sync_period"] == dask_runs[0]["sync_period"] and c["hot_rows"] == HR and c["epochs"] == EPOCHS
          and c["merge"] == rule(dask_runs[0]) and c["config"] == config]
    if not (k2 and dask_runs):
        return []
    c = k2[0]
    words = sum(x["words"] for x in dask_runs[0]["rounds"]) / dask_runs[0]["epochs"]
    node_rate = c["sync_period"] / c["compute_s"] if c["rounds_per_epoch"] > 1 else words / 2 / c["compute_s"]
    period = DaskWord2Vec(**CONFIGS[config]).sync_period_for
    parts = ["", f"### Projection: {config}", "",
             f"node rate {node_rate / 1e6:.2f}M words/s (one replica's measured rate), fixed cost per "
             f"round {1000 * c['hot_sync_s']:.0f} ms and per merge of all rows {1000 * c['end_sync_s']:.0f} ms "
             f"(measured at K=2), {CALL_S * 1e3:.1f} ms of driver time per actor call, 10 GbE (1.25 GB/s), "
             f"rounds of DaskWord2Vec's default sync_period at each K", ""]
    for label, corpus_words, vocab in ((f"this corpus ({words / 1e6:.1f}M words, V = {dask_runs[0]['vocab']:,})",
                                        int(words), dask_runs[0]["vocab"]),
                                       ("a 1B-word corpus, V = 500,000 (assumed)", 10 ** 9, 500_000)):
        parts += [f"{label}:", "", projection([c], corpus_words, vocab, hot_rows=c["hot_rows"], sync_period=period,
                                               node_rate=node_rate, latency=c["hot_sync_s"],
                                               end_local=c["end_sync_s"], measured_vocab=dask_runs[0]["vocab"]), ""]
    return parts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=STANDARD_CORPUS_PATH)
    p.add_argument("--configs", default="sg-ns,cbow-ns")
    p.add_argument("--replicas", default="1,2,4", help="K values with sync=hot (1: single-node cyw2v)")
    p.add_argument("--epoch-sync", default="4", help="K values also run with sync=epoch")
    p.add_argument("--sum-replicas", default="", help="K values also run with sync=hot, merge=sum")
    p.add_argument("--merge", default=DEFAULT_MERGE, help="the merge rule of the --replicas and --epoch-sync runs")
    p.add_argument("--seeds", default="1")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--alpha", default=str(STANDARD["alpha"]),
                   help="initial learning rate, or 'default' for the model's (Word2Vec(alpha=None))")
    p.add_argument("--sync-period", type=int, default=None, help="words per replica per round (default: DaskWord2Vec's)")
    p.add_argument("--hot-rows", type=int, default=1024)
    p.add_argument("--overlap", choices=("never", "large", "always"), default=DEFAULT_OVERLAP,
                   help="DaskWord2Vec(overlap=...): which merges land a round late")
    p.add_argument("--out", default="benchmarks/out/distributed")
    p.add_argument("--report", metavar="RESULTS_JSON", help="only print the tables of a results file")
    args = p.parse_args()
    if args.report:
        with open(args.report) as f:
            print(report(json.load(f)))
        return 0
    os.makedirs(args.out, exist_ok=True)
    path = plain_copy(args.corpus, args.out)
    results_path = os.path.join(args.out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else []
    ks = lambda text: [int(k) for k in text.split(",") if k]  # noqa: E731
    plan = []
    for c in args.configs.split(","):
        plan += [(c, K, "hot" if K > 1 else "single", args.merge if K > 1 else SINGLE) for K in ks(args.replicas)]
        plan += [(c, K, "epoch", args.merge) for K in ks(args.epoch_sync)]
        plan += [(c, K, "hot", "sum") for K in ks(args.sum_replicas)]
    for seed in map(int, args.seeds.split(",")):
        for config, K, sync, merge in plan:
            sync_period, overlap = resolved(config, K, args)
            done = any(r["config"] == config and r["K"] == K and r["sync"] == (sync if K > 1 else "single")
                       and r.get("merge", "mean") == merge and r["seed"] == seed
                       and r["sync_period"] == sync_period and r["hot_rows"] == args.hot_rows
                       and r["epochs"] == args.epochs and r.get("overlap", "never") == overlap for r in results)
            if done:
                continue
            results.append(run_one(path, config, K, sync, merge, seed, args))
            with open(results_path, "w") as f:
                json.dump(results, f)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
