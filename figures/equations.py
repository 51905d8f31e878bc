"""The live equations of one step for one unit: symbolic line, numbers plugged in, boxed result.

Pure strings and NumPy (no Plotly, no Streamlit). The numbers come from :func:`unit_values` and
:func:`unit_gradients`, the per-unit arrays the cell diagram is coloured by, so the ladder and
the diagram never disagree. LaTeX is written for KaTeX (``st.latex``), one rung in two rows
of an ``aligned`` block (the symbolic form, then the numbers substituted) so it fits a narrow
column; the result sits in an ``\\fcolorbox`` filled with the same colour as that quantity in
the diagram, its text flipping to white on dark fills.

Conventions: ``t`` is the 0-based step index of the arrays (``h_{t-1}`` at t = 0 is ``h0``);
a gate's pre-activation is written ``a_f = W_f x_t + U_f h_{t-1} + b_f`` with ``W`` the rows of
``weight_ih``, ``U`` the rows of ``weight_hh`` and ``b = b_ih + b_hh`` (the GRU's candidate
keeps ``b_in`` and ``b_hn`` apart, because r multiplies ``U_n h_{t-1} + b_hn``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.explain import (  # noqa: F401  (the numbers, computed once in the engine)
    _check,
    cell_gradients,
    path_factor,
    rnn_factors,
    run_bounds,
    unit_gradients,
    unit_values,
)

from . import style

SUBSTEPS = {
    "rnn": ("h",),
    "gru": ("r", "z", "n", "h"),
    "lstm": ("f", "i", "g", "c", "o", "h"),
}
"""The sub-steps of one timestep for each cell (the names ``focus`` accepts)."""

_LIMIT = style.STATE_OVERFLOW
_BOX_FRAME = "#333333"
_FACTOR_FILL = "#eeeeee"


@dataclass(frozen=True)
class EquationLine:
    """One rung of the ladder.

    Attributes
    ----------
    symbol : str
        The quantity: a gate or state name (``"f"``, ``"c"``, ``"h"``), in backward mode the
        quantity whose gradient the line gives (``"c_prev"`` for dL/dc_{t-1}, ``"h_prev"`` for
        dL/dh_{t-1}, ``"factor"`` for the RNN's local factor).
    latex : str
        KaTeX: symbolic form = numbers substituted = boxed result.
    color : str
        Hex fill of the result box (the quantity's colour in the diagram at this step).
    value : float or None
        The boxed number, unrounded (None for the symbolic legend).
    ink : str
        Text colour on ``color``.
    """

    symbol: str
    latex: str
    color: str
    value: float | None = None
    ink: str = style.INK_DARK


# Quantity -> how it is coloured: "gate" (Viridis 0..1) or the bound of a signed value.
SIGNED_BOUND = {"g": "unit", "n": "unit", "tanh_c": "unit", "h": "h", "h_prev": "h", "c": "c",
                "c_prev": "c", "fc": "c", "ig": "unit", "zh": "h", "omzn": "unit",
                "rhn": None}  # fmt: skip


def value_colors(name: str, values, bounds: dict, *, presentation: bool = False) -> list[str]:
    """Fill colours of a forward quantity: Viridis 0..1 for sigmoid gates (and 1 − z), RdBu on
    the run's fixed range for signed values (c on ±max|c|)."""
    if name in style.SIGMOID_GATES or name == "omz":
        scale = style.colorscale(style.SEQUENTIAL, presentation=presentation)
        return style.sample_colors(values, scale, 0.0, 1.0)
    bound = bounds.get(SIGNED_BOUND.get(name) or "unit", 1.0)
    scale = style.colorscale(style.DIVERGING, presentation=presentation)
    return style.sample_colors(values, scale, -bound, bound)


def grad_colors(values, *, presentation: bool = False) -> list[str]:
    """Fill colours of gradients: Magma_r on log10 |g| over the shared decades."""
    lo, hi = style.GRAD_DECADES
    scale = style.colorscale(style.GRADIENT, presentation=presentation)
    return style.sample_colors(style.log10_magnitude(values), scale, lo, hi)


# --------------------------------------------------------------------------------------------
# TeX number formats (ASCII minus: KaTeX sets "-" as a minus sign in math mode)
# --------------------------------------------------------------------------------------------


def _special(v: float) -> str | None:
    if math.isnan(v):
        return r"\text{NaN}"
    if not math.isfinite(v) or abs(v) >= _LIMIT:
        return r"\text{overflow}"
    return None


def tex_grad(v: float, digits: int = 1) -> str:
    """A gradient in TeX: ``1.2\\times10^{-5}`` (plain decimals between 0.01 and 1000), signed
    only when negative; the TeX twin of :func:`figures.style.fmt_grad`."""
    v = float(v)
    if (s := _special(v)) is not None:
        return s
    if v == 0:
        return "0"
    if 1e-2 <= abs(v) < 1e3:
        return f"{v:.{digits + 2}g}"
    mant, exp = f"{v:.{digits}e}".split("e")
    return rf"{mant}\times10^{{{int(exp)}}}"


def tex_value(v: float, digits: int = 2) -> str:
    """A value in TeX: signed with two decimals (``+0.92``, ``-0.61``); huge ReLU states in
    scientific form; ``overflow`` past the engine's saturation limit."""
    v = float(v)
    if (s := _special(v)) is not None:
        return s
    if abs(v) < 1e4:
        return f"{v:+.{digits}f}"
    return ("+" if v > 0 else "") + tex_grad(v)


def tex_terms(values, fmt=tex_value, max_terms: int = 4) -> str:
    """A sum of numbers with their signs as operators: ``+0.41 - 0.22 + 1.00`` (at most four
    terms written out, then ``\\cdots``)."""
    parts = []
    for j, v in enumerate(values[:max_terms]):
        s = fmt(v)
        if j and s[0] in "+-":
            s = f"{s[0]} {s[1:]}"
        elif j:
            s = f"+ {s}"
        parts.append(s)
    if len(values) > max_terms:
        parts.append(r"+ \cdots")
    return " ".join(parts)


def _par(*texts: str) -> str:
    return "".join(f"({s})" for s in texts)


def tex_box(text: str, fill: str) -> str:
    """The boxed result: ``\\fcolorbox`` filled like the diagram, its text flipping to white on
    dark fills (KaTeX supports ``\\fcolorbox`` with math inside ``$...$``)."""
    return (
        rf"\fcolorbox{{{_BOX_FRAME}}}{{{fill}}}{{$\textcolor{{{style.ink_for(fill)}}}{{{text}}}$}}"
    )


def tex_rungs(lhs: str, symbolic: str | None, steps: list[str]) -> str:
    """One rung in two rows, so it fits a narrow column: ``lhs = symbolic`` over
    ``= numbers = ... = result`` (KaTeX ``aligned``)."""
    rows = [f"{lhs} &= {symbolic}"] if symbolic else []
    tail = " = ".join(steps)
    rows.append(f"&= {tail}" if rows else f"{lhs} &= {tail}")
    return r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}"


def _line(symbol: str, chain: list[str], value: float, fill: str, boxed: str) -> EquationLine:
    """chain = [lhs, symbolic form, numbers substituted, ...]; the boxed result closes it."""
    lhs, symbolic, *steps = chain
    latex = tex_rungs(lhs, symbolic, [*steps, tex_box(boxed, fill)])
    return EquationLine(symbol, latex, fill, float(value), style.ink_for(fill))


# --------------------------------------------------------------------------------------------
# The ladder
# --------------------------------------------------------------------------------------------

_ACT = {"i": r"\sigma", "f": r"\sigma", "o": r"\sigma", "r": r"\sigma", "z": r"\sigma",
        "g": r"\tanh", "n": r"\tanh"}  # fmt: skip


def _dl(x: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {x}}}"


