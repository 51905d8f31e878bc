"""Every page reads well at the screen sizes a classroom has (issue #8, "Tests"): nothing
clipped, no two labels of one figure on top of each other, and in presentation mode the
page's key figure in the first screen of a 1280×720 projector.

One tab per case on the session's one server (``app_url``); each case is measured once after
the page has finished drawing (``_checks.wait_drawn``) and saves a full-page screenshot to
``test-results/screens/`` (``screens_dir``: git-ignored test artefacts). The checks are
JavaScript in ``_checks.py``; a failure lists every problem of the case with the element and
the pixels.
"""

from __future__ import annotations

import pytest
from _checks import (
    PAGES,
    STEP,
    exception_problems,
    full_screenshot,
    key_figure_problems,
    open_drawn,
    overflow_problems,
    overlap_problems,
)
from playwright.sync_api import Page

PROJECTOR = (1280, 720, True)  # presentation mode (?present=1)
VIEWPORTS = [PROJECTOR, (1366, 768, False), (1600, 1000, False), (1920, 1080, False)]
CELLS = ("rnn", "gru", "lstm")
MODES = ("forward", "backward")
DIAGRAM, CURRENT_EQ, PLOT = "svg.gs-diagram", ".gs-eq.gs-current", ".js-plotly-plot"
DIAGRAM_MIN_WIDTH = 900  # px, at 1280×720 presenting and at 1366×768 (issue #8 §2)


def _cases():
    for path in PAGES:
        for w, h, present in VIEWPORTS:
            yield path, w, h, present, None, None
    for cell in CELLS:  # Step through: every cell in both directions (the default case is above)
        for mode in MODES:
            if (cell, mode) == ("lstm", "forward"):
                continue
            for w, h, present in (PROJECTOR, (1366, 768, False)):
                yield STEP, w, h, present, cell, mode


def _name(path, w, h, present, cell, mode) -> str:
    name = f"{PAGES[path]}_{w}x{h}" + ("_present" if present else "")
    return name + (f"_{cell}_{mode}" if cell else "")


CASES = [pytest.param(*case, id=_name(*case)) for case in _cases()]


def _url(app_url, path, present, cell, mode) -> str:
    query = [("present", "1")] if present else []
    if cell:
        query.append(("cell", cell))
    if mode and mode != "forward":
        query.append(("mode", mode))
    return app_url + path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")


@pytest.mark.parametrize(("path", "w", "h", "present", "cell", "mode"), CASES)
def test_layout(page: Page, app_url, screens_dir, path, w, h, present, cell, mode):
    page.set_viewport_size({"width": w, "height": h})
    step = path == STEP
    open_drawn(page, _url(app_url, path, present, cell, mode), wait_for=DIAGRAM if step else None)

    problems = exception_problems(page) + overflow_problems(page) + overlap_problems(page)
    if step:  # the contract of the Step through component: its diagram is there, and large
        wide = present or (w, h) == (1366, 768)
        problems += key_figure_problems(
            page, DIAGRAM, min_width=DIAGRAM_MIN_WIDTH if wide else 0, min_visible=0
        )
    if present:  # the key figure in the first screen of the projector
        for selector in (DIAGRAM, CURRENT_EQ) if step else (PLOT,):
            problems += key_figure_problems(page, selector)
    full_screenshot(page, screens_dir / f"{_name(path, w, h, present, cell, mode)}.png")

    unique = list(dict.fromkeys(problems))  # the diagram's absence is reported once
    assert not unique, f"{len(unique)} layout problem(s) at {page.url}:\n  " + "\n  ".join(unique)
