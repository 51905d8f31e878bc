"""notebooks/tour.ipynb runs from top to bottom (nbclient, a real kernel), outside the repository.

The notebook asserts its own checks (the hand-written LSTM step equals the engine's, the
finite-difference check passes); this test executes it and checks what it shows.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import engine
from figures import gradients
from lesson import DEFAULT
from lesson.compute import compare, run, sequence

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "notebooks" / "tour.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    nb = nbformat.read(TOUR, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit the notebook without outputs"
    )
    where = tmp_path_factory.mktemp("tour")  # not the repository: the installed engine is used
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(where)}}).execute()  # fmt: skip
    return nb


def _outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == kind]  # fmt: skip


def test_the_tour_runs_and_draws_every_figure(executed):
    figures = [o for o in _outputs(executed, "display_data") + _outputs(executed, "execute_result")
               if PLOTLY in o.get("data", {})]  # fmt: skip
    titles = [f.data[PLOTLY]["layout"].get("title", {}).get("text", "") for f in figures]
    # Home, 4 Gates over time, 4 Vanishing gradients, 6 Train (loss, gradient, lag and gates
    # before and after)
    assert len(figures) == 15, titles
    assert all(titles), titles


def test_the_tour_states_the_checks_it_made(executed):
    text = "".join(o.text for o in _outputs(executed, "stream") if o.name == "stdout")
    assert "max |h by hand - engine| at t = 0:" in text  # the notebook asserts it is ≤ 1e-15
    assert "largest relative error, analytic vs finite differences:" in text
    assert "bound holds at every lag: True" in text
    assert "held-out MSE" in text and "chance 0.1667" in text


def test_the_tour_reproduces_the_apps_numbers(executed):
    # the same takeaway as the app's Vanishing gradients page (and the lesson file) computes
    seq, _ = sequence(DEFAULT)
    cmp = compare(DEFAULT, {c: run(DEFAULT, seq, c) for c in engine.CELLS})
    text = "".join(o.text for o in _outputs(executed, "stream") if o.name == "stdout")
    assert gradients.takeaway(cmp.curves) in text
