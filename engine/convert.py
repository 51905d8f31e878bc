"""Parameters to and from the layouts of PyTorch, Keras and deeplearning.ai, and an upload loader.

gatescope's parameters are PyTorch's (``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H),
``bias_ih``, ``bias_hh`` (G*H,), gate blocks rnn h; gru r, z, n; lstm i, f, g, o). The other
layouts hold the same models, written differently:

- **PyTorch** ``state_dict``: the same arrays named ``weight_ih_l0``, ``weight_hh_l0``,
  ``bias_ih_l0``, ``bias_hh_l0`` (layer 0, one direction).
- **Keras** (``SimpleRNN``, ``GRU``, ``LSTM``): ``kernel`` (D, G*H) and ``recurrent_kernel``
  (H, G*H) act on row vectors (x @ kernel), gate order z, r, h (GRU) and i, f, c, o (LSTM).
  ``bias`` is one (G*H,) vector, except the GRU with ``reset_after=True`` (Keras' default, the
  PyTorch model): (2, 3H), input bias then recurrent bias. A GRU with ``reset_after=False``
  is the reset-before model, ``forward(..., gru_reset="before")``.
- **deeplearning.ai** (the Sequence Models course): one matrix per gate acting on the
  concatenation [a⟨t−1⟩; x⟨t⟩] and one bias column (H, 1). LSTM ``Wf, Wi, Wc, Wo, bf, bi, bc,
  bo``; GRU ``Wu, Wr, Wc, bu, br, bc``; RNN ``Wax`` (H, D), ``Waa`` (H, H), ``ba``. The course's
  GRU is the reset-before model, and its update gate weighs the new candidate::

      c⟨t⟩ = Γu ⊙ c̃⟨t⟩ + (1 − Γu) ⊙ c⟨t−1⟩      (PyTorch: h_t = (1 − z) ⊙ n + z ⊙ h_{t−1})

  so z = 1 − Γu = σ(−(Wu [c⟨t−1⟩; x⟨t⟩] + bu)): the z block is the update gate's weights and
  bias negated (exact in floating point).

Single-bias layouts (Keras except the reset-after GRU, deeplearning.ai) put the bias in
``bias_ih`` and zeros in ``bias_hh``; going the other way they take ``bias_ih + bias_hh``. So
every converter round-trips exactly (bit for bit) from its own layout, and from gatescope's
when ``bias_hh`` is zero (otherwise the two biases come back summed: the same model).

Every ``from_*`` function, and :func:`load_params`, returns a :class:`Loaded` (cell, params,
variant): ``variant`` is the ``gru_reset`` to pass to :func:`engine.forward` (``"after"`` for
the rnn and the lstm, which ignore it).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import NamedTuple

import numpy as np

from .cells import GATES, GRU_RESETS
from .errors import InputError
from .sequence import CELLS, _check_params

LAYOUTS = ("pytorch", "keras", "deeplearning.ai")
"""The layouts :func:`load_params` recognises (plus gatescope's own names, PyTorch's without
the ``_l0`` suffix)."""

TORCH_NAMES = {name: f"{name}_l0" for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
"""gatescope name -> PyTorch ``state_dict`` name (layer 0)."""

KERAS_ORDER = {"rnn": (0,), "gru": (1, 0, 2), "lstm": (0, 1, 2, 3)}
"""For each Keras gate block, the index of the PyTorch block it holds (GRU: z, r, h <- r, z, n)."""

DLAI_GATES = {
    "rnn": ("a",),
    "gru": ("r", "u", "c"),  # PyTorch r, z = 1 - Γu, n = c̃
    "lstm": ("i", "f", "c", "o"),  # PyTorch i, f, g = c̃, o
}
"""deeplearning.ai's gate letter for each PyTorch block, in PyTorch's order."""


class Loaded(NamedTuple):
    """A model read from another layout: the cell, gatescope's parameters, the GRU's variant."""

    cell: str
    params: dict
    variant: str


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


class _Ambiguous:
    """Stands for a name that several weights share once their prefixes are dropped."""

    def __init__(self, keys):
        self.keys = keys


def _array(value, name):
    """``value`` as a finite float64 array (a NumPy array, nested lists or a CPU tensor)."""
    if isinstance(value, _Ambiguous):
        raise InputError(
            f"Several weights are named {name} ({', '.join(value.keys)}): keep only the "
            "recurrent layer's."
        )
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        a = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"{name} is not an array of numbers (every row must have the same length)."
        ) from None
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or infinite values.")
    return a


def _require(weights, names, layout):
    missing = [name for name in names if name not in weights]
    if missing:
        found = ", ".join(sorted(weights)) or "nothing"
        raise InputError(f"The {layout} weights are missing {', '.join(missing)} (found {found}).")


def _shape(a, want, name):
    if a.shape != want:
        raise InputError(f"{name} has shape {a.shape}; expected {want}.")


def _checked(cell, params):
    """gatescope parameters validated for ``cell``: float64 copies and H."""
    if cell not in CELLS:
        raise InputError(f"Unknown cell {cell!r}: choose one of {', '.join(CELLS)}.")
    if "weight_ih" not in params:
        raise InputError("Parameters are missing weight_ih.")
    D = np.shape(params["weight_ih"])[-1] if np.ndim(params["weight_ih"]) else 0
    if D < 1:
        raise InputError(f"weight_ih has shape {np.shape(params['weight_ih'])}; expected (G·H, D).")
    return _check_params(cell, params, D)


def _cell_of(blocks, where):
    """The cell with ``blocks`` gate blocks (1 rnn, 3 gru, 4 lstm)."""
    for cell in CELLS:
        if len(GATES[cell]) == blocks:
            return cell
    raise InputError(f"{where} holds {blocks} gate blocks; an RNN has 1, a GRU 3 and an LSTM 4.")


def _blocks(a, G, axis=0):
    return np.split(a, G, axis=axis)


def _check_variant(gru_reset):
    if gru_reset not in GRU_RESETS:
        raise InputError(f"Unknown gru_reset {gru_reset!r}: choose 'after' or 'before'.")


# --------------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------------


def to_pytorch(cell: str, params: dict) -> dict:
    """gatescope's parameters as a PyTorch ``state_dict`` of ``torch.nn.RNN/GRU/LSTM``.

    Returns
    -------
    dict
        ``weight_ih_l0`` (G*H, D), ``weight_hh_l0`` (G*H, H), ``bias_ih_l0``, ``bias_hh_l0``
        (G*H,): NumPy arrays (``torch.from_numpy`` each to load them). A GRU's state_dict runs
        PyTorch's model, ``gru_reset="after"``.
    """
    checked, _ = _checked(cell, params)
    return {TORCH_NAMES[name]: a for name, a in checked.items()}


def from_pytorch(state_dict: dict) -> Loaded:
    """A PyTorch ``state_dict`` (``weight_ih_l0`` ...) as gatescope's parameters.

    The cell is read from the shapes (``weight_hh_l0`` is (G*H, H)). Tensors or arrays; names
    may carry a module prefix (``rnn.weight_ih_l0``). Layer 0 of a one-directional module only.
    """
    weights = _normalised(state_dict)
    torch_names = [k for k in weights if re.fullmatch(r"(weight|bias)_(ih|hh)_l\d+(_reverse)?", k)]
    deeper = sorted(set(torch_names) - set(TORCH_NAMES.values()))  # other layers, directions
    if deeper:
        raise InputError(
            f"gatescope steps through one layer in one direction; this state_dict also holds "
            f"{', '.join(deeper)}. Save only layer 0 (weight_ih_l0, ...) of a one-directional "
            "module."
        )
    _require(weights, TORCH_NAMES.values(), "PyTorch")
    params = {name: _array(weights[key], key) for name, key in TORCH_NAMES.items()}
    return _gatescope(params)


def _gatescope(params):
    """Loaded from gatescope's own names (validated; the cell read from weight_hh's shape)."""
    W_hh = params["weight_hh"]
    if W_hh.ndim != 2 or W_hh.shape[1] < 1 or W_hh.shape[0] % W_hh.shape[1]:
        raise InputError(
            f"weight_hh has shape {W_hh.shape}; expected (G·H, H) with G = 1, 3 or 4 gate blocks."
        )
    cell = _cell_of(W_hh.shape[0] // W_hh.shape[1], "weight_hh")
    checked, _ = _checked(cell, params)
    return Loaded(cell, checked, "after")


# --------------------------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------------------------


def to_keras(cell: str, params: dict, gru_reset: str = "after") -> dict:
    """gatescope's parameters as the weights of a Keras ``SimpleRNN``, ``GRU`` or ``LSTM`` layer.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    params : dict
    gru_reset : {"after", "before"}
        The GRU's variant: ``"after"`` gives a ``GRU(reset_after=True)`` layer (bias (2, 3H)),
        ``"before"`` a ``GRU(reset_after=False)`` layer (bias (3H,) = bias_ih + bias_hh).

    Returns
    -------
    dict
        ``kernel`` (D, G*H), ``recurrent_kernel`` (H, G*H), ``bias`` (G*H,) or (2, 3H), gate
        blocks in Keras' order (GRU z, r, h; LSTM i, f, c, o), in the order
        ``layer.set_weights`` takes them.

    Equations (Keras, row vectors)::

        GRU  z = σ(x K_z + h U_z + b_z),   r = σ(x K_r + h U_r + b_r)
             reset_after=True:  h̃ = tanh(x K_h + b_h + r ⊙ (h U_h + b'_h))
             reset_after=False: h̃ = tanh(x K_h + (r ⊙ h) U_h + b_h)
             h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃
    """
    _check_variant(gru_reset)
    p, _ = _checked(cell, params)
    order = KERAS_ORDER[cell]
    G = len(order)

    def keras(a):  # PyTorch blocks stacked on axis 0 -> Keras blocks on the last axis
        blocks = _blocks(a, G)
        return np.concatenate([blocks[k] for k in order]).T

    out = {"kernel": keras(p["weight_ih"]), "recurrent_kernel": keras(p["weight_hh"])}
    if cell == "gru" and gru_reset == "after":
        out["bias"] = np.stack([keras(p["bias_ih"]), keras(p["bias_hh"])])  # input, recurrent
    else:
        out["bias"] = keras(p["bias_ih"] + p["bias_hh"])  # one bias, outside any reset
    return out


def from_keras(weights: dict) -> Loaded:
    """A Keras ``SimpleRNN``/``GRU``/``LSTM`` layer's weights as gatescope's parameters.

    ``weights``: ``kernel``, ``recurrent_kernel`` and ``bias`` (names may carry a path prefix
    and a ``:0`` suffix, as in a saved model). The cell is read from the shapes; a GRU's bias
    shape gives its variant: (2, 3H) is ``reset_after=True`` (``"after"``), (3H,) is
    ``reset_after=False`` (``"before"``: the returned variant, to pass to ``forward``).
    """
    weights = _normalised(weights)
    _require(weights, ("kernel", "recurrent_kernel", "bias"), "Keras")
    K = _array(weights["kernel"], "kernel")
    U = _array(weights["recurrent_kernel"], "recurrent_kernel")
    bias = _array(weights["bias"], "bias")
    if U.ndim != 2 or U.shape[0] < 1 or U.shape[1] % U.shape[0]:
        raise InputError(
            f"recurrent_kernel has shape {U.shape}; expected (H, G·H) with G = 1, 3 or 4."
        )
    H = U.shape[0]
    G = U.shape[1] // H
    cell = _cell_of(G, "recurrent_kernel")
    if K.ndim != 2 or K.shape[1] != G * H:
        raise InputError(f"kernel has shape {K.shape}; expected (D, {G * H}) for this {cell}.")
    order = KERAS_ORDER[cell]
    inverse = np.argsort(order)  # the Keras block holding each PyTorch block

    def torch(a):  # Keras blocks on the last axis -> PyTorch blocks stacked on axis 0
        blocks = _blocks(a.T, G)
        return np.concatenate([blocks[k] for k in inverse])

    variant = "after"
    if cell == "gru" and bias.shape == (2, G * H):
        b_ih, b_hh = torch(bias[0]), torch(bias[1])
    else:
        want = "(3H,) or (2, 3H)" if cell == "gru" else f"({G * H},)"
        if bias.shape != (G * H,):
            raise InputError(f"bias has shape {bias.shape}; expected {want} with H = {H}.")
        b_ih, b_hh = torch(bias), np.zeros(G * H)
        variant = "before" if cell == "gru" else "after"
    params = {"weight_ih": torch(K), "weight_hh": torch(U), "bias_ih": b_ih, "bias_hh": b_hh}
    checked, _ = _checked(cell, params)
    return Loaded(cell, checked, variant)


# --------------------------------------------------------------------------------------------
# deeplearning.ai
# --------------------------------------------------------------------------------------------


def _dlai_names(cell):
    if cell == "rnn":
        return ("Wax", "Waa", "ba")
    letters = DLAI_GATES[cell]
    return tuple(f"W{q}" for q in letters) + tuple(f"b{q}" for q in letters)


def to_deeplearning_ai(cell: str, params: dict, gru_reset: str = "after") -> dict:
    """gatescope's parameters in the notation of deeplearning.ai's Sequence Models course.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    params : dict
    gru_reset : {"after", "before"}
        Must be ``"before"`` for a GRU: the course's GRU resets the old state before the product
        (c̃ = tanh(Wc [Γr ⊙ c⟨t−1⟩; x⟨t⟩] + bc)); PyTorch's GRU has no form in its notation.

    Returns
    -------
    dict
        LSTM ``Wf, Wi, Wc, Wo`` (H, H + D) acting on [a⟨t−1⟩; x⟨t⟩] and ``bf, bi, bc, bo``
        (H, 1); GRU ``Wu, Wr, Wc``, ``bu, br, bc`` (Wu, bu negated: Γu = 1 − z); RNN ``Wax``
        (H, D), ``Waa`` (H, H), ``ba`` (H, 1). Biases are bias_ih + bias_hh.

    Equations (deeplearning.ai)::

        LSTM Γf = σ(Wf [a⟨t−1⟩; x⟨t⟩] + bf), Γu (= Γi), Γo alike, c̃⟨t⟩ = tanh(Wc [...] + bc)
             c⟨t⟩ = Γf ⊙ c⟨t−1⟩ + Γu ⊙ c̃⟨t⟩,   a⟨t⟩ = Γo ⊙ tanh(c⟨t⟩)
        GRU  Γu = σ(Wu [c⟨t−1⟩; x⟨t⟩] + bu),   Γr = σ(Wr [c⟨t−1⟩; x⟨t⟩] + br)
             c̃⟨t⟩ = tanh(Wc [Γr ⊙ c⟨t−1⟩; x⟨t⟩] + bc),   c⟨t⟩ = Γu ⊙ c̃⟨t⟩ + (1 − Γu) ⊙ c⟨t−1⟩
        RNN  a⟨t⟩ = tanh(Wax x⟨t⟩ + Waa a⟨t−1⟩ + ba)
    """
    _check_variant(gru_reset)
    if cell == "gru" and gru_reset != "before":
        raise InputError(
            "deeplearning.ai's GRU resets the old state before the recurrent product "
            "(gru_reset='before'); PyTorch's GRU (gru_reset='after') is a different model, "
            "with no form in that notation."
        )
    p, _ = _checked(cell, params)
    b = p["bias_ih"] + p["bias_hh"]
    if cell == "rnn":
        return {"Wax": p["weight_ih"], "Waa": p["weight_hh"], "ba": b[:, None]}
    G = len(GATES[cell])
    out = {}
    for q, W_ih, W_hh, b_q in zip(
        DLAI_GATES[cell], _blocks(p["weight_ih"], G), _blocks(p["weight_hh"], G), _blocks(b, G),
        strict=True,
    ):  # fmt: skip
        sign = -1.0 if q == "u" else 1.0  # Γu = σ(−z_pre) = 1 − z
        out[f"W{q}"] = sign * np.concatenate([W_hh, W_ih], axis=1)  # acts on [a⟨t−1⟩; x⟨t⟩]
        out[f"b{q}"] = sign * b_q[:, None]
    return out


def from_deeplearning_ai(weights: dict) -> Loaded:
    """deeplearning.ai's parameters (``Wf, Wi, Wc, Wo, bf, ...``; ``Wu, Wr, Wc, ...``; or
    ``Wax, Waa, ba``) as gatescope's; the cell is read from the names. Other keys (the output
    layer's ``Wya``, ``by``) are ignored. A GRU comes back with variant ``"before"``."""
    weights = _normalised(weights)
    if "Wf" in weights or "Wo" in weights or "Wi" in weights:
        cell = "lstm"
    elif "Wu" in weights or "Wr" in weights:
        cell = "gru"
    elif "Wax" in weights or "Waa" in weights:
        cell = "rnn"
    else:
        raise InputError(
            "These are not deeplearning.ai weights: expected Wf, Wi, Wc, Wo (LSTM), "
            "Wu, Wr, Wc (GRU) or Wax, Waa (RNN)."
        )
    names = _dlai_names(cell)
    _require(weights, names, f"deeplearning.ai {cell.upper()}")
    arrays = {name: _array(weights[name], name) for name in names}
    if cell == "rnn":
        Wax, Waa = arrays["Wax"], arrays["Waa"]
        if Waa.ndim != 2 or Waa.shape[0] != Waa.shape[1] or Waa.shape[0] < 1:
            raise InputError(f"Waa has shape {Waa.shape}; expected (n_a, n_a).")
        H = Waa.shape[0]
        if Wax.ndim != 2 or Wax.shape[0] != H or Wax.shape[1] < 1:
            raise InputError(f"Wax has shape {Wax.shape}; expected ({H}, n_x).")
        params = {"weight_ih": Wax, "weight_hh": Waa, "bias_ih": _column(arrays["ba"], "ba", H)}
        params["bias_hh"] = np.zeros(H)
        checked, _ = _checked(cell, params)
        return Loaded(cell, checked, "after")
    first = f"W{DLAI_GATES[cell][0]}"
    W0 = arrays[first]
    if W0.ndim != 2 or W0.shape[1] <= W0.shape[0] or W0.shape[0] < 1:
        raise InputError(
            f"{first} has shape {W0.shape}; expected (n_a, n_a + n_x): it acts on [a⟨t−1⟩; x⟨t⟩]."
        )
    H, D = W0.shape[0], W0.shape[1] - W0.shape[0]
    W_ih, W_hh, b = [], [], []
    for q in DLAI_GATES[cell]:
        W = arrays[f"W{q}"]
        _shape(W, (H, H + D), f"W{q}")
        sign = -1.0 if q == "u" else 1.0  # z = 1 − Γu = σ(−(Wu [...] + bu))
        W_hh.append(sign * W[:, :H])
        W_ih.append(sign * W[:, H:])
        b.append(sign * _column(arrays[f"b{q}"], f"b{q}", H))
    params = {
        "weight_ih": np.concatenate(W_ih), "weight_hh": np.concatenate(W_hh),
        "bias_ih": np.concatenate(b), "bias_hh": np.zeros(len(GATES[cell]) * H),
    }  # fmt: skip
    checked, _ = _checked(cell, params)
    return Loaded(cell, checked, "before" if cell == "gru" else "after")


def _column(b, name, H):
    """A bias given as a column (H, 1), as the course writes it, or as a vector (H,)."""
    if b.shape not in ((H, 1), (H,)):
        raise InputError(f"{name} has shape {b.shape}; expected ({H}, 1).")
    return b.reshape(H)


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------


def _normalised(weights):
    """Names without a module or path prefix (``gru.``, ``lstm/lstm_cell/``) or ``:0`` suffix.

    A name that several keys share (``fc.weight`` and ``embedding.weight``) is an error only if
    it is read: the other layers of a whole model's weights are ignored.
    """
    if not isinstance(weights, dict):
        raise InputError("The weights must be a mapping from names to arrays.")
    out, keys = {}, {}
    for key, value in weights.items():
        name = re.split(r"[/.]", str(key).split(":")[0])[-1]
        keys.setdefault(name, []).append(str(key))
        out[name] = _Ambiguous(keys[name]) if len(keys[name]) > 1 else value
    return out


def _layout(names):
    """Which layout a set of (normalised) names is in, or None."""
    if names & {"kernel", "recurrent_kernel"}:
        return "keras"
    if any(re.fullmatch(r"(weight|bias)_(ih|hh)_l\d+(_reverse)?", n) for n in names):
        return "pytorch"
    if names & {"weight_ih", "weight_hh"}:
        return "gatescope"
    if names & {"Wf", "Wi", "Wo", "Wu", "Wr", "Wax", "Waa"}:
        return "deeplearning.ai"
    return None


def _read(data, filename):
    """The name -> value mapping of an uploaded .npz or .json file."""
    suffix = str(filename).rsplit(".", 1)[-1].lower() if "." in str(filename) else ""
    if suffix == "npz":
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError):
            raise InputError(
                f"{filename} could not be read as a NumPy .npz archive of numeric arrays "
                "(np.savez)."
            ) from None
    if suffix == "json":
        try:
            content = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"{filename} is not valid JSON ({e}).") from None
        if not isinstance(content, dict):
            raise InputError(
                f"{filename} must hold one JSON object mapping weight names to nested lists."
            )
        return content
    raise InputError(f"Upload a .npz or a .json file; {filename!r} is neither.")


