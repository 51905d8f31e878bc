"""The engine's tests: gradients by finite differences, state carry, batching, layout, invariants.

Finite differences use the five-point central stencil
``f'(x) ≈ [8 (f(x+ε) - f(x-ε)) - (f(x+2ε) - f(x-2ε))] / 12ε`` with ε = 1e-3: its truncation
error is O(ε⁴) ≈ 1e-12 and its rounding error O(u/ε) ≈ 1e-13, so the relative error of a correct
gradient is ~1e-9 even for small entries. The plain two-point stencil with ε = 1e-6 has a
rounding error of ~1e-10 absolute and fails the 1e-7 relative bar on entries below ~1e-3, which
random parameters produce now and then. ReLU test points keep every pre-activation at least
``KINK_MARGIN`` away from 0, far beyond the stencil's reach, so no kink is ever crossed.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import (
    CELLS,
    GATES,
    RECURRENT_INITS,
    InputError,
    backward,
    forward,
    gru_step_backward,
    gru_step_forward,
    init_params,
    jacobian_norms,
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from engine.cells import CORES, backward_records, forward_records, input_gradient

B, D, H, T = 2, 3, 4, 6
EPS = 1e-3
TOL = 1e-7
KINK_MARGIN = 0.05

CASES = [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"), ("lstm", "tanh")]
CASE_IDS = ["rnn-tanh", "rnn-relu", "gru", "lstm"]
PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def rel_error(a, b):
    """CS231n's relative error: max |a - b| / max(1e-8, |a| + |b|) over all entries."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), initial=0.0))


def numerical_gradient(f, x, eps=EPS):
    """Five-point central differences of f at x; shape x.shape + f(x).shape."""
    x = np.array(x, dtype=np.float64)
    columns = []
    for index in np.ndindex(x.shape):

        def at(step, index=index):
            moved = x.copy()
            moved[index] += step
            return np.asarray(f(moved), dtype=np.float64)

        columns.append((8.0 * (at(eps) - at(-eps)) - (at(2 * eps) - at(-2 * eps))) / (12 * eps))
    return np.stack(columns).reshape(x.shape + columns[0].shape)


def assert_gradient(analytic, f, x, label):
    numeric = numerical_gradient(f, x)
    err = rel_error(analytic, numeric)
    assert err < TOL, f"{label}: relative error {err:.2e}\nanalytic\n{analytic}\nnumeric\n{numeric}"


def preactivations(params, xs, h_prev):
    """RNN pre-activations a = W_ih x + b_ih + W_hh h_prev + b_hh (any leading axes)."""
    p = params
    return xs @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"]


def previous(states, initial):
    """[s_0, s_1, ..., s_{T-2}]: the state each step starts from, time on axis -2."""
    return np.concatenate([np.asarray(initial)[..., None, :], states[..., :-1, :]], axis=-2)


def sequence_case(cell, nl, *, batched=False, steps=T, seed=0, margin=KINK_MARGIN):
    """Parameters, inputs, initial states and a random projection w (dL_dh) for one test.

    For the ReLU RNN the seed is advanced until every pre-activation is at least ``margin``
    from 0 and both sides of the kink occur (deterministic: the same point on every run).
    """
    lead = (B,) if batched else ()
    for s in range(seed, seed + 200):
        rng = np.random.default_rng(1000 + s)
        params = init_params(cell, D, H, seed=s)
        xs = rng.standard_normal(lead + (steps, D))
        h0 = rng.standard_normal(lead + (H,))
        c0 = rng.standard_normal(lead + (H,)) if cell == "lstm" else None
        w = rng.standard_normal(lead + (steps, H))
        if nl != "relu":
            return params, xs, h0, c0, w
        trace = forward(cell, params, xs, h0=h0, nonlinearity=nl)
        a = preactivations(params, xs, previous(trace.h, h0))
        if np.min(np.abs(a)) >= margin and 0 < np.mean(a > 0) < 1:
            return params, xs, h0, c0, w
    raise AssertionError("no ReLU test point away from the kinks")  # pragma: no cover


def run(cell, nl, params, xs, h0, c0):
    return forward(cell, params, xs, h0=h0, c0=c0, nonlinearity=nl)


def loss(cell, nl, w, params, xs, h0, c0):
    """The random-projection loss L = Σ_t <w_t, h_t> ("a weighted sum is a nice hash")."""
    return float(np.sum(w * run(cell, nl, params, xs, h0, c0).h))


def trace_arrays(trace):
    """Every array a Trace exposes, by a readable name (for equality and NaN checks)."""
    arrays = {"h": trace.h, "c": trace.c, "xs": trace.xs, "h0": trace.h0, "c0": trace.c0}
    arrays.update({f"gate {k}": v for k, v in trace.gates.items()})
    arrays.update({f"param {k}": v for k, v in trace.params.items()})
    return {k: v for k, v in arrays.items() if v is not None}


def time_arrays(trace):
    """The Trace's per-step arrays (time on axis -2): h, c (lstm) and every gate."""
    arrays = {"h": trace.h, "c": trace.c, **{f"gate {k}": v for k, v in trace.gates.items()}}
    return {k: v for k, v in arrays.items() if v is not None}


def grads_arrays(grads):
    arrays = {"h": grads.h, "c": grads.c, "x": grads.x, "h0": grads.h0, "c0": grads.c0}
    arrays.update({f"param {k}": v for k, v in grads.params.items()})
    return {k: v for k, v in arrays.items() if v is not None}


