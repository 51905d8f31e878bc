"""The Step through timeline (figures.timeline, figures.ladder, figures.cell_tables): the payload
the browser component draws is JSON, has one entry per animated step everywhere, prints the
engine's numbers, keeps its colour ranges fixed, survives exploding and vanishing runs, treats
user text as data, and its cell diagrams are drawn without overlaps."""

from __future__ import annotations

import functools
import json
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import engine
from engine import explain, inputs, theory
from figures import cell_tables, ladder, style, timeline
from figures.cell_tables import SIZES, TABLES
from ui import texts

CASES = [("rnn", "tanh"), ("rnn", "relu"), ("gru", "tanh"), ("lstm", "tanh")]
CASE_IDS = ["rnn-tanh", "rnn-relu", "gru", "lstm"]
MODES = ["forward", "backward"]
T, H, D, UNIT = 12, 8, 6, 5
LABELS = (
    "The",
    "<script>alert(1)</script>",
    "<a href='https://evil.example'>ice</a>",
    '"quoted"',
    "a & b",
    "&amp;",
    "it's",
    "<b>bold</b>",
    "🍦",
    "**melts**",
    "\\frac{1}{2}",
    ".",
)
SOLID = ("box", "pill", "op", "ellipse")  # shapes with an area (SIZES)
LINES = ("wire", "state")


@functools.cache
def run(cell, nl="tanh", steps=T, hidden=H, xs="random", init="uniform", scale=1.0):
    """Forward and BPTT as ui/compute.py runs them (loss Σ h_T via theory.last_step_seed)."""
    if xs == "impulse":
        values = inputs.preset("Impulse", steps=steps).values
    else:
        values = np.random.default_rng(3).standard_normal((steps, D))
    params = engine.init_params(
        cell, values.shape[1], hidden, seed=3, recurrent_init=init, recurrent_scale=scale,
        forget_bias=1.0 if cell == "lstm" else None,
    )  # fmt: skip
    trace = engine.forward(cell, params, values, nonlinearity=nl)
    grads = engine.backward(trace, theory.last_step_seed(trace))
    return trace, grads


def payload(cell, nl, mode, step=0, labels=LABELS, unit=UNIT, **kw):
    trace, grads = run(cell, nl, **kw)
    return timeline.timeline_data(trace, grads, labels, unit=unit, mode=mode, step=step)


def to_json(d, ascii: bool = True) -> str:
    return json.dumps(d, allow_nan=False, ensure_ascii=ascii)  # a NaN or inf float would raise


def parse_num(s: str) -> float:
    """A number written by style.fmt_value / fmt_grad, back to a float."""
    sup = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
    s = s.replace("−", "-")
    if "×10" in s:
        mant, exp = s.split("×10")
        return float(mant) * 10.0 ** int(exp.translate(sup))
    return float(s)


def element_index(d, name) -> int:
    return [e["id"] for e in d["diagram"]["elements"]].index(name)


def text_of(d, name) -> list[str]:
    return d["diagram"]["text"][element_index(d, name)]


def fill_of(d, name) -> list[str]:
    return d["diagram"]["fill"][element_index(d, name)]


def line_of(d, name) -> dict:
    (line,) = [x for x in d["ladder"] if x["name"] == name]
    return line


def assert_one_entry_per_frame(d):
    n = len(d["frames"])
    assert len(d["tokens"]) == n, "tokens: one per frame"
    if d["tokenFill"] is not None:
        assert len(d["tokenFill"]) == n, "tokenFill: one per frame"
    if d["factor"] is not None:
        assert len(d["factor"]) == n, "factor note: one per frame"
    dg = d["diagram"]
    k = len(dg["elements"])
    assert len(dg["fill"]) == len(dg["text"]) == len(dg["widths"]) == k, "one slot per element"
    for e, fill, text, width in zip(dg["elements"], dg["fill"], dg["text"], dg["widths"],
                                    strict=True):  # fmt: skip
        for what, a in (("fill", fill), ("text", text), ("widths", width)):
            assert a is None or len(a) == n, f"diagram {what} of {e['id']}: {len(a)} != {n}"
    for line in d["ladder"]:
        for what in ("numbers", "result", "fill", "ink"):
            assert len(line[what]) == n, f"ladder {line['name']} {what}: one per frame"
    for row in d["strips"]:
        assert len(row["codes"]) == n, f"strip {row['name']}: one code row per frame"
        assert all(len(c) == d["H"] for c in row["codes"]), f"strip {row['name']}: H units"
        assert set("".join(row["codes"])) <= set(timeline.CODES + timeline.NAN_CODE)


# --------------------------------------------------------------------------------------------
# The payload: JSON, one entry per frame, subsampled and small for long runs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_payload_is_json_with_one_entry_per_frame(cell, nl, mode):
    d = payload(cell, nl, mode, step=4)
    assert json.loads(to_json(d)) == json.loads(json.dumps(d)), "JSON round trip"
    assert d["frames"] == list(range(T)), "every step is animated for T <= 200"
    assert (d["cell"], d["mode"], d["unit"], d["T"], d["H"]) == (cell, mode, UNIT, T, H)
    assert d["walk"] == (1 if mode == "forward" else -1), "backward walks from the end"
    assert d["substeps"] == list(timeline.SUBSTEPS[cell])
    assert_one_entry_per_frame(d)
    assert (d["tokenFill"] is None) == (mode == "forward"), "tokens coloured by ‖dL/dh_t‖"
    assert (d["factor"] is None) == (mode == "forward"), "the path factor is a backward note"


@pytest.mark.parametrize(("steps", "n"), [(1, 1), (200, 200), (201, 200)])
def test_frames_are_every_step_up_to_200(steps, n):
    d = payload("gru", "tanh", "forward", step=steps - 1, steps=steps, labels=None)
    assert len(d["frames"]) == n, f"T={steps}: {n} frames"
    assert d["frames"][0] == 0 and d["frames"][-1] == steps - 1, "first and last step"
    assert d["tokens"] == [""] * n, "no labels and six features: no token text"
    assert_one_entry_per_frame(d)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_long_run_is_subsampled_and_small(cell, mode):
    steps, step = 2000, 1234
    trace, grads = run(cell, "tanh", steps=steps, hidden=64, xs="impulse")
    labels = inputs.preset("Impulse", steps=steps).labels
    d = timeline.timeline_data(trace, grads, labels, unit=7, mode=mode, step=step)
    F = d["frames"]
    assert len(F) == 200, "200 animated steps"
    assert F == sorted(set(F)), "in order, no repeats"
    assert {0, steps - 1, step} <= set(F), "first, last and the current step"
    gaps = np.diff(F)
    assert gaps.max() - gaps.min() <= 2 * np.diff(style.frame_steps(steps)).max(), "even"
    want = [style.fmt_value(trace.xs[t, 0]) for t in F]
    assert d["tokens"] == want, "numeric input: each frame's own input value"
    assert_one_entry_per_frame(d)
    size = len(to_json(d).encode())
    assert size < 1_500_000, f"payload at T=2000, H=64: {size / 1e6:.2f} MB"
    other = timeline.timeline_data(trace, grads, labels, unit=7, mode=mode, step=5)
    assert 5 in other["frames"] and len(other["frames"]) == 200, "any step can be the anchor"


