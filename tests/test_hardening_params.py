"""Issue 17, parameters and training: limits in the one table, refusals at the door, and
divergence stopped with an error (never NaN vectors in silence)."""
import os

import numpy as np
import pytest

from cyw2v import KeyedVectors, Word2Vec
from cyw2v.io import FormatError
from cyw2v.params import BY_NAME, PARAMETERS, Integer, OrNone, Real
from cyw2v.training import DivergedError

WORDS = [f"w{i}" for i in range(20)]
CORPUS = [list(np.random.default_rng(0).choice(WORDS, 30)) for _ in range(100)]


def small(**kw):
    return dict(dict(vector_size=8, min_count=1, workers=1, epochs=1), **kw)


def test_every_numeric_parameter_has_both_bounds():
    for p in PARAMETERS:
        c = p.constraint.inner if isinstance(p.constraint, OrNone) else p.constraint
        if isinstance(c, Integer):
            assert c.high is not None, p.name
        if isinstance(c, Real):
            assert np.isfinite(c.high) and np.isfinite(c.low), p.name


@pytest.mark.parametrize("bad", [dict(window=2 ** 31 - 1), dict(window=10 ** 9), dict(seed=2 ** 64),
                                 dict(negative=2 ** 31), dict(batch_words=2 ** 31), dict(workers=2 ** 31),
                                 dict(vector_size=2 ** 31), dict(alpha=1e30), dict(min_alpha=2.0),
                                 dict(epochs=2 ** 40), dict(max_final_vocab=2 ** 31), dict(sample=5.0),
                                 dict(ns_exponent=1e300), dict(window=100_000, vector_size=60_000)])
def test_out_of_range_parameters_fail_at_construction(bad):
    with pytest.raises(ValueError):
        Word2Vec(**bad)


def test_limits_allow_the_largest_documented_values():
    Word2Vec(seed=2 ** 64 - 1, workers=1024, alpha=1.0)
    Word2Vec(negative=1000, window=100, workers=1)
    Word2Vec(window=100_000, workers=1)


def test_a_model_file_with_an_absurd_window_fails_to_load(tmp_path):
    """The file's parameters go through the same table: FormatError, not a crash in train()."""
    import json
    import zipfile
    model = Word2Vec(CORPUS, **small())
    good = tmp_path / "m.cyw2v"
    model.save(str(good))
    bad = tmp_path / "bad.cyw2v"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "meta.json":
                doc = json.loads(data)
                doc["meta"]["params"]["window"] = 2147483647
                data = json.dumps(doc).encode()
            zout.writestr(info, data)
    with pytest.raises(FormatError, match="window"):
        Word2Vec.load(str(bad))


@pytest.mark.parametrize("kw", [dict(total_words=-1), dict(total_examples=-5), dict(total_words=1.5),
                                dict(start_alpha=1e30), dict(end_alpha=-1.0)])
def test_nonsense_train_arguments_are_refused(kw):
    model = Word2Vec(CORPUS, **small())
    with pytest.raises(ValueError):
        model.train(CORPUS, **{"total_examples": len(CORPUS), **kw})


def test_negative_far_beyond_the_vocabulary_is_refused_at_build_time():
    model = Word2Vec(**small(negative=1000, sg=1))
    with pytest.raises(ValueError, match=r"10x the vocabulary of \d+ words"):
        model.build_vocab(CORPUS)


def test_negative_larger_than_a_tiny_vocabulary_still_trains():
    m = Word2Vec([["a", "b", "c"]] * 20, **small(negative=5))
    assert np.isfinite(m.wv.vectors).all()


def test_divergence_stops_with_an_error_naming_the_cause():
    model = Word2Vec(**small(alpha=1.0, sg=1, epochs=3))
    model.build_vocab(CORPUS)
    with pytest.raises(DivergedError, match="alpha=1"):
        model.train(CORPUS, total_examples=len(CORPUS), epochs=3)
    assert isinstance(DivergedError("x"), RuntimeError)


