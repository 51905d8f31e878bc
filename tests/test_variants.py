"""The GRU reset placement page's pure builders (figures/variants.py) and its export series:
the comparison sentence against numbers computed here, in both orders, at T = 1, with a
saturated GRU whose gradients vanish to 0, and with overflow; the figures' lines, axes and
escaping."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from engine import forward, init_params, jacobian_norms
from figures import variants as fv
from figures.style import fmt_grad

RNG = np.random.default_rng(7)
H_A = RNG.uniform(-1, 1, (6, 3))


def two_runs(T=12, D=3, H=4, seed=1, **options):
    params = init_params("gru", D, H, seed=seed, **options)
    xs = np.random.default_rng(seed).normal(size=(T, D))
    traces = {v: forward("gru", params, xs, gru_reset=v) for v in fv.VARIANTS}
    norms = {v: jacobian_norms(t, "h") for v, t in traces.items()}
    return traces, norms


def sentence_of(traces, norms):
    return fv.comparison_sentence(traces["after"].h, traces["before"].h, norms["after"],
                                  norms["before"])  # fmt: skip


def test_the_state_difference_is_the_largest_over_steps_and_units():
    traces, _ = two_runs()
    d, t, k = fv.state_difference(traces["after"].h, traces["before"].h)
    diff = np.abs(traces["before"].h - traces["after"].h)
    assert d == diff.max() > 0 and diff[t, k] == d  # the maximum, and where it is


def assert_sentence_true(traces, norms):
    """The sentence's claims recomputed here: the larger gradient, the ratio, the difference."""
    text = sentence_of(traces, norms)
    a, b = norms["after"][0], norms["before"][0]  # the oldest step: T − 1 steps back
    bigger = "before" if b > a else "after"
    ratio = max(a, b) / min(a, b)
    assert f"{len(norms['after']) - 1} steps back" in text
    if ratio >= 1.01:
        assert f"{fmt_grad(ratio)} times larger with the {fv.NAMES[bigger]}" in text, text
    else:
        assert "less than 1%" in text and f"larger with the {fv.NAMES[bigger]}" in text, text
    d, t, k = fv.state_difference(traces["after"].h, traces["before"].h)
    assert f"up to {fv.fmt_difference(d)}" in text and f"step {t}, unit {k}" in text
    assert "<" not in text  # plain text, no HTML
    return text


@pytest.mark.parametrize("seed", range(6))
def test_the_sentence_names_the_larger_gradient_and_its_ratio(seed):
    traces, norms = two_runs(seed=seed)
    assert_sentence_true(traces, norms)


def test_the_sentence_holds_when_the_gradient_grows():
    # recurrent scale 10 with H = 16: both placements' Jacobian products grow over the lags
    traces, norms = two_runs(T=300, D=3, H=16, seed=2, recurrent_scale=10.0, update_bias=-10.0)
    assert norms["after"][0] > 1e10 and norms["before"][0] > 1e10  # exploding, still finite
    assert_sentence_true(traces, norms)


@pytest.mark.parametrize(("a", "b", "bigger", "ratio"), [
    (1e-3, 1e-6, "after", "1.0×10³"),
    (1e-6, 1e-3, "before", "1.0×10³"),
    (1e-250, 1e99, "before", "1.0×10³⁴⁹"),  # a ratio past float range, written exactly
    (0.5, 0.65, "before", "1.3"),
])  # fmt: skip
def test_both_orders_of_magnitude(a, b, bigger, ratio):
    text = fv.comparison_sentence(H_A, H_A + 0.25, [a, 1.0], [b, 1.0])
    assert f"1 step back is {ratio} times larger with the {fv.NAMES[bigger]}" in text, text
    assert "up to 0.25" in text  # every entry differs by exactly 0.25


@pytest.mark.parametrize(("d", "text"), [
    (0.184, "0.18"), (0.01, "0.01"), (4.5e-5, "4.5×10⁻⁵"), (0.0, "0"), (1.996, "1.996"),
    (1.9999996, "1.9999996"), (1.5, "1.50"),
])  # fmt: skip
def test_a_state_difference_never_rounds_up_to_its_bound(d, text):
    assert fv.fmt_difference(d) == text


def test_one_step_has_no_gradient_to_compare():
    traces, norms = two_runs(T=1)
    assert len(norms["after"]) == 1
    text = sentence_of(traces, norms)
    assert "with a single step there is no step back" in text
    d, _, _ = fv.state_difference(traces["after"].h, traces["before"].h)
    assert d > 0 and f"up to {fv.fmt_difference(d)}" in text  # h_0 = 0: still differs by b_hn