def test_bad_arguments_are_refused():
    trace, grads = run("lstm")
    for unit in (-1, H):
        with pytest.raises(ValueError, match="unit"):
            timeline.timeline_data(trace, grads, None, unit=unit, mode="forward", step=0)
    with pytest.raises(ValueError, match="mode"):
        timeline.timeline_data(trace, grads, None, unit=0, mode="sideways", step=0)
    # a step outside the run is clamped, not an error
    d = timeline.timeline_data(trace, grads, None, unit=0, mode="forward", step=10**6)
    assert d["frames"] == list(range(T)), "clamped step"


# --------------------------------------------------------------------------------------------
# Every printed number is the engine's
# --------------------------------------------------------------------------------------------


def forward_expected(trace, t, k) -> dict[str, float]:
    """Straight from the trace: the states and gates the engine recorded."""
    h_prev = trace.h0 if t == 0 else trace.h[t - 1]
    out = {"h": trace.h[t, k], "h_prev": h_prev[k]}
    out.update({q: a[t, k] for q, a in trace.gates.items()})
    if trace.cell == "lstm":
        out["c"] = trace.c[t, k]
        out["c_prev"] = (trace.c0 if t == 0 else trace.c[t - 1])[k]
    return out


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_forward_numbers_are_the_engines(cell, nl):
    trace, grads = run(cell, nl)
    d = payload(cell, nl, "forward")
    v = explain.unit_values(trace, UNIT)
    table = TABLES[cell]
    checked = set()
    for j, t in enumerate(d["frames"]):
        want = forward_expected(trace, t, UNIT)
        for el, text in zip(table, d["diagram"]["text"], strict=True):
            if text is None:
                continue
            assert text[j] == style.fmt_value(v[el.value][t]), f"{el.name} at t={t}"
            if el.value in want:
                assert text[j] == style.fmt_value(want[el.value]), f"{el.name}: the trace's"
                checked.add(el.value)
        for line in d["ladder"]:
            assert line["result"][j] == style.fmt_value(want[line["name"]]), f"{line['name']} t={t}"
            checked.add(line["name"])
        if cell == "lstm":
            assert text_of(d, "f")[j] == style.fmt_value(trace.gates["f"][t, UNIT]), "box f"
            assert line_of(d, "c")["result"][j] == style.fmt_value(trace.c[t, UNIT]), "c_t"
    gates = set(trace.gates) - {"h"}
    assert gates | {"h", "h_prev"} <= checked, f"every gate and state checked: {checked}"


def test_forward_ladder_writes_the_terms():
    trace, _ = run("lstm")
    d = payload("lstm", "tanh", "forward")
    p, t, k = trace.params, 4, UNIT
    row = 1 * H + k  # PyTorch order i f g o: f is block 1
    wx = p["weight_ih"][row] @ trace.xs[t]
    uh = p["weight_hh"][row] @ trace.h[t - 1]
    b = p["bias_ih"][row] + p["bias_hh"][row]
    first, second = line_of(d, "f")["numbers"][t]
    assert first == f"σ({ladder.terms([wx], [uh], [b])[0]})", "σ(W_f x + U_f h + b)"
    assert second == f"σ({style.fmt_value(wx + uh + b)})", "σ(a_f)"
    c_first, c_second = line_of(d, "c")["numbers"][t]
    f, i, g = (trace.gates[q][t, k] for q in "fig")
    c_prev = trace.c[t - 1, k]
    fv = style.fmt_value
    assert c_first == f"({fv(f)})({fv(c_prev)}) + ({fv(i)})({fv(g)})", "f c_{t-1} + i g"


