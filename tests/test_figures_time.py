"""The time figures: gates over time, vanishing gradients, training.

Each figure is checked the way the browser receives it: serialised by ``plotly.io.to_json``
exactly as ``st.plotly_chart`` does, numpy arrays arriving as base64 ``{"dtype", "bdata"}``.
"""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import engine
from engine import theory
from figures import gates, gradients, style, training

CELLS = engine.CELLS
T, D, H = 30, 8, 16
NASTY = ("<script>alert(1)</script>", "ice", "🙂", "<a href='http://x.invalid'>link</a>", "a&b")
LABELS = tuple(NASTY[t % len(NASTY)] for t in range(T))
SIGMOID = {"i", "f", "o", "r", "z"}


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def decode(v) -> np.ndarray:
    """A Plotly JSON array: base64 ``{"dtype", "bdata", "shape"?}`` or a plain list."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(
            base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]).newbyteorder("<")
        )
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a
    return np.asarray(v, dtype=float)


def wire(fig: go.Figure) -> dict:
    """The figure as the browser gets it (``st.plotly_chart`` calls ``to_json`` like this)."""
    return json.loads(pio.to_json(fig, validate=False))


@pytest.fixture(scope="module")
def xs():
    return np.random.default_rng(0).standard_normal((T, D))


@pytest.fixture(scope="module")
def traces(xs):
    return {c: engine.forward(c, engine.init_params(c, D, H, seed=0), xs) for c in CELLS}


@pytest.fixture(scope="module")
def curves(traces):
    return {c: engine.jacobian_norms(traces[c], "x") for c in CELLS}


def values_of(trace, name):
    return {"h": trace.h, "c": trace.c}.get(name, trace.gates.get(name))


def heatmaps(spec):
    return [d for d in spec["data"] if d["type"] == "heatmap"]


# --------------------------------------------------------------------------------------------
# gate_heatmaps
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_one_heatmap_per_gate_and_state(traces, cell):
    spec = wire(gates.gate_heatmaps(traces[cell], labels=LABELS))
    assert [d["name"] for d in heatmaps(spec)] == [
        style.GATE_NAMES[q] for q in gates.QUANTITIES[cell]
    ]
    assert spec["layout"]["title"]["text"]
    # a colour bar on every panel, beside its own row (distinct centres, top to bottom)
    ys = [d["colorbar"]["y"] for d in heatmaps(spec)]
    assert all(d.get("showscale", True) for d in heatmaps(spec))
    assert ys == sorted(ys, reverse=True) and len(set(ys)) == len(ys)


@pytest.mark.parametrize("cell", CELLS)
def test_frames_are_the_subsampled_steps_and_the_slider_uses_their_names(traces, cell):
    fig = gates.gate_heatmaps(traces[cell], labels=LABELS, max_frames=12, step=7)
    spec = wire(fig)
    names = [f["name"] for f in spec["frames"]]
    assert names == [str(t) for t in style.frame_steps_with(T, 12, 7)]  # named by timestep
    assert len(names) == 12 and names[0] == "0" and names[-1] == str(T - 1)
    assert "7" in names and 7 not in style.frame_steps(T, 12)  # the current step swapped in
    slider = spec["layout"]["sliders"][0]
    assert [s["args"][0] for s in slider["steps"]] == [[n] for n in names]
    assert all(s["method"] == "animate" for s in slider["steps"])
    assert names[slider["active"]] == "7"  # the slider starts on the current step
    assert spec["layout"]["shapes"][1]["x0"] == 7  # and so does the cursor
    play = spec["layout"]["updatemenus"][0]["buttons"][0]
    assert play["args"][1]["frame"]["redraw"] is False  # a cursor move, not a heatmap redraw


@pytest.mark.parametrize("cell", CELLS)
def test_frames_move_only_the_cursor(traces, cell):
    spec = wire(gates.gate_heatmaps(traces[cell], labels=LABELS))
    for frame in spec["frames"]:
        assert "data" not in frame and "traces" not in frame  # no heatmap (or any trace) data
        assert "z" not in json.dumps(frame)
        band, line = frame["layout"]["shapes"]
        t = int(frame["name"])
        assert line == {"x0": t, "x1": t}
        assert band["x0"] < t < band["x1"]
    # the cursor exists in the layout: a faint band and a dashed #111 line spanning the stack
    band, line = spec["layout"]["shapes"]
    assert band["fillcolor"] == style.CURSOR_BAND and band["yref"] == "y domain"
    assert line["line"]["dash"] == "dash" and line["line"]["color"] == "#111111"
    assert (band["y0"], band["y1"], line["y0"], line["y1"]) == (0, 1, 0, 1)


@pytest.mark.parametrize("cell", CELLS)
def test_fixed_colour_range_per_quantity(traces, cell):
    trace = traces[cell]
    spec = wire(gates.gate_heatmaps(trace, labels=LABELS))
    for name, hm in zip(gates.QUANTITIES[cell], heatmaps(spec), strict=True):
        if name in SIGMOID:
            expected = (0.0, 1.0)
        elif name == "c":
            c_max = float(np.max(np.abs(trace.c)))
            expected = (-c_max, c_max)
        else:
            expected = (-1.0, 1.0)
        assert (hm["zmin"], hm["zmax"]) == pytest.approx(expected), name
        assert hm.get("zauto") in (None, False)


@pytest.mark.parametrize("cell", CELLS)
def test_heatmap_values_are_the_trace_gates(traces, cell):
    trace = traces[cell]
    spec = wire(gates.gate_heatmaps(trace, labels=LABELS))
    for name, hm in zip(gates.QUANTITIES[cell], heatmaps(spec), strict=True):
        assert hm["z"]["dtype"] == "f4", "heatmaps are sent as float32"
        z = decode(hm["z"])
        np.testing.assert_allclose(z, values_of(trace, name).T, rtol=1e-6, atol=1e-7,
                                   err_msg=f"{cell} {name}")  # fmt: skip
        np.testing.assert_array_equal(decode(hm["x"]), np.arange(T))  # numeric time axis


def test_static_figures_without_frames(traces):
    spec = wire(gates.gate_heatmaps(traces["gru"], max_frames=0, step=99))
    assert "frames" not in spec and "sliders" not in spec["layout"]
    assert spec["layout"]["shapes"][1]["x0"] == T - 1  # the step is clamped into range


def test_time_axis_is_numeric_with_escaped_token_ticks(traces):
    spec = wire(gates.gate_heatmaps(traces["lstm"], labels=LABELS))
    x = spec["layout"]["xaxis"]
    assert x.get("type") in (None, "linear") and x["tickmode"] == "array"
    assert all(isinstance(v, int) for v in x["tickvals"])
    assert x["range"] == [-0.5, T - 0.5]
    # every step's label is an alias of its number, so hover text names the token
    assert set(x["labelalias"]) == {str(t) for t in range(T)}
    assert x["labelalias"]["0"] == "0·&lt;script&gt;ale…"
    assert x["labelalias"]["3"] == "3·&lt;a href='ht…"  # capped at 14 characters, then escaped


def test_long_sequences_get_a_readable_tick_subsample():
    axis = style.time_axis(tuple(f"w{t}" for t in range(2000)), 2000)
    assert 4 <= len(axis["tickvals"]) <= 40
    assert axis["tickvals"][0] == 0 and axis["ticktext"][0] == "0·w0"
    assert len(axis["labelalias"]) == 2000


@pytest.mark.parametrize(
    "fig",
    [
        lambda tr, sat, cv: gates.gate_heatmaps(tr, labels=LABELS),
        lambda tr, sat, cv: gates.step_bars(tr, labels=LABELS),
        lambda tr, sat, cv: gates.unit_lines(tr, 1, labels=LABELS, step=3),
        lambda tr, sat, cv: gates.saturation_strip(sat, labels=LABELS, step=3),
        lambda tr, sat, cv: gradients.gradient_strips(cv, labels=LABELS, step=3),
        lambda tr, sat, cv: gradients.gradient_vs_lag(cv, measure_label="m", labels=LABELS),
        lambda tr, sat, cv: gradients.path_split(cv["lstm"], cv["lstm"] / 2, cell="lstm",
                                                 labels=LABELS),
    ],
    ids=["heatmaps", "bars", "unit", "saturation", "strips", "lag", "path"],
)  # fmt: skip
def test_user_tokens_are_escaped(traces, curves, fig):
    tr = traces["lstm"]
    spec = fig(tr, theory.gate_saturation(tr), curves).to_dict()
    spec["layout"].pop("template", None)  # Streamlit's own template holds its placeholders
    text = pio.to_json(spec, validate=False)
    for raw in ("<script>", "<a href", "</a>"):
        assert raw not in text
    assert "&lt;script&gt;" in text or "&lt;a href" in text
    # Streamlit's theme swaps the colours #000001..#000010 for its own palette
    assert not re.search(r"#0000(0[1-9]|10)\b", text, re.IGNORECASE)


def test_json_size_and_resolution_at_2000_steps():
    xs = np.random.default_rng(1).standard_normal((2000, D))
    trace = engine.forward("lstm", engine.init_params("lstm", D, 64, seed=0), xs)
    fig = gates.gate_heatmaps(trace, labels=tuple(f"w{t % 50}" for t in range(2000)))
    text = pio.to_json(fig, validate=False)
    assert len(text) < 2_000_000, f"{len(text) / 1e6:.2f} MB"
    spec = json.loads(text)
    assert len(spec["frames"]) == 200
    hm = heatmaps(spec)[1]  # the forget gate: columns are a stride subsample of exact values
    cols = decode(hm["x"]).astype(int)
    assert cols[0] == 0 and cols[-1] == 1999 and len(set(np.diff(cols[:-1]))) == 1
    np.testing.assert_allclose(decode(hm["z"]), trace.gates["f"][cols].T, rtol=1e-6)
    assert "every" in spec["layout"]["title"]["text"]  # the subsample is said on screen


# --------------------------------------------------------------------------------------------
# step_bars, unit_lines, saturation_strip
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_step_bars_frames_update_every_panel_on_fixed_ranges(traces, cell):
    trace = traces[cell]
    spec = wire(gates.step_bars(trace, labels=LABELS, step=4, max_frames=10))
    names = [f["name"] for f in spec["frames"]]
    assert names == [str(t) for t in style.frame_steps_with(T, 10, 4)]
    slider = spec["layout"]["sliders"][0]
    assert [s["args"][0] for s in slider["steps"]] == [[n] for n in names]
    quantities = gates.QUANTITIES[cell]
    for frame in spec["frames"]:
        t = int(frame["name"])
        assert frame["traces"] == list(range(len(quantities)))
        for name, bar in zip(quantities, frame["data"], strict=True):
            np.testing.assert_allclose(decode(bar["y"]), values_of(trace, name)[t], rtol=1e-6)
            np.testing.assert_allclose(decode(bar["marker"]["color"]), decode(bar["y"]))
    for p, name in enumerate(quantities):
        ax = spec["layout"]["yaxis" + ("" if p == 0 else str(p + 1))]
        lo, hi = ax["range"]
        if name in SIGMOID:
            assert (lo, hi) == (0.0, 1.0)
        else:
            bound = float(np.max(np.abs(trace.c))) if name == "c" else 1.0
            assert -lo == pytest.approx(hi) and hi >= bound
        bar = spec["data"][p]["marker"]
        assert (bar["cmin"], bar["cmax"]) == pytest.approx((lo, hi) if name in SIGMOID
                                                           else (-bound, bound))  # fmt: skip


@pytest.mark.parametrize("cell", CELLS)
def test_unit_lines_show_every_quantity_with_unified_hover(traces, cell):
    trace = traces[cell]
    spec = wire(gates.unit_lines(trace, 5, labels=LABELS, step=9))
    assert spec["layout"]["hovermode"] == "x unified"
    assert len(spec["data"]) == len(gates.QUANTITIES[cell])
    for name, line in zip(gates.QUANTITIES[cell], spec["data"], strict=True):
        np.testing.assert_allclose(decode(line["y"]), values_of(trace, name)[:, 5], rtol=1e-6)
    cursor = [s for s in spec["layout"]["shapes"] if s["type"] == "line"]
    assert cursor and all(s["x0"] == s["x1"] == 9 for s in cursor)
    assert "unit 5" in spec["layout"]["title"]["text"]


@pytest.mark.parametrize("cell", CELLS)
def test_saturation_strip_rows_and_fixed_scale(traces, cell):
    sat = theory.gate_saturation(traces[cell])
    spec = wire(gates.saturation_strip(sat, labels=LABELS, step=2))
    keys = [k for k in sat if k != "all"] + ["all"]
    assert len(spec["data"]) == len(keys)
    for key, hm in zip(keys, spec["data"], strict=True):
        np.testing.assert_allclose(decode(hm["z"]).reshape(-1), sat[key], rtol=1e-6)
        assert hm["coloraxis"] == "coloraxis"
    axis = spec["layout"]["coloraxis"]
    assert (axis["cmin"], axis["cmax"]) == (0.0, 1.0) and axis["colorbar"]
    assert "saturat" in spec["layout"]["title"]["text"].lower()


def test_an_exploded_relu_rnn_keeps_exact_values():
    xs = np.random.default_rng(0).standard_normal((40, D))
    p = engine.init_params("rnn", D, H, seed=0, recurrent_init="identity", recurrent_scale=3)
    trace = engine.forward("rnn", p, xs, nonlinearity="relu")
    spec = wire(gates.gate_heatmaps(trace))
    hm = heatmaps(spec)[0]
    h_max = float(np.max(np.abs(trace.h)))
    assert hm["zmax"] == pytest.approx(h_max)  # ±max|h| for an unbounded activation
    np.testing.assert_allclose(decode(hm["z"]), trace.h.T, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------------


def test_gradient_strips_share_one_log_scale_fitted_to_the_data(curves):
    spec = wire(gradients.gradient_strips(curves, labels=LABELS, title="hero"))
    hms = heatmaps(spec)
    assert [d["name"] for d in hms] == ["RNN", "GRU", "LSTM"]
    every = np.concatenate([curves[c] for c in CELLS])
    lo = math.floor(np.log10(every.min()))
    hi = math.ceil(np.log10(every.max()))
    assert {(d["zmin"], d["zmax"]) for d in hms} == {(lo, hi)}  # the decades the data span
    assert len({json.dumps(d["colorscale"]) for d in hms}) == 1
    assert [d.get("showscale", True) for d in hms] == [True, False, False]
    bar = hms[0]["colorbar"]
    assert bar["title"]["text"]  # a colour bar with a title
    assert bar["tickvals"][0] >= lo and bar["tickvals"][-1] == hi
    assert bar["ticktext"][-1] == ("1" if hi == 0 else f"10{gradients._superscript_exp(hi)}")
    for c, d in zip(CELLS, hms, strict=True):
        np.testing.assert_allclose(decode(d["z"]).reshape(-1), np.log10(curves[c]), rtol=1e-5)
        assert d["text"][0][4].startswith(style.fmt_grad(float(curves[c][4])))  # exact in hover


@pytest.mark.parametrize(
    "values, decades",
    [
        ([1e-3, 0.5, 1.0], (-3, 0)),
        ([2e-3, 0.02], (-3, -1)),
        ([0.3, 0.3], (-1, 0)),  # at least one decade
        ([0.0, np.nan, 1e150, 1e-2, 0.5], (-2, 0)),  # zeros, NaN, overflow do not widen it
        ([0.0, np.nan], style.GRAD_DECADES),
    ],
)
def test_strip_decades_are_whole_decades_of_the_finite_values(values, decades):
    got = gradients.strip_decades({"rnn": np.array(values), "gru": np.array(values[::-1])})
    assert got == tuple(int(d) for d in decades)
    spec = wire(gradients.gradient_strips({"rnn": np.array(values)}))
    z = decode(heatmaps(spec)[0]["z"])
    assert np.all((z[np.isfinite(z)] >= got[0]) & (z[np.isfinite(z)] <= got[1]))


@pytest.mark.parametrize("n", [15, 40])
def test_gradient_strips_label_every_token_up_to_40(n):
    labels = tuple(f"w{t}" for t in range(n))
    fig = gradients.gradient_strips({"rnn": np.logspace(-3, 0, n)}, labels=labels)
    axis = wire(fig)["layout"]["xaxis"]
    assert axis["tickvals"] == list(range(n))
    tokens = [re.split("<br>|·", s)[1] for s in axis["ticktext"]]
    assert tokens == list(labels)
    if "<br>" not in axis["ticktext"][0]:  # too many to sit side by side: turned upright
        assert axis["tickangle"] == -90
    assert not wire(fig)["layout"].get("annotations")  # nothing to say: every token labelled


def test_gradient_strips_past_40_tokens_thin_the_labels_and_say_so():
    n = 120
    fig = gradients.gradient_strips({"rnn": np.logspace(-3, 0, n)}, labels=("a",) * n)
    layout = wire(fig)["layout"]
    assert len(layout["xaxis"]["tickvals"]) < n
    notes = [a["text"] for a in layout["annotations"]]
    assert any(f"{n} tokens" in t and "labelled" in t for t in notes)


@pytest.mark.parametrize("with_bound", [False, True])
def test_gradient_vs_lag_one_line_per_cell_on_a_log_axis(traces, curves, with_bound):
    bound = theory.pascanu_bound(traces["rnn"]) if with_bound else None
    fig = gradients.gradient_vs_lag(curves, measure_label="‖∂h_T/∂x_t‖", bound=bound)
    spec = wire(fig)
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert "lag k" in spec["layout"]["xaxis"]["title"]["text"]
    cells = [d for d in spec["data"] if d["name"] in ("RNN", "GRU", "LSTM")]
    assert [d["name"] for d in cells] == ["RNN", "GRU", "LSTM"]
    for c, d in zip(CELLS, cells, strict=True):
        np.testing.assert_allclose(decode(d["y"]), curves[c][::-1])  # index k = lag
        assert d["line"]["color"] == style.CELL_COLORS[c]
        assert d["line"]["dash"] == style.CELL_DASH[c]
    bounds = [d for d in spec["data"] if "bound" in d["name"]]
    assert len(bounds) == int(with_bound)


def test_gradient_vs_lag_flags_zeros_overflow_and_extra_curves(curves):
    rnn = curves["rnn"].copy()
    rnn[:3], rnn[3:5], rnn[5] = 0.0, np.inf, np.nan
    extra = {"LSTM ‖dL/dc_t‖": curves["lstm"] * 2}
    spec = wire(gradients.gradient_vs_lag({**curves, "rnn": rnn}, measure_label="m",
                                          extra=extra, y_floor=1e-30))  # fmt: skip
    name = spec["data"][0]["name"]
    assert "overflow" in name and "floor" in name
    y = decode(spec["data"][0]["y"])[::-1]
    assert np.all(y[:3] == 1e-30) and np.all(y[3:5] == gradients.OVERFLOW) and np.isnan(y[5])
    thin = [d for d in spec["data"] if d["name"].startswith("LSTM ‖")]
    assert len(thin) == 1 and thin[0]["line"]["width"] < spec["data"][0]["line"]["width"]
    assert any("floor" in a["text"] for a in spec["layout"]["annotations"])


def test_path_split_and_why_factors(curves):
    spec = wire(gradients.path_split(curves["lstm"], curves["lstm"] / 3, cell="lstm"))
    assert spec["layout"]["yaxis"]["type"] == "log" and len(spec["data"]) == 2
    factors = np.array([0.9, 0.5, 0.2, 0.8])
    spec = wire(gradients.why_factors(factors, cell="rnn", lag=4))
    assert spec["layout"]["yaxis"]["type"] == "log"
    product = spec["layout"]["annotations"][0]["text"]
    assert style.fmt_grad(float(np.prod(factors))) in product
    running = decode(spec["data"][1]["y"])
    np.testing.assert_allclose(running, np.cumprod(factors[::-1]))  # most recent step first
    # a product far below float range is still written, from its logarithm
    spec = wire(gradients.why_factors(np.full(400, 0.1), cell="lstm", lag=400))
    assert "10⁻⁴⁰⁰" in spec["layout"]["annotations"][0]["text"]


def _numbers(sentence: str) -> list[float]:
    out = []
    for mant, exp in re.findall(r"(\d+(?:\.\d+)?)(?:×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))?", sentence):
        e = exp.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")) if exp else "0"
        out.append(float(mant) * 10.0 ** int(e))
    return out


@pytest.mark.parametrize("lag", [1, 7, 20])
def test_takeaway_numbers_match_the_curves(curves, lag):
    text = gradients.takeaway(curves, lag)
    assert "<" not in text and text.endswith(".")
    assert text.startswith(f"After {lag} step")
    got = _numbers(text)[1:]  # the first number is the lag
    want = [curves[c][T - 1 - lag] / curves[c][T - 1] for c in CELLS]
    assert got == pytest.approx(want, rel=0.06)
    for c in CELLS:
        assert style.CELL_NAMES[c] in text


def test_takeaway_edge_cases(curves):
    assert "whole sequence" in gradients.takeaway(curves, T + 50)
    assert gradients.takeaway(curves, None).startswith(f"After {T - 1} steps")
    assert "lag 0" in gradients.takeaway(curves, 0)
    odd = {"rnn": np.r_[0.0, np.inf, np.nan, 1.0], "gru": np.r_[1.0, 1.0, 1.0, 0.0],
           "lstm": np.r_[2.0, 1.0, 1.0, 1.0]}  # fmt: skip
    assert "RNN keeps less than 10⁻³⁰⁰" in gradients.takeaway(odd, 3)
    assert "RNN overflows" in gradients.takeaway(odd, 2)
    assert "RNN has no finite value" in gradients.takeaway(odd, 1)
    assert "GRU's gradient is exactly 0 already at the last step" in gradients.takeaway(odd, 3)
    assert "LSTM multiplies it by 2" in gradients.takeaway(odd, 3)
    assert gradients.takeaway({}, 3)  # no crash on nothing


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def _histories():
    return {
        "rnn": {"step": [1, 2, 3, 4], "loss": [1.0, 0.9, np.nan, np.nan],
                "grad_first": [1e-3, 1e-6, np.nan, np.nan]},
        "gru": {"step": [1, 2, 3], "loss": [1.0, 0.7, 0.5], "grad_first": [1e-2, 0.0, 1e-3]},
        "lstm": {"step": [], "loss": [], "grad_first": []},
    }  # fmt: skip


def test_loss_curves_mark_divergence_and_the_chance_line():
    spec = wire(training.loss_curves(_histories(), 0.95, ylabel="MSE loss", max_steps=50))
    names = [d["name"] for d in spec["data"]]
    assert "RNN (diverged at step 3)" in names
    assert "diverged at step 3" in spec["layout"]["title"]["text"].replace("<br>", " ")
    chance = [d for d in spec["data"] if d["name"] == "chance (predict the mean)"]
    assert len(chance) == 1 and chance[0]["line"]["dash"] == "dash"
    assert decode(chance[0]["y"]).tolist() == [0.95, 0.95]
    rnn = spec["data"][0]
    np.testing.assert_allclose(decode(rnn["y"]), [1.0, 0.9])  # the finite part only
    assert spec["layout"]["xaxis"]["range"][1] >= 50  # fixed to the step budget
    assert spec["layout"]["yaxis"]["title"]["text"] == "MSE loss"
    # the chance line is named in the legend, not by a text on the line (the RNN's curve
    # often lies right on it)
    assert spec["layout"]["showlegend"] is True
    assert not any("chance" in a["text"] for a in spec["layout"].get("annotations", []))


def test_first_step_gradient_is_log_and_tolerant():
    spec = wire(training.first_step_gradient(_histories(), "grad_first"))
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert "diverged at step 3" in spec["layout"]["title"]["text"].replace("<br>", " ")
    gru = [d for d in spec["data"] if d["name"] == "GRU"][0]
    assert np.all(decode(gru["y"]) > 0)  # a zero is drawn at the floor, not dropped
    for empty in ({}, {"rnn": {}}, {"rnn": None, "gru": {"loss": [np.inf]}}):
        training.loss_curves(empty, None, ylabel="loss")
        training.first_step_gradient(empty, "grad_first")
    spec = wire(training.loss_curves({}, 1.0, ylabel="loss"))
    assert any("no training steps" in a["text"] for a in spec["layout"]["annotations"])


# --------------------------------------------------------------------------------------------
# Captions and validity
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module, names",
    [
        (gates, ["gate_heatmaps", "step_bars", "unit_lines", "saturation_strip"]),
        (gradients, ["gradient_strips", "gradient_vs_lag", "path_split", "why_factors"]),
        (training, ["loss_curves", "first_step_gradient"]),
    ],
)
def test_every_figure_has_a_how_to_read_sentence(module, names):
    assert sorted(module.HOW_TO_READ) == sorted(names)
    for name in names:
        text = module.HOW_TO_READ[name]
        assert callable(getattr(module, name)) and text.endswith(".") and len(text) > 40


@pytest.mark.parametrize("presentation", [False, True])
def test_figures_are_valid_plotly_and_presentation_is_larger(traces, curves, presentation):
    tr = traces["gru"]
    figs = [
        gates.gate_heatmaps(tr, labels=LABELS, presentation=presentation, max_frames=5),
        gates.step_bars(tr, labels=LABELS, presentation=presentation, max_frames=5),
        gradients.gradient_strips(curves, presentation=presentation),
        gradients.gradient_vs_lag(curves, measure_label="m", presentation=presentation),
    ]
    for fig in figs:
        go.Figure(fig.to_dict())  # re-validates every property
        size = fig.layout.font.size
        assert size == (style.PRESENTATION_FONT_SIZE if presentation else style.FONT["size"])
        assert fig.layout.title.text
    assert not math.isnan(figs[0].layout.height)


# --------------------------------------------------------------------------------------------
# Titles that fit
# --------------------------------------------------------------------------------------------


def test_wrap_title_breaks_at_spaces_and_ignores_tags():
    text = "LSTM: how much of ‖dL/dc<sub>t</sub>‖ takes the gated shortcut"
    wrapped = style.wrap_title(text, 30)
    lines = wrapped.split("<br>")
    assert len(lines) == 2 and all(style.visible_len(line) <= 30 for line in lines)
    assert wrapped.replace("<br>", " ") == text  # nothing lost
    assert style.visible_len("a<sub>t</sub>&amp;") == 3


def _title_lines(spec) -> list[str]:
    return spec["layout"]["title"]["text"].split("<br>")


@pytest.mark.parametrize("presentation", [False, True])
def test_titles_fit_their_width_and_get_the_margin_they_need(traces, curves, presentation):
    """Half-width figures wrap at 40 characters (60 when presenting, one per row), full-width
    ones at 80 (60): every line fits, and the top margin holds every line."""
    tr, hist = traces["lstm"], _histories()
    half = 60 if presentation else 40
    full = 60 if presentation else 80
    figs = [
        (gradients.path_split(curves["lstm"], curves["lstm"] / 2, cell="lstm",
                              presentation=presentation), half),
        (gradients.why_factors(np.full(12, 0.5), cell="rnn", lag=12,
                               presentation=presentation), full),
        (gates.unit_lines(tr, 3, presentation=presentation), half),
        (gates.step_bars(tr, max_frames=0, presentation=presentation), half),
        (training.loss_curves(hist, 0.5, presentation=presentation), half),
        (training.first_step_gradient(hist, presentation=presentation), half),
        (gradients.gradient_strips(curves, title="x " * 60, presentation=presentation), full),
    ]  # fmt: skip
    for fig, chars in figs:
        spec = wire(fig)
        lines = _title_lines(spec)
        assert all(style.visible_len(line) <= chars for line in lines), lines
        size = spec["layout"]["title"]["font"]["size"]
        assert spec["layout"]["margin"]["t"] >= len(lines) * size * 1.3 + 30, lines


def test_train_axis_titles_are_short_enough_not_to_reach_the_chart_title():
    """A rotated y-axis title longer than the plot is tall runs into the chart title."""
    for fig in (
        training.first_step_gradient(_histories()),
        training.loss_curves(_histories(), 1.0, ylabel="MSE (squared units)"),
    ):
        assert style.visible_len(fig.layout.yaxis.title.text) <= 24, fig.layout.yaxis.title.text


def test_presentation_heatmaps_fit_a_projector_screen(traces):
    fig = gates.gate_heatmaps(traces["lstm"], presentation=True, max_frames=5)
    assert fig.layout.height <= 640  # below the 70 px title row, inside a 1280×720 screen


@pytest.mark.parametrize(
    "values, dtick",
    [([0.7, 0.95], None), ([0.01, 0.5], "D2"), ([1e-3, 2.0], 1), ([1e-30, 1.0], 4)],
)
def test_log_axes_label_without_collisions(values, dtick):
    """Within a decade Plotly's ticks; 1-2 decades: 1, 2, 5; beyond: whole decades only."""
    fig = gradients.path_split(np.array(values), np.array(values), cell="gru")
    assert wire(fig)["layout"]["yaxis"].get("dtick") == dtick


