"""Every page through Streamlit's AppTest: smoke, one real interaction each, persistence."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from figures.style import STEP_MS

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = [
    "app.py",
    "pages/1_Step_through.py",
    "pages/2_Gates_over_time.py",
    "pages/3_Vanishing_gradients.py",
    "pages/4_Train.py",
]
TIMEOUT = 60


def open_page(page: str = "app.py", query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if page != "app.py":
        at.switch_page(page)
    return at.run()


def charts(at: AppTest) -> list[dict]:
    """The Plotly specs of every chart on the page (JSON, arrays still encoded)."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def decode(v):
    """Plotly 7 sends numpy arrays as base64 ``{"dtype", "bdata"}`` dicts."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return a.reshape(v["shape"]) if "shape" in v else a
    return np.asarray(v)


def chart_by_title(at: AppTest, text: str) -> dict:
    for spec in charts(at):
        title = spec.get("layout", {}).get("title", {})
        if text in (title.get("text", "") if isinstance(title, dict) else str(title)):
            return spec
    raise AssertionError(f"no chart titled with {text!r}")


STEP = "pages/1_Step_through.py"


def timeline(at: AppTest) -> dict:
    """The data the Step through timeline component (custom component v2) was sent."""
    (component,) = at.get("bidi_component")
    return json.loads(component.proto.json)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def all_text(at: AppTest) -> str:
    parts = [str(el.value) for kind in ("markdown", "caption", "error", "warning", "info")
             for el in at.get(kind)]  # fmt: skip
    for spec in charts(at):
        parts.append(json.dumps(spec))
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_charts(page):
    at = open_page(page)
    assert_clean(at)  # no exception on any page
    assert not at.error, [e.value for e in at.error]
    if page == STEP:  # Step through draws everything in one timeline component
        assert timeline(at)["frames"], f"{page} shows no timeline"
    else:
        assert charts(at), f"{page} shows no chart"


def test_step_through_T_changes_the_frame_count():
    at = open_page(STEP)
    at.radio(key="w_source").set_value("preset").run()
    at.selectbox(key="w_preset").set_value("Impulse").run()
    at.number_input(key="w_T").set_value(12).run()
    assert_clean(at)
    assert timeline(at)["frames"] == list(range(12)), "one frame per step"
    at.number_input(key="w_T").set_value(7).run()
    assert timeline(at)["frames"] == list(range(7)), "the animation follows T"
    assert timeline(at)["T"] == 7


@pytest.mark.parametrize("mode", ["forward", "backward"])
@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_step_through_renders_every_cell_both_ways(cell, mode):
    at = open_page(STEP, {"cell": cell, "mode": mode})
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    (component,) = at.get("bidi_component")
    assert component.proto.component_name == "gatescope.timeline", "the timeline component"
    data = timeline(at)
    assert (data["cell"], data["mode"]) == (cell, mode), "the link's cell and direction"
    assert at.radio(key="w_mode").value == mode
    assert data["step"] in data["frames"], "the current step is animated"
    assert len(data["tokens"]) == len(data["frames"])


def test_step_through_rnn_relu_backward_renders():
    at = open_page(STEP, {"cell": "rnn", "activation": "relu", "mode": "backward"})
    assert_clean(at)
    assert timeline(at)["nonlinearity"] == "relu"
    assert timeline(at)["factor"], "the RNN's factor note"


def test_typing_a_sentence_shows_its_tokens():
    at = open_page("pages/2_Gates_over_time.py")
    at.radio(key="w_source").set_value("text").run()
    at.text_area(key="w_text").input("zebras quietly juggle marmalade").run()
    assert_clean(at)
    text = all_text(at)
    for token in ("zebras", "quietly", "juggle", "marmalade"):
        assert token in text, token


@pytest.mark.parametrize(
    "source, widget, bad, message",
    [
        ("numbers", "w_numbers", "1, 2, abc", "abc"),
        ("numbers", "w_numbers", "1, nan, 3", "finite"),
        ("numbers", "w_numbers", "   ", "number"),
        ("text", "w_text", "   ", "text"),
    ],
)
@pytest.mark.parametrize("page", PAGES[:4])
def test_bad_input_is_an_error_message_not_a_crash(page, source, widget, bad, message):
    at = open_page(page)
    at.radio(key="w_source").set_value(source).run()
    at.text_area(key=widget).input(bad).run()
    assert_clean(at)  # no traceback
    assert at.error, "an error message is shown"
    assert message.lower() in at.error[0].value.lower()
    at.text_area(key=widget).input("1, 2, 3" if source == "numbers" else "it works again").run()
    assert_clean(at)
    assert not at.error  # the session keeps working


def test_markdown_in_user_text_is_not_rendered():
    at = open_page("pages/1_Step_through.py")
    at.radio(key="w_source").set_value("numbers").run()
    at.text_area(key="w_numbers").input("1, ![x](http://example.invalid/a.png)").run()
    assert at.error
    shown = at.error[0].value
    assert "![x](http" not in shown  # escaped: the image would be fetched by the browser
    assert "\\!\\[x\\]" in shown


def test_settings_survive_page_switches():
    at = open_page("pages/1_Step_through.py")
    at.slider(key="w_H").set_value(8).run()
    at.radio(key="w_cell").set_value("gru").run()
    for page in ("pages/2_Gates_over_time.py", "pages/3_Vanishing_gradients.py", "app.py",
                 "pages/1_Step_through.py"):  # fmt: skip
        at.switch_page(page).run()
        assert_clean(at)
        assert at.slider(key="w_H").value == 8, page
    assert at.radio(key="w_cell").value == "gru"


def test_a_link_sets_the_lesson_and_bad_values_are_clamped():
    at = open_page("pages/1_Step_through.py", {"cell": "gru", "H": "12", "seed": "3"})
    assert_clean(at)
    assert at.radio(key="w_cell").value == "gru"
    assert at.slider(key="w_H").value == 12
    assert at.number_input(key="w_seed").value == 3
    at = open_page("pages/1_Step_through.py", {"H": "99999", "cell": "<script>", "bogus": "1"})
    assert_clean(at)
    assert at.slider(key="w_H").value == 256  # clamped
    assert at.radio(key="w_cell").value == "lstm"  # unknown value ignored
    warnings = " ".join(w.value for w in at.warning)
    assert "out of range" in warnings and "unknown cell" in warnings


def test_train_runs_live_and_states_the_measured_outcome():
    at = open_page("pages/4_Train.py")
    at.multiselect(key="train_cells").set_value(["rnn", "lstm"]).run()
    at.number_input(key="train_steps").set_value(10).run()
    at.button(key="train_start").click().run()
    assert_clean(at)
    outcome = at.success[0].value
    assert "After 10 steps" in outcome and "RNN" in outcome and "LSTM" in outcome
    assert len(at.get("metric")) == 2  # one held-out score per trained cell
    # the finished run is kept: a rerun shows it without training again, and it can be
    # replayed or trained again (▶ Train never stays disabled)
    at.run()
    assert not at.button(key="train_start").disabled
    assert not at.button(key="train_replay").disabled


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x01\x02binary\xff\xfe", "not a text CSV"),
        (b"a,b\n1,2\n3,x\n", "'x'"),
        (b"1,2\n3\n", "row"),
        ("t,value\n" + "".join(f"{t},{t % 7}\n" for t in range(50)), None),
    ],
)
def test_csv_uploads_parse_or_explain(data, message):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("pages/2_Gates_over_time.py")
    at.session_state["s__csv"] = data.encode() if isinstance(data, str) else data
    at.run()
    at.radio(key="w_source").set_value("csv").run()
    assert_clean(at)
    if message is None:
        assert not at.error and charts(at)
    else:
        assert at.error and message in at.error[0].value.replace("\\", "")


def test_backward_walk_starts_at_the_last_step():
    at = open_page(STEP)
    T = timeline(at)["T"]
    assert at.session_state["s_step"] == 0, "forward starts at the first step"
    at.radio(key="w_mode").set_value("backward").run()
    assert_clean(at)
    assert at.session_state["s_step"] == T - 1, "a backward walk starts at the last step"
    assert timeline(at)["step"] == T - 1 and timeline(at)["walk"] == -1
    at.radio(key="w_mode").set_value("forward").run()
    assert at.session_state["s_step"] == 0, "and a forward walk at the first"


def test_a_backward_link_starts_at_the_end_unless_it_names_a_step():
    at = open_page(STEP, {"mode": "backward"})
    assert_clean(at)
    T = timeline(at)["T"]
    assert at.session_state["s_step"] == T - 1, "no step in the link: the last step"
    assert timeline(at)["step"] == T - 1
    at = open_page(STEP, {"mode": "backward", "step": "3"})
    assert_clean(at)
    assert at.session_state["s_step"] == 3, "the link's step is kept"
    assert timeline(at)["step"] == 3


def test_step_through_shows_the_code():
    at = open_page(STEP, {"cell": "lstm"})
    assert not at.code or all("def lstm_step_forward" not in c.value for c in at.code)
    at.toggle(key="step_show_code").set_value(True).run()
    assert_clean(at)
    assert any("def lstm_step_forward" in c.value for c in at.code), "the engine's step"
    at.radio(key="w_mode").set_value("backward").run()
    assert any("def lstm_step_backward" in c.value for c in at.code), "and its backward"


def test_step_through_presentation_mode_hides_the_controls():
    at = open_page(STEP, {"present": "1"})
    assert_clean(at)
    keys = {getattr(el, "key", None) for kind in ("radio", "number_input", "toggle")
            for el in at.get(kind)}  # fmt: skip
    assert "w_mode" not in keys, "no direction radio"
    assert "w_unit" not in keys, "no unit input"
    assert "step_show_code" not in keys, "no code toggle"
    assert timeline(at)["present"] is True, "the timeline in presentation mode"
    assert timeline(at)["stepMs"] > STEP_MS, "slower steps on a projector"


def test_step_through_one_token_text():
    at = open_page(STEP, {"source": "text", "text": "hello"})
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    data = timeline(at)
    assert data["T"] == len(data["frames"]) == len(data["tokens"]) >= 1
    assert "hello" in "".join(data["tokens"]), "the typed word is the token"
    at.radio(key="w_mode").set_value("backward").run()
    assert_clean(at)
    assert timeline(at)["step"] == timeline(at)["T"] - 1


def test_long_typed_text_is_used_whole():
    at = open_page("pages/2_Gates_over_time.py")
    at.radio(key="w_source").set_value("text").run()
    at.number_input(key="w_T").set_value(2000).run()
    at.text_area(key="w_text").input(" ".join(f"w{i}" for i in range(1500))).run()  # 8,390 chars
    assert_clean(at)
    assert not at.error
    title = chart_by_title(at, "every gate and state")["layout"]["title"]["text"]
    assert "1500 steps" in title.replace(",", "")  # not cut to the link's 2,000 characters


def test_vanishing_gradients_measure_changes_the_curves():
    at = open_page("pages/3_Vanishing_gradients.py")
    before = chart_by_title(at, "against lag")
    at.radio(key="w_measure").set_value("bptt").run()
    assert_clean(at)
    after = chart_by_title(at, "against lag")
    assert "dL/dh" in after["layout"]["title"]["text"] != before["layout"]["title"]["text"]
    names = [t.get("name", "") for t in after["data"]]
    assert any("dL/dc" in n for n in names)  # the LSTM's cell-state gradient joins the plot
    assert after["layout"]["yaxis"]["type"] == "log"


# --------------------------------------------------------------------------------------------
# Presentation mode (Home, Gates over time, Vanishing gradients, Train)
# --------------------------------------------------------------------------------------------

PAGE_CONTROLS = {
    "app.py": [],
    "pages/2_Gates_over_time.py": ["w_step", "w_unit"],
    "pages/3_Vanishing_gradients.py": ["w_measure", "vg_lag_k"],
    "pages/4_Train.py": ["train_task", "train_lag", "train_cells", "train_steps"],
}


def widget_keys(at: AppTest) -> set[str]:
    kinds = ("radio", "slider", "number_input", "multiselect", "selectbox", "button", "toggle")
    return {w.key for kind in kinds for w in at.get(kind) if getattr(w, "key", None)}


@pytest.mark.parametrize("page", list(PAGE_CONTROLS))
def test_presentation_mode_hides_the_page_controls(page):
    at = open_page(page)
    shown = widget_keys(at)
    assert set(PAGE_CONTROLS[page]) <= shown, page  # drawn normally
    at = open_page(page, {"present": "1"})
    assert_clean(at)
    keys = widget_keys(at)
    assert not set(PAGE_CONTROLS[page]) & keys, page  # hidden when presenting
    assert "w_leave_present" in keys
    assert not at.get("download_button")  # no downloads on a projector
    assert charts(at), f"{page} shows no chart in presentation mode"
    if page == "app.py":  # the lesson path stays, without its descriptions
        assert not any("Switch Step through to Backward" in c.value for c in at.caption)


def test_presentation_mode_keeps_train_and_stop():
    at = open_page("pages/4_Train.py", {"present": "1"})
    assert_clean(at)
    assert {"train_start", "train_stop"} <= widget_keys(at)


def test_hidden_controls_keep_their_values_through_presentation_mode():
    at = open_page("pages/3_Vanishing_gradients.py")
    at.radio(key="w_measure").set_value("bptt").run()
    at.slider(key="vg_lag_k").set_value(7).run()
    at.toggle(key="w_present").set_value(True).run()
    assert_clean(at)
    assert "dL/dh" in chart_by_title(at, "against lag")["layout"]["title"]["text"]
    assert "7 steps back" in chart_by_title(at, "Why:")["layout"]["title"]["text"]
    at.button(key="w_leave_present").click().run()
    assert_clean(at)
    assert at.radio(key="w_measure").value == "bptt"
    assert at.slider(key="vg_lag_k").value == 7


def test_train_settings_survive_presentation_mode():
    at = open_page("pages/4_Train.py")
    at.slider(key="train_lag").set_value(30).run()
    at.toggle(key="w_present").set_value(True).run()
    assert_clean(at)
    at.button(key="w_leave_present").click().run()
    assert at.slider(key="train_lag").value == 30


def test_home_backward_link_opens_the_backward_walk_at_the_last_step():
    at = open_page("app.py")
    T = len(charts(at)[0]["layout"]["xaxis"]["tickvals"])  # every token of the hero labelled
    at.button(key="home_backward").click().run()
    assert at.session_state["s_mode"] == "backward"
    assert at.session_state["s_step"] == T - 1


DOWNLOAD_KEYS = {
    "app.py": "home",
    "pages/3_Vanishing_gradients.py": "vg",
    "pages/4_Train.py": "train",
}


def download_keys(at: AppTest) -> set[str]:
    return {el.key for el in at.get("download_button")}


def trained(at: AppTest) -> AppTest:
    at.multiselect(key="train_cells").set_value(["rnn", "gru"]).run()
    at.number_input(key="train_steps").set_value(5).run()
    return at.button(key="train_start").click().run()


@pytest.mark.parametrize("page", list(DOWNLOAD_KEYS))
def test_every_page_offers_csv_and_json_but_not_when_presenting(page):
    at = open_page(page)
    if page == "pages/4_Train.py":
        # before a run: no values to export, but the lesson file
        assert download_keys(at) == {f"{DOWNLOAD_KEYS[page]}_dl_html"}
        at = trained(at)
    assert_clean(at)
    prefix = DOWNLOAD_KEYS[page]
    assert download_keys(at) == {f"{prefix}_dl_csv", f"{prefix}_dl_json", f"{prefix}_dl_html"}
    at.toggle(key="w_present").set_value(True).run()
    assert_clean(at)
    assert not at.get("download_button")


def test_vanishing_gradients_names_an_exploding_relu_rnn_as_overflow():
    query = {"act": "relu", "init": "identity", "scale": "10", "preset": "Impulse", "T": "200"}
    at = open_page("pages/3_Vanishing_gradients.py", query)
    assert_clean(at)
    text = all_text(at)
    assert "no gradient" not in text.lower()
    assert "overflow" in text and "1 − h" not in text
    why = chart_by_title(at, "Why:")
    names = [d["name"] for d in why["data"]]
    assert any(n.startswith("measured") and "overflow" in n for n in names), names
    assert any(n.startswith("bound") for n in names), names
