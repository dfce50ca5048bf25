"""Issue 17, corpora and the command line: linear bounded reading, damaged corpora as clean
errors, NUL bytes refused before training, never a traceback, never a blocked read."""
import gzip
import os
import subprocess
import sys
import time

import pytest

from cyw2v import LineSentence, Text8Corpus, Word2Vec
from cyw2v._files import MAX_TOKEN_BYTES
from cyw2v.cli import main
from cyw2v.io import FormatError


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "cyw2v", *args], capture_output=True, text=True,
                          timeout=timeout)


# ------------------------------------------------------------------ item 8: linear, bounded
def test_a_long_run_without_whitespace_reads_in_linear_time(tmp_path):
    path = tmp_path / "one-token.txt"
    path.write_bytes(b"x" * (40 << 20))
    t0 = time.perf_counter()
    pieces = list(LineSentence(str(path)))
    assert time.perf_counter() - t0 < 3.0   # was 3.7 s (quadratic), ~0.1 s now
    assert sum(len(t) for s in pieces for t in s) == 40 << 20
    assert max(len(t) for s in pieces for t in s) == MAX_TOKEN_BYTES


def test_dev_zero_is_read_with_a_bounded_buffer():
    code = ("import resource, itertools; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
            "from cyw2v import LineSentence, Text8Corpus\n"
            "for cls in (LineSentence, Text8Corpus):\n"
            "    it = iter(cls('/dev/zero'))\n"
            "    print(sum(len(next(it)) for _ in range(3)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]


def test_long_token_is_cut_at_a_character_boundary(tmp_path):
    path = tmp_path / "utf8.txt"
    path.write_bytes("é".encode() * MAX_TOKEN_BYTES)
    tokens = [t for s in LineSentence(str(path)) for t in s]
    assert "".join(tokens) == "é" * MAX_TOKEN_BYTES and "\ufffd" not in "".join(tokens)


def test_many_short_tokens_on_one_line_split_as_before(tmp_path):
    path = tmp_path / "line.txt"
    path.write_text("a " * 25_001 + "\nb c\n")
    assert [len(s) for s in LineSentence(str(path))] == [10_000, 10_000, 5_001, 2]
    assert [len(s) for s in Text8Corpus(str(path))] == [10_000, 10_000, 5_003]


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_gz_corpus_is_a_format_error(tmp_path, damage):
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"the cat sat on the mat\n" * 5000)
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2] if damage == "truncate" else raw[:20] + b"\xff" * 200 + raw[220:])
    with pytest.raises(FormatError, match="c.txt.gz"):
        Word2Vec(LineSentence(str(path)), min_count=1, workers=1, epochs=1)


def test_corpus_file_errors_name_the_kind_of_path(tmp_path):
    with pytest.raises(IsADirectoryError, match="folder"):
        Word2Vec(corpus_file=str(tmp_path))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="regular file"):
        Word2Vec(corpus_file=str(fifo))
    with pytest.raises(IsADirectoryError, match="folder"):
        list(LineSentence(str(tmp_path)))


# ------------------------------------------------------------------ item 6: the CLI
def test_nul_bytes_in_a_corpus_are_refused_before_training(tmp_path):
    corpus = tmp_path / "nul.txt"
    corpus.write_bytes(b"the cat sat\nthe d\0g sat\n" * 50)
    out, model = tmp_path / "v.txt", tmp_path / "m.cyw2v"
    t0 = time.perf_counter()
    r = run_cli("train", str(corpus), "-o", str(out), "--save-model", str(model), "--min-count", "1",
                "--epochs", "200", "-q")
    assert r.returncode == 1 and "nothing was trained" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() and not model.exists()
    # a native output holds any key
    r = run_cli("train", str(corpus), "-o", str(tmp_path / "v.cyw2v"), "--min-count", "1", "-q")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_fifo_or_folder_as_corpus_is_a_clear_error_and_never_blocks(tmp_path, kind):
    path = tmp_path / kind
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    r = run_cli("train", str(path), "-o", str(tmp_path / "v.txt"), "-q", timeout=30)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert ("not a regular file" if kind == "fifo" else "folder") in r.stderr
    r = run_cli("similar", str(path), "a", "--format", "text", timeout=30)
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_truncated_gz_corpus_is_one_line(tmp_path):
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"the cat sat on the mat\n" * 5000)
    path.write_bytes(path.read_bytes()[:-40])
    r = run_cli("train", str(path), "-o", str(tmp_path / "v.txt"), "--min-count", "1", "-q")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "c.txt.gz" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [b"PK\x03\x04" + b"\0" * 100, b"PK\x05\x06" + b"\0" * 18,
                                     b"3 2\na \x00\x00", b"\x1f\x8b\x08\x00garbage"])
