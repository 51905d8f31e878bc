"""The frame every page shares: config, navigation, sidebar, presentation mode, errors."""

from __future__ import annotations

import string
from urllib.parse import urlencode, urlsplit, urlunsplit

import plotly.graph_objects as go
import streamlit as st

from engine import InputError

from . import session, sidebar, state
from .state import Lesson
from .texts import APP_TITLE

PAGES = [
    ("app.py", "Home", "🏠"),
    ("pages/1_Step_through.py", "Step through", "🔍"),
    ("pages/2_Gates_over_time.py", "Gates over time", "🎚️"),
    ("pages/3_Vanishing_gradients.py", "Vanishing gradients", "📉"),
    ("pages/4_Train.py", "Train", "🏋️"),
]

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] { display: none; }
html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding-top: 1rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.1rem; }
</style>
"""

PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},  # PNG download from the toolbar
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}

_MD_SPECIAL = set(string.punctuation)


def md_escape(text: str) -> str:
    """User text made inert for Streamlit markdown (no links, images, HTML, LaTeX, emoji
    shortcodes or colour directives): every ASCII punctuation mark is backslash-escaped."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(text))


def page(title: str, *, choose_cell: bool = True) -> Lesson:
    """Set up a page: config, the shared sidebar, the lesson, the link, presentation mode."""
    icon = next((ic for path, label, ic in PAGES if label == title), "🔬")
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", page_icon=icon, layout="wide")
    session.start()
    nav = st.sidebar.container()
    sidebar.input_panel()
    sidebar.cell_panel(choose_cell=choose_cell)
    present = sidebar.presentation_toggle()
    lesson = session.lesson()
    session.publish(lesson)
    _navigation(nav, lesson)
    _share(lesson)
    if present:
        st.html(PRESENTATION_CSS)
        if st.button("✕ Leave presentation mode", key="w_leave_present"):
            session.set_value("present", False)
            st.rerun()
    st.title(f"{icon} {title}")
    for notice in session.take_notices():
        st.warning(f"The link was adjusted: {md_escape(notice)}.", icon="⚠️")
    return lesson


def _navigation(box, lesson: Lesson) -> None:
    query = state.to_query(lesson)
    with box:
        st.markdown(f"### {APP_TITLE}")
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon, query_params=query)
        st.divider()


def share_url(lesson: Lesson) -> str:
    """The full link to this page with the lesson in its query string."""
    url = st.context.url or ""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path, urlencode(state.to_query(lesson)), "")
    )


def _share(lesson: Lesson) -> None:
    with st.sidebar.expander("🔗 Share this lesson"):
        st.caption(
            "Anyone opening this link sees the same sequence, cell, settings and step, with the "
            f"same numbers. (An uploaded CSV file, and text longer than {state.MAX_URL_TEXT:,} "
            "characters, are not part of the link.)"
        )
        st.code(share_url(lesson), language=None, wrap_lines=True)


def show_input_error(err: InputError) -> None:
    """A learner-facing error for bad input; the page then stops cleanly."""
    st.error(md_escape(str(err)), icon="✋")
    st.caption("Change the input in the sidebar: the rest of the app keeps working.")
    st.stop()


def chart(fig: go.Figure, *, key: str, caption: str | None = None, **kwargs):
    """A Plotly chart with the PNG download button, and its 'how to read this' caption."""
    out = st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, **kwargs)
    if caption:
        st.caption(caption)
    return out


def notice_subsampled(T: int, frames: int) -> None:
    if frames < T:
        st.info(
            f"This sequence has {T:,} steps: the animation shows {frames} evenly spaced steps "
            "(the first and the last included). Every number is still computed for all steps.",
            icon="ℹ️",
        )


def csv_upload() -> bytes | None:
    """The uploaded CSV file's bytes in this session, if any."""
    return st.session_state.get(session.CSV)


def sequence_or_stop(lesson: Lesson):
    """The lesson's Sequence and its length before the first-T cut, or a clean stop."""
    from . import compute

    try:
        seq, full = compute.sequence(lesson, csv_upload())
    except InputError as err:
        show_input_error(err)
    if full:
        st.caption(f"Using the first {seq.T:,} of {full:,} steps (raise Steps T to see more).")
    return seq


def run_or_stop(lesson: Lesson, cell: str | None = None):
    """One cell's cached run on the lesson's sequence, or a clean stop on bad input."""
    from . import compute

    try:
        return compute.run(lesson, cell, csv_upload())
    except InputError as err:
        show_input_error(err)


def compare_or_stop(lesson: Lesson):
    """The three cells' cached comparison, or a clean stop on bad input."""
    from . import compute

    try:
        return compute.compare(lesson, csv_upload())
    except InputError as err:
        show_input_error(err)


def downloads(run, lesson: Lesson, *, key: str) -> None:
    """CSV and JSON downloads of every per-timestep quantity of a run (built on click)."""
    from engine import export

    name = f"gatescope_{run.cell}"
    st.subheader("Download this run")
    st.caption(
        "Every per-timestep quantity (inputs, states, gates, and the BPTT gradients of a loss on "
        "the last step) as exact float64 numbers. Every figure also has a PNG button in its "
        "toolbar (top right, on hover)."
    )
    cols = st.columns(2)
    cols[0].download_button(
        "⬇ CSV: one row per timestep", lambda: export.to_csv(run.trace, run.grads, run.labels),
        file_name=f"{name}.csv", mime="text/csv", key=f"{key}_dl_csv", on_click="ignore",
    )  # fmt: skip
    cols[1].download_button(
        "⬇ JSON: quantities, weights and settings",
        lambda: export.to_json(run.trace, run.grads, run.labels, settings=state.to_query(lesson)),
        file_name=f"{name}.json", mime="application/json", key=f"{key}_dl_json",
        on_click="ignore",
    )  # fmt: skip
