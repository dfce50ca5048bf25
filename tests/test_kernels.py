"""Every kernel against a NumPy (float64) implementation of the formulas, on a tiny vocabulary.

The engine's sigmoid is a table with linear interpolation (1024 intervals on [-8, 8]);
its error is below 3e-6, so one update step agrees with the exact formulas to ~1e-6.
"""
import hashlib
import itertools
import os
from types import SimpleNamespace

import numpy as np
import pytest

from cyw2v import _core
from cyw2v._dispatch import available_kernels
from cyw2v.vocab import alias_table, huffman, keep_thresholds, noise_distribution

V, D = 7, 5
COUNTS = np.array([40, 25, 14, 9, 6, 4, 2], dtype=np.int64)
ATOL = 2e-6
#: Per-row factors on the input rows' steps (gensim's vectors_lockf): locked, halved, free.
LOCKF = np.array([0.0, 0.5, 1.0, 0.5, 0.0, 1.0, 0.5], dtype=np.float32)
#: Every compiled variant of the engine this CPU runs (baseline, AVX2, AVX-512) is tested.
KERNELS = available_kernels()


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def engine_tables(keep, prob, alias, off, code, point):
    return SimpleNamespace(keep=keep, alias_prob=prob, alias_index=alias, hs_offset=off,
                           hs_code=code, hs_point=point)


def engine_config(**kw):
    """Engine settings: today's keyword arguments, with their old defaults."""
    return SimpleNamespace(**{"hot_rows": 0, "hot_sync_words": 4096, "combine": 1, "cbow_exact": 0, **kw})


def old_engine(kernel, syn0, syn1neg, syn1, syn1sm, keep, prob, alias, off, code, point, **kw):
    """The former positional/keyword Engine constructor, on the new interface."""
    return kernel.Engine(SimpleNamespace(syn0=syn0, syn1neg=syn1neg, syn1=syn1, syn1softmax=syn1sm),
                         engine_tables(keep, prob, alias, off, code, point), engine_config(**kw))


def make_engine(rng, *, kernel=_core, sg=1, negative=0, hs=0, softmax=0, cbow_mean=1, batch_window=1,
                window=3, scale=0.8, hot_rows=0, hot_sync_words=4096, combine=1, lockf=None, cbow_exact=0,
                logit=(1.0, 0.0), compute_loss=1):
    syn0 = (rng.standard_normal((V, D)) * scale).astype(np.float32)
    syn1neg = (rng.standard_normal((V, D)) * scale).astype(np.float32)
    syn1 = (rng.standard_normal((V - 1, D)) * scale).astype(np.float32)
    syn1sm = (rng.standard_normal((V, D)) * scale).astype(np.float32)
    prob, alias = alias_table(noise_distribution(COUNTS, 0.75))
    off, code, point = huffman(COUNTS)
    keep = keep_thresholds(COUNTS, 0.0)
    engine = kernel.Engine(
        SimpleNamespace(syn0=syn0, syn1neg=syn1neg, syn1=syn1, syn1softmax=syn1sm, lockf=lockf),
        engine_tables(keep, prob, alias, off, code, point),
        engine_config(sg=sg, cbow_mean=cbow_mean, window=window, shrink_windows=0,
                      negative=negative, hs=hs, softmax=softmax, batch_window=batch_window,
                      compute_loss=compute_loss, hot_rows=hot_rows, hot_sync_words=hot_sync_words,
                      combine=combine, cbow_exact=cbow_exact, logit_scale=logit[0],
                      logit_shift=logit[1]))
    arrays = dict(syn0=syn0, syn1neg=syn1neg, syn1=syn1, syn1sm=syn1sm)
    ref = {k: v.astype(np.float64) for k, v in arrays.items()}
    return engine, arrays, ref, (off, code, point)


# ----------------------------------------------------------------- NumPy reference
def logistic_block(H, U, rows, labels, weights, alpha, gH, logit=(1.0, 0.0)):
    """S = a H U_r^T + b, G = alpha W * (labels - sigma(S)); gH += G U_r; U_r += G^T H, all
    from the output rows as they were on entry (a row drawn twice receives both updates)."""
    rows = np.asarray(rows, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.float64)
    Ur = U[rows].copy()
    S = logit[0] * (H @ Ur.T) + logit[1]
    G = alpha * weights * (labels[None, :] - sigmoid(S))
    signed = np.where(labels[None, :] > 0.5, S, -S)
    gH += G @ Ur
    np.add.at(U, rows, G.T @ H)
    return -np.sum(weights * np.log(sigmoid(signed)))


