"""Whole sequences: parameters, the forward unroll, BPTT and exact Jacobian norms.

The public contract is ``shared/ENGINE_API.md``. Time runs over the rows (``xs`` (T, D)); a
leading batch axis (B, T, D) is accepted too and every result array gains it. Internally every
loop is time-major (T, B, ...) and runs over time once in Python; everything else is one
vectorised NumPy operation over all steps (the input projection before the loop, the local
derivatives before the backward loop, the weight and input gradients after it). The loops
write every step into preallocated (T, ...) arrays: no per-step allocation or copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cells import (
    CORES,
    GATES,
    GRAD_LIMIT,
    GRU_RESETS,
    NONLINEARITIES,
    _clip_gradient,
    forward_records,
    input_gradient,
    kernel,
    weight_hh_gradient,
)
from .errors import InputError

CELLS = tuple(GATES)
RECURRENT_INITS = ("uniform", "orthogonal", "identity", "normal")
PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _readonly(a):
    if a is not None:
        a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Trace:
    """Everything one forward pass computed, gate by gate and step by step (read-only arrays).

    Attributes
    ----------
    cell : {"rnn", "gru", "lstm"}
    h : ndarray (T, H)
        Hidden states h_1..h_T (row t is the state after input t).
    c : ndarray (T, H) or None
        LSTM cell states; None for rnn and gru.
    gates : dict[str, ndarray (T, H)]
        gru ``r``, ``z``, ``n``; lstm ``i``, ``f``, ``g``, ``o``; empty for rnn.
    xs : ndarray (T, D)
    params : dict[str, ndarray]
    h0, c0 : ndarray (H,)
        Initial states (c0 is None except for lstm).
    nonlinearity : {"tanh", "relu"}
        The RNN's activation (ignored by gru and lstm).
    gru_reset : {"after", "before"}
        Where the GRU's reset gate acts (ignored by rnn and lstm): ``"after"`` the recurrent
        product (PyTorch), ``"before"`` it, on h_{t-1} (Cho et al. 2014). See :func:`forward`.

    With a batch, every array above gains a leading axis B.
    """

    cell: str
    h: np.ndarray
    c: np.ndarray | None
    gates: dict
    xs: np.ndarray
    params: dict
    h0: np.ndarray
    c0: np.ndarray | None
    nonlinearity: str = "tanh"
    gru_reset: str = "after"
    acts: np.ndarray = field(repr=False, default=None)  # (T, B, G*H) gate activations
    aux: np.ndarray | None = field(repr=False, default=None)  # gru W_hh h + b_hh, lstm tanh(c)

    @property
    def kernel(self) -> str:
        """The key of ``engine.cells.CORES`` that ran this trace: the cell's name, or
        ``"gru_before"`` for a GRU with ``gru_reset="before"``."""
        return kernel(self.cell, self.gru_reset)

    @property
    def batched(self) -> bool:
        return self.xs.ndim == 3

    @property
    def T(self) -> int:
        return self.xs.shape[-2]

    @property
    def H(self) -> int:
        return self.params["weight_hh"].shape[1]

    @property
    def D(self) -> int:
        return self.xs.shape[-1]

    @property
    def overflow(self) -> bool:
        """True when a ReLU-RNN state reached the saturation limit (the run exploded)."""
        from .cells import STATE_LIMIT

        return bool(np.max(np.abs(self.h), initial=0.0) >= STATE_LIMIT)


@dataclass(frozen=True, eq=False)
class Grads:
    """Exact BPTT gradients of L = Σ_t <dL_dh[t], h_t> + Σ_t <dL_dc[t], c_t> (read-only arrays).

    Attributes
    ----------
    h : ndarray (T, H)
        Total dL/dh_t: the direct gradient plus everything flowing back from step t+1.
    c : ndarray (T, H) or None
        Total dL/dc_t (lstm), including the path through h_t = o_t ⊙ tanh(c_t) and the direct
        gradient dL_dc[t] when one was given.
    x : ndarray (T, D)
        dL/dx_t.
    params : dict[str, ndarray]
        Same keys and shapes as the parameters.
    h0, c0 : ndarray (H,)
        dL/dh_0 and dL/dc_0 (c0 is None except for lstm).
    """

    h: np.ndarray
    c: np.ndarray | None
    x: np.ndarray
    params: dict
    h0: np.ndarray
    c0: np.ndarray | None

    @property
    def saturated(self) -> bool:
        """True when a gradient reached GRAD_LIMIT (it exploded past float range)."""
        return bool(np.max(np.abs(self.h), initial=0.0) >= GRAD_LIMIT)


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


def _check_cell(cell):
    if cell not in CELLS:
        raise InputError(f"Unknown cell {cell!r}: choose one of {', '.join(CELLS)}.")


def _recurrent_block(rng, init, H, k):
    if init == "uniform":
        return rng.uniform(-k, k, size=(H, H))
    if init == "orthogonal":
        q, r = np.linalg.qr(rng.standard_normal((H, H)))
        return q * np.sign(np.diag(r))  # Haar-distributed orthogonal matrix
    if init == "identity":
        return np.eye(H)
    return rng.standard_normal((H, H)) / np.sqrt(H)  # "normal": spectral radius ≈ 1


def init_params(
    cell: str,
    input_size: int,
    hidden_size: int,
    *,
    seed: int = 0,
    recurrent_init: str = "uniform",
    recurrent_scale: float = 1.0,
    forget_bias: float | None = None,
    update_bias: float | None = None,
    zero_bias: bool = False,
) -> dict:
    """Parameters in PyTorch's names and layout, deterministic for a given seed.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    input_size, hidden_size : int
        D and H.
    seed : int
        Seed of the generator; the same seed gives the same parameters.
    recurrent_init : {"uniform", "orthogonal", "identity", "normal"}
        Initialisation of each H×H gate block of ``weight_hh``: PyTorch's U(-1/√H, 1/√H)
        (default), a random orthogonal matrix, the identity (Le et al. 2015, for a ReLU RNN),
        or N(0, 1/H) (a "scaled normal" whose spectral radius is about 1).
    recurrent_scale : float
        Multiplies ``weight_hh`` (0 switches the recurrence off; > 1 pushes towards explosion).
    forget_bias : float or None
        LSTM only: the forget gate's total bias (``bias_ih`` f-block set to it, ``bias_hh``
        f-block to 0). None keeps PyTorch's uniform draw.
    update_bias : float or None
        GRU only: the update gate's total bias (``bias_ih`` z-block set to it, ``bias_hh``
        z-block to 0). Large values keep z_t near 1, so h_t ≈ h_{t-1}: the state is kept.
        None keeps PyTorch's uniform draw.
    zero_bias : bool
        All biases zero (applied before ``forget_bias`` and ``update_bias``).

    Returns
    -------
    dict
        ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih`` (G*H,), ``bias_hh`` (G*H,).
    """
    _check_cell(cell)
    if recurrent_init not in RECURRENT_INITS:
        choices = ", ".join(RECURRENT_INITS)
        raise InputError(f"Unknown recurrent init {recurrent_init!r}: choose one of {choices}.")
    D, H = int(input_size), int(hidden_size)
    if D < 1 or H < 1:
        raise InputError("The input size and the hidden size must both be at least 1.")
    if not np.isfinite(recurrent_scale) or any(
        b is not None and not np.isfinite(b) for b in (forget_bias, update_bias)
    ):
        raise InputError(
            "The recurrent scale, the forget bias and the update bias must be finite numbers."
        )
    G = len(GATES[cell])
    k = 1.0 / np.sqrt(H)
    rng = np.random.default_rng(seed)
    params = {
        "weight_ih": rng.uniform(-k, k, size=(G * H, D)),
        "weight_hh": np.concatenate(
            [_recurrent_block(rng, recurrent_init, H, k) for _ in range(G)]
        ),
        "bias_ih": rng.uniform(-k, k, size=G * H),
        "bias_hh": rng.uniform(-k, k, size=G * H),
    }
    params["weight_hh"] *= recurrent_scale
    if zero_bias:
        params["bias_ih"][:] = 0.0
        params["bias_hh"][:] = 0.0
    if cell == "lstm" and forget_bias is not None:
        params["bias_ih"][H : 2 * H] = forget_bias
        params["bias_hh"][H : 2 * H] = 0.0
    if cell == "gru" and update_bias is not None:  # gate order r, z, n: z is the second block
        params["bias_ih"][H : 2 * H] = update_bias
        params["bias_hh"][H : 2 * H] = 0.0
    return params


def _check_params(cell, params, D):
    missing = [name for name in PARAM_NAMES if name not in params]
    if missing:
        raise InputError(f"Parameters are missing {', '.join(missing)}.")
    GH, H = np.shape(params["weight_hh"])
    expected = {"weight_ih": (GH, D), "weight_hh": (GH, H), "bias_ih": (GH,), "bias_hh": (GH,)}
    if GH != len(GATES[cell]) * H:
        raise InputError(
            f"weight_hh has {GH} rows; a {cell} with H={H} needs {len(GATES[cell]) * H}."
        )
    for name, shape in expected.items():
        if np.shape(params[name]) != shape:
            raise InputError(f"{name} has shape {np.shape(params[name])}; expected {shape}.")
    return {name: np.asarray(params[name], dtype=np.float64) for name in PARAM_NAMES}, H


# --------------------------------------------------------------------------------------------
# Forward
# --------------------------------------------------------------------------------------------


def _initial_state(s, B, H, name, batched):
    if s is None:
        return np.zeros((B, H))
    s = np.asarray(s, dtype=np.float64)
    want = (B, H) if batched else (H,)
    if s.shape != want:
        raise InputError(f"{name} has shape {s.shape}; expected {want}.")
    if not np.all(np.isfinite(s)):
        raise InputError(f"{name} contains NaN or infinite values.")
    return s.reshape(B, H)


def forward(cell, params, xs, *, h0=None, c0=None, nonlinearity="tanh", gru_reset="after") -> Trace:
    """Unroll a cell over a sequence, recording every gate and state.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    params : dict
        From :func:`init_params` (or PyTorch's ``*_l0`` tensors, renamed without the suffix:
        ``engine.convert.from_pytorch``).
    xs : array_like (T, D) or (B, T, D)
    h0, c0 : array_like (H,) or (B, H), optional
        Initial states (zeros by default; c0 only for lstm).
    nonlinearity : {"tanh", "relu"}
        The RNN's activation (ignored by gru and lstm).
    gru_reset : {"after", "before"}
        Where the GRU's reset gate acts; the same parameter names, shapes and gate order
        (r, z, n) in both, but two different models (ignored by rnn and lstm, like
        ``nonlinearity`` by the gated cells; an unknown value is an error for every cell)::

            "after"  (PyTorch, Keras reset_after=True; the default):
                n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
            "before" (Cho et al. 2014, colah, d2l, deeplearning.ai, Keras reset_after=False):
                n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t-1}) + b_hn)

        r_t, z_t and h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1} are the same in both.

    Returns
    -------
    Trace
        Records the variant (``Trace.gru_reset``), so :func:`backward` and
        :func:`jacobian_norms` differentiate the model that ran.
    """
    _check_cell(cell)
    if nonlinearity not in NONLINEARITIES:
        raise InputError(f"Unknown nonlinearity {nonlinearity!r}: choose tanh or relu.")
    if gru_reset not in GRU_RESETS:
        raise InputError(
            f"Unknown gru_reset {gru_reset!r}: choose 'after' (PyTorch: r scales W_hn h + b_hn) "
            "or 'before' (Cho 2014: W_hn reads r ⊙ h)."
        )
    xs = np.array(xs, dtype=np.float64)  # a private copy
    if xs.ndim not in (2, 3) or xs.shape[-2] < 1 or xs.shape[-1] < 1:
        raise InputError(
            f"Inputs must have shape (T, D) or (B, T, D) with T, D ≥ 1; got {xs.shape}."
        )
    if not np.all(np.isfinite(xs)):
        raise InputError("The inputs contain NaN or infinite values.")
    batched = xs.ndim == 3
    X = xs.swapaxes(0, 1) if batched else xs[:, None, :]  # (T, B, D) view
    T, B, D = X.shape
    params, H = _check_params(cell, params, D)
    h_prev = _initial_state(h0, B, H, "h0", batched)
    c_prev = _initial_state(c0, B, H, "c0", batched) if cell == "lstm" else None
    if cell != "lstm" and c0 is not None:
        raise InputError(f"c0 only exists for the lstm, not the {cell}.")
    h_init, c_init = h_prev, c_prev

    core_forward = CORES[kernel(cell, gru_reset)][0]
    W_hh, b_hh, relu = params["weight_hh"], params["bias_hh"], nonlinearity == "relu"
    GI = X @ params["weight_ih"].T + params["bias_ih"]  # every input projected in one matmul
    hs, cs, acts, aux = forward_records(cell, (T, B), H)  # the core writes each step into them
    for t in range(T):
        out = (hs[t], None if cs is None else cs[t], acts[t], None if aux is None else aux[t])
        core_forward(GI[t], h_prev, c_prev, W_hh, b_hh, relu, out)
        h_prev, c_prev = out[0], out[1]

    def public(a):  # (T, B, ...) -> (T, ...) or (B, T, ...)
        return None if a is None else _readonly(a.swapaxes(0, 1) if batched else a[:, 0])

    def initial(s):
        return None if s is None else _readonly(s.copy() if batched else s[0].copy())

    gates = {
        name: public(acts[..., k * H : (k + 1) * H]) for k, name in enumerate(GATES[cell])
    } if cell != "rnn" else {}  # fmt: skip
    return Trace(
        cell=cell, h=public(hs), c=public(cs), gates=gates, xs=_readonly(xs),
        params={k: _readonly(v.copy()) for k, v in params.items()},
        h0=initial(h_init), c0=initial(c_init), nonlinearity=nonlinearity, gru_reset=gru_reset,
        acts=_readonly(acts), aux=_readonly(aux),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Backward
# --------------------------------------------------------------------------------------------


def _time_major(trace, a):
    """A public (T, ...) or (B, T, ...) array as a time-major (T, B, ...) view."""
    return a.swapaxes(0, 1) if trace.batched else a[:, None]


def _previous(trace, states, initial):
    """(T, B, H) states of the previous step: [s_0, s_1, .., s_{T-1}]."""
    s0 = (initial if trace.batched else initial[None])[None]
    return np.concatenate([s0, _time_major(trace, states)[:-1]])


def _local_derivatives(trace):
    """(T, B, H) previous states and every step's local derivatives, computed all at once."""
    h_prev = _previous(trace, trace.h, trace.h0)
    c_prev = _previous(trace, trace.c, trace.c0) if trace.cell == "lstm" else None
    local = CORES[trace.kernel][1]
    return h_prev, local(h_prev, c_prev, trace.acts, trace.aux, trace.nonlinearity == "relu")


