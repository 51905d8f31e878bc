"""Vanishing gradients: how much of the gradient survives k steps back, cell by cell.

Pure Plotly builders for the "Vanishing gradients" page (issue #3) and the home page hero. They
take plain arrays (gradient norms per timestep, oldest step first, the last entry lag 0) and
return ``go.Figure``; :func:`takeaway` returns one plain-text sentence. No Streamlit here.

Every gradient magnitude is shown on a log scale; exact zeros, underflow, overflow (the engine
caps exploding gradients at 1e100) and NaN are drawn and labelled explicitly, never left blank.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from . import notation as nt
from . import style
from .style import (
    CELL_COLORS,
    CELL_DASH,
    CELL_MARKERS,
    CELL_NAMES,
    CURSOR_LINE,
    GRAD_DECADES,
    GRADIENT,
    PRESENTATION_FONT_SIZE,
)

OVERFLOW = 1e100
"""Values at or above this (the engine's GRAD_LIMIT) or infinite are "overflow": drawn at this
cap and flagged in the legend."""
BOUND_COLOR = "rgba(90,90,90,0.55)"
FLOOR_COLOR = "#999999"
ORDER = ("rnn", "gru", "lstm")

HOW_TO_READ = {
    "gradient_strips": (
        "One strip per cell, one square per token: the darker the square, the more of that "
        "token's gradient reaches the last step; all three strips share one log colour scale, "
        "fitted to the decades the three cells span (each tick is a factor of 10)."
    ),
    "gradient_vs_lag": (
        "Each line is the gradient norm k steps back from the last token, on a log axis: a "
        "straight downward line is exponential vanishing, a straight upward one exponential "
        "growth (overflow is named in the legend), a flat line is memory; the faint grey line "
        "is the theoretical ceiling for the RNN."
    ),
    "path_split": (
        "The solid line is the whole gradient at each lag; the dashed line is the part that "
        "travels along the gated shortcut alone (the product of gates), so where they touch "
        "the shortcut carries almost all of it."
    ),
    "why_factors": (
        "Each bar is the norm of one step's Jacobian diag(act′) W_hh, the most that step can "
        "stretch the gradient; the black line, their running product, is an upper bound on the "
        "gradient after j steps back (norms are submultiplicative), and the coloured line is "
        "the gradient's norm as measured, never above it."
    ),
}


def how_to_read(name: str, notation: str = "pytorch") -> str:
    """:data:`HOW_TO_READ`'s caption with its symbols in the notation (the RNN's W_hh)."""
    text = HOW_TO_READ[name]
    if notation == "pytorch":
        return text
    return text.replace("W_hh", nt.usym(notation, "rnn", "U_h"))


FACTOR_NAMES = {
    "rnn": "‖diag(1 − h<sub>t</sub>²) W<sub>hh</sub>‖₂",
    "gru": "z<sub>t</sub>",
    "lstm": "f<sub>t</sub>",
}
"""PyTorch's names of each cell's local factor (:func:`factor_name` for any notation)."""
PATH_NAMES = {
    "lstm": ("total ‖dL/dc<sub>t</sub>‖", "cell-state path (through Π f)"),
    "gru": ("total ‖dL/dh<sub>t</sub>‖", "direct path (through Π z)"),
}
"""PyTorch's names of the path charts' two lines (:func:`path_names` for any notation)."""
_MEMORY = {"lstm": ("c", "f", "cell-state path"), "gru": ("h", "z", "direct path")}
"""The gated cells' state on the shortcut, the gate whose product carries it, the path."""


def factor_name(cell: str, notation: str = "pytorch", nonlinearity: str = "tanh") -> str:
    """A cell's local factor in the notation (HTML): the RNN's ‖diag(act′) W_hh‖₂, the GRU's
    z (deeplearning.ai: 1 − Γu, z's numbers), the LSTM's f."""
    if cell == "rnn":
        return rnn_factor_name(nonlinearity, notation=notation)
    if cell not in _MEMORY:
        return "factor"
    return nt.html(notation, cell, _MEMORY[cell][1])


def path_names(cell: str, notation: str = "pytorch") -> tuple[str, str]:
    """The path chart's (total, path) line names in the notation (HTML)."""
    if cell not in _MEMORY:
        return "total", "gated path"
    state, gate, path = _MEMORY[cell]
    total = nt.hfill(f"total ‖dL/d@{state}@‖", notation, cell)
    return total, f"{path} (through Π {nt.html_text(nt.factor(notation, cell, gate))})"


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------


def _gradient_scale(presentation: bool) -> list[list]:
    return style.colorscale(GRADIENT, presentation=presentation)


def _font_size(presentation: bool) -> int | None:
    return PRESENTATION_FONT_SIZE if presentation else None


def _as_1d(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).reshape(-1)


def _ordered(curves: dict) -> list[str]:
    """Cells in RNN, GRU, LSTM order, then any other key in its given order."""
    return [c for c in ORDER if c in curves] + [c for c in curves if c not in ORDER]


def _aligned(curves: dict) -> tuple[dict, int]:
    """All curves as float arrays of one length T, right-aligned (the last entry is lag 0);
    a shorter curve is padded with NaN at the old end."""
    arrs = {c: _as_1d(curves[c]) for c in _ordered(curves)}
    T = max((len(a) for a in arrs.values()), default=0)
    out = {}
    for c, a in arrs.items():
        out[c] = np.concatenate([np.full(T - len(a), np.nan), a]) if len(a) < T else a
    return out, T


def _cell_name(c: str) -> str:
    return CELL_NAMES.get(c, style.safe_text(c))


def _superscript_exp(e: int) -> str:
    return str(e).translate(style._SUPERSCRIPT).replace("-", "−")


