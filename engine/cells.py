"""One timestep of a vanilla RNN, a GRU and an LSTM: forward and backward.

Every cell is a pair of pure functions in the style of CS231n's ``rnn_layers.py``:
``*_step_forward(x, h_prev, ..., weight_ih, weight_hh, bias_ih, bias_hh) -> (..., cache)``
returns the new state and a cache (the gate record), and ``*_step_backward(dh, ..., cache)``
returns a dict of gradients keyed by the forward argument names.

Parameters follow PyTorch's names and layout (``torch.nn.RNN/GRU/LSTM``, layer 0):
``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih`` (G*H,), ``bias_hh`` (G*H,), with
G = 1 (rnn), 3 (gru: r, z, n) or 4 (lstm: i, f, g, o) stacked gate blocks.

The GRU comes in two models with the same parameters. PyTorch's (:func:`gru_step_forward`):
the reset gate scales the recurrent product, n = tanh(W_in x + b_in + r ⊙ (W_hn h_prev + b_hn)).
Cho et al. 2014's, Keras ``reset_after=False`` (:func:`gru_reset_before_step_forward`): it
resets the old state before the product, n = tanh(W_in x + b_in + W_hn (r ⊙ h_prev) + b_hn).

The public step functions (at the end of the module) are written like the equations: one line
per equation, the numerically stable sigmoid, local derivatives from the outputs. They are the
code to read. The sequence code (:mod:`engine.sequence`) does not call them: for speed it
projects every input once (``gi = x @ weight_ih.T + bias_ih`` for all steps in one matmul) and
runs the in-place ``_core`` kernels below, which only do the recurrent part. Backward is split
the same way: a step's local derivatives (gate slopes such as z(1 - z)) depend only on the
forward record, so the sequence computes them for all steps at once (``_local``) and the loop
over time runs only what needs the incoming gradient (``_core_backward``). The two
implementations share no code; ``tests/test_engine.py`` holds them equal (every output and
gradient, to 1e-12) and checks both against finite differences.

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
#       aux: what backward needs besides (gru: W_hh h_prev + b_hh, all three blocks, and for
#       the reset-before GRU W_hn (r ⊙ h_prev) + b_hn in the n block; lstm: tanh(c); rnn:
#       None). c is None except for the lstm.
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


def _gru_before_core_forward(gi, h_prev, c_prev, weight_hh, bias_hh, relu, out):
    h, _, acts, gh = out
    H = h.shape[-1]
    rz, n = acts[..., : 2 * H], acts[..., 2 * H :]
    np.matmul(h_prev, weight_hh[: 2 * H].T, out=gh[..., : 2 * H])
    gh[..., : 2 * H] += bias_hh[: 2 * H]  # W_hr h_prev + b_hr, W_hz h_prev + b_hz
    np.add(gi[..., : 2 * H], gh[..., : 2 * H], out=rz)
    _sigmoid(rz, out=rz)  # reset gate r and update gate z
    np.multiply(rz[..., :H], h_prev, out=h)  # h as scratch: r ⊙ h_prev, reset before the product
    np.matmul(h, weight_hh[2 * H :].T, out=gh[..., 2 * H :])
    gh[..., 2 * H :] += bias_hh[2 * H :]  # W_hn (r ⊙ h_prev) + b_hn
    np.add(gi[..., 2 * H :], gh[..., 2 * H :], out=n)
    np.tanh(n, out=n)  # candidate state
    z = rz[..., H:]
    np.subtract(1.0, z, out=h)
    h *= n
    h += z * h_prev  # h = (1 - z) ⊙ n + z ⊙ h_prev: z keeps the old state


def _gru_before_local(h_prev, c_prev, acts, aux, relu):
    H = acts.shape[-1] // 3
    r, z, n = acts[..., :H], acts[..., H : 2 * H], acts[..., 2 * H :]
    h_by_n = (1.0 - z) * (1.0 - n**2)  # ∂h/∂n_pre: through (1 - z) n and tanh
    h_by_z = (h_prev - n) * z * (1.0 - z)  # ∂h/∂z_pre: dh/dz = h_prev - n
    rh_by_r = h_prev * r * (1.0 - r)  # ∂(r ⊙ h_prev)/∂r_pre
    return h_by_z, h_by_n, z, r, rh_by_r  # [1] and [2] as in the reset-after GRU's record


def _gru_before_core_backward(dh, dc, loc, weight_hh, out):
    dh_prev, _, dgh, _ = out
    h_by_z, h_by_n, z, r, rh_by_r = loc
    H = dh.shape[-1]
    dr, dz, dn = dgh[..., :H], dgh[..., H : 2 * H], dgh[..., 2 * H :]
    np.multiply(dh, h_by_n, out=dn)  # dn_pre, also the gradient of W_hn (r ⊙ h_prev) + b_hn
    np.multiply(dh, h_by_z, out=dz)  # dz_pre
    np.matmul(dn, weight_hh[2 * H :], out=dh_prev)  # dh_prev as scratch: d(r ⊙ h_prev)
    np.multiply(dh_prev, rh_by_r, out=dr)  # dr_pre: r scales h_prev inside the product
    dh_prev *= r  # the path through r ⊙ h_prev into h_prev
    dh_prev += dgh[..., : 2 * H] @ weight_hh[: 2 * H]  # the paths through the gates r and z
    dh_prev += dh * z  # plus the direct path (z)


CORES = {
    "rnn": (_rnn_core_forward, _rnn_local, _rnn_core_backward),
    "gru": (_gru_core_forward, _gru_local, _gru_core_backward),
    "lstm": (_lstm_core_forward, _lstm_local, _lstm_core_backward),
    "gru_before": (_gru_before_core_forward, _gru_before_local, _gru_before_core_backward),
}
"""kernel -> (core forward, local derivatives, core backward). The kernel is the cell's name,
except the GRU with its reset gate before the recurrent product (``gru_reset="before"``):
``"gru_before"``. :func:`kernel` picks it."""

GRU_RESETS = ("after", "before")
"""Where the GRU's reset gate acts: on the recurrent product (PyTorch, Keras ``reset_after=True``)
or on the old state before it (Cho et al. 2014, Keras ``reset_after=False``, deeplearning.ai)."""


def kernel(cell, gru_reset="after"):
    """The key of :data:`CORES` that runs ``cell`` (``gru_reset`` matters only for the GRU)."""
    return "gru_before" if cell == "gru" and gru_reset == "before" else cell


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
    (r multiplies W_hn h_prev + b_hn, not W_in x + b_in). Any leading axes, like ``local``.
    ``cell`` is a key of :data:`CORES` (the reset-before GRU, ``"gru_before"``, has dgi = dgh)."""
    if cell != "gru":
        return dgh
    H = dh.shape[-1]
    dgi = dgh.copy()
    np.multiply(dh, loc[1], out=dgi[..., 2 * H :])
    return dgi


