"""Gates over time: every gate and state of every unit across the whole sequence.

Pure Plotly builders for the "Gates over time" page (issue #3). Each takes a Trace from
``engine.forward`` and returns a ``go.Figure``; none imports Streamlit.

- :func:`gate_heatmaps`: small multiples (units × time), one per gate/state, with a time cursor
  animated in the browser. The heatmaps are sent once; every animation frame only moves the
  cursor, so a 2000-step, 64-unit LSTM stays around a megabyte.
- :func:`step_bars`: the current step's vectors as bars, animated step by step.
- :func:`unit_lines`: one unit's gates and states over time, unified hover.
- :func:`saturation_strip`: the share of saturated units per gate and step.

Time axes are numeric (0..T-1) with token tick text; tokens are user text and always escaped.
"""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go

from engine.cells import STATE_LIMIT

from . import notation as nt
from . import style
from .style import (
    CELL_NAMES,
    CURSOR_BAND,
    CURSOR_LINE,
    GATE_NAMES,
    MAX_FRAMES,
    PRESENTATION_FONT_SIZE,
    SIGMOID_GATES,
    STEP_MS,
)

QUANTITIES = {
    "rnn": ("h",),
    "gru": ("r", "z", "n", "h"),
    "lstm": ("i", "f", "g", "o", "c", "h"),
}
"""The gates and states drawn for each cell, in the order of the cell's equations."""

MAX_CELLS = 100_000
"""Heatmap cells (panels × units × columns) sent at full time resolution. Longer runs show an
even subsample of steps (every k-th, always including the last; said in the title): float32
at 4 bytes a cell (base64) keeps a 2000-step, 64-unit LSTM at about 1.3 MB of JSON, where every
step in float32 would be over 4 MB and in float64 over 8 MB."""

# One colour and dash per quantity in line charts (Okabe–Ito: colour-blind safe, no red/green
# pair); h is always the thick black line.
QUANTITY_COLORS = {
    "i": "#E69F00",
    "f": "#0072B2",
    "g": "#009E73",
    "o": "#CC79A7",
    "r": "#E69F00",
    "z": "#0072B2",
    "n": "#009E73",
    "c": "#56B4E9",
    "h": "#111111",
}
QUANTITY_DASH = {"g": "dash", "n": "dash", "c": "dot"}
PRESENT_PLOT_PX = 400
"""Presentation mode: the heatmap panels and the gaps between them are at most this tall (px),
so the whole figure (with its title and ▶ controls) fits the first screen of a 1280×720
projector."""
SATURATION_SCALE = "Purples"  # fraction of saturated units 0..1: white = none, dark = all

HOW_TO_READ = {
    "gate_heatmaps": (
        "Each panel is one gate or state: a row per unit, a column per step, coloured on a "
        "scale fixed for the whole run (σ gates 0…1, tanh values ±1, the cell state ±max|c|); "
        "the dashed line is the current step, press ▶ or drag the slider to move it."
    ),
    "step_bars": (
        "The bars are the current step's vectors, one bar per unit, on fixed ranges: a σ gate "
        "near 1 lets its signal through, near 0 blocks it; press ▶ to watch them change."
    ),
    "unit_lines": (
        "Every gate and state of one unit over time: σ gates (0…1) on the top axis, signed "
        "values below; hover anywhere to read all of them at that step."
    ),
    "saturation_strip": (
        "Each row is one gate, each column a step; dark means most units sit near 0 or 1 (σ) or "
        "±1 (tanh), where the gate's derivative is almost 0 and little gradient passes."
    ),
}


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------


def _series(trace, name: str, notation: str = "pytorch") -> np.ndarray:
    """(T, H) values of one gate or state (the first sequence of a batched trace), as the
    notation shows it: deeplearning.ai's GRU shows Γu = 1 − z where the others show z (as Step
    through's strips do)."""
    if name == "h":
        a = trace.h
    elif name == "c":
        a = trace.c
    else:
        a = trace.gates[name]
    a = np.asarray(a, dtype=np.float64)
    a = a[0] if a.ndim == 3 else a
    return 1.0 - a if nt.shown(notation, trace.cell, name) != name else a


def _sym(cell: str, name: str, notation: str = "pytorch") -> str:
    """A drawn quantity's symbol in the notation (Plotly HTML): Γu for deeplearning.ai's z."""
    return nt.html(notation, cell, nt.shown(notation, cell, name))


def _finite_max_abs(a: np.ndarray) -> float:
    a = np.abs(a[np.isfinite(a)])
    return float(a.max()) if a.size else 0.0


