"""The frame every page shares: config, navigation, sidebar, presentation mode, errors."""

from __future__ import annotations

import string
from urllib.parse import urlencode, urlsplit, urlunsplit

import plotly.graph_objects as go
import streamlit as st

from engine import InputError

from . import keys, lesson_download, session, sidebar, state
from .state import Lesson
from .texts import APP_TITLE

BASE_CSS = """
<style>
/* WCAG AA: Streamlit fades captions with opacity 0.6 (3.9:1 on white); this is 6.4:1. */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] small { color: #5c5c5c; opacity: 1; }
/* a keyboard user sees where the focus is, on the current page's link too */
[data-testid="stPageLink-NavLink"]:focus-visible {
  outline: 3px solid #1a56db; outline-offset: 2px;
}
</style>
"""

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] { display: none; }
html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
[data-testid="stMainBlockContainer"] {
  max-width: 100%; padding-top: 0.5rem; padding-bottom: 2rem;
  padding-left: 2rem; padding-right: 2rem;
}
[data-testid="stMainBlockContainer"] h1 { font-size: 1.6rem; padding: 0.1rem 0; }
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.6rem; }
</style>
"""
"""Presentation mode (a 1280×720 projector): no sidebar or header, 20 px base font, a compact
title row so the page's key figure is in the first screen."""

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
    """Set up a page: config, the shared sidebar, the lesson, the link, presentation mode.

    In presentation mode the title shares one row with "✕ Leave presentation mode"; pages
    then draw their controls only where :func:`controls_visible` says so."""
    icon = keys.page(title).icon
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
    st.html(BASE_CSS)
    if present:
        st.html(PRESENTATION_CSS)
        head, leave = st.columns([5, 2], vertical_alignment="center")
        head.title(f"{icon} {title}")
        if leave.button("✕ Leave presentation mode", key=keys.LEAVE_PRESENT, width="stretch"):
            session.set_value("present", False)
            st.rerun()
    else:
        st.title(f"{icon} {title}")
    for notice in session.take_notices():
        st.warning(f"The link was adjusted: {md_escape(notice)}.", icon="⚠️")
    if lesson.trained and title != "Train":
        trained_banner()
    return lesson


def trained_banner() -> None:
    """Say that the page shows trained cells (what was trained, how far, how well), with the
    way back to the untrained lesson; train them first if the server no longer holds them (in
    the server's training queue, the position shown). A bad link: an error, then a stop."""
    from . import compute, training

    box, back = st.container(), st.container()
    if back.button("↩ Back to the untrained lesson", key=keys.TRAINED_BACK):
        session.set_value("trained", "")
        st.rerun()
    with box:
        try:
            spec = training.parse_trained(session.value("trained"))
            line = st.empty()
            with st.spinner("Getting the trained cells (training them again if needed)…"):
                results = training.trained_results(
                    spec, on_wait=lambda pos: line.info(training.waiting_text(pos), icon="⏳")
                )
            line.empty()
        except InputError as err:
            st.error(md_escape(str(err)), icon="✋")
            st.stop()
        st.info(training.banner_text(spec, results), icon="🎓")
        runs = {c: compute.run(session.lesson(), c) for c in ("gru", "lstm")}
        text = training.gates_text({c: r.trace for c, r in runs.items()}, runs["gru"].labels)
        st.caption(md_escape(text))


def controls_visible(lesson: Lesson) -> bool:
    """Whether the page draws its own controls (measure, unit, sliders, downloads, lesson
    path details...): not in presentation mode, where only play/step controls and "✕ Leave
    presentation mode" remain. Hidden controls keep their persisted value
    (``session.value(name)``), so a page reads the same setting either way."""
    return not lesson.present


def lesson_control(lesson: Lesson, name: str, draw, *args, **kwargs):
    """A page control bound to a lesson field (``session.bind(name, draw, ...)``) when controls
    are visible; in presentation mode nothing is drawn and the field's current value is
    returned, so the page computes the same thing either way."""
    if not controls_visible(lesson):
        return session.value(name)
    return session.bind(name, draw, *args, **kwargs)


def page_control(lesson: Lesson, key: str, draw, *args, default, coerce=None, **kwargs):
    """A page-local control (not part of the lesson), e.g. the Train page's lag slider:
    ``draw(*args, key=key, **kwargs)`` when controls are visible, else nothing drawn. Its
    last value survives presentation mode (Streamlit forgets an undrawn widget's state);
    ``default`` is the value before any, ``coerce`` fits a kept value to the widget's range.
    Pass no ``value``/``index`` argument to ``draw``."""
    store = f"s__{key}"
    kept = st.session_state.get(store, default)
    kept = coerce(kept) if coerce else kept
    if not controls_visible(lesson):
        return kept
    if key not in st.session_state:
        st.session_state[key] = kept
    value = draw(*args, key=key, **kwargs)
    st.session_state[store] = value
    return value


