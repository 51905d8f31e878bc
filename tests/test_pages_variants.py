"""The GRU reset placement page through AppTest: defaults (numbers checked against the engine
run here), a text input, one step, presentation mode, downloads, and uploaded weights (good
files in three layouts, bad files and a wrong input width, each a clean st.error)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from test_pages import all_text, assert_clean, chart_by_title, charts, decode, open_page

from engine import export, forward, init_params, inputs, jacobian_norms
from engine.convert import to_deeplearning_ai, to_keras, to_pytorch
from figures import notation as nt
from figures import variants as fv
from ui import compute, keys, state, variants

PAGE = "pages/5_GRU_reset.py"
CHARTS = 4  # the lag chart, the gate means, the two heatmaps


def what_to_notice(at) -> str:
    (text,) = [m.value for m in at.markdown if m.value.startswith("**What to notice:**")]
    return text.replace("\\", "")


def npz(weights: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **weights)
    return buf.getvalue()


def lesson_sequence():
    """The default lesson's sequence, made here from its settings."""
    d = state.DEFAULT
    return inputs.preset(d.preset, unit=d.tokens, encoding=d.encoding, dim=d.dim, seed=d.seed)


def with_upload(name: str, data: bytes, query: dict | None = None):
    at = open_page(PAGE, query)
    at.session_state[variants.UPLOAD] = (name, data)
    return at.run()


def test_defaults_render_with_the_engine_s_numbers():
    at = open_page(PAGE)
    assert_clean(at)
    assert not at.error and len(charts(at)) == CHARTS
    # the same GRU computed here: the lesson's sequence and parameters, both placements
    seq = lesson_sequence()
    params = compute.params_for(state.DEFAULT, "gru", seq.D)
    traces = {v: forward("gru", params, seq.values, gru_reset=v) for v in fv.VARIANTS}
    norms = {v: jacobian_norms(t, "h") for v, t in traces.items()}
    expected = fv.comparison_sentence(traces["after"].h, traces["before"].h, norms["after"],
                                      norms["before"])  # fmt: skip
    assert what_to_notice(at) == f"**What to notice:** {expected}"
    (metric,) = at.metric
    d, _, _ = fv.state_difference(traces["after"].h, traces["before"].h)
    assert metric.value == fv.fmt_difference(d) and d > 0
    lag = chart_by_title(at, "two reset placements")
    assert {t["name"] for t in lag["data"]} >= set(fv.NAMES.values())
    assert lag["layout"]["yaxis"]["type"] == "log"
    assert len(at.get("latex")) == 8  # r, z, n, h for each placement


@pytest.mark.parametrize("notation", ["dlai", "cho"])
def test_the_notation_changes_no_number_here(notation):
    # both placements are on the page whatever the notation: the same sentence and figures
    base, other = open_page(PAGE), open_page(PAGE, {"notation": notation})
    assert_clean(other)
    # the same numbers in the same sentence; only the state's symbol follows the notation
    sym = nt.short(notation, "gru", "h")
    expected = what_to_notice(base).replace("h_b", f"{sym}_b").replace("h_a", f"{sym}_a")
    assert what_to_notice(other) == expected
    lag = [chart_by_title(at, "two reset placements")["data"] for at in (base, other)]
    assert [decode(t["y"]).tolist() for t in lag[0]] == [decode(t["y"]).tolist() for t in lag[1]]


def test_the_page_is_in_the_navigation_after_vanishing_gradients():
    labels = [p.label for p in keys.PAGES]
    assert labels.index("GRU reset placement") == labels.index("Vanishing gradients") + 1
    assert keys.page("GRU reset placement").path == PAGE


def test_a_typed_text_is_escaped_and_drawn():
    at = open_page(PAGE, {"source": "text", "text": "<b>bold</b> & cat sat on the mat"})
    assert_clean(at)
    assert len(charts(at)) == CHARTS
    lag = chart_by_title(at, "two reset placements")
    hover = " ".join(lag["data"][0]["text"])
    assert "t=0·&lt;" in hover and "·&amp;" in hover and "·mat" in hover  # the tokens, escaped
    assert "·<" not in hover


def test_one_step_says_there_is_no_step_back():
    at = open_page(PAGE, {"source": "numbers", "numbers": "0.5"})
    assert_clean(at)
    assert "with a single step there is no step back" in what_to_notice(at)


def test_presentation_mode_puts_the_figure_first_and_hides_the_controls():
    at = open_page(PAGE, {"present": "1"})
    assert_clean(at)
    assert len(charts(at)) == CHARTS
    assert not at.get("download_button") and not at.get("file_uploader")
    blocks = list(at.main.children.values())
    assert blocks[1].get("plotly_chart"), "the lag chart comes first, after the title row"
    assert not any(s.value == "Weights trained elsewhere" for s in at.subheader)


def test_downloads_hold_both_runs():
    at = open_page(PAGE)
    prefix = keys.RESET_DOWNLOADS
    got = {b.key for b in at.get("download_button")}
    assert {f"{prefix}_dl_csv", f"{prefix}_dl_json"} <= got
    v = variants.variants(state.DEFAULT)
    doc = json.loads(
        export.series_to_json(variants.series(v), v.labels, settings={}, meta={"first": v.first})
    )
    series = doc["series"]
    np.testing.assert_array_equal(series["after |dh_T/dh_t|"], v.norms["after"])
    np.testing.assert_array_equal(series["before h[0]"], v.traces["before"].h[:, 0])
    diff = np.abs(v.traces["before"].h - v.traces["after"].h).max(axis=1)
    np.testing.assert_array_equal(series["max_k |h_before - h_after|"], diff)
    H = v.traces["after"].H
    assert sum(name.startswith("before r[") for name in series) == H
    header = export.series_to_csv(variants.series(v), v.labels).splitlines()[0]
    assert header.startswith("t,token,after |dh_T/dh_t|,before |dh_T/dh_t|")


