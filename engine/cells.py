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
runs the ``_core`` functions below, which only do the recurrent part. Backward is split the
same way: a step's local derivatives (gate slopes such as z(1 - z)) depend only on the forward
record, so the sequence computes them for all steps at once (``_local``) and the loop over time
runs only what needs the incoming gradient (``_core_backward``). The public step functions are
thin wrappers around the same functions, so the finite-difference tests of the steps check the
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


def _sigmoid(a, out):
    """:func:`sigmoid` written into ``out`` (which may be ``a``) with in-place ufuncs: the same
    values to the bit, σ(a) = e^min(a, 0) / (1 + e^-|a|), where neither exponent is positive."""
    num = np.minimum(a, 0.0)
    np.exp(num, out=num)  # e^a below 0, else 1
    np.abs(a, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)  # e^-|a| in (0, 1]
    out += 1.0
    return np.divide(num, out, out=out)


def _clip_gradient(g):
    """Saturate a gradient at ±GRAD_LIMIT in place: an explosion stays finite, never inf or NaN."""
    np.minimum(g, GRAD_LIMIT, out=g)
    return np.maximum(g, -GRAD_LIMIT, out=g)


# --------------------------------------------------------------------------------------------
# Cores: the recurrent part of one step, from the projected input gi = W_ih x + b_ih.
# Uniform signatures, so the sequence loops are the same for every cell. Every core writes into
# preallocated arrays (``out``) instead of returning new ones: the sequence loops hand them
# views of their (T, ...) records, so a step allocates nothing and copies nothing.
#
#   forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu, out=(h, c, acts, aux))
#       acts (B, G*H): the gate activations in PyTorch order (rnn: acts is h itself);
#       aux: what backward needs besides (gru: W_hh h_prev + b_hh, all three blocks; lstm:
#       tanh(c); rnn: None). c is None except for the lstm.
#   local(h_prev, c_prev, acts, aux, relu) -> loc
#       The step's local derivatives (a tuple of arrays). Elementwise, so it takes any leading
#       axes: the sequence computes them for every step at once, before the backward loop.
#   backward(dh, dc, loc, weight_hh, out=(dh_prev, dc_prev, dgh, dc_total))
#       dh: the total dL/dh of the step; dc: dL/dc from the future (lstm). dgh (B, G*H): the
#       gradient of the recurrent pre-activations W_hh h_prev + b_hh. dc_prev and dc_total
#       (total dL/dc of the step) are None except for the lstm.
# The input pre-activations' gradient dgi equals dgh except in the GRU's n block, where r
# multiplies W_hn h_prev + b_hn but not W_in x + b_in: see :func:`input_gradient`.
# --------------------------------------------------------------------------------------------


def _rnn_core_forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu, out):
    h = out[0]  # acts is h itself
    np.matmul(h_prev, weight_hh.T, out=h)
    h += gi
    h += bias_hh  # pre-activation a = W_ih x + b_ih + W_hh h_prev + b_hh
    if relu:  # relu, saturated far beyond any meaningful value
        np.maximum(h, 0.0, out=h)
        np.minimum(h, STATE_LIMIT, out=h)
    else:
        np.tanh(h, out=h)


def _rnn_local(h_prev, c_prev, acts, aux, relu):
    if relu:
        return (((acts > 0) & (acts < STATE_LIMIT)).astype(np.float64),)  # relu' (0 saturated)
    return (1.0 - acts**2,)  # tanh' from the output


def _rnn_core_backward(dh, dc, loc, weight_hh, out):
    dh_prev, _, da, _ = out
    (act_slope,) = loc
    np.multiply(dh, act_slope, out=da)  # da = dh ⊙ act'(a)
    np.matmul(da, weight_hh, out=dh_prev)  # through W_hh: the only path back in time


