"""Every number the step-through figures show, computed once, from the engine.

The cell diagram, the equation ladder and the vector strips of the "Step through" page show,
for one unit k and one step t, the terms of the forward equations and the gradients reaching
each element of the cell. This module computes them, pure NumPy, from a
:class:`~engine.sequence.Trace` and its :class:`~engine.sequence.Grads`:

- :func:`unit_values`: the forward terms, read from the trace's gate record (the gates, the
  LSTM's tanh(c_t), the GRU's W_hn h_{t-1} + b_hn) plus the split of each pre-activation into
  its input, recurrent and bias parts;
- :func:`cell_gradients` / :func:`unit_gradients`: the local gradients of every step, from the
  engine's own backward kernels (``engine.cells.CORES``, the code ``engine.backward`` runs),
  vectorised over the steps shown;
- :func:`rnn_factors` / :func:`path_factor`: the factor the gradient is multiplied by when it
  crosses a step (the RNN's from :func:`engine.theory.rnn_local_factors`);
- :func:`run_bounds`: fixed colour ranges for the whole run;
- :func:`step_source` and :func:`check_step`: the code behind the numbers, and a check of them
  (a finite difference and an independent recomputation with the readable step functions).
- :func:`check_forward`, :func:`check_gradient` and :func:`check_jacobian_norm`: the "Check
  these numbers" panels, with an honest verdict where a finite difference cannot judge.

Conventions: ``t`` is the 0-based step index of the arrays (``h_{t-1}`` at t = 0 is ``h0``);
a gate's pre-activation is ``a_q = W_q x_t + U_q h_{t-1} + b_q`` with ``W`` the rows of
``weight_ih``, ``U`` the rows of ``weight_hh`` and ``b = b_ih + b_hh`` (the GRU's candidate
keeps ``b_in`` and ``b_hn`` apart, because r multiplies ``U_n h_{t-1} + b_hn``). Every function
takes an unbatched trace (arrays (T, H)).
"""

from __future__ import annotations

import dataclasses
import inspect
import math

import numpy as np

from . import cells, theory
from .cells import CORES, GATES, GRAD_LIMIT, STATE_LIMIT, _clip_gradient, input_gradient
from .errors import InputError
from .sequence import forward

STEP_CELLS = ("rnn", "gru", "lstm")
DIRECTIONS = ("forward", "backward")

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check(trace, unit, step=None):
    """Raise ValueError unless ``trace`` is unbatched and ``unit`` (and ``step``) are in range."""
    if trace.batched:
        raise ValueError("The step-through figures show one sequence: pass an unbatched trace.")
    if not 0 <= int(unit) < trace.H:
        raise ValueError(f"unit {unit} is out of range 0..{trace.H - 1}.")
    if step is not None and not 0 <= int(step) < trace.T:
        raise ValueError(f"step {step} is out of range 0..{trace.T - 1}.")


def _previous(states, initial):
    """(T, H) states each step starts from: [s_0, s_1, .., s_{T-2}] with s_0 = ``initial``."""
    return np.concatenate([np.asarray(initial)[None], states[:-1]])


def _record(trace, a):
    """A time-major gate record of an unbatched trace, (T, 1, ...) -> (T, ...)."""
    return None if a is None else a[:, 0]


# --------------------------------------------------------------------------------------------
# Forward numbers
# --------------------------------------------------------------------------------------------


