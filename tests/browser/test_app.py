"""The real app in a real browser (issue #4 §3, the browser half of §4, and §2 presentation).

Every test opens its own tab (its own Streamlit session) on the one server of the session
(``app_url``) and waits for the app to be idle between steps (``wait_idle``): the script is not
running, no lazy element is still a skeleton, and every Plotly chart has drawn its SVG.

Step through draws no Plotly chart: its diagram, tokens and equations are one timeline, a
custom component (v2) drawn in an open shadow root (``.gs-root``). Playwright's CSS locators
see into it; ``page.evaluate`` reaches it with ``GS_ROOT``. Its playing, keys and link are
tested in ``test_step_timeline.py``.
"""

from __future__ import annotations

import re
import time
import weakref
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from google.protobuf.message import DecodeError
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[2]
SERVER_LOG = ROOT / "test-results" / "streamlit.log"  # written by conftest's app_url

PAGES = {  # URL path -> the page's title (its h1, after the icon)
    "/": "Home",
    "/Step_through": "Step through",
    "/Gates_over_time": "Gates over time",
    "/Vanishing_gradients": "Vanishing gradients",
    "/Train": "Train",
}
ANIMATED = {  # URL path -> a piece of the title of the Plotly figure with ▶ Play and a slider
    "/Gates_over_time": "every gate and state over time",  # the heatmaps
}
TIMELINE_PAGES = {"/Step_through"}  # pages drawn by the timeline component, not by Plotly

LOAD_MS = 90_000  # a page load on a busy 2-core machine (the largest T and H included)
SIDEBAR = "[data-testid=stSidebar]"
MAIN = "[data-testid=stMain]"
APP_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
APP_RUNNING = "[data-testid=stApp][data-test-script-state=running]"
TIMELINE = f"{MAIN} .gs-root"  # the Step through timeline (Playwright's CSS sees shadow roots)
DRAWN = f"{MAIN} .stPlotlyChart .main-svg, {MAIN} .gs-root svg.gs-diagram"
# the timeline's root element inside its component's open shadow root, for page.evaluate
GS_ROOT = """(() => {
    const find = node => {
        const hit = node.querySelector('.gs-root');
        if (hit) return hit;
        for (const e of node.querySelectorAll('*')) {
            const deep = e.shadowRoot && find(e.shadowRoot);
            if (deep) return deep;
        }
        return null;
    };
    return find(document);
})()"""
RENDERED = """() =>
    !document.querySelector('[data-testid=stSkeleton], [data-stale=true]')
    && Array.from(document.querySelectorAll('.stPlotlyChart'))
        .every(c => c.querySelector('.main-svg'))
"""
SENTENCE = "zebras quietly juggle marmalade"


# ------------------------------------------------------------------------------------------
# Helpers: waiting, reading the DOM
# ------------------------------------------------------------------------------------------


class ScriptRuns:
    """Counts the script runs the server reports finished on the page's websocket.

    A fast rerun (an input error stops the script in a few ms) can flip the DOM's script-state
    attribute to running and back within one render, so the DOM alone cannot tell that *this*
    rerun is over; the server's ``script_finished`` message always can.
    """

    def __init__(self, page: Page) -> None:
        self.finished = 0
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        if not isinstance(payload, bytes):
            return
        try:
            msg = ForwardMsg.FromString(payload)
        except DecodeError:
            return
        if (
            msg.WhichOneof("type") == "script_finished"
            and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
        ):
            self.finished += 1


RUNS: weakref.WeakKeyDictionary[Page, ScriptRuns] = weakref.WeakKeyDictionary()


def wait_idle(page: Page, timeout: float = LOAD_MS, *, rerun_grace_ms: float = 500) -> None:
    """Wait until the app is idle: no script running, no skeleton or stale element left, every
    Plotly chart drawn.

    The state attribute may flip to ``running`` a moment after an interaction, so first wait
    up to ``rerun_grace_ms`` for ``running`` (its timeout is expected when nothing reruns),
    then for ``notRunning``. Callers that already saw the server finish the run pass 0.
    """
    if rerun_grace_ms:
        try:
            page.wait_for_selector(APP_RUNNING, state="attached", timeout=rerun_grace_ms)
        except PlaywrightTimeoutError:
            pass
    page.wait_for_selector(APP_IDLE, state="attached", timeout=timeout)
    page.wait_for_function(RENDERED, timeout=timeout)


