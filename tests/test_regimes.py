"""The regime lessons: valid settings, and each text's claims checked against the engine."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import engine
from engine import inputs, theory
from engine.cells import STATE_LIMIT
from engine.lessons import REGIMES, sigmoid_power
from figures import gates as figures_gates
from figures import gradients, style
from ui import compute, keys, state
from ui.state import Lesson


def lesson_of(name: str, **changes) -> Lesson:
    return dataclasses.replace(Lesson(**REGIMES[name].settings), **changes)


def trace_of(lesson: Lesson, cell: str | None = None) -> engine.Trace:
    """The lesson's run built from the engine directly (the app's parameters for its knobs)."""
    cell = cell or lesson.cell
    assert lesson.source == "preset" and lesson.preset in inputs.NUMERIC_PRESETS
    seq = inputs.preset(lesson.preset, steps=lesson.T, seed=lesson.seed)
    params = compute.params_for(lesson, cell, seq.D)
    act = lesson.activation if cell == "rnn" else "tanh"
    return engine.forward(cell, params, seq.values, nonlinearity=act)


@pytest.mark.parametrize("name", list(REGIMES))
def test_each_regime_is_a_full_valid_lesson_and_survives_its_link(name):
    regime = REGIMES[name]
    lesson = Lesson(**regime.settings)
    # every setting is in range: cleaning changes nothing and reports nothing
    assert state.clean(dict(regime.settings)) == (lesson, [])
    for field in ("cell", "activation", "init", "scale", "forget_bias", "update_bias", "H", "T"):
        assert field in regime.settings, f"{name} does not set {field}"
    # the link carries the whole lesson
    assert state.from_query(state.to_query(lesson)) == (lesson, [])
    assert keys.page(regime.page).label == regime.page
    assert (
        regime.title
        and regime.reference
        and regime.reference.split(" (")[0] in (regime.explanation + " " + regime.reference)
    )
    assert "<" not in regime.explanation and "<" not in regime.title  # plain text
    with pytest.raises(TypeError):
        regime.settings["scale"] = 2.0  # read-only: the app cannot change a regime by accident


def test_exploding_grows_by_the_scale_per_step_and_meets_the_bound():
    lesson = lesson_of("exploding")
    trace = trace_of(lesson)
    norms = engine.jacobian_norms(trace, "h")[::-1]  # lag 0, 1, 2, ...
    k = np.arange(len(norms))
    # ‖∂h_T/∂h_t‖ = 1.5^k at every lag, as the text says
    np.testing.assert_allclose(norms, lesson.scale**k, rtol=1e-12)
    # and equals the Pascanu bound (γ σ_max)^k = 1.5^k
    np.testing.assert_allclose(norms, theory.pascanu_bound(trace)[::-1], rtol=1e-12)
    assert f"{lesson.scale**lesson.T / lesson.scale:.1e}".startswith("7.4")
    assert "7.4×10⁶" in REGIMES["exploding"].explanation


def test_exploding_overflows_past_the_lag_the_text_names_and_the_app_says_overflow():
    lesson = lesson_of("exploding", T=600)
    trace = trace_of(lesson)
    capped = np.flatnonzero(np.any(trace.h >= STATE_LIMIT, axis=-1))
    # the states pass 10^100 at the step 1.5^k passes it (k = 568), as the text says
    assert "k = 568" in REGIMES["exploding"].explanation
    assert capped.size and abs(int(capped[0]) - 568) <= 2
    cmp = compute.compare(lesson)
    rnn = cmp.curves["rnn"]
    # the app's curve names the overflow: infinite, never a zero or a small number
    assert np.all(np.isinf(rnn[:-1])) and not np.any(rnn == 0)
    sentence = gradients.takeaway(cmp.curves, None)
    assert "overflow" in sentence and "vanish" not in sentence and "0 in floating" not in sentence


def test_identity_relu_keeps_the_norm_at_one_at_every_lag():
    lesson = lesson_of("identity_relu")
    trace = trace_of(lesson)
    norms = engine.jacobian_norms(trace, "h")
    assert len(norms) == lesson.T == 200
    np.testing.assert_allclose(norms, 1.0, rtol=0, atol=1e-12)  # held at 1, 199 steps back
    np.testing.assert_allclose(theory.pascanu_bound(trace), 1.0, atol=1e-12)  # and tight
    assert np.any(np.all(trace.h > 0, axis=0)), "some unit stays active throughout"


def test_lstm_carousel_holds_f_near_one_and_carries_the_cell_gradient():
    lesson = lesson_of("lstm_carousel")
    trace = trace_of(lesson)
    f = trace.gates["f"]
    assert f.min() > 0.99 and abs(f.mean() - sigmoid_power(lesson.forget_bias, 1)) < 2e-3
    grads = engine.backward(trace, theory.last_step_seed(trace))
    split = theory.lstm_cell_path(trace, grads)
    k = lesson.T - 1
    carried = theory.forget_products(trace)[0].mean()  # Π f over the 39 steps, unit mean
    assert abs(carried - sigmoid_power(lesson.forget_bias, k)) < 0.02  # "about 0.91"
    # the carousel's own recursion: dc_{t-1} path = f_t ⊙ dc_t path, exactly
    np.testing.assert_allclose(split["path"][:-1], split["path"][1:] * f[1:], rtol=1e-12)
    total = np.linalg.norm(grads.c, axis=-1)
    assert total[0] >= 0.5 * total[-1], "‖dL/dc_t‖ does not vanish"
    # the default bias +1: the carried part falls to about σ(1)^39 (within a factor 10)
    default = trace_of(dataclasses.replace(lesson, forget_bias=1.0))
    ratio = theory.forget_products(default)[0].mean() / sigmoid_power(1.0, k)
    assert 0.1 < ratio < 10


def test_gru_with_update_bias_keeps_its_state_and_the_rnn_does_not():
    lesson = lesson_of("gru_keeping")
    trace = trace_of(lesson)
    z = trace.gates["z"]
    assert z.min() > 0.99 and abs(z.mean() - sigmoid_power(lesson.update_bias, 1)) < 2e-3
    k = lesson.T - 1
    assert abs(theory.update_products(trace)[0].mean() - sigmoid_power(6.0, k)) < 0.02
    gru = engine.jacobian_norms(trace, "h")
    rnn = engine.jacobian_norms(trace_of(lesson, "rnn"), "h")
    assert gru.min() > 0.5, "‖∂h_T/∂h_t‖ stays near 1"
    assert rnn[0] < 1e-3, "while the RNN's vanishes"
    # the default bias 0: the direct path keeps about 0.5^39 (within a factor 10)
    default = trace_of(dataclasses.replace(lesson, update_bias=0.0))
    ratio = theory.update_products(default)[0].mean() / sigmoid_power(0.0, k)
    assert 0.1 < ratio < 10


# --------------------------------------------------------------------------------------------
# The Vanishing gradients page's sentence on the gates: numbers from the run, true per regime
# --------------------------------------------------------------------------------------------


def memory_case(**changes):
    """The sentence for the default lesson with ``changes``, and the engine's own numbers:
    the mean gate over the lag's steps and the unit mean of Π gate (theory's products)."""
    lesson = dataclasses.replace(state.DEFAULT, **changes)
    traces = {c: compute.run(lesson, c).trace for c in ("gru", "lstm")}
    T = traces["gru"].T
    k = T - 1
    sentence = gradients.gate_memory_sentence(
        traces["gru"].gates["z"], traces["lstm"].gates["f"], lag=k
    )
    products = {
        "z": theory.update_products(traces["gru"])[T - 1 - k].mean(),
        "f": theory.forget_products(traces["lstm"])[T - 1 - k].mean(),
    }
    means = {  # over the k steps whose gates enter the product (every step when k = 0)
        "z": traces["gru"].gates["z"][T - max(k, 1) :].mean(),
        "f": traces["lstm"].gates["f"][T - max(k, 1) :].mean(),
    }
    return sentence, products, means, k


def test_memory_sentence_at_the_defaults_says_the_gates_forget_with_the_runs_numbers():
    sentence, products, means, k = memory_case()
    assert f"Over the {k} steps shown" in sentence
    for g in ("z", "f"):  # the numbers are the engine's
        assert f"{g} = {means[g]:.2f}" in sentence
        assert f"Π {g} ≈ {style.fmt_grad(products[g])}" in sentence
        assert products[g] < 0.5
    assert "the gate lets the state go" in sentence  # the GRU: Π z ~ 10^-5 over 14 steps
    assert products["z"] < 1e-2
    assert "can learn to hold their state" in sentence and "the gates do not" in sentence
    assert "holds the state" not in sentence


def test_memory_sentence_with_the_update_bias_says_the_gru_keeps_its_state():
    sentence, products, means, _ = memory_case(update_bias=6.0)
    assert products["z"] > 0.5 and means["z"] > 0.99
    assert f"z = 1 − {style.fmt_grad(1 - means['z'])}" in sentence
    assert f"Π z ≈ {style.fmt_grad(products['z'])}" in sentence
    gru, lstm = sentence.split("; ")[:2]
    assert "the gate holds the state" in gru and "holds the state" not in lstm
    assert "(z here)" in sentence and "raise the LSTM forget bias" in sentence
    assert "the gates do not" not in sentence


def test_memory_sentence_with_the_forget_bias_says_the_lstm_keeps_its_state():
    sentence, products, means, _ = memory_case(forget_bias=6.0)
    assert products["f"] > 0.5 and means["f"] > 0.99
    gru, lstm = sentence.split("; ")[:2]
    assert "the gate holds the state" in lstm and "the gate lets the state go" in gru
    assert "(f here)" in sentence and "raise the GRU update bias" in sentence


def test_memory_sentence_with_a_negative_forget_bias_says_both_forget():
    sentence, products, means, _ = memory_case(forget_bias=-6.0)
    assert means["f"] < 0.01 and products["f"] < 1e-20
    assert f"f = {style.fmt_grad(means['f'])}" in sentence
    assert f"Π f ≈ {style.fmt_grad(products['f'])}" in sentence
    assert sentence.count("the gate lets the state go") == 2 and "the gates do not" in sentence


def test_memory_sentence_for_one_step_has_no_product():
    sentence, _, means, k = memory_case(source="numbers", numbers="0.5")
    assert k == 0
    assert f"z = {means['z']:.2f}" in sentence and f"f = {means['f']:.2f}" in sentence
    assert sentence.startswith("With no step back to cross there is no product of gates")
    assert "Π" not in sentence and "lets" not in sentence and "holds" not in sentence


def test_memory_sentence_names_underflow_below_1e300_never_zero():
    sentence, products, _, _ = memory_case(preset="Impulse", T=2000, forget_bias=-10.0)
    assert products["f"] < 1e-300  # the engine's product underflows here
    assert "Π f below 10⁻³⁰⁰" in sentence and "≈ 0 " not in sentence


def test_memory_sentence_without_gates_is_empty():
    assert gradients.gate_memory_sentence(lag=5) == ""


# --------------------------------------------------------------------------------------------
# Gates over time: texts that follow the cell and the activation
# --------------------------------------------------------------------------------------------


def test_gates_notice_for_gated_cells_gives_the_memory_gate_from_the_run():
    for name, sym in (("lstm_carousel", "f"), ("gru_keeping", "z")):
        trace = trace_of(lesson_of(name))
        text = figures_gates.what_to_notice(trace)
        gate = trace.gates[sym]
        assert f"averages 1 − {style.fmt_grad(1 - gate.mean())} over the run" in text
        held = int(np.sum(gate.mean(axis=0) > 0.9))
        assert held == trace.H and f"{held} of {trace.H} units hold it above 0.9" in text
    default = compute.run(state.DEFAULT).trace  # the LSTM at the default lesson
    text = figures_gates.what_to_notice(default)
    assert f"averages {default.gates['f'].mean():.2f}" in text and "forget gate f" in text


def test_gates_texts_for_a_tanh_rnn_speak_of_tanh_and_not_of_gates_or_relu():
    trace = compute.run(dataclasses.replace(state.DEFAULT, cell="rnn")).trace
    text = figures_gates.what_to_notice(trace)
    sat = np.mean(np.abs(trace.h) > 0.95)
    assert "has no gates" in text and "tanh′ = 1 − h²" in text and "ReLU" not in text
    assert f"{100 * sat:.0f}% of its values are saturated" in text
    assert "tanh" in figures_gates.how_to_read("saturation_strip", trace)
    assert "tanh: ±1" in figures_gates.how_to_read("gate_heatmaps", trace)


def test_gates_texts_for_a_relu_rnn_name_relu_and_never_tanh():
    trace = trace_of(lesson_of("identity_relu"))
    text = figures_gates.what_to_notice(trace)
    off = int(np.sum(trace.h[-1] <= 0))
    assert f"{off} of {trace.H} units are switched off" in text and "ReLU′ = 0" in text
    assert f"The largest |h| is {style.fmt_grad(np.abs(trace.h).max())}" in text
    for name in ("gate_heatmaps", "step_bars", "unit_lines", "saturation_strip"):
        caption = figures_gates.how_to_read(name, trace)
        assert "tanh" not in caption and "squash" not in caption, name
    assert "tanh" not in text and "squash" not in text and "saturated" not in text
    assert "no saturating gate" in figures_gates.how_to_read("saturation_strip", trace)
    strip = figures_gates.saturation_strip(theory.gate_saturation(trace))
    assert "no saturating gate" in strip.layout.title.subtitle.text


def test_gates_notice_for_an_overflowing_relu_rnn_names_the_overflow():
    trace = trace_of(lesson_of("exploding", T=600))
    text = figures_gates.what_to_notice(trace)
    step = int(np.flatnonzero(np.any(trace.h >= STATE_LIMIT, axis=-1))[0])
    assert f"reached the 10¹⁰⁰ cap at step {step}" in text and "overflow" in text
    assert "ReLU′ = 1" not in text and "largest |h|" not in text


def test_gates_heatmap_of_an_overflowing_relu_rnn_labels_the_cap_not_a_hundred_digits():
    trace = trace_of(lesson_of("exploding", T=600))
    fig = figures_gates.gate_heatmaps(trace)
    ends = list(fig.data[0].colorbar.ticktext)
    assert ends == ["−1.0×10¹⁰⁰", "0", "+1.0×10¹⁰⁰"]
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert "overflowed" in notes and "10¹⁰⁰ cap" in notes
    growing = figures_gates.gate_heatmaps(trace_of(lesson_of("exploding")))  # T = 40: 7.7×10⁶
    top = float(np.abs(trace_of(lesson_of("exploding")).h).max())
    assert growing.data[0].colorbar.ticktext[-1] == "+" + style.fmt_grad(top)
