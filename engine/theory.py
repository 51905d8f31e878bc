"""Teaching quantities: pure functions of a Trace (and its Grads) that explain the gradient curves.

Why does the vanilla RNN's gradient vanish or explode while the gated cells keep it? Each
function here computes one piece of that story from a :class:`~engine.sequence.Trace`:

- the recurrent spectrum (σ_max and spectral radius of each H×H gate block of ``weight_hh``);
- the Pascanu–Mikolov–Bengio (2013) bound ‖∂h_{T-1}/∂h_t‖₂ ≤ (γ σ_max(W_hh))^(T-1-t) and the
  tighter product of the RNN's per-step factors ‖diag(act'(a_s)) W_hh‖₂;
- the LSTM's constant error carousel (dL/dc carried back through Π f) and the GRU's direct path
  (dL/dh carried back through Π z, PyTorch's convention h = (1 - z) ⊙ n + z ⊙ h_prev);
- how many units of each gate are saturated at each step;
- the loss seed the pages use for "‖dL/dh_t‖ for a loss on the last step".

Shapes: every function accepts a single-sequence trace (arrays (T, H)) or a batched one
((B, T, H)); time results are (T,) or (B, T), per-unit results (T, H) or (B, T, H). No function
emits a RuntimeWarning: powers and products that would overflow are computed in log space and
reported as ``inf``; products of gates in [0, 1] may underflow to 0, which numpy does silently.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .cells import GATES
from .errors import InputError
from .sequence import Grads, Trace, matrix_norms

SIGMOID_SATURATION = 0.05
"""A sigmoid gate is saturated below this value or above 1 minus it."""

TANH_SATURATION = 0.95
"""A tanh output (GRU n, LSTM g, the tanh RNN's h) is saturated when its magnitude exceeds this."""

ACTIVATION_SLOPES = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}
"""γ = sup |act'|: tanh'(0) = 1, relu' = 1 on the positive side, σ'(0) = 1/4."""