def test_divergence_check_sees_nan_written_into_the_weights():
    from cyw2v.training import Schedule, Stats, check_finite
    model = Word2Vec(CORPUS, **small())
    trainer = model._trainer(False)
    check_finite(trainer, Stats(), 1, Schedule(0.025, 0.0001, 1))   # finite: nothing raised
    trainer.weights.syn1neg[3, 2] = np.inf
    with pytest.raises(DivergedError, match="syn1neg"):
        check_finite(trainer, Stats(), 1, Schedule(0.025, 0.0001, 1))


@pytest.mark.parametrize("token", [None, 7, b"bytes", 1.5])
def test_tokens_must_be_str(token):
    with pytest.raises(TypeError, match="tokens must be str"):
        Word2Vec([["a", token, "b"]] * 5, **small())


@pytest.mark.parametrize("key", [None, 3, b"a"])
def test_keyedvectors_keys_must_be_str(key):
    with pytest.raises(TypeError):
        KeyedVectors(["a", key], np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, bool, np.complex64])
def test_keyedvectors_refuse_non_float_vectors(dtype):
    with pytest.raises(TypeError, match="float"):
        KeyedVectors(["a", "b"], np.zeros((2, 3), dtype))


def test_cli_refuses_out_of_range_parameters_in_one_line(tmp_path):
    from cyw2v.cli import main
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c d\n" * 20)
    for flag, value in (("--seed", str(2 ** 64)), ("--window", str(10 ** 9)), ("--window", "2147483647")):
        assert main(["train", str(corpus), "-o", str(tmp_path / "v.txt"), flag, value, "-q"]) == 2
    assert not os.path.exists(tmp_path / "v.txt")


def test_parameter_docs_name_the_limits():
    assert BY_NAME["window"].constraint.high == 100_000


def test_a_model_file_with_absurd_training_counters_fails_to_load(tmp_path):
    """Found by the fuzzer: train_calls = 10**20 loaded, then train() raised OverflowError."""
    import json
    import zipfile
    good, bad = tmp_path / "m.cyw2v", tmp_path / "bad.cyw2v"
    Word2Vec(CORPUS, **small()).save(str(good))
    for key, value in (("train_calls", 10 ** 20), ("epochs_trained", -1), ("loss_history", ["x"])):
        with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename == "meta.json":
                    doc = json.loads(data)
                    doc["meta"][key] = value
                    data = json.dumps(doc).encode()
                zout.writestr(info, data)
        with pytest.raises(FormatError, match=key):
            Word2Vec.load(str(bad))


def test_a_huge_window_that_diverges_is_named():
    corpus = [[f"w{i % 50}" for i in range(3000)]] * 3
    with pytest.raises(DivergedError, match="window=100000"):
        Word2Vec(corpus, **small(vector_size=16, window=100_000, sg=1))


def test_hot_row_copies_count_in_the_buffer_limit():
    Word2Vec(vector_size=65536, hs=1, workers=1)
    with pytest.raises(ValueError, match="MiB of buffers"):
        Word2Vec(vector_size=65536, hs=1, workers=2)


def test_a_sentence_whose_len_lies_is_copied_before_encoding():
    """Python-side defence for issue 17 item 2 (the engine's own fix is on the core branch):
    jobs() sizes batches from a plain list of what the sentence yields. In a subprocess:
    without the copy the engine's encoder corrupts the heap."""
    import subprocess
    import sys
    code = ("from cyw2v import Word2Vec\nfrom cyw2v.training import jobs\n"
            "class Liar(list):\n    def __len__(self):\n        return 1\n"
            "m = Word2Vec([['a', 'b', 'c']] * 10, vector_size=8, min_count=1, workers=1, epochs=1)\n"
            "js = jobs([Liar(['a', 'b', 'c'] * 100)], m.vocab, 50, lambda f: 0.025, 1, 1, None)\n"
            "print(sum(len(j[0]) for j in js))\n"
            "m.train([Liar(['a', 'b', 'c'] * 1000)] * 10, total_examples=10, epochs=1)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.split() == ["300"], r.stderr[-2000:]
