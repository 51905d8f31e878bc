"""GATESCOPE_TRAIN_SLOTS: how many training runs one server process trains at once (issue 12
§3; ``bench/train_load.py`` compares the queue against no queue with it)."""

from __future__ import annotations

import logging

import pytest

from ui import training


@pytest.mark.parametrize(("cpus", "default"), [(1, 1), (2, 1), (8, 7)])
def test_unset_or_empty_is_one_per_core_but_one(cpus, default):
    assert training.slots_from_env({}, cpus=cpus) == default
    assert training.slots_from_env({training.SLOTS_ENV: "  "}, cpus=cpus) == default


@pytest.mark.parametrize(("raw", "slots"), [("1", 1), ("3", 3), (" 30 ", 30), ("007", 7)])
def test_a_whole_number_sets_the_slots(raw, slots):
    assert training.slots_from_env({training.SLOTS_ENV: raw}, cpus=2) == slots


@pytest.mark.parametrize("raw", ["0", "-2", "1.5", "two", "1e3", "٣", "inf"])
def test_anything_else_keeps_the_default_and_says_why(raw, caplog):
    with caplog.at_level(logging.WARNING, logger=training.__name__):
        assert training.slots_from_env({training.SLOTS_ENV: raw}, cpus=4) == 3
    assert training.SLOTS_ENV in caplog.text and repr(raw) in caplog.text
