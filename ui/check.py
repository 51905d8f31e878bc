"""The "Check these numbers" panels: the numbers checked on screen, independently of the engine.

Two panels, each one call on its page and each an expander that computes only when opened:

- :func:`panel` (Step through): for the current step t and unit k, BPTT's ∂L/∂h_t[k] (and the
  LSTM's ∂L/∂c_t[k]) against a central finite difference computed on the spot, and the forward
  equations of unit k recomputed from the formula in plain Python against the engine's values;
- :func:`jacobian_panel` (Vanishing gradients): one exact Jacobian norm ‖∂h_T/∂h_t‖₂ (or
  ∂x_t) against the norm of a Jacobian built column by column by finite differences.

The numbers come from :mod:`engine.explain` (``check_forward``, ``check_gradient``,
``check_jacobian_norm``) through ``st.cache_data``; every sentence is built from them, and a
value that finite differences cannot check (an exploded run, a gradient below float64's
rounding, a loss not smooth at the scale of ε) is said to be so, never given a meaningless
error.
"""

from __future__ import annotations

import streamlit as st

from engine import GATES, explain
from figures import notation as nt
from figures.style import fmt_grad

from . import compute, keys, session
from .layout import controls_visible, csv_upload, md_escape
from .state import Lesson

CHECK_BUDGET = 1.0e10
"""Floating-point operations allowed for one finite-difference Jacobian (4n forward runs of
the lag's steps): at large H the lag is limited, and the panel says so."""


def _num(v: float) -> str:
    """A number with twelve significant digits, so agreement can be read digit by digit."""
    return fmt_grad(float(v), 11)


# --------------------------------------------------------------------------------------------
# Cached numbers
# --------------------------------------------------------------------------------------------


@st.cache_data(**compute.CACHE)
def step_numbers(key: Lesson, step: int, unit: int, csv_text) -> dict:
    """The checks of step t, unit k of the lesson's cell: ``forward``
    (:func:`engine.explain.check_forward`), ``h`` and for the lstm ``c``
    (:func:`engine.explain.check_gradient`)."""
    run = compute.run(key, key.cell, csv_text)
    out = {
        "forward": explain.check_forward(run.trace, step, unit),
        "h": explain.check_gradient(run.trace, run.grads, step, unit),
    }
    if key.cell == "lstm":
        out["c"] = explain.check_gradient(run.trace, run.grads, step, unit, state="c")
    return out


@st.cache_data(**compute.CACHE)
def jacobian_numbers(key: Lesson, cell: str, step: int, wrt: str, csv_text) -> dict:
    """:func:`engine.explain.check_jacobian_norm` of one cell's run at step t."""
    run = compute.run(key, cell, csv_text)
    return explain.check_jacobian_norm(run.trace, step, wrt)


