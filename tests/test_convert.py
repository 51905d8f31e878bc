"""engine.convert: PyTorch, Keras and deeplearning.ai layouts, round trips and the upload loader.

Every converter round-trips exactly; the deeplearning.ai and Keras forms, run with their own
equations (written here, in their notation), reproduce the engine's runs to machine precision;
the loader reads .npz and JSON in every layout and says what is wrong with a bad file.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import (
    CELLS,
    InputError,
    Loaded,
    forward,
    from_deeplearning_ai,
    from_keras,
    from_pytorch,
    init_params,
    load_params,
    to_deeplearning_ai,
    to_keras,
    to_pytorch,
)

D, H, T = 3, 4, 7
PRECISION = {"rtol": 1e-12, "atol": 1e-13}


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def case(cell, seed=0, one_bias=False):
    """Parameters with non-symmetric weights (scaled up), inputs and an initial state."""
    params = {k: 2.0 * v for k, v in init_params(cell, D, H, seed=seed).items()}
    if one_bias:  # the single-bias layouts hold bias_ih + bias_hh in bias_ih
        params["bias_ih"] = params["bias_ih"] + params["bias_hh"]
        params["bias_hh"] = np.zeros_like(params["bias_hh"])
    rng = np.random.default_rng(100 + seed)
    return params, rng.standard_normal((T, D)), rng.standard_normal(H)


def assert_same_params(got, want, label):
    assert set(got) == set(want), label
    for name in want:
        assert_array_equal(got[name], want[name], err_msg=f"{label} {name}")


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------

ROUND_TRIPS = [
    *[("pytorch", cell, "after") for cell in CELLS],
    *[("keras", cell, "after") for cell in CELLS],
    ("keras", "gru", "before"),
    *[("deeplearning.ai", cell, "before" if cell == "gru" else "after") for cell in CELLS],
]
TO = {"pytorch": to_pytorch, "keras": to_keras, "deeplearning.ai": to_deeplearning_ai}
FROM = {"pytorch": from_pytorch, "keras": from_keras, "deeplearning.ai": from_deeplearning_ai}


def export(layout, cell, params, reset):
    if layout == "pytorch":
        return to_pytorch(cell, params)
    return TO[layout](cell, params, gru_reset=reset)


@pytest.mark.parametrize(
    ("layout", "cell", "reset"), ROUND_TRIPS, ids=[f"{a}-{b}-{c}" for a, b, c in ROUND_TRIPS]
)
def test_round_trips_are_exact(layout, cell, reset):
    two_biases = layout == "pytorch" or (layout == "keras" and cell == "gru" and reset == "after")
    params, _, _ = case(cell, one_bias=not two_biases)
    out = export(layout, cell, params, reset)
    back = FROM[layout](out)
    # gatescope -> layout -> gatescope gives the same arrays, bit for bit, and names the variant
    assert isinstance(back, Loaded) and back.cell == cell and back.variant == reset
    assert_same_params(back.params, params, f"{layout} {cell}")
    # layout -> gatescope -> layout too
    again = export(layout, cell, back.params, back.variant)
    assert set(again) == set(out)
    for name in out:
        assert_array_equal(again[name], out[name], err_msg=f"{layout} {cell} {name}")


ONE_BIAS = [r for r in ROUND_TRIPS if r[0] != "pytorch" and r != ("keras", "gru", "after")]


@pytest.mark.parametrize(("layout", "cell", "reset"), ONE_BIAS)
def test_two_biases_come_back_summed_as_the_same_model(layout, cell, reset):
    params, xs, h0 = case(cell)
    back = FROM[layout](export(layout, cell, params, reset))
    # the biases are summed into bias_ih: the same run, to rounding
    assert_array_equal(back.params["bias_hh"], 0.0)
    want = forward(cell, params, xs, h0=h0, gru_reset=reset).h
    assert_allclose(
        forward(cell, back.params, xs, h0=h0, gru_reset=back.variant).h, want, **PRECISION
    )


def test_pytorch_names_and_shapes():
    params, _, _ = case("lstm")
    sd = to_pytorch("lstm", params)
    assert list(sd) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert sd["weight_ih_l0"].shape == (4 * H, D) and sd["weight_hh_l0"].shape == (4 * H, H)
    # a module's prefix is understood
    back = from_pytorch({f"lstm.{k}": v for k, v in sd.items()})
    assert back.cell == "lstm" and back.variant == "after"


# --------------------------------------------------------------------------------------------
# The other notations, run with their own equations
# --------------------------------------------------------------------------------------------


def dlai_lstm(p, xs, a0, c0):
    """deeplearning.ai's lstm_cell_forward, looped: gates on the concatenation [a_prev; x]."""
    a, c, out = a0[:, None], c0[:, None], []
    for x in xs:
        concat = np.concatenate([a, x[:, None]])
        ft = sig(p["Wf"] @ concat + p["bf"])
        it = sig(p["Wi"] @ concat + p["bi"])
        cct = np.tanh(p["Wc"] @ concat + p["bc"])
        c = ft * c + it * cct
        ot = sig(p["Wo"] @ concat + p["bo"])
        a = ot * np.tanh(c)
        out.append(a[:, 0])
    return np.array(out)


