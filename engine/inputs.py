"""Turn what a learner types, uploads or picks into a (T, D) float64 sequence.

Every parser returns a read-only :class:`Sequence` or raises :class:`~engine.errors.InputError`
with a message written for the learner; for any ``str`` input nothing else is ever raised.
Sizes are checked against :class:`Limits` before any heavy work, so a huge paste is rejected
at once.

Formats::

    parse_numbers("0.5, 1, -2")         # T=3, D=1: one value per step
    parse_numbers("1 2; 3 4")           # T=2, D=2: ";" (or a new line) ends a step
    parse_csv("time,temp\\n0,12\\n1,13") # header row -> feature names
    encode_text("to be or not", unit="words", encoding="onehot")
    preset("Adding problem", steps=30, seed=1)
"""

import csv
import hashlib
import io
import math
import numbers
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from .errors import InputError

__all__ = [
    "DEFAULT_LIMITS",
    "NUMERIC_PRESETS",
    "PRESETS",
    "TEXT_PRESETS",
    "Limits",
    "Sequence",
    "encode_text",
    "parse_csv",
    "parse_numbers",
    "preset",
]

_MAX_ABS = 1e6  # larger magnitudes make the figures meaningless and overflow later math

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity|∞)", re.IGNORECASE)
_WORDS = re.compile(r"\w+|[^\w\s]")  # words and single punctuation marks

_SHOWN_AS = {"\n": "↵", "\t": "⇥"}  # other whitespace is shown as "␣"
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REPLACEMENT = "\ufffd"


@dataclass(frozen=True, eq=False)
class Sequence:
    """A sequence ready for a recurrent network: T steps of D features each.

    Attributes
    ----------
    values : ndarray (T, D)
        float64, read-only; row t is the input x_t.
    labels : tuple[str, ...]
        One per step: the token for text, ``"1"``..``"T"`` for numbers.
    features : tuple[str, ...]
        One per column: CSV header names, vocabulary tokens for one-hot (``"other"`` for the
        shared column of rare tokens), ``"e0"``..``"e{D-1}"`` for an embedding, ``"x"`` or
        ``"x1"``..``"xD"`` for numbers.
    kind : {"numbers", "csv", "chars", "words", "preset"}
        Where the sequence came from.
    name : str
        A short description for titles, e.g. the preset name or ``"your numbers"``.
    """

    values: np.ndarray
    labels: tuple[str, ...]
    features: tuple[str, ...]
    kind: str
    name: str

    def __post_init__(self):
        values = np.array(self.values, dtype=np.float64)
        values.setflags(write=False)
        labels, features = tuple(self.labels), tuple(self.features)
        if values.ndim != 2 or values.shape != (len(labels), len(features)):
            raise ValueError(
                f"values {values.shape} must be (len(labels), len(features)) = "
                f"({len(labels)}, {len(features)})"
            )
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "features", features)

    @property
    def T(self) -> int:
        """Number of steps."""
        return self.values.shape[0]

    @property
    def D(self) -> int:
        """Number of features per step."""
        return self.values.shape[1]


@dataclass(frozen=True)
class Limits:
    """Size limits for user input (all inclusive).

    Attributes
    ----------
    max_steps : int
        Longest sequence T.
    max_features : int
        Widest step D (also the largest one-hot or embedding size).
    max_chars : int
        Longest raw text; anything longer is rejected before it is parsed.
    """

    max_steps: int = 2000
    max_features: int = 64
    max_chars: int = 20000


DEFAULT_LIMITS = Limits()


# --- numbers -----------------------------------------------------------------------------