def propagated(trace, grads, t, k) -> float:
    """What BPTT carried from step t to h_{t-1}: the total there minus the loss's own part."""
    if t == 0:
        return float(grads.h0[k])
    return float(grads.h[t - 1, k] - theory.last_step_seed(trace)[t - 1, k])


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_backward_numbers_are_the_engines(cell, nl):
    trace, grads = run(cell, nl)
    d = payload(cell, nl, "backward")
    g = explain.unit_gradients(trace, grads, UNIT)
    table = TABLES[cell]
    for j, t in enumerate(d["frames"]):
        for el, text in zip(table, d["diagram"]["text"], strict=True):
            if text is not None:
                assert text[j] == style.fmt_grad(g[el.grad][t]), f"{el.name} at t={t}"
        assert text_of(d, "h")[j] == style.fmt_grad(grads.h[t, UNIT]), f"h pill t={t}"
        assert line_of(d, "dh")["result"][j] == style.fmt_grad(grads.h[t, UNIT]), f"dh t={t}"
        want = propagated(trace, grads, t, UNIT)
        got = g["dh_prev"][t]
        assert got == pytest.approx(want, rel=1e-9, abs=1e-300), f"dh_prev is BPTT's at t={t}"
        assert line_of(d, "dh_prev")["result"][j] == style.fmt_grad(got), f"dh_prev t={t}"
        assert text_of(d, "h_prev")[j] == style.fmt_grad(got), f"h_prev pill t={t}"
        if cell == "lstm":
            assert line_of(d, "dc")["result"][j] == style.fmt_grad(grads.c[t, UNIT]), "dc"
            dc_prev = grads.c[t, UNIT] * trace.gates["f"][t, UNIT]
            assert g["dc_prev"][t] == pytest.approx(dc_prev, rel=1e-12), "dc_prev = dc f"
            assert line_of(d, "dc_prev")["result"][j] == style.fmt_grad(g["dc_prev"][t])
            total = grads.c[t - 1, UNIT] if t > 0 else g["dc_prev"][t]
            assert d["factor"][j] == timeline.FACTOR_TEXT["lstm"][1].format(
                ladder.fgate(trace.gates["f"][t, UNIT]),
                style.fmt_grad(g["dc_prev"][t]),
                style.fmt_grad(total),
            ), "× f_t on the highway: its share and the total beside it"
        elif cell == "gru":
            z = trace.gates["z"][t, UNIT]
            assert d["factor"][j] == timeline.FACTOR_TEXT["gru"][1].format(
                ladder.fgate(z), style.fmt_grad(grads.h[t, UNIT] * z), style.fmt_grad(got)
            ), "× z_t on the direct path: its share and the total beside it"
        else:
            h = trace.h[t]
            slope = (h > 0).astype(float) if nl == "relu" else 1 - h**2
            norm = np.linalg.norm(slope[:, None] * trace.params["weight_hh"], 2)
            assert d["factor"][j].endswith(style.fmt_grad(norm)), "‖diag(act′) W_hh‖₂"
            assert line_of(d, "factor")["result"][j] == style.fmt_grad(norm), "factor line"


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_dh_prev_is_the_sum_of_its_written_shares(cell, nl):
    trace, grads = run(cell, nl)
    d = payload(cell, nl, "backward")
    F = np.asarray(d["frames"])
    dd = timeline._gradients(trace, grads, UNIT, F)  # the numbers the ladder writes
    gates = {"lstm": "ifgo", "gru": "rzn", "rnn": "h"}[cell]
    line = line_of(d, "dh_prev")
    for j, t in enumerate(F):
        shares = [dd[f"contrib_{q}"][t] for q in gates]
        if cell == "gru":
            shares.insert(0, dd["dh"][t] * trace.gates["z"][t, UNIT])  # the direct path
        total = dd["dh_prev"][t]
        scale = max(abs(total), sum(abs(s) for s in shares), 1e-300)
        assert abs(math.fsum(shares) - total) <= 1e-9 * scale, f"shares add up at t={t}"
        written = line["numbers"][j][0]
        for s in shares[1:] if cell == "gru" else shares:
            assert f"({style.fmt_grad(s)})" in written, f"share {s} written at t={t}"
        if cell == "gru":
            direct = f"({style.fmt_grad(dd['dh'][t])})({ladder.fgate(trace.gates['z'][t, UNIT])})"
            assert written.startswith(direct), "dL/dh_t z_t first"


# --------------------------------------------------------------------------------------------
# The diagram tables
# --------------------------------------------------------------------------------------------


def rect(el, shrink=0.0):
    w, h = SIZES[el.shape]
    x, y = el.at
    return (x - w / 2 + shrink, y - h / 2 + shrink, x + w / 2 - shrink, y + h / 2 - shrink)


def segments(el):
    pts = el.at
    return list(zip(pts[:-1], pts[1:], strict=True))


def segment_hits_rect(p, q, r) -> bool:
    """Whether the segment p–q meets the open rectangle r (Liang–Barsky clipping)."""
    x0, y0, x1, y1 = r
    dx, dy = q[0] - p[0], q[1] - p[1]
    lo, hi = 0.0, 1.0
    for den, num in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if den == 0:
            if num <= 0:
                return False
            continue
        s = num / den
        if den < 0:
            lo = max(lo, s)
        else:
            hi = min(hi, s)
    return lo < hi


def point_segment_distance(a, p, q) -> float:
    a, p, q = (np.asarray(v, dtype=float) for v in (a, p, q))
    pq = q - p
    s = np.clip(np.dot(a - p, pq) / max(np.dot(pq, pq), 1e-300), 0.0, 1.0)
    return float(np.linalg.norm(a - (p + s * pq)))


def inside(point, r) -> bool:
    return r[0] <= point[0] <= r[2] and r[1] <= point[1] <= r[3]


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_table_keys_are_the_engines(cell, nl):
    trace, grads = run(cell, nl)
    table = TABLES[cell]
    names = [el.name for el in table]
    assert len(names) == len(set(names)), f"{cell}: element names unique"
    values = explain.unit_values(trace, UNIT)
    grad_keys = set(explain.cell_gradients(trace, grads))
    substeps = set(timeline.SUBSTEPS[cell])
    for el in table:
        assert el.shape in (*SOLID, *LINES, "note"), f"{el.name}: known shape"
        assert el.value is None or el.value in values, f"{el.name}: value {el.value}"
        assert el.grad is None or el.grad in grad_keys, f"{el.name}: grad {el.grad}"
        assert set(el.groups.split()) <= substeps, f"{el.name}: groups are sub-steps"
        if el.shape in SOLID and el.name != "x":
            assert el.value, f"{el.name}: a forward number"
            assert el.hover, f"{el.name}: a formula on hover"
        if el.shape in ("box", "pill", "ellipse") and el.name != "x":
            assert el.grad, f"{el.name}: a backward number"
    if cell == "gru":
        assert "dh_z" in {el.grad for el in table}, "the GRU's direct path is shown"
    for line in payload(cell, nl, "backward")["ladder"]:
        assert set(line["groups"]) <= substeps, f"ladder {line['name']}: groups are sub-steps"


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_diagram_geometry(cell):
    table = TABLES[cell]
    W, Hc = cell_tables.WIDTH, cell_tables.HEIGHT
    canvas = (0.0, 0.0, W, Hc)
    solids = [el for el in table if el.shape in SOLID]
    lines = [el for el in table if el.shape in LINES]
    for el in solids:
        x0, y0, x1, y1 = rect(el)
        assert 0 <= x0 and x1 <= W and 0 <= y0 and y1 <= Hc, f"{el.name} inside the canvas"
    for el in lines:
        assert len(el.at) >= 2, f"{el.name}: a line has two points"
        for pt in el.at:
            assert inside(pt, canvas), f"{el.name}: point {pt} inside the canvas"
    for el in table:
        if el.shape == "note":
            assert inside(el.at, canvas), f"{el.name}: note inside the canvas"
    # no two shapes overlap
    for a_i, a in enumerate(solids):
        for b in solids[a_i + 1 :]:
            ra, rb = rect(a), rect(b)
            overlap = ra[0] < rb[2] and rb[0] < ra[2] and ra[1] < rb[3] and rb[1] < ra[3]
            assert not overlap, f"{cell}: {a.name} overlaps {b.name}"
    # no wire runs through a shape it does not start or end at
    for ln in lines:
        ends = {
            el.name
            for el in solids
            if any(inside(pt, rect(el, -0.02)) for pt in (ln.at[0], ln.at[-1]))
        }
        for p, q in segments(ln):
            for el in solids:
                if el.name in ends:
                    continue
                assert not segment_hits_rect(p, q, rect(el, 0.02)), (
                    f"{cell}: {ln.name} runs through {el.name}"
                )
    # no note is written on a wire or inside a shape
    for note in (el for el in table if el.shape == "note"):
        for ln in lines:
            gap = min(point_segment_distance(note.at, p, q) for p, q in segments(ln))
            assert gap >= 0.2, f"{cell}: note {note.name} on {ln.name} ({gap:.2f})"
        for el in solids:
            assert not inside(note.at, rect(el)), f"{cell}: note {note.name} inside {el.name}"


