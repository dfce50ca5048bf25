"""The encoded corpus kept between epochs: its packed format, and training that replays it
exactly as it would have read the corpus again."""
import os

import numpy as np
import pytest

from cyw2v import Text8Corpus, Word2Vec, _core
from cyw2v._dispatch import core as engine_core   # the variant the workers run
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


# ------------------------------------------------------------------ corpus_file's pieces
def _file_corpus(tmp_path):
    """Lines of every kind the reader handles: unknown words (min_count=2 drops the rare
    ones), a blank line, lines longer than the workers' 50-word sentences, no final '\\n'."""
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(300)]
    lines = [" ".join(words[j] for j in np.minimum(rng.zipf(1.3, rng.integers(1, 140)), 299))
             for _ in range(120)]
    lines[7] = ""
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def _train_pieces(path, cuts, replay_second, sg):
    """Two epochs over the pieces [cuts[k], cuts[k+1]) by one worker, recording the first;
    the second reads again or replays. Returns every call's stats, each epoch's progress
    row and the weights."""
    m = Word2Vec(vector_size=16, min_count=2, workers=1, seed=5, sg=sg, batch_words=50)
    m.build_vocab(corpus_file=path)
    trainer = m._trainer(True)
    worker, index = trainer.workers[0], m.vocab.token_index()
    records, calls, rows = [], [], []
    for epoch in range(2):
        progress = np.zeros(2, np.int64)
        for k in range(len(cuts) - 1):
            a0, a1, seed = 0.05 - 0.02 * epoch - 0.004 * k, 0.049 - 0.02 * epoch - 0.004 * k, 10 * epoch + k
            if epoch and replay_second:
                calls.append(worker.train_recorded(records[k], a0, a1, seed, progress))
            else:
                record = engine_core.PieceRecord() if not epoch else None
                calls.append(worker.train_file_range(index, path.encode(), cuts[k], cuts[k + 1], a0, a1, seed,
                                                     progress, record))
                if record is not None:
                    assert record.complete
                    records.append(record)
        rows.append(progress.tolist())
    return calls, rows, trainer.weights.syn0.copy(), trainer.weights.syn1neg.copy()