def max_check_lag(T: int, H: int, n: int, cell: str) -> int:
    """The largest lag whose finite-difference Jacobian fits in :data:`CHECK_BUDGET`."""
    per_step = 4 * n * 2 * len(GATES[cell]) * H * H  # 4n batched runs, one G·H×H product each
    return int(min(T - 1, max(1, CHECK_BUDGET // per_step)))


# --------------------------------------------------------------------------------------------
# Sentences, each computed from a check's numbers
# --------------------------------------------------------------------------------------------


def at_step(notation: str, cell: str, quantity: str, t) -> str:
    """A quantity at step ``t`` in the notation's plain symbols: ``h_3``, ``a⟨3⟩``, ``C_3``,
    ``Γf⟨3⟩`` and, for deeplearning.ai's GRU z (its numbers), ``(1 − Γu)⟨3⟩``."""
    try:
        s = nt.indexed(notation, cell, quantity, str(t))
    except KeyError:  # a symbol without a time index (Γf, (1 − Γu))
        s = nt.usym(notation, cell, quantity)
        return f"{s}⟨{t}⟩" if notation == "dlai" else f"{s}_{t}"
    return s.replace(f"_{{{t}}}", f"_{t}")


def verdict_text(r: dict, *, what: str, exact: str = "BPTT") -> str:
    """One check's conclusion in words (plain text: escape it for markdown).

    ``what`` names the quantity (``∂L/∂h_t[k]``), ``exact`` the side computed by the engine."""
    a, n, res = r["analytic"], r["numeric"], r["resolution"]
    if r["verdict"] == "overflow":
        where = (
            f"a state reached the engine's cap of 10¹⁰⁰ at step {r['overflow_step']}"
            if r["overflow_step"] is not None
            else "the gradient reached the engine's cap of 10¹⁰⁰"
        )
        return (
            f"Not checkable by finite differences: the run exploded; {where}. Beyond the cap "
            f"the loss no longer follows {what}, so a difference would measure the clipping, "
            "not the gradient."
        )
    if r["verdict"] == "too_small":
        return (
            f"Too small to check by finite differences: {exact} gives {_num(a)}. Float64's "
            f"rounding of the loss lets a difference at ε = {fmt_grad(r['eps'])} resolve "
            f"values only down to about {fmt_grad(res)}; both numbers are below "
            f"{fmt_grad(explain.CHECK_RESOLVE * res)} (the difference measured {fmt_grad(n)}), "
            f"where rounding could make up more than {1 / explain.CHECK_RESOLVE:.1%} of the "
            "comparison."
        )
    if r["verdict"] == "unsettled":
        return (
            f"The finite difference has not settled: it gives {_num(n)} at ε and "
            f"{_num(r['numeric_quarter'])} at ε/4, more than "
            f"{explain.CHECK_SETTLE:.1%} apart, so the loss is not linear over ε here (a ReLU "
            f"kink nearby, or dynamics so sensitive that tiny changes grow) and the difference "
            f"cannot judge {exact}'s {_num(a)}."
        )
    if r["agree"]:
        return (
            f"✅ {exact} and the finite difference agree: relative error "
            f"{fmt_grad(r['rel_error'])}, within what the difference's own accuracy allows "
            f"({fmt_grad(r['tolerance'])})."
        )
    return (
        f"❌ {exact} and the finite difference disagree: relative error "
        f"{fmt_grad(r['rel_error'])}, more than the difference's own accuracy allows "
        f"({fmt_grad(r['tolerance'])})."
    )


def _gradient_block(r: dict, *, what: str, perturbed: str) -> None:
    st.markdown(f"**{md_escape(what)}** ({md_escape(perturbed)})")
    if r["verdict"] != "overflow":
        st.markdown(
            md_escape(
                f"BPTT: {_num(r['analytic'])} · finite difference: {_num(r['numeric'])} · "
                f"ε = {fmt_grad(r['eps'])}"
            )
        )
    st.markdown(md_escape(verdict_text(r, what=what)))


def _forward_block(forward: dict, t: int, k: int, notation: str, cell: str) -> None:
    rows = [
        " | ".join(md_escape(text) for text in (
            f"{at_step(notation, cell, name, t)}[{k}]", _num(v["engine"]), _num(v["recomputed"]),
            fmt_grad(v["abs_error"]),
        ))
        for name, v in forward.items()
    ]  # fmt: skip
    worst = max(v["abs_error"] / max(1.0, abs(v["engine"])) for v in forward.values())
    st.markdown(
        "| quantity | engine | recomputed from the formula | absolute error |\n"
        "|---|---|---|---|\n" + "\n".join(f"| {row} |" for row in rows)
    )
    same = worst <= 1e-12
    st.markdown(
        md_escape(
            f"{'✅' if same else '❌'} The largest difference, relative to the value's size "
            f"(at least 1), is {fmt_grad(worst)}: "
            f"{'float64 rounding' if same else 'more than float64 rounding'} "
            "(the formula sums exactly with math.fsum; the engine uses matrix products)."
        )
    )


# --------------------------------------------------------------------------------------------
# The panels
# --------------------------------------------------------------------------------------------


@st.fragment
def panel(lesson: Lesson, run) -> None:
    """Step through's "Check these numbers" expander, for the current step, unit and direction
    (computed only when opened; none in presentation mode). A fragment: "Check the step shown
    now" reruns only this, for the step the timeline stopped on."""
    if not controls_visible(lesson):
        return
    lesson = session.lesson()  # the step the timeline last reported
    T, H = run.trace.T, run.trace.H
    t, k = min(max(int(lesson.step), 0), T - 1), min(max(int(lesson.unit), 0), H - 1)
    box = st.expander("🔬 Check these numbers", key=keys.STEP_CHECK, on_change="rerun")
    if not box.open:
        return
    with box:
        last = nt.usym(lesson.notation, lesson.cell, "h_last")
        st.caption(
            "What this does: it computes this step's numbers a second, independent way (the "
            "gradients by a central finite difference [L(v + ε) − L(v − ε)] / 2ε of the loss "
            f"L = Σ {last}, the forward values by the equations in plain Python) and sets them "
            "beside the engine's. How to read it: the engine is right when the two agree to "
            "the accuracy given beside them."
        )
        token = run.labels[t] if t < len(run.labels) else str(t)
        st.markdown(
            md_escape(f"Checked: t = {t} (“{token}”), unit k = {k}, {lesson.cell.upper()}.")
        )
        st.button(
            "↻ Check the step shown now", key=keys.STEP_CHECK_NOW,
            help="After stepping in the timeline: check the step it stopped on.",
        )  # fmt: skip
        key = compute.model_key(lesson, lesson.cell)
        numbers = step_numbers(key, t, k, csv_upload() if lesson.source == "csv" else None)
        parts = (_forward, _backward) if lesson.mode == "forward" else (_backward, _forward)
        for draw in parts:  # the direction in use first
            draw(numbers, t, k, lesson.notation, lesson.cell)


def _backward(numbers: dict, t: int, k: int, notation: str, cell: str) -> None:
    st.markdown("##### Backward: BPTT against a finite difference")
    lstm = "c" in numbers
    h = at_step(notation, cell, "h", t)
    c, o = (at_step(notation, cell, q, t) for q in ("c", "o")) if lstm else ("", "")
    _gradient_block(
        numbers["h"], what=f"∂L/∂{h}[{k}]",
        perturbed=f"{h}[{k}] nudged by ±ε" + (f", {c} held fixed" if lstm else ""),
    )  # fmt: skip
    if lstm:
        _gradient_block(
            numbers["c"], what=f"∂L/∂{c}[{k}]",
            perturbed=f"{c}[{k}] nudged by ±ε, {h} = {o} tanh({c}) following it",
        )  # fmt: skip


def _forward(numbers: dict, t: int, k: int, notation: str, cell: str) -> None:
    st.markdown("##### Forward: the engine's values against the formula")
    _forward_block(numbers["forward"], t, k, notation, cell)


def jacobian_panel(lesson: Lesson) -> None:
    """Vanishing gradients' "Check these numbers" expander: one Jacobian norm of the chosen
    cell at one lag, for the page's measure (∂x_t for the input measure, else ∂h_t), against
    finite differences (computed only when opened; none in presentation mode)."""
    if not controls_visible(lesson):
        return
    box = st.expander("🔬 Check these numbers", key=keys.VG_CHECK, on_change="rerun")
    if not box.open:
        return
    csv = csv_upload() if lesson.source == "csv" else None
    wrt = "x" if lesson.measure == "x" else "h"
    n_ = lesson.notation  # the symbols of the RNN's and the LSTM's state (a⟨t⟩ in dlai)
    last, of, h_t = (nt.usym(n_, "lstm", q) for q in ("h_last", wrt, "h"))
    with box:
        st.caption(
            f"What this does: it builds the Jacobian ∂{last}/∂{of} a second way, column "
            f"by column, by nudging each entry of {of} by ±ε and re-running the cell, "
            "and compares its spectral norm with the engine's exact one. How to read it: the "
            "engine is right when the two agree to the accuracy given beside them."
        )
        cols = st.columns(2)
        cell = cols[0].radio(
            "Cell", ("rnn", "gru", "lstm"), key=keys.VG_CHECK_CELL, horizontal=True,
            format_func=str.upper, help="The cell whose Jacobian norm is checked.",
        )  # fmt: skip
        run = compute.run(lesson, cell, csv)
        T, H = run.trace.T, run.trace.H
        n = H if wrt == "h" else run.trace.xs.shape[-1]
        most = max_check_lag(T, H, n, cell) if T > 1 else 0
        if st.session_state.get(keys.VG_CHECK_LAG, 0) > most:  # another cell allows fewer
            st.session_state[keys.VG_CHECK_LAG] = most
        lag = cols[1].number_input(
            "Lag k (steps back from the last step)", min_value=0, max_value=most,
            value=min(10, most), step=1, key=keys.VG_CHECK_LAG,
            help="The Jacobian checked is that of the last state with respect to step T−1−k.",
        )  # fmt: skip
        lag = min(max(int(lag), 0), most)
        if most < T - 1:
            st.caption(
                f"With H = {H} the check re-runs the cell {4 * n:,} times per lag step: lags "
                f"up to {most:,} are offered to keep the page fast."
            )
        if lesson.measure == "bptt":
            st.caption(
                f"The BPTT measure ‖dL/d{h_t}‖ is ‖(∂{last}/∂{h_t})ᵀ 1‖ for L = Σ {last}: this "
                "same Jacobian is what is checked."
            )
        t = T - 1 - lag
        r = jacobian_numbers(compute.model_key(lesson, cell), cell, t, wrt, csv)
        what = f"‖∂{last}/∂{of}‖₂ at t = {t} (lag {lag}), {cell.upper()}"
        st.markdown(f"**{md_escape(what)}**")
        if r["verdict"] != "overflow":
            st.markdown(
                md_escape(
                    f"Engine (exact): {_num(r['analytic'])} · finite differences: "
                    f"{_num(r['numeric'])} · ε up to {fmt_grad(r['eps'])}"
                )
            )
        st.markdown(md_escape(verdict_text(r, what=what, exact="The engine")))
