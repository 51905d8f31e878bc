"""Tests for engine.inputs: every format, every error, limits, presets, and fuzzing."""

import dataclasses
import os
import subprocess
import sys
import unicodedata
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.inputs import (
    DEFAULT_LIMITS,
    NUMERIC_PRESETS,
    PRESETS,
    TEXT_PRESETS,
    Limits,
    Sequence,
    encode_text,
    parse_csv,
    parse_numbers,
    preset,
    tokenize,
)

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=200, deadline=None)


def only_input_errors(parse, *args, **kwargs):
    """Call ``parse``; return its Sequence, or None after a short InputError. Warnings fail."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return parse(*args, **kwargs)
        except InputError as error:
            assert 0 < len(str(error)) < 300, "messages stay short"
            return None


def assert_valid(seq):
    """The invariants every parsed Sequence keeps."""
    assert seq.values.dtype == np.float64
    assert seq.values.shape == (seq.T, seq.D) == (len(seq.labels), len(seq.features))
    assert not seq.values.flags.writeable
    assert np.all(np.isfinite(seq.values))
    assert np.all(np.abs(seq.values) <= 1e6)


# --- numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5, 1, -2", [[0.5], [1], [-2]]),
        ("0.5 1\t-2", [[0.5], [1], [-2]]),
        ("0.5,1,-2,", [[0.5], [1], [-2]]),
        ("1\n2\n3\n", [[1], [2], [3]]),
        ("42", [[42]]),
        ("1e-3, +2, −3, .5, 5., 1E2", [[1e-3], [2], [-3], [0.5], [5], [100]]),
        ("1e6 -1e6 1e-400", [[1e6], [-1e6], [0]]),
        ("1 2; 3 4", [[1, 2], [3, 4]]),
        ("1 2;3 4;", [[1, 2], [3, 4]]),
        ("1 2\n3 4", [[1, 2], [3, 4]]),
        ("1, 2\r\n\n3, 4\n", [[1, 2], [3, 4]]),
        ("1 2;\n3 4", [[1, 2], [3, 4]]),
        ("1 2 3;", [[1, 2, 3]]),
        ("1; 2; 3", [[1], [2], [3]]),
    ],
)
def test_parse_numbers(text, expected):
    seq = parse_numbers(text)
    assert_valid(seq)
    np.testing.assert_array_equal(seq.values, expected)
    assert seq.labels == tuple(str(t) for t in range(len(expected)))  # t = 0..T-1
    assert (seq.kind, seq.name) == ("numbers", "your numbers")


@pytest.mark.parametrize(
    ("text", "features"),
    [("1, 2, 3", ("x",)), ("1 2; 3 4", ("x1", "x2")), ("1 2 3\n4 5 6", ("x1", "x2", "x3"))],
)
def test_parse_numbers_features(text, features):
    assert parse_numbers(text).features == features


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Type at least one number"),
        ("  \n\t ", "Type at least one number"),
        (",;,", "Type at least one number"),
        ("1, 2, abc", "'abc' at step t = 2 is not a number"),
        ("1 2; 3 x", "'x' at step t = 1, feature 2 is not a number"),
        ("1 2\n3 4,5", "Row 2 has 3 values, but row 1 has 2"),
        ("1 2\n3", "Row 2 has 1 value, but row 1 has 2"),
        ("1; 2 3", "Row 2 has 2 values, but row 1 has 1"),
        ("1..2", "'1..2' at step t = 0 is not a number"),
        ("1_000", "'1_000' at step t = 0 is not a number"),
        ("0x10", "'0x10' at step t = 0 is not a number"),
        ("nan", "'nan' at step t = 0 is not a finite number"),
        ("1, NaN", "'NaN' at step t = 1 is not a finite number"),
        ("-inf", "'-inf' at step t = 0 is not a finite number"),
        ("+Infinity", "'+Infinity' at step t = 0 is not a finite number"),
        ("1 2; 3 INF", "'INF' at step t = 1, feature 2 is not a finite number"),
        ("1e999", "'1e999' at step t = 0 is not a finite number"),
        ("−1e999", "'−1e999' at step t = 0 is not a finite number"),
        ("1e308", "between -1e6 and 1e6: '1e308' at step t = 0"),
        ("0, -1000001", "between -1e6 and 1e6: '-1000001' at step t = 1"),
        ("1, " + "a" * 100, "'aaaaaaaaaaaaaaaaaaaa…' at step t = 1 is not a number"),
        ("<script>", "'<script>' at step t = 0 is not a number"),
        ("1 \x07", r"'\x07' at step t = 1 is not a number"),
    ],
)
def test_parse_numbers_errors(text, message):
    with pytest.raises(InputError) as error:
        parse_numbers(text)
    assert message in str(error.value)


def test_non_finite_message_mentions_the_range():
    with pytest.raises(InputError, match=r"between -1e6 and 1e6"):
        parse_numbers("inf")


# --- CSV ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "features"),
    [
        ("when,temp\n0,12\n1,13", [[0, 12], [1, 13]], ("when", "temp")),
        ("1,2\n3,4", [[1, 2], [3, 4]], ("x1", "x2")),
        ("1\n2\n3", [[1], [2], [3]], ("x",)),
        ("temp\n1\n2", [[1], [2]], ("temp",)),
        (",value\n0,5\n1,6", [[0, 5], [1, 6]], ("x1", "value")),
        ("a b , c\td\n1,2", [[1, 2]], ("a b", "c d")),
        ('"x","y"\r\n"1","2"\r\n3 , −4\r\n', [[1, 2], [3, -4]], ("x", "y")),
        ("\n1,2\n\n,\n3,4\n\n", [[1, 2], [3, 4]], ("x1", "x2")),
        ("1,2\r3,4", [[1, 2], [3, 4]], ("x1", "x2")),
        ("\ufeffa,b\n1,2", [[1, 2]], ("a", "b")),
        ("<b>x</b>,😀\n1,2", [[1, 2]], ("<b>x</b>", "😀")),
    ],
)
def test_parse_csv(text, expected, features):
    seq = parse_csv(text)
    assert_valid(seq)
    np.testing.assert_array_equal(seq.values, expected)
    assert seq.features == features
    assert seq.labels == tuple(str(t) for t in range(len(expected)))  # t = 0..T-1
    assert (seq.kind, seq.name) == ("csv", "your CSV file")


def test_parse_csv_bytes_with_bom():
    seq = parse_csv("\ufefftime,température\n0,1.5\n1,−2\n".encode())
    assert seq.features == ("température",)
    assert seq.labels == ("0", "1")
    np.testing.assert_array_equal(seq.values, [[1.5], [-2]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The CSV file is empty"),
        (b"", "The CSV file is empty"),
        ("\n ,  \n", "The CSV file is empty"),
        ("time,temp\n", "header row but no rows of numbers"),
        ("1,2\n3", "Row 2 has 1 value, but row 1 has 2"),
        ("a,b\n1,2,3", "Row 2 has 3 values, but row 1 has 2"),
        ("1,2\n\n3,4,5", "Row 3 has 3 values, but row 1 has 2"),
        ("1,2\n3,abc", "'abc' in row 2, column 2 is not a number"),
        ("a,b\nc,d", "'a' in row 1, column 1 is not a number"),
        ("t,v\n1,\n2,3", "Row 2, column 2 is empty"),
        ("1,nan", "'nan' in row 1, column 2 is not a finite number"),
        ("1,1e999", "'1e999' in row 1, column 2 is not a finite number"),
        ("1,2e6", "between -1e6 and 1e6: '2e6' in row 1, column 2"),
        ('1,"2"x\n3,4', "Row 1 of the CSV file is malformed"),
        ('a,"b\n1,2', "of the CSV file is malformed"),
        ("1,2\n3,\x00", "not a text CSV file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text CSV file"),
        (b"1,2\n\xff\xfe", "not a text CSV file"),
        (b"1,2\n\x00", "not a text CSV file"),
        (b"1," * 50_000, "This file is too large (100,000 bytes)"),
    ],
)
def test_parse_csv_errors(text, message):
    with pytest.raises(InputError) as error:
        parse_csv(text)
    assert message in str(error.value)


# --- text --------------------------------------------------------------------------------


def test_chars_labels_and_vocabulary():
    seq = encode_text("hi hi!")
    assert seq.labels == ("h", "i", "␣", "h", "i", "!")
    assert seq.features == ("h", "i", "␣", "!")
    assert (seq.kind, seq.name) == ("chars", "your text")


def test_words_keep_tokens_as_typed():
    text = "I went to the store, but The store was <b>closed</b> 😀 **really**"
    seq = encode_text(text, unit="words", dim=64)
    assert seq.labels == (
        "I", "went", "to", "the", "store", ",", "but", "The", "store", "was",
        "<", "b", ">", "closed", "<", "/", "b", ">", "😀", "*", "*", "really", "*", "*",
    )  # fmt: skip
    assert seq.features[:6] == ("I", "went", "to", "the", "store", ",")
    assert "The" in seq.features  # no lower-casing
    assert seq.kind == "words"


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("a\x00b", ("a", "�", "b")),
        ("a\r\nb\tc", ("a", "↵", "b", "⇥", "c")),
        ("x\u202ey", ("x", "�", "y")),
        ("日本\u3000語", ("日", "本", "␣", "語")),
        ("é😀", ("é", "😀")),
    ],
)
def test_labels_are_printable(text, labels):
    assert encode_text(text).labels == labels


def test_onehot_rows_sum_to_one():
    seq = encode_text("the cat sat on the mat", unit="words")
    assert_valid(seq)
    np.testing.assert_array_equal(seq.values.sum(axis=1), 1)
    assert seq.features == ("the", "cat", "sat", "on", "mat")
    np.testing.assert_array_equal(seq.values[:, 0], [1, 0, 0, 0, 1, 0])  # "the" twice


def test_onehot_other_column_takes_rare_tokens():
    seq = encode_text("d a b a c b a", unit="words", dim=3)
    assert seq.features == ("a", "b", "other")  # the 2 most frequent keep a column
    np.testing.assert_array_equal(seq.values.argmax(axis=1), [2, 0, 1, 0, 2, 1, 0])
    np.testing.assert_array_equal(seq.values.sum(axis=1), 1)


def test_onehot_frequency_ties_go_to_first_appearance():
    seq = encode_text("w x y z", unit="words", dim=3)
    assert seq.features == ("w", "x", "other")
    np.testing.assert_array_equal(seq.values.argmax(axis=1), [0, 1, 2, 2])


@pytest.mark.parametrize(("text", "dim", "D"), [("abc", 16, 3), ("abcabc", 2, 2), ("aaa", 1, 1)])
def test_onehot_width_is_min_of_vocabulary_and_dim(text, dim, D):
    assert encode_text(text, dim=dim).D == D


def test_onehot_dim_one_puts_everything_in_other():
    seq = encode_text("ab", dim=1)
    assert seq.features == ("other",)
    np.testing.assert_array_equal(seq.values, [[1], [1]])


def test_embedding_is_deterministic_and_unit_length():
    seq = encode_text("to be or not to be", unit="words", encoding="embedding", dim=8)
    assert_valid(seq)
    assert seq.features == tuple(f"e{k}" for k in range(8))
    np.testing.assert_allclose(np.linalg.norm(seq.values, axis=1), 1)
    np.testing.assert_array_equal(seq.values[0], seq.values[4])  # "to" both times
    again = encode_text("be", unit="words", encoding="embedding", dim=8)
    np.testing.assert_array_equal(again.values[0], seq.values[1])  # same token, new call
    assert not np.allclose(seq.values[0], seq.values[1])  # different tokens differ


def test_embedding_depends_on_seed():
    a = encode_text("word", unit="words", encoding="embedding", seed=0).values
    b = encode_text("word", unit="words", encoding="embedding", seed=1).values
    assert not np.allclose(a, b)


def test_embedding_is_the_same_in_another_process():
    code = (
        "from engine.inputs import encode_text;"
        "print(encode_text('ok', encoding='embedding', dim=4, seed=7).values.tolist())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    here = encode_text("ok", encoding="embedding", dim=4, seed=7).values.tolist()
    assert out.strip() == str(here)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": ""}, "Type some text first"),
        ({"text": " \n\t"}, "Type some text first"),
        ({"text": "ab", "unit": "letters"}, "Unknown unit 'letters'"),
        ({"text": "ab", "encoding": "bag"}, "Unknown encoding 'bag'"),
        ({"text": "ab", "unit": "x" * 50}, "'xxxxxxxxxxxxxxxxxxxx…'"),
        ({"text": "ab", "dim": 0}, "vector size must be a whole number from 1 to 64"),
        ({"text": "ab", "dim": 65}, "vector size must be a whole number from 1 to 64"),
        ({"text": "ab", "dim": 2.5}, "vector size must be a whole number from 1 to 64"),
        ({"text": "a" * 2001}, "2,001 characters; the limit is 2,000 steps"),
        ({"text": "a" * 2001}, "words instead of characters"),
        ({"text": "a " * 2001, "unit": "words"}, "2,001 words and punctuation marks"),
    ],
)
def test_encode_text_errors(kwargs, message):
    with pytest.raises(InputError) as error:
        encode_text(**kwargs)
    assert message in str(error.value)


# --- presets -----------------------------------------------------------------------------


def test_preset_names():
    assert TEXT_PRESETS == ("Wallet (text)", "Allergy (text)", "Cereal (text)")
    assert NUMERIC_PRESETS == ("Impulse", "Sine wave", "White noise", "Adding problem")
    assert list(PRESETS) == [*TEXT_PRESETS, *NUMERIC_PRESETS]


@pytest.mark.parametrize(
    ("name", "shape", "features"),
    [
        ("Wallet (text)", (15, 13), None),
        ("Allergy (text)", (12, 11), None),  # "can't" is one word
        ("Cereal (text)", (19, 16), None),
        ("Impulse", (40, 1), ("x",)),
        ("Sine wave", (60, 1), ("x",)),
        ("White noise", (50, 1), ("x",)),
        ("Adding problem", (50, 2), ("value", "marker")),
    ],
)
def test_every_preset_loads(name, shape, features):
    seq = preset(name)
    assert_valid(seq)
    assert seq.values.shape == shape
    assert (seq.kind, seq.name) == ("preset", name)
    if features is not None:
        assert seq.features == features
        assert seq.labels == tuple(str(t) for t in range(shape[0]))


def test_text_preset_uses_the_text_and_encoding():
    seq = preset("Wallet (text)")
    assert seq.labels[:8] == ("I", "went", "to", "the", "ice", "cream", "store", ",")
    chars = preset("Allergy (text)", unit="chars", encoding="embedding", dim=5)
    assert "".join(chars.labels) == PRESETS["Allergy (text)"].replace(" ", "␣")
    assert chars.D == 5


def test_numeric_preset_values():
    np.testing.assert_array_equal(preset("Impulse", steps=5).values[:, 0], [1, 0, 0, 0, 0])
    t = np.arange(30)
    np.testing.assert_allclose(
        preset("Sine wave", steps=30).values[:, 0], np.sin(2 * np.pi * t / 20)
    )


@pytest.mark.parametrize("steps", [2, 3, 7, 50, 2000])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_adding_problem_has_one_marker_in_each_half(steps, seed):
    values = preset("Adding problem", steps=steps, seed=seed).values
    marks = np.flatnonzero(values[:, 1])
    assert set(np.unique(values[:, 1])) <= {0.0, 1.0}
    assert len(marks) == 2
    assert marks[0] < steps // 2 <= marks[1]
    assert np.all((values[:, 0] >= 0) & (values[:, 0] < 1))


@pytest.mark.parametrize("name", ["White noise", "Adding problem"])
def test_random_presets_follow_the_seed(name):
    np.testing.assert_array_equal(preset(name, seed=3).values, preset(name, seed=3).values)
    assert not np.array_equal(preset(name, seed=3).values, preset(name, seed=4).values)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Sawtooth"}, "Unknown preset 'Sawtooth': choose one of Wallet (text), "),
        ({"name": "Impulse", "steps": 0}, "number of steps must be a whole number from 1 to 2,000"),
        ({"name": "Impulse", "steps": 2001}, "from 1 to 2,000"),
        ({"name": "Impulse", "steps": 2.5}, "from 1 to 2,000"),
        ({"name": "White noise", "seed": -1}, "seed must be a whole number"),
        ({"name": "Cereal (text)", "dim": 100}, "vector size"),
    ],
)
def test_preset_errors(kwargs, message):
    with pytest.raises(InputError) as error:
        preset(**kwargs)
    assert message in str(error.value)


# --- Sequence and limits ---------------------------------------------------------------------


def test_sequence_is_read_only():
    seq = parse_numbers("1, 2")
    with pytest.raises(ValueError, match="read-only"):
        seq.values[0, 0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        seq.kind = "csv"


def test_sequence_copies_its_values():
    values = np.zeros((2, 1))
    seq = Sequence(values, ("1", "2"), ("x",), "numbers", "test")
    values[0, 0] = 1.0
    assert seq.values[0, 0] == 0.0
    assert (seq.T, seq.D) == (2, 1)


def test_default_limits():
    assert DEFAULT_LIMITS == Limits(max_steps=2000, max_features=64, max_chars=20000)


def test_steps_limit_message():
    with pytest.raises(InputError) as error:
        parse_numbers(" ".join(["1"] * 2345))
    assert str(error.value) == "Your sequence has 2,345 steps; the limit is 2,000."


SMALL = Limits(max_steps=5, max_features=2, max_chars=40)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_numbers, "1 2 3 4 5 6", "6 steps; the limit is 5"),
        (parse_numbers, "1 2 3; 4 5 6", "3 values per step; the limit is 2"),
        (parse_numbers, "1 " * 21, "42 characters; the limit is 40"),
        (parse_csv, "1\n2\n3\n4\n5\n6", "6 steps; the limit is 5"),
        (parse_csv, "a,b,c\n1,2,3", "3 values per step; the limit is 2"),
        (parse_csv, b"1," * 100, "too large (200 bytes); the limit is 40 characters"),
        (partial(encode_text, dim=2), "abcdef", "6 characters; the limit is 5 steps"),
        (partial(encode_text, dim=2), "x" * 41, "41 characters; the limit is 40"),
    ],
)
def test_custom_limits(parse, text, message):
    with pytest.raises(InputError) as error:
        parse(text, limits=SMALL)
    assert message in str(error.value)
    assert parse("1", limits=SMALL).T == 1  # small input still passes


def test_custom_limits_for_text_and_presets():
    with pytest.raises(InputError, match="from 1 to 2"):
        encode_text("ab", dim=3, limits=SMALL)
    with pytest.raises(InputError, match="from 1 to 5"):
        preset("Impulse", limits=SMALL)
    assert preset("Impulse", steps=5, limits=SMALL).T == 5


@pytest.mark.parametrize(
    "parse",
    [parse_numbers, parse_csv, encode_text, lambda text: parse_csv(text.encode())],
)
def test_huge_input_is_rejected_by_its_length(parse):
    text = "1, " * 333_334  # a million characters: refused by the length check, before parsing
    with pytest.raises(InputError, match="the limit is 20,000"):
        parse(text)


# --- fuzzing: nothing but InputError, no warnings --------------------------------------------

NUMBERISH = st.text(alphabet="0123456789 .,;\n\t+-−eEinfaINF_x", max_size=60)
CSVISH = st.text(alphabet='0123456789 .,;\n\r\t+-−eE"ab\x00', max_size=60)


@FUZZ
@given(st.one_of(st.text(), NUMBERISH))
def test_parse_numbers_fuzz(text):
    seq = only_input_errors(parse_numbers, text)
    if seq is not None:
        assert_valid(seq)


@FUZZ
@given(st.one_of(st.text(), CSVISH))
def test_parse_csv_text_fuzz(text):
    seq = only_input_errors(parse_csv, text)
    if seq is not None:
        assert_valid(seq)


@FUZZ
@given(st.one_of(st.binary(), CSVISH.map(lambda text: text.encode())))
def test_parse_csv_bytes_fuzz(data):
    seq = only_input_errors(parse_csv, data)
    if seq is not None:
        assert_valid(seq)


@FUZZ
@given(
    st.text(),
    st.sampled_from(["chars", "words"]),
    st.sampled_from(["onehot", "embedding"]),
    st.integers(0, 70),
)
def test_encode_text_fuzz(text, unit, encoding, dim):
    seq = only_input_errors(encode_text, text, unit=unit, encoding=encoding, dim=dim)
    if seq is not None:
        assert_valid(seq)
        assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in "".join(seq.labels))
        if encoding == "onehot":
            np.testing.assert_array_equal(seq.values.sum(axis=1), 1)


# --- inputs a learner expects (issue 9): one step, t from 0, label columns, graphemes, words --


@pytest.mark.parametrize(
    "make",
    [
        lambda: parse_numbers("7"),
        lambda: parse_numbers("1 2;"),
        lambda: parse_csv("7"),
        lambda: parse_csv("x\n7"),
        lambda: parse_csv("a,b\n1,2"),
        lambda: parse_csv("time,x\n0,7"),
        lambda: parse_csv(b"time,x\n0,7\n"),
        lambda: encode_text("a"),
        lambda: encode_text("😀", encoding="embedding"),
        lambda: encode_text("👩‍💻"),
        lambda: encode_text("  word  ", unit="words"),
        lambda: encode_text("can't", unit="words"),
        *[partial(preset, name, steps=1) for name in NUMERIC_PRESETS],
    ],
)
def test_one_step_sequences_work(make):
    seq = make()
    assert_valid(seq)
    assert seq.T == 1
    if seq.kind in ("numbers", "csv", "preset"):
        assert seq.labels == ("0",)


def test_one_step_adding_problem_marks_its_only_step():
    values = preset("Adding problem", steps=1, seed=4).values
    assert values.shape == (1, 2)
    assert values[0, 1] == 1.0
    assert 0 <= values[0, 0] < 1


def test_numeric_labels_count_from_zero_everywhere():
    want = ("0", "1", "2")
    assert parse_numbers("5 6 7").labels == want
    assert parse_numbers("1 2; 3 4; 5 6").labels == want
    assert parse_csv("5\n6\n7").labels == want
    assert parse_csv("a,b\n1,2\n3,4\n5,6").labels == want
    assert preset("Sine wave", steps=3).labels == want


def test_figures_read_numeric_labels_as_plain_steps():
    """The figures' convention matches: label "t" at step t is a plain step number."""
    from types import SimpleNamespace

    from figures import style, timeline

    seq = parse_numbers("0.25 0.5 0.75")
    assert style.step_labels(seq.labels, 3) == ["0", "1", "2"]
    trace = SimpleNamespace(xs=seq.values)
    assert [timeline._token(trace, seq.labels, t) for t in range(3)] == [
        style.fmt_value(v) for v in (0.25, 0.5, 0.75)
    ]
    timed = parse_csv("time (s),x\n0.5,1\n1.0,2")  # labels that are not the step numbers
    assert style.step_labels(timed.labels, 2) == ["0·0.5", "1·1.0"]
    assert timeline._token(SimpleNamespace(xs=timed.values), timed.labels, 1) == "1.0"
    counted = parse_csv("step,x\n0,1\n1,2")  # a step column 0, 1, ... is the step numbers
    assert style.step_labels(counted.labels, 2) == ["0", "1"]


