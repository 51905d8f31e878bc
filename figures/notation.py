"""The three textbook notations: one table of symbols that every view reads.

gatescope computes with PyTorch's equations; learners arrive from texts that write the same
cells with other symbols. This module is the only place those symbols live: quantity → symbol
per notation and cell, in LaTeX (for the equations, converted to MathML) and in plain Unicode
(for the diagram's labels, the hovers, the captions, the guides and the export columns).
Pure Python: no Streamlit, no Plotly, no NumPy.

Notations
---------
``pytorch``
    PyTorch's documentation: h_t, c_t, i_t, f_t, g_t, o_t; GRU r_t, z_t, n_t with
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}; the reset gate on the recurrent product.
``dlai``
    deeplearning.ai (Andrew Ng's course): a⟨t⟩, c⟨t⟩, Γf, Γu, Γo, c̃⟨t⟩ and weights acting on
    the concatenation [a⟨t−1⟩, x⟨t⟩]. The GRU's state is c⟨t⟩ (= a⟨t⟩) with
    c⟨t⟩ = Γu ⊙ c̃⟨t⟩ + (1 − Γu) ⊙ c⟨t−1⟩: its Γu weighs the candidate, so Γu = 1 − z (the
    numbers shown for Γu are 1 − z, with W_u = −W_z and b_u = −b_z), and its reset gate acts on
    c⟨t−1⟩ before the product. In the LSTM, Γu is the input gate.
``cho``
    Cho et al. 2014 and colah's post: h_t, C_t, C̃_t, h̃_t, weights on [h_{t−1}, x_t]; the
    GRU as Cho 2014 writes it, h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t (z on the old state, as
    PyTorch), the reset gate on h_{t−1} before the product. colah's post names the update gate
    the other way round (his z_t is this 1 − z_t).

Quantities (the keys of :data:`SYMBOLS`) are the names :mod:`engine.explain` and the diagram
tables use: ``x``, ``h``, ``h_prev``, ``c``, ``c_prev``, ``c_next``, the gates (``i f g o``,
``r z n``), ``omz`` (1 − z), ``f_next``, the pre-activations ``a_<q>`` (rnn ``a``) and the
recurrent weight blocks ``U_<q>`` (rnn ``U_h``). Templates name them between ``@``:
``"@f@ \\odot @c_prev@"``; ``@q^2@`` is the square of a symbol.
"""

from __future__ import annotations

import re

NOTATIONS = ("pytorch", "dlai", "cho")
LABELS = {"pytorch": "PyTorch", "dlai": "deeplearning.ai", "cho": "Cho 2014 / colah"}
GRU_RESET = {"pytorch": "after", "dlai": "before", "cho": "before"}
"""Where each notation's GRU applies its reset gate (a different model: not a symbol)."""

_T = r"^{\langle t \rangle}"
_T1 = r"^{\langle t-1 \rangle}"
_T2 = r"^{\langle t+1 \rangle}"

_TT = r"^{\langle T \rangle}"
_COMMON = {
    "pytorch": {"x": "x_t", "h": "h_t", "h_prev": "h_{t-1}", "h_next": "h_{t+1}", "h_last": "h_T"},
    "dlai": {"x": "x" + _T, "h": "a" + _T, "h_prev": "a" + _T1, "h_next": "a" + _T2,
             "h_last": "a" + _TT},
    "cho": {"x": "x_t", "h": "h_t", "h_prev": "h_{t-1}", "h_next": "h_{t+1}", "h_last": "h_T"},
}  # fmt: skip

