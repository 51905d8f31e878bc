"""Vanishing gradients: the same sequence through RNN, GRU and LSTM, side by side."""

import numpy as np
import streamlit as st

import ui
from figures import gradients
from ui import charts, keys, state, texts
from ui.check import jacobian_panel

lesson = ui.page("Vanishing gradients", choose_cell=False)
ui.sequence_or_stop(lesson)
notation = lesson.notation
measure_labels = state.measure_labels(notation)
measure = ui.layout.lesson_control(
    lesson, "measure", st.radio, "Gradient measure", state.MEASURES, horizontal=True,
    format_func=measure_labels.get, help=texts.HELP["measure"],
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
gates = {c: ui.run_or_stop(lesson, c).trace.gates for c in ("gru", "lstm")}
memory = gradients.gate_memory_sentence(
    gates["gru"]["z"], gates["lstm"]["f"], lag=n - 1, notation=notation
)
text_box.markdown(f"**Why the gated cells keep or lose it:** {ui.md_escape(memory)}")
with figure_box:
    ui.chart(
        charts.comparison_figure(
            "gradient_strips",
            lesson,
            title=f"{measure_labels[measure]} per token",
            measure=measure_labels[measure].split(" ")[0],
            presentation=lesson.present,
        ),
        key=keys.VG_STRIPS,
        caption=gradients.how_to_read("gradient_strips", notation),
    )
ui.chart(
    charts.comparison_figure(
        "gradient_vs_lag", lesson, measure_label=measure_labels[measure],
        presentation=lesson.present,
    ),
    key=keys.VG_LAG,
    caption=gradients.how_to_read("gradient_vs_lag", notation),
)  # fmt: skip
verdict = "holds ✅" if cmp.bound_holds else "is violated ❌"
act = (gradients.derivative(cmp.nonlinearity, notation)[0].removeprefix("diag(")[:-1]
       + (" (tanh′)" if cmp.nonlinearity == "tanh" else " (ReLU′)"))  # fmt: skip
w_hh = gradients.recurrent_weight(notation)
rate = (
    "below 1, so the RNN's gradient must vanish at least geometrically"
    if cmp.sigma_max < 1 - 1e-9
    else "1, so the bound stays at 1 and allows no growth; whether the gradient vanishes is "
    f"decided by the derivatives {act} at each step, shown in the 'why' panel below"
    if cmp.sigma_max <= 1 + 1e-9
    else "above 1, so the bound allows growth: whether the gradient vanishes or grows is "
    f"decided by the derivatives {act} at each step, shown in the 'why' panel below"
)
where = (
    f"cannot be checked here: every lag crosses a state clipped at 10¹⁰⁰ (the states "
    f"overflowed from step {cmp.rnn_overflow} on)"
    if np.all(np.isinf(cmp.curves["rnn"][:-1]))
    else f"at every lag whose Jacobian does not cross a state clipped at 10¹⁰⁰ (the states "
    f"overflowed from step {cmp.rnn_overflow} on)"
    if cmp.rnn_overflow is not None
    else "at every lag"
)
check = where if where.startswith("cannot") else f"{verdict} {where}"
st.markdown(
    "**Theory for the RNN** "
    + ui.md_escape(
        "(Pascanu, Mikolov & Bengio 2013): each step back multiplies the "
        f"gradient by the matrix diag({act}) {w_hh}, so {measure_labels['h'].split(' ')[0]} ≤ "
        f"(γ·σ_max)^k over k steps, with γ = 1 and σ_max({w_hh}) = {cmp.sigma_max:.3f}: "
        f"{rate}. The faint grey line is this "
        f"bound (times the measure's own constant factor); for this run it {check}."
    )
)

st.subheader("Why: the paths the gradient takes")
cols = ui.layout.columns(2, lesson)
with cols[0]:
    ui.chart(
        charts.comparison_figure("lstm_path", lesson, presentation=lesson.present),
        key=keys.VG_LSTM_PATH,
        caption=gradients.how_to_read("path_split", notation),
    )  # fmt: skip
with cols[1]:
    ui.chart(
        charts.comparison_figure("gru_path", lesson, presentation=lesson.present),
        key=keys.VG_GRU_PATH,
        caption=gradients.how_to_read("path_split", notation),
    )  # fmt: skip
T = len(cmp.rnn_factors)
factor = gradients.rnn_factor_name(cmp.nonlinearity, notation=notation)
factor = factor.replace("<sub>", "_").replace("</sub>", "")
if T < 2:  # one step: no step back, so no product of factors to draw
    st.info("With a single step there is no step back to cross: the RNN's product of local "
            "factors needs at least two steps.", icon="ℹ️")  # fmt: skip
else:
    lag = ui.layout.page_control(
        lesson, keys.VG_WHY_LAG, st.slider, "Lag k for the RNN's product of local factors", 1,
        T - 1, default=10, coerce=lambda k: min(max(int(k), 1), T - 1),
        help=f"The RNN's gradient k steps back is at most the product of the last k local "
        f"factors {factor}: an upper bound, drawn beside the measured norm.",
    )  # fmt: skip
    measured = np.concatenate([np.full(T - len(cmp.rnn_measured), np.nan), cmp.rnn_measured])
    ui.chart(
        charts.comparison_figure("why_factors", lesson, lag=lag, presentation=lesson.present),
        key=keys.VG_WHY,
        caption=gradients.how_to_read("why_factors", notation),
    )  # fmt: skip
    st.markdown(
        ui.md_escape(
            gradients.why_summary(
                cmp.rnn_factors[T - lag :], measured, nonlinearity=cmp.nonlinearity,
                overflow_step=cmp.rnn_overflow, notation=notation,
            )
        )
    )  # fmt: skip
jacobian_panel(lesson)
ui.layout.comparison_downloads(cmp, lesson, key=keys.VG_DOWNLOADS)