def _gru_core_forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu, out):
    h, _, acts, gh = out
    H = h.shape[-1]
    np.matmul(h_prev, weight_hh.T, out=gh)
    gh += bias_hh  # W_h· h_prev + b_h· for the three blocks r, z, n
    rz, n = acts[..., : 2 * H], acts[..., 2 * H :]
    np.add(gi[..., : 2 * H], gh[..., : 2 * H], out=rz)
    _sigmoid(rz, out=rz)  # reset gate r and update gate z
    np.multiply(rz[..., :H], gh[..., 2 * H :], out=n)  # r gates W_hn h_prev + b_hn
    n += gi[..., 2 * H :]
    np.tanh(n, out=n)  # candidate state
    z = rz[..., H:]
    np.subtract(1.0, z, out=h)
    h *= n
    h += z * h_prev  # h = (1 - z) ⊙ n + z ⊙ h_prev: z keeps the old state


def _gru_local(h_prev, c_prev, acts, aux, relu):
    H = acts.shape[-1] // 3
    r, z, n = acts[..., :H], acts[..., H : 2 * H], acts[..., 2 * H :]
    hn = aux[..., 2 * H :]  # W_hn h_prev + b_hn
    h_by_n = (1.0 - z) * (1.0 - n**2)  # ∂h/∂n_pre: through (1 - z) n and tanh
    h_by_z = (h_prev - n) * z * (1.0 - z)  # ∂h/∂z_pre: dh/dz = h_prev - n
    h_by_r = h_by_n * hn * r * (1.0 - r)  # ∂h/∂r_pre: r gates W_hn h_prev + b_hn
    h_by_gh = np.stack([h_by_r, h_by_z, h_by_n * r], axis=-2)  # (..., 3, H): ∂h/∂(W_hh h + b_hh)
    return h_by_gh, h_by_n, z


def _gru_core_backward(dh, dc, loc, weight_hh, out):
    dh_prev, _, dgh, _ = out
    h_by_gh, _, z = loc
    # dgh = [dr_pre; dz_pre; r ⊙ dn_pre] = dh ⊙ [∂h/∂r_pre; ∂h/∂z_pre; r ∂h/∂n_pre]
    np.multiply(dh[..., None, :], h_by_gh, out=dgh.reshape(dgh.shape[:-1] + (3, -1)))  # a view
    np.matmul(dgh, weight_hh, out=dh_prev)  # the paths through the gates
    dh_prev += dh * z  # plus the direct path (z)


def _lstm_core_forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu, out):
    h, c, acts, tanh_c = out
    H = h.shape[-1]
    np.matmul(h_prev, weight_hh.T, out=acts)
    acts += gi
    acts += bias_hh  # the four pre-activations, in place
    g = acts[..., 2 * H : 3 * H]
    np.tanh(g, out=tanh_c)  # candidate g, parked in tanh_c while σ runs over the whole row
    _sigmoid(acts, out=acts)  # input, forget and output gates (σ of the g block is dropped:)
    g[...] = tanh_c
    i, f, o = acts[..., :H], acts[..., H : 2 * H], acts[..., 3 * H :]
    np.multiply(f, c_prev, out=c)
    np.multiply(i, g, out=h)  # h as scratch
    c += h  # c = f ⊙ c_prev + i ⊙ g: the cell-state highway
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)  # h = o ⊙ tanh(c)


def _lstm_local(h_prev, c_prev, acts, aux, relu):
    H = acts.shape[-1] // 4
    i, f, g, o = acts[..., :H], acts[..., H : 2 * H], acts[..., 2 * H : 3 * H], acts[..., 3 * H :]
    tanh_c = aux
    h_by_c = o * (1.0 - tanh_c**2)  # ∂h/∂c through h = o tanh(c)
    c_by_ifg = np.stack(  # (..., 3, H): ∂c/∂ of the i, f and g pre-activations
        [g * i * (1.0 - i), c_prev * f * (1.0 - f), i * (1.0 - g**2)], axis=-2
    )
    h_by_o = tanh_c * o * (1.0 - o)  # ∂h/∂o_pre
    return h_by_c, c_by_ifg, h_by_o, f


