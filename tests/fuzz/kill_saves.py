"""kill -9 during saves (issue 17): a child process saves a model over the same file again
and again and is killed with SIGKILL at a random moment, many times. After each kill the
file must load and hold one of the complete versions (0 data lost); after the next save
into the folder no temporary file may be left (0 stale temp files).

    python tests/fuzz/kill_saves.py --kills 1000      # what `make fuzz` runs
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time


def _models():
    import numpy as np
    from cyw2v import KeyedVectors, Word2Vec
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(2000)]
    corpus = [list(rng.choice(words, 50)) for _ in range(200)]
    model = Word2Vec(corpus, vector_size=64, min_count=1, workers=1, epochs=1)   # ~1.5 MB file
    kv = KeyedVectors(words, rng.random((2000, 64), dtype=np.float32))
    return model, kv


def kill_campaign(kills: int, seed: int = 0, folder: str = None) -> dict:
    """Kill ``kills`` saving children; returns how many kills lost the file, and how many of
    the checks made after every 10th kill's next save found temporary files left over."""
    from cyw2v import KeyedVectors, Word2Vec
    from cyw2v.io import FormatError
    r = random.Random(seed)
    folder = folder or tempfile.mkdtemp(prefix="cyw2v-kill-")
    model, kv = _models()
    targets = {"model": os.path.join(folder, "m.cyw2v"), "kv": os.path.join(folder, "v.kv"),
               "text": os.path.join(folder, "v.txt.gz")}
    model.save(targets["model"])
    kv.save(targets["kv"])
    kv.save_word2vec_format(targets["text"])
    names = {os.path.basename(t) for t in targets.values()}

    def temp_files() -> int:  # anything in the folder but the targets is a leftover
        return len(set(os.listdir(folder)) - names)

    t0 = time.perf_counter()
    save_s = time.perf_counter()
    model.save(targets["model"])
    save_s = time.perf_counter() - save_s
    lost = stale_after_next_save = temps_seen = 0
    for k in range(kills):
        which = r.choice(sorted(targets))
        before = temp_files()
        pid = os.fork()
        if pid == 0:  # child: save forever, until killed
            try:
                while True:
                    if which == "model":
                        model.save(targets["model"])
                    elif which == "kv":
                        kv.save(targets["kv"])
                    else:
                        kv.save_word2vec_format(targets["text"])
            finally:
                os._exit(0)
        time.sleep(r.uniform(0.0, 3 * save_s))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        temps_seen += temp_files() > before  # this kill left one
        try:
            if which == "model":
                Word2Vec.load(targets["model"], mmap="r")
            elif which == "kv":
                KeyedVectors.load(targets["kv"])
            else:
                KeyedVectors.load_word2vec_format(targets["text"])
        except (FormatError, OSError):
            lost += 1
        if k % 10 == 9 or k == kills - 1:  # the next save in the folder cleans up
            kv.save(targets["kv"])
            stale_after_next_save += temp_files() > 0  # a check that found leftovers
    return {"kills": kills, "lost": lost, "stale_after_next_save": stale_after_next_save,
            "checks_of_stale_files": -(-kills // 10), "temp_files_at_end": temp_files(),
            "kills_that_left_a_temp_file": temps_seen, "seconds": round(time.perf_counter() - t0, 1),
            "one_save_s": round(save_s, 4), "folder": folder}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=int(os.environ.get("KILL_SAVES", 1000)))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    summary = kill_campaign(args.kills, args.seed)
    failed = bool(summary["lost"] or summary["stale_after_next_save"])
    if not failed:  # the folder is kept only to look into a failure
        shutil.rmtree(summary.pop("folder"), ignore_errors=True)
    print(json.dumps(summary, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
