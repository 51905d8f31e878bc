"""ui/charts.py's shared figures: built once into the dict st.plotly_chart sends, unchanged."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io
import plotly.tools

from ui import charts
from ui.state import Lesson


def _figure() -> go.Figure:
    steps = np.arange(300)
    return go.Figure(
        [go.Scatter(x=steps, y=np.sin(steps / 7.0), name="h")],
        layout={"title": {"text": "a state over time"}, "xaxis": {"title": "step t"}},
        frames=[go.Frame(data=[go.Scatter(x=[t], y=[np.sin(t / 7.0)])], name=str(t))
                for t in range(0, 300, 30)],
    )  # fmt: skip


def test_a_shared_figure_sends_exactly_what_the_figure_would_send():
    expected = plotly.io.to_json(_figure().to_dict(), validate=False)
    shared = charts.share(_figure())
    assert isinstance(shared, go.Figure)
    # what st.plotly_chart does with a figure: to_dict() (validated), then JSON
    sent = plotly.tools.return_figure_from_figure_or_data(shared, validate_figure=True)
    assert sent is shared.to_dict()  # built once, never copied again
    assert plotly.io.to_json(sent, validate=False) == expected
    assert "bdata" in expected  # the arrays travel base64-encoded, as plotly sends them


def test_a_lesson_hashes_by_its_exact_repr():
    hash_lesson = charts.FIGURES["hash_funcs"][Lesson]
    a, b = Lesson(), Lesson(scale=1.0 + 1e-15)
    assert hash_lesson(a) == hash_lesson(Lesson()) and hash_lesson(a) != hash_lesson(b)
