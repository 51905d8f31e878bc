"""Cached figures: a figure is built once per lesson and options, then shared by every session.

Building a figure with a few hundred animation frames costs tens of milliseconds; a classroom of
thirty sessions opening the same link would pay that thirty times. The builders in ``figures/``
are pure functions of the cached runs, so their figures are cached here too, as shared objects
(``st.cache_resource``: no copy per hit; ``st.plotly_chart`` only reads a figure). Bounded like
every cache in the app.
"""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import streamlit as st

from engine import theory
from figures import gates, gradients

from . import compute
from .layout import csv_upload
from .state import Lesson

FIGURES = {"max_entries": 48, "ttl": 900, "show_spinner": False}
"""At T = 2000 one figure with its frames holds up to ~10 MB: 48 entries bound the memory."""


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
    return _one_cell(compute.run(key, key.cell, csv), name, dict(options))


def cell_figure(name: str, lesson: Lesson, **options) -> go.Figure:
    """One cell's figure (``gate_heatmaps``, ``step_bars``, ``unit_lines``,
    ``saturation_strip``) for the lesson, built once and shared."""
    key = compute.model_key(lesson, lesson.cell)
    return _cell_figure(name, key, csv_upload(), tuple(sorted(options.items())))


@st.cache_resource(**FIGURES)
def _comparison_figure(name: str, key: Lesson, csv: bytes | None, options: tuple) -> go.Figure:
    cmp = compute.compare(key, csv)
    options = dict(options)
    labels = cmp.labels[cmp.first :]
    if name == "gradient_strips":
        return gradients.gradient_strips(cmp.curves, labels=labels, **options)
    if name == "gradient_vs_lag":
        return gradients.gradient_vs_lag(
            cmp.curves, bound=cmp.bound, extra=cmp.extra, labels=labels, **options
        )
    if name in ("lstm_path", "gru_path"):
        split = cmp.lstm_path if name == "lstm_path" else cmp.gru_path
        cell = name.split("_")[0]
        return gradients.path_split(
            split["total"], split["path"], cell=cell, labels=cmp.labels, **options
        )
    if name == "why_factors":
        lag = options.pop("lag")
        T = len(cmp.rnn_factors)
        return gradients.why_factors(cmp.rnn_factors[T - lag :], cell="rnn", lag=lag, **options)
    raise KeyError(name)


def comparison_figure(name: str, lesson: Lesson, **options) -> go.Figure:
    """A figure of the three-cell comparison (``gradient_strips``, ``gradient_vs_lag``,
    ``lstm_path``, ``gru_path``, ``why_factors``), built once and shared."""
    key = dataclasses.replace(lesson, cell="lstm", step=0, unit=0, mode="forward", present=False)
    return _comparison_figure(name, key, csv_upload(), tuple(sorted(options.items())))