def unit_values(trace, unit: int) -> dict[str, np.ndarray]:
    """Every number of the forward equations for unit k, as (T,) arrays over the steps.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace.
    unit : int
        The unit k.

    Returns
    -------
    dict[str, ndarray (T,)]
        ``h``, ``h_prev``; per gate q: ``wx_q`` (W_q x_t), ``uh_q`` (U_q h_{t-1}), ``b_q``
        (b_ih + b_hh), ``a_q`` (pre-activation) and ``q`` (the gate, from ``trace.gates``).
        rnn: the gate is ``h`` itself (pre-activation ``a_h``). lstm adds ``c``, ``c_prev``,
        ``tanh_c`` (the engine's record), ``fc`` (f ⊙ c_{t-1}), ``ig`` (i ⊙ g). gru: the
        candidate has ``wx_n``, ``b_in``, ``uh_n``, ``b_hn``, ``hn`` (U_n h_{t-1} + b_hn, the
        engine's record), ``rhn`` (r ⊙ hn), ``a_n``; plus ``zh`` (z ⊙ h_{t-1}), ``omz``
        (1 − z), ``omzn`` ((1 − z) ⊙ n).

    Equations::

        a_q = W_q x_t + U_q h_{t-1} + b_q           (every gate but the GRU's n)
        a_n = W_n x_t + b_in + r_t ⊙ (U_n h_{t-1} + b_hn)
    """
    _check(trace, unit)
    k, H, p = int(unit), trace.H, trace.params
    xs = trace.xs
    h_prev = _previous(trace.h, trace.h0)
    out = {"h": trace.h[:, k].copy(), "h_prev": h_prev[:, k].copy()}
    aux = _record(trace, trace.aux)
    with np.errstate(over="ignore", invalid="ignore"):
        for j, q in enumerate(GATES[trace.cell]):
            row = j * H + k
            wx = xs @ p["weight_ih"][row]
            uh = h_prev @ p["weight_hh"][row]
            if trace.cell == "gru" and q == "n":
                r = out["r"]
                out["hn"] = aux[:, row].copy()  # the engine's recurrent record of n
                if trace.gru_reset == "before":  # W_hn (r ⊙ h_{t-1}): r resets h_{t-1} first
                    uh = (trace.gates["r"] * h_prev) @ p["weight_hh"][row]
                out.update(
                    wx_n=wx, b_in=np.full(trace.T, p["bias_ih"][row]), uh_n=uh,
                    b_hn=np.full(trace.T, p["bias_hh"][row]),
                )  # fmt: skip
                if trace.gru_reset == "before":
                    out["rh"] = r * out["h_prev"]  # what W_hn reads
                    out["a_n"] = wx + p["bias_ih"][row] + out["hn"]
                else:
                    out["rhn"] = r * out["hn"]  # U_n h_{t-1} + b_hn, gated by r
                    out["a_n"] = wx + p["bias_ih"][row] + out["rhn"]
            else:
                out[f"wx_{q}"], out[f"uh_{q}"] = wx, uh
                out[f"b_{q}"] = np.full(trace.T, p["bias_ih"][row] + p["bias_hh"][row])
                out[f"a_{q}"] = wx + uh + out[f"b_{q}"]
            if q != "h":
                out[q] = trace.gates[q][:, k].copy()
        if trace.cell == "lstm":
            out["c"] = trace.c[:, k].copy()
            out["c_prev"] = _previous(trace.c, trace.c0)[:, k]
            out["tanh_c"] = aux[:, k].copy()  # the engine's tanh(c_t)
            out["fc"] = out["f"] * out["c_prev"]
            out["ig"] = out["i"] * out["g"]
        elif trace.cell == "gru":
            out["zh"] = out["z"] * out["h_prev"]
            out["omz"] = 1.0 - out["z"]
            out["omzn"] = out["omz"] * out["n"]
    return out


# --------------------------------------------------------------------------------------------
# Backward numbers
# --------------------------------------------------------------------------------------------


def _local_gradients(trace, grads, rows):
    """The engine's backward kernel run on the given steps at once, fed what BPTT delivered.

    Returns the kernel's outputs (dh_prev, dc_prev, dgh, dc_total), the input pre-activation
    gradient dgi and the local derivatives, each with the steps on axis 0.
    """
    cell, T, H = trace.cell, trace.T, trace.H
    _, local, core_backward = CORES[trace.kernel]
    lstm = cell == "lstm"
    h_prev = _previous(trace.h, trace.h0)[rows]
    c_prev = _previous(trace.c, trace.c0)[rows] if lstm else None
    acts, aux = _record(trace, trace.acts)[rows], _record(trace, trace.aux)
    aux = None if aux is None else aux[rows]
    loc = local(h_prev, c_prev, acts, aux, trace.nonlinearity == "relu")
    dh = np.array(grads.h[rows])  # total dL/dh_t: what flows into the step
    dc = None
    if lstm:  # dL/dc_t from the future: dL/dc_{t+1} f_{t+1}, nothing after the last step
        nxt = np.minimum(rows + 1, T - 1)
        dc = np.where((rows < T - 1)[:, None], grads.c[nxt] * trace.gates["f"][nxt], 0.0)
    out = cells.backward_records(cell, (len(rows),), H)
    core_backward(dh, dc, loc, trace.params["weight_hh"], out)
    dh_prev, dc_prev, dgh, dc_total = out
    for g in (dh_prev, dc_prev):
        if g is not None:
            _clip_gradient(g)  # as BPTT does: an explosion stays finite
    return dh, dh_prev, dc_prev, dgh, dc_total, input_gradient(trace.kernel, dh, dgh, loc), loc


