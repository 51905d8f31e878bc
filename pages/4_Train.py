"""Train: RNN, GRU and LSTM learn (or fail to learn) a long-term dependency, side by side."""

import dataclasses
import itertools

import streamlit as st

import ui
from engine import tasks
from figures import gates, gradients, notation, style, training
from ui import keys, session, state
from ui import training as runs

lesson = ui.page("Train", choose_cell=False)
figure_box, text_box = ui.layout.figure_first(lesson)
with text_box:
    st.markdown(
        "Each cell gets the same task, the same hidden size H, the same seed and the same "
        "budget. **What to notice:** at a long enough lag the vanilla RNN's loss stays at the "
        "chance line, because the gradient that should teach it about the first steps has "
        "vanished; the gated cells' gradient survives and their loss drops."
    )
    task, lag, cells, steps = runs.settings(lesson)
    if "gru" in cells and notation.GRU_RESET[lesson.notation] != "after":
        st.caption(
            f"In {notation.LABELS[lesson.notation]} notation the other pages run the GRU with its "
            "reset gate before the recurrent product; Train trains PyTorch's GRU (reset after "
            "the product), whatever the notation: only its symbols follow the notation here."
        )
if not cells:
    st.error("Pick at least one cell to train.")
    st.stop()
cfgs = runs.configs(
    task, lag, cells, steps=int(steps), H=lesson.H, seed=lesson.seed, lr=1e-2,
    forget_bias=lesson.forget_bias, update_bias=lesson.update_bias, activation=lesson.activation,
)  # fmt: skip
task_obj = tasks.TASKS[task]
ylabel = "MSE (squared units)" if task_obj.loss == "mse" else "cross-entropy (nats)"
baseline_label = "chance (predict the mean)" if task_obj.loss == "mse" else "chance (guess)"

results = runs.cached(cfgs)
with figure_box:
    start, replay, train_again = runs.start_stop(done=results is not None)
    waiting = st.empty()
    bars = runs.progress_bars(cells, compact=lesson.present)
    loss_box, grad_box = ui.layout.columns(2, lesson)
    loss_slot, grad_slot = loss_box.empty(), grad_box.empty()
    loss_box.caption(training.HOW_TO_READ["loss_curves"])
    grad_box.caption(training.HOW_TO_READ["first_step_gradient"])


redraws = itertools.count()  # every redraw replaces the charts: a fresh element key each time


def draw(source) -> None:
    hist, n = runs.histories(source), next(redraws)
    for c, t in source.items():
        bars[c].progress(
            min(len(t.history) / int(steps), 1.0),
            text=f"{style.CELL_NAMES[c]}: {style.fmt_counter(len(t.history) - 1, int(steps))}"
            + (" · diverged" if t.status == "diverged" else ""),
        )
    loss_slot.plotly_chart(
        training.loss_curves(hist, task_obj.chance_loss, ylabel=ylabel, max_steps=int(steps),
                             baseline_label=baseline_label, presentation=lesson.present),
        key=keys.train_chart("loss", n),
        config=ui.layout.PLOTLY_CONFIG,
    )  # fmt: skip
    grad_slot.plotly_chart(
        training.first_step_gradient(
            hist, max_steps=int(steps), presentation=lesson.present, notation=lesson.notation
        ),
        key=keys.train_chart("grad", n),
        config=ui.layout.PLOTLY_CONFIG,
    )


if start:
    _, here = runs.train_live(
        cfgs, draw, on_wait=lambda pos: waiting.info(runs.waiting_text(pos), icon="⏳"),
        reuse=not train_again,
    )  # fmt: skip
    if not here:
        st.session_state[runs.REUSED] = True
    st.rerun()  # the run is kept: the page is drawn again with it (▶ Train again, 🔁 Replay)
elif replay and results is not None:
    runs.replay(results, draw)
