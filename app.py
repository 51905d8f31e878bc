"""gatescope home: what the app is, the three cells on your sequence, and the lesson path."""

import dataclasses

import streamlit as st

import ui
from engine.lessons import REGIMES
from figures import gradients
from figures.notation import html_text, ufill
from ui import charts, keys, sidebar, texts

lesson = ui.page("Home", choose_cell=False)
figure_box, text_box = ui.layout.figure_first(lesson)
text_box.markdown(texts.PITCH)

hero = dataclasses.replace(lesson, measure="x")
plain_measure = ufill("‖∂@h_last@/∂@x@‖", lesson.notation, "lstm")  # ‖∂h_T/∂x_t‖, ‖∂a⟨T⟩/∂x⟨t⟩‖
measure = html_text(plain_measure)
comparison = ui.compare_or_stop(hero)
with figure_box:
    ui.chart(
        charts.comparison_figure(
            "gradient_strips",
            hero,
            presentation=lesson.present,
            title=f"How much of each token reaches the last state: {measure}",
            measure=measure,
        ),
        key=keys.HOME_HERO,
        caption=texts.HOW_TO_READ_HERO.replace("‖∂h_T/∂x_t‖", plain_measure),
    )
st.markdown(f"**What to notice:** {ui.md_escape(gradients.takeaway(comparison.curves, None))}")

st.subheader("The lesson path")
ui.layout.lesson_path(lesson, last_step=len(comparison.labels) - 1)

st.subheader("Regime lessons")
if ui.layout.controls_visible(lesson):
    st.caption(
        "The regimes the literature teaches, each a full set of settings: the button opens it "
        "here, the link opens it in a new tab (share it with a class)."
    )
for name, regime in REGIMES.items():
    if st.button(regime.title, key=keys.HOME_REGIME + name, type="tertiary", icon="🧪"):
        sidebar.apply_regime(name)
        st.switch_page(keys.page(regime.page).path)
    if ui.layout.controls_visible(lesson):
        st.caption(
            f"{ui.md_escape(regime.explanation)} {ui.md_escape(regime.reference)}. "
            f"[🔗 Open on {regime.page} in a new tab]"
            f"({sidebar.regime_link(name)})"
        )
ui.layout.comparison_downloads(comparison, hero, key=keys.HOME_DOWNLOADS, full=False)
