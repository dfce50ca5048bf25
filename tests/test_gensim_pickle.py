"""Reading gensim's pickles without running code: malicious pickles are refused and run
nothing; models and vectors written by gensim 4.4 load, continue training and answer as
gensim does."""
import ast
import os
import pickle
import pickletools
import struct
from pathlib import Path

import numpy as np
import pytest

import cyw2v
from cyw2v import KeyedVectors, Word2Vec
from cyw2v._formats import FormatError
from cyw2v._gensim_pickle import ALLOWED, looks_like_pickle

PACKAGE = Path(cyw2v.__file__).resolve().parent
PICKLE_MODULES = {"pickle", "_pickle", "cPickle", "pickletools", "copyreg", "copy_reg", "shelve", "dill",
                  "cloudpickle", "joblib"}


def test_only_the_gensim_reader_imports_pickle():
    offenders = []
    for src in sorted(PACKAGE.glob("*.py")) + sorted(PACKAGE.glob("*.pyx")):
        text = src.read_text(encoding="utf-8")
        if src.suffix == ".py":
            names = set()
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
                elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                        "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                    names.add(str(node.args[0].value).split(".")[0])
        else:
            names = {m for m in PICKLE_MODULES if f"import {m}" in text or f"cimport {m}" in text}
        if names & PICKLE_MODULES and src.name != "_gensim_pickle.py":
            offenders.append((src.name, sorted(names & PICKLE_MODULES)))
    assert offenders == []


# --- malicious pickles ------------------------------------------------------------------------
def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _str(s: str) -> bytes:
    data = s.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _call(module: str, name: str, *args: str) -> bytes:
    """GLOBAL module.name, a tuple of str args, REDUCE."""
    return _global(module, name) + b"(" + b"".join(_str(a) for a in args) + b"tR"


def payloads(canary: Path):
    touch = f"touch {canary}"
    code = f"open({str(canary)!r}, 'w').write('x')"
    yield "os.system", b"\x80\x02" + _call("os", "system", touch) + b"."
    yield "posix.system", b"\x80\x02" + _call("posix", "system", touch) + b"."
    yield "subprocess.Popen", b"\x80\x02" + _global("subprocess", "Popen") + b"(](" + _str("touch") + \
        _str(str(canary)) + b"etR."
    yield "builtins.eval", b"\x80\x02" + _call("builtins", "eval", code) + b"."
    yield "builtins.exec", b"\x80\x02" + _call("builtins", "exec", code) + b"."
    yield "__builtin__.eval", b"\x80\x02" + _call("__builtin__", "eval", code) + b"."
    yield "builtins.__import__", b"\x80\x02" + _call("builtins", "__import__", "os") + b"."
    # getattr(__import__('os'), 'system')(touch): a nested REDUCE
    yield "builtins.getattr", b"\x80\x02" + _global("builtins", "getattr") + b"(" + \
        _call("builtins", "__import__", "os") + _str("system") + b"tR(" + _str(touch) + b"tR."
    # a nested REDUCE inside an allowed gensim class's state
    yield "nested in state", b"\x80\x02" + _global("gensim.models.word2vec", "Word2Vec") + b")\x81}" + \
        _str("x") + _call("os", "system", touch) + b"sb."
    yield "numpy.load", b"\x80\x02" + _call("numpy", "load", str(canary)) + b"."
    yield "numpy.frombuffer", b"\x80\x02" + _call("numpy", "frombuffer", "abcd") + b"."
    yield "numpy.core.multiarray._reconstruct(os.system)", b"\x80\x02" + \
        _global("numpy.core.multiarray", "_reconstruct") + b"(" + _global("os", "system") + b"tR."
    # protocol 4: STACK_GLOBAL with odd module names
    for module, name in (("os.path", "os.system"), ("..os", "system"), ("builtins\nos", "system"),
                         ("nt", "system"), ("numpy", "ctypeslib.load_library")):
        body = b"\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(name)]) + name.encode() + \
            b"\x93" + b"\x8c" + bytes([len(touch)]) + touch.encode() + b"\x85R."
        yield f"STACK_GLOBAL {module!r} {name!r}", b"\x80\x04" + body
    yield "pickle.dumps of os.system", pickle.dumps((os.system, (touch,)), protocol=2)


@pytest.mark.parametrize("loader", [Word2Vec.load, KeyedVectors.load])
def test_malicious_pickles_are_refused_and_run_nothing(tmp_path, loader):
    canary = tmp_path / "canary"
    for label, payload in payloads(canary):
        path = tmp_path / "evil.model"
        path.write_bytes(payload)
        assert looks_like_pickle(str(path)), label
        with pytest.raises(FormatError) as info:
            loader(str(path))
        assert not canary.exists(), label
        if label.startswith(("os.", "posix.", "subprocess", "builtins", "numpy.load", "numpy.frombuffer")):
            assert "refused global" in str(info.value), (label, str(info.value))