@pytest.mark.parametrize(
    "name",
    [
        "time", "Time", "TIME", "t", "T", "step", "Step", "index", "Index", "timestep",
        "time step", "Time_Step", "time (s)", "Time [ms]", "t (min)", "time(s)", "time_s",
        "time / s", "t_ms", "time sec", "  time  ",
    ],
)  # fmt: skip
def test_a_first_time_column_becomes_the_labels(name):
    seq = parse_csv(f"{name},temp,wind\n0.0,12,3\n0.5,13,4\n1.0,11,5\n")
    assert seq.labels == ("0.0", "0.5", "1.0")  # as typed
    assert seq.features == ("temp", "wind")
    np.testing.assert_array_equal(seq.values, [[12, 3], [13, 4], [11, 5]])


@pytest.mark.parametrize(
    ("text", "features"),
    [
        ("times,temp\n0,12", ("times", "temp")),
        ("timing,temp\n0,12", ("timing", "temp")),
        ("step size,temp\n0,12", ("step size", "temp")),
        ("tt,temp\n0,12", ("tt", "temp")),
        ("index2,temp\n0,12", ("index2", "temp")),
        ("temp,time\n12,0", ("temp", "time")),  # only a first column is taken on its own
        ("time\n0\n1", ("time",)),  # nothing else to be a feature: the column stays one
        (",value\n0,5", ("x1", "value")),
    ],
)
def test_other_columns_stay_features(text, features):
    seq = parse_csv(text)
    assert seq.features == features
    assert seq.labels == tuple(str(t) for t in range(seq.T))