def ref_objectives(ref, H, targets, mask, alpha, negs, paths, cfg):
    """Objectives in the engine's order: HS, then NS, then the full softmax.

    Row j of H predicts targets[c] where mask[j, c] is 1 (the log-likelihood terms add)."""
    gH = np.zeros_like(H)
    loss = 0.0
    logit = cfg.get("logit", (1.0, 0.0))
    if cfg["hs"]:
        off, code, point = paths
        nodes, codes, cols = [], [], []
        for c, target in enumerate(targets):
            for n in range(off[target], off[target + 1]):
                nodes.append(point[n])
                codes.append(1 - int(code[n]))
                cols.append(c)
        loss += logistic_block(H, ref["syn1"], nodes, codes, mask[:, cols], alpha, gH, logit)
    if cfg["negative"]:
        drawn = [negs.pop(0) for _ in range(cfg["negative"])]
        noise = [n for n in drawn if n not in targets]  # a draw of a target is skipped
        # each negative term counts once per (row, target) pair
        weights = np.hstack([mask, np.repeat(mask.sum(axis=1, keepdims=True), len(noise), axis=1)])
        loss += logistic_block(H, ref["syn1neg"], list(targets) + noise,
                               [1] * len(targets) + [0] * len(noise), weights, alpha, gH, logit)
    if cfg["softmax"]:
        U = ref["syn1sm"]
        S = H @ U.T
        P = np.exp(S - S.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        G = -alpha * mask.sum(axis=1, keepdims=True) * P
        for c, target in enumerate(targets):
            G[:, target] += alpha * mask[:, c]
            loss += -np.sum(mask[:, c] * np.log(P[:, target]))
        gH += G @ U
        U += G.T @ H
    return gH, loss


def input_factors(cfg):
    """The factor on each input row's step: cfg["lockf"], or all ones."""
    lockf = cfg.get("lockf")
    return np.ones(V) if lockf is None else np.broadcast_to(np.asarray(lockf, np.float64), (V,))


def ref_block(ref, sentence, first, wins, alpha, negs, paths, cfg):
    """Skip-gram context combining: centres first .. first + len(wins) - 1 as one block."""
    centres = range(first, first + len(wins))
    positions, mask = [], []
    for p in range(len(sentence)):
        row = [p != i and abs(p - i) <= win for i, win in zip(centres, wins)]
        if any(row):
            positions.append(p)
            mask.append(row)
    ctx = [sentence[p] for p in positions]
    H = ref["syn0"][ctx].copy()
    gH, loss = ref_objectives(ref, H, [sentence[i] for i in centres],
                              np.array(mask, dtype=np.float64), alpha, negs, paths, cfg)
    lockf = input_factors(cfg)
    for j, c in enumerate(ctx):
        ref["syn0"][c] += lockf[c] * gH[j]
    return loss


def ref_window(ref, sentence, i, win, alpha, negs, paths, cfg):
    lo, hi = max(0, i - win), min(len(sentence), i + win + 1)
    ctx = [sentence[j] for j in range(lo, hi) if j != i]
    centre = sentence[i]
    syn0 = ref["syn0"]
    lockf = input_factors(cfg)
    loss = 0.0
    if cfg["sg"] and not cfg["batch_window"]:
        for c in ctx:
            gH, l = ref_objectives(ref, syn0[c][None, :].copy(), [centre], np.ones((1, 1)), alpha,
                                   negs, paths, cfg)
            syn0[c] += lockf[c] * gH[0]
            loss += l
    elif cfg["sg"]:
        H = syn0[ctx].copy()
        gH, loss = ref_objectives(ref, H, [centre], np.ones((len(ctx), 1)), alpha, negs, paths, cfg)
        for j, c in enumerate(ctx):
            syn0[c] += lockf[c] * gH[j]
    else:
        h = syn0[ctx].sum(axis=0)
        if cfg["cbow_mean"]:
            h /= len(ctx)
        gH, loss = ref_objectives(ref, h[None, :], [centre], np.ones((1, 1)), alpha, negs, paths, cfg)
        # word2vec.c adds the mean's whole gradient e to each context row; the exact gradient
        # of the mean (cbow_exact, Irsoy et al. 2021) and the sum's convention give e / C
        g = gH[0] / len(ctx) if cfg.get("cbow_exact") or not cfg["cbow_mean"] else gH[0]
        for c in ctx:
            syn0[c] += lockf[c] * g
    return loss


ARCHS = [dict(sg=1, batch_window=0, cbow_mean=1), dict(sg=1, batch_window=1, cbow_mean=1),
         dict(sg=0, batch_window=1, cbow_mean=1), dict(sg=0, batch_window=1, cbow_mean=0),
         dict(sg=0, batch_window=1, cbow_mean=1, cbow_exact=1)]
OBJECTIVES = [dict(negative=3, hs=0, softmax=0), dict(negative=0, hs=1, softmax=0),
              dict(negative=0, hs=0, softmax=1), dict(negative=2, hs=1, softmax=0)]


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("arch,objective", list(itertools.product(ARCHS, OBJECTIVES)),
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
def test_one_window_matches_numpy(arch, objective, kernel):
    check_windows({**arch, **objective}, KERNELS[kernel])


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("arch,objective", list(itertools.product(ARCHS, OBJECTIVES)),
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
def test_word2vec_sigmoid_matches_numpy(arch, objective, kernel):
    """sigmoid="word2vec": every logistic unit trains with sigma(0.996 s - 0.03); the full
    softmax ignores the map."""
    from cyw2v.params import SIGMOIDS
    check_windows({**arch, **objective, "logit": SIGMOIDS["word2vec"]}, KERNELS[kernel])


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("arch,objective", list(itertools.product(ARCHS, OBJECTIVES)),
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
def test_lockf_scales_the_input_rows_steps(arch, objective, kernel):
    """gensim's vectors_lockf: input row r moves by lockf[r] times its step (0: locked),
    the output rows as without it."""
    initial = make_engine(np.random.default_rng(42))[1]["syn0"].copy()
    syn0 = check_windows({**arch, **objective, "lockf": LOCKF}, KERNELS[kernel])
    np.testing.assert_array_equal(syn0[LOCKF == 0], initial[LOCKF == 0])
    assert np.all(np.any(syn0[LOCKF != 0] != initial[LOCKF != 0], axis=1))


def check_windows(cfg, kernel):
    """Train six windows against the reference; returns the engine's syn0."""
    rng = np.random.default_rng(42)
    engine, arrays, ref, paths = make_engine(rng, kernel=kernel, **cfg)
    sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5], dtype=np.int32)
    for i, win, seed in [(3, 3, 11), (0, 2, 12), (7, 1, 13), (4, 3, 14), (5, 3, 15), (2, 3, 16)]:
        alpha = 0.05
        negs, loss = engine.debug_train_window(sentence, i, win, alpha, seed)
        ref_loss = ref_window(ref, list(sentence), i, win, alpha, list(negs), paths, cfg)
        for name in arrays:
            np.testing.assert_allclose(arrays[name], ref[name], atol=ATOL, rtol=0,
                                       err_msg=f"{name} after window at {i}")
        assert loss == pytest.approx(ref_loss, rel=1e-4, abs=1e-4)
    if cfg["negative"]:  # last window: centre 2, 5 contexts; pairs draw fresh noise per context
        per_window = 5 if (cfg["sg"] and not cfg["batch_window"]) else 1
        assert len(negs) == cfg["negative"] * per_window
    return arrays["syn0"]


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("arch", [dict(sg=0), dict(sg=1, batch_window=1), dict(sg=1, batch_window=0)],
                         ids=["cbow", "sg-block", "sg-pairs"])
def test_noise_words_are_the_noise_streams_draws_in_order(arch, kernel):
    """Each objective call takes the next k draws of the thread's own noise stream (queued
    two calls ahead), whatever the windows and subsampling take from the other stream; the
    pairs' block makes five calls, so the queue is read past its first refill."""
    engine = make_engine(np.random.default_rng(4), kernel=KERNELS[kernel], negative=3, **arch)[0]
    sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5], dtype=np.int32)
    for seed in (13, 2**64 - 1):
        negs, _ = engine.debug_train_window(sentence, 2, 3, 0.05, seed)
        assert len(negs) == 3 * (5 if arch.get("batch_window") == 0 else 1)
        stream = KERNELS[kernel].noise_stream_seed(seed)
        assert stream != seed
        np.testing.assert_array_equal(negs, engine.draw_noise_samples(len(negs), stream))


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
@pytest.mark.parametrize("lockf", [None, LOCKF], ids=["", "lockf"])
def test_combined_windows_match_numpy(objective, kernel, lockf):
    """Context combining: several centres' windows as one block, each context row predicting
    the centres whose window holds it, one shared draw of negatives weighted per pair (and
    each row's step times its lockf)."""
    cfg = dict(sg=1, batch_window=1, cbow_mean=1, lockf=lockf, **objective)
    engine, arrays, ref, paths = make_engine(np.random.default_rng(8), kernel=KERNELS[kernel],
                                             combine=4, **cfg)
    sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5, 3, 1], dtype=np.int32)
    blocks = [(2, [3, 1, 2], 31), (0, [2, 3], 32), (6, [1, 3, 3, 2], 33), (9, [2], 34),
              (4, [1, 1], 35), (1, [3, 3, 3, 3], 36)]
    for first, wins, seed in blocks:
        negs, loss = engine.debug_train_block(sentence, first, wins, 0.05, seed)
        ref_loss = ref_block(ref, list(sentence), first, wins, 0.05, list(negs), paths, cfg)
        for name in arrays:   # up to 4 Huffman paths through one node: 4x the table error
            np.testing.assert_allclose(arrays[name], ref[name], atol=2 * ATOL, rtol=0,
                                       err_msg=f"{name} after block {first} {wins}")
        assert loss == pytest.approx(ref_loss, rel=1e-4, abs=1e-4)
        if cfg["negative"]:
            assert len(negs) == cfg["negative"]   # one draw for the whole block


