"""KeyedVectors queries and evaluation, checked against gensim 4.4 on the same vectors."""
import contextlib
import time

import numpy as np
import pytest

from cyw2v import KeyedVectors, Text8Corpus, Word2Vec
from cyw2v import datasets

gensim_kv = pytest.importorskip("gensim.models.keyedvectors")


def to_gensim(kv: KeyedVectors):
    g = gensim_kv.KeyedVectors(kv.vector_size)
    g.add_vectors(list(kv.index_to_key), kv.vectors.copy())
    return g


def one_blas_thread():
    """gensim answers analogies one GEMV at a time; on a busy 2-core machine multi-threaded
    OpenBLAS makes each of those slow, so its reference runs use one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


@pytest.fixture(scope="module")
def gensim_full_analogies(pair):
    with one_blas_thread():
        return pair[1].evaluate_word_analogies(datasets.analogies_path(), restrict_vocab=30000)


@pytest.fixture(scope="module")
def trained() -> KeyedVectors:
    """Realistic (trained, anisotropic) vectors: one quick epoch on the demo corpus."""
    model = Word2Vec(Text8Corpus(datasets.demo_corpus_path()), vector_size=50, epochs=1, workers=2,
                     sg=1, seed=3)
    return model.wv


@pytest.fixture(scope="module")
def pair(trained):
    return trained, to_gensim(trained)


def same_results(ours, theirs, exact=True, tol=1e-5):
    """The same ranking; exact: the same words and scores, bit for bit. Otherwise the scores
    agree within tol, and two words may trade places (or one beyond the cut replace the last)
    only where their scores tie within tol: a batched product and a single one round apart."""
    if exact:
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        assert [s for _, s in ours] == [float(s) for _, s in theirs]
        return
    assert len(ours) == len(theirs)
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=0, atol=tol)
    theirs_score = dict(theirs)
    for position, (word, score) in enumerate(ours):
        if word == theirs[position][0]:
            continue
        if word in theirs_score:   # swapped with a neighbour: a tie
            assert abs(theirs_score[word] - score) <= tol, (word, ours, theirs)
        else:                      # beyond their cut: tied with their last
            assert abs(theirs[-1][1] - score) <= tol, (word, ours, theirs)


# --- queries ----------------------------------------------------------------------------
@pytest.mark.parametrize("query", [
    dict(positive="king"),
    dict(positive=["king", "woman"], negative=["man"]),
    dict(positive=["paris", "germany"], negative="france", topn=3),
    dict(positive=[("king", 2.0), "woman"], negative=[("man", -0.5)]),
    dict(positive=["king"], restrict_vocab=2000),
    dict(negative=["good"], topn=7),
    dict(positive=["king", "queen", "prince", "princess"], topn=25),
])
def test_most_similar_matches_gensim_exactly(pair, query):
    ours, theirs = pair
    same_results(ours.most_similar(**query), theirs.most_similar(**query))


def test_most_similar_with_vectors_and_topn_none(pair):
    ours, theirs = pair
    vec = ours["king"] * 3 + ours["city"]
    same_results(ours.most_similar(positive=[vec, "woman"], negative=["man"]),
                 theirs.most_similar(positive=[vec, "woman"], negative=["man"]))
    same_results(ours.similar_by_vector(vec, topn=5), theirs.similar_by_vector(vec, topn=5))
    two_d = np.vstack([ours["king"], ours["woman"]])
    same_results(ours.most_similar(positive=two_d), theirs.most_similar(positive=two_d))
    all_ours = ours.most_similar(positive=["king"], negative=["man"], topn=None)
    all_theirs = theirs.most_similar(positive=["king"], negative=["man"], topn=None)
    assert all_ours.shape == (len(ours),)
    np.testing.assert_array_equal(all_ours, all_theirs)
    np.testing.assert_array_equal(ours.most_similar("king", topn=None, restrict_vocab=100),
                                  theirs.most_similar("king", topn=None, restrict_vocab=100))
    assert ours.most_similar("king", topn=0) == []


def test_similar_by_word_and_pairwise(pair):
    ours, theirs = pair
    same_results(ours.similar_by_word("france", topn=4), theirs.similar_by_word("france", topn=4))
    for a, b in [("king", "queen"), ("car", "city"), ("one", "two"), ("king", "king")]:
        assert ours.similarity(a, b) == float(theirs.similarity(a, b))
        assert ours.distance(a, b) == float(theirs.distance(a, b))
    assert ours.n_similarity(["king", "man"], ["queen", "woman"]) == pytest.approx(
        float(theirs.n_similarity(["king", "man"], ["queen", "woman"])), abs=1e-7)
    np.testing.assert_allclose(ours.distances("king"), theirs.distances("king"), rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.distances("king", ["queen", "man", "city"]),
                               theirs.distances("king", ["queen", "man", "city"]), atol=1e-6)
    vec = ours["paris"]
    np.testing.assert_allclose(ours.distances(vec, ["london"]), theirs.distances(vec, ["london"]), atol=1e-6)
    assert ours.closer_than("king", "queen") == theirs.closer_than("king", "queen")
    assert ours.rank("king", "queen") == theirs.rank("king", "queen")
    assert ours.most_similar_to_given("king", ["queen", "car", "blue"]) == \
        theirs.most_similar_to_given("king", ["queen", "car", "blue"])


def test_doesnt_match_and_centrality(pair):
    ours, theirs = pair
    for words in (["breakfast", "cereal", "dinner", "lunch"], ["france", "germany", "italy", "car", "spain"]):
        assert ours.doesnt_match(words) == theirs.doesnt_match(words)
        got = ours.rank_by_centrality(words)
        want = theirs.rank_by_centrality(words)
        assert [w for _, w in got] == [w for _, w in want]
        np.testing.assert_allclose([s for s, _ in got], [s for s, _ in want], atol=1e-6)
    assert ours.doesnt_match(["france", "germany", "notaword123"]) in ("france", "germany")


def test_cosmul_matches_gensim(pair):
    ours, theirs = pair
    for query in (dict(positive=["king", "woman"], negative=["man"]),
                  dict(positive=["paris", "italy"], negative=["france"], topn=20),
                  dict(positive=["king"]),
                  dict(positive=["berlin", "france", "king"], negative=["germany", "queen"])):
        same_results(ours.most_similar_cosmul(**query), theirs.most_similar_cosmul(**query), exact=False)
    unit = ours.get_vector("city", norm=True)
    same_results(ours.most_similar_cosmul(positive=[unit, "river"]),
                 theirs.most_similar_cosmul(positive=[unit, "river"]), exact=False)
    all_ours = ours.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=None)
    all_theirs = theirs.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=None)
    np.testing.assert_allclose(all_ours, all_theirs, rtol=1e-5)
    assert ours.most_similar_cosmul("king", restrict_vocab=50)[0][0] in ours.index_to_key[:50]


def test_mean_and_normed_vectors(pair):
    ours, theirs = pair
    keys = ["king", "queen", ours["city"]]
    for kw in (dict(), dict(pre_normalize=False), dict(post_normalize=True), dict(weights=[1.0, -2.0, 0.5])):
        np.testing.assert_allclose(ours.get_mean_vector(keys, **kw), theirs.get_mean_vector(keys, **kw),
                                   rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(ours.get_mean_vector(["king", "zzznope"]), ours.get_mean_vector(["king"]))
    with pytest.raises(KeyError, match="zzznope"):
        ours.get_mean_vector(["king", "zzznope"], ignore_missing=False)
    np.testing.assert_array_equal(ours.get_normed_vectors(), theirs.get_normed_vectors())
    np.testing.assert_array_equal(ours.get_vector("king", norm=True), theirs.get_vector("king", norm=True))
    np.testing.assert_array_equal(ours.get_norms(), theirs.norms)


def test_getitem_list_and_contains(pair):
    ours, theirs = pair
    np.testing.assert_array_equal(ours[["king", "queen"]], theirs[["king", "queen"]])
    assert ours[["king"]].shape == (1, ours.vector_size)
    assert ours[[]].shape == (0, ours.vector_size)
    assert ours["king"].ndim == 1
    assert "king" in ours and "zzznope" not in ours and ["x"] not in ours


@pytest.mark.parametrize("call", [
    lambda kv: kv.most_similar("zzznope"),
    lambda kv: kv.most_similar(positive=["king"], negative=["zzznope"]),
    lambda kv: kv.most_similar_cosmul(positive=["king", "zzznope"]),
    lambda kv: kv.most_similar_batch(["king", "zzznope"]),
    lambda kv: kv.similar_by_word("zzznope"),
    lambda kv: kv.similarity("king", "zzznope"),
    lambda kv: kv.distance("zzznope", "king"),
    lambda kv: kv.n_similarity(["king"], ["zzznope"]),
    lambda kv: kv.distances("zzznope"),
    lambda kv: kv.distances("king", ["zzznope"]),
    lambda kv: kv.rank("king", "zzznope"),
    lambda kv: kv.closer_than("zzznope", "king"),
    lambda kv: kv["zzznope"],
    lambda kv: kv[["king", "zzznope"]],
    lambda kv: kv.get_vector("zzznope", norm=True),
])
def test_unknown_word_raises_keyerror_naming_it(trained, call):
    with pytest.raises(KeyError, match="zzznope"):
        call(trained)


def test_empty_query_is_rejected(trained):
    with pytest.raises(ValueError):
        trained.most_similar()
    with pytest.raises(ValueError):
        trained.most_similar_cosmul(negative=["king"])


def test_batch_equals_single_queries(trained):
    queries = ["king", "paris", trained["city"], {"positive": ["king", "woman"], "negative": ["man"]}] + \
        trained.index_to_key[100:140]
    batch = trained.most_similar_batch(queries, topn=8)
    assert len(batch) == len(queries)
    for q, got in zip(queries, batch):
        if isinstance(q, dict):
            want = trained.most_similar(q["positive"], q["negative"], topn=8)
        else:
            want = trained.most_similar(q, topn=8)
        same_results(got, want, exact=False)
    restricted = trained.most_similar_batch(["king", "queen"], topn=5, restrict_vocab=300)
    for got, word in zip(restricted, ("king", "queen")):
        same_results(got, trained.most_similar(word, topn=5, restrict_vocab=300), exact=False)
    two_d = trained[["king", "queen"]]
    assert [r[0][0] for r in trained.most_similar_batch(two_d, topn=1)] == ["king", "queen"]


def test_norm_cache_is_invalidated():
    rng = np.random.default_rng(0)
    kv = KeyedVectors([f"w{i}" for i in range(50)], rng.standard_normal((50, 8)).astype(np.float32))
    before = kv.most_similar("w0", topn=3)
    kv.vectors[7] = kv.vectors[0] * 5
    kv.vectors_changed()
    assert kv.most_similar("w0", topn=1)[0][0] == "w7"
    kv.vectors = rng.standard_normal((50, 8)).astype(np.float32)
    assert kv.get_norms()[0] == pytest.approx(np.linalg.norm(kv.vectors[0]))
    assert before != kv.most_similar("w0", topn=3)


def test_add_vectors_matches_gensim_and_invalidates_norms(pair):
    base, _ = pair
    kv = KeyedVectors(base.index_to_key[:500], base.vectors[:500].copy(), base.counts[:500])
    g = to_gensim(kv)
    kv.get_norms()
    new = np.vstack([kv["king"] * 2, kv["the"], kv["of"] * -1]).astype(np.float32)
    keys = ["kingly", "the", "anti_of"]
    kv.add_vectors(keys, new)
    g.add_vectors(keys, new)
    assert kv.index_to_key == g.index_to_key and len(kv) == 502 and kv.counts.shape == (502,)
    np.testing.assert_array_equal(kv.vectors, g.vectors)
    assert kv.most_similar("king", topn=1)[0][0] == "kingly"
    same_results(kv.most_similar("of", topn=5), g.most_similar("of", topn=5))
    kv.add_vectors(["the"], new[2:3], replace=True)
    np.testing.assert_array_equal(kv["the"], new[2])
    kv["solo"] = new[0]
    assert kv.get_index("solo") == 502
    with pytest.raises(ValueError):
        kv.add_vectors(["x", "x"], new[:2])
    with pytest.raises(ValueError):
        kv.add_vectors(["y"], np.zeros((1, 3), np.float32))


def test_zero_and_nan_rows_do_not_crash():
    vectors = np.array([[1, 0, 0], [0, 0, 0], [0.9, 0.1, 0], [np.nan, 1, 0], [0, 1, 0]], dtype=np.float32)
    kv = KeyedVectors(["a", "zero", "b", "nan", "c"], vectors)
    with np.errstate(all="raise"):
        top = kv.most_similar("a", topn=4)
        assert top[0][0] == "b"
        assert kv.similarity("a", "zero") == 0.0
        np.testing.assert_array_equal(kv.get_vector("zero", norm=True), 0)
    assert [w for w, _ in kv.most_similar_batch(["a"], topn=2)[0]][0] == "b"
    assert kv.most_similar("nan", topn=2) is not None


# --- evaluation ---------------------------------------------------------------------------
def assert_same_analogies(ours, theirs):
    score, sections = ours
    want_score, want_sections = theirs
    assert score == pytest.approx(want_score, abs=1e-12)
    assert [s["section"] for s in sections] == [s["section"] for s in want_sections]
    for got, want in zip(sections, want_sections):
        assert got["correct"] == want["correct"], got["section"]
        assert got["incorrect"] == want["incorrect"], got["section"]


def small_analogy_file(tmp_path, per_section=60):
    lines, count = [], 0
    for line in open(datasets.analogies_path(), encoding="utf-8"):
        if line.startswith(":"):
            count = 0
            lines.append(line)
        elif count < per_section:
            lines.append(line)
            count += 1
    path = tmp_path / "analogies.txt"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def test_analogies_match_gensim_on_full_set(pair, gensim_full_analogies):
    ours, theirs = pair
    got = ours.evaluate_word_analogies(datasets.analogies_path(), restrict_vocab=30000)
    assert_same_analogies(got, gensim_full_analogies)
    assert got[1][-1]["section"] == "Total accuracy"
    assert len(got[1][-1]["correct"]) > 0  # the check is not vacuous


@pytest.mark.parametrize("kw", [dict(restrict_vocab=3000), dict(case_insensitive=False),
                                dict(dummy4unknown=True, restrict_vocab=5000)])
def test_analogy_options_match_gensim(pair, tmp_path, kw):
    ours, theirs = pair
    path = small_analogy_file(tmp_path)
    with one_blas_thread():
        want = theirs.evaluate_word_analogies(path, **kw)
    assert_same_analogies(ours.evaluate_word_analogies(path, **kw), want)


def test_analogies_mixed_case_vocab_and_ties(tmp_path):
    """Case variants of question words, duplicate vectors (exact ties) and a tiny vocabulary."""
    rng = np.random.default_rng(5)
    words = sorted({w for line in open(small_analogy_file(tmp_path, 15), encoding="utf-8")
                    if not line.startswith(":") for w in line.split()})
    keys = []
    for w in words:
        keys.append(w.lower())
        if rng.random() < 0.3:
            keys.append(w.upper() if rng.random() < 0.5 else w.capitalize())
    keys = list(dict.fromkeys(keys))
    keys += [f"filler{i}" for i in range(300)]
    order = rng.permutation(len(keys))
    keys = [keys[i] for i in order]
    vectors = rng.standard_normal((len(keys), 16)).astype(np.float32)
    index = {k: i for i, k in enumerate(keys)}
    for k in keys:  # make variants near-copies so they crowd the top candidates
        if k != k.lower() and k.lower() in index:
            vectors[index[k]] = vectors[index[k.lower()]] * 1.5
    vectors[index["filler7"]] = vectors[index["filler3"]]  # an exact tie
    kv = KeyedVectors(keys, vectors)
    g = to_gensim(kv)
    path = small_analogy_file(tmp_path, 15)
    for kw in (dict(), dict(case_insensitive=False), dict(restrict_vocab=200), dict(dummy4unknown=True)):
        with one_blas_thread():
            want = g.evaluate_word_analogies(path, **kw)
        assert_same_analogies(kv.evaluate_word_analogies(path, **kw), want)
    tiny = KeyedVectors(keys[:8], vectors[:8])
    assert_same_analogies(tiny.evaluate_word_analogies(path), to_gensim(tiny).evaluate_word_analogies(path))


def test_analogy_file_errors(tmp_path, trained):
    bad = tmp_path / "bad.txt"
    bad.write_text("king queen man woman\n", encoding="utf-8")
    with pytest.raises(ValueError, match="section"):
        trained.evaluate_word_analogies(str(bad))
    ok = tmp_path / "ok.txt"
    ok.write_text(": s\nthe of and\nzzz yyy xxx www\n", encoding="utf-8")
    score, sections = trained.evaluate_word_analogies(str(ok))
    assert score == 0.0 and sections[0]["incorrect"] == [] and sections[-1]["section"] == "Total accuracy"


@pytest.mark.parametrize("name", ["wordsim353_path", "simlex999_path"])
@pytest.mark.parametrize("kw", [dict(restrict_vocab=30000), dict(restrict_vocab=2000, dummy4unknown=True),
                                dict(case_insensitive=False)])
def test_word_pairs_match_gensim(pair, name, kw):
    ours, theirs = pair
    path = getattr(datasets, name)()
    (pr, pp), (sr, sp), oov = ours.evaluate_word_pairs(path, **kw)
    want_p, want_s, want_oov = theirs.evaluate_word_pairs(path, **kw)
    assert pr == pytest.approx(want_p[0], abs=1e-6) and pp == pytest.approx(want_p[1], abs=1e-6)
    assert sr == pytest.approx(want_s[0], abs=1e-6) and sp == pytest.approx(want_s[1], abs=1e-6)
    assert oov == pytest.approx(want_oov, abs=1e-9)


def test_word_pairs_all_oov_raises(trained, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# comment\nzzz\tyyy\t1.0\nbad line\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no valid"):
        trained.evaluate_word_pairs(str(path))


def test_evaluate_standard(pair, gensim_full_analogies):
    ours, theirs = pair
    res = ours.evaluate_standard(restrict_vocab=30000)
    assert set(res) == {"analogy", "ws353_spearman", "simlex_spearman", "ws353_pearson", "simlex_pearson",
                        "ws353_oov", "simlex_oov"}
    assert res["analogy"] == pytest.approx(gensim_full_analogies[0], abs=1e-12)
    _, spearman, oov = theirs.evaluate_word_pairs(datasets.wordsim353_path(), restrict_vocab=30000)
    assert res["ws353_spearman"] == pytest.approx(spearman[0], abs=1e-6)
    assert res["ws353_oov"] == pytest.approx(oov)
    assert all(isinstance(v, float) for v in res.values())


def test_analogy_speed_30k_vocab():
    """All 19,544 questions answerable against a 30k vocabulary: batched, a few seconds."""
    words = sorted({w for line in open(datasets.analogies_path(), encoding="utf-8")
                    if not line.startswith(":") for w in line.split()})
    keys = words + [f"filler{i}" for i in range(30000 - len(words))]
    vectors = np.random.default_rng(1).standard_normal((30000, 100)).astype(np.float32)
    kv = KeyedVectors(keys, vectors)
    t0 = time.perf_counter()
    score, sections = kv.evaluate_word_analogies(datasets.analogies_path(), restrict_vocab=30000,
                                                 case_insensitive=False)
    elapsed = time.perf_counter() - t0
    total = sections[-1]
    assert len(total["correct"]) + len(total["incorrect"]) == 19544
    assert elapsed < 10, f"analogy evaluation took {elapsed:.1f}s"


def test_exact_fallback_path_matches_gensim(pair, tmp_path, monkeypatch):
    """Force every question through the one-query path used for near-ties."""
    import cyw2v.evaluation as kvmod
    ours, theirs = pair
    path = small_analogy_file(tmp_path, 25)
    with one_blas_thread():
        want = theirs.evaluate_word_analogies(path, restrict_vocab=4000)
    monkeypatch.setattr(kvmod, "_TIE_MARGIN", np.inf)
    assert_same_analogies(ours.evaluate_word_analogies(path, restrict_vocab=4000), want)


def test_block_top_agrees_with_full_sort():
    from cyw2v._ranking import GROUP as _GROUP, block_top as _block_top
    rng = np.random.default_rng(2)
    for cols in (_GROUP * 3, _GROUP * 200):
        scores = rng.standard_normal((20, cols)).astype(np.float32)
        scores[3, :] = 0.5  # all tied
        scores[5, 10] = np.nan
        scores[7, :] = np.nan
        for top in (1, 6, 13):
            for row, found in enumerate(_block_top(scores.copy(), top)):
                if found is None:
                    assert np.isnan(scores[row]).sum() > cols - top - 1 or row in (5, 7)
                    continue
                cands, vals = found
                want = np.sort(scores[row][~np.isnan(scores[row])])[::-1][:top]
                np.testing.assert_array_equal(vals, want)
                np.testing.assert_array_equal(scores[row, cands], want)
