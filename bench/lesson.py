"""Lesson file benchmark: how large is one lesson as one offline HTML file?

Run ``.venv/bin/python bench/lesson.py`` (``make bench``). Prints figures and never asserts.

For each lesson below it builds the file exactly as ``python -m lesson`` does and prints its
raw and gzipped size (``gzip`` level 9, what a mail attachment or a web server would send),
the ratio to the issue's 2 MB gzipped target, and the ratio to plotly.js alone (embedded once,
verbatim, from the installed plotly package): what the lesson's own numbers add on top of it.
The table is also written to ``bench/results/lesson.md`` (git-ignored).
"""

from __future__ import annotations

import dataclasses
import gzip
import sys
import time
from pathlib import Path

from plotly.offline import get_plotlyjs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository's lesson package, not this script (same name)

from lesson import DEFAULT, build_html  # noqa: E402

TARGET_GZ = 2_000_000
LESSONS = {
    "default (Wallet, LSTM, H = 16)": DEFAULT,
    "default in deeplearning.ai's notation": dataclasses.replace(DEFAULT, notation="dlai"),
    "Cereal (text), GRU, H = 64": dataclasses.replace(DEFAULT, preset="Cereal (text)", cell="gru",
                                                      H=64),
    "Impulse T = 2000, RNN, H = 16": dataclasses.replace(DEFAULT, preset="Impulse", T=2000,
                                                         cell="rnn"),
}  # fmt: skip
OUT = Path(__file__).resolve().parent / "results" / "lesson.md"


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 9))


def main() -> None:
    plotly_js = get_plotlyjs().encode()
    plotly_raw, plotly_gz = len(plotly_js), gz(plotly_js)
    rows = [
        "| lesson | raw | gzipped | gzipped / 2 MB target | gzipped / plotly.js alone | "
        "lesson's own part, gzipped | build |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, settings in LESSONS.items():
        start = time.perf_counter()
        page = build_html(settings).encode()
        took = time.perf_counter() - start
        size, packed = len(page), gz(page)
        own = gz(page.replace(plotly_js, b""))
        rows.append(
            f"| {name} | {size / 1e6:.2f} MB | {packed / 1e6:.2f} MB | {packed / TARGET_GZ:.2f} | "
            f"{packed / plotly_gz:.2f} | {own / 1e3:.0f} kB | {took:.2f} s |"
        )
    lines = [
        f"plotly.js alone: {plotly_raw / 1e6:.2f} MB raw, {plotly_gz / 1e6:.2f} MB gzipped "
        f"(level 9); target: {TARGET_GZ / 1e6:.0f} MB gzipped for the default lesson.",
        "",
        *rows,
    ]
    text = "\n".join(lines)
    print(text)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
