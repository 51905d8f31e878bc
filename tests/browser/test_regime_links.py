"""A regime lesson's link from Home, in a real browser: it opens its page in a new tab (a new
session) with the regime's settings, and the page draws without an error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from _checks import exception_problems, open_drawn, report, wait_drawn
from playwright.sync_api import Page, expect

from engine.lessons import REGIMES
from ui import sidebar, state

NAME = "gru_keeping"


def test_a_regime_link_on_home_opens_its_page_with_its_settings(page: Page, app_url: str):
    open_drawn(page, f"{app_url}/")
    link = page.locator(f'[data-testid=stMain] a[href$="{sidebar.regime_link(NAME)}"]')
    expect(link).to_have_count(1)
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.set_default_timeout(60_000)
    tab.wait_for_selector("[data-testid=stMain] h1", state="attached", timeout=90_000)
    wait_drawn(tab)
    expect(tab.locator("[data-testid=stMain] h1")).to_contain_text(REGIMES[NAME].page)
    assert not exception_problems(tab), report("exceptions", exception_problems(tab))
    assert tab.locator("[data-testid=stAlertContentError]").count() == 0
    # the new session loaded the regime: its link stays in the address bar...
    query = {k: v[0] for k, v in parse_qs(urlsplit(tab.url).query).items()}
    assert query == state.to_query(sidebar.regime_lesson(NAME))
    # ...and the page's sentence is computed from it: the GRU's update gate holds the state
    expect(tab.locator("[data-testid=stMain]")).to_contain_text("the gate holds the state")
    assert tab.locator("[data-testid=stMain] .stPlotlyChart .main-svg").count() >= 3
    tab.close()
