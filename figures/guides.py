"""The Step through guide texts: what each sub-step of a cell does, forward and backward, in
the chosen notation's symbols. Pure Python (no Streamlit), so the app's timeline
(:mod:`ui.timeline`, through :mod:`ui.texts`) and the offline lesson file (:mod:`lesson`) say
the same sentences."""

from __future__ import annotations

import re

SUBSTEPS = {
    "rnn": ("all", "h"),
    "gru": ("all", "r", "z", "n", "h"),
    "lstm": ("all", "f", "i", "g", "c", "o", "h"),
}
"""The sub-steps of one timestep, in the order the guide walks them."""

GUIDE = {  # @q@: the notation's symbol of quantity q (figures.notation.ufill)
    "rnn": {
        "all": "A vanilla RNN has no gates: every step, the old state @h_prev@ and the input @x@ "
        "are mixed by two matrices and squashed by tanh. Everything it remembers must survive "
        "that squashing again at every step.",
        "h": "@h@ = tanh(@RNN@). The state line dives through the tanh box: backward, the "
        "gradient is multiplied by diag(1 − @h^2@) @U_h@ at every step, which is why it shrinks "
        "geometrically when that factor is below 1.",
    },
    "gru": {
        "all": "A GRU keeps one state @h@ and two gates. The update gate @UPD@ decides how much "
        "of the old state is kept as it is; the reset gate @r@ decides how much of it the new "
        "candidate @n@ may look at.",
        "r": "Reset gate @r@ = σ(…): near 0, the candidate ignores the old state (a fresh "
        "start); near 1, it uses all of it. @RESET@",
        "z": "@UPDATE@",
        "n": "Candidate @n@ = @CAND@: the new content the cell may write, between −1 and 1.",
        "h": "@h@ = @GRU_H@: a per-unit blend of new and old. The direct path @z@ carries the "
        "gradient back without any squashing.",
    },
    "lstm": {
        "all": "An LSTM keeps two states: the cell state @c@ (the highway along the top) and the "
        "hidden state @h@. Three sigmoid gates decide what to forget, what to write and what to "
        "show.",
        "f": "Forget gate @f@ = σ(…): the fraction of each unit of @c_prev@ that is kept. Near 1 "
        "the memory is carried on; near 0 it is erased.",
        "i": "Input gate @i@ = σ(…): how much of the candidate @g@ is written into the cell.",
        "g": "Candidate @g@ = tanh(…): the new content, between −1 and 1.",
        "c": "@c@ = @f@ ⊙ @c_prev@ + @i@ ⊙ @g@: the highway. No matrix and no squashing on it, "
        "so backward the gradient is only multiplied by @f@: the constant error carousel.",
        "o": "Output gate @o@ = σ(…): how much of the memory is shown in @h@.",
        "h": "@h@ = @o@ ⊙ tanh(@c@): what the rest of the network sees at this step.",
    },
}
GRU_RESET_GUIDE = {
    "after": "r multiplies W_hn h_{t−1} + b_hn inside n, after the recurrent product, as "
    "PyTorch does.",
    "before": "@r@ multiplies @h_prev@ before the recurrent product (@U_n@ reads @r@ ⊙ "
    "@h_prev@), as Cho et al. 2014 and deeplearning.ai do: a different model from PyTorch's.",
}
GRU_UPDATE_GUIDE = {
    "pytorch": "Update gate z_t = σ(…): in PyTorch's convention h_t = (1 − z_t) n_t + "
    "z_t h_{t−1}, so z_t near 1 copies the old state forward unchanged, and its gradient back.",
    "dlai": "Update gate Γu = σ(…): the course writes c⟨t⟩ = Γu ⊙ c̃⟨t⟩ + (1 − Γu) ⊙ c⟨t−1⟩, "
    "so Γu weighs the candidate and Γu near 0 copies the old state forward unchanged, and its "
    "gradient back. Γu is 1 − z of PyTorch's parameters (W_u = −W_z, b_u = −b_z): the numbers "
    "shown for Γu are 1 − z.",
    "cho": "Update gate z_t = σ(…): Cho et al. 2014 write h_t = z_t ⊙ h_{t−1} + "
    "(1 − z_t) ⊙ h̃_t, so z_t near 1 copies the old state forward unchanged, and its gradient "
    "back. colah's post names the gate the other way round (his z_t is this 1 − z_t).",
}
RNN_SUM = {
    "pytorch": "W_ih @x@ + W_hh @h_prev@ + b", "dlai": "W_aa @h_prev@ + W_ax @x@ + b_a",
    "cho": "W·[@h_prev@, @x@] + b",
}  # fmt: skip
"""Every guide names quantities as ``@q@`` tokens, filled in the chosen notation."""