def parse_numbers(text: str, *, limits: Limits = DEFAULT_LIMITS) -> Sequence:
    """Parse typed numbers into a sequence.

    Values are separated by commas and/or whitespace. With a single line (or one value per
    line) every value is one step (D=1). A ``;`` ends a step, and so does a new line when the
    lines hold several values: ``"1 2; 3 4"`` and ``"1, 2\\n3, 4"`` are T=2, D=2.

    Parameters
    ----------
    text : str
        What the learner typed. Accepts ``1e-3``, a leading ``+`` and the minus sign U+2212.
    limits : Limits
        Size limits.

    Returns
    -------
    Sequence
        kind ``"numbers"``; labels ``"1"``..``"T"``; features ``"x"`` or ``"x1"``..``"xD"``.

    Raises
    ------
    InputError
        Empty text, a token that is not a finite number, a value beyond ±1e6, rows of
        different widths, or a sequence beyond the limits.
    """
    _check_length(text, limits)
    pieces = [piece for line in text.splitlines() for piece in line.split(";")]
    rows = [row for row in (piece.replace(",", " ").split() for piece in pieces) if row]
    if not rows:
        raise InputError("Type at least one number, for example: 0.5, 1, -2.")
    if len(rows) == 1 and ";" not in text:
        rows = [[token] for token in rows[0]]
    _check_widths(rows, list(range(1, len(rows) + 1)))
    _check_shape(len(rows), len(rows[0]), limits)
    several = len(rows[0]) > 1
    values = [
        [
            _to_float(token, f"at step {t}, feature {j}" if several else f"at step {t}")
            for j, token in enumerate(row, start=1)
        ]
        for t, row in enumerate(rows, start=1)
    ]
    return Sequence(
        values=np.array(values),
        labels=_step_labels(len(rows)),
        features=_number_features(len(rows[0])),
        kind="numbers",
        name="your numbers",
    )


# --- CSV ---------------------------------------------------------------------------------


