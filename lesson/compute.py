"""The numbers of one lesson: the one Streamlit-free computation core of gatescope.

The app's pages get their numbers from ``ui/compute.py``, thin ``st.cache_data`` wrappers over
the functions here; the offline lesson file (``python -m lesson``) calls them directly, once per
file. Both therefore show the same numbers under the same rules (the RNN's overflow marking,
the 1e100 gradient clip read as overflow, the Jacobian budget, the bound's factor).

Every function takes a lesson's settings by duck typing: anything with the attributes of
``ui.state.Lesson`` / :class:`lesson.settings.Settings` (``source``, ``preset``, ``text``,
``numbers``, ``tokens``, ``label_column``, ``encoding``, ``dim``, ``T``, ``H``, ``seed``,
``init``, ``scale``, ``forget_bias``, ``update_bias``, ``activation``, ``measure``; optionally
``notation`` and ``trained``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

import engine
from engine import inputs, theory
from engine.cells import GRAD_LIMIT, STATE_LIMIT
from engine.inputs import Sequence
from figures.notation import GRU_RESET

CSV_LIMITS = inputs.Limits(max_chars=1_000_000)  # an upload may be as large as the 1 MB cap
JACOBIAN_BUDGET = 2.0e9
"""Floating-point operations allowed for the three cells' Jacobian norms of one lesson: at
large H the exact Jacobians are computed for the most recent lags only (said on screen and in
the file)."""


@dataclass(frozen=True)
class Run:
    """One cell on the lesson's sequence: the forward trace and BPTT for a loss on h_T."""

    cell: str
    trace: engine.Trace
    grads: engine.Grads
    labels: tuple[str, ...]

    @property
    def grad_norms(self) -> np.ndarray:
        """(T,) ‖dL/dh_t‖: how much of the loss's gradient reaches each step."""
        return np.linalg.norm(self.grads.h, axis=-1)


def csv_label_column(choice: str) -> str | None:
    """The lesson's label-column choice as :func:`engine.inputs.parse_csv` takes it: ``"auto"``,
    ``"none"`` (every column a feature) or a column's header name."""
    return None if choice == "none" else choice


def sequence(s, csv_text: str | bytes | None = None) -> tuple[Sequence, int]:
    """The lesson's input (its first T steps) and its full length when it was cut, else 0.
    Raises :class:`engine.InputError` with a learner-facing message."""
    if s.source == "preset":
        if s.preset in inputs.NUMERIC_PRESETS:
            return inputs.preset(s.preset, steps=s.T, seed=s.seed), 0
        seq = inputs.preset(s.preset, unit=s.tokens, encoding=s.encoding, dim=s.dim, seed=s.seed)
    elif s.source == "text":
        seq = inputs.encode_text(s.text, unit=s.tokens, encoding=s.encoding, dim=s.dim, seed=s.seed)
    elif s.source == "numbers":
        seq = inputs.parse_numbers(s.numbers)
    else:
        if not csv_text:
            raise engine.InputError("Upload a CSV file first (one row per step).")
        seq = inputs.parse_csv(
            csv_text, label_column=csv_label_column(s.label_column), limits=CSV_LIMITS
        )
    if seq.T <= s.T:
        return seq, 0
    cut = dataclasses.replace(seq, values=seq.values[: s.T], labels=seq.labels[: s.T])
    return cut, seq.T  # only the first T steps are used


def gru_reset(s, cell: str | None = None) -> str:
    """Where the run's GRU applies its reset gate: the notation's model (``"before"`` for
    deeplearning.ai and Cho 2014, ``"after"`` for PyTorch's); ``"after"`` for the other cells
    and for trained cells (they keep the model they were trained as). ``cell`` defaults to
    ``s.cell``."""
    if (cell or s.cell) != "gru" or getattr(s, "trained", ""):
        return "after"
    return GRU_RESET[getattr(s, "notation", "pytorch")]