def _gate_line(q, v, t, bounds, presentation):
    act = _ACT[q]
    chain = [
        f"{q}_t",
        rf"{act}(W_{q} x_t + U_{q} h_{{t-1}} + b_{q})",
        rf"{act}({tex_terms([v[f'wx_{q}'][t], v[f'uh_{q}'][t], v[f'b_{q}'][t]])})",
        rf"{act}({tex_value(v[f'a_{q}'][t])})",
    ]
    fill = value_colors(q, [v[q][t]], bounds, presentation=presentation)[0]
    return _line(q, chain, v[q][t], fill, tex_value(v[q][t]))


def _forward_lines(trace, v, t, bounds, presentation):
    tv = tex_value

    def color(name, x):
        return value_colors(name, [x], bounds, presentation=presentation)[0]

    if trace.cell == "rnn":
        act = r"\tanh" if trace.nonlinearity == "tanh" else r"\mathrm{relu}"
        h = v["h"][t]
        chain = [
            "h_t",
            rf"{act}(W_{{ih}} x_t + W_{{hh}} h_{{t-1}} + b)",
            rf"{act}({tex_terms([v['wx_h'][t], v['uh_h'][t], v['b_h'][t]])})",
            rf"{act}({tv(v['a_h'][t])})",
        ]
        return [_line("h", chain, h, color("h", h), tv(h))]
    if trace.cell == "gru":
        lines = [_gate_line(q, v, t, bounds, presentation) for q in "rz"]
        n = v["n"][t]
        chain = [
            "n_t",
            r"\tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))",
            rf"\tanh({tex_terms([v['wx_n'][t], v['b_in'][t]])} + "
            rf"{_par(tv(v['r'][t]), tex_terms([v['uh_n'][t], v['b_hn'][t]]))})",
            rf"\tanh({tv(v['a_n'][t])})",
        ]
        lines.append(_line("n", chain, n, color("n", n), tv(n)))
        z, h = v["z"][t], v["h"][t]
        chain = [
            "h_t",
            r"(1 - z_t) \odot n_t + z_t \odot h_{t-1}",
            f"(1 - {z:.2f}){_par(tv(n))} + {_par(tv(z), tv(v['h_prev'][t]))}",
            tex_terms([v["omzn"][t], v["zh"][t]]),
        ]
        lines.append(_line("h", chain, h, color("h", h), tv(h)))
        return lines
    lines = [_gate_line(q, v, t, bounds, presentation) for q in "fig"]
    c = v["c"][t]
    chain = [
        "c_t",
        r"f_t \odot c_{t-1} + i_t \odot g_t",
        f"{_par(tv(v['f'][t]), tv(v['c_prev'][t]))} + {_par(tv(v['i'][t]), tv(v['g'][t]))}",
        tex_terms([v["fc"][t], v["ig"][t]]),
    ]
    lines.append(_line("c", chain, c, color("c", c), tv(c)))
    lines.append(_gate_line("o", v, t, bounds, presentation))
    h = v["h"][t]
    chain = [
        "h_t",
        r"o_t \odot \tanh(c_t)",
        rf"{_par(tv(v['o'][t]))}\tanh({tv(c)})",
        _par(tv(v["o"][t]), tv(v["tanh_c"][t])),
    ]
    lines.append(_line("h", chain, h, color("h", h), tv(h)))
    return lines