def parse_csv(text: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> Sequence:
    """Parse CSV text (or an uploaded file's bytes): rows are steps, columns are features.

    The first row is a header when it has a cell that is not a number while the second row is
    all numbers (or missing); its cells become the feature names. Blank rows are skipped.

    Parameters
    ----------
    text : str or bytes
        CSV text, or bytes decoded as UTF-8 (a byte-order mark is dropped).
    limits : Limits
        Size limits.

    Returns
    -------
    Sequence
        kind ``"csv"``; labels ``"1"``..``"T"``; features from the header, else ``"x"`` or
        ``"x1"``..``"xD"``.

    Raises
    ------
    InputError
        Binary or undecodable bytes, empty text, broken quoting, rows of different widths,
        empty or non-numeric cells, or a table beyond the limits.
    """
    if isinstance(text, bytes):
        text = _decode(text, limits)
    _check_length(text, limits)
    if "\x00" in text:
        raise _not_text()
    rows, row_numbers = _read_csv(text.removeprefix("\ufeff"))
    if not rows:
        raise InputError("The CSV file is empty: it needs at least one row of numbers.")
    _check_widths(rows, row_numbers)
    has_header = any(cell and not _looks_numeric(cell) for cell in rows[0]) and (
        len(rows) == 1 or all(not cell or _looks_numeric(cell) for cell in rows[1])
    )
    if has_header:
        header, rows, row_numbers = rows[0], rows[1:], row_numbers[1:]
        if not rows:
            raise InputError("The CSV file has a header row but no rows of numbers below it.")
    _check_shape(len(rows), len(rows[0]), limits)
    values = [
        [_csv_cell(cell, n, j) for j, cell in enumerate(row, start=1)]
        for n, row in zip(row_numbers, rows, strict=True)
    ]
    features = (
        tuple(_printable(" ".join(name.split())) or f"x{j}" for j, name in enumerate(header, 1))
        if has_header
        else _number_features(len(rows[0]))
    )
    return Sequence(
        values=np.array(values),
        labels=_step_labels(len(rows)),
        features=features,
        kind="csv",
        name="your CSV file",
    )


def _decode(data: bytes, limits: Limits) -> str:
    """Decode an uploaded file as UTF-8, refusing binary files."""
    if len(data) > 4 * limits.max_chars:  # UTF-8 needs at most 4 bytes per character
        raise InputError(
            f"This file is too large ({len(data):,} bytes); "
            f"the limit is {limits.max_chars:,} characters."
        )
    if b"\x00" in data:
        raise _not_text()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _not_text() from None


def _not_text() -> InputError:
    return InputError(
        "This file is not a text CSV file. Save it as CSV (comma-separated values, UTF-8) "
        "and try again."
    )


def _read_csv(text: str) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows (cells stripped) and the line number where each one ends."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, row_numbers = [], []
    try:
        for row in reader:
            cells = [cell.strip() for cell in row]
            if any(cells):
                rows.append(cells)
                row_numbers.append(reader.line_num)
    except csv.Error:
        raise InputError(
            f"Row {reader.line_num} of the CSV file is malformed: check its quotes and commas."
        ) from None
    return rows, row_numbers


def _csv_cell(cell: str, row: int, column: int) -> float:
    if not cell:
        raise InputError(f"Row {row}, column {column} is empty: every cell needs a number.")
    return _to_float(cell, f"in row {row}, column {column}")


# --- text --------------------------------------------------------------------------------


def encode_text(
    text: str,
    *,
    unit: str = "chars",
    encoding: str = "onehot",
    dim: int = 16,
    seed: int = 0,
    limits: Limits = DEFAULT_LIMITS,
) -> Sequence:
    """Encode text as one vector per character or per word.

    Tokens are kept exactly as typed (no lower-casing); emoji, HTML and markdown are ordinary
    tokens. Characters are Unicode code points; words are runs of letters/digits, and each
    punctuation mark is a token of its own (``"store,"`` gives ``"store"`` and ``","``).

    Parameters
    ----------
    text : str
        What the learner typed.
    unit : {"chars", "words"}
        One step per character or per word.
    encoding : {"onehot", "embedding"}
        ``"onehot"``: one column per token of this text's own vocabulary, in order of first
        appearance; when there are more than ``dim`` distinct tokens, the ``dim - 1`` most
        frequent (ties: first appearance) keep a column and all others share a final
        ``"other"`` column, so D = min(vocabulary size, dim). ``"embedding"``: a fixed random
        unit-length vector of size ``dim`` per token, the same for the same token and seed in
        every run and process (seeded from SHA-256 of ``f"{seed}:{token}"``).
    dim : int
        Largest one-hot width, or the embedding size; 1..``limits.max_features``.
    seed : int
        Embedding seed (ignored by one-hot).
    limits : Limits
        Size limits.

    Returns
    -------
    Sequence
        kind ``unit``; labels are the tokens as typed, with spaces shown as ``"␣"``, new lines
        as ``"↵"``, tabs as ``"⇥"`` and control characters as ``"�"``.

    Raises
    ------
    InputError
        Empty text, too many tokens, ``dim`` out of range, or an unknown unit or encoding.
    """
    _check_length(text, limits)
    if unit not in ("chars", "words"):
        raise InputError(f"Unknown unit {_quote(unit)}: choose 'chars' or 'words'.")
    if encoding not in ("onehot", "embedding"):
        raise InputError(f"Unknown encoding {_quote(encoding)}: choose 'onehot' or 'embedding'.")
    if not _is_count(dim, 1, limits.max_features):
        raise InputError(f"The vector size must be a whole number from 1 to {limits.max_features}.")
    if not text.strip():
        raise InputError("Type some text first, for example: I went to the ice cream store.")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    tokens = list(text) if unit == "chars" else _WORDS.findall(text)
    if len(tokens) > limits.max_steps:
        raise InputError(
            f"Your text has {len(tokens):,} characters; the limit is {limits.max_steps:,} "
            "steps. Split it into words instead of characters, or use a shorter text."
            if unit == "chars"
            else f"Your text has {len(tokens):,} words and punctuation marks; the limit is "
            f"{limits.max_steps:,} steps. Use a shorter text."
        )
    if encoding == "onehot":
        values, features = _one_hot(tokens, dim)
    else:
        values = np.array([_embedding(token, dim, seed) for token in tokens])
        features = tuple(f"e{k}" for k in range(dim))
    return Sequence(
        values=values,
        labels=tuple(_token_label(token) for token in tokens),
        features=features,
        kind=unit,
        name="your text",
    )


def _one_hot(tokens: list[str], dim: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """One-hot rows over the tokens' own vocabulary, rare tokens sharing an "other" column."""
    vocabulary = list(dict.fromkeys(tokens))  # first-appearance order
    if len(vocabulary) <= dim:
        columns = vocabulary
    else:
        counts = Counter(tokens)
        frequent = set(sorted(vocabulary, key=lambda token: -counts[token])[: dim - 1])
        columns = [token for token in vocabulary if token in frequent]
    index = {token: k for k, token in enumerate(columns)}
    other = len(columns)  # only used when some tokens have no column of their own
    values = np.zeros((len(tokens), min(len(vocabulary), dim)))
    values[np.arange(len(tokens)), [index.get(token, other) for token in tokens]] = 1.0
    features = tuple(_token_label(token) for token in columns)
    return values, features + ("other",) * (len(vocabulary) > dim)


def _embedding(token: str, dim: int, seed: int) -> np.ndarray:
    """A unit-length Gaussian vector, fixed by the token and the seed."""
    key = f"{seed}:{token}".encode("utf-8", "surrogatepass")
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest(), "big"))
    vector = rng.standard_normal(dim)  # each entry ~ N(0, 1), so |vector| ≈ sqrt(dim)
    return vector / np.linalg.norm(vector)


