"""cyw2v.sklearn.Word2VecTransformer: API conformance, Pipeline and GridSearchCV.

scikit-learn's ``check_estimator`` feeds numeric 2-D arrays, which a text transformer
rejects, so we run the API checks that do not fit on numbers (APPLICABLE_CHECKS) and
text-input versions of the fitting checks (overwrite params, fit returns self, no new
public attributes, pickling, idempotent fit, unfitted errors).
"""
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402

from cyw2v.sklearn import Word2VecTransformer  # noqa: E402

#: check_estimator checks that apply to an estimator taking text (they never call fit on numbers).
APPLICABLE_CHECKS = [
    "check_parameters_default_constructible", "check_no_attributes_set_in_init",
    "check_get_params_invariance", "check_set_params", "check_estimator_cloneable",
    "check_estimator_repr", "check_mixin_order", "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimators_unfitted", "check_transformers_unfitted", "check_get_feature_names_out_error",
    "check_valid_tag_types", "check_estimator_tags_renamed",
]

ANIMALS = ["cat", "dog", "horse", "cow", "sheep", "goat"]
TOOLS = ["hammer", "saw", "drill", "wrench", "chisel", "pliers"]


def _labelled(n: int = 120, seed: int = 0):
    """Two topics: sentences drawn from animal words or from tool words, plus shared fillers."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(TOOLS if label else ANIMALS, size=6))
        words += list(rng.choice(["the", "a", "and", "with", "near"], size=3))
        rng.shuffle(words)
        docs.append(" ".join(words))
        labels.append(label)
    return docs, np.array(labels)


def small(**kw) -> Word2VecTransformer:
    params = dict(vector_size=10, min_count=1, epochs=5, workers=1, window=3, seed=3)
    params.update(kw)
    return Word2VecTransformer(**params)


@pytest.mark.parametrize("check_name", APPLICABLE_CHECKS)
def test_sklearn_api_checks(check_name):
    check = getattr(estimator_checks, check_name, None)
    if check is None:
        pytest.skip(f"{check_name} not in this scikit-learn version")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check("Word2VecTransformer", small())


def test_fit_transform_shape_dtype_and_unknown_documents():
    docs, _ = _labelled(40)
    t = small()
    assert t.fit(docs) is t
    X = t.transform(docs + ["zzz unknown words only", ""])
    assert X.shape == (42, 10) and X.dtype == np.float32
    assert np.all(X[-2:] == 0) and np.all(np.abs(X[:-2]).sum(axis=1) > 0)
    assert set(t.vocabulary_) >= set(ANIMALS + TOOLS)
    assert list(t.get_feature_names_out())[:2] == ["word2vec0", "word2vec1"]


def test_mean_matches_word_vectors_and_tfidf_weights():
    docs = ["Cat cat dog", "dog bird", "bird cat"] * 10
    t = small().fit(docs)
    wv = t.model_.wv
    np.testing.assert_allclose(t.transform(["cat cat dog"])[0], (2 * wv["cat"] + wv["dog"]) / 3, rtol=1e-5)
    # token lists are lower-cased too; tokenizer is only for strings
    np.testing.assert_allclose(t.transform([["CAT", "dog"]])[0], (wv["cat"] + wv["dog"]) / 2, rtol=1e-5)
    tt = small(tfidf=True).fit(docs + ["cat"] * 30)
    assert tt.idf_[tt.vocabulary_["cat"]] < tt.idf_[tt.vocabulary_["bird"]]
    w = tt.idf_[[tt.vocabulary_["cat"], tt.vocabulary_["bird"]]]
    v = tt.model_.wv
    expected = (w[0] * v["cat"] + w[1] * v["bird"]) / w.sum()
    np.testing.assert_allclose(tt.transform(["cat bird"])[0], expected, rtol=1e-5)


def test_tokenizer_and_lowercase():
    t = small(tokenizer=lambda s: s.split(","), lowercase=False).fit(["A,b,c", "b,c,A"] * 10)
    assert set(t.vocabulary_) == {"A", "b", "c"}


def test_pipeline_fits_and_predicts():
    docs, y = _labelled(160)
    pipe = Pipeline([("w2v", small(vector_size=16, epochs=10)), ("clf", LogisticRegression(max_iter=500))])
    pipe.fit(docs[:120], y[:120])
    accuracy = (pipe.predict(docs[120:]) == y[120:]).mean()
    assert accuracy >= 0.8, accuracy


def test_grid_search_over_one_parameter():
    docs, y = _labelled(80)
    pipe = Pipeline([("w2v", small()), ("clf", LogisticRegression(max_iter=300))])
    search = GridSearchCV(pipe, {"w2v__vector_size": [4, 8]}, cv=2)
    search.fit(docs, y)
    assert search.best_params_["w2v__vector_size"] in (4, 8)
    assert search.predict(docs[:3]).shape == (3,)


def test_clone_get_set_params_and_no_param_changes_in_fit():
    t = small(tfidf=True)
    params = t.get_params()
    assert params["tfidf"] is True and params["tokenizer"] is None and params["vector_size"] == 10
    c = clone(t)
    assert c is not t and c.get_params() == params and not hasattr(c, "model_")
    assert c.set_params(window=2) is c and c.window == 2
    with pytest.raises(ValueError):
        c.set_params(no_such_param=1)
    docs, _ = _labelled(20)
    before = dict(t.__dict__)
    t.fit(docs)
    added = set(t.__dict__) - set(before)
    assert all(k.endswith("_") and not k.startswith("_") for k in added), added
    assert {k: t.__dict__[k] for k in before} == before  # hyperparameters untouched


def test_unfitted_and_bad_input():
    with pytest.raises(NotFittedError):
        small().transform(["a b"])
    with pytest.raises(ValueError):
        small().fit("one string is not a corpus")
    with pytest.raises(ValueError):
        small().fit([])
    with pytest.raises(ValueError):
        small().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="min_count"):
        small(min_count=100).fit(["a b c"])


def test_pickle_and_idempotent_fit():
    docs, _ = _labelled(30)
    t = small().fit(docs)
    X = t.transform(docs)
    t2 = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(t2.transform(docs), X)
    np.testing.assert_array_equal(t.fit(docs).transform(docs), X)  # workers=1, fixed seed
