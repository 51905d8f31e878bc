"""Gradients clipped at the engine's 1e100 cap are shown as overflow on every curve, never as
the numbers the clipping left behind."""

from __future__ import annotations

import dataclasses

import numpy as np

import engine
from engine.cells import GRAD_LIMIT
from ui import compute
from ui.state import DEFAULT


def test_capped_lags_marks_every_step_from_the_latest_capped_one_back():
    v = np.array([3e99, 2e100, 5e99, 1e99, 1e-3, 1.0])
    assert compute.capped_lags(v).tolist() == [True, True, False, False, False, False]
    assert not compute.capped_lags(np.array([np.nan, 9e99, 1.0])).any()  # NaN: not computed
    assert compute.capped_lags(np.array([1.0, np.inf, 2.0])).tolist() == [True, True, False]


def test_a_gru_whose_gradient_hits_the_cap_reads_overflow_on_vanishing_gradients():
    lesson = dataclasses.replace(
        DEFAULT, preset="Impulse", T=2000, scale=10.0, update_bias=-10.0, measure="h"
    )
    cmp = compute.compare(lesson)
    gru = cmp.curves["gru"]
    raw = engine.jacobian_norms(compute.run(lesson, "gru").trace, "h")[cmp.first :]
    last = np.flatnonzero(raw >= GRAD_LIMIT)[-1]  # the latest step whose gradient was clipped
    assert np.all(np.isinf(gru[: last + 1]))  # from there back: overflow, never a number
    assert np.array_equal(gru[last + 1 :], raw[last + 1 :])  # after it: the engine's values
    assert np.any(raw[: last + 1] < GRAD_LIMIT)  # what the clipping left would have been drawn
