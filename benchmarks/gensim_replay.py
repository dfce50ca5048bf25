"""Replay gensim's CBOW-NS random streams through cyw2v's kernel, window by window (issue 19).

gensim 4 (workers=1) trains a small corpus while a wrapper around its ``train_batch_cbow``
records each job: its sentences, its learning rate and the state of ``model.random``. From
those the script rebuilds gensim's random streams exactly -- the 48-bit LCG that drives
subsampling and the noise draws (``cum_table`` bisection), NumPy's ``randint`` for the
shrunk windows -- into a tape of windows (sentence, centre, window, negatives, alpha). It
checks the rebuild: after every job the replayed ``model.random`` must be in the state
gensim left it in. Then three trainers run the tape from gensim's initial weights:

* ``gensim formula``: NumPy float32, gensim's update in gensim's order, its 1,000-entry
  EXP_TABLE indexed by ``int((f + 6) * 83)`` (C's integer 1000 / 6 / 2) and its skip of
  every unit scored beyond +-6;
* ``exact sigma``: the same update with sigma computed exactly, 0 or 1 beyond cyw2v's table
  range (+-8), and no skip;
* ``cyw2v exact`` and ``cyw2v word2vec``: cyw2v's compiled kernel with ``sigmoid="exact"`` and
  with its default ``sigmoid="word2vec"`` (sigma(0.996 x - 0.03), the table's mean), one
  ``Engine.debug_train_window`` per window with the tape's negatives.

``gensim formula`` must reproduce gensim's trained weights and ``cyw2v exact`` must follow
``exact sigma``; the first window where two trainers part is printed.
Last, the tables that set the streams' statistics are compared with cyw2v's: keep
probabilities, noise distribution, window sizes and the learning rate per word.

    python benchmarks/gensim_replay.py --words 60000 --epochs 2 --seed 1
"""
from __future__ import annotations

import argparse
import bisect
import gzip
import itertools
import sys
import time
from types import SimpleNamespace

import numpy as np

MAX_EXP = 6
EXP_TABLE_SIZE = 1000
INDEX_SCALE = EXP_TABLE_SIZE // MAX_EXP // 2   # 83: the C integer division gensim compiles
LCG_MUL, LCG_ADD, LCG_MASK = 25214903917, 11, (1 << 48) - 1
MAX_SENTENCE_LEN = 10000


def gensim_exp_table() -> np.ndarray:
    i = np.arange(EXP_TABLE_SIZE, dtype=np.float64)
    e = np.exp((i / EXP_TABLE_SIZE * 2 - 1) * MAX_EXP).astype(np.float32)
    return (e / (e + np.float32(1))).astype(np.float32)


def corpus_sentences(words: int) -> list:
    """The first ``words`` words of the packaged corpus, cut as Text8Corpus cuts (10,000)."""
    from cyw2v.datasets import demo_corpus_path
    with gzip.open(demo_corpus_path(), "rt", encoding="utf-8") as f:
        tokens = f.read(words * 12).split()[:words]
    return [tokens[i:i + MAX_SENTENCE_LEN] for i in range(0, len(tokens), MAX_SENTENCE_LEN)]


# ------------------------------------------------------------------------- gensim, recorded
def train_gensim(sentences, args):
    """gensim at workers=1, recording every job; returns (model, initial weights, jobs)."""
    import gensim.models.word2vec as gw
    model = gw.Word2Vec(vector_size=args.dim, window=args.window, min_count=args.min_count,
                        sample=args.sample, negative=args.negative, hs=0, sg=0, cbow_mean=1,
                        alpha=args.alpha, min_alpha=0.0001, workers=1, seed=args.seed,
                        epochs=args.epochs)
    model.build_vocab(sentences)
    initial = model.wv.vectors.copy(), model.syn1neg.copy()
    jobs = []
    original = gw.train_batch_cbow

    def recorded(model_, job, alpha, work, neu1, compute_loss):
        before = model_.random.get_state()
        result = original(model_, job, alpha, work, neu1, compute_loss)
        jobs.append(SimpleNamespace(sentences=[list(s) for s in job], alpha=float(alpha),
                                    before=before, after=model_.random.get_state()))
        return result

    gw.train_batch_cbow = recorded
    try:
        model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    finally:
        gw.train_batch_cbow = original
    return model, initial, jobs


def same_state(a, b) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


def lcg_next(state: int) -> int:
    return (state * LCG_MUL + LCG_ADD) & LCG_MASK