# --------------------------------------------------------------------------------------------
# Step functions: finite differences for every input
# --------------------------------------------------------------------------------------------

STEP_INPUTS = {
    "rnn": ("x", "h_prev", "weight_ih", "weight_hh", "bias_ih", "bias_hh"),
    "gru": ("x", "h_prev", "weight_ih", "weight_hh", "bias_ih", "bias_hh"),
    "lstm": ("x", "h_prev", "c_prev", "weight_ih", "weight_hh", "bias_ih", "bias_hh"),
}
STEP_CASES = [(cell, nl, name) for cell, nl in CASES for name in STEP_INPUTS[cell]]
STEP_IDS = [f"{cell}-{nl}-{name}" for cell, nl, name in STEP_CASES]


def step_forward(cell, nl, inputs):
    """(h, c, cache) of one public step function called with keyword inputs."""
    if cell == "rnn":
        h, cache = rnn_step_forward(**inputs, nonlinearity=nl)
        return h, None, cache
    if cell == "gru":
        h, cache = gru_step_forward(**inputs)
        return h, None, cache
    return lstm_step_forward(**inputs)


def step_backward(cell, dh, dc, cache):
    if cell == "rnn":
        return rnn_step_backward(dh, cache)
    if cell == "gru":
        return gru_step_backward(dh, cache)
    return lstm_step_backward(dh, dc, cache)


def step_point(cell, nl):
    """Inputs (batch B) of one step, away from ReLU kinks, and the upstream gradients dh, dc."""
    G = len(GATES[cell])
    for seed in range(200):
        rng = np.random.default_rng(seed)
        inputs = {
            "x": rng.standard_normal((B, D)),
            "h_prev": rng.standard_normal((B, H)),
            "weight_ih": 0.7 * rng.standard_normal((G * H, D)),
            "weight_hh": 0.7 * rng.standard_normal((G * H, H)),
            "bias_ih": 0.5 * rng.standard_normal(G * H),
            "bias_hh": 0.5 * rng.standard_normal(G * H),
        }
        if cell == "lstm":
            inputs["c_prev"] = rng.standard_normal((B, H))
        dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))
        if nl != "relu":
            return inputs, dh, dc
        a = preactivations(inputs, inputs["x"], inputs["h_prev"])
        if np.min(np.abs(a)) > KINK_MARGIN and 0 < np.mean(a > 0) < 1:
            return inputs, dh, dc
    raise AssertionError("no ReLU step point away from the kinks")  # pragma: no cover


@pytest.mark.parametrize(("cell", "nl", "name"), STEP_CASES, ids=STEP_IDS)
def test_step_backward_matches_finite_differences(cell, nl, name):
    inputs, dh, dc = step_point(cell, nl)
    _, _, cache = step_forward(cell, nl, inputs)
    grads = step_backward(cell, dh, dc, cache)

    def step_loss(value):  # L = <dh, h> + <dc, c> with one input replaced by value
        h, c, _ = step_forward(cell, nl, {**inputs, name: value})
        return np.sum(dh * h) + (np.sum(dc * c) if c is not None else 0.0)

    assert grads[name].shape == inputs[name].shape, f"{cell}-{nl} d{name} shape"
    # backward: the analytic step gradient equals the finite-difference one
    assert_gradient(grads[name], step_loss, inputs[name], f"{cell}-{nl} step d{name}")


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_step_backward_returns_every_input(cell, nl):
    inputs, dh, dc = step_point(cell, nl)
    _, _, cache = step_forward(cell, nl, inputs)
    # backward: one gradient per forward argument, keyed by its name
    assert set(step_backward(cell, dh, dc, cache)) == set(STEP_INPUTS[cell])


# --------------------------------------------------------------------------------------------
# The readable step functions and the fast in-place kernels are the same maths
# --------------------------------------------------------------------------------------------

SAME = {"rtol": 1e-12, "atol": 1e-12}


def kernel_step(cell, nl, inputs, dh, dc):
    """One step through the in-place kernels that forward/backward run: (h, c, gates, grads)."""
    forward_core, local, backward_core = CORES[cell]
    x, h_prev, c_prev = inputs["x"], inputs["h_prev"], inputs.get("c_prev")
    W_ih, W_hh, b_ih, b_hh = (inputs[name] for name in PARAM_NAMES)
    relu = nl == "relu"
    out = forward_records(cell, (B,), H)
    forward_core(x @ W_ih.T + b_ih, h_prev, c_prev, W_hh, b_hh, relu, out)
    h, c, acts, aux = out
    loc = local(h_prev, c_prev, acts, aux, relu)
    dh_prev, dc_prev, dgh, dc_total = backward_records(cell, (B,), H)
    backward_core(dh, dc if cell == "lstm" else None, loc, W_hh, (dh_prev, dc_prev, dgh, dc_total))
    dgi = input_gradient(cell, dh, dgh, loc)
    grads = {
        "x": dgi @ W_ih, "h_prev": dh_prev,
        "weight_ih": dgi.T @ x, "weight_hh": dgh.T @ h_prev,
        "bias_ih": dgi.sum(axis=0), "bias_hh": dgh.sum(axis=0),
    }  # fmt: skip
    if cell == "lstm":
        grads["c_prev"] = dc_prev
    gates = {q: acts[:, k * H : (k + 1) * H] for k, q in enumerate(GATES[cell])}
    return h, c, gates, grads


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_readable_step_equals_the_kernels(cell, nl, seed):
    inputs, dh, dc = step_point(cell, nl)
    rng = np.random.default_rng(seed)  # a fresh random point, same shapes
    inputs = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in inputs.items()}
    dh, dc = rng.standard_normal(dh.shape), rng.standard_normal(dc.shape)
    h, c, cache = step_forward(cell, nl, inputs)
    grads = step_backward(cell, dh, dc, cache)
    h_fast, c_fast, gates_fast, grads_fast = kernel_step(cell, nl, inputs, dh, dc)

    # forward: the same new state (and cell state and gates) as the kernels
    assert_allclose(h, h_fast, **SAME, err_msg=f"{cell}-{nl} h")
    if cell == "lstm":
        assert_allclose(c, c_fast, **SAME, err_msg="lstm c")
    for q, gate in gates_fast.items():
        if cell != "rnn":
            assert_allclose(cache[q], gate, **SAME, err_msg=f"{cell} gate {q}")
    # backward: every gradient equals the kernels'
    assert grads.keys() == grads_fast.keys()
    for name, g in grads_fast.items():
        assert_allclose(grads[name], g, **SAME, err_msg=f"{cell}-{nl} d{name}")


