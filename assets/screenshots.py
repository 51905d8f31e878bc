"""Take the README's screenshots of every page in headless Chromium (``make screenshots``).

Starts the real app on a free port, opens each page with a lesson link, waits until the
script has finished and the charts are drawn, and saves ``assets/<page>.png``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from _checks import wait_drawn  # noqa: E402  (the browser tests' "finished drawing")
from conftest import CHROMIUM_FLAGS as FLAGS  # noqa: E402  (the browser tests' flags)

SHOTS = {  # name: (link, viewport); a tall viewport shows the whole page (Streamlit scrolls
    # its own container, so a "full page" screenshot would stop at the window's height)
    "home": ("", (1600, 1500)),
    "step_through": ("Step_through?cell=lstm&step=6&unit=3", (1600, 1300)),
    "step_through_backward": ("Step_through?cell=rnn&mode=backward&step=8", (1600, 1300)),
    "step_through_projector": ("Step_through?cell=gru&step=5&present=1", (1280, 720)),
    "gates_over_time": ("Gates_over_time?cell=lstm&step=6", (1600, 2200)),
    "vanishing_gradients": ("Vanishing_gradients", (1600, 2600)),
    "train": ("Train", (1600, 2000)),
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the page has finished drawing, as the browser tests do (the script idle, no
    skeleton or stale element, no running indicator, every Plotly chart drawn, then settled);
    on Step through also the timeline's diagram."""
    if "Step_through" in page.url:  # the timeline component draws its diagram
        page.locator("svg.gs-diagram").wait_for(timeout=timeout_ms)
    wait_drawn(page, timeout_ms)


def main() -> None:
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
            for name, (path, (width, height)) in SHOTS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{base}/{path}")
                wait_idle(page)
                if name == "train":  # show a finished run: train the three cells first
                    page.get_by_role("button", name="▶ Train").click()
                    page.wait_for_selector("[data-testid=stAlertContentSuccess]", timeout=120_000)
                    wait_idle(page)
                out = ROOT / "assets" / f"{name}.png"
                page.screenshot(path=str(out))
                page.close()
                print("saved", out.relative_to(ROOT))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