def build_tape(model, jobs):
    """gensim's windows, rebuilt from each job's recorded random state (train_batch_cbow's
    order: two randint for the LCG seed, the subsampling draws, one randint for the windows,
    then the noise draws window by window)."""
    key_to_index = model.wv.key_to_index
    sample_int = model.wv.expandos["sample_int"]
    cum = model.cum_table
    cum_list, cum_total = cum.tolist(), int(cum[-1])
    tape = []
    for job in jobs:
        rs = np.random.RandomState()
        rs.set_state(job.before)
        state = int(2 ** 24 * rs.randint(0, 2 ** 24) + rs.randint(0, 2 ** 24))
        indexes, bounds = [], [0]
        for sentence in job.sentences:
            if not sentence:
                continue
            for token in sentence:
                if token not in key_to_index:
                    continue
                index = key_to_index[token]
                if model.sample:
                    draw, state = state >> 16, lcg_next(state)
                    if int(sample_int[index]) < draw:
                        continue
                indexes.append(index)
                if len(indexes) == MAX_SENTENCE_LEN:
                    break
            bounds.append(len(indexes))
            if len(indexes) == MAX_SENTENCE_LEN:
                break
        reduced = rs.randint(0, model.window, len(indexes)) if model.shrink_windows else \
            np.zeros(len(indexes), dtype=int)
        if not same_state(rs.get_state(), job.after):
            raise AssertionError("the rebuilt stream did not consume model.random as gensim did")
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            sentence = np.array(indexes[lo:hi], dtype=np.int32)
            for i in range(hi - lo):
                negatives = []
                for _ in range(model.negative):
                    negatives.append(bisect.bisect_left(cum_list, (state >> 16) % cum_total))
                    state = lcg_next(state)
                tape.append((sentence, i, model.window - int(reduced[lo + i]), negatives, job.alpha))
    return tape


# ------------------------------------------------------------------------- the trainers
class FormulaTrainer:
    """CBOW-mean with negative sampling in NumPy float32, in gensim's order of operations."""

    def __init__(self, syn0, syn1neg, sigma: str):
        from cyw2v._core import SIGMOID_MAX
        self.syn0, self.syn1neg = syn0.copy(), syn1neg.copy()
        self.table = gensim_exp_table()
        self.sigma = sigma          # "gensim" (table and skip) or "exact"
        self.clip = SIGMOID_MAX     # exact: 0 or 1 beyond cyw2v's table range

    def score(self, f: float):
        """(sigma or None for a skipped unit)."""
        if self.sigma == "gensim":
            if f <= -MAX_EXP or f >= MAX_EXP:
                return None
            return float(self.table[int((f + MAX_EXP) * INDEX_SCALE)])
        if f <= -self.clip:
            return 0.0
        if f >= self.clip:
            return 1.0
        return 1.0 / (1.0 + np.exp(-f))

    def window(self, sentence, i, win, negatives, alpha):
        lo, hi = max(0, i - win), min(len(sentence), i + win + 1)
        context = [int(sentence[j]) for j in range(lo, hi) if j != i]
        if not context:
            return
        centre = int(sentence[i])
        neu1 = np.zeros(self.syn0.shape[1], dtype=np.float32)
        for c in context:
            neu1 += self.syn0[c]
        neu1 *= np.float32(1.0) / np.float32(len(context))
        work = np.zeros_like(neu1)
        alpha = np.float32(alpha)
        for target, label in itertools.chain([(centre, 1.0)], ((n, 0.0) for n in negatives)):
            if label == 0.0 and target == centre:
                continue
            row = self.syn1neg[target]
            f = self.score(float(np.dot(neu1, row)))
            if f is None:
                continue
            g = np.float32((label - f) * alpha)
            work += g * row
            row += g * neu1
        for c in context:
            self.syn0[c] += work


class KernelTrainer:
    """cyw2v's compiled CBOW-NS kernel, one window per call, negatives injected; its tables
    and configuration made as ``Word2Vec`` makes them."""

    def __init__(self, syn0, syn1neg, words, counts, args, sigmoid: str):
        from cyw2v import _core
        from cyw2v.params import PARAM_DEFAULTS, resolve, validate
        from cyw2v.vocab import Vocabulary
        self.syn0, self.syn1neg = syn0.copy(), syn1neg.copy()
        params = validate({**PARAM_DEFAULTS, "sg": 0, "cbow_mean": 1, "hs": 0, "workers": 1,
                           "window": args.window, "negative": args.negative, "alpha": args.alpha,
                           "sigmoid": sigmoid})
        tables = Vocabulary(words, counts).prepare(0.0, args.negative, 0.75, 0)
        self.engine = _core.Engine(SimpleNamespace(syn0=self.syn0, syn1neg=self.syn1neg,
                                                   syn1=None, syn1softmax=None, lockf=None),
                                   tables, resolve(params, compute_loss=False))

    def window(self, sentence, i, win, negatives, alpha):
        self.engine.debug_train_window(sentence, i, win, alpha, 0, negatives)


def touched(sentence, i, win, negatives):
    lo, hi = max(0, i - win), min(len(sentence), i + win + 1)
    return sorted({int(w) for w in sentence[lo:hi]}), sorted({int(sentence[i]), *negatives})


def replay(tape, trainers, pairs, tol):
    """Run the tape through every trainer; the first window each pair parts by more than tol."""
    first = {pair: None for pair in pairs}
    for n, (sentence, i, win, negatives, alpha) in enumerate(tape):
        for t in trainers.values():
            t.window(sentence, i, win, negatives, alpha)
        rows_in, rows_out = touched(sentence, i, win, negatives)
        for a, b in pairs:
            if first[(a, b)] is not None:
                continue
            ta, tb = trainers[a], trainers[b]
            gap = max(np.abs(ta.syn0[rows_in] - tb.syn0[rows_in]).max(),
                      np.abs(ta.syn1neg[rows_out] - tb.syn1neg[rows_out]).max())
            if gap > tol:
                first[(a, b)] = (n, gap)
    return first