def _fmt_log10(lg: float) -> str:
    """10**lg as ``3.2×10⁻⁴¹²``: a magnitude given by its log10, beyond float range too."""
    if not math.isfinite(lg):
        return "overflow" if lg > 0 else "0"
    if -300 < lg < 300:
        return style.fmt_grad(10.0**lg)
    e = math.floor(lg)
    m = 10.0 ** (lg - e)
    if round(m, 1) >= 10:
        m, e = m / 10, e + 1
    return f"{m:.1f}×10{_superscript_exp(e)}"


def _log_series(v: np.ndarray, y_floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values ready for a log axis: (y, floored, capped). Magnitudes below ``y_floor`` (and
    exact zeros) sit at the floor, overflow (≥ 1e100 or inf) at the cap, NaN is a gap."""
    a = np.abs(v)
    nan = np.isnan(a)
    capped = ~nan & (a >= OVERFLOW)
    floored = ~nan & (a < y_floor)
    y = np.where(capped, OVERFLOW, np.where(floored, y_floor, a))
    return y, floored, capped


def _lag_text(T: int, labels) -> list[str]:
    """Hover text per lag k (index k): ``k = 3 · t=27·ice``."""
    text = style.time_labels(labels, T)
    return [f"k = {k} · t={text[T - 1 - k]}" for k in range(T)]


def _log_yaxis(title: str, *values) -> dict:
    """A log y axis whose labels never collide: within a decade Plotly's own ticks, over one to
    two decades 1, 2 and 5 of each decade, beyond that whole decades only (Plotly's default
    labels 2 and 5 of every decade there, right against the decade labels)."""
    axis = {
        "type": "log",
        "title": {"text": title},
        "exponentformat": "power",
        "gridcolor": "#eee",
        "zeroline": False,
    }
    a = np.abs(np.concatenate([_as_1d(v) for v in values])) if values else np.zeros(0)
    a = a[np.isfinite(a) & (a > 0)]
    span = math.log10(float(a.max()) / float(a.min())) if a.size else 0.0
    if 1 <= span <= 2:
        axis["dtick"] = "D2"  # within one decade Plotly's own ticks (0.7, 0.8, ...) are kept
    elif span > 2:
        axis["dtick"] = max(1, math.ceil(span / 8))  # whole decades only, at most ~8 of them
    return axis


def _lag_xaxis(T: int) -> dict:
    return {
        "title": {"text": "lag k = T−1−t (steps back from the last token)"},
        "range": [-0.5, max(T - 1, 1) + 0.5],
        "gridcolor": "#eee",
        "zeroline": False,
        "hoverformat": "d",
    }


def _flags(name: str, floored, capped, nan, y_floor: float) -> tuple[str, list[str]]:
    """A legend name with its flags, and the notes for the figure."""
    flags, notes = [], []
    floor = style.fmt_grad(y_floor)
    if np.any(capped):
        flags.append("overflow")
        notes.append(f"{name}: overflow (≥ 10¹⁰⁰ or ∞) drawn at 10¹⁰⁰")
    if np.any(floored):
        flags.append(f"< {floor} at floor")
        notes.append(f"{name}: values below {floor} (or exactly 0) drawn on the floor")
    if np.any(nan):
        flags.append("NaN gaps")
    return (f"{name} ({', '.join(flags)})" if flags else name), notes


def _notes_annotation(notes: list[str]) -> list[dict]:
    if not notes:
        return []
    return [
        {
            "text": "<br>".join(notes[:4]),
            "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0, "xanchor": "left",
            "yanchor": "top", "showarrow": False, "align": "left",
            "font": {"size": 11, "color": "#555"}, "bgcolor": "rgba(255,255,255,0.8)",
        }
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Strips (the vanishing-gradient page and the home hero)
# --------------------------------------------------------------------------------------------


MAX_LABELLED = 40
"""Up to this many tokens every token of a strip is labelled; longer sequences show a
readable subsample of labels, and the figure says so."""


def strip_decades(curves: dict) -> tuple[int, int]:
    """The whole decades ``(lo, hi)`` the finite, non-zero magnitudes of all curves span
    (``10**lo <= |v| <= 10**hi``, at least one decade). Zeros, NaN and overflow (≥ 1e100) do not
    widen the range: they are drawn at its ends and named in the hover. ``GRAD_DECADES`` when
    there is no such value."""
    arrs = [np.abs(_as_1d(v)) for v in curves.values()]
    a = np.concatenate(arrs) if arrs else np.zeros(0)
    a = a[np.isfinite(a) & (a > 0) & (a < OVERFLOW)]
    if not a.size:
        return int(GRAD_DECADES[0]), int(GRAD_DECADES[1])
    lo = math.floor(math.log10(float(a.min())) + 1e-9)
    hi = math.ceil(math.log10(float(a.max())) - 1e-9)
    return lo, max(hi, lo + 1)


def _decade_ticks(lo: int, hi: int, most: int = 8) -> tuple[list[int], list[str]]:
    """At most about ``most`` decade ticks, always including the top decade."""
    step = _nice_step((hi - lo) / most)
    vals = [d for d in range(lo, hi + 1) if (d - hi) % step == 0]
    return vals, ["1" if d == 0 else f"10{_superscript_exp(d)}" for d in vals]


def _nice_step(raw: float) -> int:
    return next(s for s in (1, 2, 5, 10, 20, 50, 100, 1000) if s >= raw)


STRIP_PLOT_PX = {False: 800, True: 1000}
"""The narrowest plot width a strip is laid out for: full width on a 1366 px laptop, and on
a 1280 px projector in presentation mode."""


def _strip_xaxis(labels, T: int, presentation: bool = False) -> tuple[dict, list[dict]]:
    """Every token labelled up to MAX_LABELLED tokens: index over token when they fit side by
    side, else one ``t·token`` line per tick turned upright; past that a subsample, said in a
    note above the strips."""
    axis = style.time_axis(labels, T)
    axis["automargin"] = True
    if T > MAX_LABELLED:
        note = {
            "text": f"{T:,} tokens: every {axis['tickvals'][1] - axis['tickvals'][0] + 1}th "
            "labelled, hover a square for its token",
            "xref": "paper", "yref": "paper", "x": 1.0, "y": 1.0, "xanchor": "right",
            "yanchor": "bottom", "showarrow": False, "font": {"size": 12, "color": "#444"},
        }  # fmt: skip
        return axis, [note]
    text = style.time_labels(labels, T)
    widest = max(style.visible_len(s.replace("·", "<br>").split("<br>")[-1]) for s in text)
    axis["tickvals"] = list(range(T))
    char_px = 0.45 * (PRESENTATION_FONT_SIZE if presentation else style.FONT["size"])
    if T * (char_px * max(widest, len(str(T))) + 8) <= STRIP_PLOT_PX[presentation]:
        axis["ticktext"] = [s.replace("·", "<br>", 1) for s in text]
    else:
        axis.update(ticktext=text, tickangle=-90)
    return axis, []


def _strip_trace(v, row: int, name: str, decades, scale, colorbar) -> go.Heatmap:
    """One cell's strip: log10|v| clipped to the shared decades (zeros at the bottom colour,
    NaN a gap), the exact value and the lag in the hover; the colour bar if given."""
    lo, hi = decades
    v = np.abs(v)
    T = len(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.clip(np.log10(np.where(v > 0, v, 10.0**lo)), lo, hi)
    z[np.isnan(v)] = np.nan
    hover = [f"{style.fmt_grad(float(a))} · lag k = {T - 1 - t}" for t, a in enumerate(v.tolist())]
    return go.Heatmap(
        z=z[None, :].astype(np.float32), x=np.arange(T),
        y=[row - 0.42, row + 0.42],  # cell edges: a gap between the strips
        text=[hover], zmin=lo, zmax=hi, colorscale=scale, showscale=colorbar is not None,
        colorbar=colorbar or {},
        hovertemplate=f"{name} · t=%{{x}} · %{{text}}<extra></extra>",
        hoverongaps=False, name=name,
    )  # fmt: skip


def gradient_strips(
    curves: dict,
    *,
    labels=None,
    title: str = "Gradient magnitude per token (log scale)",
    step: int | None = None,
    presentation: bool = False,
    measure: str = "‖gradient‖",
) -> go.Figure:
    """Three strips (RNN, GRU, LSTM), coloured by log10 gradient magnitude per token.

    Parameters
    ----------
    curves : dict[str, ndarray (T,)]
        Cell -> gradient norm per timestep (oldest first; the last entry is lag 0).
    labels : tuple[str, ...], optional
        One token per step (escaped); longer tuples are aligned on their last T entries.
    title : str
        Figure title (trusted text; may contain ``<sub>``).
    step : int, optional
        Draw the shared time cursor at this step.
    measure : str
        What is measured (trusted text), the colour bar's title.

    The three strips share one colour scale (``Magma_r`` on log10), fitted to the whole
    decades the data span (:func:`strip_decades`) and fixed for the figure; the colour bar
    ticks are decades. Every token is labelled up to :data:`MAX_LABELLED` tokens. Hover gives
    the exact value (``fmt_grad``). NaN cells are gaps; zeros sit at the bottom colour and
    overflow at the top, both named in the hover.
    """
    arrs, T = _aligned(curves)
    cells = list(arrs)
    layout = style.base_layout(
        title, height=170 + 62 * max(len(cells), 1), font_size=_font_size(presentation)
    )
    layout["margin"] = {"l": 70, "r": 40, "t": 70, "b": 60}
    if T == 0 or not cells:
        layout["annotations"] = [
            {
                "text": "nothing to show: the sequence is empty",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
            }
        ]
        return go.Figure(layout=layout)
    lo, hi = strip_decades(arrs)
    scale = _gradient_scale(presentation)
    bar = {
        "title": {"text": f"{measure}<br>(log scale)", "side": "top"},
        "thickness": 14, "outlinewidth": 0,
        "ticklabelposition": "outside bottom",  # the top label stays clear of the bar title
    }  # fmt: skip
    bar["tickvals"], bar["ticktext"] = _decade_ticks(lo, hi, 4 if presentation else 8)
    data = [
        _strip_trace(arrs[c], i, _cell_name(c), (lo, hi), scale, bar if i == 0 else None)
        for i, c in enumerate(cells)
    ]
    xaxis, notes = _strip_xaxis(labels, T, presentation)
    layout.update(
        xaxis=xaxis,
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(len(cells))),
            "ticktext": [f"<b>{_cell_name(c)}</b>" for c in cells],
            "range": [len(cells) - 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        hovermode="closest",
        annotations=notes,
    )
    if step is not None:
        s = int(min(max(int(step), 0), T - 1))
        layout["shapes"] = [
            {
                "type": "line", "xref": "x", "yref": "y domain", "x0": s, "x1": s, "y0": 0,
                "y1": 1, "line": CURSOR_LINE,
            }
        ]  # fmt: skip
    style.fit_title(layout, 60 if presentation else 80)
    return go.Figure(data=data, layout=layout)


# --------------------------------------------------------------------------------------------
# Norm against lag
# --------------------------------------------------------------------------------------------


def _extra_style(name: str) -> tuple[str, str]:
    for c in ORDER:
        if name.upper().startswith(CELL_NAMES[c].upper()):
            return CELL_COLORS[c], "dashdot"
    return "#555555", "dashdot"


def _series_style(key: str, kind: str) -> tuple[str, dict, str, dict | None]:
    """(name, line, mode, marker) of a curve: a cell (Dark2 colour, dash and marker), the
    RNN's bound (faint grey) or an extra curve (thin, dash-dot in its cell's colour)."""
    if kind == "cell":
        color, dash = CELL_COLORS.get(key, "#333333"), CELL_DASH.get(key, "solid")
        marker = {"symbol": CELL_MARKERS.get(key, "circle"), "size": 7, "maxdisplayed": 40}
        return (
            _cell_name(key),
            {"color": color, "dash": dash, "width": 2.5},
            "lines+markers",
            marker,
        )
    if kind == "bound":
        line = {"color": BOUND_COLOR, "width": 1.5, "dash": "longdash"}
        return "RNN bound (γσ<sub>max</sub>)<sup>k</sup>", line, "lines", None
    color, dash = _extra_style(key)
    return key, {"color": color, "width": 1.5, "dash": dash}, "lines", None


def gradient_vs_lag(
    curves: dict,
    *,
    measure_label: str,
    bound=None,
    extra: dict | None = None,
    labels=None,
    y_floor: float = 1e-30,
    presentation: bool = False,
) -> go.Figure:
    """Gradient norm against lag k = T−1−t on a log y axis, one line per cell.

    Parameters
    ----------
    curves : dict[str, ndarray (T,)]
        Cell -> norm per timestep (oldest first, the last entry lag 0).
    measure_label : str
        What is measured, e.g. ``"‖∂h_T/∂x_t‖"`` (trusted text), used in the axis title.
    bound : ndarray (T,), optional
        The RNN's Pascanu bound (γσ_max)^k, same indexing: a faint grey line.
    extra : dict[str, ndarray (T,)], optional
        Additional curves (e.g. ``"LSTM ‖dL/dc_t‖"``), drawn thinner, dash-dot.
    labels : tuple[str, ...], optional
        Tokens, for the hover.
    y_floor : float
        Zeros and values below it are drawn at the floor (said in the legend and a note);
        overflow (≥ 1e100, inf) is capped at 1e100 and flagged "overflow"; NaN is a gap.

    Cells are told apart by Dark2 colour, dash (solid/dash/dot) and marker.
    """
    arrs, T = _aligned(curves)
    traces, notes = [], []
    series = [(c, arrs[c], "cell") for c in arrs]
    if bound is not None:
        series.append(("bound", _as_1d(bound), "bound"))
    for name, v in (extra or {}).items():
        series.append((name, _as_1d(v), "extra"))
    T = max([T] + [len(v) for _, v, _ in series])
    hover_k = _lag_text(T, labels)
    any_floored = False
    for key, v, kind in series:
        if len(v) < T:
            v = np.concatenate([np.full(T - len(v), np.nan), v])
        vk = v[::-1]  # index k = lag
        y, floored, capped = _log_series(vk, y_floor)
        base, line, mode, marker = _series_style(key, kind)
        name, note = _flags(base, floored, capped, np.isnan(vk), y_floor)
        notes += note
        any_floored |= bool(np.any(floored))
        hover = [
            f"{h} · {style.fmt_grad(float(a))}" for h, a in zip(hover_k, vk.tolist(), strict=True)
        ]
        trace = go.Scatter(
            x=np.arange(T),
            y=y,
            mode=mode,
            name=name,
            line=line,
            text=hover,
            hovertemplate=f"{base}<br>%{{text}}<extra></extra>",
            connectgaps=False,
        )
        if marker:
            trace.marker = marker
        traces.append(trace)
    if any_floored:  # the floor itself, so points sitting on it read as "at most this"
        traces.append(
            go.Scatter(
                x=[0, max(T - 1, 1)], y=[y_floor, y_floor], mode="lines",
                line={"color": FLOOR_COLOR, "width": 1, "dash": "dot"}, hoverinfo="skip",
                name=f"floor {style.fmt_grad(y_floor)}", showlegend=True,
            )
        )  # fmt: skip
    layout = style.base_layout(
        f"How fast the gradient fades: {measure_label} against lag",
        height=480,
        font_size=_font_size(presentation),
    )
    layout.update(
        xaxis=_lag_xaxis(T),
        yaxis=_log_yaxis("‖·‖₂ (log scale)", *(t.y for t in traces)),
        hovermode="closest",
        legend={"orientation": "h", "y": -0.2, "x": 0.0},
        margin={"l": 80, "r": 30, "t": 70, "b": 120},
        annotations=_notes_annotation(notes),
    )
    style.fit_title(layout, 60 if presentation else 80)
    return go.Figure(data=traces, layout=layout)


def path_split(
    total,
    path,
    *,
    cell: str,
    labels=None,
    y_floor: float = 1e-30,
    presentation: bool = False,
    notation: str = "pytorch",
) -> go.Figure:
    """The gated shortcut's share of the gradient, against lag on a log axis.

    LSTM: the cell-state path (dL/dc_T carried by the product of forget gates) against the
    total ‖dL/dc_t‖; GRU: the direct path (the product of update gates z) against the total
    ‖dL/dh_t‖. Both arrays (T,) are indexed by timestep, oldest first.
    """
    total, path = _as_1d(total), _as_1d(path)
    T = max(len(total), len(path))
    hover_k = _lag_text(T, labels)
    total_name, path_name = path_names(cell, notation)
    color = CELL_COLORS.get(cell, "#333")
    traces, notes = [], []
    for v, base, dash, width in ((total, total_name, "solid", 2.5), (path, path_name, "dash", 2)):
        if len(v) < T:
            v = np.concatenate([np.full(T - len(v), np.nan), v])
        vk = v[::-1]
        y, floored, capped = _log_series(vk, y_floor)
        name, note = _flags(base, floored, capped, np.isnan(vk), y_floor)
        notes += note
        traces.append(
            go.Scatter(
                x=np.arange(T), y=y, mode="lines", name=name,
                line={"color": color, "dash": dash, "width": width},
                text=[f"{h} · {style.fmt_grad(float(a))}" for h, a in
                      zip(hover_k, vk.tolist(), strict=True)],
                hovertemplate=f"{base}<br>%{{text}}<extra></extra>",
            )
        )  # fmt: skip
    quantity = total_name.removeprefix("total ")
    layout = style.base_layout(
        f"{_cell_name(cell)}: how much of {quantity} takes the gated shortcut",
        height=420,
        font_size=_font_size(presentation),
    )
    layout.update(
        xaxis=_lag_xaxis(T),
        yaxis=_log_yaxis(f"{quantity} (log scale)", *(t.y for t in traces)),
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.25, "x": 0.0},
        margin={"l": 80, "r": 30, "t": 70, "b": 120},
        annotations=_notes_annotation(notes),
    )
    style.fit_title(layout, 40 if not presentation else 60)
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------------------------
# Why: the product of local factors
# --------------------------------------------------------------------------------------------


def _why_traces(f, bars, shown, product_text, *, cell: str, symbol: str) -> list:
    """The bars of each step's factor, the running product's line (the bound), and the line
    at 1."""
    k = len(f)
    j = np.arange(1, k + 1)
    return [
        go.Bar(
            x=j,
            y=bars,
            name=f"factor {symbol} of each step",
            marker={"color": CELL_COLORS.get(cell, "#777"), "opacity": 0.55, "line": {"width": 0}},
            text=[style.fmt_grad(float(v)) for v in f.tolist()],
            textposition="inside" if k <= 16 else "none",
            insidetextanchor="start",
            hovertemplate="step j = %{x} back · factor %{text}<extra></extra>",
        ),
        go.Scatter(
            x=j,
            y=shown,
            mode="lines+markers",
            name=BOUND_NAME,
            line={"color": "#111111", "width": 2},
            marker={"size": 6, "maxdisplayed": 60},
            text=product_text,
            hovertemplate="after %{x} steps back · bound %{text}<extra></extra>",
        ),
        go.Scatter(
            x=[0.5, k + 0.5], y=[1.0, 1.0], mode="lines", name="factor 1 (no change)",
            line={"color": "#888", "width": 1, "dash": "dot"}, hoverinfo="skip",
        ),
    ]  # fmt: skip


BOUND_NAME = "bound: product of the factors' norms ≥ the gradient"
MEASURED_NAME = "measured ‖∂h<sub>T−1</sub>/∂h<sub>T−1−j</sub>‖₂"
DERIVATIVES = {
    "tanh": ("diag(1 − h<sub>t</sub>²)", "tanh′(a_t) = 1 − h_t², at most 1"),
    "relu": ("diag([a<sub>t</sub> > 0])", "ReLU′(a_t) = [a_t > 0], 1 on active units, 0 elsewhere"),
}
"""Per activation: the diagonal of the RNN's local Jacobian (HTML) and its derivative in words."""