def lesson_params(cell, H=3, seed=4):
    seq = lesson_sequence()
    return init_params(cell, seq.D, H, seed=seed), seq


@pytest.mark.parametrize(("layout", "cell", "variant"), [
    ("pytorch", "gru", "after"),
    ("keras", "gru", "before"),
    ("deeplearning.ai", "gru", "before"),
    ("pytorch", "lstm", "after"),
])  # fmt: skip
def test_good_weights_load_and_run(layout, cell, variant):
    params, seq = lesson_params(cell)
    weights = {
        "pytorch": lambda: to_pytorch(cell, params),
        "keras": lambda: to_keras(cell, params, gru_reset=variant),
        "deeplearning.ai": lambda: to_deeplearning_ai(cell, params, gru_reset=variant),
    }[layout]()
    at = with_upload("<i>weights</i>.npz", npz(weights))
    assert_clean(at)
    assert not at.error and len(charts(at)) == CHARTS + 2
    text = all_text(at)
    assert fv.loaded_sentence(cell, variant, 3, seq.D) in text.replace("\\", "")
    assert "&lt;i&gt;" not in text and "\\<i\\>weights\\<\\/i\\>" in text  # the name escaped
    # the loaded model's curve is the engine's, run here with the variant its layout needs
    loaded = charts(at)[-1]  # the last chart: the loaded model's gradient against lag
    assert loaded["layout"]["title"]["text"].startswith(f"Loaded {cell.upper()}")
    trace = forward(cell, params, seq.values, gru_reset=variant)
    expected = jacobian_norms(trace, "h")[::-1]  # index k = lag
    np.testing.assert_allclose(decode(loaded["data"][0]["y"]), expected, rtol=1e-12)
    other = forward(cell, params, seq.values, gru_reset="after" if variant == "before" else variant)
    if cell == "gru" and variant == "before":  # the other placement would have drawn otherwise
        assert not np.allclose(jacobian_norms(other, "h")[::-1], expected, rtol=1e-6)
    # forget: the upload is gone, the page draws its own four charts again
    at.button(key=keys.RESET_FORGET).click().run()
    assert_clean(at)
    assert variants.UPLOAD not in at.session_state and len(charts(at)) == CHARTS


def test_a_loaded_relu_rnn_that_overflows_is_named_overflow_never_vanished():
    # W_hh = 3 I under ReLU: the active units triple every step and reach the 1e100 cap,
    # where the clipped derivative would read 0; the page says overflow instead
    params = init_params("rnn", 1, 8, seed=1, recurrent_init="identity", recurrent_scale=3.0)
    query = {"act": "relu", "T": "600", "preset": "Impulse"}
    at = with_upload("rnn.npz", npz(to_deeplearning_ai("rnn", params)), query)
    assert_clean(at)
    assert not at.error and len(charts(at)) == CHARTS + 2
    notes = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("**What")]
    assert "the RNN overflows" in notes[-1] and "less than" not in notes[-1], notes[-1]
    assert "run with the sidebar's RNN activation, relu" in all_text(at).replace("\\", "")
    loaded = charts(at)[-1]  # the last chart: the loaded model's gradient against lag
    assert loaded["layout"]["title"]["text"].startswith("Loaded RNN")
    assert any("overflow" in t["name"] for t in loaded["data"])


def test_json_weights_load():
    params, _ = lesson_params("gru")
    doc = {k: v.tolist() for k, v in to_pytorch("gru", params).items()}
    at = with_upload("w.json", json.dumps(doc).encode())
    assert_clean(at)
    assert not at.error and len(charts(at)) == CHARTS + 2


@pytest.mark.parametrize(("name", "data", "message"), [
    ("w.json", b"{not json", "is not valid JSON"),
    ("w.npz", b"PK\x03\x04 broken", "could not be read as a NumPy .npz"),
    ("w.json", json.dumps({"fc.weight": [[1.0]]}).encode(), "unknown layout"),
])  # fmt: skip
def test_bad_files_are_a_clear_error(name, data, message):
    at = with_upload(name, data)
    assert_clean(at)
    assert len(at.error) == 1 and message in at.error[0].value.replace("\\", "")
    assert len(charts(at)) == CHARTS  # the rest of the page is still there


@pytest.mark.parametrize(("D", "query", "fix"), [
    (5, {}, "set 'Input width D' in the sidebar to 5"),
    (20, {}, "choose the Embedding encoding and set 'Input width D' in the sidebar to 20 (a "
             "one-hot code of this text has at most 13 columns)"),
    (20, {"enc": "embedding"}, "set 'Input width D' in the sidebar to 20"),
    (2, {"source": "numbers"}, "give 2 numbers per step in 'Your numbers'"),
])  # fmt: skip
def test_a_wrong_input_width_names_both_sizes_and_the_fix(D, query, fix):
    params = init_params("gru", D, 3, seed=0)
    at = with_upload("w.npz", npz(to_pytorch("gru", params)), query)
    assert_clean(at)
    (error,) = at.error
    message = error.value.replace("\\", "")
    now = variants.compute.sequence(state.from_query(query)[0])[0].D
    assert f"expect D = {D} input features" in message, message
    assert f"the lesson's sequence has D = {now}" in message and now != D, message
    assert fix in message, message
    assert len(charts(at)) == CHARTS  # the rest of the page is still there