SYMBOLS: dict[str, dict[str, dict[str, str]]] = {
    "pytorch": {
        "lstm": {
            "c": "c_t", "c_prev": "c_{t-1}", "c_next": "c_{t+1}", "i": "i_t", "f": "f_t",
            "g": "g_t", "o": "o_t", "f_next": "f_{t+1}",
            "a_i": "a_i", "a_f": "a_f", "a_g": "a_g", "a_o": "a_o",
            "U_i": "U_i", "U_f": "U_f", "U_g": "U_g", "U_o": "U_o",
        },
        "gru": {
            "r": "r_t", "z": "z_t", "n": "n_t", "omz": "(1 - z_t)",
            "a_r": "a_r", "a_z": "a_z", "a_n": "a_n", "U_r": "U_r", "U_z": "U_z", "U_n": "U_n",
            "b_hn": "b_{hn}",
        },
        "rnn": {"a": "a_t", "U_h": "W_{hh}", "W_x": "W_{ih}", "b": "b"},
    },
    "dlai": {
        "lstm": {
            "c": "c" + _T, "c_prev": "c" + _T1, "c_next": "c" + _T2, "i": r"\Gamma_u",
            "f": r"\Gamma_f", "g": r"\tilde{c}" + _T, "o": r"\Gamma_o",
            "f_next": r"\Gamma_f" + _T2,
            "a_i": "z_u", "a_f": "z_f", "a_g": "z_c", "a_o": "z_o",
            "U_i": "W_{ua}", "U_f": "W_{fa}", "U_g": "W_{ca}", "U_o": "W_{oa}",
        },
        "gru": {  # the state is c⟨t⟩ = a⟨t⟩; Γu = 1 − z weighs the candidate
            "h": "c" + _T, "h_prev": "c" + _T1, "h_next": "c" + _T2, "h_last": "c" + _TT,
            "r": r"\Gamma_r", "z": r"(1 - \Gamma_u)", "n": r"\tilde{c}" + _T, "omz": r"\Gamma_u",
            "a_r": "z_r", "a_z": "z_u", "a_n": "z_c", "U_r": "W_{ra}", "U_z": "W_{ua}",
            "U_n": "W_{ca}", "b_hn": "b_{ca}",
        },
        "rnn": {"a": "z" + _T, "U_h": "W_{aa}", "W_x": "W_{ax}", "b": "b_a"},
    },
    "cho": {
        "lstm": {
            "c": "C_t", "c_prev": "C_{t-1}", "c_next": "C_{t+1}", "i": "i_t", "f": "f_t",
            "g": r"\tilde{C}_t", "o": "o_t", "f_next": "f_{t+1}",
            "a_i": "a_i", "a_f": "a_f", "a_g": "a_C", "a_o": "a_o",
            "U_i": "U_i", "U_f": "U_f", "U_g": "U_C", "U_o": "U_o",
        },
        "gru": {
            "r": "r_t", "z": "z_t", "n": r"\tilde{h}_t", "omz": "(1 - z_t)",
            "a_r": "a_r", "a_z": "a_z", "a_n": r"a_{\tilde{h}}", "U_r": "U_r", "U_z": "U_z",
            "U_n": "U", "b_hn": "b_U",
        },
        "rnn": {"a": "a_t", "U_h": "U", "W_x": "W", "b": "b"},
    },
}  # fmt: skip
"""notation → cell → quantity → LaTeX symbol (the quantities of :data:`_COMMON` added)."""
for _n, _cells in SYMBOLS.items():
    for _c, _table in _cells.items():
        _cells[_c] = {**_COMMON[_n], **_table}

WEIGHT = {  # the weight subscript of each gate in the forward equations
    "pytorch": {"i": "i", "f": "f", "g": "g", "o": "o", "r": "r", "z": "z", "n": "n"},
    "dlai": {"i": "u", "f": "f", "g": "c", "o": "o", "r": "r", "z": "u", "n": "c"},
    "cho": {"i": "i", "f": "f", "g": "C", "o": "o", "r": "r", "z": "z", "n": ""},
}

_TOKEN = re.compile(r"@(\w+)(\^2)?@")


def symbol(notation: str, cell: str, quantity: str) -> str:
    """The LaTeX symbol of a quantity (KeyError for a quantity the table does not have)."""
    return SYMBOLS[notation][cell][quantity]


def _substitute(template: str, look, square: str) -> str:
    """``@q@`` → ``look(q)``; ``@q^2@`` → its square (bracketed when the symbol has a
    superscript or a space)."""

    def one(m):
        s = look(m.group(1))
        if not m.group(2):
            return s
        return f"({s}){square}" if any(c in s for c in "^⟨ ") else s + square

    return _TOKEN.sub(one, template)


def fill(template: str, notation: str, cell: str) -> str:
    """A LaTeX template with ``@quantity@`` (and ``@quantity^2@``) replaced by the notation's
    symbols."""
    return _substitute(template, lambda q: symbol(notation, cell, q), "^2")


_PLAIN = (
    (r"\langle ", "⟨"), (r" \rangle", "⟩"), (r"\langle", "⟨"), (r"\rangle", "⟩"),
    (r"\Gamma_u", "Γu"), (r"\Gamma_f", "Γf"), (r"\Gamma_o", "Γo"), (r"\Gamma_r", "Γr"),
    (r"\tilde{c}", "c̃"), (r"\tilde{C}", "C̃"), (r"\tilde{h}", "h̃"), (r"\odot", "⊙"),
    (r"\sigma", "σ"), (r"\tanh", "tanh"), (r"\cdot", "·"), (r"\top", "ᵀ"), ("^2", "²"),
    (r"\mathrm{relu}", "relu"), (r"\partial", "∂"),
)  # fmt: skip