def wait_runs(page: Page, more_than: int, timeout: float = LOAD_MS) -> None:
    """Wait until the server has finished more than ``more_than`` runs of this page's session."""
    deadline = time.monotonic() + timeout / 1000
    while RUNS[page].finished <= more_than:
        assert time.monotonic() < deadline, f"no script run finished within {timeout / 1000} s"
        page.wait_for_timeout(50)  # lets Playwright deliver the websocket events


def open_app(page: Page, url: str, timeout: float = LOAD_MS) -> None:
    """Open a page of the app and wait for its first complete run and its charts (or, on Step
    through, the timeline: the component draws its diagram when it mounts)."""
    page.set_default_timeout(60_000)
    if page not in RUNS:
        RUNS[page] = ScriptRuns(page)
    page.goto(url)
    wait_runs(page, 0, timeout)
    page.wait_for_selector(f"{MAIN} h1", state="attached", timeout=timeout)
    page.wait_for_selector(DRAWN, state="attached", timeout=timeout)
    wait_idle(page, timeout, rerun_grace_ms=0)


def runs(page: Page) -> int:
    return RUNS[page].finished


def rerun(page: Page, action, timeout: float = LOAD_MS) -> None:
    """Do something that must rerun the script, and wait for that rerun to finish and show."""
    before = runs(page)
    action()
    wait_runs(page, before, timeout)
    wait_idle(page, timeout, rerun_grace_ms=0)


def radio_options(page: Page, label: str, scope: str = SIDEBAR):
    group = page.locator(f"{scope} [role=radiogroup][aria-label='{label}']")
    return group.locator("[data-testid=stRadioOption]")


def radio_value(page: Page, label: str, scope: str = SIDEBAR) -> str:
    """The label of the checked option of a radio (read from the DOM)."""
    checked = radio_options(page, label, scope).filter(has=page.locator("input:checked"))
    return checked.inner_text().strip()


def slider_value(page: Page, label: str, scope: str = SIDEBAR) -> str:
    return page.locator(f"{scope} input[type=range][aria-label='{label}']").input_value()


def number_value(page: Page, label: str, scope: str = SIDEBAR) -> str:
    box = page.locator(f"{scope} [data-testid=stNumberInput]").filter(
        has=page.locator("[data-testid=stWidgetLabel]", has_text=re.compile(f"^{label}$"))
    )
    return box.locator("input").input_value()


def text_area(page: Page):
    return page.locator(f"{SIDEBAR} [data-testid=stTextArea] textarea")


def choose_source(page: Page, label: str) -> None:
    rerun(page, radio_options(page, "Input").filter(has_text=label).click)
    assert radio_value(page, "Input") == label


def submit_text(page: Page, text: str) -> None:
    """Type into the sidebar's text area and commit it with Ctrl+Enter (one rerun)."""
    box = text_area(page)
    box.fill(text)
    assert box.input_value() == text
    rerun(page, lambda: box.press("Control+Enter"))


def paste(page: Page, text: str) -> None:
    """A real clipboard paste over the whole content of the sidebar's text area."""
    page.evaluate("t => navigator.clipboard.writeText(t)", text)
    box = text_area(page)
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Control+V")


def chart_texts(page: Page) -> list[str]:
    """Every text drawn in the Plotly charts' SVG (titles, ticks, chips, slider labels)."""
    return page.evaluate(
        "Array.from(document.querySelectorAll('.stPlotlyChart .main-svg text'))"
        ".map(t => t.textContent)"
    )


def chart_titles(page: Page) -> list[str]:
    return page.evaluate(
        "Array.from(document.querySelectorAll('.stPlotlyChart .gtitle')).map(t => t.textContent)"
    )


def alerts(page: Page, kind: str) -> list[str]:
    """The texts of the st.error / st.warning / st.info boxes (kind: Error, Warning, Info)."""
    return page.locator(f"[data-testid=stAlertContent{kind}]").all_inner_texts()