def readable_bptt(cell, nl, params, xs, h0, c0, w):
    """A plain loop over the readable step functions: forward, then BPTT of L = Σ_t <w_t, h_t>."""
    h, c, caches, hs = h0[None], None if c0 is None else c0[None], [], []
    for x in xs:
        inputs = {"x": x[None], "h_prev": h, **params}
        if cell == "lstm":
            inputs["c_prev"] = c
        h, c, cache = step_forward(cell, nl, inputs)
        caches.append(cache)
        hs.append(h[0])
    dh_next, dc_next = np.zeros((1, H)), np.zeros((1, H))
    dparams = {name: np.zeros_like(params[name]) for name in PARAM_NAMES}
    dhs, dxs = [], []
    for t in range(len(xs) - 1, -1, -1):
        dh = w[t][None] + dh_next
        g = step_backward(cell, dh, dc_next, caches[t])
        dh_next, dc_next = g["h_prev"], g.get("c_prev")
        for name in PARAM_NAMES:
            dparams[name] += g[name]
        dhs.append(dh[0])
        dxs.append(g["x"][0])
    grads = {"h": dhs[::-1], "x": dxs[::-1], "h0": dh_next[0], **dparams}
    if cell == "lstm":
        grads["c0"] = dc_next[0]
    return np.array(hs), grads


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_readable_steps_looped_equal_forward_and_backward(cell, nl):
    params, xs, h0, c0, w = sequence_case(cell, nl)
    hs, want = readable_bptt(cell, nl, params, xs, h0, c0, w)
    trace = run(cell, nl, params, xs, h0, c0)
    grads = backward(trace, w)
    # forward: the readable steps, looped, give the fast unroll's states
    assert_allclose(hs, trace.h, **SAME, err_msg=f"{cell}-{nl} h")
    # backward: and BPTT through them gives every gradient of the fast backward
    got = {"h": grads.h, "x": grads.x, "h0": grads.h0, "c0": grads.c0, **grads.params}
    for name, g in want.items():
        assert_allclose(g, got[name], **SAME, err_msg=f"{cell}-{nl} d{name}")


# --------------------------------------------------------------------------------------------
# Whole sequences: BPTT against finite differences
# --------------------------------------------------------------------------------------------

BPTT_CASES = [
    (cell, nl, wrt, batched)
    for cell, nl in CASES
    for wrt in (*PARAM_NAMES, "xs", "h0") + (("c0",) if cell == "lstm" else ())
    for batched in (False, True)
]
BPTT_IDS = [f"{c}-{nl}-{wrt}-{'B2' if b else 'single'}" for c, nl, wrt, b in BPTT_CASES]


@pytest.mark.parametrize(("cell", "nl", "wrt", "batched"), BPTT_CASES, ids=BPTT_IDS)
def test_bptt_matches_finite_differences(cell, nl, wrt, batched):
    params, xs, h0, c0, w = sequence_case(cell, nl, batched=batched)
    grads = backward(run(cell, nl, params, xs, h0, c0), w)
    inputs = {"params": params, "xs": xs, "h0": h0, "c0": c0}

    if wrt in PARAM_NAMES:
        analytic, point = grads.params[wrt], params[wrt]

        def seq_loss(value):
            return loss(cell, nl, w, **{**inputs, "params": {**params, wrt: value}})
    else:
        analytic, point = {"xs": grads.x, "h0": grads.h0, "c0": grads.c0}[wrt], inputs[wrt]

        def seq_loss(value):
            return loss(cell, nl, w, **{**inputs, wrt: value})

    # backward: BPTT's gradient of L = Σ_t <w_t, h_t> equals the finite-difference one
    assert_gradient(analytic, seq_loss, point, f"{cell}-{nl} dL/d{wrt} batched={batched}")


def continue_from(cell, nl, params, xs, t, h_t, c_t):
    """h_{t+1..T-1} when the run restarts after step t from (h_t, c_t); time on axis -2."""
    if t == xs.shape[-2] - 1:
        return np.zeros(h_t.shape[:-1] + (0, h_t.shape[-1]))
    return run(cell, nl, params, xs[..., t + 1 :, :], h_t, c_t).h