def _backward_lines(trace, v, d, t, presentation):
    tv, tg = tex_value, tex_grad

    def gline(symbol, chain, value):
        fill = grad_colors([value], presentation=presentation)[0]
        return _line(symbol, chain, value, fill, tg(value))

    dh = d["dh"][t]
    direct, nxt = d["dh_direct"][t], d["dh_next"][t]
    if abs(direct) <= 1e-12 * max(abs(dh), abs(nxt)):
        direct = 0.0  # the loss has no direct gradient here (round-off of the subtraction)
    lines = [
        gline(
            "h",
            [
                _dl("h_t"),
                rf"\underbrace{{{_par(tg(direct))}}}_{{\text{{loss at }} t}} + "
                rf"\underbrace{{{_par(tg(nxt))}}}_{{\text{{from }} t+1}}",
            ],
            dh,
        )
    ]
    if trace.cell == "lstm":
        dc = d["dc"][t]
        one_m = 1.0 - v["tanh_c"][t] ** 2
        lines.append(
            gline(
                "c",
                [
                    _dl("c_t"),
                    _dl("c_{t+1}") + r" f_{t+1} + " + _dl("h_t") + r"\, o_t (1 - \tanh^2 c_t)",
                    f"{_par(tg(d['dc_next'][t]))} + {_par(tg(dh), tv(v['o'][t]), tv(one_m))}",
                ],
                dc,
            )
        )
        terms = {
            "o": (_dl("h_t") + r"\, \tanh(c_t)\, o_t (1 - o_t)",
                  [tg(dh), tv(v["tanh_c"][t]), tv(v["o"][t] * (1 - v["o"][t]))]),
            "f": (_dl("c_t") + r"\, c_{t-1}\, f_t (1 - f_t)",
                  [tg(dc), tv(v["c_prev"][t]), tv(v["f"][t] * (1 - v["f"][t]))]),
            "i": (_dl("c_t") + r"\, g_t\, i_t (1 - i_t)",
                  [tg(dc), tv(v["g"][t]), tv(v["i"][t] * (1 - v["i"][t]))]),
            "g": (_dl("c_t") + r"\, i_t (1 - g_t^2)",
                  [tg(dc), tv(v["i"][t]), tv(1 - v["g"][t] ** 2)]),
        }  # fmt: skip
        for q, (sym, nums) in terms.items():
            lines.append(gline(q, [_dl(f"a_{q}"), sym, _par(*nums)], d[f"da_{q}"][t]))
        lines.append(
            gline(
                "c_prev",
                [_dl("c_{t-1}"), _dl("c_t") + r" \cdot f_t", _par(tg(dc), tv(v["f"][t]))],
                d["dc_prev"][t],
            )
        )
        lines.append(
            gline(
                "h_prev",
                [_dl("h_{t-1}"), r"\Big[U^\top " + _dl("a_t") + r"\Big]_k"],
                d["dh_prev"][t],
            )
        )
        return lines
    if trace.cell == "gru":
        z, n, r = v["z"][t], v["n"][t], v["r"][t]
        terms = {
            "n": (_dl("h_t") + r"\, (1 - z_t)(1 - n_t^2)", [tg(dh), tv(1 - z), tv(1 - n**2)]),
            "z": (_dl("h_t") + r"\, (h_{t-1} - n_t)\, z_t (1 - z_t)",
                  [tg(dh), tv(v["h_prev"][t] - n), tv(z * (1 - z))]),
            "r": (_dl("a_n") + r"\, (U_n h_{t-1} + b_{hn})\, r_t (1 - r_t)",
                  [tg(d["da_n"][t]), tv(v["hn"][t]), tv(r * (1 - r))]),
        }  # fmt: skip
        for q, (sym, nums) in terms.items():
            lines.append(gline(q, [_dl(f"a_{q}"), sym, _par(*nums)], d[f"da_{q}"][t]))
        rest = d["dh_prev"][t] - d["dh_z"][t]
        lines.append(
            gline(
                "h_prev",
                [
                    _dl("h_{t-1}"),
                    _dl("h_t") + r"\, z_t + \Big[U^\top " + _dl("a_t") + r"\Big]_k",
                    f"{_par(tg(dh), tv(z))} + {_par(tg(rest))}",
                ],
                d["dh_prev"][t],
            )
        )
        return lines
    relu = trace.nonlinearity == "relu"
    slope = r"[a_t > 0]" if relu else r"(1 - h_t^2)"
    slope_v = float(v["h"][t] > 0) if relu else 1 - v["h"][t] ** 2
    lines.append(
        gline(
            "a", [_dl("a_t"), _dl("h_t") + r"\, " + slope, _par(tg(dh), tv(slope_v))], d["da_h"][t]
        )
    )
    lines.append(
        gline(
            "h_prev",
            [_dl("h_{t-1}"), r"\Big[W_{hh}^\top " + _dl("a_t") + r"\Big]_k"],
            d["dh_prev"][t],
        )
    )
    factor = float(rnn_factors(trace, [t])[0])
    act = r"[a_t > 0]" if relu else r"1 - h_t^2"
    latex = tex_rungs(
        rf"\lVert \mathrm{{diag}}({act})\, W_{{hh}} \rVert_2",
        None,
        [tex_box(f"{factor:.2f}", _FACTOR_FILL)],
    )
    lines.append(EquationLine("factor", latex, _FACTOR_FILL, factor, style.ink_for(_FACTOR_FILL)))
    return lines


