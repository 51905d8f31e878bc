"""engine.explain: the step-through numbers are the engine's own, and they check out.

Every number is compared with what the engine computed (the Trace's gate record, what
``backward`` propagated, ``theory.rnn_local_factors``) and with the readable public step
functions; ``check_step`` is held to its promise (a finite difference agrees with BPTT).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import engine
from engine import explain, theory

CASES = [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"), ("lstm", "tanh")]
CASE_IDS = ["rnn-tanh", "rnn-relu", "gru", "lstm"]
T, H, D = 12, 8, 6
SAME = {"rtol": 1e-12, "atol": 1e-12}


@functools.cache
def run(cell, nl):
    """A trace and the gradients of L = Σ_i h_{T-1}[i] (the pages' loss)."""
    params = engine.init_params(cell, D, H, seed=3)
    xs = np.random.default_rng(3).standard_normal((T, D))
    trace = engine.forward(cell, params, xs, nonlinearity=nl)
    return trace, engine.backward(trace, theory.last_step_seed(trace))


def previous(states, initial):
    return np.concatenate([initial[None], states[:-1]])


# --------------------------------------------------------------------------------------------
# Forward numbers: the engine's record
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", [0, 5])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_unit_values_are_the_traces_numbers(cell, nl, unit):
    trace, _ = run(cell, nl)
    v = explain.unit_values(trace, unit)
    # forward: every gate, state and previous state is the trace's own
    assert_array_equal(v["h"], trace.h[:, unit])
    assert_array_equal(v["h_prev"], previous(trace.h, trace.h0)[:, unit])
    for q, gate in trace.gates.items():
        assert_array_equal(v[q], gate[:, unit], err_msg=f"{cell} gate {q}")
    if cell == "lstm":
        assert_array_equal(v["c"], trace.c[:, unit])
        assert_array_equal(v["c_prev"], previous(trace.c, trace.c0)[:, unit])
        assert_allclose(v["tanh_c"], np.tanh(trace.c[:, unit]), **SAME)
        assert_allclose(v["fc"] + v["ig"], v["c"], **SAME, err_msg="c = f c_prev + i g")
    if cell == "gru":
        assert_allclose(v["omzn"] + v["zh"], v["h"], **SAME, err_msg="h = (1-z) n + z h_prev")
    # forward: each pre-activation is the sum of its parts and gives the gate
    act = {"i": engine.sigmoid, "f": engine.sigmoid, "o": engine.sigmoid, "r": engine.sigmoid,
           "z": engine.sigmoid, "g": np.tanh, "n": np.tanh}  # fmt: skip
    if cell == "rnn":
        act["h"] = np.tanh if nl == "tanh" else (lambda a: np.maximum(a, 0.0))
    for q in engine.GATES[cell]:
        if q != "n":
            assert_allclose(v[f"a_{q}"], v[f"wx_{q}"] + v[f"uh_{q}"] + v[f"b_{q}"], **SAME)
        assert_allclose(act[q](v[f"a_{q}"]), v[q], **SAME, err_msg=f"{cell} {q} = act(a_{q})")


# --------------------------------------------------------------------------------------------
# Backward numbers: what BPTT propagated
# --------------------------------------------------------------------------------------------


def step_backward(trace, grads, t):
    """The readable public step backward at step t, fed what BPTT delivered there."""
    p = trace.params
    x, h_prev, dh = trace.xs[t][None], previous(trace.h, trace.h0)[t][None], grads.h[t][None]
    if trace.cell == "lstm":
        c_prev = previous(trace.c, trace.c0)[t][None]
        _, _, cache = engine.lstm_step_forward(x, h_prev, c_prev, **p)
        dc = grads.c[t + 1] * trace.gates["f"][t + 1] if t < trace.T - 1 else np.zeros(H)
        return engine.lstm_step_backward(dh, dc[None], cache)
    if trace.cell == "gru":
        _, cache = engine.gru_step_forward(x, h_prev, **p)
        return engine.gru_step_backward(dh, cache)
    _, cache = engine.rnn_step_forward(x, h_prev, **p, nonlinearity=trace.nonlinearity)
    return engine.rnn_step_backward(dh, cache)


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_dh_prev_is_what_backward_propagates(cell, nl):
    trace, grads = run(cell, nl)
    d = explain.cell_gradients(trace, grads)
    seed = theory.last_step_seed(trace)
    # backward: step t sends dh_prev to h_{t-1}; BPTT's total there is it plus the direct part
    # (to rounding: the kernel runs on all steps at once, BPTT on one at a time)
    assert_allclose(d["dh_prev"][1:] + seed[:-1], grads.h[:-1], **SAME)
    assert_allclose(d["dh_prev"][0], grads.h0, **SAME)
    assert_array_equal(d["dh"], grads.h)
    assert_allclose(d["dh_direct"], seed, **SAME)
    if cell == "lstm":  # and the cell state's: dL/dc_{t-1} = dL/dc_t f_t
        assert_allclose(d["dc"], grads.c, **SAME)
        assert_array_equal(d["dc_prev"][1:], d["dc_next"][:-1])
        assert_allclose(d["dc_prev"][0], grads.c0, **SAME)


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_cell_gradients_equal_the_readable_step_backward(cell, nl):
    trace, grads = run(cell, nl)
    d = explain.cell_gradients(trace, grads)
    for t in range(T):
        g = step_backward(trace, grads, t)
        dgi, dgh = g["bias_ih"], g["bias_hh"]  # batch of one: the pre-activation gradients
        # backward: every gate's pre-activation gradient and what flows on
        for j, q in enumerate(engine.GATES[cell]):
            assert_allclose(d[f"da_{q}"][t], dgi[j * H : (j + 1) * H], **SAME, err_msg=f"{q} {t}")
        assert_allclose(d["dh_prev"][t], g["h_prev"][0], **SAME, err_msg=f"dh_prev at t={t}")
        if cell == "lstm":
            assert_allclose(d["dc_prev"][t], g["c_prev"][0], **SAME, err_msg=f"dc_prev t={t}")
        if cell == "gru":
            assert_allclose(d["dgh_n"][t], dgh[2 * H :], **SAME, err_msg=f"r ⊙ da_n t={t}")
            assert_allclose(d["dh_z"][t], grads.h[t] * trace.gates["z"][t], **SAME)


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_unit_gradients_on_some_steps(cell, nl):
    trace, grads = run(cell, nl)
    full = explain.cell_gradients(trace, grads)
    part = explain.unit_gradients(trace, grads, 5, steps=[3, T - 1])
    assert part.keys() == full.keys()
    for key, a in part.items():
        # backward: the steps asked for equal the full computation; the others are not computed
        assert_allclose(a[[3, T - 1]], full[key][[3, T - 1], 5], **SAME, err_msg=key)
        assert np.isnan(a[0]), key


# --------------------------------------------------------------------------------------------
# Factors and bounds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nl", ["tanh", "relu"])
def test_rnn_factors_are_theorys(nl):
    trace, _ = run("rnn", nl)
    steps = [0, 4, T - 1]
    want = theory.rnn_local_factors(trace)
    assert_allclose(explain.rnn_factors(trace, steps), want[steps], **SAME)
    assert_allclose(explain.path_factor(trace, 2, np.arange(T)), want, **SAME)


def test_gated_path_factors_are_the_gates():
    lstm, _ = run("lstm", "tanh")
    gru, _ = run("gru", "tanh")
    assert_array_equal(explain.path_factor(lstm, 2, [1, 7]), lstm.gates["f"][[1, 7], 2])
    assert_array_equal(explain.path_factor(gru, 2, [1, 7]), gru.gates["z"][[1, 7], 2])


def test_run_bounds():
    lstm, _ = run("lstm", "tanh")
    relu, _ = run("rnn", "relu")
    assert explain.run_bounds(lstm)["c"] == np.abs(lstm.c).max()
    assert explain.run_bounds(relu)["h"] == max(1.0, np.abs(relu.h).max())


# --------------------------------------------------------------------------------------------
# The code behind the numbers, and the check
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_step_source_is_the_readable_function(cell, direction):
    code = explain.step_source(cell, direction)
    assert code.startswith(f"def {cell}_step_{direction}(")
    assert "Equations::" in code
    if (cell, direction) == ("lstm", "backward"):
        assert "# the constant error carousel" in code


def test_step_source_rejects_unknown_names():
    with pytest.raises(engine.InputError):
        explain.step_source("transformer", "forward")
    with pytest.raises(engine.InputError):
        explain.step_source("lstm", "sideways")


@pytest.mark.parametrize("step", [T // 2, T - 2, T - 1])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_check_step_agrees(cell, nl, step):
    trace, grads = run(cell, nl)
    for unit in (0, 5):
        r = explain.check_step(trace, grads, step, unit)
        label = f"{cell}-{nl} t={step} k={unit}: {r}"
        assert abs(r["analytic"]) > 1e-4, "a gradient that has not vanished (see check_step)"
        # backward: the finite difference agrees with BPTT's dL/dh_t[k]
        assert r["analytic"] == grads.h[step, unit], label
        assert r["rel_error"] < 1e-6, label
        # forward: the readable step function recomputes the engine's h_t[k]
        assert r["forward_engine"] == trace.h[step, unit], label
        assert r["abs_error"] < 1e-12, label


def test_check_step_finds_a_wrong_gradient():
    trace, grads = run("lstm", "tanh")
    wrong = engine.backward(trace, 2.0 * theory.last_step_seed(trace))  # the gradient of 2L
    # backward: a gradient of another loss fails the check
    assert explain.check_step(trace, wrong, T // 2, 3)["rel_error"] > 0.3


def test_explain_needs_one_sequence():
    params = engine.init_params("gru", D, H)
    batch = engine.forward("gru", params, np.zeros((2, T, D)))
    with pytest.raises(ValueError):
        explain.unit_values(batch, 0)
    with pytest.raises(ValueError):
        explain.cell_gradients(batch, engine.backward(batch, np.ones(batch.h.shape)))


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_check_gradient_is_check_step_with_a_verdict(cell, nl):
    trace, grads = run(cell, nl)
    r = explain.check_gradient(trace, grads, T // 2, 5)
    s = explain.check_step(trace, grads, T // 2, 5, eps=r["eps"])
    # backward: the panel's numbers are check_step's at the panel's ε, judged checkable here
    assert (r["analytic"], r["numeric"]) == (s["analytic"], s["numeric"])
    assert r["verdict"] == "checked" and r["agree"], r
    # forward: check_forward's h is the value check_step recomputes, to rounding
    f = explain.check_forward(trace, T // 2, 5)["h"]
    assert f["engine"] == s["forward_engine"]
    assert abs(f["recomputed"] - s["forward_recomputed"]) <= 1e-12
