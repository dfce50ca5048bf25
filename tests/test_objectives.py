"""The objectives together: training with each one raises the exact log-likelihood of a
small skip-gram corpus, measured with the full softmax (and, for HS, its own exact tree
probabilities)."""
import numpy as np
import pytest

from cyw2v import Word2Vec

V_WORDS = 16


def markov_corpus(n_sentences=300, length=12, seed=0):
    """Sentences from a sparse Markov chain, so context predicts the next word."""
    rng = np.random.default_rng(seed)
    successors = [rng.choice(V_WORDS, 2, replace=False) for _ in range(V_WORDS)]
    out = []
    for _ in range(n_sentences):
        w = int(rng.integers(V_WORDS))
        sent = []
        for _ in range(length):
            sent.append(f"w{w}")
            w = int(rng.choice(successors[w]))
        out.append(sent)
    return out


def skipgram_pairs(model, corpus, window):
    idx = model.wv.key_to_index
    pairs = []
    for sent in corpus:
        ids = [idx[w] for w in sent]
        for i, centre in enumerate(ids):
            for j in range(max(0, i - window), min(len(ids), i + window + 1)):
                if j != i:
                    pairs.append((ids[j], centre))  # (input context, predicted centre)
    return np.array(pairs)


def softmax_loglik(syn0, out, pairs):
    S = syn0[pairs[:, 0]].astype(np.float64) @ out.T.astype(np.float64)
    S -= S.max(axis=1, keepdims=True)
    logp = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
    return float(logp[np.arange(len(pairs)), pairs[:, 1]].mean())


def hs_loglik(model, pairs):
    off, code, point = (getattr(model.vocab.tables, k) for k in ("hs_offset", "hs_code", "hs_point"))
    total = 0.0
    for c, o in pairs:
        h = model.wv.vectors[c].astype(np.float64)
        for n in range(off[o], off[o + 1]):
            s = float(h @ model.syn1[point[n]])
            sign = 1.0 - 2.0 * code[n]
            total += -np.log1p(np.exp(-sign * s))
    return total / len(pairs)


COMMON = dict(vector_size=12, window=2, min_count=1, sample=0, shrink_windows=False, workers=1,
              sg=1, seed=5, alpha=0.05)


@pytest.mark.parametrize("objective,out_name", [
    (dict(softmax=True, negative=0, hs=0), "syn1softmax"),
    (dict(negative=5, hs=0), "syn1neg"),
    (dict(negative=5, hs=0, batch_window=False), "syn1neg"),
])
def test_training_raises_exact_softmax_loglik(objective, out_name):
    corpus = markov_corpus()
    model = Word2Vec(**COMMON, **objective).build_vocab(corpus)
    pairs = skipgram_pairs(model, corpus, 2)
    before = softmax_loglik(model.wv.vectors, getattr(model, out_name), pairs)
    assert before == pytest.approx(-np.log(V_WORDS))  # zero output rows: uniform
    model.train(corpus, total_examples=len(corpus), epochs=10)
    after = softmax_loglik(model.wv.vectors, getattr(model, out_name), pairs)
    # an oracle bound: each word has 2 successors, so log-lik cannot beat ~-log(4) by much
    assert after > before + 0.6, (before, after)


def test_softmax_beats_cheaper_objectives_on_its_own_likelihood():
    corpus = markov_corpus(seed=1)
    results = {}
    for name, objective, out in [("softmax", dict(softmax=True, negative=0), "syn1softmax"),
                                 ("ns", dict(negative=5), "syn1neg")]:
        m = Word2Vec(**COMMON, **objective, epochs=10).build_vocab(corpus)
        m.train(corpus, total_examples=len(corpus), epochs=10)
        results[name] = softmax_loglik(m.wv.vectors, getattr(m, out), skipgram_pairs(m, corpus, 2))
    assert results["softmax"] >= results["ns"] - 1e-3


def test_hierarchical_softmax_raises_its_exact_loglik():
    corpus = markov_corpus(seed=2)
    model = Word2Vec(**COMMON, hs=1, negative=0).build_vocab(corpus)
    pairs = skipgram_pairs(model, corpus, 2)[::3]
    before = hs_loglik(model, pairs)
    model.train(corpus, total_examples=len(corpus), epochs=10)
    after = hs_loglik(model, pairs)
    assert after > before + 0.6, (before, after)


def test_cbow_objectives_reduce_training_loss():
    corpus = markov_corpus(seed=3)
    for objective in (dict(negative=5), dict(hs=1, negative=0), dict(softmax=True, negative=0)):
        m = Word2Vec(corpus, **{**COMMON, "sg": 0}, **objective, compute_loss=True, epochs=6)
        assert m.loss_history[-1] < 0.8 * m.loss_history[0], (objective, m.loss_history)
