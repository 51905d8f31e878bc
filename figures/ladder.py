"""The live equations of one unit at every animated step: the "ladder".

Each line is the symbolic equation (LaTeX, converted once to MathML on the server: browsers
render MathML natively), then the numbers substituted, then the result in a box filled with
the same colour as that quantity in the diagram. The numbers change per step; the symbols do
not, so a line is sent as one MathML pair plus, per animated step, a few short strings.
Formats follow :mod:`figures.style` (signed values ``+0.92``, gradients ``1.2×10⁻⁵``).

Every number comes from :mod:`engine.explain` (the per-unit forward numbers and the backward
gradients the engine's BPTT produced), so the ladder and the diagram never disagree.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
from latex2mathml.converter import convert

from . import style

LIMIT = 1e100  # engine.cells.STATE_LIMIT and GRAD_LIMIT: beyond it a number has exploded
FLOOR = 1e-300  # below it a gradient has vanished (float64 rounds it towards 0)
OVERFLOW = "overflow"
BELOW = "<10⁻³⁰⁰"


def fv(v: float) -> str:
    """A forward value: ``+0.92``; beyond 10¹⁰⁰ (an exploded state, held at the engine's cap)
    ``∞`` / ``−∞``, never a number that looks ordinary."""
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if abs(v) >= LIMIT:
        return "∞" if v > 0 else "−∞"
    return style.fmt_value(v)


def fg(v: float) -> str:
    """A gradient: ``1.2×10⁻⁵``; ``overflow`` at or beyond 10¹⁰⁰ (or through a state held at
    the cap: ``inf``); ``<10⁻³⁰⁰`` for a nonzero value below 10⁻³⁰⁰ (a vanished gradient)."""
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if abs(v) >= LIMIT:
        return OVERFLOW
    if 0 < abs(v) < FLOOR:
        return BELOW if v > 0 else f"−({BELOW})"
    return style.fmt_grad(v)


def fgate(v: float) -> str:
    """A sigmoid gate's value, exact where it is saturated: ``4.5×10⁻⁵``, ``1 − 4.5×10⁻⁵``
    (two decimals would print 0.00 or 1.00), else ``+0.77``."""
    v = float(v)
    if math.isfinite(v) and 0 <= v < 5e-3:
        return style.fmt_grad(v)
    if math.isfinite(v) and 1 - 5e-3 < v <= 1:
        return "1" if v == 1 else f"1 − {style.fmt_grad(1 - v)}"
    return fv(v)


SIGMA = {"i": "σ", "f": "σ", "o": "σ", "r": "σ", "z": "σ", "g": "tanh", "n": "tanh"}
MAX_TERMS = 4


@dataclass(frozen=True)
class Line:
    """One rung: ``lhs = symbolic = numbers… = [result]`` for every animated step."""

    name: str  # the quantity (a gate or state name; backward: "d" + name)
    groups: str  # the sub-steps it belongs to (the diagram's focus groups)
    lhs: str  # LaTeX
    symbolic: str  # LaTeX
    numbers: list  # per frame: the substituted forms, left to right
    result: np.ndarray  # (F,) the boxed number, unrounded
    kind: str  # how the box is coloured: a value name (forward) or "grad"


@functools.lru_cache(maxsize=256)
def _convert(latex: str) -> str:
    return convert(latex)


def mathml(latex: str) -> list[str]:
    r"""LaTeX → MathML pieces (constant equation text only: never user input), split before
    every top-level `` + ``, `` - `` and `` \odot `` so a long equation can break between its
    terms instead of overflowing a narrow column."""
    if not latex:
        return []
    pieces = re.split(r" (?=[+-] |\\odot )", latex)
    return [_convert(p) for p in pieces]


def terms(*columns) -> list[str]:
    """Per frame, a sum of numbers with their signs as operators (``+0.41 − 0.22 + 1.00``),
    at most four written out."""
    out = []
    for row in zip(*columns, strict=True):
        parts = []
        for j, v in enumerate(row[:MAX_TERMS]):
            s = fv(v)
            parts.append(s if j == 0 else f"{s[0]} {s[1:]}" if s[0] in "+−" else f"+ {s}")
        if len(row) > MAX_TERMS:
            parts.append("+ ⋯")
        out.append(" ".join(parts))
    return out


def product(*columns, fmt=fv) -> list[str]:
    """Per frame, ``(a)(b)(c)``."""
    return ["".join(f"({fmt(v)})" for v in row) for row in zip(*columns, strict=True)]


def _frames(*per_frame) -> list[list[str]]:
    return [list(row) for row in zip(*per_frame, strict=True)]


def _gate(q: str, v: dict, F) -> Line:
    act = SIGMA[q]
    tex = r"\sigma" if act == "σ" else r"\tanh"
    nums = _frames(
        [f"{act}({s})" for s in terms(v[f"wx_{q}"][F], v[f"uh_{q}"][F], v[f"b_{q}"][F])],
        [f"{act}({fv(a)})" for a in v[f"a_{q}"][F]],
    )
    return Line(q, q, f"{q}_t", rf"{tex}(W_{q} x_t + U_{q} h_{{t-1}} + b_{q})", nums, v[q][F], q)


def forward_lines(cell: str, nonlinearity: str, v: dict, F) -> list[Line]:
    """The forward equations of one step, one line per sub-step."""
    if cell == "rnn":
        act, tex = ("tanh", r"\tanh") if nonlinearity == "tanh" else ("relu", r"\mathrm{relu}")
        nums = _frames(
            [f"{act}({s})" for s in terms(v["wx_h"][F], v["uh_h"][F], v["b_h"][F])],
            [f"{act}({fv(a)})" for a in v["a_h"][F]],
        )
        return [Line("h", "h", "h_t", rf"{tex}(W_{{ih}} x_t + W_{{hh}} h_{{t-1}} + b)", nums,
                     v["h"][F], "h")]  # fmt: skip
    if cell == "gru":
        n_nums = _frames(
            [
                f"tanh({s} + ({fgate(r)})({u}))"
                for s, r, u in zip(
                    terms(v["wx_n"][F], v["b_in"][F]), v["r"][F],
                    terms(v["uh_n"][F], v["b_hn"][F]), strict=True,
                )
            ],
            [f"tanh({fv(a)})" for a in v["a_n"][F]],
        )  # fmt: skip
        h_nums = [[f"({fgate(1 - z)})({fv(n)}) + ({fgate(z)})({fv(hp)})", b] for z, n, hp, b in
                  zip(v["z"][F], v["n"][F], v["h_prev"][F], terms(v["omzn"][F], v["zh"][F]),
                      strict=True)]  # fmt: skip
        return [
            _gate("r", v, F),
            _gate("z", v, F),
            Line("n", "n", "n_t", r"\tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))",
                 n_nums, v["n"][F], "n"),
            Line("h", "h", "h_t", r"(1 - z_t) \odot n_t + z_t \odot h_{t-1}", h_nums,
                 v["h"][F], "h"),
        ]  # fmt: skip
    c_nums = _frames(
        [f"({fgate(f)})({fv(c)}) + ({fgate(i)})({fv(g)})" for f, c, i, g in
         zip(v["f"][F], v["c_prev"][F], v["i"][F], v["g"][F], strict=True)],
        terms(v["fc"][F], v["ig"][F]),
    )  # fmt: skip
    h_nums = _frames([f"({fgate(o)})({fv(c)})" for o, c in zip(v["o"][F], v["tanh_c"][F],
                                                                strict=True)])  # fmt: skip
    return [
        _gate("f", v, F),
        _gate("i", v, F),
        _gate("g", v, F),
        Line("c", "c", "c_t", r"f_t \odot c_{t-1} + i_t \odot g_t", c_nums, v["c"][F], "c"),
        _gate("o", v, F),
        Line("h", "h", "h_t", r"o_t \odot \tanh(c_t)", h_nums, v["h"][F], "h"),
    ]


def _dl(x: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {x}}}"


def _gline(name, groups, lhs, symbolic, nums, result) -> Line:
    return Line(name, groups, lhs, symbolic, nums, result, "grad")


def backward_lines(cell: str, nonlinearity: str, v: dict, d: dict, F) -> list[Line]:
    """The backward (BPTT) equations of one step for one unit, from dL/dh_t down to what is
    sent on to step t − 1. ``d`` holds :func:`engine.explain.unit_gradients` plus
    ``contrib_<q>``: gate q's share [U_qᵀ ∂L/∂a_q]_k of dL/dh_{t−1}."""
    dh = d["dh"][F]
    lines = [
        _gline("dh", "h", _dl("h_t"), r"(\text{loss at } t) + (\text{from } t+1)",
               _frames([f"({fg(a)}) + ({fg(b)})" for a, b in zip(d["dh_direct"][F],
                                                                   d["dh_next"][F], strict=True)]),
               dh)
    ]  # fmt: skip
    gates = {"lstm": "ifgo", "gru": "rzn", "rnn": "h"}[cell]
    if cell == "lstm":
        dc = d["dc"][F]
        one = 1.0 - v["tanh_c"][F] ** 2
        lines.append(_gline(
            "dc", "c", _dl("c_t"), _dl("c_{t+1}") + r" f_{t+1} + " + _dl("h_t")
            + r" o_t (1 - \tanh^2 c_t)",
            _frames([f"({fg(a)}) + {b}" for a, b in zip(
                d["dc_next"][F], product(dh, v["o"][F], one, fmt=fg), strict=True)]), dc,
        ))  # fmt: skip
        rows = {
            "o": (_dl("h_t") + r" \tanh(c_t)\, o_t (1 - o_t)",
                  (dh, v["tanh_c"][F], v["o"][F] * (1 - v["o"][F]))),
            "f": (_dl("c_t") + r" c_{t-1} f_t (1 - f_t)",
                  (dc, v["c_prev"][F], v["f"][F] * (1 - v["f"][F]))),
            "i": (_dl("c_t") + r" g_t\, i_t (1 - i_t)",
                  (dc, v["g"][F], v["i"][F] * (1 - v["i"][F]))),
            "g": (_dl("c_t") + r" i_t (1 - g_t^2)", (dc, v["i"][F], 1 - v["g"][F] ** 2)),
        }  # fmt: skip
        for q, (sym, cols) in rows.items():
            lines.append(_gline(f"d{q}", q, _dl(f"a_{q}"), sym,
                                _frames(product(*cols, fmt=fg)), d[f"da_{q}"][F]))  # fmt: skip
        lines.append(_gline("dc_prev", "f c", _dl("c_{t-1}") + r"\text{ via } f_t",
                            _dl("c_t") + r" f_t",
                            _frames(product(dc, v["f"][F], fmt=fg)), d["dc_prev"][F]))  # fmt: skip
    elif cell == "gru":
        z, n, r = v["z"][F], v["n"][F], v["r"][F]
        rows = {
            "n": (_dl("h_t") + r" (1 - z_t)(1 - n_t^2)", (dh, 1 - z, 1 - n**2)),
            "z": (_dl("h_t") + r" (h_{t-1} - n_t)\, z_t (1 - z_t)",
                  (dh, v["h_prev"][F] - n, z * (1 - z))),
            "r": (_dl("a_n") + r" (U_n h_{t-1} + b_{hn})\, r_t (1 - r_t)",
                  (d["da_n"][F], v["hn"][F], r * (1 - r))),
        }  # fmt: skip
        for q, (sym, cols) in rows.items():
            lines.append(_gline(f"d{q}", q, _dl(f"a_{q}"), sym,
                                _frames(product(*cols, fmt=fg)), d[f"da_{q}"][F]))  # fmt: skip
    else:
        relu = nonlinearity == "relu"
        slope = (v["a_h"][F] > 0).astype(float) if relu else 1 - v["h"][F] ** 2
        lines.append(_gline("dh_act", "h", _dl("a_t"),
                            _dl("h_t") + (r" [a_t > 0]" if relu else r" (1 - h_t^2)"),
                            _frames(product(dh, slope, fmt=fg)), d["da_h"][F]))  # fmt: skip
    lines.append(_prev_line(cell, gates, v, d, F))
    return lines


def _prev_line(cell: str, gates: str, v: dict, d: dict, F) -> Line:
    """dL/dh_{t−1} with every path's share written out (the direct path first for the GRU)."""
    U = "W_{hh}" if cell == "rnn" else "U"
    shares = [d[f"contrib_{q}"][F] for q in gates]
    sym = " + ".join(
        rf"[{U if cell == 'rnn' else f'U_{q}'}^\top \tfrac{{\partial L}}{{\partial a_{q}}}]_k"
        if cell != "rnn" else rf"[{U}^\top \tfrac{{\partial L}}{{\partial a_t}}]_k"
        for q in gates
    )  # fmt: skip
    if cell == "gru":
        sym = _dl("h_t") + r" z_t + " + sym
        direct = [f"({fg(a)})({fgate(b)})" for a, b in zip(d["dh"][F], v["z"][F], strict=True)]
        nums = [[f"{a} + " + " + ".join(f"({fg(s)})" for s in row)]
                for a, row in zip(direct, zip(*shares, strict=True), strict=True)]  # fmt: skip
    else:
        nums = [[" + ".join(f"({fg(s)})" for s in row)] for row in zip(*shares, strict=True)]
    groups = {"lstm": "f i g o", "gru": "r z n h", "rnn": "h"}[cell]
    return _gline("dh_prev", groups, _dl("h_{t-1}"), sym, nums, d["dh_prev"][F])
