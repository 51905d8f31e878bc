"""The "Download this lesson (HTML)" button: the lesson on screen as one offline HTML file.

The file is the one ``python -m lesson`` writes (:func:`lesson.build_html`): built once per
lesson and link, cached like every computation of the app, and only when the learner clicks.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from engine import InputError
from lesson import Settings, build_html

from . import compute, keys, session
from .state import Lesson

FIELDS = tuple(f.name for f in dataclasses.fields(Settings))
LABEL = "⬇ Download this lesson (HTML)"
HELP = (
    "One HTML file that works offline, from a USB stick or an e-mail, with no server: the Step "
    "through timeline of each cell (forward and backward), the gates over time, the three cells' "
    "gradients with the theory, every setting and a link back to this lesson. The cells are "
    "shown as initialised (before any training)."
)


def settings(lesson: Lesson) -> Settings:
    """The exporter's settings for a lesson (the same field names, the notation among them, so
    the file is in the page's symbols and runs its GRU; the unit k fitted to H, as the pages
    fit it)."""
    values = {name: getattr(lesson, name) for name in FIELDS}
    return Settings(**values | {"unit": min(max(int(lesson.unit), 0), lesson.H - 1)})


@st.cache_data(max_entries=16, ttl=900, show_spinner=False)
def lesson_html(s: Settings, csv: bytes | None, link: str) -> str:
    """The lesson file (cached: a classroom downloading the same lesson builds it once)."""
    return build_html(s, csv_text=csv, link=link)


def button(lesson: Lesson, box, *, key: str, link: str) -> None:
    """The download button in ``box`` (``keys.lesson_download(key)``), the file built on click;
    when the lesson's input is not valid, a caption saying why instead."""
    s = settings(lesson)
    csv = st.session_state.get(session.CSV) if s.source == "csv" else None
    try:
        compute.sequence(lesson, csv)  # cached: a bad input is said here, not in the download
    except InputError as err:
        from .layout import md_escape  # layout draws this button: imported when it runs

        box.caption(f"No lesson file: {md_escape(str(err))}")
        return
    box.download_button(
        LABEL, lambda: lesson_html(s, csv, link), file_name="gatescope_lesson.html",
        mime="text/html", key=keys.lesson_download(key), on_click="ignore", help=HELP,
    )  # fmt: skip