def test_one_centre_block_is_the_window():
    """combine=4 with one centre trains exactly as the per-window engine."""
    sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5], dtype=np.int32)
    cfg = dict(sg=1, negative=3, hs=1)
    results = []
    for combine in (1, 4):
        engine, arrays, _, _ = make_engine(np.random.default_rng(4), combine=combine, **cfg)
        engine.debug_train_block(sentence, 3, [2], 0.05, 9)
        results.append(arrays)
    for name in results[0]:
        np.testing.assert_array_equal(results[0][name], results[1][name], err_msg=name)


# ----------------------------------------------------------------- CBOW: exact gradient of the mean
@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("objective", [dict(negative=3), dict(hs=1), dict(negative=2, hs=1)],
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
def test_exact_cbow_gives_each_context_row_e_over_c(objective, kernel):
    """One window, both gradients from the same start: h and so the output rows' update are
    the same, and each context row moves by e / C instead of word2vec.c's e (C = 6 context
    positions here; word 0 fills two of them and moves by 2 e / C)."""
    sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5], dtype=np.int32)
    ctx = [0, 3, 1, 0, 6, 2]   # centre 3 (word 4), window 3
    initial = make_engine(np.random.default_rng(6))[1]["syn0"].copy()
    runs = {}
    for exact in (0, 1):
        engine, arrays, _, _ = make_engine(np.random.default_rng(6), kernel=KERNELS[kernel], sg=0,
                                           cbow_exact=exact, **objective)
        engine.debug_train_window(sentence, 3, 3, 0.05, 19)
        runs[exact] = arrays
    for name in ("syn1neg", "syn1"):
        np.testing.assert_array_equal(runs[1][name], runs[0][name], err_msg=name)
    step_word2vec = runs[0]["syn0"].astype(np.float64) - initial
    step_exact = runs[1]["syn0"].astype(np.float64) - initial
    np.testing.assert_allclose(step_exact, step_word2vec / len(ctx), atol=1e-6, rtol=0)
    moved = sorted(set(ctx))
    assert np.all(np.abs(step_exact[moved]).max(axis=1) > 1e-4)
    np.testing.assert_array_equal(step_exact[[w for w in range(V) if w not in moved]], 0.0)


