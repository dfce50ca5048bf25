"""cyw2v.dask's merge rule and hot-row schedule, on toy replicas (no cluster)."""
import os

import numpy as np
import pytest

pytest.importorskip("distributed")

from cyw2v.dask.merge import (MAX_REPLICA_ALPHA, RULES, bytes_moved, gathers, hot_count,  # noqa: E402
                              merge_payloads, merge_ranges, payload_bytes, split_ranges, trailing_zeros)
from cyw2v.dask.replica import Replica, RoundPlan  # noqa: E402
from cyw2v.training import Schedule, Stats  # noqa: E402
from test_corpus_cache import _CountingWorker  # noqa: E402  (tests/ is on the path)

WORDS = [f"w{i}" for i in range(12)]
COUNTS = np.arange(120, 0, -10)        # sorted by count, as the vocabulary is
META = {"index_to_key": WORDS, "corpus_count": 1, "corpus_total_words": int(COUNTS.sum()), "vocab_pruned": False}
PARAMS = {"vector_size": 6, "min_count": 1, "workers": 1, "hs": 1, "negative": 3, "seed": 7}


def replicas(n):
    return [Replica(PARAMS, META, COUNTS, None, [], compute_loss=False) for _ in range(n)]


def reference(base, trained, rule):
    """Row by row, in float64: W_old + sum_k (W_k - W_old) / K ("average", K replicas),
    / n_r ("mean", n_r = replicas whose row changed) or / 1 ("sum")."""
    out = base.astype(np.float64)
    for r in range(base.shape[0]):
        changed = [w[r].astype(np.float64) for w in trained if not np.array_equal(w[r], base[r])]
        if changed:
            divisor = {"average": len(trained), "mean": len(changed), "sum": 1}[rule]
            out[r] = base[r] + sum(w - base[r] for w in changed) / divisor
    return out


def test_replicas_start_identical_from_the_seed():
    a, b = replicas(2)
    assert set(a.storage) == {"vectors", "syn1neg", "syn1"}
    for name in a.storage:
        assert np.array_equal(a.storage[name], b.storage[name])
    assert a.storage["syn1"].shape[0] == len(WORDS)   # gensim's V rows: the V - 1 Huffman inner nodes and one unused


@pytest.mark.parametrize("slices,rule", [(1, "average"), (3, "average"), (1, "mean"), (3, "mean"), (2, "sum")])
def test_merge_rule_matches_numpy_reference(slices, rule):
    reps = replicas(3)
    rng = np.random.default_rng(0)
    d = PARAMS["vector_size"]
    # rows touched by: none (0, 1), replica 0 only (2, 3), replicas 0 and 2 (4), all (the rest)
    touched = {0: [2, 3, 4, *range(5, 12)], 1: list(range(5, 12)), 2: [4, *range(5, 12)]}
    for k, rep in enumerate(reps):
        for name, w in rep.storage.items():
            rows = [r for r in touched[k] if r < w.shape[0]]
            w[rows, :d] += rng.normal(size=(len(rows), d)).astype(np.float32)
    base = {name: reps[0].base[name].copy() for name in reps[0].storage}
    trained = {name: [rep.storage[name][:, :d].copy() for rep in reps] for name in base}
    ranges = merge_ranges({name: w.shape[0] for name, w in reps[0].storage.items()}, None)
    payloads = [rep.extract(ranges, slices) for rep in reps]
    merged = [merge_payloads([p[j] for p in payloads], rule) for j in range(slices)]
    for rep in reps:
        rep.apply(merged)
    for name in base:
        expected = reference(base[name], trained[name], rule)
        for rep in reps:
            np.testing.assert_allclose(rep.storage[name][:, :d], expected, rtol=1e-6, atol=1e-7)
            assert np.array_equal(rep.base[name], rep.storage[name][:, :d])
            assert not rep.storage[name][:, d:].any()          # the padding stays zero
        np.testing.assert_array_equal(expected[:2], base[name][:2])   # untouched: unchanged
        if rule != "average":   # one replica: its whole update
            np.testing.assert_array_equal(expected[2:4], trained[name][0][2:4])