@pytest.mark.parametrize("sg", [0, 1])
def test_a_replayed_piece_trains_as_reading_it_again(tmp_path, sg):
    """Same stats (raw and kept words, loss), progress and weights, bit for bit: the same
    sentences at the same learning rates, the tail at the last one, in every cut (tokens
    across a cut, a cut in a blank line, the file's unterminated end)."""
    path = _file_corpus(tmp_path)
    size = os.path.getsize(path)
    cuts = [0, 1, 777, 778, 2_000, size // 2, size - 3, size]
    read = _train_pieces(path, cuts, False, sg)
    replayed = _train_pieces(path, cuts, True, sg)
    assert read[0] == replayed[0] and read[1] == replayed[1]
    assert read[1][1] == [sum(c[0] for c in read[0][len(cuts) - 1:]), size]
    np.testing.assert_array_equal(read[2], replayed[2])
    np.testing.assert_array_equal(read[3], replayed[3])


def test_a_piece_record_is_filled_once_and_replayed_only_whole(tmp_path):
    path = _file_corpus(tmp_path)
    m = Word2Vec(vector_size=8, min_count=2, workers=1, batch_words=50).build_vocab(corpus_file=path)
    trainer = m._trainer(False)
    worker, index, progress = trainer.workers[0], m.vocab.token_index(), np.zeros(2, np.int64)
    with pytest.raises(ValueError, match="incomplete"):
        worker.train_recorded(engine_core.PieceRecord(), 0.02, 0.02, 1, progress)
    record = engine_core.PieceRecord()
    trainer.engine.request_stop()   # a stopped reading records part of the piece at most
    worker.train_file_range(index, path.encode(), 0, os.path.getsize(path), 0.02, 0.02, 1, progress, record)
    trainer.engine.clear_stop()
    assert not record.complete
    with pytest.raises(ValueError, match="incomplete"):
        worker.train_recorded(record, 0.02, 0.02, 1, progress)
    record = engine_core.PieceRecord()
    worker.train_file_range(index, path.encode(), 0, os.path.getsize(path), 0.02, 0.02, 1, progress, record)
    assert record.complete and 0 < record.nbytes < os.path.getsize(path)
    with pytest.raises(ValueError, match="fresh"):
        worker.train_file_range(index, path.encode(), 0, 100, 0.02, 0.02, 1, progress, record)
    short = trainer.engine.worker(20)   # its sentences are shorter than the record's
    with pytest.raises(ValueError, match="max_sentence"):
        short.train_recorded(record, 0.02, 0.02, 1, progress)
    tiny = Word2Vec(vector_size=8, min_count=1, workers=1, batch_words=50).build_vocab([["w0", "w1"]])
    with pytest.raises(ValueError, match="another engine"):   # its rows end before the record's words
        tiny._trainer(False).workers[0].train_recorded(record, 0.02, 0.02, 1, progress)


class _CountingWorker:
    """A Worker stand-in that counts its file reads and replays."""

    def __init__(self, worker, counts):
        self._worker, self._counts = worker, counts

    def train_file_range(self, *args):
        self._counts["read"] += 1
        return self._worker.train_file_range(*args)

    def train_recorded(self, *args):
        self._counts["replayed"] += 1
        return self._worker.train_recorded(*args)

    def __getattr__(self, name):
        return getattr(self._worker, name)


@pytest.mark.parametrize("cache_mb,epochs,replayed", [(1024, 3, True), (1024, 1, False), (0, 3, False)])
def test_corpus_file_is_read_once_and_trains_as_if_read_every_epoch(tmp_path, monkeypatch, cache_mb, epochs,
                                                                    replayed):
    """workers=1: the weights of reading every epoch (corpus_cache_mb=0), with the file read
    in the first epoch only (one epoch: nothing is recorded)."""
    from cyw2v import training
    monkeypatch.setattr(training, "FILE_PIECE_BYTES", 4_096)
    path = str(tmp_path / "demo.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(" ".join(w for s in Text8Corpus(demo_corpus_path()) for w in s)[:300_000])
    pieces = -(-os.path.getsize(path) // 4_096)
    weights = {}
    for mb in (0, cache_mb):
        m = Word2Vec(vector_size=16, workers=1, epochs=epochs, seed=7, corpus_cache_mb=mb)
        m.build_vocab(corpus_file=path)
        counts = {"read": 0, "replayed": 0}
        make = m._trainer

        def trainer(*args, make=make, counts=counts):
            t = make(*args)
            t.workers = [_CountingWorker(w, counts) for w in t.workers]
            return t
        monkeypatch.setattr(m, "_trainer", trainer)
        m.train(corpus_file=path, total_words=m.corpus_total_words, epochs=epochs)
        weights[mb] = m.wv.vectors.copy()
        reads = pieces if (mb and replayed) else pieces * epochs
        assert counts == {"read": reads, "replayed": pieces * epochs - reads}
    np.testing.assert_array_equal(weights[0], weights[cache_mb])


def test_a_file_cache_keeps_a_whole_pass_within_its_limit():
    from cyw2v.training import FileCache

    class Piece:
        def __init__(self, nbytes, complete=True):
            self.nbytes, self.complete = nbytes, complete
    key = ("f", 0, 900, 3)
    cache = FileCache(1_000)
    recording = cache.record(key)
    for k in (2, 0, 1):   # in any order
        recording.keep(k, Piece(200))
    assert cache.replay(key) is None   # not before the pass ended
    recording.close()
    assert [p.nbytes for p in cache.replay(key)] == [200] * 3
    assert cache.replay(("f", 0, 901, 3)) is None   # another pass
    recording = cache.record(key)   # a new recording drops the old pass
    assert cache.replay(key) is None
    recording.keep(0, Piece(200))
    recording.keep(1, Piece(200, complete=False))
    recording.keep(2, Piece(200))
    recording.close()
    assert cache.replay(key) is None   # a piece was cut short
    recording = cache.record(key)
    recording.keep(0, Piece(200))
    recording.close()
    assert cache.replay(key) is None   # a piece is missing
    recording = cache.record(key)
    for k in range(3):
        recording.keep(k, Piece(300))
    recording.close()
    assert cache.replay(key) is None and cache.record(key) is None   # too large: never again


def test_span_caches_share_one_limit():
    """Each new span's cache gets what the kept passes leave of the limit; none past it, none
    at a limit of 0, none where the caller records nothing; a span keeps its cache."""
    from cyw2v.training import SpanCaches

    class Kept:
        def __init__(self, limit):
            self.limit, self.nbytes = limit, 0
    caches = SpanCaches(1_000)
    a = caches.get("a", Kept)
    assert a.limit == 1_000 and caches.get("a", Kept) is a
    a.nbytes = 700
    b = caches.get("b", Kept)
    assert b.limit == 300 and caches.nbytes == 700
    b.nbytes = 300
    assert caches.get("c", Kept).limit == 0            # made, but it can keep nothing
    assert caches.get("d", Kept, record=False) is None
    assert caches.get("a", Kept, record=False) is a   # replayed in a last epoch
    assert SpanCaches(0).get("a", Kept) is None
