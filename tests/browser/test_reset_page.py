"""The GRU reset placement page in a real browser: both placements drawn (equations typeset,
four figures) with nothing clipped or overlapping at a laptop's size and on a projector; an
uploaded weights file through the real uploader draws its model, a bad one an error."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from _checks import (
    exception_problems,
    key_figure_problems,
    open_drawn,
    overflow_problems,
    overlap_problems,
    report,
    wait_drawn,
)
from playwright.sync_api import Page, expect

from engine import init_params, inputs
from engine.convert import to_keras
from ui import state

PATH = "/GRU_reset"
MAIN = "[data-testid=stMain]"
PLOT = f"{MAIN} .js-plotly-plot"
CHARTS = 4  # the lag chart, the gate means, the two heatmaps


def drawn_problems(page: Page) -> list[str]:
    return exception_problems(page) + overflow_problems(page) + overlap_problems(page)


@pytest.mark.parametrize(("w", "h", "present"), [(1366, 768, False), (1280, 720, True)])
def test_both_placements_draw_without_clipping(page: Page, app_url, w, h, present):
    page.set_viewport_size({"width": w, "height": h})
    open_drawn(page, app_url + PATH + ("?present=1" if present else ""))
    expect(page.locator(PLOT)).to_have_count(CHARTS)
    expect(page.locator(f"{MAIN} .katex-display")).to_have_count(8)  # r, z, n, h twice
    expect(page.locator(MAIN)).to_contain_text("Same weights, two models")
    assert page.locator("[data-testid=stAlertContentError]").count() == 0
    problems = drawn_problems(page)
    if present:  # the lag chart in the first screen of the projector
        problems += key_figure_problems(page, PLOT)
    assert not problems, report(f"{page.url} at {w}×{h}", problems)


def npz_bytes(weights: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **weights)
    return buf.getvalue()


def upload(page: Page, name: str, data: bytes, mime: str) -> None:
    """Give the page's weights uploader a file, as a learner's file dialog would."""
    field = page.locator(f"{MAIN} [data-testid=stFileUploader] input[type=file]")
    field.set_input_files({"name": name, "mimeType": mime, "buffer": data})


def test_an_uploaded_keras_gru_runs_as_the_reset_before_model(page: Page, app_url):
    page.set_viewport_size({"width": 1366, "height": 768})
    open_drawn(page, app_url + PATH)
    d = state.DEFAULT
    seq = inputs.preset(d.preset, unit=d.tokens, encoding=d.encoding, dim=d.dim, seed=d.seed)
    weights = to_keras("gru", init_params("gru", seq.D, 4, seed=5), gru_reset="before")
    upload(page, "keras_gru.npz", npz_bytes(weights), "application/octet-stream")
    expect(page.locator(MAIN)).to_contain_text("It needs the reset before the product")
    wait_drawn(page)
    expect(page.locator(PLOT)).to_have_count(CHARTS + 2)
    problems = drawn_problems(page)
    assert not problems, report("after the upload", problems)


def test_a_bad_file_is_an_error_and_the_page_stays(page: Page, app_url):
    page.set_viewport_size({"width": 1366, "height": 768})
    open_drawn(page, app_url + PATH)
    upload(page, "bad.json", json.dumps({"fc.weight": [[1.0]]}).encode(), "application/json")
    error = page.locator("[data-testid=stAlertContentError]")
    expect(error).to_contain_text("unknown layout")
    wait_drawn(page)
    expect(page.locator(PLOT)).to_have_count(CHARTS)
    assert not exception_problems(page), report("exceptions", exception_problems(page))
