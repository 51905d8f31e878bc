"""Step through: one cell, one sequence, one timestep at a time, forward and backward."""

import streamlit as st

import ui
from figures import equations, stepper, style
from ui import charts, session, state, texts

lesson = ui.page("Step through")
ui.sequence_or_stop(lesson)
run = ui.run_or_stop(lesson)
trace, grads = run.trace, run.grads
T, H = trace.T, trace.H

controls = st.columns([2, 1, 4, 2])
mode = session.bind(
    "mode", controls[0].radio, "Direction", state.MODES, horizontal=True, help=texts.HELP["mode"],
    format_func={"forward": "Forward ▶", "backward": "◀ Backward (BPTT)"}.get,
)  # fmt: skip
if st.session_state.get("step_walk", mode) != mode:  # a new walk starts at its own end
    session.set_value("step", T - 1 if mode == "backward" else 0)
st.session_state["step_walk"] = mode
unit = session.bind(
    "unit", controls[1].number_input, "Unit k", min_value=0, max_value=H - 1, step=1,
    help=texts.HELP["unit"], coerce=lambda k: min(max(int(k), 0), H - 1),
)  # fmt: skip
substeps = texts.SUBSTEPS[trace.cell]
focus = controls[2].radio(
    "Sub-step", substeps, horizontal=True, key="step_focus",
    help="Highlight one part of the step in the diagram; the rest fades.",
)  # fmt: skip
auto = controls[3].toggle(
    "Auto-step", key="step_auto",
    help="Walk one step every 0.7 s on the server, so the equations and the vectors follow "
    "the diagram. Any ◀ ▶ click pauses; the walk stops at its end.",
)  # fmt: skip
ui.notice_subsampled(T, len(style.frame_steps(T)))
magnitude = run.grad_norms if mode == "backward" else None


WALK = 1 if mode == "forward" else -1  # "next" in this walk
STEP_SECONDS = style.STEP_MS / 1000


def _move(delta: int) -> None:
    step = min(max(session.value("step") + delta, 0), T - 1)
    session.set_value("step", step)
    st.session_state["step_clicked"] = True  # this rerun is the learner's: no auto-step
    if st.session_state.get("step_auto"):  # any interaction pauses autoplay
        st.session_state["step_auto"] = False
        st.session_state["step_stop_timer"] = True


def _auto_step() -> None:
    """A timed rerun of the fragment: one step on in the walk, stopping at its end."""
    step = session.value("step") + WALK
    if 0 <= step < T:
        session.set_value("step", step)
    else:
        st.session_state["step_auto"] = False
        st.rerun()  # the whole page, so the fragment's timer is switched off


def stepper_view() -> None:
    """Everything that follows the current step: reruns alone (about 0.1 s) on ◀ ▶, and
    every 0.7 s when auto-stepping."""
    if st.session_state.pop("step_stop_timer", False):
        st.rerun()
    timed = not st.session_state.pop("step_fresh", False)
    clicked = st.session_state.pop("step_clicked", False)
    if auto and timed and not clicked:
        _auto_step()
    nav = st.columns([1, 1, 6, 2], vertical_alignment="bottom")
    nav[0].button(
        "◀ Prev",
        key="step_prev",
        on_click=_move,
        args=(-WALK,),
        help="One step back in this walk (backward mode walks from the last step).",
    )
    nav[1].button(
        "Next ▶",
        key="step_next",
        on_click=_move,
        args=(WALK,),
        help="One step on in this walk.",
    )
    step = session.bind(
        "step", nav[2].slider, "Timestep t (0-based)", 0, max(T - 1, 1) if T > 1 else 1,
        coerce=lambda t: min(max(int(t), 0), T - 1), disabled=T == 1,
        help="The step the equations, the diagram and the vectors show.",
    )  # fmt: skip
    step = min(step, T - 1)
    nav[3].markdown(f"**`{style.fmt_counter(step, T)}`**")
    session.publish(session.lesson())

    ui.chart(
        stepper.token_timeline(
            run.labels,
            step,
            values=magnitude,
            mode=mode,
            max_frames=0,
            presentation=lesson.present,
        ),
        key="step_timeline",
        caption="How to read this: time unrolled, one chip per input token; the outlined chip "
        "is the current step."
        + (" Colour: ‖dL/dh_t‖ (log scale)." if magnitude is not None else ""),
    )
    left, right = st.columns([5, 4])
    with left:
        ui.chart(
            charts.cell_figure(
                "cell_diagram", lesson, unit=unit, step=step, mode=mode,
                focus=None if focus == "all" else focus, presentation=lesson.present,
            ),
            key="step_diagram",
            caption="How to read this: boxes are gates, filled by their value for unit k at this "
            "step (hover for the formula with the numbers). Press ▶ Play to animate every step "
            "in the browser; ◀ ▶ above move the equations too.",
        )  # fmt: skip
    with right:
        st.markdown(f"**Equations at t = {step}, unit {unit}** ({mode})")
        for line in equations.equation_ladder(
            trace, step, unit, mode=mode, grads=grads, presentation=lesson.present
        ):
            st.latex(line.latex)
        ui.chart(
            charts.cell_figure(
                "vector_strips",
                lesson,
                step=step,
                unit=unit,
                mode=mode,
                presentation=lesson.present,
            ),
            key="step_vectors",
            caption="How to read this: every unit's value at this step, one strip per quantity; "
            "unit k is outlined.",
        )
    with st.container(border=True):
        st.markdown(f"**Guide · {ui.md_escape(focus)}**")
        st.markdown(texts.GUIDE[trace.cell][focus])
        if mode == "backward":
            st.markdown(
                "Backward, the gradient of a loss on the last hidden state (L = Σ h_T) walks "
                "from the last step to the first. **What to notice:** the factor written on the "
                "state path is what the gradient is multiplied by at each step."
            )


st.session_state["step_fresh"] = True  # a full run: the fragment shows, it does not step
st.fragment(stepper_view, run_every=STEP_SECONDS if auto else None)()

ui.downloads(run, lesson, key="step")
