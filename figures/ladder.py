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

from . import notation as notation_
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


def _ordered(order: str, q: str, v: dict, F, sign: float = 1.0) -> list:
    cols = {"w": v[f"wx_{q}"], "u": v[f"uh_{q}"], "b": v[f"b_{q}"]}
    return [sign * cols[c][F] for c in order]


def _gate(q: str, v: dict, F, notation: str = "pytorch", cell: str = "lstm") -> Line:
    """A gate's line. deeplearning.ai's GRU shows Γu = 1 − z: its pre-activation is −a_z
    (W_u = −W_z, b_u = −b_z), so the numbers written are the negatives of z's."""
    act = SIGMA[q]
    tex = r"\sigma" if act == "σ" else r"\tanh"
    shown = notation_.shown(notation, cell, q)
    sign = -1.0 if shown != q else 1.0
    affine, order = notation_.affine(notation, cell, q)
    nums = _frames(
        [f"{act}({s})" for s in terms(*_ordered(order, q, v, F, sign))],
        [f"{act}({fv(a)})" for a in sign * v[f"a_{q}"][F]],
    )
    lhs = notation_.symbol(notation, cell, shown)
    return Line(q, q, lhs, rf"{tex}({affine})", nums, v[shown][F], shown)


def _gru_lines(v: dict, F, notation: str, reset: str) -> list[Line]:
    r = v["r"][F]
    if reset == "after":
        n_sums = [f"tanh({s} + ({fgate(q)})({u}))" for s, q, u in zip(
            terms(v["wx_n"][F], v["b_in"][F]), r, terms(v["uh_n"][F], v["b_hn"][F]),
            strict=True)]  # fmt: skip
    elif notation == "pytorch":
        n_sums = [f"tanh({s})" for s in terms(v["wx_n"][F], v["b_in"][F], v["uh_n"][F],
                                              v["b_hn"][F])]  # fmt: skip
    else:  # W·[r ⊙ h_{t−1}, x_t] + b: the h-block first, the two biases as one
        n_sums = [f"tanh({s})" for s in terms(v["uh_n"][F], v["wx_n"][F],
                                              v["b_in"][F] + v["b_hn"][F])]  # fmt: skip
    n_nums = _frames(n_sums, [f"tanh({fv(a)})" for a in v["a_n"][F]])
    h_sym, first = notation_.GRU_H[notation]
    new = [f"({fgate(1 - z)})({fv(n)})" for z, n in zip(v["z"][F], v["n"][F], strict=True)]
    old = [f"({fgate(z)})({fv(hp)})" for z, hp in zip(v["z"][F], v["h_prev"][F], strict=True)]
    if first == "new":
        h_nums = [[f"{a} + {b}", s] for a, b, s in zip(new, old, terms(v["omzn"][F], v["zh"][F]),
                                                        strict=True)]  # fmt: skip
    else:
        h_nums = [[f"{b} + {a}", s] for a, b, s in zip(new, old, terms(v["zh"][F], v["omzn"][F]),
                                                        strict=True)]  # fmt: skip
    fill = functools.partial(notation_.fill, notation=notation, cell="gru")
    lines = [
        _gate("r", v, F, notation, "gru"),
        _gate("z", v, F, notation, "gru"),
        Line("n", "n", fill("@n@"), fill(notation_.GRU_N[notation, reset]), n_nums, v["n"][F], "n"),
        Line("h", "h", fill("@h@"), fill(h_sym), h_nums, v["h"][F], "h"),
    ]
    if notation == "dlai":  # the course names the GRU's output a⟨t⟩ = c⟨t⟩
        a_t = notation_.symbol("dlai", "lstm", "h")
        lines.append(Line("a", "h", a_t, fill("@h@"), [[] for _ in F], v["h"][F], "h"))
    return lines


RNN_SYM = {
    "pytorch": r"{act}(W_{{ih}} x_t + W_{{hh}} h_{{t-1}} + b)",
    "dlai": r"{act}(W_{{aa}} @h_prev@ + W_{{ax}} @x@ + b_a)",
    "cho": r"{act}(W \cdot [@h_prev@, @x@] + b)",
}