def test_engine_refuses_the_exact_gradient_outside_cbow_mean():
    for cfg in (dict(sg=1), dict(sg=0, cbow_mean=0)):
        with pytest.raises(ValueError, match="cbow_exact needs CBOW with the mean"):
            make_engine(np.random.default_rng(0), negative=2, cbow_exact=1, **cfg)


def cbow_digest(kernel, cfg):
    """sha256 (16 hex digits) of the weights after one fixed-seed job of CBOW with word2vec's gradient."""
    words = np.random.default_rng(3).integers(0, V, 400).astype(np.int32)
    ends = np.array([150, 151, 400], dtype=np.int64)
    engine, arrays, _, _ = make_engine(np.random.default_rng(9), kernel=kernel, sg=0, scale=0.3, **cfg)
    engine.train_job(words, ends, 0.05, 0.01, 77)
    return hashlib.sha256(b"".join(arrays[name].tobytes() for name in sorted(arrays))).hexdigest()[:16]


#: Recorded with the build of 21b6068 (before cbow_gradient), gcc 12.2, the default flags of
#: setup.py: the default CBOW path must train bit for bit as it did. Those with negative
#: sampling were recorded again when the noise draws got their own stream (other noise
#: words, the same arithmetic: the hs1 digests did not move). A compiler that rounds
#: differently (another version, CYW2V_NATIVE=1) changes them too; then record them anew
#: with that compiler from the parent commit's build.
DEFAULT_CBOW_DIGESTS = {
    "avx512-negative3": "76648d3855c9f7f8", "avx512-hs1": "12498ec86782b71b",
    "avx512-negative2-hs1": "2c728f2605162a37", "avx512-negative3-cbow_mean0": "6c75cae21e5fbc8f",
    "avx2-negative3": "b61065e20ef947c2", "avx2-hs1": "e994e91f62d348d2",
    "avx2-negative2-hs1": "fa4433d02110b50f", "avx2-negative3-cbow_mean0": "ea8aeee6d2636275",
    "baseline-negative3": "8df3dd6a37746624", "baseline-hs1": "de1b6fb007bd7880",
    "baseline-negative2-hs1": "10f0c87e2c8ce982", "baseline-negative3-cbow_mean0": "1e513add33d28a39",
}


def _recording_compiler() -> bool:
    """Whether the extension was built by the compiler the digests were recorded with."""
    import shutil
    import subprocess
    if os.environ.get("CYW2V_NATIVE") or not shutil.which("gcc"):
        return False
    version = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    return version == "12.2.0"