#: The trainer pairs compared, and the order the report prints them in.
PAIRS = [("gensim formula", "exact sigma"), ("exact sigma", "cyw2v exact"),
         ("gensim formula", "cyw2v exact"), ("gensim formula", "cyw2v word2vec")]


def replay_gensim(sentences, args, tol: float = 1e-5):
    """gensim trained on ``sentences`` and its tape run through the four trainers:
    (model, jobs, tape, counts, trainers, first window each pair of PAIRS parts by > tol)."""
    model, (syn0, syn1neg), jobs = train_gensim(sentences, args)
    tape = build_tape(model, jobs)
    words = model.wv.index_to_key
    counts = np.array([model.wv.get_vecattr(w, "count") for w in words], np.int64)
    trainers = {"gensim formula": FormulaTrainer(syn0, syn1neg, "gensim"),
                "exact sigma": FormulaTrainer(syn0, syn1neg, "exact"),
                "cyw2v exact": KernelTrainer(syn0, syn1neg, words, counts, args, "exact"),
                "cyw2v word2vec": KernelTrainer(syn0, syn1neg, words, counts, args, "word2vec")}
    return model, jobs, tape, counts, trainers, replay(tape, trainers, PAIRS, tol)


def stream_tables(model, counts, args):
    """Keep probabilities, noise distribution and learning rates: gensim's against cyw2v's."""
    from cyw2v.vocab import keep_probabilities, noise_distribution
    keep_gensim = model.wv.expandos["sample_int"].astype(np.float64) / (2 ** 32 - 1)
    keep_cyw2v = keep_probabilities(counts, args.sample)
    cum = model.cum_table.astype(np.float64)
    noise_gensim = np.diff(np.concatenate([[0.0], cum])) / cum[-1]
    noise_cyw2v = noise_distribution(counts, 0.75)
    return {"keep probability, max |gensim - cyw2v|": np.abs(keep_gensim - keep_cyw2v).max(),
            "noise probability, max relative |gensim - cyw2v|":
                (np.abs(noise_gensim - noise_cyw2v) / noise_cyw2v).max(),
            "noise distribution, total variation": 0.5 * np.abs(noise_gensim - noise_cyw2v).sum()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--words", type=int, default=60000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--dim", type=int, default=50)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--alpha", type=float, default=0.025)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tol", type=float, default=1e-5, help="a pair parts beyond this |difference|")
    args = p.parse_args(argv)
    t0 = time.time()
    sentences = corpus_sentences(args.words)
    model, jobs, tape, counts, trainers, first = replay_gensim(sentences, args, args.tol)
    print(f"corpus: {sum(map(len, sentences))} words, vocabulary {len(counts)}, "
          f"{len(jobs)} jobs, {len(tape)} windows; model.random matched after every job")
    gensim_w = SimpleNamespace(syn0=model.wv.vectors, syn1neg=model.syn1neg)
    print("\nfinal weights, max |difference| (syn0, syn1neg):")
    for name, t in trainers.items():
        print(f"  gensim itself   vs {name:15s} {np.abs(gensim_w.syn0 - t.syn0).max():.2e}  "
              f"{np.abs(gensim_w.syn1neg - t.syn1neg).max():.2e}")
    for a, b in PAIRS:
        ta, tb = trainers[a], trainers[b]
        print(f"  {a:15s} vs {b:15s} {np.abs(ta.syn0 - tb.syn0).max():.2e}  "
              f"{np.abs(ta.syn1neg - tb.syn1neg).max():.2e}")
    print(f"\nfirst window where a pair parts by more than {args.tol:g}:")
    for (a, b), hit in first.items():
        print(f"  {a} / {b}: " + ("never" if hit is None else f"window {hit[0]} of {len(tape)} "
                                   f"({hit[1]:.2e})"))
    print("\nthe streams' tables:")
    for name, value in stream_tables(model, counts, args).items():
        print(f"  {name}: {value:.3e}")
    f = np.linspace(-MAX_EXP + 1e-6, MAX_EXP - 1e-6, 200001)
    error = gensim_exp_table()[((f + MAX_EXP) * INDEX_SCALE).astype(int)] - 1 / (1 + np.exp(-f))
    print(f"  gensim's sigma - exact sigma over (-6, 6): mean {error.mean():+.4f}, "
          f"min {error.min():+.4f}, max {error.max():+.4f}, at 0 {error[len(f) // 2]:+.4f}")
    windows = np.array([w for _, _, w, _, _ in tape])
    print("  window sizes 1..%d, gensim's tape: %s (cyw2v: uniform)" % (
        args.window, np.round(np.bincount(windows, minlength=args.window + 1)[1:] / len(windows), 4)))
    print(f"\n{time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
