"""Cached computations: the only place pages get numbers from.

Every function here is a thin, cached call into the Streamlit-free core :mod:`lesson.compute`
(which the offline lesson file uses too, so both show the same numbers under the same rules),
keyed by plain values (a :class:`~ui.state.Lesson` is frozen and hashable). Caches are bounded
(``max_entries`` and a ``ttl``) so a classroom of sessions cannot grow the server without
limit. Figures are rebuilt from the cached results by the pure builders in ``figures/``.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

import engine
from engine import tasks
from engine.inputs import Sequence
from lesson import compute as core
from lesson.compute import (  # noqa: F401  (the app's names for the core's)
    CSV_LIMITS,
    JACOBIAN_BUDGET,
    Comparison,
    Run,
    capped_lags,
    csv_label_column,
    gru_reset,
    jacobian_lags,
    overflow_lags,
    params_for,
)

from .state import DEFAULT, Lesson

CACHE = {"max_entries": 64, "ttl": 3600, "show_spinner": False, "hash_funcs": {Lesson: repr}}
"""Bounded caches; a Lesson (frozen, plain values) is hashed by its repr: 0.005 ms against
Streamlit's generic hashing's 0.24 ms per call (bench/profile.py)."""


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
    return core.sequence(key, csv_text)


def _csv(lesson: Lesson, csv_text: str | None) -> str | None:
    """The upload, when the lesson's input is the upload (never for trained cells)."""
    return csv_text if lesson.source == "csv" and not lesson.trained else None


def sequence(lesson: Lesson, csv_text: str | None = None) -> tuple[Sequence, int]:
    """The lesson's input as a Sequence, and its full length before the first-T cut
    (0 when nothing was cut). Raises InputError with a learner-facing message."""
    return _sequence(input_key(lesson), _csv(lesson, csv_text))


@st.cache_data(**CACHE)
def _run(key: Lesson, csv_text: str | None) -> Run:
    seq, _ = _sequence(input_key(key), csv_text)
    if key.trained:
        from . import training

        spec = trained_spec(key)
        params = training.trained_results(spec)[key.cell].params
        return core.run(key, seq, key.cell, params=params, nonlinearity=spec.activation)
    return core.run(key, seq, key.cell)


def run(lesson: Lesson, cell: str | None = None, csv_text: str | None = None) -> Run:
    """Forward and BPTT (loss = Σ h_T) of one cell on the lesson's sequence, cached."""
    key = model_key(lesson, cell or lesson.cell)
    return _run(key, _csv(lesson, csv_text))


@st.cache_data(**CACHE)
def _compare(lesson: Lesson, csv_text: str | None) -> Comparison:
    return core.compare(lesson, {c: run(lesson, c, csv_text) for c in engine.CELLS})


def compare(lesson: Lesson, csv_text: str | None = None) -> Comparison:
    """RNN, GRU and LSTM on the same sequence with the same H and seed, cached."""
    key = dataclasses.replace(lesson, cell="lstm", step=0, unit=0, mode="forward", present=False)
    if lesson.trained:  # the trained cells and the measure are all a trained comparison uses
        key = dataclasses.replace(input_key(lesson), measure=lesson.measure)
    return _compare(key, _csv(lesson, csv_text))
