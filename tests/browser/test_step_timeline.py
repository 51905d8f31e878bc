"""Step through's timeline in a real browser: playing, the keys, the link, the chips, reduced
motion and user text.

The timeline is a custom component (v2) drawn in an open shadow root; it plays in the browser
and reports the step to Python ~400 ms after the learner stops, and then the link says
``step=N``. Every wait here is on a condition (``expect``, ``wait_for_function``,
``wait_for_url``), never on a sleep: the one timed window (after Pause) is measured in the page.

(Named ``test_step_timeline.py``: ``tests/test_timeline.py`` exists, and two test modules with
the same basename cannot be collected in one run of pytest's default import mode.)
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from _checks import (
    exception_problems,
    full_screenshot,
    key_figure_problems,
    open_drawn,
    overflow_problems,
    overlap_problems,
)
from playwright.sync_api import Page, expect
from test_app import (
    DRAWN,
    GS_ROOT,
    LOAD_MS,
    TIMELINE,
    ServerLog,
    assert_healthy,
    open_app,
    runs,
    wait_idle,
    wait_runs,
)

from figures.style import STEP_MS

STEP = "/Step_through"  # the default lesson: the wallet sentence, 15 words, t = 0 … 14
LAST = 14
PAYLOAD = "<img src=x onerror=alert(1)>"

# One atomic read of everything that shows the current step (and what moves with it).
SNAPSHOT = f"""() => {{
    const r = {GS_ROOT};
    const texts = sel => Array.from(r.querySelectorAll(sel), e => e.textContent);
    const scrub = r.querySelector('.gs-scrub');
    const input = r.querySelector('svg.gs-diagram [data-id=x] .gs-value');
    return {{
        changes: window.__gsChanges === undefined ? null : window.__gsChanges,
        playing: r.classList.contains('gs-playing'),
        playLabel: r.querySelector('.gs-play').getAttribute('aria-label'),
        dataT: r.dataset.t,
        titleT: texts('.gs-title .gs-t'),
        title: r.querySelector('.gs-title').textContent,
        counter: r.querySelector('.gs-counter').textContent,
        chipNow: texts('.gs-chip-now .gs-chip-t'),
        frames: texts('.gs-chip .gs-chip-t').map(Number),
        tokens: texts('.gs-chip .gs-chip-text'),
        scrub: Number(scrub.value),
        scrubText: scrub.getAttribute('aria-valuetext'),
        input: input ? input.textContent : null,
        results: texts('.gs-eq .gs-eq-result'),
        boxes: texts('svg.gs-diagram .gs-value'),
        current: r.querySelectorAll('.gs-eq.gs-current').length,
    }};
}}"""

# Count every change of the counter's text from now on (window.__gsChanges).
COUNT_CHANGES = f"""() => {{
    const c = {GS_ROOT}.querySelector('.gs-counter');
    let last = c.textContent;
    window.__gsChanges = 0;
    new MutationObserver(() => {{
        if (c.textContent !== last) {{ last = c.textContent; window.__gsChanges += 1; }}
    }}).observe(c, {{ childList: true, characterData: true, subtree: true }});
}}"""


@pytest.fixture
def server_log(app_url) -> ServerLog:
    return ServerLog()


def counter(page: Page):
    return page.locator(f"{TIMELINE} .gs-counter")


def play_button(page: Page):
    return page.locator(f"{TIMELINE} .gs-play")


def at(t: int) -> str:
    """The counter's text at step t of the default lesson."""
    return f"t = {t:02d} / {LAST}"


def url_step(url: str) -> int | None:
    """The step the link names (None: the default, step 0, is left out of the link)."""
    step = parse_qs(urlsplit(url).query).get("step")
    return int(step[0]) if step else None


