"""Training runs for the Train page: live progress, then cached results; the trained cells.

A run is deterministic for its :class:`engine.train.TrainConfig`, so a finished result is kept
in a small server-wide store keyed by the configuration (bounded, least recently used first
out): a second learner, or a rerun, with the same settings sees it at once.

Training runs of every session of one server process go through one :class:`TrainQueue`: at
most :data:`SLOTS` train at once, the others wait in order (their position shown), so thirty
learners pressing ▶ Train together do not starve everyone else's clicks.

"Open the trained cells" carries a finished run in the lesson's ``trained`` field (in the URL as
``trained=``), a compact encoding of its configuration (:class:`TrainedSpec`, see
:func:`parse_trained`): the pages show the trained parameters (from the store, or retrained
deterministically when the store has lost them) on a fresh sequence of the task.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import OrderedDict, deque
from contextlib import contextmanager
from dataclasses import dataclass, replace
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
MAX_STORED = 48  # a Train run stores each cell twice: under its page and its link configuration
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


SLOTS_ENV = "GATESCOPE_TRAIN_SLOTS"
"""The environment variable that sets :data:`SLOTS` for a server (e.g. ``bench/train_load.py``
compares the queue against no queue with it)."""


def slots_from_env(environ=os.environ, cpus: int | None = None) -> int:
    """Training slots per server process: :data:`SLOTS_ENV` when it is a whole number ≥ 1,
    else one per core but one (at least 1). A value that is not a whole number ≥ 1 is not
    used: the default is, and the server's log says why."""
    default = max(1, (cpus if cpus is not None else os.cpu_count() or 2) - 1)
    raw = environ.get(SLOTS_ENV, "").strip()
    if not raw:
        return default
    if raw.isascii() and raw.isdigit() and int(raw) >= 1:
        return int(raw)
    logging.getLogger(__name__).warning(
        "%s must be a whole number ≥ 1; got %r: using %d training slot(s) (cores − 1)",
        SLOTS_ENV, raw[:40], default,
    )  # fmt: skip
    return default


SLOTS = slots_from_env()
"""Training runs at once in one server process (default: cores − 1, at least 1): one core is
always left for the clicks of everyone else (a run holds a core, and its small NumPy calls hold
Python's lock). :data:`SLOTS_ENV` sets another number."""
POLL = 1.0  # seconds between two updates of a waiting learner's position
REUSED = "s__train_reused"  # session flag: the last ▶ Train replayed another learner's run
REUSED_TEXT = (
    "Another learner had just trained exactly these settings, so their run was replayed at the "
    "speed it was trained instead of being trained twice: a run is deterministic, the numbers "
    "are the same. Press ▶ Train again to train it yourself."
)


class TrainQueue:
    """First come, first served: at most ``slots`` runs hold a slot at once, the rest wait in
    line in the order they arrived.

    Parameters
    ----------
    slots : int
        How many runs may train at the same time (≥ 1).
    """

    def __init__(self, slots: int):
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise ValueError(f"slots must be a whole number ≥ 1; got {slots!r}")
        self.slots = slots
        self._cond = threading.Condition()
        self._line: deque = deque()  # waiting tickets, first in line first
        self._active = 0

    @property
    def active(self) -> int:
        """Runs holding a slot now."""
        with self._cond:
            return self._active

    @property
    def waiting(self) -> int:
        """Runs waiting in line now."""
        with self._cond:
            return len(self._line)

    def _granted(self, ticket) -> bool:
        """Under the lock: give the ticket a slot if it is first in line and one is free."""
        if self._line[0] is ticket and self._active < self.slots:
            self._line.popleft()
            self._active += 1
            self._cond.notify_all()  # the next in line may find a free slot too
            return True
        return False

    @contextmanager
    def slot(self, on_wait=None, *, poll: float = POLL):
        """Hold a slot for the ``with`` block, after waiting in line for it.

        ``on_wait(position)`` (1: next in line) is called outside the lock before each wait of
        at most ``poll`` seconds, so a page shows the position as it changes. An exception
        from it (Streamlit stopping the script when the learner clicks) leaves the line; an
        exception inside the block frees the slot: a failed or stopped run never blocks the
        line."""
        ticket = object()
        with self._cond:
            self._line.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._granted(ticket):
                        break
                    position = self._line.index(ticket) + 1
                if on_wait is not None:
                    on_wait(position)
                with self._cond:
                    if self._granted(ticket):
                        break
                    self._cond.wait(poll)
        except BaseException:
            with self._cond:
                if ticket in self._line:
                    self._line.remove(ticket)
                    self._cond.notify_all()  # the one behind may now be first
            raise
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()