def test_diagram_payload_carries_the_table():
    d = payload("rnn", "relu", "forward")
    dg = d["diagram"]
    assert (dg["width"], dg["height"]) == (cell_tables.WIDTH, cell_tables.HEIGHT)
    assert dg["sizes"] == {k: list(v) for k, v in SIZES.items()} or dg["sizes"] == SIZES
    assert [e["id"] for e in dg["elements"]] == [el.name for el in TABLES["rnn"]]
    (act,) = [e for e in dg["elements"] if e["id"] == "h_act"]
    assert act["label"] == "relu", "the RNN's box names its nonlinearity"


# --------------------------------------------------------------------------------------------
# Colour ranges are fixed for the whole animation
# --------------------------------------------------------------------------------------------


def grad_color(v, lo, hi) -> str:
    scale = style.colorscale(style.GRADIENT)
    return style.sample_colors([math.log10(abs(v))], scale, lo, hi)[0]


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_gradient_colours_use_one_range(cell, nl):
    trace, grads = run(cell, nl)
    d = payload(cell, nl, "backward")
    F = np.asarray(d["frames"])
    dd = timeline._gradients(trace, grads, UNIT, F)
    shown = [dd[el.grad][F] for el in TABLES[cell] if el.grad]
    shown += [grads.h[F], np.linalg.norm(grads.h[F], axis=-1)]
    if grads.c is not None:
        shown.append(grads.c[F])
    shown += [[parse_num(s) for s in line["result"]] for line in d["ladder"]
              if line["name"] != "factor"]  # fmt: skip
    norms = np.linalg.norm(grads.h[F], axis=-1)
    lo, hi = timeline.grad_decades(*(dd[k][F] for k in dd if k.startswith(("d", "contrib"))),
                                   grads.h[F], norms)  # fmt: skip
    (legend,) = d["legend"]
    assert legend["ticks"] == [style.fmt_grad(10**lo), style.fmt_grad(10**hi)], "legend ticks"
    for row in d["strips"]:
        assert list(row["ticks"]) == legend["ticks"], f"strip {row['name']}: the same range"
    assert 1 <= hi - lo <= 12, "whole decades, at most 12"
    mags = np.abs(np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in shown]))
    mags = mags[np.isfinite(mags) & (mags > 0)]
    assert lo <= np.log10(mags.min()) and np.log10(mags.max()) <= hi, "every gradient in range"
    # every frame's colours come from that one range
    for el, fill in zip(TABLES[cell], d["diagram"]["fill"], strict=True):
        if fill is None:
            continue
        for j, t in enumerate(F):
            v = dd[el.grad][t]
            if np.isfinite(v) and v != 0:
                assert fill[j] == grad_color(v, lo, hi), f"{el.name} at t={t}: fixed range"
    assert d["tokenFill"] == [grad_color(n, lo, hi) for n in norms], "tokens: same range"
    for j, t in enumerate(F):
        code = d["strips"][0]["codes"][j][UNIT]
        u = np.clip((np.log10(abs(grads.h[t, UNIT])) - lo) / (hi - lo), 0, 1)
        assert code == timeline.CODES[int(np.rint(u * (len(timeline.CODES) - 1)))], "strip code"
    # the same range whichever step the learner is on
    assert payload(cell, nl, "backward", step=T - 1)["legend"] == d["legend"], "legend fixed"


@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_forward_colours_use_fixed_ranges(cell, nl):
    trace, _ = run(cell, nl)
    d = payload(cell, nl, "forward")
    F = d["frames"]
    seq = style.colorscale(style.SEQUENTIAL)
    div = style.colorscale(style.DIVERGING)
    bound = explain.run_bounds(trace)["h"]
    assert bound == (max(1.0, float(np.abs(trace.h).max())) if nl == "relu" else 1.0)
    for q in set(trace.gates) & set(style.SIGMOID_GATES):
        want = style.sample_colors(trace.gates[q][F, UNIT], seq, 0.0, 1.0)
        assert fill_of(d, q) == want, f"gate {q} on 0..1"
        assert line_of(d, q)["fill"] == want, f"ladder {q} on 0..1"
        (row,) = [r for r in d["strips"] if r["name"] == q]
        assert tuple(row["ticks"]) == ("0", "1"), f"strip {q} on 0..1"
    want_h = style.sample_colors(trace.h[F, UNIT], div, -bound, bound)
    assert fill_of(d, "h") == want_h, "h on ±1 (relu: ±max|h|)"
    assert line_of(d, "h")["fill"] == want_h, "ladder h"
    if cell == "lstm":
        c_max = float(np.abs(trace.c).max())
        assert fill_of(d, "c") == style.sample_colors(trace.c[F, UNIT], div, -c_max, c_max)
    for line in d["ladder"]:
        assert line["ink"] == [style.ink_for(c) for c in line["fill"]], "readable ink"
    assert payload(cell, nl, "forward", step=T - 1)["legend"] == d["legend"], "legend fixed"


def test_grad_decades():
    assert timeline.grad_decades([0.5, 2e-3]) == (-3.0, 0.0)
    assert timeline.grad_decades([5.0, -2e-3]) == (-3.0, 1.0), "magnitudes"
    assert timeline.grad_decades([1.0]) == (0.0, 1.0), "at least one decade"
    assert timeline.grad_decades([0.0, np.nan]) == (-1.0, 0.0), "nothing to show"
    assert timeline.grad_decades([1e-40, 1.0]) == (-12.0, 0.0), "at most 12 decades"


# --------------------------------------------------------------------------------------------
# Exploding and vanishing runs (RuntimeWarnings are errors in this suite)
# --------------------------------------------------------------------------------------------


