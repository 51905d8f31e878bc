"""Cached runs of the "GRU reset placement" page: the lesson's GRU through both reset
placements, and a model loaded from an uploaded file on the lesson's input.

Like :mod:`ui.compute`, every function is a thin cached call into the engine keyed by plain
values; the page builds its figures from the results with :mod:`figures.variants`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import streamlit as st

import engine
from engine import InputError
from figures import variants as fv
from figures.notation import ufill

from . import compute, keys, layout, state
from .state import Lesson

UPLOAD = "s__reset_weights"
"""Session key of the uploaded weights: ``(file name, bytes)`` (kept across reruns; a widget's
file is gone once its page is left)."""
_UPLOADER = "s__reset_uploader"  # the uploader's generation (see :func:`uploader_key`)


@dataclass(frozen=True)
class Variants:
    """The same GRU weights and input through both reset placements."""

    traces: dict  # "after" / "before" -> engine.Trace
    norms: dict  # "after" / "before" -> (n,) ‖∂h_T/∂h_t‖₂, the last n steps (lag 0 last)
    labels: tuple[str, ...]

    @property
    def first(self) -> int:
        """The first step the norms cover (0 unless the Jacobians were cut to the budget)."""
        return len(self.labels) - len(self.norms["after"])


@dataclass(frozen=True)
class LoadedRun:
    """An uploaded model on the lesson's input."""

    cell: str
    variant: str
    trace: engine.Trace
    norms: np.ndarray  # (n,) ‖∂h_T/∂h_t‖₂, the last n steps (inf: across an overflowed state)
    labels: tuple[str, ...]

    @property
    def lag_labels(self) -> tuple[str, ...]:
        """The tokens of the steps the norms cover."""
        return self.labels[len(self.labels) - len(self.norms) :]


def _norms(trace) -> np.ndarray:
    """‖∂h_T/∂h_t‖₂ for as many recent lags as the page's Jacobian budget allows."""
    lags = compute.jacobian_lags(trace.T, trace.H)
    return engine.jacobian_norms(trace, "h", max_lag=lags - 1)


@st.cache_data(**compute.CACHE)
def _variants(key: Lesson, csv: bytes | None) -> Variants:
    run = compute.run(key, "gru", csv)  # the lesson's GRU: its parameters and input
    traces = {
        p: run.trace
        if run.trace.gru_reset == p
        else engine.forward("gru", run.trace.params, run.trace.xs, gru_reset=p)
        for p in fv.VARIANTS
    }
    return Variants(traces, {v: _norms(t) for v, t in traces.items()}, tuple(run.labels))


def variants(lesson: Lesson, csv: bytes | None = None) -> Variants:
    """The lesson's GRU (its sequence and parameters) with the reset after and before the
    recurrent product, cached. Raises InputError with a learner-facing message."""
    return _variants(compute.model_key(lesson, "gru"), csv if lesson.source == "csv" else None)


def variants_or_stop(lesson: Lesson) -> Variants:
    """:func:`variants`, or a clean stop on bad input."""
    try:
        return variants(lesson, layout.csv_upload())
    except InputError as err:
        layout.show_input_error(err)


def _width_hint(lesson: Lesson, D: int, now: int) -> str:
    """What to change in the sidebar so the lesson's input (``now`` features) has D."""
    text = lesson.source == "preset" and lesson.preset not in state.NUMERIC_PRESETS
    if text or lesson.source == "text":
        top = state.RANGES["dim"][1]
        if D > top:
            return f"use other weights: the sidebar's 'Input width D' goes up to {top}"
        if lesson.encoding == "onehot" and D > now:  # the one-hot code is cut at the vocabulary
            return (
                f"choose the Embedding encoding and set 'Input width D' in the sidebar to {D} "
                f"(a one-hot code of this text has at most {now} columns)"
            )
        return f"set 'Input width D' in the sidebar to {D}"
    if lesson.source == "numbers":
        return f"give {D} numbers per step in 'Your numbers' (steps separated by ';')"
    if lesson.source == "csv":
        return f"upload a CSV file with {D} feature columns"
    return "choose a text input and set 'Input width D' in the sidebar"