def cell_gradients(trace, grads, steps=None) -> dict[str, np.ndarray]:
    """The gradients reaching every element of the cell, as (T, H) arrays over steps and units.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace.
    grads : engine.Grads
        ``engine.backward(trace, dL_dh)``.
    steps : array_like of int, optional
        Compute only these rows (and the rows after them, for the ``*_next`` keys); the other
        rows are NaN. A 2000-step figure only needs its 200 frames.

    Returns
    -------
    dict[str, ndarray (T, H)]
        ``dh`` (total dL/dh_t), ``dh_next`` (the part that flowed back from step t+1),
        ``dh_direct`` (the loss's own gradient on h_t), ``dh_prev`` (what step t sends on to
        h_{t-1}); pre-activation gradients ``da_q`` for every gate q (rnn: ``da_h``). lstm adds
        ``dc`` (total dL/dc_t), ``dc_next`` (dL/dc_{t+1} f_{t+1}), ``dc_h`` (dL/dh_t o_t
        (1 − tanh² c_t)), ``dc_prev`` (dL/dc_t f_t) and ``dtanh_c`` (dL/dh_t o_t); gru adds
        ``dh_z`` (dL/dh_t z_t, the direct path) and ``dgh_n`` (r ⊙ da_n; da_n itself for
        ``gru_reset="before"``, whose W_hn reads r ⊙ h_{t-1}).

    Notes
    -----
    The local gradients are not re-derived here: the engine's backward kernel
    (``engine.cells.CORES[cell]``, the code :func:`engine.backward` runs) is applied to all the
    requested steps at once, fed the total dL/dh_t (and for the lstm dL/dc_{t+1} f_{t+1}) that
    BPTT delivered there. So ``dh_prev`` at step t is exactly what BPTT carried to step t-1.
    """
    if grads is None:
        raise ValueError("Backward mode needs the gradients (grads=engine.backward(...)).")
    if trace.batched:
        raise ValueError("The step-through figures show one sequence: pass an unbatched trace.")
    T, H, cell = trace.T, trace.H, trace.cell
    want = np.arange(T) if steps is None else np.unique(np.asarray(steps, dtype=int))
    rows = np.union1d(want, want[want < T - 1] + 1)  # the next step feeds the *_next keys
    with np.errstate(over="ignore", invalid="ignore"):
        dh, dh_prev, dc_prev, dgh, dc_total, dgi, loc = _local_gradients(trace, grads, rows)
        out = {f"da_{q}": dgh[:, j * H : (j + 1) * H] for j, q in enumerate(GATES[cell])}
        if cell == "lstm":
            h_by_c = loc[0]  # o (1 - tanh² c), the kernel's local derivative
            out.update(
                dc=dc_total, dc_prev=dc_prev, dc_h=dh * h_by_c,
                dtanh_c=dh * trace.gates["o"][rows],
            )  # fmt: skip
        elif cell == "gru":
            out["da_n"] = dgi[:, 2 * H :]  # r multiplies only the recurrent part of a_n
            out["dgh_n"] = dgh[:, 2 * H :]  # r ⊙ da_n (reset before the product: da_n)
            out["dh_z"] = dh * loc[2]  # z: the direct path
        out["dh"] = dh
        out["dh_prev"] = dh_prev
        # what step t+1 sent back: its dh_prev (and its dc_prev); nothing after the last step
        has_next = np.isin(rows + 1, rows)
        at_next = np.minimum(np.searchsorted(rows, rows + 1), len(rows) - 1)
        for key, src in (("dh_next", "dh_prev"), ("dc_next", "dc_prev")):
            if src in out:
                nxt = np.where(has_next[:, None], out[src][at_next], np.nan)
                nxt[rows == T - 1] = 0.0
                out[key] = nxt
        out["dh_direct"] = out["dh"] - out["dh_next"]
    if steps is None:
        return out
    full = {}
    for key, a in out.items():
        full[key] = np.full((T, H), np.nan)
        full[key][rows] = a
    return full


def unit_gradients(trace, grads, unit: int, steps=None) -> dict[str, np.ndarray]:
    """:func:`cell_gradients` for unit k: the same keys, as (T,) arrays over the steps."""
    _check(trace, unit)
    k = int(unit)
    return {name: a[:, k].copy() for name, a in cell_gradients(trace, grads, steps).items()}