def all_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from all_strings(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from all_strings(v)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("nl", "scale", "steps"),
    [("relu", 10.0, 60), ("relu", 10.0, 150), ("tanh", 0.1, 60)],
    ids=["exploding", "saturated", "vanishing"],
)
def test_extreme_runs(nl, scale, steps, mode):
    kw = {"steps": steps, "hidden": 16, "xs": "impulse", "init": "identity", "scale": scale}
    trace, grads = run("rnn", nl, **kw)
    for unit in (0, 15):
        d = payload("rnn", nl, mode, step=steps - 1, unit=unit, labels=None, **kw)
        blob = to_json(d)  # no NaN / inf floats
        assert "NaN" not in blob, "no NaN written"
        assert_one_entry_per_frame(d)
        for s in all_strings(d):
            assert not re.search(r"\b(nan|inf|infinity)\b", s, re.IGNORECASE), repr(s)
        F = d["frames"]
        if mode == "forward":
            for j, t in enumerate(F):
                h = trace.h[t, unit]
                want = "∞" if abs(h) >= style.STATE_OVERFLOW else style.fmt_value(h)
                assert text_of(d, "h")[j] == want, f"h at t={t}"
                assert line_of(d, "h")["result"][j] == want, f"ladder h at t={t}"
    if steps == 150:
        assert trace.overflow, "the engine saturated"
        forward = to_json(payload("rnn", nl, "forward", step=0, unit=0, **kw), ascii=False)
        assert "∞" in forward and "beyond 10¹⁰⁰" in forward, "an exploded state is named"
        assert "overflow" in to_json(payload("rnn", nl, "backward", step=0, unit=0, **kw))
    if nl == "tanh":
        assert np.abs(grads.h[0]).max() < 1e-30, "the gradient vanished"


# --------------------------------------------------------------------------------------------
# User text is data; the equations are constant MathML
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_user_text_is_plain_data(mode):
    d = payload("lstm", "tanh", mode)
    assert d["tokens"] == list(LABELS), "tokens verbatim (set with textContent)"
    rest = {k: v for k, v in d.items() if k != "tokens"}
    blob = json.dumps(rest, ensure_ascii=False)
    for needle in ("alert(", "evil.example", "**melts**", "🍦", "quoted", "\\frac{1}{2}"):
        assert needle not in blob, f"user text {needle!r} only in tokens"
    for line in d["ladder"]:
        for piece in line["lhs"] + line["symbolic"]:
            for label in LABELS[1:-1]:  # (not ".")
                assert label not in piece, f"no user text in MathML: {label!r}"
    # a text input's tokens, through the engine's encoder
    seq = inputs.encode_text('say "<script>x</script>" & go', unit="words")
    trace = engine.forward("gru", engine.init_params("gru", seq.D, 4, seed=0), seq.values)
    grads = engine.backward(trace, theory.last_step_seed(trace))
    d = timeline.timeline_data(trace, grads, seq.labels, unit=0, mode=mode, step=0)
    assert d["tokens"] == list(seq.labels), "encoded tokens verbatim"
    assert {"<", "&", '"'} <= set(d["tokens"]), "not escaped on the server"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("cell", "nl"), CASES, ids=CASE_IDS)
def test_ladder_mathml_parses(cell, nl, mode):
    d = payload(cell, nl, mode)
    want = {"dh": "h", "dc": "c", "dh_prev": "h", "dc_prev": "c", "dh_act": "a", "factor": "W"}
    assert d["ladder"], "a ladder"
    for line in d["ladder"]:
        name = line["name"]
        assert line["lhs"], f"{name}: a left-hand side"
        texts = []
        for piece in line["lhs"] + line["symbolic"]:
            root = ET.fromstring(piece)  # raises on malformed XML
            assert root.tag.endswith("math"), f"{name}: a <math> element"
            texts.append("".join(root.itertext()))
        lhs = "".join(texts[: len(line["lhs"])])
        symbol = want.get(name) or (f"a{name[1:]}" if name.startswith("d") else name)
        assert symbol in lhs, f"{name}: {symbol!r} in {lhs!r}"
        if mode == "backward":
            assert "∂" in lhs or name == "factor", f"{name}: a derivative"


def test_mathml_breaks_between_terms():
    pieces = ladder.mathml(r"f_t \odot c_{t-1} + i_t \odot g_t")
    assert len(pieces) == 4, "split before ⊙ and +"
    for p in pieces:
        ET.fromstring(p)
    assert ladder.mathml("") == []


# --------------------------------------------------------------------------------------------
# Number formats (figures.style, moved from the old step-figure tests)
# --------------------------------------------------------------------------------------------


def test_number_formats():
    fv, fg = style.fmt_value, style.fmt_grad
    assert fv(0.771) == "+0.77" and fv(-0.61) == "−0.61", "signed, true minus"
    assert fv(1e100) == "overflow" and fv(float("inf")) == "overflow", "exploded state"
    assert fv(float("nan")) == "NaN"
    assert fv(12345.0) == "+1.2×10⁴", "large values in powers of ten"
    assert fg(1.234e-5) == "1.2×10⁻⁵" and fg(-0.5) == "−0.5" and fg(0.0) == "0"
    assert fg(5e-324) == "4.9×10⁻³²⁴", "subnormals"
    for v in (1.234e-5, -0.5, 3.0e7, 0.0123):
        assert parse_num(fg(v)) == pytest.approx(v, rel=0.05), f"parse_num({fg(v)})"
    assert style.safe_text('a & <b> "q"') == 'a &amp; &lt;b&gt; "q"', "plotly text escaped"
    assert ladder.terms([0.41], [-0.22], [1.0]) == ["+0.41 − 0.22 + 1.00"], "a sum"
    assert ladder.terms(*[[1.0]] * 5)[0].endswith("+ ⋯"), "at most four terms"
    assert ladder.product([0.5], [-2.0]) == ["(+0.50)(−2.00)"]


def test_frame_steps_with():
    assert style.frame_steps_with(10, 200, 3) == list(range(10))
    steps = style.frame_steps_with(2000, 200, 1234)
    assert len(steps) == 200 and 1234 in steps and steps[0] == 0 and steps[-1] == 1999
    assert style.frame_steps_with(2000, 0, 5) == [], "no frames"


# --------------------------------------------------------------------------------------------
# Honest extremes: overflow, underflow and saturation named where they happen (issue 9)
# --------------------------------------------------------------------------------------------