def params_for(s, cell: str, D: int) -> dict:
    """The cell's parameters for the lesson's knobs (deterministic by seed)."""
    return engine.init_params(
        cell, D, s.H, seed=s.seed, recurrent_init=s.init, recurrent_scale=s.scale,
        forget_bias=s.forget_bias if cell == "lstm" else None,
        update_bias=s.update_bias if cell == "gru" else None,
    )  # fmt: skip


def run(
    s, seq: Sequence, cell: str, *, params: dict | None = None, nonlinearity: str | None = None
) -> Run:
    """Forward and exact BPTT (loss L = Σ h_T) of one cell on ``seq``: with the lesson's
    knobs (deterministic by seed), or with given ``params`` and ``nonlinearity`` (trained
    cells)."""
    if params is None:
        params = params_for(s, cell, seq.D)
    if nonlinearity is None:
        nonlinearity = s.activation if cell == "rnn" else "tanh"
    trace = engine.forward(cell, params, seq.values, nonlinearity=nonlinearity,
                           gru_reset=gru_reset(s, cell))  # fmt: skip
    return Run(cell, trace, engine.backward(trace, theory.last_step_seed(trace)), seq.labels)


@dataclass(frozen=True)
class Comparison:
    """The three cells side by side (the Vanishing gradients page's numbers)."""

    curves: dict  # cell -> (n,) gradient norm for the chosen measure, oldest lag first
    extra: dict  # name -> (n,) extra curves (the LSTM's ‖dL/dc_t‖ for the BPTT measure)
    bound: np.ndarray | None  # (n,) the RNN's Pascanu bound (γ σ_max)^k
    sigma_max: float  # σ_max(W_hh) of the RNN
    bound_holds: bool  # the RNN's measured curve stays under the bound at every lag
    lstm_path: dict  # {"total": (n,), "path": (n,)}: ‖dL/dc_t‖ and its cell-state path
    gru_path: dict  # {"total": (n,), "path": (n,)}: ‖dL/dh_t‖ and its direct path
    rnn_factors: np.ndarray  # (T,) the RNN's local factors ‖diag(act') W_hh‖₂
    rnn_measured: np.ndarray  # (m,) measured ‖∂h_{T-1}/∂h_t‖₂ of the RNN, the last m steps
    rnn_overflow: int | None  # the first step an RNN state reached the 1e100 cap, if any
    nonlinearity: str  # the RNN's activation, "tanh" or "relu"
    first: int  # the first timestep the curves cover (0 unless Jacobians were truncated)
    labels: tuple[str, ...]

    def why_measured(self) -> np.ndarray:
        """(T,) the RNN's measured ‖∂h_{T-1}/∂h_t‖₂ per step t, NaN where not computed (the
        why panel's measurement, aligned with ``rnn_factors``)."""
        missing = len(self.rnn_factors) - len(self.rnn_measured)
        return np.concatenate([np.full(missing, np.nan), self.rnn_measured])