# --------------------------------------------------------------------------------------------
# Factors on the gradient's path and colour ranges
# --------------------------------------------------------------------------------------------


def rnn_factors(trace, steps) -> np.ndarray:
    """The RNN's local factors ‖diag(act'(a_t)) W_hh‖₂ at the given steps.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched RNN trace.
    steps : int or array_like of int

    Returns
    -------
    ndarray (len(steps),)
        :func:`engine.theory.rnn_local_factors` at those steps: the factor a gradient is
        multiplied by (at most) when it crosses step t. Each factor depends only on h_t, so
        only the rows of those steps are computed.
    """
    steps = np.atleast_1d(np.asarray(steps, dtype=int))
    rows = dataclasses.replace(trace, h=trace.h[steps])  # the factor reads only h and W_hh
    return theory.rnn_local_factors(rows)


def path_factor(trace, unit: int, steps) -> np.ndarray:
    """The factor the gradient on the state path is multiplied by at each of ``steps``.

    Returns
    -------
    ndarray (len(steps),)
        lstm f_t (dL/dc_{t-1} = dL/dc_t f_t), gru z_t (the direct path dL/dh_t z_t), rnn
        ‖diag(act'(a_t)) W_hh‖₂ (:func:`rnn_factors`: the whole step's Jacobian, the same for
        every unit).
    """
    steps = np.atleast_1d(np.asarray(steps, dtype=int))
    if trace.cell == "lstm":
        return trace.gates["f"][steps, int(unit)].copy()
    if trace.cell == "gru":
        return trace.gates["z"][steps, int(unit)].copy()
    return rnn_factors(trace, steps)


def run_bounds(trace) -> dict[str, float]:
    """Fixed colour ranges of the signed quantities for the whole run.

    Returns
    -------
    dict[str, float]
        ``c``: max |c| over the run (lstm; 1 otherwise); ``h``: 1, or max |h| for a ReLU RNN
        whose states leave [−1, 1].
    """
    bounds = {"c": 1.0, "h": 1.0}
    if trace.c is not None:
        c = np.abs(trace.c[np.isfinite(trace.c)])
        bounds["c"] = max(float(c.max(initial=0.0)), 1e-12)
    if trace.cell == "rnn" and trace.nonlinearity == "relu":
        h = np.abs(trace.h[np.isfinite(trace.h)])
        bounds["h"] = max(float(h.max(initial=0.0)), 1.0)
    return bounds


# --------------------------------------------------------------------------------------------
# The code behind the numbers, and a check of them
# --------------------------------------------------------------------------------------------


def step_source(cell: str, direction: str, gru_reset: str = "after") -> str:
    """The source code of the readable public step function, for a "Show the code" panel.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    direction : {"forward", "backward"}
    gru_reset : {"after", "before"}
        The GRU's reset placement: ``"before"`` shows
        ``engine.cells.gru_reset_before_step_<direction>``.

    Returns
    -------
    str
        ``inspect.getsource`` of ``engine.cells.<cell>_step_<direction>``, docstring included.
    """
    if cell not in STEP_CELLS:
        raise InputError(f"Unknown cell {cell!r}: choose one of {', '.join(STEP_CELLS)}.")
    if direction not in DIRECTIONS:
        raise InputError(f"direction must be 'forward' or 'backward', not {direction!r}.")
    name = "gru_reset_before" if cell == "gru" and gru_reset == "before" else cell
    return inspect.getsource(getattr(cells, f"{name}_step_{direction}"))


def _readable_step(trace, t):
    """h_t (and c_t) recomputed from h_{t-1}, c_{t-1} and x_t by the readable step function."""
    p = trace.params
    x = trace.xs[t][None]
    h_prev = (trace.h0 if t == 0 else trace.h[t - 1])[None]
    if trace.cell == "lstm":
        c_prev = (trace.c0 if t == 0 else trace.c[t - 1])[None]
        h, _, _ = cells.lstm_step_forward(x, h_prev, c_prev, **p)
    elif trace.cell == "gru" and trace.gru_reset == "before":
        h, _ = cells.gru_reset_before_step_forward(x, h_prev, **p)
    elif trace.cell == "gru":
        h, _ = cells.gru_step_forward(x, h_prev, **p)
    else:
        h, _ = cells.rnn_step_forward(x, h_prev, **p, nonlinearity=trace.nonlinearity)
    return h[0]