@functools.cache
def regime(cell, nl="tanh", *, steps=40, init="uniform", scale=1.0, forget=1.0, update=0.0):
    """One run on the impulse (a 1 at t = 0, then zeros) with the teaching knobs, H = 16."""
    values = inputs.preset("Impulse", steps=steps).values
    kw = (
        {"forget_bias": forget}
        if cell == "lstm"
        else {"update_bias": update}
        if cell == "gru"
        else {}
    )
    params = engine.init_params(
        cell, values.shape[1], 16, seed=0, recurrent_init=init, recurrent_scale=scale, **kw
    )
    trace = engine.forward(cell, params, values, nonlinearity=nl)
    return trace, engine.backward(trace, theory.last_step_seed(trace))


def regime_payload(mode, unit=0, step=None, **kw):
    trace, grads = regime(**kw)
    step = trace.T - 1 if step is None else step
    return timeline.timeline_data(trace, grads, None, unit=unit, mode=mode, step=step)


EXPLODING = {"cell": "rnn", "nl": "relu", "steps": 2000, "init": "identity", "scale": 10.0}


def test_gradient_log10_is_the_engines_norm_and_keeps_what_float64_loses():
    growing = {"cell": "rnn", "nl": "relu", "steps": 200, "init": "identity", "scale": 1.5}
    for kw in ({"cell": "rnn"}, {"cell": "gru"}, {"cell": "lstm"}, growing):
        trace, grads = regime(**kw)
        got = timeline.gradient_log10(trace)
        want = np.log10(np.linalg.norm(grads.h, axis=-1))  # all well inside float64 here
        np.testing.assert_allclose(got["h"], want, rtol=0, atol=1e-12, err_msg=str(kw))
        if trace.cell == "lstm":
            want_c = np.log10(np.linalg.norm(grads.c, axis=-1))
            np.testing.assert_allclose(got["c"], want_c, rtol=0, atol=1e-12, err_msg="c")
    # a tanh RNN with W_hh scaled by 0.05: each step back multiplies the gradient by the same
    # Jacobian as in the engine; far back the engine's float64 gradient is 0, the log is not
    trace, grads = regime("rnn", steps=2000, scale=0.05)
    lg = timeline.gradient_log10(trace)["h"]
    assert np.all(grads.h[0] == 0), "float64 lost the gradient at t = 0"
    assert np.isfinite(lg[0]) and lg[0] < -1000, "its true size is kept"
    assert np.all(np.diff(lg) > 0), "it shrinks at every step back"
    # the decrease per step is the log of the step's exact factor ‖J_tᵀ u‖/‖u‖, bounded by
    # the local factor ‖diag(1 − h_t²) W_hh‖₂
    factors = explain.rnn_factors(trace, np.arange(1, 2000))
    assert np.all(lg[:-1] - lg[1:] <= np.log10(factors) + 1e-9), "never below the bound"


def test_an_exploded_relu_rnn_is_named_and_never_zero():
    trace, grads = regime(**EXPLODING)
    n = int(np.argmax(np.any(np.abs(trace.h) >= engine.cells.STATE_LIMIT, axis=-1)))
    assert trace.overflow and 0 < n < 1999, "the states hit the engine's cap"
    fwd = regime_payload("forward", **EXPLODING)
    for j, t in enumerate(fwd["frames"]):
        alert = fwd["alerts"][j]
        if t >= n:
            assert f"Exploded at step {n}: beyond 10¹⁰⁰, shown as ∞" in alert, f"t={t}"
            if trace.h[t, 0] >= engine.cells.STATE_LIMIT:
                assert text_of(fwd, "h")[j] == "∞", f"the state at t={t}"
                assert line_of(fwd, "h")["result"][j] == "∞"
        else:
            assert "Exploded" not in alert, f"not before it happens (t={t})"
    bwd = regime_payload("backward", **EXPLODING)
    norm = np.linalg.norm(trace.params["weight_hh"], 2)
    assert norm == pytest.approx(10.0), "W_hh = 10 I"
    top = timeline.CODES[-1]
    for j, t in enumerate(bwd["frames"]):
        assert f"Exploded at step {n}" in bwd["alerts"][j] and "never as 0" in bwd["alerts"][j]
        for line in bwd["ladder"]:
            res, nums = line["result"][j], line["numbers"][j]
            assert res != "0", f"{line['name']} at t={t}: an explosion is never 0"
            if res == "overflow":  # a finite product never equals overflow
                assert (
                    nums == [] or any("overflow" in x for x in nums) or nums == [timeline.HELD]
                ), (line["name"], t, nums)
        # ‖diag([a_t > 0]) W_hh‖₂ for the held (active) states: 10, never 0.00
        assert line_of(bwd, "factor")["result"][j] == "10", f"factor at t={t}"
        assert bwd["factor"][j].endswith("= 10"), bwd["factor"][j]
        if t < 1999:  # what reaches t crossed the held states: overflow, drawn at the top
            assert line_of(bwd, "dh")["result"][j] == "overflow", f"dL/dh at t={t}"
            assert text_of(bwd, "h_prev")[j] == "overflow"
            assert set(bwd["strips"][0]["codes"][j]) == {top}, "every unit at the top colour"
    j = bwd["frames"].index(1999)
    assert line_of(bwd, "dh")["result"][j] == "1", "the loss's own gradient is exact"
    assert line_of(bwd, "dh_act")["numbers"][j] == [timeline.HELD], "no (1)(1) = overflow"


def test_relu_growth_below_the_cap_is_written_as_numbers():
    kw = {"cell": "rnn", "nl": "relu", "steps": 200, "init": "identity", "scale": 1.5}
    trace, grads = regime(**kw)
    assert not trace.overflow and np.abs(grads.h[0]).max() > 1e30, "it grows, below 10¹⁰⁰"
    d = regime_payload("backward", **kw)
    for j, t in enumerate(d["frames"]):
        assert line_of(d, "dh")["result"][j] == style.fmt_grad(grads.h[t, 0]), f"t={t}"
        assert "Exploded" not in d["alerts"][j] and "overflow" not in to_json(d)
        assert d["factor"][j].endswith("= 1.5"), "‖diag([a_t > 0]) 1.5 I‖₂"