def _scale(trace, name: str, values: np.ndarray, presentation: bool = False) -> dict:
    """The fixed colour scale of a quantity for the whole run (explicit colours)."""
    if name == "h" and trace.cell == "rnn" and trace.nonlinearity == "relu":
        sc = style.scale_for("c", max(_finite_max_abs(values), 1.0))  # unbounded: ±max|h|
    elif name == "c":
        sc = style.scale_for("c", _finite_max_abs(values))
    else:
        sc = style.scale_for(name)
    sc["colorscale"] = style.colorscale(sc["colorscale"], presentation=presentation)
    return sc


def _fmt_end(v: float, top: float) -> str:
    """A colour-bar end: ``+0.95``, ``−12`` and, past 10⁴ (an exploding ReLU RNN), ``+7.7×10⁶``
    rather than a hundred digits."""
    if abs(top) < 1e4:
        return style.fmt_signed(v, 2 if top < 10 else 0)
    return ("+" if v > 0 else "−" if v < 0 else "") + style.fmt_grad(abs(v))


def _range_note(trace, name: str, sc: dict) -> str:
    if name in SIGMOID_GATES:
        return "σ, 0…1"
    if name == "c":
        return f"±{sc['zmax']:.2g} (run max)"
    if trace.cell == "rnn" and trace.nonlinearity == "relu":
        if sc["zmax"] >= STATE_LIMIT:
            return "ReLU, overflowed<br>at the 10¹⁰⁰ cap"
        return f"ReLU, unbounded<br>±{style.fmt_grad(sc['zmax'])} (run max)"
    return "tanh, ±1"


def _panel_title(name: str, sym: str) -> str:
    return f"<b>{sym}</b> {GATE_NAMES[name]}"


def _wire(a: np.ndarray) -> np.ndarray:
    """float32 for the browser (half the bytes of float64), unless values exceed its range
    (an exploded ReLU RNN), which stay float64 so hover shows the true value."""
    if _finite_max_abs(a) > 1e37:
        return np.ascontiguousarray(a, dtype=np.float64)
    return np.ascontiguousarray(a, dtype=np.float32)


def _typed(a: np.ndarray) -> dict:
    """A frame's array pre-encoded as Plotly's typed-array spec: validated as-is, so 200
    frames of six bar vectors build in a fraction of the time numpy arrays take."""
    return style.typed_array(a, "f8" if _finite_max_abs(a) > 1e37 else "f4")


def _columns(T: int, n_rows: int, max_cells: int) -> tuple[np.ndarray, int]:
    """Steps drawn as heatmap columns: all of them, or every k-th plus the last one."""
    stride = max(1, math.ceil(T * n_rows / max(max_cells, 1)))
    cols = np.arange(0, T, stride)
    if cols[-1] != T - 1:
        cols = np.append(cols, T - 1)
    return cols, stride


def _frames_for(T: int, max_frames: int, step) -> tuple[list[int], int, int]:
    """(animated steps, index of the current one, current step t0).

    The steps are ``frame_steps`` with the current step swapped in when the subsample misses
    it (``frame_steps_with``), so the cursor starts exactly on ``step`` (clamped into 0..T-1).
    No steps (``max_frames <= 0``) means a static figure with the cursor at t0."""
    t0 = min(max(0 if step is None else int(step), 0), T - 1)
    steps = style.frame_steps_with(T, max_frames, t0)
    return steps, (steps.index(t0) if steps else 0), t0


def _controls(steps, labels_text, *, active, redraw, duration, plot_px) -> dict:
    """Play/pause and a slider over frames named ``str(t)``, placed just under the x tick
    labels; with many steps the slider's own step labels are hidden (the current value
    above it names the step). Nothing for a static figure (no steps)."""
    if not steps:
        return {}
    names = [str(t) for t in steps]
    ctl = style.play_controls(
        names,
        labels=[labels_text[t] for t in steps],
        redraw=redraw,
        duration=duration,
        active=active,
    )
    y = -70.0 / max(plot_px, 1.0)  # paper units: 70 px under the plot area
    ctl["updatemenus"][0]["y"] = y
    ctl["sliders"][0]["y"] = y
    slider = ctl["sliders"][0]
    slider["currentvalue"]["xanchor"] = "right"  # clear of the play/pause buttons
    if len(steps) > 24:
        slider["font"] = {"color": "rgba(0,0,0,0)"}
        slider["ticklen"] = 3
    return ctl


def _font_size(presentation: bool) -> int | None:
    return PRESENTATION_FONT_SIZE if presentation else None


