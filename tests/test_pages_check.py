"""The "Check these numbers" panels through Streamlit's AppTest, on both pages and every cell.

The panel is an expander, closed by default and computing only when opened; opened, it shows
the numbers engine.explain gives for the lesson's step and unit (Step through) or the chosen
cell and lag (Vanishing gradients), and for runs a finite difference cannot check it says why
instead of giving an error figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import explain
from ui import check, compute, keys, state
from ui.layout import md_escape

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
STEP = "pages/1_Step_through.py"
VG = "pages/3_Vanishing_gradients.py"
TIMEOUT = 90
LABEL = "🔬 Check these numbers"
EXPLODED = {"cell": "rnn", "act": "relu", "scale": "10", "init": "identity", "T": "200",
            "preset": "Impulse", "mode": "backward"}  # fmt: skip


def open_page(page: str, query: dict, *, opened: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(page)
    if opened:
        at.session_state[opened] = True  # the learner opened the expander
    return at.run()


def panel_text(at: AppTest) -> str:
    assert not at.exception, [e.value for e in at.exception]
    (box,) = [e for e in at.expander if e.label == LABEL]
    return "\n".join(str(el.value) for kind in ("markdown", "caption") for el in box.get(kind))


def lesson_of(query: dict):
    lesson, notices = state.from_query(query)
    assert not notices, notices
    return lesson


def shown(v: float) -> str:
    return md_escape(check._num(v))


# --------------------------------------------------------------------------------------------
# Step through
# --------------------------------------------------------------------------------------------


def test_step_check_is_closed_and_idle_by_default():
    at = open_page(STEP, {"cell": "gru"})
    text = panel_text(at)
    assert "BPTT" not in text and "recomputed" not in text, "nothing computed while closed"


@pytest.mark.parametrize("mode", ["forward", "backward"])
@pytest.mark.parametrize(("cell", "act"), [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"),
                                           ("lstm", "tanh")])  # fmt: skip
def test_step_check_shows_the_engines_numbers(cell, act, mode):
    query = {"cell": cell, "act": act, "mode": mode, "step": "9", "unit": "2"}
    text = panel_text(open_page(STEP, query, opened=keys.STEP_CHECK))
    run = compute.run(lesson_of(query))
    assert md_escape(f"t = 9 (“{run.labels[9]}”), unit k = 2") in text
    states = ["h", "c"] if cell == "lstm" else ["h"]
    for s in states:
        r = explain.check_gradient(run.trace, run.grads, 9, 2, state=s)
        # backward: BPTT's number, the difference, ε and the verdict, as engine.explain gives
        for v in (r["analytic"], r["numeric"]):
            assert shown(v) in text, (s, v)
        assert md_escape(f"ε = {check.fmt_grad(r['eps'])}") in text
        assert md_escape(check.verdict_text(r, what=f"∂L/∂{s}_9[2]")) in text
    assert text.count("✅ BPTT and the finite difference agree") == len(states)
    # forward: every quantity of the step, the engine's value and the formula's
    for name, v in explain.check_forward(run.trace, 9, 2).items():
        assert md_escape(f"{name}_9[2]") in text, name
        assert shown(v["engine"]) in text and shown(v["recomputed"]) in text, name
    assert md_escape("✅ The largest difference, relative") in text
    # the direction in use comes first
    first = "Forward" if mode == "forward" else "Backward"
    assert text.index(f"##### {first}") < text.index(
        "##### " + ("Backward" if mode == "forward" else "Forward")
    )


def test_step_check_names_an_exploded_run():
    text = panel_text(open_page(STEP, EXPLODED | {"step": "5"}, opened=keys.STEP_CHECK))
    assert md_escape("Not checkable by finite differences: the run exploded;") in text
    assert "relative error" not in text and "BPTT\\: " not in text
    # the forward recomputation still holds
    assert md_escape("✅ The largest difference, relative") in text


def test_step_check_says_a_vanished_gradient_is_too_small():
    query = {"cell": "rnn", "preset": "Impulse", "T": "300", "step": "0", "mode": "backward"}
    text = panel_text(open_page(STEP, query, opened=keys.STEP_CHECK))
    assert md_escape("Too small to check by finite differences") in text
    assert "relative error" not in text


# --------------------------------------------------------------------------------------------
# Vanishing gradients
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("measure", ["x", "h"])
@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_jacobian_check_shows_the_engines_numbers(cell, measure):
    query = {"measure": measure}
    at = open_page(VG, query, opened=keys.VG_CHECK)
    at.radio(key=keys.VG_CHECK_CELL).set_value(cell).run()
    text = panel_text(at)
    run = compute.run(lesson_of(query), cell)
    lag = at.number_input(key=keys.VG_CHECK_LAG).value
    assert lag == min(10, run.trace.T - 1)
    t = run.trace.T - 1 - lag
    r = explain.check_jacobian_norm(run.trace, t, measure)
    assert md_escape(f"‖∂h_T/∂{measure}_t‖₂ at t = {t} (lag {lag}), {cell.upper()}") in text
    assert shown(r["analytic"]) in text and shown(r["numeric"]) in text
    assert "✅ The engine and the finite difference agree" in text


def test_jacobian_check_follows_the_lag():
    at = open_page(VG, {"measure": "h"}, opened=keys.VG_CHECK)
    at.number_input(key=keys.VG_CHECK_LAG).set_value(3).run()
    text = panel_text(at)
    run = compute.run(lesson_of({"measure": "h"}), "rnn")
    r = explain.check_jacobian_norm(run.trace, run.trace.T - 4, "h")
    assert shown(r["analytic"]) in text and md_escape("(lag 3)") in text


def test_jacobian_check_names_an_exploded_run():
    query = {k: v for k, v in EXPLODED.items() if k not in ("cell", "mode")}
    text = panel_text(open_page(VG, query, opened=keys.VG_CHECK))
    assert md_escape("Not checkable by finite differences: the run exploded;") in text
    assert "relative error" not in text


@pytest.mark.parametrize("page", [STEP, VG])
def test_check_is_hidden_in_presentation_mode(page):
    at = open_page(page, {"present": "1"})
    assert not at.exception
    assert LABEL not in [e.label for e in at.expander]
