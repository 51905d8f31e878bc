"""The Notation choice on the pages beyond Step through (issue 10): Gates over time and
Vanishing gradients draw every symbol in the lesson's notation and the same numbers, except the
GRU of deeplearning.ai and Cho 2014 (a different model: the reset gate before the product) and
deeplearning.ai's Γu, drawn as 1 − z (as Step through's strips draw it)."""

from __future__ import annotations

import base64
import functools
import json
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import engine
from engine import theory
from figures import gates
from figures import notation as nt
from tests.test_pages import assert_clean, charts, open_page

T, H, D = 9, 5, 3
CELLS = ("rnn", "gru", "lstm")
GATES = "pages/2_Gates_over_time.py"


@functools.cache
def trace_of(cell, reset="after", nl="tanh"):
    params = engine.init_params(cell, D, H, seed=7)
    xs = np.random.default_rng(7).standard_normal((T, D))
    kw = {"gru_reset": reset} if cell == "gru" else {"nonlinearity": nl}
    return engine.forward(cell, params, xs, **kw)


def text_of(fig) -> str:
    return json.dumps(fig.to_plotly_json(), default=str, ensure_ascii=False)


def decode(v) -> np.ndarray:
    """A Plotly array spec (base64 ``bdata`` with its ``shape`` "16, 12", or a list)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        shape = v.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return a.reshape(shape) if shape else a
    return np.asarray(v)


def heatmap_values(spec) -> dict[str, np.ndarray]:
    """Each heatmap panel's numbers by its name (the hover's symbol)."""
    out = {}
    for tr in spec["data"]:
        if tr["type"] == "heatmap":
            sym = tr["hovertemplate"].split(" · ")[2].split("=")[0]
            out[sym] = decode(tr["z"]).astype(np.float64)
    return out


# --------------------------------------------------------------------------------------------
# The builders
# --------------------------------------------------------------------------------------------

PYTORCH_ONLY = {  # symbols a notation must not show, per cell
    "dlai": {"lstm": ("h<sub>t</sub>", "i<sub>t</sub>", "g<sub>t</sub>"),
             "gru": ("z<sub>t</sub>", "n<sub>t</sub>", "h<sub>t</sub>"),
             "rnn": ("h<sub>t</sub>",)},
    "cho": {"lstm": ("c<sub>t</sub>", "g<sub>t</sub>"), "gru": ("n<sub>t</sub>",), "rnn": ()},
    "pytorch": {"lstm": ("Γ", "C̃"), "gru": ("Γ", "h̃"), "rnn": ("a⟨",)},
}  # fmt: skip


@pytest.mark.parametrize("notation", nt.NOTATIONS)
@pytest.mark.parametrize("cell", CELLS)
def test_gates_builders_name_every_quantity_in_the_notation(cell, notation):
    trace = trace_of(cell)
    sat = theory.gate_saturation(trace)
    figs = [gates.gate_heatmaps(trace, notation=notation, max_frames=0),
            gates.step_bars(trace, notation=notation, max_frames=0),
            gates.unit_lines(trace, 1, notation=notation),
            gates.saturation_strip(sat, notation=notation)]  # fmt: skip
    for q in gates.QUANTITIES[cell]:
        sym = nt.html(notation, cell, nt.shown(notation, cell, q))
        for fig in figs[:3]:
            assert sym in text_of(fig), (q, sym)
        if q in sat:
            assert sym in text_of(figs[3]), (q, sym)
    for fig in figs:
        for bad in PYTORCH_ONLY[notation][cell]:
            assert bad not in text_of(fig), bad


@pytest.mark.parametrize("notation", nt.NOTATIONS)
@pytest.mark.parametrize("cell", CELLS)
def test_gates_builders_draw_the_same_numbers_and_dlai_gamma_u_as_one_minus_z(cell, notation):
    trace = trace_of(cell)
    base = gates.gate_heatmaps(trace, max_frames=0)
    fig = gates.gate_heatmaps(trace, notation=notation, max_frames=0)
    bars = gates.step_bars(trace, notation=notation, max_frames=0, step=3)
    lines = gates.unit_lines(trace, 2, notation=notation)
    for q, a, b, bar, line in zip(gates.QUANTITIES[cell], base.data, fig.data, bars.data,
                                  lines.data, strict=True):  # fmt: skip
        flip = nt.shown(notation, cell, q) != q
        assert flip == (notation == "dlai" and q == "z")
        expect = 1.0 - np.asarray(a.z, np.float64) if flip else np.asarray(a.z)
        assert_allclose(np.asarray(b.z, np.float64), expect, atol=1e-7)  # float32 on the wire
        raw = gates._series(trace, q)
        want = 1.0 - raw if flip else raw
        assert_allclose(np.asarray(bar.y, np.float64), want[3], atol=1e-7)
        assert_allclose(np.asarray(line.y, np.float64), want[:, 2], atol=1e-7)
    strip = gates.saturation_strip(theory.gate_saturation(trace), notation=notation)
    pt = gates.saturation_strip(theory.gate_saturation(trace))
    for a, b in zip(pt.data, strip.data, strict=True):
        assert_array_equal(np.asarray(a.z), np.asarray(b.z))


def test_gates_notice_names_the_memory_gate_in_the_notation_with_the_same_numbers():
    lstm, gru = trace_of("lstm"), trace_of("gru", "before")
    mean_f = f"averages {gru.gates['z'].mean():.2f}"
    text = gates.what_to_notice(lstm, notation="dlai")
    assert "forget gate Γf (Γf = 1 keeps" in text and " f " not in text
    assert f"averages {lstm.gates['f'].mean():.2f}" in text
    text = gates.what_to_notice(gru, notation="dlai")
    assert "1 − Γu" in text and mean_f in text and " z " not in text
    text = gates.what_to_notice(gru, notation="cho")
    assert "update gate z (Cho 2014 / colah's convention" in text and mean_f in text
    for nl in ("tanh", "relu"):
        rnn = trace_of("rnn", nl=nl)
        text = gates.what_to_notice(rnn, notation="dlai")
        assert "a⟨t⟩ = " in text and "|h|" not in text and "h_t" not in text
        for name in gates.HOW_TO_READ:
            caption = gates.how_to_read(name, rnn, notation="dlai")
            assert not re.search(r"(?<![\w/])h(?!\w)", caption), caption
    assert "max|C|" in gates.how_to_read("gate_heatmaps", lstm, notation="cho")


# --------------------------------------------------------------------------------------------
# Gates over time through AppTest
# --------------------------------------------------------------------------------------------


def before_gru(notation) -> np.ndarray:
    """The z the page's lesson (T = 12) gets from the engine: the reset-before GRU in
    deeplearning.ai's and Cho 2014's notation, PyTorch's otherwise (units × steps)."""
    import dataclasses

    from ui import compute, state

    lesson = dataclasses.replace(state.DEFAULT, cell="gru", T=12, notation=notation)
    trace = compute.run(lesson).trace
    assert trace.gru_reset == nt.GRU_RESET[notation]
    return np.asarray(trace.gates["z"]).T


