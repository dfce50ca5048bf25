"""The encoded corpus kept between epochs: its packed format, and training that replays it
exactly as it would have read the corpus again."""
import numpy as np
import pytest

from cyw2v import Text8Corpus, Word2Vec, _core
from cyw2v.datasets import demo_corpus_path
from cyw2v.training import CorpusCache, encoded_batches


def _zipf_job(rng, n_words, n_sentences, V=70_000):
    words = np.minimum(rng.zipf(1.1, n_words) - 1, V - 1).astype(np.int32)
    ends = np.sort(rng.integers(0, n_words + 1, n_sentences)).astype(np.int64)
    if n_sentences:
        ends[-1] = n_words
    return words, ends


# ------------------------------------------------------------------ the packed format
def test_pack_job_round_trips_every_index_width_and_empty_sentences():
    words = np.array([0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 2 ** 31 - 1, 5], np.int32)
    ends = np.array([0, 2, 2, 9, 10], np.int64)   # an empty first and third sentence
    blob = _core.pack_job(words, ends)
    # 2 counts + the varints' widths (1,1,1,2,2,3,3,4,5,1) + 5 one-byte lengths
    assert len(blob) == 2 + 23 + 5
    w, e = _core.unpack_job(blob)
    assert w.dtype == np.int32 and e.dtype == np.int64
    np.testing.assert_array_equal(w, words)
    np.testing.assert_array_equal(e, ends)
    w, e = _core.unpack_job(_core.pack_job(np.zeros(0, np.int32), np.zeros(0, np.int64)))
    assert w.shape == (0,) and e.shape == (0,)


def test_pack_job_round_trips_random_jobs_in_under_two_bytes_a_word():
    rng = np.random.default_rng(5)
    sizes = []
    for n_words, n_sentences in [(1, 1), (10_000, 1), (10_000, 900), (3, 0), (50_000, 7)]:
        words, ends = _zipf_job(rng, n_words, n_sentences)
        blob = _core.pack_job(words, ends)
        w, e = _core.unpack_job(blob)
        np.testing.assert_array_equal(w, words)
        np.testing.assert_array_equal(e, ends)
        if n_words >= 10_000 and n_sentences < 10:
            sizes.append(len(blob) / n_words)
    assert max(sizes) < 2.0   # int32: 4


def test_pack_job_refuses_what_training_would_not_take():
    with pytest.raises(ValueError, match="negative"):
        _core.pack_job(np.array([3, -1], np.int32), np.array([2], np.int64))
    with pytest.raises(ValueError, match="out of order"):
        _core.pack_job(np.array([3, 1, 2], np.int32), np.array([2, 1, 3], np.int64))
    with pytest.raises(ValueError, match="past the words"):
        _core.pack_job(np.array([3, 1], np.int32), np.array([3], np.int64))


def test_unpack_job_rejects_every_truncation_and_corruption():
    words, ends = _zipf_job(np.random.default_rng(1), 300, 4)
    blob = _core.pack_job(words, ends)
    for k in range(len(blob)):
        with pytest.raises(ValueError, match="truncated or malformed"):
            _core.unpack_job(blob[:k])
    bad = [blob + b"\x00",                                  # trailing bytes
           b"\xff" * 12,                                   # a varint that never ends
           bytes([5, 0, 1, 2, 3]),                         # 5 words, 3 bytes left
           bytes([1, 1, 0x80, 0x80, 0x80, 0x80, 0x08, 1]),  # an index of 2**31
           bytes([2, 1, 7, 7, 3])]                         # a sentence past the words
    for blob in bad:
        with pytest.raises(ValueError, match="truncated or malformed"):
            _core.unpack_job(blob)


# ------------------------------------------------------------------ the cache
def _vocab_model(corpus, **kw):
    return Word2Vec(vector_size=16, min_count=1, workers=1, seed=3, **kw).build_vocab(corpus)


