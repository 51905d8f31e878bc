"""The visual language shared by every figure: colours, symbols, number formats, motion.

One place for the choices in ``shared/LESSON_DESIGN.md`` so every figure agrees: fixed colour
ranges, colour-blind-safe scales (Viridis for gates in 0..1, RdBu for signed values, Magma_r on
log10 for gradient magnitudes, Dark2 for the three cells plus a dash style so colour is never
the only cue), the current-step cursor, and the 700 ms timestep.
"""

from __future__ import annotations

import functools
import html
import math
import re

import numpy as np

CELL_NAMES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}
CELL_COLORS = {"rnn": "#d95f02", "gru": "#7570b3", "lstm": "#1b9e77"}  # Dark2
CELL_DASH = {"rnn": "solid", "gru": "dash", "lstm": "dot"}
CELL_MARKERS = {"rnn": "circle", "gru": "square", "lstm": "diamond"}

SEQUENTIAL = "Viridis"  # sigmoid gates, fixed 0..1
DIVERGING = "RdBu"  # signed values, zmid = 0
GRADIENT = "Magma_r"  # log10 of gradient magnitudes
GRAD_DECADES = (-8.0, 0.0)  # the shared log10 range of every gradient colour scale

CURSOR_LINE = {"color": "#111111", "width": 2, "dash": "dash"}
CURSOR_BAND = "rgba(0,0,0,0.06)"

STEP_MS = 700  # one timestep at 1x
TRANSITION_MS = 250  # a gate lighting up
MAX_FRAMES = 200  # longer sequences are animated on a subsample of steps (said on screen)

FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 14, "color": "#111111"}
PRESENTATION_FONT_SIZE = 20

# One symbol per quantity everywhere (HTML for Plotly, which does not render LaTeX).
SYMBOLS = {
    "i": "i<sub>t</sub>",
    "f": "f<sub>t</sub>",
    "g": "g<sub>t</sub>",
    "o": "o<sub>t</sub>",
    "r": "r<sub>t</sub>",
    "z": "z<sub>t</sub>",
    "n": "n<sub>t</sub>",
    "c": "c<sub>t</sub>",
    "h": "h<sub>t</sub>",
    "x": "x<sub>t</sub>",
}
GATE_NAMES = {
    "i": "input gate",
    "f": "forget gate",
    "g": "candidate",
    "o": "output gate",
    "r": "reset gate",
    "z": "update gate",
    "n": "candidate",
    "c": "cell state",
    "h": "hidden state",
    "x": "input",
}
SIGMOID_GATES = frozenset("ifozr")


def scale_for(name: str, c_max: float = 1.0) -> dict:
    """Fixed colour scale of a quantity: Viridis 0..1 for sigmoid gates, RdBu ±1 (±c_max for
    the LSTM cell state) for signed values. Returns Plotly heatmap/marker keyword arguments."""
    if name in SIGMOID_GATES:
        return {"colorscale": SEQUENTIAL, "zmin": 0.0, "zmax": 1.0}
    bound = max(float(c_max), 1e-12) if name == "c" else 1.0
    return {"colorscale": DIVERGING, "zmin": -bound, "zmax": bound, "zmid": 0.0}


def fmt_signed(v: float, digits: int = 2) -> str:
    """Signed with a true minus: ``+0.92``, ``−0.61``."""
    if not math.isfinite(v):
        return "overflow" if not math.isnan(v) else "NaN"
    s = f"{v:+.{digits}f}"
    return s.replace("-", "−")


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt_grad(v: float, digits: int = 1) -> str:
    """A gradient magnitude as ``1.2×10⁻⁵`` (plain decimals between 0.01 and 1000)."""
    if not math.isfinite(v):
        return "overflow" if not math.isnan(v) else "NaN"
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-2 <= a < 1e3:
        return f"{v:.{digits + 2}g}".replace("-", "−")
    mant, exp = f"{v:.{digits}e}".split("e")  # exact for subnormals too (no 10**exp)
    return f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}".replace("-", "−")


def fmt_counter(t: int, T: int) -> str:
    """Fixed-width step counter, 1-based: ``Step 012 / 200``."""
    width = len(str(T))
    return f"Step {t + 1:0{width}d} / {T}"


def log10_magnitude(a) -> np.ndarray:
    """log10|a| clipped to the shared decades (exact zeros map to the bottom, no warning)."""
    a = np.abs(np.asarray(a, dtype=np.float64))
    lo, hi = GRAD_DECADES
    out = np.full(a.shape, lo)
    np.log10(a, out=out, where=a > 10.0**lo)
    return np.clip(out, lo, hi)