def test_short_presentation_panels_keep_their_labels_apart(traces):
    spec = wire(gates.gate_heatmaps(traces["lstm"], presentation=True, max_frames=0))
    for hm, note in zip(heatmaps(spec), spec["layout"]["annotations"], strict=True):
        assert len(hm["colorbar"]["tickvals"]) == 2  # the bar's two ends only
        assert note["text"].count("<br>") == 1  # "f_t forget gate" over its range note


# --------------------------------------------------------------------------------------------
# The why panel: the product of the factors' norms drawn as the bound it is
# --------------------------------------------------------------------------------------------


def _why_run(nl: str, scale: float, seed: int = 0, steps: int = 150):
    """An identity-initialised RNN (vanishing 0.1, neutral 1, exploding 10) and the panel's
    inputs: factors, the measured norms (inf where a state overflowed, as ui.compute marks
    them) and the first overflowed step."""
    params = engine.init_params(
        "rnn", 3, 6, seed=seed, recurrent_init="identity", recurrent_scale=scale
    )
    rng = np.random.default_rng(seed)
    xs = np.abs(rng.standard_normal((steps, 3)))
    tr = engine.forward("rnn", params, xs, h0=rng.uniform(0, 1, 6), nonlinearity=nl)
    capped = np.any(np.abs(tr.h) >= engine.cells.STATE_LIMIT, axis=-1)
    measured = np.array(engine.jacobian_norms(tr, "h"))
    after = np.r_[np.cumsum(capped[::-1])[::-1][1:] > 0, False]
    measured[after] = np.inf
    first = int(np.flatnonzero(capped)[0]) if capped.any() else None
    return theory.rnn_local_factors(tr), measured, first


