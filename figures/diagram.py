"""The cell drawn like the textbook figures, coloured by one unit's numbers, animated in time.

One figure per cell on a 10 × 6 canvas (``shared/LESSON_DESIGN.md``, "The cell diagrams"): the
state line at y = 4.6, gate boxes 0.8 × 0.5 at y = 2.2, the input bus at y = 1.1, x_t from
below. Every gate box is a filled scatter polygon coloured by its value for unit k at the
current step (Viridis 0..1 for sigmoid gates, RdBu on the run's fixed range for signed values),
with the value printed under it; the state line is a data-coloured line on a dark casing whose
width follows the magnitude. In backward mode the palette switches to gradient magnitudes
(Magma_r on log10 over ``GRAD_DECADES``) and the factor the gradient is multiplied by on the
state path is written on it.

Time runs in the browser: one Plotly frame per (subsampled) step, named ``str(t)``, each
restyling only what changes (fill colours, line colours and widths, the value texts, the hover
texts and the title). Frames are plain dicts: no per-frame validation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from . import style
from .equations import (
    SUBSTEPS,
    grad_colors,
    path_factor,
    run_bounds,
    unit_gradients,
    unit_values,
    value_colors,
)

S = style.SYMBOLS
STATE_Y, GATE_Y, BUS_Y = 4.6, 2.2, 1.1
BOX_W, BOX_H, OP_R = 0.8, 0.5, 0.22
TOP = 5.85  # h_t leaves the canvas upwards here
WIRE = "#555555"
CASING = "#222222"
OP_FILL = "#ffffff"
FADED = 0.25
BAR_LEN = 0.8
_ALL = frozenset({"f", "i", "g", "c", "o", "h", "r", "z", "n"})

HM1 = "h<sub>t−1</sub>"
CM1 = "c<sub>t−1</sub>"
DLD = "∂L/∂"


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


def _rect(x, y, w=BOX_W, h=BOX_H):
    return [x - w / 2, x + w / 2, x + w / 2, x - w / 2, x - w / 2], [
        y - h / 2,
        y - h / 2,
        y + h / 2,
        y + h / 2,
        y - h / 2,
    ]


def _ellipse(x, y, rx, ry, n=36):
    a = np.linspace(0, 2 * np.pi, n + 1)
    return np.round(x + rx * np.cos(a), 3).tolist(), np.round(y + ry * np.sin(a), 3).tolist()


@dataclass
class _Fill:
    key: str  # unit_values key: the forward value and colour
    grad: str  # unit_gradients key: the backward value and colour
    x: float
    y: float
    label: str
    groups: frozenset
    shape: str = "box"
    text_at: tuple = ()  # (x, y, textposition) of the printed value


@dataclass
class _State:
    key: str
    grad: str
    pts: list  # [(x, y) or None, ...]
    groups: frozenset
    text_at: tuple = ()
    symbol: str = ""


@dataclass
class _Spec:
    fills: list = field(default_factory=list)
    states: list = field(default_factory=list)
    wires: list = field(default_factory=list)  # (pts, groups, arrow, colour, width)
    ops: list = field(default_factory=list)  # (x, y, text, groups)
    labels: list = field(default_factory=list)  # (x, y, text, textposition, groups)
    texts: list = field(default_factory=list)  # (x, y, textposition, groups, fwd(t), bwd(t))
    hovers: list = field(default_factory=list)  # (x, y, fwd(t), bwd(t))


def _g(*names):
    return frozenset(names)


# --------------------------------------------------------------------------------------------
# Hover-text helpers (Plotly's HTML subset, Unicode minus)
# --------------------------------------------------------------------------------------------

fv = style.fmt_value


def fg(x: float) -> str:
    """``fmt_grad``, with subnormal magnitudes (< 1e-300) written as 0: fmt_grad divides by
    10**exp, which underflows to 0 for them."""
    return style.fmt_grad(0.0 if abs(x) < 1e-300 else x)


def _terms(vals):
    return " ".join(style.fmt_signed(float(x)) if abs(x) < 1e4 else fv(x) for x in vals)


def _par(*strs):
    return "".join(f"({s})" for s in strs)


def _sym(q):
    return S.get(q, q)


def _gate_hover(q, v, t, act):
    return (
        f"{_sym(q)} = {act}(W<sub>{q}</sub>x<sub>t</sub> + U<sub>{q}</sub>{HM1} + b<sub>{q}</sub>)"
        f"<br>= {act}({_terms([v[f'wx_{q}'][t], v[f'uh_{q}'][t], v[f'b_{q}'][t]])})"
        f" = {act}({fv(v[f'a_{q}'][t])}) = <b>{fv(v[q][t])}</b>"
    )


def _grad_hover(name, formula, factors, value):
    return f"{DLD}{name} = {formula}<br>= {_par(*factors)} = <b>{fg(value)}</b>"


def _a(q):
    return f"a<sub>{q}</sub>"


# --------------------------------------------------------------------------------------------
# The three cells
# --------------------------------------------------------------------------------------------


def _lstm_spec(trace, v, d, fac):
    sp = _Spec()
    y0 = GATE_Y - BOX_H / 2 - 0.23  # the printed values, under the boxes
    gates = {"f": 2.4, "i": 3.6, "g": 4.8, "o": 6.2}
    groups = {"f": _g("f"), "i": _g("i", "g"), "g": _g("i", "g"), "o": _g("o", "h")}
    bus = _g("f", "i", "g", "o", "h")
    top, bot = GATE_Y + BOX_H / 2, GATE_Y - BOX_H / 2
    # the input bus: h_{t-1} from the left, x_t from below, one feeder per gate
    sp.wires.append(([(0.2, BUS_Y), (6.2, BUS_Y)], bus, False))
    sp.wires.append(([(1.2, 0.2), (1.2, BUS_Y)], bus, False))
    for x in gates.values():
        sp.wires.append(([(x, BUS_Y), (x, bot)], bus, True))
    sp.wires += [
        ([(2.4, top), (2.4, STATE_Y - OP_R)], _g("f"), True),
        ([(3.6, top), (3.6, 3.4), (4.8 - OP_R, 3.4)], _g("i", "g"), True),
        ([(4.8, top), (4.8, 3.4 - OP_R)], _g("i", "g"), True),
        ([(4.8, 3.4 + OP_R), (4.8, STATE_Y - OP_R)], _g("i", "g", "c"), True),
        ([(7.4, STATE_Y), (7.4, 3.85 + 0.2)], _g("o", "h"), True),
        ([(7.4, 3.85 - 0.2), (7.4, 3.0 + OP_R)], _g("o", "h"), True),
        ([(6.2, top), (6.2, 3.0), (7.4 - OP_R, 3.0)], _g("o", "h"), True),
    ]
    sp.states += [
        _State(
            "h",
            "dh",
            [(7.4, 3.0 - OP_R), (7.4, BUS_Y), (9.85, BUS_Y), None, (8.4, BUS_Y), (8.4, TOP)],
            _g("o", "h"),
            (8.5, 2.0, "middle right"),
            S["h"],
        ),
        _State(
            "c_prev",
            "dc_prev",
            [(0.2, STATE_Y), (2.4, STATE_Y)],
            _g("c"),
            (1.3, STATE_Y + 0.36, "middle center"),
            CM1,
        ),
        _State(
            "fc",
            "dc",
            [(2.4, STATE_Y), (4.8, STATE_Y)],
            _g("c"),
            (3.6, STATE_Y + 0.36, "middle center"),
            f"{S['f']}⊙{CM1}",
        ),
        _State(
            "c",
            "dc",
            [(4.8, STATE_Y), (7.4, STATE_Y)],
            _g("c"),
            (6.1, STATE_Y + 0.36, "middle center"),
            S["c"],
        ),
        _State("c", "dc_next", [(7.4, STATE_Y), (9.85, STATE_Y)], _g("c"), (), S["c"]),
    ]
    for q, x in gates.items():
        sp.fills.append(
            _Fill(q, f"da_{q}", x, GATE_Y, S[q], groups[q], "box", (x, y0, "middle center"))
        )
    sp.fills.append(
        _Fill(
            "tanh_c",
            "dtanh_c",
            7.4,
            3.85,
            "tanh",
            _g("o", "h"),
            "ellipse",
            (6.95, 3.85, "middle left"),
        )
    )
    sp.ops += [
        (2.4, STATE_Y, "×", _g("f", "c")),
        (4.8, STATE_Y, "+", _g("c")),
        (4.8, 3.4, "×", _g("i", "g", "c")),
        (7.4, 3.0, "×", _g("o", "h")),
    ]
    sp.labels += [
        (0.2, STATE_Y - 0.3, CM1, "middle right", _g("c")),
        (9.85, STATE_Y - 0.3, S["c"], "middle left", _g("c")),
        (0.2, BUS_Y - 0.3, HM1, "middle right", bus),
        (1.1, 0.35, S["x"], "middle left", bus),
        (9.85, BUS_Y - 0.3, S["h"], "middle left", _g("o", "h")),
        (8.5, TOP - 0.1, S["h"], "middle right", _g("o", "h")),
    ]

    sp.texts.append((5.05, 3.4, "middle right", _g("i", "g", "c"), lambda t: fv(v["ig"][t]), None))
    if d is not None:
        sp.texts.append(
            (
                2.4,
                STATE_Y + 0.8,
                "middle center",
                _g("f", "c"),
                None,
                lambda t: f"× {S['f']} = {v['f'][t]:.2f}",
            )
        )

    # hover: formulas with the numbers plugged in
    def tanh_fwd(t):
        return f"tanh({S['c']}) = tanh({fv(v['c'][t])}) = <b>{fv(v['tanh_c'][t])}</b>"

    def xf_fwd(t):
        return (
            f"{S['f']} ⊙ {CM1} = {_par(fv(v['f'][t]), fv(v['c_prev'][t]))}"
            f" = <b>{fv(v['fc'][t])}</b> (what the forget gate keeps)"
        )

    def xi_fwd(t):
        return (
            f"{S['i']} ⊙ {S['g']} = {_par(fv(v['i'][t]), fv(v['g'][t]))}"
            f" = <b>{fv(v['ig'][t])}</b> (what is written)"
        )

    def plus_fwd(t):
        return (
            f"{S['c']} = {S['f']}{CM1} + {S['i']}{S['g']} = {_terms([v['fc'][t], v['ig'][t]])}"
            f" = <b>{fv(v['c'][t])}</b>"
        )

    def xo_fwd(t):
        return (
            f"{S['h']} = {S['o']} ⊙ tanh({S['c']}) = "
            f"{_par(fv(v['o'][t]), fv(v['tanh_c'][t]))} = <b>{fv(v['h'][t])}</b>"
        )

    def dc_text(t):
        return (
            f"{DLD}{S['c']} = {DLD}c<sub>t+1</sub>·f<sub>t+1</sub> + {DLD}{S['h']}·{S['o']}"
            f"(1 − tanh²{S['c']})<br>= ({fg(d['dc_next'][t])}) + "
            f"{_par(fg(d['dh'][t]), fv(v['o'][t]), fv(1 - v['tanh_c'][t] ** 2))}"
            f" = <b>{fg(d['dc'][t])}</b>"
        )

    def dcp_text(t):
        return _grad_hover(
            CM1,
            f"{DLD}{S['c']} · {S['f']}  (the constant error carousel)",
            [fg(d["dc"][t]), fv(v["f"][t])],
            d["dc_prev"][t],
        )

    lstm_grads = {
        "f": (f"{DLD}{S['c']} · {CM1} · {S['f']}(1 − {S['f']})", "dc", "c_prev", "f"),
        "i": (f"{DLD}{S['c']} · {S['g']} · {S['i']}(1 − {S['i']})", "dc", "g", "i"),
        "g": (f"{DLD}{S['c']} · {S['i']} · (1 − {S['g']}²)", "dc", "i", "g"),
        "o": (f"{DLD}{S['h']} · tanh({S['c']}) · {S['o']}(1 − {S['o']})", "dh", "tanh_c", "o"),
    }

    def gate_bwd(q):
        formula, dk, vk, gk = lstm_grads[q]
        gv = v[gk]

        def text(t):
            local = 1 - gv[t] ** 2 if q == "g" else gv[t] * (1 - gv[t])
            return _grad_hover(
                _a(q), formula, [fg(d[dk][t]), fv(v[vk][t]), fv(local)], d[f"da_{q}"][t]
            )

        return text

    for q, x in gates.items():
        act = "tanh" if q == "g" else "σ"
        sp.hovers.append(
            (
                x,
                GATE_Y,
                lambda t, q=q, act=act: _gate_hover(q, v, t, act),
                gate_bwd(q) if d is not None else None,
            )
        )
    if d is None:
        d = {}
    sp.hovers += [
        (
            7.4,
            3.85,
            tanh_fwd,
            lambda t: _grad_hover(
                f"tanh({S['c']})",
                f"{DLD}{S['h']} · {S['o']}",
                [fg(d["dh"][t]), fv(v["o"][t])],
                d["dtanh_c"][t],
            ),
        ),
        (2.4, STATE_Y, xf_fwd, dcp_text),
        (
            4.8,
            3.4,
            xi_fwd,
            lambda t: f"{DLD}({S['i']}⊙{S['g']}) = {DLD}{S['c']} = <b>{fg(d['dc'][t])}</b>",
        ),
        (
            4.8,
            STATE_Y,
            plus_fwd,
            lambda t: f"+ passes {DLD}{S['c']} = <b>{fg(d['dc'][t])}</b> to both of its inputs",
        ),
        (
            7.4,
            3.0,
            xo_fwd,
            lambda t: (
                f"{DLD}{S['h']} = <b>{fg(d['dh'][t])}</b>, split between {S['o']} and "
                f"tanh({S['c']})"
            ),
        ),
        (1.3, STATE_Y, lambda t: f"{CM1} = <b>{fv(v['c_prev'][t])}</b>", dcp_text),
        (3.6, STATE_Y, xf_fwd, dc_text),
        (6.1, STATE_Y, lambda t: f"{S['c']} = <b>{fv(v['c'][t])}</b>", dc_text),
        (
            8.9,
            STATE_Y,
            lambda t: f"{S['c']} = <b>{fv(v['c'][t])}</b> (on to step t+1)",
            lambda t: (
                f"from step t+1: {DLD}c<sub>t+1</sub> · f<sub>t+1</sub> = "
                f"<b>{fg(d['dc_next'][t])}</b>"
            ),
        ),
    ]
    return sp


def _gru_spec(trace, v, d, fac):
    sp = _Spec()
    y0 = GATE_Y - BOX_H / 2 - 0.23
    top, bot = GATE_Y + BOX_H / 2, GATE_Y - BOX_H / 2
    gates = {"r": 3.3, "z": 4.5, "n": 6.5}
    bus = _g("r", "z", "n")
    sp.wires += [
        ([(0.8, STATE_Y), (0.8, BUS_Y), (6.5, BUS_Y)], bus, False),
        ([(1.6, 0.2), (1.6, BUS_Y)], bus, False),
        ([(3.3, BUS_Y), (3.3, bot)], bus, True),
        ([(4.5, BUS_Y), (4.5, bot)], bus, True),
        ([(5.6, BUS_Y), (5.6, GATE_Y - OP_R)], _g("r", "n"), True),
        ([(6.5, BUS_Y), (6.5, bot)], bus, True),
        # r multiplies U_n h_{t-1} + b_hn inside n's pre-activation (crossing under z's wire)
        ([(3.3, top), (3.3, 2.75), (5.6, 2.75), (5.6, GATE_Y + OP_R)], _g("r"), True),
        ([(4.36, 2.75), (4.64, 2.75)], _g("r"), "bridge"),
        ([(5.6 + OP_R, GATE_Y), (6.5 - BOX_W / 2, GATE_Y)], _g("n"), True),
        ([(4.5, top), (4.5, STATE_Y - OP_R)], _g("z", "h"), True),
        ([(4.5, 3.2), (5.5 - OP_R, 3.2)], _g("z", "h"), True),
        ([(5.5 + OP_R, 3.2), (6.5 - OP_R, 3.2)], _g("z", "h"), True),
        ([(6.5, top), (6.5, 3.2 - OP_R)], _g("n", "h"), True),
        ([(6.5, 3.2 + OP_R), (6.5, STATE_Y - OP_R)], _g("h"), True),
    ]
    sp.states += [
        _State(
            "h_prev",
            "dh_z",
            [(0.2, STATE_Y), (4.5, STATE_Y)],
            _g("h"),
            (2.2, STATE_Y + 0.36, "middle center"),
            HM1,
        ),
        _State(
            "zh",
            "dh",
            [(4.5, STATE_Y), (6.5, STATE_Y)],
            _g("h"),
            (5.5, STATE_Y + 0.36, "middle center"),
            f"{S['z']}⊙{HM1}",
        ),
        _State(
            "h",
            "dh",
            [(6.5, STATE_Y), (9.85, STATE_Y), None, (8.4, STATE_Y), (8.4, TOP)],
            _g("h"),
            (7.4, STATE_Y + 0.36, "middle center"),
            S["h"],
        ),
    ]
    groups = {"r": _g("r"), "z": _g("z"), "n": _g("n")}
    for q, x in gates.items():
        sp.fills.append(
            _Fill(q, f"da_{q}", x, GATE_Y, S[q], groups[q], "box", (x, y0, "middle center"))
        )
    sp.ops += [
        (4.5, STATE_Y, "×", _g("z", "h")),
        (6.5, STATE_Y, "+", _g("h")),
        (6.5, 3.2, "×", _g("h")),
        (5.5, 3.2, "1−", _g("z", "h")),
        (5.6, GATE_Y, "×", _g("r", "n")),
    ]
    sp.labels += [
        (0.2, STATE_Y - 0.3, HM1, "middle right", _g("h")),
        (9.85, STATE_Y - 0.3, S["h"], "middle left", _g("h")),
        (1.5, 0.35, S["x"], "middle left", bus),
        (8.5, TOP - 0.1, S["h"], "middle right", _g("h")),
    ]
    if d is not None:
        sp.texts.append(
            (
                4.5,
                STATE_Y + 0.8,
                "middle center",
                _g("z", "h"),
                None,
                lambda t: f"× {S['z']} = {v['z'][t]:.2f}",
            )
        )

    def n_fwd(t):
        return (
            f"{S['n']} = tanh(W<sub>n</sub>x<sub>t</sub> + b<sub>in</sub> + {S['r']}⊙"
            f"(U<sub>n</sub>{HM1} + b<sub>hn</sub>))<br>= tanh("
            f"{_terms([v['wx_n'][t], v['b_in'][t]])} + "
            f"{_par(fv(v['r'][t]), _terms([v['uh_n'][t], v['b_hn'][t]]))})"
            f" = tanh({fv(v['a_n'][t])}) = <b>{fv(v['n'][t])}</b>"
        )

    def h_fwd(t):
        return (
            f"{S['h']} = (1 − {S['z']})⊙{S['n']} + {S['z']}⊙{HM1}<br>= "
            f"(1 − {v['z'][t]:.2f}){_par(fv(v['n'][t]))} + "
            f"{_par(fv(v['z'][t]), fv(v['h_prev'][t]))}"
            f" = <b>{fv(v['h'][t])}</b>"
        )

    dd = d if d is not None else {}
    bwd = {
        "r": lambda t: _grad_hover(
            _a("r"),
            f"{DLD}{_a('n')} · (U<sub>n</sub>{HM1} + b<sub>hn</sub>) · {S['r']}(1 − {S['r']})",
            [fg(dd["da_n"][t]), fv(v["hn"][t]), fv(v["r"][t] * (1 - v["r"][t]))],
            dd["da_r"][t],
        ),
        "z": lambda t: _grad_hover(
            _a("z"),
            f"{DLD}{S['h']} · ({HM1} − {S['n']}) · {S['z']}(1 − {S['z']})",
            [fg(dd["dh"][t]), fv(v["h_prev"][t] - v["n"][t]), fv(v["z"][t] * (1 - v["z"][t]))],
            dd["da_z"][t],
        ),
        "n": lambda t: _grad_hover(
            _a("n"),
            f"{DLD}{S['h']} · (1 − {S['z']}) · (1 − {S['n']}²)",
            [fg(dd["dh"][t]), fv(1 - v["z"][t]), fv(1 - v["n"][t] ** 2)],
            dd["da_n"][t],
        ),
    }
    fwd = {
        "r": lambda t: _gate_hover("r", v, t, "σ"),
        "z": lambda t: _gate_hover("z", v, t, "σ"),
        "n": n_fwd,
    }
    for q, x in gates.items():
        sp.hovers.append((x, GATE_Y, fwd[q], bwd[q]))

    def direct(t):
        return _grad_hover(
            HM1 + " (direct path)",
            f"{DLD}{S['h']} · {S['z']}",
            [fg(dd["dh"][t]), fv(v["z"][t])],
            dd["dh_z"][t],
        )

    sp.hovers += [
        (
            4.5,
            STATE_Y,
            lambda t: (
                f"{S['z']} ⊙ {HM1} = {_par(fv(v['z'][t]), fv(v['h_prev'][t]))} = "
                f"<b>{fv(v['zh'][t])}</b> (the old state kept)"
            ),
            direct,
        ),
        (
            6.5,
            STATE_Y,
            h_fwd,
            lambda t: f"+ passes {DLD}{S['h']} = <b>{fg(dd['dh'][t])}</b> to both of its inputs",
        ),
        (
            6.5,
            3.2,
            lambda t: (
                f"(1 − {S['z']}) ⊙ {S['n']} = {_par(fv(v['omz'][t]), fv(v['n'][t]))} = "
                f"<b>{fv(v['omzn'][t])}</b> (the new content written)"
            ),
            lambda t: f"{DLD}((1 − {S['z']})⊙{S['n']}) = {DLD}{S['h']} = <b>{fg(dd['dh'][t])}</b>",
        ),
        (
            5.5,
            3.2,
            lambda t: f"1 − {S['z']} = <b>{v['omz'][t]:.2f}</b>",
            lambda t: f"1 − {S['z']}: the update gate's complement",
        ),
        (
            5.6,
            GATE_Y,
            lambda t: (
                f"{S['r']} ⊙ (U<sub>n</sub>{HM1} + b<sub>hn</sub>) = "
                f"{_par(fv(v['r'][t]), fv(v['hn'][t]))} = <b>{fv(v['rhn'][t])}</b>"
            ),
            lambda t: (
                f"{DLD}({S['r']}⊙(U<sub>n</sub>{HM1} + b<sub>hn</sub>)) = {DLD}{_a('n')} = "
                f"<b>{fg(dd['da_n'][t])}</b>"
            ),
        ),
        (2.2, STATE_Y, lambda t: f"{HM1} = <b>{fv(v['h_prev'][t])}</b>", direct),
        (
            5.5,
            STATE_Y,
            lambda t: f"{S['z']} ⊙ {HM1} = <b>{fv(v['zh'][t])}</b>",
            lambda t: f"{DLD}({S['z']}⊙{HM1}) = {DLD}{S['h']} = <b>{fg(dd['dh'][t])}</b>",
        ),
        (
            7.6,
            STATE_Y,
            lambda t: f"{S['h']} = <b>{fv(v['h'][t])}</b>",
            lambda t: f"{DLD}{S['h']} = <b>{fg(dd['dh'][t])}</b>",
        ),
    ]
    return sp


def _rnn_spec(trace, v, d, fac):
    sp = _Spec()
    act = "tanh" if trace.nonlinearity == "tanh" else "relu"
    top, bot = GATE_Y + BOX_H / 2, GATE_Y - BOX_H / 2
    all_ = _g("h")
    sp.wires.append(([(3.0, 0.2), (3.0, BUS_Y)], all_, False))
    sp.states += [
        _State(
            "h_prev",
            "dh_prev",
            [(0.2, STATE_Y), (1.2, STATE_Y), (1.2, BUS_Y), (5.0, BUS_Y), (5.0, bot)],
            all_,
            (0.7, STATE_Y + 0.36, "middle center"),
            HM1,
        ),
        _State(
            "h",
            "dh",
            [(5.0, top), (5.0, STATE_Y), (9.85, STATE_Y), None, (8.4, STATE_Y), (8.4, TOP)],
            all_,
            (7.2, STATE_Y + 0.36, "middle center"),
            S["h"],
        ),
    ]
    sp.fills.append(
        _Fill("h", "da_h", 5.0, GATE_Y, act, all_, "box", (5.5, GATE_Y, "middle right"))
    )
    sp.labels += [
        (0.2, STATE_Y - 0.3, HM1, "middle right", all_),
        (9.85, STATE_Y - 0.3, S["h"], "middle left", all_),
        (2.9, 0.35, S["x"], "middle left", all_),
        (8.5, TOP - 0.1, S["h"], "middle right", all_),
    ]
    slope = "[a<sub>t</sub> > 0]" if act == "relu" else f"(1 − {S['h']}²)"
    if d is not None:
        sp.texts.append(
            (
                3.1,
                3.0,
                "middle center",
                all_,
                None,
                lambda t: f"× ‖diag{slope}W<sub>hh</sub>‖<sub>2</sub><br>= {fac[t]:.2f}",
            )
        )

    def box_fwd(t):
        return (
            f"{S['h']} = {act}(W<sub>ih</sub>x<sub>t</sub> + W<sub>hh</sub>{HM1} + b)"
            f"<br>= {act}({_terms([v['wx_h'][t], v['uh_h'][t], v['b_h'][t]])})"
            f" = {act}({fv(v['a_h'][t])}) = <b>{fv(v['h'][t])}</b>"
        )

    dd = d if d is not None else {}
    sp.hovers += [
        (
            5.0,
            GATE_Y,
            box_fwd,
            lambda t: _grad_hover(
                "a<sub>t</sub>",
                f"{DLD}{S['h']} · {slope}",
                [fg(dd["dh"][t]), fv(v["h"][t] > 0 if act == "relu" else 1 - v["h"][t] ** 2)],
                dd["da_h"][t],
            ),
        ),
        (
            0.7,
            STATE_Y,
            lambda t: f"{HM1} = <b>{fv(v['h_prev'][t])}</b>",
            lambda t: (
                f"{DLD}{HM1} = [W<sub>hh</sub><sup>⊤</sup> {DLD}a<sub>t</sub>]<sub>k</sub> = "
                f"<b>{fg(dd['dh_prev'][t])}</b><br>the whole step multiplies the gradient by at "
                f"most ‖diag{slope}W<sub>hh</sub>‖<sub>2</sub> = {fac[t]:.2f}"
            ),
        ),
        (
            7.2,
            STATE_Y,
            lambda t: f"{S['h']} = <b>{fv(v['h'][t])}</b>",
            lambda t: f"{DLD}{S['h']} = <b>{fg(dd['dh'][t])}</b>",
        ),
    ]
    return sp


_SPECS = {"lstm": _lstm_spec, "gru": _gru_spec, "rnn": _rnn_spec}


_X_IN = {"lstm": 1.2, "gru": 1.6, "rnn": 3.0}  # where x_t enters the bus from below

# The number each hover target carries in ``customdata`` (forward key, backward key), by its
# position: keys of unit_values / unit_gradients, plus the norms of x_t and dL/dx_t.
_HOVER_KEYS = {
    "lstm": {
        (2.4, GATE_Y): ("f", "da_f"),
        (3.6, GATE_Y): ("i", "da_i"),
        (4.8, GATE_Y): ("g", "da_g"),
        (6.2, GATE_Y): ("o", "da_o"),
        (7.4, 3.85): ("tanh_c", "dtanh_c"),
        (2.4, STATE_Y): ("fc", "dc_prev"),
        (4.8, 3.4): ("ig", "dc"),
        (4.8, STATE_Y): ("c", "dc"),
        (7.4, 3.0): ("h", "dh"),
        (1.3, STATE_Y): ("c_prev", "dc_prev"),
        (3.6, STATE_Y): ("fc", "dc"),
        (6.1, STATE_Y): ("c", "dc"),
        (8.9, STATE_Y): ("c", "dc_next"),
    },
    "gru": {
        (3.3, GATE_Y): ("r", "da_r"),
        (4.5, GATE_Y): ("z", "da_z"),
        (6.5, GATE_Y): ("n", "da_n"),
        (4.5, STATE_Y): ("zh", "dh_z"),
        (6.5, STATE_Y): ("h", "dh"),
        (6.5, 3.2): ("omzn", "dh"),
        (5.5, 3.2): ("omz", None),
        (5.6, GATE_Y): ("rhn", "da_n"),
        (2.2, STATE_Y): ("h_prev", "dh_z"),
        (5.5, STATE_Y): ("zh", "dh"),
        (7.6, STATE_Y): ("h", "dh"),
    },
    "rnn": {
        (5.0, GATE_Y): ("h", "da_h"),
        (0.7, STATE_Y): ("h_prev", "dh_prev"),
        (7.2, STATE_Y): ("h", "dh"),
    },
}
for _cell in _HOVER_KEYS.values():
    _cell[("x", 0.55)] = ("x_norm", "dx_norm")


# --------------------------------------------------------------------------------------------
# Building the figure
# --------------------------------------------------------------------------------------------


def _rgba(hex_color: str, alpha: float) -> str:
    if alpha >= 1:
        return hex_color
    h = hex_color.lstrip("#")
    r, g, b = (int(h[j : j + 2], 16) for j in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


def _xy(pts):
    xs = [None if p is None else round(p[0], 3) for p in pts]
    ys = [None if p is None else round(p[1], 3) for p in pts]
    return xs, ys


def _title(trace, t, labels, mode, unit):
    token = ""
    if labels is not None and t < len(labels):
        token = f' · "{style.safe_text(labels[t], 24)}"'
    return f"{style.CELL_NAMES[trace.cell]} · t = {t}{token} · {mode} · unit {unit}"


def _colorbars(cell, mode, bounds, presentation):
    """Invisible traces that only carry colour bars: one sequential and one diverging scale
    forward, the shared log10 gradient scale backward."""
    common = {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "hoverinfo": "skip",
        "showlegend": False,
    }
    bar = {"len": BAR_LEN, "thickness": 12, "y": 0.5, "yanchor": "middle", "outlinewidth": 0}
    if mode == "backward":
        lo, hi = style.GRAD_DECADES
        ticks = list(range(int(lo), int(hi) + 1, 2))
        return [
            {
                **common,
                "marker": {
                    "color": [lo],
                    "cmin": lo,
                    "cmax": hi,
                    "showscale": True,
                    "colorscale": style.colorscale(style.GRADIENT, presentation=presentation),
                    "colorbar": {
                        **bar,
                        "x": 1.02,
                        "title": {"text": "|gradient|"},
                        "tickvals": ticks,
                        "ticktext": [style.fmt_grad(10.0**k) for k in ticks],
                    },
                },
            }
        ]
    out = []
    x = 1.02
    if cell != "rnn":
        out.append(
            {
                **common,
                "marker": {
                    "color": [0.0],
                    "cmin": 0.0,
                    "cmax": 1.0,
                    "showscale": True,
                    "colorscale": style.colorscale(style.SEQUENTIAL, presentation=presentation),
                    "colorbar": {
                        **bar,
                        "x": x,
                        "title": {"text": "gate"},
                        "tickvals": [0, 0.5, 1],
                        "ticktext": ["0", "0.5", "1"],
                    },
                },
            }
        )
        x += 0.13
    ticktext = ["−1", "0", "+1"]
    title = "value"
    if cell == "lstm":
        cm = style.fmt_grad(bounds["c"])
        ticktext = [f"−1 (c −{cm})", "0", f"+1 (c +{cm})"]
    elif cell == "rnn" and bounds["h"] > 1:
        hm = style.fmt_grad(bounds["h"])
        ticktext = [f"−{hm}", "0", f"+{hm}"]
    out.append(
        {
            **common,
            "marker": {
                "color": [0.0],
                "cmin": -1.0,
                "cmax": 1.0,
                "showscale": True,
                "colorscale": style.colorscale(style.DIVERGING, presentation=presentation),
                "colorbar": {
                    **bar,
                    "x": x,
                    "title": {"text": title},
                    "tickvals": [-1, 0, 1],
                    "ticktext": ticktext,
                },
            },
        }
    )
    return out


def cell_diagram(
    trace,
    unit: int,
    *,
    step: int = 0,
    mode: str = "forward",
    grads=None,
    labels=None,
    focus: str | None = None,
    max_frames: int = style.MAX_FRAMES,
    presentation: bool = False,
) -> go.Figure:
    """The cell as a textbook diagram, coloured by unit k's numbers, one frame per step.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace (rnn tanh/relu, gru, lstm).
    unit : int
        The unit k whose gate values fill the boxes.
    step : int
        0-based step shown first (the figure's data and the slider's active position).
    mode : {"forward", "backward"}
        Backward colours every element by the gradient reaching it (needs ``grads``) and writes
        the factor on the state path (lstm f_t, gru z_t, rnn ‖diag(act')W_hh‖₂); its animation
        runs from the last step to the first.
    grads : engine.Grads, optional
        From ``engine.backward``; required for ``mode="backward"``.
    labels : sequence of str, optional
        One token per step (user text: escaped), named in the title and on the slider.
    focus : str, optional
        A sub-step (lstm f i g c o h; gru r z n h; rnn h): its elements stay opaque, the rest
        fade to 0.25. ``None`` or ``"all"``: everything opaque.
    max_frames : int
        At most this many animation frames (``frame_steps``; the current step is always
        included). 0 gives a static figure without play controls.
    presentation : bool
        Projector mode: larger type, slower steps, the palest 12% of sequential scales dropped.

    Returns
    -------
    go.Figure
        Frames named ``str(t)`` (reversed in backward mode), play/pause and a slider over them.
    """
    if mode not in ("forward", "backward"):
        raise ValueError(f"mode must be 'forward' or 'backward', not {mode!r}.")
    T = trace.T
    if not 0 <= int(step) < T:
        raise ValueError(f"step {step} is out of range 0..{T - 1}.")
    if focus == "all":
        focus = None
    if focus is not None and focus not in SUBSTEPS[trace.cell]:
        choices = ", ".join(SUBSTEPS[trace.cell])
        raise ValueError(f"focus {focus!r} is not a sub-step of the {trace.cell}: {choices}.")
    step, unit = int(step), int(unit)
    backward = mode == "backward"
    v = unit_values(trace, unit)
    bounds = run_bounds(trace)
    frames_at = style.frame_steps_with(T, int(max_frames), step)
    steps = np.array(sorted({*frames_at, step}), dtype=int)
    d = unit_gradients(trace, grads, unit, steps=steps) if backward else None
    pos = {int(t): j for j, t in enumerate(steps)}
    fac = np.full(T, np.nan)
    if backward:
        fac[steps] = path_factor(trace, unit, steps)
    # the hover and value texts format Python floats (numpy scalars are slow to format)
    vl = {k: a.tolist() for k, a in v.items()}
    dl = {k: a.tolist() for k, a in d.items()} if backward else None
    sp = _SPECS[trace.cell](trace, vl, dl, fac.tolist())
    _common_hovers(sp, trace, grads, labels, backward)

    def alpha(groups):
        return 1.0 if focus is None or focus in groups else FADED

    lo, hi = style.GRAD_DECADES
    # ---- per-step styles, vectorised over the needed steps -------------------------------
    fill_colors = []
    for f in sp.fills:
        if backward:
            fill_colors.append(grad_colors(d[f.grad][steps], presentation=presentation))
        else:
            fill_colors.append(
                value_colors(f.key, v[f.key][steps], bounds, presentation=presentation)
            )
    state_styles = []
    for s in sp.states:
        if backward:
            x = d[s.grad][steps]
            cols = grad_colors(x, presentation=presentation)
            mag = (style.log10_magnitude(x) - lo) / (hi - lo)
        else:
            x = v[s.key][steps]
            cols = value_colors(s.key, x, bounds, presentation=presentation)
            b = bounds["c"] if s.key in ("c", "c_prev", "fc") else bounds["h"]
            with np.errstate(invalid="ignore", over="ignore"):
                mag = np.nan_to_num(np.abs(x) / b, nan=0.0)
        widths = np.round(2.0 + 10.0 * np.clip(mag, 0.0, 1.0), 2)
        state_styles.append((cols, widths.tolist()))

    # ---- static traces ------------------------------------------------------------------
    data: list[dict] = []
    for pts, groups, arrow in sp.wires:
        xs, ys = _xy(pts)
        trace_d = {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "hoverinfo": "skip",
            "showlegend": False,
            "opacity": alpha(groups),
        }
        if arrow == "bridge":  # a white gap where another wire crosses over
            trace_d.update(mode="lines", line={"color": "#ffffff", "width": 6})
        elif arrow:
            sizes = [0] * (len(xs) - 1) + [9]
            trace_d.update(
                mode="lines+markers",
                line={"color": WIRE, "width": 1.6},
                marker={"symbol": "arrow", "angleref": "previous", "size": sizes, "color": WIRE},
            )
        else:
            trace_d.update(mode="lines", line={"color": WIRE, "width": 1.6})
        data.append(trace_d)

    dynamic: dict[str, list[int]] = {"casing": [], "state": [], "fill": []}
    j0 = pos[step]
    for s, (cols, widths) in zip(sp.states, state_styles, strict=True):
        xs, ys = _xy(s.pts)
        base = {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "mode": "lines",
            "hoverinfo": "skip",
            "showlegend": False,
            "opacity": alpha(s.groups),
        }
        dynamic["casing"].append(len(data))
        data.append({**base, "line": {"color": CASING, "width": widths[j0] + 2}})
        dynamic["state"].append(len(data))
        data.append({**base, "line": {"color": cols[j0], "width": widths[j0]}})
    for x, y, _, groups in sp.ops:
        xs, ys = _ellipse(x, y, OP_R, OP_R, 28)
        data.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "fill": "toself",
                "fillcolor": OP_FILL,
                "line": {"color": CASING, "width": 1.4},
                "hoverinfo": "skip",
                "showlegend": False,
                "opacity": alpha(groups),
            }
        )
    for f, cols in zip(sp.fills, fill_colors, strict=True):
        if f.shape == "ellipse":
            xs, ys = _ellipse(f.x, f.y, 0.42, 0.2)
        else:
            xs, ys = _rect(f.x, f.y)
        dynamic["fill"].append(len(data))
        data.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "fill": "toself",
                "fillcolor": cols[j0],
                "line": {"color": CASING, "width": 1.4},
                "hoverinfo": "skip",
                "showlegend": False,
                "opacity": alpha(f.groups),
            }
        )

    fs = style.PRESENTATION_FONT_SIZE if presentation else style.FONT["size"]
    small = fs - 2
    # static text: operator signs and the names of the states at the canvas edges
    op_txt = [(x, y, s, "middle center", g) for x, y, s, g in sp.ops] + sp.labels
    data.append(
        {
            "type": "scatter",
            "mode": "text",
            "x": [p[0] for p in op_txt],
            "y": [p[1] for p in op_txt],
            "text": [p[2] for p in op_txt],
            "textposition": [p[3] for p in op_txt],
            "hoverinfo": "skip",
            "showlegend": False,
            "textfont": {
                "size": [
                    small - 2 if len(p[2]) > 1 and p[3] == "middle center" else fs for p in op_txt
                ],
                "color": [_rgba(style.INK_DARK, alpha(p[4])) for p in op_txt],
            },
        }
    )
    # labels inside the filled elements (ink flips to white on dark fills)
    fill_alpha = [alpha(f.groups) for f in sp.fills]

    def fill_inks(j):  # faded elements keep a faded dark label (their fill is pale anyway)
        return [
            style.ink_for(c[j]) if a >= 1 else _rgba(style.INK_DARK, 0.45)
            for c, a in zip(fill_colors, fill_alpha, strict=True)
        ]

    dynamic["labels"] = [len(data)]
    data.append(
        {
            "type": "scatter",
            "mode": "text",
            "x": [f.x for f in sp.fills],
            "y": [f.y for f in sp.fills],
            "text": [f.label for f in sp.fills],
            "textposition": "middle center",
            "hoverinfo": "skip",
            "showlegend": False,
            "textfont": {"size": fs, "color": fill_inks(j0)},
        }
    )
    # printed values: under each box, on the state line, plus the cell's extras
    vt = []  # (x, y, textposition, groups, text(t))
    under = sorted(
        (f for f in sp.fills if f.text_at and f.text_at[2] == "middle center"), key=lambda f: f.x
    )
    for a, b in zip(under, under[1:], strict=False):
        if backward and b.x - a.x < 1.6 and a.text_at[1] == b.text_at[1]:
            b.text_at = (b.text_at[0], b.text_at[1] - 0.3, b.text_at[2])  # stagger
    for f in sp.fills:
        if f.text_at:
            fn = (
                (lambda t, f=f: fg(dl[f.grad][t]))
                if backward
                else (lambda t, f=f: fv(vl[f.key][t]))
            )
            vt.append((*f.text_at, f.groups, fn))
    for s in sp.states:
        if s.text_at:
            fn = (
                (lambda t, s=s: fg(dl[s.grad][t]))
                if backward
                else (lambda t, s=s: fv(vl[s.key][t]))
            )
            vt.append((*s.text_at, s.groups, fn))
    for x, y, tp, groups, f_fwd, f_bwd in sp.texts:
        fn = f_bwd if backward else f_fwd
        if fn is not None:
            vt.append((x, y, tp, groups, fn))
    dynamic["values"] = [len(data)]
    halo = "0 0 3px #ffffff, 0 0 2px #ffffff"
    data.append(
        {
            "type": "scatter",
            "mode": "text",
            "x": [p[0] for p in vt],
            "y": [p[1] for p in vt],
            "textposition": [p[2] for p in vt],
            "text": [p[4](step) for p in vt],
            "hoverinfo": "skip",
            "showlegend": False,
            "textfont": {
                "size": small,
                "shadow": halo,
                "color": [_rgba(style.INK_DARK, alpha(p[3])) for p in vt],
            },
        }
    )
    # hover targets: an invisible marker on every element
    hv = [(x, y, f_bwd if backward else f_fwd) for x, y, f_fwd, f_bwd in sp.hovers]
    # Each hover is a static template (the formula, written once) plus a per-step text (the
    # numbers): frames then carry only the numbers. Non-ASCII symbols cost 6 bytes in JSON.
    full = {int(t): [fn(int(t)) for _, _, fn in hv] for t in steps}
    cuts = []
    for j, (_x, y, _) in enumerate(hv):
        common = os.path.commonprefix([full[int(t)][j] for t in steps])
        user_text = y == 0.55  # the x_t hover quotes the token: never inside a template
        cuts.append(0 if user_text or "<br>" not in common else common.rfind("<br>") + 4)
    first = full[int(steps[0])]
    templates = [
        f"<b>unit {unit}</b><br>{first[j][:cut]}%{{text}}<extra></extra>"
        for j, cut in enumerate(cuts)
    ]

    def hover_texts(t):
        return [s[cut:] for s, cut in zip(full[t], cuts, strict=True)]

    # the element's number for selections and tests: customdata[j] at each step
    keymap = _HOVER_KEYS[trace.cell]
    keys = [keymap[("x", y) if y == 0.55 else (round(x, 2), round(y, 2))] for x, y, _ in hv]
    keys = [k[1] if backward else k[0] for k in keys]
    nums = dict(d if backward else v)
    nums["x_norm"] = np.linalg.norm(trace.xs, axis=-1)
    if backward:
        nums["dx_norm"] = np.linalg.norm(grads.x, axis=-1)
    with np.errstate(over="ignore"):
        custom = np.stack(
            [nums[k][steps] if k else np.full(len(steps), np.nan) for k in keys], axis=-1
        ).astype(np.float32)

    dynamic["hover"] = [len(data)]
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": [p[0] for p in hv],
            "y": [p[1] for p in hv],
            "marker": {"size": 26, "color": "rgba(0,0,0,0)"},
            "hovertemplate": templates,
            "text": hover_texts(step),
            "customdata": custom[j0],
            "meta": {"elements": [k or "" for k in keys]},
            "showlegend": False,
            "hoverlabel": {"align": "left"},
        }
    )
    data += _colorbars(trace.cell, mode, bounds, presentation)

    # ---- frames: only what changes ------------------------------------------------------
    order = frames_at[::-1] if backward else frames_at
    idx = (
        dynamic["casing"]
        + dynamic["state"]
        + dynamic["fill"]
        + dynamic["labels"]
        + dynamic["values"]
        + dynamic["hover"]
    )
    frames = []
    for t in order:
        j = pos[t]
        upd = [{"line": {"width": w[j] + 2}} for _, w in state_styles]
        upd += [{"line": {"color": c[j], "width": w[j]}} for c, w in state_styles]
        upd += [{"fillcolor": c[j]} for c in fill_colors]
        upd.append({"textfont": {"color": fill_inks(j)}})
        upd.append({"text": [p[4](t) for p in vt]})
        upd.append({"text": hover_texts(t), "customdata": custom[j]})
        frames.append(
            {
                "name": str(t),
                "data": upd,
                "traces": idx,
                "layout": {"title": {"text": _title(trace, t, labels, mode, unit)}},
            }
        )

    layout = style.base_layout(
        _title(trace, step, labels, mode, unit),
        height=640 if presentation else 470,
        font_size=style.PRESENTATION_FONT_SIZE if presentation else None,
    )
    layout.update(
        showlegend=False,
        hovermode="closest",
        margin={"l": 10, "r": 10, "t": 60, "b": 80 if frames else 10},
        xaxis={"range": [0, 10], "visible": False, "fixedrange": True, "constrain": "domain"},
        yaxis={
            "range": [0, 6],
            "visible": False,
            "fixedrange": True,
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
    )
    if frames:
        duration = int(style.STEP_MS * (1.5 if presentation else 1))
        slider_labels = [_slider_label(t, labels) for t in order]
        layout.update(
            style.play_controls(
                [str(t) for t in order],
                duration=duration,
                labels=slider_labels,
                active=order.index(step),
                prefix="t = ",
            )
        )
    return style.figure_with_frames(data, layout, frames)


def _slider_label(t, labels):
    if labels is None or t >= len(labels):
        return str(t)
    return f"{t} · {style.safe_text(labels[t], 12)}"


def _common_hovers(sp, trace, grads, labels, backward):
    """Hover on x_t (the input) for every cell."""
    x_norm = np.linalg.norm(trace.xs, axis=-1).tolist()
    g_norm = np.linalg.norm(grads.x, axis=-1).tolist() if backward else None

    def token(t):
        if labels is None or t >= len(labels):
            return ""
        return f' = "{style.safe_text(labels[t], 40)}"'

    def fwd(t):
        return (
            f"{S['x']}{token(t)}: {trace.D} inputs, ‖{S['x']}‖ = {x_norm[t]:.2f}<br>"
            f"feeds every gate through W"
        )

    def bwd(t):
        return f"‖{DLD}{S['x']}‖ = <b>{fg(g_norm[t])}</b> (the gradient reaching input t)"

    sp.hovers.append((_X_IN[trace.cell], 0.55, fwd, bwd))