def dlai_gru(p, xs, c0):
    """The course's GRU: Γu weighs the new candidate, Γr resets c⟨t−1⟩ inside the product."""
    c, out = c0[:, None], []
    for x in xs:
        gu = sig(p["Wu"] @ np.concatenate([c, x[:, None]]) + p["bu"])
        gr = sig(p["Wr"] @ np.concatenate([c, x[:, None]]) + p["br"])
        cct = np.tanh(p["Wc"] @ np.concatenate([gr * c, x[:, None]]) + p["bc"])
        c = gu * cct + (1 - gu) * c
        out.append(c[:, 0])
    return np.array(out)


def dlai_rnn(p, xs, a0):
    a, out = a0[:, None], []
    for x in xs:
        a = np.tanh(p["Wax"] @ x[:, None] + p["Waa"] @ a + p["ba"])
        out.append(a[:, 0])
    return np.array(out)


def keras_gru(w, xs, h0, reset_after):
    """Keras' GRU cell with row vectors, gate order z, r, h."""
    K, U, b = w["kernel"], w["recurrent_kernel"], w["bias"]
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    h, out = h0, []
    for x in xs:
        xz, xr, xh = np.split(x @ K + b_in, 3)
        if reset_after:
            hz, hr, hh_ = np.split(h @ U + b_rec, 3)
            z, r = sig(xz + hz), sig(xr + hr)
            hh = np.tanh(xh + r * hh_)
        else:
            Uz, Ur, Uh = np.split(U, 3, axis=1)
            z, r = sig(xz + h @ Uz), sig(xr + h @ Ur)
            hh = np.tanh(xh + (r * h) @ Uh)
        h = z * h + (1 - z) * hh
        out.append(h)
    return np.array(out)


def keras_lstm(w, xs, h0, c0):
    K, U, b = w["kernel"], w["recurrent_kernel"], w["bias"]
    h, c, out = h0, c0, []
    for x in xs:
        i, f, cc, o = np.split(x @ K + h @ U + b, 4)
        c = sig(f) * c + sig(i) * np.tanh(cc)
        h = sig(o) * np.tanh(c)
        out.append(h)
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_deeplearning_ai_lstm_reproduces_the_engine(seed):
    params, xs, h0 = case("lstm", seed)
    c0 = np.random.default_rng(seed).standard_normal(H)
    dlai = to_deeplearning_ai("lstm", params)
    # forward: the course's equations on the converted weights give the engine's run
    want = forward("lstm", params, xs, h0=h0, c0=c0).h
    assert_allclose(dlai_lstm(dlai, xs, h0, c0), want, **PRECISION)


@pytest.mark.parametrize("seed", [0, 1])
def test_deeplearning_ai_gru_reproduces_the_engine(seed):
    params, xs, h0 = case("gru", seed)
    dlai = to_deeplearning_ai("gru", params, gru_reset="before")
    # the update gate's sign flip: Γu = 1 - z exactly where the course writes it
    assert_array_equal(dlai["Wu"][:, :H], -params["weight_hh"][H : 2 * H])
    # forward: the course's GRU (Γu on the candidate) reproduces the reset-before engine run
    want = forward("gru", params, xs, h0=h0, gru_reset="before").h
    assert_allclose(dlai_gru(dlai, xs, h0), want, **PRECISION)
    # and a course-notation model loaded into gatescope runs as the course says
    loaded = from_deeplearning_ai(dlai)
    got = forward("gru", loaded.params, xs, h0=h0, gru_reset=loaded.variant).h
    assert_allclose(got, dlai_gru(dlai, xs, h0), **PRECISION)