def page_text(at) -> str:
    """Every text, radio option and chart spec of the page (markdown unescaped)."""
    parts = [str(el.value).replace("\\", "") for kind in ("markdown", "caption")
             for el in at.get(kind)]  # fmt: skip
    parts += [str(o) for r in at.radio for o in r.options]
    return "\n".join(parts + [json.dumps(s, ensure_ascii=False) for s in charts(at)])


@functools.cache
def gates_page(cell, notation):
    at = open_page(GATES, {"cell": cell, "notation": notation, "T": "12"})
    assert_clean(at)
    return page_text(at), heatmap_values(charts(at)[0])


@pytest.mark.parametrize("notation", nt.NOTATIONS)
@pytest.mark.parametrize("cell", CELLS)
def test_gates_page_draws_the_notation_and_the_same_numbers(cell, notation):
    text, values = gates_page(cell, notation)
    syms = [nt.html(notation, cell, nt.shown(notation, cell, q)) for q in gates.QUANTITIES[cell]]
    assert list(values) == syms
    for bad in PYTORCH_ONLY[notation][cell]:
        assert bad not in text, bad
    if cell != "gru":
        _, base = gates_page(cell, "pytorch")
        for a, b in zip(base.values(), values.values(), strict=True):
            assert_array_equal(a, b)
    elif notation == "pytorch":
        assert_array_equal(values["z<sub>t</sub>"], before_gru("pytorch").astype(np.float32))
    else:
        assert not np.allclose(values["r<sub>t</sub>" if notation == "cho" else "Γr"],
                               gates_page("gru", "pytorch")[1]["r<sub>t</sub>"])  # fmt: skip
        got = values["z<sub>t</sub>"] if notation == "cho" else 1.0 - values["Γu"]
        assert_allclose(got, before_gru(notation), atol=1e-7)  # float32 on the wire
    if notation == "dlai" and cell == "gru":  # the reset-before GRU, as Cho 2014's; Γu = 1 − z
        _, cho = gates_page(cell, "cho")
        for q, a, b in zip("rznh", cho.values(), values.values(), strict=True):
            assert_allclose(b, 1.0 - a if q == "z" else a, atol=1e-7)


