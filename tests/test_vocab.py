"""Vocabulary statistics checked against their definitions."""
import heapq
import logging
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from cyw2v import Word2Vec, _core
from cyw2v.vocab import (Vocabulary, alias_distribution, alias_table, huffman, keep_probabilities,
                         keep_thresholds, noise_distribution, scan_corpus)


# ------------------------------------------------------------------ Huffman
def optimal_cost(counts):
    """Cost of an optimal prefix code = sum of all merge weights (independent heap method)."""
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


def codes_of(counts):
    off, code, point = huffman(np.asarray(counts, dtype=np.int64))
    return [tuple(code[off[w]:off[w + 1]]) for w in range(len(counts))], (off, code, point)


@pytest.mark.parametrize("counts", [
    [5], [3, 3], [10, 1], [7, 7, 7, 7], [1, 1, 2, 3, 5, 8, 13], list(range(1, 40)),
    np.random.default_rng(0).zipf(1.3, 500).tolist(), [0, 0, 4, 1]])
def test_huffman_is_prefix_free_and_optimal(counts):
    codes, (off, code, point) = codes_of(counts)
    V = len(counts)
    if V == 1:
        assert codes == [()]
        return
    assert all(len(c) >= 1 for c in codes)
    strings = sorted("".join(map(str, c)) for c in codes)
    for a, b in zip(strings, strings[1:]):
        assert not b.startswith(a), f"{a} is a prefix of {b}"
    weighted = sum(int(c) * len(k) for c, k in zip(counts, codes))
    assert weighted == optimal_cost(counts)
    # inner nodes are rows 0..V-2 of syn1; every path starts at the root (V-2)
    assert point.min() >= 0 and point.max() == V - 2
    assert all(point[off[w]] == V - 2 for w in range(V))
    assert max(len(c) for c in codes) <= _core.MAX_CODE_LENGTH


def test_huffman_v2_and_paths_consistent():
    codes, (off, code, point) = codes_of([3, 9])
    assert sorted(codes) == [(0,), (1,)]
    assert codes[1] == (1,)  # the heavier child gets bit 1
    assert list(point) == [0, 0]


def test_huffman_bound_is_enforced():
    fib = [1, 1]
    while len(fib) < 20:
        fib.append(fib[-1] + fib[-2])
    counts = np.array(fib, dtype=np.int64)  # Fibonacci counts give the deepest tree: V - 1
    with pytest.raises(ValueError, match="exceeds the bound"):
        _core.build_huffman(counts, 18)
    off, _, _ = _core.build_huffman(counts, 19)
    assert np.diff(off).max() == 19
    # int64 counts cannot reach the engine's default bound: depth <= ~90 < MAX_CODE_LENGTH
    with pytest.raises(ValueError, match="too large"):
        huffman(np.array([2 ** 61, 2 ** 61, 2 ** 61], dtype=np.int64))


def test_huffman_one_million_words():
    ranks = np.arange(1, 1_000_001, dtype=np.float64)
    counts = (1e9 / ranks ** 1.1).astype(np.int64) + 5  # Zipf-like, 1M words
    off, code, point = huffman(counts)
    lengths = np.diff(off)
    assert lengths.min() >= 1 and lengths.max() <= _core.MAX_CODE_LENGTH
    assert np.isclose(np.sum(2.0 ** -lengths.astype(np.float64)), 1.0)  # Kraft equality
    assert int(np.dot(lengths, counts)) == optimal_cost(counts)


# ------------------------------------------------------------------ noise distribution
def engine_for(counts, ns_exponent=0.75, sample=0.0, negative=5):
    V = len(counts)
    z = np.zeros((V, 4), np.float32)
    prob, alias = alias_table(noise_distribution(counts, ns_exponent))
    off, code, point = huffman(counts)
    return _core.Engine(
        SimpleNamespace(syn0=z, syn1neg=z.copy(), syn1=z[:max(V - 1, 1)].copy(), syn1softmax=z.copy()),
        SimpleNamespace(keep=keep_thresholds(counts, sample), alias_prob=prob, alias_index=alias,
                        hs_offset=off, hs_code=code, hs_point=point),
        SimpleNamespace(sg=1, cbow_mean=1, window=2, shrink_windows=1, negative=negative, hs=0,
                        softmax=0, batch_window=1, combine=1, compute_loss=0, hot_rows=0,
                        hot_sync_words=4096))


