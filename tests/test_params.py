"""The one parameter table (cyw2v.params): Word2Vec's signature, the scikit-learn transformer's
parameters and the CLI's training options all come from it, with the same defaults; values are
checked once, at the door, also when a parameter attribute is set later."""
import inspect

import pytest

from cyw2v import Word2Vec
from cyw2v.cli import build_parser
from cyw2v.params import PARAMETERS, EngineConfig, resolve, validate

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
    m = Word2Vec(None, None, 12, window=3)      # positional in gensim's order
    assert (m.vector_size, m.window, m.alpha) == (12, 3, 0.025)
    with pytest.raises(TypeError, match="no_such"):
        Word2Vec(no_such=1)
    with pytest.raises(TypeError):
        Word2Vec(None, None, 12, vector_size=12)


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
