"""Open the trained cells in a real browser: train a tiny configuration on Train, click
"Open the trained cells", and Step through shows the trained cells' banner, the task's marked
steps on its timeline and the trained link in the address bar; then Gates over time keeps them.

Every wait is on a condition (a run finished on the websocket, an element visible, the app
idle), never on a sleep.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from test_app import LOAD_MS, MAIN, TIMELINE, ServerLog, assert_healthy, open_app, rerun

from engine import tasks

BANNER = f"{MAIN} [data-testid=stAlert]"


@pytest.fixture
def server_log(app_url) -> ServerLog:
    return ServerLog()


def test_train_then_open_the_trained_cells(page: Page, app_url, server_log):
    open_app(page, f"{app_url}/Train?H=4")
    steps = page.get_by_label("Training steps", exact=True).and_(page.locator("input"))
    rerun(page, lambda: (steps.fill("10"), steps.press("Enter")))
    rerun(page, lambda: page.get_by_role("button", name="▶ Train").click())
    opener = page.get_by_role("button", name="Open the trained cells")
    expect(opener).to_be_visible(timeout=LOAD_MS)
    rerun(page, opener.click)
    expect(page.locator(f"{MAIN} h1")).to_contain_text("Step through", timeout=LOAD_MS)
    banner = page.locator(BANNER, has_text="Trained cells")
    expect(banner).to_have_count(1, timeout=LOAD_MS)
    expect(banner).to_contain_text("Adding problem, lag 20, H = 4")
    expect(banner).to_contain_text("LSTM: 10 steps, held-out MSE")
    expect(page.get_by_role("button", name="Back to the untrained lesson")).to_be_visible()
    # the timeline shows the task's sequence, its two decisive steps marked
    expect(page.locator(TIMELINE).first).to_contain_text(tasks.MARK, timeout=LOAD_MS)
    trained = parse_qs(urlsplit(page.url).query).get("trained")
    assert trained == ["adding_lag20_H4_seed0_lr0.01_fb1_ub0_tanh_rnn10_gru10_lstm10"]
    assert_healthy(page, server_log)
    # the sidebar's navigation keeps the trained cells on the next page
    rerun(page, lambda: page.get_by_role("link", name="Gates over time").click())
    expect(page.locator(f"{MAIN} h1")).to_contain_text("Gates over time", timeout=LOAD_MS)
    expect(page.locator(BANNER, has_text="Trained cells")).to_have_count(1, timeout=LOAD_MS)
    assert_healthy(page, server_log)
