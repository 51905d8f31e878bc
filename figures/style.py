"""The visual language shared by every figure: colours, symbols, number formats, motion.

One place for the choices in ``shared/LESSON_DESIGN.md`` so every figure agrees: fixed colour
ranges, colour-blind-safe scales (Viridis for gates in 0..1, RdBu for signed values, Magma_r on
log10 for gradient magnitudes, Dark2 for the three cells plus a dash style so colour is never
the only cue), the current-step cursor, and the 700 ms timestep.
"""

from __future__ import annotations

import math

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
    exp = math.floor(math.log10(a))
    mant = v / 10**exp
    if round(abs(mant), digits) >= 10:
        mant, exp = mant / 10, exp + 1
    return f"{mant:.{digits}f}×10{str(exp).translate(_SUPERSCRIPT)}".replace("-", "−")


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


def step_labels(labels, T: int) -> list[str]:
    """Tick text for the time axis: ``"3·ice"`` for tokens, ``"3"`` for numbers (1-based)."""
    if labels is None:
        return [str(t + 1) for t in range(T)]
    out = []
    for t, lab in enumerate(labels):
        lab = str(lab)
        out.append(str(t + 1) if lab == str(t + 1) else f"{t + 1}·{lab}")
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