def equation_ladder(
    trace, step: int, unit: int, *, mode: str = "forward", grads=None, presentation: bool = False
) -> list[EquationLine]:
    """The equations of one step for unit k with the numbers plugged in.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace (rnn tanh/relu, gru or lstm).
    step : int
        0-based step t (h_{t-1} at t = 0 is the initial state h0).
    unit : int
        The unit k whose numbers are substituted.
    mode : {"forward", "backward"}
        Forward: one line per sub-step (lstm f, i, g, c, o, h; gru r, z, n, h; rnn h).
        Backward: dL/dh_t (split into the loss's own part and what came from t+1), dL/dc_t
        (lstm), every gate's pre-activation gradient, dL/dc_{t-1} = dL/dc_t · f_t (lstm),
        dL/dh_{t-1}, and the RNN's local factor.
    grads : engine.Grads
        Required for the backward mode.
    presentation : bool
        Box colours on the projector scales (palest 12% dropped), like the diagram.

    Returns
    -------
    list[EquationLine]
    """
    _check(trace, unit, step)
    if mode not in ("forward", "backward"):
        raise ValueError(f"mode must be 'forward' or 'backward', not {mode!r}.")
    t = int(step)
    v = unit_values(trace, unit)
    if mode == "forward":
        return _forward_lines(trace, v, t, run_bounds(trace), presentation)
    d = unit_gradients(trace, grads, unit, steps=[t])
    return _backward_lines(trace, v, d, t, presentation)


