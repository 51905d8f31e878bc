"""Training: loss curves of the three cells, and the gradient that reaches the first step.

Pure Plotly builders for the "Train" page (issue #5). A history is a mapping with at least
``"step"`` and ``"loss"`` sequences (``engine.train.history_columns`` gives one), keyed by cell.
Histories may be empty (not started), partial (still running) or end in NaN/inf (diverged):
a divergence is drawn and labelled ("diverged at step n"), never left as a blank curve.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from . import notation as nt
from . import style
from .style import CELL_COLORS, CELL_DASH, CELL_MARKERS, CELL_NAMES, PRESENTATION_FONT_SIZE

ORDER = ("rnn", "gru", "lstm")
BASELINE_COLOR = "#666666"

HOW_TO_READ = {
    "loss_curves": (
        "One line per cell, training loss against update step; the dashed grey line is what "
        "you get by always predicting the mean, so a useful model ends well below it."
    ),
    "first_step_gradient": (
        "How much gradient reaches the first step of each training sequence, on a log axis: "
        "a line falling to 10⁻⁸ means the cell cannot learn from the start of the sequence."
    ),
}

TITLE_CHARS = {False: 40, True: 60}
"""Title line length: the Train figures sit in half-width columns (full width when presenting)."""
LEGEND = {"orientation": "h", "x": 0.0, "yref": "container", "y": 0.0, "yanchor": "bottom"}
"""The legend sits at the bottom of the figure, below the x-axis title (never on it), in one
to four rows."""

GRADIENT_KEYS = {
    "grad_first": "‖∂L/∂h<sub>0</sub>‖, gradient reaching the first step",
    "grad_last": "‖∂L/∂h<sub>T</sub>‖, gradient where it enters",
    "grad_norm": "global gradient norm (before clipping)",
}
"""PyTorch's names of the history's gradient columns (:func:`gradient_label` in any notation)."""
_GRADIENT_AT = {"grad_first": "0", "grad_last": "T"}


def gradient_label(key: str, notation: str = "pytorch") -> str:
    """A gradient column's name (HTML) with the state in the notation: ‖∂L/∂a⟨0⟩‖ in
    deeplearning.ai's; unknown columns are escaped."""
    if key not in _GRADIENT_AT:
        return GRADIENT_KEYS.get(key, style.safe_text(key))
    state = nt.html_text(nt.indexed(notation, "rnn", "h", _GRADIENT_AT[key]))
    return f"‖∂L/∂{state}‖, {GRADIENT_KEYS[key].partition(', ')[2]}"


def _font_size(presentation: bool) -> int | None:
    return PRESENTATION_FONT_SIZE if presentation else None


def _ordered(histories: dict) -> list[str]:
    histories = histories or {}
    return [c for c in ORDER if c in histories] + [c for c in histories if c not in ORDER]


def _column(history, key: str) -> np.ndarray:
    """A history column as a float array (missing or None -> empty; None entries -> NaN)."""
    if history is None:
        return np.zeros(0)
    try:
        values = history[key]
    except (KeyError, TypeError, IndexError):
        return np.zeros(0)
    if values is None:
        return np.zeros(0)
    out = [np.nan if v is None else v for v in np.asarray(values, dtype=object).reshape(-1)]
    return np.asarray(out, dtype=np.float64)


def _series(history, key: str) -> tuple[np.ndarray, np.ndarray, int | None]:
    """(steps, values, diverged_at): the finite run up to the first non-finite value, and the
    step at which it diverged (None while every value is finite)."""
    y = _column(history, key)
    steps = _column(history, "step")
    n = len(y)
    if len(steps) != n:  # no (or a mismatched) step column: number the points 1..n
        steps = np.arange(1, n + 1, dtype=np.float64)
    bad = ~np.isfinite(y)
    if not np.any(bad):
        return steps, y, None
    i = int(np.argmax(bad))
    return steps[:i], y[:i], int(steps[i]) if math.isfinite(steps[i]) else i + 1


def _cell_name(c: str) -> str:
    return CELL_NAMES.get(c, style.safe_text(c))


def _empty_note(text: str) -> dict:
    return {
        "text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
        "showarrow": False, "font": {"color": "#777"},
    }  # fmt: skip


def _cell_traces(histories, key, *, log: bool, floor: float = 1e-30):
    """One line per cell, and a diverged marker + note for each cell that diverged.

    Returns (traces, notes, last step seen, number of points drawn)."""
    traces, notes, last_step, points = [], [], 0, 0
    for c in _ordered(histories):
        steps, y, diverged = _series(histories[c], key)
        points += len(steps) + (diverged is not None)
        if len(steps):
            last_step = max(last_step, int(np.nanmax(steps)))
        if diverged is not None:
            last_step = max(last_step, diverged)
        name = _cell_name(c)
        color = CELL_COLORS.get(c, "#333333")
        shown = np.maximum(np.abs(y), floor) if log else y
        label = name if diverged is None else f"{name} (diverged at step {diverged})"
        traces.append(
            go.Scatter(
                x=steps,
                y=shown,
                mode="lines+markers" if len(steps) < 2 else "lines",
                name=label,
                line={"color": color, "dash": CELL_DASH.get(c, "solid"), "width": 2.5},
                marker={"symbol": CELL_MARKERS.get(c, "circle"), "size": 7},
                text=[style.fmt_grad(float(v)) if log else f"{v:.4g}" for v in y.tolist()],
                hovertemplate=f"{name} · step %{{x}} · %{{text}}<extra></extra>",
            )
        )
        if diverged is not None:
            at = float(shown[-1]) if len(shown) else (floor if log else 0.0)
            traces.append(
                go.Scatter(
                    x=[diverged],
                    y=[at],
                    mode="markers+text",
                    marker={"symbol": "x", "size": 14, "color": color, "line": {"width": 2}},
                    text=[f"{name} diverged at step {diverged}"],
                    textposition="top left",
                    textfont={"color": color},
                    name=f"{name} diverged",
                    showlegend=False,
                    hovertemplate=f"{name}: loss became NaN/∞ at step {diverged}<extra></extra>",
                )
            )
            notes.append(f"{name} diverged at step {diverged}")
    return traces, notes, last_step, points