COUNTS = np.array([5000, 2500, 1200, 800, 300, 120, 60, 25, 9, 5, 1], dtype=np.int64)


def test_alias_table_is_exact():
    p = noise_distribution(COUNTS, 0.75)
    np.testing.assert_allclose(alias_distribution(*alias_table(p)), p, rtol=1e-8, atol=1e-12)


def test_noise_draws_follow_counts_pow_075():
    draws = engine_for(COUNTS).draw_noise_samples(1_000_000, 12345)
    observed = np.bincount(draws, minlength=len(COUNTS))
    expected = noise_distribution(COUNTS, 0.75) * len(draws)
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # the test has power: the same draws reject counts^1.0 and counts^0.5
    for wrong in (1.0, 0.5):
        bad = noise_distribution(COUNTS, wrong) * len(draws)
        assert stats.chisquare(observed, bad).pvalue < 1e-12


def test_ns_exponent_zero_is_uniform_and_negative_is_allowed():
    draws = engine_for(COUNTS, ns_exponent=0.0).draw_noise_samples(200_000, 7)
    observed = np.bincount(draws, minlength=len(COUNTS))
    assert stats.chisquare(observed).pvalue > 1e-3
    p = noise_distribution(COUNTS, -0.5)
    assert p[-1] > p[0]


# ------------------------------------------------------------------ subsampling
def test_keep_probability_formula():
    counts = np.array([100_000, 10_000, 1_000, 10], dtype=np.int64)
    s, T = 1e-3, counts.sum()
    f = counts / T
    expected = np.minimum((np.sqrt(f / s) + 1) * s / f, 1.0)  # word2vec.c, in frequencies
    np.testing.assert_allclose(keep_probabilities(counts, s), expected, rtol=1e-12)
    assert np.all(keep_probabilities(counts, 0.0) == 1.0)
    thr = keep_thresholds(counts, s)
    assert thr.dtype == np.uint64 and thr[-1] == 1 << 32


def test_subsampling_keep_rates_match_formula():
    counts = np.array([200_000, 50_000, 5_000, 500, 50], dtype=np.int64)
    sample = 1e-3
    engine = engine_for(counts, sample=sample)
    words = np.arange(len(counts), dtype=np.int32)
    reps = 200_000
    kept = engine.subsample_counts(words, reps, 99)
    p = keep_probabilities(counts, sample)
    z = (kept - reps * p) / np.sqrt(reps * p * (1 - p) + 1e-12)
    assert np.all(np.abs(z) < 5), (kept / reps, p)
    assert kept[-1] == reps  # rare words are always kept


# ------------------------------------------------------------------ counting options
def test_sorted_vocab_descending_ties_first_seen():
    corpus = [["b", "a", "c", "a", "d", "c", "e"]]
    vocab = Vocabulary.from_counts(scan_corpus(corpus).counts, min_count=1)
    assert vocab.index_to_key == ["a", "c", "b", "d", "e"]
    unsorted = Vocabulary.from_counts(scan_corpus(corpus).counts, min_count=1, sorted_vocab=False)
    assert unsorted.index_to_key == ["b", "a", "c", "d", "e"]


def test_max_final_vocab_drops_ties_together():
    counts = {"a": 10, "b": 7, "c": 7, "d": 7, "e": 2}
    assert Vocabulary.from_counts(counts, 1, max_final_vocab=3).index_to_key == ["a"]
    assert Vocabulary.from_counts(counts, 1, max_final_vocab=4).index_to_key == ["a", "b", "c", "d"]


def test_max_vocab_size_prunes_and_warns(caplog):
    corpus = [[f"rare{i}", "common"] for i in range(100)]
    with caplog.at_level(logging.WARNING):
        scan = scan_corpus(corpus, max_vocab_size=10)
    assert scan.pruned and len(scan.counts) <= 11
    assert scan.counts["common"] == 100
    assert "approximate" in caplog.text


def test_build_vocab_from_freq_and_min_count():
    model = Word2Vec(min_count=2, vector_size=4)
    model.build_vocab_from_freq({"x": 5, "y": 1, "z": 3})
    assert model.wv.index_to_key == ["x", "z"]
    assert model.wv.counts.tolist() == [5, 3]
    with pytest.raises(ValueError):
        model.build_vocab_from_freq({"x": -1})