@pytest.mark.parametrize("batched", [False, True], ids=["single", "B2"])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_grads_h_is_total_gradient_of_each_state(cell, nl, batched):
    params, xs, h0, c0, w = sequence_case(cell, nl, batched=batched)
    trace = run(cell, nl, params, xs, h0, c0)
    grads = backward(trace, w)
    for t in range(T):
        c_t = trace.c[..., t, :] if cell == "lstm" else None

        def loss_from_h(h_t, t=t, c_t=c_t):  # perturb h_t (c_t fixed), run on from there
            later = continue_from(cell, nl, params, xs, t, h_t, c_t)
            return np.sum(w[..., t, :] * h_t) + np.sum(w[..., t + 1 :, :] * later)

        # backward: Grads.h[t] is the total dL/dh_t (direct plus everything from the future)
        assert_gradient(grads.h[..., t, :], loss_from_h, trace.h[..., t, :], f"{cell} h t={t}")


@pytest.mark.parametrize("batched", [False, True], ids=["single", "B2"])
def test_grads_c_is_total_gradient_of_each_cell_state(batched):
    params, xs, h0, c0, w = sequence_case("lstm", "tanh", batched=batched)
    trace = run("lstm", "tanh", params, xs, h0, c0)
    grads = backward(trace, w)
    for t in range(T):
        o_t = trace.gates["o"][..., t, :]

        def loss_from_c(c_t, t=t, o_t=o_t):  # perturb c_t, recompute h_t = o_t tanh(c_t)
            h_t = o_t * np.tanh(c_t)
            later = continue_from("lstm", "tanh", params, xs, t, h_t, c_t)
            return np.sum(w[..., t, :] * h_t) + np.sum(w[..., t + 1 :, :] * later)

        # backward: Grads.c[t] is the total dL/dc_t, including the path through h_t
        assert_gradient(grads.c[..., t, :], loss_from_c, trace.c[..., t, :], f"lstm c t={t}")


# --------------------------------------------------------------------------------------------
# Jacobian norms against brute-force finite-difference Jacobians
# --------------------------------------------------------------------------------------------


def brute_jacobians(cell, nl, params, xs, h0, c0, trace, wrt):
    """(T, H, ·) Jacobians ∂h_{T-1}/∂h_t (c_t fixed) or ∂h_{T-1}/∂x_t by finite differences."""
    Js = []
    for t in range(T):
        if wrt == "h":
            c_t = trace.c[t] if cell == "lstm" else None

            def last(h_t, t=t, c_t=c_t):
                return h_t if t == T - 1 else run(cell, nl, params, xs[t + 1 :], h_t, c_t).h[-1]

            point = trace.h[t]
        else:
            h_prev = h0 if t == 0 else trace.h[t - 1]
            c_prev = (c0 if t == 0 else trace.c[t - 1]) if cell == "lstm" else None

            def last(x_t, t=t, h_prev=h_prev, c_prev=c_prev):
                moved = np.concatenate([x_t[None], xs[t + 1 :]])
                return run(cell, nl, params, moved, h_prev, c_prev).h[-1]

            point = xs[t]
        Js.append(numerical_gradient(last, point).T)  # rows: outputs h_{T-1}[k]
    return Js


@pytest.mark.parametrize("ord", [2, "fro"], ids=["ord2", "fro"])
@pytest.mark.parametrize("wrt", ["h", "x"])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_jacobian_norms_match_brute_force(cell, nl, wrt, ord):
    params, xs, h0, c0, _ = sequence_case(cell, nl)
    trace = run(cell, nl, params, xs, h0, c0)
    norms = jacobian_norms(trace, wrt=wrt, ord=ord)
    brute = [
        np.linalg.norm(J, ord) for J in brute_jacobians(cell, nl, params, xs, h0, c0, trace, wrt)
    ]
    assert norms.shape == (T,), f"{cell} jacobian_norms shape"
    # Jacobian norms equal those of the finite-difference Jacobians at every lag
    for t in range(T):
        err = rel_error(norms[t], brute[t])
        assert err < TOL, f"{cell}-{nl} ‖∂h_T-1/∂{wrt}_{t}‖ ord={ord}: {norms[t]} vs {brute[t]}"


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_jacobian_norm_of_last_step_is_identity(cell, nl):
    params, xs, h0, c0, _ = sequence_case(cell, nl)
    trace = run(cell, nl, params, xs, h0, c0)
    # ∂h_{T-1}/∂h_{T-1} = I: spectral norm 1, Frobenius norm √H
    assert_allclose(jacobian_norms(trace, "h", 2)[-1], 1.0, rtol=1e-15, err_msg=f"{cell} ord 2")
    assert_allclose(
        jacobian_norms(trace, "h", "fro")[-1], np.sqrt(H), rtol=1e-15, err_msg=f"{cell} fro"
    )


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_batched_jacobian_norms_are_per_sequence(cell, nl):
    params, xs, h0, c0, _ = sequence_case(cell, nl, batched=True)
    batched = run(cell, nl, params, xs, h0, c0)
    for wrt in ("h", "x"):
        for ord in (2, "fro"):
            norms = jacobian_norms(batched, wrt=wrt, ord=ord)
            assert norms.shape == (B, T), f"{cell} batched jacobian_norms shape"
            for b in range(B):
                single = run(cell, nl, params, xs[b], h0[b], None if c0 is None else c0[b])
                # row b equals the single-sequence norms
                assert_allclose(
                    norms[b], jacobian_norms(single, wrt=wrt, ord=ord), rtol=1e-13,
                    err_msg=f"{cell} wrt={wrt} ord={ord} sequence {b}",
                )  # fmt: skip