@st.cache_resource
def queue() -> TrainQueue:
    """The server-wide training queue (one per process, :data:`SLOTS` slots)."""
    return TrainQueue(SLOTS)


def waiting_text(position: int) -> str:
    """What a learner waiting for a training slot reads."""
    ahead = position - 1
    return (
        f"Waiting for a free training slot: you are number {position} in line "
        f"({ahead} run{'s' if ahead != 1 else ''} ahead of you; this server trains "
        f"{SLOTS} run{'s' if SLOTS != 1 else ''} at a time so that everyone's clicks stay fast)."
    )


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


SHOWN_DONE = "s__train_shown_done"  # whether the learner's last page showed a kept run


def start_stop(done: bool) -> tuple[bool, bool, bool]:
    """▶ Train, 🔁 Replay and ⏹ Stop side by side (all kept in presentation mode). ▶ Train
    trains again when a finished run is already kept; 🔁 Replay (once there is one) redraws its
    recorded curves at the speed they were trained; ⏹ Stop interrupts either between two
    redraws (any click reruns the page). Returns (train pressed, replay pressed, whether the
    pressed ▶ Train read "▶ Train again": what the learner saw when clicking, not what the
    store holds now, since another learner may have finished the same run meanwhile)."""
    again_shown = bool(st.session_state.get(SHOWN_DONE, False))
    st.session_state[SHOWN_DONE] = done
    left, middle, right, _ = st.columns([1, 1, 1, 3])
    start = left.button(
        "▶ Train again" if done else "▶ Train", type="primary", key=keys.TRAIN_START,
        width="stretch",
        help="Train every chosen cell again, live (the same settings give the same curves); "
        "⏹ Stop stops between steps." if done else
        "Train every chosen cell; ⏹ Stop stops between steps.",
    )  # fmt: skip
    again = middle.button(
        "🔁 Replay", key=keys.TRAIN_REPLAY, disabled=not done, width="stretch",
        help="Replay the finished run's curves at the speed they were trained (no training).",
    )  # fmt: skip
    if right.button("⏹ Stop", key=keys.TRAIN_STOP, width="stretch", help="Stop training now."):
        st.info("Training stopped. Press ▶ Train to start again.", icon="⏹")
    return start, again, start and again_shown


def progress_bars(cells, *, compact: bool) -> dict:
    """One progress bar per cell (``bar.progress(value, text=...)``); ``compact`` (presentation
    mode) puts them side by side so the loss curves stay in the first screen."""
    boxes = st.columns(len(cells)) if compact else [st.container() for _ in cells]
    return {
        c: box.progress(0.0, text=f"{CELL_NAMES[c]}: ready")
        for c, box in zip(cells, boxes, strict=True)
    }


def configs(task: str, lag: int, cells, *, steps: int, H: int, seed: int, forget_bias: float,
            update_bias: float, activation: str, lr: float,
            max_seconds: float | None = MAX_SECONDS) -> dict[str, TrainConfig]:  # fmt: skip
    """One training configuration per cell, all with the same H, seed and budget (``steps``:
    one budget for all, or a dict cell -> budget)."""
    budget = steps if isinstance(steps, dict) else dict.fromkeys(cells, steps)
    return {
        cell: TrainConfig(
            cell=cell,
            task=tasks.TASKS[task],
            lag=lag,
            hidden_size=H,
            seed=seed,
            lr=lr,
            max_steps=budget[cell],
            max_seconds=max_seconds,
            forget_bias=forget_bias if cell == "lstm" else None,
            update_bias=update_bias if cell == "gru" else None,
            nonlinearity=activation,
        )  # fmt: skip
        for cell in cells
    }


def cached(cfgs: dict[str, TrainConfig]) -> dict[str, TrainResult] | None:
    """The finished results of every configuration, or None if any is missing."""
    results = {cell: store().get(cfg) for cell, cfg in cfgs.items()}
    return None if any(r is None for r in results.values()) else results


def link_config(cfg: TrainConfig, result: TrainResult) -> TrainConfig:
    """The configuration that repeats ``result`` exactly, whatever stopped it: its own number of
    steps as the budget and no time budget (a run is the same bit for bit up to any step)."""
    return replace(cfg, max_steps=max(result.steps, 1), max_seconds=None)


