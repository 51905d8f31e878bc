"""Tests for engine.tasks and engine.train: tasks, losses, optimiser, training runs, evidence.

The last test is the lesson's claim as an assertion: on a long-term dependency the vanilla RNN
stays at the chance baseline while the GRU and the LSTM learn it.
"""

import dataclasses
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import CELLS, forward, init_params, jacobian_norms
from engine.errors import InputError
from engine.tasks import ADDING, MAX_LAG, RECALL, TASKS, Task, make_batch
from engine.train import (
    EVAL_SEED,
    MAX_STEPS,
    AdamState,
    TrainConfig,
    Trainer,
    adam_init,
    adam_step,
    batch_gradients,
    clip_by_global_norm,
    history_columns,
    init_readout,
    log_softmax,
    mse_loss,
    readout_backward,
    readout_forward,
    train,
    xent_loss,
)

ROOT = str(Path(__file__).resolve().parents[1])
TINY = {"lag": 5, "hidden_size": 6, "batch_size": 8, "eval_size": 16, "max_seconds": None}


def rel_error(a, b):
    """Entrywise relative error (CS231n's ``rel_error``)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def norm_error(a, b):
    """‖a - b‖ / (‖a‖ + ‖b‖): for gradients with entries near 0 (finite-difference noise)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


