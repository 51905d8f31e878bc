"""The GRU's two reset placements side by side, and models loaded from other layouts.

Pure builders (no Streamlit) for the "GRU reset placement" page:

- ``"after"`` (PyTorch, Keras ``reset_after=True``): n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
- ``"before"`` (Cho et al. 2014, Keras ``reset_after=False``, d2l, deeplearning.ai):
  n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)

:func:`lag_figure` draws ‖∂h_T/∂h_t‖ of both on one log axis, :func:`gate_means` their gates
over time, :func:`heatmaps` one run's every unit; :func:`comparison_sentence` says, from the
numbers, how far apart the two runs are.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import gates, gradients, style
from . import notation as nt
from .style import CELL_COLORS, CELL_NAMES, INK_DARK, PRESENTATION_FONT_SIZE

VARIANTS = ("after", "before")
NAMES = {
    "after": "reset after the product (PyTorch)",
    "before": "reset before the product (Cho 2014)",
}
"""A variant's name in legends and titles."""
HEADINGS = {v: name[0].upper() + name[1:] for v, name in NAMES.items()}
WHO = {
    "after": "PyTorch's nn.GRU and Keras GRU(reset_after=True), Keras' default",
    "before": "Cho et al. 2014, Keras GRU(reset_after=False), d2l and deeplearning.ai",
}
"""Who writes each variant."""
COLORS = {"after": CELL_COLORS["gru"], "before": INK_DARK}
DASH = {"after": "solid", "before": "dash"}
WIDTH = {"after": 4.5, "before": 2.0}  # the wide solid line shows under the dashed one
MARKERS = {"after": "square", "before": "diamond"}

_RESET = r"r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})"
_UPDATE_GATE = r"z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})"
_CANDIDATE = {
    "after": r"n_t = \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big)",
    "before": r"n_t = \tanh\big(W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn}\big)",
}
_UPDATE = r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}\,"  # \, keeps KaTeX's box whole
EQUATIONS = {v: (_RESET, _UPDATE_GATE, _CANDIDATE[v], _UPDATE) for v in VARIANTS}
"""Each variant's equations (LaTeX, constant text): only the candidate n_t differs."""


def equations(variant: str, notation: str = "pytorch") -> tuple[str, ...]:
    """A placement's equations (LaTeX) in the notation's symbols (:data:`EQUATIONS` for
    PyTorch's): the reset and update gates (deeplearning.ai's Γu = σ(W_u[a⟨t−1⟩, x⟨t⟩] + b_u),
    its W_u = −W_z), the candidate as the placement computes it, and the state."""
    if notation == "pytorch":
        return EQUATIONS[variant]

    def gate(q: str) -> str:
        lhs = nt.symbol(notation, "gru", nt.shown(notation, "gru", q))
        return rf"{lhs} = \sigma({nt.affine(notation, 'gru', q)[0]})"

    cand = nt.fill(nt.GRU_N[notation, variant], notation, "gru").replace(r"\tanh(", r"\tanh\big(")
    cand = cand[:-1] + r"\big)" if cand.endswith(")") else cand
    state = nt.fill(nt.GRU_H[notation][0], notation, "gru")
    return (gate("r"), gate("z"), f"{nt.symbol(notation, 'gru', 'n')} = {cand}",
            rf"{nt.symbol(notation, 'gru', 'h')} = {state}\,")  # fmt: skip


_WHERE_R_TEMPLATES = {  # @q@: the notation's symbol (figures.notation.ufill)
    "after": (
        "@r@ multiplies the finished recurrent product @U_n@ @h_prev@ + @b_hn@, unit by unit: "
        "the old state is mixed by @U_n@ first, then each unit's share is kept or dropped (the "
        "bias @b_hn@ is reset too)."
    ),
    "before": (
        "@r@ multiplies the old state @h_prev@ itself, before @U_n@ mixes it: a unit reset to 0 "
        "is removed from every unit's candidate, and no bias is ever reset."
    ),
}


def where_r_acts(variant: str, notation: str = "pytorch") -> str:
    """Where the reset gate acts, in words and the notation's symbols (:data:`WHERE_R_ACTS`
    for PyTorch's)."""
    if notation == "pytorch":
        return WHERE_R_ACTS[variant]
    return nt.ufill(_WHERE_R_TEMPLATES[variant], notation, "gru")