def keep(cfgs: dict[str, TrainConfig], results: dict[str, TrainResult]) -> None:
    """Store finished results under their page configuration and their link configuration."""
    for cell, r in results.items():
        store().put(cfgs[cell], r)
        if r.steps:
            store().put(link_config(cfgs[cell], r), r)


class _TrainedMeanwhile(Exception):
    """Raised from a waiting learner's position callback: another learner's run of the very
    same configuration has finished, so there is nothing left to train."""


def train_live(cfgs: dict[str, TrainConfig], draw, on_wait=None, *,
               reuse: bool = True) -> tuple[dict[str, TrainResult], bool]:  # fmt: skip
    """Train every cell in turn-taking chunks, calling ``draw(trainers)`` after each chunk, once
    a slot of the server's :func:`queue` is free (``on_wait(position)`` while waiting).

    With ``reuse`` (the learner pressed ▶ Train, not ▶ Train again), a run of the same
    configurations that another learner finished meanwhile is not trained twice: it is
    :func:`replay`-ed (the same numbers, a run is deterministic), and the place in line is
    given up at once. Returns (results, whether they were trained here)."""

    def waiting(position):
        if reuse and cached(cfgs) is not None:
            raise _TrainedMeanwhile
        if on_wait is not None:
            on_wait(position)

    try:
        with queue().slot(waiting):
            kept = cached(cfgs) if reuse else None
            if kept is None:
                trainers = {cell: Trainer(cfg) for cell, cfg in cfgs.items()}
                while not all(t.done for t in trainers.values()):
                    for t in trainers.values():
                        t.step(CHUNK)
                    draw(trainers)
                results = {cell: t.result() for cell, t in trainers.items()}
    except _TrainedMeanwhile:
        kept = cached(cfgs)
    if kept is not None:
        replay(kept, draw)
        return kept, False
    keep(cfgs, results)
    return results, True


def replay_marks(results: dict[str, TrainResult]) -> list[tuple[int, float]]:
    """(steps shown, seconds since the start) of each redraw of a replay: every :data:`CHUNK`
    steps, at the moment the live run reached them. The cells trained in turn, chunk by chunk,
    so the live run had spent the sum of their training times by then."""
    n = max((r.steps for r in results.values()), default=0)
    marks = []
    for k in [*range(CHUNK, n, CHUNK), n] if n else []:
        at = sum(r.history[min(k, r.steps) - 1].seconds for r in results.values() if r.steps)
        marks.append((k, at))
    return marks


def replay(results: dict[str, TrainResult], draw, *, clock=time.perf_counter,
           sleep=time.sleep) -> None:  # fmt: skip
    """Redraw a finished run's recorded curves at the speed they were trained: no training,
    only ``draw(partial runs)`` at each of :func:`replay_marks`."""
    start = clock()
    for k, at in replay_marks(results):
        ahead = at - (clock() - start)
        if ahead > 0:
            sleep(ahead)
        draw({
            c: SimpleNamespace(
                history=r.history[:k], status=r.status if k >= r.steps else "running"
            )
            for c, r in results.items()
        })  # fmt: skip


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


# --------------------------------------------------------------------------------------------
# The trained cells: a finished run carried in the lesson (``trained=`` in the URL)
# --------------------------------------------------------------------------------------------

