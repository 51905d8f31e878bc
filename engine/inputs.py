"""Turn what a learner types, uploads or picks into a (T, D) float64 sequence.

Every parser returns a read-only :class:`Sequence` or raises :class:`~engine.errors.InputError`
with a message written for the learner; for any ``str`` input nothing else is ever raised.
Sizes are checked against :class:`Limits` before any heavy work, so a huge paste is rejected
at once.

Formats::

    parse_numbers("0.5, 1, -2")         # T=3, D=1: one value per step
    parse_numbers("1 2; 3 4")           # T=2, D=2: ";" (or a new line) ends a step
    parse_csv("time,temp\\n0,12\\n1,13") # header row -> names; "time" -> step labels
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
import regex

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
    "tokenize",
]

_MAX_ABS = 1e6  # larger magnitudes make the figures meaningless and overflow later math

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity|∞)", re.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")  # one user-perceived character (extended grapheme cluster)
_WORD_CHAR = regex.compile(r"\w")  # Unicode word character: letters, marks, digits, "_"
_WORD_JOINERS = frozenset("'\u2019-\u2010\u2011")  # ' ’ - ‐ ‑ inside a word: can't, well-known
# A header naming the steps: time, t, step, index, timestep, optionally with a unit such as
# "time (s)", "t [ms]", "time_s" or "time/s".
_TIME_UNITS = r"s|sec|secs|seconds?|ms|us|µs|μs|ns|min|mins|minutes?|h|hr|hrs|hours?|d|days?"
_TIME_NAME = regex.compile(
    rf"(?:time|t|step|index|time[ _-]?step)"
    rf"(?:\s*[(\[][^()\[\]]{{0,20}}[)\]]|\s*[_/]\s*(?:{_TIME_UNITS})|\s+(?:{_TIME_UNITS}))?",
    regex.IGNORECASE,
)

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
        One per step: the token for text, the step number t = ``"0"``..``"T-1"`` for numbers
        (the same t as the engine, the step slider and the links), or a CSV file's label
        column as typed (e.g. its ``time`` column).
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
        kind ``"numbers"``; labels ``"0"``..``"T-1"``; features ``"x"`` or ``"x1"``..``"xD"``.

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
            _to_float(token, f"at step t = {t}, feature {j}" if several else f"at step t = {t}")
            for j, token in enumerate(row, start=1)
        ]
        for t, row in enumerate(rows)
    ]
    return Sequence(
        values=np.array(values),
        labels=_step_labels(len(rows)),
        features=_number_features(len(rows[0])),
        kind="numbers",
        name="your numbers",
    )


# --- CSV ---------------------------------------------------------------------------------


def parse_csv(
    text: str | bytes,
    *,
    label_column: str | int | None = "auto",
    limits: Limits = DEFAULT_LIMITS,
) -> Sequence:
    """Parse CSV text (or an uploaded file's bytes): rows are steps, columns are features.

    The first row is a header when it has a cell that is not a number while the second row is
    all numbers (or missing); its cells become the feature names. Blank rows are skipped.
    One column may hold the step labels instead of a feature (``label_column``).

    Parameters
    ----------
    text : str or bytes
        CSV text, or bytes decoded as UTF-8 (a byte-order mark is dropped).
    label_column : str, int or None
        The column whose cells label the steps; it is not a feature and its cells may be any
        text (``0.5``, ``2024-03-01``, ``Monday``). ``"auto"`` (default): the first column
        when its header is ``time``, ``t``, ``step``, ``index`` or ``timestep`` in any case,
        optionally with a unit (``"Time (s)"``, ``"t [ms]"``, ``"time_s"``), and at least one
        other column follows. A header name (any case; without a header row ``"x1"``..``"xD"``)
        or a 0-based column number picks that column. ``None``: every column is a feature.
    limits : Limits
        Size limits.

    Returns
    -------
    Sequence
        kind ``"csv"``; labels from the label column, else t = ``"0"``..``"T-1"``; features
        from the header, else ``"x"`` or ``"x1"``..``"xD"`` (the label column left out, the
        others keep their names).

    Raises
    ------
    InputError
        Binary or undecodable bytes, empty text, broken quoting, rows of different widths,
        empty or non-numeric cells, an unknown or empty label column, no feature column left
        beside the labels, or a table beyond the limits.
    """
    if isinstance(text, bytes):
        text = _decode(text, limits)
    _check_length(text, limits)
    if "\x00" in text:
        raise _not_text()
    if not (label_column is None or isinstance(label_column, str | numbers.Integral)):
        raise InputError("The label column must be a column name, a column number or None.")
    rows, row_numbers = _read_csv(text.removeprefix("\ufeff"))
    if not rows:
        raise InputError("The CSV file is empty: it needs at least one row of numbers.")
    _check_widths(rows, row_numbers)
    width = len(rows[0])
    label_at, named = _find_label_column(label_column, rows[0])
    has_header = named or (
        any(cell and not _looks_numeric(cell) for j, cell in enumerate(rows[0]) if j != label_at)
        and (
            len(rows) == 1
            or all(not c or _looks_numeric(c) for j, c in enumerate(rows[1]) if j != label_at)
        )
    )
    names = (
        tuple(_printable(" ".join(name.split())) or f"x{j}" for j, name in enumerate(rows[0], 1))
        if has_header
        else _number_features(width)
    )
    if label_at is None and isinstance(label_column, str) and label_column != "auto":
        label_at = _column_named(label_column, names)
    if has_header:
        rows, row_numbers = rows[1:], row_numbers[1:]
        if not rows:
            raise InputError("The CSV file has a header row but no rows of numbers below it.")
    if label_at is not None and width == 1:
        raise InputError("The CSV file needs a column of numbers beside its column of step labels.")
    _check_shape(len(rows), width - (label_at is not None), limits)
    values = [
        [_csv_cell(cell, n, j) for j, cell in enumerate(row, start=1) if j - 1 != label_at]
        for n, row in zip(row_numbers, rows, strict=True)
    ]
    labels = (
        _step_labels(len(rows))
        if label_at is None
        else tuple(
            _csv_label(row[label_at], n, label_at, names[label_at])
            for n, row in zip(row_numbers, rows, strict=True)
        )
    )
    return Sequence(
        values=np.array(values),
        labels=labels,
        features=tuple(name for j, name in enumerate(names) if j != label_at),
        kind="csv",
        name="your CSV file",
    )


def _find_label_column(label_column: str | int | None, first: list[str]) -> tuple[int | None, bool]:
    """The label column's index, if the first row (read as a header) or a number gives it,
    and whether it was found by its header name (then the first row is a header)."""
    width = len(first)
    if label_column is None:
        return None, False
    if isinstance(label_column, str):
        if label_column == "auto":
            found = width > 1 and _TIME_NAME.fullmatch(first[0]) is not None
            return (0, True) if found else (None, False)
        key = _name_key(label_column)
        at = next((j for j, cell in enumerate(first) if _name_key(cell) == key), None)
        return at, at is not None
    if isinstance(label_column, bool) or not 0 <= label_column < width:
        raise InputError(
            f"There is no column number {label_column}: this CSV file has "
            f"{_count(width, 'column')}, numbered 0 to {width - 1}."
        )
    return int(label_column), False


def _column_named(name: str, names: tuple[str, ...]) -> int:
    """The index of the column called ``name`` (any case), else a learner's error."""
    key = _name_key(name)
    for j, candidate in enumerate(names):
        if _name_key(candidate) == key:
            return j
    shown = ", ".join(_quote(candidate) for candidate in names[:6]) + ", …" * (len(names) > 6)
    raise InputError(f"The CSV file has no column named {_quote(name)}; its columns are {shown}.")


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _csv_label(cell: str, row: int, column: int, name: str) -> str:
    if not cell:
        raise InputError(
            f"Row {row}, column {column + 1} ({name}) is empty: every row needs a step label."
        )
    return _printable(" ".join(cell.split()))


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
    tokens. Tokens come from :func:`tokenize`: characters are user-perceived characters (an
    emoji, a flag or an accented letter is one step however many code points it has); words
    keep contractions and hyphenated words whole (``"can't"``, ``"well-known"``), and each
    other punctuation mark is a token of its own (``"store,"`` gives ``"store"`` and ``","``).

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
    tokens = tokenize(text, unit)
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


def tokenize(text: str, unit: str = "chars") -> list[str]:
    """Split text into the tokens :func:`encode_text` uses, exactly as typed.

    ``"\\r\\n"`` and ``"\\r"`` become ``"\\n"`` first. A token never splits a user-perceived
    character (an extended grapheme cluster of Unicode UAX #29): ``"👩‍💻"``, ``"🇫🇷"``,
    ``"👍🏽"``, ``"❤️"`` and ``"e"`` + U+0301 are one character each.

    Parameters
    ----------
    text : str
        Any text.
    unit : {"chars", "words"}
        ``"chars"``: every character, whitespace included, so the tokens join back into the
        text. ``"words"``: runs of letters, digits and marks, kept whole across an apostrophe
        or hyphen between two of them (``"can't"``, ``"don’t"``, ``"rock'n'roll"``,
        ``"well-known"``); every other character that is not whitespace is a token of its own.
        Whitespace separates words and is dropped.

    Raises
    ------
    InputError
        An unknown unit.
    """
    if unit not in ("chars", "words"):
        raise InputError(f"Unknown unit {_quote(unit)}: choose 'chars' or 'words'.")
    clusters = _GRAPHEME.findall(text.replace("\r\n", "\n").replace("\r", "\n"))
    if unit == "chars":
        return clusters
    tokens, i, n = [], 0, len(clusters)
    while i < n:
        if clusters[i].isspace():
            i += 1
            continue
        end = i + 1
        if _WORD_CHAR.match(clusters[i]):
            while end < n:
                if _WORD_CHAR.match(clusters[end]):
                    end += 1
                elif (
                    clusters[end] in _WORD_JOINERS
                    and end + 1 < n
                    and _WORD_CHAR.match(clusters[end + 1])
                ):
                    end += 2
                else:
                    break
        tokens.append("".join(clusters[i:end]))
        i = end
    return tokens


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
    values[0, 0] = 1.0  # a single kick at the first step, t = 0
    return values


def _sine(steps: int, seed: int) -> np.ndarray:
    t = np.arange(steps)
    return np.sin(2 * np.pi * t / 20)[:, None]  # period of 20 steps


def _white_noise(steps: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((steps, 1))


def _adding_problem(steps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.random(steps)  # uniform in [0, 1)
    half = steps // 2
    marker = np.zeros(steps)
    if steps == 1:
        marker[0] = 1.0  # a single step has no halves: it is the one marked value
    else:
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
    "Impulse": (
        "A single 1 at the first step (t = 0), then zeros: how long does the network remember "
        "a kick?"
    ),
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
        kind ``"preset"``, name ``name``. Numeric presets: labels ``"0"``..``"T-1"``, features
        ``("x",)`` or ``("value", "marker")``. Every numeric preset works with one step (the
        adding problem then marks its only step).

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
    """Read one number; ``where`` says where it was, e.g. "at step t = 2"."""
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
    """The step numbers t = 0..T-1 as labels, like the engine, the figures and the links."""
    return tuple(str(t) for t in range(steps))


def _number_features(width: int) -> tuple[str, ...]:
    return ("x",) if width == 1 else tuple(f"x{j}" for j in range(1, width + 1))