_DERIVATIVE_TEMPLATES = {
    "tanh": ("diag(1 − @h^2@)", "tanh′(@a@) = 1 − @h^2@, at most 1"),
    "relu": ("diag([@a@ > 0])", "ReLU′(@a@) = [@a@ > 0], 1 on active units, 0 elsewhere"),
}
""":data:`DERIVATIVES` with the notation's symbols (``@q@``, :func:`figures.notation.ufill`)."""


def derivative(nonlinearity: str, notation: str = "pytorch") -> tuple[str, str]:
    """The RNN's local Jacobian diagonal and its derivative in words, in the notation (plain
    Unicode); an unknown activation is act′."""
    if nonlinearity not in _DERIVATIVE_TEMPLATES:
        return nt.ufill("diag(act′(@a@))", notation, "rnn"), "act′"
    diag, words = _DERIVATIVE_TEMPLATES[nonlinearity]
    return nt.ufill(diag, notation, "rnn"), nt.ufill(words, notation, "rnn")


def rnn_factor_name(nonlinearity: str = "tanh", *, notation: str = "pytorch") -> str:
    """‖diag(act′(a_t)) W_hh‖₂ written for the activation and the notation (HTML)."""
    w = nt.usym(notation, "rnn", "U_h")
    return nt.html_text(f"‖{derivative(nonlinearity, notation)[0]} {w}‖₂")