def figure_first(lesson: Lesson) -> tuple:
    """``(figure_box, text_box)``: two containers for a page's key figure and its lead text
    ("What to notice", notes). The text sits above the figure normally and below it in
    presentation mode, so the key figure is in the first screen of a projector."""
    first, second = st.container(), st.container()
    return (first, second) if lesson.present else (second, first)


def columns(spec, lesson: Lesson, **kwargs) -> list:
    """``st.columns(spec)`` normally; in presentation mode one full-width container per
    column instead, so every figure gets its own row on a projector."""
    if lesson.present:
        n = spec if isinstance(spec, int) else len(spec)
        return [st.container() for _ in range(n)]
    return st.columns(spec, **kwargs)


def _navigation(box, lesson: Lesson) -> None:
    query = state.to_query(lesson)
    with box:
        st.markdown(f"### {APP_TITLE}")
        for path, label, icon in keys.PAGES:
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


def lesson_download_alone(lesson: Lesson, *, key: str) -> None:
    """Only the "Download this lesson (HTML)" button (``<key>_dl_html``), for a page with no
    computed values yet (Train before a run); none in presentation mode."""
    if not controls_visible(lesson):
        return
    lesson_download.button(lesson, st.columns(3)[0], key=key, link=share_url(lesson))


def _download_pair(lesson: Lesson, *, key: str, name: str, heading: str, caption: str,
                   csv_label: str, csv_text, json_label: str, json_text) -> None:  # fmt: skip
    """A page's two download buttons (``<key>_dl_csv``, ``<key>_dl_json``), each file built
    only when clicked (``csv_text``/``json_text`` are callables); none in presentation mode."""
    if not controls_visible(lesson):
        return
    st.subheader(heading)
    st.caption(caption)
    cols = st.columns(3)
    cols[0].download_button(
        csv_label, csv_text, file_name=f"{name}.csv", mime="text/csv", key=f"{key}_dl_csv",
        on_click="ignore",
    )  # fmt: skip
    cols[1].download_button(
        json_label, json_text, file_name=f"{name}.json", mime="application/json",
        key=f"{key}_dl_json", on_click="ignore",
    )  # fmt: skip
    lesson_download.button(lesson, cols[2], key=key, link=share_url(lesson))


def downloads(run, lesson: Lesson, *, key: str) -> None:
    """CSV and JSON downloads of every per-timestep quantity of a run (built on click); none
    in presentation mode. The JSON records every setting (:func:`ui.state.settings`)."""
    from engine import export
    from figures.notation import export_names

    names = export_names(lesson.notation, run.cell)  # the column names in the lesson's notation

    _download_pair(
        lesson, key=key, name=f"gatescope_{run.cell}", heading="Download this run",
        caption="Every per-timestep quantity (inputs, states, gates, and the BPTT gradients of "
        "a loss on the last step) as exact float64 numbers. Every figure also has a PNG button "
        "in its toolbar (top right, on hover).",
        csv_label="⬇ CSV: one row per timestep",
        csv_text=lambda: export.to_csv(run.trace, run.grads, run.labels, notation=names),
        json_label="⬇ JSON: quantities, weights and settings",
        json_text=lambda: export.to_json(
            run.trace, run.grads, run.labels, settings=state.settings(lesson), notation=names
        ),
    )  # fmt: skip


MEASURE_COLUMNS = {"x": "|dh_T/dx_t|", "h": "|dh_T/dh_t|", "bptt": "|dL/dh_t|"}
"""The CSV/JSON column name of each gradient measure (ASCII, for spreadsheets)."""