WHERE_R_ACTS = {
    "after": (
        "r_t multiplies the finished recurrent product W_hn h_(t−1) + b_hn, unit by unit: the "
        "old state is mixed by W_hn first, then each unit's share is kept or dropped (the bias "
        "b_hn is reset too)."
    ),
    "before": (
        "r_t multiplies the old state h_(t−1) itself, before W_hn mixes it: a unit reset to 0 "
        "is removed from every unit's candidate, and the bias b_hn is never reset."
    ),
}

HOW_TO_READ = {
    "lag": (
        "How to read this: each line is ‖∂h_T/∂h_t‖₂ (the spectral norm of the exact Jacobian, "
        "no unit: a ratio of state changes) k steps back from the last token, on a log axis, "
        "for the same weights run with the reset gate after (solid) and before (dashed) the "
        "recurrent product. A straight downward line is exponential vanishing; where the two "
        "lines part, the placement of one gate changes how far the gradient reaches."
    ),
    "gate_means": (
        "How to read this: one row per gate (r reset, z update: σ, 0…1; n candidate: tanh, "
        "−1…1), its mean over the H units at each step, for the two placements (solid after, "
        "dashed before). Same input, same weights: every gap is the reset placement alone."
    ),
    "heatmaps": (
        "How to read this: one panel per gate or state, a row per unit and a column per step, "
        "on scales fixed for the whole run ({scales}); {compare}"
    ),
    "loaded_lag": (
        "How to read this: ‖∂h_T/∂h_t‖₂ of the loaded model (spectral norm of the exact "
        "Jacobian, no unit; for an LSTM with c_t held fixed) k steps back from the last token, "
        "on a log axis: a downward line vanishes, a flat one remembers."
    ),
}


def _font_size(presentation: bool) -> int | None:
    return PRESENTATION_FONT_SIZE if presentation else None


TINY = float(np.finfo(np.float64).tiny)  # below it float64 numbers are subnormal
CAP = gradients.OVERFLOW
"""The engine saturates gradients at 10¹⁰⁰ (GRAD_LIMIT): a norm this large has overflowed."""


def capped(norms) -> np.ndarray:
    """The norms (oldest step first, lag 0 last) with every lag from the first one that reached
    the engine's cap onwards (back in time) set to inf: BPTT carried a saturated gradient from
    there, so the older numbers are not the true gradient but an overflowed computation."""
    a = np.asarray(norms, dtype=np.float64).ravel().copy()
    bad = ~np.isfinite(a) | (np.abs(a) >= CAP)
    if np.any(bad):
        newest = len(a) - 1 - int(np.argmax(bad[::-1]))  # the smallest lag that overflowed
        a[: newest + 1] = np.inf
    return a


def first_capped_lag(norms) -> int | None:
    """The smallest lag k whose norm overflowed (None if none did)."""
    a = capped(norms)[::-1]
    bad = np.isinf(a)
    return int(np.argmax(bad)) if np.any(bad) else None


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def state_jacobian(notation: str = "pytorch") -> str:
    """‖∂h_T/∂h_t‖ of the GRU in the notation (HTML): deeplearning.ai's ‖∂c⟨T⟩/∂c⟨t⟩‖."""
    return nt.hfill("‖∂@h_last@/∂@h@‖", notation, "gru")


def how_to_read(name: str, notation: str = "pytorch") -> str:
    """:data:`HOW_TO_READ`'s caption with its GRU symbols in the notation."""
    text = HOW_TO_READ[name]
    if notation == "pytorch":
        return text
    jac = nt.ufill("‖∂@h_last@/∂@h@‖", notation, "gru")
    text = text.replace("‖∂h_T/∂h_t‖", jac).replace("c_t held fixed", nt.ufill(
        "@c@ held fixed", notation, "lstm"))  # fmt: skip
    r, z, n = (nt.short(notation, "gru", nt.shown(notation, "gru", q)) for q in ("r", "z", "n"))
    return text.replace("(r reset, z update", f"({r} reset, {z} update").replace(
        "; n candidate", f"; {n} candidate")  # fmt: skip


