"""One lesson as one self-contained HTML file.

The file holds plotly.js once (from the installed plotly package), the Step through timeline
(the app's own ``ui/timeline.js`` and ``ui/timeline.css``, linked into this package and
mounted by a small shim in place of Streamlit), every figure as Plotly JSON, and the lesson's
texts and settings. It requests nothing from any host: it works from ``file://`` with the
network off (a Content Security Policy in the file forbids any connection). User text is
escaped everywhere: HTML text with :func:`html.escape`, data in
``<script type="application/json">`` with ``<``, ``>`` and ``&`` written as JSON escapes, and
the timeline sets tokens as text only.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import plotly.io as pio
from plotly.offline import get_plotlyjs

import engine
from engine import theory
from figures import gates, gradients, style, timeline
from figures import notation as nt
from figures.guides import substep_guides as guides_of
from figures.notation import MEASURE_TEMPLATES, measure_label

from . import compute
from .settings import APP_URL, Settings, app_link, rows, validate

_HERE = Path(__file__).resolve().parent
TIMELINE_DIR = _HERE
"""``timeline.js`` and ``timeline.css`` here are symbolic links to the app's component in
``ui/`` (one source; a wheel built from the clone holds them as files)."""
EXPORT_MARK = "export default function (component) {"
WHY_LAG = 10  # the why panel's lag k, as the Vanishing gradients page opens it

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
"""Nothing may be fetched or sent: scripts and styles are inline, images are data."""

EXTRA_TEMPLATE = "LSTM ‖dL/d@c@‖"  # the comparison's extra curve (lesson.compute.compare)


MEASURE_LABELS = {m: measure_label(m) for m in MEASURE_TEMPLATES}
"""PyTorch's labels: ‖∂h_T/∂x_t‖ (input sensitivity), ‖∂h_T/∂h_t‖, ‖dL/dh_t‖."""
TIMELINE_CAPTION = {
    "forward": "How to read this: boxes are gates, filled by their value for unit k at this "
    "step (Viridis 0…1 for gates, red–blue for signed values); the state line's thickness "
    "follows its magnitude. Hover an element for its formula. ▶ Play, ◀ ▶, the slider and the "
    "token chips move the diagram, the equations and the vectors together (← → and Space too, "
    "once a control of this timeline has the focus).",
    "backward": "How to read this: the colours are gradient magnitudes |∂L/∂·| on a log scale "
    "fitted to this run, for a loss L = Σ @h_last@ on the last step; the walk runs from the last "
    "step to the first. The number written on the state path is the factor the gradient is "
    "multiplied by at each step on its way back (for the RNN, a bound on it).",
}
"""The timelines' how-to-read lines; ``@q@`` is the notation's symbol of q."""
RESET_BEFORE_CAPTION = (
    " This GRU is the reset-before model (Cho et al. 2014): @r@ multiplies @h_prev@ before the "
    "recurrent product: a different model from PyTorch's GRU, not only other symbols."
)
OMZ_CAPTION = " Here @omz@ = 1 − z weighs the candidate @n@: its box and numbers are 1 − z."


def timeline_caption(mode: str, cell: str, notation: str, reset: str) -> str:
    """A timeline's how-to-read line in the notation's symbols; for a GRU with its reset gate
    before the product (``reset``, the trace's), which model it is."""
    text = TIMELINE_CAPTION[mode]
    if notation != "pytorch":
        text += f" Symbols: {nt.LABELS[notation]}'s."
    if cell == "gru" and reset == "before":
        text += RESET_BEFORE_CAPTION
    if cell == "gru" and nt.shown(notation, cell, "z") == "omz":
        text += OMZ_CAPTION
    return nt.ufill(text, notation, cell)


def _json(obj) -> str:
    """JSON that is inert inside a ``<script>`` element, whatever strings it holds."""
    text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def timeline_source() -> tuple[str, str]:
    """The app's timeline component (JS and CSS), the JS as a classic-script expression whose
    value is the mount function Streamlit would call."""
    js_path, css_path = TIMELINE_DIR / "timeline.js", TIMELINE_DIR / "timeline.css"
    if not js_path.is_file() or not css_path.is_file():
        raise FileNotFoundError(
            f"The Step through component ({js_path}) was not found: reinstall gatescope from a "
            "clone (pip install -e . or pip install .)."
        )
    js = js_path.read_text(encoding="utf-8")
    if js.count(EXPORT_MARK) != 1:
        raise RuntimeError(f"{js_path} no longer has one '{EXPORT_MARK}': update the shim.")
    body = js.replace(EXPORT_MARK, "return function (component) {")
    return f"(function () {{\n{body}\n}})()", css_path.read_text(encoding="utf-8")


