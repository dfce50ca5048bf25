"""Reduced-precision weights, emulated (cyw2v._core_emulate): the rounding against its
definition, the emulating engine against the float32 engine and the NumPy reference."""
import os
import subprocess
import sys

import numpy as np
import pytest

from cyw2v import _core
from cyw2v._dispatch import _instrument, available_kernels

from test_kernels import make_engine, ref_window

EMULATE = _instrument("emulate").get("emulate")
needs_emulate = pytest.mark.skipif(EMULATE is None, reason="the emulating engine needs AVX2 and its build")
AVX2 = available_kernels().get("avx2")


def bf16_nearest(x):
    """float32 -> bfloat16 (ties to even) -> float32, on the bits; Inf and NaN unchanged."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    special = (u & 0x7F800000) == 0x7F800000
    r = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return np.where(special, x, r)


def representable_in_bf16(a):
    return np.all((np.asarray(a, np.float32).view(np.uint32) & 0xFFFF) == 0)


def test_nearest_rounding_is_ties_to_even():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(50_000) * 10.0 ** rng.integers(-30, 30, 50_000)).astype(np.float32)
    # exact ties (the dropped half is 0x8000) both ways, the largest finite values, Inf, NaN
    ties = (np.arange(1, 200, dtype=np.uint32) << 16 | 0x8000).view(np.float32)
    x = np.concatenate([x, ties, -ties, [np.inf, -np.inf, np.nan, np.finfo(np.float32).max, 0.0, -0.0]])
    x = x.astype(np.float32)
    got = x.copy()
    _core.round_weights(got, "bf16")
    np.testing.assert_array_equal(got, bf16_nearest(x))
    assert np.all((got[np.isfinite(got)].view(np.uint32) & 0xFFFF) == 0)
    assert got[-3] == np.inf            # float32's largest value rounds up to Inf, as in bfloat16


def test_stochastic_rounding_picks_a_neighbour_with_the_dropped_fraction():
    lo = np.float32(0.75)                       # bf16 spacing at 0.75 is 2**-8
    for fraction in (0.1, 0.5, 0.93):
        x = np.float32(lo + fraction * 2.0 ** -8)
        f = float((x - lo) / 2.0 ** -8)         # the fraction float32 actually holds
        got = np.full(200_000, x, np.float32)
        _core.round_weights(got, "bf16-stochastic", seed=int(fraction * 1000))
        up = got == np.float32(lo + 2.0 ** -8)
        assert np.all(up | (got == lo))
        sigma = np.sqrt(f * (1 - f) / got.size)
        assert abs(up.mean() - f) < 5 * sigma, (fraction, up.mean())
        assert abs(got.astype(np.float64).mean() - float(x)) < 5 * sigma * 2.0 ** -8
    exact = np.array([0.5, -3.0, 0.0], np.float32)       # representable values stay put
    kept = exact.copy()
    _core.round_weights(kept, "bf16-stochastic")
    np.testing.assert_array_equal(kept, exact)


def test_float16_rounding_is_numpys_cast():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(20_000) * 10.0 ** rng.integers(-9, 5, 20_000)).astype(np.float32)
    got = x.copy()
    try:
        _core.round_weights(got, "fp16")
    except ValueError as e:
        pytest.skip(str(e))
    np.testing.assert_array_equal(got, x.astype(np.float16).astype(np.float32))


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be one of"):
        _core.round_weights(np.zeros(3, np.float32), "int8")


def test_only_the_emulating_build_rounds():
    assert not _core.emulates_rounded_weights()
    if EMULATE is not None:
        assert EMULATE.emulates_rounded_weights()


@needs_emulate
@pytest.mark.parametrize("cfg", [dict(sg=1, batch_window=1, negative=3, hs=0, softmax=0, cbow_mean=1),
                                 dict(sg=1, batch_window=0, negative=0, hs=1, softmax=0, cbow_mean=1),
                                 dict(sg=0, batch_window=1, negative=2, hs=1, softmax=0, cbow_mean=1),
                                 dict(sg=0, batch_window=1, negative=0, hs=0, softmax=1, cbow_mean=0)],
                         ids=["sg-ns", "sgpairs-hs", "cbow-ns-hs", "cbowsum-softmax"])
def test_at_float32_the_emulating_engine_is_the_avx2_engine(cfg, monkeypatch):
    monkeypatch.delenv("CYW2V_EMULATE_WEIGHTS", raising=False)
    trained = []
    for kernel in (EMULATE, AVX2):
        engine, arrays, _, _ = make_engine(np.random.default_rng(7), kernel=kernel, **cfg)
        sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5], dtype=np.int32)
        for i, win, seed in [(3, 3, 11), (0, 2, 12), (7, 1, 13), (4, 3, 14)]:
            engine.debug_train_window(sentence, i, win, 0.2, seed)
        trained.append(arrays)
    for name in trained[0]:
        np.testing.assert_array_equal(trained[0][name], trained[1][name], err_msg=name)


@needs_emulate
@pytest.mark.parametrize("precision", ["bf16", "bf16-stochastic", "fp16"])
@pytest.mark.parametrize("cfg", [dict(sg=1, batch_window=1, negative=3, hs=0, softmax=0, cbow_mean=1),
                                 dict(sg=1, batch_window=0, negative=2, hs=1, softmax=0, cbow_mean=1),
                                 dict(sg=0, batch_window=1, negative=2, hs=1, softmax=0, cbow_mean=1),
                                 dict(sg=0, batch_window=1, negative=0, hs=0, softmax=1, cbow_mean=1)],
                         ids=["sg-ns", "sgpairs-ns-hs", "cbow-ns-hs", "cbow-softmax"])
def test_rounded_training_follows_the_reference_and_stores_only_representable_values(cfg, precision,
                                                                                   monkeypatch):
    """Each window: the engine's rows equal the NumPy reference's step from the same rows,
    rounded, to within one unit of the storage format per write of a row; every stored
    value is one the format holds. The steps are many units wide, so a wrong gradient or a
    missed rounding fails."""
    monkeypatch.setenv("CYW2V_EMULATE_WEIGHTS", precision)
    if precision == "fp16":
        probe = np.ones(1, np.float32)
        try:
            _core.round_weights(probe, "fp16")
        except ValueError as e:
            pytest.skip(str(e))
    engine, arrays, ref, paths = make_engine(np.random.default_rng(8), kernel=EMULATE, **cfg)
    if precision == "fp16":
        def holds(a):
            return np.array_equal(a, a.astype(np.float16).astype(np.float32))
        ulp = 2.0 ** -10        # relative spacing of float16 (11 significant bits), normal range
    else:
        holds = representable_in_bf16
        ulp = 2.0 ** -7
    for name, a in arrays.items():          # the Engine rounded the initial weights
        assert holds(a), name
        ref[name] = a.astype(np.float64)
    sentence = np.array([0, 3, 1, 4, 0, 6, 2, 5], dtype=np.int32)
    # most writes of one row in a window: a row drawn twice, or (pairs) once per context
    writes = 6 if cfg["sg"] and not cfg["batch_window"] else 2
    moved = 0.0
    for i, win, seed in [(3, 3, 11), (0, 2, 12), (7, 1, 13), (4, 3, 14), (5, 3, 15)]:
        before = {k: v.copy() for k, v in ref.items()}
        negs, _ = engine.debug_train_window(sentence, i, win, 0.5, seed)
        ref_window(ref, list(sentence), i, win, 0.5, list(negs), paths, cfg)
        for name, a in arrays.items():
            assert holds(a), f"{name} after window at {i}"
            step = np.abs(ref[name] - before[name])
            tolerance = writes * ulp * np.maximum(np.abs(ref[name]), np.abs(before[name])) + 1e-6
            bad = np.abs(a - ref[name]) > tolerance
            assert not bad.any(), (name, i, np.max(np.abs(a - ref[name])))
            moved = max(moved, float(np.max(step / tolerance)))
            ref[name] = a.astype(np.float64)
    assert moved > 3, "the steps were too small for the comparison to mean anything"


def _train_in_child(env_extra):
    code = ("import numpy as np\n"
            "from cyw2v import Word2Vec\n"
            "from cyw2v._dispatch import KERNEL\n"
            "s = [['a', 'b', 'c', 'd', 'e', 'f'][i % 6:] + ['g'] * (i % 3) for i in range(300)]\n"
            "m = Word2Vec(s, vector_size=12, min_count=1, workers=2, epochs=2, seed=3)\n"
            "v = m.wv.vectors\n"
            "print(KERNEL, int(np.all((v.view(np.uint32) & 0xFFFF) == 0)), int(np.abs(v).sum() > 0))\n")
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


@needs_emulate
def test_a_model_trained_by_the_emulating_engine_holds_bf16_values():
    r = _train_in_child({"CYW2V_KERNEL": "emulate", "CYW2V_EMULATE_WEIGHTS": "bf16-stochastic"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["emulate", "1", "1"]


def test_asking_another_engine_to_emulate_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k != "CYW2V_KERNEL"}
    env["CYW2V_EMULATE_WEIGHTS"] = "bf16"
    code = ("from cyw2v import Word2Vec\n"
            "try:\n    Word2Vec([['a', 'b', 'c']] * 20, min_count=1, workers=1, epochs=1)\n"
            "except ValueError as e:\n    print('refused:', e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "refused:" in r.stdout and "CYW2V_KERNEL=emulate" in r.stdout, \
        r.stdout + r.stderr[-2000:]
