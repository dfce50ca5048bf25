"""End-to-end tests of the ``cyw2v`` command line, run in subprocesses (``python -m cyw2v``)."""
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import cyw2v
from cyw2v import KeyedVectors, datasets

TIMEOUT = 300


def run(*args, stdin=None, env=None, timeout=TIMEOUT):
    return subprocess.run([sys.executable, "-m", "cyw2v", *map(str, args)], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=env)


def assert_one_line_error(proc, code, *fragments):
    """Exit ``code``, no traceback, and stderr is one line (code 1) or usage + one line (code 2)."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    if code == 2:
        assert len(lines) == 2 and lines[0].startswith("usage: "), proc.stderr
    else:
        assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, proc.stderr)


def neighbour_lines(text):
    rows = [line.split() for line in text.strip().splitlines()]
    assert rows and all(len(r) == 2 for r in rows), text
    return [(w, float(s)) for w, s in rows]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Vectors (text) and a native model from 1 epoch on the packaged 1.7M-word corpus."""
    out = tmp_path_factory.mktemp("cli")
    vec, model = out / "vectors.txt", out / "model.cyw2v"
    proc = run("train", datasets.demo_corpus_path(), "-o", vec, "--save-model", model, "--sg", "--dim", 50,
               "--epochs", 1, "--workers", 2)
    assert proc.returncode == 0, proc.stderr
    assert "words/s" in proc.stdout
    assert " INFO " in proc.stderr  # not a terminal: periodic log lines instead of a bar
    assert vec.exists() and model.exists()
    assert sorted(p.name for p in out.iterdir()) == ["model.cyw2v", "vectors.txt"]  # no temp files left
    return {"dir": out, "vec": vec, "model": model}


def test_train_writes_word2vec_text(trained):
    with open(trained["vec"]) as fh:
        count, dim = map(int, fh.readline().split())
        first = fh.readline().split()
    assert dim == 50 and count > 10000 and len(first) == 51
    kv = KeyedVectors.load_word2vec_format(str(trained["vec"]))
    assert kv.vectors.shape == (count, 50) and "king" in kv


def test_similar(trained):
    proc = run("similar", trained["vec"], "king", "--topn", 5)
    assert proc.returncode == 0, proc.stderr
    rows = neighbour_lines(proc.stdout)
    assert len(rows) == 5 and "king" not in [w for w, _ in rows]
    assert all(-1.0 <= s <= 1.0 for _, s in rows) and [s for _, s in rows] == sorted((s for _, s in rows), reverse=True)


def test_similar_on_native_model_file(trained):
    proc = run("similar", trained["model"], "france", "--topn", 3)
    assert proc.returncode == 0, proc.stderr
    assert len(neighbour_lines(proc.stdout)) == 3


def test_analogy(trained):
    proc = run("analogy", trained["vec"], "man", "king", "woman", "--topn", 3)
    assert proc.returncode == 0, proc.stderr
    words = [w for w, _ in neighbour_lines(proc.stdout)]
    assert len(words) == 3 and not {"man", "king", "woman"} & set(words)
    kv = KeyedVectors.load_word2vec_format(str(trained["vec"]))
    assert words == [w for w, _ in kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)]


def test_interactive_similar_and_analogy(trained):
    proc = run("similar", trained["vec"], "--topn", 2, stdin="king\nnosuchwordqq\nparis\n\nfrance\n")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 5 and "not in vocabulary" in lines[2]  # stops at the empty line
    assert proc.stderr.count("Enter word") == 4
    proc = run("analogy", trained["vec"], "--topn", 1, stdin="man king woman\nman king\n")  # ends at EOF
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and "three words" in lines[1]


def test_eval_table(trained):
    proc = run("eval", trained["vec"])
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "questions-words.txt" in text and "wordsim353" in text and "simlex999" in text
    score = float(re.search(r"analogy: questions-words.txt\s+([0-9.]+)", text).group(1))
    assert 0.0 <= score <= 1.0
    proc = run("eval", trained["vec"], "--no-analogies", "--pairs", datasets.wordsim353_path(),
               "--restrict-vocab", 1000)
    assert proc.returncode == 0 and "analogy" not in proc.stdout and "wordsim353" in proc.stdout


