"""Issue 18: each newer KeyedVectors / Word2Vec method against gensim on the same vectors.

What is compared and why
------------------------
One set of vectors (300 keys, 24 dims, float32, fixed seed; a few rows built as ``x + offset``
pairs so that analogies have right answers) is loaded into ``gensim.models.KeyedVectors`` and
``cyw2v.KeyedVectors`` with the same keys and counts. Then, value for value:

- ``wmdistance``: ordinary documents, a document with an unknown word, an empty document, a
  document made only of unknown words, identical one-word documents (POT needed);
- ``relative_cosine_similarity``;
- ``vectors_for_all`` with ``allow_inference`` True/False and ``copy_vecattrs`` (keys,
  vectors and the 'count' attribute of the result);
- ``get_vecattr``/``set_vecattr``, ``has_index_for``, ``norms``/``fill_norms``,
  ``unit_normalize_all``, ``init_sims(replace=True)``;
- ``evaluate_word_analogies`` (default ``most_similar``) on an analogy file written from the
  vocabulary: score and every section's correct/incorrect lists.

For the output layer a tiny gensim ``Word2Vec`` is trained (one worker, fixed seed), saved with
``save`` and read by ``cyw2v.Word2Vec.load``, so both libraries hold the very same weights;
then ``predict_output_word`` (negative sampling) and ``score`` (hierarchical softmax) are
compared. This checks cyw2v reproduces gensim's numbers, not that either is "right".
"""
import numpy as np
import pytest

gensim = pytest.importorskip("gensim")
from gensim.models import KeyedVectors as GKV  # noqa: E402
from gensim.models import Word2Vec as GW2V  # noqa: E402

import cyw2v  # noqa: E402

N, DIM, SEED = 300, 24, 1234
KEYS = [f"w{i}" for i in range(N)]
PAIRS = [(f"w{i}", f"w{i + 1}") for i in range(0, 40, 2)]  # (x, x + offset)


def _vectors():
    rng = np.random.default_rng(SEED)
    vecs = rng.standard_normal((N, DIM)).astype(np.float32)
    offset = (3.0 * rng.standard_normal(DIM)).astype(np.float32)
    for i in range(0, 40, 2):
        vecs[i + 1] = vecs[i] + offset + 0.3 * rng.standard_normal(DIM).astype(np.float32)
    return vecs


VECS = _vectors()
COUNTS = np.arange(10 * N, 0, -10, dtype=np.int64)  # descending, like a trained vocabulary


def make_gensim():
    kv = GKV(DIM)
    kv.add_vectors(KEYS, VECS.copy())
    for k, c in zip(KEYS, COUNTS):
        kv.set_vecattr(k, "count", int(c))
    return kv


def make_cyw2v():
    kv = cyw2v.KeyedVectors(list(KEYS), VECS.copy())
    for k, c in zip(KEYS, COUNTS):
        kv.set_vecattr(k, "count", int(c))
    return kv


@pytest.fixture
def pair():
    return make_gensim(), make_cyw2v()


def test_same_vectors_loaded(pair):
    g, c = pair
    assert list(g.index_to_key) == list(c.index_to_key)
    np.testing.assert_array_equal(g.vectors, c.vectors)


# --- wmdistance ----------------------------------------------------------------------------
WMD_CASES = {
    "ordinary": (["w1", "w5", "w7", "w5"], ["w2", "w9", "w11"]),
    "unknown_word": (["w1", "nosuchword", "w7"], ["w3", "w8", "also_unknown"]),
    "empty_doc": ([], ["w3", "w8"]),
    "all_unknown": (["nosuch", "nope"], ["w3"]),
    "same_single_word": (["w4", "w4"], ["w4"]),
    "same_multi_word": (["w4", "w6"], ["w6", "w4"]),
    "overlap": (["w10", "w12", "w14"], ["w12", "w16"]),
}


@pytest.mark.parametrize("norm", [True, False])
@pytest.mark.parametrize("case", sorted(WMD_CASES))
def test_wmdistance(pair, case, norm):
    pytest.importorskip("ot")
    g, c = pair
    d1, d2 = WMD_CASES[case]
    expected = g.wmdistance(d1, d2, norm=norm)
    got = c.wmdistance(d1, d2, norm=norm)
    if np.isinf(expected):
        assert np.isinf(got)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    # symmetric in both libraries
    np.testing.assert_allclose(c.wmdistance(d2, d1, norm=norm), g.wmdistance(d2, d1, norm=norm),
                               rtol=1e-5, atol=1e-7)


# --- relative_cosine_similarity ------------------------------------------------------------
@pytest.mark.parametrize("w1,w2,topn", [("w0", "w1", 10), ("w5", "w200", 10), ("w7", "w8", 3),
                                        ("w299", "w0", 1)])