def frame_steps(T: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """Timesteps that get an animation frame: all of them up to ``max_frames``, else an even
    subsample that always includes the first and the last step."""
    if T <= max_frames:
        return list(range(T))
    return sorted({int(round(v)) for v in np.linspace(0, T - 1, max_frames)})


def frame_steps_with(T: int, max_frames: int, step: int) -> list[int]:
    """``frame_steps`` that always contains ``step`` (swapped in for its nearest interior
    neighbour when the subsample misses it), so a slider can sit on the current step. Empty
    for ``max_frames <= 0`` (a static figure)."""
    if max_frames <= 0:
        return []
    steps = frame_steps(T, max_frames)
    if step not in steps:
        interior = steps[1:-1]
        if len(steps) >= max_frames and interior:
            steps.remove(min(interior, key=lambda s: abs(s - step)))
        steps = sorted({*steps, step})
    return steps


def step_labels(labels, T: int) -> list[str]:
    """Tick text for the time axis: ``"3·ice"`` for tokens, ``"3"`` for numbers (0-based t,
    like the engine, the step slider and the links)."""
    if labels is None:
        return [str(t) for t in range(T)]
    out = []
    for t, lab in enumerate(labels):
        lab = str(lab)
        out.append(str(t) if lab == str(t) else f"{t}·{lab}")
    return out


def play_controls(
    frame_names: list[str],
    *,
    duration: int = STEP_MS,
    prefix: str = "t = ",
    labels: list[str] | None = None,
    redraw: bool = True,
    active: int = 0,
) -> dict:
    """Play/pause buttons and a slider over named frames (layout keyword arguments).

    The slider steps reference the frame names, so the browser animates without a server
    rerun. ``labels`` are the slider's step labels (default: the frame names).
    """
    anim = {
        "frame": {"duration": duration, "redraw": redraw},
        "transition": {"duration": min(TRANSITION_MS, duration // 2)},
        "mode": "immediate",
        "fromcurrent": True,
    }
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}
    labels = labels or frame_names
    return {
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0.0,
                "y": -0.08,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"r": 10, "t": 10},
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, anim]},
                    {"label": "⏸ Pause", "method": "animate", "args": [[None], pause]},
                ],
            }
        ],
        "sliders": [
            {
                "active": active,
                "x": 0.16,
                "len": 0.84,
                "y": -0.08,
                "yanchor": "top",
                "pad": {"t": 10},
                "currentvalue": {"prefix": prefix, "visible": True},
                "transition": {"duration": 0},
                "steps": [
                    {
                        "label": lab,
                        "method": "animate",
                        "args": [[name], {**anim, "frame": {"duration": 0, "redraw": redraw}}],
                    }
                    for name, lab in zip(frame_names, labels, strict=True)
                ],
            }
        ],
    }


def base_layout(title: str, *, height: int = 420, font_size: int | None = None) -> dict:
    """Common layout: a title that names the moment, readable fonts, white background."""
    font = dict(FONT, size=font_size or FONT["size"])
    return {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": font["size"] + 4}},
        "font": font,
        "height": height,
        "margin": {"l": 60, "r": 30, "t": 70, "b": 60},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "hoverlabel": {"font": {"size": font["size"]}},
    }


# --------------------------------------------------------------------------------------------
# Helpers added for the step-through figures (diagram, equations, stepper)
# --------------------------------------------------------------------------------------------

STATE_OVERFLOW = 1e100  # engine.cells.STATE_LIMIT: a ReLU-RNN state this large has exploded
INK_DARK = "#111111"
INK_LIGHT = "#ffffff"
NEUTRAL = "#9e9e9e"  # fill of a quantity that has no value (NaN, no colour)
PROJECTOR_TRIM = 0.12  # on a projector the palest 12% of a sequential scale is dropped


def safe_text(label, max_len: int | None = None) -> str:
    """User text shown literally inside Plotly text, hover text or tick text.

    Plotly renders a subset of HTML (``<a href>``, ``<b>``, ``<br>``...) and decodes entities,
    so ``&``, ``<`` and ``>`` are escaped; quotes are kept (Plotly would show ``&quot;``
    verbatim). ``max_len`` shortens long labels with an ellipsis before escaping.
    """
    s = str(label)
    if max_len is not None and len(s) > max_len:
        s = s[: max(max_len - 1, 1)] + "…"
    return html.escape(s, quote=False)


def fmt_value(v: float, digits: int = 2) -> str:
    """A signed value: ``fmt_signed`` up to 10⁴, then ``+1.2×10⁵``; ``overflow`` for an exploded
    ReLU state (≥ 1e100) or an infinite value, ``NaN`` for NaN."""
    v = float(v)
    if math.isfinite(v) and abs(v) >= STATE_OVERFLOW:
        return "overflow"
    if not math.isfinite(v) or abs(v) < 1e4:
        return fmt_signed(v, digits)
    return ("+" if v > 0 else "") + fmt_grad(v)


