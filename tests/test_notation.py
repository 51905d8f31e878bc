"""The Notation switch (issue 10): the symbols follow the notation, the numbers do not, except
the GRU of deeplearning.ai and Cho 2014, a different model (its reset gate before the product),
whose numbers are the engine's for ``gru_reset="before"``."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

import engine
from engine import cells, explain, theory
from figures import cell_tables, ladder, timeline
from figures import notation as nt

T, H, D = 9, 5, 3
SAME = {"rtol": 1e-12, "atol": 1e-12}
CELLS = ("rnn", "gru", "lstm")


@functools.cache
def run(cell, reset="after", nl="tanh"):
    """A trace and the gradients of L = Σ h_{T-1} (the pages' loss)."""
    params = engine.init_params(cell, D, H, seed=7)
    xs = np.random.default_rng(7).standard_normal((T, D))
    kw = {"gru_reset": reset} if cell == "gru" else {"nonlinearity": nl}
    trace = engine.forward(cell, params, xs, **kw)
    return trace, engine.backward(trace, theory.last_step_seed(trace))


def step_backward(trace, grads, t):
    """The readable reset-before step functions, run on step t with BPTT's dL/dh_t."""
    h_prev = (trace.h0 if t == 0 else trace.h[t - 1])[None]
    _, cache = cells.gru_reset_before_step_forward(trace.xs[t][None], h_prev, **trace.params)
    return cells.gru_reset_before_step_backward(grads.h[t][None], cache)


# --------------------------------------------------------------------------------------------
# engine.explain on the reset-before GRU: its numbers are the engine's
# --------------------------------------------------------------------------------------------


def test_explain_gradients_equal_the_engines_backward_for_reset_before():
    trace, grads = run("gru", "before")
    assert trace.kernel == "gru_before"
    d = explain.cell_gradients(trace, grads)
    seed = theory.last_step_seed(trace)
    # backward: what step t sends to h_{t-1} is what BPTT carried there
    assert_allclose(d["dh_prev"][1:] + seed[:-1], grads.h[:-1], **SAME)
    assert_allclose(d["dh_prev"][0], grads.h0, **SAME)
    for t in range(T):
        g = step_backward(trace, grads, t)
        for j, q in enumerate("rzn"):  # every pre-activation gradient, as the readable step's
            assert_allclose(d[f"da_{q}"][t], g["bias_ih"][j * H : (j + 1) * H], **SAME,
                            err_msg=f"da_{q} at t={t}")  # fmt: skip
        assert_allclose(d["dh_prev"][t], g["h_prev"][0], **SAME, err_msg=f"dh_prev t={t}")
        # W_hn reads r ⊙ h_{t-1}: the n block of dgh is da_n itself, not r ⊙ da_n
        assert_allclose(d["dgh_n"][t], d["da_n"][t], **SAME)
        assert_allclose(d["dh_z"][t], grads.h[t] * trace.gates["z"][t], **SAME)
    # and summed over the steps they are the engine's parameter gradients
    da = np.concatenate([d["da_r"], d["da_z"], d["da_n"]], axis=1)
    assert_allclose(da.T @ trace.xs, grads.params["weight_ih"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("unit", [0, 3])
def test_explain_values_follow_the_reset_before_model(unit):
    trace, _ = run("gru", "before")
    v = explain.unit_values(trace, unit)
    p, h_prev = trace.params, np.concatenate([trace.h0[None], trace.h[:-1]])
    row = 2 * H + unit
    # forward: the candidate's recurrent term is W_hn (r ⊙ h_{t-1}), the record + b_hn
    assert_allclose(v["uh_n"], (trace.gates["r"] * h_prev) @ p["weight_hh"][row], **SAME)
    assert_allclose(v["hn"], v["uh_n"] + p["bias_hh"][row], **SAME)
    assert_allclose(np.tanh(v["a_n"]), trace.gates["n"][:, unit], **SAME)
    assert_allclose(v["rh"], trace.gates["r"][:, unit] * h_prev[:, unit], **SAME)
    assert "rhn" not in v, "r gates no product in this model"


def test_checks_and_code_follow_the_reset_before_model():
    trace, grads = run("gru", "before")
    for t in (0, T // 2, T - 1):
        assert_allclose(explain._readable_step(trace, t), trace.h[t], **SAME)
        for q, r in explain.check_forward(trace, t, 2).items():
            assert r["abs_error"] < 1e-12, (q, t, r)
    r = explain.check_step(trace, grads, T - 2, 1)
    assert r["rel_error"] < 1e-6, r  # a finite difference of the reset-before run agrees
    assert explain.check_gradient(trace, grads, T // 2, 1)["agree"]
    assert explain.check_jacobian_norm(trace, T // 3)["agree"]  # differences of this model
    assert "def gru_reset_before_step_forward" in explain.step_source("gru", "forward", "before")
    assert "def gru_step_backward" in explain.step_source("gru", "backward")


# --------------------------------------------------------------------------------------------
# The symbol table
# --------------------------------------------------------------------------------------------

LATEX_TOKENS = re.compile(r"@(\w+)(?:\^2)?@")


@pytest.mark.parametrize("notation", nt.NOTATIONS)
def test_the_table_covers_every_quantity_the_views_use(notation):
    """Every @q@ of the diagram tables, the ladder and the guides has a symbol."""
    import inspect

    from ui import texts

    sources = inspect.getsource(ladder) + inspect.getsource(cell_tables)
    sources += inspect.getsource(texts) + inspect.getsource(timeline)
    for cell in CELLS:
        for q in set(LATEX_TOKENS.findall(sources)) - {"RNN", "RESET", "UPDATE", "UPD", "CAND",
                                                       "GRU_H"}:  # fmt: skip
            used = {"lstm": "cfigo", "gru": "rzn", "rnn": "a"}[cell]
            if q in nt._COMMON[notation] or any(q.endswith(f"_{g}") or q == g for g in used):
                assert nt.symbol(notation, cell, q), (notation, cell, q)
    for cell in CELLS:  # the tables fill without a token left over
        for el in cell_tables.table(cell, notation, nt.GRU_RESET[notation]):
            assert "@" not in el.label + el.hover, (cell, el.name)
        guides = texts.substep_guides(cell, "tanh", notation)
        assert not any("@" in g for g in guides.values()), (cell, guides)


def test_symbols_per_notation():
    assert nt.usym("dlai", "lstm", "h") == "a⟨t⟩" and nt.usym("dlai", "gru", "h") == "c⟨t⟩"
    assert nt.usym("dlai", "lstm", "i") == "Γu"  # the LSTM's input gate is Γu
    assert nt.usym("dlai", "gru", "omz") == "Γu"  # the GRU's Γu is 1 − z
    assert nt.usym("cho", "lstm", "c") == "C_t" and nt.usym("cho", "gru", "n") == "h̃_t"
    assert nt.usym("pytorch", "gru", "h_prev") == "h_{t−1}"
    assert nt.GRU_RESET == {"pytorch": "after", "dlai": "before", "cho": "before"}


# --------------------------------------------------------------------------------------------
# The Step through payload: symbols change, numbers do not
# --------------------------------------------------------------------------------------------


def payload(cell, notation, mode, reset="after", nl="tanh"):
    trace, grads = run(cell, reset, nl)
    return timeline.timeline_data(trace, grads, None, unit=2, mode=mode, step=3,
                                  notation=notation)  # fmt: skip


def numbers(d):
    """Every number the payload shows: the diagram's, the ladder's results, the strips."""
    strips = [(r["name"], r["codes"], r["ticks"], r["palette"]) for r in d["strips"]]
    out = [d["diagram"]["text"], d["diagram"]["fill"], d["diagram"]["widths"], strips]
    out.append([signed_numbers(f) for f in d["factor"] or []])
    out += [(ln["result"], ln["fill"]) for ln in d["ladder"]]
    return out


def symbols(d):
    out = [ln["lhs"] + ln["symbolic"] for ln in d["ladder"]]
    out += [e["label"] + e["hover"] for e in d["diagram"]["elements"]]
    return out + [r["label"] for r in d["strips"]]


NUMBER = re.compile(r"([+−]?) ?(\d[\d.×⁰¹²³⁴⁵⁶⁷⁸⁹⁻]*)")


def signed_numbers(text: str) -> list[str]:
    """The signed numbers written in a text (``+ 0.41``, ``+0.41`` and ``0.41`` alike)."""
    return sorted(("−" if s == "−" else "") + n for s, n in NUMBER.findall(text))


def ladder_numbers(d):
    """The substituted numbers of every line, per frame, as sorted lists (the order of the
    terms is the notation's)."""
    return [[signed_numbers(" ".join(row)) for row in ln["numbers"]] for ln in d["ladder"]]


@pytest.mark.parametrize("mode", ["forward", "backward"])
@pytest.mark.parametrize(("cell", "nl"), [("lstm", "tanh"), ("rnn", "tanh"), ("rnn", "relu")])
@pytest.mark.parametrize("notation", ["dlai", "cho"])
def test_lstm_and_rnn_symbols_change_and_numbers_do_not(notation, cell, nl, mode):
    base = payload(cell, "pytorch", mode, nl=nl)
    other = payload(cell, notation, mode, nl=nl)
    # the numbers: exactly the same, element by element, line by line
    assert numbers(other) == numbers(base)
    assert ladder_numbers(other) == ladder_numbers(base)
    assert [signed_numbers(a) for a in other["alerts"]] == [
        signed_numbers(a) for a in base["alerts"]]  # fmt: skip
    # the symbols: every equation line and the state's label differ
    assert symbols(other) != symbols(base)
    changed = [a["lhs"] + a["symbolic"] != b["lhs"] + b["symbolic"]
               for a, b in zip(other["ladder"], base["ladder"], strict=True)]  # fmt: skip
    # deeplearning.ai renames every quantity; Cho 2014 / colah every forward equation (the
    # concatenated weights, C_t), backward at least the weights
    assert all(changed) if notation == "dlai" or mode == "forward" else any(changed), changed


@pytest.mark.parametrize("mode", ["forward", "backward"])
@pytest.mark.parametrize("notation", ["dlai", "cho"])
def test_gru_numbers_are_the_reset_before_engines(notation, mode):
    trace, grads = run("gru", "before")
    d = payload("gru", notation, mode, reset="before")
    h = {e["id"]: j for j, e in enumerate(d["diagram"]["elements"])}
    F = d["frames"]
    key = "h"
    texts = d["diagram"]["text"][h[key]]
    values = grads.h[F, 2] if mode == "backward" else trace.h[F, 2]
    fmt = ladder.fg if mode == "backward" else ladder.fv
    assert texts == [fmt(x) for x in values]
    n_line = next(ln for ln in d["ladder"] if ln["name"] == ("n" if mode == "forward" else "dn"))
    expect = trace.gates["n"][F, 2] if mode == "forward" else explain.cell_gradients(
        trace, grads)["da_n"][F, 2]  # fmt: skip
    assert n_line["result"] == [ladder.fv(x) if mode == "forward" else ladder.fg(x)
                                for x in expect]  # fmt: skip
    # the diagram draws r on h_{t-1} before the product: × r_t ⊙ h_{t-1}, then the matrix
    mul_r = d["diagram"]["elements"][h["mul_r"]]
    assert "before the product" in mul_r["hover"]
    assert d["diagram"]["elements"][h["mat_n"]]["at"][0] > mul_r["at"][0]


def test_dlai_gamma_u_is_one_minus_z():
    trace, grads = run("gru", "before")
    d = payload("gru", "dlai", "forward", reset="before")
    F = d["frames"]
    z = trace.gates["z"][F, 2]
    ids = {e["id"]: j for j, e in enumerate(d["diagram"]["elements"])}
    box = d["diagram"]["elements"][ids["z"]]
    assert box["sym"] == "Γu" and "1 − z" in box["hover"]
    assert d["diagram"]["text"][ids["z"]] == [ladder.fgate(1 - x) for x in z]
    line = next(ln for ln in d["ladder"] if ln["name"] == "z")
    assert line["result"] == [ladder.fgate(1 - x) for x in z]
    assert "Γ" in line["lhs"][0] or "&#x00393;" in line["lhs"][0]
    # its pre-activation is −a_z (W_u = −W_z, b_u = −b_z): σ(−a_z) = 1 − z
    v = explain.unit_values(trace, 2)
    assert [row[1] for row in line["numbers"]] == [f"σ({ladder.fv(-a)})" for a in v["a_z"][F]]
    strip = next(r for r in d["strips"] if r["name"] == "z")
    assert strip["label"] == "Γu"
    back = payload("gru", "dlai", "backward", reset="before")
    dz = next(ln for ln in back["ladder"] if ln["name"] == "dz")
    da_z = explain.cell_gradients(trace, grads)["da_z"][back["frames"], 2]
    assert dz["result"] == [ladder.fg(-x) for x in da_z]  # ∂L/∂z_u = −∂L/∂a_z


def test_cho_gru_writes_z_on_the_old_state_and_names_colahs():
    from ui import timeline as ui_timeline

    d = payload("gru", "cho", "forward", reset="before")
    h_line = next(ln for ln in d["ladder"] if ln["name"] == "h")
    assert "h̃" in nt.plain(nt.fill(nt.GRU_H["cho"][0], "cho", "gru"))
    assert nt.GRU_H["cho"][0].startswith("@z@ \\odot @h_prev@")
    trace, _ = run("gru", "before")
    for row, t in zip(h_line["numbers"], d["frames"], strict=True):  # z_t h_{t-1} written first
        z, hp = trace.gates["z"][t, 2], (trace.h0 if t == 0 else trace.h[t - 1])[2]
        assert row[0].startswith(f"({ladder.fgate(z)})({ladder.fv(hp)}) + "), row
    text = ui_timeline.caption("forward", "gru", [], "cho", "before")
    assert "colah" in text and "1 − z_t" in text


@pytest.mark.parametrize("notation", nt.NOTATIONS)
def test_every_notation_payload_builds_for_every_cell(notation):
    for cell in CELLS:
        reset = nt.GRU_RESET[notation] if cell == "gru" else "after"
        for mode in ("forward", "backward"):
            d = payload(cell, notation, mode, reset=reset)
            assert d["notation"] == notation
            assert set(d["substepLabels"]) == set(d["substeps"])


# --------------------------------------------------------------------------------------------
# Exports: the column names follow the notation, the numbers do not change
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("notation", nt.NOTATIONS)
def test_export_column_names_follow_the_notation(notation, cell):
    import json

    from engine import export

    trace, grads = run(cell)
    names = nt.export_names(notation, cell)
    base = export.columns(trace, grads)
    named = export.columns(trace, grads, names)
    assert list(named) == [names.get(k, k) for k in base]
    for (k, a), b in zip(base.items(), named.values(), strict=True):
        assert a is b, k  # the very same numbers
    header = export.to_csv(trace, grads, notation=names).splitlines()[0].split(",")
    rows = export.to_csv(trace, grads, notation=names).splitlines()[1:]
    assert rows == export.to_csv(trace, grads).splitlines()[1:]
    assert all(h.isascii() for h in header)
    doc = json.loads(export.to_json(trace, grads, notation=names))
    assert list(doc["quantities"]) == list(named)
    assert export.to_csv(trace, grads, notation=None) == export.to_csv(trace, grads)
    if notation == "dlai":
        expected = {"lstm": "a[0]", "gru": "c[0]", "rnn": "a[0]"}[cell]
        assert expected in header and "h[0]" not in header
        assert ("dL/da[0]" if cell != "gru" else "dL/dc[0]") in header
    if (notation, cell) == ("dlai", "gru"):  # it holds z, so it is named 1 − Γu
        assert "1-Gamma_u[0]" in header and "z[0]" not in header
    if (notation, cell) == ("cho", "lstm"):
        assert "C[0]" in header and "C_tilde[0]" in header


def test_export_refuses_two_quantities_with_one_name():
    from engine import export

    trace, grads = run("lstm")
    with pytest.raises(ValueError, match="one name"):
        export.columns(trace, grads, {"h": "c"})


# --------------------------------------------------------------------------------------------
# The app: the sidebar choice, the link
# --------------------------------------------------------------------------------------------


def _ladder_lhs(data) -> list:
    return [ln["lhs"] for ln in data["ladder"]]


@pytest.mark.parametrize("cell", CELLS)
def test_sidebar_notation_changes_the_symbols_and_the_link(cell):
    from test_pages import STEP, assert_clean, open_page, timeline

    at = open_page(STEP, {"cell": cell, "T": "8", "H": "4"})
    assert_clean(at)
    before = timeline(at)
    assert "notation" not in at.query_params  # PyTorch: the default, left out of the link
    for notation in ("dlai", "cho"):
        at.selectbox(key="w_notation").set_value(notation).run()
        assert_clean(at)
        after = timeline(at)
        assert at.query_params["notation"] == [notation] or at.query_params["notation"] == notation
        assert after["notation"] == notation
        assert symbols(after) != symbols(before)
        note = [c.value for c in at.sidebar.get("caption") if "different model" in c.value]
        if cell == "gru":  # the sidebar says the GRU is another model, and its numbers differ
            assert note and nt.LABELS[notation] in note[0]
            assert numbers(after) != numbers(before)
        else:  # the LSTM's and the RNN's numbers are PyTorch's, exactly
            assert not note
            assert numbers(after) == numbers(before)


def test_a_link_with_a_notation_opens_in_it():
    from test_pages import STEP, assert_clean, open_page, timeline

    at = open_page(STEP, {"cell": "gru", "notation": "dlai", "T": "6", "H": "3"})
    assert_clean(at)
    assert at.selectbox(key="w_notation").value == "dlai"
    d = timeline(at)
    assert d["notation"] == "dlai" and d["substepLabels"]["z"] == "Γu"
    ids = [e["id"] for e in d["diagram"]["elements"]]
    # the diagram draws deeplearning.ai's model: r on c⟨t−1⟩ before the matrix
    mul_r, mat = (d["diagram"]["elements"][ids.index(k)] for k in ("mul_r", "mat_n"))
    assert mat["at"][0] > mul_r["at"][0]
    bad = open_page(STEP, {"notation": "klingon", "T": "6"})
    assert_clean(bad)
    assert bad.selectbox(key="w_notation").value == "pytorch"


def test_backward_guides_follow_the_notation():
    from ui import texts

    assert "‖diag(act′) W_hh‖₂" in texts.GUIDE_BACKWARD["rnn"]  # PyTorch's, as before
    assert "multiplied by z_t" in texts.GUIDE_BACKWARD["gru"]
    assert "W_aa" in texts.backward_guide("rnn", "dlai")
    assert "multiplied by (1 − Γu)" in texts.backward_guide("gru", "dlai")
    assert "multiplied by Γf" in texts.backward_guide("lstm", "dlai")
    assert "C_{t−1}" in texts.backward_guide("lstm", "cho")


def test_step_through_backward_guide_and_code_follow_the_notation():
    from test_pages import STEP, assert_clean, open_page

    at = open_page(STEP, {"cell": "gru", "notation": "dlai", "mode": "backward", "T": "6"})
    assert_clean(at)
    text = " ".join(str(m.value) for m in at.get("markdown"))
    assert "multiplied by (1 − Γu)" in text and "multiplied by z_t" not in text
    at.toggle(key="step_show_code").set_value(True).run()
    assert_clean(at)
    code = " ".join(c.value for c in at.get("code"))
    assert "def gru_reset_before_step_backward" in code  # the model that runs
    assert "def gru_step_backward" not in code
