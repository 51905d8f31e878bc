"""Regime lessons through AppTest: the links, Home's buttons, the sidebar choice, and the
Vanishing gradients page's sentence on the gates."""

from __future__ import annotations

import dataclasses

import pytest
from test_pages import assert_clean, open_page

from engine.lessons import REGIMES
from ui import keys, sidebar, state

VG = "pages/3_Vanishing_gradients.py"
GATES = "pages/2_Gates_over_time.py"


def stored(at, lesson: state.Lesson) -> dict:
    """The lesson fields the app holds, for the fields the regime sets."""
    return {f: at.session_state[f"s_{f}"] for f in state.FIELDS if f in dataclasses.asdict(lesson)}


def texts(at) -> str:
    return "\n".join(m.value for m in at.markdown).replace("\\", "")


def sentence_of(at, lead: str) -> str:
    found = [m.value.replace("\\", "") for m in at.markdown if lead in m.value]
    assert len(found) == 1, f"no single {lead!r} paragraph"
    return found[0]


CLAIMS = {  # what each regime's page must say, computed from its run
    "exploding": ("What to notice", "the RNN multiplies it by 7.4×10⁶"),
    "identity_relu": ("What to notice", "After 199 steps the RNN keeps 1 of the gradient"),
    "lstm_carousel": ("Why the gated cells", "the LSTM's forget gate averages f = 1 − 2."),
    "gru_keeping": ("Why the gated cells", "the GRU's update gate averages z = 1 − 2."),
}


@pytest.mark.parametrize("name", list(REGIMES))
def test_each_regime_link_opens_its_page_with_its_settings(name):
    regime = REGIMES[name]
    lesson = sidebar.regime_lesson(name)
    at = open_page(keys.page(regime.page).path, state.to_query(lesson))
    assert_clean(at)
    assert stored(at, lesson) == dataclasses.asdict(lesson)
    lead, claim = CLAIMS[name]
    assert claim in sentence_of(at, lead)
    assert "no gradient" not in texts(at)


@pytest.mark.parametrize("name", ["lstm_carousel", "gru_keeping"])
def test_the_gated_regimes_say_their_gate_holds_the_state(name):
    regime = REGIMES[name]
    at = open_page(keys.page(regime.page).path, state.to_query(sidebar.regime_lesson(name)))
    memory = sentence_of(at, "Why the gated cells")
    gate = "update gate" if name == "gru_keeping" else "forget gate"
    clause = next(c for c in memory.split("; ") if gate in c)
    assert "the gate holds the state" in clause
    assert "the gates do not" not in memory


def test_an_overflowing_exploding_run_is_named_overflow_never_zero():
    lesson = dataclasses.replace(sidebar.regime_lesson("exploding"), T=600)
    at = open_page(VG, state.to_query(lesson))
    assert_clean(at)
    notice = sentence_of(at, "What to notice")
    assert "the RNN overflows" in notice and "0 in floating point" not in notice
    assert "no gradient" not in texts(at)


def test_home_lists_every_regime_with_its_link_and_a_button_that_opens_it():
    at = open_page()
    assert_clean(at)
    captions = "\n".join(c.value for c in at.caption)
    for name in REGIMES:
        assert f"]({sidebar.regime_link(name)})" in captions
    at.button(key=keys.HOME_REGIME + "gru_keeping").click().run()
    assert_clean(at)
    lesson = sidebar.regime_lesson("gru_keeping")
    assert stored(at, lesson) == dataclasses.asdict(lesson)
    assert "the gate holds the state" in sentence_of(at, "Why the gated cells")


def test_the_sidebar_choice_loads_a_regime_on_the_page_in_use():
    at = open_page(GATES)
    at.selectbox(key=keys.REGIME_SELECT).set_value("lstm_carousel").run()
    assert_clean(at)
    lesson = sidebar.regime_lesson("lstm_carousel")
    for field in sidebar.REGIME_KEEPS:  # the learner's own input and view are left alone
        lesson = dataclasses.replace(lesson, **{field: getattr(state.DEFAULT, field)})
    assert stored(at, lesson) == dataclasses.asdict(lesson)
    assert at.slider(key="w_forget_bias").value == 6.0  # the widget shows the loaded value
    assert at.selectbox(key=keys.REGIME_SELECT).value == ""  # a choice, not a setting
    assert any(
        "Loaded: The constant error carousel" in s.value.replace("\\", "") for s in at.success
    )
    assert any("forget gate f" in m.value for m in at.markdown)  # the LSTM page now


def test_the_gate_sentence_at_the_defaults_and_for_one_step():
    at = open_page(VG)
    memory = sentence_of(at, "Why the gated cells")
    assert "Over the 14 steps shown" in memory and "the gates do not" in memory
    at = open_page(VG, {"source": "numbers", "numbers": "0.5"})
    assert_clean(at)
    assert "With no step back to cross" in sentence_of(at, "Why the gated cells")