def test_relative_cosine_similarity(pair, w1, w2, topn):
    g, c = pair
    np.testing.assert_allclose(c.relative_cosine_similarity(w1, w2, topn=topn),
                               g.relative_cosine_similarity(w1, w2, topn=topn), rtol=1e-5)


# --- vectors_for_all -----------------------------------------------------------------------
@pytest.mark.parametrize("allow_inference", [True, False])
@pytest.mark.parametrize("copy_vecattrs", [True, False])
def test_vectors_for_all(pair, allow_inference, copy_vecattrs):
    g, c = pair
    keys = ["w10", "unknown", "w3", "w10", "w250", "also_unknown", "w3"]
    rg = g.vectors_for_all(keys, allow_inference=allow_inference, copy_vecattrs=copy_vecattrs)
    rc = c.vectors_for_all(keys, allow_inference=allow_inference, copy_vecattrs=copy_vecattrs)
    assert list(rc.index_to_key) == list(rg.index_to_key) == ["w10", "w3", "w250"]
    np.testing.assert_array_equal(rc.vectors, rg.vectors)
    assert rc.vectors.dtype == rg.vectors.dtype
    assert [int(rc.get_vecattr(k, "count")) for k in rc.index_to_key] == \
        [int(rg.get_vecattr(k, "count")) for k in rg.index_to_key]


# --- vecattrs, has_index_for, norms --------------------------------------------------------
def test_get_set_vecattr(pair):
    g, c = pair
    for k in ("w0", "w17", "w299"):
        assert int(c.get_vecattr(k, "count")) == int(g.get_vecattr(k, "count"))
    g.set_vecattr("w5", "count", 7)
    c.set_vecattr("w5", "count", 7)
    assert int(c.get_vecattr("w5", "count")) == int(g.get_vecattr("w5", "count")) == 7
    g.set_vecattr("w5", "score", 0.25)
    c.set_vecattr("w5", "score", 0.25)
    assert float(c.get_vecattr("w5", "score")) == float(g.get_vecattr("w5", "score")) == 0.25
    # a new attribute's other rows: gensim fills with zeros
    assert float(c.get_vecattr("w6", "score")) == float(g.get_vecattr("w6", "score"))
    with pytest.raises(KeyError):
        g.get_vecattr("nosuchword", "count")
    with pytest.raises(KeyError):
        c.get_vecattr("nosuchword", "count")


def test_has_index_for(pair):
    g, c = pair
    for key in ("w0", "w299", "nosuchword", "", "W0"):
        assert c.has_index_for(key) == g.has_index_for(key), key
    assert ("w0" in c) == ("w0" in g)


def test_norms_fill_norms(pair):
    g, c = pair
    assert g.norms is None and c.norms is None
    g.fill_norms()
    c.fill_norms()
    np.testing.assert_allclose(c.norms, g.norms, rtol=1e-6)
    np.testing.assert_allclose(c.get_normed_vectors(), g.get_normed_vectors(), rtol=1e-5, atol=1e-7)
    g.vectors[0] *= 2
    c.vectors[0] *= 2
    g.fill_norms(force=True)
    c.fill_norms(force=True)
    np.testing.assert_allclose(c.norms, g.norms, rtol=1e-6)


def test_unit_normalize_all(pair):
    g, c = pair
    g.unit_normalize_all()
    c.unit_normalize_all()
    np.testing.assert_allclose(c.vectors, g.vectors, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c.norms, g.norms, rtol=1e-6)
    assert c.vectors.dtype == g.vectors.dtype
    np.testing.assert_allclose(c.most_similar("w3", topn=5)[0][1], g.most_similar("w3", topn=5)[0][1],
                               rtol=1e-5)


def test_init_sims_replace(pair):
    g, c = pair
    with pytest.warns(DeprecationWarning):  # gensim warns; cyw2v may or may not
        g.init_sims(replace=True)
    c.init_sims(replace=True)
    np.testing.assert_allclose(c.vectors, g.vectors, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(c.vectors, axis=1), 1.0, rtol=1e-5)


def test_init_sims_no_replace(pair):
    g, c = pair
    with pytest.warns(DeprecationWarning):
        g.init_sims()
    c.init_sims()
    np.testing.assert_array_equal(c.vectors, VECS)
    np.testing.assert_array_equal(g.vectors, VECS)
    np.testing.assert_allclose(c.norms, g.norms, rtol=1e-6)


# --- evaluate_word_analogies ---------------------------------------------------------------
def _analogy_file(tmp_path):
    rng = np.random.default_rng(SEED + 1)
    lines = [": offset-pairs"]
    for (a, b) in PAIRS[:10]:
        for (x, y) in PAIRS[10:]:
            lines.append(f"{a} {b} {x} {y}")
    lines.append(": random")
    for _ in range(40):
        lines.append(" ".join(f"w{i}" for i in rng.choice(N, 4, replace=False)))
    lines.append(": with-unknown")
    lines.append("w0 w1 w2 nosuchword")
    lines.append("W0 W1 W2 W3")  # upper case: folded by case_insensitive
    lines.append("bad line")  # skipped: not 4 words
    path = tmp_path / "analogies.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize("kwargs", [{}, {"case_insensitive": False}, {"dummy4unknown": True},
                                    {"restrict_vocab": 100}])