@st.cache_data(**compute.CACHE)
def _loaded(data: bytes, filename: str, key: Lesson, csv: bytes | None) -> LoadedRun:
    model = engine.load_params(data, filename, max_hidden=state.MAX_H)
    seq, _ = compute.sequence(key, csv)
    D = model.params["weight_ih"].shape[1]
    if D != seq.D:
        raise InputError(
            f"The weights in {filename} expect D = {D} input features per step (weight_ih has "
            f"{D} columns); the lesson's sequence has D = {seq.D}. To run them, "
            f"{_width_hint(key, D, seq.D)}, or upload weights trained on {seq.D} features."
        )
    trace = engine.forward(
        model.cell, model.params, seq.values, nonlinearity=key.activation,
        gru_reset=model.variant,
    )  # fmt: skip
    norms = _norms(trace)
    if model.cell == "rnn":  # a ReLU state clipped at 1e100 reads as a 0 derivative: overflow
        norms = np.where(compute.overflow_lags(trace, "h", trace.T - len(norms)), np.inf, norms)
    return LoadedRun(model.cell, model.variant, trace, norms, tuple(seq.labels))


def loaded(lesson: Lesson, data: bytes, filename: str, csv: bytes | None = None) -> LoadedRun:
    """The uploaded weights (any layout :func:`engine.load_params` reads) run on the lesson's
    input, cached. Raises InputError with a learner-facing message (a bad file, a hidden size
    above the app's limit, or an input width that does not match)."""
    key = dataclasses.replace(compute.input_key(lesson), activation=lesson.activation)
    return _loaded(data, filename, key, csv if lesson.source == "csv" else None)


def uploader_key() -> str:
    """The weights uploader's key, ``reset_upload_<n>``: a new n empties it (forget)."""
    return f"{keys.RESET_UPLOAD}_{st.session_state.get(_UPLOADER, 0)}"


def remember_upload(key: str) -> None:
    """on_change of the weights uploader: keep the file (or forget it when removed)."""
    file = st.session_state.get(key)
    if file is None:
        st.session_state.pop(UPLOAD, None)
    else:
        st.session_state[UPLOAD] = (file.name, file.getvalue())


def forget_upload() -> None:
    """Forget the uploaded weights and give the uploader a new, empty key."""
    st.session_state.pop(UPLOAD, None)
    st.session_state[_UPLOADER] = st.session_state.get(_UPLOADER, 0) + 1


def series(v: Variants, notation: str = "pytorch") -> dict:
    """The page's numbers as named per-timestep series (oldest step first): each placement's
    ‖∂h_T/∂h_t‖₂ (inf from a lag that reached the engine's 1e100 cap on: overflow),
    max_k |h_before − h_after| and every per-unit state and gate of both runs, named in the
    notation's export columns (deeplearning.ai's c, Gamma_r and 1-Gamma_u holding z, as Step
    through's downloads)."""
    from engine import export
    from figures.notation import export_names

    names = export_names(notation, "gru")
    h = names.get("h", "h")
    out = {f"{p} |d{h}_T/d{h}_t|": fv.capped(v.norms[p]) for p in v.traces}
    diff = np.abs(v.traces["before"].h - v.traces["after"].h)
    out[f"max_k |{h}_before - {h}_after|"] = diff.max(axis=-1)
    for p, trace in v.traces.items():
        for name, block in export.columns(trace, notation=names).items():
            if name == "x":
                continue
            for k in range(block.shape[1]):
                out[f"{p} {name}[{k}]"] = block[:, k]
    return out


def downloads(v: Variants, lesson: Lesson, *, key: str) -> None:
    """CSV and JSON downloads of both runs (built on click), beside the lesson file, like
    every page; none in presentation mode. The JSON records every setting and the weights."""
    from engine import export

    params = {k: a.tolist() for k, a in v.traces["after"].params.items()}
    meta = {"variants": {"after": "PyTorch", "before": "Cho 2014"}, "first_step": v.first,
            "params": params}  # fmt: skip
    jac = ufill("‖∂@h_last@/∂@h@‖", lesson.notation, "gru")
    quantities = ", ".join(ufill(f"@{q}@", lesson.notation, "gru") for q in ("h", "r", "z", "n"))
    layout._download_pair(
        lesson, key=key, name="gatescope_gru_reset", heading="Download these numbers",
        caption="Both runs as exact float64 numbers, one row per timestep (t from 0): each "
        f"placement's {jac}₂, the largest state difference, and every unit's {quantities}; "
        "the JSON also records every setting and the shared weights. Every figure also has a "
        "PNG button in its toolbar.",
        csv_label="⬇ CSV: one row per timestep",
        csv_text=lambda: export.series_to_csv(series(v, lesson.notation), v.labels),
        json_label="⬇ JSON: numbers, weights and settings",
        json_text=lambda: export.series_to_json(
            series(v, lesson.notation), v.labels, settings=state.settings(lesson), meta=meta
        ),
    )  # fmt: skip
