"""Every sentence the app says to a learner, in one place (help texts, captions, the path)."""

from __future__ import annotations

# The Step through guides live in figures/guides.py (the offline lesson file says them too);
# re-exported here: the pages read every text from this module.
from figures.guides import (
    BACKWARD_TEMPLATES,
    GRU_RESET_GUIDE,
    GRU_UPDATE_GUIDE,
    GUIDE,
    GUIDE_BACKWARD,
    RNN_RELU_GUIDE,
    RNN_RELU_STEP,
    RNN_SUM,
    SUBSTEPS,
    backward_guide,
    substep_guides,
)

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
    ("GRU reset placement", "GRU reset placement",
     "The same GRU with its reset gate after the recurrent product (PyTorch) and before it "
     "(Cho 2014, deeplearning.ai): two different models, side by side."),
    ("Train", "Train",
     "Train all three on a long-lag task and see which ones learn the dependency."),
]  # fmt: skip

HOW_TO_READ_HERO = (
    "How to read this: one strip per cell, one box per token. The colour is how strongly the "
    "last hidden state still depends on that token (‖∂h_T/∂x_t‖, log scale, fitted to the "
    "decades these three cells span): dark means the cell still remembers it, pale means its "
    "influence has all but vanished."
)

__all__ = [
    "BACKWARD_TEMPLATES",
    "GRU_RESET_GUIDE",
    "GRU_UPDATE_GUIDE",
    "GUIDE",
    "GUIDE_BACKWARD",
    "RNN_RELU_GUIDE",
    "RNN_RELU_STEP",
    "RNN_SUM",
    "SUBSTEPS",
    "backward_guide",
    "substep_guides",
]
