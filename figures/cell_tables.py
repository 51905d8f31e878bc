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
    ``_{...}`` is a subscript.
value : key of :func:`engine.explain.unit_values`: the forward fill and printed number.
grad : key of :func:`engine.explain.unit_gradients`: the backward fill and printed number.
groups : the sub-steps (``f i g c o h`` / ``r z n h``) whose path this element belongs to;
    the rest fades when one sub-step is in focus.
hover : the formula of the element, shown on hover and focus.
width : for a note, the widest its lines may be drawn (canvas units): the room between the
    elements beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _box(name, x, act, groups, hover, *, value=None, grad=None):
    return Element(
        name, "box", (x, GATE_Y), act, value or name, grad or f"da_{name}", groups, hover
    )


def _wire(name, groups, *pts):
    return Element(name, "wire", tuple(pts), groups=groups)


LSTM = (
    # the cell-state highway: c_{t-1} -> ×f -> + -> c_t
    Element("c_prev", "pill", (0.75, STATE_Y), "c_{t−1}", "c_prev", "dc_prev", "f c",
            "c_{t−1}: the cell state the step receives"),
    Element("highway_in", "state", ((1.3, STATE_Y), (2.16, STATE_Y)), value="c_prev",
            grad="dc_prev", groups="f c"),
    Element("mul_f", "op", (2.4, STATE_Y), "×", "fc", None, "f c", "f_t ⊙ c_{t−1}: what is kept"),
    Element("highway_mid", "state", ((2.64, STATE_Y), (5.96, STATE_Y)), value="fc", grad="dc",
            groups="c"),
    Element("add_c", "op", (6.2, STATE_Y), "+", "c", None, "c",
            "c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t"),
    Element("highway_out", "state", ((6.44, STATE_Y), (10.65, STATE_Y)), value="c", grad="dc",
            groups="c o h"),
    Element("c", "pill", (11.25, STATE_Y), "c_t", "c", "dc", "c o h",
            "c_t: the cell state passed on to the next step"),
    # the input bus: [h_{t-1}, x_t] feeds every gate from below
    Element("h_prev", "pill", (0.75, BUS_Y), "h_{t−1}", "h_prev", "dh_prev", "f i g o",
            "h_{t−1}: the hidden state the step receives"),
    Element("x", "pill", (2.0, 0.35), "x_t", None, None, "f i g o", "x_t: this step's input"),
    _wire("x_up", "f i g o", (2.0, 0.6), (2.0, BUS_Y)),
    _wire("bus", "f i g o", (1.3, BUS_Y), (7.6, BUS_Y)),
    _wire("bus_f", "f", (2.4, BUS_Y), (2.4, GATE_Y - BOX_H / 2)),
    _wire("bus_i", "i", (3.8, BUS_Y), (3.8, GATE_Y - BOX_H / 2)),
    _wire("bus_g", "g", (5.2, BUS_Y), (5.2, GATE_Y - BOX_H / 2)),
    _wire("bus_o", "o", (7.6, BUS_Y), (7.6, GATE_Y - BOX_H / 2)),
    # the gates
    _box("f", 2.4, "σ", "f", "f_t = σ(W_f x_t + U_f h_{t−1} + b_f): forget gate"),
    _box("i", 3.8, "σ", "i", "i_t = σ(W_i x_t + U_i h_{t−1} + b_i): input gate"),
    _box("g", 5.2, "tanh", "g", "g_t = tanh(W_g x_t + U_g h_{t−1} + b_g): candidate"),
    _box("o", 7.6, "σ", "o h", "o_t = σ(W_o x_t + U_o h_{t−1} + b_o): output gate"),
    _wire("f_up", "f", (2.4, GATE_Y + BOX_H / 2), (2.4, STATE_Y - OP_R)),
    _wire("i_up", "i", (3.8, GATE_Y + BOX_H / 2), (3.8, 3.9), (5.0, 3.9)),
    _wire("g_up", "g", (5.2, GATE_Y + BOX_H / 2), (5.2, 3.66)),
    Element("mul_i", "op", (5.2, 3.9), "×", "ig", None, "i g c", "i_t ⊙ g_t: what is written"),
    _wire("ig_up", "i g c", (5.2, 4.14), (5.2, 4.4), (6.2, 4.4), (6.2, STATE_Y - OP_R)),
    # the output: h_t = o_t ⊙ tanh(c_t)
    _wire("c_tap", "o h", (9.2, STATE_Y), (9.2, 4.1 + ELLIPSE_H / 2)),
    Element("tanh_c", "ellipse", (9.2, 4.1), "tanh", "tanh_c", "dtanh_c", "o h",
            "tanh(c_t): the cell state squashed to (−1, 1)"),
    _wire("tanh_down", "o h", (9.2, 4.1 - ELLIPSE_H / 2), (9.2, 3.1 + OP_R)),
    _wire("o_up", "o h", (7.6, GATE_Y + BOX_H / 2), (7.6, 3.1), (8.96, 3.1)),
    Element("mul_o", "op", (9.2, 3.1), "×", "h", None, "o h", "h_t = o_t ⊙ tanh(c_t)"),
    _wire("h_down", "h", (9.2, 2.86), (9.2, BUS_Y), (10.7, BUS_Y)),
    Element("h", "pill", (11.25, BUS_Y), "h_t", "h", "dh", "h",
            "h_t: the hidden state, the step's output and the next step's input"),
    Element("factor", "note", (4.5, 5.5), groups="f c", width=5.4),
)  # fmt: skip

