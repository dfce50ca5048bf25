"""The benchmark harness (benchmarks/run.py and its package benchmarks/w2vbench): its helpers, the
system adapters, and a smoke run that writes the tables."""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_PY = os.path.join(REPO, "benchmarks", "run.py")
HAVE_GENSIM = importlib.util.find_spec("gensim") is not None


def load_harness() -> ModuleType:
    """benchmarks/run.py imported as a module (benchmarks/ is not a package); importing it puts
    benchmarks/ on sys.path, so that its package w2vbench imports too."""
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_word2vec_binary(path: str, words, vectors) -> None:
    """The library's word2vec binary writer (the harness no longer has its own)."""
    import cyw2v
    cyw2v.KeyedVectors(list(words), vectors).save_word2vec_format(path, binary=True)


def _read_word2vec_binary(path: str):
    """(words, vectors) by the library's word2vec binary reader, which the harness's evaluation uses."""
    from w2vbench.evaluation import load_vectors
    kv = load_vectors(path)
    return kv.index_to_key, kv.vectors


harness = load_harness()
from w2vbench import corpora, report, runner, stats, systems  # noqa: E402 - importable once loaded
from w2vbench.systems.pword2vec import PWord2VecSystem  # noqa: E402

#: The helpers the tests below use, under the names they had in the one-file harness.
bench = SimpleNamespace(
    write_word2vec_binary=_write_word2vec_binary, read_word2vec_binary=_read_word2vec_binary,
    count_words=corpora.count_words, detect_reader=corpora.detect_reader, write_plain=corpora.write_plain,
    MARK_START=report.MARK_START, MARK_END=report.MARK_END, update_markdown=report.update_markdown,
    _paired_ratio=stats.paired_ratio, run_seed=runner.run_seed)


def test_word2vec_binary_round_trip(tmp_path):
    words = ["the", "naïve", "x"]
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    path = str(tmp_path / "v.bin")
    bench.write_word2vec_binary(path, words, vectors)
    got_words, got = bench.read_word2vec_binary(path)
    assert got_words == words
    np.testing.assert_array_equal(got, vectors)


def test_count_words_and_reader(tmp_path):
    one_line = tmp_path / "a.txt"
    one_line.write_text("a b  c\td " * 1000)
    lines = tmp_path / "b.txt"
    lines.write_text("a b\nc\n\nd e f\n")
    assert bench.count_words(str(one_line)) == 4000
    assert bench.count_words(str(lines)) == 6
    assert bench.detect_reader(str(one_line)) == "text8"
    assert bench.detect_reader(str(lines)) == "line"


@pytest.mark.parametrize("chunk_bytes", [3, 7, 1 << 20])
def test_write_plain_keeps_tokens_and_caps_lines(tmp_path, chunk_bytes):
    src = tmp_path / "src.txt"
    text = "alpha be c  " * 25 + "\n\n" + "x yy\tzzz\n" + "w " * 7 + "tail"
    src.write_text(text)
    dest = str(tmp_path / "plain.txt")
    bench.write_plain(str(src), dest, max_words=10, chunk_bytes=chunk_bytes)
    lines = open(dest).read().split("\n")
    assert lines[-1] == ""  # every line ends with a newline
    assert all(0 < len(line.split()) <= 10 for line in lines[:-1])
    assert " ".join(lines).split() == text.split()
    assert lines[7] == "be c alpha be c" and lines[8] == "x yy zzz"  # 75 words = 7 full lines + 5; breaks kept


def test_update_markdown_keeps_prose(tmp_path):
    path = str(tmp_path / "B.md")
    with open(path, "w") as fh:
        fh.write(f"# Title\n\nprose\n\n{bench.MARK_START}\nold table\n{bench.MARK_END}\n\n## Profile\ntext\n")
    bench.update_markdown(path, "new table\n")
    text = open(path).read()
    assert "old table" not in text and "new table" in text
    assert text.startswith("# Title\n\nprose\n") and text.endswith("## Profile\ntext\n")
    fresh = str(tmp_path / "C.md")
    bench.update_markdown(fresh, "only table")
    assert open(fresh).read() == f"{bench.MARK_START}\nonly table\n{bench.MARK_END}\n"


