"""The GRU with its reset gate before the recurrent product (``gru_reset="before"``).

Cho et al. 2014 / Keras ``reset_after=False``: n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn).
Finite differences for the readable step function and for whole sequences (every parameter,
the inputs and h0, with and without a batch), the fast kernels held equal to the readable step,
an independent reference written here, Jacobian norms against finite-difference Jacobians, and
the default ("after", PyTorch's) left as it was.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from test_engine import (
    PARAM_NAMES,
    SAME,
    TOL,
    T,
    assert_gradient,
    numerical_gradient,
    reference_forward,
    rel_error,
    sequence_case,
    step_point,
)

from engine import (
    CELLS,
    InputError,
    backward,
    forward,
    gru_reset_before_step_backward,
    gru_reset_before_step_forward,
    init_params,
    jacobian_norms,
)
from engine.cells import (
    CORES,
    backward_records,
    forward_records,
    input_gradient,
    weight_hh_gradient,
)

STEP_INPUTS = ("x", "h_prev", *PARAM_NAMES)


def run_before(params, xs, h0):
    return forward("gru", params, xs, h0=h0, gru_reset="before")


def loss_before(w, params, xs, h0):
    """L = Σ_t <w_t, h_t> of the reset-before GRU."""
    return float(np.sum(w * run_before(params, xs, h0).h))


def reference_before(params, xs, h0):
    """The reset-before GRU written independently: plain per-block matrices, 1 / (1 + e^-a)."""
    H = params["weight_hh"].shape[1]
    W_ir, W_iz, W_in = np.split(params["weight_ih"], 3)
    W_hr, W_hz, W_hn = np.split(params["weight_hh"], 3)
    b_ir, b_iz, b_in = np.split(params["bias_ih"], 3)
    b_hr, b_hz, b_hn = np.split(params["bias_hh"], 3)
    h = np.array(h0, dtype=float).reshape(H)
    hs, rs, zs, ns = [], [], [], []
    for x in xs:
        r = 1.0 / (1.0 + np.exp(-(W_ir @ x + b_ir + W_hr @ h + b_hr)))
        z = 1.0 / (1.0 + np.exp(-(W_iz @ x + b_iz + W_hz @ h + b_hz)))
        n = np.tanh(W_in @ x + b_in + W_hn @ (r * h) + b_hn)
        h = (1.0 - z) * n + z * h
        hs.append(h), rs.append(r), zs.append(z), ns.append(n)
    return np.array(hs), {"r": np.array(rs), "z": np.array(zs), "n": np.array(ns)}


# --------------------------------------------------------------------------------------------
# The readable step function
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", STEP_INPUTS)
def test_step_backward_matches_finite_differences(name):
    inputs, dh, _ = step_point("gru", "tanh")
    _, cache = gru_reset_before_step_forward(**inputs)
    analytic = gru_reset_before_step_backward(dh, cache)[name]

    def step_loss(value):
        return float(np.sum(dh * gru_reset_before_step_forward(**{**inputs, name: value})[0]))

    # backward: the step's gradient of <dh, h> equals the finite-difference one
    assert_gradient(analytic, step_loss, inputs[name], f"gru reset-before step d{name}")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_readable_step_equals_the_kernels(seed):
    inputs, dh, _ = step_point("gru", "tanh")
    rng = np.random.default_rng(seed)
    inputs = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in inputs.items()}
    dh = rng.standard_normal(dh.shape)
    h, cache = gru_reset_before_step_forward(**inputs)
    grads = gru_reset_before_step_backward(dh, cache)

    core_forward, local, core_backward = CORES["gru_before"]
    x, h_prev = inputs["x"], inputs["h_prev"]
    W_ih, W_hh, b_ih, b_hh = (inputs[name] for name in PARAM_NAMES)
    B, H = h_prev.shape
    out = forward_records("gru", (B,), H)
    core_forward(x @ W_ih.T + b_ih, h_prev, None, W_hh, b_hh, False, out)
    h_fast, _, acts, aux = out
    loc = local(h_prev, None, acts, aux, False)
    dh_prev, _, dgh, _ = backward_records("gru", (B,), H)
    core_backward(dh, None, loc, W_hh, (dh_prev, None, dgh, None))
    dgi = input_gradient("gru_before", dh, dgh, loc)
    fast = {
        "x": dgi @ W_ih, "h_prev": dh_prev, "weight_ih": dgi.T @ x,
        "weight_hh": weight_hh_gradient("gru_before", dgh, h_prev, acts),
        "bias_ih": dgi.sum(axis=0), "bias_hh": dgh.sum(axis=0),
    }  # fmt: skip

    # forward: the kernel's state and gates are the readable step's
    assert_allclose(h_fast, h, **SAME, err_msg="h")
    for k, q in enumerate("rzn"):
        assert_allclose(acts[:, k * H : (k + 1) * H], cache[q], **SAME, err_msg=f"gate {q}")
    # backward: every gradient of the kernel is the readable step's
    assert grads.keys() == fast.keys()
    for name, g in fast.items():
        assert_allclose(g, grads[name], **SAME, err_msg=f"d{name}")


# --------------------------------------------------------------------------------------------
# Whole sequences
# --------------------------------------------------------------------------------------------

SEQ_CASES = [(wrt, b) for wrt in (*PARAM_NAMES, "xs", "h0") for b in (False, True)]


@pytest.mark.parametrize(
    ("wrt", "batched"), SEQ_CASES, ids=[f"{w}-{'B2' if b else 'single'}" for w, b in SEQ_CASES]
)
def test_bptt_matches_finite_differences(wrt, batched):
    params, xs, h0, _, w = sequence_case("gru", "tanh", batched=batched)
    grads = backward(run_before(params, xs, h0), w)
    if wrt in PARAM_NAMES:
        analytic, point = grads.params[wrt], params[wrt]

        def seq_loss(value):
            return loss_before(w, {**params, wrt: value}, xs, h0)
    else:
        analytic, point = {"xs": grads.x, "h0": grads.h0}[wrt], {"xs": xs, "h0": h0}[wrt]

        def seq_loss(value):
            return loss_before(w, params, **{"xs": xs, "h0": h0, wrt: value})

    # backward: BPTT of the reset-before GRU equals the finite-difference gradient
    assert_gradient(analytic, seq_loss, point, f"gru reset-before dL/d{wrt} batched={batched}")


@pytest.mark.parametrize("batched", [False, True], ids=["single", "B2"])
def test_grads_h_is_total_gradient_of_each_state(batched):
    params, xs, h0, _, w = sequence_case("gru", "tanh", batched=batched)
    trace = run_before(params, xs, h0)
    grads = backward(trace, w)
    for t in range(T):

        def loss_from_h(h_t, t=t):  # perturb h_t, run the rest from there
            later = run_before(params, xs[..., t + 1 :, :], h_t).h if t < T - 1 else 0.0
            return np.sum(w[..., t, :] * h_t) + np.sum(w[..., t + 1 :, :] * later)

        # backward: Grads.h[t] is the total dL/dh_t of the reset-before GRU
        assert_gradient(grads.h[..., t, :], loss_from_h, trace.h[..., t, :], f"h t={t}")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gru_with_reset_before_agrees(seed):
    params, xs, h0, _, _ = sequence_case("gru", "tanh", seed=seed)
    params = {k: 2.0 * v for k, v in params.items()}  # non-symmetric, larger weights
    trace = run_before(params, xs, h0)
    h, gates = reference_before(params, xs, h0)
    # forward: the engine's states and gates are the independent reference's to 1e-12
    assert_allclose(trace.h, h, rtol=1e-12, atol=1e-12, err_msg="h")
    for q, v in gates.items():
        assert_allclose(trace.gates[q], v, rtol=1e-12, atol=1e-12, err_msg=f"gate {q}")
    assert trace.gru_reset == "before" and trace.kernel == "gru_before"


def test_batch_equals_per_sequence():
    params, xs, h0, _, w = sequence_case("gru", "tanh", batched=True)
    trace = run_before(params, xs, h0)
    grads = backward(trace, w)
    norms = jacobian_norms(trace)
    for b in range(len(xs)):
        one = run_before(params, xs[b], h0[b])
        one_grads = backward(one, w[b])
        # forward, backward and Jacobian norms of each sequence equal its own run
        assert_allclose(trace.h[b], one.h, **SAME, err_msg=f"h of sequence {b}")
        assert_allclose(grads.x[b], one_grads.x, **SAME, err_msg=f"dx of sequence {b}")
        assert_allclose(norms[b], jacobian_norms(one), **SAME, err_msg=f"norms of {b}")


@pytest.mark.parametrize("k", [1, 3, T - 1])
def test_state_carry_equals_one_run(k):
    params, xs, h0, _, _ = sequence_case("gru", "tanh")
    whole = run_before(params, xs, h0)
    first = run_before(params, xs[:k], h0)
    rest = run_before(params, xs[k:], first.h[-1])
    # forward: xs[:k] then xs[k:] from the carried state is the run over xs at once
    assert_allclose(np.concatenate([first.h, rest.h]), whole.h, **SAME)


@pytest.mark.parametrize("ord", [2, "fro"], ids=["ord2", "fro"])
@pytest.mark.parametrize("wrt", ["h", "x"])
def test_jacobian_norms_match_finite_differences(wrt, ord):
    params, xs, h0, _, _ = sequence_case("gru", "tanh")
    trace = run_before(params, xs, h0)
    norms = jacobian_norms(trace, wrt=wrt, ord=ord)
    for t in range(T):
        if wrt == "h":

            def last(h_t, t=t):
                return h_t if t == T - 1 else run_before(params, xs[t + 1 :], h_t).h[-1]

            point = trace.h[t]
        else:
            h_prev = h0 if t == 0 else trace.h[t - 1]

            def last(x_t, t=t, h_prev=h_prev):
                return run_before(params, np.concatenate([x_t[None], xs[t + 1 :]]), h_prev).h[-1]

            point = xs[t]
        brute = np.linalg.norm(numerical_gradient(last, point).T, ord)
        # the exact Jacobian norm equals the finite-difference Jacobian's at every lag
        assert rel_error(norms[t], brute) < TOL, f"‖∂h_T-1/∂{wrt}_{t}‖ {norms[t]} vs {brute}"


# --------------------------------------------------------------------------------------------
# The default is unchanged; the variant is a different model; validation
# --------------------------------------------------------------------------------------------


def test_after_is_the_default_and_unchanged():
    params, xs, h0, _, w = sequence_case("gru", "tanh")
    default = forward("gru", params, xs, h0=h0)
    after = forward("gru", params, xs, h0=h0, gru_reset="after")
    h, _, gates = reference_forward("gru", params, xs, h0, None, "tanh")
    # forward: the default is "after", PyTorch's equations, to 1e-12; explicit "after" is the same
    assert default.gru_reset == "after" and default.kernel == "gru"
    assert_allclose(default.h, h, rtol=1e-12, atol=1e-14)
    assert_array_equal(after.h, default.h)
    # backward: the same gradients, bit for bit
    assert_array_equal(
        backward(after, w).params["weight_hh"], backward(default, w).params["weight_hh"]
    )


def test_before_is_a_different_model():
    params, xs, h0, _, _ = sequence_case("gru", "tanh")
    params = {k: 2.0 * v for k, v in params.items()}
    after = forward("gru", params, xs, h0=h0)
    before = run_before(params, xs, h0)
    # forward: r and z of the first step agree (they do not read the candidate) ...
    assert_allclose(before.gates["z"][0], after.gates["z"][0], **SAME)
    # ... and the candidate differs: the reset sits elsewhere
    assert np.max(np.abs(before.gates["n"] - after.gates["n"])) > 1e-3


@pytest.mark.parametrize("cell", [c for c in CELLS if c != "gru"])
def test_gru_reset_is_ignored_by_other_cells(cell):
    params = init_params(cell, 3, 4, seed=2)
    xs = np.random.default_rng(2).standard_normal((5, 3))
    before = forward(cell, params, xs, gru_reset="before")
    # forward: the rnn and the lstm have no reset gate; the option changes nothing
    assert_array_equal(before.h, forward(cell, params, xs).h)
    assert before.kernel == cell


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("value", ["middle", "Before", None, 1])
def test_unknown_gru_reset_raises_input_error(cell, value):
    params = init_params(cell, 3, 4)
    with pytest.raises(InputError, match="gru_reset"):
        forward(cell, params, np.zeros((2, 3)), gru_reset=value)


@pytest.mark.parametrize("x_scale", [1e3, 1e6])
def test_extreme_runs_stay_finite_without_warnings(x_scale):
    params, xs, h0, _, w = sequence_case("gru", "tanh")
    params = {k: 50.0 * v for k, v in params.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = run_before(params, x_scale * xs, h0)
        grads = backward(trace, w)
        norms = jacobian_norms(trace)
    # forward and backward stay finite (saturated gates), with no NumPy warning
    for name, a in {"h": trace.h, "dx": grads.x, "dW_hh": grads.params["weight_hh"]}.items():
        assert np.all(np.isfinite(a)), name
    assert np.all(np.isfinite(norms))