_BACKWARD = (
    "Backward, the gradient of a loss on the last hidden state (L = Σ @h_last@) walks from the "
    "last step to the first. **What to notice:** "
)
BACKWARD_TEMPLATES = {  # @q@: the notation's symbol of q (figures.notation.ufill)
    "rnn": _BACKWARD + "the number written on the state path, ‖diag(act′) @U_h@‖₂, bounds what "
    "the gradient's norm is multiplied by at each step: at most that much, often less.",
    "gru": _BACKWARD + "on the direct path the gradient is multiplied by @z@, exactly, at each "
    "step; the paths through the gates add the rest of ∂L/∂@h_prev@.",
    "lstm": _BACKWARD + "on the cell-state highway the gradient is multiplied by @f@, exactly, "
    "at each step (the highway's share of ∂L/∂@c_prev@ is ∂L/∂@c@ @f@); the path through @h@ "
    "adds to it at every step.",
}


def backward_guide(cell: str, notation: str = "pytorch") -> str:
    """What the backward walk teaches for this cell, in the notation's symbols."""
    from figures import notation as nt

    text = nt.ufill(BACKWARD_TEMPLATES[cell], notation, cell)
    return re.sub(r"_\{(\w+)\}", r"_\1", text)  # W_{hh} → W_hh in running text


GUIDE_BACKWARD = {cell: backward_guide(cell) for cell in BACKWARD_TEMPLATES}
"""What the backward walk teaches, per cell (true for every activation and regime: the RNN's
number is a bound, the gated paths' factors are exact)."""

RNN_RELU_GUIDE = (
    "A vanilla RNN has no gates: every step, the old state @h_prev@ and the input @x@ are mixed "
    "by two matrices and passed through ReLU, which keeps positive values as they are and sets "
    "the rest to 0. Nothing bounds the state: with recurrent weights above 1 it can grow "
    "without limit (explode); backward, only the units with @a@ > 0 pass the gradient on."
)


RNN_RELU_STEP = (
    "@h@ = relu(@RNN@). The state line dives through the relu box: backward, the gradient is "
    "multiplied by diag([@a@ > 0]) @U_h@ at every step, so it must shrink when that factor's "
    "norm is below 1, and can grow (explode) when it is above 1."
)


def substep_guides(cell: str, nonlinearity: str = "tanh", notation: str = "pytorch",
                   reset: str | None = None) -> dict[str, str]:  # fmt: skip
    """What each sub-step of the cell does (the timeline shows the one in focus), in the
    notation's symbols. ``reset``: where the GRU's reset gate acts (default: the notation's
    model, :data:`figures.notation.GRU_RESET`)."""
    from figures import notation as nt

    reset = reset or nt.GRU_RESET[notation]
    if cell == "rnn" and nonlinearity == "relu":
        guides = {"all": RNN_RELU_GUIDE, "h": RNN_RELU_STEP}
    else:
        guides = dict(GUIDE[cell])
    parts = {
        "@RNN@": RNN_SUM[notation], "@RESET@": GRU_RESET_GUIDE[reset],
        "@UPDATE@": GRU_UPDATE_GUIDE[notation],
        "@UPD@": nt.usym(notation, "gru", nt.shown(notation, "gru", "z")),
        "@CAND@": nt.gate_formula(notation, "gru", "n", reset).split(" = ", 1)[1],
        "@GRU_H@": nt.plain(nt.GRU_H[notation][0]),
    }  # fmt: skip
    out = {}
    for k, text in guides.items():
        for token, part in parts.items():
            text = text.replace(token, part)
        out[k] = nt.ufill(text, notation, cell)
    return out