def _figure(fig) -> str:
    return pio.to_json(fig, validate=False)


def bound_sentence(cmp: compute.Comparison, notation: str = "pytorch") -> str:
    """The RNN's theory, computed from the run: the Pascanu bound, its rate, and whether the
    measured curve stays under it (a bound is called a bound; overflow is said as overflow),
    its symbols in the notation."""
    diag = gradients.derivative(cmp.nonlinearity, notation)[0]
    prime = " (tanh′)" if cmp.nonlinearity == "tanh" else " (ReLU′)"
    act = diag.removeprefix("diag(")[:-1] + prime
    w_hh = gradients.recurrent_weight(notation)
    norm = measure_label("h", notation).split(" ")[0]
    if cmp.sigma_max < 1 - 1e-9:
        rate = "below 1, so the RNN's gradient must vanish at least geometrically"
    else:
        allows = "allows no growth" if cmp.sigma_max <= 1 + 1e-9 else "allows growth"
        above = "1" if cmp.sigma_max <= 1 + 1e-9 else "above 1"
        rate = (
            f"{above}, so the bound {allows}; whether the gradient vanishes is decided by the "
            f"derivatives {act} at each step"
        )
    finite = np.isfinite(cmp.curves["rnn"][:-1])
    if cmp.rnn_overflow is not None and not finite.any():
        check = (
            "cannot be checked here: every lag crosses a state clipped at 10¹⁰⁰ (the states "
            f"overflowed from step {cmp.rnn_overflow} on)"
        )
    else:
        where = (
            "at every lag whose Jacobian does not cross a state clipped at 10¹⁰⁰ (the states "
            f"overflowed from step {cmp.rnn_overflow} on)"
            if cmp.rnn_overflow is not None
            else "at every lag"
        )
        check = ("holds" if cmp.bound_holds else "is violated") + " " + where
    return (
        "Theory for the RNN (Pascanu, Mikolov & Bengio 2013): each step back multiplies the "
        f"gradient by the matrix diag({act}) {w_hh}, so {norm} ≤ (γ·σ_max)^k over k steps, "
        f"with γ = 1 and σ_max({w_hh}) = {cmp.sigma_max:.3f}: {rate}. The faint grey line is this "
        f"upper bound (times the measure's own constant factor); for this run it {check}."
    )


def _timelines(s: Settings, runs: dict) -> dict:
    out = {}
    for cell, r in runs.items():
        T = r.trace.T
        guides = {"forward": None, "backward": None}
        for mode in guides:
            step = 0 if mode == "forward" else T - 1
            data = timeline.timeline_data(
                r.trace, r.grads, r.labels, unit=min(s.unit, r.trace.H - 1), mode=mode,
                step=step, notation=s.notation,
            )  # fmt: skip
            data.update(
                key=f"{cell}-{mode}", uid=f"{cell}{mode[0]}", step=step, present=False,
                caption=timeline_caption(mode, cell, s.notation, r.trace.gru_reset),
                guides=guides_of(cell, r.trace.nonlinearity, s.notation, r.trace.gru_reset),
                ladderTitle=f"Equations for unit k = {data['unit']} ({mode})",
                stripsTitle="Every unit at this step (unit k outlined)",
            )  # fmt: skip
            out[f"{cell}-{mode}"] = data
    return out


def _gate_figures(s: Settings, r: compute.Run) -> list[tuple[str, str, str]]:
    """Gates over time for the lesson's cell, in the notation's symbols (the page's figures and
    their how-to-read captions for the cell and activation)."""
    trace, labels, n = r.trace, r.labels, s.notation
    unit = min(s.unit, trace.H - 1)
    figs = {
        "gate_heatmaps": gates.gate_heatmaps(trace, labels=labels, notation=n),
        "step_bars": gates.step_bars(trace, labels=labels, notation=n),
        "unit_lines": gates.unit_lines(trace, unit, labels=labels, step=0, notation=n),
        "saturation_strip": gates.saturation_strip(
            theory.gate_saturation(trace), labels=labels, step=0, notation=n
        ),
    }
    return [
        (name, _figure(fig), gates.how_to_read(name, trace, notation=n))
        for name, fig in figs.items()
    ]