def test_evaluate_word_analogies(pair, tmp_path, kwargs):
    g, c = pair
    path = _analogy_file(tmp_path)
    sg, secg = g.evaluate_word_analogies(path, **kwargs)
    sc, secc = c.evaluate_word_analogies(path, **kwargs)
    assert [s["section"] for s in secc] == [s["section"] for s in secg]
    for a, b in zip(secc, secg):
        assert [tuple(q) for q in a["correct"]] == [tuple(q) for q in b["correct"]], a["section"]
        assert [tuple(q) for q in a["incorrect"]] == [tuple(q) for q in b["incorrect"]], a["section"]
    np.testing.assert_allclose(sc, sg, rtol=1e-12)
    if not kwargs:
        assert sg > 0.5  # the offset pairs make the test meaningful


# --- Word2Vec output layer: same weights through gensim's pickle ----------------------------
def _sentences():
    rng = np.random.default_rng(SEED + 2)
    vocab = [f"t{i}" for i in range(60)]
    p = 1.0 / np.arange(1, 61)
    p /= p.sum()
    return [[str(w) for w in rng.choice(vocab, size=12, p=p)] for _ in range(300)]  # plain str: np.str_ keys pickle as dtype U, which cyw2v refuses


SENTS = _sentences()


def _pair_models(tmp_path, **params):
    g = GW2V(SENTS, vector_size=16, window=3, min_count=1, workers=1, seed=7, epochs=3, **params)
    path = str(tmp_path / "g.model")
    g.save(path)
    c = cyw2v.Word2Vec.load(path)
    np.testing.assert_array_equal(c.wv.vectors, g.wv.vectors)
    assert list(c.wv.index_to_key) == list(g.wv.index_to_key)
    return g, c


@pytest.mark.parametrize("sg,cbow_mean", [(0, 1), (0, 0), (1, 1)])
def test_predict_output_word(tmp_path, sg, cbow_mean):
    g, c = _pair_models(tmp_path, sg=sg, cbow_mean=cbow_mean, negative=5, hs=0)
    np.testing.assert_array_equal(c.syn1neg, g.syn1neg)
    for context, topn in ((["t1", "t2", "t5"], 10), (["t3"], 5), (["t0", "unknown_word"], 60),
                          (["t10", "t10", "t20"], 3)):
        eg = g.predict_output_word(context, topn=topn)
        ec = c.predict_output_word(context, topn=topn)
        assert len(ec) == len(eg)
        np.testing.assert_allclose([p for _, p in ec], [p for _, p in eg], rtol=1e-4, atol=1e-7)
        # words must agree except where gensim's float32 probabilities tie
        for (wc, pc), (wg, pg) in zip(ec, eg):
            if wc != wg:
                assert abs(pc - pg) <= 1e-6 * max(pg, 1e-12) + 1e-9, (wc, wg, pc, pg)
    assert g.predict_output_word(["nope"]) is None and c.predict_output_word(["nope"]) is None


@pytest.mark.parametrize("sg", [0, 1])
def test_score_hs(tmp_path, sg):
    g, c = _pair_models(tmp_path, sg=sg, hs=1, negative=0)
    np.testing.assert_array_equal(c.syn1, g.syn1)
    test = SENTS[:20] + [["t1", "unknown", "t2"], ["t4"], []]
    for total in (len(test), 5):
        eg = g.score(test, total_sentences=total)
        ec = c.score(test, total_sentences=total)
        assert len(ec) == len(eg)
        assert ec.dtype == eg.dtype
        np.testing.assert_allclose(ec, eg, rtol=1e-3, atol=1e-4)


def test_load_gensim_model_with_numpy_str_keys(tmp_path):
    rng = np.random.default_rng(SEED + 3)
    sents = [list(rng.choice([f"t{i}" for i in range(20)], size=8)) for _ in range(50)]  # np.str_
    g = GW2V(sents, vector_size=8, window=2, min_count=1, workers=1, seed=7, epochs=1)
    path = str(tmp_path / "g.model")
    g.save(path)
    assert list(GW2V.load(path).wv.index_to_key) == list(g.wv.index_to_key)
    c = cyw2v.Word2Vec.load(path)
    assert [str(k) for k in c.wv.index_to_key] == [str(k) for k in g.wv.index_to_key]
    assert all(type(k) is str for k in c.wv.index_to_key)   # numpy.str_ keys become plain str