# --------------------------------------------------------------------------------------------
# Vanishing gradients
# --------------------------------------------------------------------------------------------

VG = "pages/3_Vanishing_gradients.py"


def test_measure_labels_follow_the_notation_and_keep_pytorch_s_dict():
    from ui import state

    assert state.measure_labels("pytorch") == state.MEASURE_LABELS
    assert state.MEASURE_LABELS["h"].startswith("‖∂h_T/∂h_t‖")
    dlai = state.measure_labels("dlai")
    assert dlai["x"].startswith("‖∂a⟨T⟩/∂x⟨t⟩‖") and dlai["bptt"].startswith("‖dL/da⟨t⟩‖")
    assert all("h_" not in v for v in dlai.values())


@pytest.mark.parametrize("notation", nt.NOTATIONS)
def test_gradient_builders_name_factors_and_paths_in_the_notation(notation):
    from figures import gradients

    lstm = gradients.path_split(np.ones(6), np.full(6, 0.5), cell="lstm", notation=notation)
    gru = gradients.path_split(np.ones(6), np.full(6, 0.5), cell="gru", notation=notation)
    why = gradients.why_factors(np.full(4, 0.9), cell="rnn", measured=np.full(4, 0.1),
                                notation=notation)  # fmt: skip
    c, f = nt.usym(notation, "lstm", "c"), nt.short(notation, "lstm", "f")
    assert nt.html_text(f"‖dL/d{c}‖") in lstm.layout.title.text
    assert f"Π {f})" in lstm.data[1].name
    assert f"Π {nt.factor(notation, 'gru', 'z')})" in gru.data[1].name
    w = nt.html(notation, "rnn", "U_h")
    assert w in why.layout.title.text and w in why.data[0].name
    assert gradients.measured_name(notation) in {t.name for t in why.data}
    text = gradients.why_summary(np.full(4, 0.9), np.full(6, 0.1), notation=notation)
    assert gradients.recurrent_weight(notation) in text
    if notation == "dlai":
        for fig in (lstm, gru, why):
            assert "h<sub>" not in text_of(fig) and "W<sub>hh" not in text_of(fig)
        assert "(1 − Γu)" in gru.data[1].name and "c⟨t⟩" in gru.layout.title.text
        assert "W_hh" not in text and "∂a⟨T−1⟩" in text
    # the numbers do not change
    base = gradients.path_split(np.ones(6), np.full(6, 0.5), cell="gru")
    for a, b in zip(base.data, gru.data, strict=True):
        assert_array_equal(np.asarray(a.y), np.asarray(b.y))


def test_gate_memory_sentence_names_z_s_numbers_1_minus_gamma_u_in_dlai():
    from figures import gradients

    z = np.full((8, 3), 0.97)
    f = np.full((8, 3), 0.4)
    pt = gradients.gate_memory_sentence(z, f, lag=5)
    dl = gradients.gate_memory_sentence(z, f, lag=5, notation="dlai")
    assert "averages z = 0.97" in pt and "Π z ≈" in pt
    assert "averages 1 − Γu = 0.97" in dl and "Π (1 − Γu) ≈" in dl and "Π Γf ≈" in dl
    number = r"[\d.×⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+"  # the same numbers in the same places
    assert re.findall(number, pt) == re.findall(number, dl.replace("1 − Γu", "Γu"))
    assert " z " not in dl and "(z here)" not in dl


def line_values(specs) -> dict[str, tuple[bool, np.ndarray]]:
    """Every curve and strip of the page by its place (chart i, trace j): whether it is the
    GRU's (its trace or its chart named GRU) and its numbers."""
    out = {}
    for i, spec in enumerate(specs):
        title = spec["layout"].get("title", {}).get("text", "")
        for j, tr in enumerate(spec["data"]):
            gru = title.startswith("GRU") or tr.get("name") == "GRU"
            if tr.get("type") == "heatmap":
                out[f"{i}/{j}"] = gru, decode(tr["z"]).astype(np.float64)
            elif "y" in tr:
                out[f"{i}/{j}"] = gru, decode(tr["y"]).astype(np.float64)
    return out


