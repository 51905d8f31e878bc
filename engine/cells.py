"""One timestep of a vanilla RNN, a GRU and an LSTM: forward and backward.

Every cell is a pair of pure functions in the style of CS231n's ``rnn_layers.py``:
``*_step_forward(x, h_prev, ..., weight_ih, weight_hh, bias_ih, bias_hh) -> (..., cache)``
returns the new state and a cache (the gate record), and ``*_step_backward(dh, ..., cache)``
returns a dict of gradients keyed by the forward argument names.

Parameters follow PyTorch's names and layout (``torch.nn.RNN/GRU/LSTM``, layer 0):
``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih`` (G*H,), ``bias_hh`` (G*H,), with
G = 1 (rnn), 3 (gru: r, z, n) or 4 (lstm: i, f, g, o) stacked gate blocks.

The sequence code (:mod:`engine.sequence`) does not call the public step functions. It
projects every input once (``gi = x @ weight_ih.T + bias_ih`` for all steps in one matmul) and
runs the ``_core`` functions below, which only do the recurrent part. The public step functions
are thin wrappers around the same cores, so the finite-difference tests of the steps check the
exact code that the sequence runs.

Shapes: a leading batch axis B on every array (``x`` (B, D), ``h_prev`` (B, H)).
"""

from __future__ import annotations

import numpy as np

GATES: dict[str, tuple[str, ...]] = {
    "rnn": ("h",),
    "gru": ("r", "z", "n"),
    "lstm": ("i", "f", "g", "o"),
}
"""Gate blocks of each cell in PyTorch's stacking order (rnn has one block: its activation)."""

NONLINEARITIES = ("tanh", "relu")

GRAD_LIMIT = 1e100
"""Gradient magnitudes are saturated at this value during BPTT (an exploding gradient comes
back as a huge finite number, never as inf - inf = NaN)."""