def equation_symbols(cell: str, nonlinearity: str = "tanh") -> list[EquationLine]:
    """The symbolic equations of a cell (a legend): the engine's (PyTorch's) equations, with
    ``b = b_ih + b_hh`` and ``a_q`` the pre-activation of gate q."""
    rows = {
        "rnn": [("h", r"h_t = %s(W_{ih} x_t + W_{hh} h_{t-1} + b)"
                 % (r"\tanh" if nonlinearity == "tanh" else r"\mathrm{relu}"))],
        "gru": [
            ("r", r"r_t = \sigma(W_r x_t + U_r h_{t-1} + b_r)"),
            ("z", r"z_t = \sigma(W_z x_t + U_z h_{t-1} + b_z)"),
            ("n", r"n_t = \tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))"),
            ("h", r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"),
        ],
        "lstm": [
            ("f", r"f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)"),
            ("i", r"i_t = \sigma(W_i x_t + U_i h_{t-1} + b_i)"),
            ("g", r"g_t = \tanh(W_g x_t + U_g h_{t-1} + b_g)"),
            ("c", r"c_t = f_t \odot c_{t-1} + i_t \odot g_t"),
            ("o", r"o_t = \sigma(W_o x_t + U_o h_{t-1} + b_o)"),
            ("h", r"h_t = o_t \odot \tanh(c_t)"),
        ],
    }  # fmt: skip
    if cell not in rows:
        raise ValueError(f"Unknown cell {cell!r}.")
    return [EquationLine(s, latex, "#ffffff", None) for s, latex in rows[cell]]