def lag_figure(
    norms: dict, *, labels=None, presentation: bool = False, notation: str = "pytorch"
) -> go.Figure:
    """‖∂h_T/∂h_t‖ against lag for both placements on one log axis.

    Parameters
    ----------
    norms : dict[str, ndarray (n,)]
        ``"after"`` / ``"before"`` -> the Jacobian norms, oldest step first (the last entry is
        lag 0; a shorter array covers the most recent steps).
    labels : tuple[str, ...], optional
        The tokens of the steps the norms cover (user text: escaped).

    Returns
    -------
    go.Figure
        :func:`figures.gradients.gradient_vs_lag` (floor, overflow and NaN handling, hover,
        log ticks) with one line per variant in its colour, dash and marker.
    """
    curves = {NAMES[v]: capped(norms[v]) for v in VARIANTS if v in norms}
    jac = state_jacobian(notation)
    fig = gradients.gradient_vs_lag(
        curves, measure_label=jac, labels=labels,
        presentation=presentation,
    )  # fmt: skip
    for v in VARIANTS:
        for trace in fig.data:
            if trace.name.startswith(style.safe_text(NAMES[v])):
                trace.line = {"color": COLORS[v], "dash": DASH[v], "width": WIDTH[v]}
                trace.marker = {"color": COLORS[v], "symbol": MARKERS[v], "size": 7,
                                "maxdisplayed": 40}  # fmt: skip
    title = f"Same GRU weights, two reset placements: {jac} against lag"
    layout = fig.layout.to_plotly_json()
    layout["title"]["text"] = title
    fig.update_layout(style.fit_title(layout, 55 if presentation else 80))
    return fig


def gate_means(
    traces: dict, *, labels=None, presentation: bool = False, notation: str = "pytorch"
) -> go.Figure:
    """The mean of r_t, z_t and n_t over the units at each step, both placements per row.

    ``traces`` maps ``"after"`` / ``"before"`` to GRU Traces of the same input (one sequence).
    ``notation`` names them (deeplearning.ai's row is Γu, the mean of 1 − z, as on Gates over
    time).
    """
    first = next(iter(traces.values()))
    T = first.T
    names = ("r", "z", "n")
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07)
    t = np.arange(T)
    for row, name in enumerate(names, start=1):
        sym = gates._sym("gru", name, notation)
        for v in VARIANTS:
            if v not in traces:
                continue
            mean = gates._series(traces[v], name, notation).mean(axis=-1)
            fmt = ".3f" if name in style.SIGMOID_GATES else "+.3f"
            fig.add_trace(
                go.Scatter(
                    x=t, y=mean, mode="lines", name=NAMES[v], legendgroup=v,
                    showlegend=row == 1,
                    line={"color": COLORS[v], "dash": DASH[v], "width": WIDTH[v]},
                    hovertemplate=f"mean {sym}, {NAMES[v]}: %{{y:{fmt}}}<extra></extra>",
                ),
                row=row, col=1,
            )  # fmt: skip
        sigmoid = name in style.SIGMOID_GATES
        fig.update_yaxes(
            range=[-0.03, 1.03] if sigmoid else [-1.05, 1.05], row=row, col=1,
            title={"text": f"mean {sym}" + (" (0…1)" if sigmoid else " (±1)")},
            gridcolor="#eee", zeroline=not sigmoid, zerolinecolor="#888",
        )  # fmt: skip
    layout = style.base_layout(
        f"The gates over time, both placements: mean over the {first.H} units",
        height=560 + (60 if presentation else 0), font_size=_font_size(presentation),
    )  # fmt: skip
    layout.update(
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.16, "yanchor": "top", "x": 0.0},
        margin={"l": 90, "r": 30, "t": 70, "b": 150},
    )
    style.fit_title(layout, 55 if presentation else 80)
    fig.update_layout(layout)
    axis = style.time_axis(labels, T)
    fig.update_xaxes(**{k: v for k, v in axis.items() if k != "title"})
    fig.update_xaxes(title={"text": axis["title"]["text"]}, row=3, col=1)
    return fig


def heatmaps(
    trace, *, title: str, labels=None, presentation: bool = False, notation: str = "pytorch"
) -> go.Figure:
    """:func:`figures.gates.gate_heatmaps` of one run, static (no cursor, no animation) and
    titled ``title`` (trusted text). In presentation mode only the title grows: the panels
    keep their laptop height (on Gates over time they shrink to share the first screen, which
    these secondary figures need not), so their colour bars keep room for their ticks."""
    fig = gates.gate_heatmaps(trace, labels=labels, max_frames=0, notation=notation)
    layout = fig.layout.to_plotly_json()
    layout["title"]["text"] = title
    bottom = 100  # no play controls under a static figure: the axis title needs this much
    layout["height"] -= layout["margin"]["b"] - bottom
    layout["margin"]["b"] = bottom
    if presentation:
        layout["title"]["font"] = {"size": PRESENTATION_FONT_SIZE + 4}
    fig.update_layout(style.fit_title(layout, 60 if presentation else 80))
    fig.layout.shapes = ()  # no current step here: the cursor would point at nothing
    return fig