def plain(latex: str) -> str:
    """The Unicode form of a symbol or template result: ``\\Gamma_u`` → ``Γu``,
    ``a^{\\langle t-1 \\rangle}`` → ``a⟨t−1⟩``, ``h_{t-1}`` → ``h_{t−1}`` (the diagram and the
    strips draw ``_{…}`` as a subscript)."""
    s = latex
    for a, b in _PLAIN:
        s = s.replace(a, b)
    s = re.sub(r"\^\{(⟨[^}]*⟩)\}", r"\1", s)
    s = s.replace("-", "−")
    return s


def usym(notation: str, cell: str, quantity: str) -> str:
    """The plain Unicode symbol of a quantity (``Γu``, ``c̃⟨t⟩``, ``h_{t−1}``)."""
    return plain(symbol(notation, cell, quantity))


def ufill(template: str, notation: str, cell: str) -> str:
    """A plain-text template with ``@quantity@`` replaced by the notation's Unicode symbols
    (for hovers, captions and guides); the rest of the text is left as it is."""
    return _substitute(template, lambda q: usym(notation, cell, q), "²")


def affine(notation: str, cell: str, q: str) -> tuple[str, str]:
    """Gate q's pre-activation in LaTeX and the order of its three numbers (``w`` W_q x_t,
    ``u`` U_q h_{t−1}, ``b`` the bias): PyTorch writes W_q x_t + U_q h_{t−1} + b_q;
    deeplearning.ai W_q[a⟨t−1⟩, x⟨t⟩] + b_q and Cho 2014 / colah W_q·[h_{t−1}, x_t] + b_q (one
    matrix on the concatenation: its h-block first)."""
    w = WEIGHT[notation][q]
    hp, x = symbol(notation, cell, "h_prev"), symbol(notation, cell, "x")
    sub = f"_{w}" if w else ""
    if notation == "pytorch":
        return rf"W{sub} {x} + U{sub} {hp} + b{sub}", "wub"
    dot = "" if notation == "dlai" else r" \cdot "
    return rf"W{sub}{dot}[{hp}, {x}] + b{sub}", "uwb"


def gate_formula(notation: str, cell: str, q: str, reset: str = "after") -> str:
    """Gate q's equation in plain Unicode (``f_t = σ(W_f·[h_{t−1}, x_t] + b_f)``); the GRU's
    candidate as the reset placement ``reset`` computes it."""
    lhs = usym(notation, cell, shown(notation, cell, q))
    if cell == "gru" and q == "n":
        return f"{lhs} = {plain(fill(GRU_N[notation, reset], notation, cell))}"
    act = "tanh" if q in ("g", "n") else "σ"
    return f"{lhs} = {act}({plain(affine(notation, cell, q)[0])})"


def short(notation: str, cell: str, quantity: str) -> str:
    """The symbol without its time index (``f``, ``Γf``, ``c̃``, ``C̃``, ``h̃``): a sub-step's
    name on a button."""
    s = usym(notation, cell, quantity)
    s = re.sub(r"(⟨t⟩|_t)$", "", s)
    return s.strip("()")


__all__ = ["GRU_RESET", "LABELS", "NOTATIONS", "SYMBOLS", "fill", "plain", "symbol", "ufill",
           "usym", "short", "shown", "export_names"]  # fmt: skip


GRU_N = {
    ("pytorch", "after"): r"\tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))",
    ("pytorch", "before"): r"\tanh(W_n x_t + b_{in} + U_n (r_t \odot h_{t-1}) + b_{hn})",
    ("dlai", "before"): r"\tanh(W_c[@r@ \odot @h_prev@, @x@] + b_c)",
    ("cho", "before"): r"\tanh(W \cdot [@r@ \odot @h_prev@, @x@] + b)",
    ("dlai", "after"): r"\tanh(W_{cx} @x@ + b_{cx} + @r@ \odot (W_{ca} @h_prev@ + b_{ca}))",
    ("cho", "after"): r"\tanh(W @x@ + b_W + @r@ \odot (U @h_prev@ + b_U))",
}
"""The GRU candidate per notation and reset placement (the "after" forms of deeplearning.ai
and Cho 2014 are PyTorch's model in their symbols)."""
GRU_H = {
    "pytorch": (r"@omz@ \odot @n@ + @z@ \odot @h_prev@", "new"),
    "dlai": (r"@omz@ \odot @n@ + @z@ \odot @h_prev@", "new"),
    "cho": (r"@z@ \odot @h_prev@ + @omz@ \odot @n@", "old"),
}
"""h_t per notation and which term is written first (the candidate's or the old state's)."""


