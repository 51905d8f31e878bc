"""The "Check these numbers" panels' numbers: engine.explain's checks and ui.check's sentences.

Each check is held to what the panel says of it: where a finite difference can judge the
engine it agrees to the accuracy it reports (each cell, tanh and ReLU, first, middle and last
step), it catches a wrong gradient, and where it cannot judge (an exploded run, a vanished
gradient or a saturated unit below float64's rounding, a loss not smooth over ε) it says so and
gives no error figure. The forward recomputation from the formula equals the engine's values.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest

import engine
from engine import explain, theory
from engine.inputs import preset
from ui import check

CASES = [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"), ("lstm", "tanh")]
CASE_IDS = ["rnn-tanh", "rnn-relu", "gru", "lstm"]
T, H, D = 9, 6, 4
STEPS = [0, T // 2, T - 1]  # first, middle, last


@functools.cache
def run(cell, nl, scale=1.0):
    """A short run whose gradients reach the first step (L = Σ_i h_{T-1}[i])."""
    params = engine.init_params(cell, D, H, seed=5, recurrent_scale=scale)
    xs = np.random.default_rng(5).standard_normal((T, D))
    trace = engine.forward(cell, params, xs, nonlinearity=nl)
    return trace, engine.backward(trace, theory.last_step_seed(trace))


@functools.cache
def lesson_run(name, cell, nl="tanh", *, steps=40, init="uniform", scale=1.0):
    """A run on a preset, as the pages make them (the regimes of the lessons)."""
    seq = preset(name, steps=steps, seed=1)
    params = engine.init_params(cell, seq.D, 16, seed=0, recurrent_init=init,
                                recurrent_scale=scale)  # fmt: skip
    trace = engine.forward(cell, params, seq.values, nonlinearity=nl)
    return trace, engine.backward(trace, theory.last_step_seed(trace))


def assert_checked(r, label):
    assert r["verdict"] == "checked", label
    # the difference agrees with the engine to the accuracy the panel reports, and that
    # accuracy is a real one (a tolerance of 1 would pass anything)
    assert r["rel_error"] <= r["tolerance"], label
    assert r["tolerance"] <= 1e-4, label
    assert r["agree"], label


def assert_not_checked(r, verdict, label):
    assert r["verdict"] == verdict, label
    # no error figure where the difference cannot judge
    assert math.isnan(r["rel_error"]) and math.isnan(r["tolerance"]), label
    assert not r["agree"], label


# --------------------------------------------------------------------------------------------
# Backward: BPTT against a central difference
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_gradient_agrees_with_the_difference(cell, nl, step):
    trace, grads = run(cell, nl)
    for unit in (0, H - 1):
        r = explain.check_gradient(trace, grads, step, unit)
        label = f"{cell}-{nl} t={step} k={unit}: {r}"
        assert r["analytic"] == grads.h[step, unit], label  # BPTT's own number is shown
        assert_checked(r, label)
        assert r["eps"] == explain.CHECK_EPS * max(1.0, abs(trace.h[step, unit])), label
        assert r["overflow_step"] is None, label


@pytest.mark.parametrize("step", STEPS)
def test_lstm_cell_gradient_agrees_with_the_difference(step):
    trace, grads = run("lstm", "tanh")
    for unit in (0, H - 1):
        r = explain.check_gradient(trace, grads, step, unit, state="c")
        assert r["analytic"] == grads.c[step, unit]
        assert_checked(r, f"lstm dL/dc t={step} k={unit}: {r}")


@pytest.mark.parametrize("state", ["h", "c"])
def test_a_wrong_gradient_is_caught(state):
    trace, _ = run("lstm", "tanh")
    wrong = engine.backward(trace, 2.0 * theory.last_step_seed(trace))  # the gradient of 2L
    r = explain.check_gradient(trace, wrong, 2, 1, state=state)
    # backward: checkable, and the panel says they disagree
    assert r["verdict"] == "checked" and not r["agree"]
    assert r["rel_error"] == pytest.approx(1 / 3, rel=1e-4)  # |2n − n| / (2n + n)
    assert "❌" in check.verdict_text(r, what="∂L/∂h")


def test_exploded_run_is_named_not_checked():
    # identity ReLU RNN scaled by 10 on an impulse: the states reach the 1e100 cap
    trace, grads = lesson_run("Impulse", "rnn", "relu", steps=200, init="identity", scale=10.0)
    first = int(np.flatnonzero(np.any(trace.h >= 1e100, axis=1))[0])
    for step in (0, first - 1, trace.T - 1):
        r = explain.check_gradient(trace, grads, step, 0)
        assert_not_checked(r, "overflow", f"t={step}: {r}")
        assert r["overflow_step"] == max(first, step)
    text = check.verdict_text(r, what="∂L/∂h")
    assert "exploded" in text and f"step {trace.T - 1}" in text
    assert "relative error" not in text


def test_vanished_gradient_is_too_small_to_check():
    # a tanh RNN 299 steps back from the loss: BPTT's gradient is far below rounding
    trace, grads = lesson_run("Impulse", "rnn", steps=300)
    r = explain.check_gradient(trace, grads, 0, 3)
    assert abs(r["analytic"]) < 1e-40, r
    assert_not_checked(r, "too_small", str(r))
    assert max(abs(r["analytic"]), abs(r["numeric"])) < explain.CHECK_RESOLVE * r["resolution"]
    text = check.verdict_text(r, what="∂L/∂h")
    assert text.startswith("Too small to check") and "relative error" not in text


def test_saturated_unit_is_too_small_to_check():
    # inputs of ±10⁶ pin every tanh unit at ±1: tanh' = 1 − h² is 0 to rounding
    params = engine.init_params("rnn", D, 16, seed=0)
    xs = 1e6 * np.sign(np.random.default_rng(0).standard_normal((30, D)))
    trace = engine.forward("rnn", params, xs)
    grads = engine.backward(trace, theory.last_step_seed(trace))
    assert np.all(np.abs(trace.h) > 1 - 1e-12)
    r = explain.check_gradient(trace, grads, 10, 2)
    assert_not_checked(r, "too_small", str(r))
    # the last step is not saturated away from the loss: dL/dh_{T-1} = 1 is checked
    assert_checked(explain.check_gradient(trace, grads, trace.T - 1, 2), "last step")


def test_chaotic_run_is_unsettled_not_checked():
    # an orthogonal tanh RNN scaled by 3: the loss is not linear over ε far from the end
    trace, grads = lesson_run("White noise", "rnn", steps=300, init="orthogonal", scale=3.0)
    r = explain.check_gradient(trace, grads, 0, 0)
    assert_not_checked(r, "unsettled", str(r))
    gap = abs(r["numeric"] - r["numeric_quarter"])
    assert gap > explain.CHECK_SETTLE * max(abs(r["numeric"]), abs(r["numeric_quarter"]))
    assert check.verdict_text(r, what="∂L/∂h").startswith("The finite difference has not")


def test_check_gradient_rejects_bad_requests():
    rnn, rnn_grads = run("rnn", "tanh")
    with pytest.raises(engine.InputError):
        explain.check_gradient(rnn, rnn_grads, 0, 0, state="c")  # no cell state in an RNN
    with pytest.raises(ValueError):
        explain.check_gradient(rnn, rnn_grads, T, 0)
    with pytest.raises(ValueError):
        explain.check_gradient(rnn, rnn_grads, 0, H)


# --------------------------------------------------------------------------------------------
# Forward: the formula in plain Python against the engine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_forward_recomputed_equals_the_engine(cell, nl, step):
    trace, _ = run(cell, nl)
    for unit in (0, H - 1):
        f = explain.check_forward(trace, step, unit)
        assert list(f) == [*trace.gates, *(["c"] if cell == "lstm" else []), "h"]
        for name, v in f.items():
            label = f"{cell}-{nl} {name} t={step} k={unit}"
            engine_value = (trace.gates.get(name) if name in trace.gates else
                            getattr(trace, name))[step, unit]  # fmt: skip
            assert v["engine"] == engine_value, label
            # forward: the formula gives the engine's value to float64 rounding
            assert v["abs_error"] <= 1e-12, label
            assert v["abs_error"] == abs(v["engine"] - v["recomputed"]), label


def test_forward_recomputed_on_a_capped_state():
    trace, _ = lesson_run("Impulse", "rnn", "relu", steps=200, init="identity", scale=10.0)
    f = explain.check_forward(trace, 150, 0)
    assert f["h"]["engine"] == 1e100  # the cap
    assert f["h"]["abs_error"] <= 1e-12 * 1e100


def test_forward_recomputation_sees_a_changed_state():
    trace, _ = run("gru", "tanh")
    h = np.array(trace.h)
    h[4, 2] += 1e-9  # the engine's record no longer follows its equations
    f = explain.check_forward(dataclasses.replace(trace, h=h), 4, 2)
    assert f["h"]["abs_error"] == pytest.approx(1e-9, rel=1e-6)


# --------------------------------------------------------------------------------------------
# One Jacobian norm against a Jacobian built by finite differences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrt", ["h", "x"])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_jacobian_norm_agrees_with_the_difference(cell, nl, wrt):
    trace, _ = run(cell, nl)
    norms = engine.jacobian_norms(trace, wrt)
    for step in STEPS:
        r = explain.check_jacobian_norm(trace, step, wrt)
        label = f"{cell}-{nl} ∂h_T/∂{wrt}_{step}: {r}"
        assert r["analytic"] == pytest.approx(norms[step], rel=1e-12), label
        assert_checked(r, label)


def test_jacobian_difference_is_built_column_by_column():
    # the difference Jacobian's norm is not the engine's: a brute-force column-by-column one
    trace, _ = run("lstm", "tanh")
    t, eps = 3, 1e-6
    cols = []
    for j in range(H):
        ends = []
        for sign in (1, -1):
            h_t = np.array(trace.h[t])
            h_t[j] += sign * eps
            rest = engine.forward("lstm", trace.params, trace.xs[t + 1 :], h0=h_t, c0=trace.c[t])
            ends.append(rest.h[-1])
        cols.append((ends[0] - ends[1]) / (2 * eps))
    brute = np.linalg.norm(np.stack(cols, axis=1), 2)
    r = explain.check_jacobian_norm(trace, t, "h")
    assert r["numeric"] == pytest.approx(brute, rel=1e-6)


def test_jacobian_norm_extremes():
    exploded, _ = lesson_run("Impulse", "rnn", "relu", steps=200, init="identity", scale=10.0)
    r = explain.check_jacobian_norm(exploded, 20, "h")
    assert_not_checked(r, "overflow", str(r))
    vanished, _ = lesson_run("Impulse", "rnn", steps=300)
    r = explain.check_jacobian_norm(vanished, 0, "x")
    assert r["analytic"] < 1e-40
    assert_not_checked(r, "too_small", str(r))
    with pytest.raises(engine.InputError):
        explain.check_jacobian_norm(vanished, 0, "c")


# --------------------------------------------------------------------------------------------
# ui.check: the lag budget and the sentences
# --------------------------------------------------------------------------------------------


def test_lag_budget():
    assert check.max_check_lag(2000, 16, 16, "lstm") == 1999  # the defaults: every lag
    most = check.max_check_lag(2000, 256, 256, "lstm")
    assert 1 <= most < 1999
    assert 4 * 256 * 2 * 4 * 256**2 * most <= check.CHECK_BUDGET
    assert check.max_check_lag(2, 256, 256, "lstm") == 1


def test_agreement_sentence_is_computed():
    trace, grads = run("gru", "tanh")
    r = explain.check_gradient(trace, grads, 4, 1)
    text = check.verdict_text(r, what="∂L/∂h_4[1]")
    assert text.startswith("✅ BPTT and the finite difference agree")
    assert check.fmt_grad(r["rel_error"]) in text and check.fmt_grad(r["tolerance"]) in text