def heatmaps_caption(trace, *, compare: bool = True, notation: str = "pytorch") -> str:
    """The "how to read this" of :func:`heatmaps` for the trace's cell and activation, its
    symbols in the notation."""
    scales = {
        "gru": "σ gates 0…1, tanh values ±1",
        "lstm": "σ gates 0…1, tanh values ±1, the cell state ±max|c|",
        "rnn": "tanh: ±1" if trace.nonlinearity == "tanh" else "ReLU: ±max|h|, unbounded",
    }[trace.cell]
    if trace.cell == "rnn":
        scales = f"the RNN has no gates, its one panel is the state h; {scales}"
    if notation != "pytorch":
        c, h = nt.short(notation, "lstm", "c"), nt.short(notation, "rnn", "h")
        scales = scales.replace("|c|", f"|{c}|").replace("|h|", f"|{h}|").replace(
            "state h;", f"state {h};")  # fmt: skip
    return HOW_TO_READ["heatmaps"].format(
        scales=scales,
        compare="compare the two runs panel by panel."
        if compare
        else "dark and light bands show units that hold their value across steps.",
    )


def loaded_title(cell: str, variant: str) -> str:
    """The title of a loaded model's figures: its cell and, for a GRU, its placement."""
    return CELL_NAMES[cell] + (f", {NAMES[variant]}" if cell == "gru" else "")


def loaded_lag_figure(
    cell: str, variant: str, norms, *, labels=None, presentation: bool = False,
    notation: str = "pytorch",
) -> go.Figure:  # fmt: skip
    """‖∂h_T/∂h_t‖ of a loaded model against lag (:func:`figures.gradients.gradient_vs_lag`
    in the cell's colour), titled with the cell and, for a GRU, its placement."""
    jac = nt.hfill("‖∂@h_last@/∂@h@‖", notation, cell)
    fig = gradients.gradient_vs_lag(
        {cell: capped(norms)}, measure_label=jac, labels=labels, presentation=presentation,
    )  # fmt: skip
    title = f"Loaded {loaded_title(cell, variant)}: {jac} against lag"
    layout = fig.layout.to_plotly_json()
    layout["title"]["text"] = title
    fig.update_layout(style.fit_title(layout, 55 if presentation else 80))
    return fig


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------


def state_difference(h_after, h_before) -> tuple[float, int, int]:
    """(max |h_before − h_after| over every step and unit, its step t, its unit k)."""
    d = np.abs(np.asarray(h_before, dtype=np.float64) - np.asarray(h_after, dtype=np.float64))
    if d.size == 0:
        return 0.0, 0, 0
    t, k = np.unravel_index(int(np.argmax(d)), d.shape)
    return float(d[t, k]), int(t), int(k)


def _magnitude(lg: float) -> str:
    """10**lg in the app's gradient format, beyond float range too."""
    return gradients._fmt_log10(lg)


def _pair(big: float, small: float) -> str:
    """``2.41×10⁻³ against 2.36×10⁻³``: with as many digits as it takes to tell them apart."""
    for digits in range(1, 16):
        one, two = style.fmt_grad(big, digits), style.fmt_grad(small, digits)
        if one != two:
            break
    return f"{one} against {two}"


def _gradient_clause(a: float, b: float, k: int, caps: dict) -> str:
    """What the two gradients k steps back say: a (after) against b (before); ``caps`` holds
    each placement's first overflowed lag (or None)."""
    back = f"{k} step{'s' if k != 1 else ''} back"
    over = {v: j for v, j in caps.items() if j is not None and j <= k}
    if over:
        where = " and ".join(
            f"{j} step{'s' if j != 1 else ''} back with the {NAMES[v]}" for v, j in over.items()
        )
        text = f"the gradient overflows (it reaches the engine's cap of 10¹⁰⁰ {where})"
        if len(over) == 1:
            (v,) = [v for v in VARIANTS if v not in over]
            value = a if v == "after" else b
            text += f"; {back} it is {style.fmt_grad(value)} with the {NAMES[v]}"
        return text
    note = (
        " (values below 10⁻³⁰⁸ keep only a few significant digits in float64)"
        if any(0 < x < TINY for x in (a, b))
        else ""
    )
    return _finite_clause(a, b, back) + note


