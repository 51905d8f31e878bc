"""Front-end benchmark (issue #8 "Tests", bench item): Play on Step through in real Chromium.

Run ``.venv/bin/python bench/frontend.py`` (under a minute). Prints figures and never asserts;
the table is also written to ``bench/results/frontend.md`` (git-ignored).

Method
------
A real server (``streamlit run app.py`` on a free port of 127.0.0.1, the project's config, as
``bench/_common.py`` starts it) and Debian's headless chromium driven by Playwright (never a
downloaded browser), one fresh tab per case at 1366×768:

1. open ``/Step_through?<case>`` and wait until the page has finished drawing (the script is
   not running, no skeleton or stale element, every Plotly figure has its SVG, the Step through
   component's ``button.gs-play`` is there);
2. start a ``requestAnimationFrame`` loop in the page that records the time of every frame the
   browser renders and every change of the text of ``.gs-counter`` (the component's "t = n":
   one change is one step rendered), then click ``button.gs-play`` (inside the component's
   shadow root; Playwright's locators pierce it) and let it play for ``--seconds`` (5 s);
3. fps = frames rendered per second while playing (from the click to the last step change,
   or to the end of the window); counter changes/s = the steps drawn per second (changes of
   the text of ``.gs-counter``); t advanced/s = how far t moved per second (the counter's
   first and last step numbers); the frame times' median and p95 tell a steady animation from
   a janky one, and the frames that drew a new step tell what one step costs (Play waits
   ``stepMs`` between steps, so its frame rate is mostly idle frames: a step frame over 50 ms
   is where 20 fps would be lost).

Payload: the sum of the websocket frames the page received (``page.on("websocket")`` →
``framereceived``: the serialized ForwardMsgs, Streamlit's websocket compression is off), for
the page load and, apart, while playing (one timeline in the browser: ideally nothing, no
server round trip per frame). Static files (JS, CSS, fonts) are not counted: they are the same
for every page and cached by the browser.

Cases: the defaults; ``preset=Impulse&T=2000`` (the longest sequence).

Targets (figures, not assertions): ≥ 20 fps while playing, in both cases; payload ≤ 2 MB.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
from conftest import CHROMIUM_FLAGS, chromium_path  # noqa: E402  (the browser tests' own)

FPS_TARGET, SIZE_TARGET = 20.0, 2_000_000
CASES = [
    ("defaults", {}),
    ("T=2000 (Impulse)", {"preset": "Impulse", "T": "2000"}),
]
VIEWPORT = {"width": 1366, "height": 768}
LOAD_MS = 120_000
PLAY = "button.gs-play"
COUNTER = ".gs-counter"
COMPONENT_WAIT_MS = 15_000

DRAWN_JS = """() => {
    if (document.querySelector('[data-testid=stSkeleton], [data-stale=true]')) return false;
    if (!document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]'))
        return false;
    return Array.from(document.querySelectorAll('.js-plotly-plot'))
        .every(g => g.querySelector('.main-svg'));
}"""

# The probe lives in the page: a rAF loop that logs frame times and .gs-counter changes. It
# reads the counter through the Play button's root (the component's shadow root), so a frame
# costs one querySelector, not a walk of the whole document.
START_PROBE_JS = """([play, counter]) => {
    const find = (sel, root = document) => {
        const hit = root.querySelector(sel);
        if (hit) return hit;
        for (const el of root.querySelectorAll('*')) {
            if (el.shadowRoot) { const deep = find(sel, el.shadowRoot); if (deep) return deep; }
        }
        return null;
    };
    const button = find(play);
    const root = button ? button.getRootNode() : document;
    const probe = window.__gsProbe = {frames: [], changes: [], texts: [], running: true};
    let last = null;
    const tick = now => {
        probe.frames.push(now);
        const el = root.querySelector(counter) || find(counter);
        const text = el ? el.textContent.trim() : null;
        if (text !== last) {
            probe.changes.push(now);
            probe.texts.push(text);
            last = text;
        }
        if (probe.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    return performance.now();
}"""
STOP_PROBE_JS = """() => {
    const p = window.__gsProbe;
    p.running = false;
    return {frames: p.frames, changes: p.changes, texts: p.texts, now: performance.now()};
}"""


def _step(text: str | None) -> int:
    """The step number of a counter text such as "t = 07 / 14" (0 when there is none)."""
    found = re.search(r"\d+", text or "")
    return int(found.group()) if found else 0


class NoComponent(RuntimeError):
    pass


def chromium() -> str:
    found = chromium_path()
    if found is None:
        raise SystemExit(
            "chromium is not installed (apt-get install chromium): no browser to measure"
        )
    return found


def wait_drawn(page) -> None:
    page.wait_for_selector("[data-testid=stMain] h1", state="attached", timeout=LOAD_MS)
    page.wait_for_function(DRAWN_JS, timeout=LOAD_MS, polling=100)
    page.wait_for_timeout(300)
    page.wait_for_function(DRAWN_JS, timeout=LOAD_MS, polling=100)


def measure(browser, port: int, label: str, query: dict, seconds: float) -> dict:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    received = {"load": 0, "play": 0, "frames": 0}
    phase = {"now": "load"}

    def on_frame(payload) -> None:
        received[phase["now"]] += (
            len(payload) if isinstance(payload, bytes) else len(payload.encode())
        )
        received["frames"] += 1

    def on_ws(ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framereceived", on_frame)

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.on("websocket", on_ws)
    try:
        q = urllib.parse.urlencode(query)
        url = f"http://{c.HOST}:{port}/Step_through" + (f"?{q}" if q else "")
        t0 = time.perf_counter()
        page.goto(url, timeout=LOAD_MS)
        wait_drawn(page)
        try:
            page.locator(PLAY).first.wait_for(state="visible", timeout=COMPONENT_WAIT_MS)
        except PlaywrightTimeoutError:
            raise NoComponent(
                f"no {PLAY} on {url} within {COMPONENT_WAIT_MS / 1000:.0f} s: the Step through "
                "page does not draw the new timeline component yet (issue #8: a Streamlit "
                "custom component v2 with button.gs-play and .gs-counter), so there is no Play "
                "to measure"
            ) from None
        wait_drawn(page)
        load_s = time.perf_counter() - t0
        load_bytes = received["load"]

        phase["now"] = "play"
        start = page.evaluate(START_PROBE_JS, [PLAY, COUNTER])
        page.locator(PLAY).first.click()
        clicked = page.evaluate("() => performance.now()")
        page.wait_for_timeout(int(seconds * 1000))
        probe = page.evaluate(STOP_PROBE_JS)
        page.wait_for_timeout(300)  # frames the server sends when Play stops still count
        play_bytes = received["play"]
    finally:
        context.close()

    changes = [t for t in probe["changes"] if t > clicked]
    end = changes[-1] if len(changes) >= 2 else probe["now"]
    window = [t for t in probe["frames"] if clicked <= t <= end]
    span_s = max((end - clicked) / 1000, 1e-9)
    gaps = [b - a for a, b in zip(window, window[1:], strict=False)]
    texts = [t for t, at in zip(probe["texts"], probe["changes"], strict=True) if at > clicked]
    texts = probe["texts"][:1] + texts if probe["texts"] else texts  # the step Play started at
    intervals = [b - a for a, b in zip(changes, changes[1:], strict=False)] or [0.0]
    frames = probe["frames"]
    drawn = set(changes)
    at_step = [  # the frame that drew a new step (its rAF callback saw the new text first; its
        # style, layout and paint delay the next frame): from it to the next frame
        frames[i + 1] - t
        for i, t in enumerate(frames[:-1])
        if t in drawn
    ]
    return {
        "case": label,
        "load_s": load_s,
        "load_bytes": load_bytes,
        "play_bytes": play_bytes,
        "fps": len(window) / span_s if len(window) >= 2 else 0.0,
        "steps_per_s": len(changes) / span_s if changes else 0.0,
        "steps": len(changes),
        "frame_median_ms": statistics.median(gaps) if gaps else float("nan"),
        "frame_p95_ms": c.percentile(gaps, 95) if gaps else float("nan"),
        "step_frame_median_ms": statistics.median(at_step) if at_step else float("nan"),
        "step_frame_max_ms": max(at_step) if at_step else float("nan"),
        "span_s": span_s,
        "t_per_s": abs(_step(texts[-1]) - _step(texts[0])) / span_s if len(texts) >= 2 else 0.0,
        "ended_early": len(changes) >= 3
        and (probe["now"] - end) > max(500.0, 2 * statistics.median(intervals)),
        "first_text": texts[0] if texts else None,
        "last_text": texts[-1] if texts else None,
        "probe_started_ms": start,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="how long Play runs per case")
    ap.add_argument("--out", default="frontend", help="results file: bench/results/OUT.md")
    args = ap.parse_args()

    from importlib.metadata import version

    import streamlit
    from playwright.sync_api import sync_playwright

    out: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    exe = chromium()
    server = c.Server(log_name="frontend")
    startup = server.start()
    rows: list[dict] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True)
            emit("# Front-end benchmark: Play on Step through")
            emit()
            emit(f"- Python {platform.python_version()}, streamlit {streamlit.__version__}, "
                 f"playwright {version('playwright')}, {exe} {browser.version} (headless, "
                 f"no GPU), {os.cpu_count()} CPUs, load average {c.load_average()} at start; "
                 f"server env {c.blas_env()}; server healthy in {startup:.1f} s")  # fmt: skip
            emit(f"- one tab per case at {VIEWPORT['width']}×{VIEWPORT['height']}; Play "
                 f"clicked once and measured for {args.seconds:.0f} s with a "
                 "requestAnimationFrame probe; payload = websocket frames received "
                 "(serialized ForwardMsgs), static files not counted")  # fmt: skip
            emit()
            try:
                for label, query in CASES:
                    print(f"{label} ...", flush=True)
                    rows.append(measure(browser, server.port, label, query, args.seconds))
            except NoComponent as exc:
                browser.close()
                emit(f"NOT MEASURED: {exc}.")
                c.write_results(args.out, out)
                raise SystemExit(2) from None
            browser.close()
    finally:
        server.stop()

    header = ["case", "load", "payload (load)", "payload (while playing)", "fps while playing",
              "frame time median / p95", "frame drawing a step median / max",
              "counter changes/s", "t advanced/s", "counter seen", "verdict"]  # fmt: skip
    table = []
    for r in rows:
        checks = [
            (f"≥ {FPS_TARGET:.0f} fps", r["fps"] >= FPS_TARGET),
            (f"≤ {SIZE_TARGET / 1e6:.0f} MB", 0 < r["load_bytes"] <= SIZE_TARGET),
        ]
        table.append([
            r["case"],
            c.fmt_s(r["load_s"]),
            c.fmt_mb(r["load_bytes"]),
            c.fmt_mb(r["play_bytes"]) if r["play_bytes"] else "0 B",
            f"{r['fps']:.1f}",
            f"{r['frame_median_ms']:.1f} / {r['frame_p95_ms']:.1f} ms",
            f"{r['step_frame_median_ms']:.1f} / {r['step_frame_max_ms']:.1f} ms",
            f"{r['steps_per_s']:.1f}",
            f"{r['t_per_s']:.1f}",
            f"{r['steps']} ({r['first_text']} → {r['last_text']})"
            + (f", ended after {r['span_s']:.1f} s" if r["ended_early"] else ""),
            ", ".join(f"{c.verdict(ok)} {name}" for name, ok in checks),
        ])  # fmt: skip
    emit("\n".join(c.md_table(header, table, align="lrrrrrrrrll")))
    emit()
    emit("Figures, not assertions: fps counts the frames Chromium rendered between the click "
         "and the last step change (a busy main thread drops frames); counter changes/s = the "
         "steps Play drew per second, t advanced/s = how far the timeline moved per second "
         "(larger when Play strides over steps of a long sequence).")  # fmt: skip
    path = c.write_results(args.out, out)
    print(f"\n(written to {path.relative_to(c.ROOT)})")


if __name__ == "__main__":
    main()
