"""The Step through timeline: one Streamlit custom component (v2) for everything that shows
the current step.

The cell diagram (SVG), the token strip, the equation ladder (MathML) and the vector strips
are drawn in the browser from :func:`figures.timeline.timeline_data` and move together while
playing, with no server round trip per frame. The component is inline HTML/CSS/JS (no iframe,
no build step, nothing fetched from another host). It reports the step back to Python when the
learner stops (pause, the end of the walk, or a short pause after ◀ ▶ or the keyboard), so the
link and the rest of the page follow.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import streamlit as st

from figures import notation as nt
from figures import style, timeline

from . import compute, keys, session, texts
from .layout import csv_upload
from .state import Lesson

_HERE = Path(__file__).resolve().parent
_COMPONENT = st.components.v2.component(
    "gatescope.timeline",
    html="",
    css=(_HERE / "timeline.css").read_text(encoding="utf-8"),
    js=(_HERE / "timeline.js").read_text(encoding="utf-8"),
)
KEY = keys.STEP_TIMELINE
PRESENT_STEP_MS = 1000  # one step on a projector: slower than 700 ms, a room reads along
WALK = "s__walk"  # the direction of the walk the page showed last (a new walk starts at its end)

PAGE_CSS = """<style>
/* the diagram needs ≥ 900 px: narrower side padding on this page (1366 px laptops) */
[data-testid="stMainBlockContainer"] { padding-left: 2rem; padding-right: 2rem; }
</style>"""

CAPTION = {
    "forward": "How to read this: boxes are gates, filled by their value for unit k at this "
    "step (Viridis 0…1 for gates, red–blue for signed values); the state line's thickness "
    "follows its magnitude. Hover an element for its formula. ▶ Play, ◀ ▶, the slider, the "
    "token chips and the keyboard (← → step, Space plays) move everything together.",
    "backward": "How to read this: the colours are gradient magnitudes |∂L/∂·| on a log scale "
    "fitted to this run, for a loss L = Σ @h_last@ on the last step; the walk runs from the last "
    "step to the first. The number written on the state path is the factor the gradient is "
    "multiplied by at each step on its way back (for the RNN, a bound on it).",
}
CAPTION_EXTRA = {  # @q@: the notation's symbol of q (figures.notation)
    ("backward", "gru"): " The line into × @z@ carries only the direct path's share "
    "∂L/∂@h@ @z@; its note gives that share and the total ∂L/∂@h_prev@ beside it.",
    ("backward", "lstm"): " The highway into × @f@ and the @c_prev@ pill carry only the "
    "highway's share ∂L/∂@c@ @f@ of ∂L/∂@c_prev@ (the rest arrives at step t − 1 through "
    "@h_prev@); its note gives that share and the total beside it.",
}
NOTATION_CAPTION = {
    "dlai": " Symbols: deeplearning.ai's (a⟨t⟩ the hidden state, Γ the gates).",
    "cho": " Symbols: Cho et al. 2014's and colah's.",
}
NOTATION_GRU_CAPTION = {
    "dlai": " This GRU is the course's model: Γr resets c⟨t−1⟩ before the product, and "
    "Γu = 1 − z weighs the candidate (its box and numbers are 1 − z).",
    "cho": " This GRU is Cho 2014's model: r_t resets h_{t−1} before the product, and z_t keeps "
    "the old state as in Cho 2014 (colah's post names the update gate the other way round: "
    "his z_t is this 1 − z_t).",
}
EXTREMES_NOTE = (
    " Where a number leaves float64's range the box above the equations says so at that step: "
    "∞ a state beyond 10¹⁰⁰, overflow a gradient beyond 10¹⁰⁰ or through such a state, "
    "<10⁻³⁰⁰ a gradient that vanished below 10⁻³⁰⁰."
)


def caption(mode: str, cell: str, alerts, notation: str = "pytorch", reset: str = "after") -> str:
    """The how-to-read line for this direction and cell in the notation's symbols (and, for a
    GRU run as the notation's own model, ``reset`` ``"before"``, which model it is); the symbols
    for overflow and underflow are explained when the run has any."""
    text = nt.ufill(CAPTION[mode] + CAPTION_EXTRA.get((mode, cell), ""), notation, cell)
    text += NOTATION_CAPTION.get(notation, "")
    if cell == "gru" and reset == nt.GRU_RESET[notation]:
        text += NOTATION_GRU_CAPTION.get(notation, "")
    extreme = any("10¹⁰⁰" in a or "10⁻³⁰⁰" in a for a in alerts or ())
    return text + (EXTREMES_NOTE if extreme else "")


def frames(T: int, step: int) -> list[int]:
    """The animated steps: all of them up to 200, else an even subsample (and ``step``)."""
    return style.frame_steps_with(T, style.MAX_FRAMES, min(max(step, 0), T - 1))


def _anchor(T: int, step: int) -> int:
    """The step the subsample must contain: 0 (any) when the even subsample has it already,
    so moving along the animated steps never changes the cache key."""
    return 0 if step in style.frame_steps(T) else step


def start_walk(lesson: Lesson, T: int) -> Lesson:
    """The lesson with its step where the walk starts: a new walk (the direction changed)
    starts at its own end (backward: the last step), and so does a link that opens Backward
    without naming a step."""
    previous = st.session_state.get(WALK)
    step = min(max(int(lesson.step), 0), T - 1)
    if previous is None and lesson.mode == "backward":
        if not st.session_state.get(session.URL_STEP):
            step = T - 1
    elif previous is not None and previous != lesson.mode:
        step = T - 1 if lesson.mode == "backward" else 0
    st.session_state[WALK] = lesson.mode
    if step != lesson.step:
        session.set_value("step", step)
        lesson = dataclasses.replace(lesson, step=step)
        session.publish(lesson)
    return lesson


@st.cache_data(max_entries=64, ttl=900, show_spinner=False)
def _data(key: Lesson, csv: bytes | None, unit: int, mode: str, anchor: int, present: bool,
          notation: str = "pytorch"):  # fmt: skip
    run = compute.run(key, key.cell, csv)
    return timeline.timeline_data(
        run.trace,
        run.grads,
        run.labels,
        unit=unit,
        mode=mode,
        step=anchor,
        present=present,
        notation=notation,
    )


def _persist_step() -> None:
    """on_step_change: the learner stopped on a step in the browser; the lesson follows."""
    value = st.session_state.get(KEY) or {}
    if "step" in value and value["step"] is not None:
        session.set_value("step", int(value["step"]))


@st.fragment
def show(lesson: Lesson, run) -> None:
    """Draw the timeline for the lesson's cell, unit, direction and step. A fragment: when the
    learner stops on a step, only this reruns (and the link follows)."""
    lesson = session.lesson()  # a fragment rerun gets the arguments of the last full run
    session.publish(lesson)
    T = run.trace.T
    step = min(max(int(lesson.step), 0), T - 1)
    unit = min(max(int(lesson.unit), 0), run.trace.H - 1)
    key = compute.model_key(lesson, lesson.cell)
    data = dict(_data(key, csv_upload(), unit, lesson.mode, _anchor(T, step), lesson.present,
                      lesson.notation))  # fmt: skip
    ident = repr((key, unit, lesson.mode, lesson.present, lesson.notation, tuple(data["frames"])))
    digest = hashlib.sha1(ident.encode()).hexdigest()
    data.update(
        key=digest[:16],  # the run the browser holds: a new one rebuilds the timeline
        uid=digest[:8],  # unique SVG ids (arrow markers) per timeline
        step=step, present=lesson.present,
        caption=caption(lesson.mode, lesson.cell, data.get("alerts"), lesson.notation,
                        compute.gru_reset(key)),
        stepMs=PRESENT_STEP_MS if lesson.present else data["stepMs"],
        ladderTitle=f"Equations for unit k = {unit} ({lesson.mode})",
        stripsTitle="Every unit at this step (unit k outlined)",
        guides=texts.substep_guides(lesson.cell, run.trace.nonlinearity, lesson.notation,
                                    compute.gru_reset(key)),
    )  # fmt: skip
    st.html(PAGE_CSS)
    _COMPONENT(
        key=KEY, data=data, default={"step": step}, on_step_change=_persist_step,
        height="content",
    )  # fmt: skip
