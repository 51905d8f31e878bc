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

import numpy as np

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


# --------------------------------------------------------------------------------------------
# Numbers: per-unit arrays over all steps
# --------------------------------------------------------------------------------------------


def _check(trace, unit, step=None):
    if trace.batched:
        raise ValueError("The step-through figures show one sequence: pass an unbatched trace.")
    if not 0 <= int(unit) < trace.H:
        raise ValueError(f"unit {unit} is out of range 0..{trace.H - 1}.")
    if step is not None and not 0 <= int(step) < trace.T:
        raise ValueError(f"step {step} is out of range 0..{trace.T - 1}.")


def _previous(states, initial):
    return np.concatenate([np.asarray(initial)[None], states[:-1]])


def _sigmoid_rows(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def unit_values(trace, unit: int) -> dict[str, np.ndarray]:
    """Every number of the forward equations for unit k, as (T,) arrays over the steps.

    Keys: ``h``, ``h_prev``; per gate q: ``wx_q`` (W_q x_t), ``uh_q`` (U_q h_{t-1}), ``b_q``
    (b_ih + b_hh), ``a_q`` (pre-activation) and ``q`` (the gate). rnn: the gate is ``h`` itself
    (pre-activation ``a_h``). lstm adds ``c``, ``c_prev``, ``tanh_c``, ``fc`` (f ⊙ c_{t-1}),
    ``ig`` (i ⊙ g). gru: the candidate has ``wx_n``, ``b_in``, ``uh_n``, ``b_hn``, ``hn``
    (U_n h_{t-1} + b_hn), ``rhn`` (r ⊙ hn), ``a_n``; plus ``zh`` (z ⊙ h_{t-1}), ``omz`` (1 − z),
    ``omzn`` ((1 − z) ⊙ n).
    """
    _check(trace, unit)
    k, H, p = int(unit), trace.H, trace.params
    xs = trace.xs
    h_prev = _previous(trace.h, trace.h0)
    out = {"h": trace.h[:, k].copy(), "h_prev": h_prev[:, k].copy()}
    names = {"rnn": ("h",), "gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}[trace.cell]
    with np.errstate(over="ignore", invalid="ignore"):
        for j, q in enumerate(names):
            row = j * H + k
            wx = xs @ p["weight_ih"][row]
            uh = h_prev @ p["weight_hh"][row]
            if trace.cell == "gru" and q == "n":
                r = out["r"]
                out.update(
                    wx_n=wx, b_in=np.full(trace.T, p["bias_ih"][row]), uh_n=uh,
                    b_hn=np.full(trace.T, p["bias_hh"][row]),
                )  # fmt: skip
                out["hn"] = uh + p["bias_hh"][row]  # U_n h_{t-1} + b_hn, gated by r
                out["rhn"] = r * out["hn"]
                out["a_n"] = wx + p["bias_ih"][row] + out["rhn"]
            else:
                out[f"wx_{q}"], out[f"uh_{q}"] = wx, uh
                out[f"b_{q}"] = np.full(trace.T, p["bias_ih"][row] + p["bias_hh"][row])
                out[f"a_{q}"] = wx + uh + out[f"b_{q}"]
            if q != "h":
                out[q] = trace.gates[q][:, k].copy()
        if trace.cell == "lstm":
            out["c"] = trace.c[:, k].copy()
            out["c_prev"] = _previous(trace.c, trace.c0)[:, k]
            out["tanh_c"] = np.tanh(out["c"])
            out["fc"] = out["f"] * out["c_prev"]
            out["ig"] = out["i"] * out["g"]
        elif trace.cell == "gru":
            out["zh"] = out["z"] * out["h_prev"]
            out["omz"] = 1.0 - out["z"]
            out["omzn"] = out["omz"] * out["n"]
    return out


def _act_slope(trace, h):
    if trace.nonlinearity == "relu":
        return ((h > 0) & (h < _LIMIT)).astype(np.float64)  # relu' (0 where saturated)
    return 1.0 - h**2  # tanh' from the output


def cell_gradients(trace, grads, steps=None) -> dict[str, np.ndarray]:
    """The gradients reaching every element of the cell, as (T, H) arrays over steps and units.

    Recomputed from the trace and the total state gradients with the formulas of the engine's
    backward cores (``engine/cells.py``). Keys: ``dh`` (total dL/dh_t), ``dh_next`` (the part
    that flowed back from step t+1), ``dh_direct`` (the loss's own gradient on h_t), ``dh_prev``
    (what step t sends on to h_{t-1}); pre-activation gradients ``da_q`` for every gate q
    (rnn: ``da_h``). lstm adds ``dc`` (total dL/dc_t), ``dc_next`` (dL/dc_{t+1} f_{t+1}),
    ``dc_h`` (dL/dh_t o_t (1 − tanh² c_t)), ``dc_prev`` (dL/dc_t f_t) and ``dtanh_c``
    (dL/dh_t o_t); gru adds ``dh_z`` (dL/dh_t z_t, the direct path) and ``dgh_n`` (r ⊙ da_n).

    ``steps`` limits the work to those rows (and the rows after them, for the ``*_next``
    keys); the other rows are NaN. A 2000-step figure only needs its 200 frames.
    """
    if grads is None:
        raise ValueError("Backward mode needs the gradients (grads=engine.backward(...)).")
    if trace.batched:
        raise ValueError("The step-through figures show one sequence: pass an unbatched trace.")
    T, H, W_hh = trace.T, trace.H, trace.params["weight_hh"]
    want = np.arange(T) if steps is None else np.unique(np.asarray(steps, dtype=int))
    rows = np.union1d(want, want[want < T - 1] + 1)  # the next step feeds the *_next keys
    dH = np.asarray(grads.h)[rows]
    h_prev = _previous(trace.h, trace.h0)[rows]
    with np.errstate(over="ignore", invalid="ignore"):
        if trace.cell == "lstm":
            i, f, g, o = (trace.gates[q][rows] for q in "ifgo")
            c_prev = _previous(trace.c, trace.c0)[rows]
            tc = np.tanh(trace.c[rows])
            dc = np.asarray(grads.c)[rows]
            out = {
                "da_i": dc * g * i * (1.0 - i),  # input gate
                "da_f": dc * c_prev * f * (1.0 - f),  # forget gate
                "da_g": dc * i * (1.0 - g**2),  # candidate
                "da_o": dH * tc * o * (1.0 - o),  # output gate
            }
            dh_prev = np.concatenate([out[f"da_{q}"] for q in "ifgo"], axis=-1) @ W_hh
            dc_prev = dc * f  # the constant error carousel
            out.update(dc=dc, dc_prev=dc_prev, dc_h=dH * o * (1.0 - tc**2), dtanh_c=dH * o)
        elif trace.cell == "gru":
            r, z, n = (trace.gates[q][rows] for q in "rzn")
            hn = h_prev @ W_hh[2 * H :].T + trace.params["bias_hh"][2 * H :]
            dn = dH * (1.0 - z) * (1.0 - n**2)  # through (1 - z) n and tanh
            dz = dH * (h_prev - n) * z * (1.0 - z)  # dh/dz = h_prev - n
            dr = dn * hn * r * (1.0 - r)  # r gates U_n h_prev + b_hn
            dgh = np.concatenate([dr, dz, dn * r], axis=-1)
            dh_prev = dH * z + dgh @ W_hh  # direct path (z) plus the paths through the gates
            out = {"da_r": dr, "da_z": dz, "da_n": dn, "dh_z": dH * z, "dgh_n": dn * r}
        else:
            da = dH * _act_slope(trace, trace.h[rows])
            dh_prev = da @ W_hh  # through W_hh: the only path back in time
            out = {"da_h": da}
        out["dh"] = dH
        out["dh_prev"] = np.clip(np.nan_to_num(dh_prev, nan=np.nan), -1e100, 1e100)
        # what step t+1 sent back: its dh_prev (and its dc_prev); nothing after the last step
        has_next = np.isin(rows + 1, rows)
        at_next = np.minimum(np.searchsorted(rows, rows + 1), len(rows) - 1)
        for key, src in (("dh_next", "dh_prev"), ("dc_next", "dc_prev")):
            if src in out:
                nxt = np.where(has_next[:, None], out[src][at_next], np.nan)
                nxt[rows == T - 1] = 0.0
                out[key] = nxt
        out["dh_direct"] = out["dh"] - out["dh_next"]
    if steps is None:
        return out
    full = {}
    for key, a in out.items():
        full[key] = np.full((T, H), np.nan)
        full[key][rows] = a
    return full


def unit_gradients(trace, grads, unit: int, steps=None) -> dict[str, np.ndarray]:
    """:func:`cell_gradients` for unit k: the same keys, as (T,) arrays over the steps."""
    _check(trace, unit)
    k = int(unit)
    return {name: a[:, k].copy() for name, a in cell_gradients(trace, grads, steps).items()}


def rnn_factors(trace, steps) -> np.ndarray:
    """‖diag(act'(a_t)) W_hh‖₂ at the given steps (tanh' = 1 − h_t², relu' = [h_t > 0]): the
    factor a gradient is multiplied by (at most) when it crosses step t of the RNN."""
    steps = np.atleast_1d(np.asarray(steps, dtype=int))
    with np.errstate(over="ignore", invalid="ignore"):
        slope = _act_slope(trace, trace.h[steps])
    J = slope[:, :, None] * trace.params["weight_hh"][None]
    return np.linalg.norm(J, ord=2, axis=(1, 2))


def path_factor(trace, unit: int, steps) -> np.ndarray:
    """The factor the gradient on the state path is multiplied by at each of ``steps``:
    lstm f_t (dL/dc_{t-1} = dL/dc_t f_t), gru z_t (the direct path dL/dh_t z_t), rnn
    ‖diag(act'(a_t)) W_hh‖₂ (the whole step's Jacobian, the same for every unit)."""
    steps = np.atleast_1d(np.asarray(steps, dtype=int))
    if trace.cell == "lstm":
        return trace.gates["f"][steps, int(unit)].copy()
    if trace.cell == "gru":
        return trace.gates["z"][steps, int(unit)].copy()
    return rnn_factors(trace, steps)


def run_bounds(trace) -> dict[str, float]:
    """Fixed colour ranges of the signed quantities for the whole run: ``c`` (max |c| over the
    run, lstm) and ``h`` (1, or max |h| for a ReLU RNN whose states leave [−1, 1])."""
    bounds = {"c": 1.0, "h": 1.0}
    if trace.c is not None:
        c = np.abs(trace.c[np.isfinite(trace.c)])
        bounds["c"] = max(float(c.max(initial=0.0)), 1e-12)
    if trace.cell == "rnn" and trace.nonlinearity == "relu":
        h = np.abs(trace.h[np.isfinite(trace.h)])
        bounds["h"] = max(float(h.max(initial=0.0)), 1.0)
    return bounds


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