def comparison_series(cmp, measure: str, *, full: bool = True) -> dict:
    """The three cells' comparison as named per-timestep series (oldest step first; a shorter
    series covers the last steps): each cell's curve for the measure and, with ``full``, the
    extra curves, the RNN's bound, the LSTM cell path and GRU direct path with their totals,
    and the RNN's local factors."""
    m = MEASURE_COLUMNS[measure]
    series = {f"{cell} {m}": curve for cell, curve in cmp.curves.items()}
    if not full:
        return series
    series.update(cmp.extra)
    if cmp.bound is not None:
        series[f"rnn bound (gamma sigma_max)^k {m}"] = cmp.bound
    for prefix, split, path in (("lstm |dL/dc_t|", cmp.lstm_path, "cell-state path"),
                                ("gru |dL/dh_t|", cmp.gru_path, "direct path")):  # fmt: skip
        names = {"path": path, "total": "total", "rest": "other paths (total - path)"}
        for k, v in split.items():
            series[f"{prefix} {names.get(k, k)}"] = v
    series["rnn local factor |diag(act') W_hh|_2"] = cmp.rnn_factors
    return series


def comparison_downloads(cmp, lesson: Lesson, *, key: str, full: bool = True) -> None:
    """CSV and JSON downloads of the three cells' comparison (:func:`comparison_series`, built
    on click); none in presentation mode. ``full=False``: the curves only (the Home hero)."""
    from engine import export
    from figures.gradients import comparison_column as named  # the names in the notation

    series = comparison_series(cmp, lesson.measure, full=full)
    series = {named(k, lesson.notation): v for k, v in series.items()}
    meta = {"measure": named(MEASURE_COLUMNS[lesson.measure], lesson.notation),
            "first_step": cmp.first}  # fmt: skip
    if full:
        meta |= {"rnn_sigma_max": cmp.sigma_max, "rnn_bound_holds": cmp.bound_holds}
    what = "the three cells' numbers" if full else "the three cells' ‖∂h_T/∂x_t‖ per token"
    _download_pair(
        lesson, key=key, name="gatescope_comparison" if full else "gatescope_hero",
        heading="Download these numbers",
        caption=f"{what.capitalize()} as exact float64 numbers, one row per timestep (t from "
        "0); the JSON also records every setting. Every figure also has a PNG button in its "
        "toolbar.",
        csv_label="⬇ CSV: one row per timestep",
        csv_text=lambda: export.series_to_csv(series, cmp.labels),
        json_label="⬇ JSON: numbers and settings",
        json_text=lambda: export.series_to_json(
            series, cmp.labels, settings=state.settings(lesson, measure=True), meta=meta
        ),
    )  # fmt: skip


def training_downloads(results: dict, lesson: Lesson, *, key: str, task: str) -> None:
    """CSV and JSON downloads of a finished training run: each cell's history (step, loss,
    accuracy, gradient norms) and held-out scores before and after (built on click); none in
    presentation mode. The JSON records the lesson's settings and each cell's configuration."""
    import dataclasses

    from engine import export
    from engine.train import history_columns

    histories = {c: history_columns(r.history) for c, r in results.items()}
    evaluations = {c: {"before": r.eval_before, "after": r.eval_after} for c, r in results.items()}
    training = {"task": task, "cells": {}}
    for c, r in results.items():
        cfg = {f.name: getattr(r.config, f.name) for f in dataclasses.fields(r.config)}
        cfg.pop("task")
        training["cells"][c] = cfg | {"status": r.status, "steps_run": r.steps}
    _download_pair(
        lesson, key=key, name="gatescope_training", heading="Download this training run",
        caption="Each cell's history (step, loss, accuracy, gradient norms, ‖∂L/∂h₀‖ the "
        "first-step gradient) and its held-out scores, as exact float64 numbers; the JSON also "
        "records every setting and each cell's training configuration.",
        csv_label="⬇ CSV: one row per training step",
        csv_text=lambda: export.history_to_csv(histories, evaluations),
        json_label="⬇ JSON: histories, scores and settings",
        json_text=lambda: export.history_to_json(
            histories, evaluations, settings=state.settings(lesson), training=training
        ),
    )  # fmt: skip


def lesson_path(lesson: Lesson, *, last_step: int) -> None:
    """The numbered lesson path, each entry a link to its page with the lesson (its one-line
    description hidden in presentation mode). "Backward through time" opens Step through in
    Backward mode at the last step, where the backward walk starts."""
    from .texts import LESSON_PATH

    query = state.to_query(lesson)
    for number, (page_label, label, description) in enumerate(LESSON_PATH, start=1):
        path = keys.page(page_label).path
        if label == "Backward through time":
            if st.button(f"{number}. {label}", key=keys.HOME_BACKWARD, type="tertiary"):
                session.set_value("mode", "backward")
                session.set_value("step", max(int(last_step), 0))
                st.switch_page(path)
        else:
            st.page_link(path, label=f"{number}. {label}", query_params=query)
        if controls_visible(lesson):
            st.caption(description)