def colorscale(name: str, *, presentation: bool = False) -> list[list]:
    """An explicit Plotly colour scale ``[[pos, colour], ...]`` for a named scale.

    Explicit, so the colour bar and the colours computed here (:func:`sample_colors`) always
    agree. ``presentation`` drops the palest 12% of a sequential scale (Viridis: the yellow end,
    Magma_r: the near-white end); diverging scales keep their white middle (it means zero).
    """
    return [list(pc) for pc in _colorscale(name, bool(presentation))]


_THEME_PLACEHOLDERS = {f"#0000{i:02d}" for i in range(1, 11)}


def _theme_safe(color: str) -> str:
    """Streamlit's chart theme replaces the colours #000001..#000010 anywhere in a spec with
    its own palette, and Magma's darkest colour is #000004: use pure black (it looks the same)."""
    return "#000000" if color.lower() in _THEME_PLACEHOLDERS else color


@functools.lru_cache(maxsize=32)
def _colorscale(name: str, presentation: bool) -> tuple:
    import plotly.colors as pc

    scale = tuple((float(p), _theme_safe(c)) for p, c in pc.get_colorscale(name))
    if not presentation or name == DIVERGING:
        return scale
    lo, hi = (0.0, 1.0 - PROJECTOR_TRIM) if name == SEQUENTIAL else (PROJECTOR_TRIM, 1.0)
    pos = np.linspace(0.0, 1.0, 11)
    colors = sample_colors(lo + pos * (hi - lo), [list(x) for x in scale], 0, 1)
    return tuple((float(p), c) for p, c in zip(pos, colors, strict=True))


def _scale_rgb(scale) -> tuple[np.ndarray, np.ndarray]:
    return _scale_rgb_cached(tuple((float(p), c) for p, c in scale))


@functools.lru_cache(maxsize=64)
def _scale_rgb_cached(scale: tuple) -> tuple[np.ndarray, np.ndarray]:
    import plotly.colors as pc

    pos = np.array([p for p, _ in scale])
    rgb = [pc.hex_to_rgb(c) if c.startswith("#") else pc.unlabel_rgb(c) for _, c in scale]
    return pos, np.asarray(rgb, dtype=np.float64)


def sample_colors(values, scale, vmin: float, vmax: float) -> list[str]:
    """Hex colours of ``values`` on a colour scale (explicit list or name), clipped to
    [vmin, vmax]; NaN maps to the neutral grey. Vectorised: one call per array."""
    if isinstance(scale, str):
        scale = colorscale(scale)
    pos, rgb = _scale_rgb(scale)
    v = np.asarray(values, dtype=np.float64).ravel()
    span = float(vmax) - float(vmin)
    with np.errstate(invalid="ignore", over="ignore"):
        u = np.clip((v - vmin) / (span if span else 1.0), 0.0, 1.0)
    bad = ~np.isfinite(u)
    u[bad] = 0.0
    out = np.rint(np.stack([np.interp(u, pos, rgb[:, j]) for j in range(3)], axis=-1))
    cols = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in out.astype(int).tolist()]
    return [NEUTRAL if b else c for c, b in zip(cols, bad.tolist(), strict=True)]


def ink_for(fill: str) -> str:
    """Text colour on a fill: white on dark fills, near-black on light ones (WCAG luminance)."""
    h = fill.lstrip("#")
    lin = []
    for j in range(3):
        c = int(h[2 * j : 2 * j + 2], 16) / 255.0
        lin.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return INK_LIGHT if lum < 0.179 else INK_DARK


# --------------------------------------------------------------------------------------------
# Helpers added for the time figures (gates over time, vanishing gradients, training)
# --------------------------------------------------------------------------------------------

TICK_LABEL_LEN = 14  # characters of a token shown in a tick or hover label (then "…")


def fit_labels(labels, T: int):
    """Token labels aligned with T steps: the labels themselves, the last T of a longer tuple
    (curves that cover only the most recent steps), or None (plain step numbers)."""
    if labels is None:
        return None
    labels = tuple(labels)
    if len(labels) == T:
        return labels
    return labels[-T:] if len(labels) > T and T > 0 else None


def time_labels(labels, T: int) -> list[str]:
    """Escaped, length-capped ``step_labels``, ready for tick text and hover text."""
    return [safe_text(s, TICK_LABEL_LEN) for s in step_labels(fit_labels(labels, T), T)]