def numerical_gradient(f, x, h=1e-6):
    """Central differences of a scalar f with respect to every entry of x (changed in place)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        fp = f(x)
        x[idx] = old - h
        fm = f(x)
        x[idx] = old
        grad[idx] = (fp - fm) / (2 * h)
    return grad


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lag", [1, 9, 20, 57])
@pytest.mark.parametrize("kind", ["adding", "recall"])
def test_batch_shapes_and_types(kind, lag):
    task = TASKS[kind]
    xs, targets = make_batch(task, lag, 5, 0)
    T = task.length(lag)
    assert xs.shape == (5, T, task.input_size) and xs.dtype == np.float64
    if kind == "adding":
        assert T == lag + max(2, lag // 10)
        assert targets.shape == (5, 1) and targets.dtype == np.float64
    else:
        assert T == lag + 1
        assert targets.shape == (5,) and targets.dtype == np.int64


@settings(max_examples=40, deadline=None)
@given(lag=st.integers(1, 150), batch=st.integers(1, 6), seed=st.integers(0, 2**32))
def test_adding_has_two_markers_and_the_sum_as_target(lag, batch, seed):
    xs, targets = make_batch(ADDING, lag, batch, seed)
    values, markers = xs[..., 0], xs[..., 1]
    T, head = ADDING.length(lag), ADDING.head(lag)
    # exactly two markers, both 0/1, the first in the head, the second after it
    np.testing.assert_array_equal(np.sum(markers == 1.0, axis=1), 2)
    np.testing.assert_array_equal(np.sum(markers == 0.0, axis=1), T - 2)
    np.testing.assert_array_equal(np.sum(markers[:, :head], axis=1), 1, err_msg="head marker")
    first = np.argmax(markers, axis=1)
    assert np.all(T - 1 - first >= lag), "the first marked value lies ≥ lag steps before the end"
    assert np.all((values >= 0) & (values < 1))
    # the target is the sum of the two marked values
    np.testing.assert_allclose(targets[:, 0], np.sum(values * markers, axis=1), rtol=1e-15)


@settings(max_examples=40, deadline=None)
@given(lag=st.integers(1, 150), batch=st.integers(1, 6), seed=st.integers(0, 2**32))
def test_recall_is_one_hot_with_the_symbol_first_then_distractors(lag, batch, seed):
    K = RECALL.n_classes
    xs, labels = make_batch(RECALL, lag, batch, seed)
    np.testing.assert_array_equal(xs.sum(axis=-1), 1.0, err_msg="one-hot at every step")
    np.testing.assert_array_equal(np.argmax(xs[:, 0], axis=-1), labels, err_msg="the symbol")
    assert np.all(xs[:, 0, K:] == 0), "the symbol comes from the symbol alphabet"
    assert np.all(xs[:, 1:, :K] == 0), "distractors come from their own alphabet"


def test_recall_distractors_are_random_not_a_blank():
    xs, _ = make_batch(RECALL, 50, 4, 0)
    used = np.unique(np.argmax(xs[:, 1:], axis=-1))
    assert len(used) == RECALL.n_distractors, "every distractor symbol occurs"


def test_batches_are_deterministic_and_differ_by_seed():
    for task in (ADDING, RECALL):
        a, ta = make_batch(task, 12, 3, np.random.default_rng(7))
        b, tb = make_batch(task, 12, 3, 7)
        c, _ = make_batch(task, 12, 3, 8)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ta, tb)
        assert not np.array_equal(a, c)


def test_adding_chance_baseline_is_the_variance_of_the_target():
    _, targets = make_batch(ADDING, 10, 200_000, 0)
    # the best constant prediction is the mean 1; its MSE is Var(u_a + u_b) = 1/6
    assert ADDING.chance_loss == pytest.approx(1 / 6, rel=1e-15)
    assert np.mean(targets) == pytest.approx(1.0, abs=0.005)
    assert np.mean((targets - 1.0) ** 2) == pytest.approx(ADDING.chance_loss, rel=0.01)
    assert ADDING.chance_accuracy is None and ADDING.loss == "mse"


def test_recall_chance_baseline_is_log_k_and_one_over_k():
    task = Task("recall", n_classes=5, n_distractors=3)
    _, labels = make_batch(task, 3, 100_000, 0)
    freq = np.bincount(labels, minlength=5) / len(labels)
    np.testing.assert_allclose(freq, 0.2, atol=0.005)
    # a uniform prediction has cross-entropy log K whatever the labels
    loss, _ = xent_loss(np.zeros((len(labels), 5)), labels)
    assert loss == pytest.approx(task.chance_loss, rel=1e-12)
    assert task.chance_loss == pytest.approx(math.log(5)) and task.chance_accuracy == 0.2
    assert task.input_size == 8 and task.output_size == 5 and task.loss == "xent"


@pytest.mark.parametrize("lag", [0, -3, MAX_LAG + 1, 2.5, True, "10"])
def test_bad_lag_is_an_input_error(lag):
    with pytest.raises(InputError):
        make_batch(ADDING, lag, 4, 0)


@pytest.mark.parametrize(
    "bad",
    [{"kind": "copy"}, {"kind": "recall", "n_classes": 1}, {"kind": "recall", "n_distractors": 0}],
)
def test_bad_task_is_an_input_error(bad):
    with pytest.raises(InputError):
        Task(**bad)


# --------------------------------------------------------------------------------------------
# Losses and readout, by finite differences
# --------------------------------------------------------------------------------------------


def test_mse_gradient():
    rng = np.random.default_rng(0)
    y, t = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    _, dy = mse_loss(y, t)
    assert rel_error(dy, numerical_gradient(lambda v: mse_loss(v, t)[0], y.copy())) < 1e-7
    assert mse_loss(t, t)[0] == 0.0


def test_xent_gradient():
    rng = np.random.default_rng(1)
    logits, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    _, dlogits = xent_loss(logits, labels)
    num = numerical_gradient(lambda v: xent_loss(v, labels)[0], logits.copy())
    assert rel_error(dlogits, num) < 1e-7


def test_log_softmax_is_stable_for_huge_logits():
    logits = np.array([[1e300, 0.0, -1e300], [1000.0, 1001.0, 999.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out = log_softmax(logits)
    assert np.all(np.isfinite(out)) and out[0, 0] == 0.0
    ref = np.array([1000.0, 1001.0, 999.0]) - 1001.0 - np.log1p(np.exp(-1.0) + np.exp(-2.0))
    np.testing.assert_allclose(out[1], ref, rtol=1e-14)


@pytest.mark.parametrize("name", ["h_last", "weight", "bias"])
def test_readout_gradient(name):
    rng = np.random.default_rng(2)
    h = rng.standard_normal((4, 3))
    readout = init_readout(3, 2, seed=0)
    w = rng.standard_normal((4, 2))  # L = Σ y ⊙ w, a random projection
    dh, dreadout = readout_backward(w, h, readout)
    analytic = dh if name == "h_last" else dreadout[name]
    x = h if name == "h_last" else readout[name]

    def loss(v):  # uses its argument: v is the array being perturbed
        args = (v, readout) if name == "h_last" else (h, {**readout, name: v})
        return float(np.sum(readout_forward(*args) * w))

    assert rel_error(analytic, numerical_gradient(loss, x.copy())) < 1e-7


@pytest.mark.parametrize("kind", ["adding", "recall"])
@pytest.mark.parametrize("cell", CELLS)
def test_batch_gradients_of_the_whole_model(cell, kind):
    """Readout, loss and BPTT (dL_dh only on the last step) together, by finite differences."""
    task = TASKS[kind]
    xs, targets = make_batch(task, 4, 3, 0)
    params = init_params(cell, task.input_size, 4, seed=1)
    readout = init_readout(4, task.output_size, seed=2)
    g = batch_gradients(cell, params, readout, task, xs, targets)

    def loss(**change):
        p = {k: change.get(k, v) for k, v in params.items()}
        r = {"weight": change.get("weight_out", readout["weight"]),
             "bias": change.get("bias_out", readout["bias"])}  # fmt: skip
        return batch_gradients(cell, p, r, task, xs, targets).loss

    for name in params:
        num = numerical_gradient(lambda v, n=name: loss(**{n: v}), params[name].copy())
        assert norm_error(g.params[name], num) < 1e-6, f"{cell} {name}"
    for name in ("weight", "bias"):
        num = numerical_gradient(lambda v, n=name: loss(**{n + "_out": v}), readout[name].copy())
        assert norm_error(g.readout[name], num) < 1e-6, f"{cell} readout {name}"


# --------------------------------------------------------------------------------------------
# Optimiser
# --------------------------------------------------------------------------------------------


def test_adam_converges_on_an_ill_conditioned_quadratic():
    curvature = np.array([100.0, 1.0, 0.01])  # L = ½ Σ a (p - c)²
    centre = np.array([1.0, -2.0, 3.0])
    params, state = {"p": np.zeros(3)}, adam_init({"p": np.zeros(3)})
    for _ in range(3000):
        grads = {"p": curvature * (params["p"] - centre)}
        params, state = adam_step(params, grads, state, 0.05)
    assert state.t == 3000
    np.testing.assert_allclose(params["p"], centre, atol=1e-3)


def test_adam_first_step_moves_every_weight_by_lr():
    params = {"a": np.array([1.0, 2.0]), "b": np.array([[0.0]])}
    grads = {"a": np.array([0.01, -50.0]), "b": np.array([[7.0]])}
    new, state = adam_step(params, grads, adam_init(params), 0.1)
    # m̂ = g and v̂ = g² after one step: the step is lr · sign(g), whatever the gradient's size
    np.testing.assert_allclose(new["a"], [0.9, 2.1], rtol=1e-6)
    np.testing.assert_allclose(new["b"], [[-0.1]], rtol=1e-6)
    np.testing.assert_array_equal(params["a"], [1.0, 2.0], err_msg="inputs untouched")
    assert isinstance(state, AdamState)


def test_adam_matches_the_textbook_loop():
    """Three steps against Kingma & Ba's Algorithm 1 written out with scalars."""
    rng = np.random.default_rng(3)
    p0, grads = rng.standard_normal(4), rng.standard_normal((3, 4))
    params, state = {"p": p0.copy()}, adam_init({"p": p0})
    for g in grads:
        params, state = adam_step(params, {"p": g}, state, 0.01)
    for i in range(4):  # the reference, one coordinate at a time
        p, m, v = p0[i], 0.0, 0.0
        for t, g in enumerate(grads[:, i], start=1):
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            p -= 0.01 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
        assert params["p"][i] == pytest.approx(p, rel=1e-13), f"coordinate {i}"