def load_params(data: bytes, filename: str, *, max_hidden: int | None = None) -> Loaded:
    """Read uploaded weights in any layout of this module (a ``.npz`` or a ``.json`` file).

    Parameters
    ----------
    data : bytes
        The file's content.
    filename : str
        Its name: the extension (``.npz``, ``.json``) says how to read it.
    max_hidden : int, optional
        Refuse a hidden size H above this (the app's own limit).

    Returns
    -------
    Loaded
        (cell, params, variant). The layout is recognised from the names: PyTorch
        ``weight_ih_l0`` ...; gatescope ``weight_ih`` ...; Keras ``kernel``,
        ``recurrent_kernel``, ``bias``; deeplearning.ai ``Wf`` ... / ``Wu`` ... / ``Wax`` ....
        A JSON file holds one object of name -> nested lists of numbers.

    Raises
    ------
    InputError
        With a message for a learner: an unreadable file, an unknown layout, missing names,
        wrong shapes, values that are not finite numbers, or H above ``max_hidden``.
    """
    weights = _normalised(_read(data, filename))
    layout = _layout(set(weights))
    if layout is None:
        found = ", ".join(sorted(weights)[:12]) or "no arrays"
        raise InputError(
            f"{filename}: unknown layout (found {found}). Expected PyTorch names "
            "(weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0), Keras names (kernel, "
            "recurrent_kernel, bias) or deeplearning.ai names (Wf, Wi, Wc, Wo, bf, ...; "
            "Wu, Wr, Wc, ...; Wax, Waa, ba)."
        )
    if layout == "keras":
        loaded = from_keras(weights)
    elif layout == "pytorch":
        loaded = from_pytorch(weights)
    elif layout == "deeplearning.ai":
        loaded = from_deeplearning_ai(weights)
    else:
        names = tuple(TORCH_NAMES)
        _require(weights, names, "gatescope")
        loaded = _gatescope({name: _array(weights[name], name) for name in names})
    H = loaded.params["weight_hh"].shape[1]
    if max_hidden is not None and H > max_hidden:
        raise InputError(
            f"{filename} has a hidden size of {H}; gatescope shows at most {max_hidden}."
        )
    return loaded