@functools.cache
def vg_page(notation):
    at = open_page(VG, {"notation": notation, "T": "14"})
    assert_clean(at)
    return page_text(at), line_values(charts(at))


@pytest.mark.parametrize("notation", nt.NOTATIONS)
def test_vanishing_gradients_page_speaks_the_notation_with_the_same_numbers(notation):
    from ui import state

    text, values = vg_page(notation)
    for label in state.measure_labels(notation).values():
        assert label.split(" ")[0] in text
    assert nt.html_text(f"‖dL/d{nt.usym(notation, 'lstm', 'c')}‖") in text
    if notation == "dlai":
        for bad in ("‖∂h_T", "h<sub>t</sub>", "W_hh", "W<sub>hh", "Π z", "dL/dh"):
            assert bad not in text, bad
        assert "1 − Γu" in text and "Γf" in text
    _, base = vg_page("pytorch")
    _, before = vg_page("cho")  # the reset-before GRU
    assert values.keys() == base.keys() == before.keys()
    assert sum(gru for gru, _ in values.values()) >= 3  # the strip, the lag curve, the paths
    for k, (gru, v) in values.items():
        if gru and notation != "pytorch":
            assert_array_equal(v, before[k][1], err_msg=k)
        elif not gru:
            assert_array_equal(v, base[k][1], err_msg=k)
    gru_lag = [v for k, (g, v) in values.items() if g and k.startswith("1/")]
    pt_lag = [v for k, (g, v) in base.items() if g and k.startswith("1/")]
    assert gru_lag and (notation == "pytorch") == np.array_equal(gru_lag[0], pt_lag[0])


# --------------------------------------------------------------------------------------------
# Train's gradient and gate views
# --------------------------------------------------------------------------------------------


def test_training_gradient_label_follows_the_notation():
    from figures import training

    for key in ("grad_first", "grad_last", "grad_norm"):
        assert training.gradient_label(key) == training.GRADIENT_KEYS[key]
    assert training.gradient_label("grad_first", "dlai").startswith("‖∂L/∂a⟨0⟩‖")
    assert training.gradient_label("grad_last", "cho").startswith("‖∂L/∂h<sub>T</sub>‖")


def trained_page(notation):
    at = open_page("pages/4_Train.py", {"notation": notation})
    at.multiselect(key="train_cells").set_value(["gru", "lstm"]).run()
    at.number_input(key="train_steps").set_value(4).run()
    at.button(key="train_start").click().run()
    assert_clean(at)
    return at


def test_train_page_draws_its_gradient_and_gate_views_in_the_notation():
    at = trained_page("dlai")
    text = page_text(at)
    specs = charts(at)
    assert "‖∂L/∂a⟨0⟩‖" in text and "‖∂a⟨T⟩/∂x⟨t⟩‖ before training" in text
    assert "Γu" in text and "Γr" in text and "c̃⟨t⟩" in text  # the GRU's gate view
    for bad in ("h<sub>0</sub>", "‖∂h_T", "z<sub>t</sub>", "n<sub>t</sub>"):
        assert bad not in text, bad
    base = charts(trained_page("pytorch"))
    assert len(specs) == len(base)
    heat = [s for s in specs if s["data"][0]["type"] == "heatmap" and "GRU" in
            s["layout"]["title"]["text"]]  # fmt: skip
    pt = [s for s in base if s["data"][0]["type"] == "heatmap" and "GRU" in
          s["layout"]["title"]["text"]]  # fmt: skip
    assert len(heat) == len(pt) == 2  # before and after training
    for a, b in zip(pt, heat, strict=True):  # Train's GRU is one model: Γu = 1 − z
        z, u = decode(a["data"][1]["z"]), decode(b["data"][1]["z"])
        assert_allclose(1.0 - u.astype(np.float64), z.astype(np.float64), atol=1e-6)


