"""The Markdown section (settings, machine, a table per configuration, scaling) and results.json."""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
from typing import Any, Dict, Optional, Sequence

from .common import COVERAGE_TOLERANCE, config_label
from .corpora import stem
from .evaluation import EVALUATOR_LABEL
from .machine import machine_line
from .stats import median_of
from .systems import label

MARK_START = "<!-- bench:start -->"
MARK_END = "<!-- bench:end -->"
TABLE_HEAD = ("| system | total s | vocab s | train s | words/s | peak RSS MB | analogy | WS-353 | SimLex |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def _finite(x: Optional[float]) -> bool:
    return x is not None and math.isfinite(x)


def fmt_rate(x: Optional[float]) -> str:
    """Words per second as 1.23M / 850k."""
    if not _finite(x):
        return "–"
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.0f}k"


def fmt_num(x: Optional[float], digits: int = 3) -> str:
    """A number with ``digits`` decimals, or an en dash when missing."""
    return f"{x:.{digits}f}" if _finite(x) else "–"


def fmt_secs(x: Optional[float]) -> str:
    """Seconds with 2 decimals below 10 s, 1 decimal above."""
    if not _finite(x):
        return "–"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def fmt_ratio(x: Optional[float]) -> str:
    """A ratio as ×1.23."""
    return f"×{x:.2f}" if _finite(x) else "–"


def fmt_delta(x: Optional[float]) -> str:
    """A quality difference as +0.012 / −0.004."""
    return f"{'+' if x >= 0 else '−'}{abs(x):.3f}" if _finite(x) else "–"


def fmt_words(n: int) -> str:
    """A word count as 16.9M."""
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def config_table(config: str, systems: Sequence[str], summaries: Dict[str, Dict[str, Any]],
                 rats: Dict[str, Dict[str, Optional[float]]], repeat: int,
                 not_run: Optional[Dict[str, str]] = None) -> str:
    """Markdown table of one configuration: a row per system, then cyw2v-vs-peer rows, then a line
    per system that does not train this configuration (``not_run``: system -> note)."""
    rows = [f"**{config_label(config)}**", "", TABLE_HEAD]
    for system in systems:
        s = summaries.get(system)
        if s is None:
            continue
        if not s["n"]:
            rows.append(f"| {label(system)} | failed: {(s['errors'] or ['?'])[0]} |||||||| ")
            continue
        rate = fmt_rate(median_of(s, "words_per_s"))
        if repeat > 1 and "words_per_s" in s:
            rate += f" ({fmt_rate(s['words_per_s']['min'])}–{fmt_rate(s['words_per_s']['max'])})"
        rows.append(f"| {label(system)} | {fmt_secs(median_of(s, 'total_s'))} | {fmt_secs(median_of(s, 'vocab_s'))} "
                    f"| {fmt_secs(median_of(s, 'train_s'))} | {rate} | {fmt_num(median_of(s, 'peak_rss_mb'), 0)} "
                    f"| {fmt_num(median_of(s, 'analogy'))} | {fmt_num(median_of(s, 'ws353'))} "
                    f"| {fmt_num(median_of(s, 'simlex'))} |")
    for peer, r in rats.items():
        rows.append(f"| cyw2v vs {label(peer)} | | | | {fmt_ratio(r['words_per_s'])} "
                    f"| {fmt_ratio(r['peak_rss_mb'])} | {fmt_delta(r['analogy'])} | {fmt_delta(r['ws353'])} "
                    f"| {fmt_delta(r['simlex'])} |")
    for system in systems:
        cover = summaries.get(system, {}).get("coverage")
        if cover and max(abs(cover["min"] - 1), abs(cover["max"] - 1)) > COVERAGE_TOLERANCE:
            rows += ["", f"Warning: {label(system)} reported training {cover['min']:.1%}–{cover['max']:.1%} "
                         "of the corpus words × epochs; its words/s and quality are not comparable."]
    if not_run:
        rows += ["", "Not run: " + "; ".join(not_run.values()) + "."]
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
            name = config_label(config)
            for corpus in corpora:
                rates = [by_corpus.get(corpus, {}).get(str(w)) for w in workers]
                line = (f"| {name} | {mode} | {stem(corpus)} | {fmt_words(result['words'][corpus])} | "
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
                rows.append(f"| {name} | {mode} | {stem(big)} / {stem(small)} | | " + " | ".join(rr) + " |"
                            + (" |" if len(workers) > 1 else ""))
    return "\n".join(rows)


def render(args: argparse.Namespace, machine: Dict[str, Any], corpus: str, words: int, systems: Sequence[str],
           skipped: Dict[str, str], summary: Dict[str, Any], scaling: Optional[Dict[str, Any]],
           evaluator: Optional[str], started: _dt.datetime, system_notes: Sequence[str] = ()) -> str:
    """The Markdown section: settings, machine, notes, one table per configuration, scaling."""
    parts = [
        f"Corpus `{stem(corpus)}` ({words:,} words), vector_size={args.vector_size}, window={args.window}, "
        f"negative={args.negative} (0 for -HS), sample={args.sample:g}, min_count={args.min_count}, "
        f"alpha={args.alpha:g}, epochs={args.epochs}, workers={args.workers}, input mode `{args.input_mode}`, "
        f"{args.repeat} run(s) per cell" + (" (medians; words/s min–max in brackets)" if args.repeat > 1 else "")
        + "".join(f"; {s}: {min(n, args.repeat)} run(s)" for s, n in args.repeat_of.items() if n < args.repeat)
        + "." + (" cyw2v with " + ", ".join(f"{k}={v}" for k, v in args.cyw2v_args.items()) + "."
                 if args.cyw2v_args else ""),
        "",
        f"Evaluator: {EVALUATOR_LABEL if evaluator else 'none (--no-eval)'}; analogy on questions-words.txt "
        f"restricted to the {args.restrict_vocab:,} most frequent words, WS-353 and SimLex-999 as Spearman "
        f"correlations.",
        "",
        f"{machine_line(machine)}; run {started.strftime('%Y-%m-%d %H:%M UTC')}.",
    ]
    if skipped:
        parts += ["", "Skipped: " + "; ".join(f"{label(s)}: {why}" for s, why in skipped.items()) + "."]
    if system_notes:
        parts += ["", "Notes: " + "; ".join(system_notes) + "."]
    for config, entry in summary.items():
        parts += ["", config_table(config, systems, entry["systems"], entry["cyw2v_vs"], args.repeat,
                                   entry.get("not_run"))]
    if scaling:
        parts += ["", f"**Scaling** (cyw2v words/s, {scaling['epochs']} epoch(s), "
                      f"median of {scaling['repeat']} run(s), the worker counts alternating run by run; the ratio "
                      f"is the median of the per-round ratios; input `file` is `corpus_file`, the engine "
                      f"without the gzip reading and tokenising of `iterable`)", "",
                  scaling_table(scaling)]
    return "\n".join(parts) + "\n"


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


def write_results(path: str, result: Dict[str, Any]) -> None:
    """Write the full result (machine, options, summaries, every run) as JSON."""
    with open(path, "w") as fh:
        json.dump(result, fh, indent=1, default=str)
