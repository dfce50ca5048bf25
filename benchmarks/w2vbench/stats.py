"""Summaries of repeated runs: medians, min and max, cyw2v-vs-peer ratios, paired ratios."""
from __future__ import annotations

import statistics
from typing import Any, Dict, List, Optional

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


def median_of(summary: Dict[str, Any], metric: str) -> Optional[float]:
    """The median of ``metric`` in a summary; None when no run measured it."""
    m = summary.get(metric)
    return None if m is None else m["median"]


def ratios(ours: Dict[str, Any], peer: Dict[str, Any]) -> Dict[str, Optional[float]]:
    """cyw2v relative to a peer: words/s and RSS ratios, quality differences (medians)."""
    def div(metric: str) -> Optional[float]:
        a, b = median_of(ours, metric), median_of(peer, metric)
        return a / b if a is not None and b else None

    def sub(metric: str) -> Optional[float]:
        a, b = median_of(ours, metric), median_of(peer, metric)
        return a - b if a is not None and b is not None else None

    return {"words_per_s": div("words_per_s"), "peak_rss_mb": div("peak_rss_mb"), "train_s": div("train_s"),
            "analogy": sub("analogy"), "ws353": sub("ws353"), "simlex": sub("simlex")}


def paired_ratio(runs: List[Dict[str, Any]], base: List[Dict[str, Any]]) -> Optional[float]:
    """Median over rounds of words/s of ``runs[i]`` / ``base[i]`` (rounds where both ran)."""
    per_round = [a["words_per_s"] / b["words_per_s"] for a, b in zip(runs, base)
                 if a.get("ok") and b.get("ok") and a.get("words_per_s") and b.get("words_per_s")]
    return statistics.median(per_round) if per_round else None
