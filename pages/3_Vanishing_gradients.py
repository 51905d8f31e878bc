"""Vanishing gradients: the same sequence through RNN, GRU and LSTM, side by side."""

import streamlit as st

import ui
from figures import gradients, style
from ui import charts, keys, state, texts

lesson = ui.page("Vanishing gradients", choose_cell=False)
ui.sequence_or_stop(lesson)
measure = ui.layout.lesson_control(
    lesson, "measure", st.radio, "Gradient measure", state.MEASURES, horizontal=True,
    format_func=state.MEASURE_LABELS.get, help=texts.HELP["measure"],
)  # fmt: skip
cmp = ui.compare_or_stop(lesson)
labels = cmp.labels[cmp.first :]
n = len(labels)
if cmp.first:
    st.info(
        f"With H = {lesson.H} each exact Jacobian is {lesson.H}×{lesson.H}: the norms are computed "
        f"for the last {n:,} steps (lags 0 to {n - 1:,}) to keep the page fast.",
        icon="ℹ️",
    )

figure_box, text_box = ui.layout.figure_first(lesson)
text_box.markdown(f"**What to notice:** {ui.md_escape(gradients.takeaway(cmp.curves, None))}")
with figure_box:
    ui.chart(
        charts.comparison_figure(
            "gradient_strips",
            lesson,
            title=f"{state.MEASURE_LABELS[measure]} per token",
            measure=state.MEASURE_LABELS[measure].split(" ")[0],
            presentation=lesson.present,
        ),
        key=keys.VG_STRIPS,
        caption=gradients.HOW_TO_READ["gradient_strips"],
    )
ui.chart(
    charts.comparison_figure(
        "gradient_vs_lag", lesson, measure_label=state.MEASURE_LABELS[measure],
        presentation=lesson.present,
    ),
    key=keys.VG_LAG,
    caption=gradients.HOW_TO_READ["gradient_vs_lag"],
)  # fmt: skip
verdict = "holds ✅" if cmp.bound_holds else "is violated ❌"
rate = (
    "below 1, so the RNN's gradient must vanish at least geometrically"
    if cmp.sigma_max < 1
    else "above 1, so the bound allows growth: whether the gradient vanishes is decided by "
    "the squashing (1 − h_t²) at each step, shown in the 'why' panel below"
)
st.markdown(
    f"**Theory for the RNN** (Pascanu, Mikolov & Bengio 2013): each step back multiplies the "
    f"gradient by diag(act′) W_hh, so ‖∂h_T/∂h_t‖ ≤ (γ·σ_max)^k over k steps, with γ = 1 and "
    f"σ_max(W_hh) = {cmp.sigma_max:.3f}: {rate}. The faint grey line is this bound (times the "
    f"measure's own constant factor); for this run it {verdict} at every lag."
)

st.subheader("Why: the paths the gradient takes")
cols = ui.layout.columns(2, lesson)
with cols[0]:
    ui.chart(
        charts.comparison_figure("lstm_path", lesson, presentation=lesson.present),
        key=keys.VG_LSTM_PATH,
        caption=gradients.HOW_TO_READ["path_split"],
    )  # fmt: skip
with cols[1]:
    ui.chart(
        charts.comparison_figure("gru_path", lesson, presentation=lesson.present),
        key=keys.VG_GRU_PATH,
        caption=gradients.HOW_TO_READ["path_split"],
    )  # fmt: skip
T = len(cmp.rnn_factors)
lag = ui.layout.page_control(
    lesson, keys.VG_WHY_LAG, st.slider, "Lag k for the RNN's product of local factors", 1,
    max(T - 1, 1), default=10, disabled=T < 2, coerce=lambda k: min(max(int(k), 1), max(T - 1, 1)),
    help="The RNN's gradient k steps back is bounded by the product of the last k local "
    "factors ‖diag(1 − h_t²) W_hh‖₂.",
)  # fmt: skip
ui.chart(
    charts.comparison_figure("why_factors", lesson, lag=lag, presentation=lesson.present),
    key=keys.VG_WHY,
    caption=gradients.HOW_TO_READ["why_factors"],
)
st.caption(
    f"{style.CELL_NAMES['rnn']}: every step back multiplies the gradient by one of these factors; "
    "when they are below 1 the product, and the gradient, vanish geometrically."
)
ui.layout.comparison_downloads(cmp, lesson, key=keys.VG_DOWNLOADS)
