"""``backward(trace, dL_dh, dL_dc)``: a loss on the LSTM's cell states, by finite differences.

L = Σ_t <w_t, h_t> + Σ_t <v_t, c_t>: every gradient (parameters, inputs, initial states, the
total dL/dc_t and dL/dh_t) against finite differences, with and without a batch; a loss on c_T
alone (deeplearning.ai's ``lstm_cell_backward``); and clear errors for the wrong cell or shape.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from test_engine import PARAM_NAMES, T, assert_gradient, sequence_case

from engine import InputError, backward, forward, init_params


def case(batched, seed=0):
    """Parameters, inputs, initial states, w (dL_dh) and v (dL_dc) of one LSTM test."""
    params, xs, h0, c0, w = sequence_case("lstm", "tanh", batched=batched, seed=seed)
    v = np.random.default_rng(77 + seed).standard_normal(w.shape)
    return params, xs, h0, c0, w, v


def run(params, xs, h0, c0):
    return forward("lstm", params, xs, h0=h0, c0=c0)


def loss(w, v, params, xs, h0, c0):
    """L = Σ_t <w_t, h_t> + Σ_t <v_t, c_t>."""
    trace = run(params, xs, h0, c0)
    return float(np.sum(w * trace.h) + np.sum(v * trace.c))


WRT = (*PARAM_NAMES, "xs", "h0", "c0")
CASES = [(wrt, b) for wrt in WRT for b in (False, True)]


@pytest.mark.parametrize(
    ("wrt", "batched"), CASES, ids=[f"{w}-{'B2' if b else 'single'}" for w, b in CASES]
)
def test_gradients_with_a_loss_on_c_match_finite_differences(wrt, batched):
    params, xs, h0, c0, w, v = case(batched)
    grads = backward(run(params, xs, h0, c0), w, v)
    inputs = {"params": params, "xs": xs, "h0": h0, "c0": c0}
    if wrt in PARAM_NAMES:
        analytic, point = grads.params[wrt], params[wrt]

        def seq_loss(value):
            return loss(w, v, **{**inputs, "params": {**params, wrt: value}})
    else:
        analytic = {"xs": grads.x, "h0": grads.h0, "c0": grads.c0}[wrt]
        point = inputs[wrt]

        def seq_loss(value):
            return loss(w, v, **{**inputs, wrt: value})

    # backward: BPTT of Σ<w, h> + Σ<v, c> equals the finite-difference gradient
    assert_gradient(analytic, seq_loss, point, f"lstm dL/d{wrt} with dL_dc, batched={batched}")


@pytest.mark.parametrize("batched", [False, True], ids=["single", "B2"])
def test_grads_c_and_h_are_the_total_gradients(batched):
    params, xs, h0, c0, w, v = case(batched)
    trace = run(params, xs, h0, c0)
    grads = backward(trace, w, v)

    def rest(t, h_t, c_t):  # the loss's terms from step t+1 on, run from (h_t, c_t)
        if t == T - 1:
            return 0.0
        later = run(params, xs[..., t + 1 :, :], h_t, c_t)
        return np.sum(w[..., t + 1 :, :] * later.h) + np.sum(v[..., t + 1 :, :] * later.c)

    for t in range(T):
        o_t, h_t = trace.gates["o"][..., t, :], trace.h[..., t, :]

        def loss_from_c(c_t, t=t, o_t=o_t):  # perturb c_t; h_t = o_t tanh(c_t) follows
            h = o_t * np.tanh(c_t)
            return np.sum(w[..., t, :] * h) + np.sum(v[..., t, :] * c_t) + rest(t, h, c_t)

        def loss_from_h(h, t=t):  # perturb h_t with c_t fixed
            c_t = trace.c[..., t, :]
            return np.sum(w[..., t, :] * h) + np.sum(v[..., t, :] * c_t) + rest(t, h, c_t)

        # backward: Grads.c[t] is the total dL/dc_t, the direct dL_dc[t] included
        assert_gradient(grads.c[..., t, :], loss_from_c, trace.c[..., t, :], f"c t={t}")
        # backward: Grads.h[t] is the total dL/dh_t (c_t held fixed)
        assert_gradient(grads.h[..., t, :], loss_from_h, h_t, f"h t={t}")


def test_a_loss_on_the_last_cell_state_only():
    params, xs, h0, c0, w, _ = case(False, seed=3)
    trace = run(params, xs, h0, c0)
    dL_dc = np.zeros_like(trace.c)
    dL_dc[-1] = w[-1]  # L = <w_T, c_T>, as deeplearning.ai's lstm_cell_backward takes dc_next
    grads = backward(trace, np.zeros_like(trace.h), dL_dc)

    def last_c(c0_):
        return float(np.sum(w[-1] * run(params, xs, h0, c0_).c[-1]))

    # backward: the gradient reaches c0 through the forget gates, as finite differences say
    assert_gradient(grads.c0, last_c, c0, "dL/dc0 of a loss on c_T")
    # the last step's total dL/dc is the direct gradient itself (nothing flows from later)
    assert_array_equal(grads.c[-1], w[-1])


def test_zero_or_absent_dl_dc_gives_the_same_gradients():
    params, xs, h0, c0, w, _ = case(True)
    trace = run(params, xs, h0, c0)
    without, zeros = backward(trace, w), backward(trace, w, np.zeros_like(trace.c))
    # backward: dL_dc = 0 is the same as no dL_dc, bit for bit
    for name in PARAM_NAMES:
        assert_array_equal(zeros.params[name], without.params[name], err_msg=name)
    assert_array_equal(zeros.c, without.c)
    assert_array_equal(zeros.x, without.x)


ERRORS = {  # cell, batched trace, dL_dc from the trace, the message's gist
    "gru has no cell state": ("gru", False, lambda tr: np.zeros_like(tr.h), "cell states"),
    "rnn has no cell state": ("rnn", False, lambda tr: np.zeros_like(tr.h), "cell states"),
    "wrong length": (
        "lstm",
        False,
        lambda tr: np.zeros((T + 1, 4)),
        r"\(7, 4\); expected \(6, 4\)",
    ),
    "unbatched for a batch": ("lstm", True, lambda tr: tr.c[0], r"expected \(2, 6, 4\)"),
    "NaN": ("lstm", False, lambda tr: np.full_like(tr.c, np.nan), "finite"),
    "inf": ("lstm", True, lambda tr: np.full_like(tr.c, -np.inf), "finite"),
}


@pytest.mark.parametrize(("cell", "batched", "make", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_invalid_dl_dc_raises_input_error(cell, batched, make, message):
    xs = np.random.default_rng(0).standard_normal((2, T, 3) if batched else (T, 3))
    trace = forward(cell, init_params(cell, 3, 4), xs)
    with pytest.raises(InputError, match=message):
        backward(trace, np.zeros_like(trace.h), make(trace))
