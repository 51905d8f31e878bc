"""The lesson state: links round-trip, and every value from a URL is validated and clamped."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui import state
from ui.state import DEFAULT, Lesson


def test_a_link_round_trips_every_field():
    lesson = Lesson(
        source="text", text="the cat <b>sat</b> & ran", tokens="chars", encoding="embedding",
        dim=8, T=33, cell="gru", H=24, seed=7, init="orthogonal", scale=1.5, forget_bias=3.0,
        activation="relu", measure="bptt", step=5, unit=3, mode="backward", present=True,
    )  # fmt: skip
    back, notices = state.from_query(state.to_query(lesson))
    assert back == lesson and notices == []


def test_defaults_make_an_empty_link_and_unused_text_is_left_out():
    assert state.to_query(DEFAULT) == {}
    q = state.to_query(dataclasses.replace(DEFAULT, text="not in use"))
    assert "text" not in q  # the source is a preset: the text box is not part of the lesson


def test_a_backward_walk_always_names_its_step():
    # without a step a backward link opens at the last step, so t = 0 must be written
    assert state.to_query(dataclasses.replace(DEFAULT, mode="backward")) == {
        "mode": "backward", "step": "0",
    }  # fmt: skip
    assert "step" not in state.to_query(DEFAULT)  # forward: step 0 is the default


def test_text_too_long_for_a_link_is_left_out():
    long = dataclasses.replace(DEFAULT, source="numbers", numbers="1, " * 5000)
    assert "numbers" not in state.to_query(long)


@pytest.mark.parametrize(
    "query, field, expected, notice",
    [
        ({"H": "99999"}, "H", 256, "out of range"),
        ({"H": "-3"}, "H", 1, "out of range"),
        ({"T": "1e9"}, "T", 2000, "out of range"),
        ({"scale": "nan"}, "scale", 1.0, "finite"),
        ({"scale": "inf"}, "scale", 1.0, "finite"),
        ({"seed": "abc"}, "seed", 0, "not a number"),
        ({"cell": "<script>"}, "cell", "lstm", "unknown cell"),
        ({"present": "maybe"}, "present", False, "0 or 1"),
        ({"step": "4.6"}, "step", 5, None),
        ({"fb": "2.5"}, "forget_bias", 2.5, None),
        ({"bogus": "1"}, "cell", "lstm", "ignored unknown"),
    ],
)
def test_tampered_links_are_clamped_with_a_notice(query, field, expected, notice):
    lesson, notices = state.from_query(query)
    assert getattr(lesson, field) == expected
    if notice:
        assert any(notice in n for n in notices), notices
    else:
        assert notices == []


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*state.FIELDS, "fb", "act", "enc", "x"]), st.text()))
def test_any_query_gives_a_valid_lesson(query):
    lesson, _ = state.from_query(query)
    for name, choices in state.CHOICES.items():
        assert getattr(lesson, name) in choices
    for name, (lo, hi) in state.RANGES.items():
        assert lo <= getattr(lesson, name) <= hi
    assert len(lesson.text) <= state.MAX_URL_TEXT
