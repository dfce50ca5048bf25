"""The one parameter table (cyw2v.params): Word2Vec's signature, the scikit-learn transformer's
parameters and the CLI's training options all come from it, with the same defaults; values are
checked once, at the door, also when a parameter attribute is set later."""
import inspect

import numpy as np
import pytest

from cyw2v import Word2Vec
from cyw2v.cli import build_parser
from cyw2v.params import PARAMETERS, EngineConfig, learning_rate, resolve, validate

NAMES = [p.name for p in PARAMETERS]
#: Arguments that are not training parameters, as gensim places them.
W2V_EXTRAS = {"sentences": None, "corpus_file": None, "trim_rule": None, "callbacks": (), "progress": False}
TRANSFORMER_EXTRAS = {"tokenizer": None, "lowercase": True, "tfidf": False}
#: The CLI train subcommand's own options (files, formats, display).
CLI_EXTRAS = {"corpus", "output", "binary", "to", "save_model", "progress", "quiet", "func", "parser", "command",
              "dask"}


def test_word2vec_signature_is_the_table_in_gensim_order():
    params = inspect.signature(Word2Vec).parameters
    assert [n for n in params if n not in W2V_EXTRAS] == NAMES
    assert list(params)[:2] == ["sentences", "corpus_file"]
    assert list(params).index("callbacks") == list(params).index("compute_loss") + 1
    for p in PARAMETERS:
        assert params[p.name].default == p.default, p.name
    assert {n: params[n].default for n in W2V_EXTRAS} == W2V_EXTRAS


def test_word2vec_binds_like_a_plain_signature():
    m = Word2Vec(None, None, 12, 0.03, window=3)      # positional in gensim's order
    assert (m.vector_size, m.alpha, m.window) == (12, 0.03, 3)
    with pytest.raises(TypeError, match="no_such"):
        Word2Vec(no_such=1)
    with pytest.raises(TypeError):
        Word2Vec(None, None, 12, vector_size=12)


def test_alpha_none_is_the_learning_rate_of_the_model():
    # gensim starts every model at 0.025; cyw2v's default (None) depends on the model
    rates = {"skip-gram": (dict(sg=1), 0.025), "CBOW mean": ({}, 0.05),
             "exact CBOW mean": (dict(cbow_gradient="exact"), 0.1), "CBOW sum": (dict(cbow_mean=0), 0.025),
             "skip-gram HS": (dict(sg=1, hs=1, negative=0), 0.025), "CBOW-HS": (dict(hs=1, negative=0), 0.025),
             "CBOW NS+HS": (dict(hs=1), 0.025), "CBOW softmax": (dict(negative=0, softmax=True), 0.025),
             "exact CBOW-HS": (dict(hs=1, negative=0, cbow_gradient="exact"), 0.1)}
    for name, (kw, rate) in rates.items():
        m = Word2Vec(**kw)
        assert (m.alpha, m.get_params()["alpha"], learning_rate(validate(kw))) == (rate, None, rate), name
        assert Word2Vec(alpha=0.025, **kw).alpha == 0.025, name       # gensim's default stays reachable
    m = Word2Vec()
    m.sg = 1                                         # resolved when read, not frozen at construction
    assert m.alpha == 0.025
    m.alpha = 0.07
    assert (m.alpha, m.get_params()["alpha"]) == (0.07, 0.07)


def test_min_alpha_is_checked_against_the_resolved_alpha():
    Word2Vec(min_alpha=0.04)                         # below CBOW's 0.05
    with pytest.raises(ValueError, match=r"min_alpha \(0.04\) must not exceed alpha \(0.025, the default"):
        Word2Vec(sg=1, min_alpha=0.04)
    with pytest.raises(ValueError, match=r"must not exceed alpha \(0.03\)$"):
        Word2Vec(alpha=0.03, min_alpha=0.04)


