"""One computation core (lesson/compute.py) for the app's pages and the offline lesson file: the
app's cached functions and the exporter give the same float64 numbers for the same lesson."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest

import engine
from lesson import Settings
from lesson import compute as core
from ui import compute
from ui.state import DEFAULT

OVERFLOW = dict(activation="relu", scale=10.0, init="identity", source="numbers",
                numbers=" ".join(["50"] * 200), T=200)  # fmt: skip
CASES = {
    "default": {},
    "state Jacobian": {"measure": "h"},
    "bptt, relu, overflow": {**OVERFLOW, "measure": "bptt"},
    "input, relu, overflow": OVERFLOW,
    "vanishing GRU, text": {"source": "text", "text": "a b c a b c d", "scale": 0.2, "H": 8},
}


def _settings(lesson) -> Settings:
    return Settings(**{f.name: getattr(lesson, f.name) for f in dataclasses.fields(Settings)})


def _same(a, b, where: str) -> None:
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=True), where
    else:
        assert a == b, where


def test_the_app_names_are_the_cores():
    for name in ("Run", "Comparison", "params_for", "capped_lags", "overflow_lags",
                 "jacobian_lags", "gru_reset", "CSV_LIMITS"):  # fmt: skip
        assert getattr(compute, name) is getattr(core, name), name


@pytest.mark.parametrize("case", CASES)
def test_the_lesson_file_and_the_app_compare_the_same_numbers(case):
    lesson = dataclasses.replace(DEFAULT, **CASES[case])
    s = _settings(lesson)
    seq, full = core.sequence(s)
    assert (seq.labels, full) == (compute.sequence(lesson)[0].labels, compute.sequence(lesson)[1])
    runs = {c: core.run(s, seq, c) for c in engine.CELLS}
    for c, r in runs.items():  # forward and backward: the app's cached run, to the last bit
        app = compute.run(lesson, c)
        assert np.array_equal(r.trace.h, app.trace.h), c
        assert np.array_equal(r.grads.h, app.grads.h), c
    mine, app = core.compare(s, runs), compute.compare(lesson)
    for f in dataclasses.fields(core.Comparison):
        _same(getattr(mine, f.name), getattr(app, f.name), f.name)


def test_the_core_takes_any_settings_object_and_runs_the_notations_gru():
    lesson = dataclasses.replace(DEFAULT, notation="dlai", H=4)
    values = dataclasses.asdict(_settings(lesson))
    assert values["notation"] == "dlai"  # the exporter's Settings carry the notation
    duck = types.SimpleNamespace(**values)
    seq, _ = core.sequence(duck)
    gru = core.run(duck, seq, "gru")
    # the deeplearning.ai notation's GRU is the reset-before model, as the app runs it
    assert core.gru_reset(duck, "gru") == "before" and gru.trace.gru_reset == "before"
    assert np.array_equal(gru.trace.h, compute.run(lesson, "gru").trace.h)
    # without a notation attribute: PyTorch's GRU
    bare = types.SimpleNamespace(**{k: v for k, v in values.items() if k != "notation"})
    assert core.run(bare, seq, "gru").trace.gru_reset == "after"
    assert not np.array_equal(core.run(bare, seq, "gru").trace.h, gru.trace.h)