if results is None:
    draw({c: runs.NOT_STARTED for c in cfgs})
    st.info("Press ▶ Train: the curves update while the cells learn.", icon="ℹ️")
    ui.layout.lesson_download_alone(
        dataclasses.replace(lesson, trained=""), key=keys.TRAIN_DOWNLOADS
    )  # the lesson file holds the untrained cells: before a run, it is all there is to keep
    st.stop()

draw(results)
if st.session_state.pop(runs.REUSED, False):
    st.info(runs.REUSED_TEXT, icon="🔁")
st.success(runs.summary(results), icon="📏")
spec = runs.spec_of(cfgs, results, forget_bias=lesson.forget_bias, update_bias=lesson.update_bias)
trained = runs.format_trained(spec)
if st.button(
    "🎓 Open the trained cells", key=keys.TRAIN_OPEN_TRAINED, type="primary",
    help="Step through, Gates over time and Vanishing gradients with these trained cells, on a "
    "fresh sequence of the task (the link carries the training, so it can be shared).",
):  # fmt: skip
    runs.keep(cfgs, results)
    session.set_value("trained", trained)
    st.switch_page(keys.page("Step through").path)
st.caption(
    "Opens Step through with the trained RNN, GRU and LSTM on a fresh sequence of the task "
    f"(Gates over time and Vanishing gradients show them too; {tasks.MARK} marks the steps the "
    "answer depends on). Cells not chosen here keep their initial weights."
)
metrics = st.columns(len(results))
for col, (c, r) in zip(metrics, results.items(), strict=True):
    after, before = r.eval_after, r.eval_before
    if after.accuracy is not None:
        col.metric(f"{style.CELL_NAMES[c]} accuracy", f"{after.accuracy:.0%}",
                   f"{after.accuracy - before.accuracy:+.0%} from start",
                   help=f"Held-out accuracy; chance is {after.chance_accuracy:.0%}.")  # fmt: skip
    else:
        col.metric(f"{style.CELL_NAMES[c]} MSE", f"{after.loss:.4f}",
                   f"{after.loss - before.loss:+.4f} from start", delta_color="inverse",
                   help=f"Held-out MSE; chance is {after.chance_loss:.4f}.")  # fmt: skip

st.subheader("Before and after training")
probes = {
    when: {
        c: runs.probe(cfgs[c], when, r.params_before if when == "before" else r.params)
        for c, r in results.items()
    }
    for when in ("before", "after")
}
measure = state.measure_labels(lesson.notation)["x"].split(" ")[0]  # ‖∂h_T/∂x_t‖
cols = ui.layout.columns(2, lesson)
for col, when in zip(cols, ("before", "after"), strict=True):
    with col:
        ui.chart(
            gradients.gradient_vs_lag(
                {c: p[1] for c, p in probes[when].items()},
                measure_label=f"{measure} {when} training",
            ),
            key=keys.train_chart("lag", when),
        )
st.caption(gradients.how_to_read("gradient_vs_lag", lesson.notation))
shown = ui.layout.page_control(
    lesson, keys.TRAIN_GATE_CELL, st.radio, "Gate view of", list(results), horizontal=True,
    default=next(iter(results)), format_func=style.CELL_NAMES.get,
    coerce=lambda c: c if c in results else next(iter(results)),
)  # fmt: skip
cols = ui.layout.columns(2, lesson)
for col, when in zip(cols, ("before", "after"), strict=True):
    with col:
        ui.chart(
            gates.gate_heatmaps(probes[when][shown][0], max_frames=0, notation=lesson.notation),
            key=keys.train_chart("gates", when),
        )
st.caption(gates.how_to_read("gate_heatmaps", probes["after"][shown][0], notation=lesson.notation))
# this page trains with the sidebar's settings, whatever trained cells the other pages show
untrained = dataclasses.replace(lesson, trained="")
ui.layout.training_downloads(results, untrained, key=keys.TRAIN_DOWNLOADS, task=task)