def _gradient_figures(s: Settings, cmp: compute.Comparison, labels) -> list:
    """Vanishing gradients' figures and captions in the notation's symbols (the same numbers)."""
    n = s.notation
    label = measure_label(s.measure, n)
    shown = labels[cmp.first :]
    renamed = {nt.ufill(EXTRA_TEMPLATE, "pytorch", "lstm"): nt.ufill(EXTRA_TEMPLATE, n, "lstm")}
    extra = {renamed.get(k, k): v for k, v in cmp.extra.items()}
    figs = [
        ("gradient_strips", gradients.gradient_strips(
            cmp.curves, labels=shown, title=f"{label} per token", measure=label.split(" ")[0]),
         "gradient_strips"),
        ("gradient_vs_lag", gradients.gradient_vs_lag(
            cmp.curves, measure_label=label, bound=cmp.bound, extra=extra, labels=shown),
         "gradient_vs_lag"),
        ("lstm_path", gradients.path_split(cmp.lstm_path["total"], cmp.lstm_path["path"],
                                           cell="lstm", labels=labels, notation=n), "path_split"),
        ("gru_path", gradients.path_split(cmp.gru_path["total"], cmp.gru_path["path"],
                                          cell="gru", labels=labels, notation=n), "path_split"),
    ]  # fmt: skip
    T = len(cmp.rnn_factors)
    if T >= 2:
        lag = min(WHY_LAG, T - 1)
        figs.append(("why_factors", gradients.why_factors(
            cmp.rnn_factors[T - lag :], cell="rnn", lag=lag,
            measured=cmp.why_measured()[T - 1 - lag : T - 1], nonlinearity=cmp.nonlinearity,
            notation=n), "why_factors"))  # fmt: skip
    return [(name, _figure(fig), gradients.how_to_read(how, n)) for name, fig, how in figs]


def _why_text(cmp: compute.Comparison, notation: str) -> str:
    T = len(cmp.rnn_factors)
    lag = min(WHY_LAG, T - 1)
    return gradients.why_summary(
        cmp.rnn_factors[T - lag :] if lag else cmp.rnn_factors[:0], cmp.why_measured(),
        nonlinearity=cmp.nonlinearity, overflow_step=cmp.rnn_overflow, notation=notation,
    )  # fmt: skip


def build_html(
    s: Settings,
    *,
    csv_text: str | bytes | None = None,
    link: str | None = None,
    app_url: str = APP_URL,
) -> str:
    """The lesson as one self-contained HTML document.

    ``link`` is the address that opens the same lesson in the live app (default: ``app_url``
    with the lesson's query string). Raises :class:`engine.InputError` for bad input."""
    s = validate(s)
    seq, full = compute.sequence(s, csv_text)
    runs = {cell: compute.run(s, seq, cell) for cell in engine.CELLS}
    cmp = compute.compare(s, runs)
    js, css = timeline_source()
    link = link or app_link(s, app_url)
    figures = {"gates": _gate_figures(s, runs[s.cell]),
               "gates_notice": gates.what_to_notice(runs[s.cell].trace, notation=s.notation),
               "gradients": _gradient_figures(s, cmp, seq.labels),
               "memory": gradients.gate_memory_sentence(
                   runs["gru"].trace.gates["z"], runs["lstm"].trace.gates["f"],
                   lag=seq.T - cmp.first - 1, notation=s.notation)}  # fmt: skip
    data = {"css": css, "timelines": _timelines(s, runs), "config": PLOTLY_CONFIG,
            "first": f"{s.cell}-forward"}  # fmt: skip
    notes = []
    if full:
        notes.append(f"Using the first {seq.T:,} of {full:,} steps (T = {s.T}).")
    if cmp.first:
        notes.append(
            f"With H = {s.H} each exact Jacobian is {s.H}×{s.H}: the norms are computed for the "
            f"last {seq.T - cmp.first:,} steps."
        )
    if any(len(t["frames"]) < seq.T for t in data["timelines"].values()):
        notes.append(
            f"This sequence has {seq.T:,} steps: the animations show {style.MAX_FRAMES} evenly "
            "spaced steps (the first and the last included); every number is computed for all."
        )
    return _page(s, seq, link, figures, data, notes, cmp, js, runs["gru"].trace.gru_reset)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _figure_blocks(items, prefix: str) -> tuple[str, str]:
    blocks, scripts = [], []
    for name, fig, caption in items:
        ident = f"fig-{prefix}-{name}"
        blocks.append(
            f'<figure class="ls-fig"><div class="ls-plot" id="{ident}" data-figure="{ident}-json"'
            f' data-name="{name}"></div><figcaption>{_e(caption)}</figcaption></figure>'
        )
        scripts.append(f'<script type="application/json" id="{ident}-json">{_json(fig)}</script>')
    return "\n".join(blocks), "\n".join(scripts)


