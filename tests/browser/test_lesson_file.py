"""The exported lesson file in a real browser, opened from file:// with the network cut off.

Every request that is not a file:// URL is aborted and recorded: the file must draw every
Plotly figure and mount the Step through timeline with zero such requests, and ▶ Play must
move the step, the equations moving with it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from lesson import Settings, build_html

MOUNT_MS = 30_000  # parsing 5 MB of inline plotly.js on a busy 2-core machine


@pytest.fixture(scope="module")
def lesson_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lesson") / "wallet.html"
    path.write_text(build_html(Settings()), encoding="utf-8")
    return path


def _open(page: Page, path) -> tuple[list[str], list[str]]:
    requests, errors = [], []

    def block(route):
        requests.append(route.request.url)
        route.abort()

    page.route(lambda url: not url.startswith("file://"), block)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    return requests, errors


@pytest.mark.parametrize("file", ["lesson_file", "dlai_file"])
def test_every_figure_drawn_and_nothing_requested(page: Page, request, file):
    requests, errors = _open(page, request.getfixturevalue(file))
    plots = page.locator("[data-figure]")
    n = plots.count()
    assert n >= 8, f"expected the gate and gradient figures, found {n}"
    for i in range(n):
        # drawn: plotly's promise resolved and its SVG is in the div
        expect(plots.nth(i)).to_have_attribute("data-drawn", "true", timeout=MOUNT_MS)
        assert plots.nth(i).locator(".main-svg").count() >= 1, plots.nth(i).get_attribute("id")
    expect(page.locator("[data-timeline='lstm-forward'] .gs-root")).to_be_visible()
    assert errors == [], errors
    assert requests == [], f"the file asked the network for {requests}"


def _plays(root) -> None:
    """▶ Play moves the step and the equations with it, and pauses again."""
    result = root.locator(".gs-eq-result").first
    before = result.text_content()
    root.locator(".gs-play").click()
    expect(root).to_have_attribute("data-t", "2", timeout=10_000)  # two steps played
    expect(result).not_to_have_text(before)
    root.locator(".gs-play").click()  # pause
    expect(root.locator(".gs-play")).to_have_text("▶ Play")


def test_play_moves_the_step_and_the_equations(page: Page, lesson_file):
    requests, errors = _open(page, lesson_file)
    root = page.locator("[data-timeline='lstm-forward'] .gs-root")
    expect(root).to_have_attribute("data-t", "0", timeout=MOUNT_MS)
    _plays(root)
    assert errors == [] and requests == [], (errors, requests)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_each_cell_forward_and_backward(page: Page, lesson_file, cell):
    requests, errors = _open(page, lesson_file)
    page.locator(f".ls-pick[data-cell='{cell}']").click()
    forward = page.locator(f"[data-timeline='{cell}-forward'] .gs-root")
    expect(forward).to_have_attribute("data-t", "0", timeout=MOUNT_MS)
    page.locator(".ls-pick[data-mode='backward']").click()
    backward = page.locator(f"[data-timeline='{cell}-backward'] .gs-root")
    expect(backward).to_have_attribute("data-t", "14", timeout=MOUNT_MS)  # Wallet: T = 15
    expect(forward).to_be_hidden()
    backward.locator(".gs-next").click()  # the next step of a backward walk is t − 1
    expect(backward).to_have_attribute("data-t", "13")
    assert errors == [] and requests == [], (errors, requests)


@pytest.fixture(scope="module")
def dlai_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lesson_dlai") / "wallet_dlai.html"
    path.write_text(build_html(Settings(notation="dlai")), encoding="utf-8")
    return path


def test_a_dlai_file_plays_in_its_symbols(page: Page, dlai_file):
    requests, errors = _open(page, dlai_file)
    page.locator(".ls-pick[data-cell='gru']").click()
    root = page.locator("[data-timeline='gru-forward'] .gs-root")
    expect(root).to_have_attribute("data-t", "0", timeout=MOUNT_MS)
    # the equations' MathML in the course's symbols: Γr, Γu and c⟨t⟩
    expect(root.locator("math", has_text="Γ").first).to_be_attached()
    expect(root.locator("math", has_text="⟨").first).to_be_attached()
    _plays(root)
    assert errors == [] and requests == [], (errors, requests)
