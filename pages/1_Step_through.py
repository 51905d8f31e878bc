"""Step through: one cell, one sequence, one timestep at a time, forward and backward."""

import streamlit as st

import ui
from engine import explain
from ui import check, keys, layout, session, state, texts, timeline

lesson = ui.page("Step through")
ui.sequence_or_stop(lesson)
run = ui.run_or_stop(lesson)
T, H = run.trace.T, run.trace.H

if layout.controls_visible(lesson):
    controls = st.columns([3, 1, 2], vertical_alignment="bottom")
    with controls[0]:
        layout.lesson_control(
            lesson, "mode", st.radio, "Direction", state.MODES, horizontal=True,
            help=texts.HELP["mode"],
            format_func={"forward": "Forward ▶", "backward": "◀ Backward (BPTT)"}.get,
        )  # fmt: skip
    with controls[1]:
        layout.lesson_control(
            lesson, "unit", st.number_input, "Unit k", min_value=0, max_value=H - 1, step=1,
            help=texts.HELP["unit"], coerce=lambda k: min(max(int(k), 0), H - 1),
        )  # fmt: skip
    show_code = controls[2].toggle(
        "Show the code", key=keys.STEP_SHOW_CODE,
        help="The engine's step function behind the picture, in plain NumPy.",
    )  # fmt: skip
else:
    show_code = False
lesson = timeline.start_walk(session.lesson(), T)
ui.notice_subsampled(T, len(timeline.frames(T, lesson.step)))

timeline.show(lesson, run)

if show_code:
    st.caption(
        f"The {lesson.cell.upper()} step, {lesson.mode}, as the engine writes it (engine/cells.py)."
        " The app runs a vectorised twin of this function; a test holds the two equal."
    )
    source = explain.step_source(lesson.cell, lesson.mode, run.trace.gru_reset)
    st.code(source, language="python", wrap_lines=True)

if lesson.mode == "backward":  # the timeline's guide says what each sub-step does
    with st.container(border=True):
        st.markdown(f"**Backward through time · {lesson.cell.upper()}**")
        st.markdown(texts.backward_guide(lesson.cell, lesson.notation))

check.panel(lesson, run)
ui.downloads(run, lesson, key=keys.STEP_DOWNLOADS)