REGIMES = [(nl, s) for nl in ("tanh", "relu") for s in (0.1, 1.0, 10.0)]


@pytest.mark.parametrize(("nl", "scale"), REGIMES)
def test_why_factors_draws_measured_under_the_bound(nl, scale):
    factors, measured, _ = _why_run(nl, scale)
    T, k = len(factors), 12
    spec = wire(
        gradients.why_factors(factors[T - k :], cell="rnn", lag=k,
                              measured=measured[T - 1 - k : T - 1], nonlinearity=nl)
    )  # fmt: skip
    names = [d["name"] for d in spec["data"]]
    bound = next(d for d in spec["data"] if d["name"].startswith("bound"))
    meas = next(d for d in spec["data"] if d["name"].startswith("measured"))
    assert "product of the factors' norms ≥ the gradient" in bound["name"], names
    assert spec["layout"]["yaxis"]["type"] == "log"
    b, m = decode(bound["y"]), decode(meas["y"])
    if np.isinf(measured[T - 1 - k : T - 1]).any():  # overflow: drawn at the cap and named
        assert "overflow" in meas["name"] and np.all(m == gradients.OVERFLOW)
    else:
        assert np.all(m <= b * (1 + 1e-9))
    title = spec["layout"]["title"]["text"]
    assert "at most" in title and "is a product" not in title
    diag = "1 − h" if nl == "tanh" else "[a<sub>t</sub> > 0]"
    assert diag in title and diag in spec["data"][0]["name"]
    if nl == "relu":
        assert "1 − h" not in json.dumps(spec, ensure_ascii=False)


