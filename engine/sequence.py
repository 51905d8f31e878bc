"""Whole sequences: parameters, the forward unroll, BPTT and exact Jacobian norms.

The public contract is ``shared/ENGINE_API.md``. Time runs over the rows (``xs`` (T, D)); a
leading batch axis (B, T, D) is accepted too and every result array gains it. Internally every
loop is time-major (T, B, ...) and runs over time once in Python; everything else is one
vectorised NumPy operation over all steps (the input projection before the loop, the weight
and input gradients after it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cells import CORES, GATES, GRAD_LIMIT, NONLINEARITIES
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
    acts: np.ndarray = field(repr=False, default=None)  # (T, B, G*H) gate activations
    aux: np.ndarray | None = field(repr=False, default=None)  # gru W_hn h + b_hn, lstm tanh(c)

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
    """Exact BPTT gradients of L = Σ_t <dL_dh[t], h_t> (read-only arrays).

    Attributes
    ----------
    h : ndarray (T, H)
        Total dL/dh_t: the direct gradient plus everything flowing back from step t+1.
    c : ndarray (T, H) or None
        Total dL/dc_t (lstm), including the path through h_t = o_t ⊙ tanh(c_t).
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
    zero_bias : bool
        All biases zero (applied before ``forget_bias``).

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
    if not np.isfinite(recurrent_scale) or (
        forget_bias is not None and not np.isfinite(forget_bias)
    ):
        raise InputError("The recurrent scale and the forget bias must be finite numbers.")
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


def forward(cell, params, xs, *, h0=None, c0=None, nonlinearity="tanh") -> Trace:
    """Unroll a cell over a sequence, recording every gate and state.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    params : dict
        From :func:`init_params` (or PyTorch's ``*_l0`` tensors, renamed without the suffix).
    xs : array_like (T, D) or (B, T, D)
    h0, c0 : array_like (H,) or (B, H), optional
        Initial states (zeros by default; c0 only for lstm).
    nonlinearity : {"tanh", "relu"}
        The RNN's activation.

    Returns
    -------
    Trace
    """
    _check_cell(cell)
    if nonlinearity not in NONLINEARITIES:
        raise InputError(f"Unknown nonlinearity {nonlinearity!r}: choose tanh or relu.")
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

    core_forward = CORES[cell][0]
    W_hh, b_hh, relu = params["weight_hh"], params["bias_hh"], nonlinearity == "relu"
    GI = X @ params["weight_ih"].T + params["bias_ih"]  # every input projected in one matmul
    hs = np.empty((T, B, H))
    cs = np.empty((T, B, H)) if cell == "lstm" else None
    acts = np.empty((T, B, GI.shape[-1]))
    aux = np.empty((T, B, H)) if cell != "rnn" else None
    for t in range(T):
        h_prev, c_prev, acts[t], a = core_forward(GI[t], h_prev, c_prev, W_hh, b_hh, relu)
        hs[t] = h_prev
        if cs is not None:
            cs[t] = c_prev
        if aux is not None:
            aux[t] = a

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
        h0=initial(h_init), c0=initial(c_init), nonlinearity=nonlinearity,
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


def _bptt(trace, dH, K):
    """Backpropagate through time once, yielding each step's gradients from T-1 down to 0.

    dH(t) gives the (K, H) direct gradient on h_t for K seeds: K = B for a batched trace; an
    unbatched trace may carry many seeds at once (the H rows of a Jacobian), broadcast against
    its (1, ...) per-step records. Yields (t, dh, dc, dgi, dgh, dh_prev, dc_prev): the total
    dL/dh_t and dL/dc_t, the pre-activation gradients, and what flows on to step t-1.
    """
    core_backward = CORES[trace.cell][1]
    W_hh, relu, H = trace.params["weight_hh"], trace.nonlinearity == "relu", trace.H
    h_prev_all = _previous(trace, trace.h, trace.h0)
    c_prev_all = _previous(trace, trace.c, trace.c0) if trace.cell == "lstm" else None
    acts, aux = trace.acts, trace.aux
    dh_prev = np.zeros((K, H))
    dc_prev = np.zeros((K, H)) if trace.cell == "lstm" else None
    for t in range(trace.T - 1, -1, -1):
        dh = dH(t) + dh_prev  # direct gradient plus what flows back from step t+1
        dh_prev, dc_out, dgi, dgh = core_backward(
            dh, dc_prev, h_prev_all[t], None if c_prev_all is None else c_prev_all[t],
            acts[t], None if aux is None else aux[t], W_hh, relu,
        )  # fmt: skip
        np.clip(dh_prev, -GRAD_LIMIT, GRAD_LIMIT, out=dh_prev)  # explode to a finite limit
        dc = None
        if dc_out is not None:
            dc_prev, dc = dc_out
            np.clip(dc_prev, -GRAD_LIMIT, GRAD_LIMIT, out=dc_prev)
        yield t, dh, dc, dgi, dgh, dh_prev, dc_prev


