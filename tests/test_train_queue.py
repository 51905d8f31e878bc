"""The training queue (issue 12 §3): at most N runs at once across every session, first come
first served, the position reported in order, no deadlock when a run stops or fails; and the
replay of a finished run at the speed it was trained. No timing is asserted: the waits below
are only deadlock guards (a test that hangs fails on them)."""

from __future__ import annotations

import queue as queues
import threading

import pytest

import engine
from engine.train import TrainConfig
from ui import training
from ui.training import TrainQueue

GUARD = 30.0  # seconds: only reached if the queue deadlocks


def start(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def join_all(threads):
    for t in threads:
        t.join(GUARD)
        assert not t.is_alive(), "a thread is stuck in the queue"


def test_slots_must_be_a_positive_whole_number():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            TrainQueue(bad)


def test_the_bound_holds_with_many_threads():
    q, n = TrainQueue(2), 12
    lock, inside, peak = threading.Lock(), [0], [0]
    entered, release = queues.Queue(), threading.Semaphore(0)

    def run(i):
        with q.slot(poll=0.05):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            entered.put(i)
            assert release.acquire(timeout=GUARD)  # held until the test lets it go
            with lock:
                inside[0] -= 1

    threads = [start(run, i) for i in range(n)]
    entered.get(timeout=GUARD), entered.get(timeout=GUARD)  # both slots taken...
    assert q.active == 2
    for _ in range(n - 2):  # ...and as each run ends, exactly one more enters
        release.release()
        entered.get(timeout=GUARD)
        assert q.active <= 2
    for _ in range(2):
        release.release()
    join_all(threads)
    assert peak[0] == 2  # the bound held, and both slots were used
    assert (q.active, q.waiting) == (0, 0)


def test_positions_are_reported_in_order_and_served_first_come_first_served():
    q = TrainQueue(1)
    holder = q.slot()
    holder.__enter__()  # the slot is busy: everyone who comes now waits
    reports = {name: queues.Queue() for name in "abc"}
    served = []

    def run(name):
        with q.slot(lambda pos: reports[name].put(pos), poll=0.05):
            served.append(name)

    threads = []
    for expected, name in enumerate("abc", start=1):
        threads.append(start(run, name))
        assert reports[name].get(timeout=GUARD) == expected  # its place in the line
    assert q.waiting == 3
    holder.__exit__(None, None, None)
    join_all(threads)
    assert served == ["a", "b", "c"]
    for name in "abc":  # a position only ever goes down while waiting
        seen = [*_drain(reports[name])]
        assert seen == sorted(seen, reverse=True), (name, seen)


def _drain(q: queues.Queue):
    while True:
        try:
            yield q.get_nowait()
        except queues.Empty:
            return


def test_a_failed_run_frees_its_slot():
    q = TrainQueue(1)
    with pytest.raises(RuntimeError, match="diverged"):
        with q.slot():
            raise RuntimeError("diverged")
    assert (q.active, q.waiting) == (0, 0)
    with q.slot():  # the next run gets the slot at once
        assert q.active == 1


class Stopped(Exception):
    """Stands for Streamlit stopping a script when its learner clicks ⏹ Stop."""


def test_a_learner_who_stops_while_waiting_leaves_the_line():
    q = TrainQueue(1)
    holder = q.slot()
    holder.__enter__()
    first_report, outcome = queues.Queue(), queues.Queue()

    def impatient(pos):
        first_report.put(pos)
        raise Stopped

    def leaver():
        try:
            with q.slot(impatient, poll=0.05):
                outcome.put("trained")  # pragma: no cover (it left the line)
        except Stopped:
            outcome.put("left")

    def patient():
        with q.slot(poll=0.05):
            outcome.put("patient trained")

    t1 = start(leaver)
    assert first_report.get(timeout=GUARD) == 1
    assert outcome.get(timeout=GUARD) == "left"
    assert q.waiting == 0  # the ticket is gone: it cannot block whoever comes next
    t2 = start(patient)
    holder.__exit__(None, None, None)
    join_all([t1, t2])
    assert outcome.get(timeout=GUARD) == "patient trained"
    assert (q.active, q.waiting) == (0, 0)


def test_the_server_queue_keeps_a_core_free():
    assert training.queue().slots == training.SLOTS >= 1
    assert training.queue() is training.queue()  # one per server process


def test_the_waiting_text_counts_the_runs_ahead():
    text = training.waiting_text(3)
    assert "number 3 in line (2 runs ahead of you" in text
    assert "1 run ahead of you" in training.waiting_text(2)
    assert f"trains {training.SLOTS} run" in text


# --------------------------------------------------------------------------------------------
# Replay at the speed it was trained
# --------------------------------------------------------------------------------------------

TINY = {"lag": 5, "hidden_size": 4, "batch_size": 8, "eval_size": 16, "max_seconds": None}


def finished(steps):
    """A finished run per cell (tiny), trained the way the Train page does."""
    cfgs = {c: TrainConfig(cell=c, max_steps=n, **TINY) for c, n in steps.items()}
    return training.train_live(cfgs, draw=lambda trainers: None, reuse=False)[0]


class FakeClock:
    """A clock that only moves when the replay sleeps: the schedule is checked exactly."""

    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self):
        return self.now

    def sleep(self, s):
        self.sleeps.append(s)
        self.now += s


