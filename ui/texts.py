"""Every sentence the app says to a learner, in one place (help texts, captions, the path)."""

from __future__ import annotations

APP_TITLE = "gatescope"
PITCH = (
    "gatescope runs a vanilla RNN, a GRU and an LSTM on your own sequence and shows, step by "
    "step, what every gate does and how much of the gradient survives the trip back through "
    "time. Nothing is faked: every number is computed exactly (float64 NumPy, PyTorch's "
    "equations), the forward pass, backpropagation through time and the Jacobian norms alike."
)

HELP = {
    "source": "Where the sequence comes from: a lesson preset, your own sentence, your own "
    "numbers, or a CSV file (one row per timestep).",
    "preset": "The sentences the lessons use, and numeric signals: an impulse (one 1, then "
    "zeros), a sine wave, white noise, and the adding problem.",
    "text": "Type a sentence. Each word (or character) becomes one timestep.",
    "numbers": "Numbers separated by commas or spaces, one per timestep. Several features per "
    "step: separate steps with ';' or new lines, e.g. '1 2; 3 4'.",
    "csv": "A CSV file with one row per timestep and one column per feature; a header row is "
    "optional. At most 1 MB.",
    "tokens": "Split your text into words (and punctuation) or into single characters.",
    "encoding": "One-hot: one column per distinct token (rare tokens share an 'other' column). "
    "Embedding: a fixed random vector per token, the same every time.",
    "dim": "Width D of each input vector: the one-hot vocabulary cap or the embedding size.",
    "T": "Number of timesteps. Numeric presets are generated with this length; for text and "
    "your own numbers only the first T steps are used.",
    "cell": "Which recurrent cell to show.",
    "H": "Number of hidden units (the size of h_t and c_t).",
    "seed": "Seed of the random weights and of generated inputs: the same seed gives the same "
    "numbers on every computer.",
    "init": "How the recurrent weights W_hh start: PyTorch's uniform default, a random "
    "orthogonal matrix, the identity, or a scaled normal N(0, 1/H).",
    "scale": "Multiplies the recurrent weights W_hh. Below 1 gradients vanish faster; well "
    "above 1 they can explode.",
    "forget_bias": "LSTM only: the bias of the forget gate. Large values keep f_t near 1, so "
    "the cell state (and its gradient) is carried far.",
    "update_bias": "GRU only: the bias of the update gate z. Large values keep z_t near 1, so "
    "h_t ≈ h_{t−1}: the state (and its gradient) is carried far. 0 leaves z_t near 0.5.",
    "label_column": "Which column labels the steps instead of being a feature. Automatic: a "
    "first column named time, t, step or index. None: every column is a feature.",
    "activation": "Vanilla RNN only: tanh (bounded) or ReLU (unbounded, can explode).",
    "measure": "Which gradient to plot against the lag.",
    "unit": "Which hidden unit the equations and the diagram show.",
    "mode": "Forward: how the input flows through the gates. Backward: how the gradient of a "
    "loss on the last step flows back through time.",
    "present": "Hide the controls and enlarge text and figures for a projector.",
    "notation": "Which textbook's symbols the equations, diagrams, guides and exports use: "
    "PyTorch's (h_t, z_t, n_t), deeplearning.ai's (a⟨t⟩, c⟨t⟩, Γu, c̃⟨t⟩) or Cho et al. 2014's "
    "and colah's (h_t, h̃_t, C_t). The symbols change, the numbers do not; only the GRU of "
    "deeplearning.ai and Cho 2014 is a different model (its reset gate acts before the "
    "recurrent product).",
}

NOTATION_GRU_NOTE = (
    "In the {name} convention the GRU is a different model: its reset gate multiplies "
    "h_{{t−1}} before the recurrent product (W_hn (r ⊙ h_{{t−1}}) instead of PyTorch's "
    "r ⊙ (W_hn h_{{t−1}})), so the GRU's numbers differ from PyTorch's. The LSTM's and the "
    "RNN's numbers do not change."
)
"""Said in the sidebar when the notation is not PyTorch and a GRU is shown."""

LESSON_PATH = [  # (the page it opens, the entry's name, what it teaches)
    ("Step through", "Step through",
     "Your sequence, one RNN step, then the LSTM's gates and the GRU: pick a cell, step with "
     "◀ ▶ and read the equations with the real numbers."),
    ("Gates over time", "Gates over time",
     "Every gate of every unit over the whole sequence: watch the forget gate close and open."),
    ("Step through", "Backward through time",
     "Switch Step through to Backward and watch the gradient shrink, or survive, step by step."),
    ("Vanishing gradients", "Vanishing gradients",
     "The same input through all three cells: the RNN's gradient dies out, the LSTM's survives."),
    ("Train", "Train",
     "Train all three on a long-lag task and see which ones learn the dependency."),
]  # fmt: skip

