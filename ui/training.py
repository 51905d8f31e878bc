"""Training runs for the Train page: live progress, then cached results.

A run is deterministic for its :class:`engine.train.TrainConfig`, so a finished result is kept
in a small server-wide store keyed by the configuration (bounded, least recently used first
out): a second learner, or a rerun, with the same settings sees it at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import streamlit as st

import engine
from engine import tasks
from engine.train import TrainConfig, Trainer, TrainResult, history_columns
from figures.style import CELL_NAMES

from . import keys
from .layout import page_control
from .state import Lesson

NOT_STARTED = SimpleNamespace(history=(), status="ready")
"""Stands for a run before its first step (no history yet)."""
MAX_STORED = 24
CHUNK = 10  # training steps between two redraws
MAX_SECONDS = 60.0  # every run stops by itself after this much training time


class _Store:
    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > MAX_STORED:
                self._items.popitem(last=False)


@st.cache_resource
def store() -> _Store:
    """The server-wide store of finished runs (one per process)."""
    return _Store()


TASK_LABELS = {"adding": "Adding problem", "recall": "Recall the first symbol"}


def settings(lesson: Lesson) -> tuple[str, int, list[str], int]:
    """The Train page's controls in one row: (task, lag, cells, step budget). In presentation
    mode nothing is drawn and the last values are used."""
    boxes = st.columns([2, 2, 3, 2]) if not lesson.present else [st] * 4
    task = page_control(
        lesson, keys.TRAIN_TASK, boxes[0].radio, "Task", list(tasks.TASKS), default="adding",
        horizontal=True, format_func=TASK_LABELS.get,
        help="Adding: two marked numbers, add them (Hochreiter & Schmidhuber 1997). Recall: "
        "remember the first symbol of the sequence through random distractors.",
    )  # fmt: skip
    lag = page_control(
        lesson, keys.TRAIN_LAG, boxes[1].slider, "Lag (steps)", 5, 200, default=20,
        help="How many steps separate the information from the moment it is needed.",
    )  # fmt: skip
    cells = page_control(
        lesson, keys.TRAIN_CELLS, boxes[2].multiselect, "Cells", ["rnn", "gru", "lstm"],
        default=["rnn", "gru", "lstm"], format_func=CELL_NAMES.get,
        help="Which cells to train (same H and seed).",
    )  # fmt: skip
    steps = page_control(
        lesson, keys.TRAIN_STEPS, boxes[3].number_input, "Training steps", 10, 5000, step=50,
        default=600,
        help=f"The step budget (batch 64, Adam, gradient-norm clip 1). Every run also stops by "
        f"itself after {MAX_SECONDS:.0f} s of training.",
    )  # fmt: skip
    return task, int(lag), list(cells), int(steps)


def start_stop(done: bool) -> bool:
    """▶ Train and ⏹ Stop side by side (both kept in presentation mode). Stop interrupts a
    run between two chunks of steps (any click reruns the page); returns whether ▶ Train was
    pressed."""
    left, right, _ = st.columns([1, 1, 4])
    start = left.button(
        "▶ Train", type="primary", key=keys.TRAIN_START, disabled=done, width="stretch",
        help="Train every chosen cell; ⏹ Stop stops between steps.",
    )  # fmt: skip
    if right.button("⏹ Stop", key=keys.TRAIN_STOP, width="stretch", help="Stop training now."):
        st.info("Training stopped. Press ▶ Train to start again.", icon="⏹")
    return start


def progress_bars(cells, *, compact: bool) -> dict:
    """One progress bar per cell (``bar.progress(value, text=...)``); ``compact`` (presentation
    mode) puts them side by side so the loss curves stay in the first screen."""
    boxes = st.columns(len(cells)) if compact else [st.container() for _ in cells]
    return {
        c: box.progress(0.0, text=f"{CELL_NAMES[c]}: ready")
        for c, box in zip(cells, boxes, strict=True)
    }


def configs(task: str, lag: int, cells, *, steps: int, H: int, seed: int, forget_bias: float,
            activation: str, lr: float) -> dict[str, TrainConfig]:  # fmt: skip
    """One training configuration per cell, all with the same H, seed and budget."""
    return {
        cell: TrainConfig(
            cell=cell,
            task=tasks.TASKS[task],
            lag=lag,
            hidden_size=H,
            seed=seed,
            lr=lr,
            max_steps=steps,
            max_seconds=MAX_SECONDS,
            forget_bias=forget_bias if cell == "lstm" else None,
            nonlinearity=activation,
        )  # fmt: skip
        for cell in cells
    }


def cached(cfgs: dict[str, TrainConfig]) -> dict[str, TrainResult] | None:
    """The finished results of every configuration, or None if any is missing."""
    results = {cell: store().get(cfg) for cell, cfg in cfgs.items()}
    return None if any(r is None for r in results.values()) else results


def train_live(cfgs: dict[str, TrainConfig], draw) -> dict[str, TrainResult]:
    """Train every cell in turn-taking chunks, calling ``draw(trainers)`` after each chunk."""
    trainers = {cell: Trainer(cfg) for cell, cfg in cfgs.items()}
    while not all(t.done for t in trainers.values()):
        for t in trainers.values():
            t.step(CHUNK)
        draw(trainers)
    results = {cell: t.result() for cell, t in trainers.items()}
    for cell, r in results.items():
        store().put(cfgs[cell], r)
    return results


def histories(trainers_or_results) -> dict[str, dict]:
    """Cell -> history columns, for the training figures."""
    return {c: history_columns(t.history) for c, t in trainers_or_results.items()}


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def probe(cfg: TrainConfig, params_key: str, _params: dict) -> tuple:
    """One held-out sequence through the cell: its Trace and ‖∂h_T/∂x_t‖ per step."""
    xs, _ = tasks.make_batch(cfg.task, cfg.lag, 1, np.random.default_rng(7))
    trace = engine.forward(cfg.cell, _params, xs[0], nonlinearity=cfg.nonlinearity)
    return trace, engine.jacobian_norms(trace, "x")


def summary(results: dict[str, TrainResult]) -> str:
    """The measured outcome in one or two sentences (never assumed)."""
    parts = []
    for cell, r in results.items():
        ev = r.eval_after
        name = CELL_NAMES[cell]
        if r.diverged:
            parts.append(f"the {name} diverged at step {r.steps}")
        elif ev.accuracy is not None:
            parts.append(f"the {name} reached {ev.accuracy:.0%} accuracy")
        else:
            parts.append(f"the {name} reached MSE {ev.loss:.3g} ({ev.relative_loss:.0%} of chance)")
    any_r = next(iter(results.values()))
    chance = (
        f"chance is {any_r.eval_after.chance_accuracy:.0%}"
        if any_r.eval_after.chance_accuracy is not None
        else f"chance (predicting the mean) is MSE {any_r.eval_after.chance_loss:.3f}"
    )
    learned = [
        CELL_NAMES[c]
        for c, r in results.items()
        if not r.diverged and r.eval_after.relative_loss < 0.5
    ]
    verdict = (
        f"Learned the dependency (below half the chance loss): {', '.join(learned)}."
        if learned
        else "No cell got below half the chance loss within this budget."
    )
    steps = max(r.steps for r in results.values())
    outcome = "; ".join(parts)
    return f"After {steps} steps, on held-out sequences {outcome} ({chance}). {verdict}"