def forward_lines(cell: str, nonlinearity: str, v: dict, F, notation: str = "pytorch",
                  reset: str = "after") -> list[Line]:  # fmt: skip
    """The forward equations of one step, one line per sub-step, in the notation's symbols
    (``reset``: where the GRU's reset gate acts, the trace's ``gru_reset``)."""
    fill = functools.partial(notation_.fill, notation=notation, cell=cell)
    if cell == "rnn":
        act, tex = ("tanh", r"\tanh") if nonlinearity == "tanh" else ("relu", r"\mathrm{relu}")
        cols = (v["wx_h"][F], v["uh_h"][F], v["b_h"][F])
        if notation != "pytorch":  # the recurrent term first
            cols = (cols[1], cols[0], cols[2])
        nums = _frames(
            [f"{act}({s})" for s in terms(*cols)],
            [f"{act}({fv(a)})" for a in v["a_h"][F]],
        )
        return [Line("h", "h", fill("@h@"), fill(RNN_SYM[notation].format(act=tex)), nums,
                     v["h"][F], "h")]  # fmt: skip
    if cell == "gru":
        return _gru_lines(v, F, notation, reset)
    c_nums = _frames(
        [f"({fgate(f)})({fv(c)}) + ({fgate(i)})({fv(g)})" for f, c, i, g in
         zip(v["f"][F], v["c_prev"][F], v["i"][F], v["g"][F], strict=True)],
        terms(v["fc"][F], v["ig"][F]),
    )  # fmt: skip
    h_nums = _frames([f"({fgate(o)})({fv(c)})" for o, c in zip(v["o"][F], v["tanh_c"][F],
                                                                strict=True)])  # fmt: skip
    return [
        _gate("f", v, F, notation, cell),
        _gate("i", v, F, notation, cell),
        _gate("g", v, F, notation, cell),
        Line("c", "c", fill("@c@"), fill(r"@f@ \odot @c_prev@ + @i@ \odot @g@"), c_nums,
             v["c"][F], "c"),
        _gate("o", v, F, notation, cell),
        Line("h", "h", fill("@h@"), fill(r"@o@ \odot \tanh(@c@)"), h_nums, v["h"][F], "h"),
    ]  # fmt: skip


def _dl(x: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {x}}}"


def _gline(name, groups, lhs, symbolic, nums, result) -> Line:
    return Line(name, groups, lhs, symbolic, nums, result, "grad")