def recurrent_weight(notation: str = "pytorch") -> str:
    """The RNN's recurrent weight in plain text: W_hh (PyTorch), W_{aa}, U."""
    w = nt.usym(notation, "rnn", "U_h")
    return w.replace("_{hh}", "_hh") if notation == "pytorch" else w


def measured_name(notation: str = "pytorch") -> str:
    """The why panel's measured RNN norm ‖∂h_{T−1}/∂h_{T−1−j}‖₂ in the notation (HTML)."""
    last, back = (nt.indexed(notation, "rnn", "h", i) for i in ("T−1", "T−1−j"))
    return nt.html_text(f"measured ‖∂{last}/∂{back}‖₂")


def _measured_trace(
    measured, k: int, y_floor: float, notation: str = "pytorch"
) -> tuple[go.Scatter, list[str]]:
    """The measured norm after j = 1..k steps back (oldest-first input), overflow and zeros
    flagged in the legend and notes."""
    m = _as_1d(measured)
    m = np.concatenate([np.full(max(k - len(m), 0), np.nan), m])[-k:][::-1]  # j = 1 .. k
    y, floored, capped = _log_series(m, y_floor)
    name, notes = _flags(measured_name(notation), floored, capped, np.isnan(m), y_floor)
    trace = go.Scatter(
        x=np.arange(1, k + 1), y=y, mode="lines+markers", name=name,
        line={"color": CELL_COLORS.get("rnn", "#c00"), "width": 2.5},
        marker={"size": 6, "maxdisplayed": 60, "symbol": "diamond"},
        text=[style.fmt_grad(float(v)) for v in m.tolist()], connectgaps=False,
        hovertemplate="after %{x} steps back · measured %{text}<extra></extra>",
    )  # fmt: skip
    return trace, notes