@pytest.mark.skipif(not _recording_compiler(), reason="digests recorded with gcc 12.2.0 and setup.py's flags")
@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("cfg", [dict(negative=3), dict(hs=1), dict(negative=2, hs=1), dict(negative=3, cbow_mean=0)],
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
def test_default_cbow_trains_bit_for_bit_as_before(cfg, kernel):
    key = f"{kernel}-" + "-".join(f"{k}{v}" for k, v in cfg.items())
    assert cbow_digest(KERNELS[kernel], cfg) == DEFAULT_CBOW_DIGESTS[key], key


@pytest.mark.parametrize("cfg", [dict(sg=1, batch_window=0, negative=3), dict(sg=1, negative=2, hs=1, combine=3),
                                 dict(sg=0, hs=1), dict(sg=0, cbow_mean=0, negative=3)],
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_lockf_of_ones_and_a_scalar_train_as_expected(cfg, kernel):
    """lockf of ones trains bit for bit as none (1 * step is exact), one value applies to
    every row, and lockf 0 everywhere leaves syn0 unchanged while the output rows train."""
    words = np.random.default_rng(3).integers(0, V, 400).astype(np.int32)
    ends = np.array([150, 151, 400], dtype=np.int64)
    results = {}
    for name, lockf in [("none", None), ("empty", np.empty(0, np.float32)), ("ones", np.ones(V, np.float32)),
                        ("half", np.float32([0.5])), ("halves", np.full(V, 0.5, np.float32)),
                        ("zero", np.zeros(1, np.float32))]:
        engine, arrays, _, _ = make_engine(np.random.default_rng(9), kernel=KERNELS[kernel], scale=0.3,
                                           lockf=lockf, **cfg)
        engine.train_job(words, ends, 0.05, 0.01, 77)
        results[name] = arrays
    initial = make_engine(np.random.default_rng(9), scale=0.3)[1]
    for name in results["none"]:
        for same in ("empty", "ones"):
            np.testing.assert_array_equal(results[same][name], results["none"][name], err_msg=f"{same} {name}")
        np.testing.assert_array_equal(results["half"][name], results["halves"][name], err_msg=name)
    np.testing.assert_array_equal(results["zero"]["syn0"], initial["syn0"])
    assert not np.array_equal(results["zero"]["syn1neg" if cfg.get("negative") else "syn1"],
                              initial["syn1neg" if cfg.get("negative") else "syn1"])


def test_engine_rejects_a_lockf_of_another_length():
    with pytest.raises(ValueError, match="lockf has 3 entries; expected 1 or V=7"):
        make_engine(np.random.default_rng(0), negative=2, lockf=np.ones(3, np.float32))


def test_block_rejects_bad_requests():
    engine = make_engine(np.random.default_rng(0), negative=2, combine=2)[0]
    sentence = np.arange(V, dtype=np.int32)
    with pytest.raises(ValueError, match="centres"):
        engine.debug_train_block(sentence, 0, [1, 1, 1], 0.05, 0)
    with pytest.raises(IndexError):
        engine.debug_train_block(sentence, V - 1, [1, 1], 0.05, 0)
    with pytest.raises(ValueError, match="combine"):
        make_engine(np.random.default_rng(0), negative=2, combine=0)
    with pytest.raises(ValueError, match="combine"):
        make_engine(np.random.default_rng(0), negative=2, combine=_core.MAX_COMBINED_CENTRES + 1)



@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("cfg", [dict(sg=0, batch_window=1), dict(sg=1, batch_window=1)],
                         ids=["cbow", "sg-block"])
def test_injected_negatives_replace_the_draws(cfg, kernel):
    """The replay hook (benchmarks/gensim_replay.py): the given noise words, a draw of the
    centre among them skipped, are the ones trained, against the reference."""
    cfg = {**cfg, "cbow_mean": 1, "negative": 3, "hs": 0, "softmax": 0}
    engine, arrays, ref, paths = make_engine(np.random.default_rng(5), kernel=KERNELS[kernel], **cfg)
    sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5], dtype=np.int32)
    for i, negatives in [(3, [6, 6, 2]), (5, [6, 1, 0]), (2, [1, 5, 5])]:
        negs, _ = engine.debug_train_window(sentence, i, 2, 0.05, 7, negatives)
        assert negs == negatives
        ref_window(ref, list(sentence), i, 2, 0.05, list(negatives), paths, cfg)
        for name in arrays:
            np.testing.assert_allclose(arrays[name], ref[name], atol=ATOL, rtol=0)


def test_injected_negatives_are_checked():
    sentence = np.arange(V, dtype=np.int32)
    cbow = make_engine(np.random.default_rng(0), sg=0, negative=2)[0]
    for bad in ([1], [1, 2, 3], [1, V]):
        with pytest.raises(ValueError, match="negative"):
            cbow.debug_train_window(sentence, 3, 2, 0.05, 0, bad)
    pairs = make_engine(np.random.default_rng(0), sg=1, batch_window=0, negative=2)[0]
    with pytest.raises(ValueError, match="one objective call"):
        pairs.debug_train_window(sentence, 3, 2, 0.05, 0, [1, 2])
    hs_only = make_engine(np.random.default_rng(0), sg=0, negative=0, hs=1)[0]
    with pytest.raises(ValueError, match="negatives must be"):
        hs_only.debug_train_window(sentence, 3, 2, 0.05, 0, [1, 2])

@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("cfg", [dict(sg=1, negative=3, hs=0), dict(sg=0, negative=3, hs=0),
                                 dict(sg=1, negative=0, hs=1), dict(sg=0, negative=2, hs=1)],
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
def test_window_with_all_rows_cached_matches_numpy(cfg, kernel):
    """Every output row in the thread's private copy: the window's update reaches the shared
    matrices when the scratch space is released, and equals the reference."""
    rng = np.random.default_rng(5)
    engine, arrays, ref, paths = make_engine(rng, kernel=KERNELS[kernel], hot_rows=V, **cfg)
    sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5], dtype=np.int32)
    for i, seed in [(3, 21), (4, 22), (0, 23)]:
        negs, loss = engine.debug_train_window(sentence, i, 3, 0.05, seed)
        ref_window(ref, list(sentence), i, 3, 0.05, list(negs), paths, {**cfg, "batch_window": 1,
                                                                        "softmax": 0, "cbow_mean": 1})
        for name in arrays:
            np.testing.assert_allclose(arrays[name], ref[name], atol=ATOL, rtol=0, err_msg=name)