def _loss_from(trace, seed, t, h_t):
    """L = Σ_{s ≥ t} <seed_s, h_s> when the run restarts after step t from state h_t (c_t kept)."""
    loss = float(seed[t] @ h_t)
    if t < trace.T - 1:
        rest = forward(
            trace.cell, trace.params, trace.xs[t + 1 :], h0=h_t,
            c0=None if trace.c is None else trace.c[t], nonlinearity=trace.nonlinearity,
            gru_reset=trace.gru_reset,
        )  # fmt: skip
        loss += float(np.sum(seed[t + 1 :] * rest.h))
    return loss


def check_step(trace, grads, step: int, unit: int, *, eps: float = 1e-6) -> dict:
    """Check the numbers of one step for one unit, independently of the code that made them.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace.
    grads : engine.Grads
        ``engine.backward(trace, theory.last_step_seed(trace))``: the gradients of the loss
        L = Σ_i h_{T-1}[i] that the pages use.
    step, unit : int
        The step t (0-based) and unit k.
    eps : float
        The finite-difference step.

    Returns
    -------
    dict[str, float]
        Backward: ``analytic`` dL/dh_t[k] (``grads.h[t, k]``), ``numeric`` the central
        difference [L(h_t + ε e_k) − L(h_t − ε e_k)] / 2ε, where L is recomputed by re-running
        steps t+1.. with :func:`engine.forward` from the perturbed state (for the lstm c_t is
        held fixed: the partial BPTT propagates), and ``rel_error`` |a − n| / max(1e-8,
        |a| + |n|). Forward: ``forward_engine`` h_t[k] from the trace, ``forward_recomputed``
        the same value from the readable step function (``engine.cells.*_step_forward``) applied
        to h_{t-1}, c_{t-1} and x_t, and ``abs_error`` between them.

    Notes
    -----
    The difference has a rounding error of about 1e-16 |L| / ε; a gradient that has vanished
    far below that cannot be checked this way (its relative error is then large).
    """
    _check(trace, unit, step)
    t, k = int(step), int(unit)
    seed = theory.last_step_seed(trace)

    def loss(delta):
        h_t = np.array(trace.h[t])
        h_t[k] += delta
        return _loss_from(trace, seed, t, h_t)

    analytic = float(grads.h[t, k])
    with np.errstate(over="ignore", invalid="ignore"):
        numeric = (loss(eps) - loss(-eps)) / (2.0 * eps)
        recomputed = float(_readable_step(trace, t)[k])
    engine_value = float(trace.h[t, k])
    return {
        "analytic": analytic,
        "numeric": float(numeric),
        "rel_error": abs(analytic - numeric) / max(1e-8, abs(analytic) + abs(numeric)),
        "forward_engine": engine_value,
        "forward_recomputed": recomputed,
        "abs_error": abs(engine_value - recomputed),
    }


__all__ = [
    "cell_gradients",
    "check_step",
    "path_factor",
    "rnn_factors",
    "run_bounds",
    "step_source",
    "unit_gradients",
    "unit_values",
]


# --------------------------------------------------------------------------------------------
# "Check these numbers": finite differences with an honest verdict
# --------------------------------------------------------------------------------------------

CHECK_EPS = 1e-5
"""The relative finite-difference step: ε = CHECK_EPS · max(1, |value perturbed|)."""

CHECK_ROUNDING = 8 * float(np.finfo(np.float64).eps)
"""The rounding of a loss recomputed from a perturbed state, relative to the size of its terms
(measured on every cell, tanh and ReLU, H from 4 to 256, with a margin of ten)."""

CHECK_RESOLVE = 1e3
"""A value is checked only when it is this many times the smallest value the difference
resolves (so rounding makes at most 1/1000 of the comparison)."""

CHECK_SETTLE = 1e-3
"""The difference at ε and at ε/4 must agree to this relative gap (plus rounding) to be
trusted: otherwise the function is not smooth, or not resolved, at the scale of ε."""

CHECK_VERDICTS = ("checked", "overflow", "too_small", "unsettled")
"""What a check concluded: ``checked`` (the numbers are compared), ``overflow`` (a state on the
way to the loss reached the 1e100 cap, or a gradient was clipped: a difference then measures
the clipping), ``too_small`` (below what float64 rounding lets a difference resolve),
``unsettled`` (the difference at ε and at ε/4 disagree)."""