def test_missing_corpus_exits_with_message(tmp_path):
    env = dict(os.environ, CYW2V_SHARED_DATA=str(tmp_path))
    proc = subprocess.run([sys.executable, RUN_PY, "--corpus", str(tmp_path / "nope.gz"), "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert "corpus not found" in proc.stderr and "bench-quick" in proc.stderr


def test_paired_ratio_is_the_median_of_round_ratios():
    def runs(*rates):
        return [{"ok": r is not None, "words_per_s": r} for r in rates]
    # medians of each side would give 300/100 = 3; the rounds say 2, 2 and 4
    assert bench._paired_ratio(runs(200, 300, 400), runs(100, 150, 100)) == 2.0
    assert bench._paired_ratio(runs(200, None, 400), runs(100, 150, 100)) == 3.0
    assert bench._paired_ratio(runs(None), runs(100)) is None


@pytest.mark.slow
def test_repeats_get_consecutive_seeds_unless_same_seed():
    assert [bench.run_seed(1, rep, False) for rep in range(3)] == [1, 2, 3]
    assert [bench.run_seed(7, rep, True) for rep in range(3)] == [7, 7, 7]


def test_registry_lists_the_four_systems():
    assert systems.SYSTEMS == ("cyw2v", "gensim", "word2vec-c", "pword2vec")
    assert [systems.create(name).name for name in systems.SYSTEMS] == list(systems.SYSTEMS)
    assert harness.main is not None  # the entry point still exposes the CLI


def test_pword2vec_command_line_and_configs():
    adapter = PWord2VecSystem()
    params = {"vector_size": 50, "window": 7, "negative": 6, "sample": 1e-4, "min_count": 3, "alpha": 0.03,
              "seed": 1, "workers": 2, "epochs": 4, "sg": 1, "hs": 0}
    cmd = adapter.command("/bin/pw", params, "/tmp/c.txt", "/tmp/v.bin")
    assert cmd[0] == "/bin/pw"
    options = dict(zip(cmd[1::2], cmd[2::2]))
    assert options == {"-train": "/tmp/c.txt", "-output": "/tmp/v.bin", "-size": "50", "-window": "7",
                       "-negative": "6", "-sample": "0.0001", "-threads": "2", "-binary": "1", "-iter": "4",
                       "-min-count": "3", "-alpha": "0.03", "-batch-size": "15", "-debug": "2"}
    assert adapter.supports("sg-ns") and not any(adapter.supports(c) for c in ("cbow-ns", "sg-hs", "cbow-hs"))
    assert "SG-NS only" in adapter.unsupported_note()
    with pytest.raises(Exception, match="skip-gram with negative sampling"):
        adapter.command("/bin/pw", dict(params, sg=0), "/tmp/c.txt", "/tmp/v.bin")


def test_pword2vec_missing_binary_is_a_reason_to_skip(tmp_path):
    adapter = PWord2VecSystem()
    binary, why = adapter.resolve_binary(str(tmp_path / "nope"))
    assert binary is None and "not an executable" in why
    assert adapter.resolve_binary("")[0] is None
    script = tmp_path / "pWord2Vec"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert adapter.resolve_binary(str(script)) == (str(script), "given")


def test_smoke_run_writes_tables(tmp_path):
    """1 epoch on the packaged 1.7M-word corpus, vector_size 50: cyw2v (+ gensim when installed)."""
    systems = ["cyw2v"] + (["gensim"] if HAVE_GENSIM else [])
    md = tmp_path / "BENCH.md"
    md.write_text(f"prose before\n{bench.MARK_START}\nplaceholder\n{bench.MARK_END}\nprose after\n")
    out = tmp_path / "out"
    cmd = [sys.executable, RUN_PY, "--corpus", "demo", "--configs", "cbow-ns,sg-ns", "--systems", ",".join(systems),
           "--word2vec-c", "", "--vector-size", "50", "--epochs", "1", "--repeat", "1", "--workers", "2",
           "--restrict-vocab", "2000", "--out", str(out), "--markdown", str(md),
           "--scaling", "--scaling-configs", "cbow-ns", "--scaling-workers", "1,2",
           "--scaling-input-modes", "file,iterable"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.startswith("machine: ")

    text = md.read_text()
    assert text.startswith("prose before\n") and text.endswith("prose after\n")
    assert "placeholder" not in text
    header = "| system | total s | vocab s | train s | words/s | peak RSS MB | analogy | WS-353 | SimLex |"
    assert text.count(header) == 2
    for label in ("**CBOW-NS**", "**SG-NS**", "**Scaling**", "| cyw2v |", "| CBOW-NS | file | enwiki-text8like-1e7 |",
                  "| CBOW-NS | iterable | enwiki-text8like-1e7 |"):
        assert label in text, label
    if HAVE_GENSIM:
        assert "| gensim |" in text and "| cyw2v vs gensim |" in text

    result = json.loads((out / "results.json").read_text())
    assert result["corpus"]["words"] == 1_690_877
    assert result["machine"]["cpu"] and result["machine"]["numpy"]
    assert result["evaluator"] in ("cyw2v", "gensim")
    for config in ("cbow-ns", "sg-ns"):
        entry = result["summary"][config]
        assert entry["params"]["vector_size"] == 50 and entry["params"]["epochs"] == 1
        for system in systems:
            s = entry["systems"][system]
            assert s["n"] == 1 and s["failed"] == 0
            for metric in ("total_s", "vocab_s", "train_s", "words_per_s", "peak_rss_mb"):
                assert s[metric]["median"] > 0, (config, system, metric)
            assert 0.0 <= s["analogy"]["median"] <= 1.0
            for metric in ("ws353", "simlex"):
                assert -1.0 <= s[metric]["median"] <= 1.0
        if HAVE_GENSIM:
            assert math.isfinite(entry["cyw2v_vs"]["gensim"]["words_per_s"])
    runs = result["runs"]
    assert all(r["ok"] and r["corpus_words"] == 1_690_877 for r in runs)
    assert {r["system"] for r in runs} == set(systems)
    assert all(r["seed"] == 1 + r["repeat"] for r in runs)
    assert result["scaling"]["modes"] == ["file", "iterable"]
    for mode in ("file", "iterable"):
        (corpus_rates,) = result["scaling"]["rates"][mode]["cbow-ns"].values()
        assert set(corpus_rates) == {"1", "2"} and all(v > 0 for v in corpus_rates.values())
        (ratio,) = result["scaling"]["paired"][mode]["cbow-ns"].values()
        assert ratio > 0
