"""The machine a benchmark ran on, and the resource measures of training processes."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from typing import Any, Dict

from .common import REPO


def _ru_maxrss_mb(who: int) -> float:
    """ru_maxrss of ``who`` (a resource.RUSAGE_* constant) in MB (bytes on macOS, KB elsewhere)."""
    import resource
    rss = resource.getrusage(who).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


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
    return _ru_maxrss_mb(resource.RUSAGE_SELF)


def peak_rss_children_mb() -> float:
    """Peak RSS in MB of the largest waited-for child process (ru_maxrss of RUSAGE_CHILDREN)."""
    import resource
    return _ru_maxrss_mb(resource.RUSAGE_CHILDREN)


def cpu_seconds(who: str) -> float:
    """User + system CPU seconds of this process ('self') or of its waited-for children ('children')."""
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


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