TRAINED_CELLS = ("rnn", "gru", "lstm")
LINK_MAX_LAG = 200  # the Train page's lag slider
LINK_MAX_STEPS = 5000  # the Train page's step budget
LINK_MAX_H = 256  # the lesson's largest H
LINK_MAX_LR = 1.0
LINK_SECONDS = 30.0
"""The most training time (estimated by :func:`retrain_seconds`) a link may cost the server
when the store no longer holds its run and it must be trained again: four times the Train
page's default run."""
SECONDS_PER_UNIT = 2.0e-10
"""An estimate of one training step's cost per unit of ``batch · T · (G + 2) · (H + 40)²``
(G = 1, 3, 4 gate blocks), fitted on the project's 2-core machine with one BLAS thread (H
16-128, lag 20-100, every cell; at most 1.4e-10 on an idle machine) with room for a busy one:
the Train page's default three cells (H 16, lag 20, 600 steps) are estimated at 7.5 s and took
6.4 s, held-out scores included, while other work ran. It is an estimate, not a bound."""
SAMPLE_STREAM = 5
"""The fresh sequence of a trained lesson is drawn from ``default_rng([seed, 5])``: a stream
that neither the training batches (``[seed, 1]``) nor the held-out batch use."""
_EXAMPLE = "adding_lag20_H16_seed0_lr0.01_fb1_ub0_tanh_rnn600_gru600_lstm600"
_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_PARTS = {
    "task": re.compile(r"(adding|recall)"),
    "activation": re.compile(r"(tanh|relu)"),
    "lag": re.compile(r"lag(\d+)"),
    "H": re.compile(r"H(\d+)"),
    "seed": re.compile(r"seed(\d+)"),
    "lr": re.compile(rf"lr({_NUMBER})"),
    "forget_bias": re.compile(rf"fb({_NUMBER})"),
    "update_bias": re.compile(rf"ub({_NUMBER})"),
    **{cell: re.compile(rf"{cell}(\d+)") for cell in TRAINED_CELLS},
}
_SAYS = {
    "task": "the task (adding or recall)",
    "activation": "the RNN's activation (tanh or relu)",
    "lag": "the lag (lag20)",
    "H": "the hidden size (H16)",
    "seed": "the seed (seed0)",
    "lr": "the learning rate (lr0.01)",
    "forget_bias": "the LSTM's forget bias (fb1)",
    "update_bias": "the GRU's update bias (ub0)",
}