# --------------------------------------------------------------------------------------------
# Home
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("notation", nt.NOTATIONS)
def test_home_hero_names_its_measure_in_the_notation_with_the_same_numbers(notation):
    at = open_page("app.py", {"notation": notation, "T": "10"})
    assert_clean(at)
    text = page_text(at)
    plain = nt.ufill("‖∂@h_last@/∂@x@‖", notation, "lstm")
    assert nt.html_text(plain) in text and plain in text  # the strip and its caption
    if notation == "dlai":  # the hero strip and its caption (the regime texts are the engine's)
        hero = json.dumps(charts(at)[0], ensure_ascii=False) + at.caption[0].value
        assert "h<sub>T</sub>" not in hero and "‖∂h_T" not in hero
    values = line_values(charts(at))
    base = line_values(charts(open_page("app.py", {"T": "10"})))
    before = line_values(charts(open_page("app.py", {"notation": "cho", "T": "10"})))
    assert values.keys() == base.keys() and any(gru for gru, _ in values.values())
    for k, (gru, v) in values.items():
        assert_array_equal(v, (before if gru and notation != "pytorch" else base)[k][1])


# --------------------------------------------------------------------------------------------
# The Check panels
# --------------------------------------------------------------------------------------------


def test_check_names_each_quantity_at_its_step_in_the_notation():
    from ui import check

    assert [check.at_step("pytorch", "lstm", q, 12) for q in "ch"] == ["c_12", "h_12"]
    assert check.at_step("dlai", "lstm", "h", 3) == "a⟨3⟩"
    assert check.at_step("dlai", "lstm", "f", 3) == "Γf⟨3⟩"
    assert check.at_step("dlai", "gru", "z", 3) == "(1 − Γu)⟨3⟩"  # z's numbers, named honestly
    assert check.at_step("cho", "lstm", "g", 3) == "C̃_3"


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_step_check_panel_speaks_the_notation_with_the_same_numbers(cell):
    from tests.test_pages_check import open_page as open_check
    from tests.test_pages_check import panel_text
    from ui import check, keys

    query = {"cell": cell, "step": "4", "unit": "1", "T": "8", "notation": "dlai"}
    text = panel_text(open_check("pages/1_Step_through.py", query, opened=keys.STEP_CHECK))
    text = text.replace("\\", "")
    for q in gates.QUANTITIES[cell]:
        assert f"{check.at_step('dlai', cell, q, 4)}[1]" in text, q
    assert "∂L/∂a⟨4⟩[1]" in text or "∂L/∂c⟨4⟩[1]" in text
    assert "h_4" not in text and "Σ h_T" not in text
    pt = panel_text(open_check("pages/1_Step_through.py", {**query, "notation": "pytorch"},
                               opened=keys.STEP_CHECK)).replace("\\", "")  # fmt: skip
    number = r"[−+-]?\d\.\d+(?:×10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?"
    if cell == "lstm":  # one model in every notation: the same numbers
        assert re.findall(number, text) == re.findall(number, pt)


def test_jacobian_check_panel_speaks_the_notation():
    from tests.test_pages_check import open_page as open_check
    from tests.test_pages_check import panel_text
    from ui import keys

    at = open_check(VG, {"measure": "x", "notation": "dlai", "T": "12"}, opened=keys.VG_CHECK)
    text = panel_text(at).replace("\\", "")
    assert "‖∂a⟨T⟩/∂x⟨t⟩‖₂ at t =" in text and "∂h_T" not in text


# --------------------------------------------------------------------------------------------
# GRU reset placement
# --------------------------------------------------------------------------------------------

RESET = "pages/5_GRU_reset.py"


def test_variant_builders_follow_the_notation_and_keep_the_numbers():
    from figures import variants as fv

    traces = {v: trace_of("gru", v) for v in fv.VARIANTS}
    for v in fv.VARIANTS:
        assert fv.equations(v) == fv.EQUATIONS[v] and fv.where_r_acts(v) == fv.WHERE_R_ACTS[v]
        dl = fv.equations(v, "dlai")
        assert dl[1].startswith(r"\Gamma_u = ") and r"(1 - \Gamma_u)" in dl[3]
        assert "r_t" not in " ".join(dl) and "h_{t-1}" not in " ".join(dl)
        assert r"\Gamma_r \odot c^{\langle t-1 \rangle}" in dl[2] or v == "after"
        assert "r_t" not in fv.where_r_acts(v, "dlai")
    assert r"\tilde{h}_t" in fv.equations("before", "cho")[2]
    pt = fv.gate_means(traces)
    dl = fv.gate_means(traces, notation="dlai")
    assert "Γu" in text_of(dl) and "z<sub>t</sub>" not in text_of(dl)
    for a, b, q in zip(pt.data, dl.data, ("r", "r", "z", "z", "n", "n"), strict=True):
        want = 1.0 - np.asarray(a.y) if q == "z" else np.asarray(a.y)  # Γu = 1 − z
        assert_allclose(np.asarray(b.y), want, atol=1e-15)
    norms = {v: np.geomspace(1.0, 1e-3, 6) for v in fv.VARIANTS}
    lag = fv.lag_figure(norms, notation="dlai")
    assert "‖∂c⟨T⟩/∂c⟨t⟩‖" in lag.layout.title.text and "h<sub>" not in text_of(lag)
    for a, b in zip(fv.lag_figure(norms).data, lag.data, strict=True):
        assert_array_equal(np.asarray(a.y), np.asarray(b.y))
    sentence = fv.comparison_sentence(traces["after"].h, traces["before"].h, norms["after"],
                                      norms["before"], notation="dlai")  # fmt: skip
    assert "|c_before − c_after|" in sentence