def weight_hh_gradient(cell, dgh, h_prev, acts):
    """dL/dweight_hh, summed over every leading axis of ``dgh`` (..., G*H) and ``h_prev``.

    Every gate block multiplies h_prev, except the n block of the reset-before GRU
    (``cell = "gru_before"``), which multiplies r ⊙ h_prev (``acts`` holds r).
    """
    GH, H = dgh.shape[-1], h_prev.shape[-1]
    flat_gh, flat_h = dgh.reshape(-1, GH), h_prev.reshape(-1, H)
    if cell != "gru_before":
        return flat_gh.T @ flat_h  # Σ dgh ⊗ h_prev
    rh = (acts[..., :H] * h_prev).reshape(-1, H)  # r ⊙ h_prev
    return np.concatenate([flat_gh[:, : 2 * H].T @ flat_h, flat_gh[:, 2 * H :].T @ rh])


# --------------------------------------------------------------------------------------------
# Public step functions: the equations written out, one line each (CS231n's rnn_layers.py).
# They share no code with the cores above; tests/test_engine.py holds the two equal.
# --------------------------------------------------------------------------------------------


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
        The step's record (inputs, output, parameters), consumed by :func:`rnn_step_backward`.

    Equations::

        a = W_ih x + b_ih + W_hh h_prev + b_hh
        h = act(a),   act = tanh or relu
    """
    a = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh  # pre-activation (B, H)
    if nonlinearity == "relu":
        h = np.clip(a, 0.0, STATE_LIMIT)  # relu, saturated far beyond any meaningful value
    else:
        h = np.tanh(a)  # squashed into (-1, 1)
    cache = {
        "x": x, "h_prev": h_prev, "h": h, "nonlinearity": nonlinearity,
        "weight_ih": weight_ih, "weight_hh": weight_hh,
    }  # fmt: skip
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
        ``weight_ih`` (H, D), ``weight_hh`` (H, H), ``bias_ih`` (H,), ``bias_hh`` (H,).

    Equations::

        da      = dh ⊙ act'(a)            (tanh' = 1 - h², relu' = [a > 0])
        dx      = W_ihᵀ da
        dh_prev = W_hhᵀ da
        dW_ih   = Σ_b da x_bᵀ,   dW_hh = Σ_b da h_prev_bᵀ,   db_ih = db_hh = Σ_b da
    """
    x, h_prev, h = cache["x"], cache["h_prev"], cache["h"]
    weight_ih, weight_hh = cache["weight_ih"], cache["weight_hh"]
    if cache["nonlinearity"] == "relu":
        da = dh * ((h > 0) & (h < STATE_LIMIT))  # relu' = [a > 0] (0 where saturated)
    else:
        da = dh * (1.0 - h**2)  # tanh' from the output
    dx = da @ weight_ih  # back into the input
    dh_prev = da @ weight_hh  # through W_hh: the only path back in time
    dW_ih = da.T @ x  # summed over the batch
    dW_hh = da.T @ h_prev
    db_ih = da.sum(axis=0)
    db_hh = da.sum(axis=0)
    return {
        "x": dx, "h_prev": dh_prev,
        "weight_ih": dW_ih, "weight_hh": dW_hh, "bias_ih": db_ih, "bias_hh": db_hh,
    }  # fmt: skip


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
        The gate record (``r``, ``z``, ``n``, ``hn`` = W_hn h_prev + b_hn, each (B, H)) with
        the inputs and parameters, consumed by :func:`gru_step_backward`.

    Equations::

        r = σ(W_ir x + b_ir + W_hr h_prev + b_hr)
        z = σ(W_iz x + b_iz + W_hz h_prev + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h_prev + b_hn))
        h = (1 - z) ⊙ n + z ⊙ h_prev
    """
    H = h_prev.shape[-1]
    gi = x @ weight_ih.T + bias_ih  # the input's share of r, z, n (B, 3H)
    gh = h_prev @ weight_hh.T + bias_hh  # the previous state's share of r, z, n (B, 3H)
    r = sigmoid(gi[..., :H] + gh[..., :H])  # reset gate
    z = sigmoid(gi[..., H : 2 * H] + gh[..., H : 2 * H])  # update gate
    hn = gh[..., 2 * H :]  # W_hn h_prev + b_hn
    n = np.tanh(gi[..., 2 * H :] + r * hn)  # candidate state: r gates the old state's share
    h = (1.0 - z) * n + z * h_prev  # z keeps the old state, 1 - z takes the candidate
    cache = {
        "x": x, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn,
        "weight_ih": weight_ih, "weight_hh": weight_hh,
    }  # fmt: skip
    return h, cache


def gru_step_backward(dh, cache):
    """Backward pass of :func:`gru_step_forward`.

    Parameters
    ----------
    dh : ndarray (B, H)
        Gradient of the loss with respect to ``h``.
    cache : dict
        From :func:`gru_step_forward`.

    Returns
    -------
    dict
        ``x`` (B, D), ``h_prev`` (B, H) and the four parameter gradients (their own shapes).

    Equations::

        da_n    = dh ⊙ (1 - z) ⊙ (1 - n²)
        da_z    = dh ⊙ (h_prev - n) ⊙ z(1 - z)
        da_r    = da_n ⊙ (W_hn h_prev + b_hn) ⊙ r(1 - r)
        dgi     = [da_r; da_z; da_n]          (gradient of W_ih x + b_ih)
        dgh     = [da_r; da_z; r ⊙ da_n]      (gradient of W_hh h_prev + b_hh)
        dh_prev = dh ⊙ z + W_hhᵀ dgh
    """
    x, h_prev = cache["x"], cache["h_prev"]
    r, z, n, hn = cache["r"], cache["z"], cache["n"], cache["hn"]
    weight_ih, weight_hh = cache["weight_ih"], cache["weight_hh"]
    dn = dh * (1.0 - z)  # h = (1 - z) n + z h_prev
    dz = dh * (h_prev - n)
    da_n = dn * (1.0 - n**2)  # tanh' from the output
    da_z = dz * z * (1.0 - z)  # σ' from the output
    dr = da_n * hn  # n's pre-activation holds r ⊙ hn
    dhn = da_n * r
    da_r = dr * r * (1.0 - r)  # σ' from the output
    dgi = np.concatenate([da_r, da_z, da_n], axis=-1)  # (B, 3H)
    dgh = np.concatenate([da_r, da_z, dhn], axis=-1)  # r scales only the recurrent n block
    dx = dgi @ weight_ih
    dh_prev = dh * z + dgh @ weight_hh  # the direct path (z) plus the paths through the gates
    dW_ih = dgi.T @ x
    dW_hh = dgh.T @ h_prev
    db_ih = dgi.sum(axis=0)
    db_hh = dgh.sum(axis=0)
    return {
        "x": dx, "h_prev": dh_prev,
        "weight_ih": dW_ih, "weight_hh": dW_hh, "bias_ih": db_ih, "bias_hh": db_hh,
    }  # fmt: skip


def gru_reset_before_step_forward(x, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of a GRU with the reset gate before the recurrent product (Cho et al. 2014).

    The GRU of Cho et al. 2014, colah's blog, d2l, deeplearning.ai and Keras
    ``reset_after=False``: r resets the old state before W_hn reads it. It is a different model
    from :func:`gru_step_forward` (PyTorch's, where r scales W_hn h_prev + b_hn): same parameter
    names, shapes and gate order, different numbers. ``forward(..., gru_reset="before")``.

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
        The gate record (``r``, ``z``, ``n``, ``rh`` = r ⊙ h_prev, each (B, H)) with the inputs
        and parameters, consumed by :func:`gru_reset_before_step_backward`.

    Equations::

        r = σ(W_ir x + b_ir + W_hr h_prev + b_hr)
        z = σ(W_iz x + b_iz + W_hz h_prev + b_hz)
        n = tanh(W_in x + b_in + W_hn (r ⊙ h_prev) + b_hn)
        h = (1 - z) ⊙ n + z ⊙ h_prev
    """
    H = h_prev.shape[-1]
    W_hr, W_hz, W_hn = weight_hh[:H], weight_hh[H : 2 * H], weight_hh[2 * H :]
    b_hr, b_hz, b_hn = bias_hh[:H], bias_hh[H : 2 * H], bias_hh[2 * H :]
    gi = x @ weight_ih.T + bias_ih  # the input's share of r, z, n (B, 3H)
    r = sigmoid(gi[..., :H] + h_prev @ W_hr.T + b_hr)  # reset gate
    z = sigmoid(gi[..., H : 2 * H] + h_prev @ W_hz.T + b_hz)  # update gate
    rh = r * h_prev  # the old state, reset before W_hn reads it
    n = np.tanh(gi[..., 2 * H :] + rh @ W_hn.T + b_hn)  # candidate state
    h = (1.0 - z) * n + z * h_prev  # z keeps the old state, 1 - z takes the candidate
    cache = {
        "x": x, "h_prev": h_prev, "r": r, "z": z, "n": n, "rh": rh,
        "weight_ih": weight_ih, "weight_hh": weight_hh,
    }  # fmt: skip
    return h, cache