def timeline_state(page: Page) -> dict:
    """What the Step through timeline shows, read in one go: its step, title, counter, token
    chips and the diagram's label."""
    return page.evaluate(
        f"""() => {{
        const r = {GS_ROOT};
        if (!r) return null;
        return {{
            t: r.dataset.t,
            title: r.querySelector('.gs-title').textContent,
            counter: r.querySelector('.gs-counter').textContent,
            chips: Array.from(r.querySelectorAll('.gs-chip .gs-chip-text')).map(c => c.textContent),
            frames: Array.from(r.querySelectorAll('.gs-chip .gs-chip-t')).map(c => c.textContent),
            scrubMax: Number(r.querySelector('.gs-scrub').max),
            diagram: r.querySelector('svg.gs-diagram').getAttribute('aria-label'),
            present: r.classList.contains('gs-present'),
        }};
    }}"""
    )


def plot_index(page: Page, needle: str) -> int:
    """The index among ``.js-plotly-plot`` of the figure whose title contains ``needle`` (an
    animation rewrites the title frame by frame: find the figure once, then use its index)."""
    index = page.evaluate(
        """needle => Array.from(document.querySelectorAll('.js-plotly-plot')).findIndex(
            g => (g.querySelector('.gtitle') || {}).textContent.includes(needle))""",
        needle,
    )
    assert index >= 0, (needle, chart_titles(page))
    return index


SLIDER_JS = """i => {
    const gd = document.querySelectorAll('.js-plotly-plot')[i];
    const shown = gd.querySelector('.slider-group > text.slider-label');
    return [gd.layout.sliders[0].active, shown ? shown.textContent : null];
}"""


def slider_position(page: Page, index: int) -> tuple[int, str | None]:
    """The animation slider of the index-th figure: (active step, the value it shows)."""
    return tuple(page.evaluate(SLIDER_JS, index))


class ServerLog:
    """The part of the server's log written during one test (a traceback is a failure)."""

    def __init__(self) -> None:
        self.start = SERVER_LOG.stat().st_size if SERVER_LOG.exists() else 0

    def new(self) -> str:
        if not SERVER_LOG.exists():
            return ""
        with open(SERVER_LOG, encoding="utf-8", errors="replace") as f:
            size = f.seek(0, 2)
            f.seek(self.start if size >= self.start else 0)  # a restarted log: read it all
            return f.read()


@pytest.fixture
def server_log(app_url) -> ServerLog:
    return ServerLog()


def assert_healthy(page: Page, log: ServerLog, *, input_error: bool = False) -> None:
    """No exception box and no server traceback; then either charts and no error box, or (for
    bad input) the learner-facing error box that stops the page cleanly."""
    exceptions = page.locator("[data-testid=stException]").all_inner_texts()
    assert not exceptions, exceptions
    if input_error:
        assert len(alerts(page, "Error")) == 1
    else:
        assert not alerts(page, "Error")
        assert page.locator(DRAWN).count() >= 1, "no chart drawn"
    new = log.new()
    assert "Traceback" not in new and "Uncaught app" not in new, new[-3000:]


# ------------------------------------------------------------------------------------------
# §3: every page, the animations, shared links, typed text
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_loads_with_its_charts_and_no_error(page: Page, app_url, server_log, path):
    open_app(page, app_url + path)
    assert page.locator(f"{MAIN} h1").first.inner_text().endswith(PAGES[path])  # the right page
    assert_healthy(page, server_log)
    charts = page.locator(f"{MAIN} .stPlotlyChart")
    assert page.locator(f"{MAIN} .stPlotlyChart .main-svg").count() >= charts.count()
    if path in TIMELINE_PAGES:  # the timeline: one diagram, its controls, its equations
        assert page.locator(TIMELINE).count() == 1
        assert page.locator(f"{TIMELINE} svg.gs-diagram").count() == 1
        assert page.locator(f"{TIMELINE} .gs-play").is_visible()
        assert page.locator(f"{TIMELINE} .gs-eq").count() >= 1
        assert timeline_state(page)["counter"] == "t = 00 / 14"  # the default sentence
    else:
        assert charts.count() >= 1


@pytest.mark.parametrize("path", list(ANIMATED))
def test_play_button_advances_the_animation(page: Page, app_url, server_log, path):
    open_app(page, app_url + path)
    index = plot_index(page, ANIMATED[path])
    active, shown = slider_position(page, index)
    assert active == 0 and shown.startswith("t = 0"), (active, shown)
    runs_before = runs(page)
    page.locator(".js-plotly-plot").nth(index).locator(
        ".updatemenu-button", has_text="Play"
    ).click()
    page.wait_for_function(
        f"() => ({SLIDER_JS})({index})[0] >= 2", timeout=10_000
    )  # two frames on within 10 s (a frame is shown for well under a second)
    active, shown_now = slider_position(page, index)
    assert active >= 2
    assert shown_now != shown and not shown_now.startswith("t = 0 "), shown_now  # label moved
    assert runs(page) == runs_before  # animated in the browser: no server rerun
    assert_healthy(page, server_log)