def backward_lines(cell: str, nonlinearity: str, v: dict, d: dict, F, notation: str = "pytorch",
                   reset: str = "after") -> list[Line]:  # fmt: skip
    """The backward (BPTT) equations of one step for one unit, from dL/dh_t down to what is
    sent on to step t − 1, in the notation's symbols. ``d`` holds
    :func:`engine.explain.unit_gradients` plus ``contrib_<q>``: gate q's share of dL/dh_{t−1}
    ([U_qᵀ ∂L/∂a_q]_k; for the reset-before GRU's n, r_t [U_nᵀ ∂L/∂a_n]_k) and, for that GRU,
    ``un_dan`` ([U_nᵀ ∂L/∂a_n]_k)."""

    def fill(t):
        return notation_.fill(t, notation, cell)

    def dl(q):
        return _dl(fill(f"@{q}@"))

    dh = d["dh"][F]
    lines = [
        _gline("dh", "h", dl("h"), r"(\text{loss at } t) + (\text{from } t+1)",
               _frames([f"({fg(a)}) + ({fg(b)})" for a, b in zip(d["dh_direct"][F],
                                                                   d["dh_next"][F], strict=True)]),
               dh)
    ]  # fmt: skip
    gates = {"lstm": "ifgo", "gru": "rzn", "rnn": "h"}[cell]
    if cell == "lstm":
        dc = d["dc"][F]
        one = 1.0 - v["tanh_c"][F] ** 2
        lines.append(_gline(
            "dc", "c", dl("c"), dl("c_next") + fill(r" @f_next@ + ") + dl("h")
            + fill(r" @o@ (1 - \tanh^2 @c@)"),
            _frames([f"({fg(a)}) + {b}" for a, b in zip(
                d["dc_next"][F], product(dh, v["o"][F], one, fmt=fg), strict=True)]), dc,
        ))  # fmt: skip
        rows = {
            "o": (dl("h") + fill(r" \tanh(@c@)\, @o@ (1 - @o@)"),
                  (dh, v["tanh_c"][F], v["o"][F] * (1 - v["o"][F]))),
            "f": (dl("c") + fill(r" @c_prev@ @f@ (1 - @f@)"),
                  (dc, v["c_prev"][F], v["f"][F] * (1 - v["f"][F]))),
            "i": (dl("c") + fill(r" @g@\, @i@ (1 - @i@)"),
                  (dc, v["g"][F], v["i"][F] * (1 - v["i"][F]))),
            "g": (dl("c") + fill(r" @i@ (1 - @g^2@)"), (dc, v["i"][F], 1 - v["g"][F] ** 2)),
        }  # fmt: skip
        for q, (sym, cols) in rows.items():
            lines.append(_gline(f"d{q}", q, dl(f"a_{q}"), sym,
                                _frames(product(*cols, fmt=fg)), d[f"da_{q}"][F]))  # fmt: skip
        lines.append(_gline("dc_prev", "f c", dl("c_prev") + fill(r"\text{ via } @f@"),
                            dl("c") + fill(r" @f@"),
                            _frames(product(dc, v["f"][F], fmt=fg)), d["dc_prev"][F]))  # fmt: skip
    elif cell == "gru":
        z, n, r = v["z"][F], v["n"][F], v["r"][F]
        if notation == "dlai":  # Γu = 1 − z: ∂L/∂z_u = −∂L/∂a_z
            dz = (
                dl("h") + fill(r" (@n@ - @h_prev@)\, @omz@ (1 - @omz@)"),
                (dh, n - v["h_prev"][F], z * (1 - z)),
                -d["da_z"][F],
            )
        else:
            dz = (
                dl("h") + fill(r" (@h_prev@ - @n@)\, @z@ (1 - @z@)"),
                (dh, v["h_prev"][F] - n, z * (1 - z)),
                d["da_z"][F],
            )
        if reset == "before":  # r scales h_{t−1} inside the product
            dr = (
                "[" + fill(r"@U_n@^\top ") + dl("a_n") + "]_k" + fill(r" @h_prev@\, @r@ (1 - @r@)"),
                (d["un_dan"][F], v["h_prev"][F], r * (1 - r)),
            )
        else:
            dr = (
                dl("a_n") + fill(r" (@U_n@ @h_prev@ + @b_hn@)\, @r@ (1 - @r@)"),
                (d["da_n"][F], v["hn"][F], r * (1 - r)),
            )
        rows = {
            "n": (dl("h") + fill(r" @omz@ (1 - @n^2@)"), (dh, 1 - z, 1 - n**2), d["da_n"][F]),
            "z": dz,
            "r": (*dr, d["da_r"][F]),
        }  # fmt: skip
        for q, (sym, cols, result) in rows.items():
            lines.append(_gline(f"d{q}", q, dl(f"a_{q}"), sym,
                                _frames(product(*cols, fmt=fg)), result))  # fmt: skip
    else:
        relu = nonlinearity == "relu"
        slope = (v["a_h"][F] > 0).astype(float) if relu else 1 - v["h"][F] ** 2
        lines.append(_gline("dh_act", "h", dl("a"),
                            dl("h") + fill(r" [@a@ > 0]" if relu else r" (1 - @h^2@)"),
                            _frames(product(dh, slope, fmt=fg)), d["da_h"][F]))  # fmt: skip
    lines.append(_prev_line(cell, gates, v, d, F, notation, reset))
    return lines


def _prev_line(cell: str, gates: str, v: dict, d: dict, F, notation: str = "pytorch",
               reset: str = "after") -> Line:  # fmt: skip
    """dL/dh_{t−1} with every path's share written out (the direct path first for the GRU)."""

    def fill(t):
        return notation_.fill(t, notation, cell)

    shares = [d[f"contrib_{q}"][F] for q in gates]
    parts = []
    for q in gates:
        pre, U = ("a", "U_h") if cell == "rnn" else (f"a_{q}", f"U_{q}")
        part = "[" + fill(rf"@{U}@^\top ") + r"\tfrac{\partial L}{\partial " + fill(f"@{pre}@")
        part += "}]_k"
        if cell == "gru" and q == "n" and reset == "before":
            part = fill("@r@ ") + part  # r ⊙ h_{t−1} is what U_n reads
        parts.append(part)
    sym = " + ".join(parts)
    if cell == "gru":
        sym = _dl(fill("@h@")) + fill(" @z@ + ") + sym
        direct = [f"({fg(a)})({fgate(b)})" for a, b in zip(d["dh"][F], v["z"][F], strict=True)]
        nums = [[f"{a} + " + " + ".join(f"({fg(s)})" for s in row)]
                for a, row in zip(direct, zip(*shares, strict=True), strict=True)]  # fmt: skip
    else:
        nums = [[" + ".join(f"({fg(s)})" for s in row)] for row in zip(*shares, strict=True)]
    groups = {"lstm": "f i g o", "gru": "r z n h", "rnn": "h"}[cell]
    return _gline("dh_prev", groups, _dl(fill("@h_prev@")), sym, nums, d["dh_prev"][F])