def _nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``raw``."""
    for scale in (1, 10, 100, 1000, 10000):
        for base in (1, 2, 5):
            if base * scale >= raw:
                return base * scale
    return int(math.ceil(raw))


def time_axis(
    labels,
    T: int,
    *,
    max_ticks: int | None = None,
    title: str | None = None,
    width_px: int = 900,
) -> dict:
    """A numeric time axis 0..T-1 (tokens repeat, so never a categorical axis).

    Tick text comes from :func:`step_labels` (escaped), on a readable subsample of round
    1-based steps (1, 10, 20, ...) when T is large. Every step's label is also given as a
    ``labelalias`` of its number, so hover text (``%{x}``, unified hover titles) names the
    token at every step, not only at the ticks. ``width_px`` is the plot width the tick count
    is chosen for (about 900 px full width, 450 px in a half-width column). Returns Plotly
    axis keyword arguments.
    """
    text = time_labels(labels, T)
    if max_ticks is None:
        longest = max((len(s) for s in text), default=1)
        max_ticks = int(min(40, max(3, width_px // (7 * (longest + 2)))))
    step = _nice_step(T / max(max_ticks, 1))
    vals = list(range(0, T, step)) if step <= 2 else [0, *range(step - 1, T, step)]
    vals = sorted(set(v for v in vals if 0 <= v < T))
    return {
        "tickmode": "array",
        "tickvals": vals,
        "ticktext": [text[v] for v in vals],
        "labelalias": {str(t): s for t, s in enumerate(text)},
        "hoverformat": "d",
        "range": [-0.5, T - 0.5],
        "showgrid": False,
        "zeroline": False,
        "title": {"text": title if title is not None else "time step t (token)"},
    }


def typed_array(a, dtype: str = "f4") -> dict:
    """An array as Plotly's typed-array spec ``{"dtype", "bdata"}`` (base64, little-endian).

    The same encoding Plotly 7 applies to numpy arrays when it serialises a figure, done
    up front: plotly.py passes such a dict through its validators untouched, which makes
    many-frame animations several times faster to build. ``dtype`` is ``"f4"`` or ``"f8"``.
    """
    import base64

    arr = np.ascontiguousarray(a, dtype="<" + dtype).reshape(-1)
    return {"dtype": dtype, "bdata": base64.b64encode(arr.tobytes()).decode("ascii")}


# --------------------------------------------------------------------------------------------
# Titles that fit: wrapped at spaces, with the top margin they need (no clipped titles)
# --------------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")


def visible_len(text: str) -> int:
    """Characters a reader sees in Plotly text: tags (``<sub>``, ``<b>``) do not count and an
    entity (``&amp;``) counts once."""
    return len(html.unescape(_TAG.sub("", text)))


def _greedy_wrap(words: list[str], width: int) -> list[str]:
    lines, line = [], ""
    for word in words:
        if line and visible_len(line) + 1 + visible_len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def wrap_title(text: str, max_chars: int) -> str:
    """Break a Plotly title at spaces into balanced lines of at most ``max_chars`` visible
    characters each (an existing ``<br>`` is kept; a single word longer than the line stays
    whole): "a b c d e f" over two lines, never a long line and a one-word orphan."""
    out = []
    for part in str(text).split("<br>"):
        words = part.split(" ")
        n = len(_greedy_wrap(words, max_chars))
        width = -(-visible_len(part) // n)  # the shortest line length that could give n lines
        while width < max_chars and len(_greedy_wrap(words, width)) > n:
            width += 1
        out += _greedy_wrap(words, min(width, max_chars))
    return "<br>".join(out)


def fit_title(layout: dict, max_chars: int) -> dict:
    """Wrap ``layout``'s title (and its ``subtitle``, in smaller type) to ``max_chars`` a line
    and give it room: the top margin grows to hold every line (Plotly centres the title in
    it), and the figure grows by the same amount, so no title is truncated or runs into the
    plot. Returns ``layout`` (changed in place)."""
    title = layout.get("title") or {}
    text = wrap_title(title.get("text", ""), max_chars)
    size = title.get("font", {}).get("size") or (layout.get("font", {}).get("size", 14) + 4)
    lines = text.count("<br>") + 1
    title["text"] = text
    needed = lines * size * 1.3 + 36
    if title.get("subtitle", {}).get("text"):  # a smaller second line, wrapped on its own
        sub = title["subtitle"]
        sub["text"] = wrap_title(sub["text"], int(max_chars * 1.4))
        sub.setdefault("font", {"size": max(size - 6, 11), "color": "#444"})
        needed += (sub["text"].count("<br>") + 1) * sub["font"]["size"] * 1.35 + 6
    layout["title"] = title
    margin = dict(layout.get("margin") or {})
    old_t = int(margin.get("t", 70))
    margin["t"] = max(old_t, int(needed))
    layout["margin"] = margin
    layout["height"] = int(layout.get("height", 420)) + margin["t"] - old_t
    return layout
