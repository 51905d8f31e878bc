"""The lesson state: one validated record of everything the learner chose.

A lesson is a :class:`Lesson` (frozen, hashable: it is the cache key of every computation).
It lives in three places that this module keeps in agreement:

- the widgets of the shared sidebar (keys ``w_<field>``, cleared by Streamlit on page change),
- non-widget session-state keys (``s_<field>``), which survive page switches,
- the URL query string (``?cell=gru&H=32&...``), which makes a lesson shareable.

Every value that comes from the URL is validated and clamped on the server; what was changed is
reported back as a notice, never as a crash.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from engine.inputs import NUMERIC_PRESETS, TEXT_PRESETS
from figures.notation import LABELS, MEASURE_TEMPLATES, measure_label
from lesson.settings import CHOICES as SETTINGS_CHOICES
from lesson.settings import MAX_H, MAX_T, MAX_URL_TEXT, URL_NAMES, Settings
from lesson.settings import RANGES as SETTINGS_RANGES

SOURCES = SETTINGS_CHOICES["source"]
SOURCE_LABELS = {
    "preset": "Preset",
    "text": "Your text",
    "numbers": "Your numbers",
    "csv": "CSV upload",
}
TOKEN_UNITS = SETTINGS_CHOICES["tokens"]
ENCODINGS = SETTINGS_CHOICES["encoding"]
ACTIVATIONS = SETTINGS_CHOICES["activation"]
MEASURES = SETTINGS_CHOICES["measure"]
NOTATIONS = SETTINGS_CHOICES["notation"]


def measure_labels(notation: str = "pytorch") -> dict[str, str]:
    """Each gradient measure's label in the notation's symbols."""
    return {m: measure_label(m, notation) for m in MEASURE_TEMPLATES}


MEASURE_LABELS = measure_labels("pytorch")
"""PyTorch's labels: ‖∂h_T/∂x_t‖ (input sensitivity), ‖∂h_T/∂h_t‖, ‖dL/dh_t‖."""
MODES = ("forward", "backward")
NOTATION_LABELS = LABELS
MAX_FREE_TEXT = {"label_column": 100, "trained": 300}  # other free-text fields, in characters


@dataclass(frozen=True)
class Lesson(Settings):
    """Everything that defines what the pages show (all plain values: hashable, URL-safe): the
    computed settings (:class:`lesson.settings.Settings`) and what is looked at."""

    step: int = 0
    mode: str = "forward"
    present: bool = False
    trained: str = ""


DEFAULT = Lesson()
FIELDS = tuple(f.name for f in fields(Lesson))

CHOICES: dict[str, tuple] = SETTINGS_CHOICES | {"mode": MODES}
RANGES: dict[str, tuple[float, float]] = SETTINGS_RANGES | {"step": (0, MAX_T - 1)}

__all__ = [
    "DEFAULT",
    "MAX_H",
    "FIELDS",
    "Lesson",
    "NUMERIC_PRESETS",
    "TEXT_PRESETS",
    "clean",
    "from_query",
    "settings",
    "to_query",
]


def _coerce(name: str, raw: Any) -> tuple[Any, str | None]:
    """One field's value, validated and clamped. Returns (value, notice or None)."""
    default = getattr(DEFAULT, name)
    if name in CHOICES:
        value = str(raw)
        if value in CHOICES[name]:
            return value, None
        return default, f"unknown {name} {_short(value)}: using {default!r}"
    if isinstance(default, bool):
        value = str(raw).strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True, None
        if value in ("0", "false", "no", "off", ""):
            return False, None
        return default, f"{name} must be 0 or 1: using {int(default)}"
    if isinstance(default, int | float):
        kind = type(default)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return default, f"{name} {_short(raw)} is not a number: using {default}"
        if value != value or value in (float("inf"), float("-inf")):
            return default, f"{name} must be a finite number: using {default}"
        if kind is int and value != int(value):
            value = round(value)
        lo, hi = RANGES[name]
        clamped = min(max(value, lo), hi)
        notice = (
            None
            if clamped == value
            else f"{name}={_short(raw)} is out of range: using {kind(clamped)}"
        )
        return kind(clamped), notice
    value = " ".join(str(raw).split())
    limit = MAX_FREE_TEXT.get(name)
    if limit is not None and len(value) > limit:
        return default, f"{name} is longer than {limit} characters: using {default!r}"
    return value, None


def _short(v: Any) -> str:
    s = str(v)
    return repr(s if len(s) <= 20 else s[:20] + "…")


def clean(values: dict[str, Any], base: Lesson = DEFAULT) -> tuple[Lesson, list[str]]:
    """A Lesson from loose values (unknown names ignored), with notices for what was fixed."""
    notices = []
    updates = {}
    for name, raw in values.items():
        if name not in FIELDS:
            continue
        value, notice = _coerce(name, raw)
        updates[name] = value
        if notice:
            notices.append(notice)
    return dataclasses.replace(base, **updates), notices