HOW_TO_READ_HERO = (
    "How to read this: one strip per cell, one box per token. The colour is how strongly the "
    "last hidden state still depends on that token (‖∂h_T/∂x_t‖, log scale, fitted to the "
    "decades these three cells span): dark means the cell still remembers it, pale means its "
    "influence has all but vanished."
)

SUBSTEPS = {
    "rnn": ("all", "h"),
    "gru": ("all", "r", "z", "n", "h"),
    "lstm": ("all", "f", "i", "g", "c", "o", "h"),
}
"""The sub-steps of one timestep, in the order the guide walks them."""

GUIDE = {
    "rnn": {
        "all": "A vanilla RNN has no gates: every step, the old state h_{t−1} and the input x_t "
        "are mixed by two matrices and squashed by tanh. Everything it remembers must survive "
        "that squashing again at every step.",
        "h": "h_t = tanh(W_ih x_t + W_hh h_{t−1} + b). The state line dives through the tanh box: "
        "backward, the gradient is multiplied by diag(1 − h_t²) W_hh at every step, which is why "
        "it shrinks geometrically when that factor is below 1.",
    },
    "gru": {
        "all": "A GRU keeps one state h_t and two gates. The update gate z_t decides how much of "
        "the old state is kept as it is; the reset gate r_t decides how much of it the new "
        "candidate n_t may look at.",
        "r": "Reset gate r_t = σ(…): near 0, the candidate ignores the old state (a fresh start); "
        "near 1, it uses all of it. r multiplies W_hn h_{t−1} + b_hn inside n, as PyTorch does.",
        "z": "Update gate z_t = σ(…): in PyTorch's convention h_t = (1 − z_t) n_t + z_t h_{t−1}, "
        "so z_t near 1 copies the old state forward unchanged, and its gradient back.",
        "n": "Candidate n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn)): the new "
        "content the cell may write, between −1 and 1.",
        "h": "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}: a per-unit blend of new and old. The direct "
        "path z_t carries the gradient back without any squashing.",
    },
    "lstm": {
        "all": "An LSTM keeps two states: the cell state c_t (the highway along the top) and the "
        "hidden state h_t. Three sigmoid gates decide what to forget, what to write and what to "
        "show.",
        "f": "Forget gate f_t = σ(…): the fraction of each unit of c_{t−1} that is kept. Near 1 "
        "the memory is carried on; near 0 it is erased.",
        "i": "Input gate i_t = σ(…): how much of the candidate g_t is written into the cell.",
        "g": "Candidate g_t = tanh(…): the new content, between −1 and 1.",
        "c": "c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t: the highway. No matrix and no squashing on it, so "
        "backward the gradient is only multiplied by f_t: the constant error carousel.",
        "o": "Output gate o_t = σ(…): how much of the memory is shown in h_t.",
        "h": "h_t = o_t ⊙ tanh(c_t): what the rest of the network sees at this step.",
    },
}

_BACKWARD = (
    "Backward, the gradient of a loss on the last hidden state (L = Σ h_T) walks from the last "
    "step to the first. **What to notice:** "
)
GUIDE_BACKWARD = {
    "rnn": _BACKWARD + "the number written on the state path, ‖diag(act′) W_hh‖₂, bounds what "
    "the gradient's norm is multiplied by at each step: at most that much, often less.",
    "gru": _BACKWARD + "on the direct path the gradient is multiplied by z_t, exactly, at each "
    "step; the paths through the gates add the rest of ∂L/∂h_{t−1}.",
    "lstm": _BACKWARD + "on the cell-state highway the gradient is multiplied by f_t, exactly, "
    "at each step (the highway's share of ∂L/∂c_{t−1} is ∂L/∂c_t f_t); the path through h_t "
    "adds to it at every step.",
}
"""What the backward walk teaches, per cell (true for every activation and regime: the RNN's
number is a bound, the gated paths' factors are exact)."""

RNN_RELU_GUIDE = (
    "A vanilla RNN has no gates: every step, the old state h_{t−1} and the input x_t are mixed "
    "by two matrices and passed through ReLU, which keeps positive values as they are and sets "
    "the rest to 0. Nothing bounds the state: with recurrent weights above 1 it can grow "
    "without limit (explode); backward, only the units with a_t > 0 pass the gradient on."
)


RNN_RELU_STEP = (
    "h_t = relu(W_ih x_t + W_hh h_{t−1} + b). The state line dives through the relu box: "
    "backward, the gradient is multiplied by diag([a_t > 0]) W_hh at every step, so it must "
    "shrink when that factor's norm is below 1, and can grow (explode) when it is above 1."
)


def substep_guides(cell: str, nonlinearity: str = "tanh") -> dict[str, str]:
    """What each sub-step of the cell does (the timeline shows the one in focus)."""
    if cell == "rnn" and nonlinearity == "relu":
        return {"all": RNN_RELU_GUIDE, "h": RNN_RELU_STEP}
    return dict(GUIDE[cell])