def test_deeplearning_ai_rnn_reproduces_the_engine():
    params, xs, h0 = case("rnn")
    dlai = to_deeplearning_ai("rnn", params)
    assert_allclose(dlai_rnn(dlai, xs, h0), forward("rnn", params, xs, h0=h0).h, **PRECISION)


def test_deeplearning_ai_has_no_reset_after_gru():
    params, _, _ = case("gru")
    with pytest.raises(InputError, match="different model"):
        to_deeplearning_ai("gru", params)


@pytest.mark.parametrize("reset", ["after", "before"])
def test_keras_gru_equals_the_variant(reset):
    params, xs, h0 = case("gru")
    w = to_keras("gru", params, gru_reset=reset)
    assert w["bias"].shape == ((2, 3 * H) if reset == "after" else (3 * H,))
    # forward: Keras' reset_after=True is gru_reset="after", reset_after=False is "before"
    want = forward("gru", params, xs, h0=h0, gru_reset=reset).h
    assert_allclose(keras_gru(w, xs, h0, reset_after=reset == "after"), want, **PRECISION)
    # a Keras reset_after=False layer loads as the "before" variant
    assert from_keras(w).variant == reset


def test_keras_lstm_reproduces_the_engine():
    params, xs, h0 = case("lstm")
    c0 = np.random.default_rng(5).standard_normal(H)
    w = to_keras("lstm", params)
    assert w["kernel"].shape == (D, 4 * H) and w["recurrent_kernel"].shape == (H, 4 * H)
    want = forward("lstm", params, xs, h0=h0, c0=c0).h
    assert_allclose(keras_lstm(w, xs, h0, c0), want, **PRECISION)


# --------------------------------------------------------------------------------------------
# The loader
# --------------------------------------------------------------------------------------------


def npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def as_json(arrays):
    return json.dumps({k: np.asarray(v).tolist() for k, v in arrays.items()}).encode()


LOADS = [
    ("pytorch", "lstm", "after"),
    ("keras", "gru", "before"),
    ("keras", "gru", "after"),
    ("deeplearning.ai", "gru", "before"),
    ("deeplearning.ai", "lstm", "after"),
    ("deeplearning.ai", "rnn", "after"),
    ("gatescope", "rnn", "after"),
]


@pytest.mark.parametrize("kind", ["npz", "json"])
@pytest.mark.parametrize(
    ("layout", "cell", "reset"), LOADS, ids=[f"{a}-{b}-{c}" for a, b, c in LOADS]
)
def test_loader_reads_every_layout(layout, cell, reset, kind):
    params, _, _ = case(cell, one_bias=layout == "deeplearning.ai" or reset == "before")
    arrays = params if layout == "gatescope" else export(layout, cell, params, reset)
    data = npz(arrays) if kind == "npz" else as_json(arrays)
    loaded = load_params(data, f"weights.{kind}")
    # the upload comes back as the cell, the parameters and the variant it was written from
    assert (loaded.cell, loaded.variant) == (cell, reset)
    assert_same_params(loaded.params, params, f"{layout} {kind}")


def test_loader_reads_keras_saved_names():
    params, _, _ = case("lstm", one_bias=True)
    w = to_keras("lstm", params)
    data = npz({f"lstm/lstm_cell/{k}:0": v for k, v in w.items()})
    assert_same_params(load_params(data, "model.npz").params, params, "keras saved names")


def test_loader_reads_the_recurrent_layer_of_a_whole_model():
    params, _, _ = case("gru")
    state = {f"rnn.{k}": v for k, v in to_pytorch("gru", params).items()}
    other = {
        "embedding.weight": np.ones((5, 3)),
        "fc.weight": np.ones((2, 4)),
        "fc.bias": np.ones(2),
    }
    # the other layers (even two sharing the name "weight") are ignored
    loaded = load_params(npz({**state, **other}), "model.npz")
    assert_same_params(loaded.params, params, "whole model")
    # two recurrent layers sharing a name are an error that names both
    twice = {**state, **{f"decoder.{k[4:]}": v for k, v in state.items()}}
    with pytest.raises(InputError, match=r"Several weights are named weight_ih_l0 \(rnn\.weight"):
        load_params(npz(twice), "model.npz")


