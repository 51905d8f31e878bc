"""Gates over time, Vanishing gradients and GRU reset placement in deeplearning.ai's notation
(issue 10) read well on a 1280×720 projector (presentation mode, the key figure in the first
screen) and at 1920×1080: nothing clipped, no two labels of a figure on top of each other. The
notation's longer symbols (a⟨t⟩, Γu, (1 − Γu), W_aa) are in the titles, legends and row labels
measured. Screenshots go to ``test-results/screens/`` as ``test_layout``'s do."""

from __future__ import annotations

import pytest
from _checks import (
    PAGES,
    exception_problems,
    full_screenshot,
    key_figure_problems,
    open_drawn,
    overflow_problems,
    overlap_problems,
)
from playwright.sync_api import Page

PLOT = ".js-plotly-plot"
CASES = [(path, cell, w, h, present)
         for path in ("/Gates_over_time", "/Vanishing_gradients", "/GRU_reset")
         for cell in (("gru", "lstm") if path == "/Gates_over_time" else ("lstm",))
         for w, h, present in ((1280, 720, True), (1920, 1080, False))]  # fmt: skip


@pytest.mark.parametrize(("path", "cell", "w", "h", "present"), CASES)
def test_dlai_notation_layout(page: Page, app_url, screens_dir, path, cell, w, h, present):
    page.set_viewport_size({"width": w, "height": h})
    query = f"notation=dlai&cell={cell}" + ("&present=1" if present else "")
    open_drawn(page, f"{app_url}{path}?{query}")
    text = page.inner_text("body")
    assert "Γf" in text or "Γu" in text or "a⟨" in text  # the page speaks the notation
    problems = exception_problems(page) + overflow_problems(page) + overlap_problems(page)
    if present:
        problems += key_figure_problems(page, PLOT)
    name = f"{PAGES[path]}_dlai_{cell}_{w}x{h}" + ("_present" if present else "")
    full_screenshot(page, screens_dir / f"{name}.png")
    unique = list(dict.fromkeys(problems))
    assert not unique, f"{len(unique)} layout problem(s) at {page.url}:\n  " + "\n  ".join(unique)