def test_a_shared_link_reproduces_the_lesson_across_pages(page: Page, app_url, server_log):
    open_app(page, app_url + "/Step_through?cell=gru&H=8&seed=3&step=4")
    assert radio_value(page, "Cell") == "GRU"
    assert slider_value(page, "Hidden units H") == "8"
    assert number_value(page, "Seed") == "3"
    shown = timeline_state(page)
    assert shown["t"] == "4" and shown["title"].startswith("t = 4 ·"), shown
    assert shown["counter"] == "t = 04 / 14", shown
    assert shown["diagram"] == "GRU cell diagram for unit 0", shown
    assert_healthy(page, server_log)

    link = page.locator(f"{SIDEBAR} a[data-testid=stPageLink-NavLink]", has_text="Gates over time")
    carried = parse_qs(urlsplit(link.get_attribute("href")).query)
    assert carried["cell"] == ["gru"] and carried["H"] == ["8"] and carried["seed"] == ["3"]
    rerun(page, link.click)
    page.wait_for_url(re.compile(r"/Gates_over_time\?"))
    page.locator(f"{MAIN} h1", has_text="Gates over time").wait_for()
    query = parse_qs(urlsplit(page.url).query)
    assert query["cell"] == ["gru"] and query["H"] == ["8"] and query["seed"] == ["3"]
    assert radio_value(page, "Cell") == "GRU"
    assert slider_value(page, "Hidden units H") == "8"
    assert number_value(page, "Seed") == "3"
    heatmaps = [t for t in chart_titles(page) if "every gate and state over time" in t]
    assert heatmaps and heatmaps[0].startswith("GRU") and "H = 8" in heatmaps[0], heatmaps
    assert_healthy(page, server_log)


def test_typing_a_sentence_updates_the_token_labels(page: Page, app_url, server_log):
    open_app(page, app_url + "/Gates_over_time")
    assert not any("zebras" in t for t in chart_texts(page))
    choose_source(page, "Your text")
    submit_text(page, SENTENCE)
    texts = chart_texts(page)
    for word in ("zebras", "marmalade"):
        assert any(word in t for t in texts), (word, texts[:40])
    heatmaps = [t for t in chart_titles(page) if "every gate and state over time" in t]
    assert heatmaps and "4 steps" in heatmaps[0], heatmaps  # one step per word
    assert parse_qs(urlsplit(page.url).query)["text"] == [SENTENCE]  # the link follows
    assert_healthy(page, server_log)


# ------------------------------------------------------------------------------------------
# §4: bad input in the real browser
# ------------------------------------------------------------------------------------------


def test_html_and_script_in_user_text_are_shown_as_text(page: Page, app_url, server_log):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_app(page, app_url + "/Step_through")
    scripts_before = page.evaluate("document.querySelectorAll('script').length")
    choose_source(page, "Your text")
    submit_text(page, "<b>bold</b> <img src=x onerror=alert(1)> <script>alert(1)</script> & end")
    # the timeline drawn for the new text (the component updates after the run is over)
    expect(page.locator(f"{TIMELINE} .gs-chip-text").last).to_have_text("end")
    page.wait_for_timeout(500)  # an injected handler or script would have run by now

    chips = timeline_state(page)["chips"]  # the token chips: one word or sign each, as text
    assert "<" in chips and ">" in chips and "&" in chips, chips  # literal chips
    assert "script" in chips and "onerror" in chips and "bold" in chips, chips
    assert not [t for t in chips if re.search(r"&(lt|gt|amp);", t)]  # not double-escaped
    assert not dialogs
    assert page.evaluate("document.querySelectorAll('script').length") == scripts_before
    injected = page.evaluate(
        "Array.from(document.querySelectorAll('script'))"
        ".filter(s => s.textContent.includes('alert(1)')).length"
    )
    assert injected == 0
    # Playwright's CSS sees into the component's shadow root: no element came from the text
    assert page.locator("img[onerror], img[src=x], b:text-is('bold')").count() == 0
    in_timeline = page.evaluate(
        f"() => {GS_ROOT}.querySelectorAll('img, b, script, [onerror]').length"
    )
    assert in_timeline == 0
    assert_healthy(page, server_log)

    # the numbers box quotes a bad value back in its error message: still plain text
    choose_source(page, "Your numbers")
    submit_text(page, "1, <img src=x onerror=alert(1)>")
    page.wait_for_timeout(500)
    shown = alerts(page, "Error")
    assert shown and "<img" in shown[0], shown
    assert not dialogs
    assert page.locator("img[onerror], img[src=x]").count() == 0
    assert_healthy(page, server_log, input_error=True)


