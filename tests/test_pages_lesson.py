"""The "Download this lesson (HTML)" button on every page (AppTest), and what it downloads."""

from __future__ import annotations

import dataclasses
import json

import pytest
from streamlit.testing.v1 import AppTest
from test_pages import assert_clean, open_page

from lesson import build_html
from ui import keys, lesson_download, state

PAGES = {  # page -> the prefix of its download keys
    "app.py": keys.HOME_DOWNLOADS,
    "pages/1_Step_through.py": keys.STEP_DOWNLOADS,
    "pages/2_Gates_over_time.py": keys.GATES_DOWNLOADS,
    "pages/3_Vanishing_gradients.py": keys.VG_DOWNLOADS,
    "pages/4_Train.py": keys.TRAIN_DOWNLOADS,
    "pages/5_GRU_reset.py": keys.RESET_DOWNLOADS,
}


def html_buttons(at: AppTest) -> list:
    return [b for b in at.get("download_button") if b.key.endswith("_dl_html")]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_offers_the_lesson_file_beside_csv_and_json(page):
    assert set(PAGES) == {p.path for p in keys.PAGES}  # a new page joins this test
    at = open_page(page, {"cell": "gru", "H": "8"})
    if page == "pages/4_Train.py":  # Train's downloads come with a finished run
        at.multiselect(key=keys.TRAIN_CELLS).set_value(["rnn"]).run()
        at.number_input(key=keys.TRAIN_STEPS).set_value(3).run()
        at = at.button(key=keys.TRAIN_START).click().run()
    assert_clean(at)
    prefix = PAGES[page]
    got = {b.key for b in at.get("download_button")}
    assert keys.lesson_download(prefix) in got and f"{prefix}_dl_csv" in got
    (button,) = html_buttons(at)
    assert button.label == lesson_download.LABEL
    at.toggle(key="w_present").set_value(True).run()  # none on a projector, like CSV and JSON
    assert not html_buttons(at)


def test_bad_input_says_why_instead_of_a_button():
    # Train does not use the lesson's sequence, so its page runs with a bad one
    at = open_page("pages/4_Train.py", {"source": "numbers", "numbers": "1, x, 3"})
    at.multiselect(key=keys.TRAIN_CELLS).set_value(["rnn"]).run()
    at.number_input(key=keys.TRAIN_STEPS).set_value(3).run()
    at = at.button(key=keys.TRAIN_START).click().run()
    assert_clean(at)
    assert f"{keys.TRAIN_DOWNLOADS}_dl_csv" in {b.key for b in at.get("download_button")}
    assert not html_buttons(at)
    notes = [c.value for c in at.caption if c.value.startswith("No lesson file:")]
    assert len(notes) == 1 and "x" in notes[0] and "'x'" not in notes[0], notes  # md-escaped


def test_the_button_builds_the_same_file_as_the_command_line():
    lesson = dataclasses.replace(state.DEFAULT, cell="gru", H=8, seed=3, step=4, mode="backward")
    link = "http://example.org/?" + "&".join(f"{k}={v}" for k, v in state.to_query(lesson).items())
    s = lesson_download.settings(lesson)
    assert (s.cell, s.H, s.seed) == ("gru", 8, 3)
    assert lesson_download.lesson_html(s, None, link) == build_html(s, link=link)
    # a unit beyond a smaller H is fitted to it, as the pages do, never an error on click
    assert lesson_download.settings(dataclasses.replace(lesson, unit=40)).unit == 7


@pytest.fixture
def deferred(monkeypatch) -> dict:
    """file_id → the callable a download button defers (what a click on it runs)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    calls: dict = {}
    add = MediaFileManager.add_deferred

    def record(self, data_callable, *args, **kwargs):
        file_id = add(self, data_callable, *args, **kwargs)
        calls[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return calls


@pytest.mark.parametrize("notation", ["dlai", "cho"])
def test_the_button_on_a_page_in_a_notation_gives_a_file_in_it(deferred, notation):
    at = open_page("pages/1_Step_through.py", {"notation": notation, "cell": "gru", "H": "4"})
    assert_clean(at)
    (button,) = html_buttons(at)
    page = deferred[button.proto.deferred_file_id]()  # what clicking the button downloads
    data = json.loads(page.split('id="ls-data">', 1)[1].split("</script>")[0])
    assert {t["notation"] for t in data["timelines"].values()} == {notation}
    assert data["timelines"]["gru-forward"]["H"] == 4
    assert f"notation={notation}" in page  # the link back opens the same notation
    assert "reset before the product" in page.split('id="ls-settings"', 1)[1]
    s = lesson_download.settings(dataclasses.replace(state.DEFAULT, notation=notation))
    assert s.notation == notation


def test_the_button_on_a_pytorch_page_gives_a_pytorch_file(deferred):
    at = open_page("pages/3_Vanishing_gradients.py", {"H": "4"})
    (button,) = html_buttons(at)
    page = deferred[button.proto.deferred_file_id]()
    data = json.loads(page.split('id="ls-data">', 1)[1].split("</script>")[0])
    assert {t["notation"] for t in data["timelines"].values()} == {"pytorch"}
    assert "notation=" not in page