STATE_LIMIT = 1e100
"""ReLU-RNN states are saturated at this value (the only cell whose state is unbounded)."""


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function: no overflow for any finite ``a``."""
    e = np.exp(-np.abs(a))  # in (0, 1]: never overflows
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --------------------------------------------------------------------------------------------
# Cores: the recurrent part of one step, from the projected input gi = W_ih x + b_ih.
# Uniform signature, so the sequence loop is the same for every cell:
#   forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu) -> (h, c, acts, aux)
#   backward(dh, dc, h_prev, c_prev, acts, aux, weight_hh, relu) -> (dh_prev, dc_prev, dgi, dgh)
# acts (B, G*H) are the gate activations in PyTorch order, aux what backward needs besides
# (gru: W_hn h_prev + b_hn; lstm: tanh(c)). dgi and dgh are the gradients of the input and the
# recurrent pre-activations; they differ only in the GRU's n block (r multiplies W_hn h + b_hn).
# --------------------------------------------------------------------------------------------


def _rnn_core_forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu):
    a = gi + h_prev @ weight_hh.T + bias_hh  # pre-activation
    if relu:
        h = np.clip(a, 0.0, STATE_LIMIT)  # relu, saturated far beyond any meaningful value
    else:
        h = np.tanh(a)
    return h, None, h, None


def _rnn_core_backward(dh, dc, h_prev, c_prev, acts, aux, weight_hh, relu):
    if relu:
        da = dh * ((acts > 0) & (acts < STATE_LIMIT))  # relu' (0 where saturated)
    else:
        da = dh * (1.0 - acts**2)  # tanh' from the output
    dh_prev = da @ weight_hh  # through W_hh: the only path back in time
    return dh_prev, None, da, da


def _gru_core_forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu):
    H = h_prev.shape[-1]
    gh = h_prev @ weight_hh.T + bias_hh
    r = sigmoid(gi[..., :H] + gh[..., :H])  # reset gate
    z = sigmoid(gi[..., H : 2 * H] + gh[..., H : 2 * H])  # update gate
    hn = gh[..., 2 * H :]  # W_hn h_prev + b_hn, gated by r
    n = np.tanh(gi[..., 2 * H :] + r * hn)  # candidate state
    h = (1.0 - z) * n + z * h_prev  # PyTorch: z keeps the old state
    return h, None, np.concatenate([r, z, n], axis=-1), hn


def _gru_core_backward(dh, dc, h_prev, c_prev, acts, aux, weight_hh, relu):
    H = h_prev.shape[-1]
    r, z, n = acts[..., :H], acts[..., H : 2 * H], acts[..., 2 * H :]
    hn = aux
    dn_pre = dh * (1.0 - z) * (1.0 - n**2)  # through (1 - z) n and tanh
    dz_pre = dh * (h_prev - n) * z * (1.0 - z)  # dh/dz = h_prev - n
    dr_pre = dn_pre * hn * r * (1.0 - r)  # r gates W_hn h_prev + b_hn
    dgi = np.concatenate([dr_pre, dz_pre, dn_pre], axis=-1)
    dgh = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=-1)
    dh_prev = dh * z + dgh @ weight_hh  # direct path (z) plus the paths through the gates
    return dh_prev, None, dgi, dgh


def _lstm_core_forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu):
    H = h_prev.shape[-1]
    a = gi + h_prev @ weight_hh.T + bias_hh
    acts = np.empty_like(a)
    acts[..., : 2 * H] = sigmoid(a[..., : 2 * H])  # input and forget gates
    acts[..., 2 * H : 3 * H] = np.tanh(a[..., 2 * H : 3 * H])  # candidate g
    acts[..., 3 * H :] = sigmoid(a[..., 3 * H :])  # output gate
    i, f, g, o = acts[..., :H], acts[..., H : 2 * H], acts[..., 2 * H : 3 * H], acts[..., 3 * H :]
    c = f * c_prev + i * g  # the cell-state highway
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, acts, tanh_c


def _lstm_core_backward(dh, dc, h_prev, c_prev, acts, aux, weight_hh, relu):
    H = h_prev.shape[-1]
    i, f, g, o = acts[..., :H], acts[..., H : 2 * H], acts[..., 2 * H : 3 * H], acts[..., 3 * H :]
    tanh_c = aux
    dc = dc + dh * o * (1.0 - tanh_c**2)  # total dL/dc: highway plus h = o tanh(c)
    da = np.empty(dh.shape[:-1] + acts.shape[-1:])  # dh may carry many seeds
    da[..., :H] = dc * g * i * (1.0 - i)  # input gate
    da[..., H : 2 * H] = dc * c_prev * f * (1.0 - f)  # forget gate
    da[..., 2 * H : 3 * H] = dc * i * (1.0 - g**2)  # candidate
    da[..., 3 * H :] = dh * tanh_c * o * (1.0 - o)  # output gate
    dc_prev = dc * f  # the constant error carousel
    dh_prev = da @ weight_hh
    return dh_prev, (dc_prev, dc), da, da


CORES = {
    "rnn": (_rnn_core_forward, _rnn_core_backward),
    "gru": (_gru_core_forward, _gru_core_backward),
    "lstm": (_lstm_core_forward, _lstm_core_backward),
}
"""cell -> (core forward, core backward). The LSTM core backward returns (dc_prev, dc) as its
second value: the gradient for c_prev and the total dL/dc of this step."""


# --------------------------------------------------------------------------------------------
# Public step functions
# --------------------------------------------------------------------------------------------


def _param_grads(x, h_prev, dgi, dgh):
    return {
        "weight_ih": dgi.T @ x,
        "weight_hh": dgh.T @ h_prev,
        "bias_ih": dgi.sum(axis=0),
        "bias_hh": dgh.sum(axis=0),
    }


def _step_forward(cell, x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh, relu):
    gi = x @ weight_ih.T + bias_ih
    h, c, acts, aux = CORES[cell][0](gi, h_prev, c_prev, weight_hh, bias_hh, relu)
    cache = {
        "cell": cell, "x": x, "h_prev": h_prev, "c_prev": c_prev, "acts": acts, "aux": aux,
        "weight_ih": weight_ih, "weight_hh": weight_hh, "relu": relu,
    }  # fmt: skip
    return h, c, cache


def _step_backward(dh, dc, cache):
    dh_prev, dc_out, dgi, dgh = CORES[cache["cell"]][1](
        dh, dc, cache["h_prev"], cache["c_prev"], cache["acts"], cache["aux"],
        cache["weight_hh"], cache["relu"],
    )  # fmt: skip
    grads = {"x": dgi @ cache["weight_ih"], "h_prev": dh_prev}
    if dc_out is not None:
        grads["c_prev"] = dc_out[0]
    grads.update(_param_grads(cache["x"], cache["h_prev"], dgi, dgh))
    return grads


def rnn_step_forward(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity="tanh"):
    """One step of a vanilla (Elman) RNN.

    Parameters
    ----------
    x : ndarray (B, D)
        Input at this step.
    h_prev : ndarray (B, H)
        Previous hidden state.
    weight_ih, weight_hh, bias_ih, bias_hh : ndarray (H, D), (H, H), (H,), (H,)
        Parameters in PyTorch's layout.
    nonlinearity : {"tanh", "relu"}

    Returns
    -------
    h : ndarray (B, H)
    cache : dict
        The step's record, consumed by :func:`rnn_step_backward`.

    Equations::

        h = act(W_ih x + b_ih + W_hh h_prev + b_hh),   act = tanh or relu
    """
    h, _, cache = _step_forward(
        "rnn", x, h_prev, None, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity == "relu"
    )
    return h, cache


def rnn_step_backward(dh, cache):
    """Backward pass of :func:`rnn_step_forward`.

    Parameters
    ----------
    dh : ndarray (B, H)
        Gradient of the loss with respect to ``h``.
    cache : dict
        From :func:`rnn_step_forward`.

    Returns
    -------
    dict
        Gradients keyed by the forward argument names: ``x`` (B, D), ``h_prev`` (B, H),
        ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (their own shapes).

    Equations::

        da      = dh ⊙ act'(a)            (tanh' = 1 - h², relu' = [a > 0])
        dh_prev = W_hhᵀ da
    """
    return _step_backward(dh, None, cache)


def gru_step_forward(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of a GRU, with PyTorch's equations.

    Parameters
    ----------
    x : ndarray (B, D)
    h_prev : ndarray (B, H)
    weight_ih, weight_hh, bias_ih, bias_hh : ndarray (3H, D), (3H, H), (3H,), (3H,)
        Gate blocks in the order r, z, n.

    Returns
    -------
    h : ndarray (B, H)
    cache : dict
        Gate record (``acts`` holds r, z, n), consumed by :func:`gru_step_backward`.

    Equations::

        r = σ(W_ir x + b_ir + W_hr h_prev + b_hr)
        z = σ(W_iz x + b_iz + W_hz h_prev + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h_prev + b_hn))
        h = (1 - z) ⊙ n + z ⊙ h_prev
    """
    h, _, cache = _step_forward("gru", x, h_prev, None, weight_ih, weight_hh, bias_ih, bias_hh, 0)
    return h, cache