def test_clipping_caps_the_global_norm_and_keeps_the_direction():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}  # norm 5
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == 5.0
    total = math.sqrt(sum(np.sum(g**2) for g in clipped.values()))
    assert total == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [[0.0, 0.8]])
    same, _ = clip_by_global_norm(grads, 10.0)  # within the limit: unchanged
    np.testing.assert_array_equal(same["a"], grads["a"])
    unclipped, norm_none = clip_by_global_norm(grads, None)
    assert norm_none == 5.0 and unclipped["b"] is grads["b"]


def test_clipping_tames_a_saturated_exploding_gradient():
    grads = {"a": np.full(3, 1e100), "b": np.array([-1e100])}  # BPTT's saturation value
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(2e100, rel=1e-15)  # finite: no overflow of the squares
    np.testing.assert_allclose(clipped["a"], 0.5, rtol=1e-15)
    assert clip_by_global_norm({"a": np.array([np.inf, 1.0])}, 1.0)[1] == math.inf
    assert math.isnan(clip_by_global_norm({"a": np.array([1.0, np.nan])}, 1.0)[1])
    assert clip_by_global_norm({"a": np.zeros(2)}, 1.0)[1] == 0.0


# --------------------------------------------------------------------------------------------
# Training runs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_same_seed_same_history_bit_for_bit(cell):
    config = TrainConfig(cell=cell, task=RECALL, max_steps=15, **TINY)
    a, b = train(config), train(config)
    key = lambda r: dataclasses.replace(r, seconds=0.0)  # noqa: E731
    assert [key(r) for r in a.history] == [key(r) for r in b.history]
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name], err_msg=name)
    other = train(dataclasses.replace(config, seed=1))
    assert other.history[0].loss != a.history[0].loss


