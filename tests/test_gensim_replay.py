"""gensim's CBOW-NS random streams replayed through cyw2v's kernel (benchmarks/gensim_replay.py).

With gensim's windows, subsampling and noise words, gensim's update written in NumPy must give
gensim's weights, cyw2v's kernel with sigmoid="exact" must follow the same update with an exact
sigma, and the default sigmoid="word2vec" must bring cyw2v ten times closer to gensim.
"""
from __future__ import annotations

import importlib.util
import os
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("gensim")

REPLAY_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "benchmarks", "gensim_replay.py")


@pytest.fixture(scope="module")
def replayed():
    spec = importlib.util.spec_from_file_location("gensim_replay", REPLAY_PY)
    r = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(r)
    args = SimpleNamespace(dim=20, window=5, min_count=5, sample=1e-3, negative=5, alpha=0.025,
                           seed=3, epochs=1)
    model, _, tape, _, trainers, first = r.replay_gensim(r.corpus_sentences(12000), args)
    return model, trainers, tape, first


def gap(a, b) -> float:
    return max(np.abs(a.syn0 - b.syn0).max(), np.abs(a.syn1neg - b.syn1neg).max())


def test_the_tape_reproduces_gensim(replayed):
    model, trainers, tape, _ = replayed
    assert len(tape) > 4000
    assert gap(SimpleNamespace(syn0=model.wv.vectors, syn1neg=model.syn1neg), trainers["gensim formula"]) < 1e-6


def test_cyw2v_follows_the_update_and_parts_from_gensim_only_by_sigma(replayed):
    model, trainers, _, first = replayed
    gensim = SimpleNamespace(syn0=model.wv.vectors, syn1neg=model.syn1neg)
    assert gap(trainers["exact sigma"], trainers["cyw2v exact"]) < 1e-3
    assert first[("gensim formula", "exact sigma")] is not None      # gensim's table does change the updates
    assert gap(gensim, trainers["cyw2v exact"]) > 3e-3
    assert gap(gensim, trainers["cyw2v word2vec"]) < gap(gensim, trainers["cyw2v exact"]) / 5