def test_a_vanished_gradient_is_below_1e_300_never_0():
    kw = {"cell": "rnn", "steps": 2000, "scale": 0.05}
    trace, grads = regime(**kw)
    lg = timeline.gradient_log10(trace)["h"]
    first = int(np.flatnonzero(lg < -300).max())  # walking back: where it drops below 10⁻³⁰⁰
    d = regime_payload("backward", **kw)
    for j, t in enumerate(d["frames"]):
        alert = d["alerts"][j]
        if t <= first:
            assert f"Vanished below 10⁻³⁰⁰ at step {first}" in alert, f"t={t}"
            assert timeline._sup(lg[t]) in alert, "its true size, from the log"
            below = (ladder.BELOW, f"−({ladder.BELOW})")  # the sign float64 kept, if any
            dh = line_of(d, "dh")["result"][j]
            assert dh in below, f"dL/dh at t={t}: {dh}"
            assert text_of(d, "h_prev")[j] in below
            assert line_of(d, "dh")["numbers"][j] == [f"(0) + ({dh})"], "the loss's term is 0"
        else:
            assert "Vanished" not in alert, f"t={t}"
            assert line_of(d, "dh")["result"][j] == style.fmt_grad(grads.h[t, 0])
    tanh_guide = " ".join(d for d in texts.substep_guides("rnn", "tanh").values())
    assert "tanh" in tanh_guide


@pytest.mark.parametrize("mode", MODES)
def test_a_saturated_lstm_forget_gate_is_named_with_its_value(mode):
    kw = {"cell": "lstm", "forget": -10.0}
    trace, _ = regime(**kw)
    d = regime_payload(mode, **kw)
    for j, t in enumerate(d["frames"]):
        f = trace.gates["f"][t, 0]
        assert f < 1e-4, "the forget gate is closed"
        written = ladder.fgate(f)
        assert written != "+0.00" and parse_num(written) == pytest.approx(f, rel=0.05)
        slope = style.fmt_grad(f * (1 - f))
        assert (
            f"f_t = {written} is saturated at 0 (closed): its slope f(1 − f) = {slope}"
            in (d["alerts"][j])
        ), d["alerts"][j]
        if mode == "forward":
            assert line_of(d, "f")["result"][j] == written and text_of(d, "f")[j] == written
        else:
            assert d["factor"][j].startswith(f"× f_t = {written} on the highway:\nits share")


def test_a_gru_keeping_its_state_names_z_and_shows_share_and_total():
    kw = {"cell": "gru", "update": 10.0}
    trace, grads = regime(**kw)
    d = regime_payload("backward", **kw)
    for j, t in enumerate(d["frames"]):
        z = trace.gates["z"][t, 0]
        assert 1 - z < 1e-4 and ladder.fgate(z).startswith("1 − "), "z_t near 1, written exactly"
        assert f"z_t = {ladder.fgate(z)} is saturated at 1 (open)" in d["alerts"][j]
        total = grads.h[t - 1, 0] if t > 0 else timeline._gradients(
            trace, grads, 0, np.array([0]))["dh_prev"][0]  # fmt: skip
        share, note = grads.h[t, 0] * z, d["factor"][j]
        want = f"its share {style.fmt_grad(share)} of ∂L/∂h_{{t−1}} = {style.fmt_grad(total)}"
        assert note.endswith(want), note
        # the pill and the equation show the same total, the line into × z_t its share
        assert text_of(d, "h_prev")[j] == line_of(d, "dh_prev")["result"][j]
        assert line_of(d, "dh_prev")["result"][j] == style.fmt_grad(total)
        assert fill_of(d, "line_in")[j] == timeline._grad_colors(
            [share], tuple(parse_decades(d)), False)[0]  # fmt: skip
    hover = {e["id"]: e["hover"] for e in d["diagram"]["elements"]}
    assert "share" in hover["line_in"] and "total" in hover["line_in"]


def parse_decades(d):
    lo, hi = d["legend"][0]["ticks"]
    return math.log10(parse_num(lo)), math.log10(parse_num(hi))


def test_the_lstm_dh_prev_is_written_with_its_numbers():
    trace, grads = regime("lstm")
    d = regime_payload("backward", cell="lstm")
    line = line_of(d, "dh_prev")
    for j, t in enumerate(d["frames"]):
        if t == 0:
            continue
        nums = line["numbers"][j]
        assert len(nums) == 1 and nums[0].count("(") == 4, "four gates' shares, with numbers"
        assert line["result"][j] == style.fmt_grad(grads.h[t - 1, 0]), f"= BPTT's at t={t}"
        assert text_of(d, "h_prev")[j] == line["result"][j], "the pill says the same"


@pytest.mark.parametrize("nl", ["tanh", "relu"])
def test_rnn_texts_follow_the_activation(nl):
    d = regime_payload("forward", cell="rnn", nl=nl)
    hover = {e["id"]: e["hover"] for e in d["diagram"]["elements"]}
    guides = " ".join(texts.substep_guides("rnn", nl).values())
    ladder_tex = " ".join(" ".join(x["symbolic"]) for x in d["ladder"])
    b = regime_payload("backward", cell="rnn", nl=nl)
    back = " ".join(" ".join(x["symbolic"] + x["lhs"]) for x in b["ladder"]) + " ".join(b["factor"])
    if nl == "relu":
        assert "relu" in hover["h_act"] and "squashed" not in hover["h_act"]
        assert "tanh" not in guides and "1 − h" not in guides
        assert "tanh" not in ladder_tex and "1−h" not in " ".join(b["factor"])
        assert "[a_t>0]" in " ".join(b["factor"])
    else:
        assert "tanh" in hover["h_act"] and "tanh" in guides and "1−h_t²" in b["factor"][0]
    assert back, "backward ladder present"


def test_an_inactive_relu_unit_passes_exactly_0_even_after_an_explosion():
    """[a_t > 0] = 0 makes ∂L/∂a_t exactly 0 whatever reached h_t; the rest stays overflow."""
    values = inputs.preset("Sine wave", steps=300).values
    params = engine.init_params("rnn", values.shape[1], 16, seed=0, recurrent_scale=10.0)
    trace = engine.forward("rnn", params, values, nonlinearity="relu")
    grads = engine.backward(trace, theory.last_step_seed(trace))
    assert trace.overflow, "the states exploded"
    seen = 0
    for unit in range(16):
        d = timeline.timeline_data(trace, grads, None, unit=unit, mode="backward", step=0)
        for j, t in enumerate(d["frames"]):
            a = explain.unit_values(trace, unit)["a_h"][t]
            held = trace.h[t, unit] >= engine.cells.STATE_LIMIT  # its own state, or a later one
            crossed = held or np.abs(trace.h[t + 1 :]).max(initial=0) >= engine.cells.STATE_LIMIT
            result = line_of(d, "dh_act")["result"][j]
            if a <= 0 and crossed:
                seen += 1
                assert result == "0", f"unit {unit} at t={t}: [a_t > 0] = 0"
                assert "a_t ≤ 0: ReLU sets this unit to 0" in d["alerts"][j]
            elif crossed:
                assert result == "overflow", f"unit {unit} at t={t}"
    assert seen, "the case happened"