def test_damaged_vector_files_give_one_line(tmp_path, content):
    path = tmp_path / "v.model"
    path.write_bytes(content)
    for cmd in (["similar", str(path), "a"], ["convert", str(path), str(tmp_path / "o.txt")]):
        assert main(cmd) == 1


def test_unexpected_errors_are_one_line(monkeypatch, capsys):
    import cyw2v.cli as cli

    def boom(args):
        raise LookupError("a bug")
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["demo"].set_defaults(func=boom)
    assert main(["demo"]) == 1
    assert capsys.readouterr().err == "cyw2v demo: error: LookupError: a bug\n"


BAD_COMMAND_LINES = [
    ["train", "{missing}", "-o", "{tmp}/v.txt"],
    ["train", "{corpus}", "-o", "{tmp}/v.txt", "--workers", "100000"],
    ["train", "{corpus}", "-o", "{tmp}/v.txt", "--dim", "0"],
    ["train", "{corpus}", "-o", "{tmp}/v.txt", "--alpha", "1e30"],
    ["train", "{corpus}", "-o", "{tmp}/v.txt", "--alpha", "nan"],
    ["train", "{corpus}", "-o", "{tmp}/v.txt", "--negative", "-1"],
    ["train", "{corpus}", "-o", "{tmp}/v.txt", "--min-count", "1000"],
    ["train", "{corpus}", "-o", "{tmp}/no/such/folder/v.txt"],
    ["train", "{empty}", "-o", "{tmp}/v.txt"],
    ["train", "{corpus}"],
    ["similar", "{corpus}", "a"],
    ["similar", "{empty}", "a"],
    ["similar", "{tmp}", "a"],
    ["analogy", "{vectors}", "a", "b"],
    ["analogy", "{vectors}", "x", "y", "z"],
    ["convert", "{vectors}", "{tmp}/o.unknown"],
    ["convert", "{corpus}", "{tmp}/o.txt", "--from", "binary"],
    ["convert", "{corpus}", "{tmp}/o.txt", "--from", "native"],
    ["eval", "{vectors}", "--analogies", "{corpus}"],
    ["eval", "{vectors}", "--pairs", "{missing}"],
    ["plot", "{vectors}", "zzz", "-o", "{tmp}/p.png"],
    ["similar", "{vectors}", "a", "--limit", "-3"],
    ["nonsense"],
]


@pytest.mark.parametrize("argv", BAD_COMMAND_LINES, ids=lambda a: " ".join(a)[:40])
def test_bad_command_lines_exit_1_or_2_without_a_traceback(tmp_path, capsys, argv):
    from cyw2v import KeyedVectors
    import numpy as np
    corpus, empty, vectors = tmp_path / "c.txt", tmp_path / "e.txt", tmp_path / "v.txt"
    corpus.write_text("a b c d e f\n" * 10)
    empty.write_text("")
    KeyedVectors(["a", "b", "c"], np.eye(3, dtype=np.float32)).save_word2vec_format(str(vectors))
    args = [a.format(tmp=tmp_path, corpus=corpus, empty=empty, vectors=vectors, missing=tmp_path / "nope")
            for a in argv]
    code = main(args + (["-q"] if args[0] == "train" else []))
    err = capsys.readouterr().err
    assert code in (1, 2), (code, err)
    assert "Traceback" not in err and 1 <= len(err.strip().splitlines()) <= 2, err