# Short URL names: a shared link stays readable.
_URL_NAMES = URL_NAMES
_FROM_URL = {v: k for k, v in _URL_NAMES.items()}


def to_query(lesson: Lesson) -> dict[str, str]:
    """The query-string form of a lesson: only what differs from the defaults (short links).
    A backward walk always names its step: without one it opens at the last step, where the
    walk starts, so t = 0 (where it ends) must be written."""
    out = {}
    for name in FIELDS:
        value = getattr(lesson, name)
        if value == getattr(DEFAULT, name) and not (name == "step" and lesson.mode == "backward"):
            continue
        if name in ("text", "numbers") and (lesson.source != name or len(value) > MAX_URL_TEXT):
            continue  # a link carries the text in use, if it fits in a link
        if isinstance(value, bool):
            value = int(value)
        out[_URL_NAMES.get(name, name)] = str(value)
    return out


def from_query(query: dict[str, str]) -> tuple[Lesson, list[str]]:
    """Parse a query string (already decoded to a dict of strings) into a validated Lesson."""
    values = {_FROM_URL.get(k, k): v for k, v in query.items() if k != "page"}
    cut = [k for k in ("text", "numbers") if len(str(values.get(k, ""))) > MAX_URL_TEXT]
    for k in cut:  # a link carries at most MAX_URL_TEXT characters of text
        values[k] = str(values[k])[:MAX_URL_TEXT]
    unknown = [k for k in values if k not in FIELDS]
    lesson, notices = clean({k: v for k, v in values.items() if k in FIELDS})
    notices += [f"{k} was cut to its first {MAX_URL_TEXT:,} characters" for k in cut]
    if unknown:
        notices.append(
            "ignored unknown link parameters: " + ", ".join(_short(k) for k in unknown[:5])
        )
    return lesson, notices


VIEW_FIELDS = ("step", "unit", "mode", "present")
"""Fields that choose what is looked at, not what is computed: left out of :func:`settings`."""
_INPUT_CONTENT = ("preset", "text", "numbers")
_SETTINGS_ORDER = (
    "cell", "H", "seed", "init", "scale", "forget_bias", "update_bias", "activation", "source",
)  # fmt: skip


def settings(lesson: Lesson, *, measure: bool = False) -> dict[str, Any]:
    """Every setting that determines the computed numbers, defaults included (for exports):
    cell, H, seed, init, scale, forget_bias, update_bias, activation, the input ``source`` and its
    ``input`` (the preset's name, the text, the numbers, or ``"csv upload"``), tokens,
    encoding, dim, T, any further lesson field, and ``measure`` when asked for."""
    content = {
        "preset": lesson.preset,
        "text": lesson.text,
        "numbers": lesson.numbers,
        "csv": "csv upload",
    }[lesson.source]
    skip = set(VIEW_FIELDS) | set(_INPUT_CONTENT) | {"measure"}
    names = list(_SETTINGS_ORDER) + [n for n in FIELDS if n not in _SETTINGS_ORDER]
    out: dict[str, Any] = {}
    for name in names:
        if name in skip:
            continue
        out[name] = getattr(lesson, name)
        if name == "source":
            out["input"] = content
    if lesson.trained:
        out = _trained_settings(lesson, out)
    if measure:
        out["measure"] = lesson.measure
    return out


_UNUSED_WHEN_TRAINED = ("tokens", "label_column", "encoding", "dim", "T")


def _trained_settings(lesson: Lesson, out: dict[str, Any]) -> dict[str, Any]:
    """A trained lesson's settings: the trained cells' own H, seed, initialisation, biases and
    activation (the sidebar's are not used), the task's sequence as the input, and the
    training (task, lag, learning rate, steps per cell). A link that does not parse keeps the
    sidebar's values (the page stops with its error before any export)."""
    from engine import InputError

    from .training import parse_trained, sample_seed

    try:
        spec = parse_trained(lesson.trained)
    except InputError:
        return out
    kept = {k: v for k, v in out.items() if k not in _UNUSED_WHEN_TRAINED}
    return kept | {
        "H": spec.H, "seed": spec.seed, "init": "uniform", "scale": 1.0,
        "forget_bias": spec.forget_bias, "update_bias": spec.update_bias,
        "activation": spec.activation, "source": "task",
        "input": f"{spec.task} task sequence, lag {spec.lag}, drawn by seed {sample_seed(spec)}",
        "trained_task": spec.task, "trained_lag": spec.lag, "trained_lr": spec.lr,
        "trained_steps": spec.steps_of,
    }  # fmt: skip