def test_time_labels_may_be_any_text():
    seq = parse_csv("Time,temp\n2024-03-01,12\n2024-03-02 ,13\nMon\u202e,14\n")
    assert seq.labels == ("2024-03-01", "2024-03-02", "Mon�")  # trimmed, made printable
    np.testing.assert_array_equal(seq.values, [[12], [13], [14]])


@pytest.mark.parametrize(
    ("text", "label_column", "labels", "features", "values"),
    [
        ("time,temp\n0,12\n1,13", None, ("0", "1"), ("time", "temp"), [[0, 12], [1, 13]]),
        ("time,temp\n0,12\n1,13", "auto", ("0", "1"), ("temp",), [[12], [13]]),
        ("date,temp\nmon,12\ntue,13", "date", ("mon", "tue"), ("temp",), [[12], [13]]),
        ("date,temp\nmon,12\ntue,13", " DATE ", ("mon", "tue"), ("temp",), [[12], [13]]),
        ("a,when,b\n1,x,2\n3,y,4", "When", ("x", "y"), ("a", "b"), [[1, 2], [3, 4]]),
        ("a,when,b\n1,x,2\n3,y,4", 1, ("x", "y"), ("a", "b"), [[1, 2], [3, 4]]),
        ("time,temp\n0,12\n1,13", 1, ("12", "13"), ("time",), [[0], [1]]),
        ("1,10,5\n2,20,6", 0, ("1", "2"), ("x2", "x3"), [[10, 5], [20, 6]]),
        ("1,10,5\n2,20,6", "x3", ("5", "6"), ("x1", "x2"), [[1, 10], [2, 20]]),
        ("mon,5\ntue,6", 0, ("mon", "tue"), ("x2",), [[5], [6]]),
        ("day,5\nmon,6", 0, ("day", "mon"), ("x2",), [[5], [6]]),  # no header: "5" is a number
        ("mon,5", 0, ("mon",), ("x2",), [[5]]),
    ],
)
def test_label_column_can_be_picked(text, label_column, labels, features, values):
    seq = parse_csv(text, label_column=label_column)
    assert_valid(seq)
    assert (seq.labels, seq.features) == (labels, features)
    np.testing.assert_array_equal(seq.values, values)