# --------------------------------------------------------------------------------------------
# State carry, batching, determinism
# --------------------------------------------------------------------------------------------

CARRY_RTOL, CARRY_ATOL = 1e-13, 1e-15  # allows a different BLAS blocking, nothing more


@pytest.mark.parametrize("batched", [False, True], ids=["single", "B2"])
@pytest.mark.parametrize("k", [1, 3, T - 1])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_state_carry_equals_one_run(cell, nl, k, batched):
    params, xs, h0, c0, w = sequence_case(cell, nl, batched=batched)
    whole = run(cell, nl, params, xs, h0, c0)
    first = run(cell, nl, params, xs[..., :k, :], h0, c0)
    c_k = first.c[..., -1, :] if cell == "lstm" else None
    second = run(cell, nl, params, xs[..., k:, :], first.h[..., -1, :], c_k)
    # forward: xs[:k] then xs[k:] from the carried state gives the states and gates of one run
    for name, a in time_arrays(whole).items():
        joined = np.concatenate([time_arrays(first)[name], time_arrays(second)[name]], axis=-2)
        assert_allclose(joined, a, CARRY_RTOL, CARRY_ATOL, err_msg=f"{cell} {name} split at {k}")
    if cell == "lstm":
        return  # backward carry needs a dL/dc seed, which backward's API does not take
    g_whole = backward(whole, w)
    g_second = backward(second, w[..., k:, :])
    seed = np.array(w[..., :k, :])
    seed[..., -1, :] += g_second.h0  # what flows back into h_{k-1} from the second piece
    g_first = backward(first, seed)
    # backward: the two pieces' gradients add up to the whole run's
    assert_allclose(
        np.concatenate([g_first.h, g_second.h], axis=-2), g_whole.h, 1e-12, 1e-14,
        err_msg=f"{cell} Grads.h split at {k}",
    )  # fmt: skip
    for name in PARAM_NAMES:
        assert_allclose(
            g_first.params[name] + g_second.params[name], g_whole.params[name], 1e-12, 1e-14,
            err_msg=f"{cell} d{name} split at {k}",
        )  # fmt: skip
    assert_allclose(g_first.h0, g_whole.h0, 1e-12, 1e-14, err_msg=f"{cell} dh0 split at {k}")


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_batch_equals_per_sequence(cell, nl):
    params, xs, h0, c0, w = sequence_case(cell, nl, batched=True)
    batched = run(cell, nl, params, xs, h0, c0)
    g_batched = backward(batched, w)
    singles = [run(cell, nl, params, xs[b], h0[b], None if c0 is None else c0[b]) for b in range(B)]
    g_singles = [backward(s, w[b]) for b, s in enumerate(singles)]
    # forward: every array of the batched trace is the stack of the single traces
    for name, a in trace_arrays(batched).items():
        if name.startswith("param"):
            continue
        for b in range(B):
            assert_allclose(
                a[b], trace_arrays(singles[b])[name], 1e-13, 1e-15, err_msg=f"{cell} {name} b={b}"
            )
    # backward: per-sequence gradients match, and parameter gradients sum over the batch
    for name in ("h", "c", "x", "h0", "c0"):
        for b in range(B):
            if getattr(g_batched, name) is None:
                assert getattr(g_singles[b], name) is None, f"{cell} Grads.{name}"
                continue
            assert_allclose(
                getattr(g_batched, name)[b], getattr(g_singles[b], name), 1e-12, 1e-14,
                err_msg=f"{cell} Grads.{name} b={b}",
            )  # fmt: skip
    for name in PARAM_NAMES:
        total = sum(g.params[name] for g in g_singles)
        assert_allclose(g_batched.params[name], total, 1e-12, 1e-14, err_msg=f"{cell} d{name}")


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_determinism_by_seed(cell, nl):
    a, b = init_params(cell, D, H, seed=7), init_params(cell, D, H, seed=7)
    other = init_params(cell, D, H, seed=8)
    # the same seed gives identical parameters; another seed gives different ones
    for name in PARAM_NAMES:
        assert_array_equal(a[name], b[name], err_msg=f"{cell} {name} seed 7 twice")
        assert not np.array_equal(a[name], other[name]), f"{cell} {name} same for seeds 7 and 8"
    _, xs, h0, c0, w = sequence_case(cell, nl)
    t1, t2 = run(cell, nl, a, xs, h0, c0), run(cell, nl, b, xs, h0, c0)
    # forward: the same inputs give an identical Trace
    for name, arr in trace_arrays(t1).items():
        assert_array_equal(arr, trace_arrays(t2)[name], err_msg=f"{cell} trace {name}")
    assert t1.cell == t2.cell and t1.nonlinearity == t2.nonlinearity
    # backward: and identical gradients
    g1, g2 = backward(t1, w), backward(t2, w)
    for name, arr in grads_arrays(g1).items():
        assert_array_equal(arr, grads_arrays(g2)[name], err_msg=f"{cell} grads {name}")


# --------------------------------------------------------------------------------------------
# Parameters: shapes, layout, initialisation options
# --------------------------------------------------------------------------------------------