def test_markdown_image_and_link_in_numbers_are_an_error_and_never_fetched(
    page: Page, app_url, server_log
):
    to_port_9: list[str] = []
    page.on("request", lambda r: to_port_9.append(r.url) if urlsplit(r.url).port == 9 else None)
    open_app(page, app_url + "/Step_through")
    choose_source(page, "Your numbers")
    for bad, quoted in (
        ("1, ![x](http://127.0.0.1:9/x.png)", "![x](http://127.0.0."),
        ("1, [a](http://127.0.0.1:9/a)", "[a](http://127.0.0.1"),
    ):
        submit_text(page, bad)
        page.wait_for_timeout(700)  # time for an <img> to be fetched, if one were rendered
        shown = alerts(page, "Error")
        assert len(shown) == 1 and quoted in shown[0], shown  # shown literally, not rendered
        assert "not a number" in shown[0]
        assert page.locator("img[src*=':9/'], a[href*=':9/']").count() == 0
        assert not to_port_9, to_port_9
        assert_healthy(page, server_log, input_error=True)
    submit_text(page, "1, 2, 3")  # the session keeps working
    assert not alerts(page, "Error")
    assert_healthy(page, server_log)
    assert not to_port_9, to_port_9


def test_a_million_characters_pasted_do_not_break_the_app(page: Page, app_url, server_log):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    open_app(page, app_url + "/Gates_over_time?source=text&text=hello%20world")
    assert text_area(page).input_value() == "hello world"
    huge = (SENTENCE + " ") * (1_000_000 // (len(SENTENCE) + 1) + 1)
    paste(page, huge[:1_000_000])
    text_area(page).press("Control+Enter")
    wait_idle(page)
    # the box never holds more than max_chars=20000: Streamlit 1.67 refuses such an edit as a
    # whole (the old text stays, silently); a truncating box would keep the first 20,000
    value = text_area(page).input_value()
    assert value == "hello world" or (len(value) == 20_000 and huge.startswith(value))
    counter = f"{len(value)}/20000"
    assert counter in page.locator(f"{SIDEBAR} [data-testid=stTextArea]").inner_text()
    assert_healthy(page, server_log)

    # a long text within the 2,000-token limit goes through, and the page still works
    rerun(page, lambda: (paste(page, huge[:12_000]), text_area(page).press("Control+Enter")))
    assert len(text_area(page).input_value()) == 12_000
    captions = page.locator(f"{MAIN} [data-testid=stCaptionContainer]").all_inner_texts()
    assert any(c.startswith("Using the first 40 of") for c in captions), captions
    assert any("zebras" in t for t in chart_texts(page))
    assert_healthy(page, server_log)


def test_the_whole_typed_text_is_used_or_the_cut_is_said(page: Page, app_url, server_log):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    open_app(page, app_url + "/Gates_over_time?source=text&text=hello%20world")
    text = ((SENTENCE + " ") * 700)[:20_000]  # 625 × 4 = 2,500 words
    rerun(page, lambda: (paste(page, text), text_area(page).press("Control+Enter")))
    assert_healthy(page, server_log, input_error=True)  # a clear message, not a silent cut
    said = page.locator(f"{MAIN} [data-testid=stCaptionContainer]").all_inner_texts()
    said += alerts(page, "Warning") + alerts(page, "Info") + alerts(page, "Error")
    # 2,500 words: more tokens than the 2,000-step limit, which the message must name
    said_so = [s for s in said if "2,500" in s and "2,000" in s]
    assert said_so, said


def test_a_tampered_link_is_adjusted_with_a_notice(page: Page, app_url, server_log):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_app(page, app_url + "/Step_through?H=99999&cell=%3Cscript%3E&T=-5&step=abc")
    notices = alerts(page, "Warning")
    assert notices and all("The link was adjusted" in n for n in notices), notices
    joined = " ".join(notices)
    for fixed in ("H='99999' is out of range: using 256", "unknown cell '<script>'",
                  "T='-5' is out of range: using 1", "step 'abc' is not a number"):  # fmt: skip
        assert fixed in joined, (fixed, notices)
    assert slider_value(page, "Hidden units H") == "256"
    assert number_value(page, "Steps T") == "1"
    assert radio_value(page, "Cell") == "LSTM"
    query = parse_qs(urlsplit(page.url).query)
    assert query.get("H") == ["256"] and query.get("T") == ["1"] and "cell" not in query
    assert not dialogs
    assert_healthy(page, server_log)
    shown = timeline_state(page)  # one step: the timeline shows it
    assert shown["counter"] == "t = 0 / 0" and shown["scrubMax"] == 0, shown
    # the app works: a change reruns, the notice was shown once
    rerun(page, radio_options(page, "Cell").filter(has_text="GRU").click)
    expect(page.locator(f"{TIMELINE} svg.gs-diagram")).to_have_attribute(
        "aria-label", "GRU cell diagram for unit 0"
    )
    assert timeline_state(page)["title"].startswith("t = 0 ·")
    assert not alerts(page, "Warning")
    assert_healthy(page, server_log)


@pytest.mark.parametrize("path", ["/Step_through", "/Gates_over_time"])
def test_the_largest_T_and_H_answer_with_a_subsampled_animation(
    page: Page, app_url, server_log, path
):
    open_app(page, app_url + path + "?source=preset&preset=Sine%20wave&T=2000&H=256")
    assert number_value(page, "Steps T") == "2000"
    assert slider_value(page, "Hidden units H") == "256"
    info = [i for i in alerts(page, "Info") if "evenly spaced steps" in i]
    assert info, alerts(page, "Info")
    frames = int(re.search(r"animation shows (\d+) evenly spaced steps", info[0]).group(1))
    assert "2,000 steps" in info[0] and 1 < frames < 2000
    if path in TIMELINE_PAGES:  # the timeline's slider and token chips: one per animated step
        shown = timeline_state(page)
        assert shown["scrubMax"] + 1 == frames and len(shown["frames"]) == frames, shown["scrubMax"]
        assert shown["frames"][0] == "0" and shown["frames"][-1] == "1999"  # ends included
        assert shown["counter"] == "t = 0000 / 1999", shown["counter"]
    else:
        slider_steps = page.evaluate(
            "Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".filter(g => g.layout.sliders && g.layout.sliders.length)"
            ".map(g => g.layout.sliders[0].steps.length)"
        )
        assert slider_steps and slider_steps[0] == frames  # the notice tells the truth
    assert_healthy(page, server_log)


# ------------------------------------------------------------------------------------------
# §2: presentation mode
# ------------------------------------------------------------------------------------------


def test_presentation_mode_hides_the_sidebar_and_keeps_the_animation(
    page: Page, app_url, server_log
):
    open_app(page, app_url + "/Step_through?present=1&cell=gru")
    sidebar = page.locator(SIDEBAR)
    assert sidebar.count() == 1 and not sidebar.is_visible()
    assert not page.locator("[data-testid=stExpandSidebarButton]").is_visible()
    shown = timeline_state(page)  # the timeline, drawn large, with its Play and its slider
    assert shown["present"] and shown["diagram"] == "GRU cell diagram for unit 0", shown
    assert shown["title"].startswith("t = 0 ·"), shown
    assert page.locator(f"{TIMELINE} .gs-play").is_visible()
    assert page.locator(f"{TIMELINE} .gs-scrub").is_visible()
    assert page.locator(f"{TIMELINE} svg.gs-diagram").is_visible()
    assert_healthy(page, server_log)

    leave = page.get_by_role("button", name="Leave presentation mode")
    rerun(page, leave.click)
    sidebar.wait_for(state="visible")
    assert leave.count() == 0
    assert "present" not in parse_qs(urlsplit(page.url).query)
    assert radio_value(page, "Cell") == "GRU"  # the lesson is kept
    assert_healthy(page, server_log)