@pytest.mark.parametrize("cfg", [dict(sg=1, negative=3, hs=0), dict(sg=0, negative=3, hs=0),
                                 dict(sg=1, negative=0, hs=1), dict(sg=0, negative=2, hs=1),
                                 dict(sg=1, negative=3, hs=1, combine=3)],
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
@pytest.mark.parametrize("hot_rows,sync", [(1, 1), (3, 7), (V, 50), (V, 100000)])
def test_cached_rows_lose_no_update_in_one_thread(cfg, hot_rows, sync):
    """One thread with cached rows must train exactly as without (up to float rounding of
    the merge): a wrong slot, a missed merge or a stale reload would show here."""
    words = np.random.default_rng(3).integers(0, V, 400).astype(np.int32)
    ends = np.array([150, 151, 400], dtype=np.int64)
    results = []
    for hot in (0, hot_rows):
        engine, arrays, _, _ = make_engine(np.random.default_rng(9), window=3, hot_rows=hot,
                                           hot_sync_words=sync, scale=0.3, **cfg)
        kept, loss, terms = engine.train_job(words, ends, 0.05, 0.01, 77)
        results.append((arrays, kept, loss))
    (plain, kept0, loss0), (cached, kept1, loss1) = results
    initial = make_engine(np.random.default_rng(9), window=3, scale=0.3)[1]
    trained = ["syn0"] + (["syn1neg"] if cfg["negative"] else []) + (["syn1"] if cfg["hs"] else [])
    assert kept0 == kept1 == 400
    assert loss1 == pytest.approx(loss0, rel=1e-4)
    for name in plain:
        assert np.array_equal(plain[name], initial[name]) == (name not in trained), name
        np.testing.assert_allclose(cached[name], plain[name], atol=1e-5, rtol=0, err_msg=name)


def test_softmax_gradient_is_u_o_minus_expected_u():
    """d/dv_c log P(o|c) = u_o - sum_w P(w|c) u_w: one skip-gram pair, full softmax only."""
    rng = np.random.default_rng(3)
    engine, arrays, ref, _ = make_engine(rng, sg=1, batch_window=0, softmax=1, window=1)
    U = arrays["syn1sm"].astype(np.float64).copy()
    v_c = arrays["syn0"][2].astype(np.float64).copy()
    p = np.exp(U @ v_c)
    p /= p.sum()
    expected = U[5] - p @ U
    alpha = 0.1
    # sentence [c, o]: position 1 (centre o=5) has the single context c=2
    engine.debug_train_window(np.array([2, 5], dtype=np.int32), 1, 1, alpha, 0)
    np.testing.assert_allclose(arrays["syn0"][2] - v_c, alpha * expected, atol=1e-6)


@pytest.mark.parametrize("d", [1, 3, 16, 50, 100, 131, 300])
def test_odd_dimensions_match_numpy(d):
    """Vector loops with remainders: any d gives the formulas (SG batched, NS + HS)."""
    global D
    saved, D = D, d
    try:
        for name, kernel in KERNELS.items():
            rng = np.random.default_rng(d)
            cfg = dict(sg=1, batch_window=1, cbow_mean=1, negative=4, hs=1, softmax=0)
            engine, arrays, ref, paths = make_engine(rng, kernel=kernel, scale=0.3, **cfg)
            sentence = np.array([1, 2, 0, 3, 6, 5], dtype=np.int32)
            negs, _ = engine.debug_train_window(sentence, 2, 3, 0.05, 7)
            ref_window(ref, list(sentence), 2, 3, 0.05, list(negs), paths, cfg)
            for a in arrays:
                np.testing.assert_allclose(arrays[a], ref[a], atol=5e-6, err_msg=f"{name} d={d} {a}")
    finally:
        D = saved


@pytest.mark.parametrize("d", [16, 48, 112])
@pytest.mark.parametrize("objective", [dict(negative=3, hs=0, softmax=0), dict(negative=0, hs=1, softmax=0),
                                       dict(negative=2, hs=1, softmax=0)],
                         ids=["negative3", "hs1", "negative2-hs1"])
def test_register_tiled_blocks_match_numpy(d, objective):
    """Skip-gram blocks at d a whole number of vectors of every build (16 floats divide it),
    where the engine scores and updates in register tiles: 2 to 15 hidden rows (one fused
    pass up to 10 on AVX-512 and 4 on the others, split passes above), every remainder of the 4-target tiles, output rows
    both distinct and repeated within a block (injected noise words, shared Huffman nodes),
    and input rows both distinct and repeated. With one objective the tiles update the
    input rows in place (a repeated one must still receive every term); with two, copies."""
    global D
    saved, D = D, d
    try:
        sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5, 3, 1, 4, 2, 6, 0, 5, 1, 3], dtype=np.int32)
        blocks = [(8, [1], [6, 4, 0]), (8, [3], [6, 4, 0]), (8, [4], [5, 5, 0]), (8, [6], [6, 4, 1]),
                  (8, [6], [4, 4, 0]), (7, [1, 1], [6, 6, 0]), (4, [6, 6], [1, 2, 5]), (3, [2, 6, 3, 5], [5, 5, 1]),
                  (0, [6], [1, 2, 5]), (16, [5], [6, 4, 0]), (6, [6, 5, 6, 6], [0, 1, 2])]
        covered = set()
        for name, kernel in KERNELS.items():
            cfg = dict(sg=1, batch_window=1, cbow_mean=1, **objective)
            engine, arrays, ref, paths = make_engine(np.random.default_rng(d), kernel=kernel, scale=0.3,
                                                     window=6, combine=4, **cfg)
            # without the loss the gradients take the vectorised sigmoid where the build has
            # one: the same blocks must give the same weights, to rounding (-fassociative-math
            # lets GCC order alpha W's multiplies either way)
            lossless, lossless_arrays, _, _ = make_engine(np.random.default_rng(d), kernel=kernel, scale=0.3,
                                                          window=6, combine=4, compute_loss=0, **cfg)
            assert engine.hidden_in_place == (name != "emulate" and objective["hs"] + (objective["negative"] > 0) == 1)
            for first, wins, noise in blocks:
                noise = noise[:cfg["negative"]]
                negs, loss = engine.debug_train_block(sentence, first, wins, 0.05, 5,
                                                      negatives=noise if noise else None)
                assert list(negs) == noise
                assert lossless.debug_train_block(sentence, first, wins, 0.05, 5,
                                                  negatives=noise if noise else None) == (negs, 0.0)
                for a in arrays:
                    np.testing.assert_allclose(lossless_arrays[a], arrays[a], rtol=0, atol=1e-6,
                                               err_msg=f"{name} d={d} {a}")
                centres = range(first, first + len(wins))
                ctx = [sentence[p] for p in range(len(sentence))
                       if any(p != i and abs(p - i) <= win for i, win in zip(centres, wins))]
                targets = [sentence[i] for i in centres] + [n for n in noise if n not in sentence[first:first + len(wins)]]
                if cfg["hs"]:   # Huffman nodes shared by the centres' paths
                    nodes = np.concatenate([paths[2][paths[0][t]:paths[0][t + 1]] for t in targets[:len(wins)]])
                    targets = targets + [f"node{n}" for n in nodes]
                covered.add((min(len(ctx), 11), len(set(targets)) == len(targets), len(set(ctx)) == len(ctx)))
                ref_loss = ref_block(ref, list(sentence), first, wins, 0.05, list(negs), paths, cfg)
                for a in arrays:
                    np.testing.assert_allclose(arrays[a], ref[a], atol=5e-6, rtol=0,
                                               err_msg=f"{name} d={d} {a} block {first} {wins}")
                assert loss == pytest.approx(ref_loss, rel=1e-4, abs=1e-4)
        assert len({m for m, _, _ in covered}) >= 5
        assert {(m <= 10, t, c) for m, t, c in covered} >= {(True, True, True), (True, True, False),
                                                          (True, False, True), (False, True, False)}
    finally:
        D = saved


