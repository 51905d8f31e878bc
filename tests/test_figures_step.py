"""The "Step through" figures: the cell diagram, the equation ladder, the token timeline and the
vector strips agree with the engine's numbers, animate on named frames in walk order, keep
their colour ranges fixed, escape user text and stay small."""

from __future__ import annotations

import base64
import functools
import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest

import engine
from figures import diagram, equations, stepper, style

CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"), ("lstm", "tanh")]
CELL_IDS = ["rnn-tanh", "rnn-relu", "gru", "lstm"]
MODES = ["forward", "backward"]
T, H, D, UNIT = 12, 8, 6, 5
LABELS = (
    "The",
    "<script>alert(1)</script>",
    "<a href='https://evil.example'>ice</a>",
    "🍦",
    "**melts**",
    "a & b",
    "<b>bold</b>",
    "in",
    "the",
    "&amp;",
    "sun",
    ".",
)
GATE_ORDER = {"rnn": ("h",), "gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}


def decode(v):
    """Plotly 7 encodes numpy arrays as base64 ``{"dtype", "bdata", "shape"}`` dicts."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            shape = v["shape"]
            shape = (
                tuple(int(s) for s in str(shape).split(",")) if isinstance(shape, str) else shape
            )
            a = a.reshape(shape)
        return a
    return np.asarray(v)


@functools.cache
def run(cell: str, nonlinearity: str = "tanh", steps: int = T, hidden: int = H, **init):
    params = engine.init_params(cell, D, hidden, seed=3, **init)
    xs = np.random.default_rng(3).standard_normal((steps, D))
    trace = engine.forward(cell, params, xs, nonlinearity=nonlinearity)
    seed = np.zeros_like(trace.h)
    seed[-1] = 1.0  # L = sum of h_{T-1}
    return trace, engine.backward(trace, seed)


def hover_trace(fig_dict: dict) -> dict:
    (hv,) = [tr for tr in fig_dict["data"] if "meta" in tr and "elements" in tr["meta"]]
    return hv


def hover_of(hv: dict, element: str, update: dict | None = None) -> str:
    """The hover text of one element: its static template with the step's numbers filled in."""
    j = hv["meta"]["elements"].index(element)
    return hv["hovertemplate"][j].replace("%{text}", (update or hv)["text"][j])


def frame_update(fig_dict: dict, frame: dict, trace_index: int) -> dict:
    return frame["data"][frame["traces"].index(trace_index)]


# --------------------------------------------------------------------------------------------
# Independent expectations: straight from the trace and the engine's public step functions
# --------------------------------------------------------------------------------------------


def previous(trace, states, initial, t):
    return initial if t == 0 else states[t - 1]


def expected_forward(trace, t: int, k: int) -> dict[str, float]:
    h_prev = previous(trace, trace.h, trace.h0, t)
    out = {"h": trace.h[t, k], "h_prev": h_prev[k], "x_norm": np.linalg.norm(trace.xs[t])}
    out.update({q: a[t, k] for q, a in trace.gates.items()})
    if trace.cell == "lstm":
        c_prev = previous(trace, trace.c, trace.c0, t)[k]
        g = trace.gates
        out.update(
            c=trace.c[t, k],
            c_prev=c_prev,
            tanh_c=np.tanh(trace.c[t, k]),
            fc=g["f"][t, k] * c_prev,
            ig=g["i"][t, k] * g["g"][t, k],
        )
    if trace.cell == "gru":
        z, r = trace.gates["z"][t, k], trace.gates["r"][t, k]
        W, b = trace.params["weight_hh"], trace.params["bias_hh"]
        hn = W[2 * H + k] @ h_prev + b[2 * H + k]
        out.update(zh=z * h_prev[k], omz=1 - z, omzn=(1 - z) * trace.gates["n"][t, k], rhn=r * hn)
    return out


def step_backward(trace, grads, t: int) -> dict:
    """The engine's public step backward at step t, fed the gradients BPTT delivered there."""
    p = trace.params
    x = trace.xs[t][None]
    h_prev = previous(trace, trace.h, trace.h0, t)[None]
    dh = grads.h[t][None]
    if trace.cell == "lstm":
        c_prev = previous(trace, trace.c, trace.c0, t)[None]
        _, _, cache = engine.lstm_step_forward(x, h_prev, c_prev, **p)
        dc_future = grads.c[t + 1] * trace.gates["f"][t + 1] if t < trace.T - 1 else 0 * dh[0]
        return engine.lstm_step_backward(dh, dc_future[None], cache)
    if trace.cell == "gru":
        _, cache = engine.gru_step_forward(x, h_prev, **p)
        return engine.gru_step_backward(dh, cache)
    _, cache = engine.rnn_step_forward(x, h_prev, **p, nonlinearity=trace.nonlinearity)
    return engine.rnn_step_backward(dh, cache)


def expected_backward(trace, grads, t: int, k: int) -> dict[str, float]:
    g = step_backward(trace, grads, t)
    da = g["bias_ih"]  # batch of one: the pre-activation gradient of every gate block
    out = {"dh": grads.h[t, k], "dh_prev": g["h_prev"][0, k], "dx_norm": np.linalg.norm(grads.x[t])}
    for j, q in enumerate(GATE_ORDER[trace.cell]):
        out[f"da_{q}"] = da[j * H + k]
    if trace.cell == "lstm":
        f = trace.gates["f"]
        out.update(
            dc=grads.c[t, k],
            dc_prev=g["c_prev"][0, k],
            dtanh_c=grads.h[t, k] * trace.gates["o"][t, k],
            dc_next=grads.c[t + 1, k] * f[t + 1, k] if t < trace.T - 1 else 0.0,
        )
    if trace.cell == "gru":
        out["dh_z"] = grads.h[t, k] * trace.gates["z"][t, k]
    return out


def rnn_factor(trace, t: int) -> float:
    h = trace.h[t]
    slope = (h > 0).astype(float) if trace.nonlinearity == "relu" else 1 - h**2
    return float(np.linalg.norm(slope[:, None] * trace.params["weight_hh"], 2))


# --------------------------------------------------------------------------------------------
# Cell diagram: frames, numbers, hover, escaping, colour ranges, size
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_diagram_frames_follow_the_walk(cell, nl, mode):
    trace, grads = run(cell, nl)
    fig = diagram.cell_diagram(trace, UNIT, step=5, mode=mode, grads=grads, labels=LABELS)
    d = fig.to_dict()
    names = [f["name"] for f in d["frames"]]
    walk = [str(t) for t in range(T)]
    # frames are named by the timestep, last to first in backward mode
    assert names == (walk[::-1] if mode == "backward" else walk)
    slider = d["layout"]["sliders"][0]
    assert [s["args"][0] for s in slider["steps"]] == [[n] for n in names]
    assert slider["active"] == names.index("5")
    assert d["layout"]["title"]["text"].startswith(f"{cell.upper()} · t = 5 · ")
    for frame in d["frames"]:
        assert len(frame["data"]) == len(frame["traces"]), "one update per restyled trace"
        assert max(frame["traces"]) < len(d["data"])
        assert f"t = {frame['name']} ·" in frame["layout"]["title"]["text"]


def test_diagram_static_without_frames():
    trace, grads = run("lstm")
    d = diagram.cell_diagram(trace, UNIT, step=2, max_frames=0).to_dict()
    assert "frames" not in d or not d["frames"]
    assert "sliders" not in d["layout"]


@pytest.mark.parametrize("mode", MODES)
def test_diagram_subsamples_long_sequences(mode):
    trace, grads = run("rnn", "tanh", steps=2000)
    fig = diagram.cell_diagram(trace, 1, step=1234, mode=mode, grads=grads, max_frames=200)
    names = [f.name for f in fig.frames]
    assert len(names) <= 200
    assert {"0", "1999", "1234"} <= set(names), "first, last and the current step"
    steps = [int(n) for n in names]
    assert steps == sorted(steps, reverse=mode == "backward")
    slider = fig.to_dict()["layout"]["sliders"][0]
    assert [s["args"][0][0] for s in slider["steps"]] == names
    assert names[slider["active"]] == "1234"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_diagram_numbers_are_the_traces(cell, nl, mode):
    trace, grads = run(cell, nl)
    fig = diagram.cell_diagram(trace, UNIT, step=0, mode=mode, grads=grads)
    d = fig.to_dict()
    hv = hover_trace(d)
    hv_index = d["data"].index(hv)
    keys = hv["meta"]["elements"]

    def check(t, custom):
        want = (
            expected_backward(trace, grads, t, UNIT)
            if mode == "backward"
            else expected_forward(trace, t, UNIT)
        )
        for key, got in zip(keys, custom, strict=True):
            if not key:
                continue
            np.testing.assert_allclose(
                got,
                np.float32(want[key]),
                rtol=1e-5,
                atol=1e-30,
                err_msg=f"{cell} {mode} element {key} at t={t}",
            )

    check(0, decode(hv["customdata"]))  # the figure's data is the initial step
    for frame in d["frames"]:  # and every frame carries its own step's numbers
        check(int(frame["name"]), decode(frame_update(d, frame, hv_index)["customdata"]))


@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_diagram_prints_the_values_under_the_boxes(cell, nl):
    trace, grads = run(cell, nl)
    t = T - 1
    d = diagram.cell_diagram(trace, UNIT, step=t).to_dict()
    texts = [x for tr in d["data"] if tr.get("mode") == "text" for x in (tr.get("text") or [])]
    for q, a in trace.gates.items():
        assert style.fmt_value(a[t, UNIT]) in texts, f"{cell} gate {q}"
    assert style.fmt_value(trace.h[t, UNIT]) in texts


def test_diagram_hover_plugs_in_the_numbers():
    trace, grads = run("lstm")
    t, k = 4, UNIT
    p, rows = trace.params, {q: j * H + k for j, q in enumerate("ifgo")}
    h_prev = trace.h[t - 1]
    d = diagram.cell_diagram(trace, k, step=t).to_dict()
    hv = hover_trace(d)
    f_hover = hover_of(hv, "f")
    wx = p["weight_ih"][rows["f"]] @ trace.xs[t]
    uh = p["weight_hh"][rows["f"]] @ h_prev
    b = p["bias_ih"][rows["f"]] + p["bias_hh"][rows["f"]]
    # f_t = σ(W_f x_t + U_f h_{t-1} + b_f) = σ(+0.41 −0.22 +1.00) = σ(+1.19) = 0.77
    assert f"σ({style.fmt_signed(wx)} {style.fmt_signed(uh)} {style.fmt_signed(b)})" in f_hover
    assert f"σ({style.fmt_signed(wx + uh + b)})" in f_hover
    assert style.fmt_value(trace.gates["f"][t, k]) in f_hover
    # backward: the chain rule with its factors
    _, grads = run("lstm")
    d = diagram.cell_diagram(trace, k, step=t, mode="backward", grads=grads).to_dict()
    hv = hover_trace(d)
    f_hover = hover_of(hv, "da_f")
    want = expected_backward(trace, grads, t, k)
    assert style.fmt_grad(grads.c[t, k]) in f_hover
    assert style.fmt_grad(want["da_f"]) in f_hover
    # every frame brings its own step's numbers into the same formula
    hv_index = d["data"].index(hv)
    for frame in d["frames"][::4]:
        s = int(frame["name"])
        f_hover = hover_of(hv, "da_f", frame_update(d, frame, hv_index))
        assert "∂L/∂a<sub>f</sub> = ∂L/∂c<sub>t</sub>" in f_hover
        assert style.fmt_grad(expected_backward(trace, grads, s, k)["da_f"]) in f_hover


@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_gradients_on_a_subset_of_steps_equal_the_full_ones(cell, nl):
    trace, grads = run(cell, nl)
    full = equations.cell_gradients(trace, grads)
    steps = [0, 4, 5, T - 1]
    part = equations.cell_gradients(trace, grads, steps=steps)
    assert full.keys() == part.keys()
    for key in full:
        np.testing.assert_allclose(
            part[key][steps], full[key][steps], rtol=1e-12, atol=1e-300, err_msg=key
        )
        assert np.isnan(part[key][2]).all(), "rows not asked for are not computed"


@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_backward_writes_the_factor_on_the_state_path(cell, nl):
    trace, grads = run(cell, nl)
    t = 6
    d = diagram.cell_diagram(trace, UNIT, step=t, mode="backward", grads=grads).to_dict()
    texts = " ".join(
        x for tr in d["data"] if tr.get("mode") == "text" for x in tr.get("text") or []
    )
    if cell == "lstm":
        assert f"× {style.SYMBOLS['f']} = {trace.gates['f'][t, UNIT]:.2f}" in texts
    elif cell == "gru":
        assert f"× {style.SYMBOLS['z']} = {trace.gates['z'][t, UNIT]:.2f}" in texts
    else:
        assert f"= {rnn_factor(trace, t):.2f}" in texts
        assert "W<sub>hh</sub>‖<sub>2</sub>" in texts


@pytest.mark.parametrize("mode", MODES)
def test_colour_ranges_are_fixed_for_the_run(mode):
    trace, grads = run("lstm")
    figs = [
        diagram.cell_diagram(trace, UNIT, step=t, mode=mode, grads=grads).to_dict()
        for t in (0, T - 1)
    ]

    def bars(d):
        return [tr["marker"] for tr in d["data"] if tr.get("marker", {}).get("showscale")]

    assert bars(figs[0]) == bars(figs[1]) and bars(figs[0]), "colour bars do not move"
    assert len(bars(figs[0])) == (1 if mode == "backward" else 2)
    for frame in figs[0]["frames"]:  # frames restyle colours, never their ranges
        blob = json.dumps(frame["data"])
        for key in ("cmin", "cmax", "zmin", "zmax", "colorscale"):
            assert f'"{key}"' not in blob
    if mode == "forward":  # c on ±max|c| over the whole run
        c_max = style.fmt_grad(float(np.abs(trace.c).max()))
        assert any(c_max in s for b in bars(figs[0]) for s in b["colorbar"]["ticktext"])
    # the strips and the timeline as well
    strips = [
        stepper.vector_strips(trace, t, UNIT, mode=mode, grads=grads).to_dict()["layout"]
        for t in (0, T - 1)
    ]
    for axis in ("coloraxis", "coloraxis2"):
        assert strips[0].get(axis) == strips[1].get(axis)
    mag = np.linalg.norm(grads.h, axis=-1)
    tl = [
        stepper.token_timeline(LABELS, t, values=mag, mode=mode).to_dict()["data"][0]
        for t in (0, T - 1)
    ]
    assert (tl[0]["zmin"], tl[0]["zmax"]) == (tl[1]["zmin"], tl[1]["zmax"])


def test_focus_fades_everything_else():
    trace, grads = run("lstm")
    d = diagram.cell_diagram(trace, UNIT, step=3, focus="f").to_dict()
    fills = [tr for tr in d["data"] if tr.get("fill") == "toself" and tr["fillcolor"] != "#ffffff"]
    opacity = {round(tr["x"][0] + 0.4, 2): tr["opacity"] for tr in fills[:4]}  # box centres
    assert opacity == {2.4: 1.0, 3.6: 0.25, 4.8: 0.25, 6.2: 0.25}, "f opaque, i g o faded"
    full = diagram.cell_diagram(trace, UNIT, step=3, focus="all").to_dict()
    assert all(tr.get("opacity", 1) == 1 for tr in full["data"])
    with pytest.raises(ValueError, match="sub-step"):
        diagram.cell_diagram(trace, UNIT, step=3, focus="z")


def test_diagram_rejects_bad_arguments():
    trace, grads = run("gru")
    with pytest.raises(ValueError):
        diagram.cell_diagram(trace, UNIT, step=T)
    with pytest.raises(ValueError):
        diagram.cell_diagram(trace, H, step=0)
    with pytest.raises(ValueError, match="gradients"):
        diagram.cell_diagram(trace, UNIT, mode="backward")


def test_json_size_of_a_long_diagram():
    trace, grads = run("lstm", steps=200, hidden=64)
    for mode in MODES:
        fig = diagram.cell_diagram(
            trace, 5, step=3, mode=mode, grads=grads, labels=tuple(f"tok{t}" for t in range(200))
        )
        size = len(fig.to_json())
        assert size < 1_500_000, f"{mode}: {size / 1e6:.2f} MB"


# --------------------------------------------------------------------------------------------
# User text is shown literally
# --------------------------------------------------------------------------------------------


def assert_escaped(blob: str):
    assert "<script" not in blob and "<a href" not in blob and "<a " not in blob
    assert "&lt;script&gt;" in blob


@pytest.mark.parametrize("mode", MODES)
def test_user_text_is_escaped(mode):
    trace, grads = run("lstm")
    mag = np.linalg.norm(grads.h, axis=-1)
    for step in (1, 2):  # the labels of the current step are in the title and hover
        fig = diagram.cell_diagram(trace, UNIT, step=step, mode=mode, grads=grads, labels=LABELS)
        assert_escaped(fig.to_json())
        tl = stepper.token_timeline(LABELS, step, values=mag, mode=mode)
        assert_escaped(tl.to_json())
    long_labels = tuple(f"<script>{t}" for t in range(200))
    assert_escaped(stepper.token_timeline(long_labels, 7).to_json())  # ticks, not chip text
    assert style.safe_text('a & <b> "q"') == 'a &amp; &lt;b&gt; "q"'


# --------------------------------------------------------------------------------------------
# Equation ladder
# --------------------------------------------------------------------------------------------


def boxed(latex: str) -> float:
    """The number in the result box ``\\fcolorbox{..}{..}{$\\textcolor{..}{NUMBER}$}``."""
    m = re.search(r"\\fcolorbox\{[^}]*\}\{[^}]*\}\{\$\\textcolor\{[^}]*\}\{(.*)\}\$\}", latex)
    assert m, latex
    s = m.group(1)
    s = re.sub(r"\\times10\^\{(-?\d+)\}", r"e\1", s)
    return float(s)


@pytest.mark.parametrize("step", [0, 5, T - 1])
@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_forward_ladder_matches_the_trace(cell, nl, step):
    trace, _ = run(cell, nl)
    lines = equations.equation_ladder(trace, step, UNIT)
    assert [line.symbol for line in lines] == list(equations.SUBSTEPS[cell])
    want = expected_forward(trace, step, UNIT)
    for line in lines:
        assert line.latex.count(r"\fcolorbox") == 1 and line.latex.count("{") == line.latex.count(
            "}"
        )
        assert abs(boxed(line.latex) - want[line.symbol]) <= 0.005 + 1e-9, line.latex
        assert line.value == pytest.approx(want[line.symbol], rel=1e-12, abs=1e-15)
        assert re.fullmatch(r"#[0-9a-f]{6}", line.color)
    if cell == "lstm":  # f_t = σ(...) = σ(+a - b + c) = σ(s) = [f]
        f_line = lines[0].latex
        assert f_line.startswith(r"\begin{aligned} f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f)")
        assert r"\\ &= \sigma(" in f_line and f_line.endswith(r"\end{aligned}")


@pytest.mark.parametrize("step", [0, 5, T - 1])
@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_backward_ladder_matches_the_engine(cell, nl, step):
    trace, grads = run(cell, nl)
    lines = equations.equation_ladder(trace, step, UNIT, mode="backward", grads=grads)
    want = expected_backward(trace, grads, step, UNIT)
    names = {"h": "dh", "c": "dc", "c_prev": "dc_prev", "h_prev": "dh_prev", "a": "da_h"}
    names.update({q: f"da_{q}" for q in "ifgorzn"})
    seen = set()
    for line in lines:
        value = rnn_factor(trace, step) if line.symbol == "factor" else want[names[line.symbol]]
        got = boxed(line.latex)
        tol = 0.005 if line.symbol == "factor" else 0.05 * abs(value) + 1e-300
        assert abs(got - value) <= tol, f"{cell} {line.symbol} t={step}: {line.latex}"
        assert line.value == pytest.approx(value, rel=1e-9, abs=1e-300)
        seen.add(line.symbol)
    assert {"h", "h_prev"} <= seen
    assert (cell == "lstm") == ("c_prev" in seen)
    if cell == "lstm":  # dL/dc_{t-1} = dL/dc_t · f_t = (dc)(f) = [..]
        (line,) = [x for x in lines if x.symbol == "c_prev"]
        dc, f = (
            equations.tex_grad(grads.c[step, UNIT]),
            equations.tex_value(trace.gates["f"][step, UNIT]),
        )
        assert rf"\cdot f_t \\ &= ({dc})({f}) = " in line.latex


def test_ladder_formats_and_legend():
    assert equations.tex_grad(1.234e-5) == r"1.2\times10^{-5}"
    assert equations.tex_grad(-0.5) == "-0.5"
    assert equations.tex_value(0.771) == "+0.77" and equations.tex_value(-0.61) == "-0.61"
    assert equations.tex_value(1e100) == r"\text{overflow}"
    assert equations.tex_terms([0.41, -0.22, 1.0]) == "+0.41 - 0.22 + 1.00"
    assert equations.tex_terms([1, 2, 3, 4, 5]).endswith(r"+ \cdots")
    for cell, _ in CELLS:
        legend = equations.equation_symbols(cell)
        assert [line.symbol for line in legend] == list(equations.SUBSTEPS[cell])


def test_exploding_relu_rnn_is_shown_as_overflow():
    trace, grads = run("rnn", "relu", steps=60, recurrent_init="identity", recurrent_scale=1e3)
    assert trace.overflow
    t = trace.T - 1
    lines = equations.equation_ladder(trace, t, 0)
    assert r"\text{overflow}" in lines[0].latex
    equations.equation_ladder(trace, t, 0, mode="backward", grads=grads)
    for mode in MODES:
        d = diagram.cell_diagram(trace, 0, step=t, mode=mode, grads=grads).to_dict()
        json.dumps(d, default=str)
    texts = [x for tr in d["data"] if tr.get("mode") == "text" for x in tr.get("text") or []]
    assert texts


# --------------------------------------------------------------------------------------------
# Token timeline and vector strips
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_timeline_cursor_moves_with_the_frames(mode):
    trace, grads = run("gru")
    mag = np.linalg.norm(grads.h, axis=-1)
    d = stepper.token_timeline(LABELS, 4, values=mag, mode=mode).to_dict()
    names = [f["name"] for f in d["frames"]]
    assert names == [str(t) for t in (range(T - 1, -1, -1) if mode == "backward" else range(T))]
    slider = d["layout"]["sliders"][0]
    assert names[slider["active"]] == "4"
    assert [s["args"][0][0] for s in slider["steps"]] == names
    cursor = d["data"][1]
    assert np.mean(decode(cursor["x"])[:4]) == pytest.approx(4)
    for frame in d["frames"]:
        x = decode(frame_update(d, frame, 1)["x"])
        assert np.mean(x[:4]) == pytest.approx(int(frame["name"])), "the outline is on chip t"
    heat = d["data"][0]
    if mode == "backward":
        np.testing.assert_allclose(decode(heat["z"]).ravel(), style.log10_magnitude(mag), atol=1e-4)
        assert (heat["zmin"], heat["zmax"]) == style.GRAD_DECADES


def test_timeline_long_sequence_is_readable():
    labels = tuple(f"w{t}" for t in range(2000))
    d = stepper.token_timeline(labels, 1500, max_frames=200).to_dict()
    names = [f["name"] for f in d["frames"]]
    assert len(names) <= 200 and {"0", "1999", "1500"} <= set(names)
    assert len(d["layout"]["xaxis"]["tickvals"]) <= 12
    assert "text" not in d["data"][0], "no chip text when it cannot be read"
    static = stepper.token_timeline(labels, 3, max_frames=0).to_dict()
    assert not static.get("frames") and "sliders" not in static["layout"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_vector_strips_show_every_unit(cell, nl, mode):
    trace, grads = run(cell, nl)
    t = 7
    d = stepper.vector_strips(trace, t, UNIT, mode=mode, grads=grads).to_dict()
    rows = {tr["name"]: tr for tr in d["data"]}
    for tr in d["data"]:
        assert decode(tr["z"]).shape == (1, H)
        assert tr["text"][0][UNIT].startswith(f"unit {UNIT}<br>")
    if mode == "forward":
        for q, a in trace.gates.items():
            np.testing.assert_allclose(decode(rows[q]["z"])[0], a[t], atol=1e-4, err_msg=q)
        if cell == "lstm":
            c = decode(rows["c"]["z"])[0] * np.abs(trace.c).max()
            np.testing.assert_allclose(c, trace.c[t], atol=1e-3)
    else:
        np.testing.assert_allclose(
            decode(rows["dh"]["z"])[0], style.log10_magnitude(grads.h[t]), atol=1e-4
        )
        assert rows["dh"]["text"][0][UNIT].endswith(style.fmt_grad(grads.h[t, UNIT]))
    (outline,) = d["layout"]["shapes"]
    assert (outline["x0"], outline["x1"]) == (UNIT - 0.5, UNIT + 0.5)
    assert d["layout"]["xaxis"]["title"]["text"] == "unit"


# --------------------------------------------------------------------------------------------
# Every figure is a valid Plotly figure (they are built without per-property validation)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("cell", "nl"), CELLS, ids=CELL_IDS)
def test_figures_pass_plotly_validation(cell, nl, mode):
    trace, grads = run(cell, nl, steps=4)
    mag = np.linalg.norm(grads.h, axis=-1)
    figs = [
        diagram.cell_diagram(
            trace,
            1,
            step=2,
            mode=mode,
            grads=grads,
            labels=LABELS[:4],
            focus="h",
            presentation=True,
        ),
        stepper.token_timeline(LABELS[:4], 2, values=mag, mode=mode),
        stepper.vector_strips(trace, 2, 1, mode=mode, grads=grads),
    ]
    for fig in figs:
        d = fig.to_dict()
        go.Figure(d)  # raises on any invalid property, in data, layout or frames
        assert d["layout"]["title"]["text"]
