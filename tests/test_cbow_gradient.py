"""cbow_gradient: CBOW-mean with word2vec.c's update of the context rows (the default) or the
exact gradient of the mean (Irsoy, Benton and Stratos 2021). The kernels are checked against
the NumPy reference in test_kernels.py (ARCHS, test_exact_cbow_gives_each_context_row_e_over_c,
test_default_cbow_trains_bit_for_bit_as_before); here: the door, both input modes, the
faces (scikit-learn, the command line) and the native file."""
import json
import zipfile

import numpy as np
import pytest

from cyw2v import Word2Vec
from cyw2v.cli import main
from cyw2v.params import resolve, validate

TOY = [["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"],
       ["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "and", "a", "cat"]] * 40


def small(**kw):
    return dict(dict(vector_size=16, min_count=1, workers=1, epochs=2, seed=3), **kw)


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "toy.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in TOY))
    return str(path)


@pytest.mark.parametrize("bad", [dict(sg=1), dict(cbow_mean=0), dict(sg=1, hs=1, negative=0)])
def test_the_exact_gradient_outside_cbow_mean_is_refused_at_the_door(bad):
    with pytest.raises(ValueError, match=r"cbow_gradient='exact' .* needs sg=0 and cbow_mean=1"):
        Word2Vec(cbow_gradient="exact", **bad)


@pytest.mark.parametrize("bad", ["Exact", "mean", 1, None])
def test_an_unknown_cbow_gradient_is_refused(bad):
    with pytest.raises(ValueError, match="cbow_gradient must be one of 'word2vec', 'exact'"):
        Word2Vec(cbow_gradient=bad)


def test_the_rule_is_checked_again_when_training_starts():
    model = Word2Vec(**small(cbow_gradient="exact"))
    model.sg = 1     # attributes are set one by one (gensim's idiom); train() checks the set
    with pytest.raises(ValueError, match="cbow_gradient"):
        model.train(TOY, total_examples=len(TOY))


def test_resolve_turns_the_choice_into_the_engine_flag():
    assert resolve(validate({}), compute_loss=False).cbow_exact == 0
    assert resolve(validate({"cbow_gradient": "exact"}), compute_loss=False).cbow_exact == 1
    assert resolve(validate({"sg": 1}), compute_loss=False).cbow_exact == 0   # word2vec with sg is a no-op


@pytest.mark.parametrize("objective", [dict(), dict(hs=1, negative=0), dict(hs=1)], ids=["ns", "hs", "ns-hs"])
@pytest.mark.parametrize("mode", ["iterable", "file"])
def test_word2vec_gradient_is_the_default_and_exact_trains_in_both_modes(objective, mode, corpus_file):
    def train(**kw):
        params = small(**objective, alpha=0.025, **kw)    # one rate: the exact gradient's default is larger
        model = Word2Vec(TOY, **params) if mode == "iterable" else Word2Vec(corpus_file=corpus_file, **params)
        return model
    default, explicit, exact = train(), train(cbow_gradient="word2vec"), train(cbow_gradient="exact")
    assert default.cbow_gradient == "word2vec" and exact.cbow_gradient == "exact"
    for name in ("vectors", "syn1neg", "syn1"):
        a, b = getattr(default.wv if name == "vectors" else default, name), \
            getattr(explicit.wv if name == "vectors" else explicit, name)
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert np.all(np.isfinite(exact.wv.vectors))
    assert not np.allclose(exact.wv.vectors, default.wv.vectors, atol=1e-4)
    # 1/C of the step: the input rows move less from their start than word2vec.c's
    start = Word2Vec(**small(**objective)).build_vocab(TOY).wv.vectors
    assert np.abs(exact.wv.vectors - start).mean() < np.abs(default.wv.vectors - start).mean()


def test_the_choice_is_saved_and_an_old_file_without_it_loads(tmp_path):
    model = Word2Vec(TOY, **small(cbow_gradient="exact", alpha=0.075))
    path = tmp_path / "m.cyw2v"
    model.save(str(path))
    loaded = Word2Vec.load(str(path))
    assert loaded.cbow_gradient == "exact" and loaded.alpha == 0.075
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
    loaded.train(TOY, total_examples=len(TOY), epochs=1)   # training goes on with the exact gradient
    old = tmp_path / "old.cyw2v"   # as a file written before cbow_gradient existed
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(old, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "meta.json":
                doc = json.loads(data)
                del doc["meta"]["params"]["cbow_gradient"]
                data = json.dumps(doc).encode()
            zout.writestr(info, data)
    assert Word2Vec.load(str(old)).cbow_gradient == "word2vec"


def test_the_transformer_passes_it_on():
    pytest.importorskip("sklearn")
    from cyw2v.sklearn import Word2VecTransformer
    docs = [" ".join(s) for s in TOY]
    t = Word2VecTransformer(cbow_gradient="exact", vector_size=8, min_count=1, workers=1, epochs=1).fit(docs)
    assert t.get_params()["cbow_gradient"] == "exact" and t.model_.cbow_gradient == "exact"
    with pytest.raises(ValueError, match="cbow_gradient"):
        Word2VecTransformer(cbow_gradient="exact", sg=1).fit(docs)


def test_the_command_line_option(tmp_path, corpus_file, capsys):
    out = tmp_path / "m.cyw2v"
    args = ["train", corpus_file, "-o", str(tmp_path / "v.txt"), "--min-count", "1", "--dim", "8",
            "--workers", "1", "--epochs", "1", "-q"]
    assert main([*args, "--cbow-gradient", "exact", "--save-model", str(out)]) == 0
    assert Word2Vec.load(str(out)).cbow_gradient == "exact"
    assert main([*args, "--cbow-gradient", "exact", "--sg"]) != 0
    assert "cbow_gradient='exact'" in capsys.readouterr().err
    assert main([*args, "--cbow-gradient", "mean"]) == 2   # a usage error, in one line
    assert "--cbow-gradient must be one of 'word2vec', 'exact'" in capsys.readouterr().err