def test_stepping_in_chunks_equals_one_run():
    config = TrainConfig(cell="gru", max_steps=12, **TINY)
    t = Trainer(config)
    chunks = [t.step(5), t.step(5), t.step(5), t.step(5)]
    assert [len(c) for c in chunks] == [5, 5, 2, 0]
    whole = Trainer(config)
    whole.step(100)
    assert [r.loss for r in t.history] == [r.loss for r in whole.history]
    assert [r.step for r in t.history] == list(range(1, 13))


def test_step_budget_stops_the_run():
    t = Trainer(TrainConfig(cell="rnn", max_steps=7, **TINY))
    assert t.status == "ready" and not t.done
    t.step(3)
    assert t.status == "running"
    t.step(1000)
    assert t.status == "done" and t.done and len(t.history) == 7
    assert t.step(5) == ()


def test_time_budget_stops_the_run():
    config = TrainConfig(cell="lstm", max_steps=MAX_STEPS, **{**TINY, "max_seconds": 0.05})
    t0 = time.perf_counter()
    result = train(config, chunk=MAX_STEPS)
    assert result.status == "timeout"
    assert 1 <= result.steps < MAX_STEPS
    assert result.seconds >= 0.05 and time.perf_counter() - t0 < 5.0
    assert result.history[-1].seconds == result.seconds


@pytest.mark.parametrize("lr", [1e6, 1e200, 1e308])
@pytest.mark.parametrize("cell", CELLS)
def test_divergence_is_flagged_not_raised(cell, lr):
    # the suite turns RuntimeWarnings into errors: a diverging run must not even warn
    trainer = Trainer(TrainConfig(cell=cell, lr=lr, max_steps=50, **TINY))
    trainer.step(50)
    result = trainer.result()
    assert result.status == "diverged" and result.diverged
    assert result.steps < 50
    last = result.history[-1].loss
    assert not math.isfinite(last) or last > 1e3 * ADDING.chance_loss
    for name, p in result.params.items():  # the last good parameters are kept
        assert np.all(np.isfinite(p)), name
    assert trainer.step(5) == ()