def models_sentence(notation: str, gru_reset: str) -> str:
    """Which equations computed the numbers and in which symbols they are written."""
    if notation == "pytorch" and gru_reset == "after":
        return "PyTorch's equations"
    said = f"written in {nt.LABELS[notation]}'s symbols"
    if gru_reset == "before":
        return (
            f"{said}; the RNN and the LSTM are PyTorch's models, the GRU is the reset-before "
            "model of Cho et al. 2014 (its reset gate multiplies the old state before the "
            "recurrent product)"
        )
    return f"{said}; every cell is PyTorch's model"


def _page(s, seq, link, figures, data, notes, cmp, js, gru_reset) -> str:
    name = style.CELL_NAMES[s.cell]
    what = {"preset": s.preset, "text": s.text, "numbers": s.numbers, "csv": "a CSV file"}
    title = f"gatescope lesson: {what[s.source]}"
    settings_rows = "\n".join(
        f"<tr><th scope='row'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows(s, gru_reset)
    )
    gate_html, gate_json = _figure_blocks(figures["gates"], "gates")
    grad_html, grad_json = _figure_blocks(figures["gradients"], "vg")
    takeaway = gradients.takeaway(cmp.curves, None)
    pick_cells = "".join(
        f'<button type="button" class="ls-pick" data-cell="{c}">{style.CELL_NAMES[c]}</button>'
        for c in engine.CELLS
    )
    pick_modes = "".join(
        f'<button type="button" class="ls-pick" data-mode="{m}">{label}</button>'
        for m, label in (("forward", "Forward ▶"), ("backward", "◀ Backward (BPTT)"))
    )
    hosts = "".join(
        f'<div class="ls-timeline" data-timeline="{k}" hidden></div>' for k in data["timelines"]
    )
    note_html = "".join(f'<p class="ls-note">{_e(n)}</p>' for n in notes)
    tokens = ", ".join(f"“{t}”" for t in seq.labels[:40]) + (" …" if seq.T > 40 else "")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{(_HERE / "lesson.css").read_text(encoding="utf-8")}</style>
<script>{get_plotlyjs()}</script>
</head>
<body>
<main>
<header>
<h1>{_e(title)}</h1>
<p>An RNN, a GRU and an LSTM on the same sequence of {seq.T:,} steps
(D = {seq.D}, H = {s.H}, seed {s.seed}), computed exactly by gatescope's NumPy engine (float64,
{_e(models_sentence(s.notation, gru_reset))}). This file works offline: open it in any browser.</p>
<p class="ls-tokens">Tokens: {_e(tokens)}</p>
{note_html}
<p><a id="ls-app-link" href="{_e(link)}">Open this lesson in the live app</a>
(needs the app running at that address).</p>
</header>

<section id="ls-step" aria-labelledby="ls-step-h">
<h2 id="ls-step-h">Step through</h2>
<div class="ls-picker" role="group" aria-label="Which timeline">{pick_cells}
<span class="ls-sep"></span>{pick_modes}</div>
{hosts}
</section>

<section id="ls-gates" aria-labelledby="ls-gates-h">
<h2 id="ls-gates-h">Gates over time · {name}</h2>
<p id="ls-gates-notice"><strong>What to notice:</strong> {_e(figures["gates_notice"])}</p>
{gate_html}
</section>

<section id="ls-vg" aria-labelledby="ls-vg-h">
<h2 id="ls-vg-h">Vanishing gradients · RNN, GRU and LSTM</h2>
<p>Gradient measure: {_e(measure_label(s.measure, s.notation))}.</p>
<p id="ls-takeaway"><strong>What to notice:</strong> {_e(takeaway)}</p>
<p id="ls-memory"><strong>Why the gated cells keep or lose it:</strong>
{_e(figures["memory"])}</p>
<p id="ls-theory">{_e(bound_sentence(cmp, s.notation))}</p>
{grad_html}
<p id="ls-why">{_e(_why_text(cmp, s.notation))}</p>
</section>

<section id="ls-settings" aria-labelledby="ls-settings-h">
<h2 id="ls-settings-h">This lesson's settings</h2>
<table class="ls-table">{settings_rows}</table>
</section>
</main>
<script type="application/json" id="ls-data">{_json(data)}</script>
{gate_json}
{grad_json}
<script>
const gsMountTimeline = {js};
{(_HERE / "shim.js").read_text(encoding="utf-8")}
</script>
</body>
</html>
"""