def _bptt(trace, loc, dH, K, records=None, dC=None):
    """Backpropagate through time once, yielding after each step from T-1 down to 0.

    loc: every step's local derivatives (:func:`_local_derivatives`). dH(t) gives the (K, H)
    direct gradient on h_t for K seeds: K = B for a batched trace; an unbatched trace may carry
    many seeds at once (the H rows of a Jacobian), broadcast against its (1, ...) per-step
    records. ``records`` = (dh, dc, dgh): (T, K, ...) arrays that receive every step's total
    dL/dh_t, dL/dc_t (lstm; else None) and recurrent pre-activation gradient; None keeps only
    the current step (the caller consumes each one as it is yielded). dC(t) (lstm, optional)
    gives the (K, H) direct gradient on c_t.

    Yields (t, dh, dc, dgh, loc_t, dh_prev, dc_prev): the step's gradients and local
    derivatives, and what flows on to step t-1 (after step 0: dL/dh_0 and dL/dc_0).
    """
    cell, T, H = trace.cell, trace.T, trace.H
    core_backward, W_hh = CORES[trace.kernel][2], trace.params["weight_hh"]
    lstm = cell == "lstm"
    if records is None:  # one step's worth, overwritten by every step
        GH = trace.acts.shape[-1]
        records = np.empty((1, K, H)), np.empty((1, K, H)) if lstm else None, np.empty((1, K, GH))
    dh_rec, dc_rec, dgh_rec = records
    keep = len(dh_rec) == T
    steps = list(zip(*loc, strict=True))  # per-step views of the local derivatives
    state = np.zeros((2 if lstm else 1, K, H))  # what flows back: dh_prev (and dc_prev)
    dh_prev, dc_prev = state[0], state[1] if lstm else None
    for t in range(T - 1, -1, -1):
        i = t if keep else 0
        dh = np.add(dH(t), dh_prev, out=dh_rec[i])  # direct gradient plus what flows from t+1
        dc = None if dc_rec is None else dc_rec[i]
        if dC is not None:  # the loss's own gradient on c_t joins what flows from c_{t+1}
            dc_prev += dC(t)
        core_backward(dh, dc_prev, steps[t], W_hh, (dh_prev, dc_prev, dgh_rec[i], dc))
        _clip_gradient(state)  # explode to a finite limit
        yield t, dh, dc, dgh_rec[i], steps[t], dh_prev, dc_prev


