"""GRU reset placement: the same GRU weights and input with the reset gate after the recurrent
product (PyTorch) and before it (Cho 2014), side by side; and weights trained elsewhere."""

import streamlit as st

import ui
from engine import InputError
from figures import gradients
from figures import variants as fv
from figures.notation import short, usym
from ui import keys, layout, variants

lesson = ui.page("GRU reset placement", choose_cell=False)
ui.sequence_or_stop(lesson)
notation = lesson.notation
v = variants.variants_or_stop(lesson)
after, before = v.traces["after"], v.traces["before"]
labels = v.labels[v.first :]
if v.first:
    st.info(
        f"With H = {after.H} each exact Jacobian is {after.H}×{after.H}: the norms are computed "
        f"for the last {len(labels):,} steps (lags 0 to {len(labels) - 1:,}) to keep the page "
        "fast.",
        icon="ℹ️",
    )

figure_box, text_box = layout.figure_first(lesson)
sentence = fv.comparison_sentence(
    after.h, before.h, v.norms["after"], v.norms["before"], notation=notation
)
text_box.markdown(f"**What to notice:** {ui.md_escape(sentence)}")
with figure_box:
    ui.chart(
        fv.lag_figure(v.norms, labels=labels, presentation=lesson.present, notation=notation),
        key=keys.RESET_LAG,
        caption=fv.how_to_read("lag", notation),
    )

st.subheader(f"Two equations, one difference: where {usym(notation, 'gru', 'r')} acts")
for box, p in zip(layout.columns(2, lesson), fv.VARIANTS, strict=True):
    with box:
        st.markdown(f"**{ui.md_escape(fv.HEADINGS[p])}**: {ui.md_escape(fv.WHO[p])}.")
        for equation in fv.equations(p, notation):
            st.latex(equation)
        st.markdown(ui.md_escape(fv.where_r_acts(p, notation)))
diff, t, k = fv.state_difference(after.h, before.h)
h = short(notation, "gru", "h")
st.metric(
    ui.md_escape(f"Largest state difference, max |{h}_before − {h}_after|"),
    fv.fmt_difference(diff),
    help=f"Over every step and unit (here step {t}, unit {k}); both states lie in (−1, 1).",
)

ui.chart(
    fv.gate_means(v.traces, labels=v.labels, presentation=lesson.present, notation=notation),
    key=keys.RESET_GATES,
    caption=fv.how_to_read("gate_means", notation),
)
for p in fv.VARIANTS:
    ui.chart(
        fv.heatmaps(
            v.traces[p], title=f"GRU, {fv.NAMES[p]}: every gate and state over time",
            labels=v.labels, presentation=lesson.present, notation=notation,
        ),
        key=keys.RESET_HEATMAPS + p,
        caption=fv.heatmaps_caption(v.traces[p], notation=notation),
    )  # fmt: skip
variants.downloads(v, lesson, key=keys.RESET_DOWNLOADS)

upload = st.session_state.get(variants.UPLOAD)
if layout.controls_visible(lesson) or upload is not None:
    st.subheader("Weights trained elsewhere")
if layout.controls_visible(lesson):
    st.caption(
        "Upload the weights of one recurrent layer (RNN, GRU or LSTM) as a NumPy .npz "
        "(np.savez) or a JSON object of nested lists, in PyTorch's state_dict names "
        "(weight_ih_l0, …), Keras' (kernel, recurrent_kernel, bias) or deeplearning.ai's (Wf, "
        "Wi, Wc, Wo, …; Wu, Wr, Wc, …; Wax, Waa, ba). They run on this lesson's input, so "
        "their input width D must match it."
    )
    uploader = variants.uploader_key()
    st.file_uploader(
        "Weights file", type=["npz", "json"], key=uploader, on_change=variants.remember_upload,
        args=(uploader,),
        help="A .npz or .json file of one layer's weights (other layers are ignored).",
    )  # fmt: skip
if upload is not None:
    name, data = upload
    if layout.controls_visible(lesson) and st.button(
        f"✕ Forget {ui.md_escape(name)}", key=keys.RESET_FORGET, type="tertiary"
    ):
        variants.forget_upload()
        st.rerun()
    try:
        model = variants.loaded(lesson, data, name, layout.csv_upload())
    except InputError as err:
        st.error(ui.md_escape(str(err)), icon="✋")
    else:
        trace = model.trace
        info = fv.loaded_sentence(model.cell, model.variant, trace.H, trace.D, trace.nonlinearity)
        st.markdown(f"**{ui.md_escape(name)}:** {ui.md_escape(info)}")
        title = fv.loaded_title(model.cell, model.variant)
        ui.chart(
            fv.heatmaps(
                model.trace, title=f"Loaded {title}: every gate and state over time",
                labels=model.labels, presentation=lesson.present, notation=notation,
            ),
            key=keys.RESET_LOADED_GATES,
            caption=fv.heatmaps_caption(model.trace, compare=False, notation=notation),
        )  # fmt: skip
        ui.chart(
            fv.loaded_lag_figure(
                model.cell, model.variant, model.norms, labels=model.lag_labels,
                presentation=lesson.present, notation=notation,
            ),
            key=keys.RESET_LOADED_LAG,
            caption=fv.how_to_read("loaded_lag", notation),
        )  # fmt: skip
        takeaway = gradients.takeaway({model.cell: fv.capped(model.norms)}, None)
        st.markdown(f"**What to notice:** {ui.md_escape(takeaway)}")