def test_the_caption_names_the_gru_share_and_the_symbols_of_an_extreme_run():
    from ui import timeline as ui_timeline  # the component's caption (no Streamlit run needed)

    exploded = regime_payload("backward", **EXPLODING)
    plain = regime_payload("backward", cell="gru")
    text = ui_timeline.caption("backward", "rnn", exploded["alerts"])
    assert "∞ a state beyond 10¹⁰⁰" in text and "overflow a gradient" in text
    gru = ui_timeline.caption("backward", "gru", plain["alerts"])
    assert "direct path's share" in gru and "total ∂L/∂h_{t−1}" in gru
    assert "10¹⁰⁰" not in gru, "no symbols explained where none is shown"
    lstm = ui_timeline.caption("backward", "lstm", [])
    assert "highway's share ∂L/∂c_t f_t of ∂L/∂c_{t−1}" in lstm


def test_a_gradient_beyond_1e100_is_overflow_with_its_true_size():
    """A tanh RNN resting at h = 0 (no input, no bias) with W_hh = 10 I: every step back
    multiplies dL/dh by exactly 10, so ‖dL/dh_t‖ = 10^(T−1−t) ‖1‖ passes 10¹⁰⁰ after 100 steps
    while every state stays 0."""
    steps = 300
    params = engine.init_params("rnn", 1, 16, seed=0, recurrent_init="identity",
                                recurrent_scale=10.0)  # fmt: skip
    params = {**params, "bias_ih": np.zeros(16), "bias_hh": np.zeros(16)}
    trace = engine.forward("rnn", params, np.zeros((steps, 1)))
    grads = engine.backward(trace, theory.last_step_seed(trace))
    assert not trace.overflow and np.all(trace.h == 0), "the states never move"
    lg = timeline.gradient_log10(trace)["h"]
    want = (steps - 1 - np.arange(steps)) + np.log10(4.0)  # ‖(1, …, 1)‖ = √16
    np.testing.assert_allclose(lg, want, rtol=0, atol=1e-9, err_msg="exact powers of 10")
    first = int(np.flatnonzero(lg >= 100).max())
    d = timeline.timeline_data(trace, grads, None, unit=3, mode="backward", step=0)
    for j, t in enumerate(d["frames"]):
        if t <= first:
            assert f"The gradient passed 10¹⁰⁰ at step {first}" in d["alerts"][j], f"t={t}"
            assert timeline._sup(lg[t]) in d["alerts"][j]
            if lg[t] >= 100.7:  # the unit's own share (¼ of the norm) is beyond 10¹⁰⁰ too
                assert line_of(d, "dh")["result"][j] == "overflow", f"t={t}"
        else:
            assert "passed 10¹⁰⁰" not in d["alerts"][j]
            assert line_of(d, "dh")["result"][j] == style.fmt_grad(grads.h[t, 3])


def test_the_lstm_highway_share_and_the_total_dc_prev_add_up_with_the_h_path():
    """∂L/∂c_{t−1} = ∂L/∂c_t f_t (the highway, written on it) + ∂L/∂h_{t−1} o_{t−1}
    (1 − tanh² c_{t−1}) (the path through h_{t−1}, at step t − 1): the note's two numbers."""
    trace, grads = regime("lstm")
    d = regime_payload("backward", cell="lstm")
    o, tc = trace.gates["o"][:, 0], np.tanh(trace.c[:, 0])
    for j, t in enumerate(d["frames"]):
        share = grads.c[t, 0] * trace.gates["f"][t, 0]
        if t == 0:
            total = share  # c_0 reaches the loss only along the highway
        else:
            total = grads.c[t - 1, 0]
            h_path = grads.h[t - 1, 0] * o[t - 1] * (1 - tc[t - 1] ** 2)
            assert share + h_path == pytest.approx(total, rel=1e-9, abs=1e-300), f"t={t}"
        note = d["factor"][j]
        want = f"its share {style.fmt_grad(share)} of ∂L/∂c_{{t−1}} = {style.fmt_grad(total)}"
        assert note.endswith(want), note
        assert text_of(d, "c_prev")[j] == style.fmt_grad(share), "the pill: the share"


def test_the_backward_guides_name_a_share_as_a_share():
    """The page's backward text writes no share as the whole ∂L/∂c_{t−1} (item 3 of issue 9)."""
    assert "∂L/∂c_{t−1} = ∂L/∂c_t f_t" not in texts.GUIDE_BACKWARD["lstm"]
    assert "share of ∂L/∂c_{t−1} is ∂L/∂c_t f_t" in texts.GUIDE_BACKWARD["lstm"]
    assert "the rest of ∂L/∂h_{t−1}" in texts.GUIDE_BACKWARD["gru"]
    assert "bounds" in texts.GUIDE_BACKWARD["rnn"], "the RNN's number is called a bound"


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_pytorch_boxes_name_their_quantity_and_the_gru_draws_r_after_the_product(cell):
    d = payload(cell, "tanh", "forward")
    boxes = {e["id"]: e for e in d["diagram"]["elements"] if e["shape"] == "box"}
    # the default notation is PyTorch's: each box names its quantity q_t (the RNN's is h_t)
    for name, e in boxes.items():
        assert e["sym"] == ("h_t" if cell == "rnn" else f"{name}_t"), e
    assert d["notation"] == "pytorch"
    assert d["substepLabels"] == {q: q for q in d["substeps"]}
    if cell == "gru":  # U_n acts on h_{t−1} first (on the bus), then × r_t: the reset after it
        el = {e["id"]: e for e in d["diagram"]["elements"]}
        assert el["mat_n"]["at"][0] == el["mul_r"]["at"][0]
        assert el["mat_n"]["at"][1] < el["mul_r"]["at"][1]
        assert el["mat_n"]["label"] == "U"