def _cursor_shapes(t: float, half: float, yrefs: list[str]) -> list[dict]:
    """Static cursor (band + dashed line) at step t on each listed y axis."""
    shapes = []
    for yref in yrefs:
        dom = f"{yref} domain"
        shapes.append(
            {
                "type": "rect", "xref": "x", "yref": dom, "x0": t - half, "x1": t + half,
                "y0": 0, "y1": 1, "fillcolor": CURSOR_BAND, "line": {"width": 0},
            }
        )  # fmt: skip
        shapes.append(
            {
                "type": "line", "xref": "x", "yref": dom, "x0": t, "x1": t, "y0": 0, "y1": 1,
                "line": CURSOR_LINE,
            }
        )  # fmt: skip
    return shapes


# --------------------------------------------------------------------------------------------
# Heatmaps
# --------------------------------------------------------------------------------------------


def _unit_axis(base: list[int], H: int, rows_total: int) -> dict:
    """The stacked panels' shared y axis: units 0, H/2 and H−1 ticked in every panel, every
    row's unit number in the hover (``labelalias``), unit 0 at the top."""
    y_alias, tickvals, ticktext = {}, [], []
    ks = sorted({0, H // 2, H - 1})
    for b in base:
        y_alias.update({str(b + k): str(k) for k in range(H)})
        tickvals += [b + k for k in ks]
        ticktext += [str(k) for k in ks]
    return {
        "range": [rows_total - 0.5, -0.5],
        "tickmode": "array",
        "tickvals": tickvals,
        "ticktext": ticktext,
        "labelalias": y_alias,
        "hoverformat": "d",
        "showgrid": False,
        "zeroline": False,
    }


def _heatmap_panel(trace, name: str, cols, geometry, presentation: bool, notation: str) -> tuple:
    """One panel of :func:`gate_heatmaps`: its heatmap (units × drawn columns, on the
    quantity's fixed scale, with its own colour bar beside it) and its title in the left
    margin. ``geometry`` is (first row, H, rows in all panels, panel height in px)."""
    base_p, H, rows_total, panel_px = geometry
    values = _series(trace, name, notation)
    sc = _scale(trace, name, values, presentation)
    sym = _sym(trace.cell, name, notation)
    fmt = ".2f" if name in SIGMOID_GATES else "+.2f"
    from_top = (base_p + H / 2.0) / rows_total  # panel centre, as a fraction from the top
    if name in SIGMOID_GATES:
        ticks, tick_text = [0.0, 0.5, 1.0], ["0", "0.5", "1"]
    else:
        ticks = [-sc["zmax"], 0.0, sc["zmax"]]
        tick_text = [_fmt_end(v, sc["zmax"]) for v in ticks]
        tick_text[1] = "0"
    if panel_px < (100 if presentation else 80):  # a short bar: room for its two ends only
        ticks, tick_text = ticks[::2], tick_text[::2]
    heatmap = go.Heatmap(
        z=_wire(values[cols].T),
        x=cols,
        y=np.arange(base_p, base_p + H),
        hovertemplate=f"unit %{{y}} · t=%{{x}} · {sym}=%{{z:{fmt}}}<extra></extra>",
        hoverongaps=False,
        name=GATE_NAMES[name],
        colorbar={
            # a short panel has no room for a bar title: its label is on the left
            "title": {"text": sym if panel_px >= 80 else "", "side": "top"},
            "x": 1.01, "xanchor": "left", "y": 1.0 - from_top, "yanchor": "middle",
            "len": H / rows_total, "lenmode": "fraction", "thickness": 12,
            "tickvals": ticks, "ticktext": tick_text, "outlinewidth": 0,
            "ticklabelposition": "outside bottom",  # the top label clear of the bar title
        },
        **sc,
    )  # fmt: skip
    small = 11 if not presentation else 15
    note = {
        "text": f"{_panel_title(name, sym).replace(' ', '<br>' if panel_px >= 80 else ' ', 1)}<br>"
        f"<span style='font-size:{small}px;color:#555'>"
        f"{_range_note(trace, name, sc)}</span>",
        "xref": "paper", "x": 0.0, "xanchor": "right",
        "xshift": -48 if presentation else -38,
        "yref": "paper", "y": 1.0 - from_top, "yanchor": "middle",
        "showarrow": False, "align": "right",
    }  # fmt: skip
    return heatmap, note


def gate_heatmaps(
    trace,
    *,
    labels=None,
    step: int = 0,
    max_frames: int = MAX_FRAMES,
    presentation: bool = False,
    max_cells: int = MAX_CELLS,
    notation: str = "pytorch",
) -> go.Figure:
    """Small multiples sharing the time axis: one heatmap (units × timesteps) per gate/state.

    Parameters
    ----------
    trace : engine.Trace
        rnn: h; gru: r, z, n, h; lstm: i, f, g, o, c, h (a batched trace shows its first
        sequence).
    labels : tuple[str, ...], optional
        One token per step (user text: escaped); None numbers the steps.
    step : int
        Where the time cursor starts (0-based; the nearest animated step).
    max_frames : int
        Animation frames, named ``str(t)``, on at most this many steps: ``frame_steps``,
        with the current step swapped in if the subsample misses it; 0 for a static figure.
    presentation : bool
        Larger fonts and panels, slower play.
    max_cells : int
        Heatmap cells sent at full time resolution (see :data:`MAX_CELLS`).
    notation : str
        The symbols (:data:`figures.notation.NOTATIONS`); deeplearning.ai's GRU draws
        Γu = 1 − z in z's place.

    Returns
    -------
    go.Figure
        One heatmap trace per panel. The panels are stacked on one y axis (unit k of panel p
        at y = base_p + k; tick text and hover give k) and titled in the left margin, so the
        cursor is two layout shapes crossing every panel: a faint band and a dashed line.
        Frames carry only those shapes' x (no trace data at all) and play with
        ``redraw=False``: measured in Chromium, a frame then takes 20-60 ms at T = 2000,
        H = 64, where a full redraw of the heatmaps takes about a second and a redraw-free
        trace animation erases them.
    """
    names = QUANTITIES[trace.cell]
    T, H = trace.T, trace.H
    n = len(names)
    text = style.time_labels(labels, T)
    cols, stride = _columns(T, n * H, max_cells)

    # Geometry: panels of panel_px pixels separated by G unit rows; y grows downwards so
    # unit 0 is the top row of every panel.
    panel_px = float(np.clip(5 * H, 90, 200)) * (1.25 if presentation else 1.0)
    gap_px = 20 if presentation else 14  # between panels: room for the unit tick text
    if presentation:  # all panels and gaps in the first screen of a 1280×720 projector
        panel_px = min(panel_px, (PRESENT_PLOT_PX - (n - 1) * gap_px) / n)
    px_per_row = panel_px / H
    G = max(1, int(round(gap_px / px_per_row)))
    base = [p * (H + G) for p in range(n)]
    rows_total = n * H + (n - 1) * G
    plot_px = rows_total * px_per_row
    # the panel titles in the left margin: a notation's symbols without a subscript (a⟨t⟩,
    # Γu) are wider than PyTorch's (h_t)
    wide = 24 if notation != "pytorch" else 0
    margin = {"l": (205 if presentation else 150) + wide, "r": 110, "t": 80, "b": 150}

    data, annotations = [], []
    for p, name in enumerate(names):
        geometry = (base[p], H, rows_total, panel_px)
        heatmap, note = _heatmap_panel(trace, name, cols, geometry, presentation, notation)
        data.append(heatmap)
        annotations.append(note)

    steps, active, t0 = _frames_for(T, max_frames, step)
    half = max(0.5, stride / 2.0)  # the band covers one drawn column

    title = f"{CELL_NAMES[trace.cell]}: every gate and state over time · {T} steps, H = {H}"
    if stride > 1:
        title += f" · every {stride}th step drawn"
    layout = style.base_layout(
        title, height=int(plot_px + margin["t"] + margin["b"]), font_size=_font_size(presentation)
    )
    layout.update(
        margin=margin,
        showlegend=False,
        annotations=annotations,
        xaxis=style.time_axis(labels, T),
        yaxis=_unit_axis(base, H, rows_total),
        hovermode="closest",
        shapes=_cursor_shapes(t0, half, ["y"]),
        **_controls(
            steps,
            text,
            active=active,
            redraw=False,  # frames move layout shapes only: the heatmaps are not re-rendered
            duration=int(STEP_MS * (1.4 if presentation else 1.0)),
            plot_px=plot_px,
        ),
    )
    # A frame moves the cursor and nothing else: the x of its two shapes (band, line), merged
    # into the layout by Plotly.animate. No trace data, so the heatmaps are never resent.
    frames = [
        {
            "name": str(t),
            "layout": {"shapes": [{"x0": t - half, "x1": t + half}, {"x0": t, "x1": t}]},
        }
        for t in steps
    ]
    style.fit_title(layout, 60 if presentation else 80)
    return go.Figure(data=data, layout=layout, frames=frames)


# --------------------------------------------------------------------------------------------
# Bars of the current step
# --------------------------------------------------------------------------------------------


def _grid(n: int) -> tuple[int, int]:
    return (1, 1) if n == 1 else ((n + 1) // 2, 2)


def _bar_panel(name: str, now, sc: dict, p: int, box, *, x_title: str, sym: str) -> tuple:
    """One subplot of :func:`step_bars`: the bars of one vector (units on x) coloured on the
    quantity's fixed scale with a colour bar beside them, its two axes, and its title.
    ``box`` is the subplot's (left, top, width, height) in paper fractions."""
    x0, y1, w, h = box
    ax = "" if p == 0 else str(p + 1)
    lo, hi = sc["zmin"], sc["zmax"]
    H = len(now)
    axes = {
        f"xaxis{ax}": {
            "domain": [x0, min(1.0, round(x0 + w, 6))], "anchor": f"y{ax}",
            "range": [-0.5, H - 0.5], "title": {"text": x_title}, "showgrid": False,
            "zeroline": False,
        },
        f"yaxis{ax}": {
            "domain": [max(0.0, round(y1 - h, 6)), y1], "anchor": f"x{ax}",
            "range": [lo, hi] if name in SIGMOID_GATES else [lo * 1.02, hi * 1.02],
            "fixedrange": True, "zeroline": True, "zerolinecolor": "#888", "gridcolor": "#eee",
        },
    }  # fmt: skip
    note = {
        "text": _panel_title(name, sym), "xref": "paper", "yref": "paper", "x": x0,
        "y": y1, "xanchor": "left", "yanchor": "bottom", "showarrow": False,
    }  # fmt: skip
    fmt = ".2f" if name in SIGMOID_GATES else "+.2f"
    ticks = (lo, (lo + hi) / 2, hi)
    bar = go.Bar(
        x=np.arange(H), y=_wire(now), xaxis=f"x{ax}", yaxis=f"y{ax}", name=GATE_NAMES[name],
        marker={
            "color": _wire(now), "colorscale": sc["colorscale"], "cmin": lo, "cmax": hi,
            "showscale": True, "line": {"width": 0},
            "colorbar": {
                "x": x0 + w + 0.005, "xanchor": "left", "y": y1 - h / 2, "yanchor": "middle",
                "len": h, "thickness": 8, "outlinewidth": 0, "tickvals": list(ticks),
                "ticktext": [f"{v:.2g}".replace("-", "−") for v in ticks],
            },
        },
        hovertemplate=f"unit %{{x}} · {sym}=%{{y:{fmt}}}<extra></extra>",
    )  # fmt: skip
    return bar, axes, note


def step_bars(
    trace,
    *,
    step: int = 0,
    labels=None,
    max_frames: int = MAX_FRAMES,
    presentation: bool = False,
    notation: str = "pytorch",
) -> go.Figure:
    """The current step's vectors as bars: one subplot per gate/state, units on x.

    Fixed y ranges for the whole run (σ gates 0..1, tanh ±1, the cell state ±max|c|); bars
    are coloured on the same fixed scales as :func:`gate_heatmaps`. Frames (named ``str(t)``,
    one per animated step as in :func:`gate_heatmaps`) update every subplot's bar heights and
    colours.
    """
    names = QUANTITIES[trace.cell]
    T = trace.T
    n = len(names)
    text = style.time_labels(labels, T)
    nrows, ncols = _grid(n)
    gap_x, gap_y = 0.3, 0.16 if presentation else 0.13  # room for a colour bar and ticks
    w = (1.0 - gap_x * (ncols - 1)) / ncols
    h = (1.0 - gap_y * (nrows - 1)) / nrows
    steps, active, t0 = _frames_for(T, max_frames, step)

    series, layout_axes, annotations, data = [], {}, [], []
    for p, name in enumerate(names):
        r, c = divmod(p, ncols)
        box = (round(c * (w + gap_x), 6), round(1.0 - r * (h + gap_y), 6), w, h)
        values = _series(trace, name, notation)
        series.append(values)
        bar, axes, note = _bar_panel(
            name, values[t0], _scale(trace, name, values, presentation), p, box,
            x_title="unit k" if r == nrows - 1 else "", sym=_sym(trace.cell, name, notation),
        )  # fmt: skip
        data.append(bar)
        layout_axes.update(axes)
        annotations.append(note)

    plot_px = 190.0 * nrows * (1.25 if presentation else 1.0)
    layout = style.base_layout(
        f"{CELL_NAMES[trace.cell]}: the vectors of one step",
        height=int(plot_px + 80 + 150),
        font_size=_font_size(presentation),
    )
    layout.update(
        margin={"l": 60, "r": 50, "t": 80, "b": 150},
        showlegend=False,
        bargap=0.1,
        annotations=annotations,
        **layout_axes,
        **_controls(
            steps,
            text,
            active=active,
            redraw=True,
            duration=int(STEP_MS * (1.4 if presentation else 1.0)),
            plot_px=plot_px,
        ),
    )
    frames = []
    for t in steps:
        frames.append(
            {
                "name": str(t),
                "data": [
                    {"type": "bar", "y": _typed(v[t]), "marker": {"color": _typed(v[t])}}
                    for v in series
                ],
                "traces": list(range(n)),
            }
        )
    style.fit_title(layout, 40 if not presentation else 60)
    return go.Figure(data=data, layout=layout, frames=frames)


# --------------------------------------------------------------------------------------------
# One unit over time
# --------------------------------------------------------------------------------------------


def unit_lines(
    trace,
    unit: int,
    *,
    labels=None,
    step: int | None = None,
    presentation: bool = False,
    notation: str = "pytorch",
) -> go.Figure:
    """Every gate and state of unit ``unit`` over time, with a unified hover.

    σ gates (0..1) share the top axis; signed values (candidate, cell state, hidden state)
    the bottom one; both share the time axis, and one hover box lists every line at the
    hovered step (``hovermode="x unified"``, ``hoversubplots="axis"``). A dashed cursor marks
    ``step`` on both axes.
    """
    T, H = trace.T, trace.H
    k = int(min(max(int(unit), 0), H - 1))
    names = QUANTITIES[trace.cell]
    gates = [q for q in names if q in SIGMOID_GATES]
    signed = [q for q in names if q not in SIGMOID_GATES]
    two = bool(gates)
    t = np.arange(T)
    data = []
    signed_max = 1.0
    for name in names:
        v = _series(trace, name, notation)[:, k]
        sym = _sym(trace.cell, name, notation)
        on_top = name in SIGMOID_GATES
        if not on_top:
            signed_max = max(signed_max, _finite_max_abs(v))
        fmt = ".2f" if on_top else "+.2f"
        data.append(
            go.Scatter(
                x=t,
                y=_wire(v),
                mode="lines",
                name=f"{sym} {GATE_NAMES[name]}",
                line={
                    "color": QUANTITY_COLORS[name],
                    "dash": QUANTITY_DASH.get(name, "solid"),
                    "width": 3 if name == "h" else 2,
                },
                yaxis="y" if (on_top or not two) else "y2",
                hovertemplate=f"{sym} = %{{y:{fmt}}}",
            )
        )
    lim = signed_max * 1.05
    xaxis = style.time_axis(labels, T, width_px=450)  # drawn in a half-width column
    layout = style.base_layout(
        f"{CELL_NAMES[trace.cell]}, unit {k}: its gates and states over time",
        height=(520 if two else 400) + (60 if presentation else 0),
        font_size=_font_size(presentation),
    )
    layout.update(
        hovermode="x unified",
        hoversubplots="axis",
        legend={"orientation": "h", "y": -0.22, "yanchor": "top", "x": 0.0},
        margin={"l": 70, "r": 30, "t": 70, "b": 170},
    )
    if two:
        layout.update(
            xaxis={**xaxis, "anchor": "y2"},
            yaxis={
                "domain": [0.55, 1.0], "range": [-0.03, 1.03], "title": {"text": "σ gates (0…1)"},
                "gridcolor": "#eee", "zeroline": False,
            },
            yaxis2={
                "domain": [0.0, 0.45], "range": [-lim, lim], "gridcolor": "#eee",
                "title": {"text": "signed values"}, "zerolinecolor": "#888",
            },
        )  # fmt: skip
        yrefs = ["y", "y2"]
    else:
        layout.update(
            xaxis=xaxis,
            yaxis={
                "range": [-lim, lim],
                "title": {"text": f"{_sym(trace.cell, signed[0], notation)} (±)"},
                "gridcolor": "#eee", "zerolinecolor": "#888",
            },
        )  # fmt: skip
        yrefs = ["y"]
    if step is not None:
        s = int(min(max(int(step), 0), T - 1))
        layout["shapes"] = _cursor_shapes(s, 0.5, yrefs)
    style.fit_title(layout, 40 if not presentation else 60)
    return go.Figure(data=data, layout=layout)


# --------------------------------------------------------------------------------------------
# Saturation
# --------------------------------------------------------------------------------------------


def saturation_strip(
    saturation: dict,
    *,
    labels=None,
    step: int | None = None,
    presentation: bool = False,
    notation: str = "pytorch",
) -> go.Figure:
    """A heat strip (gates × time) of the fraction of saturated units per step.

    Parameters
    ----------
    saturation : dict[str, ndarray (T,)]
        From ``engine.theory.gate_saturation``: gate name -> fraction in 0..1 per step;
        ``"all"`` (every gate unit of the step together) is drawn as the last row.
    notation : str
        The row names' symbols (a share of saturated units is the same for z and Γu = 1 − z:
        z near 0 or 1 is 1 − z near 1 or 0).
    """
    cell = "gru" if "z" in saturation else "lstm" if "f" in saturation else "rnn"

    def row_name(k: str) -> str:
        return "all gates" if k == "all" else f"{_sym(cell, k, notation)} {GATE_NAMES.get(k, k)}"

    keys = [k for k in saturation if k != "all"] + (["all"] if "all" in saturation else [])
    rows = [np.asarray(saturation[k], dtype=np.float64).reshape(-1) for k in keys]
    T = max((len(r) for r in rows), default=0)
    font_size = _font_size(presentation)
    title = "Saturation: the share of units stuck where the gate is flat"
    layout = style.base_layout(title, height=170 + 34 * max(len(keys), 1), font_size=font_size)
    layout["title"]["subtitle"] = {
        "text": "σ below 0.05 or above 0.95, tanh beyond ±0.95: the derivative is near 0 "
        "there, so little gradient passes through that gate"
        if keys != ["all"]
        else "A ReLU RNN has no saturating gate: ReLU′ is 1 on active units and 0 on "
        "switched-off ones, never nearly flat, so the row stays at 0"
    }
    layout["margin"] = {"l": 150, "r": 30, "t": 90, "b": 70}
    if T == 0:
        layout["annotations"] = [
            {"text": "no steps to show", "showarrow": False, "xref": "paper", "yref": "paper"}
        ]
        return go.Figure(layout=layout)
    data = []
    for i, (key, r) in enumerate(zip(keys, rows, strict=True)):
        if len(r) < T:  # align on the last step
            r = np.concatenate([np.full(T - len(r), np.nan), r])
        label = row_name(key)
        data.append(
            go.Heatmap(
                z=_wire(r[None, :]),
                x=np.arange(T),
                y=[i],
                coloraxis="coloraxis",
                hovertemplate=f"{label} · t=%{{x}} · %{{z:.0%}} of units saturated<extra></extra>",
                hoverongaps=False,
                name=label,
            )
        )
    layout.update(
        xaxis=style.time_axis(labels, T),
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(len(keys))),
            "ticktext": [row_name(k) for k in keys],
            "range": [len(keys) - 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
        },
        coloraxis={
            "colorscale": SATURATION_SCALE,
            "cmin": 0.0,
            "cmax": 1.0,
            "colorbar": {
                "title": {"text": "saturated", "side": "right"},
                "tickvals": [0, 0.5, 1],
                "ticktext": ["0%", "50%", "100%"],
                "thickness": 12,
                "outlinewidth": 0,
            },
        },
    )
    if step is not None:
        s = int(min(max(int(step), 0), T - 1))
        layout["shapes"] = _cursor_shapes(s, 0.5, ["y"])
    style.fit_title(layout, 60 if presentation else 80)
    return go.Figure(data=data, layout=layout)


# --------------------------------------------------------------------------------------------
# Texts that follow the cell and the activation in use
# --------------------------------------------------------------------------------------------

_RNN_READ = {
    "gate_heatmaps": (
        "The vanilla RNN has no gates: the one panel is its state h, a row per unit and a "
        "column per step, coloured on a scale fixed for the whole run ({range}); the dashed "
        "line is the current step, press ▶ or drag the slider to move it."
    ),
    "step_bars": (
        "The bars are the current step's state h, one bar per unit, on a range fixed for the "
        "whole run ({range}); press ▶ to watch them change."
    ),
    "unit_lines": (
        "The state h of one unit over time ({range}); hover anywhere to read it at that step."
    ),
    "saturation_strip": {
        "tanh": (
            "The row is the share of units with |h| > 0.95 at each step, where tanh′ = 1 − h² "
            "< 0.1 and little gradient passes; dark means most units are saturated."
        ),
        "relu": (
            "A ReLU RNN has no saturating gate: ReLU′ is 1 on active units and 0 on units "
            "switched off (h = 0), so the row stays at 0; the off units are the zeros of h."
        ),
    },
}


def _h(notation: str, text: str) -> str:
    """An RNN text with its state h (``h``, ``|h|``, ``h²``, ``h = 0``) in the notation's
    symbol (deeplearning.ai's a)."""
    return re.sub(r"(?<![\w/])h(?=[ |²)=,.]|$)", nt.short(notation, "rnn", "h"), text)


def how_to_read(name: str, trace, *, notation: str = "pytorch") -> str:
    """The "how to read this" caption of a Gates over time figure for the trace's cell and
    activation (the RNN has no gates; under ReLU its state is unbounded), its symbols in the
    notation."""
    if trace.cell == "gru":  # no cell state: its state is a tanh-range value like the rest
        return HOW_TO_READ[name].replace(", the cell state ±max|c|", "")
    if trace.cell == "lstm":
        c = nt.short(notation, "lstm", "c")
        return HOW_TO_READ[name].replace("max|c|", f"max|{c}|")
    text = _RNN_READ[name]
    if isinstance(text, dict):
        return _h(notation, text.get(trace.nonlinearity, text["tanh"]))
    relu = trace.nonlinearity == "relu"
    text = text.format(range="ReLU: ±max|h| of the run, unbounded" if relu else "tanh: ±1")
    return _h(notation, text)


def _share(x: float) -> str:
    return f"{100 * x:.0f}%" if x == 0 or x >= 0.01 else "under 1%"


def _memory_gate(cell: str, notation: str) -> str:
    """The memory gate's name in words and symbols: the LSTM's f, the GRU's z (in
    deeplearning.ai's notation 1 − Γu, the same numbers: its Γu weighs the candidate)."""
    if cell == "lstm":
        f = nt.short(notation, cell, "f")
        return f"forget gate {f} ({f} = 1 keeps the cell state)"
    if nt.shown(notation, cell, "z") != "z":
        u = nt.short(notation, cell, "omz")
        return (
            f"update gate's complement 1 − {u} ({nt.LABELS[notation]}'s convention: {u} = 1 "
            f"takes the new candidate, so 1 − {u} = 1 keeps the old state)"
        )
    z = nt.short(notation, cell, "z")
    return f"update gate {z} ({nt.LABELS[notation]}'s convention: {z} = 1 keeps the old state)"


def what_to_notice(trace, *, notation: str = "pytorch") -> str:
    """The page's "What to notice" sentence computed from the run (plain text): for a gated
    cell the mean of its memory gate (LSTM f, GRU z), how many units hold it above 0.9 on
    average, and the share of saturated gate values; for the RNN its state under its
    activation (saturation for tanh; switched-off units, the largest |h| and any overflow for
    ReLU). Symbols in the notation; the numbers are the same in every notation."""
    from engine.theory import gate_saturation

    from .gradients import fmt_gate

    H = trace.H
    if trace.cell in ("lstm", "gru"):
        sym = "f" if trace.cell == "lstm" else "z"
        gate = np.asarray(_series(trace, sym))
        per_unit = gate.mean(axis=0)
        held = int(np.sum(per_unit > 0.9))
        what = _memory_gate(trace.cell, notation)
        sat = float(np.mean(gate_saturation(trace)["all"]))
        mean = fmt_gate(float(gate.mean()))
        return (
            f"Each row of a heatmap is one unit over time, σ gates on a fixed 0…1 scale. The "
            f"{what} averages {mean} over the run; {held} of {H} units hold "
            "it above 0.9 on average, the units that carry their state across many steps. "
            f"{_share(sat)} of the gate values are saturated (σ near 0 or 1, tanh near ±1), "
            "where the gate's derivative is almost 0."
        )
    h = np.asarray(_series(trace, "h"))
    if notation == "pytorch":
        eq = "h_t = ACT(W_ih x_t + b_ih + W_hh h_(t−1) + b_hh)"
    else:
        eq = nt.ufill("@h@ = ACT(@W_x@ @x@ + @U_h@ @h_prev@ + @b@)", notation, "rnn")
    if trace.nonlinearity != "relu":
        sat = float(np.mean(np.abs(h) > 0.95))
        return _h(notation, (
            "The vanilla RNN has no gates: its one panel is the state "
            f"{eq.replace('ACT', 'tanh')}, "
            f"bounded by ±1. {_share(sat)} of its values are "
            "saturated (|h| > 0.95), where tanh′ = 1 − h² < 0.1 and little gradient passes."
        ))  # fmt: skip
    off = int(np.sum(h[-1] <= 0))
    text = _h(notation, (
        f"The vanilla RNN has no gates: its one panel is the state {eq.replace('ACT', 'ReLU')}, "
        "unbounded. At the last step "
        f"{off} of {H} unit{'s are' if off != 1 else ' is'} switched off (h = 0, so ReLU′ = 0 "
        "and no gradient passes there)"
    ))  # fmt: skip
    capped = np.flatnonzero(np.any(h >= STATE_LIMIT, axis=-1))
    if capped.size:
        return text + (
            f". The states overflowed: they reached the 10¹⁰⁰ cap at step {int(capped[0])} and "
            "stay there (exploding); values at the cap are not numbers to read, and the "
            "gradient through them is named overflow, never zero."
        )
    largest = style.fmt_grad(float(np.max(np.abs(h))))
    return text + _h(
        notation, f"; the active ones pass it with ReLU′ = 1. The largest |h| is {largest}."
    )
