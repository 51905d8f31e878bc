"""Accessibility in the real browser (issue #8 §7): axe-core finds no serious or critical
WCAG 2.1 A/AA violation on any page, in normal and presentation mode, and the keyboard alone
reaches every control of the sidebar and the main area, each with a visible focus and an
accessible name.

axe-core comes with ``axe-playwright-python`` (its bundled ``axe.min.js``, injected into the
page: nothing is fetched at run time); it looks into open shadow roots, so the Step through
component is checked too.
"""

from __future__ import annotations

import pytest
from _checks import PAGES, STEP, exception_problems, keyboard_walk, open_drawn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

VIEWPORT = {"width": 1366, "height": 768}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
DIAGRAM = "svg.gs-diagram"


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


def _open(page: Page, app_url: str, path: str, query: str = "") -> None:
    page.set_viewport_size(VIEWPORT)
    open_drawn(page, app_url + path + query, wait_for=DIAGRAM if path == STEP else None)
    errors = exception_problems(page)
    assert not errors, errors  # the checks would measure an error page


def _describe(violation: dict, first: int = 3) -> str:
    nodes = violation["nodes"]
    targets = ", ".join(" >> ".join(n["target"]) for n in nodes[:first])
    more = f" (+{len(nodes) - first} more)" if len(nodes) > first else ""
    return (f"{violation['id']} [{violation['impact']}] × {len(nodes)}: {violation['help']}"
            f" — {targets}{more}")  # fmt: skip


@pytest.mark.parametrize("present", [False, True], ids=["normal", "present"])
@pytest.mark.parametrize("path", list(PAGES), ids=list(PAGES.values()))
def test_no_serious_axe_violations(page: Page, app_url, axe, path, present):
    _open(page, app_url, path, "?present=1" if present else "")
    results = axe.run(page, options=AXE_OPTIONS)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, (
        f"{len(blocking)} serious/critical axe-core rule(s) fail at {page.url}:\n  "
        + "\n  ".join(_describe(v) for v in blocking)
    )


@pytest.mark.parametrize("path", list(PAGES), ids=list(PAGES.values()))
def test_the_keyboard_reaches_every_control_with_a_visible_focus_and_a_name(
    page: Page, app_url, path
):
    _open(page, app_url, path)
    expected, stops, problems = keyboard_walk(page)
    assert any(s.startswith("sidebar:") for s in stops), stops
    assert any(s.startswith("main:") for s in stops), stops
    assert not problems, (
        f"{len(problems)} keyboard problem(s) at {page.url} ({len(expected)} controls, "
        f"{len(stops)} Tab stops):\n  " + "\n  ".join(problems)
    )