@pytest.mark.parametrize(("nl", "scale"), REGIMES)
@pytest.mark.parametrize("k", [1, 10, 120])
def test_why_summary_is_true_for_the_run(nl, scale, k):
    factors, measured, first = _why_run(nl, scale)
    T = len(factors)
    text = gradients.why_summary(factors[T - k :], measured, nonlinearity=nl, overflow_step=first)
    sentences = [s for s in re.split(r"(?<=\.) ", text) if s]
    assert "no gradient" not in text and "surviving share" not in text
    assert "upper bound" in text
    derivative = "1 − h_t²" if nl == "tanh" else "ReLU′(a_t) = [a_t > 0]"
    assert derivative in sentences[0]
    if nl == "relu":
        assert all("1 − h" not in s and "tanh" not in s for s in sentences)
    v = measured[T - 1 - k]
    if np.isinf(v):
        assert "overflow" in text and f"step {first}" in text
    else:
        assert f"is {style.fmt_grad(float(v))}" in text
    log_p = float(np.sum(np.log10(factors[T - k :])))
    assert ("below 1" in text) == (log_p < 0) and ("above 1" in text) == (log_p > 0)


def test_why_texts_never_call_the_bound_the_gradient():
    texts = [gradients.HOW_TO_READ["why_factors"], gradients.BOUND_NAME]
    for t in texts:
        assert "surviving share" not in t and "is a product" not in t
    assert "upper bound" in gradients.HOW_TO_READ["why_factors"]
    assert "measured" in gradients.MEASURED_NAME


def test_the_gru_heatmap_caption_names_no_cell_state():
    import engine
    from figures import gates

    xs = np.random.default_rng(0).standard_normal((6, 2))
    for cell, has_c in (("gru", False), ("lstm", True)):
        trace = engine.forward(cell, engine.init_params(cell, 2, 3), xs)
        text = gates.how_to_read("gate_heatmaps", trace)
        assert ("cell state" in text) is has_c and "σ gates" in text