def test_convert_round_trip(trained, tmp_path):
    src = KeyedVectors.load_word2vec_format(str(trained["vec"]))
    binary, native, text, sniffed = (tmp_path / n for n in ("v.bin", "v.cyw2v", "v.vec", "v.dat"))
    for a, b in ((trained["vec"], binary), (binary, native), (native, text)):
        proc = run("convert", a, b)
        assert proc.returncode == 0, proc.stderr
    back = KeyedVectors.load_word2vec_format(str(text))
    assert back.index_to_key == src.index_to_key
    np.testing.assert_allclose(back.vectors, src.vectors, atol=1e-5)
    assert KeyedVectors.load_word2vec_format(str(binary), binary=True).index_to_key == src.index_to_key
    # an unknown suffix: the output format must be named, the input format is detected
    assert_one_line_error(run("convert", binary, sniffed), 1, "--to")
    assert run("convert", binary, sniffed, "--to", "binary").returncode == 0
    proc = run("similar", sniffed, "king", "--topn", 1)
    assert proc.returncode == 0 and len(neighbour_lines(proc.stdout)) == 1
    assert run("convert", sniffed, tmp_path / "limited.txt", "--limit", 7).returncode == 0
    assert (tmp_path / "limited.txt").read_text().split("\n", 1)[0] == "7 50"


def test_demo_one_epoch():
    proc = run("demo", "--epochs", 1, "--workers", 2)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "words/s" in out and "nearest to 'king'" in out and "nearest to 'france'" in out
    assert "man : king :: woman : ?" in out and "france : paris :: germany : ?" in out
    assert "questions-words.txt" in out and "simlex999" in out


def test_plot_png(trained, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "map.png"
    proc = run("plot", trained["vec"], "king", "france", "-o", png, "--neighbours", 4)
    assert proc.returncode == 0, proc.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image
    image = matplotlib.image.imread(str(png))
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert_one_line_error(run("plot", trained["vec"], "nosuchwordqq", "-o", tmp_path / "x.png"), 1,
                          "nosuchwordqq")
    assert not (tmp_path / "x.png").exists()


def test_plot_tsne(trained, tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    png = tmp_path / "tsne.png"
    proc = run("plot", trained["vec"], "king", "-o", png, "--neighbours", 6, "--method", "tsne")
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_plot_without_matplotlib_is_one_line(trained, tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from cyw2v.cli import main; "
            f"sys.exit(main(['plot', {str(trained['vec'])!r}, 'king', '-o', {str(tmp_path / 'x.png')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert_one_line_error(proc, 1, "matplotlib", "cyw2v[plot]")


# ------------------------------------------------------------------------------- bad use
@pytest.mark.parametrize("command", ["", "train", "similar", "analogy", "eval", "convert", "demo", "plot"])
def test_help_everywhere(command):
    proc = run(*([command] if command else []), "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: cyw2v"), proc.stderr


def test_train_help_shows_each_parameters_default():
    from cyw2v.params import BY_NAME
    text = " ".join(run("train", "--help").stdout.split())
    assert "Parameter.empty" not in text
    for name in ("vector_size", "alpha", "window", "min_alpha"):
        default = BY_NAME[name].default
        assert f"(default {'none' if default is None else default})" in text, name
    assert "(default the cores this process may run on)" in text


@pytest.mark.parametrize("args", [
    ["nosuchcommand"], [], ["train"], ["train", "corpus.txt", "--dim", "many"], ["train", "c.txt", "--dim", "0"],
    ["similar"], ["convert", "a.txt"], ["plot", "v.txt", "king"], ["eval", "v.txt", "--restrict-vocab", "-3"],
    ["plot", "v.txt", "king", "-o", "x.png", "--method", "umap"], ["train", "c.txt", "--bogus-flag"],
])
def test_bad_arguments_exit_2(args):
    assert_one_line_error(run(*args), 2)


def test_analogy_needs_three_words(trained):
    assert_one_line_error(run("analogy", trained["vec"], "man", "king"), 2, "three words")


def test_missing_and_bad_files_exit_1(trained, tmp_path):
    missing = tmp_path / "missing.txt"
    for args in (["similar", missing, "king"], ["analogy", missing, "a", "b", "c"], ["eval", missing],
                 ["convert", missing, tmp_path / "o.txt"], ["train", missing, "-o", tmp_path / "o.txt"]):
        assert_one_line_error(run(*args), 1, str(missing))
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("3 4\nfoo 1 2\nbar\n")
    assert_one_line_error(run("similar", garbage, "foo"), 1, str(garbage))
    junk = tmp_path / "junk.cyw2v"
    junk.write_bytes(b"\x00\x01not a cyw2v file" * 10)
    assert_one_line_error(run("similar", junk, "foo"), 1, str(junk))
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert_one_line_error(run("similar", empty, "foo"), 1, str(empty))
    assert_one_line_error(run("similar", tmp_path, "foo"), 1, str(tmp_path))
    assert_one_line_error(run("eval", trained["vec"], "--pairs", missing), 1, str(missing))
    assert_one_line_error(run("eval", trained["vec"], "--analogies", garbage, "--pairs"), 1, str(garbage))


def test_unknown_word_and_bad_values_exit_1(trained, tmp_path):
    assert_one_line_error(run("similar", trained["vec"], "nosuchwordqq"), 1, "nosuchwordqq")
    assert_one_line_error(run("analogy", trained["vec"], "man", "king", "nosuchwordqq"), 1, "nosuchwordqq")
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c d e f\n" * 50)
    assert_one_line_error(run("train", corpus), 1, "-o")
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "no" / "dir" / "v.txt"), 1, "does not exist")
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "v.txt", "--negative", 0), 1, "negative")
    assert_one_line_error(run("train", corpus, "-o", tmp_path / "v.txt", "--min-count", 1000), 1, "min_count")
    assert not (tmp_path / "v.txt").exists()


