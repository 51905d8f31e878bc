"""The trained cells through Streamlit's AppTest: Train → "Open the trained cells" → Step
through, Gates over time and Vanishing gradients each show the trained cells, with the banner
and the way back; a bad link is a clean error; ▶ Train is never stuck disabled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import tasks

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 120
TRAIN = "pages/4_Train.py"
SHOWN = ["pages/1_Step_through.py", "pages/2_Gates_over_time.py", "pages/3_Vanishing_gradients.py"]
TINY_LINK = "adding_lag5_H4_seed0_lr0.01_fb1_ub0_tanh_rnn5_gru5_lstm5"


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(page)
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def banner(at: AppTest) -> str:
    texts = [i.value for i in at.info if i.value.startswith("**Trained cells**")]
    assert len(texts) == 1, [i.value for i in at.info]
    return texts[0]


def train_tiny(at: AppTest) -> AppTest:
    at.slider(key="train_lag").set_value(5).run()
    at.number_input(key="train_steps").set_value(10).run()
    return at.button(key="train_start").click().run()


def test_train_then_open_the_trained_cells_on_every_page():
    at = open_page(TRAIN, {"H": "4"})
    train_tiny(at)
    assert_clean(at)
    at.button(key="train_open_trained").click().run()
    assert_clean(at)
    link = at.session_state["s_trained"]
    assert link == "adding_lag5_H4_seed0_lr0.01_fb1_ub0_tanh_rnn10_gru10_lstm10"
    text = banner(at)  # Step through, where the button leads
    assert "Adding problem, lag 5, H = 4" in text and "**LSTM**: 10 steps, held-out MSE" in text
    assert at.query_params["trained"] == link  # in the link: shareable
    for page in SHOWN[1:]:
        at.switch_page(page).run()
        assert_clean(at)
        assert banner(at) == text  # the same trained cells everywhere
    # Vanishing gradients: the task's marked steps label the token axis of its figures
    specs = [
        json.dumps(json.loads(el.proto.spec), ensure_ascii=False) for el in at.get("plotly_chart")
    ]
    assert any(tasks.MARK in spec for spec in specs)


@pytest.mark.parametrize("page", SHOWN)
def test_a_trained_link_opens_each_page_with_trained_cells(page):
    at = open_page(page, {"trained": TINY_LINK, "cell": "gru"})
    assert_clean(at)
    assert "**GRU**: 5 steps" in banner(at)
    assert at.button(key="trained_back")


def test_the_way_back_to_the_untrained_lesson():
    at = open_page(SHOWN[1], {"trained": TINY_LINK})
    at.button(key="trained_back").click().run()
    assert_clean(at)
    assert not [i for i in at.info if i.value.startswith("**Trained cells**")]
    assert "trained" not in at.query_params


def test_a_bad_link_is_a_clean_error_with_the_way_back():
    at = open_page(SHOWN[0], {"trained": "adding_lag999_H4_seed0_lr0.01_fb1_ub0_tanh_rnn5"})
    assert not at.exception
    assert "the lag must be from 1 to 200" in at.error[0].value
    at.button(key="trained_back").click().run()
    assert_clean(at)


def test_a_finished_run_can_be_replayed_and_trained_again():
    at = open_page(TRAIN, {"H": "4"})
    train_tiny(at)
    # right after the live run the page shows it kept: it can be replayed or trained again
    assert at.button(key="train_start").label == "▶ Train again"
    assert not at.button(key="train_replay").disabled
    summary = at.success[0].value
    at.button(key="train_replay").click().run()
    assert_clean(at)
    assert at.success[0].value == summary  # the replay ends on the same run
    at.button(key="train_start").click().run()  # trained again, live: the same numbers
    assert_clean(at)
    assert at.success[0].value == summary
    assert not at.button(key="train_start").disabled


def test_a_learner_who_presses_train_after_another_finished_the_same_run_sees_it_replayed():
    query = {"H": "4", "seed": "11"}
    first, second = open_page(TRAIN, query), open_page(TRAIN, query)
    for at in (first, second):  # both pages show ▶ Train: nothing kept yet
        at.slider(key="train_lag").set_value(5).run()
        at.number_input(key="train_steps").set_value(10).run()
        assert at.button(key="train_start").label == "▶ Train"
    first.button(key="train_start").click().run()
    assert not [i for i in first.info if "Another learner" in i.value]  # trained there
    second.button(key="train_start").click().run()  # the same settings, finished meanwhile
    assert_clean(second)
    assert any("Another learner had just trained exactly these settings" in i.value
               for i in second.info)  # fmt: skip
    assert second.success[0].value == first.success[0].value  # the same numbers
    second.button(key="train_start").click().run()  # ▶ Train again: trained, not replayed
    assert not [i for i in second.info if "Another learner" in i.value]


def test_presentation_mode_keeps_the_banner_and_the_way_back():
    at = open_page(SHOWN[2], {"trained": TINY_LINK, "present": "1"})
    assert_clean(at)
    assert "**LSTM**: 5 steps" in banner(at)
    assert at.button(key="trained_back")
