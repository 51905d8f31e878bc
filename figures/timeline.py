"""Everything Step through shows, for every animated step, as plain data for one timeline.

The Step through component (``ui/timeline.py``) draws the cell diagram (SVG), the token strip,
the equation ladder (MathML) and the vector strips from this data, and moves all of them
together in the browser: one source of truth for the current step, no server round trip per
frame. Pure Python and NumPy: no Streamlit, no Plotly.

Size: per animated step a few strings per diagram element and ladder line, and one character
per unit and strip row (a 32-level colour code), so a 200-step animation at H = 256 stays
well under 1 MB.
"""

from __future__ import annotations

import numpy as np

from engine import explain

from . import ladder, style
from .cell_tables import HEIGHT, SIZES, TABLES, WIDTH

CODES = "0123456789ABCDEFGHIJKLMNOPQRSTUV"  # 32 colour levels, one character per unit
NAN_CODE = "~"
LEVELS = len(CODES)
SUBSTEPS = {"rnn": "h", "gru": "rznh", "lstm": "figcoh"}
"""The sub-steps of one timestep (the diagram's focus groups), in the order of the equations."""
FORWARD_ROWS = {"lstm": "figcoh", "gru": "rznh", "rnn": "h"}
FACTOR_TEXT = {
    "lstm": ("∂L/∂c_{t−1} = ∂L/∂c_t × f_t", "× f_t = {} on the highway"),
    "gru": ("∂L/∂h_t × z_t: the direct path's share", "× z_t = {} on the direct path"),
    "rnn": ("‖diag(act′) W_hh‖₂ bounds what a gradient is multiplied by at this step",
            "gradient × at most\n‖diag({}) W_{{hh}}‖₂ = {}"),
}  # fmt: skip


def grad_decades(*arrays) -> tuple[float, float]:
    """The log10 range fitted to the gradient magnitudes shown (whole decades, at least one,
    at most 12): fixed for the whole animation, so colours compare across steps."""
    mags = np.concatenate([np.abs(np.asarray(a, dtype=float)).ravel() for a in arrays])
    mags = mags[np.isfinite(mags) & (mags > 0)]
    if mags.size == 0:
        return (-1.0, 0.0)
    hi = float(np.ceil(np.log10(mags.max())))
    lo = float(np.floor(np.log10(mags.min())))
    return (max(lo, hi - 12.0), hi if hi > lo else lo + 1.0)


def _grad_colors(values, decades, present) -> list[str]:
    lo, hi = decades
    a = np.abs(np.asarray(values, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), lo)
    lg = np.where(np.isnan(a), np.nan, lg)
    scale = style.colorscale(style.GRADIENT, presentation=present)
    return style.sample_colors(lg, scale, lo, hi)


# Quantity -> the bound of its signed colour range ("unit": ±1); sigmoid gates use 0..1.
SIGNED_BOUND = {"h": "h", "h_prev": "h", "zh": "h", "c": "c", "c_prev": "c", "fc": "c"}


def _value_colors(kind, values, bounds, present) -> list[str]:
    """Viridis on 0..1 for sigmoid gates (and 1 − z); RdBu on the run's fixed range for signed
    values (c on ±max|c|, a ReLU RNN's h on ±max|h|, the rest on ±1)."""
    if kind in style.SIGMOID_GATES or kind == "omz":
        return style.sample_colors(values, style.colorscale(style.SEQUENTIAL,
                                   presentation=present), 0.0, 1.0)  # fmt: skip
    bound = bounds.get(SIGNED_BOUND.get(kind, "unit"), 1.0)
    scale = style.colorscale(style.DIVERGING, presentation=present)
    return style.sample_colors(values, scale, -bound, bound)


def _fmt(values, grad: bool) -> list[str]:
    f = style.fmt_grad if grad else style.fmt_value
    return [f(float(x)) for x in values]


def _gradients(trace, grads, unit, F) -> dict:
    """The unit's backward numbers at the animated steps, with each gate's share of
    dL/dh_{t−1} ([U_qᵀ ∂L/∂a_q]_k) for the ladder."""
    full = explain.cell_gradients(trace, grads, steps=F)
    d = {k: a[:, unit] for k, a in full.items()}
    # the loss's own gradient on h_t is dL/dh_t minus what came from t+1: exactly 0 except at
    # the seeded step, so round-off of that subtraction is written as 0
    with np.errstate(invalid="ignore"):
        tiny = np.abs(d["dh_direct"]) <= 1e-12 * np.fmax(np.abs(d["dh"]), np.abs(d["dh_next"]))
    d["dh_direct"] = np.where(tiny, 0.0, d["dh_direct"])
    H, W = trace.H, trace.params["weight_hh"]
    gates = {"lstm": "ifgo", "gru": "rzn", "rnn": "h"}[trace.cell]
    for j, q in enumerate(gates):
        da = full["dgh_n"] if q == "n" else full[f"da_{q}"]
        block = W[j * H : (j + 1) * H, unit]
        share = np.full(trace.T, np.nan)
        with np.errstate(over="ignore", invalid="ignore"):
            share[F] = da[F] @ block
        d[f"contrib_{q}"] = share
    return d