# ----------------------------------------------------------------------- interrupt, tty
@pytest.mark.parametrize("compressed", [True, False], ids=["gz-LineSentence", "plain-corpus_file"])
def test_ctrl_c_during_training_exits_130_and_leaves_no_output(tmp_path, compressed):
    corpus = datasets.demo_corpus_path()
    if not compressed:
        import gzip
        plain = tmp_path.parent / f"{tmp_path.name}-corpus.txt"
        with gzip.open(corpus, "rb") as src:
            plain.write_bytes(src.read())
        corpus = str(plain)
    out = tmp_path / "vectors.bin"
    proc = subprocess.Popen([sys.executable, "-m", "cyw2v", "train", corpus, "-o", str(out),
                             "--save-model", str(tmp_path / "m.cyw2v"), "--epochs", "100", "--dim", "20",
                             "--workers", "2", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a suite started in the background (cmd &) inherits SIGINT ignored, and
                            # Python then installs no KeyboardInterrupt handler: restore the default
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(2.0)
    assert proc.poll() is None, "training finished before the interrupt"
    proc.send_signal(signal.SIGINT)
    t0 = time.perf_counter()
    stdout, stderr = proc.communicate(timeout=60)
    assert time.perf_counter() - t0 < 20, "workers did not stop promptly"
    assert proc.returncode == 130, stderr
    assert stderr.strip() == "cyw2v train: interrupted"
    assert list(tmp_path.iterdir()) == []


def _run_on_tty(args, timeout=120):
    """Run the CLI with stderr on a pseudo-terminal; returns (exit code, terminal text)."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    # a fresh pseudo-terminal is 0 columns wide, and tqdm draws nothing in 0 columns
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "cyw2v", *map(str, args)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, close_fds=True)
    os.close(slave)
    chunks = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=timeout), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_progress_bar_on_a_terminal(tmp_path):
    pytest.importorskip("tqdm")
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(300)])
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(words[rng.integers(0, 300, 100)]) for _ in range(3000)) + "\n")
    code, text = _run_on_tty(["train", corpus, "-o", tmp_path / "v.txt", "--dim", 10, "--epochs", 2,
                              "--workers", 1, "--min-count", 1])
    assert code == 0, text
    assert re.search(r"[0-9.]+[kMG]?word/s", text), text  # rate
    assert re.search(r"\d\d:\d\d<\d\d:\d\d", text), text  # elapsed<ETA
    assert " INFO " not in text and "Traceback" not in text


def test_main_returns_exit_codes_in_process(capsys):
    from cyw2v.cli import main
    assert main(["--version"]) == 0
    assert cyw2v.__version__ in capsys.readouterr().out
    assert main(["similar", "/nonexistent/vectors.txt", "king"]) == 1
    assert "/nonexistent/vectors.txt" in capsys.readouterr().err
    assert main(["train", "--dim", "x"]) == 2
