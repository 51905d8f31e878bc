"""The three cells drawn like the textbook figures, each as a table of elements.

One table per cell; one renderer (:mod:`figures.timeline` turns a table and a run into the
data the Step through component draws as SVG). A change of drawing or of convention edits a
table, never the renderer. Coordinates are on a 12 × 6 canvas, y up (the renderer flips it):
the state line at y = 5.0 in all three cells, gate boxes (1.0 × 0.72) at y = 2.6, the input
bus at y = 1.3, x_t entering from below. Pointwise operations are circles (r = 0.24), tanh an
ellipse. Every number is printed inside its element, so no wire ever runs through a number.

Element fields
--------------
name : unique id (also the key of the element's hover formula).
shape : ``box`` (gate), ``ellipse`` (tanh of the cell state), ``op`` (pointwise ×, +, 1−),
    ``pill`` (a state or input entering or leaving the step), ``wire`` (a plain connection),
    ``state`` (the data-coloured state line: the LSTM's highway, the GRU's and RNN's h line),
    ``note`` (a text whose content changes per step, e.g. the backward path factor).
at : (x, y) centre; for wires and state lines the list of points.
label : the symbol written in or beside the element (``σ``, ``tanh``, ``×``, ``c_{t−1}``);
    ``_{...}`` is a subscript; ``@q@`` names quantity q, written in the notation's symbol
    (:mod:`figures.notation`, filled by :func:`table`).
value : key of :func:`engine.explain.unit_values`: the forward fill and printed number.
grad : key of :func:`engine.explain.unit_gradients`: the backward fill and printed number.
groups : the sub-steps (``f i g c o h`` / ``r z n h``) whose path this element belongs to;
    the rest fades when one sub-step is in focus.
hover : the formula of the element, shown on hover and focus (``@q@`` as in ``label``;
    a gate box's hover is its equation in the notation, from :func:`figures.notation.gate_formula`).
width : for a note, the widest its lines may be drawn (canvas units): the room between the
    elements beside it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from . import notation as nt

STATE_Y, GATE_Y, BUS_Y = 5.0, 2.6, 1.3
WIDTH, HEIGHT = 12.0, 6.0
BOX_W, BOX_H, OP_R = 1.1, 0.8, 0.24
PILL_W, PILL_H = 1.1, 0.5
ELLIPSE_W, ELLIPSE_H = 1.2, 0.74
SIZES = {
    "box": (BOX_W, BOX_H), "pill": (PILL_W, PILL_H), "ellipse": (ELLIPSE_W, ELLIPSE_H),
    "op": (2 * OP_R, 2 * OP_R),
}  # fmt: skip
"""Width and height of each shape, in canvas units (the renderer draws them at these sizes)."""


@dataclass(frozen=True)
class Element:
    name: str
    shape: str
    at: tuple
    label: str = ""
    value: str | None = None
    grad: str | None = None
    groups: str = ""
    hover: str = ""
    width: float | None = None


def _box(name, x, act, groups, role, *, value=None, grad=None):
    """A gate box; its hover is filled in by :func:`table` (the gate's equation, then
    ``role``)."""
    return Element(name, "box", (x, GATE_Y), act, value or name, grad or f"da_{name}", groups, role)


def _wire(name, groups, *pts):
    return Element(name, "wire", tuple(pts), groups=groups)


LSTM = (
    # the cell-state highway: c_{t-1} -> ×f -> + -> c_t
    Element("c_prev", "pill", (0.75, STATE_Y), "@c_prev@", "c_prev", "dc_prev", "f c",
            "@c_prev@: the cell state the step receives"),
    Element("highway_in", "state", ((1.3, STATE_Y), (2.16, STATE_Y)), value="c_prev",
            grad="dc_prev", groups="f c"),
    Element("mul_f", "op", (2.4, STATE_Y), "×", "fc", None, "f c",
            "@f@ ⊙ @c_prev@: what is kept"),
    Element("highway_mid", "state", ((2.64, STATE_Y), (5.96, STATE_Y)), value="fc", grad="dc",
            groups="c"),
    Element("add_c", "op", (6.2, STATE_Y), "+", "c", None, "c",
            "@c@ = @f@ ⊙ @c_prev@ + @i@ ⊙ @g@"),
    Element("highway_out", "state", ((6.44, STATE_Y), (10.65, STATE_Y)), value="c", grad="dc",
            groups="c o h"),
    Element("c", "pill", (11.25, STATE_Y), "@c@", "c", "dc", "c o h",
            "@c@: the cell state passed on to the next step"),
    # the input bus: [h_{t-1}, x_t] feeds every gate from below
    Element("h_prev", "pill", (0.75, BUS_Y), "@h_prev@", "h_prev", "dh_prev", "f i g o",
            "@h_prev@: the hidden state the step receives"),
    Element("x", "pill", (2.0, 0.35), "@x@", None, None, "f i g o", "@x@: this step's input"),
    _wire("x_up", "f i g o", (2.0, 0.6), (2.0, BUS_Y)),
    _wire("bus", "f i g o", (1.3, BUS_Y), (7.6, BUS_Y)),
    _wire("bus_f", "f", (2.4, BUS_Y), (2.4, GATE_Y - BOX_H / 2)),
    _wire("bus_i", "i", (3.8, BUS_Y), (3.8, GATE_Y - BOX_H / 2)),
    _wire("bus_g", "g", (5.2, BUS_Y), (5.2, GATE_Y - BOX_H / 2)),
    _wire("bus_o", "o", (7.6, BUS_Y), (7.6, GATE_Y - BOX_H / 2)),
    # the gates
    _box("f", 2.4, "σ", "f", "forget gate"),
    _box("i", 3.8, "σ", "i", "input gate"),
    _box("g", 5.2, "tanh", "g", "candidate"),
    _box("o", 7.6, "σ", "o h", "output gate"),
    _wire("f_up", "f", (2.4, GATE_Y + BOX_H / 2), (2.4, STATE_Y - OP_R)),
    _wire("i_up", "i", (3.8, GATE_Y + BOX_H / 2), (3.8, 3.9), (5.0, 3.9)),
    _wire("g_up", "g", (5.2, GATE_Y + BOX_H / 2), (5.2, 3.66)),
    Element("mul_i", "op", (5.2, 3.9), "×", "ig", None, "i g c", "@i@ ⊙ @g@: what is written"),
    _wire("ig_up", "i g c", (5.2, 4.14), (5.2, 4.4), (6.2, 4.4), (6.2, STATE_Y - OP_R)),
    # the output: h_t = o_t ⊙ tanh(c_t)
    _wire("c_tap", "o h", (9.2, STATE_Y), (9.2, 4.1 + ELLIPSE_H / 2)),
    Element("tanh_c", "ellipse", (9.2, 4.1), "tanh", "tanh_c", "dtanh_c", "o h",
            "tanh(@c@): the cell state squashed to (−1, 1)"),
    _wire("tanh_down", "o h", (9.2, 4.1 - ELLIPSE_H / 2), (9.2, 3.1 + OP_R)),
    _wire("o_up", "o h", (7.6, GATE_Y + BOX_H / 2), (7.6, 3.1), (8.96, 3.1)),
    Element("mul_o", "op", (9.2, 3.1), "×", "h", None, "o h", "@h@ = @o@ ⊙ tanh(@c@)"),
    _wire("h_down", "h", (9.2, 2.86), (9.2, BUS_Y), (10.7, BUS_Y)),
    Element("h", "pill", (11.25, BUS_Y), "@h@", "h", "dh", "h",
            "@h@: the hidden state, the step's output and the next step's input"),
    Element("factor", "note", (4.5, 5.5), groups="f c", width=5.4),
)  # fmt: skip

_GRU_HEAD = (
    # the state line: h_{t-1} -> ×z -> + -> h_t
    Element("h_prev", "pill", (0.75, STATE_Y), "@h_prev@", "h_prev", "dh_prev", "r z n h",
            "@h_prev@: the hidden state the step receives"),
    Element("line_in", "state", ((1.3, STATE_Y), (2.36, STATE_Y)), value="h_prev",
            grad="dh_z", groups="z h",
            hover="@h_prev@ on the direct path into × @z@; backward, its colour is that path's "
            "share ∂L/∂@h@ @z@ of the total ∂L/∂@h_prev@ (the @h_prev@ pill)"),
    Element("mul_z", "op", (2.6, STATE_Y), "×", "zh", None, "z h",
            "@z@ ⊙ @h_prev@: what is kept"),
    Element("line_mid", "state", ((2.84, STATE_Y), (8.36, STATE_Y)), value="zh", grad="dh",
            groups="h"),
    Element("add_h", "op", (8.6, STATE_Y), "+", "h", None, "h", "@h@ = @GRU_H@"),
    Element("line_out", "state", ((8.84, STATE_Y), (10.65, STATE_Y)), value="h", grad="dh",
            groups="h"),
    Element("h", "pill", (11.25, STATE_Y), "@h@", "h", "dh", "h",
            "@h@: the hidden state, the step's output and the next step's input"),
    # the bus: h_{t-1} taps down and joins x_t
    _wire("tap", "r z n", (1.6, STATE_Y), (1.6, BUS_Y)),
    Element("x", "pill", (2.9, 0.35), "@x@", None, None, "r z n", "@x@: this step's input"),
    _wire("x_up", "r z n", (2.9, 0.6), (2.9, BUS_Y)),
    _wire("bus", "r z n", (1.6, BUS_Y), (8.6, BUS_Y)),
    _wire("bus_z", "z", (2.6, BUS_Y), (2.6, GATE_Y - BOX_H / 2)),
    _wire("bus_r", "r", (4.6, BUS_Y), (4.6, GATE_Y - BOX_H / 2)),
    _wire("bus_n", "n", (8.6, BUS_Y), (8.6, GATE_Y - BOX_H / 2)),
    # the gates
    _box("z", 2.6, "σ", "z h", "update gate"),
    _box("r", 4.6, "σ", "r n", "reset gate"),
    _wire("r_right", "r n", (4.6 + BOX_W / 2, GATE_Y), (6.6 - OP_R, GATE_Y)),
    _box("n", 8.6, "tanh", "n h", "candidate"),
    _wire("n_up", "n h", (8.6, GATE_Y + BOX_H / 2), (8.6, 3.66)),
    Element("mul_n", "op", (8.6, 3.9), "×", "omzn", None, "n h",
            "@omz@ ⊙ @n@: what is written"),
    _wire("omzn_up", "n h", (8.6, 4.14), (8.6, STATE_Y - OP_R)),
    Element("factor", "note", (5.6, 5.5), groups="z h", width=5.3),
)  # fmt: skip
MAT_X_AFTER, MAT_Y_AFTER, MAT_X_BEFORE = 6.6, 1.95, 7.45
GRU_RESET = {  # where r acts: on the product (PyTorch) or on h_{t-1} before it (Cho 2014)
    "after": (
        _wire("bus_hn", "r n", (6.6, BUS_Y), (MAT_X_AFTER, MAT_Y_AFTER - OP_R)),
        Element("mat_n", "op", (MAT_X_AFTER, MAT_Y_AFTER), "@U_n@", "hn", None, "r n",
                "@U_n@ @h_prev@ + @b_hn@: the recurrent product, before the reset gate"),
        _wire("hn_up", "r n", (6.6, MAT_Y_AFTER + OP_R), (6.6, GATE_Y - OP_R)),
        Element("mul_r", "op", (6.6, GATE_Y), "×", "rhn", None, "r n",
                "@r@ ⊙ (@U_n@ @h_prev@ + @b_hn@): the reset gate scales the recurrent "
                "product"),
        _wire("rhn_right", "r n", (6.6 + OP_R, GATE_Y), (8.6 - BOX_W / 2, GATE_Y)),
    ),
    "before": (
        _wire("bus_hn", "r n", (6.6, BUS_Y), (6.6, GATE_Y - OP_R)),
        Element("mul_r", "op", (6.6, GATE_Y), "×", "rh", None, "r n",
                "@r@ ⊙ @h_prev@: the reset gate scales the old state before the product"),
        _wire("rh_right", "r n", (6.6 + OP_R, GATE_Y), (MAT_X_BEFORE - OP_R, GATE_Y)),
        Element("mat_n", "op", (MAT_X_BEFORE, GATE_Y), "@U_n@", "hn", None, "r n",
                "@U_n@ (@r@ ⊙ @h_prev@) + @b_hn@: the recurrent product of the reset state"),
        _wire("hn_right", "r n", (MAT_X_BEFORE + OP_R, GATE_Y), (8.6 - BOX_W / 2, GATE_Y)),
    ),
}  # fmt: skip
GRU_UPDATE = {  # the update gate: z on the old state (PyTorch, Cho 2014) or Γu on the candidate
    "z": (
        _wire("z_up", "z h", (2.6, GATE_Y + BOX_H / 2), (2.6, STATE_Y - OP_R)),
        _wire("z_right", "z h", (2.6, 3.9), (5.36, 3.9)),
        Element("one_minus", "op", (5.6, 3.9), "1−", "omz", None, "z h",
                "1 − @z@: what lets the candidate in"),
        _wire("omz_right", "z h", (5.84, 3.9), (8.36, 3.9)),
    ),
    "omz": (
        _wire("z_up", "z h", (2.6, GATE_Y + BOX_H / 2), (2.6, 4.3 - OP_R)),
        Element("one_minus", "op", (2.6, 4.3), "1−", "z", None, "z h",
                "1 − @omz@: what keeps the old state"),
        _wire("z_keep", "z h", (2.6, 4.3 + OP_R), (2.6, STATE_Y - OP_R)),
        _wire("z_right", "z h", (2.6, 3.9), (8.36, 3.9)),
    ),
}  # fmt: skip
GRU = _GRU_HEAD + GRU_RESET["after"] + GRU_UPDATE["z"]

RNN = (
    Element("h_prev", "pill", (0.75, STATE_Y), "@h_prev@", "h_prev", "dh_prev", "h",
            "@h_prev@: the hidden state the step receives"),
    Element("line_in", "state", ((1.3, STATE_Y), (2.1, STATE_Y), (2.1, BUS_Y), (6.7, BUS_Y),
                                 (6.7, GATE_Y - BOX_H / 2)), value="h_prev", grad="dh_prev",
            groups="h"),
    Element("x", "pill", (4.4, 0.35), "@x@", None, None, "h", "@x@: this step's input"),
    _wire("x_up", "h", (4.4, 0.6), (4.4, BUS_Y)),
    _box("h_act", 6.7, "act", "h", "the only path, squashed every step", value="h",
         grad="da_h"),
    Element("line_out", "state", ((6.7, GATE_Y + BOX_H / 2), (6.7, STATE_Y), (10.65, STATE_Y)),
            value="h", grad="dh", groups="h"),
    Element("h", "pill", (11.25, STATE_Y), "@h@", "h", "dh", "h",
            "@h@: the hidden state, the step's output and the next step's input"),
    Element("factor", "note", (4.4, 3.7), groups="h", width=4.0),
)  # fmt: skip

DLAI_GAMMA_U = (
    "; Γu = 1 − z of PyTorch's parameters (W_u = −W_z, b_u = −b_z): the numbers shown are 1 − z"
)
RNN_ACT = {
    "pytorch": "W_{ih} @x@ + W_{hh} @h_prev@ + b", "dlai": "W_{aa} @h_prev@ + W_{ax} @x@ + b_a",
    "cho": "W·[@h_prev@, @x@] + b",
}  # fmt: skip


def _filled(el: Element, notation: str, cell: str, reset: str) -> Element:
    def fill(text):
        text = text.replace("@GRU_H@", nt.plain(nt.GRU_H[notation][0]))
        return nt.ufill(text, notation, cell)

    label, hover = fill(el.label), fill(el.hover)
    if el.name == "mat_n":  # a matrix in a small circle: its letter only
        label = label.split("_")[0]
    if el.shape == "box" and cell != "rnn":
        hover = f"{nt.gate_formula(notation, cell, el.name, reset)}: {el.hover}"
        if (notation, cell, el.name) == ("dlai", "gru", "z"):
            hover += DLAI_GAMMA_U
    elif el.shape == "box":
        hover = fill(f"@h@ = act({RNN_ACT[notation]}): {el.hover}")
    hover = re.sub(r"_\{(\w+)\}", r"_\1", hover)  # W_{ca} → W_ca in a plain tooltip
    return dataclasses.replace(el, label=label, hover=hover)


def table(cell: str, notation: str = "pytorch", reset: str = "after") -> tuple[Element, ...]:
    """The diagram table of a cell in a notation's symbols. The GRU's drawing follows the
    model: ``reset`` places r on the recurrent product (``"after"``) or on h_{t−1} before it
    (``"before"``); deeplearning.ai's Γu (= 1 − z) box feeds the candidate and its 1 − Γu the
    old state."""
    base = {"lstm": LSTM, "rnn": RNN}.get(cell)
    if cell == "gru":
        shown = nt.shown(notation, "gru", "z")
        base = _GRU_HEAD + GRU_RESET[reset] + GRU_UPDATE[shown]
        if shown != "z":  # the box shows Γu = 1 − z; backward, ∂L/∂z_u = −∂L/∂a_z
            base = tuple(dataclasses.replace(e, value="omz", grad="da_u") if e.name == "z"
                         else e for e in base)  # fmt: skip
    return tuple(_filled(e, notation, cell, reset) for e in base)


TABLES = {cell: table(cell) for cell in ("lstm", "gru", "rnn")}
"""The diagram table of each cell in PyTorch's notation and model."""