def test_a_recorded_pass_replays_the_same_batches():
    corpus = Text8Corpus(demo_corpus_path(), max_sentence_length=3000)
    m = _vocab_model([["the", "of"]] + [s[:2000] for s in corpus][:40])
    fresh = list(encoded_batches(corpus, m.vocab, 10_000))
    cache = CorpusCache(64 << 20)
    recorded = list(cache.batches(corpus, m.vocab, 10_000))
    assert cache.complete
    replayed = list(cache.batches(None, m.vocab, 10_000))   # the corpus is not read again
    assert len(fresh) == len(recorded) == len(replayed) > 10
    for a, b, c in zip(fresh, recorded, replayed):
        for x, y, z in zip(a, b, c):
            np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(x, z)


def test_an_unfinished_pass_is_not_replayed_and_a_later_one_starts_afresh():
    corpus = [["a", "b", "c"]] * 50
    m = _vocab_model(corpus, batch_words=30)
    cache = CorpusCache(1 << 20)
    stream = cache.batches(corpus, m.vocab, 30)
    next(stream), next(stream)
    stream.close()
    assert not cache.complete
    full = list(cache.batches(corpus, m.vocab, 30))
    assert cache.complete
    assert len(list(cache.batches(None, m.vocab, 30))) == len(full) == 5


def test_a_corpus_larger_than_the_limit_is_not_kept():
    corpus = [["a", "b", "c"]] * 500
    m = _vocab_model(corpus, batch_words=30)
    cache = CorpusCache(2_000)   # 50 batches of ~140 bytes
    assert len(list(cache.batches(corpus, m.vocab, 30))) == 50
    assert not cache.complete and cache._packed == []
    assert len(list(cache.batches(corpus, m.vocab, 30))) == 50   # read again
    assert not cache.complete


class CountingCorpus:
    """An iterable corpus that counts its passes."""

    def __init__(self, sentences):
        self.sentences, self.passes = sentences, 0

    def __iter__(self):
        def reading():
            self.passes += 1   # on the first sentence read: a bare iter() is no pass
            yield from self.sentences
        return reading()


@pytest.mark.parametrize("cache_mb,passes", [(1024, 1), (1, 3), (0, 3)])
def test_training_reads_the_corpus_once_and_trains_as_if_it_read_it_every_epoch(cache_mb, passes):
    """workers=1 is deterministic: the replay must give the weights that reading gives.
    1 MiB is smaller than the ~2.6 MB the packed corpus takes: it is read every epoch."""
    sentences = list(Text8Corpus(demo_corpus_path()))
    weights = {}
    for mb in (0, cache_mb):
        corpus = CountingCorpus(sentences)
        m = Word2Vec(vector_size=24, workers=1, epochs=3, seed=7, corpus_cache_mb=mb).build_vocab(corpus)
        corpus.passes = 0
        m.train(corpus, total_examples=m.corpus_count, epochs=3)
        weights[mb] = (m.wv.vectors.copy(), m.syn1neg.copy())
        assert corpus.passes == (3 if mb == 0 else passes)
    np.testing.assert_array_equal(weights[0][0], weights[cache_mb][0])
    np.testing.assert_array_equal(weights[0][1], weights[cache_mb][1])


def test_each_train_call_reads_its_own_corpus():
    first, second = CountingCorpus([["a", "b", "c"]] * 30), CountingCorpus([["c", "d", "a"]] * 30)
    m = Word2Vec(vector_size=8, min_count=1, workers=2, epochs=4, seed=1)
    m.build_vocab([["a", "b", "c", "d"]])
    m.train(first, total_examples=30)
    before = m.wv["d"].copy()
    m.train(second, total_examples=30)
    assert first.passes == 1 and second.passes == 1
    assert not np.array_equal(before, m.wv["d"])   # "d" is only in the second corpus


def test_corpus_cache_mb_is_validated():
    for bad in (-1, 1.5, "big", None):
        with pytest.raises(ValueError, match="corpus_cache_mb"):
            Word2Vec(corpus_cache_mb=bad)