def test_loader_limits_the_hidden_size():
    params, _, _ = case("rnn")
    with pytest.raises(InputError, match="at most 2"):
        load_params(npz(to_pytorch("rnn", params)), "w.npz", max_hidden=2)


def _torch(cell="gru"):
    return to_pytorch(cell, case(cell)[0])


BAD_FILES = {
    "not a zip": (b"not a zip file", "w.npz", "could not be read as a NumPy .npz"),
    "bad JSON": (b"{weight_ih_l0: [1, 2", "w.json", "not valid JSON"),
    "JSON list": (b"[1, 2, 3]", "w.json", "one JSON object"),
    "other extension": (b"", "w.pt", "Upload a .npz or a .json file"),
    "unknown layout": (npz({"foo": np.ones(2)}), "w.npz", "unknown layout .*found foo"),
    "missing torch key": (
        npz({k: v for k, v in _torch().items() if k != "bias_hh_l0"}),
        "w.npz",
        "missing bias_hh_l0",
    ),
    "second layer": (npz({**_torch(), "weight_ih_l1": np.ones((12, 4))}), "w.npz", "one layer"),
    "missing Keras bias": (
        npz({k: v for k, v in to_keras("lstm", case("lstm")[0]).items() if k != "bias"}),
        "w.npz",
        "Keras weights are missing bias",
    ),
    "wrong torch shape": (
        npz({**_torch(), "bias_ih_l0": np.ones(5)}),
        "w.npz",
        r"bias_ih has shape \(5,\)",
    ),
    "five gate blocks": (
        npz(
            {"kernel": np.ones((3, 20)), "recurrent_kernel": np.ones((4, 20)), "bias": np.ones(20)}
        ),
        "w.npz",
        "5 gate blocks",
    ),
    "wrong Keras GRU bias": (
        npz({**to_keras("gru", case("gru")[0]), "bias": np.ones((3, 12))}),
        "w.npz",
        r"bias has shape \(3, 12\); expected \(3H,\) or \(2, 3H\)",
    ),
    "NaN": (npz({**_torch(), "weight_hh_l0": np.full((12, 4), np.nan)}), "w.npz", "NaN"),
    "infinite in JSON": (
        json.dumps({k: v.tolist() for k, v in _torch().items()}).replace("0.", "1e999", 1).encode(),
        "w.json",
        "infinite",
    ),
    "text in JSON": (
        json.dumps({**{k: v.tolist() for k, v in _torch().items()}, "bias_ih_l0": "abc"}).encode(),
        "w.json",
        "bias_ih_l0 is not an array of numbers",
    ),
    "ragged JSON": (
        json.dumps(
            {**{k: v.tolist() for k, v in _torch().items()}, "weight_ih_l0": [[1], [1, 2]]}
        ).encode(),
        "w.json",
        "same length",
    ),
    "missing course bias": (
        npz({k: v for k, v in to_deeplearning_ai("lstm", case("lstm")[0]).items() if k != "bo"}),
        "w.npz",
        "deeplearning.ai LSTM weights are missing bo",
    ),
    "course W narrower than the concatenation": (
        npz({**to_deeplearning_ai("lstm", case("lstm")[0]), "Wi": np.ones((4, 4))}),
        "w.npz",
        r"Wi has shape \(4, 4\); expected \(n_a, n_a \+ n_x\)",
    ),
    "course W not on the concatenation": (
        npz({**to_deeplearning_ai("lstm", case("lstm")[0]), "Wo": np.ones((4, 4))}),
        "w.npz",
        r"Wo has shape \(4, 4\); expected \(4, 7\)",
    ),
    "pickled object array": (
        npz({"weight_ih_l0": np.array([{"a": 1}], dtype=object)}),
        "w.npz",
        "could not be read",
    ),
}


@pytest.mark.parametrize(("data", "filename", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_loader_messages(data, filename, message):
    with pytest.raises(InputError, match=message):
        load_params(data, filename)