def test_result_exposes_parameters_before_and_after():
    config = TrainConfig(cell="lstm", task=RECALL, max_steps=10, **TINY)
    result = train(config)
    expected = init_params("lstm", RECALL.input_size, 6, seed=0, forget_bias=1.0)
    for name, p in expected.items():
        np.testing.assert_array_equal(result.params_before[name], p, err_msg=name)
        assert result.params[name].shape == p.shape
        assert not result.params[name].flags.writeable
    assert not np.array_equal(result.params["weight_hh"], result.params_before["weight_hh"])
    assert set(result.readout) == {"weight", "bias"} and result.readout["weight"].shape == (4, 6)
    # the figures can be drawn from the parameters before and after training
    xs, _ = make_batch(RECALL, 5, 1, 0)
    trace = forward("lstm", result.params, xs[0])
    assert jacobian_norms(trace).shape == (6,)
    assert result.eval_before.chance_loss == RECALL.chance_loss
    assert result.eval_before.accuracy is not None and 0 <= result.eval_after.accuracy <= 1


def test_history_records_the_gradient_reaching_the_first_step():
    result = train(TrainConfig(cell="rnn", max_steps=5, **TINY))
    cols = history_columns(result.history)
    assert cols["step"].tolist() == [1, 2, 3, 4, 5]
    assert np.all(np.isnan(cols["accuracy"])), "no accuracy for a regression"
    for name in ("loss", "grad_norm", "grad_first", "grad_last"):
        assert np.all(np.isfinite(cols[name]) & (cols[name] > 0)), name
    assert np.all(cols["grad_first"] < cols["grad_last"]), "a tanh RNN only loses gradient"


def test_evaluation_uses_a_fixed_held_out_batch():
    a = Trainer(TrainConfig(cell="gru", seed=0, **TINY))
    b = Trainer(TrainConfig(cell="lstm", seed=5, **TINY))
    xs, targets = make_batch(ADDING, TINY["lag"], TINY["eval_size"], [EVAL_SEED, 3])
    for trainer in (a, b):  # the same sequences for every cell and seed
        np.testing.assert_array_equal(trainer.eval_batch[0], xs)
        np.testing.assert_array_equal(trainer.eval_batch[1], targets)
    assert not a.eval_batch[0].flags.writeable
    # evaluation is a pure function of the parameters: twice the same, and seeded runs agree
    assert a.evaluate() == a.evaluate()


@pytest.mark.parametrize(
    "bad",
    [
        {"cell": "transformer"}, {"task": "adding"}, {"lag": 0}, {"hidden_size": 0},
        {"batch_size": 0}, {"lr": 0.0}, {"lr": math.nan}, {"clip": -1.0},
        {"max_steps": MAX_STEPS + 1}, {"max_seconds": 0}, {"forget_bias": math.inf},
        {"nonlinearity": "sigmoid"},
    ],
)  # fmt: skip
def test_bad_config_is_an_input_error(bad):
    with pytest.raises(InputError):
        TrainConfig(**bad)


# --------------------------------------------------------------------------------------------
# The evidence: gates learn a long-term dependency the vanilla RNN cannot
# --------------------------------------------------------------------------------------------
# Adding problem at lag 15 (T = 17), H 32, batch 32, Adam 1e-2, clip 1, forget bias 1, at most
# 600 steps. Measured over seeds 0-4: the tanh RNN ends at 0.96-1.03 of the chance MSE (held
# out), the GRU and the LSTM are below 0.05 of it by step 300 and 600; checked every 50 steps,
# they first pass the 0.25 bar at steps 150-200 (GRU) and 350-550 (LSTM), where their runs
# stop. The 15 runs take ~18 s of CPU in a fresh interpreter with one BLAS thread (NumPy's
# default multi-threaded OpenBLAS is 3-10x slower on these small matrices when the two cores
# are shared).
EVIDENCE = {
    "task": ADDING, "lag": 15, "hidden_size": 32, "batch_size": 32, "lr": 1e-2, "clip": 1.0,
    "forget_bias": 1.0, "max_steps": 600, "eval_size": 300, "max_seconds": None,
}  # fmt: skip
EVIDENCE_SEEDS = range(5)
CHECK_EVERY = 50
AT_CHANCE, LEARNED = 0.85, 0.25  # held-out MSE relative to the chance MSE 1/6