def test_vector_sigmoid_matches_the_scalar_table_lane_for_lane():
    """The tiles' vectorised gradients alpha W * (labels - sigma(S)) against the scalar table
    sigmoid the other loops use, to a float's rounding (GCC may order alpha W's multiplies
    either way; the sigmoid itself agrees bit for bit): table nodes, the saturation edges (+-8 and the
    floats just inside, which round to the table's last point), infinities and NaN (sigma = 1,
    as the scalar code gives), every lane tail (m T = 1 .. 80), labels repeating with T below,
    at and above one vector, with and without weights. A build without the vector form
    returns None; where the CPU has AVX-512, one must have it."""
    rng = np.random.default_rng(7)
    f32 = np.float32
    edges = np.array([8.0, -8.0, np.nextafter(f32(8), f32(0)), np.nextafter(f32(-8), f32(0)), np.inf, -np.inf,
                      np.nan, 0.0, 1.0 / 64, -3.5, 7.984375, -7.984375], dtype=f32)
    vectorised = set()
    for name, kernel in KERNELS.items():
        for T in (1, 6, 16, 17, 40):
            for m in (1, 2, 3, 5):
                scores = (rng.standard_normal(m * T) * 5).astype(f32)
                scores[:len(edges)] = edges[:m * T]
                labels = (rng.random(T) < 0.3).astype(f32)
                for weight in (None, rng.random(m * T).astype(f32)):
                    got = kernel.vector_logistic_gradients(scores, labels, weight, 0.025)
                    if got is None:
                        continue
                    vectorised.add(name)
                    sig = np.array([kernel.table_sigmoid(x) for x in scores], dtype=f32)
                    want = (np.tile(labels, m) - sig) * f32(0.025)
                    if weight is not None:
                        want = want * weight
                    np.testing.assert_allclose(got, want, rtol=3e-7, atol=0, err_msg=f"{name} T={T} m={m}")
                    if weight is None:   # no product to reorder: the same bits
                        np.testing.assert_array_equal(got, want, err_msg=f"{name} T={T} m={m}")
        # the logit map of sigmoid="word2vec" goes through one multiply-add first
        a, b = 1.0 / 1.0033, -0.0025
        scores = (rng.standard_normal(48) * 5).astype(f32)
        got = kernel.vector_logistic_gradients(scores, np.ones(6, dtype=f32), None, 1.0, a, b)
        if got is not None:
            want = 1.0 - np.array([kernel.table_sigmoid(f32(a * x + b)) for x in scores])
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
    if _core.cpu_supports("avx512f"):
        assert "avx512" in vectorised
    with pytest.raises(ValueError):
        _core.vector_logistic_gradients(np.zeros(5, dtype=f32), np.zeros(2, dtype=f32), None, 0.1)


