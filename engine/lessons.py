"""Regime lessons: the four gradient regimes the literature teaches, as ready-made settings.

Pure Python (no Streamlit, no NumPy needed to read them): the app's Home page and sidebar, a
notebook and an offline exporter all read the same :data:`REGIMES`. Each :class:`Regime` holds
a title, a one-paragraph explanation for a teacher (with its literature reference), the page
that shows it best, and its settings as a plain dict of lesson field values (the names of
``ui.state.Lesson``: ``Lesson(**regime.settings)`` is the lesson). What each text claims is
checked against the engine in ``tests/test_regimes.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["REGIMES", "Regime", "sigmoid_power"]


@dataclass(frozen=True)
class Regime:
    """One regime lesson.

    Attributes
    ----------
    title : str
        A short title (plain text).
    explanation : str
        One paragraph for a teacher: what the settings do, what the page shows and why, and the
        literature reference (plain text, no markup).
    reference : str
        The reference alone (authors, year, title).
    page : str
        The label of the page that shows the regime best (``ui.keys.PAGES``).
    settings : Mapping[str, Any]
        Lesson field values (read-only): cell, activation, init, scale, forget_bias,
        update_bias, H, T, seed, the input (source and preset) and the gradient measure.
    """

    title: str
    explanation: str
    reference: str
    page: str
    settings: MappingProxyType


def sigmoid_power(bias: float, k: int) -> float:
    """σ(bias)^k: what a gate held at σ(bias) keeps of the gradient over k steps."""
    return (1.0 / (1.0 + math.exp(-bias))) ** k


def _settings(**values: Any) -> MappingProxyType:
    base = {
        "source": "preset", "preset": "Impulse", "T": 40, "H": 16, "seed": 0,
        "init": "uniform", "scale": 1.0, "forget_bias": 1.0, "update_bias": 0.0,
        "activation": "tanh", "mode": "forward", "step": 0, "unit": 0,
    }  # fmt: skip
    return MappingProxyType(base | values)


_EXPLODING = _settings(cell="rnn", activation="relu", init="identity", scale=1.5, measure="h")
_IDENTITY = _settings(cell="rnn", activation="relu", init="identity", scale=1.0, T=200, measure="h")
_CAROUSEL = _settings(cell="lstm", forget_bias=6.0, measure="bptt")
_KEEPING_GRU = _settings(cell="gru", update_bias=6.0, measure="h")

_OVERFLOW_LAG = math.ceil(100 / math.log10(_EXPLODING["scale"]))  # 1.5^k passes 10^100
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _sci(v: float) -> str:
    """``7.4×10⁶`` (plain decimals between 0.01 and 1000)."""
    if 1e-2 <= abs(v) < 1e3:
        return f"{v:.3g}"
    mant, exp = f"{v:.1e}".split("e")
    return f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"


def _lags(settings) -> int:
    return settings["T"] - 1


REGIMES: dict[str, Regime] = {
    "exploding": Regime(
        title="Exploding: an identity ReLU RNN scaled to 1.5",
        explanation=(
            f"W_hh = {_EXPLODING['scale']}·I with ReLU, on an impulse: on every unit that stays "
            f"active each step back multiplies the gradient by ReLU′ · {_EXPLODING['scale']} = "
            f"{_EXPLODING['scale']}, so ‖∂h_T/∂h_t‖ grows as {_EXPLODING['scale']}^k, to "
            f"{_sci(_EXPLODING['scale'] ** _lags(_EXPLODING))} after {_lags(_EXPLODING)} steps, "
            "and meets the bound (γ·σ_max)^k with equality. This is the exploding side of "
            "Pascanu, Mikolov & Bengio's analysis: σ_max(W_hh) > 1 lets the gradient grow. At "
            f"this rate the factor passes 10¹⁰⁰ at k = {_OVERFLOW_LAG}: raise T beyond that and "
            "the states overflow; gatescope then names the overflow (drawn as ∞), never a zero "
            "or vanished gradient. Gradient clipping is the usual cure."
        ),
        reference=(
            "Pascanu, Mikolov & Bengio (2013), On the difficulty of training recurrent neural "
            "networks, ICML"
        ),
        page="Vanishing gradients",
        settings=_EXPLODING,
    ),
    "identity_relu": Regime(
        title="Norm held at 1: the identity ReLU RNN (Le et al. 2015)",
        explanation=(
            "W_hh = I with ReLU and PyTorch's small random biases, on an impulse: on every unit "
            "that stays active the step's Jacobian is diag([a_t > 0])·I, the identity there, so "
            "‖∂h_T/∂h_t‖ = 1 exactly at every lag while any unit stays active throughout (here "
            f"over all {_lags(_IDENTITY)} steps): the gradient neither vanishes nor explodes, "
            "and the bound (γ·σ_max)^k = 1 is tight. Units that switch off (ReLU′ = 0) drop out "
            "of the product instead of shrinking it. Le, Jaitly & Hinton proposed this "
            "initialisation as a simple way to give plain RNNs long-range memory; the exploding "
            "regime is the same network with W_hh scaled above 1."
        ),
        reference=(
            "Le, Jaitly & Hinton (2015), A simple way to initialize recurrent networks of "
            "rectified linear units, arXiv:1504.00941"
        ),
        page="Vanishing gradients",
        settings=_IDENTITY,
    ),
    "lstm_carousel": Regime(
        title="The constant error carousel: an LSTM forget gate saturated at 1",
        explanation=(
            f"The forget gate's bias is {_CAROUSEL['forget_bias']:+g}, so f_t ≈ "
            f"σ({_CAROUSEL['forget_bias']:g}) = {sigmoid_power(_CAROUSEL['forget_bias'], 1):.4f}"
            " at every step and unit. The cell state's backward step is "
            "dc_{t−1} = f_t ⊙ dc_t + (what arrives through h_{t−1}): with f ≈ 1 the cell-state "
            "path carries dL/dc back almost unchanged, about "
            f"σ({_CAROUSEL['forget_bias']:g})^{_lags(_CAROUSEL)} = "
            f"{sigmoid_power(_CAROUSEL['forget_bias'], _lags(_CAROUSEL)):.2f} of it over the "
            f"{_lags(_CAROUSEL)} steps (the dashed line of the LSTM's path chart), so "
            "‖dL/dc_t‖ does not vanish. This is Hochreiter & Schmidhuber's constant error "
            "carousel; a positive forget bias is the usual way to start an LSTM near it (Gers, "
            "Schmidhuber & Cummins 2000; Jozefowicz, Zaremba & Sutskever 2015). At the default "
            f"bias +1, f ≈ σ(1) = {sigmoid_power(1.0, 1):.2f} and the carried part falls to "
            f"about {_sci(sigmoid_power(1.0, _lags(_CAROUSEL)))} over the same steps."
        ),
        reference=(
            "Hochreiter & Schmidhuber (1997), Long short-term memory, Neural Computation; "
            "Gers, Schmidhuber & Cummins (2000), Learning to forget"
        ),
        page="Vanishing gradients",
        settings=_CAROUSEL,
    ),
    "gru_keeping": Regime(
        title="A GRU that keeps its state: the update gate biased towards 1",
        explanation=(
            f"The update gate's bias is {_KEEPING_GRU['update_bias']:+g}, so z_t ≈ "
            f"σ({_KEEPING_GRU['update_bias']:g}) = "
            f"{sigmoid_power(_KEEPING_GRU['update_bias'], 1):.4f}. In PyTorch's convention "
            "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}, so z ≈ 1 keeps the old state and the direct "
            "path ∂h_t/∂h_{t−1} ∋ diag(z_t) carries the gradient back almost unchanged: about "
            f"σ({_KEEPING_GRU['update_bias']:g})^{_lags(_KEEPING_GRU)} = "
            f"{sigmoid_power(_KEEPING_GRU['update_bias'], _lags(_KEEPING_GRU)):.2f} over the "
            f"{_lags(_KEEPING_GRU)} steps, and ‖∂h_T/∂h_t‖ stays near 1 while the RNN's "
            "vanishes. At the default bias 0, z ≈ σ(0) = 0.5 and the direct path keeps about "
            f"{_sci(sigmoid_power(0.0, _lags(_KEEPING_GRU)))} over the same steps: gated cells "
            "can learn to keep their state, they do not at random initialisation. Biasing the "
            "gates towards remembering at initialisation is the idea behind Tallec & Ollivier's "
            "chrono initialisation."
        ),
        reference=(
            "Cho et al. (2014), Learning phrase representations using RNN encoder-decoder; "
            "Tallec & Ollivier (2018), Can recurrent neural networks warp time?, ICLR"
        ),
        page="Vanishing gradients",
        settings=_KEEPING_GRU,
    ),
}
