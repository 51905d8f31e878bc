"""bench/_common.py's helpers for bench/train_load.py: a tab that keeps its widget values over
reruns as the browser does, records what a long run shows, and counts overlapping runs. No
server and no timing: the protos a server would send are built here."""

from __future__ import annotations

from streamlit.proto.Delta_pb2 import Delta
from streamlit.proto.WidgetStates_pb2 import WidgetState
from test_serve import c  # bench/_common.py, loaded by its path: bench/ stays off sys.path

LAG = "$$ID-abc-train_lag"
START = "$$ID-def-train_start"


def slider(value: float | None) -> Delta:
    """The lag slider as the server draws it: with ``set_value`` and a value, or without
    (only its default, the minimum)."""
    d = Delta()
    s = d.new_element.slider
    s.id, s.min, s.max = LAG, 5, 200
    s.default.append(5)
    if value is not None:
        s.set_value = True
        s.value.append(value)
    return d


def tab_that_sent(states: list[WidgetState]):
    s = c.WatchedSession(1, "Train")
    s._sent = {ws.id: ws for ws in states}
    return s


def lag_state(value: float) -> WidgetState:
    ws = WidgetState(id=LAG)
    ws.double_array_value.data.append(value)
    return ws


def test_a_widget_drawn_again_keeps_the_value_the_tab_sent():
    s, seen, res = tab_that_sent([lag_state(30)]), {}, c.RunResult()
    s._on_delta(slider(None), seen, res)
    assert list(seen[LAG].double_array_value.data) == [30]  # not the default 5


def test_a_value_the_server_sets_wins_and_a_widget_never_sent_takes_its_default():
    s, seen, res = tab_that_sent([lag_state(30)]), {}, c.RunResult()
    s._on_delta(slider(40), seen, res)
    assert list(seen[LAG].double_array_value.data) == [40]
    fresh, seen = tab_that_sent([]), {}
    fresh._on_delta(slider(None), seen, res)
    assert list(seen[LAG].double_array_value.data) == [5]


def test_a_pressed_button_is_not_pressed_again_by_the_next_rerun():
    s, seen, res = tab_that_sent([WidgetState(id=START, trigger_value=True)]), {}, c.RunResult()
    d = Delta()
    d.new_element.button.id = START
    s._on_delta(d, seen, res)
    assert START not in seen


def test_progress_bars_and_alerts_are_kept_with_their_run():
    s, res = c.WatchedSession(1, "Train"), c.RunResult()
    d = Delta()
    d.new_element.progress.value, d.new_element.progress.text = 50, "RNN: Step 100 / 200"
    s._on_delta(d, {}, res)
    res.runs = 1
    a = Delta()
    a.new_element.alert.body = "you are number 3 in line"
    s._on_delta(a, {}, res)
    got = [(x.run, x.kind, x.value, x.text) for x in s.shown]
    assert got == [(0, "progress", 50, "RNN: Step 100 / 200"),
                   (1, "alert", 0, "you are number 3 in line")]  # fmt: skip


def test_max_overlap_counts_the_runs_going_on_at_once():
    assert c.max_overlap([]) == 0
    assert c.max_overlap([(0, 1), (2, 3), (4, 5)]) == 1
    assert c.max_overlap([(0, 10), (1, 2), (1.5, 3), (2.5, 4)]) == 3
    assert c.max_overlap([(0, 1), (1, 2)]) == 2  # touching at an instant counts