def backward(trace: Trace, dL_dh, dL_dc=None) -> Grads:
    """Exact backpropagation through time.

    Parameters
    ----------
    trace : Trace
        From :func:`forward` (any cell and variant: the GRU's ``gru_reset`` is read from it).
    dL_dh : array_like (T, H) or (B, T, H)
        Direct gradient of the loss on each h_t (zeros except the last row for a loss on the
        last step only).
    dL_dc : array_like (T, H) or (B, T, H), optional
        LSTM only: direct gradient of the loss on each cell state c_t (for a loss on c_T, as in
        deeplearning.ai's ``lstm_cell_backward``). None is zeros; any other cell raises.

    Returns
    -------
    Grads
        Gradients of L = Σ_t <dL_dh[t], h_t> + Σ_t <dL_dc[t], c_t> with respect to every
        state, input, initial state and parameter.

    Notes
    -----
    The loop over time computes only what needs the incoming gradient: each step's local
    derivatives (gate slopes) are computed for all steps at once before it, and the gradients
    of the input and recurrent pre-activations are stacked, so dL/dx and the weight gradients
    are each one matmul over all steps (and the whole batch) afterwards.
    """
    dL_dh = np.asarray(dL_dh, dtype=np.float64)
    if dL_dh.shape != trace.h.shape:
        raise InputError(f"dL_dh has shape {dL_dh.shape}; expected {trace.h.shape} like trace.h.")
    if not np.all(np.abs(dL_dh) <= GRAD_LIMIT):  # also catches NaN and inf
        raise InputError(f"dL_dh must be finite with magnitudes at most {GRAD_LIMIT:g}.")
    dC = None
    if dL_dc is not None:
        if trace.cell != "lstm":
            raise InputError(
                f"dL_dc is a gradient on the LSTM's cell states; a {trace.cell} has none."
            )
        dL_dc = np.asarray(dL_dc, dtype=np.float64)
        if dL_dc.shape != trace.c.shape:
            raise InputError(
                f"dL_dc has shape {dL_dc.shape}; expected {trace.c.shape} like trace.c."
            )
        if not np.all(np.abs(dL_dc) <= GRAD_LIMIT):  # also catches NaN and inf
            raise InputError(f"dL_dc must be finite with magnitudes at most {GRAD_LIMIT:g}.")
        dC = _time_major(trace, dL_dc).__getitem__
    dH = _time_major(trace, dL_dh)
    T, K, H = dH.shape
    h_prev_all, loc = _local_derivatives(trace)
    dh_total = np.empty((T, K, H))
    dc_total = np.empty((T, K, H)) if trace.cell == "lstm" else None
    dGH = np.empty((T, K, trace.acts.shape[-1]))  # stacked recurrent pre-activation gradients
    dh0 = dc0 = None
    records = (dh_total, dc_total, dGH)
    for _, _, _, _, _, dh0, dc0 in _bptt(trace, loc, dH.__getitem__, K, records, dC):  # noqa: B007
        pass
    dGI = input_gradient(trace.kernel, dh_total, dGH, loc)  # the same array except in the gru
    X = _time_major(trace, trace.xs)
    p = trace.params
    GH = dGI.shape[-1]
    flat_gi, flat_gh = dGI.reshape(-1, GH), dGH.reshape(-1, GH)
    params = {
        "weight_ih": flat_gi.T @ X.reshape(-1, X.shape[-1]),  # Σ_t,b dgi ⊗ x
        "weight_hh": weight_hh_gradient(trace.kernel, dGH, h_prev_all, trace.acts),
        "bias_ih": flat_gi.sum(axis=0),
        "bias_hh": flat_gh.sum(axis=0),
    }
    dX = dGI @ p["weight_ih"]

    def public(a):
        return None if a is None else _readonly(a.swapaxes(0, 1) if trace.batched else a[:, 0])

    def initial(s):
        return None if s is None else _readonly(s if trace.batched else s[0])

    return Grads(
        h=public(dh_total), c=public(dc_total), x=public(dX),
        params={k: _readonly(v) for k, v in params.items()}, h0=initial(dh0), c0=initial(dc0),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Jacobian norms
# --------------------------------------------------------------------------------------------


def matrix_norms(J, ord=2):
    """Norms of a stack of matrices (N, m, n), safe from overflow and underflow for any entries.

    Each matrix is first scaled by a power of two (exact) to entries of at most 1. The spectral
    norm is √λ_max of the smaller Gram matrix (J Jᵀ or Jᵀ J, symmetric: LAPACK's eigvalsh, a
    few times cheaper than an SVD and accurate to a few ulps for the largest value).
    """
    exponent = np.frexp(np.max(np.abs(J), axis=(1, 2), initial=0.0))[1]  # max|J| < 2^exponent
    J = np.ldexp(J, -exponent[:, None, None])
    if ord == "fro":
        norm = np.sqrt(np.sum(J**2, axis=(1, 2)))
    else:
        gram = J @ J.swapaxes(1, 2) if J.shape[1] <= J.shape[2] else J.swapaxes(1, 2) @ J
        norm = np.sqrt(np.maximum(np.linalg.eigvalsh(gram)[:, -1], 0.0))
    return np.ldexp(norm, exponent)


def _unbatched(trace, b):
    sl = lambda a: None if a is None else a[b]  # noqa: E731
    return Trace(
        cell=trace.cell, h=sl(trace.h), c=sl(trace.c),
        gates={k: v[b] for k, v in trace.gates.items()}, xs=sl(trace.xs), params=trace.params,
        h0=sl(trace.h0), c0=sl(trace.c0), nonlinearity=trace.nonlinearity,
        gru_reset=trace.gru_reset, acts=trace.acts[:, b : b + 1],
        aux=None if trace.aux is None else trace.aux[:, b : b + 1],
    )  # fmt: skip


def jacobian_norms(
    trace: Trace, wrt: str = "h", ord=2, *, max_lag: int | None = None
) -> np.ndarray:
    """Norms of the exact Jacobians of the last hidden state with respect to each step.

    Parameters
    ----------
    trace : Trace
    wrt : {"h", "x"}
        Entry t is ‖∂h_{T-1}/∂h_t‖ (for the lstm with c_t held fixed: the partial BPTT
        propagates) or ‖∂h_{T-1}/∂x_t‖, with 0-based t.
    ord : {2, "fro"}
        Spectral or Frobenius norm.
    max_lag : int, optional
        Compute only the lags 0..max_lag (the most recent steps), stopping the backward pass
        there: the cost grows with the number of lags times H³.

    Returns
    -------
    ndarray (T,) or (B, T)
        Entry T-1 for ``wrt="h"`` is 1 (the identity) for ``ord=2``. With ``max_lag`` the
        length is n = min(T, max_lag + 1) and entry i is step t = T - n + i.

    Notes
    -----
    All H rows of the Jacobian are propagated back together, as H seeds of one BPTT pass:
    one (H, G*H) @ (G*H, H) product per step instead of H separate backward passes.
    """
    if wrt not in ("h", "x"):
        raise InputError(f"wrt must be 'h' or 'x', not {wrt!r}.")
    if ord not in (2, "fro"):
        raise InputError(f"ord must be 2 or 'fro', not {ord!r}.")
    if max_lag is not None and (
        isinstance(max_lag, bool) or int(max_lag) != max_lag or max_lag < 0
    ):
        raise InputError(f"max_lag must be a whole number ≥ 0, not {max_lag!r}.")
    if trace.batched:
        return np.stack(
            [
                jacobian_norms(_unbatched(trace, b), wrt, ord, max_lag=max_lag)
                for b in range(len(trace.xs))
            ]
        )
    T, H, kernel_key = trace.T, trace.H, trace.kernel
    first = 0 if max_lag is None else max(0, T - 1 - int(max_lag))  # the oldest step computed
    eye, zero = np.eye(H), np.zeros((H, H))
    W_ih = trace.params["weight_ih"]
    _, loc = _local_derivatives(trace)
    norms = np.empty(T - first)
    chunk = []  # Jacobians waiting for one batched norm computation (bounded memory)
    for t, dh, _, dgh, loc_t, _, _ in _bptt(trace, loc, lambda t: eye if t == T - 1 else zero, H):
        # row k of dh is ∂h_{T-1}[k]/∂h_t, of dgi @ W_ih is ∂h_{T-1}[k]/∂x_t
        chunk.append(dh.copy() if wrt == "h" else input_gradient(kernel_key, dh, dgh, loc_t) @ W_ih)
        if len(chunk) == 128 or t == first:
            i = t - first
            norms[i : i + len(chunk)] = matrix_norms(np.stack(chunk[::-1]), ord)
            chunk = []
        if t == first:
            break
    return _readonly(norms)