def _token_label(token: str) -> str:
    """The token as typed, with whitespace made visible and control characters replaced."""
    return _printable(
        "".join(_SHOWN_AS.get(char, "␣" if char.isspace() else char) for char in token)
    )


def _printable(text: str) -> str:
    """Replace control characters, lone surrogates and bidi overrides with "�"."""
    return "".join(
        _REPLACEMENT
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs")
        else char
        for char in text
    )


# --- presets -----------------------------------------------------------------------------


class _Numeric(NamedTuple):
    default_steps: int
    features: tuple[str, ...]
    build: Callable[[int, int], np.ndarray]  # (steps, seed) -> values (steps, D)


def _impulse(steps: int, seed: int) -> np.ndarray:
    values = np.zeros((steps, 1))
    values[0, 0] = 1.0  # a single kick at step 1
    return values


def _sine(steps: int, seed: int) -> np.ndarray:
    t = np.arange(steps)
    return np.sin(2 * np.pi * t / 20)[:, None]  # period of 20 steps


def _white_noise(steps: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((steps, 1))


def _adding_problem(steps: int, seed: int) -> np.ndarray:
    if steps < 2:
        raise InputError("The adding problem needs at least 2 steps: one marker in each half.")
    rng = np.random.default_rng(seed)
    values = rng.random(steps)  # uniform in [0, 1)
    half = steps // 2
    marker = np.zeros(steps)
    marker[[rng.integers(half), rng.integers(half, steps)]] = 1.0  # one mark in each half
    return np.column_stack([values, marker])


_TEXTS = {
    "Wallet (text)": "I went to the ice cream store, but I forgot to bring my wallet",
    "Allergy (text)": "Alice is allergic to nuts. She can't eat peanut butter.",
    "Cereal (text)": (
        "Amazing! This box of cereal gave me a perfectly balanced breakfast, "
        "as all things should be."
    ),
}
_NUMERIC = {
    "Impulse": _Numeric(40, ("x",), _impulse),
    "Sine wave": _Numeric(60, ("x",), _sine),
    "White noise": _Numeric(50, ("x",), _white_noise),
    "Adding problem": _Numeric(50, ("value", "marker"), _adding_problem),
}

TEXT_PRESETS = tuple(_TEXTS)
NUMERIC_PRESETS = tuple(_NUMERIC)

#: Preset name -> what a learner sees: the text itself, or a one-line description.
PRESETS: dict[str, str] = _TEXTS | {
    "Impulse": "A single 1 at step 1, then zeros: how long does the network remember a kick?",
    "Sine wave": "sin(2π t / 20): a smooth wave that repeats every 20 steps.",
    "White noise": "Independent standard normal values (seeded): nothing to remember.",
    "Adding problem": (
        "Random values in [0, 1) plus a marker that is 1 at two steps, one in each half; the "
        "task is to add the two marked values (Hochreiter & Schmidhuber, 1997)."
    ),
}


def preset(
    name: str,
    *,
    steps: int | None = None,
    dim: int = 16,
    seed: int = 0,
    unit: str = "words",
    encoding: str = "onehot",
    limits: Limits = DEFAULT_LIMITS,
) -> Sequence:
    """Load a ready-made sequence by name.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS`.
    steps : int, optional
        Length of a numeric preset (default: its own, 40 to 60); 1..``limits.max_steps``.
        Text presets have the length of their text and ignore it.
    dim, unit, encoding : see :func:`encode_text`
        How a text preset is encoded.
    seed : int
        Seed of the random presets (white noise, adding problem) and of text embeddings.
    limits : Limits
        Size limits.

    Returns
    -------
    Sequence
        kind ``"preset"``, name ``name``. Numeric presets: labels ``"1"``..``"T"``, features
        ``("x",)`` or ``("value", "marker")``.

    Raises
    ------
    InputError
        Unknown name, or ``steps``, ``seed`` or the text encoding out of range.
    """
    if name in _TEXTS:
        sequence = encode_text(
            _TEXTS[name], unit=unit, encoding=encoding, dim=dim, seed=seed, limits=limits
        )
        return replace(sequence, kind="preset", name=name)
    if name not in _NUMERIC:
        raise InputError(f"Unknown preset {_quote(name)}: choose one of {', '.join(PRESETS)}.")
    spec = _NUMERIC[name]
    steps = spec.default_steps if steps is None else steps
    if not _is_count(steps, 1, limits.max_steps):
        raise InputError(
            f"The number of steps must be a whole number from 1 to {limits.max_steps:,}."
        )
    if not _is_count(seed, 0, math.inf):
        raise InputError("The random seed must be a whole number, 0 or more.")
    return Sequence(
        values=spec.build(int(steps), int(seed)),
        labels=_step_labels(int(steps)),
        features=spec.features,
        kind="preset",
        name=name,
    )


# --- shared checks -----------------------------------------------------------------------


def _check_length(text: str, limits: Limits) -> None:
    """Reject over-long text before looking at it."""
    if len(text) > limits.max_chars:
        raise InputError(
            f"Your text has {len(text):,} characters; the limit is {limits.max_chars:,}."
        )


def _check_shape(steps: int, features: int, limits: Limits) -> None:
    if steps > limits.max_steps:
        raise InputError(f"Your sequence has {steps:,} steps; the limit is {limits.max_steps:,}.")
    if features > limits.max_features:
        raise InputError(
            f"Your sequence has {features:,} values per step; the limit is {limits.max_features:,}."
        )


def _check_widths(rows: list[list[str]], row_numbers: list[int]) -> None:
    """Every row must have as many values as the first one."""
    width = len(rows[0])
    for row, number in zip(rows, row_numbers, strict=True):
        if len(row) != width:
            raise InputError(
                f"Row {number} has {_count(len(row), 'value')}, but row {row_numbers[0]} has "
                f"{width}: every row needs the same number of values."
            )


def _to_float(token: str, where: str) -> float:
    """Read one number; ``where`` says where it was, e.g. "at step 3"."""
    ascii_token = token.replace("\u2212", "-")  # the typographic minus sign
    value = float(ascii_token) if _NUMBER.fullmatch(ascii_token) else None
    if _NON_FINITE.fullmatch(ascii_token) or (value is not None and not math.isfinite(value)):
        raise InputError(
            f"{_quote(token)} {where} is not a finite number: use numbers between -1e6 and 1e6."
        )
    if value is None:
        raise InputError(f"{_quote(token)} {where} is not a number.")
    if abs(value) > _MAX_ABS:
        raise InputError(
            f"Values must be between -1e6 and 1e6: {_quote(token)} {where} is too far from 0."
        )
    return value


def _looks_numeric(cell: str) -> bool:
    cell = cell.replace("\u2212", "-")
    return bool(_NUMBER.fullmatch(cell) or _NON_FINITE.fullmatch(cell))


def _is_count(value, low: int, high: float) -> bool:
    """Whether ``value`` is a whole number in [low, high]."""
    return isinstance(value, numbers.Integral) and low <= value <= high


def _quote(text, limit: int = 20) -> str:
    """Quote user text for a message: shortened, with quotes and escapes like repr."""
    text = str(text)
    return repr(text[:limit] + "…" if len(text) > limit else text)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _step_labels(steps: int) -> tuple[str, ...]:
    return tuple(str(t) for t in range(1, steps + 1))


def _number_features(width: int) -> tuple[str, ...]:
    return ("x",) if width == 1 else tuple(f"x{j}" for j in range(1, width + 1))