ASCII = {  # export column names (ASCII, for spreadsheets); the numbers are the quantity's own
    "pytorch": {},
    "dlai": {
        "lstm": {"h": "a", "c": "c", "i": "Gamma_u", "f": "Gamma_f", "g": "c_tilde",
                 "o": "Gamma_o"},
        "gru": {"h": "c", "r": "Gamma_r", "z": "1-Gamma_u", "n": "c_tilde"},
        "rnn": {"h": "a"},
    },
    "cho": {
        "lstm": {"c": "C", "g": "C_tilde"},
        "gru": {"n": "h_tilde"},
        "rnn": {},
    },
}  # fmt: skip
"""notation → cell → quantity → its column name where it differs from PyTorch's. The GRU's z
column of deeplearning.ai is named 1-Gamma_u: it holds z."""


def export_names(notation: str, cell: str) -> dict[str, str]:
    """The column names of :func:`engine.export.columns` in a notation: ``{"h": "a", "dL/dh":
    "dL/da", ...}`` (empty for PyTorch's)."""
    names = dict(ASCII[notation].get(cell, {}))
    for q in ("h", "c"):
        if q in names:
            names[f"dL/d{q}"] = f"dL/d{names[q]}"
    return names


def shown(notation: str, cell: str, gate: str) -> str:
    """The quantity a gate's box and equation show: deeplearning.ai's GRU shows Γu = 1 − z
    (``omz``) where the others show z."""
    return "omz" if (notation, cell, gate) == ("dlai", "gru", "z") else gate


def html(notation: str, cell: str, quantity: str) -> str:
    """The symbol of a quantity for Plotly's HTML-like text: :func:`usym` with its subscripts
    as ``<sub>`` (``h<sub>t−1</sub>``, ``a⟨t⟩``, ``Γu``); PyTorch's are
    :data:`figures.style.SYMBOLS`'s."""
    return html_text(usym(notation, cell, quantity))


def html_text(text: str) -> str:
    """Plain Unicode from :func:`usym` / :func:`ufill` with ``_{…}`` and ``_t`` drawn as
    ``<sub>`` (for Plotly titles, axis titles, hovers and legends)."""
    text = re.sub(r"_\{([^}]*)\}", r"<sub>\1</sub>", text)
    return re.sub(r"_(\w)", r"<sub>\1</sub>", text)


def hfill(template: str, notation: str, cell: str) -> str:
    """:func:`ufill` for Plotly text: the notation's symbols with their subscripts as
    ``<sub>``."""
    return html_text(ufill(template, notation, cell))


def indexed(notation: str, cell: str, quantity: str, index: str) -> str:
    """The Unicode symbol of a quantity at another time index (``index`` plain text such as
    ``"T−1"``): ``h_{T−1}``, ``a⟨T−1⟩``, ``C_{T−1}``."""
    s = usym(notation, cell, quantity)
    if s.endswith("⟨t⟩"):
        return f"{s[: -len('⟨t⟩')]}⟨{index}⟩"
    if s.endswith("_t"):
        return f"{s[:-2]}_{{{index}}}"
    raise KeyError(f"{quantity} has no time index in {notation}: {s}")


def factor(notation: str, cell: str, quantity: str) -> str:
    """A gate as a factor in a product, without its time index: ``z``, ``f``, ``Γf``,
    ``(1 − Γu)`` (bracketed when it is an expression)."""
    s = short(notation, cell, quantity)
    return f"({s})" if " " in s else s


MEASURE_TEMPLATES = {  # the gradient measures' labels; @q@: the notation's symbol of q
    "x": "‖∂@h_last@/∂@x@‖ (input sensitivity)",
    "h": "‖∂@h_last@/∂@h@‖ (state Jacobian)",
    "bptt": "‖dL/d@h@‖ (BPTT, loss on the last step)",
}


def measure_label(measure: str, notation: str = "pytorch") -> str:
    """A gradient measure's label in the notation's symbols (the state of the RNN and the LSTM:
    deeplearning.ai's a⟨t⟩)."""
    return ufill(MEASURE_TEMPLATES[measure], notation, "lstm")