def gru_reset_before_step_backward(dh, cache):
    """Backward pass of :func:`gru_reset_before_step_forward`.

    Parameters
    ----------
    dh : ndarray (B, H)
        Gradient of the loss with respect to ``h``.
    cache : dict
        From :func:`gru_reset_before_step_forward`.

    Returns
    -------
    dict
        ``x`` (B, D), ``h_prev`` (B, H) and the four parameter gradients (their own shapes).

    Equations::

        da_n    = dh ⊙ (1 - z) ⊙ (1 - n²)
        da_z    = dh ⊙ (h_prev - n) ⊙ z(1 - z)
        drh     = W_hnᵀ da_n                  (gradient of r ⊙ h_prev)
        da_r    = drh ⊙ h_prev ⊙ r(1 - r)
        dgi     = dgh = [da_r; da_z; da_n]
        dW_hn   = Σ_b da_n (r ⊙ h_prev)ᵀ,   dW_hr, dW_hz = Σ_b da_r h_prevᵀ, Σ_b da_z h_prevᵀ
        dh_prev = dh ⊙ z + drh ⊙ r + W_hrᵀ da_r + W_hzᵀ da_z
    """
    x, h_prev = cache["x"], cache["h_prev"]
    r, z, n, rh = cache["r"], cache["z"], cache["n"], cache["rh"]
    weight_ih, weight_hh = cache["weight_ih"], cache["weight_hh"]
    H = h_prev.shape[-1]
    W_hr, W_hz, W_hn = weight_hh[:H], weight_hh[H : 2 * H], weight_hh[2 * H :]
    dn = dh * (1.0 - z)  # h = (1 - z) n + z h_prev
    dz = dh * (h_prev - n)
    da_n = dn * (1.0 - n**2)  # tanh' from the output
    da_z = dz * z * (1.0 - z)  # σ' from the output
    drh = da_n @ W_hn  # n's pre-activation holds W_hn (r ⊙ h_prev)
    dr = drh * h_prev
    da_r = dr * r * (1.0 - r)  # σ' from the output
    da = np.concatenate([da_r, da_z, da_n], axis=-1)  # (B, 3H): input and recurrent alike
    dx = da @ weight_ih
    dh_prev = dh * z + drh * r + da_r @ W_hr + da_z @ W_hz  # direct, reset and gate paths
    dW_ih = da.T @ x
    dW_hh = np.concatenate([da_r.T @ h_prev, da_z.T @ h_prev, da_n.T @ rh])  # W_hn reads r ⊙ h
    db_ih = da.sum(axis=0)
    db_hh = da.sum(axis=0)
    return {
        "x": dx, "h_prev": dh_prev,
        "weight_ih": dW_ih, "weight_hh": dW_hh, "bias_ih": db_ih, "bias_hh": db_hh,
    }  # fmt: skip


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
        The gate record (``i``, ``f``, ``g``, ``o``, ``tanh_c``, each (B, H)) with the inputs
        and parameters, consumed by :func:`lstm_step_backward`.

    Equations::

        i, f, o = σ(W_i· x + b_i· + W_h· h_prev + b_h·)
        g = tanh(W_ig x + b_ig + W_hg h_prev + b_hg)
        c = f ⊙ c_prev + i ⊙ g
        h = o ⊙ tanh(c)
    """
    H = h_prev.shape[-1]
    a = x @ weight_ih.T + bias_ih + h_prev @ weight_hh.T + bias_hh  # pre-activations (B, 4H)
    i = sigmoid(a[..., :H])  # input gate: how much of the candidate to write
    f = sigmoid(a[..., H : 2 * H])  # forget gate: how much of the old cell to keep
    g = np.tanh(a[..., 2 * H : 3 * H])  # candidate values
    o = sigmoid(a[..., 3 * H :])  # output gate: how much of the cell to show
    c = f * c_prev + i * g  # the cell-state highway
    tanh_c = np.tanh(c)
    h = o * tanh_c  # the hidden state: a gated view of the cell
    cache = {
        "x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o,
        "tanh_c": tanh_c, "weight_ih": weight_ih, "weight_hh": weight_hh,
    }  # fmt: skip
    return h, c, cache


def lstm_step_backward(dh, dc, cache):
    """Backward pass of :func:`lstm_step_forward`.

    Parameters
    ----------
    dh, dc : ndarray (B, H)
        Gradients of the loss with respect to ``h`` and ``c`` (``dc`` from the future only).
    cache : dict
        From :func:`lstm_step_forward`.

    Returns
    -------
    dict
        ``x`` (B, D), ``h_prev``, ``c_prev`` (B, H) and the four parameter gradients.

    Equations::

        dc_total = dc + dh ⊙ o ⊙ (1 - tanh²(c))
        di, df, dg, do = dc_total ⊙ g, dc_total ⊙ c_prev, dc_total ⊙ i, dh ⊙ tanh(c)
        dc_prev  = dc_total ⊙ f          (the constant error carousel)
        da       = [di ⊙ i(1-i); df ⊙ f(1-f); dg ⊙ (1-g²); do ⊙ o(1-o)]
        dh_prev  = W_hhᵀ da,   dx = W_ihᵀ da
    """
    x, h_prev, c_prev = cache["x"], cache["h_prev"], cache["c_prev"]
    i, f, g, o, tanh_c = cache["i"], cache["f"], cache["g"], cache["o"], cache["tanh_c"]
    weight_ih, weight_hh = cache["weight_ih"], cache["weight_hh"]
    dc_total = dc + dh * o * (1.0 - tanh_c**2)  # the highway plus the path through h
    do = dh * tanh_c  # h = o ⊙ tanh(c)
    di = dc_total * g  # c = f ⊙ c_prev + i ⊙ g
    df = dc_total * c_prev
    dg = dc_total * i
    dc_prev = dc_total * f  # the constant error carousel
    da_i = di * i * (1.0 - i)  # σ' from the output
    da_f = df * f * (1.0 - f)
    da_g = dg * (1.0 - g**2)  # tanh' from the output
    da_o = do * o * (1.0 - o)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=-1)  # (B, 4H), PyTorch's order
    dx = da @ weight_ih
    dh_prev = da @ weight_hh  # every gate read h_prev
    dW_ih = da.T @ x
    dW_hh = da.T @ h_prev
    db_ih = da.sum(axis=0)
    db_hh = da.sum(axis=0)
    return {
        "x": dx, "h_prev": dh_prev, "c_prev": dc_prev,
        "weight_ih": dW_ih, "weight_hh": dW_hh, "bias_ih": db_ih, "bias_hh": db_hh,
    }  # fmt: skip
