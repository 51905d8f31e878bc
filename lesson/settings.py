"""A lesson's settings, validated, and the link that opens the same lesson in the live app.

The one definition of a lesson's computed settings: their names, defaults, allowed values and
URL names. The app's ``ui.state.Lesson`` extends :class:`Settings` with what the pages show
(step, direction, presentation, trained cells), so the exporter (no Streamlit) and the app read
the same fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from urllib.parse import urlencode

from engine import CELLS, RECURRENT_INITS, InputError
from engine.inputs import PRESETS
from figures.notation import GRU_RESET, LABELS, MEASURE_TEMPLATES, NOTATIONS

MAX_URL_TEXT = 2000  # characters of text or numbers a link carries (as the app)
MAX_T = 2000
MAX_H = 256
APP_URL = "http://localhost:8501/"
"""Where ``make run`` serves the app; ``--app-url`` names another."""

MEASURES = tuple(MEASURE_TEMPLATES)


@dataclass(frozen=True)
class Settings:
    """Everything that determines a lesson's numbers, with the app's names and defaults."""

    source: str = "preset"
    preset: str = "Wallet (text)"
    text: str = "The cat sat on the mat because it was tired"
    numbers: str = "1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0"
    tokens: str = "words"
    label_column: str = "auto"
    encoding: str = "onehot"
    dim: int = 16
    T: int = 40
    cell: str = "lstm"
    H: int = 16
    seed: int = 0
    init: str = "uniform"
    scale: float = 1.0
    forget_bias: float = 1.0
    update_bias: float = 0.0
    activation: str = "tanh"
    measure: str = "x"
    unit: int = 0
    notation: str = "pytorch"
    """The symbols (:data:`figures.notation.NOTATIONS`); deeplearning.ai's and Cho 2014's GRU
    is also a different model (the reset gate before the recurrent product)."""


DEFAULT = Settings()
FIELDS = tuple(f.name for f in fields(Settings))
URL_NAMES = {
    "forget_bias": "fb",
    "update_bias": "ub",
    "activation": "act",
    "encoding": "enc",
    "label_column": "labels",
}
CHOICES = {
    "source": ("preset", "text", "numbers", "csv"),
    "preset": tuple(PRESETS),
    "tokens": ("words", "chars"),
    "encoding": ("onehot", "embedding"),
    "cell": CELLS,
    "init": RECURRENT_INITS,
    "activation": ("tanh", "relu"),
    "measure": MEASURES,
    "notation": NOTATIONS,
}
RANGES = {
    "dim": (1, 64),
    "T": (1, MAX_T),
    "H": (1, MAX_H),
    "seed": (0, 2**31 - 1),
    "scale": (0.0, 10.0),
    "forget_bias": (-10.0, 10.0),
    "update_bias": (-10.0, 10.0),
    "unit": (0, MAX_H - 1),
}


def validate(settings: Settings) -> Settings:
    """The settings unchanged if every value is allowed, else an InputError naming the first
    wrong one (the exporter's command line reports it; nothing is clamped silently)."""
    for name, allowed in CHOICES.items():
        value = getattr(settings, name)
        if value not in allowed:
            shown = ", ".join(allowed) if len(allowed) <= 8 else f"one of {len(allowed)} names"
            raise InputError(f"{name} {value!r} is not one of: {shown}.")
    for name, (lo, hi) in RANGES.items():
        value = getattr(settings, name)
        if not lo <= value <= hi:
            raise InputError(f"{name} must be between {lo} and {hi}, not {value}.")
    if settings.unit >= settings.H:
        raise InputError(f"unit must be below H = {settings.H}, not {settings.unit}.")
    if settings.source in ("text", "numbers") and not getattr(settings, settings.source).strip():
        raise InputError(f"The {settings.source} is empty: type at least one token.")
    return settings


def replace(settings: Settings, **changes) -> Settings:
    """A validated copy with some fields changed."""
    return validate(dataclasses.replace(settings, **changes))


def query(settings: Settings) -> dict[str, str]:
    """The query string the app reads back as this lesson (``ui.state.to_query``'s rule):
    only what differs from the defaults; the text or numbers in use, if they fit in a link."""
    out = {}
    for name in FIELDS:
        value = getattr(settings, name)
        if value == getattr(DEFAULT, name):
            continue
        if name in ("text", "numbers") and (settings.source != name or len(value) > MAX_URL_TEXT):
            continue
        out[URL_NAMES.get(name, name)] = str(value)
    return out


def app_link(settings: Settings, app_url: str = APP_URL) -> str:
    """The link that opens this lesson in the live app at ``app_url``."""
    q = urlencode(query(settings))
    return app_url + ("?" + q if q else "")


def rows(settings: Settings, gru_reset: str | None = None) -> list[tuple[str, str]]:
    """Every setting as (name, value) for the file's settings table: the input in use
    (its source and content), then every other field, defaults included, the notation by its
    name and which GRU model ran (``gru_reset``: the GRU trace's, default the notation's)."""
    content = {"preset": settings.preset, "text": settings.text, "numbers": settings.numbers,
               "csv": "csv upload"}[settings.source]  # fmt: skip
    out = [("source", settings.source), ("input", content)]
    skip = {"source", "preset", "text", "numbers", "notation"}
    out += [(n, str(getattr(settings, n))) for n in FIELDS if n not in skip]
    out.append(("notation", f"{LABELS[settings.notation]} ({settings.notation})"))
    out.append(("GRU model", gru_model(gru_reset or GRU_RESET[settings.notation])))
    return out


def gru_model(reset: str) -> str:
    """Which GRU a run with this reset placement is, said plainly (``trace.gru_reset``)."""
    if reset == "before":
        return (
            "reset before the product (Cho et al. 2014, Keras reset_after=False): the reset "
            "gate multiplies the old state before the recurrent matrix. This is a different "
            "model from PyTorch's, not PyTorch's GRU in other symbols."
        )
    return (
        "reset after the product (PyTorch's nn.GRU): the reset gate multiplies the recurrent "
        "product plus its bias."
    )
