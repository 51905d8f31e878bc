"""Cached computations: the only place pages get numbers from.

Every function here is a thin, cached call into the engine keyed by plain values (a
:class:`~ui.state.Lesson` is frozen and hashable). Caches are bounded (``max_entries`` and a
``ttl``) so a classroom of sessions cannot grow the server without limit. Figures are rebuilt
from the cached results by the pure builders in ``figures/``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import streamlit as st

import engine
from engine import inputs, tasks, theory
from engine.cells import GRAD_LIMIT, STATE_LIMIT
from engine.inputs import Sequence
from figures.notation import GRU_RESET

from .state import DEFAULT, Lesson

CACHE = {"max_entries": 64, "ttl": 3600, "show_spinner": False, "hash_funcs": {Lesson: repr}}
"""Bounded caches; a Lesson (frozen, plain values) is hashed by its repr: 0.005 ms against
Streamlit's generic hashing's 0.24 ms per call (bench/profile.py)."""
CSV_LIMITS = inputs.Limits(max_chars=1_000_000)  # an upload may be as large as the 1 MB cap
JACOBIAN_BUDGET = 2.0e9
"""Floating-point operations allowed for the three cells' Jacobian norms of one lesson: at
large H the exact Jacobians are computed for the most recent lags only (said on screen)."""


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


def trained_spec(lesson: Lesson):
    """The lesson's trained-cells spec (:class:`ui.training.TrainedSpec`), or None for the
    untrained lesson. Raises InputError with a learner-facing message on a bad link."""
    from . import training

    return training.parse_trained(lesson.trained) if lesson.trained else None


def input_key(lesson: Lesson) -> Lesson:
    """The lesson with everything that does not change the input sequence set to defaults (a
    trained lesson's input depends on its ``trained`` field only)."""
    if lesson.trained:
        return dataclasses.replace(DEFAULT, trained=lesson.trained)
    return dataclasses.replace(
        lesson,
        cell="lstm", H=16, init="uniform", scale=1.0, forget_bias=1.0, update_bias=0.0,
        activation="tanh", measure="x", step=0, unit=0, mode="forward", present=False,
        notation="pytorch",
        label_column=lesson.label_column if lesson.source == "csv" else "auto",
        text=lesson.text if lesson.source == "text" else "",
        numbers=lesson.numbers if lesson.source == "numbers" else "",
    )  # fmt: skip


def model_key(lesson: Lesson, cell: str) -> Lesson:
    """The lesson reduced to what one cell's run depends on (a smaller cache key space). The
    notation is kept for the GRU only: deeplearning.ai's and Cho 2014's GRU is a different model
    (the reset gate before the recurrent product); trained cells keep the model they were
    trained as."""
    if lesson.trained:
        return dataclasses.replace(input_key(lesson), cell=cell)
    return dataclasses.replace(
        input_key(lesson),
        cell=cell, H=lesson.H, init=lesson.init, scale=lesson.scale,
        forget_bias=lesson.forget_bias if cell == "lstm" else 1.0,
        update_bias=lesson.update_bias if cell == "gru" else 0.0,
        activation=lesson.activation if cell == "rnn" else "tanh",
        notation=lesson.notation if cell == "gru" else "pytorch",
    )  # fmt: skip


def gru_reset(key: Lesson) -> str:
    """Where the run's GRU applies its reset gate: the notation's model (trained cells and the
    other cells: ``"after"``, PyTorch's)."""
    return GRU_RESET[key.notation] if key.cell == "gru" and not key.trained else "after"


def _task_sequence(spec) -> Sequence:
    """A fresh sequence of a trained lesson's task, its decisive steps marked in the labels."""
    from . import training

    task = tasks.TASKS[spec.task]
    s = tasks.sample(task, spec.lag, training.sample_seed(spec))
    return Sequence(s.xs, s.labels, s.features, kind="task", name=f"{task.name}, lag {spec.lag}")


@st.cache_data(**CACHE)
def _sequence(key: Lesson, csv_text: str | None) -> tuple[Sequence, int]:
    if key.trained:
        return _task_sequence(trained_spec(key)), 0
    if key.source == "preset":
        name = key.preset
        if name in inputs.NUMERIC_PRESETS:
            return inputs.preset(name, steps=key.T, seed=key.seed), 0
        seq = inputs.preset(
            name, unit=key.tokens, encoding=key.encoding, dim=key.dim, seed=key.seed
        )
    elif key.source == "text":
        seq = inputs.encode_text(
            key.text, unit=key.tokens, encoding=key.encoding, dim=key.dim, seed=key.seed
        )
    elif key.source == "numbers":
        seq = inputs.parse_numbers(key.numbers)
    else:
        if not csv_text:
            raise engine.InputError("Upload a CSV file first (one row per step).")
        seq = inputs.parse_csv(
            csv_text, label_column=csv_label_column(key.label_column), limits=CSV_LIMITS
        )
    full = seq.T
    if full > key.T:  # only the first T steps are used
        seq = dataclasses.replace(seq, values=seq.values[: key.T], labels=seq.labels[: key.T])
    return seq, full


def csv_label_column(choice: str) -> str | None:
    """The lesson's label-column choice as :func:`engine.inputs.parse_csv` takes it: ``"auto"``,
    ``"none"`` (every column a feature) or a column's header name."""
    return None if choice == "none" else choice


def _csv(lesson: Lesson, csv_text: str | None) -> str | None:
    """The upload, when the lesson's input is the upload (never for trained cells)."""
    return csv_text if lesson.source == "csv" and not lesson.trained else None


def sequence(lesson: Lesson, csv_text: str | None = None) -> tuple[Sequence, int]:
    """The lesson's input as a Sequence, and its full length before the first-T cut
    (0 when nothing was cut). Raises InputError with a learner-facing message."""
    seq, full = _sequence(input_key(lesson), _csv(lesson, csv_text))
    return seq, (full if full > seq.T else 0)


def params_for(lesson: Lesson, cell: str, D: int) -> dict:
    """The cell's parameters for the lesson's knobs (deterministic by seed)."""
    return engine.init_params(
        cell, D, lesson.H, seed=lesson.seed, recurrent_init=lesson.init,
        recurrent_scale=lesson.scale, forget_bias=lesson.forget_bias if cell == "lstm" else None,
        update_bias=lesson.update_bias if cell == "gru" else None,
    )  # fmt: skip


@st.cache_data(**CACHE)
def _run(key: Lesson, csv_text: str | None) -> Run:
    seq, _ = _sequence(input_key(key), csv_text)
    if key.trained:
        from . import training

        spec = trained_spec(key)
        params = training.trained_results(spec)[key.cell].params
        trace = engine.forward(key.cell, params, seq.values, nonlinearity=spec.activation)
    else:
        params = params_for(key, key.cell, seq.D)
        trace = engine.forward(key.cell, params, seq.values, nonlinearity=key.activation,
                               gru_reset=gru_reset(key))  # fmt: skip
    grads = engine.backward(trace, theory.last_step_seed(trace))
    return Run(key.cell, trace, grads, seq.labels)


def run(lesson: Lesson, cell: str | None = None, csv_text: str | None = None) -> Run:
    """Forward and BPTT (loss = Σ h_T) of one cell on the lesson's sequence, cached."""
    key = model_key(lesson, cell or lesson.cell)
    return _run(key, _csv(lesson, csv_text))


@dataclass(frozen=True)
class Comparison:
    """The three cells side by side for the vanishing-gradient page."""

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


@st.cache_data(**CACHE)
def _compare(lesson: Lesson, csv_text: str | None) -> Comparison:
    runs = {c: run(lesson, c, csv_text) for c in engine.CELLS}
    T, H = runs["rnn"].trace.T, runs["rnn"].trace.H
    measure = lesson.measure
    first = 0 if measure == "bptt" else T - jacobian_lags(T, H)
    curves, extra = {}, {}
    for cell, r in runs.items():
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


def compare(lesson: Lesson, csv_text: str | None = None) -> Comparison:
    """RNN, GRU and LSTM on the same sequence with the same H and seed, cached."""
    key = dataclasses.replace(lesson, cell="lstm", step=0, unit=0, mode="forward", present=False)
    if lesson.trained:  # the trained cells and the measure are all a trained comparison uses
        key = dataclasses.replace(input_key(lesson), measure=lesson.measure)
    return _compare(key, _csv(lesson, csv_text))