@pytest.mark.parametrize(
    ("text", "label_column", "message"),
    [
        ("time,temp\n0,1", "wind", "The CSV file has no column named 'wind'; its columns are "
                                   "'time', 'temp'."),
        ("1,2\n3,4", "time", "no column named 'time'; its columns are 'x1', 'x2'."),
        ("a,b,c,d,e,f,g\n1,2,3,4,5,6,7", "z", "'e', 'f', …"),
        ("time,temp\n0,1", 2, "There is no column number 2: this CSV file has 2 columns, "
                              "numbered 0 to 1."),
        ("time,temp\n0,1", -1, "There is no column number -1"),
        ("time,temp\n0,1", True, "There is no column number True"),
        ("time,temp\n0,1", 1.0, "The label column must be a column name, a column number"),
        ("time\n0\n1", "time", "needs a column of numbers beside its column of step labels"),
        ("5\n6", 0, "needs a column of numbers beside its column of step labels"),
        ("time,x\n0,1\n,2", "auto", "Row 3, column 1 (time) is empty: every row needs a step "
                                    "label."),
        ("1,2\n,3", 0, "Row 2, column 1 (x1) is empty"),
        ("time,x\n0,1\n1,a", "auto", "'a' in row 3, column 2 is not a number"),
        ("day,x\nmon,1", "auto", "'day' in row 1, column 1 is not a number"),  # not a time
        ("time,temp\n", "auto", "header row but no rows of numbers"),
    ],
)  # fmt: skip
def test_label_column_errors(text, label_column, message):
    with pytest.raises(InputError) as error:
        parse_csv(text, label_column=label_column)
    assert message in str(error.value)