def test_gate_names_and_order_follow_pytorch():
    # the contract's cells and gate orders
    assert CELLS == ("rnn", "gru", "lstm")
    assert GATES == {"rnn": ("h",), "gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}
    assert set(RECURRENT_INITS) >= {"uniform", "orthogonal", "identity", "normal"}


@pytest.mark.parametrize("cell", CELLS)
def test_parameter_shapes_and_default_range(cell):
    G, Hbig = len(GATES[cell]), 64
    params = init_params(cell, D, Hbig, seed=0)
    expected = {
        "weight_ih": (G * Hbig, D),
        "weight_hh": (G * Hbig, Hbig),
        "bias_ih": (G * Hbig,),
        "bias_hh": (G * Hbig,),
    }
    assert set(params) == set(expected), f"{cell} parameter names"
    k = 1 / np.sqrt(Hbig)
    for name, shape in expected.items():
        p = params[name]
        assert p.shape == shape and p.dtype == np.float64, f"{cell} {name} {p.shape} {p.dtype}"
        # PyTorch's default U(-1/√H, 1/√H), spread over the whole interval
        assert np.all(np.abs(p) <= k), f"{cell} {name} outside ±1/√H"
        assert np.max(np.abs(p)) > 0.9 * k, f"{cell} {name} does not fill ±1/√H"


def reference_forward(cell, params, xs, h0, c0, nl):
    """Equations of ENGINE_API.md written out with PyTorch's blocks, one step at a time."""
    Hh = params["weight_hh"].shape[1]

    def block(name, gate):
        k = GATES[cell].index(gate)
        return params[name][k * Hh : (k + 1) * Hh]

    def pre(gate, x, h):
        W_i, W_h = block("weight_ih", gate), block("weight_hh", gate)
        return W_i @ x + block("bias_ih", gate), W_h @ h + block("bias_hh", gate)

    def sig(a):
        return 1 / (1 + np.exp(-a))

    h, c = np.array(h0, dtype=float), None if c0 is None else np.array(c0, dtype=float)
    hs, cs, gates = [], [], {g: [] for g in GATES[cell] if cell != "rnn"}
    for x in xs:
        if cell == "rnn":
            a = sum(pre("h", x, h))
            h = np.tanh(a) if nl == "tanh" else np.maximum(a, 0)
        elif cell == "gru":
            r, z = sig(sum(pre("r", x, h))), sig(sum(pre("z", x, h)))
            ni, nh = pre("n", x, h)
            n = np.tanh(ni + r * nh)
            h = (1 - z) * n + z * h
            for g, v in zip("rzn", (r, z, n), strict=True):
                gates[g].append(v)
        else:
            i, f, o = (sig(sum(pre(g, x, h))) for g in "ifo")
            g_ = np.tanh(sum(pre("g", x, h)))
            c = f * c + i * g_
            h = o * np.tanh(c)
            for g, v in zip("ifgo", (i, f, g_, o), strict=True):
                gates[g].append(v)
            cs.append(c)
        hs.append(h)
    return np.array(hs), (np.array(cs) if cs else None), {g: np.array(v) for g, v in gates.items()}


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_forward_follows_pytorch_equations_and_layout(cell, nl):
    params, xs, h0, c0, _ = sequence_case(cell, nl)
    trace = run(cell, nl, params, xs, h0, c0)
    h, c, gates = reference_forward(cell, params, xs, h0, c0, nl)
    # forward: states and gates equal the equations applied to PyTorch's gate blocks
    assert_allclose(trace.h, h, 1e-12, 1e-14, err_msg=f"{cell}-{nl} h")
    if cell == "lstm":
        assert_allclose(trace.c, c, 1e-12, 1e-14, err_msg="lstm c")
    else:
        assert trace.c is None, f"{cell} has no cell state"
    assert set(trace.gates) == set(gates), f"{cell} gate names"
    for g, v in gates.items():
        assert_allclose(trace.gates[g], v, 1e-12, 1e-14, err_msg=f"{cell} gate {g}")


def blocks(W, Hh):
    return [W[k * Hh : (k + 1) * Hh] for k in range(W.shape[0] // Hh)]


@pytest.mark.parametrize("cell", CELLS)
def test_recurrent_init_orthogonal_identity_normal(cell):
    Hh = 16
    ortho = init_params(cell, D, Hh, seed=3, recurrent_init="orthogonal")["weight_hh"]
    for k, Q in enumerate(blocks(ortho, Hh)):
        # each orthogonal block satisfies QᵀQ = I
        assert_allclose(Q.T @ Q, np.eye(Hh), atol=1e-13, err_msg=f"{cell} block {k} QᵀQ")
    if len(GATES[cell]) > 1:
        assert not np.allclose(ortho[:Hh], ortho[Hh : 2 * Hh]), f"{cell} blocks are not drawn apart"
    ident = init_params(cell, D, Hh, seed=3, recurrent_init="identity")["weight_hh"]
    for k, I in enumerate(blocks(ident, Hh)):
        # each identity block is exactly I
        assert_array_equal(I, np.eye(Hh), err_msg=f"{cell} identity block {k}")
    Hbig = 200
    normal = init_params(cell, D, Hbig, seed=3, recurrent_init="normal")["weight_hh"]
    for k, W in enumerate(blocks(normal, Hbig)):
        # N(0, 1/H): mean 0, standard deviation 1/√H within sampling error (0.5% here)
        assert abs(W.mean()) < 0.02 / np.sqrt(Hbig), f"{cell} normal block {k} mean"
        assert abs(W.std() * np.sqrt(Hbig) - 1) < 0.02, f"{cell} normal block {k} std"


@pytest.mark.parametrize("init", RECURRENT_INITS)
@pytest.mark.parametrize("cell", CELLS)
def test_recurrent_scale_multiplies_weight_hh_only(cell, init):
    base = init_params(cell, D, H, seed=5, recurrent_init=init)
    for scale in (0.0, 0.5, 3.0):
        scaled = init_params(cell, D, H, seed=5, recurrent_init=init, recurrent_scale=scale)
        # weight_hh is multiplied by the scale; nothing else changes
        assert_array_equal(scaled["weight_hh"], scale * base["weight_hh"], err_msg=f"{scale}")
        for name in ("weight_ih", "bias_ih", "bias_hh"):
            assert_array_equal(scaled[name], base[name], err_msg=f"{cell} {name} scale={scale}")


def test_forget_bias_sets_the_f_block():
    base = init_params("lstm", D, H, seed=2)
    fb = init_params("lstm", D, H, seed=2, forget_bias=1.5)
    f = slice(H, 2 * H)
    # the f block of bias_ih holds the forget bias and that of bias_hh is zero
    assert_array_equal(fb["bias_ih"][f], 1.5)
    assert_array_equal(fb["bias_hh"][f], 0.0)
    # every other entry is untouched
    for name in PARAM_NAMES:
        keep = np.ones(fb[name].shape[0], dtype=bool)
        if name.startswith("bias"):
            keep[f] = False
        assert_array_equal(fb[name][keep], base[name][keep], err_msg=f"{name} outside f")
    both = init_params("lstm", D, H, seed=2, forget_bias=2.0, zero_bias=True)
    expected = np.zeros(4 * H)
    expected[f] = 2.0
    # zero_bias is applied first, then the forget bias
    assert_array_equal(both["bias_ih"], expected)
    assert_array_equal(both["bias_hh"], 0.0)


@pytest.mark.parametrize("cell", CELLS)
def test_zero_bias(cell):
    base = init_params(cell, D, H, seed=4)
    zero = init_params(cell, D, H, seed=4, zero_bias=True)
    # all biases are zero and the weights are those of the same seed
    assert_array_equal(zero["bias_ih"], 0.0)
    assert_array_equal(zero["bias_hh"], 0.0)
    assert_array_equal(zero["weight_ih"], base["weight_ih"])
    assert_array_equal(zero["weight_hh"], base["weight_hh"])


# --------------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------------

SIGMOID_GATES = {"r", "z", "i", "f", "o"}


@pytest.mark.parametrize("batched", [False, True], ids=["single", "B2"])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_gate_ranges_and_update_identities(cell, nl, batched):
    params, xs, h0, c0, _ = sequence_case(cell, nl, batched=batched, steps=20, margin=0.0)
    params = {**params, "weight_hh": 2.0 * params["weight_hh"]}  # livelier gates
    trace = run(cell, nl, params, 3.0 * xs, h0, c0)
    for g, v in trace.gates.items():
        for t in range(trace.T):
            vt = v[..., t, :]
            if g in SIGMOID_GATES:
                # sigmoid gates lie strictly inside (0, 1)
                assert np.all((vt > 0) & (vt < 1)), f"{cell} gate {g} at t={t}: {vt}"
            else:
                # tanh outputs lie strictly inside (-1, 1)
                assert np.all(np.abs(vt) < 1), f"{cell} gate {g} at t={t}: {vt}"
    h_prev = previous(trace.h, trace.h0)
    if cell == "gru":
        r, z, n = (trace.gates[g] for g in "rzn")
        # h = (1 - z) n + z h_prev, PyTorch's GRU update
        assert_allclose(trace.h, (1 - z) * n + z * h_prev, atol=1e-15, err_msg="gru update")
    elif cell == "lstm":
        i, f, g, o = (trace.gates[k] for k in "ifgo")
        c_prev = previous(trace.c, trace.c0)
        # c = f c_prev + i g and h = o tanh(c)
        assert_allclose(trace.c, f * c_prev + i * g, rtol=1e-15, atol=1e-15, err_msg="lstm c")
        assert_allclose(trace.h, o * np.tanh(trace.c), rtol=1e-15, atol=1e-15, err_msg="lstm h")
    else:
        a = preactivations(params, trace.xs, h_prev)
        act = np.tanh(a) if nl == "tanh" else np.maximum(a, 0.0)
        # h = act(W_ih x + b_ih + W_hh h_prev + b_hh)
        assert_allclose(trace.h, act, rtol=1e-13, atol=1e-15, err_msg=f"rnn-{nl} h")


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_trace_and_grads_are_read_only_and_private(cell, nl):
    params, xs, h0, c0, w = sequence_case(cell, nl)
    params = {k: v.copy() for k, v in params.items()}
    xs = xs.copy()
    trace = run(cell, nl, params, xs, h0, c0)
    grads = backward(trace, w)
    h_before = trace.h.copy()
    for label, arrays in (("trace", trace_arrays(trace)), ("grads", grads_arrays(grads))):
        for name, a in arrays.items():
            # every exposed array refuses writes
            assert not a.flags.writeable, f"{cell} {label}.{name} is writeable"
            with pytest.raises(ValueError):
                a.flat[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        trace.h = h_before  # the dataclass itself is frozen
    xs[:] = 0.0
    params["weight_hh"][:] = 0.0
    # the trace keeps its own copies: changing the caller's arrays later changes nothing
    assert_array_equal(trace.h, h_before)
    assert np.any(trace.xs != 0.0) and np.any(trace.params["weight_hh"] != 0.0)


# --------------------------------------------------------------------------------------------
# Robustness: exploding weights and huge inputs, and input errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("x_scale", [1e3, 1e6])
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_extreme_runs_stay_finite_without_warnings(cell, nl, x_scale):
    steps = 200
    params = init_params(cell, D, H, seed=0, recurrent_scale=50.0)
    rng = np.random.default_rng(0)
    xs = x_scale * rng.standard_normal((B, steps, D))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (overflow, invalid) fails the test
        trace = forward(cell, params, xs, nonlinearity=nl)
        grads = backward(trace, rng.standard_normal((B, steps, H)))
        norms = {
            (wrt, ord): jacobian_norms(trace, wrt=wrt, ord=ord)
            for wrt in ("h", "x")
            for ord in (2, "fro")
        }
    # forward: no NaN or inf anywhere in the trace
    for name, a in trace_arrays(trace).items():
        assert np.all(np.isfinite(a)), f"{cell}-{nl} trace.{name} not finite"
    # backward: gradients may be huge but stay finite
    for name, a in grads_arrays(grads).items():
        assert np.all(np.isfinite(a)), f"{cell}-{nl} grads.{name} not finite"
    for key, a in norms.items():
        assert a.shape == (B, steps) and np.all(np.isfinite(a)), f"{cell}-{nl} norms {key}"


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_gradient_explosion_past_float_range_saturates(cell, nl):
    # at rest (h = 0, x = 0, no bias) every cell is its linearisation: with W_hh = 50·Q the
    # gradient grows ~12-50× per step and would pass 1e308 long before step 0
    relu = nl == "relu"
    steps = 230 if relu else 300
    params = init_params(
        cell, D, H, seed=0, recurrent_init="identity" if relu else "orthogonal",
        recurrent_scale=50.0, zero_bias=True,
    )  # fmt: skip
    h0 = np.full((B, H), 1e-300) if relu else None  # relu: 50^t · 1e-300 stays below its limit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = forward(cell, params, np.zeros((B, steps, D)), h0=h0, nonlinearity=nl)
        grads = backward(trace, np.ones((B, steps, H)))
        norms = jacobian_norms(trace, "h")
    # forward: the state never overflowed
    assert np.all(np.isfinite(trace.h)) and not trace.overflow, f"{cell}-{nl} state"
    # backward: the gradient exploded to a huge finite value, never inf or NaN
    for name, a in grads_arrays(grads).items():
        assert np.all(np.isfinite(a)), f"{cell}-{nl} grads.{name} not finite"
    assert np.max(np.abs(grads.h0)) >= 1e99, f"{cell}-{nl}: the gradient did not explode"
    assert np.all(np.isfinite(norms)) and np.max(norms) >= 1e99, f"{cell}-{nl} jacobian norms"


def _params(cell="rnn"):
    return init_params(cell, D, H, seed=0)


def _xs():
    return np.ones((T, D))


ERROR_CASES = {
    "unknown cell (init)": lambda: init_params("transformer", D, H),
    "unknown cell (forward)": lambda: forward("transformer", _params(), _xs()),
    "unknown init": lambda: init_params("rnn", D, H, recurrent_init="xavier"),
    "unknown nonlinearity": lambda: forward("rnn", _params(), _xs(), nonlinearity="gelu"),
    "zero hidden size": lambda: init_params("rnn", D, 0),
    "infinite scale": lambda: init_params("rnn", D, H, recurrent_scale=np.inf),
    "NaN forget bias": lambda: init_params("lstm", D, H, forget_bias=np.nan),
    "NaN in xs": lambda: forward("rnn", _params(), np.where(np.eye(T, D) > 0, np.nan, 0.0)),
    "inf in xs": lambda: forward("gru", _params("gru"), np.full((T, D), np.inf)),
    "1-D xs": lambda: forward("rnn", _params(), np.ones(T)),
    "4-D xs": lambda: forward("rnn", _params(), np.ones((1, 1, T, D))),
    "empty xs": lambda: forward("rnn", _params(), np.ones((0, D))),
    "wrong D": lambda: forward("rnn", _params(), np.ones((T, D + 1))),
    "missing parameter": lambda: forward("rnn", {"weight_ih": np.ones((H, D))}, _xs()),
    "gru params for lstm": lambda: forward("lstm", _params("gru"), _xs()),
    "wrong bias shape": lambda: forward("rnn", {**_params(), "bias_hh": np.ones(H + 1)}, _xs()),
    "wrong h0 shape": lambda: forward("rnn", _params(), _xs(), h0=np.ones(H + 1)),
    "NaN h0": lambda: forward("rnn", _params(), _xs(), h0=np.full(H, np.nan)),
    "batched h0 for one sequence": lambda: forward("rnn", _params(), _xs(), h0=np.ones((B, H))),
    "c0 for a gru": lambda: forward("gru", _params("gru"), _xs(), c0=np.ones(H)),
    "wrong c0 shape": lambda: forward("lstm", _params("lstm"), _xs(), c0=np.ones(H - 1)),
    "wrong dL_dh shape": lambda: backward(forward("rnn", _params(), _xs()), np.ones((T, H + 1))),
    "NaN dL_dh": lambda: backward(forward("rnn", _params(), _xs()), np.full((T, H), np.nan)),
    "unknown wrt": lambda: jacobian_norms(forward("rnn", _params(), _xs()), wrt="c"),
    "unknown ord": lambda: jacobian_norms(forward("rnn", _params(), _xs()), ord=1),
}


@pytest.mark.parametrize("make", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_invalid_input_raises_input_error(make):
    # a learner's mistake is an InputError with a message, never a crash deeper in numpy
    with pytest.raises(InputError, match=r"\w"):
        make()
