"""The theory cases: the Pascanu bound, the constant error carousel, the identity ReLU RNN, the
GRU's copying update gate, and the teaching quantities of ``engine.theory``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import (
    CELLS,
    GATES,
    InputError,
    activation_slope,
    backward,
    forget_products,
    forward,
    gate_saturation,
    gru_direct_path,
    init_params,
    jacobian_norms,
    last_step_seed,
    lstm_cell_path,
    pascanu_bound,
    recurrent_spectrum,
    rnn_local_bound,
    rnn_local_factors,
    sigma_max,
    spectral_radius,
    update_products,
)

D, H = 3, 5


def random_trace(cell, *, steps=12, seed=0, batch=None, nl="tanh", x_scale=1.0, **options):
    rng = np.random.default_rng(seed)
    params = init_params(cell, D, H, seed=seed, **options)
    lead = () if batch is None else (batch,)
    xs = x_scale * rng.standard_normal(lead + (steps, D))
    h0 = rng.uniform(-1, 1, lead + (H,))
    c0 = rng.uniform(-1, 1, lead + (H,)) if cell == "lstm" else None
    return forward(cell, params, xs, h0=h0, c0=c0, nonlinearity=nl)


def suffix_product_loop(a):
    """Π_{s=t+1}^{T-1} a[s] for each t, the slow obvious way (time on axis -2)."""
    steps = a.shape[-2]
    return np.stack([np.prod(a[..., t + 1 :, :], axis=-2) for t in range(steps)], axis=-2)


# --------------------------------------------------------------------------------------------
# The Pascanu bound
# --------------------------------------------------------------------------------------------

SCALES = [0.25, 0.5, 0.9, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 12.0]


@pytest.mark.parametrize("seed", range(20))
def test_pascanu_bound_holds_for_the_tanh_rnn(seed):
    scale = SCALES[seed % len(SCALES)]
    init = ("uniform", "orthogonal", "normal")[seed % 3]
    trace = random_trace(
        "rnn", steps=40, seed=seed, recurrent_init=init, recurrent_scale=scale, x_scale=0.5
    )
    norms, bound = jacobian_norms(trace, "h"), pascanu_bound(trace)
    q = sigma_max(trace.params["weight_hh"])
    # the bound is (γ σ_max)^k with k = T-1-t, exactly where representable
    assert_allclose(bound, q ** np.arange(39, -1, -1.0), rtol=1e-14, err_msg=f"seed {seed}")
    # ‖∂h_{T-1}/∂h_t‖₂ ≤ (γ σ_max(W_hh))^(T-1-t) at every lag
    for t in range(trace.T):
        assert norms[t] <= bound[t] * (1 + 1e-12), (
            f"seed {seed} scale {scale} lag {trace.T - 1 - t}: {norms[t]} > {bound[t]}"
        )


def test_pascanu_bound_is_attained_by_a_scaled_orthogonal_rnn_at_rest():
    # h0 = 0, x = 0, no bias: h stays 0, tanh' = 1, and ∂h_{T-1}/∂h_t = W^k with ‖W^k‖ = s^k
    for s in (0.5, 1.0, 1.7):
        params = init_params(
            "rnn", D, H, seed=1, recurrent_init="orthogonal", recurrent_scale=s, zero_bias=True
        )
        trace = forward("rnn", params, np.zeros((25, D)))
        assert_allclose(
            jacobian_norms(trace, "h"), pascanu_bound(trace), rtol=1e-12, err_msg=f"{s}"
        )


def test_pascanu_bound_extremes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = random_trace("rnn", steps=400, recurrent_scale=1e3)
        tiny = random_trace("rnn", steps=400, recurrent_scale=1e-3)
        still = random_trace("rnn", steps=5, recurrent_scale=0.0)
        b_huge, b_tiny, b_still = pascanu_bound(huge), pascanu_bound(tiny), pascanu_bound(still)
    q = sigma_max(huge.params["weight_hh"])
    k = np.arange(399, -1, -1)
    log_max = np.log(np.finfo(np.float64).max)
    fits, beyond = k * np.log(q) < log_max - 1e-6, k * np.log(q) > log_max + 1e-6
    # powers beyond the float range are inf, those within it exact; lag 0 is always 1
    assert np.all(np.isinf(b_huge[beyond])) and np.any(beyond) and np.all(b_huge > 0)
    assert_allclose(b_huge[fits], q ** k[fits].astype(float), rtol=1e-14)
    assert b_huge[-1] == b_tiny[-1] == b_still[-1] == 1.0
    # tiny powers underflow quietly to 0
    assert b_tiny[0] == 0.0 and np.all(np.diff(b_tiny) >= 0)
    # W_hh = 0: the bound is 0 at every lag k > 0
    assert_array_equal(b_still, [0, 0, 0, 0, 1])


def test_pascanu_bound_batched_and_relu():
    trace = random_trace("rnn", batch=3, recurrent_scale=2.0, nl="relu")
    bound = pascanu_bound(trace)
    # one row per sequence, all equal (the bound depends on W_hh only)
    assert bound.shape == (3, trace.T)
    assert_array_equal(bound, np.broadcast_to(bound[0], bound.shape))
    # the ReLU RNN obeys it too (γ = 1)
    assert np.all(jacobian_norms(trace, "h") <= bound * (1 + 1e-12))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_pascanu_bound_is_for_the_rnn_only(cell):
    with pytest.raises(InputError, match="rnn"):
        pascanu_bound(random_trace(cell))


# --------------------------------------------------------------------------------------------
# Local factors: a tighter bound, one step at a time
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("seed", range(5))
def test_local_factors_bound_the_jacobian_norms(seed, nl):
    trace = random_trace("rnn", steps=30, seed=seed, nl=nl, recurrent_scale=1.0 + seed)
    factors, norms = rnn_local_factors(trace), jacobian_norms(trace, "h")
    h_prev = np.vstack([trace.h0[None], trace.h[:-1]])
    a = trace.xs @ trace.params["weight_ih"].T + trace.params["bias_ih"]
    a = a + h_prev @ trace.params["weight_hh"].T + trace.params["bias_hh"]
    slope = 1 - np.tanh(a) ** 2 if nl == "tanh" else (a > 0).astype(float)
    direct = [np.linalg.norm(np.diag(s) @ trace.params["weight_hh"], 2) for s in slope]
    # factor[t] = ‖diag(act'(a_t)) W_hh‖₂ (act' from the pre-activations)
    assert_allclose(factors, direct, rtol=1e-12, err_msg=f"seed {seed} {nl}")
    # the last factor is exactly the one-step Jacobian norm ‖∂h_{T-1}/∂h_{T-2}‖
    assert_allclose(factors[-1], norms[-2], rtol=1e-12)
    # ‖∂h_{T-1}/∂h_t‖ ≤ Π_{s>t} factor[s] ≤ (γ σ_max)^(T-1-t)
    products = [np.prod(factors[t + 1 :]) for t in range(trace.T)]
    assert_allclose(rnn_local_bound(trace), products, rtol=1e-13)
    assert np.all(norms <= rnn_local_bound(trace) * (1 + 1e-12)), f"seed {seed} {nl}"
    assert np.all(rnn_local_bound(trace) <= pascanu_bound(trace) * (1 + 1e-12))


def test_local_bound_overflows_to_inf_quietly_and_is_batched():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = random_trace("rnn", steps=300, batch=2, nl="relu", recurrent_scale=50.0)
        factors, bound = rnn_local_factors(trace), rnn_local_bound(trace)
    # (B, T) results; the early lags' product of factors ~50 overflows to inf
    assert factors.shape == bound.shape == (2, 300)
    assert np.all(np.isfinite(factors)) and np.isinf(bound[0, 0]) and bound[0, -1] == 1.0


# --------------------------------------------------------------------------------------------
# The LSTM's constant error carousel
# --------------------------------------------------------------------------------------------


def saturated_forget_lstm(steps=30, batch=None):
    params = init_params(
        "lstm", D, H, seed=3, recurrent_scale=0.0, forget_bias=50.0, zero_bias=True
    )
    rng = np.random.default_rng(3)
    lead = () if batch is None else (batch,)
    return forward("lstm", params, rng.standard_normal(lead + (steps, D)))


@pytest.mark.parametrize("batch", [None, 2], ids=["single", "B2"])
def test_saturated_forget_gate_carries_the_cell_gradient_unchanged(batch):
    trace = saturated_forget_lstm(batch=batch)
    # forward: f = σ(50 + small) rounds to exactly 1, so every forget product is 1
    assert_array_equal(trace.gates["f"], 1.0)
    assert_array_equal(forget_products(trace), 1.0)
    grads = backward(trace, last_step_seed(trace))
    last = grads.c[..., -1:, :]
    assert np.all(np.abs(last) > 1e-3), "the last step must have a real cell gradient"
    # backward: dL/dc_t equals dL/dc_{T-1} at every step (no decay over 30 steps)
    assert_allclose(grads.c, np.broadcast_to(last, grads.c.shape), rtol=1e-12, atol=0)
    assert_allclose(grads.c0, last[..., 0, :], rtol=1e-12, atol=0)
    path = lstm_cell_path(trace, grads)
    # the carousel path is the whole gradient
    assert_allclose(path["path"], path["total"], rtol=1e-12, atol=0)
    assert_allclose(path["rest"], 0.0, atol=1e-15)


def test_open_forget_gate_lets_the_cell_gradient_decay():
    # the same LSTM with forget gates near σ(0) = 0.5: the carousel shrinks 2× per step
    params = init_params("lstm", D, H, seed=3, recurrent_scale=0.0, forget_bias=0.0, zero_bias=True)
    trace = forward("lstm", params, np.random.default_rng(3).standard_normal((30, D)))
    grads = backward(trace, last_step_seed(trace))
    assert np.all(np.abs(grads.c[0]) < 1e-6 * np.abs(grads.c[-1]))
    path = lstm_cell_path(trace, grads)
    assert_allclose(path["path"], path["total"], rtol=1e-12, atol=1e-300)  # W_hh = 0: no rest


def test_lstm_cell_path_with_recurrence_has_a_rest():
    trace = random_trace("lstm", steps=15, seed=4, recurrent_scale=2.0)
    grads = backward(trace, last_step_seed(trace))
    path = lstm_cell_path(trace, grads)
    # path = dc_{T-1} Π f; total = grads.c; with W_hh ≠ 0 the hidden path adds a rest
    assert_allclose(path["path"], grads.c[-1] * forget_products(trace), rtol=1e-15)
    assert_array_equal(path["total"], grads.c)
    assert_allclose(path["path"] + path["rest"], path["total"], rtol=1e-12, atol=1e-15)
    assert np.max(np.abs(path["rest"][:-1])) > 1e-6
    assert_array_equal(path["rest"][-1], 0.0)


@pytest.mark.parametrize("batch", [None, 3], ids=["single", "B3"])
def test_forget_and_update_products_match_a_loop(batch):
    lstm = random_trace("lstm", steps=20, batch=batch, seed=5)
    gru = random_trace("gru", steps=20, batch=batch, seed=5)
    fp, up = forget_products(lstm), update_products(gru)
    # Π_{s=t+1}^{T-1} f_s and Π z_s equal the obvious loop (1 at t = T-1)
    assert_allclose(fp, suffix_product_loop(lstm.gates["f"]), rtol=1e-13, atol=1e-300)
    assert_allclose(up, suffix_product_loop(gru.gates["z"]), rtol=1e-13, atol=1e-300)
    assert_array_equal(fp[..., -1, :], 1.0)
    assert np.all(np.diff(fp, axis=-2) >= 0), "products grow towards the last step"
    assert fp.shape == lstm.h.shape and up.shape == gru.h.shape


def test_products_underflow_quietly():
    params = init_params("lstm", D, H, seed=0, forget_bias=-30.0, zero_bias=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = forward("lstm", params, np.zeros((200, D)))
        products = forget_products(trace)
    # f = σ(-30) ≈ 1e-13: the product over 199 steps is 0, reached without a warning
    assert_array_equal(products[0], 0.0)
    assert_array_equal(products[-1], 1.0)


# --------------------------------------------------------------------------------------------
# The identity ReLU RNN and the GRU's copying update gate
# --------------------------------------------------------------------------------------------


def test_identity_relu_rnn_keeps_the_jacobian_norm_at_one():
    params = init_params("rnn", D, H, seed=2, recurrent_init="identity", zero_bias=True)
    h0 = np.random.default_rng(2).uniform(0.1, 2.0, H)
    trace = forward("rnn", params, np.zeros((50, D)), h0=h0, nonlinearity="relu")
    # forward: h_t = relu(I h_{t-1}) = h0 for every t
    assert_array_equal(trace.h, np.broadcast_to(h0, trace.h.shape))
    # backward: ∂h_{T-1}/∂h_t = I at every lag, so its norm is exactly 1
    assert_allclose(jacobian_norms(trace, "h"), 1.0, rtol=0, atol=1e-15)
    assert_allclose(rnn_local_factors(trace), 1.0, rtol=0, atol=1e-15)
    assert_allclose(pascanu_bound(trace), 1.0, rtol=0, atol=1e-15)


def copying_gru(steps=40, batch=None, h0=None):
    params = {k: v.copy() for k, v in init_params("gru", D, H, seed=6).items()}
    params["bias_ih"][H : 2 * H] = 50.0  # z = σ(50 + small) rounds to exactly 1
    rng = np.random.default_rng(6)
    lead = () if batch is None else (batch,)
    xs = rng.standard_normal(lead + (steps, D))
    h0 = rng.uniform(-1, 1, lead + (H,)) if h0 is None else np.asarray(h0, dtype=float)
    return forward("gru", params, xs, h0=h0), h0


@pytest.mark.parametrize("batch", [None, 2], ids=["single", "B2"])
def test_saturated_update_gate_copies_state_and_gradient(batch):
    trace, h0 = copying_gru(batch=batch)
    assert_array_equal(trace.gates["z"], 1.0)
    # forward: h_t = (1 - z) n + z h_{t-1} = h_{t-1}, so every state is h0
    assert_allclose(trace.h, np.broadcast_to(h0[..., None, :], trace.h.shape), rtol=1e-12)
    grads = backward(trace, last_step_seed(trace))
    last = grads.h[..., -1:, :]
    # backward: dL/dh_t = dL/dh_{T-1} at every step, and into h0
    assert_allclose(grads.h, np.broadcast_to(last, grads.h.shape), rtol=1e-12)
    assert_allclose(grads.h0, last[..., 0, :], rtol=1e-12)
    path = gru_direct_path(trace, grads)
    assert_allclose(path["path"], path["total"], rtol=1e-12)
    assert_array_equal(update_products(trace), 1.0)


def test_saturated_update_gate_copies_small_states_exactly():
    # z is exactly 1, so h = (1 - z) ⊙ n + z ⊙ h_prev = 0 + h_prev holds in floating point too:
    # the copy must keep every unit to full relative precision, however small its value
    h0 = np.array([1e-9, -3e-7, 0.5, 1e-300, 0.0])
    trace, _ = copying_gru(h0=h0)
    assert_array_equal(trace.gates["z"], 1.0)
    for t in range(trace.T):
        assert_allclose(trace.h[t], h0, rtol=1e-12, atol=0, err_msg=f"gru copy at t={t}")


def test_gru_direct_path_is_part_of_the_total():
    trace = random_trace("gru", steps=15, seed=7, recurrent_scale=2.0)
    grads = backward(trace, last_step_seed(trace))
    path = gru_direct_path(trace, grads)
    # path = dh_{T-1} Π z; the gates and W_hh add the rest
    assert_allclose(path["path"], grads.h[-1] * update_products(trace), rtol=1e-15)
    assert_allclose(path["path"] + path["rest"], grads.h, rtol=1e-12, atol=1e-15)
    assert np.max(np.abs(path["rest"][:-1])) > 1e-6


def test_paths_reject_grads_of_another_trace():
    lstm, gru = random_trace("lstm", steps=10), random_trace("gru", steps=10)
    short = random_trace("lstm", steps=4)
    with pytest.raises(InputError, match="grads.c"):
        lstm_cell_path(lstm, backward(short, last_step_seed(short)))
    with pytest.raises(InputError, match="grads.c"):
        lstm_cell_path(lstm, backward(gru, last_step_seed(gru)))
    with pytest.raises(InputError, match="gru"):
        gru_direct_path(lstm, backward(lstm, last_step_seed(lstm)))


# --------------------------------------------------------------------------------------------
# Gate saturation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [None, 2], ids=["single", "B2"])
@pytest.mark.parametrize(("cell", "nl"), [("rnn", "tanh"), ("gru", "tanh"), ("lstm", "tanh")])
def test_gate_saturation_counts_units(cell, nl, batch):
    trace = random_trace(cell, steps=25, batch=batch, recurrent_scale=3.0, x_scale=3.0)
    sat = gate_saturation(trace)
    names = ("h",) if cell == "rnn" else GATES[cell]
    assert set(sat) == {*names, "all"}
    values = {"h": trace.h} if cell == "rnn" else trace.gates
    for name in names:
        v = values[name]
        tanh_like = name in ("h", "n", "g")
        mask = np.abs(v) > 0.95 if tanh_like else (v < 0.05) | (v > 0.95)
        # the fraction of the H units beyond the saturation threshold, per step
        assert sat[name].shape == trace.h.shape[:-1]
        assert_array_equal(sat[name], mask.sum(axis=-1) / H, err_msg=f"{cell} {name}")
        assert np.all((sat[name] >= 0) & (sat[name] <= 1))
    together = np.mean([sat[n] for n in names], axis=0)
    assert_allclose(sat["all"], together, rtol=1e-15, err_msg=f"{cell} all")
    assert 0 < np.mean(sat["all"]) < 1, "the test needs some saturation and some not"


def test_saturated_forget_gate_is_fully_saturated():
    sat = gate_saturation(saturated_forget_lstm())
    assert_array_equal(sat["f"], 1.0)
    assert np.all(sat["all"] >= 0.25)


def test_relu_rnn_has_no_saturating_gate():
    trace = random_trace("rnn", nl="relu", recurrent_scale=10.0, batch=2)
    sat = gate_saturation(trace)
    assert set(sat) == {"all"}
    assert_array_equal(sat["all"], np.zeros((2, trace.T)))


def test_large_weights_saturate_the_tanh_rnn():
    calm = gate_saturation(random_trace("rnn", steps=50, recurrent_scale=0.1, x_scale=0.1))
    wild = gate_saturation(random_trace("rnn", steps=50, recurrent_scale=20.0, x_scale=20.0))
    assert np.mean(calm["h"]) == 0.0 and np.mean(wild["h"]) > 0.8


# --------------------------------------------------------------------------------------------
# Spectra, slopes, seeds, and errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_recurrent_spectrum_per_gate_block(cell):
    trace = random_trace(cell, seed=8, recurrent_scale=1.3)
    spectrum = recurrent_spectrum(trace)
    W = trace.params["weight_hh"]
    assert list(spectrum) == list(GATES[cell])
    for k, name in enumerate(GATES[cell]):
        block = W[k * H : (k + 1) * H]
        sigma, rho = spectrum[name]
        # σ_max is the largest singular value, ρ the largest |eigenvalue|, and ρ ≤ σ_max
        assert_allclose(sigma, np.linalg.norm(block, 2), rtol=1e-14, err_msg=f"{cell} {name}")
        assert_allclose(rho, max(abs(np.linalg.eigvals(block))), rtol=1e-14)
        assert rho <= sigma * (1 + 1e-12) and rho < sigma, f"{cell} {name}: ρ ≤ σ_max"
    # the same from the parameter dict, with the cell given or inferred from the shape
    assert recurrent_spectrum(trace.params) == spectrum
    assert recurrent_spectrum(trace.params, cell) == spectrum


@pytest.mark.parametrize("init", ["orthogonal", "identity"])
def test_orthogonal_and_identity_blocks_have_unit_spectrum(init):
    params = init_params("lstm", D, H, seed=0, recurrent_init=init, recurrent_scale=0.8)
    for name, (sigma, rho) in recurrent_spectrum(params).items():
        assert_allclose([sigma, rho], [0.8, 0.8], rtol=1e-13, err_msg=f"{init} {name}")


def test_spectral_radius_can_be_far_below_sigma_max():
    nilpotent = np.array([[0.0, 5.0], [0.0, 0.0]])
    assert sigma_max(nilpotent) == 5.0 and spectral_radius(nilpotent) == 0.0


def test_activation_slope():
    assert activation_slope("tanh") == 1.0
    assert activation_slope("relu") == 1.0
    assert activation_slope("sigmoid") == 0.25
    with pytest.raises(InputError, match="gelu"):
        activation_slope("gelu")


@pytest.mark.parametrize("batch", [None, 2], ids=["single", "B2"])
def test_last_step_seed(batch):
    trace = random_trace("gru", steps=7, batch=batch)
    seed = last_step_seed(trace)
    assert seed.shape == trace.h.shape
    assert_array_equal(seed[..., -1, :], 1.0)
    assert_array_equal(seed[..., :-1, :], 0.0)
    unit = last_step_seed(trace, unit=2)
    assert_array_equal(unit.sum(axis=(-2, -1)), 1.0)
    assert_array_equal(unit[..., -1, 2], 1.0)
    # with backward, grads.h[T-1] is the seed itself (nothing flows in from later steps)
    assert_array_equal(backward(trace, unit).h[..., -1, :], unit[..., -1, :])


THEORY_ERRORS = {
    "spectrum of a non-matrix": lambda: recurrent_spectrum({"weight_hh": np.ones(3)}),
    "spectrum of 2H x H": lambda: recurrent_spectrum({"weight_hh": np.ones((2 * H, H))}),
    "spectrum cell mismatch": lambda: recurrent_spectrum(random_trace("gru"), "lstm"),
    "spectrum wrong cell shape": lambda: recurrent_spectrum({"weight_hh": np.ones((H, H))}, "gru"),
    "spectrum of NaN": lambda: recurrent_spectrum({"weight_hh": np.full((H, H), np.nan)}),
    "spectrum of a list": lambda: recurrent_spectrum([1, 2]),
    "radius of a non-square": lambda: spectral_radius(np.ones((2, 3))),
    "local factors of an lstm": lambda: rnn_local_factors(random_trace("lstm")),
    "forget products of a gru": lambda: forget_products(random_trace("gru")),
    "update products of an lstm": lambda: update_products(random_trace("lstm")),
    "saturation of a dict": lambda: gate_saturation({"h": np.ones((3, H))}),
    "seed unit out of range": lambda: last_step_seed(random_trace("rnn"), unit=H),
    "seed unit negative": lambda: last_step_seed(random_trace("rnn"), unit=-1),
    "seed unit float": lambda: last_step_seed(random_trace("rnn"), unit=1.0),
    "cell path with no grads": lambda: lstm_cell_path(random_trace("lstm"), None),
}


@pytest.mark.parametrize("make", THEORY_ERRORS.values(), ids=THEORY_ERRORS.keys())
def test_theory_input_errors(make):
    with pytest.raises(InputError, match=r"\w"):
        make()


@pytest.mark.parametrize("cell", CELLS)
def test_theory_on_extreme_runs_without_warnings(cell):
    nl = "relu" if cell == "rnn" else "tanh"
    for nonlinearity in {nl, "tanh"}:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            trace = random_trace(
                cell, steps=200, batch=2, nl=nonlinearity, recurrent_scale=50.0, x_scale=1e3
            )
            grads = backward(trace, last_step_seed(trace))
            results = [recurrent_spectrum(trace), gate_saturation(trace)]
            if cell == "rnn":
                results += [pascanu_bound(trace), rnn_local_factors(trace), rnn_local_bound(trace)]
            if cell == "lstm":
                results += [forget_products(trace), lstm_cell_path(trace, grads)]
            if cell == "gru":
                results += [update_products(trace), gru_direct_path(trace, grads)]
        for r in results:
            for v in r.values() if isinstance(r, dict) else [r]:
                assert not np.any(np.isnan(v)), f"{cell}-{nonlinearity}: NaN in {r!r:.80}"


# --------------------------------------------------------------------------------------------
# Measured against bound: the why panel's relation, in every regime
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0])  # vanishing, neutral, exploding
@pytest.mark.parametrize("init", ["identity", "normal"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_measured_jacobian_never_exceeds_the_product_of_factor_norms(nl, scale, init, seed):
    """‖∂h_{T-1}/∂h_t‖₂ ≤ Π ‖diag(act′(a_s)) W_hh‖₂ ≤ (γ σ_max)^k at every lag, including
    runs whose ReLU states overflow the 1e100 cap (150 steps of ×10)."""
    params = init_params("rnn", D, H, seed=seed, recurrent_init=init, recurrent_scale=scale)
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((150, D))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning anywhere on the way
        trace = forward("rnn", params, xs, h0=rng.uniform(0, 1, H), nonlinearity=nl)
        measured = jacobian_norms(trace, "h")
        bound = rnn_local_bound(trace)
        pascanu = pascanu_bound(trace)
    assert measured.shape == bound.shape == (150,)
    assert np.all(measured <= bound * (1 + 1e-9)), (measured / bound).max()
    assert np.all(bound <= pascanu * (1 + 1e-9))
    assert bound[-1] == measured[-1] == 1.0  # lag 0: the identity, no factor
