"""Word2Vec: parameters, errors, determinism, corpus readers, the schedule and the loss."""
import bz2
import gzip
import math

import numpy as np
import pytest

from cyw2v import Callback, LineSentence, Text8Corpus, Word2Vec, _core
from cyw2v import training as training_module
from cyw2v import weights as weights_module
from cyw2v.model import PARAM_DEFAULTS
from cyw2v.training import Schedule as _Schedule
from cyw2v.weights import MATRICES, padded_width

TOY = [["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"],
       ["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "and", "a", "cat"]] * 40


def _jobs(model, corpus, epoch, schedule, total_examples, total_words):
    """The jobs of one epoch of ``model`` on ``corpus``, as the trainer makes them."""
    return training_module.jobs(corpus, model.vocab, model.batch_words, schedule.epoch(epoch),
                                model._epoch_seed(), total_examples, total_words)


def small(**kw):
    params = dict(vector_size=16, min_count=1, workers=1, epochs=2, seed=3)
    params.update(kw)
    return params


# ------------------------------------------------------------------ parameters and errors
def test_gensim_defaults():
    m = Word2Vec()
    # the one difference: alpha=None is the model's own default (0.05 for this CBOW mean, as in
    # word2vec.c; test_params), gensim's 0.025 is alpha=0.025
    assert m.get_params()["alpha"] is None and Word2Vec(alpha=0.025).alpha == 0.025
    for name, value in dict(vector_size=100, window=5, min_count=5, max_vocab_size=None,
                            sample=1e-3, seed=1, workers=3, min_alpha=0.0001, sg=0, hs=0, negative=5,
                            ns_exponent=0.75, cbow_mean=1, epochs=5, sorted_vocab=1, batch_words=10000,
                            compute_loss=False, max_final_vocab=None, shrink_windows=True).items():
        assert getattr(m, name) == value, name
    assert set(m.get_params()) == set(PARAM_DEFAULTS)


@pytest.mark.parametrize("bad", [dict(vector_size=0), dict(window=0), dict(negative=-1), dict(alpha=0),
                                 dict(alpha=-0.1), dict(sample=-1e-3), dict(workers=0), dict(epochs=0),
                                 dict(hs=0, negative=0), dict(vector_size=2.5), dict(sg=2),
                                 dict(alpha=float("nan")), dict(min_alpha=1.0), dict(batch_words=0),
                                 dict(sg=1, combine_windows=0), dict(sg=1, combine_windows=17),
                                 dict(sg=1, combine_windows=2.0), dict(sg=0, combine_windows=2),
                                 dict(sg=1, batch_window=False, combine_windows=2),
                                 dict(batch_window=2), dict(batch_window="yes")])
def test_nonsense_parameters_fail_at_construction(bad):
    with pytest.raises(ValueError):
        Word2Vec(**bad)


@pytest.mark.parametrize("params,expected", [(dict(sg=1), 1), (dict(sg=1, combine_windows=3), 3),
                                             (dict(sg=1, hs=1, negative=0), 1),
                                             (dict(sg=1, hs=1), 1), (dict(sg=1, softmax=True), 1),
                                             (dict(sg=1, batch_window=False), 1), (dict(sg=0), 1),
                                             (dict(sg=0, combine_windows=1), 1),
                                             (dict(sg=1, hs=1, combine_windows=5), 5)])
def test_combine_windows_resolves_to_centres_per_block(params, expected):
    assert Word2Vec(**params).centres_per_block == expected


@pytest.mark.parametrize("params,expected", [(dict(sg=1), True), (dict(sg=1, hs=1, negative=0), False),
                                             (dict(sg=1, hs=1), False), (dict(sg=1, softmax=True), True),
                                             (dict(sg=1, hs=1, batch_window=True), True),
                                             (dict(sg=1, batch_window=False), False),
                                             (dict(sg=1, hs=1, combine_windows=1), False),
                                             (dict(sg=1, hs=1, combine_windows=2), True)])
def test_batch_window_resolves(params, expected):
    assert Word2Vec(**params).batches_windows is expected


def test_skipgram_hs_trains_per_pair_by_default():
    """The resolved batch_window reaches the engine: SG-HS by default is the per-pair run."""
    default = Word2Vec(TOY, **small(sg=1, hs=1, negative=0))
    pairs = Word2Vec(TOY, **small(sg=1, hs=1, negative=0, batch_window=False))
    batched = Word2Vec(TOY, **small(sg=1, hs=1, negative=0, batch_window=True))
    assert np.array_equal(default.wv.vectors, pairs.wv.vectors)
    assert not np.array_equal(default.wv.vectors, batched.wv.vectors)


def test_softmax_counts_as_an_objective():
    m = Word2Vec(TOY, **small(hs=0, negative=0, softmax=True))
    assert m.syn1softmax.shape == (len(m.wv), 16) and np.abs(m.syn1softmax).sum() > 0


def test_str_corpus_and_str_sentences_are_type_errors():
    with pytest.raises(TypeError, match="not a str"):
        Word2Vec("the cat sat on the mat", **small())
    with pytest.raises(TypeError, match="list of tokens"):
        Word2Vec(["the cat sat", "on the mat"], **small())
    model = Word2Vec(**small()).build_vocab(TOY)
    with pytest.raises(TypeError, match="list of tokens"):
        model.train(["the cat sat"], total_examples=1)
    with pytest.raises(TypeError, match="one-shot"):
        Word2Vec((s for s in TOY), **small())


def test_empty_corpus_and_emptied_vocabulary_are_value_errors():
    with pytest.raises(ValueError, match="empty"):
        Word2Vec([], **small())
    with pytest.raises(ValueError, match="empty"):
        Word2Vec([[], []], **small())
    with pytest.raises(ValueError, match="min_count=500 removed all"):
        Word2Vec(TOY, **small(min_count=500))


def test_unknown_word_is_key_error_naming_it():
    m = Word2Vec(TOY, **small())
    with pytest.raises(KeyError, match="zebra"):
        m.wv["zebra"]
    with pytest.raises(KeyError, match="zebra"):
        m.wv.most_similar("zebra")


def test_train_without_vocab_is_clear():
    with pytest.raises(RuntimeError, match="build_vocab"):
        Word2Vec(**small()).train(TOY, total_examples=len(TOY))


# ------------------------------------------------------------------ determinism
@pytest.mark.parametrize("cfg", [dict(sg=1), dict(sg=0), dict(sg=1, hs=1, negative=0),
                                 dict(sg=1, hs=1, negative=0, batch_window=True),
                                 dict(sg=1, batch_window=False), dict(sg=0, cbow_mean=0),
                                 dict(sg=1, combine_windows=1), dict(sg=1, hs=1, combine_windows=4)])
def test_workers1_seeded_runs_are_bitwise_identical(cfg):
    a = Word2Vec(TOY, **small(**cfg))
    b = Word2Vec(TOY, **small(**cfg))
    assert np.array_equal(a.wv.vectors, b.wv.vectors)
    c = Word2Vec(TOY, **small(seed=4, **cfg))
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


# ------------------------------------------------------------------ padded rows
@pytest.mark.parametrize("d", [1, 10, 16, 30, 50, 64, 100, 200, 300])
def test_padded_width_rule(d):
    width = padded_width(d)
    assert width == d or (width % 16 == 0 and d < width < d + 16 and width - d <= d / 8)
    if d % 16 and -(-d // 16) * 16 - d <= d / 8:
        assert width % 16 == 0   # padded whenever the rule allows


OBJECTIVES = [dict(sg=1), dict(sg=0), dict(sg=0, cbow_mean=0), dict(sg=1, hs=1, negative=0),
              dict(sg=0, hs=1, negative=0), dict(sg=1, softmax=True, negative=0),
              dict(sg=1, combine_windows=4), dict(sg=1, hs=1, negative=3)]


@pytest.mark.parametrize("cfg", OBJECTIVES)
def test_padded_rows_train_like_packed_rows_and_padding_stays_zero(cfg, monkeypatch):
    """d=30 trains on 32-float rows; the result equals training on packed 30-float rows up to
    float rounding, the padding columns stay exactly zero and the published arrays are views
    of the storage the engine wrote (no copies)."""
    padded = Word2Vec(**small(vector_size=30, **cfg)).build_vocab(TOY)
    published = {name: padded._published(name) for name in MATRICES}
    padded.train(TOY, total_examples=len(TOY))
    for name, view in published.items():
        storage = padded._weights.storage[name]
        assert padded._published(name) is view
        assert view.size == 0 or np.shares_memory(view, storage)
        assert storage.shape == (view.shape[0], 32)
        assert storage.size == 0 or storage.ctypes.data % 64 == 0
        assert not np.any(storage[:, 30:])
    monkeypatch.setattr(weights_module, "_MAX_PADDING", 0.0)
    packed = Word2Vec(TOY, **small(vector_size=30, **cfg))
    assert packed._weights.storage["vectors"].shape[1] == 30
    for name in MATRICES:
        np.testing.assert_allclose(padded._published(name), packed._published(name), rtol=1e-4, atol=1e-6)


def test_replaced_matrices_are_copied_into_padded_storage():
    m = Word2Vec(**small(vector_size=30)).build_vocab(TOY)
    mine = np.asfortranarray(np.random.default_rng(0).uniform(-0.1, 0.1, (len(m.wv), 30)))
    m.wv.vectors = mine
    m.train(TOY, total_examples=len(TOY))
    assert m.wv.vectors.dtype == np.float32 and np.shares_memory(m.wv.vectors, m._weights.storage["vectors"])
    assert not np.allclose(m.wv.vectors, mine, atol=1e-3)   # trained from the user's values ...
    assert np.abs(m.wv.vectors - mine).max() < 0.5           # ... not from scratch
    m.syn1neg = np.zeros((len(m.wv), 29), np.float32)
    with pytest.raises(ValueError, match="syn1neg has shape"):
        m.train(TOY, total_examples=len(TOY))


@pytest.mark.parametrize("cfg", [dict(sg=1), dict(sg=1, batch_window=False), dict(sg=1, combine_windows=4),
                                 dict(sg=0), dict(sg=0, cbow_mean=0, hs=1, negative=0)],
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
def test_vectors_lockf_locks_and_scales_input_rows(cfg):
    """gensim's wv.vectors_lockf: rows with factor 0 keep their values (with two workers too),
    the others train, one value applies to every row, and another length is refused."""
    m = Word2Vec(**small(workers=2, **cfg)).build_vocab(TOY)
    locked = [m.wv.key_to_index[w] for w in ("the", "cat", "fox")]
    m.wv.vectors_lockf = np.ones(len(m.wv), dtype=np.float32)
    m.wv.vectors_lockf[locked] = 0.0
    before = m.wv.vectors.copy()
    m.train(TOY, total_examples=len(TOY))
    free = np.setdiff1d(np.arange(len(m.wv)), locked)
    assert np.array_equal(m.wv.vectors[locked], before[locked])
    assert np.all(np.any(m.wv.vectors[free] != before[free], axis=1))
    m.wv.vectors_lockf = np.zeros(1, dtype=np.float32)   # one factor: every row locked
    before, output = m.wv.vectors.copy(), (m.syn1 if m.hs else m.syn1neg).copy()
    m.train(TOY, total_examples=len(TOY))
    assert np.array_equal(m.wv.vectors, before)
    assert not np.array_equal(m.syn1 if m.hs else m.syn1neg, output)   # the output rows still train
    m.wv.vectors_lockf = np.ones(3, dtype=np.float32)
    with pytest.raises(ValueError, match=r"wv.vectors_lockf has shape \(3,\)"):
        m.train(TOY, total_examples=len(TOY))


def test_a_scalar_vectors_lockf_scales_every_step():
    """One factor of 0.5 trains as 0.5 for every row, and a lockf of ones as none (bit for bit)."""
    V = len({word for sentence in TOY for word in sentence})
    lockfs = {"default": None, "one": np.ones(1), "ones": np.ones(V, np.float32), "half": [0.5],
              "halves": np.full(V, 0.5, np.float32)}
    runs = {}
    for name, lockf in lockfs.items():
        m = Word2Vec(**small()).build_vocab(TOY)
        if lockf is not None:
            m.wv.vectors_lockf = lockf
        m.train(TOY, total_examples=len(TOY))
        runs[name] = m.wv.vectors
    assert np.array_equal(runs["one"], runs["default"]) and np.array_equal(runs["ones"], runs["default"])
    assert np.array_equal(runs["half"], runs["halves"])
    assert not np.allclose(runs["half"], runs["default"], atol=1e-4)


def test_a_vocabulary_update_resets_vectors_lockf():
    """build_vocab makes a new wv, whose vectors_lockf is all ones again: a lockf sized for the
    old vocabulary would not fit (gensim's test_load_old_model* train on after an update)."""
    m = Word2Vec(TOY, **small())
    m.wv.vectors_lockf = np.zeros(len(m.wv), np.float32)
    new = [["new", "words", "here", "the"]] * 5
    m.build_vocab(new, update=True)
    assert np.array_equal(m.wv.vectors_lockf, np.ones(1))
    before = m.wv.vectors.copy()
    m.train(new, total_examples=len(new))
    assert not np.array_equal(m.wv.vectors[m.wv.key_to_index["the"]], before[m.wv.key_to_index["the"]])


def test_fit_returns_self_and_trains():
    m = Word2Vec(**small())
    before = None
    assert m.fit(TOY) is m
    assert m.epochs_trained == 2
    before = m.wv.vectors.copy()
    m.train(TOY, total_examples=len(TOY), epochs=1)
    assert m.epochs_trained == 3 and not np.array_equal(before, m.wv.vectors)


# ------------------------------------------------------------------ batching and schedule
def test_long_sentences_are_split_not_cut():
    words = [f"w{i % 50}" for i in range(25_000)]
    m = Word2Vec(**small(sample=0, batch_words=1000, epochs=2))
    m.build_vocab([words])
    kept, raw = m.train([words], total_examples=1, epochs=2)
    assert raw == 50_000 and kept == 50_000


def test_jobs_respect_batch_words_and_cover_every_word():
    m = Word2Vec(**small(batch_words=7)).build_vocab(TOY)
    jobs = list(_jobs(m, TOY, 0, _Schedule(0.025, 1e-4, 1), None, sum(map(len, TOY))))
    assert all(raw <= 7 for _, _, raw, *_ in jobs)
    assert sum(raw for _, _, raw, *_ in jobs) == sum(map(len, TOY))
    alphas = [a for job in jobs for a in job[3:5]]
    assert alphas == sorted(alphas, reverse=True)  # linear decay, monotone
    assert alphas[0] == pytest.approx(0.025) and alphas[-1] == pytest.approx(1e-4, rel=1e-6)


def test_block_read_corpus_follows_the_schedule_by_total_examples(tmp_path):
    """A file read in blocks (one long text8-style line here) cuts sentences at block ends; the
    schedule, sized by total_examples as gensim's idiom does, must still reach its end at the
    corpus's end and advance with the words (it once ran out a third early)."""
    from cyw2v import Text8Corpus
    rng = np.random.default_rng(0)
    path = tmp_path / "t8.txt"
    path.write_text(" ".join(f"w{i}" for i in rng.integers(0, 300, 60_000)))
    corpus = Text8Corpus(str(path), max_sentence_length=5000)
    m = Word2Vec(**small(batch_words=700)).build_vocab(corpus)
    assert m.corpus_count == 12
    jobs = list(_jobs(m, corpus, 0, _Schedule(1.0, 0.0, 1), m.corpus_count, None))
    assert len(jobs) > 2 * m.corpus_count          # blocks cut sentences
    done = 0
    for _, _, raw, a0, a1, _ in jobs:
        assert a0 == pytest.approx(1 - done / 60_000, abs=1e-9)
        done += raw
        assert a1 == pytest.approx(1 - done / 60_000, abs=1e-9)
    assert done == 60_000


def test_sentences_longer_than_a_job_follow_the_schedule_by_total_examples():
    """A sentence longer than batch_words is split into jobs; one sentence of total_examples=1
    must still spread the schedule over its words (it once ended the span at the first job)."""
    words = [f"w{i % 300}" for i in range(50_000)]
    m = Word2Vec(**small(batch_words=10_000, min_count=1)).build_vocab([words])
    jobs = list(_jobs(m, [words], 0, _Schedule(1.0, 0.0, 1), 1, None))
    assert [a1 for *_, a1, _ in jobs] == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.0])


def test_schedule_is_linear_across_epochs():
    s = _Schedule(0.025, 0.0001, 4)
    assert s.alpha(0, 0.0) == 0.025
    assert s.alpha(2, 0.0) == pytest.approx(0.025 - 0.0249 * 0.5)
    assert s.alpha(3, 1.0) == pytest.approx(0.0001)


def test_shrink_windows_false_is_fixed_window():
    a = Word2Vec(TOY, **small(shrink_windows=False, sample=0))
    b = Word2Vec(TOY, **small(shrink_windows=True, sample=0))
    assert not np.array_equal(a.wv.vectors, b.wv.vectors)


# ------------------------------------------------------------------ loss and callbacks
def test_compute_loss_history_decreases_and_is_comparable_across_workers():
    corpus = TOY * 5
    one = Word2Vec(corpus, **small(compute_loss=True, epochs=4, sg=1, sample=0))
    two = Word2Vec(corpus, **small(compute_loss=True, epochs=4, sg=1, sample=0, workers=2))
    assert len(one.loss_history) == 4 and one.get_latest_training_loss() == one.loss_history[-1]
    assert one.loss_history[-1] < one.loss_history[0]
    assert all(isinstance(x, float) for x in one.loss_history)
    assert two.loss_history[-1] == pytest.approx(one.loss_history[-1], rel=0.1)


def test_callbacks_are_called_in_order():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, model):
            events.append("train_begin")

        def on_epoch_begin(self, model):
            events.append("epoch_begin")

        def on_epoch_end(self, model):
            events.append(f"epoch_end{model.epochs_trained}")

        def on_train_end(self, model):
            events.append("train_end")

    Word2Vec(TOY, callbacks=[Recorder()], **small())
    assert events == ["train_begin", "epoch_begin", "epoch_end1", "epoch_begin", "epoch_end2", "train_end"]


def test_callback_error_propagates_and_worker_errors_reach_caller():
    class Boom(Callback):
        def on_epoch_end(self, model):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Word2Vec(TOY, callbacks=[Boom()], **small())

    class BadCorpus:
        def __iter__(self):
            yield ["the", "cat"]
            raise OSError("disk vanished")

    m = Word2Vec(**small(workers=2)).build_vocab(TOY)
    with pytest.raises(OSError, match="disk vanished"):
        m.train(BadCorpus(), total_examples=10)


@pytest.mark.parametrize("workers", [1, 2])
def test_iterable_corpus_is_read_by_the_training_threads(monkeypatch, workers):
    """No hidden reader thread: `workers` threads both read and train (BENCHMARKS.md,
    "Iterable input: workers read for themselves")."""
    import threading
    readers, trainers = set(), set()

    class Recorded:
        def __iter__(self):
            for sentence in TOY:
                readers.add(threading.get_ident())
                yield sentence

    class RecordingEngine:
        def __init__(self, engine):
            self._engine = engine

        def __getattr__(self, name):
            return getattr(self._engine, name)

        def train_job(self, *args):
            trainers.add(threading.get_ident())
            return self._engine.train_job(*args)

    real_trainer = Word2Vec._trainer

    def recording_trainer(self, *a):
        trainer = real_trainer(self, *a)
        trainer.workers = [RecordingEngine(w) for w in trainer.workers]   # records train_job
        return trainer

    monkeypatch.setattr(Word2Vec, "_trainer", recording_trainer)
    # one epoch: thread ids of a later epoch's threads need not repeat the first's
    m = Word2Vec(**small(workers=workers, batch_words=20, epochs=1)).build_vocab(TOY)
    m.train(Recorded(), total_examples=len(TOY))
    assert readers and readers <= trainers
    assert threading.get_ident() not in trainers
    assert len(trainers) <= workers


def test_iterable_corpus_is_closed_when_training_fails():
    closed = []

    class Failing:
        def __iter__(self):
            try:
                yield ["the", "cat"]
                yield "the cat"  # a str where a list of tokens belongs
                yield ["the", "dog"]
            finally:
                closed.append(True)

    m = Word2Vec(**small(workers=2)).build_vocab(TOY)
    with pytest.raises(TypeError):
        m.train(Failing(), total_examples=3)
    assert closed == [True]


# ------------------------------------------------------------------ corpus readers
@pytest.fixture()
def text_files(tmp_path):
    lines = ["alpha beta gamma", "  delta\tepsilon  ", "", "zeta eta theta iota kappa"]
    text = "\n".join(lines) + "\n"
    plain = tmp_path / "c.txt"
    plain.write_text(text)
    gz = tmp_path / "c.txt.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    bz = tmp_path / "c.txt.bz2"
    bz.write_bytes(bz2.compress(text.encode()))
    return plain, gz, bz


def test_line_sentence_plain_gz_bz2(text_files):
    expected = [["alpha", "beta", "gamma"], ["delta", "epsilon"], ["zeta", "eta", "theta", "iota", "kappa"]]
    for path in text_files:
        assert list(LineSentence(path)) == expected
        assert list(LineSentence(path, max_sentence_length=2))[:2] == [["alpha", "beta"], ["gamma"]]
    assert list(LineSentence(text_files[0], limit=2)) == expected[:2]


def test_text8corpus_splits_one_long_line(tmp_path):
    words = [f"t{i}" for i in range(23_456)]
    path = tmp_path / "one.txt.gz"
    path.write_bytes(gzip.compress(" ".join(words).encode()))
    sentences = list(Text8Corpus(path, max_sentence_length=10_000))
    assert [len(s) for s in sentences] == [10_000, 10_000, 3_456]
    assert sum(sentences, []) == words


def test_missing_file_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        LineSentence(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        Word2Vec(corpus_file=str(tmp_path / "nope.txt"), **small())


# ------------------------------------------------------------------ corpus_file mode
@pytest.mark.parametrize("piece_bytes", [1 << 19, 37])
@pytest.mark.parametrize("workers", [1, 2, 3, 5, 7])
def test_corpus_file_ranges_count_every_token_once(tmp_path, monkeypatch, workers, piece_bytes):
    # 37-byte pieces: far more pieces than workers, most of them cutting a token
    monkeypatch.setattr(training_module, "FILE_PIECE_BYTES", piece_bytes)
    rng = np.random.default_rng(workers)
    vocab = ["a", "bb", "ccc", "dddd", "é", "long" * 20]
    lines = []
    for _ in range(300):
        n = int(rng.integers(0, 25))
        lines.append(" ".join(rng.choice(vocab, n)) + ("  \t" if n % 3 == 0 else ""))
    text = "\n".join(lines)
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    n_tokens = len(text.split())
    m = Word2Vec(corpus_file=str(path), **small(workers=workers, sample=0, epochs=1, batch_words=17))
    assert m.corpus_total_words == n_tokens
    kept, raw = m.train(corpus_file=str(path), epochs=2)
    assert raw == 2 * n_tokens and kept == 2 * n_tokens


def test_piece_queue_deals_shares_then_steals_from_the_back():
    q = training_module.PieceQueue(10, 3)   # shares [0, 3), [3, 6), [6, 10)
    assert [q.share_of(k) for k in (0, 2, 3, 5, 6, 9)] == [(0, 3), (0, 3), (3, 6), (3, 6), (6, 10), (6, 10)]
    assert [q.take(0) for _ in range(3)] == [0, 1, 2]
    assert [q.take(2), q.take(2)] == [6, 7]
    assert q.take(0) == 5          # own share done: the back of the largest share left, [3, 6)
    assert q.take(1) == 3          # the owner still takes from the front
    assert q.take(0) == 9          # now [8, 10) is the largest
    assert [q.take(2), q.take(1)] == [8, 4]
    assert [q.take(i) for i in range(3)] == [None, None, None]


def test_piece_queue_hands_out_every_piece_once_under_threads():
    import threading
    q = training_module.PieceQueue(5000, 8)
    got = [[] for _ in range(8)]

    def drain(i):
        while (k := q.take(i)) is not None:
            got[i].append(k)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = sorted(k for g in got for k in g)
    assert flat == list(range(5000))


def test_corpus_file_pieces_follow_the_schedule_and_are_reproducible(tmp_path, monkeypatch):
    """Each piece gets its own seed and the learning rate of its span of its worker's share
    (one share with workers=1), the pieces tile the file, and a worker's progress row adds
    up over its pieces."""
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in TOY), encoding="utf-8")
    monkeypatch.setattr(training_module, "FILE_PIECE_BYTES", 200)
    a = Word2Vec(corpus_file=str(path), **small(epochs=1, alpha=0.05, min_alpha=0.01))
    b = Word2Vec(corpus_file=str(path), **small(epochs=1, alpha=0.05, min_alpha=0.01))
    assert np.array_equal(a.wv.vectors, b.wv.vectors)
    size = path.stat().st_size
    pieces = -(-size // 200)
    for workers in (1, 2):
        calls = []
        m = Word2Vec(**small(epochs=1, alpha=0.05, min_alpha=0.01, workers=workers))
        m.build_vocab(corpus_file=str(path))
        trainer = m._trainer(False)
        engine = trainer.engine
        trainer.workers = [_Spy(w, calls) for w in trainer.workers]
        m._trainer = lambda *a: trainer
        m.train(corpus_file=str(path))
        calls.sort()
        assert len(calls) == pieces and len({c[4] for c in calls}) == pieces
        assert calls[0][0] == 0 and calls[-1][1] == size
        assert all(calls[i][1] == calls[i + 1][0] for i in range(pieces - 1))
        share_bounds = [calls[pieces * i // workers][0] for i in range(workers)] + [size]
        for start, end, a0, a1, _ in calls:
            i = max(j for j in range(workers) if share_bounds[j] <= start)
            lo, span = share_bounds[i], share_bounds[i + 1] - share_bounds[i]
            assert a0 == pytest.approx(0.05 - 0.04 * (start - lo) / span)
            assert a1 == pytest.approx(0.05 - 0.04 * (end - lo) / span)
    progress = np.zeros(8, dtype=np.int64)
    raw1 = engine.train_file_range(m.vocab.token_index(), str(path).encode(), 0, size // 2, 0.01, 0.01,
                                   1, 10000, progress)[0]
    raw2 = engine.train_file_range(m.vocab.token_index(), str(path).encode(), size // 2, size, 0.01, 0.01,
                                   2, 10000, progress)[0]
    assert raw1 + raw2 == sum(map(len, TOY)) and progress[0] == raw1 + raw2 and progress[1] == size


class _Spy:
    """A Worker stand-in that records train_file_range calls and forwards everything."""

    def __init__(self, worker, calls):
        self._engine, self._calls = worker, calls

    def train_file_range(self, index, path, start, end, a0, a1, seed, progress, record=None):
        self._calls.append((start, end, a0, a1, seed))
        return self._engine.train_file_range(index, path, start, end, a0, a1, seed, progress, record)

    def __getattr__(self, name):
        return getattr(self._engine, name)


def test_corpus_file_matches_iterable_vocabulary(tmp_path, text_files):
    plain = text_files[0]
    a = Word2Vec(corpus_file=str(plain), **small())
    b = Word2Vec(LineSentence(plain), **small())
    assert a.wv.index_to_key == b.wv.index_to_key
    assert a.wv.counts.tolist() == b.wv.counts.tolist()
    with pytest.raises(ValueError, match="uncompressed"):
        Word2Vec(corpus_file=str(text_files[1]), **small())


def test_interrupt_flag_stops_training():
    m = Word2Vec(**small()).build_vocab(TOY)
    engine = m._trainer(False).engine
    engine.request_stop()
    words = np.zeros(100, np.int32)
    kept, _, _ = engine.train_job(words, np.array([50, 100], np.int64), 0.025, 0.025, 1)
    assert kept == 0


def test_token_index_lookup():
    index = _core.TokenIndex(["a", "é", "x" * 300])
    assert index.get("a") == 0 and index.get("é") == 1 and index.get("x" * 300) == 2
    assert index.get("b") == -1 and index.get(b"\xc3\xa9") == 1
    big = b"y" * ((1 << 24) - 1)   # the longest key a slot can hold; a longer one is left out
    index = _core.TokenIndex([b"a", big, big + b"y", b"b"])
    assert [index.get(k) for k in (b"a", big, big + b"y", b"b")] == [0, 1, -1, 3]


def test_token_index_finds_every_word_and_nothing_else():
    """Many keys, lengths around the 8-byte hash rounds, prefixes, one-byte differences,
    non-ASCII bytes and a duplicate (the first index wins)."""
    rng = np.random.default_rng(5)
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz\xc3\xa9-", dtype=np.uint8)
    words = list(dict.fromkeys(bytes(rng.choice(alphabet, size=int(k)))
                               for k in rng.integers(1, 40, size=30_000)))
    words += [b"x" * k for k in range(1, 26)]  # every length, each a prefix of the next
    words += [b"abcdefgh" + bytes([c]) for c in range(256) if c not in (9, 10, 11, 12, 13, 32)]
    keys = list(dict.fromkeys(words))
    index = _core.TokenIndex(keys + [keys[7]])
    assert all(index.get(w) == i for i, w in enumerate(keys))
    absent = [w + b"!" for w in keys[:2000]] + [w[:-1] + b"?" for w in keys[:2000]] + [b"x" * 26]
    assert all(index.get(w) == -1 for w in absent)


def test_token_index_str_keys_match_bytes_keys():
    """The str fast path (one join, one encode) and the per-key fallback (a key holding a
    newline, bytes keys) index every key alike; a duplicate keeps its first index."""
    rng = np.random.default_rng(6)
    keys = list(dict.fromkeys("".join(rng.choice(list("abcé\u4e2d-"), size=int(k)))
                              for k in rng.integers(1, 20, size=5_000)))
    keys += ["", "\udcff"]  # an empty key, a lone surrogate (surrogateescape)
    for variant in (keys + [keys[3]], keys + ["b\nc", keys[3]],
                    [k.encode("utf-8", "surrogateescape") for k in keys] + [keys[3].encode()]):
        index = _core.TokenIndex(variant)
        assert all(index.get(k) == i for i, k in enumerate(keys))
        assert index.get(keys[0] + "!") == -1 and index.get("zz") == -1
    assert _core.TokenIndex(keys + ["b\nc"]).get("b\nc") == len(keys)
    assert _core.TokenIndex([]).get("a") == -1


def test_online_vocab_update_keeps_old_vectors():
    m = Word2Vec(TOY, **small())
    old = m.wv.vectors.copy()
    n_old = len(m.wv)
    m.build_vocab([["brand", "new", "words", "the"]] * 3, update=True)
    assert len(m.wv) == n_old + 3
    np.testing.assert_array_equal(m.wv.vectors[:n_old], old)
    assert np.all(m.syn1neg[n_old:] == 0)
    assert m.wv.counts[m.wv.key_to_index["the"]] == 160 + 3
    m.train([["brand", "new", "words", "the", "cat"]] * 20, total_examples=20, epochs=1)
    assert not math.isnan(float(m.wv.vectors.sum()))


@pytest.mark.parametrize("reader", [LineSentence, Text8Corpus])
def test_fast_block_reader_matches_python_tokenisation(tmp_path, reader):
    """File readers are encoded in C block by block; words and counts equal the Python path,
    including non-ASCII blocks (Python fallback) and the \\x1c-\\x1f separators str.split() uses."""
    rng = np.random.default_rng(0)
    vocab = ["alpha", "beta", "gamma", "delta", "naïve", "x\x1fy", "z"]
    lines = [" ".join(rng.choice(vocab, int(rng.integers(0, 30)))) for _ in range(400)]
    path = tmp_path / "c.txt.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    corpus = reader(path, max_sentence_length=13)
    model = Word2Vec(**small(batch_words=50)).build_vocab(corpus)
    total = model.corpus_total_words
    fast = list(_jobs(model, corpus, 0, _Schedule(0.025, 1e-4, 1), None, total))
    slow = list(_jobs(model, list(corpus), 0, _Schedule(0.025, 1e-4, 1), None, total))
    assert len(fast) > 5
    concat = lambda jobs: np.concatenate([j[0] for j in jobs])  # noqa: E731
    np.testing.assert_array_equal(concat(fast), concat(slow))
    assert sum(j[2] for j in fast) == sum(j[2] for j in slow) == total
    assert all(np.all(np.diff(j[1]) <= 13) for j in fast)