def jacobian_lags(T: int, H: int) -> int:
    """How many steps back the three cells' exact Jacobians fit in the budget."""
    per_step = 8 * 2 * H**3  # G = 1 + 3 + 4 blocks, a multiply-add each
    return int(min(T, max(50, JACOBIAN_BUDGET // per_step)))


def overflow_lags(trace, measure: str, first: int) -> np.ndarray:
    """(T - first,) True where the RNN's value for that step crosses a state clipped at the
    engine's 1e100 cap (overflow): there the clipped derivative reads 0, so the number is
    replaced by inf and drawn and named as overflow, never as a vanished gradient."""
    capped = np.any(np.abs(trace.h) >= STATE_LIMIT, axis=-1)  # (T,)
    after = np.zeros(len(capped), dtype=bool)  # any capped state among the steps s > t
    after[:-1] = np.cumsum(capped[::-1])[::-1][1:] > 0
    mask = after | capped if measure == "x" else after  # ∂h/∂x_t also crosses step t itself
    return mask[first:]


def _honest(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=np.float64)
    out[mask] = np.inf
    return out


def capped_lags(values: np.ndarray) -> np.ndarray:
    """(n,) True for every step at or before the latest one whose gradient norm reached the
    engine's GRAD_LIMIT (1e100), oldest step first. BPTT clips each gradient entry there, so
    from that step back the numbers are no longer the true gradient: they are shown as
    overflow. (A clipped entry of 1e100 makes the norm at least 1e100; past it the clipped
    values keep propagating and can read just below the cap.)"""
    values = np.asarray(values, dtype=np.float64)
    hit = np.flatnonzero(values >= GRAD_LIMIT)  # inf too; NaN (a lag not computed) is not
    mask = np.zeros(values.shape, dtype=bool)
    if hit.size:
        mask[: hit[-1] + 1] = True
    return mask


def _uncapped(values: np.ndarray) -> np.ndarray:
    return _honest(values, capped_lags(values))


def compare(s, runs: dict[str, Run]) -> Comparison:
    """RNN, GRU and LSTM (``runs``, one :class:`Run` per cell on the same sequence) compared on
    the lesson's measure ``s.measure``, with the RNN's bound and the gated cells' shortcut
    paths; overflow (a clipped state crossed, or a gradient clipped at 1e100) is inf."""
    T, H = runs["rnn"].trace.T, runs["rnn"].trace.H
    measure = s.measure
    first = 0 if measure == "bptt" else T - jacobian_lags(T, H)
    curves, extra = {}, {}
    for cell in engine.CELLS:
        r = runs[cell]
        if measure == "bptt":
            curves[cell] = r.grad_norms
        else:
            curves[cell] = engine.jacobian_norms(r.trace, measure, max_lag=T - 1 - first)
        curves[cell] = _uncapped(curves[cell])
    if measure == "bptt":
        extra["LSTM ‖dL/dc_t‖"] = _uncapped(np.linalg.norm(runs["lstm"].grads.c, axis=-1))
    rnn = runs["rnn"].trace
    sigma = theory.sigma_max(rnn.params["weight_hh"])
    gamma = theory.activation_slope(rnn.nonlinearity)
    # (γ σ_max)^k bounds ‖∂h_T/∂h_t‖; the other measures carry one more known factor
    factor = {
        "h": 1.0,
        "x": gamma * theory.sigma_max(rnn.params["weight_ih"]),  # ∂h_t/∂x_t = act' W_ih
        "bptt": float(np.linalg.norm(theory.last_step_seed(rnn)[-1])),  # ‖dL/dh_T‖
    }[measure]
    bound = theory.pascanu_bound(rnn)[first:] * factor
    over = overflow_lags(rnn, measure, first)
    over |= ~np.isfinite(curves["rnn"])  # clipped at GRAD_LIMIT: no true value to compare
    holds = bool(np.all(curves["rnn"][~over] <= bound[~over] * (1 + 1e-9)))
    curves["rnn"] = _honest(curves["rnn"], over)
    first_h = T - jacobian_lags(T, H)
    measured = (
        curves["rnn"]
        if measure == "h"
        else engine.jacobian_norms(rnn, "h", max_lag=T - 1 - first_h)
    )
    capped = np.flatnonzero(np.any(np.abs(rnn.h) >= STATE_LIMIT, axis=-1))
    lstm_split = theory.lstm_cell_path(runs["lstm"].trace, runs["lstm"].grads)
    gru_split = theory.gru_direct_path(runs["gru"].trace, runs["gru"].grads)

    def norms(split):
        return {k: _uncapped(np.linalg.norm(v, axis=-1)) for k, v in split.items()}

    return Comparison(
        curves=curves, extra=extra, bound=bound, sigma_max=sigma,
        bound_holds=holds, lstm_path=norms(lstm_split), gru_path=norms(gru_split),
        rnn_factors=theory.rnn_local_factors(rnn), first=first, labels=runs["rnn"].labels,
        rnn_measured=_uncapped(_honest(measured, overflow_lags(rnn, "h", T - len(measured)))),
        rnn_overflow=int(capped[0]) if capped.size else None, nonlinearity=rnn.nonlinearity,
    )  # fmt: skip