def _diagram(trace, table, v, d, F, mode, decades, present) -> dict:
    bounds = explain.run_bounds(trace)
    backward = mode == "backward"
    elements, fills, texts, widths = [], [], [], []
    for el in table:
        key = el.grad if backward else el.value
        spec = {"id": el.name, "shape": el.shape, "at": el.at, "label": el.label,
                "groups": el.groups.split(), "hover": el.hover}  # fmt: skip
        if el.label == "act":
            spec["label"] = trace.nonlinearity
        if el.shape == "box":
            spec["sym"] = el.value
        elements.append(spec)
        widths.append(None)
        if key is None or el.shape == "note":
            fills.append(None)
            texts.append(None)
            continue
        vals = (d if backward else v)[key][F]
        if el.shape == "state":  # a thicker line for a larger magnitude (forward)
            bound = bounds["c"] if el.value in ("c", "c_prev", "fc") else bounds["h"]
            mag = np.nan_to_num(np.abs(vals) / bound, nan=0.0, posinf=1.0)
            widths[-1] = np.round(0.05 + 0.1 * np.clip(mag, 0, 1) * (not backward)
                                  + 0.05 * backward, 3).tolist()  # fmt: skip
        if backward:
            fills.append(_grad_colors(vals, decades, present))
        else:
            kind = "h" if key == "h_prev" else key
            fills.append(_value_colors(kind, vals, bounds, present))
        texts.append(None if el.shape in ("state", "wire") else _fmt(vals, backward))
    return {"width": WIDTH, "height": HEIGHT, "elements": elements,
            "fill": fills, "text": texts, "widths": widths, "sizes": SIZES}  # fmt: skip


def _factor_note(trace, v, F, unit, mode) -> list[str] | None:
    if mode != "backward":
        return None
    cell = trace.cell
    if cell == "rnn":
        slope = "[a_t>0]" if trace.nonlinearity == "relu" else "1−h_t²"
        fac = explain.rnn_factors(trace, F)
        return [FACTOR_TEXT["rnn"][1].format(slope, style.fmt_grad(float(x))) for x in fac]
    q = "f" if cell == "lstm" else "z"
    return [FACTOR_TEXT[cell][1].format(style.fmt_value(float(x))) for x in v[q][F]]


def _ladder(trace, v, d, F, mode, decades, present) -> list[dict]:
    bounds = explain.run_bounds(trace)
    if mode == "forward":
        lines = ladder.forward_lines(trace.cell, trace.nonlinearity, v, F)
    else:
        lines = ladder.backward_lines(trace.cell, trace.nonlinearity, v, d, F)
    out = []
    for line in lines:
        if line.kind == "grad":
            fill = _grad_colors(line.result, decades, present)
            result = _fmt(line.result, True)
        else:
            fill = _value_colors(line.kind, line.result, bounds, present)
            result = _fmt(line.result, False)
        out.append({"name": line.name, "groups": line.groups.split(),
                    "lhs": ladder.mathml(line.lhs), "symbolic": ladder.mathml(line.symbolic),
                    "numbers": line.numbers, "result": result, "fill": fill,
                    "ink": [style.ink_for(c) for c in fill]})  # fmt: skip
    if trace.cell == "rnn" and mode == "backward":
        act = r"[a_t > 0]" if trace.nonlinearity == "relu" else r"1 - h_t^2"
        fac = explain.rnn_factors(trace, F)
        out.append({"name": "factor", "groups": ["h"],
                    "lhs": ladder.mathml(rf"\lVert \mathrm{{diag}}({act})\, W_{{hh}} \rVert_2"),
                    "symbolic": [], "numbers": [[] for _ in F],
                    "result": _fmt(fac, True), "fill": ["#eeeeee"] * len(F),
                    "ink": [style.INK_DARK] * len(F)})  # fmt: skip
    return out


def _code_rows(values, vmin, vmax, log=False) -> list[str]:
    a = np.asarray(values, dtype=float)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(np.abs(a) > 0, np.log10(np.abs(a)), vmin)
    with np.errstate(invalid="ignore"):
        u = np.clip((a - vmin) / (vmax - vmin), 0.0, 1.0)
    idx = np.where(np.isfinite(u), np.rint(u * (len(CODES) - 1)), -1).astype(int)
    return ["".join(NAN_CODE if i < 0 else CODES[i] for i in row) for row in idx]


def _palette(name, present, n=LEVELS) -> list[str]:
    return style.sample_colors(np.linspace(0, 1, n), style.colorscale(name, presentation=present),
                               0, 1)  # fmt: skip