def test_an_overflowed_gradient_is_named_with_the_lag_where_it_reached_the_cap():
    # recurrent scale 10 with H = 16 over 1000 steps: the reset-after run's Jacobian products
    # reach the engine's 1e100 saturation (from there back its numbers are not the true
    # gradient); the reset-before run's stay below it
    traces, norms = two_runs(T=1000, D=3, H=16, seed=2, recurrent_scale=10.0, update_bias=-10.0)
    j = fv.first_capped_lag(norms["after"])
    assert j is not None and fv.first_capped_lag(norms["before"]) is None
    raw = norms["after"][::-1]  # index k = lag
    assert raw[j] >= 1e100 and np.all(raw[:j] < 1e100)  # the first lag at the cap
    shown = fv.capped(norms["after"])[::-1]
    assert np.all(np.isinf(shown[j:])) and np.array_equal(shown[:j], raw[:j])
    np.testing.assert_array_equal(fv.capped(norms["before"]), norms["before"])  # untouched
    text = sentence_of(traces, norms)
    assert (
        f"the gradient overflows (it reaches the engine's cap of 10¹⁰⁰ {j} steps back with the "
        f"reset after the product (PyTorch)); 999 steps back it is "
        f"{fmt_grad(norms['before'][0])} with the reset before" in text
    ), text
    names = [t.name for t in fv.lag_figure(norms).data]
    assert any(n.startswith(fv.NAMES["after"]) and "overflow" in n for n in names), names
    assert fv.NAMES["before"] in names  # no flag on the line that stayed finite


def test_a_saturated_gru_whose_gradient_vanishes_to_zero_says_so():
    # a large recurrent scale saturates tanh, z ≈ 0 drops the direct path: every step back
    # shrinks the gradient, and over 1499 steps the reset-before run's falls below float64
    traces, norms = two_runs(T=1500, D=3, H=4, seed=2, recurrent_scale=10.0, update_bias=-10.0)
    sat = np.mean(np.abs(traces["before"].gates["n"]) > 0.99)
    assert sat > 0.5, sat  # the regime is saturated
    assert norms["before"][0] == 0 < norms["after"][0] < 1e-300  # one underflowed, honestly
    text = sentence_of(traces, norms)
    assert (
        "1499 steps back is 0 in float64 (below 10⁻³²⁴) with the reset before the product "
        f"(Cho 2014) and {fmt_grad(norms['after'][0])} with the reset after" in text
    ), text


@pytest.mark.parametrize(("a", "b", "expected"), [
    (0.0, 1e-5, "is 0 in float64 (below 10⁻³²⁴) with the reset after the product (PyTorch) "
                "and 1.0×10⁻⁵ with the reset before"),
    (2e-5, 0.0, "is 0 in float64 (below 10⁻³²⁴) with the reset before the product (Cho 2014) "
                "and 2.0×10⁻⁵ with the reset after"),
    (math.inf, 1e-3, "the gradient overflows (it reaches the engine's cap of 10¹⁰⁰ 1 step back "
                     "with the reset after the product (PyTorch)); 1 step back it is 1.0×10⁻³ "
                     "with the reset before"),
    (math.nan, 1e100, "the gradient overflows (it reaches the engine's cap of 10¹⁰⁰ 1 step back "
                      "with the reset after the product (PyTorch) and 1 step back with the reset "
                      "before the product (Cho 2014))."),
    (0.25, 0.25, "is the same with both placements (0.25)"),
    (1.0, 1.001, "differs by less than 1% between the placements (1.001 against 1, larger "
                 "with the reset before"),
])  # fmt: skip
def test_zero_overflow_and_equal_gradients_in_words(a, b, expected):
    text = fv.comparison_sentence(H_A, H_A, [a, 1.0], [b, 1.0])
    assert expected in text, text
    assert "the states are identical at every step (max |h_before − h_after| = 0)" in text


@pytest.mark.parametrize(("a", "b", "note"), [
    (4e-323, 4e-323, True), (1e-310, 0.0, True), (3e-308, 1e-300, False), (0.0, 0.0, False),
])  # fmt: skip
def test_subnormal_gradients_are_said_to_carry_few_digits(a, b, note):
    text = fv.comparison_sentence(H_A, H_A, [a, 1.0], [b, 1.0])
    assert ("keep only a few significant digits in float64" in text) == note, text