def _lstm_core_backward(dh, dc, loc, weight_hh, out):
    dh_prev, dc_prev, da, dc_total = out
    h_by_c, c_by_ifg, h_by_o, f = loc
    np.multiply(dh, h_by_c, out=dc_total)
    dc_total += dc  # total dL/dc: the highway plus h = o tanh(c)
    da_blocks = da.reshape(da.shape[:-1] + (4, -1))  # a view: da is contiguous
    np.multiply(dc_total[..., None, :], c_by_ifg, out=da_blocks[..., :3, :])  # i, f, g
    np.multiply(dh, h_by_o, out=da_blocks[..., 3, :])  # output gate
    np.multiply(dc_total, f, out=dc_prev)  # the constant error carousel
    np.matmul(da, weight_hh, out=dh_prev)


CORES = {
    "rnn": (_rnn_core_forward, _rnn_local, _rnn_core_backward),
    "gru": (_gru_core_forward, _gru_local, _gru_core_backward),
    "lstm": (_lstm_core_forward, _lstm_local, _lstm_core_backward),
}
"""cell -> (core forward, local derivatives, core backward)."""


def forward_records(cell, lead, H):
    """Empty (h, c, acts, aux) arrays with leading axes ``lead``, as a core forward fills them."""
    h = np.empty(lead + (H,))
    if cell == "rnn":
        return h, None, h, None  # acts is h itself
    if cell == "gru":
        return h, None, np.empty(lead + (3 * H,)), np.empty(lead + (3 * H,))
    return h, np.empty(lead + (H,)), np.empty(lead + (4 * H,)), np.empty(lead + (H,))


def backward_records(cell, lead, H):
    """Empty (dh_prev, dc_prev, dgh, dc_total) arrays, as a core backward fills them."""
    lstm = cell == "lstm"
    return (
        np.empty(lead + (H,)), np.empty(lead + (H,)) if lstm else None,
        np.empty(lead + (len(GATES[cell]) * H,)), np.empty(lead + (H,)) if lstm else None,
    )  # fmt: skip


def input_gradient(cell, dh, dgh, loc):
    """dL/dgi from dL/dgh: the same array except in the GRU's n block, dn_pre = dh ⊙ ∂h/∂n_pre
    (r multiplies W_hn h_prev + b_hn, not W_in x + b_in). Any leading axes, like ``local``."""
    if cell != "gru":
        return dgh
    H = dh.shape[-1]
    dgi = dgh.copy()
    np.multiply(dh, loc[1], out=dgi[..., 2 * H :])
    return dgi


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
    out = forward_records(cell, gi.shape[:-1], weight_hh.shape[1])
    CORES[cell][0](gi, h_prev, c_prev, weight_hh, bias_hh, relu, out)
    h, c, acts, aux = out
    cache = {
        "cell": cell, "x": x, "h_prev": h_prev, "c_prev": c_prev, "acts": acts, "aux": aux,
        "weight_ih": weight_ih, "weight_hh": weight_hh, "relu": relu,
    }  # fmt: skip
    return h, c, cache


def _step_backward(dh, dc, cache):
    cell = cache["cell"]
    _, local, core_backward = CORES[cell]
    loc = local(cache["h_prev"], cache["c_prev"], cache["acts"], cache["aux"], cache["relu"])
    dh = np.asarray(dh, dtype=np.float64)
    out = backward_records(cell, dh.shape[:-1], dh.shape[-1])
    core_backward(dh, dc, loc, cache["weight_hh"], out)
    dh_prev, dc_prev, dgh, _ = out
    dgi = input_gradient(cell, dh, dgh, loc)
    grads = {"x": dgi @ cache["weight_ih"], "h_prev": dh_prev}
    if dc_prev is not None:
        grads["c_prev"] = dc_prev
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