def gru_step_backward(dh, cache):
    """Backward pass of :func:`gru_step_forward`.

    Returns
    -------
    dict
        ``x`` (B, D), ``h_prev`` (B, H) and the four parameter gradients.

    Equations::

        dn_pre  = dh ⊙ (1 - z) ⊙ (1 - n²)
        dz_pre  = dh ⊙ (h_prev - n) ⊙ z(1 - z)
        dr_pre  = dn_pre ⊙ (W_hn h_prev + b_hn) ⊙ r(1 - r)
        dh_prev = dh ⊙ z + W_hhᵀ [dr_pre; dz_pre; r ⊙ dn_pre]
    """
    return _step_backward(dh, None, cache)


def lstm_step_forward(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of an LSTM, with PyTorch's equations.

    Parameters
    ----------
    x : ndarray (B, D)
    h_prev, c_prev : ndarray (B, H)
    weight_ih, weight_hh, bias_ih, bias_hh : ndarray (4H, D), (4H, H), (4H,), (4H,)
        Gate blocks in the order i, f, g, o.

    Returns
    -------
    h, c : ndarray (B, H)
    cache : dict
        Gate record (``acts`` holds i, f, g, o), consumed by :func:`lstm_step_backward`.

    Equations::

        i, f, o = σ(W_i· x + b_i· + W_h· h_prev + b_h·)
        g = tanh(W_ig x + b_ig + W_hg h_prev + b_hg)
        c = f ⊙ c_prev + i ⊙ g
        h = o ⊙ tanh(c)
    """
    return _step_forward("lstm", x, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh, 0)


def lstm_step_backward(dh, dc, cache):
    """Backward pass of :func:`lstm_step_forward`.

    Parameters
    ----------
    dh, dc : ndarray (B, H)
        Gradients of the loss with respect to ``h`` and ``c`` (``dc`` from the future only).

    Returns
    -------
    dict
        ``x``, ``h_prev``, ``c_prev`` and the four parameter gradients.

    Equations::

        dc_total = dc + dh ⊙ o ⊙ (1 - tanh²(c))
        di, df, dg, do = dc_total ⊙ g, dc_total ⊙ c_prev, dc_total ⊙ i, dh ⊙ tanh(c)
        dc_prev  = dc_total ⊙ f          (the constant error carousel)
        dh_prev  = W_hhᵀ [di ⊙ i(1-i); df ⊙ f(1-f); dg ⊙ (1-g²); do ⊙ o(1-o)]
    """
    return _step_backward(dh, dc, cache)