def test_reset_downloads_name_their_columns_in_the_notation():
    from ui import variants

    at = open_page(RESET, {"notation": "dlai", "T": "8"})
    assert_clean(at)
    v = variants.variants(at_lesson(at))
    pt, dl = variants.series(v), variants.series(v, "dlai")
    assert len(pt) == len(dl) and "after |dc_T/dc_t|" in dl and "after 1-Gamma_u[0]" in dl
    for (a, x), (b, y) in zip(pt.items(), dl.items(), strict=True):  # same numbers, in order
        assert_array_equal(x, y, err_msg=f"{a} / {b}")


def at_lesson(at):
    from ui import state

    lesson, _ = state.from_query({k: at.query_params[k] for k in at.query_params})
    return lesson


@pytest.mark.parametrize("notation", nt.NOTATIONS)
def test_reset_page_speaks_the_notation_with_the_same_numbers(notation):
    at = open_page(RESET, {"notation": notation, "T": "10"})
    assert_clean(at)
    text = page_text(at) + "\n".join(str(e.value) for e in at.get("latex"))
    r = nt.usym(notation, "gru", "r")
    assert f"where {r} acts" in "\n".join(str(e.value) for e in at.subheader)
    assert nt.hfill("‖∂@h_last@/∂@h@‖", notation, "gru") in text
    if notation == "dlai":
        for bad in ("r_t", "z<sub>t</sub>", "h<sub>T</sub>", "|h_before"):
            assert bad not in text, bad
    base = line_values(charts(open_page(RESET, {"T": "10"})))
    values = line_values(charts(at))
    assert values.keys() == base.keys()
    for k, (_, v) in values.items():  # both placements run whatever the notation
        if not np.array_equal(v, base[k][1]):  # only Γu's panel and mean differ: 1 − z
            assert notation == "dlai"
            assert_allclose(v, 1.0 - base[k][1], atol=1e-6, err_msg=k)


# --------------------------------------------------------------------------------------------
# Vanishing gradients' and Home's downloads
# --------------------------------------------------------------------------------------------


def test_comparison_columns_are_named_in_the_notation_and_keep_their_numbers():
    import dataclasses

    from figures import gradients
    from ui import compute, layout, state

    lesson = dataclasses.replace(state.DEFAULT, measure="bptt", T=10, notation="dlai")
    series = layout.comparison_series(compute.compare(lesson), "bptt")
    named = {gradients.comparison_column(k, "dlai"): v for k, v in series.items()}
    assert len(named) == len(series)  # no two columns share a name
    assert {"rnn |dL/da_t|", "lstm |dL/da_t|", "gru |dL/dc_t|"} <= named.keys()
    assert "rnn local factor |diag(act') W_aa|_2" in named
    assert not any("dh_" in k or "W_hh" in k for k in named)
    for (a, x), (b, y) in zip(series.items(), named.items(), strict=True):
        assert_array_equal(x, y, err_msg=f"{a} / {b}")
    assert all(gradients.comparison_column(k) == k for k in series)  # PyTorch's unchanged
    assert gradients.comparison_column("lstm |dL/dc_t| cell-state path", "cho").startswith(
        "lstm |dL/dC_t|")  # fmt: skip


def test_train_says_which_gru_it_trains_in_a_reset_before_notation():
    from test_pages import assert_clean, open_page

    for notation, said in (("dlai", True), ("cho", True), ("pytorch", False)):
        at = open_page("pages/4_Train.py", {"notation": notation})
        assert_clean(at)
        text = " ".join(c.value for c in at.caption)
        assert ("Train trains PyTorch's GRU" in text) is said