def test_label_column_leaves_room_in_the_limits():
    small = Limits(max_steps=5, max_features=2, max_chars=100)
    assert parse_csv("time,a,b\n0,1,2", limits=small).features == ("a", "b")
    with pytest.raises(InputError, match="3 values per step; the limit is 2"):
        parse_csv("time,a,b,c\n0,1,2,3", limits=small)


WHOLE_CHARACTERS = [
    "👩\u200d💻",  # woman technologist: a ZWJ sequence
    "👨\u200d👩\u200d👧",  # family
    "🏳\ufe0f\u200d🌈",  # rainbow flag: variation selector and ZWJ
    "🇫🇷",  # a flag: two regional indicators
    "🇩🇪",
    "👍🏽",  # skin tone modifier
    "👋🏿",
    "❤\ufe0f",  # emoji presentation selector
    "1\ufe0f\u20e3",  # keycap
    "e\u0301",  # é as e + combining acute accent
    "n\u0303\u0323",  # two combining marks
    "각",  # Hangul syllable written as three jamo
    "é",
    "a",
    "日",
]


@pytest.mark.parametrize("char", WHOLE_CHARACTERS)
def test_a_user_perceived_character_is_one_step(char):
    seq = encode_text(f"x{char}y{char}")
    assert seq.labels == ("x", char, "y", char)
    assert seq.features == ("x", char, "y")
    assert tokenize(f"{char} {char}", "words") == [char, char]