def _finite_clause(a: float, b: float, back: str) -> str:
    """The two finite gradients, compared in words."""
    if a == 0 and b == 0:
        return f"the gradient {back} is 0 in float64 (below 10⁻³²⁴) with both placements"
    if a == 0 or b == 0:
        zero, other = ("after", "before") if a == 0 else ("before", "after")
        value = style.fmt_grad(max(a, b))
        return (
            f"the gradient {back} is 0 in float64 (below 10⁻³²⁴) with the {NAMES[zero]} and "
            f"{value} with the {NAMES[other]}"
        )
    if a == b:
        return f"the gradient {back} is the same with both placements ({style.fmt_grad(a)})"
    big = "before" if b > a else "after"
    lg = abs(math.log10(b) - math.log10(a))
    pair = _pair(max(a, b), min(a, b))
    if lg < math.log10(1.01):
        return (
            f"the gradient {back} differs by less than 1% between the placements ({pair}, "
            f"larger with the {NAMES[big]})"
        )
    return f"the gradient {back} is {_magnitude(lg)} times larger with the {NAMES[big]} ({pair})"


def comparison_sentence(
    h_after, h_before, norm_after, norm_before, *, notation: str = "pytorch"
) -> str:
    """One plain-text sentence computed from the two runs, true in every regime, e.g.

    "Same weights, two models: the states differ by up to 0.37 (max |h_before − h_after|, at
    step 12, unit 3); the gradient 39 steps back is 1.3 times larger with the reset before the
    product (PyTorch) (4.1×10⁻³ against 3.2×10⁻³)."

    ``norm_*`` are the Jacobian norms ‖∂h_T/∂h_t‖, oldest step first (lag 0 last): the
    comparison is at the oldest step they both cover. No HTML. ``notation`` names the state
    (deeplearning.ai's c).
    """
    h = nt.short(notation, "gru", "h")
    diff, t, k = state_difference(h_after, h_before)
    if diff == 0:
        states = f"the states are identical at every step (max |{h}_before − {h}_after| = 0)"
    else:
        states = (
            f"the states differ by up to {fmt_difference(diff)} (max |{h}_before − {h}_after|, at "
            f"step {t}, unit {k})"
        )
    a = np.asarray(norm_after, dtype=np.float64).ravel()
    b = np.asarray(norm_before, dtype=np.float64).ravel()
    n = min(len(a), len(b))
    if n <= 1:
        grad = "with a single step there is no step back, so no gradient to compare"
    else:
        caps = {"after": first_capped_lag(a[-n:]), "before": first_capped_lag(b[-n:])}
        grad = _gradient_clause(float(a[-n]), float(b[-n]), n - 1, caps)
    return f"Same weights, two models: {states}; {grad}."


def fmt_difference(d: float) -> str:
    """A state difference (0 ≤ d < 2, both states in (−1, 1)): two decimals while ≥ 0.01
    (``0.18``), more where two would round up to the bound 2 (``1.9996``), ``4.5×10⁻⁵`` below."""
    if d < 0.01:
        return style.fmt_grad(d)
    digits = 2
    while round(d, digits) >= 2 and digits < 17:
        digits += 1
    return f"{d:.{digits}f}"


def loaded_sentence(cell: str, variant: str, H: int, D: int, nonlinearity: str = "tanh") -> str:
    """What was loaded and which variant it needs (plain text); an RNN's activation is the
    sidebar's (no layout records it)."""
    what = f"{CELL_NAMES[cell]} with H = {H} hidden units and D = {D} input features"
    if cell == "rnn":
        return (
            f"Loaded an {what}, run with the sidebar's RNN activation, {nonlinearity} (the "
            "weights do not say which one they were trained with); the reset placement is a "
            "GRU question, so it does not apply."
        )
    if cell != "gru":
        return f"Loaded an {what}; the reset placement is a GRU question, so it does not apply."
    return (
        f"Loaded a {what}. It needs the {NAMES[variant]}, the model of {WHO[variant]}: it runs "
        f'with forward(..., gru_reset="{variant}").'
    )
