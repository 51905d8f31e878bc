"""The "Check these numbers" panels in a real browser: on Step through reached with the
keyboard, opened with Enter, showing engine.explain's numbers for the step and unit of the link
and following the step the timeline stopped on; on Vanishing gradients the Jacobian norm's
check; both without a serious axe-core violation while open.

Every wait is on a condition (the expander's state, a text becoming visible, the app idle),
never on a sleep.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect
from test_a11y import AXE_OPTIONS, BLOCKING
from test_app import LOAD_MS, MAIN, TIMELINE, ServerLog, assert_healthy, open_app, wait_idle
from test_step_timeline import url_step

from engine import explain
from ui import check, compute, state

QUERY = {"cell": "lstm", "mode": "backward", "step": "7", "unit": "2"}
SUMMARY = f"{MAIN} [data-testid=stExpander] summary"
IS_FOCUSED = """el => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a === el;
}"""
MAX_TABS = 300  # every control of the sidebar and the page, with room to spare


def serious_axe_violations(page: Page) -> list[str]:
    """axe-core's serious or critical WCAG 2.1 A/AA violations on the page as it is now."""
    found = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in BLOCKING]


@pytest.fixture
def server_log(app_url) -> ServerLog:
    return ServerLog()


def panel(page: Page) -> Locator:
    """The <details> element of the page's "Check these numbers" expander."""
    summary = page.locator(SUMMARY, has_text="Check these numbers")
    expect(summary).to_have_count(1)
    return summary.locator("xpath=..")


def open_panel(page: Page, url: str) -> Locator:
    """Open a page and its panel with a click; the panel's <details> element."""
    open_app(page, url)
    details = panel(page)
    details.locator("summary").click()
    return details


def test_check_panel_by_keyboard_shows_the_numbers(page: Page, app_url, server_log):
    query = "&".join(f"{k}={v}" for k, v in QUERY.items())
    open_app(page, f"{app_url}/Step_through?{query}")
    details = panel(page)
    expect(details).to_have_js_property("open", False)  # closed by default
    # the keyboard reaches it: Tab from the top of the page until it has the focus
    handle = details.locator("summary").element_handle()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(IS_FOCUSED, handle):
            break
    else:
        pytest.fail(f"Tab did not reach the panel in {MAX_TABS} presses")
    page.keyboard.press("Enter")  # opens it; the panel computes and draws its numbers
    expect(details).to_have_js_property("open", True)
    agree = page.get_by_text("BPTT and the finite difference agree")
    expect(agree).to_have_count(2, timeout=LOAD_MS)  # ∂L/∂h_7[2] and ∂L/∂c_7[2]
    expect(agree.first).to_be_visible()
    text = details.inner_text()
    # the numbers are engine.explain's for the link's step and unit
    run = compute.run(state.from_query(QUERY)[0])
    for s in ("h", "c"):
        r = explain.check_gradient(run.trace, run.grads, 7, 2, state=s)
        assert f"∂L/∂{s}_7[2]" in text
        assert check._num(r["analytic"]) in text and check._num(r["numeric"]) in text, s
    for name, v in explain.check_forward(run.trace, 7, 2).items():
        assert check._num(v["engine"]) in text, name
    expect(details.get_by_role("table")).to_be_visible()
    assert not serious_axe_violations(page)  # the open panel, table included
    assert_healthy(page, server_log)


def test_check_panel_follows_the_step_the_timeline_stopped_on(page: Page, app_url, server_log):
    open_panel(page, f"{app_url}/Step_through")
    checked = page.get_by_text("Checked: t = ")
    expect(checked).to_contain_text("t = 0 ", timeout=LOAD_MS)
    page.locator(f"{TIMELINE} .gs-next").click()  # the timeline moves in the browser
    page.wait_for_url(lambda url: url_step(url) == 1, timeout=LOAD_MS)  # and reports step 1
    wait_idle(page)
    page.get_by_role("button", name="Check the step shown now").click()
    expect(checked).to_contain_text("t = 1 ", timeout=LOAD_MS)
    expect(page.get_by_text("BPTT and the finite difference agree").first).to_be_visible()
    assert_healthy(page, server_log)


def test_jacobian_check_panel_on_vanishing_gradients(page: Page, app_url, server_log):
    details = open_panel(page, f"{app_url}/Vanishing_gradients")
    agree = page.get_by_text("The engine and the finite difference agree")
    expect(agree).to_be_visible(timeout=LOAD_MS)
    text = details.inner_text()
    run = compute.run(state.DEFAULT, "rnn")
    r = explain.check_jacobian_norm(run.trace, run.trace.T - 11, "x")  # lag 10, the default
    assert check._num(r["analytic"]) in text and check._num(r["numeric"]) in text
    assert not serious_axe_violations(page)
    assert_healthy(page, server_log)