GRU = (
    # the state line: h_{t-1} -> ×z -> + -> h_t
    Element("h_prev", "pill", (0.75, STATE_Y), "h_{t−1}", "h_prev", "dh_prev", "r z n h",
            "h_{t−1}: the hidden state the step receives"),
    Element("line_in", "state", ((1.3, STATE_Y), (2.36, STATE_Y)), value="h_prev",
            grad="dh_z", groups="z h",
            hover="h_{t−1} on the direct path into × z_t; backward, its colour is that path's "
            "share ∂L/∂h_t z_t of the total ∂L/∂h_{t−1} (the h_{t−1} pill)"),
    Element("mul_z", "op", (2.6, STATE_Y), "×", "zh", None, "z h", "z_t ⊙ h_{t−1}: what is kept"),
    Element("line_mid", "state", ((2.84, STATE_Y), (8.36, STATE_Y)), value="zh", grad="dh",
            groups="h"),
    Element("add_h", "op", (8.6, STATE_Y), "+", "h", None, "h",
            "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}"),
    Element("line_out", "state", ((8.84, STATE_Y), (10.65, STATE_Y)), value="h", grad="dh",
            groups="h"),
    Element("h", "pill", (11.25, STATE_Y), "h_t", "h", "dh", "h",
            "h_t: the hidden state, the step's output and the next step's input"),
    # the bus: h_{t-1} taps down and joins x_t
    _wire("tap", "r z n", (1.6, STATE_Y), (1.6, BUS_Y)),
    Element("x", "pill", (2.9, 0.35), "x_t", None, None, "r z n", "x_t: this step's input"),
    _wire("x_up", "r z n", (2.9, 0.6), (2.9, BUS_Y)),
    _wire("bus", "r z n", (1.6, BUS_Y), (8.6, BUS_Y)),
    _wire("bus_z", "z", (2.6, BUS_Y), (2.6, GATE_Y - BOX_H / 2)),
    _wire("bus_r", "r", (4.6, BUS_Y), (4.6, GATE_Y - BOX_H / 2)),
    _wire("bus_hn", "r n", (6.6, BUS_Y), (6.6, GATE_Y - OP_R)),
    _wire("bus_n", "n", (8.6, BUS_Y), (8.6, GATE_Y - BOX_H / 2)),
    # the gates
    _box("z", 2.6, "σ", "z h", "z_t = σ(W_z x_t + U_z h_{t−1} + b_z): update gate"),
    _box("r", 4.6, "σ", "r n", "r_t = σ(W_r x_t + U_r h_{t−1} + b_r): reset gate"),
    _wire("r_right", "r n", (4.6 + BOX_W / 2, GATE_Y), (6.6 - OP_R, GATE_Y)),
    Element("mul_r", "op", (6.6, GATE_Y), "×", "rhn", None, "r n",
            "r_t ⊙ (U_n h_{t−1} + b_hn): the reset gate scales the recurrent part"),
    _wire("rhn_right", "r n", (6.6 + OP_R, GATE_Y), (8.6 - BOX_W / 2, GATE_Y)),
    _box("n", 8.6, "tanh", "n h",
         "n_t = tanh(W_n x_t + b_in + r_t ⊙ (U_n h_{t−1} + b_hn)): candidate"),
    # z keeps the old state; 1 − z lets the candidate in
    _wire("z_up", "z h", (2.6, GATE_Y + BOX_H / 2), (2.6, STATE_Y - OP_R)),
    _wire("z_right", "z h", (2.6, 3.9), (5.36, 3.9)),
    Element("one_minus", "op", (5.6, 3.9), "1−", "omz", None, "z h", "1 − z_t"),
    _wire("omz_right", "z h", (5.84, 3.9), (8.36, 3.9)),
    _wire("n_up", "n h", (8.6, GATE_Y + BOX_H / 2), (8.6, 3.66)),
    Element("mul_n", "op", (8.6, 3.9), "×", "omzn", None, "n h",
            "(1 − z_t) ⊙ n_t: what is written"),
    _wire("omzn_up", "n h", (8.6, 4.14), (8.6, STATE_Y - OP_R)),
    Element("factor", "note", (5.6, 5.5), groups="z h", width=5.3),
)  # fmt: skip

RNN = (
    Element("h_prev", "pill", (0.75, STATE_Y), "h_{t−1}", "h_prev", "dh_prev", "h",
            "h_{t−1}: the hidden state the step receives"),
    Element("line_in", "state", ((1.3, STATE_Y), (2.1, STATE_Y), (2.1, BUS_Y), (6.7, BUS_Y),
                                 (6.7, GATE_Y - BOX_H / 2)), value="h_prev", grad="dh_prev",
            groups="h"),
    Element("x", "pill", (4.4, 0.35), "x_t", None, None, "h", "x_t: this step's input"),
    _wire("x_up", "h", (4.4, 0.6), (4.4, BUS_Y)),
    _box("h_act", 6.7, "act", "h",
         "h_t = act(W_ih x_t + W_hh h_{t−1} + b): the only path, squashed every step",
         value="h", grad="da_h"),
    Element("line_out", "state", ((6.7, GATE_Y + BOX_H / 2), (6.7, STATE_Y), (10.65, STATE_Y)),
            value="h", grad="dh", groups="h"),
    Element("h", "pill", (11.25, STATE_Y), "h_t", "h", "dh", "h",
            "h_t: the hidden state, the step's output and the next step's input"),
    Element("factor", "note", (4.4, 3.7), groups="h", width=4.0),
)  # fmt: skip

TABLES = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
"""The diagram table of each cell (PyTorch's equations and gate order)."""