def _sigmoid_scalar(a: float) -> float:
    """σ(a) in plain Python, written from the formula; no overflow for any finite a."""
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def check_forward(trace, step: int, unit: int) -> dict[str, dict[str, float]]:
    """Recompute unit k's forward equations at step t from the formula, in plain Python.

    Independent of the engine's code: each pre-activation is the exact sum (``math.fsum``) of
    the products of row k of the weights with x_t and h_{t-1}, plus the biases; the gates and
    states follow with ``math.tanh`` and a sigmoid written here.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace.
    step, unit : int
        The step t (0-based) and unit k.

    Returns
    -------
    dict[str, dict[str, float]]
        One entry per quantity of the step, in the order the equations compute them (gru
        ``r``, ``z``, ``n``, ``h``; lstm ``i``, ``f``, ``g``, ``o``, ``c``, ``h``; rnn ``h``),
        each ``{"engine": the trace's value, "recomputed": the formula's, "abs_error": |a - b|}``.

    Equations::

        rnn:  h = act(W_ih x + b_ih + W_hh h_prev + b_hh)      act = tanh, or relu capped at 1e100
        gru:  r, z = σ(..), n = tanh(W_in x + b_in + r (W_hn h_prev + b_hn)),
              h = (1 - z) n + z h_prev
              (gru_reset="before": n = tanh(W_in x + b_in + W_hn (r ⊙ h_prev) + b_hn))
        lstm: i, f, o = σ(..), g = tanh(..), c = f c_prev + i g, h = o tanh(c)
    """
    _check(trace, unit, step)
    t, k, H, p = int(step), int(unit), trace.H, trace.params
    x = [float(v) for v in trace.xs[t]]
    h_prev = _previous(trace.h, trace.h0)[t]

    def part(weight, bias, row, v):  # Σ_j W[row, j] v_j + b[row], summed exactly
        terms = [float(w) * float(u) for w, u in zip(weight[row], v, strict=True)]
        return math.fsum([*terms, float(bias[row])])

    new = {}
    for j, q in enumerate(GATES[trace.cell]):
        row = j * H + k
        wx = part(p["weight_ih"], p["bias_ih"], row, x)
        uh = part(p["weight_hh"], p["bias_hh"], row, h_prev)
        if q == "h":  # the RNN
            a = wx + uh
            new["h"] = math.tanh(a) if trace.nonlinearity == "tanh" else min(max(a, 0.0), 1e100)
        elif q == "n" and trace.gru_reset == "before":  # W_hn (r ⊙ h_prev) + b_hn
            rh = [float(r) * float(h) for r, h in zip(trace.gates["r"][t], h_prev, strict=True)]
            new["n"] = math.tanh(wx + part(p["weight_hh"], p["bias_hh"], row, rh))
        elif q == "n":
            new["n"] = math.tanh(wx + new["r"] * uh)
        elif q == "g":
            new["g"] = math.tanh(wx + uh)
        else:
            new[q] = _sigmoid_scalar(wx + uh)
    if trace.cell == "gru":
        new["h"] = (1.0 - new["z"]) * new["n"] + new["z"] * float(h_prev[k])
    elif trace.cell == "lstm":
        c_prev = float(_previous(trace.c, trace.c0)[t, k])
        new["c"] = new["f"] * c_prev + new["i"] * new["g"]
        new["h"] = new["o"] * math.tanh(new["c"])
    engine_values = {q: trace.gates[q][t, k] for q in trace.gates}
    engine_values.update(h=trace.h[t, k], **({"c": trace.c[t, k]} if trace.c is not None else {}))
    out = {}
    for name, value in new.items():
        mine = float(engine_values[name])
        out[name] = {"engine": mine, "recomputed": value, "abs_error": abs(mine - value)}
    return out


def _verdict(analytic, numeric, settle, resolution, overflow) -> dict:
    """Compare a value with its finite differences (at ε and at ε/4) and say what it shows."""
    a, n, n4 = float(analytic), float(numeric), float(settle)
    out = {"analytic": a, "numeric": n, "numeric_quarter": n4, "resolution": float(resolution)}
    big = max(abs(a), abs(n))
    gap = abs(n - n4)
    if overflow or not (math.isfinite(a) and math.isfinite(n) and math.isfinite(n4)):
        verdict = "overflow"
    elif big < CHECK_RESOLVE * resolution:
        verdict = "too_small"
    elif gap > CHECK_SETTLE * max(abs(n), abs(n4)) + 5.0 * resolution:
        verdict = "unsettled"
    else:
        verdict = "checked"
    rel = abs(a - n) / (abs(a) + abs(n)) if big > 0 else 0.0
    expected = (resolution + gap) / big if verdict == "checked" else math.nan
    out.update(
        verdict=verdict, rel_error=rel if verdict == "checked" else math.nan,
        tolerance=max(1e-6, 10.0 * expected) if verdict == "checked" else math.nan,
    )  # fmt: skip
    out["agree"] = verdict == "checked" and rel <= out["tolerance"]
    return out