def relative_loss(cell, seed, stop_below=None):
    """Held-out MSE / chance MSE at the end, or at the first check below ``stop_below``."""
    trainer = Trainer(TrainConfig(cell=cell, seed=seed, **EVIDENCE))
    rel = math.inf
    while not trainer.done:
        trainer.step(CHECK_EVERY)
        rel = trainer.evaluate().relative_loss
        if stop_below is not None and rel < stop_below:
            break
    return rel if trainer.status != "diverged" else math.nan


def evidence():
    """cell -> relative held-out loss per seed (the RNN always runs the whole budget)."""
    return {
        cell: [relative_loss(cell, s, None if cell == "rnn" else LEARNED) for s in EVIDENCE_SEEDS]
        for cell in CELLS
    }


def test_gated_cells_learn_a_dependency_the_rnn_cannot():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    run = subprocess.run(
        [sys.executable, __file__], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rel = json.loads(run.stdout)
    report = f"held-out MSE / chance per seed: {rel}"
    # the vanilla RNN stays at the chance baseline after the whole budget
    assert sum(r > AT_CHANCE for r in rel["rnn"]) >= 4, report
    # the gated cells get well below it within the same budget
    assert sum(r < LEARNED for r in rel["gru"]) >= 4, report
    assert sum(r < LEARNED for r in rel["lstm"]) >= 4, report


if __name__ == "__main__":  # the evidence runs, in the subprocess started above
    print(json.dumps(evidence()))


def test_update_bias_sets_the_gru_update_gate_and_is_validated():
    config = TrainConfig(cell="gru", update_bias=2.5, **TINY)
    H = config.hidden_size
    before = train(dataclasses.replace(config, max_steps=1)).params_before
    np.testing.assert_array_equal(before["bias_ih"][H : 2 * H], 2.5)  # z: the second block
    np.testing.assert_array_equal(before["bias_hh"][H : 2 * H], 0.0)
    plain = train(dataclasses.replace(config, update_bias=None, max_steps=1)).params_before
    assert not np.all(plain["bias_ih"][H : 2 * H] == 2.5)  # None: PyTorch's uniform draw
    for bad in (math.inf, math.nan, "1"):
        with pytest.raises(InputError, match="update bias must be a finite number"):
            TrainConfig(cell="gru", update_bias=bad)


@pytest.mark.parametrize("task", [ADDING, RECALL], ids=["adding", "recall"])
def test_a_task_sample_is_a_batch_of_one_labelled_with_its_decisive_steps(task):
    from engine.tasks import MARK, sample

    s = sample(task, 12, [3, 5])
    xs, targets = make_batch(task, 12, 1, np.random.default_rng([3, 5]))
    np.testing.assert_array_equal(s.xs, xs[0])  # exactly what training draws
    np.testing.assert_array_equal(s.target, np.atleast_1d(targets[0]))
    assert len(s.labels) == task.length(12) and len(s.features) == task.input_size
    assert [t for t, w in enumerate(s.labels) if w.startswith(MARK)] == list(s.marked)
    if task.kind == "adding":
        assert list(s.marked) == list(np.flatnonzero(xs[0, :, 1]))
        assert s.labels[s.marked[0]] == f"{MARK}{xs[0, s.marked[0], 0]:.2f}"
    else:
        assert s.marked == (0,) and s.labels[0] == MARK + "ABCD"[int(targets[0])]
        assert all(w in "abcd" for w in s.labels[1:])  # the distractors' own alphabet
    assert sample(task, 12, [4, 5]).labels != s.labels  # another seed, another sequence
