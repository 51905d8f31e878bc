"""Exports: every CSV and JSON parses back to the exact float64 arrays, with full settings."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import numpy as np

from engine import backward, export, forward, init_params
from engine.tasks import ADDING, RECALL
from engine.train import TrainConfig, history_columns, train
from ui import state
from ui.state import DEFAULT


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def number(cell: str):
    return None if cell == "" else float(cell)


def awkward(n: int, seed: int = 0) -> np.ndarray:
    """Values whose shortest decimal form is long, tiny, huge and non-finite."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n) * np.logspace(-300, 300, n)
    a[0] = 1 / 3
    if n > 3:
        a[1], a[2] = np.inf, np.nan
    return a


def same(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def test_settings_are_complete_at_the_defaults():
    s = state.settings(DEFAULT)
    assert s["cell"] == "lstm" and s["H"] == 16 and s["seed"] == 0
    assert s["init"] == "uniform" and s["scale"] == 1.0 and s["forget_bias"] == 1.0
    assert s["activation"] == "tanh" and s["source"] == "preset"
    assert s["input"] == DEFAULT.preset
    assert (s["tokens"], s["encoding"], s["dim"], s["T"]) == ("words", "onehot", 16, 40)
    assert "measure" not in s and state.settings(DEFAULT, measure=True)["measure"] == "x"
    assert not set(state.VIEW_FIELDS) & set(s)  # what is looked at, not what is computed
    json.dumps(s)  # plain JSON values


def dataclasses_replace(**kw):
    return dataclasses.replace(DEFAULT, **kw)


def test_settings_name_the_input_in_use():
    text = dataclasses_replace(source="text", text="a b c")
    assert state.settings(text)["input"] == "a b c"
    nums = dataclasses_replace(source="numbers", numbers="1, 2")
    assert state.settings(nums)["input"] == "1, 2"
    assert state.settings(dataclasses_replace(source="csv"))["input"] == "csv upload"


def test_series_round_trip_exactly_through_csv_and_json():
    labels = ["the", "cat", "sat", "on", 'a,"mat"']
    series = {"rnn |dh_T/dx_t|": awkward(5), "short": np.array([0.1, 2e-310]), "f": [1.0] * 5}
    got = rows(export.series_to_csv(series, labels))
    assert [int(r["t"]) for r in got] == [0, 1, 2, 3, 4]  # t from 0
    assert [r["token"] for r in got] == labels
    assert same([number(r["rnn |dh_T/dx_t|"]) for r in got], series["rnn |dh_T/dx_t|"])
    assert [r["short"] for r in got][:3] == ["", "", ""]  # covers the last two steps only
    assert same([float(r["short"]) for r in got[3:]], series["short"])

    settings = state.settings(DEFAULT, measure=True)
    doc = json.loads(export.series_to_json(series, labels, settings=settings, meta={"k": 2.5}))
    assert doc["settings"] == settings and doc["meta"] == {"k": 2.5}
    assert doc["t"] == [0, 1, 2, 3, 4] and doc["labels"] == labels
    assert same([float(v) for v in doc["series"]["rnn |dh_T/dx_t|"]], series["rnn |dh_T/dx_t|"])
    assert doc["series"]["short"][:3] == [None] * 3
    assert same(doc["series"]["short"][3:], series["short"])


def test_a_run_round_trips_with_its_settings():
    rng = np.random.default_rng(1)
    trace = forward("gru", init_params("gru", 3, 4, seed=2), rng.standard_normal((6, 3)))
    grads = backward(trace, np.ones((6, 4)) * (np.arange(6) == 5)[:, None])
    labels = [f"w{t}" for t in range(6)]
    got = rows(export.to_csv(trace, grads, labels))
    assert [int(r["t"]) for r in got] == list(range(6))
    assert same([[float(r[f"h[{k}]"]) for k in range(4)] for r in got], trace.h)
    doc = json.loads(export.to_json(trace, grads, labels, settings=state.settings(DEFAULT)))
    assert doc["settings"]["seed"] == 0 and doc["settings"]["H"] == 16  # defaults recorded
    assert same(doc["quantities"]["dL/dh"], grads.h)


def test_training_histories_round_trip_exactly():
    results = {
        "rnn": train(TrainConfig(cell="rnn", task=ADDING, lag=5, hidden_size=4, batch_size=8,
                                 max_steps=4, eval_size=16, seed=3)),
        "lstm": train(TrainConfig(cell="lstm", task=RECALL, lag=5, hidden_size=4, batch_size=8,
                                  max_steps=3, eval_size=16, seed=3)),
    }  # fmt: skip
    hist = {c: history_columns(r.history) for c, r in results.items()}
    evals = {c: {"before": r.eval_before, "after": r.eval_after} for c, r in results.items()}
    got = rows(export.history_to_csv(hist, evals))
    for c, h in hist.items():
        train_rows = [r for r in got if r["cell"] == c and r["record"] == "train"]
        assert [int(r["step"]) for r in train_rows] == h["step"].tolist()
        for name in ("loss", "grad_norm", "grad_first", "grad_last", "seconds"):
            assert same([float(r[name]) for r in train_rows], h[name]), (c, name)
        for when in ("before", "after"):
            (row,) = [r for r in got if r["cell"] == c and r["record"] == f"heldout_{when}"]
            ev = evals[c][when]
            assert float(row["loss"]) == ev.loss and number(row["accuracy"]) == ev.accuracy
            assert float(row["chance_loss"]) == ev.chance_loss
            assert row["grad_first"] == ""  # a held-out row has no gradient
    assert all(r["accuracy"] == "" for r in got if r["cell"] == "rnn")  # regression: no accuracy

    settings = state.settings(DEFAULT)
    doc = json.loads(export.history_to_json(hist, evals, settings=settings,
                                            training={"task": "adding", "lag": 5}))  # fmt: skip
    assert doc["settings"] == settings and doc["training"] == {"task": "adding", "lag": 5}
    for c, h in hist.items():
        cell = doc["cells"][c]
        assert cell["history"]["step"] == h["step"].tolist()
        assert same(cell["history"]["grad_first"], h["grad_first"])
        assert same(cell["history"]["loss"], h["loss"])
        assert cell["heldout"]["after"]["loss"] == evals[c]["after"].loss
    assert doc["cells"]["rnn"]["history"]["accuracy"] == [None] * 4
    assert same(doc["cells"]["lstm"]["history"]["accuracy"], hist["lstm"]["accuracy"])


def test_non_finite_values_stay_readable():
    doc = json.loads(export.series_to_json({"a": [np.inf, -np.inf, np.nan]}, "xyz", settings={}))
    assert doc["series"]["a"] == ["inf", "-inf", "nan"]
    assert same([float(v) for v in doc["series"]["a"]], [np.inf, -np.inf, np.nan])


def test_an_exploded_run_exports_infinity_and_no_value_never_the_clipped_numbers():
    import json as _json

    import engine
    from engine import export, theory
    from engine.cells import STATE_LIMIT

    xs = np.zeros((300, 1))
    xs[0] = 1.0
    params = engine.init_params(
        "rnn", 1, 4, seed=0, recurrent_init="identity", recurrent_scale=10.0, zero_bias=True
    )
    params["bias_ih"][:] = 0.1
    trace = engine.forward("rnn", params, xs, nonlinearity="relu")
    grads = engine.backward(trace, theory.last_step_seed(trace))
    capped = np.flatnonzero(np.any(np.abs(trace.h) >= STATE_LIMIT, axis=-1))
    assert capped.size, "the run must explode for this test"
    first = capped[0]
    cols = export.columns(trace, grads)
    assert np.all(np.isposinf(cols["h"][first:][trace.h[first:] >= STATE_LIMIT]))
    assert np.all(np.isfinite(cols["h"][:first]))
    # the engine's clipped derivative gives 0 through capped states: exported as no value
    assert np.any(grads.h[: first - 1] == 0.0)
    assert np.all(np.isnan(cols["dL/dh"][: trace.T - 1]))
    assert np.array_equal(cols["dL/dh"][-1], grads.h[-1])  # the loss's own step is exact
    doc = _json.loads(export.to_json(trace, grads))
    assert doc["quantities"]["dL/dh"][0][0] == "nan" and doc["quantities"]["h"][-1][0] == "inf"
    assert f"exploded at step {first}" in doc["overflow"]["states"]
    assert "no float64 value" in doc["overflow"]["dL/dh"]
    assert "nan" in export.to_csv(trace, grads).splitlines()[1]


def test_a_gradient_past_the_clip_has_no_value_from_that_step_back():
    import engine
    from engine import export, theory
    from engine.cells import GRAD_LIMIT
    from engine.inputs import preset

    seq = preset("Impulse", steps=2000, seed=0)
    p = engine.init_params("gru", seq.D, 16, seed=0, recurrent_scale=10, update_bias=-10)
    trace = engine.forward("gru", p, seq.values)
    grads = engine.backward(trace, theory.last_step_seed(trace))
    hit = np.flatnonzero(np.any(np.abs(grads.h) >= GRAD_LIMIT, axis=-1))[-1]
    dh = export.columns(trace, grads)["dL/dh"]
    assert np.all(np.isnan(dh[: hit + 1])) and np.array_equal(dh[hit + 1 :], grads.h[hit + 1 :])