def test_the_allow_list_names_no_callable_of_numpy_os_or_builtins():
    for (module, name), target in ALLOWED.items():
        assert target.__module__ == "cyw2v._gensim_pickle", (module, name)


def test_object_arrays_of_numbers_never_become_numpy_object_arrays(tmp_path):
    path = tmp_path / "obj.pkl"
    path.write_bytes(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))
    from cyw2v._gensim_pickle import unpickle
    assert unpickle(str(path)) == [1, "a"]


# --- gensim 4.4 files --------------------------------------------------------------------------
gensim_w2v = pytest.importorskip("gensim.models.word2vec")
from gensim.test.utils import common_texts, lee_corpus_list  # noqa: E402


@pytest.mark.parametrize("sg", [0, 1])
@pytest.mark.parametrize("hs,negative", [(0, 5), (1, 0)])
@pytest.mark.parametrize("sep_limit", [None, 0])
def test_gensim_models_load_train_and_answer_as_gensim(tmp_path, sg, hs, negative, sep_limit):
    g = gensim_w2v.Word2Vec(lee_corpus_list[:100], vector_size=16, min_count=2, sg=sg, hs=hs, negative=negative,
                            workers=1, epochs=2, seed=3)
    path = str(tmp_path / "g.model")
    g.save(path) if sep_limit is None else g.save(path, sep_limit=sep_limit)
    if sep_limit == 0:
        assert any(name.endswith(".npy") for name in os.listdir(tmp_path))
    for mmap in (None, "r"):
        m = Word2Vec.load(path, mmap=mmap)
        assert m.wv.index_to_key == g.wv.index_to_key
        np.testing.assert_array_equal(m.wv.vectors, g.wv.vectors)
        np.testing.assert_array_equal(m.wv.counts, g.wv.expandos["count"])
        assert (m.sg, m.hs, m.negative, m.vector_size, m.window) == (sg, hs, negative, 16, g.window)
        if negative:
            np.testing.assert_array_equal(m.syn1neg, g.syn1neg)
        else:
            np.testing.assert_array_equal(m.syn1, g.syn1)   # gensim's V rows
            # gensim's Huffman tree is kept, so syn1's rows mean the same nodes: equal scores
            np.testing.assert_allclose(m.score(common_texts), g.score(common_texts, total_sentences=len(common_texts)),
                                       rtol=1e-4, atol=1e-3)
        ours = m.wv.most_similar("the", topn=5)
        theirs = g.wv.most_similar("the", topn=5)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    m = Word2Vec.load(path)
    before = m.wv.vectors.copy()
    m.train(lee_corpus_list[:100], total_examples=100, epochs=1)
    assert not np.array_equal(before, m.wv.vectors)
    m.save(str(tmp_path / "native.cyw2v"))
    again = Word2Vec.load(str(tmp_path / "native.cyw2v"))
    np.testing.assert_array_equal(again.wv.vectors, m.wv.vectors)


def test_gensim_keyedvectors_load(tmp_path):
    g = gensim_w2v.Word2Vec(common_texts, vector_size=8, min_count=1, workers=1, epochs=2)
    path = str(tmp_path / "g.kv")
    g.wv.save(path)
    kv = KeyedVectors.load(path)
    assert kv.index_to_key == g.wv.index_to_key
    np.testing.assert_array_equal(kv.vectors, g.wv.vectors)
    assert kv.get_vecattr("system", "count") == g.wv.get_vecattr("system", "count")
    ours, theirs = kv.most_similar("system", topn=3), g.wv.most_similar("system", topn=3)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-5)
    with pytest.raises(FormatError, match="Word2Vec.load"):
        KeyedVectors.load(str(tmp_path / "m.model")) if g.save(str(tmp_path / "m.model")) is None else None
    with pytest.raises(AttributeError):
        Word2Vec.load(path)


def test_cli_converts_a_gensim_model(tmp_path, capsys):
    from cyw2v.cli import main
    g = gensim_w2v.Word2Vec(common_texts, vector_size=8, min_count=1, workers=1, epochs=2)
    g.save(str(tmp_path / "model.gensim"))
    assert main(["convert", str(tmp_path / "model.gensim"), str(tmp_path / "out.cyw2v")]) == 0
    m = Word2Vec.load(str(tmp_path / "out.cyw2v"))
    np.testing.assert_array_equal(m.wv.vectors, g.wv.vectors)
