"""gatescope home: what the app is, the three cells on your sequence, and the lesson path."""

import dataclasses

import streamlit as st

import ui
from figures import gradients
from ui import charts, keys, texts

lesson = ui.page("Home", choose_cell=False)
figure_box, text_box = ui.layout.figure_first(lesson)
text_box.markdown(texts.PITCH)

hero = dataclasses.replace(lesson, measure="x")
comparison = ui.compare_or_stop(hero)
with figure_box:
    ui.chart(
        charts.comparison_figure(
            "gradient_strips",
            hero,
            presentation=lesson.present,
            title="How much of each token reaches the last state: ‖∂h<sub>T</sub>/∂x<sub>t</sub>‖",
            measure="‖∂h<sub>T</sub>/∂x<sub>t</sub>‖",
        ),
        key=keys.HOME_HERO,
        caption=texts.HOW_TO_READ_HERO,
    )
st.markdown(f"**What to notice:** {ui.md_escape(gradients.takeaway(comparison.curves, None))}")

st.subheader("The lesson path")
ui.layout.lesson_path(lesson, last_step=len(comparison.labels) - 1)
ui.layout.comparison_downloads(comparison, hero, key=keys.HOME_DOWNLOADS, full=False)
