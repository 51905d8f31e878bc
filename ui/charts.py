"""Cached figures: a figure is built once per lesson and options, then shared by every session.

Building a figure with a few hundred animation frames costs tens of milliseconds; a classroom of
thirty sessions opening the same link would pay that thirty times. The builders in ``figures/``
are pure functions of the cached runs, so their figures are cached here too, as shared objects
(``st.cache_resource``: no copy per hit; ``st.plotly_chart`` only reads a figure). Bounded like
every cache in the app.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine import theory
from figures import gates, gradients
from figures.notation import ufill

from . import compute
from .layout import csv_upload
from .state import Lesson

FIGURES = {"max_entries": 48, "ttl": 900, "show_spinner": False, "hash_funcs": {Lesson: repr}}
"""At T = 2000 one figure with its frames holds up to ~10 MB: 48 entries bound the memory. A
lesson is hashed by its ``repr`` (a frozen dataclass of plain values, so the repr is exact):
0.005 ms instead of 0.24 ms for Streamlit's generic hash of a dataclass (``dataclasses.asdict``
and a walk of the dict), on every cached call of every rerun."""


class SharedFigure(go.Figure):
    """A cached figure, shared read-only by every session, whose plain dict is built once.

    ``st.plotly_chart`` turns a figure into JSON through ``figure.to_dict()``, which deep-copies
    every trace, the layout and each animation frame and then base64-encodes the arrays: half
    the server time of a Gates over time rerun (bench/profile.py). A shared figure never
    changes, so its dict is built once, when it is cached (:func:`share`), and every rerun of
    every session reuses it. Nothing may modify a shared figure or its dict."""

    def to_dict(self) -> dict:
        built = self.__dict__.get("_shared_dict")
        return built if built is not None else super().to_dict()


def share(fig: go.Figure) -> SharedFigure:
    """The figure as a :class:`SharedFigure` (the same object, no copy), its dict built now."""
    fig.__class__ = SharedFigure
    fig._shared_dict = go.Figure.to_dict(fig)
    return fig


def _one_cell(run: compute.Run, name: str, options: dict) -> go.Figure:
    trace, labels = run.trace, run.labels
    if name == "gate_heatmaps":
        return gates.gate_heatmaps(trace, labels=labels, **options)
    if name == "step_bars":
        return gates.step_bars(trace, labels=labels, **options)
    if name == "unit_lines":
        return gates.unit_lines(trace, labels=labels, **options)
    if name == "saturation_strip":
        return gates.saturation_strip(theory.gate_saturation(trace), labels=labels, **options)
    raise KeyError(name)


@st.cache_resource(**FIGURES)
def _cell_figure(name: str, key: Lesson, csv: bytes | None, options: tuple) -> go.Figure:
    return share(_one_cell(compute.run(key, key.cell, csv), name, dict(options)))


def cell_figure(name: str, lesson: Lesson, **options) -> go.Figure:
    """One cell's figure (``gate_heatmaps``, ``step_bars``, ``unit_lines``,
    ``saturation_strip``) for the lesson, built once and shared, in the lesson's notation (part
    of the cache key: the model key keeps it for the GRU only)."""
    key = compute.model_key(lesson, lesson.cell)
    options = {**options, "notation": lesson.notation}
    return _cell_figure(name, key, csv_upload(), tuple(sorted(options.items())))


@st.cache_resource(**FIGURES)
def _comparison_figure(name: str, key: Lesson, csv: bytes | None, options: tuple) -> go.Figure:
    return share(_comparison(name, key, csv, options))


def _comparison(name: str, key: Lesson, csv: bytes | None, options: tuple) -> go.Figure:
    cmp = compute.compare(key, csv)
    options = dict(options)
    notation = options.pop("notation", "pytorch")
    labels = cmp.labels[cmp.first :]
    if name == "gradient_strips":  # its title and measure come in the notation already
        return gradients.gradient_strips(cmp.curves, labels=labels, **options)
    if name == "gradient_vs_lag":
        return gradients.gradient_vs_lag(
            cmp.curves, bound=cmp.bound, extra=extra_named(cmp.extra, notation), labels=labels,
            **options,
        )  # fmt: skip
    if name in ("lstm_path", "gru_path"):
        split = cmp.lstm_path if name == "lstm_path" else cmp.gru_path
        cell = name.split("_")[0]
        return gradients.path_split(
            split["total"], split["path"], cell=cell, labels=cmp.labels, notation=notation,
            **options,
        )  # fmt: skip
    if name == "why_factors":
        lag = options.pop("lag")
        T = len(cmp.rnn_factors)
        measured = np.concatenate([np.full(T - len(cmp.rnn_measured), np.nan), cmp.rnn_measured])
        return gradients.why_factors(
            cmp.rnn_factors[T - lag :], cell="rnn", lag=lag,
            measured=measured[T - 1 - lag : T - 1], nonlinearity=cmp.nonlinearity,
            notation=notation, **options,
        )  # fmt: skip
    raise KeyError(name)


def comparison_figure(name: str, lesson: Lesson, **options) -> go.Figure:
    """A figure of the three-cell comparison (``gradient_strips``, ``gradient_vs_lag``,
    ``lstm_path``, ``gru_path``, ``why_factors`` with ``lag=k``: the RNN's product of the last
    k local factors beside its measured norm), built once and shared, in the lesson's notation
    (part of the cache key)."""
    key = dataclasses.replace(lesson, cell="lstm", step=0, unit=0, mode="forward", present=False)
    options = {**options, "notation": lesson.notation}
    return _comparison_figure(name, key, csv_upload(), tuple(sorted(options.items())))


def extra_named(extra: dict, notation: str) -> dict:
    """The comparison's extra curves under their names in the notation (the LSTM's
    ‖dL/dc_t‖: deeplearning.ai's ‖dL/dc⟨t⟩‖, colah's ‖dL/dC_t‖)."""
    template = "LSTM ‖dL/d@c@‖"
    pytorch = ufill(template, "pytorch", "lstm")
    return {(ufill(template, notation, "lstm") if k == pytorch else k): v for k, v in extra.items()}