def _strips(trace, grads, F, mode, decades, present) -> list[dict]:
    """One row of H coloured cells per quantity: the whole state at this step, unit k outlined."""
    rows = []
    if mode == "forward":
        bounds = explain.run_bounds(trace)
        for q in FORWARD_ROWS[trace.cell]:
            vals = trace.gates[q] if q in trace.gates else getattr(trace, q)
            if q in style.SIGMOID_GATES:
                lo, hi, scale, ticks = 0.0, 1.0, style.SEQUENTIAL, ("0", "1")
            else:
                b = bounds["c"] if q == "c" else bounds["h"] if q == "h" else 1.0
                lo, hi, scale = -b, b, style.DIVERGING
                ticks = (style.fmt_value(-b), style.fmt_value(b))
            rows.append({"name": q, "label": f"{q}_t", "palette": _palette(scale, present),
                         "codes": _code_rows(vals[F], lo, hi), "ticks": ticks})  # fmt: skip
        return rows
    lo, hi = decades
    named = [("dh", "∂L/∂h_t", grads.h)]
    if grads.c is not None:
        named.append(("dc", "∂L/∂c_t", grads.c))
    for name, label, vals in named:
        rows.append({"name": name, "label": label, "palette": _palette(style.GRADIENT, present),
                     "codes": _code_rows(vals[F], lo, hi, log=True),
                     "ticks": (style.fmt_grad(10**lo), style.fmt_grad(10**hi))})  # fmt: skip
    return rows


def _token(trace, labels, t: int) -> str:
    """What step t shows as its token: the word or character, or for numeric input (labels
    that only count the steps) the value of a one-feature input, else nothing."""
    label = str(labels[t]) if labels is not None and t < len(labels) else str(t)
    if label != str(t):
        return label
    return style.fmt_value(float(trace.xs[t, 0])) if trace.xs.shape[-1] == 1 else ""


def timeline_data(trace, grads, labels, *, unit: int, mode: str, step: int,
                  present: bool = False, max_frames: int = style.MAX_FRAMES) -> dict:  # fmt: skip
    """The Step through timeline of one cell for unit k, forward or backward.

    Returns a JSON-ready dict: the animated steps ``frames`` (every step up to
    ``max_frames``, else an even subsample that contains ``step``), the token labels, the
    diagram (static elements plus per-frame fills and printed numbers), the equation ladder
    (MathML symbols plus per-frame numbers), the vector strips and the colour legends.
    User text (the tokens) is data, never markup: the component sets it as text.
    """
    if trace.batched or not 0 <= int(unit) < trace.H:
        raise ValueError(f"Step through shows one sequence and a unit in 0..{trace.H - 1}.")
    unit = int(unit)
    if mode not in ("forward", "backward"):
        raise ValueError(f"mode must be 'forward' or 'backward', not {mode!r}.")
    T = trace.T
    F = np.asarray(style.frame_steps_with(T, max_frames, min(max(step, 0), T - 1)), dtype=int)
    v = explain.unit_values(trace, unit)
    d = _gradients(trace, grads, unit, F) if mode == "backward" else {}
    norms = np.linalg.norm(grads.h, axis=-1)[F] if mode == "backward" else None
    # the token chips show ‖dL/dh_t‖ (up to √H times a unit's |dL/dh_t|) on the same range
    decades = grad_decades(*(d[k][F] for k in d if k.startswith(("d", "contrib"))),
                           grads.h[F], norms) if d else (-1.0, 0.0)  # fmt: skip
    tokens = [_token(trace, labels, t) for t in F]
    return {
        "cell": trace.cell, "mode": mode, "unit": int(unit), "T": T, "H": trace.H,
        "nonlinearity": trace.nonlinearity, "frames": F.tolist(), "tokens": tokens,
        "tokenFill": None if norms is None else _grad_colors(norms, decades, present),
        "diagram": _diagram(trace, TABLES[trace.cell], v, d, F, mode, decades, present),
        "factor": _factor_note(trace, v, F, unit, mode),
        "ladder": _ladder(trace, v, d, F, mode, decades, present),
        "strips": _strips(trace, grads, F, mode, decades, present),
        "legend": _legend(trace, mode, decades, present),
        "stepMs": style.STEP_MS, "walk": 1 if mode == "forward" else -1,
        "substeps": list(SUBSTEPS[trace.cell]), "cellName": style.CELL_NAMES[trace.cell],
    }  # fmt: skip


def _legend(trace, mode, decades, present) -> list[dict]:
    """The colour scales in use, as CSS gradients with their end labels."""
    if mode == "backward":
        lo, hi = decades
        return [{"title": "gradient magnitude |∂L/∂·| (log scale)",
                 "colors": _palette(style.GRADIENT, present, 11),
                 "ticks": [style.fmt_grad(10**lo), style.fmt_grad(10**hi)]}]  # fmt: skip
    bounds = explain.run_bounds(trace)
    title = "signed value"
    if trace.cell == "lstm":
        title += f" (c_t on ±{bounds['c']:.2f})"
    out = [
        {
            "title": title,
            "colors": _palette(style.DIVERGING, present, 11),
            "ticks": [style.fmt_value(-bounds["h"]), style.fmt_value(bounds["h"])],
        }
    ]
    if trace.cell != "rnn":
        out.insert(
            0,
            {
                "title": "gate value (0 closed … 1 open)",
                "colors": _palette(style.SEQUENTIAL, present, 11),
                "ticks": ["0", "1"],
            },
        )
    return out  # fmt: skip


__all__ = ["grad_decades", "timeline_data"]
