"""The trained cells (issue 9 item 4): the ``trained=`` format, its validation, the runs the
pages get from it (deterministic, trained, on a fresh marked task sequence) and the banner."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import streamlit as st

import engine
from engine import tasks
from engine.train import TrainConfig, Trainer
from ui import compute, training
from ui.state import DEFAULT, from_query, to_query

TINY = "adding_lag5_H4_seed1_lr0.01_fb1_ub0_tanh_rnn6_gru6_lstm6"
"""A tiny trained lesson: every run in these tests takes milliseconds."""


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with empty caches and an empty store: what it sees, it computed."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def lesson(trained: str = TINY, **kw):
    return dataclasses.replace(DEFAULT, trained=trained, **kw)


# --------------------------------------------------------------------------------------------
# The format
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        TINY,
        "recall_lag200_H256_seed2147483647_lr1_fb-10_ub10_relu_rnn5000_gru0_lstm1",
        "adding_lag20_H16_seed0_lr0.0123456789_fb1.25_ub-2.5_tanh_rnn0_gru600_lstm0",
        "adding_lag1_H1_seed0_lr1e-05_fb0_ub0_tanh_rnn1_gru1_lstm1",
    ],
)
def test_format_round_trip(text):
    spec = training.parse_trained(text)
    assert training.format_trained(spec) == text  # the text is canonical
    assert training.parse_trained(training.format_trained(spec)) == spec  # nothing is lost


def test_parts_in_any_order_and_missing_cells_are_untrained():
    spec = training.parse_trained("lstm30_tanh_ub0_fb1_lr0.01_seed3_H8_lag10_recall")
    assert spec.steps == (0, 0, 30)
    assert (spec.task, spec.lag, spec.H, spec.seed, spec.activation) == ("recall", 10, 8, 3, "tanh")
    assert training.format_trained(spec).endswith("_rnn0_gru0_lstm30")


def test_every_number_survives_exactly():
    spec = training.TrainedSpec("adding", 7, 5, 11, 0.1 + 0.2, 1 / 3, -2 / 7, "relu", (3, 0, 9))
    back = training.parse_trained(training.format_trained(spec))
    assert back == spec and back.lr == 0.1 + 0.2 and back.forget_bias == 1 / 3


def test_the_link_carries_it():
    query = to_query(lesson())
    assert query == {"trained": TINY}
    assert from_query(query) == (lesson(), [])


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty part"),
        ("adding_lag20", "the hidden size (H16)"),
        ("adding_lag20_H16_seed0_lr0.01_fb1_ub0_tanh", "no cell was trained"),
        ("adding_lag20_H16_seed0_lr0.01_fb1_ub0_tanh_rnn0", "no cell was trained"),
        ("adding_lag20_H16_seed0_lr0.01_fb1_ub0_tanh_rnn10_zebra", "“zebra” is not one of its"),
        ("adding_lag20_lag30_H16_seed0_lr0.01_fb1_ub0_tanh_rnn10", "names the lag (lag20) twice"),
        ("adding_lag20_H16_seed0_lr0.01_fb1_ub0_tanh_rnn10_rnn20", "names the RNN twice"),
        ("adding_lag500_H16_seed0_lr0.01_fb1_ub0_tanh_rnn10", "the lag must be from 1 to 200"),
        ("adding_lag0_H16_seed0_lr0.01_fb1_ub0_tanh_rnn10", "the lag must be from 1 to 200"),
        ("adding_lag20_H999_seed0_lr0.01_fb1_ub0_tanh_rnn10", "H must be from 1 to 256"),
        ("adding_lag20_H16_seed0_lr0.01_fb1_ub0_tanh_rnn9999", "steps must be from 0 to 5000"),
        ("adding_lag20_H16_seed0_lr0_fb1_ub0_tanh_rnn10", "learning rate must be above 0"),
        ("adding_lag20_H16_seed0_lr5_fb1_ub0_tanh_rnn10", "learning rate must be from 0 to 1"),
        ("adding_lag20_H16_seed0_lr0.01_fb1e999_ub0_tanh_rnn10", "must be finite"),
        ("adding_lag20_H16_seed0_lr0.01_fb11_ub0_tanh_rnn10", "forget bias must be from -10"),
        ("adding_lag20_H16_seed0_lr0.01_fb1_ub0_sigmoid_rnn10", "“sigmoid” is not one of"),
        ("subtract_lag20_H16_seed0_lr0.01_fb1_ub0_tanh_rnn10", "“subtract” is not one of"),
        ("x" * 40, "is not one of its parts"),
    ],
)
def test_a_bad_link_says_what_is_wrong(text, message):
    with pytest.raises(engine.InputError, match="trained-cells link is not valid") as err:
        training.parse_trained(text)
    assert message in str(err.value)


def test_a_bad_link_is_a_clean_page_error():
    with pytest.raises(engine.InputError, match="not valid"):
        compute.run(lesson("adding_lag20"))


# --------------------------------------------------------------------------------------------
# The configurations: the same as the Train page's, and bounded
# --------------------------------------------------------------------------------------------


def page_configs(spec: training.TrainedSpec, steps: int) -> dict[str, TrainConfig]:
    """What the Train page builds for the same settings (with its time budget)."""
    return training.configs(
        spec.task, spec.lag, training.TRAINED_CELLS, steps=steps, H=spec.H, seed=spec.seed,
        lr=spec.lr, forget_bias=spec.forget_bias, update_bias=spec.update_bias,
        activation=spec.activation,
    )  # fmt: skip


def test_a_finished_train_run_is_found_by_its_link_without_training_again():
    spec = training.parse_trained(TINY)
    cfgs = page_configs(spec, 6)
    results, here = training.train_live(cfgs, draw=lambda trainers: None)
    assert here  # nothing was kept: trained here
    assert training.spec_of(cfgs, results) == spec  # the button's link is this spec
    got = training.trained_results(spec)
    assert all(got[c] is results[c] for c in cfgs)  # the very stored objects: nothing retrained


def test_a_run_stopped_early_is_repeated_exactly_by_its_link():
    """A time-out stops a Train run at a step the link records; retraining to that step gives
    the same weights bit for bit (simulated here by a step budget)."""
    spec = training.parse_trained(TINY)
    stopped = {c: engine.train(cfg) for c, cfg in page_configs(spec, 4).items()}
    link = training.spec_of(page_configs(spec, 6), stopped)
    assert link.steps == (4, 4, 4)
    retrained = training.trained_results(link)  # the store is empty: trained again
    for c, r in stopped.items():
        for k, v in r.params.items():
            np.testing.assert_array_equal(retrained[c].params[k], v, err_msg=f"{c} {k}")


def test_a_link_too_costly_to_retrain_is_refused_before_any_work():
    spec = training.parse_trained("adding_lag200_H256_seed0_lr0.01_fb1_ub0_tanh_lstm5000")
    assert training.retrain_seconds(spec) > training.LINK_SECONDS
    with pytest.raises(engine.InputError, match=r"about \d+ s, more than the 30 s"):
        training.trained_results(spec)
    # the Train page's default training fits in a link with room to spare
    default = training.parse_trained(
        "adding_lag20_H16_seed0_lr0.01_fb1_ub0_tanh_rnn600_gru600_lstm600"
    )
    assert training.retrain_seconds(default) < training.LINK_SECONDS / 2


def test_update_bias_reaches_the_gru_only():
    spec = training.parse_trained("adding_lag5_H4_seed1_lr0.01_fb2_ub3_tanh_rnn1_gru1_lstm1")
    cfgs = spec.configs()
    assert cfgs["gru"].update_bias == 3.0 and cfgs["gru"].forget_bias is None
    assert cfgs["lstm"].forget_bias == 2.0 and cfgs["lstm"].update_bias is None
    before = Trainer(cfgs["gru"]).params
    np.testing.assert_array_equal(before["bias_ih"][4:8], 3.0)  # z block: the update bias


# --------------------------------------------------------------------------------------------
# What the pages compute
# --------------------------------------------------------------------------------------------


def test_the_input_is_a_fresh_task_sequence_with_its_decisive_steps_marked():
    spec = training.parse_trained(TINY)
    seq, cut = compute.sequence(lesson())
    sample = tasks.sample(tasks.ADDING, 5, training.sample_seed(spec))
    np.testing.assert_array_equal(seq.values, sample.xs)
    assert cut == 0 and seq.T == tasks.ADDING.length(5)
    marked = [t for t, label in enumerate(seq.labels) if label.startswith(tasks.MARK)]
    assert marked == list(sample.marked) == list(np.flatnonzero(seq.values[:, 1]))
    assert len(marked) == 2  # the adding problem's two markers


def test_the_sidebar_settings_do_not_change_a_trained_run():
    other = lesson(H=64, seed=9, preset="Impulse", T=7, scale=3.0, activation="relu")
    # one cache key: the trained field is all a trained run depends on
    assert compute.model_key(other, "lstm") == compute.model_key(lesson(), "lstm")
    a, b = compute.run(lesson(), "lstm"), compute.run(other, "lstm")
    np.testing.assert_array_equal(a.trace.h, b.trace.h)
    assert a.trace.H == 4 and a.labels == b.labels


def test_the_same_link_gives_the_same_numbers():
    first = {c: compute.run(lesson(), c) for c in engine.CELLS}
    cmp_first = compute.compare(lesson())
    st.cache_data.clear()
    st.cache_resource.clear()  # the store too: everything is trained again
    for c in engine.CELLS:
        again = compute.run(lesson(), c)
        np.testing.assert_array_equal(again.trace.h, first[c].trace.h, err_msg=c)
        np.testing.assert_array_equal(again.grads.h, first[c].grads.h, err_msg=c)
        assert again.labels == first[c].labels
    cmp_again = compute.compare(lesson())
    for c in engine.CELLS:
        np.testing.assert_array_equal(cmp_again.curves[c], cmp_first.curves[c], err_msg=c)


def test_trained_runs_differ_from_untrained_ones():
    spec = training.parse_trained(TINY)
    untrained = lesson(training.format_trained(dataclasses.replace(spec, steps=(6, 0, 0))))
    for c in ("gru", "lstm"):
        trained_run, initial_run = compute.run(lesson(), c), compute.run(untrained, c)
        np.testing.assert_array_equal(initial_run.trace.params["weight_hh"],
                                      Trainer(spec.configs()[c]).params["weight_hh"])  # fmt: skip
        assert not np.allclose(trained_run.trace.h, initial_run.trace.h), c
    r = training.trained_results(spec)["lstm"]
    assert any(not np.array_equal(r.params[k], r.params_before[k]) for k in r.params)


def test_the_rnn_runs_with_the_trained_activation():
    relu = lesson("adding_lag5_H4_seed1_lr0.01_fb1_ub0_relu_rnn3")
    assert compute.run(relu, "rnn").trace.nonlinearity == "relu"
    assert compute.compare(relu).nonlinearity == "relu"


def test_the_comparison_uses_the_trained_hidden_size():
    cmp = compute.compare(lesson(H=200))  # the sidebar's H is not the trained H = 4
    assert cmp.first == 0 and len(cmp.rnn_factors) == tasks.ADDING.length(5)


# --------------------------------------------------------------------------------------------
# The banner
# --------------------------------------------------------------------------------------------


def test_the_banner_states_the_training_and_each_measured_outcome():
    spec = training.parse_trained("adding_lag5_H4_seed1_lr0.01_fb1_ub0_tanh_rnn6_lstm6")
    results = training.trained_results(spec)
    text = training.banner_text(spec, results)
    assert text.startswith("**Trained cells**: Adding problem, lag 5, H = 4, seed 1, Adam lr 0.01")
    for c in ("rnn", "lstm"):
        ev = results[c].eval_after
        assert f"6 steps, held-out MSE {ev.loss:.3g} ({ev.relative_loss:.0%} of chance)" in text
    gru = results["gru"].eval_after
    assert f"**GRU**: not trained (its initial weights), held-out MSE {gru.loss:.3g}" in text
    assert "T = 7" in text and f"{tasks.MARK} marks the two marked values" in text


def test_the_banner_of_a_recall_run_gives_accuracy_against_chance():
    spec = training.parse_trained("recall_lag4_H4_seed0_lr0.01_fb1_ub0_tanh_gru5")
    results = training.trained_results(spec)
    acc = results["gru"].eval_after.accuracy
    text = training.banner_text(spec, results)
    assert f"**GRU**: 5 steps, held-out accuracy {acc:.0%} (chance 25%)" in text
    assert "the symbol to recall 4 steps later" in text


def test_the_banner_names_a_diverged_run_and_a_time_out():
    spec = training.parse_trained(TINY)
    results = training.trained_results(spec)
    results["rnn"] = dataclasses.replace(results["rnn"], status="diverged")
    results["gru"] = dataclasses.replace(results["gru"], status="timeout")
    text = training.banner_text(spec, results)
    assert "**RNN**: diverged at step 6 (its last finite weights)" in text
    assert "**GRU**: 6 steps, stopped by the time budget" in text


def test_the_gate_sentence_is_measured_on_the_shown_sequence():
    runs = {c: compute.run(lesson(), c) for c in ("gru", "lstm")}
    labels = runs["lstm"].labels
    text = training.gates_text({c: r.trace for c, r in runs.items()}, labels)
    marked = [t for t, label in enumerate(labels) if label.startswith(tasks.MARK)]
    rest = [t for t in range(len(labels)) if t not in marked]
    g = runs["lstm"].trace.gates
    assert f"input gate i_t averages {np.mean(g['i'][marked]):.2f} at the ▲ steps" in text
    assert f"and {np.mean(g['i'][rest]):.2f} at the other steps" in text
    assert f"forget gate f_t {np.mean(g['f']):.2f}" in text
    assert f"kept) averages {np.mean(runs['gru'].trace.gates['z']):.2f}" in text


def test_an_export_records_the_trained_settings_not_the_sidebars():
    from ui.state import settings

    s = settings(lesson(H=64, seed=9, scale=3.0, activation="relu"), measure=True)
    assert (s["H"], s["seed"], s["scale"], s["activation"]) == (4, 1, 1.0, "tanh")
    assert (s["forget_bias"], s["update_bias"], s["init"]) == (1.0, 0.0, "uniform")
    assert s["trained"] == TINY and s["trained_steps"] == {"rnn": 6, "gru": 6, "lstm": 6}
    assert (s["trained_task"], s["trained_lag"], s["trained_lr"]) == ("adding", 5, 0.01)
    assert s["source"] == "task" and "T" not in s and "tokens" not in s
    assert s["measure"] == "x"
    # the trained numbers: the run's own H and parameters agree with what is recorded
    run = compute.run(lesson(H=64), "lstm")
    assert run.trace.H == s["H"]


def test_an_untrained_cell_of_the_link_keeps_the_pages_biases():
    spec = training.parse_trained(TINY)
    cfgs = {c: cfg for c, cfg in page_configs(spec, 3).items() if c == "rnn"}
    results = {"rnn": engine.train(cfgs["rnn"])}
    link = training.spec_of(cfgs, results, forget_bias=2.5, update_bias=-1.0)
    assert (link.forget_bias, link.update_bias, link.steps) == (2.5, -1.0, (3, 0, 0))
    shown = training.trained_results(link)
    H = spec.H
    np.testing.assert_array_equal(shown["lstm"].params["bias_ih"][H : 2 * H], 2.5)
    np.testing.assert_array_equal(shown["gru"].params["bias_ih"][H : 2 * H], -1.0)