def check_gradient(trace, grads, step: int, unit: int, *, state: str = "h") -> dict:
    """Check BPTT's dL/dh_t[k] (or the LSTM's dL/dc_t[k]) by central differences, honestly.

    The loss is the pages' L = Σ_i h_{T-1}[i]. The difference is taken at ε and at ε/4
    (ε = ``CHECK_EPS`` · max(1, |h_t[k]|)), by re-running steps t+1.. from the perturbed
    state: for ``state="h"`` with :func:`check_step` (c_t held fixed, the partial BPTT
    propagates); for ``state="c"`` c_t[k] is perturbed and h_t = o_t ⊙ tanh(c_t) follows
    (the total dL/dc_t that ``grads.c`` holds).

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace.
    grads : engine.Grads
        ``engine.backward(trace, theory.last_step_seed(trace))``.
    step, unit : int
    state : {"h", "c"}
        ``"c"`` for the lstm only.

    Returns
    -------
    dict
        ``analytic`` (BPTT's value), ``numeric`` (the difference at ε), ``numeric_quarter``
        (at ε/4), ``eps``, ``overflow_step`` (the first step ≥ t whose state reached the 1e100
        cap, or None), ``resolution`` (the smallest gradient the difference resolves:
        ``CHECK_ROUNDING`` · Σ|terms of L| / 2ε), ``verdict`` (one of ``CHECK_VERDICTS``),
        and for a ``checked`` verdict ``rel_error`` |a − n| / (|a| + |n|), ``tolerance`` (the
        difference's own accuracy, (resolution + |n − n_quarter|) / |n|, times 10, at least
        1e-6) and ``agree`` (rel_error ≤ tolerance); NaN otherwise.
    """
    _check(trace, unit, step)
    t, k = int(step), int(unit)
    if state not in ("h", "c") or (state == "c" and trace.cell != "lstm"):
        raise InputError(f"state must be 'h' (or 'c' for the lstm), not {state!r}.")
    values = trace.h if state == "h" else trace.c
    eps = CHECK_EPS * max(1.0, abs(float(values[t, k])))
    seed = theory.last_step_seed(trace)
    if state == "h":
        analytic = float(grads.h[t, k])
        numeric = check_step(trace, grads, t, k, eps=eps)["numeric"]
        settle = check_step(trace, grads, t, k, eps=eps / 4)["numeric"]
    else:
        analytic = float(grads.c[t, k])

        def loss(delta):
            c = np.array(trace.c)
            c[t, k] += delta
            h_t = trace.gates["o"][t] * np.tanh(c[t])  # h_t follows c_t through the o gate
            return _loss_from(dataclasses.replace(trace, c=c), seed, t, h_t)

        with np.errstate(over="ignore", invalid="ignore"):
            numeric = (loss(eps) - loss(-eps)) / (2.0 * eps)
            settle = (loss(eps / 4) - loss(-eps / 4)) / (eps / 2)
    with np.errstate(over="ignore", invalid="ignore"):
        size = float(np.sum(np.abs(seed[t:] * trace.h[t:])))  # Σ |terms of L|
    over = _overflow_step(trace, t)
    capped = over is not None or abs(analytic) >= GRAD_LIMIT
    out = _verdict(analytic, numeric, settle, CHECK_ROUNDING * max(size, 1e-300) / (2 * eps),
                   capped)  # fmt: skip
    return out | {"eps": eps, "overflow_step": over}


def _overflow_step(trace, t):
    """The first step s ≥ t whose state reached the engine's STATE_LIMIT cap, or None."""
    capped = np.flatnonzero(np.any(np.abs(trace.h[t:]) >= STATE_LIMIT, axis=-1))
    return int(t + capped[0]) if capped.size else None


