"""The step-through companions of the cell diagram: the token timeline and the vector strips.

``token_timeline`` shows time unrolled: one chip per input token, the current step outlined in
the shared cursor style, optionally coloured by a per-step value (the gradient magnitude in
backward mode), with client-side frames that move the cursor. ``vector_strips`` shows every
unit of every gate and state at the current step as one-row heat strips on fixed colour
ranges, unit k outlined: the vectors beside the equation ladder.
"""

from __future__ import annotations

import math

import numpy as np

from . import style
from .equations import SUBSTEPS, cell_gradients, run_bounds

S = style.SYMBOLS
CHIP_TEXT_MAX_T = 40  # up to this many steps the tokens are written inside the chips
MAX_TICKS = 12


def _token(labels, t, max_len=24):
    if labels is None or t >= len(labels):
        return ""
    return style.safe_text(labels[t], max_len)


def _cursor_xy(t):
    x0, x1, y0, y1 = t - 0.55, t + 0.55, -0.62, 0.62
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _fg(x: float) -> str:
    return style.fmt_grad(0.0 if abs(x) < 1e-300 else x)


def token_timeline(
    labels,
    step: int,
    *,
    values=None,
    mode: str = "forward",
    max_frames: int = style.MAX_FRAMES,
    presentation: bool = False,
):
    """A row of token chips (time unrolled), the current step outlined.

    Parameters
    ----------
    labels : sequence of str or None
        One token per step (user text: escaped before Plotly sees it). None numbers the steps
        (then ``values`` gives T).
    step : int
        0-based current step.
    values : array_like (T,), optional
        Colours the chips: backward mode a gradient magnitude (Magma_r on log10 over the shared
        decades), forward a signed value (RdBu on ±max|values|, at least ±1). None: plain chips.
    mode : {"forward", "backward"}
        Backward orders the frames from the last step to the first.
    max_frames : int
        Frames that move the cursor in the browser (subsampled like the diagram's, the current
        step included); 0 gives a static figure.
    presentation : bool
        Larger type.

    Returns
    -------
    go.Figure
    """
    if mode not in ("forward", "backward"):
        raise ValueError(f"mode must be 'forward' or 'backward', not {mode!r}.")
    if labels is None and values is None:
        raise ValueError("token_timeline needs labels or values (to know the length).")
    T = len(labels) if labels is not None else len(values)
    if not 0 <= int(step) < T:
        raise ValueError(f"step {step} is out of range 0..{T - 1}.")
    step = int(step)
    backward = mode == "backward"
    fs = style.PRESENTATION_FONT_SIZE if presentation else style.FONT["size"]
    tokens = [_token(labels, t) for t in range(T)]

    # chip colours: a fixed range for the whole run
    if values is not None:
        vals = np.asarray(values, dtype=np.float64).reshape(-1)
        if vals.shape != (T,):
            raise ValueError(f"values has {vals.size} entries; expected {T}, one per step.")
        if backward:
            lo, hi = style.GRAD_DECADES
            z = style.log10_magnitude(vals)
            color = {
                "colorscale": style.colorscale(style.GRADIENT, presentation=presentation),
                "zmin": lo,
                "zmax": hi,
            }
            ticks = list(range(int(lo), int(hi) + 1, 2))
            bar = {
                "title": {"text": "‖∂L/∂h<sub>t</sub>‖"},
                "tickvals": ticks,
                "ticktext": [style.fmt_grad(10.0**k) for k in ticks],
            }
            shown = [_fg(x) for x in vals.tolist()]
            what = f"‖{'∂L/∂'}{S['h']}‖"
        else:
            finite = np.abs(vals[np.isfinite(vals)])
            bound = max(float(finite.max(initial=0.0)), 1.0)
            z = vals
            color = {
                "colorscale": style.colorscale(style.DIVERGING),
                "zmin": -bound,
                "zmax": bound,
                "zmid": 0.0,
            }
            bar = {"title": {"text": "value"}}
            shown = [style.fmt_value(x) for x in vals.tolist()]
            what = "value"
        color.update(
            showscale=True,
            colorbar={
                **bar,
                "orientation": "h",
                "thickness": 10,
                "len": 0.3,
                "x": 1.0,
                "xanchor": "right",
                "y": 1.02,
                "yanchor": "bottom",
                "title": {**bar["title"], "side": "top"},
            },
        )
        hover = [
            f"t = {t}{f' · “{tokens[t]}”' if tokens[t] else ''}<br>{what} = {shown[t]}"
            for t in range(T)
        ]
    else:
        z = np.zeros(T)
        color = {
            "colorscale": [[0, "#eeeeee"], [1, "#eeeeee"]],
            "zmin": 0,
            "zmax": 1,
            "showscale": False,
        }
        hover = [f"t = {t}{f' · “{tokens[t]}”' if tokens[t] else ''}" for t in range(T)]

    chips_text = T <= CHIP_TEXT_MAX_T and labels is not None
    gap = 3 if T <= 60 else (1 if T <= 300 else 0)
    heat = {
        "type": "heatmap",
        "z": [np.round(z, 4).tolist()],
        "x": list(range(T)),
        "y": [0],
        "xgap": gap,
        "ygap": 0,
        "hoverinfo": "text",
        "hovertext": [hover],
        "name": "",
        **color,
    }
    if chips_text:
        heat.update(
            text=[[_token(labels, t, 10) for t in range(T)]],
            texttemplate="%{text}",
            textfont={"size": fs - 2},
        )
    cx, cy = _cursor_xy(step)
    cursor = {
        "type": "scatter",
        "x": cx,
        "y": cy,
        "mode": "lines",
        "fill": "toself",
        "fillcolor": style.CURSOR_BAND,
        "line": dict(style.CURSOR_LINE),
        "hoverinfo": "skip",
        "showlegend": False,
    }
    k = max(1, math.ceil(T / (MAX_TICKS if chips_text or labels is None else MAX_TICKS - 4)))
    tickvals = list(range(0, T, k))
    if chips_text:
        ticktext = [str(t) for t in tickvals]
    else:
        ticktext = [
            f"{t}·{_token(labels, t, 8)}" if labels is not None else str(t) for t in tickvals
        ]

    def title(t):
        tok = f' · "{tokens[t]}"' if tokens[t] else ""
        return f"Sequence · t = {t}{tok} · {mode}"

    frames_at = style.frame_steps_with(T, int(max_frames), step)
    order = frames_at[::-1] if backward else frames_at
    frames = [
        {
            "name": str(t),
            "data": [{"x": _cursor_xy(t)[0]}],
            "traces": [1],
            "layout": {"title": {"text": title(t)}},
        }
        for t in order
    ]
    plot_px = 70 + (20 if presentation else 0)
    below = 175 if frames else 60  # tick labels, axis title, then the play controls
    layout = style.base_layout(
        title(step), height=80 + plot_px + below, font_size=fs if presentation else None
    )
    layout.update(
        showlegend=False,
        margin={"l": 20, "r": 20, "t": 80, "b": below},
        xaxis={
            "title": {"text": "timestep t (token)"},
            "tickangle": 0,
            "range": [-0.7, T - 0.3],
            "tickvals": tickvals,
            "ticktext": ticktext,
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        yaxis={"visible": False, "range": [-0.7, 0.7], "fixedrange": True},
    )
    if frames:
        layout.update(
            style.play_controls(
                [str(t) for t in order],
                duration=int(style.STEP_MS * (1.5 if presentation else 1)),
                labels=[
                    f"{t} · {_token(labels, t, 12)}" if labels is not None else str(t)
                    for t in order
                ],
                active=order.index(step),
            )
        )
        below_axis = -62 / plot_px  # under the tick labels and the axis title
        layout["sliders"][0]["y"] = below_axis
        layout["updatemenus"][0]["y"] = below_axis
    return style.figure_with_frames([heat, cursor], layout, frames)


# --------------------------------------------------------------------------------------------
# Vector strips
# --------------------------------------------------------------------------------------------


def _forward_rows(trace):
    """(key, label, (T, H) values, kind) for each strip: kind "gate" (0..1) or a signed bound."""
    bounds = run_bounds(trace)
    rows = []
    if trace.cell == "rnn":
        h_prev = np.concatenate([trace.h0[None], trace.h[:-1]])
        rows.append(("h_prev", "h<sub>t−1</sub>", h_prev, bounds["h"]))
        rows.append(("h", S["h"], trace.h, bounds["h"]))
        return rows
    for q in SUBSTEPS[trace.cell]:
        if q in trace.gates:
            a = trace.gates[q]
            rows.append((q, S[q], a, "gate" if q in style.SIGMOID_GATES else 1.0))
        elif q == "c":
            rows.append(("c", S["c"], trace.c, bounds["c"]))
        else:
            rows.append((q, S[q], trace.h, bounds["h"]))
    return rows


def _backward_rows(trace, grads, t):
    d = cell_gradients(trace, grads, steps=[t])  # only the shown step is computed
    dl = "∂L/∂"
    rows = [("dh", f"{dl}{S['h']}", d["dh"])]
    if trace.cell == "lstm":
        rows.append(("dc", f"{dl}{S['c']}", d["dc"]))
    gates = {"lstm": "figo", "gru": "rzn", "rnn": "h"}[trace.cell]
    for q in gates:
        rows.append((f"da_{q}", f"{dl}a<sub>{q if q != 'h' else 't'}</sub>", d[f"da_{q}"]))
    if trace.cell == "lstm":
        rows.append(("dc_prev", f"{dl}c<sub>t−1</sub>", d["dc_prev"]))
    rows.append(("dh_prev", f"{dl}h<sub>t−1</sub>", d["dh_prev"]))
    return rows


def vector_strips(
    trace, step: int, unit: int, *, mode: str = "forward", grads=None, presentation: bool = False
):
    """One-row heat strips of every gate and state over all units at one step, unit k outlined.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace.
    step, unit : int
        The step t (0-based) and the outlined unit k.
    mode : {"forward", "backward"}
        Forward: the sub-step quantities (lstm f i g c o h; gru r z n h; rnn h_{t−1}, h_t) on
        Viridis 0..1 (gates) and RdBu (signed values, c on ±max|c| over the run). Backward:
        dL/dh_t, dL/dc_t (lstm), every gate's pre-activation gradient, dL/dc_{t−1} (lstm) and
        dL/dh_{t−1}, on Magma_r over log10 |gradient| (the shared decades).
    grads : engine.Grads
        Required for the backward mode.

    Returns
    -------
    go.Figure
    """
    if mode not in ("forward", "backward"):
        raise ValueError(f"mode must be 'forward' or 'backward', not {mode!r}.")
    if trace.batched:
        raise ValueError("The step-through figures show one sequence: pass an unbatched trace.")
    T, H = trace.T, trace.H
    if not 0 <= int(step) < T:
        raise ValueError(f"step {step} is out of range 0..{T - 1}.")
    if not 0 <= int(unit) < H:
        raise ValueError(f"unit {unit} is out of range 0..{H - 1}.")
    t, k = int(step), int(unit)
    units = list(range(H))
    data = []
    labels = []
    if mode == "forward":
        for j, (key, label, arr, kind) in enumerate(_forward_rows(trace)):
            row = arr[t].astype(np.float64)
            gate = kind == "gate"
            z = row if gate else row / kind
            text = [
                f"unit {u}<br>{label} = {style.fmt_value(x)}" for u, x in enumerate(row.tolist())
            ]
            data.append(
                {
                    "type": "heatmap",
                    "z": [np.round(z, 4).tolist()],
                    "x": units,
                    "y": [j],
                    "coloraxis": "coloraxis" if gate else "coloraxis2",
                    "text": [text],
                    "hovertemplate": "%{text}<extra></extra>",
                    "xgap": 1 if H <= 128 else 0,
                    "ygap": 3,
                    "name": key,
                }
            )
            labels.append(label if gate or kind == 1.0 else f"{label} ÷ {style.fmt_grad(kind)}")
        has_gates = trace.cell != "rnn"
        bar = {"thickness": 12, "len": 1.0, "y": 0.5, "yanchor": "middle"}
        coloraxes = {
            "coloraxis2": {
                "colorscale": style.colorscale(style.DIVERGING, presentation=presentation),
                "cmin": -1.0,
                "cmax": 1.0,
                "cmid": 0.0,
                "colorbar": {
                    **bar,
                    "x": 1.13 if has_gates else 1.02,
                    "title": {"text": "value"},
                    "tickvals": [-1, 0, 1],
                    "ticktext": ["−1", "0", "+1"],
                },
            },
        }
        if has_gates:
            coloraxes["coloraxis"] = {
                "colorscale": style.colorscale(style.SEQUENTIAL, presentation=presentation),
                "cmin": 0.0,
                "cmax": 1.0,
                "colorbar": {**bar, "x": 1.02, "title": {"text": "gate"}},
            }
    else:
        lo, hi = style.GRAD_DECADES
        for j, (key, label, arr) in enumerate(_backward_rows(trace, grads, t)):
            row = arr[t].astype(np.float64)
            text = [f"unit {u}<br>{label} = {_fg(x)}" for u, x in enumerate(row.tolist())]
            data.append(
                {
                    "type": "heatmap",
                    "z": [np.round(style.log10_magnitude(row), 4).tolist()],
                    "x": units,
                    "y": [j],
                    "coloraxis": "coloraxis",
                    "text": [text],
                    "hovertemplate": "%{text}<extra></extra>",
                    "xgap": 1 if H <= 128 else 0,
                    "ygap": 3,
                    "name": key,
                }
            )
            labels.append(label)
        ticks = list(range(int(lo), int(hi) + 1, 2))
        coloraxes = {
            "coloraxis": {
                "colorscale": style.colorscale(style.GRADIENT, presentation=presentation),
                "cmin": lo,
                "cmax": hi,
                "colorbar": {
                    "thickness": 12,
                    "len": 1.0,
                    "x": 1.02,
                    "title": {"text": "|gradient|"},
                    "tickvals": ticks,
                    "ticktext": [style.fmt_grad(10.0**e) for e in ticks],
                },
            }
        }
    n = len(data)
    row_px = 34 if presentation else 26
    layout = style.base_layout(
        f"Vectors at t = {t} · {mode} · unit {k} outlined",
        height=110 + row_px * n + (40 if presentation else 0),
        font_size=style.PRESENTATION_FONT_SIZE if presentation else None,
    )
    layout.update(
        coloraxes,
        margin={"l": 120, "r": 20, "t": 50, "b": 50},
        xaxis={
            "title": {"text": "unit"},
            "range": [-0.5, H - 0.5],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        yaxis={
            "tickvals": list(range(n)),
            "ticktext": labels,
            "range": [n - 0.5, -0.5],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        shapes=[
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": k - 0.5,
                "x1": k + 0.5,
                "y0": -0.5,
                "y1": n - 0.5,
                "line": dict(style.CURSOR_LINE),
                "fillcolor": "rgba(0,0,0,0)",
            }
        ],
    )
    return style.figure_with_frames(data, layout)
