"""The GRU update-gate bias and the CSV label-column choice: engine, link and pages."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_pages import APP, STEP, TIMEOUT, assert_clean, open_page, timeline

import engine
from ui import state
from ui.state import DEFAULT

H, D = 8, 3


def test_update_bias_sets_the_gru_z_block_and_only_it():
    base = engine.init_params("gru", D, H, seed=3)
    biased = engine.init_params("gru", D, H, seed=3, update_bias=4.0)
    z = slice(H, 2 * H)  # gate order r, z, n
    assert np.all(biased["bias_ih"][z] == 4.0) and np.all(biased["bias_hh"][z] == 0.0)
    for name in ("weight_ih", "weight_hh"):
        assert np.array_equal(base[name], biased[name])
    for name in ("bias_ih", "bias_hh"):
        keep = np.r_[0:H, 2 * H : 3 * H]
        assert np.array_equal(base[name][keep], biased[name][keep])


def test_update_bias_is_ignored_by_the_other_cells():
    for cell in ("rnn", "lstm"):
        a = engine.init_params(cell, D, H, seed=1)
        b = engine.init_params(cell, D, H, seed=1, update_bias=5.0)
        assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_update_bias_is_refused(bad):
    with pytest.raises(engine.InputError, match="update bias"):
        engine.init_params("gru", D, H, update_bias=bad)


def test_a_large_update_bias_keeps_the_state_and_its_gradient():
    xs = np.random.default_rng(0).standard_normal((30, D))
    kept = engine.forward("gru", engine.init_params("gru", D, H, update_bias=8.0), xs)
    free = engine.forward("gru", engine.init_params("gru", D, H, update_bias=0.0), xs)
    assert kept.gates["z"].min() > 0.99 and 0.2 < free.gates["z"].mean() < 0.8
    # ∂h_T/∂h_0 survives with z ≈ 1 and decays like the product of z's near 0.5 otherwise
    assert engine.jacobian_norms(kept)[0] > 0.5 > 1e3 * engine.jacobian_norms(free)[0]


def test_update_bias_and_label_column_travel_in_a_link():
    lesson = dataclasses.replace(DEFAULT, cell="gru", update_bias=3.5, label_column="Time (s)")
    query = state.to_query(lesson)
    assert query["ub"] == "3.5" and query["labels"] == "Time (s)"
    back, notices = state.from_query(query)
    assert back == lesson and notices == []
    assert state.settings(DEFAULT)["update_bias"] == 0.0  # exports record it, default included


def test_tampered_free_text_fields_fall_back_with_a_notice():
    lesson, notices = state.from_query({"labels": "x" * 500, "ub": "99"})
    assert lesson.label_column == "auto" and lesson.update_bias == 10.0
    assert any("label_column" in n for n in notices)
    assert any("update_bias" in n for n in notices)


def test_the_update_bias_slider_drives_the_gru_step_page():
    at = open_page(STEP, {"cell": "gru"})
    assert_clean(at)
    z_default = timeline(at)
    at.slider(key="w_update_bias").set_value(6.0).run()
    assert_clean(at)
    assert at.query_params["ub"] == "6.0"
    assert z_default != timeline(at)
    lstm = open_page(STEP, {"cell": "lstm"})
    assert not [s for s in lstm.slider if s.key == "w_update_bias"]  # only beside the GRU


CSV = "Time (s),value,other\n" + "".join(f"{t * 0.5},{t % 3},{t * 10}\n" for t in range(12))


def _csv_page(choice: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("pages/2_Gates_over_time.py")
    at.session_state["s__csv"] = CSV.encode()
    at.run()
    at.radio(key="w_source").set_value("csv").run()
    if choice is not None:
        at.selectbox(key="w_label_column").set_value(choice).run()
    assert_clean(at)
    assert not at.error
    return at


@pytest.mark.parametrize(
    "choice, labels, features",
    [
        (None, ["0.0", "0.5"], 2),  # automatic: a first column named Time is the labels
        ("none", ["0", "1"], 3),  # every column a feature, labels count from t = 0
        ("other", ["0", "10"], 2),  # a column picked by its header name
    ],
)
def test_the_csv_label_column_is_the_learners_choice(choice, labels, features):
    from ui import compute

    at = _csv_page(choice)
    options = at.selectbox(key="w_label_column").options
    assert {"Time (s)", "value", "other"} <= set(options)
    lesson = dataclasses.replace(DEFAULT, source="csv", label_column=choice or "auto")
    seq, _ = compute.sequence(lesson, CSV)
    assert list(seq.labels[:2]) == labels and seq.D == features