def _final_states(trace, t, wrt, starts):
    """h_{T-1} of runs restarted at step t: from states h_t (``wrt="h"``, c_t kept) or from
    inputs x_t (``wrt="x"``, from h_{t-1}, c_{t-1}); ``starts`` is (B, H) or (B, D)."""
    B = len(starts)
    lstm = trace.cell == "lstm"
    if wrt == "h":
        if t == trace.T - 1:
            return np.array(starts)
        xs, h0 = trace.xs[t + 1 :], starts
        c0 = np.broadcast_to(trace.c[t], starts.shape) if lstm else None
    else:
        xs = np.repeat(trace.xs[t:][None], B, axis=0)
        xs[:, 0] = starts
        h0 = np.broadcast_to(_previous(trace.h, trace.h0)[t], (B, trace.H))
        c0 = np.broadcast_to(_previous(trace.c, trace.c0)[t], (B, trace.H)) if lstm else None
    xs = np.broadcast_to(xs, (B, *xs.shape[-2:])) if xs.ndim == 2 else xs
    rest = forward(trace.cell, trace.params, xs, h0=h0, c0=c0, nonlinearity=trace.nonlinearity,
                   gru_reset=trace.gru_reset)  # fmt: skip
    return rest.h[:, -1]


def check_jacobian_norm(trace, step: int, wrt: str = "h") -> dict:
    """Check one exact Jacobian norm ‖∂h_{T-1}/∂h_t‖₂ (or ∂x_t) against finite differences.

    The Jacobian is built column by column: column j is the central difference
    [h_{T-1}(s_t + ε_j e_j) − h_{T-1}(s_t − ε_j e_j)] / 2ε_j of the forward pass re-run from
    step t, with s = h (c_t held fixed for the lstm, as :func:`engine.jacobian_norms` does) or
    s = x, and ε_j = ``CHECK_EPS`` · max(1, |s_t[j]|); then its spectral norm is taken. It is
    built twice, at ε and at ε/4, to see that the difference has settled.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace.
    step : int
        The step t (0-based); the lag is T − 1 − t.
    wrt : {"h", "x"}

    Returns
    -------
    dict
        ``analytic`` the engine's norm (:func:`engine.jacobian_norms` at step t), ``numeric``
        the norm of the difference Jacobian at ε, ``numeric_quarter`` at ε/4, ``eps`` (the
        largest ε_j), ``resolution`` (the Frobenius norm of the columns' rounding,
        ``CHECK_ROUNDING`` · max(1, |h_{T-1}[i]|) / 2ε_j per entry), and ``overflow_step``,
        ``verdict``, ``rel_error``, ``tolerance``, ``agree`` as in :func:`check_gradient`.

    Notes
    -----
    It costs 4n forward runs of T − t steps (n = H or D), batched in one pass.
    """
    from .sequence import jacobian_norms

    _check(trace, 0, step)
    if wrt not in ("h", "x"):
        raise InputError(f"wrt must be 'h' or 'x', not {wrt!r}.")
    t, T = int(step), trace.T
    s = (trace.h if wrt == "h" else trace.xs)[t]
    n = len(s)
    eps = CHECK_EPS * np.maximum(1.0, np.abs(s))  # (n,)
    steps = np.concatenate([eps, -eps, eps / 4, -eps / 4])[:, None] * np.tile(np.eye(n), (4, 1))
    with np.errstate(over="ignore", invalid="ignore"):
        ends = _final_states(trace, t, wrt, s[None] + steps)  # (4n, H)
        J = (ends[:n] - ends[n : 2 * n]).T / (2 * eps)  # (H, n): column j is ∂h_{T-1}/∂s_t[j]
        J4 = (ends[2 * n : 3 * n] - ends[3 * n :]).T / (eps / 2)
        finite = bool(np.all(np.isfinite(J)) and np.all(np.isfinite(J4)))
        norms = [float(np.linalg.norm(m, 2)) if finite else math.inf for m in (J, J4)]
        size = np.maximum(1.0, np.abs(trace.h[T - 1]))[:, None]  # (H, 1)
        resolution = float(np.linalg.norm(CHECK_ROUNDING * size / (2 * eps[None])))
    analytic = float(jacobian_norms(trace, wrt, max_lag=T - 1 - t)[0])
    over = _overflow_step(trace, t)
    out = _verdict(analytic, norms[0], norms[1], resolution, over is not None)
    return out | {"eps": float(eps.max()), "overflow_step": over}


__all__ += [
    "CHECK_EPS",
    "CHECK_RESOLVE",
    "CHECK_ROUNDING",
    "CHECK_SETTLE",
    "CHECK_VERDICTS",
    "check_forward",
    "check_gradient",
    "check_jacobian_norm",
]