def test_word2vec_sigmoid_is_the_mean_of_word2vec_c_s_table():
    """word2vec.c's and gensim's lookup, sigma(0.012 int((x + 6) * 83) - 6), against the map of
    sigmoid="word2vec": unbiased over (-6, 6) and within half a bin (0.006 in x) everywhere;
    sigma(x) itself is biased (mean -0.0025), so the test tells the two apart."""
    from cyw2v.params import SIGMOIDS
    x = np.linspace(-5.9999, 5.9999, 400001)
    table = sigmoid(0.012 * np.floor((x + 6) * 83) - 6)
    a, b = SIGMOIDS["word2vec"]
    assert abs(np.mean(table - sigmoid(a * x + b))) < 2e-4
    assert np.max(np.abs(table - sigmoid(a * x + b))) < 0.25 * 0.006 + 1e-4
    assert np.mean(table - sigmoid(x)) < -2e-3
    assert SIGMOIDS["exact"] == (1.0, 0.0)


def test_sigmoid_table_accuracy_and_saturation():
    xs = np.linspace(-7.99, 7.99, 4001)
    got = np.array([_core.table_sigmoid(x) for x in xs])
    assert np.max(np.abs(got - sigmoid(xs))) < 3e-6
    got_log = np.array([_core.table_log_sigmoid(x) for x in xs])
    assert np.max(np.abs(got_log - np.log(sigmoid(xs)))) < 5e-5
    # past the range: sigma saturates, log-sigma uses the exact formula
    assert _core.table_sigmoid(8.5) == 1.0 and _core.table_sigmoid(-30.0) == 0.0
    assert _core.table_sigmoid(float("nan")) == 1.0  # no out-of-bounds read
    assert _core.table_log_sigmoid(-30.0) == pytest.approx(-30.0, abs=1e-9)
    assert _core.table_log_sigmoid(20.0) == pytest.approx(-np.exp(-20.0), rel=1e-6)


def test_engine_rejects_inconsistent_arrays():
    z = np.zeros((V, D), np.float32)
    prob, alias = alias_table(noise_distribution(COUNTS, 0.75))
    keep = keep_thresholds(COUNTS, 0.0)
    off, code, point = huffman(COUNTS)
    kw = dict(sg=1, cbow_mean=1, window=2, shrink_windows=1, negative=5, hs=0, softmax=0,
              batch_window=1, compute_loss=0)
    with pytest.raises(ValueError, match="noise"):
        old_engine(_core, z, z, z, z, keep, prob[:3], alias[:3], off, code, point, **kw)
    with pytest.raises(ValueError, match="keep_threshold"):
        old_engine(_core, z, z, z, z, keep[:2], prob, alias, off, code, point, **kw)
    engine = old_engine(_core, z, z, z, z, keep, prob, alias, off, code, point, **kw)
    with pytest.raises(ValueError, match="out of range"):
        engine.train_job(np.array([0, V], np.int32), np.array([2], np.int64), 0.1, 0.1, 1)


@pytest.mark.parametrize("cfg", [dict(sg=1, negative=3), dict(sg=0, negative=2, hs=1),
                                 dict(sg=1, negative=2, hs=1, combine=3), dict(sg=1, batch_window=0, hs=1)],
                         ids=lambda d: "-".join(f"{k}{v}" for k, v in d.items()))
def test_a_reused_worker_trains_as_a_fresh_one_per_call(cfg):
    """A Worker's scratch space is allocated once; every call still starts from its own seed
    and merges its cached rows at its end, so calls train exactly as fresh scratch spaces."""
    words = np.random.default_rng(3).integers(0, V, 400).astype(np.int32)
    ends = np.array([150, 151, 400], dtype=np.int64)
    calls = [(0.05, 0.03, 77), (0.03, 0.01, 78), (0.02, 0.01, 77)]
    fresh, arrays_fresh, _, _ = make_engine(np.random.default_rng(9), hot_rows=3, hot_sync_words=50, **cfg)
    reused, arrays_reused, _, _ = make_engine(np.random.default_rng(9), hot_rows=3, hot_sync_words=50, **cfg)
    worker = reused.worker(250)
    for call in calls:
        assert fresh.train_job(words, ends, *call) == worker.train_job(words, ends, *call)
    for name in arrays_fresh:
        np.testing.assert_array_equal(arrays_fresh[name], arrays_reused[name], err_msg=name)