def test_the_default_learning_rate_is_the_one_trained():
    corpus = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "and", "a", "cat"]] * 30
    kw = dict(vector_size=8, min_count=1, workers=1, epochs=2, seed=3)
    for model_kw, rate in ((dict(sg=0), 0.05), (dict(sg=1), 0.025)):
        default = Word2Vec(corpus, **kw, **model_kw).wv.vectors
        assert np.array_equal(default, Word2Vec(corpus, alpha=rate, **kw, **model_kw).wv.vectors)
        assert not np.array_equal(default, Word2Vec(corpus, alpha=rate * 1.5, **kw, **model_kw).wv.vectors)


def test_transformer_parameters_are_the_table():
    pytest.importorskip("sklearn")
    from cyw2v.sklearn import Word2VecTransformer

    params = inspect.signature(Word2VecTransformer).parameters
    assert [n for n in params if n not in TRANSFORMER_EXTRAS] == NAMES
    assert Word2VecTransformer().get_params() == {**{p.name: p.default for p in PARAMETERS}, **TRANSFORMER_EXTRAS}


def test_cli_training_options_are_the_table():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    actions = {a.dest: a for a in train._actions if a.dest != "help"}
    offered = [p for p in PARAMETERS if p.flag is not None]
    assert set(actions) - CLI_EXTRAS == {p.name for p in offered}
    for p in offered:
        action = actions[p.name]
        assert p.flag in action.option_strings, p.name
        want = p.default if p.cli_default is inspect.Parameter.empty else p.cli_default()
        assert action.default == want, p.name
        assert p.doc in (action.help or ""), p.name
    args = train.parse_args(["c.txt", "--dim", "7", "--sg", "--negative", "0", "--hs", "--batch-window", "1"])
    assert (args.vector_size, args.sg, args.negative, args.hs, args.batch_window) == (7, 1, 0, 1, 1)


@pytest.mark.parametrize("flag,value", [("--dim", "0"), ("--window", "-1"), ("--alpha", "nan"),
                                         ("--sample", "-0.1"), ("--cbow-mean", "2"), ("--combine-windows", "99")])
def test_cli_checks_each_option_with_the_tables_constraint(flag, value, capsys):
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    with pytest.raises(SystemExit):
        train.parse_args(["c.txt", flag, value])
    assert flag in capsys.readouterr().err


def test_validate_fills_defaults_and_names_the_bad_parameter():
    assert validate({}) == {p.name: p.default for p in PARAMETERS}
    with pytest.raises(ValueError, match="window"):
        validate({"window": 0})
    with pytest.raises(TypeError, match="bogus"):
        validate({"bogus": 1})


def test_setting_a_parameter_attribute_is_validated():
    m = Word2Vec(window=3)
    m.window = 7
    assert m.window == 7 and m.get_params()["window"] == 7
    with pytest.raises(ValueError, match="window"):
        m.window = 0
    assert m.window == 7
    m.negative = 0     # the rules between parameters are checked when training starts (gensim's
    with pytest.raises(ValueError, match="no objective"):   # alpha/min_alpha idiom sets them one by one)
        m.train([["a", "b"]], total_examples=1)


def test_resolve_is_the_one_place_automatic_choices_are_made():
    cfg = resolve(validate({"sg": 1}), compute_loss=False)
    assert isinstance(cfg, EngineConfig)
    assert (cfg.batch_window, cfg.combine, cfg.hot_rows) == (1, 1, 0)
    assert resolve(validate({"sg": 1, "combine_windows": 3}), compute_loss=False).combine == 3
    cfg = resolve(validate({"sg": 1, "hs": 1, "negative": 0, "workers": 2}), compute_loss=True)
    assert (cfg.batch_window, cfg.combine, cfg.compute_loss) == (0, 1, 1) and cfg.hot_rows > 0
    m = Word2Vec(sg=1, hs=1)
    assert (m.batches_windows, m.centres_per_block) == (False, 1)