def _why_floor(*arrays) -> float:
    a = np.abs(np.concatenate([_as_1d(v) for v in arrays]))
    a = a[np.isfinite(a) & (a > 0) & (a < OVERFLOW)]
    return max(float(a.min()) / 10, 1e-300) if a.size else 1e-30


def why_factors(
    factors,
    *,
    cell: str,
    lag: int | None = None,
    measured=None,
    nonlinearity: str = "tanh",
    presentation: bool = False,
    notation: str = "pytorch",
) -> go.Figure:
    """The product of the local factor norms: an upper bound on the gradient ``lag`` steps back.

    Parameters
    ----------
    factors : ndarray (k,)
        The local factor of each of the last k steps, oldest first (rnn: ‖diag(act′(a_t))
        W_hh‖₂; lstm: f_t; gru: z_t, e.g. averaged over units).
    cell : str
    lag : int, optional
        The lag the product is for (default k).
    measured : ndarray (k,), optional
        The measured norm for the same lags, oldest first (entry i is lag k − i; for the rnn
        ‖∂h_{T−1}/∂h_{T−1−j}‖₂); inf marks overflow, NaN a lag not computed.
    nonlinearity : {"tanh", "relu"}
        The RNN's activation: the factor is written with its derivative.
    notation : str
        The symbols (:data:`figures.notation.NOTATIONS`); the numbers are the same.

    Bars: each step's factor, most recent step first (j = 1 is the last step), on a log y
    axis; the black line: their running product after j steps back, computed in log space so
    it neither under- nor overflows, named as the bound it is (norms are submultiplicative);
    the coloured line: the measured norm, never above the bound.
    """
    f = np.abs(_as_1d(factors))[::-1]  # j = 1 .. k: most recent first
    k = len(f)
    lag = k if lag is None else int(lag)
    name = _cell_name(cell)
    symbol = factor_name(cell, notation, nonlinearity)
    layout = style.base_layout(
        f"Why: {name}'s gradient {lag} step{'s' if lag != 1 else ''} back is at most the "
        f"product of {k} factor{'s' if k != 1 else ''} {symbol}",
        height=440,
        font_size=_font_size(presentation),
    )
    layout["margin"] = {"l": 80, "r": 30, "t": 70, "b": 130}
    if k == 0:
        layout["annotations"] = [
            {"text": "lag 0: no step to cross, the product is 1", "showarrow": False,
             "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
        ]  # fmt: skip
        return go.Figure(layout=layout)
    with np.errstate(divide="ignore", invalid="ignore"):
        running = np.cumsum(np.log10(f))  # log10 of the running product: 0 -> -inf, no underflow
    shown = 10.0 ** np.clip(np.nan_to_num(running, nan=np.nan, posinf=300, neginf=-300), -300, 300)
    product_text = [_fmt_log10(r) if not math.isnan(r) else "NaN" for r in running.tolist()]
    bars, _, capped = _log_series(f, 1e-300)
    data = _why_traces(f, bars, shown, product_text, cell=cell, symbol=symbol)
    notes = ["overflow: factors ≥ 10¹⁰⁰ drawn at 10¹⁰⁰"] if np.any(capped) else []
    label = f"product = {product_text[-1]}"
    if measured is not None:  # its overflow and floor are flagged in its legend name
        trace, _ = _measured_trace(measured, k, _why_floor(f, shown, measured), notation)
        data.insert(2, trace)
        label = f"bound: product = {product_text[-1]} · measured = {trace.text[-1]}"
    _why_layout(layout, k, label, notes, bars, shown, *data[2:3])
    style.fit_title(layout, 60 if presentation else 80)
    return go.Figure(data=data, layout=layout)


def _why_yaxis(*values) -> dict:
    """The log axis with room above the data for the label and below it for the bar values."""
    axis = _log_yaxis("norm (log scale)", *values)
    a = np.abs(np.concatenate([_as_1d(v) for v in values]))
    a = a[np.isfinite(a) & (a > 0)]
    if a.size:
        lo, hi = math.log10(float(a.min())), math.log10(float(a.max()))
        span = max(hi - lo, 1.0)
        axis["range"] = [lo - 0.15 * span, hi + 0.2 * span]  # bar labels below the lines
    return axis


def _why_layout(layout: dict, k: int, label: str, notes: list[str], *values) -> None:
    layout.update(
        xaxis={
            "title": {"text": "steps back j (1 = the last step)"},
            "range": [0.5, k + 0.5],
            "gridcolor": "#eee",
            "zeroline": False,
        },
        yaxis=_why_yaxis(*(getattr(v, "y", v) for v in values)),
        hovermode="closest",
        bargap=0.15,
        legend={"orientation": "h", "y": -0.22, "x": 0.0},
        annotations=[
            {
                "text": f"<b>{label}</b>",
                "xref": "paper", "yref": "paper", "x": 1.0, "y": 1.0, "xanchor": "right",
                "yanchor": "top", "showarrow": False, "bgcolor": "rgba(255,255,255,0.85)",
                "bordercolor": "#111", "borderwidth": 1,
            }
        ] + _notes_annotation(notes),
    )  # fmt: skip


def why_summary(
    factors, measured, *, nonlinearity: str = "tanh", overflow_step=None, notation="pytorch"
) -> str:
    """The why panel's sentences (plain text), computed from the run: the factor written for
    the activation, the bound over the lag k = len(factors), and the measured norm beside it.

    ``factors`` (k,) oldest first; ``measured`` the RNN's measured ‖∂h_{T−1}/∂h_t‖₂ with the
    lag-k value at index −(k + 1) (the last entry lag 0; inf = overflow, NaN = not computed);
    ``overflow_step`` the first step a state reached the 10¹⁰⁰ cap, if any; ``notation``
    the symbols.
    """
    f = np.abs(_as_1d(factors))
    m = _as_1d(measured)
    k = len(f)
    diag, words = derivative(nonlinearity, notation)
    w = recurrent_weight(notation)
    first = (
        f"Each bar is ‖{diag} {w}‖₂, the most one step back can stretch the gradient "
        f"({words}; γ = {1 if nonlinearity in DERIVATIVES else 'sup |act′|'})."
    )
    if k == 0:
        return first + " At lag 0 there is no step to cross."
    with np.errstate(divide="ignore"):
        log_p = float(np.sum(np.log10(f)))
    p = _fmt_log10(log_p) if not math.isnan(log_p) else "NaN"
    steps = f"{k} step{'s' if k != 1 else ''}"
    v = float(m[-(k + 1)]) if len(m) > k else math.nan
    if notation == "pytorch":
        norm = f"‖∂h(T−1)/∂h(T−1−k)‖₂ at k = {k}"
    else:
        last, back = (nt.indexed(notation, "rnn", "h", i) for i in ("T−1", "T−1−k"))
        norm = f"‖∂{last}/∂{back}‖₂ at k = {k}"
    if math.isnan(v):
        got = f"the measured norm is computed for lags up to {len(m) - 1} only"
    elif not math.isfinite(v) or v >= OVERFLOW:
        where = f" at step {overflow_step}" if overflow_step is not None else ""
        got = (
            f"the measured {norm} overflowed: the states passed 10¹⁰⁰{where} and are clipped "
            "there, so it is shown as overflow, not as a number"
        )
    else:
        got = f"the measured {norm} is {style.fmt_grad(v)}"
        ratio = math.log10(v) - log_p if v > 0 and math.isfinite(log_p) else math.nan
        if ratio > -2.2e-4:  # within 0.05 %
            got += ", equal to the bound to 3 digits: here the bound is tight"
        elif math.isfinite(ratio):
            got += f", {_fmt_log10(ratio)} times the bound"
    if log_p < 0:
        trend = "The bound is below 1, so the gradient has shrunk to at most that."
    elif log_p > 0:
        trend = "The bound is above 1: it allows growth but does not force it."
    else:
        trend = "The bound is exactly 1: the gradient cannot have grown."
    return f"{first} Over {steps} their product is {p}, an upper bound; {got}. {trend}"


# --------------------------------------------------------------------------------------------
# The takeaway sentence
# --------------------------------------------------------------------------------------------


def _ratio_phrase(r: float) -> tuple[str, str]:
    """(verb, amount) of what a cell does to the gradient over the lag."""
    if math.isnan(r):
        return "has", "no finite value"
    if math.isinf(r) or r >= OVERFLOW:
        return "overflows", ""
    if r == 0:
        return "keeps", "less than 10⁻³⁰⁰ (0 in floating point)"
    if r <= 1:
        return "keeps", style.fmt_grad(r)
    return "multiplies it by", style.fmt_grad(r)


def takeaway(curves: dict, lag: int | None = None) -> str:
    """One plain-text sentence computed from the numbers, e.g.

    "After 40 steps the RNN keeps 1.0×10⁻⁹ of the gradient, the GRU 2.1×10⁻³ and the LSTM
    3.0×10⁻²."

    Each number is the norm ``lag`` steps back divided by the lag-0 norm (the last entry).
    ``lag=None`` (or a lag beyond the sequence) uses the longest lag there is. Zeros, NaN and
    overflow are said in words; no HTML.
    """
    arrs, T = _aligned(curves)
    if T == 0 or not arrs:
        return "Nothing to compare yet: the sequence is empty."
    if T == 1:
        return "With a single step there is no gap to cross: every cell keeps all of its gradient."
    whole = lag is None or int(lag) >= T
    k = T - 1 if whole else max(int(lag), 0)
    if k == 0:
        return "At lag 0 every cell keeps all of its gradient: choose a lag of at least 1."
    clauses, first_verb = [], None
    for c, v in arrs.items():
        name = f"the {_cell_name(c)}"
        end, old = float(v[-1]), float(v[T - 1 - k])
        if not math.isfinite(end) or end >= OVERFLOW:
            clauses.append(f"{name} overflowed (its values passed 10¹⁰⁰)")
            continue
        if end == 0:
            clauses.append(f"{name}'s gradient is exactly 0 already at the last step")
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            r = float(np.float64(old) / np.float64(end)) if math.isfinite(old) else old
        verb, amount = _ratio_phrase(abs(r) if not math.isnan(r) else r)
        if verb == "overflows":
            clauses.append(f"{name} overflows")
            continue
        if verb == "has":
            clauses.append(f"{name} has no finite value")
            continue
        if first_verb is None:
            first_verb = verb
            tail = " of the gradient" if verb == "keeps" else ""
            clauses.append(f"{name} {verb} {amount}{tail}")
        elif verb == first_verb:
            clauses.append(f"{name} {amount}")
        else:
            clauses.append(f"{name} {verb} {amount}")
    steps = f"{k} step{'s' if k != 1 else ''}"
    lead = f"After {steps}" + (" (the whole sequence)" if whole and lag is not None else "")
    if len(clauses) == 1:
        body = clauses[0]
    else:
        body = ", ".join(clauses[:-1]) + " and " + clauses[-1]
    return f"{lead} {body}."


# --------------------------------------------------------------------------------------------
# Why the gated cells remember (or do not): the mean gates and their products
# --------------------------------------------------------------------------------------------

UNDERFLOW_LOG10 = -300.0
"""Products below 10^-300 are named as such (float64 underflows near there), never as 0."""
HOLDS, PARTLY = 0.5, 1e-2
"""A gate whose product carries at least HOLDS of the gradient over the lag holds the state;
one below PARTLY lets it go; in between it holds part of it."""
_GATE_WORDS = {
    "gru": ("the GRU's update gate", "z", "its direct path"),
    "lstm": ("the LSTM's forget gate", "f", "its cell-state path"),
}


def fmt_gate(m: float) -> str:
    """A mean gate value: two decimals in 0.01..0.99, ``1 − 2.5×10⁻³`` close to 1, and the
    gradient format close to 0."""
    if math.isnan(m):
        return "NaN"
    if m >= 1.0:
        return "1"
    if m > 0.99:
        return f"1 − {style.fmt_grad(1.0 - m)}"
    if m >= 0.01:
        return f"{m:.2f}"
    return style.fmt_grad(m)


def _mean_log10_product(gates: np.ndarray, k: int) -> float:
    """log10 of the unit mean of Π over the last k steps of each unit's gate, in log space
    (neither under- nor overflows); -inf when a gate is exactly 0."""
    window = gates[gates.shape[0] - k :]
    with np.errstate(divide="ignore"):
        logs = np.sum(np.log10(window), axis=0)  # (H,) log10 Π_s gate_s per unit
    top = float(np.max(logs))
    if not math.isfinite(top):
        return top
    return top + math.log10(float(np.mean(10.0 ** (logs - top))))


def _fmt_product(lg: float) -> str:
    if math.isnan(lg):
        return "NaN"
    if lg < UNDERFLOW_LOG10:
        return "below 10⁻³⁰⁰"
    return f"≈ {style.fmt_grad(10.0**lg)}"


def gate_memory_sentence(z=None, f=None, *, lag: int, notation: str = "pytorch") -> str:
    """Why the gated cells keep (or lose) the gradient over the lag shown, from their gates.

    Parameters
    ----------
    z : ndarray (T, H), optional
        The GRU's update gates z_t (PyTorch's convention: z = 1 keeps the old state).
    f : ndarray (T, H), optional
        The LSTM's forget gates f_t.
    lag : int
        The lag k shown (the longest lag of the page's curves): the products run over the last
        k steps, Π_{s=T−k}^{T−1}, as the gated paths carry dL/dh_{T−1} (dL/dc_{T−1}) back to
        step T−1−k.
    notation : str
        The gates' symbols: deeplearning.ai's GRU names z's numbers 1 − Γu (its Γu = 1 − z).

    Returns
    -------
    str
        Plain text: each gate's mean over those steps, the unit mean of its product, what that
        means for the gate (holds the state, holds part of it, lets it go; a claim about the
        gated path, not the total gradient, which may take other paths), and a sentence that
        follows the verdicts. Products below 10⁻³⁰⁰ are said as such; "" without gates.

    Equations::

        GRU direct path:     ∂h_{T−1}/∂h_{T−1−k} ∋ diag(Π_s z_s)
        LSTM cell path:      ∂c_{T−1}/∂c_{T−1−k} ∋ diag(Π_s f_s)
    """
    gates = {c: g for c, g in (("gru", z), ("lstm", f)) if g is not None}
    if not gates:
        return ""
    sym_of = {c: nt.short(notation, c, _MEMORY[c][1]) for c in gates}
    factor_of = {c: nt.factor(notation, c, _MEMORY[c][1]) for c in gates}
    gate_name = {  # deeplearning.ai's 1 − Γu is the complement of its update gate
        c: _GATE_WORDS[c][0] + ("'s complement" if " " in sym_of[c] else "") for c in gates
    }
    arrs = {
        c: np.asarray(g, dtype=np.float64).reshape(np.shape(g)[0], -1) for c, g in gates.items()
    }
    T = min(a.shape[0] for a in arrs.values())
    k = min(max(int(lag), 0), T - 1) if T else 0
    if k == 0:
        means = "; ".join(
            f"{gate_name[c]} is {sym_of[c]} = {fmt_gate(float(np.mean(a)))}"
            for c, a in arrs.items()
        )
        return (
            f"With no step back to cross there is no product of gates yet: {means} "
            "(averaged over the units and steps)."
        )
    clauses, verdicts = [], {}
    for c, a in arrs.items():
        name, path, sym = gate_name[c], _GATE_WORDS[c][2], sym_of[c]
        mean = float(np.mean(a[a.shape[0] - k :]))
        lg = _mean_log10_product(a, k) if not math.isnan(mean) else math.nan
        if math.isnan(lg):
            verdict = "the product has no finite value"
        elif lg >= math.log10(HOLDS):
            verdict = "the gate holds the state"
        elif lg >= math.log10(PARTLY):
            verdict = "the gate holds part of it"
        else:
            verdict = "the gate lets the state go"
        verdicts[c] = verdict
        clauses.append(
            f"{name} averages {sym} = {fmt_gate(mean)}, so {path} carries back Π {factor_of[c]} "
            f"{_fmt_product(lg)} of the last step's gradient (mean over units): {verdict}"
        )
    steps = f"{k} step{'s' if k != 1 else ''}"
    text = f"Over the {steps} shown, " + "; ".join(clauses) + "."
    keep = [c for c, v in verdicts.items() if v == "the gate holds the state"]
    rest = [c for c in verdicts if c not in keep]
    knobs = " or ".join(
        {"gru": "the GRU update bias", "lstm": "the LSTM forget bias"}[c] for c in rest
    )
    if not keep:
        text += (
            f" Gated cells can learn to hold their state with these gates (raise {knobs}, or "
            "train them on Train): at these settings the gates do not, and what reaches the "
            "oldest steps takes the other paths (split in the path charts below)."
        )
        return text
    held = " and ".join(sym_of[c] for c in keep)
    text += (
        f" A gate held near 1 ({held} here) passes the old state, and its gradient, through "
        "each step almost unchanged: that is the gated cells' memory."
    )
    if rest:
        text += f" To see the other cell keep its state too, raise {knobs} or train it on Train."
    return text


# --------------------------------------------------------------------------------------------
# Download column names
# --------------------------------------------------------------------------------------------


def comparison_column(name: str, notation: str = "pytorch") -> str:
    """A column name of the comparison's downloads (``"rnn |dh_T/dx_t|"``, ``"lstm |dL/dc_t|
    cell-state path"``, ``"rnn local factor |diag(act') W_hh|_2"``) in the notation's export
    names (:func:`figures.notation.export_names`: deeplearning.ai's ``"rnn |da_T/dx_t|"``, its
    GRU's state c). The numbers are not touched: a name only."""
    if notation == "pytorch":
        return name
    cell = name.split(" ", 1)[0].lower()
    names = nt.export_names(notation, cell if cell in ORDER else "lstm")
    h, c = names.get("h", "h"), nt.export_names(notation, "lstm").get("c", "c")
    w = nt.usym(notation, "rnn", "U_h").replace("{", "").replace("}", "")
    name = name.replace("dh_", f"d{h}_").replace("dc_", f"d{c}_")
    return name.replace("W_hh", w)
