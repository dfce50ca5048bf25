"""Online vocabulary update: build_vocab(more, update=True) then train on the new text."""
from collections import Counter

import numpy as np
import pytest

from cyw2v import Word2Vec

OLD = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "ate", "a", "bone"]] * 30
NEW = [["the", "zebra", "ran", "past", "the", "cat"], ["a", "zebra", "and", "a", "yak"],
       ["rare", "the", "zebra"]] * 10 + [["once"]]


@pytest.fixture(params=[dict(negative=5, hs=0), dict(negative=0, hs=1)], ids=["ns", "hs"])
def model(request):
    m = Word2Vec(OLD, vector_size=10, min_count=2, workers=1, epochs=2, seed=11, **request.param)
    return m


def test_update_adds_words_and_keeps_old_weights(model):
    old_keys = list(model.wv.index_to_key)
    old_vectors = model.wv.vectors.copy()
    old_counts = model.wv.counts.copy()
    old_out = (model.syn1neg if model.negative else model.syn1).copy()
    model.build_vocab(NEW, update=True)
    wv = model.wv
    new_counts = Counter(w for s in NEW for w in s)
    added = [w for w in new_counts if w not in old_keys and new_counts[w] >= model.min_count]
    assert "once" not in wv  # below min_count
    assert wv.index_to_key[:len(old_keys)] == old_keys
    assert sorted(wv.index_to_key[len(old_keys):]) == sorted(added)
    tail_counts = wv.counts[len(old_keys):]
    assert list(tail_counts) == sorted(tail_counts, reverse=True)  # new words sorted by count
    for i, w in enumerate(old_keys):
        assert wv.counts[i] == old_counts[i] + new_counts.get(w, 0)
    np.testing.assert_array_equal(wv.vectors[:len(old_keys)], old_vectors)
    fresh = wv.vectors[len(old_keys):]
    assert np.all(fresh != 0) and np.all(np.abs(fresh) <= 1.0 / model.vector_size)  # gensim 4: [-1/d, 1/d)
    assert len({tuple(r) for r in fresh}) == len(fresh)  # distinct rows
    V = len(wv)
    if model.negative:
        assert model.syn1neg.shape == (V, model.vector_size)
        np.testing.assert_array_equal(model.syn1neg[:len(old_keys)], old_out)
        assert not model.syn1neg[len(old_keys):].any()  # zero output rows for new words
    else:
        assert model.syn1.shape == (V, model.vector_size)
        np.testing.assert_array_equal(model.syn1[:old_out.shape[0]], old_out)
    assert wv.get_norms().shape == (V,)


def test_training_continues_after_update(model, tmp_path):
    epochs_before = model.epochs_trained
    model.build_vocab(NEW, update=True)
    zebra_before = model.wv["zebra"].copy()
    cat_before = model.wv["cat"].copy()
    model.train(NEW, total_examples=len(NEW), epochs=2)
    assert model.epochs_trained == epochs_before + 2
    assert not np.array_equal(model.wv["zebra"], zebra_before)
    assert not np.array_equal(model.wv["cat"], cat_before)
    assert model.wv.most_similar("zebra", topn=3)  # norms were recomputed for the bigger matrix
    if model.negative:
        assert model.syn1neg[model.wv.get_index("zebra")].any()
    path = str(tmp_path / "m.cyw2v")
    model.save(path)
    loaded = Word2Vec.load(path)
    assert loaded.wv.index_to_key == model.wv.index_to_key
    np.testing.assert_array_equal(loaded.wv.counts, model.wv.counts)
    loaded.build_vocab([["gnu", "gnu", "zebra"]], update=True)
    assert "gnu" in loaded.wv
    loaded.train([["gnu", "gnu", "zebra"]] * 5, total_examples=5, epochs=1)


def test_update_without_vocabulary_fails():
    with pytest.raises(RuntimeError, match="build_vocab"):
        Word2Vec(vector_size=5, min_count=1).build_vocab(OLD, update=True)


def test_update_with_only_known_words(model):
    keys = list(model.wv.index_to_key)
    vectors = model.wv.vectors.copy()
    model.build_vocab(OLD[:4], update=True)
    assert model.wv.index_to_key == keys
    np.testing.assert_array_equal(model.wv.vectors, vectors)
    model.train(OLD[:4], total_examples=4, epochs=1)