def backward(trace: Trace, dL_dh) -> Grads:
    """Exact backpropagation through time.

    Parameters
    ----------
    trace : Trace
        From :func:`forward`.
    dL_dh : array_like (T, H) or (B, T, H)
        Direct gradient of the loss on each h_t (zeros except the last row for a loss on the
        last step only).

    Returns
    -------
    Grads
        Gradients of L = Σ_t <dL_dh[t], h_t> with respect to every state, input, initial state
        and parameter.

    Notes
    -----
    The loop over time computes only the recurrent matmul per step; the gradients of the input
    and recurrent pre-activations are stacked, so dL/dx and the weight gradients are each one
    matmul over all steps (and the whole batch) afterwards.
    """
    dL_dh = np.asarray(dL_dh, dtype=np.float64)
    if dL_dh.shape != trace.h.shape:
        raise InputError(f"dL_dh has shape {dL_dh.shape}; expected {trace.h.shape} like trace.h.")
    if not np.all(np.isfinite(dL_dh)):
        raise InputError("dL_dh contains NaN or infinite values.")
    dH = _time_major(trace, dL_dh)
    T, K, H = dH.shape
    dh_total = np.empty((T, K, H))
    dc_total = np.empty((T, K, H)) if trace.cell == "lstm" else None
    dGI = np.empty((T, K, trace.acts.shape[-1]))  # stacked pre-activation gradients
    dGH = np.empty_like(dGI) if trace.cell == "gru" else dGI  # differ only in the gru
    dh0 = dc0 = None
    for t, dh, dc, dgi, dgh, dh0, dc0 in _bptt(trace, dH.__getitem__, K):  # noqa: B007
        dh_total[t], dGI[t] = dh, dgi
        if dGH is not dGI:
            dGH[t] = dgh
        if dc is not None:
            dc_total[t] = dc
    h_prev_all = _previous(trace, trace.h, trace.h0)
    X = _time_major(trace, trace.xs)
    p = trace.params
    GH = dGI.shape[-1]
    flat_gi, flat_gh = dGI.reshape(-1, GH), dGH.reshape(-1, GH)
    params = {
        "weight_ih": flat_gi.T @ X.reshape(-1, X.shape[-1]),  # Σ_t,b dgi ⊗ x
        "weight_hh": flat_gh.T @ h_prev_all.reshape(-1, trace.H),  # Σ_t,b dgh ⊗ h_prev
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


def _matrix_norms(J, ord):
    """Norms of a stack of matrices (N, m, n), safe from overflow for huge entries."""
    if ord == "fro":
        scale = np.max(np.abs(J), axis=(1, 2), initial=0.0)
        safe = np.where(scale > 0, scale, 1.0)
        return scale * np.sqrt(np.sum((J / safe[:, None, None]) ** 2, axis=(1, 2)))
    return np.linalg.svd(J, compute_uv=False)[:, 0]  # LAPACK scales internally


def _unbatched(trace, b):
    sl = lambda a: None if a is None else a[b]  # noqa: E731
    return Trace(
        cell=trace.cell, h=sl(trace.h), c=sl(trace.c),
        gates={k: v[b] for k, v in trace.gates.items()}, xs=sl(trace.xs), params=trace.params,
        h0=sl(trace.h0), c0=sl(trace.c0), nonlinearity=trace.nonlinearity,
        acts=trace.acts[:, b : b + 1], aux=None if trace.aux is None else trace.aux[:, b : b + 1],
    )  # fmt: skip


def jacobian_norms(trace: Trace, wrt: str = "h", ord=2) -> np.ndarray:
    """Norms of the exact Jacobians of the last hidden state with respect to each step.

    Parameters
    ----------
    trace : Trace
    wrt : {"h", "x"}
        Entry t is ‖∂h_{T-1}/∂h_t‖ (for the lstm with c_t held fixed: the partial BPTT
        propagates) or ‖∂h_{T-1}/∂x_t‖, with 0-based t.
    ord : {2, "fro"}
        Spectral or Frobenius norm.

    Returns
    -------
    ndarray (T,) or (B, T)
        Entry T-1 for ``wrt="h"`` is 1 (the identity).

    Notes
    -----
    All H rows of the Jacobian are propagated back together, as H seeds of one BPTT pass:
    one (H, G*H) @ (G*H, H) product per step instead of H separate backward passes.
    """
    if wrt not in ("h", "x"):
        raise InputError(f"wrt must be 'h' or 'x', not {wrt!r}.")
    if ord not in (2, "fro"):
        raise InputError(f"ord must be 2 or 'fro', not {ord!r}.")
    if trace.batched:
        return np.stack(
            [jacobian_norms(_unbatched(trace, b), wrt, ord) for b in range(len(trace.xs))]
        )
    T, H = trace.T, trace.H
    eye, zero = np.eye(H), np.zeros((H, H))
    W_ih = trace.params["weight_ih"]
    norms = np.empty(T)
    chunk = []  # Jacobians waiting for one batched norm computation (bounded memory)
    for t, dh, _, dgi, _, _, _ in _bptt(trace, lambda t: eye if t == T - 1 else zero, H):
        # row k of dh is ∂h_{T-1}[k]/∂h_t, of dgi @ W_ih is ∂h_{T-1}[k]/∂x_t
        chunk.append(dh if wrt == "h" else dgi @ W_ih)
        if len(chunk) == 128 or t == 0:
            norms[t : t + len(chunk)] = _matrix_norms(np.stack(chunk[::-1]), ord)
            chunk = []
    return _readonly(norms)
