"""The numbers of one lesson, computed with the engine exactly as the app's pages do.

The app's pages get theirs from ``ui/compute.py`` (Streamlit-cached); the exporter runs without
Streamlit, so the same engine calls are made here, once per file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

import engine
from engine import inputs, theory
from engine.cells import STATE_LIMIT
from engine.inputs import Sequence

from .settings import Settings

JACOBIAN_BUDGET = 2.0e9
"""Floating-point operations allowed for the three cells' exact Jacobian norms (the app's
budget): at large H only the most recent lags are computed, and the file says so."""


def sequence(s: Settings, csv_text: str | bytes | None = None) -> tuple[Sequence, int]:
    """The lesson's input (its first T steps) and its full length when it was cut, else 0.
    Raises :class:`engine.InputError` with a learner-facing message."""
    if s.source == "preset" and s.preset in inputs.NUMERIC_PRESETS:
        return inputs.preset(s.preset, steps=s.T, seed=s.seed), 0
    if s.source == "preset":
        seq = inputs.preset(s.preset, unit=s.tokens, encoding=s.encoding, dim=s.dim, seed=s.seed)
    elif s.source == "text":
        seq = inputs.encode_text(s.text, unit=s.tokens, encoding=s.encoding, dim=s.dim, seed=s.seed)
    elif s.source == "numbers":
        seq = inputs.parse_numbers(s.numbers)
    else:
        if not csv_text:
            raise engine.InputError("A CSV lesson needs its CSV file (one row per step).")
        label = None if s.label_column == "none" else s.label_column
        seq = inputs.parse_csv(csv_text, label_column=label)
    if seq.T <= s.T:
        return seq, 0
    cut = dataclasses.replace(seq, values=seq.values[: s.T], labels=seq.labels[: s.T])
    return cut, seq.T


@dataclass(frozen=True)
class Run:
    """One cell on the lesson's sequence: forward, and BPTT of the loss L = Σ h_T."""

    cell: str
    trace: engine.Trace
    grads: engine.Grads
    labels: tuple[str, ...]


def run(s: Settings, seq: Sequence, cell: str) -> Run:
    """Forward and exact BPTT of one cell with the lesson's knobs (deterministic by seed)."""
    params = engine.init_params(
        cell, seq.D, s.H, seed=s.seed, recurrent_init=s.init, recurrent_scale=s.scale,
        forget_bias=s.forget_bias if cell == "lstm" else None,
        update_bias=s.update_bias if cell == "gru" else None,
    )  # fmt: skip
    act = s.activation if cell == "rnn" else "tanh"
    trace = engine.forward(cell, params, seq.values, nonlinearity=act)
    return Run(cell, trace, engine.backward(trace, theory.last_step_seed(trace)), seq.labels)


@dataclass(frozen=True)
class Comparison:
    """The three cells side by side (the Vanishing gradients page's numbers)."""

    curves: dict  # cell -> (n,) the measure per step, oldest first; inf where the RNN overflowed
    bound: np.ndarray  # (n,) the RNN's Pascanu bound (γ σ_max)^k times the measure's factor
    sigma_max: float  # σ_max(W_hh) of the RNN
    bound_holds: bool  # the RNN's curve stays under the bound wherever it is defined
    lstm_path: dict  # {"total", "path"}: ‖dL/dc_t‖ and its cell-state path
    gru_path: dict  # {"total", "path"}: ‖dL/dh_t‖ and its direct path
    rnn_factors: np.ndarray  # (T,) the RNN's local factors ‖diag(act') W_hh‖₂
    rnn_measured: np.ndarray  # (T,) the RNN's ‖∂h_{T-1}/∂h_t‖₂ (NaN where not computed)
    rnn_overflow: int | None  # the first step an RNN state reached the 1e100 cap
    nonlinearity: str
    first: int  # the first step the curves cover


def _overflowed(trace, measure: str) -> np.ndarray:
    """(T,) True where the RNN's number crosses a state clipped at the engine's cap: there the
    clipped derivative reads 0, so the value is written as inf (overflow), never as a vanished
    gradient."""
    capped = np.any(np.abs(trace.h) >= STATE_LIMIT, axis=-1)
    later = np.concatenate([np.cumsum(capped[::-1])[::-1][1:] > 0, [False]])
    return later | capped if measure == "x" else later


def compare(s: Settings, runs: dict[str, Run]) -> Comparison:
    """RNN, GRU and LSTM compared on the lesson's measure, with the RNN's bound and the gated
    cells' shortcut paths."""
    rnn = runs["rnn"].trace
    T, H = rnn.T, s.H
    lags = int(min(T, max(50, JACOBIAN_BUDGET // (16 * H**3))))  # 8 blocks, a multiply-add each
    first = 0 if s.measure == "bptt" else T - lags
    curves = {}
    for cell, r in runs.items():
        if s.measure == "bptt":
            curves[cell] = np.linalg.norm(r.grads.h, axis=-1)
        else:
            curves[cell] = engine.jacobian_norms(r.trace, s.measure, max_lag=T - 1 - first)
    factor = {
        "h": 1.0,
        "x": theory.activation_slope(rnn.nonlinearity) * theory.sigma_max(rnn.params["weight_ih"]),
        "bptt": float(np.linalg.norm(theory.last_step_seed(rnn)[-1])),
    }[s.measure]
    bound = theory.pascanu_bound(rnn)[first:] * factor
    over = _overflowed(rnn, s.measure)[first:]
    holds = bool(np.all(curves["rnn"][~over] <= bound[~over] * (1 + 1e-9)))
    curves["rnn"] = np.where(over, np.inf, curves["rnn"])
    measured = np.full(T, np.nan)
    measured[T - lags :] = engine.jacobian_norms(rnn, "h", max_lag=lags - 1)
    measured = np.where(_overflowed(rnn, "h"), np.inf, measured)
    capped = np.flatnonzero(np.any(np.abs(rnn.h) >= STATE_LIMIT, axis=-1))
    lstm = theory.lstm_cell_path(runs["lstm"].trace, runs["lstm"].grads)
    gru = theory.gru_direct_path(runs["gru"].trace, runs["gru"].grads)
    return Comparison(
        curves={c: curves[c] for c in engine.CELLS}, bound=bound,
        sigma_max=theory.sigma_max(rnn.params["weight_hh"]), bound_holds=holds,
        lstm_path={k: np.linalg.norm(v, axis=-1) for k, v in lstm.items()},
        gru_path={k: np.linalg.norm(v, axis=-1) for k, v in gru.items()},
        rnn_factors=theory.rnn_local_factors(rnn), rnn_measured=measured,
        rnn_overflow=int(capped[0]) if capped.size else None, nonlinearity=rnn.nonlinearity,
        first=first,
    )  # fmt: skip