def _step_axis(last_step: int, max_steps: int | None) -> dict:
    hi = max_steps if max_steps else max(last_step, 1)
    return {
        "title": {"text": "training step (updates)"},
        "range": [0, hi * 1.02 + 0.5],
        "gridcolor": "#eee",
        "zeroline": False,
    }


def loss_curves(
    histories: dict,
    baseline: float | None = None,
    *,
    ylabel: str = "loss",
    baseline_label: str = "chance (predict the mean)",
    max_steps: int | None = None,
    title: str = "Training loss of the three cells",
    presentation: bool = False,
) -> go.Figure:
    """The three cells' training loss on one axis, with a dashed chance baseline.

    Parameters
    ----------
    histories : dict[str, mapping]
        Cell -> history with ``"step"`` and ``"loss"`` sequences (empty or partial allowed).
    baseline : float, optional
        The loss of the chance predictor; drawn as a dashed line labelled ``baseline_label``.
    ylabel : str
        The y axis title, with its unit (e.g. ``"MSE loss (squared units)"``).
    max_steps : int, optional
        The step budget: fixes the x range so the axis does not jump while training runs.

    A run whose loss becomes NaN or inf is drawn up to its last finite value, marked with an
    × and labelled "diverged at step n" (legend and figure).
    """
    traces, notes, last_step, points = _cell_traces(histories, "loss", log=False)
    layout = style.base_layout(title, height=470, font_size=_font_size(presentation))
    layout.update(
        xaxis=_step_axis(last_step, max_steps),
        yaxis={"title": {"text": ylabel}, "gridcolor": "#eee", "rangemode": "tozero"},
        hovermode="closest",
        showlegend=True,  # the chance line is named there, even before any cell has a curve
        legend=LEGEND,
        margin={"l": 80, "r": 30, "t": 70, "b": 160},
    )
    annotations = []
    if baseline is not None and math.isfinite(float(baseline)):
        # Named in the legend, not on the line: the RNN's curve often lies right on it.
        b = float(baseline)
        hi = max_steps if max_steps else max(last_step, 1)
        traces.append(
            go.Scatter(
                x=[0, hi * 1.02 + 0.5],
                y=[b, b],
                mode="lines",
                name=baseline_label,
                line={"color": BASELINE_COLOR, "dash": "dash", "width": 1.5},
                hovertemplate=f"{baseline_label}: {b:.4g}<extra></extra>",
            )
        )
    if not points:
        annotations.append(_empty_note("no training steps yet: press ▶ to train"))
    if notes:
        layout["title"]["text"] = f"{title} · " + "; ".join(notes)
    layout["annotations"] = annotations
    style.fit_title(layout, TITLE_CHARS[bool(presentation)])
    return go.Figure(data=traces, layout=layout)


def first_step_gradient(
    histories: dict,
    key: str = "grad_first",
    *,
    max_steps: int | None = None,
    title: str | None = None,
    y_floor: float = 1e-30,
    presentation: bool = False,
    notation: str = "pytorch",
) -> go.Figure:
    """A gradient norm from the histories over training, on a log y axis, one line per cell.

    ``key`` is a history column: ``"grad_first"`` (the gradient reaching h_0, default),
    ``"grad_last"`` or ``"grad_norm"``. Zeros and values below ``y_floor`` sit at the floor;
    NaN/inf mark the run "diverged at step n" as in :func:`loss_curves`. ``notation`` names
    the state (:func:`gradient_label`).
    """
    what = gradient_label(key, notation)
    traces, notes, last_step, points = _cell_traces(histories, key, log=True, floor=y_floor)
    symbol, _, meaning = what.partition(", ")
    title = title or (f"Over training: {meaning}, {symbol}" if meaning else what)
    layout = style.base_layout(title, height=470, font_size=_font_size(presentation))
    layout.update(
        xaxis=_step_axis(last_step, max_steps),
        yaxis={
            "type": "log",
            "title": {"text": f"{symbol} (log scale)"},
            "exponentformat": "power",
            "gridcolor": "#eee",
        },
        hovermode="closest",
        legend=LEGEND,
        margin={"l": 80, "r": 30, "t": 70, "b": 160},
    )
    annotations = []
    if not points:
        annotations.append(_empty_note("no training steps yet: press ▶ to train"))
    if notes:
        layout["title"]["text"] = f"{title} · " + "; ".join(notes)
    layout["annotations"] = annotations
    style.fit_title(layout, TITLE_CHARS[bool(presentation)])
    return go.Figure(data=traces, layout=layout)