def shown_step(snap: dict) -> int:
    """Every "t = n" the timeline shows, from one snapshot; they must agree."""
    title = re.fullmatch(r"t = (\d+)", "".join(snap["titleT"]))
    count = re.fullmatch(r"t = (\d+) / (\d+)", snap["counter"])
    assert title and count and len(snap["titleT"]) == 1 and len(snap["chipNow"]) == 1, snap
    shown = {
        "title": int(title[1]),
        "counter": int(count[1]),
        "chip": int(snap["chipNow"][0]),
        "scrubber": snap["frames"][snap["scrub"]],
        "data-t": int(snap["dataT"]),
    }
    assert len(set(shown.values())) == 1, (shown, snap)
    t = shown["title"]
    token = snap["tokens"][snap["frames"].index(t)]
    assert snap["scrubText"] == f"t = {t}, {token}", snap
    assert f"“{token}”" in snap["title"] and snap["input"] == token, snap  # same token
    assert snap["current"] == 1, snap  # one equation is marked current
    return t


def snapshot(page: Page) -> dict:
    return page.evaluate(SNAPSHOT)


def focus_body(page: Page) -> None:
    """Focus on the page itself (nothing focused), where ← → and Space drive the timeline."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    assert page.evaluate("() => document.activeElement === document.body")


def reported(page: Page, t: int) -> None:
    """Wait until the link says step t (the browser reported it and the fragment reran), and
    for that run to be over."""
    page.wait_for_url(lambda url: url_step(url) == (t or None), timeout=LOAD_MS)
    wait_idle(page)


# ------------------------------------------------------------------------------------------


def test_play_moves_every_t_together_and_pause_stops_and_reports(page: Page, app_url, server_log):
    open_app(page, app_url + STEP)
    first = snapshot(page)
    assert shown_step(first) == 0 and first["counter"] == at(0) and not first["playing"]
    assert first["frames"] == list(range(LAST + 1)), first["frames"]  # every step is a frame
    assert first["playLabel"] == "Play (Space)"
    # transitions on (the reduced-motion test below sees them off)
    assert page.evaluate(
        f"() => getComputedStyle({GS_ROOT}.querySelector('.gs-line')).transitionDuration"
    ) not in ("0s", "")
    runs_before = runs(page)
    page.evaluate(COUNT_CHANGES)
    play_button(page).click()
    expect(play_button(page)).to_have_attribute("aria-label", "Pause (Space)")

    seen = [first]
    for n in (2, 5, 8):
        page.wait_for_function("n => window.__gsChanges >= n", arg=n)
        snap = snapshot(page)
        t = shown_step(snap)
        assert snap["playing"] and snap["playLabel"] == "Pause (Space)", snap
        assert t == snap["changes"] >= n, snap  # one step per change, from t = 0
        seen.append(snap)
    steps = [shown_step(s) for s in seen]
    assert steps == sorted(set(steps)), steps
    for a, b in zip(seen, seen[1:], strict=False):  # the equations and the diagram move too
        assert a["results"] != b["results"], (a["results"], b["results"])
        assert a["boxes"] != b["boxes"], (a["boxes"], b["boxes"])
    assert runs(page) == runs_before  # played in the browser: no server run per frame

    play_button(page).click()  # Pause
    expect(play_button(page)).to_have_attribute("aria-label", "Play (Space)")
    paused = page.evaluate(f"() => {{ window.__gsPausedAt = performance.now(); "
                           f"return ({SNAPSHOT})(); }}")  # fmt: skip
    t = shown_step(paused)
    assert not paused["playing"] and 8 <= t < LAST, paused  # stopped by Pause, not the end
    reported(page, t)  # the learner stopped: the link follows
    page.wait_for_function(
        "ms => performance.now() - window.__gsPausedAt >= ms", arg=2 * STEP_MS
    )  # two steps' time since Pause, measured in the page
    after = snapshot(page)
    assert after["changes"] == paused["changes"], (paused, after)  # the counter never moved
    assert after["counter"] == paused["counter"] and shown_step(after) == t
    assert not after["playing"] and url_step(page.url) == t
    assert_healthy(page, server_log)


def test_arrow_keys_step_and_space_plays(page: Page, app_url, server_log):
    open_app(page, app_url + STEP)
    expect(counter(page)).to_have_text(at(0))
    focus_body(page)
    page.keyboard.press("ArrowRight")
    expect(counter(page)).to_have_text(at(1))
    page.keyboard.press("ArrowRight")
    expect(counter(page)).to_have_text(at(2))
    page.keyboard.press("ArrowLeft")
    expect(counter(page)).to_have_text(at(1))
    reported(page, 1)
    assert shown_step(snapshot(page)) == 1
    # after the run the report started, a key still moves by exactly one step
    focus_body(page)
    page.keyboard.press("ArrowRight")
    expect(counter(page)).to_have_text(at(2))

    page.evaluate(COUNT_CHANGES)
    page.keyboard.press(" ")
    expect(play_button(page)).to_have_attribute("aria-label", "Pause (Space)")
    # it plays: wait on the change count (a counter text lasts one step, which a polling
    # expect could miss on a busy machine)
    page.wait_for_function("() => window.__gsChanges >= 1")
    page.keyboard.press(" ")
    expect(play_button(page)).to_have_attribute("aria-label", "Play (Space)")
    t = shown_step(snapshot(page))
    assert 3 <= t < LAST
    reported(page, t)
    assert shown_step(snapshot(page)) == t
    assert_healthy(page, server_log)


def test_backward_opens_at_the_last_step_and_walks_down(page: Page, app_url, server_log):
    open_app(page, app_url + STEP + "?mode=backward")
    expect(counter(page)).to_have_text(at(LAST))
    snap = snapshot(page)
    assert shown_step(snap) == LAST and "backward" in snap["title"], snap
    focus_body(page)
    page.keyboard.press("ArrowRight")  # → is the next step of the walk: t − 1
    expect(counter(page)).to_have_text(at(LAST - 1))
    page.keyboard.press("ArrowLeft")
    expect(counter(page)).to_have_text(at(LAST))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(counter(page)).to_have_text(at(LAST - 2))
    first = page.locator(f"{TIMELINE} .gs-first")
    expect(first).to_have_attribute("aria-label", "First step of the backward walk")
    first.click()  # the backward walk starts at the last step
    expect(counter(page)).to_have_text(at(LAST))
    assert shown_step(snapshot(page)) == LAST
    assert_healthy(page, server_log)


def test_a_backward_walk_stopped_at_t0_keeps_t0_through_the_link(page: Page, app_url):
    open_app(page, app_url + STEP + "?mode=backward")
    expect(counter(page)).to_have_text(at(LAST))
    page.locator(f"{TIMELINE} .gs-chip").first.click()  # jump to t = 0, the end of the walk
    expect(counter(page)).to_have_text(at(0))
    # a backward link always names its step (without one it opens at the last step)
    page.wait_for_url(lambda url: url_step(url) == 0, timeout=LOAD_MS)
    wait_idle(page)
    before = runs(page)
    page.reload()
    wait_runs(page, before)
    page.wait_for_selector(DRAWN, state="attached", timeout=LOAD_MS)
    wait_idle(page, rerun_grace_ms=0)
    assert shown_step(snapshot(page)) == 0, page.url


def test_a_backward_link_with_a_step_opens_at_that_step(page: Page, app_url, server_log):
    open_app(page, app_url + STEP + "?mode=backward&step=3")
    expect(counter(page)).to_have_text(at(3))
    snap = snapshot(page)
    assert shown_step(snap) == 3 and "backward" in snap["title"], snap
    focus_body(page)
    page.keyboard.press("ArrowRight")
    expect(counter(page)).to_have_text(at(2))
    assert_healthy(page, server_log)


def test_the_step_survives_a_reload_through_the_link(page: Page, app_url, server_log):
    open_app(page, app_url + STEP)
    expect(counter(page)).to_have_text(at(0))
    nxt = page.locator(f"{TIMELINE} .gs-next")
    nxt.click()
    expect(counter(page)).to_have_text(at(1))
    nxt.click()
    expect(counter(page)).to_have_text(at(2))
    reported(page, 2)

    before = runs(page)
    page.reload()
    wait_runs(page, before)
    page.wait_for_selector(DRAWN, state="attached", timeout=LOAD_MS)
    wait_idle(page, rerun_grace_ms=0)
    expect(counter(page)).to_have_text(at(2))
    assert shown_step(snapshot(page)) == 2
    assert url_step(page.url) == 2
    assert_healthy(page, server_log)


def test_a_token_chip_jumps_to_its_step_and_pauses(page: Page, app_url, server_log):
    open_app(page, app_url + STEP)
    chips = page.locator(f"{TIMELINE} .gs-chip")
    expect(chips).to_have_count(LAST + 1)
    chips.nth(6).click()
    expect(counter(page)).to_have_text(at(6))
    expect(chips.nth(6)).to_have_class(re.compile(r"\bgs-chip-now\b"))
    snap = snapshot(page)
    assert shown_step(snap) == 6 and snap["tokens"][6] == "store", snap
    reported(page, 6)

    play_button(page).click()
    expect(play_button(page)).to_have_attribute("aria-label", "Pause (Space)")
    chips.nth(11).click()  # a chip while playing: jump there and stop
    expect(play_button(page)).to_have_attribute("aria-label", "Play (Space)")
    expect(counter(page)).to_have_text(at(11))
    reported(page, 11)  # reported only once it stopped
    assert shown_step(snapshot(page)) == 11
    assert_healthy(page, server_log)


def test_reduced_motion_turns_transitions_off_and_still_plays(
    browser, browser_context_args, app_url, server_log
):
    context = browser.new_context(**{**browser_context_args, "reduced_motion": "reduce"})
    try:
        page = context.new_page()
        open_app(page, app_url + STEP)
        assert page.evaluate("() => matchMedia('(prefers-reduced-motion: reduce)').matches")
        durations = page.evaluate(
            f"""() => {{
            const r = {GS_ROOT};
            return {{
                reduced: r.classList.contains('gs-reduced'),
                line: Array.from(r.querySelectorAll('.gs-line'),
                                 e => getComputedStyle(e).transitionDuration),
                other: Array.from(r.querySelectorAll('.gs-shape, .gs-token-row, .gs-eq-result'),
                                  e => getComputedStyle(e).transitionDuration),
            }};
        }}"""
        )
        assert durations["reduced"], durations
        assert durations["line"] and set(durations["line"]) == {"0s"}, durations
        assert durations["other"] and set(durations["other"]) == {"0s"}, durations

        page.evaluate(COUNT_CHANGES)
        play_button(page).click()
        expect(play_button(page)).to_have_attribute("aria-label", "Pause (Space)")
        page.wait_for_function("() => window.__gsChanges >= 2")
        snap = snapshot(page)
        assert snap["playing"] and shown_step(snap) == snap["changes"] >= 2, snap
        play_button(page).click()
        expect(play_button(page)).to_have_attribute("aria-label", "Play (Space)")
        assert_healthy(page, server_log)
    finally:
        context.close()


def test_html_in_typed_text_is_shown_as_text_in_the_timeline(page: Page, app_url, server_log):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_app(page, app_url + STEP + "?source=text&text=" + quote(PAYLOAD))
    chips = page.locator(f"{TIMELINE} .gs-chip .gs-chip-text")
    expect(chips.first).to_have_text("<")
    snap = snapshot(page)
    # one chip per word or sign (whitespace dropped), each the literal characters typed
    assert "".join(snap["tokens"]) == PAYLOAD.replace(" ", ""), snap["tokens"]
    assert snap["tokens"][0] == "<" and snap["tokens"][-1] == ">", snap["tokens"]
    assert shown_step(snap) == 0 and snap["input"] == "<" and "“<”" in snap["title"], snap
    inside = page.evaluate(
        f"""() => {{
        const shadow = {GS_ROOT}.getRootNode();
        return {{
            isShadow: shadow instanceof ShadowRoot,
            img: shadow.querySelectorAll('img').length,
            handlers: shadow.querySelectorAll('[onerror]').length,
        }};
    }}"""
    )
    assert inside == {"isShadow": True, "img": 0, "handlers": 0}, inside
    assert page.locator("img[src=x], img[onerror]").count() == 0  # nor anywhere on the page
    focus_body(page)
    page.keyboard.press("ArrowRight")
    expect(counter(page)).to_have_text(f"t = 01 / {len(snap['tokens']) - 1}")
    assert shown_step(snapshot(page)) == 1 and snapshot(page)["input"] == "img"
    assert not dialogs
    assert_healthy(page, server_log)


# ------------------------------------------------------------------------------------------
# Honest extremes (issue 9): the exploded link draws, its overflow named and nothing overlaps
# ------------------------------------------------------------------------------------------

EXTREMES = {  # name -> (query, the words the alert must show at the step the link opens)
    "exploding": ("cell=rnn&act=relu&scale=10&init=identity&T=2000&preset=Impulse&step=1999"
                  "&mode=backward", "beyond 10¹⁰⁰"),
    "exploded-forward": ("cell=rnn&act=relu&scale=10&init=identity&T=2000&preset=Impulse"
                         "&step=1999", "beyond 10¹⁰⁰, shown as ∞"),
    "vanishing": ("cell=rnn&scale=0.05&T=2000&preset=Impulse&step=0&mode=backward",
                  "Vanished below 10⁻³⁰⁰"),
    "carousel-closed": ("cell=lstm&fb=-10&mode=backward", "is saturated at 0 (closed)"),
    "gru-keeping": ("cell=gru&ub=10&mode=backward", "is saturated at 1 (open)"),
}  # fmt: skip
SCREENS = {"1280x720_present": (1280, 720, True), "1920x1080": (1920, 1080, False)}


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("regime", list(EXTREMES))
def test_extremes_are_named_on_screen_without_overlaps(page: Page, app_url, screens_dir,
                                                       regime, screen):  # fmt: skip
    w, h, present = SCREENS[screen]
    query, words = EXTREMES[regime]
    page.set_viewport_size({"width": w, "height": h})
    url = f"{app_url}{STEP}?{query}" + ("&present=1" if present else "")
    open_drawn(page, url, wait_for=f"{TIMELINE} svg.gs-diagram")
    alert = page.locator(f"{TIMELINE} .gs-alert")
    expect(alert).to_be_visible(timeout=LOAD_MS)
    expect(alert).to_contain_text(words)
    if regime == "exploding":  # the link's step: t = 1999, the held states named as overflow
        expect(page.locator(f"{TIMELINE} .gs-counter")).to_have_text("t = 1999 / 1999")
        expect(alert).to_contain_text("Exploded at step")
        pill = page.locator(f"{TIMELINE} svg.gs-diagram [data-id=h_prev] .gs-value")
        expect(pill).to_have_text("overflow")
        expect(pill).to_be_visible()
        results = page.locator(f"{TIMELINE} .gs-eq .gs-eq-result").all_inner_texts()
        assert "0" not in results, results
    if regime == "exploded-forward":  # the held state reads ∞ in the diagram and the equation
        pill = page.locator(f"{TIMELINE} svg.gs-diagram [data-id=h] .gs-value")
        expect(pill).to_have_text("∞")
        expect(page.locator(f"{TIMELINE} .gs-eq .gs-eq-result").first).to_have_text("∞")
    problems = exception_problems(page) + overflow_problems(page) + overlap_problems(page)
    problems += key_figure_problems(page, ".gs-alert", min_visible=1.0)
    if present:
        problems += key_figure_problems(page, "svg.gs-diagram")
    full_screenshot(page, screens_dir / f"step_through_{regime}_{screen}.png")
    assert not problems, "\n  ".join([f"{len(problems)} problem(s) at {page.url}:", *problems])