def test_emoji_text_by_characters():
    assert tokenize("I ❤️ 🇫🇷!", "chars") == ["I", " ", "❤\ufe0f", " ", "🇫🇷", "!"]
    assert tokenize("🇫🇷🇩🇪🇮", "chars") == ["🇫🇷", "🇩🇪", "🇮"]  # flags pair up in order
    assert tokenize("cafe\u0301\r\n", "chars") == ["c", "a", "f", "e\u0301", "\n"]
    with pytest.raises(InputError, match="27 characters; the limit is 5 steps"):
        encode_text("👩\u200d💻" * 27, limits=Limits(max_steps=5))


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("I can't go.", ["I", "can't", "go", "."]),
        ("don't won’t", ["don't", "won’t"]),
        ("it's a well-known rock'n'roll song", ["it's", "a", "well-known", "rock'n'roll", "song"]),
        ("state-of-the-art", ["state-of-the-art"]),
        ("non\u2010stop non\u2011stop", ["non\u2010stop", "non\u2011stop"]),
        ("O'Neill's", ["O'Neill's"]),
        ("l'été", ["l'été"]),
        ("cafe\u0301 au lait", ["cafe\u0301", "au", "lait"]),
        ("store, but", ["store", ",", "but"]),
        ("'quoted'", ["'", "quoted", "'"]),
        ("students' books", ["students", "'", "books"]),
        ("well - known", ["well", "-", "known"]),
        ("a--b", ["a", "-", "-", "b"]),
        ("-x", ["-", "x"]),
        ("x-", ["x", "-"]),
        ("1990–2000", ["1990", "–", "2000"]),  # an en dash is punctuation
        ("3.14", ["3", ".", "14"]),
        ("wait...", ["wait", ".", ".", "."]),
        ("<b>hi</b>", ["<", "b", ">", "hi", "<", "/", "b", ">"]),
        ("hi👩\u200d💻!", ["hi", "👩\u200d💻", "!"]),
        ("👍🏽👍🏽 🇫🇷", ["👍🏽", "👍🏽", "🇫🇷"]),
        ("snake_case", ["snake_case"]),
        ("日本語です。", ["日本語です", "。"]),
    ],
)
def test_words_keep_contractions_and_hyphenated_words(text, tokens):
    assert tokenize(text, "words") == tokens
    assert encode_text(text, unit="words", dim=64).labels == tuple(tokens)