def _num(x: float) -> str:
    """The shortest text that reads back as exactly ``x`` (``1``, ``0.01``, ``-2.5``)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class TrainedSpec:
    """The training behind a trained-cells lesson: everything :func:`configs` needs.

    Attributes
    ----------
    task : {"adding", "recall"}
    lag, H, seed : int
    lr, forget_bias, update_bias : float
    activation : {"tanh", "relu"}
    steps : tuple[int, int, int]
        Training steps of the RNN, the GRU and the LSTM (0: the cell keeps its initial
        weights), the steps the run actually took (a time-out or a divergence included).
    """

    task: str
    lag: int
    H: int
    seed: int
    lr: float
    forget_bias: float
    update_bias: float
    activation: str
    steps: tuple[int, int, int]

    @property
    def steps_of(self) -> dict[str, int]:
        return dict(zip(TRAINED_CELLS, self.steps, strict=True))

    def configs(self) -> dict[str, TrainConfig]:
        """Each cell's configuration, repeating its run exactly (a cell of 0 steps: the one
        step budget whose initial weights it shows)."""
        return configs(
            self.task, self.lag, TRAINED_CELLS, H=self.H, seed=self.seed, lr=self.lr,
            steps={c: max(n, 1) for c, n in self.steps_of.items()}, max_seconds=None,
            forget_bias=self.forget_bias, update_bias=self.update_bias,
            activation=self.activation,
        )  # fmt: skip


def format_trained(spec: TrainedSpec) -> str:
    """The compact text of a trained lesson (``trained=`` in the URL), e.g.
    ``adding_lag20_H16_seed0_lr0.01_fb1_ub0_tanh_rnn600_gru600_lstm600``: parts joined by
    ``_``, every number exact (:func:`parse_trained` reads it back to the same spec)."""
    parts = [
        spec.task, f"lag{spec.lag}", f"H{spec.H}", f"seed{spec.seed}", f"lr{_num(spec.lr)}",
        f"fb{_num(spec.forget_bias)}", f"ub{_num(spec.update_bias)}", spec.activation,
    ]  # fmt: skip
    parts += [f"{c}{n}" for c, n in spec.steps_of.items()]
    return "_".join(parts)


def _bad(why: str) -> engine.InputError:
    return engine.InputError(
        f"This trained-cells link is not valid: {why}. A valid one reads like {_EXAMPLE}; "
        "open the Train page, train, and press “Open the trained cells” to get one."
    )


def _within(name: str, value, lo, hi):
    if not lo <= value <= hi:
        raise _bad(f"{name} must be from {_num(lo)} to {_num(hi)}; got {_num(value)}")
    return value


def parse_trained(text: str) -> TrainedSpec:
    """Read and validate the text of a trained lesson (see :func:`format_trained`).

    Every part must appear once, in any order; a cell's part may be left out (0 steps: its
    initial weights). Bounded like the Train page: lag 1-200, H 1-256, at most 5000 steps a
    cell, learning rate in (0, 1], biases in [-10, 10].

    Raises
    ------
    engine.InputError
        With a learner-facing message naming what is wrong.
    """
    found: dict = {}
    for part in str(text).strip().split("_"):
        name = next((n for n, rx in _PARTS.items() if rx.fullmatch(part)), None)
        if name is None:
            shown = part if len(part) <= 20 else part[:20] + "…"
            raise _bad(f"“{shown}” is not one of its parts" if part else "it has an empty part")
        if name in found:
            raise _bad(f"it names {_SAYS.get(name, 'the ' + name.upper())} twice")
        found[name] = _PARTS[name].fullmatch(part).group(1)
    missing = [n for n in _SAYS if n not in found]
    if missing:
        raise _bad("it does not give " + ", ".join(_SAYS[n] for n in missing))
    steps = tuple(
        _within(f"the {c.upper()}'s steps", int(found.get(c, 0)), 0, LINK_MAX_STEPS)
        for c in TRAINED_CELLS
    )
    if not any(steps):
        raise _bad("no cell was trained (give at least one of rnn600, gru600, lstm600)")
    floats = {n: float(found[n]) for n in ("lr", "forget_bias", "update_bias")}
    if not all(map(math.isfinite, floats.values())):
        raise _bad("its numbers must be finite")
    if floats["lr"] <= 0:
        raise _bad(f"the learning rate must be above 0; got {_num(floats['lr'])}")
    return TrainedSpec(
        task=found["task"],
        lag=_within("the lag", int(found["lag"]), 1, LINK_MAX_LAG),
        H=_within("H", int(found["H"]), 1, LINK_MAX_H),
        seed=_within("the seed", int(found["seed"]), 0, 2**31 - 1),
        lr=_within("the learning rate", floats["lr"], 0.0, LINK_MAX_LR),
        forget_bias=_within("the forget bias", floats["forget_bias"], -10.0, 10.0),
        update_bias=_within("the update bias", floats["update_bias"], -10.0, 10.0),
        activation=found["activation"],
        steps=steps,
    )


def spec_of(cfgs: dict[str, TrainConfig], results: dict[str, TrainResult], *,
            forget_bias: float = 1.0, update_bias: float = 0.0) -> TrainedSpec:  # fmt: skip
    """The trained lesson of a finished Train run (cells not trained: 0 steps; the biases of
    an untrained LSTM or GRU: ``forget_bias``, ``update_bias``, the page's settings)."""
    cfg = next(iter(cfgs.values()))
    lstm, gru = cfgs.get("lstm"), cfgs.get("gru")
    return TrainedSpec(
        task=cfg.task.kind, lag=cfg.lag, H=cfg.hidden_size, seed=cfg.seed, lr=cfg.lr,
        forget_bias=lstm.forget_bias if lstm else forget_bias,
        update_bias=gru.update_bias if gru else update_bias, activation=cfg.nonlinearity,
        steps=tuple(results[c].steps if c in results else 0 for c in TRAINED_CELLS),
    )  # fmt: skip


def retrain_seconds(spec: TrainedSpec) -> float:
    """An estimate of the training time of the spec's cells on this server
    (:data:`SECONDS_PER_UNIT`)."""
    T = tasks.TASKS[spec.task].length(spec.lag)
    blocks = {"rnn": 1, "gru": 3, "lstm": 4}
    batch = TrainConfig.batch_size
    return sum(
        n * batch * T * (blocks[c] + 2) * (spec.H + 40) ** 2 * SECONDS_PER_UNIT
        for c, n in spec.steps_of.items()
    )


_KEY_LOCKS = tuple(threading.Lock() for _ in range(64))  # one run of a configuration at a time


@st.cache_resource(max_entries=16, ttl=3600)
def _untrained(cfg: TrainConfig) -> TrainResult:
    return Trainer(cfg).result()  # initial weights and their held-out score: no step taken


def trained_results(spec: TrainedSpec, on_wait=None) -> dict[str, TrainResult]:
    """Each cell's run of a trained lesson: from the store, or trained again (deterministic,
    through the server's :func:`queue`) and stored. A cell of 0 steps gives its initial
    weights (``status == "ready"``, no history).

    Raises
    ------
    engine.InputError
        When a run must be trained again and would take more than :data:`LINK_SECONDS`.
    """
    cfgs = spec.configs()
    out = {c: store().get(cfg) for c, cfg in cfgs.items() if spec.steps_of[c]}
    missing = {c: cfgs[c] for c, r in out.items() if r is None}
    if missing:
        cost = retrain_seconds(replace(spec, steps=tuple(
            spec.steps_of[c] if c in missing else 0 for c in TRAINED_CELLS
        )))  # fmt: skip
        if cost > LINK_SECONDS:
            raise engine.InputError(
                f"This server no longer holds this training run, and training it again would "
                f"take about {cost:.0f} s, more than the {LINK_SECONDS:.0f} s a link may "
                "cost. Open the Train page with the same settings and train it there: it is "
                "then kept for this link."
            )
    for c, cfg in missing.items():
        with _KEY_LOCKS[hash(cfg) % len(_KEY_LOCKS)]:
            hit = store().get(cfg)  # another session may just have trained it
            if hit is None:
                with queue().slot(on_wait):
                    hit = engine.train(cfg)
                store().put(cfg, hit)
        out[c] = hit
    return {c: out[c] if spec.steps_of[c] else _untrained(cfg) for c, cfg in cfgs.items()}


def sample_seed(spec: TrainedSpec) -> list[int]:
    """The seed of the fresh sequence a trained lesson is shown on."""
    return [spec.seed, SAMPLE_STREAM]


def _score(r: TrainResult) -> str:
    ev = r.eval_after
    if not math.isfinite(ev.loss):
        return "held-out loss not finite"
    if ev.accuracy is not None:
        return f"held-out accuracy {ev.accuracy:.0%} (chance {ev.chance_accuracy:.0%})"
    return f"held-out MSE {ev.loss:.3g} ({ev.relative_loss:.0%} of chance)"


def _state_of(r: TrainResult) -> str:
    if r.steps == 0:
        return "not trained (its initial weights)"
    if r.diverged:
        return f"diverged at step {r.steps} (its last finite weights)"
    stop = ", stopped by the time budget" if r.status == "timeout" else ""
    return f"{r.steps:,} steps{stop}"


def banner_text(spec: TrainedSpec, results: dict[str, TrainResult]) -> str:
    """The trained-cells banner: what was trained, how far, how well, and on what input."""
    task = tasks.TASKS[spec.task]
    cells = "; ".join(
        f"**{CELL_NAMES[c]}**: {_state_of(r)}, {_score(r)}" for c, r in results.items()
    )
    marks = (
        "the two marked values the cells must add"
        if spec.task == "adding"
        else f"the symbol to recall {spec.lag} steps later"
    )
    return (
        f"**Trained cells**: {task.name}, lag {spec.lag}, H = {spec.H}, seed {spec.seed}, Adam "
        f"lr {_num(spec.lr)}, LSTM forget bias {_num(spec.forget_bias)}, GRU update bias "
        f"{_num(spec.update_bias)}, RNN {spec.activation}. {cells}. The input is a fresh "
        f"sequence of the task (T = {task.length(spec.lag)}, drawn by seed, not a training "
        f"sequence); {tasks.MARK} marks {marks}. While trained cells are shown, the sidebar's "
        "input and cell settings are not used."
    )


def gates_text(traces: dict, labels: tuple[str, ...]) -> str:
    """What the trained gated cells do on the shown sequence, measured: the LSTM's input gate
    at the marked steps (labels starting with :data:`engine.tasks.MARK`) against the other
    steps and its forget gate, the GRU's update gate (``traces``: cell -> Trace)."""
    parts = []
    marked = [t for t, label in enumerate(labels) if label.startswith(tasks.MARK)]
    T = len(labels)
    rest = [t for t in range(T) if t not in marked]
    if "lstm" in traces:
        g = traces["lstm"].gates
        at_marks = float(np.mean(g["i"][marked]))
        others = f" and {np.mean(g['i'][rest]):.2f} at the other steps" if rest else ""
        parts.append(
            f"the LSTM's input gate i_t averages {at_marks:.2f} at the {tasks.MARK} steps"
            f"{others}, its forget gate f_t {np.mean(g['f']):.2f} over the sequence"
        )
    if "gru" in traces:
        z = traces["gru"].gates["z"]
        parts.append(
            f"the GRU's update gate z_t (the share of h_(t−1) kept) averages {np.mean(z):.2f}"
        )
    return f"On this sequence {'; '.join(parts)} (means over all units)." if parts else ""