def test_rows_outside_the_merge_keep_drifting():
    a, b = replicas(2)
    d = PARAMS["vector_size"]
    for rep, step in ((a, 1.0), (b, 2.0)):
        rep.storage["vectors"][:, :d] += step
    ranges = merge_ranges({"vectors": len(WORDS)}, 4)
    merged = [merge_payloads([a.extract(ranges, 1)[0], b.extract(ranges, 1)[0]])]
    a.apply(merged)
    b.apply(merged)
    np.testing.assert_allclose(a.storage["vectors"][:4, :d], b.storage["vectors"][:4, :d])
    assert not np.allclose(a.storage["vectors"][4:, :d], b.storage["vectors"][4:, :d])


def test_a_late_merge_keeps_what_was_trained_since():
    """overlap: the merge of round s lands after round s + 1 trained; W = B_old + M + (the
    training since the payload was taken), B = B_old + M, and the next payload is that
    training alone."""
    a, b = replicas(2)
    d = PARAMS["vector_size"]
    rng = np.random.default_rng(1)
    ranges = merge_ranges({"vectors": len(WORDS), "syn1neg": len(WORDS)}, 6)
    base = {name: a.base[name].astype(np.float64) for name in ranges}
    for rep in (a, b):
        for name in ranges:
            rep.storage[name][:, :d] += rng.normal(size=(len(WORDS), d)).astype(np.float32)
    pa, pb = a.extract(ranges, 1), b.extract(ranges, 1)
    later = {name: rng.normal(size=(len(WORDS), d)).astype(np.float32) for name in ranges}
    later["vectors"][2] = 0                     # a row a does not train in round s + 1
    before = {name: a.storage[name][:, :d].astype(np.float64) for name in ranges}
    for name in ranges:
        a.storage[name][:, :d] += later[name]   # round s + 1, while the merge travels
    merged = [merge_payloads([pa[0], pb[0]], "average")]
    a.apply(merged, late=pa)
    for name, (lo, hi) in ranges.items():
        m = (pa[0][name][1].astype(np.float64) + pb[0][name][1]) / 2
        np.testing.assert_allclose(a.base[name][lo:hi], base[name][lo:hi] + m, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(a.storage[name][lo:hi, :d], base[name][lo:hi] + m + later[name][lo:hi],
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(a.storage[name][hi:, :d], before[name][hi:] + later[name][hi:], rtol=1e-6)
        np.testing.assert_allclose(a.extract(ranges, 1)[0][name][1], later[name][lo:hi], rtol=1e-4, atol=1e-5)
    # no training since: W = B (exactly, as the payload was the exact difference here)
    np.testing.assert_allclose(a.storage["vectors"][2, :d], a.base["vectors"][2], rtol=1e-6)
    untouched = replicas(1)[0]
    ranges = merge_ranges({"vectors": len(WORDS)}, 4)
    own = untouched.extract(ranges, 1)
    other = {"vectors": (0, rng.normal(size=(4, d)).astype(np.float32))}
    untouched.apply([merge_payloads([own[0], other])], late=own)   # rows it never trained: W = B bit for bit
    np.testing.assert_array_equal(untouched.storage["vectors"][:4, :d], untouched.base["vectors"][:4])


def test_hot_row_schedule():
    assert [trailing_zeros(n) for n in range(1, 9)] == [0, 1, 0, 2, 0, 1, 0, 3]
    assert [hot_count(n, 1024) for n in range(1, 9)] == [1024, 2048, 1024, 4096, 1024, 2048, 1024, 8192]
    rows = {"vectors": 5000, "syn1neg": 5000, "syn1": 4999, "syn1softmax": 0}
    r1 = merge_ranges(rows, hot_count(1, 1024))
    assert r1 == {"vectors": (0, 1024), "syn1neg": (0, 1024), "syn1": (4999 - 1024, 4999)}   # root last
    assert merge_ranges(rows, hot_count(4, 1024))["vectors"] == (0, 4096)
    assert merge_ranges(rows, hot_count(8, 1024)) == merge_ranges(rows, None)    # capped: every row
    assert merge_ranges(rows, None) == {"vectors": (0, 5000), "syn1neg": (0, 5000), "syn1": (0, 4999)}
    with pytest.raises(ValueError):
        trailing_zeros(0)


def test_slices_cover_the_ranges_and_payload_sizes():
    ranges = {"vectors": (0, 10), "syn1": (89, 99)}
    pieces = split_ranges(ranges, 3)
    for name, (a, b) in ranges.items():
        covered = [r for p in pieces for r in range(*p[name])]
        assert covered == list(range(a, b))
    assert payload_bytes(ranges, 100) == 20 * 100 * 4
    assert bytes_moved(ranges, 100, 4, gather=False) == 2 * 3 * 20 * 100 * 4
    assert bytes_moved(ranges, 100, 4, gather=True) == 4 * 3 * 20 * 100 * 4
    assert bytes_moved(ranges, 100, 2, gather=True) == bytes_moved(ranges, 100, 2, gather=False)
    assert bytes_moved(ranges, 100, 1, gather=True) == 0
    assert gathers(ranges, 100, 2) and gathers(ranges, 100, 4)      # 3 x 8 kB: small
    assert gathers({"vectors": (0, 10**6)}, 100, 2) and not gathers({"vectors": (0, 10**6)}, 100, 3)


def test_average_rule_trains_replicas_at_k_times_alpha():
    assert [RULES[name].alpha_scale(4, 0.025) for name in ("average", "mean", "sum")] == [4.0, 1.0, 1.0]
    # capped: the replicas start at most at MAX_REPLICA_ALPHA, never below alpha
    assert RULES["average"].alpha_scale(4, 0.05) * 0.05 == pytest.approx(MAX_REPLICA_ALPHA)
    assert RULES["average"].alpha_scale(2, 0.05) == 2.0
    assert RULES["average"].alpha_scale(4, 0.5) == 1.0 and RULES["mean"].alpha_scale(4, 0.05) == 1.0
    shard = [[WORDS[:6], WORDS[6:]]]
    rep = Replica(PARAMS, META, COUNTS, None, shard, compute_loss=False)
    seen = []

    def spy(sentences, alpha, *args):
        seen.append((alpha(0.0), alpha(1.0)))
        return Stats()
    rep.trainer.train_iterable = spy
    schedule = Schedule(0.025, 0.0001, 2)
    for scale in (1.0, 4.0):
        rep.train(RoundPlan(0, 0, 2, schedule, 1, {}, 1, scale), 0)
    (a0, a1), (b0, b1) = seen
    assert a0 == pytest.approx(schedule.alpha(0, 0.0)) and a1 == pytest.approx(schedule.alpha(0, 0.5))
    assert (b0, b1) == pytest.approx((4 * a0, 4 * a1))


def test_the_driver_plans_the_capped_rate_of_the_resolved_alpha():
    from cyw2v.dask import DaskWord2Vec
    from cyw2v.dask.driver import _Replicas
    for kw, K, start, replica_start in ((dict(sg=0), 2, 0.05, 0.1), (dict(sg=0), 4, 0.05, MAX_REPLICA_ALPHA),
                                        (dict(sg=1), 4, 0.025, 0.1), (dict(sg=0, alpha=0.025), 4, 0.025, 0.1)):
        driver = DaskWord2Vec(**kw)
        replicas = _Replicas(None, [f"w{k}" for k in range(K)])
        replicas.words = [10 ** 6] * K
        schedule = Schedule(driver.model.alpha, driver.model.min_alpha, driver.model.epochs)
        plan = next(driver._plans(replicas, schedule, 0))
        assert schedule.start == start and plan.alpha_scale * start == pytest.approx(replica_start), (kw, K)


def test_default_rounds_follow_the_replicas_and_the_model():
    from cyw2v.dask import DaskWord2Vec
    from cyw2v.dask.driver import MIN_SYNC_PERIOD, OVERLAP_BYTES
    sg, cbow = DaskWord2Vec(sg=1), DaskWord2Vec(sg=0)
    assert [sg.sync_period_for(K) for K in (2, 4)] == [250_000, 62_500]
    assert [cbow.sync_period_for(K) for K in (2, 4)] == [1_000_000, 500_000]
    assert sg.sync_period_for(1000) == MIN_SYNC_PERIOD
    assert DaskWord2Vec(sg=1, sync_period=7).sync_period_for(4) == 7
    assert [sg._lands_late(b) for b in (OVERLAP_BYTES, OVERLAP_BYTES + 1)] == [False, True]
    assert not DaskWord2Vec(overlap="never")._lands_late(1 << 40) and DaskWord2Vec(overlap="always")._lands_late(1)


def _count_reads(trainer, counts, monkeypatch, originals):
    """Count what ``trainer`` reads (file pieces, iterable batches) and replays."""
    from cyw2v import training
    trainer.workers = [_CountingWorker(w, counts) for w in trainer.workers]
    encode, unpack = originals

    def counted(*args):
        for batch in encode(*args):
            counts["read"] += 1
            yield batch

    def unpacked(blob):
        counts["replayed"] += 1
        return unpack(blob)
    monkeypatch.setattr(training, "encoded_batches", counted)
    monkeypatch.setattr(training._core, "unpack_job", unpacked)


@pytest.mark.parametrize("files", [True, False])
def test_a_replica_reads_each_span_once_and_trains_as_if_read_every_epoch(tmp_path, monkeypatch, files):
    """Every epoch's rounds train the same spans of the shard: with corpus_cache_mb the
    replica reads each in the first epoch only and replays it in the later ones, to the
    same weights (workers=1) as reading every epoch (corpus_cache_mb=0); the last epoch
    records nothing, and neither does any epoch of a one-epoch schedule."""
    from cyw2v import Text8Corpus, Word2Vec, training
    from cyw2v.datasets import demo_corpus_path
    from cyw2v.dask.merge import merge_ranges
    monkeypatch.setattr(training, "FILE_PIECE_BYTES", 8_192)
    words = [w for s in Text8Corpus(demo_corpus_path()) for w in s][:60_000]
    sentences = [words[i:i + 700] for i in range(0, len(words), 700)]
    paths = []
    for k, part in enumerate((sentences[:40], sentences[40:])):   # two files: two segments
        paths.append(str(tmp_path / f"part{k}.txt"))
        with open(paths[-1], "w", encoding="utf-8") as f:
            f.write("\n".join(" ".join(s) for s in part) + "\n")
    shard = ([(p, 0, os.path.getsize(p)) for p in paths] if files else [sentences[:50], sentences[50:]])
    params = dict(vector_size=16, min_count=2, workers=1, seed=3, epochs=3)
    built = Word2Vec(**params)
    built.build_vocab(sentences)
    R = 4
    originals = (training.encoded_batches, training._core.unpack_job)
    for epochs in (3, 1):
        weights, counts = {}, {}
        for mb in (0, 1024):
            rep = Replica({**params, "epochs": epochs, "corpus_cache_mb": mb}, built.vocab.state(),
                          built.vocab.counts, None, shard, compute_loss=False)
            counts[mb] = {"read": 0, "replayed": 0}
            _count_reads(rep.trainer, counts[mb], monkeypatch, originals)
            schedule = Schedule(0.025, 0.0001, epochs)
            for epoch in range(epochs):
                for r in range(R):
                    rep.train(RoundPlan(epoch, r, R, schedule, 3, merge_ranges({}, None), 1), 0)
            weights[mb] = {name: w.copy() for name, w in rep.storage.items()}
        assert counts[0]["replayed"] == 0 and counts[0]["read"] > 0
        per_epoch = counts[0]["read"] // epochs
        if epochs > 1:
            assert counts[1024] == {"read": per_epoch, "replayed": per_epoch * (epochs - 1)}
            assert 0 < rep.caches.nbytes < 1024 << 20
        else:
            assert counts[1024] == counts[0] and rep.caches.nbytes == 0
        for name in weights[0]:
            np.testing.assert_array_equal(weights[0][name], weights[1024][name])