def test_allergy_preset_reads_cant_as_one_word():
    seq = preset("Allergy (text)")
    assert "can't" in seq.labels
    assert seq.labels[6:9] == ("She", "can't", "eat")


def test_tokenize_refuses_an_unknown_unit():
    with pytest.raises(InputError, match="Unknown unit 'bytes'"):
        tokenize("ab", "bytes")


PIECES = st.sampled_from(
    [*WHOLE_CHARACTERS, " ", "\n", "'", "’", "-", ",", ".", "!", "b", "Z", "9", "_", "\u00a0"]
)


@FUZZ
@given(st.lists(PIECES, max_size=30))
def test_tokens_never_split_a_user_perceived_character(pieces):
    """Built from whole characters, the text is cut only between them, in both units."""
    text = "".join(pieces)
    chars = tokenize(text, "chars")
    assert chars == pieces
    words = tokenize(text, "words")
    assert "".join(words) == "".join(piece for piece in pieces if not piece.isspace())
    kept = [piece for piece in pieces if not piece.isspace()]
    kept_edges = {0, *np.cumsum([len(piece) for piece in kept]).tolist()}
    assert set(np.cumsum([len(word) for word in words]).tolist()) <= kept_edges


@FUZZ
@given(st.text(max_size=80))
def test_tokens_join_back_into_the_text(text):
    """Characters join back into the text; words into the text minus its whitespace, and
    every word is a run of whole characters."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    chars = tokenize(text, "chars")
    assert "".join(chars) == normalized
    assert all(chars)
    visible = [char for char in chars if not char.isspace()]
    words = tokenize(text, "words")
    assert "".join(words) == "".join(visible)
    char_edges = set(np.cumsum([0, *map(len, visible)]).tolist())
    assert set(np.cumsum([0, *map(len, words)]).tolist()) <= char_edges