_GATE_KINDS = {
    "gru": {"r": "sigmoid", "z": "sigmoid", "n": "tanh"},
    "lstm": {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"},
}

_LOG_MAX = float(np.log(np.finfo(np.float64).max)) - 1e-9  # exp below this cannot overflow


class Spectrum(NamedTuple):
    """σ_max and spectral radius of one recurrent block (a plain 2-tuple of floats)."""

    sigma_max: float
    spectral_radius: float


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _require(trace, cells, what):
    """Check that ``trace`` is a Trace of one of ``cells``; raise a readable InputError if not."""
    if not isinstance(trace, Trace):
        raise InputError(f"{what} needs a Trace from engine.forward, not {type(trace).__name__}.")
    if trace.cell not in cells:
        names = " or ".join(f"the {c}" for c in cells)
        raise InputError(f"{what} is defined for {names}; this trace is a {trace.cell}.")


def _matrix(W, name):
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.size == 0:
        raise InputError(f"{name} must be a non-empty matrix; got shape {W.shape}.")
    if not np.all(np.isfinite(W)):
        raise InputError(f"{name} contains NaN or infinite values.")
    return W


def _suffix_products(a, axis):
    """Π_{s=t+1}^{T-1} a[s] along ``axis`` (1 at t = T-1), by one reversed cumulative product.

    Only for factors in [0, 1] (gates): the product can underflow to 0 (silently in numpy) but
    never overflow.
    """
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    out = np.ones_like(a)
    out[..., :-1] = np.cumprod(a[..., :0:-1], axis=-1)[..., ::-1]  # a[T-1] a[T-2] ... a[t+1]
    return np.moveaxis(out, -1, axis)


def _exp_or_inf(logs):
    """exp(logs), with inf wherever the result would overflow (no RuntimeWarning).

    exp(-inf) is 0 and underflow to 0 is silent in numpy, so only the top needs a guard.
    """
    logs = np.asarray(logs, dtype=np.float64)
    out = np.full(logs.shape, np.inf)
    ok = logs < _LOG_MAX
    out[ok] = np.exp(logs[ok])
    return out


def _powers(q, k):
    """q**k for a scalar q ≥ 0 and integer lags k ≥ 0: exact where representable, inf beyond.

    q**0 is 1 for every q (the lag-0 Jacobian is the identity). For k > 0 the log decides: where
    k·log q would overflow the result is inf, elsewhere np.power gives the correctly rounded
    power (small powers underflow silently to 0).
    """
    k = np.asarray(k, dtype=np.float64)
    out = np.ones(k.shape)
    pos = k > 0
    if q == 0.0:
        out[pos] = 0.0  # log 0 = -inf would warn: handle it directly
    elif np.isinf(q):
        out[pos] = np.inf
    else:
        kp = k[pos]
        fits = kp * np.log(q) < _LOG_MAX
        vals = np.full(kp.shape, np.inf)
        vals[fits] = np.power(q, kp[fits])
        out[pos] = vals
    return out


# --------------------------------------------------------------------------------------------
# Spectra and bounds
# --------------------------------------------------------------------------------------------


def sigma_max(W) -> float:
    """Largest singular value ‖W‖₂ of a matrix.

    Parameters
    ----------
    W : array_like (m, n)

    Returns
    -------
    float
        σ_max(W) = max_{‖v‖=1} ‖W v‖: the most a vector can be stretched by one product with W.
    """
    return float(matrix_norms(_matrix(W, "W")[None])[0])


def spectral_radius(W) -> float:
    """Largest eigenvalue magnitude ρ(W) = max |λ| of a square matrix.

    Parameters
    ----------
    W : array_like (n, n)

    Returns
    -------
    float
        ρ(W) ≤ σ_max(W); ‖W^k‖^(1/k) → ρ(W), so ρ decides the long-run growth of W^k.
    """
    W = _matrix(W, "W")
    if W.shape[0] != W.shape[1]:
        raise InputError(f"The spectral radius needs a square matrix; got shape {W.shape}.")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def recurrent_spectrum(params_or_trace, cell: str | None = None) -> dict[str, Spectrum]:
    """σ_max and spectral radius of each H×H gate block of ``weight_hh``.

    Parameters
    ----------
    params_or_trace : Trace or dict
        A Trace, or a parameter dict with ``weight_hh`` (G*H, H).
    cell : {"rnn", "gru", "lstm"}, optional
        Needed only to disambiguate a parameter dict; inferred from G = rows / columns (1, 3 or 4)
        when omitted. For a Trace it must match ``trace.cell`` if given.

    Returns
    -------
    dict[str, Spectrum]
        Gate name (from ``engine.GATES``: rnn ``"h"``, gru ``"r"``, ``"z"``, ``"n"``, lstm
        ``"i"``, ``"f"``, ``"g"``, ``"o"``) -> ``(sigma_max, spectral_radius)`` of the block
        ``weight_hh[k*H:(k+1)*H]``. For the rnn the single block is the whole ``weight_hh``.
    """
    if isinstance(params_or_trace, Trace):
        if cell is not None and cell != params_or_trace.cell:
            raise InputError(f"cell={cell!r} does not match the trace's {params_or_trace.cell}.")
        cell, params = params_or_trace.cell, params_or_trace.params
    else:
        params = params_or_trace
    if not hasattr(params, "keys") or "weight_hh" not in params:
        raise InputError("recurrent_spectrum needs a Trace or a parameter dict with weight_hh.")
    W = _matrix(params["weight_hh"], "weight_hh")
    GH, H = W.shape
    if cell is None:
        by_blocks = {len(gates): name for name, gates in GATES.items()}
        if GH % H or GH // H not in by_blocks:
            raise InputError(f"weight_hh of shape {W.shape} is not an rnn, gru or lstm matrix.")
        cell = by_blocks[GH // H]
    if cell not in GATES:
        raise InputError(f"Unknown cell {cell!r}: choose one of {', '.join(GATES)}.")
    if GH != len(GATES[cell]) * H:
        raise InputError(f"weight_hh of shape {W.shape} does not fit a {cell} with H={H}.")
    return {
        name: Spectrum(sigma_max(W[k * H : (k + 1) * H]), spectral_radius(W[k * H : (k + 1) * H]))
        for k, name in enumerate(GATES[cell])
    }


def activation_slope(nonlinearity: str) -> float:
    """γ, the largest slope sup |act'(a)| of an activation.

    Parameters
    ----------
    nonlinearity : {"tanh", "relu", "sigmoid"}

    Returns
    -------
    float
        1 for tanh (at a = 0) and relu (for a > 0), 1/4 for the sigmoid (at a = 0).
    """
    if nonlinearity not in ACTIVATION_SLOPES:
        choices = ", ".join(ACTIVATION_SLOPES)
        raise InputError(f"Unknown nonlinearity {nonlinearity!r}: choose one of {choices}.")
    return ACTIVATION_SLOPES[nonlinearity]


def pascanu_bound(trace: Trace) -> np.ndarray:
    """The Pascanu–Mikolov–Bengio (2013) upper bound on the RNN's Jacobian norms.

    Parameters
    ----------
    trace : Trace
        A vanilla RNN trace (tanh or relu), single or batched.

    Returns
    -------
    ndarray (T,) or (B, T)
        Entry t bounds ‖∂h_{T-1}/∂h_t‖₂ (what ``jacobian_norms(trace, "h")`` returns), lag
        k = T-1-t. The bound depends only on ``weight_hh`` and the activation, so every sequence
        of a batch gets the same row. Exact (np.power) where representable; ``inf`` where the
        power would overflow (computed from the log, so without a RuntimeWarning); 0 when W_hh = 0
        and k > 0; always 1 at k = 0.

    Equations::

        ∂h_{T-1}/∂h_t = Π_{s=t+1}^{T-1} diag(act'(a_s)) W_hh
        ‖∂h_{T-1}/∂h_t‖₂ ≤ Π ‖diag(act'(a_s))‖₂ ‖W_hh‖₂ ≤ (γ σ_max(W_hh))^k
    """
    _require(trace, ("rnn",), "The Pascanu bound")
    q = activation_slope(trace.nonlinearity) * sigma_max(trace.params["weight_hh"])
    lags = np.arange(trace.T - 1, -1, -1)  # k = T-1-t
    return np.broadcast_to(_powers(q, lags), trace.h.shape[:-1]).copy()


def rnn_local_factors(trace: Trace) -> np.ndarray:
    """The factor by which a gradient can grow when it crosses one step of the RNN.

    Parameters
    ----------
    trace : Trace
        A vanilla RNN trace (tanh or relu), single or batched.

    Returns
    -------
    ndarray (T,) or (B, T)
        Entry t is ‖∂h_t/∂h_{t-1}‖₂ = ‖diag(act'(a_t)) W_hh‖₂, with act' read from the output:
        tanh' = 1 - h_t², relu' = [h_t > 0]. Each is ≤ γ σ_max(W_hh). (A ReLU state clipped at
        the engine's STATE_LIMIT counts as active here, where BPTT gives it slope 0: the factor
        is then an upper bound, which is all the bounds need.)

    Equations::

        ∂h_t/∂h_{t-1} = diag(act'(a_t)) W_hh
        ‖∂h_{T-1}/∂h_t‖₂ ≤ Π_{s=t+1}^{T-1} factor[s]     (see rnn_local_bound)
    """
    _require(trace, ("rnn",), "The RNN's local factors")
    h = trace.h
    slope = 1.0 - h**2 if trace.nonlinearity == "tanh" else (h > 0).astype(np.float64)
    J = slope[..., :, None] * trace.params["weight_hh"]  # diag(act') W_hh: row i scaled
    H = J.shape[-1]
    return matrix_norms(J.reshape(-1, H, H)).reshape(J.shape[:-2])


def rnn_local_bound(trace: Trace) -> np.ndarray:
    """Product of the RNN's local factors: a bound on ‖∂h_{T-1}/∂h_t‖₂ tighter than Pascanu's.

    Parameters
    ----------
    trace : Trace
        A vanilla RNN trace, single or batched.

    Returns
    -------
    ndarray (T,) or (B, T)
        Entry t is Π_{s=t+1}^{T-1} ``rnn_local_factors(trace)[s]`` (1 at t = T-1), summed in
        log space (relative error ~1e-15 per factor) and ``inf`` where it would overflow.

    Equations::

        ‖∂h_{T-1}/∂h_t‖₂ ≤ Π_{s=t+1}^{T-1} ‖diag(act'(a_s)) W_hh‖₂ ≤ (γ σ_max(W_hh))^(T-1-t)
    """
    factors = rnn_local_factors(trace)
    logs = np.full(factors.shape, -np.inf)
    np.log(factors, out=logs, where=factors > 0)  # log 0 = -inf without the divide warning
    suffix = np.zeros(factors.shape)  # Σ_{s>t} log factor[s]; 0 at t = T-1
    suffix[..., :-1] = np.cumsum(logs[..., :0:-1], axis=-1)[..., ::-1]
    return _exp_or_inf(suffix)


# --------------------------------------------------------------------------------------------
# Gated paths: the LSTM's constant error carousel and the GRU's direct path
# --------------------------------------------------------------------------------------------


def forget_products(trace: Trace) -> np.ndarray:
    """Π_{s=t+1}^{T-1} f_s: how much of c_{T-1}'s gradient the forget gates let through to c_t.

    Parameters
    ----------
    trace : Trace
        An LSTM trace, single or batched.

    Returns
    -------
    ndarray (T, H) or (B, T, H)
        1 at t = T-1; in [0, 1] (may underflow to 0 for long sequences of closed gates).

    Equations::

        ∂c_{T-1}/∂c_t |_(cell path only) = diag(Π_{s=t+1}^{T-1} f_s)
    """
    _require(trace, ("lstm",), "Forget-gate products")
    return _suffix_products(trace.gates["f"], axis=-2)


def update_products(trace: Trace) -> np.ndarray:
    """Π_{s=t+1}^{T-1} z_s: how much of h_{T-1}'s gradient the GRU's direct path carries to h_t.

    Parameters
    ----------
    trace : Trace
        A GRU trace, single or batched.

    Returns
    -------
    ndarray (T, H) or (B, T, H)
        1 at t = T-1; in [0, 1]. PyTorch's convention: z = 1 keeps the old state.

    Equations::

        h_s = (1 - z_s) ⊙ n_s + z_s ⊙ h_{s-1}   ->   direct path ∂h_s/∂h_{s-1} ∋ diag(z_s)
    """
    _require(trace, ("gru",), "Update-gate products")
    return _suffix_products(trace.gates["z"], axis=-2)


def _check_grads(trace, grads, field):
    if not isinstance(grads, Grads):
        raise InputError(f"Expected Grads from engine.backward, not {type(grads).__name__}.")
    g = getattr(grads, field)
    want = trace.h.shape
    if g is None or g.shape != want:
        got = None if g is None else g.shape
        raise InputError(f"grads.{field} has shape {got}; expected {want}: not from this trace?")
    return g


def _path_split(total, products):
    """The last step's gradient carried back by a product of gates alone, beside the total."""
    total = np.array(total)
    path = total[..., -1:, :] * products
    return {"path": path, "total": total, "rest": total - path}


def lstm_cell_path(trace: Trace, grads: Grads) -> dict[str, np.ndarray]:
    """The LSTM's constant error carousel: dL/dc_{T-1} carried back through the forget gates.

    Parameters
    ----------
    trace : Trace
        An LSTM trace, single or batched.
    grads : Grads
        ``backward(trace, dL_dh)``, typically with ``dL_dh = last_step_seed(trace)``.

    Returns
    -------
    dict[str, ndarray (T, H) or (B, T, H)]
        ``"path"``: grads.c[T-1] ⊙ Π_{s=t+1}^{T-1} f_s, the part of dL/dc_t that travelled only
        along the cell state from the last step; ``"total"``: grads.c, the total dL/dc_t;
        ``"rest"``: total - path, what arrived through the hidden states and the gates.

    Equations::

        dc_{t} = dc_{t+1} ⊙ f_{t+1} + dh_t ⊙ o_t ⊙ (1 - tanh²(c_t))     (BPTT)
        path_t = dc_{T-1} ⊙ Π_{s=t+1}^{T-1} f_s                          (carousel only)
    """
    _require(trace, ("lstm",), "The LSTM cell path")
    return _path_split(_check_grads(trace, grads, "c"), forget_products(trace))


def gru_direct_path(trace: Trace, grads: Grads) -> dict[str, np.ndarray]:
    """The GRU's direct path: dL/dh_{T-1} carried back through the update gates alone.

    Parameters
    ----------
    trace : Trace
        A GRU trace, single or batched.
    grads : Grads
        ``backward(trace, dL_dh)``, typically with ``dL_dh = last_step_seed(trace)``.

    Returns
    -------
    dict[str, ndarray (T, H) or (B, T, H)]
        ``"path"``: grads.h[T-1] ⊙ Π_{s=t+1}^{T-1} z_s; ``"total"``: grads.h, the total dL/dh_t;
        ``"rest"``: total - path, what flowed through W_hh and the gates.

    Equations::

        dh_{t} = dL_dh[t] + dh_{t+1} ⊙ z_{t+1} + W_hhᵀ [dr; dz; r ⊙ dn]_{t+1}   (BPTT)
        path_t = dh_{T-1} ⊙ Π_{s=t+1}^{T-1} z_s                               (direct only)
    """
    _require(trace, ("gru",), "The GRU direct path")
    return _path_split(_check_grads(trace, grads, "h"), update_products(trace))


# --------------------------------------------------------------------------------------------
# Saturation and the loss seed
# --------------------------------------------------------------------------------------------


def _saturated(values, kind):
    if kind == "sigmoid":
        return (values < SIGMOID_SATURATION) | (values > 1.0 - SIGMOID_SATURATION)
    return np.abs(values) > TANH_SATURATION


def gate_saturation(trace: Trace) -> dict[str, np.ndarray]:
    """Fraction of units saturated, per gate and step.

    A saturated unit has a derivative near 0 (σ' < 0.048, tanh' < 0.098), so the gradient
    through that gate nearly stops there; a forget gate saturated at 1 is the exception that
    keeps it.

    Parameters
    ----------
    trace : Trace
        Any cell, single or batched.

    Returns
    -------
    dict[str, ndarray (T,) or (B, T)]
        gru ``"r"``, ``"z"``, ``"n"``; lstm ``"i"``, ``"f"``, ``"g"``, ``"o"``; tanh rnn ``"h"``;
        each the fraction of the H units saturated at that step (sigmoid gates below 0.05 or above
        0.95; tanh outputs with magnitude above 0.95). ``"all"``: the fraction over all the
        step's gate units together. A ReLU RNN has no saturating gate: only ``"all"``, all zeros.
    """
    _require(trace, tuple(GATES), "Gate saturation")
    if trace.cell == "rnn":
        kinds = {"h": "tanh"} if trace.nonlinearity == "tanh" else {}
        values = {"h": trace.h}
    else:
        kinds, values = _GATE_KINDS[trace.cell], trace.gates
    out = {name: np.mean(_saturated(values[name], kind), axis=-1) for name, kind in kinds.items()}
    # every gate has H units, so the fraction over all of them is the mean of the gate fractions
    out["all"] = np.mean(list(out.values()), axis=0) if out else np.zeros(trace.h.shape[:-1])
    return out


def last_step_seed(trace: Trace, unit: int | None = None) -> np.ndarray:
    """dL_dh for a loss on the last step only: the seed of the pages' BPTT curves.

    Parameters
    ----------
    trace : Trace
        Any cell, single or batched.
    unit : int, optional
        Seed only this hidden unit (L = h_{T-1}[unit]); default all units (L = Σ_k h_{T-1}[k]).

    Returns
    -------
    ndarray (T, H) or (B, T, H)
        Zeros except the last step: ones (or the basis vector e_unit) there. Passed to
        ``backward``, ``grads.h[t]`` is then dL/dh_t for that loss.
    """
    _require(trace, tuple(GATES), "The last-step seed")
    seed = np.zeros(trace.h.shape)
    if unit is None:
        seed[..., -1, :] = 1.0
        return seed
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)):
        raise InputError(f"unit must be an integer, not {unit!r}.")
    if not 0 <= unit < trace.H:
        raise InputError(f"unit {unit} is out of range: this cell has units 0..{trace.H - 1}.")
    seed[..., -1, unit] = 1.0
    return seed
