"""Gates over time: every gate and state of every unit across the whole sequence."""

import streamlit as st

import ui
from figures import gates, style
from ui import charts, keys, texts

lesson = ui.page("Gates over time")
ui.sequence_or_stop(lesson)
run = ui.run_or_stop(lesson)
trace = run.trace
T, H = trace.T, trace.H
step = ui.layout.lesson_control(
    lesson, "step", st.slider, "Timestep t (0-based)", 0, max(T - 1, 1), disabled=T == 1,
    coerce=lambda t: min(max(int(t), 0), T - 1),
    help="The step the cursor starts from and the bars and lines show (shared with Step "
    "through). ▶ Play in the heatmaps animates every step in the browser.",
)  # fmt: skip
step = min(max(int(step), 0), T - 1)
figure_box, text_box = ui.layout.figure_first(lesson)
with text_box:
    ui.notice_subsampled(T, len(style.frame_steps(T)))
    notice = gates.what_to_notice(trace, notation=lesson.notation)
    st.markdown(f"**What to notice:** {ui.md_escape(notice)}")
with figure_box:
    ui.chart(
        charts.cell_figure("gate_heatmaps", lesson, step=step, presentation=lesson.present),
        key=keys.GATES_HEATMAPS,
        caption=gates.how_to_read("gate_heatmaps", trace, notation=lesson.notation),
    )

left, right = ui.layout.columns(2, lesson)
with left:
    ui.chart(
        charts.cell_figure("step_bars", lesson, step=step, presentation=lesson.present),
        key=keys.GATES_BARS,
        caption=gates.how_to_read("step_bars", trace, notation=lesson.notation),
    )
with right:
    unit = ui.layout.lesson_control(
        lesson, "unit", st.number_input, "Unit k", min_value=0, max_value=H - 1, step=1,
        help=texts.HELP["unit"], coerce=lambda k: min(max(int(k), 0), H - 1),
    )  # fmt: skip
    unit = min(max(int(unit), 0), H - 1)
    ui.chart(
        charts.cell_figure("unit_lines", lesson, unit=unit, step=step, presentation=lesson.present),
        key=keys.GATES_UNIT,
        caption=gates.how_to_read("unit_lines", trace, notation=lesson.notation),
    )
ui.chart(
    charts.cell_figure("saturation_strip", lesson, step=step, presentation=lesson.present),
    key=keys.GATES_SATURATION,
    caption=gates.how_to_read("saturation_strip", trace, notation=lesson.notation),
)
ui.downloads(run, lesson, key=keys.GATES_DOWNLOADS)