def test_replay_redraws_the_recorded_curves_at_their_training_times():
    results = finished({"rnn": 25, "lstm": 17})
    clock, frames = FakeClock(), []
    training.replay(results, frames.append, clock=clock, sleep=clock.sleep)
    shown = [{c: len(run.history) for c, run in f.items()} for f in frames]
    assert shown == [
        {"rnn": 10, "lstm": 10}, {"rnn": 20, "lstm": 17}, {"rnn": 25, "lstm": 17},
    ]  # fmt: skip
    for f, (k, at) in zip(frames, training.replay_marks(results), strict=True):
        for c, run in f.items():
            assert run.history == results[c].history[:k]  # the recorded points, unchanged
        expected = sum(r.history[min(k, r.steps) - 1].seconds for r in results.values())
        assert at == expected
    last = frames[-1]
    assert {c: run.status for c, run in last.items()} == {"rnn": "done", "lstm": "done"}
    assert frames[0]["rnn"].status == "running"
    # the replay took as long as the live run had trained (the cells took turns)
    total = sum(r.seconds for r in results.values())
    assert clock.now == pytest.approx(total)


def test_replay_of_nothing_draws_nothing():
    frames = []
    training.replay({}, frames.append)
    assert frames == []


# --------------------------------------------------------------------------------------------
# The same settings are not trained twice when a learner only pressed ▶ Train
# --------------------------------------------------------------------------------------------


def tiny_configs(seed):
    return {c: TrainConfig(cell=c, max_steps=12, seed=seed, **TINY) for c in ("rnn", "gru")}


def test_a_kept_run_is_replayed_for_train_and_trained_again_for_train_again():
    cfgs = tiny_configs(seed=21)
    first, here = training.train_live(cfgs, draw=lambda t: None)
    assert here
    frames = []
    again, here = training.train_live(cfgs, draw=frames.append)  # ▶ Train: kept, replayed
    assert not here and all(again[c] is first[c] for c in cfgs)
    assert [len(f["rnn"].history) for f in frames] == [10, 12]  # the recorded curves redrawn
    fresh, here = training.train_live(cfgs, draw=lambda t: None, reuse=False)  # ▶ Train again
    assert here and all(fresh[c] is not first[c] for c in cfgs)
    for c in cfgs:  # deterministic all the same (only the recorded times differ)
        assert [r.loss for r in fresh[c].history] == [r.loss for r in first[c].history]


def test_a_waiting_learner_leaves_the_line_when_the_same_run_is_finished_meanwhile():
    cfgs = tiny_configs(seed=22)
    q = training.queue()
    holder = q.slot()
    holder.__enter__()  # the server's slots are busy (SLOTS = 1 on the 2-core machine)
    extra = [q.slot() for _ in range(q.slots - 1)]
    for h in extra:
        h.__enter__()
    reports, outcome = queues.Queue(), queues.Queue()
    thread = start(
        lambda: outcome.put(training.train_live(cfgs, draw=lambda t: None, on_wait=reports.put))
    )
    assert reports.get(timeout=GUARD) == 1  # waiting, first in line
    finished = {c: engine.train(cfg) for c, cfg in cfgs.items()}  # another learner's
    training.keep(cfgs, finished)
    results, here = outcome.get(timeout=GUARD)  # it gave up its place: no slot was needed
    assert not here and all(results[c] is finished[c] for c in cfgs)
    assert q.waiting == 0
    for h in [holder, *extra]:
        h.__exit__(None, None, None)
    join_all([thread])
    assert q.active == 0