def test_the_lag_figure_draws_both_placements_on_a_log_axis():
    _, norms = two_runs(T=8)
    labels = tuple(f"<b>w{t}</b>" for t in range(8))
    fig = fv.lag_figure(norms, labels=labels)
    lines = {t.name: t for t in fig.data}
    after, before = (lines[fv.NAMES[v]] for v in fv.VARIANTS)
    assert fig.layout.yaxis.type == "log" and "lag" in fig.layout.xaxis.title.text
    assert "two reset placements" in fig.layout.title.text
    np.testing.assert_array_equal(after.y, norms["after"][::-1])  # index k = lag
    np.testing.assert_array_equal(before.y, norms["before"][::-1])
    assert after.line.color != before.line.color and after.line.dash != before.line.dash
    assert after.marker.symbol != before.marker.symbol  # never colour alone
    hover = " ".join(after.text)
    assert "&lt;b&gt;w0" in hover and "<b>w0" not in hover  # user text escaped


def test_gate_means_are_the_units_means_of_both_runs():
    traces, _ = two_runs(T=9)
    fig = fv.gate_means(traces, labels=None)
    assert len(fig.data) == 6  # r, z, n for two placements
    for i, (name, v) in enumerate((g, v) for g in ("r", "z", "n") for v in fv.VARIANTS):
        np.testing.assert_allclose(fig.data[i].y, traces[v].gates[name].mean(axis=1),
                                   rtol=0, atol=0, err_msg=f"{name} {v}")  # fmt: skip
        assert fig.data[i].line.dash == fv.DASH[v]
    assert fig.layout.yaxis.range == (-0.03, 1.03) and fig.layout.yaxis3.range == (-1.05, 1.05)
    assert "time step" in fig.layout.xaxis3.title.text


def test_heatmap_captions_follow_the_cell_and_activation():
    traces, _ = two_runs(T=3)
    assert "σ gates 0…1, tanh values ±1); compare the two runs" in fv.heatmaps_caption(
        traces["after"]
    )
    relu = forward("rnn", init_params("rnn", 2, 3), np.ones((4, 2)), nonlinearity="relu")
    text = fv.heatmaps_caption(relu, compare=False)
    assert "ReLU: ±max|h|, unbounded" in text and "no gates" in text and "compare" not in text
    lstm = forward("lstm", init_params("lstm", 2, 3), np.ones((4, 2)))
    assert "the cell state ±max|c|" in fv.heatmaps_caption(lstm)
    for t in (traces["after"], relu, lstm):
        assert "▶" not in fv.heatmaps_caption(t) and "dashed" not in fv.heatmaps_caption(t)


def test_heatmaps_are_titled_with_their_placement():
    traces, _ = two_runs(T=5)
    fig = fv.heatmaps(traces["before"], title="GRU, reset before")
    assert fig.layout.title.text == "GRU, reset before" and len(fig.data) == 4
    assert not fig.frames and not fig.layout.shapes  # static: no cursor, no animation


@pytest.mark.parametrize(("cell", "variant", "needs"), [
    ("gru", "before", 'gru_reset="before"'),
    ("gru", "after", 'gru_reset="after"'),
    ("lstm", "after", "does not apply"),
    ("rnn", "after", "does not apply"),
])  # fmt: skip
def test_the_loaded_sentence_says_which_variant_it_needs(cell, variant, needs):
    text = fv.loaded_sentence(cell, variant, 5, 3)
    assert needs in text and "H = 5" in text and "D = 3" in text
    if cell == "gru":
        assert fv.NAMES[variant] in text and fv.WHO[variant] in text
    assert re.match(r"Loaded an? (GRU|LSTM|RNN) ", text)
    if cell == "rnn":
        assert "sidebar's RNN activation, relu" in fv.loaded_sentence(cell, variant, 5, 3, "relu")


def test_the_loaded_lag_figure_names_the_cell_and_placement():
    fig = fv.loaded_lag_figure("gru", "before", [1e-3, 1e-2, 1.0])
    assert "GRU, reset before the product" in fig.layout.title.text
    fig = fv.loaded_lag_figure("lstm", "after", [1e-3, 1e-2, 1.0])
    assert "Loaded LSTM:" in fig.layout.title.text and "reset" not in fig.layout.title.text


def test_only_the_candidate_equation_differs():
    after, before = (fv.EQUATIONS[v] for v in fv.VARIANTS)
    same = [i for i in range(4) if after[i] == before[i]]
    assert same == [0, 1, 3]  # r, z and h alike; n differs
    assert r"r_t \odot (W_{hn} h_{t-1} + b_{hn})" in after[2]
    assert r"W_{hn} (r_t \odot h_{t-1})" in before[2]
