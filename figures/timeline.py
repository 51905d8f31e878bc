"""Everything Step through shows, for every animated step, as plain data for one timeline.

The Step through component (``ui/timeline.py``) draws the cell diagram (SVG), the token strip,
the equation ladder (MathML) and the vector strips from this data, and moves all of them
together in the browser: one source of truth for the current step, no server round trip per
frame. Pure Python and NumPy: no Streamlit, no Plotly.

Extremes are named where they happen (:class:`Extremes`): a state beyond the engine's 10¹⁰⁰
cap is written ∞, a gradient beyond 10¹⁰⁰ or through such a state ``overflow`` (never 0), a
gradient that vanished below 10⁻³⁰⁰ ``<10⁻³⁰⁰`` with its true size from
:func:`gradient_log10`, and a saturated gate or tanh with its slope, in a per-step alert.

Size: per animated step a few strings per diagram element and ladder line, and one character
per unit and strip row (a 32-level colour code), so a 200-step animation at H = 256 stays
well under 1 MB.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine import cells, explain, theory
from engine.cells import STATE_LIMIT

from . import ladder, style
from . import notation as nt
from .cell_tables import HEIGHT, SIZES, WIDTH, table

CODES = "0123456789ABCDEFGHIJKLMNOPQRSTUV"  # 32 colour levels, one character per unit
NAN_CODE = "~"
LEVELS = len(CODES)
SUBSTEPS = {"rnn": "h", "gru": "rznh", "lstm": "figcoh"}
"""The sub-steps of one timestep (the diagram's focus groups), in the order of the equations."""
FORWARD_ROWS = {"lstm": "figcoh", "gru": "rznh", "rnn": "h"}
FACTOR_TEMPLATE = {  # @q@: the notation's symbol (figures.notation.ufill)
    "lstm": "× @f@ = {} on the highway:\nits share {} of ∂L/∂@c_prev@ = {}",
    "gru": "× @z@ = {} on the direct path:\nits share {} of ∂L/∂@h_prev@ = {}",
    "rnn": "gradient × at most\n‖diag({}) @U_h@‖₂ = {}",
}
FACTOR_TEXT = {
    "lstm": "∂L/∂c_t × f_t: the highway's share of ∂L/∂c_{t−1}",
    "gru": "∂L/∂h_t × z_t: the direct path's share",
    "rnn": "‖diag(act′) W_hh‖₂ bounds what a gradient is multiplied by at this step",
}


def _factor_format(cell: str, notation: str) -> str:
    """The factor note's format string in the notation's symbols (their braces escaped)."""
    text = nt.ufill(FACTOR_TEMPLATE[cell].replace("{}", "\0"), notation, cell)
    return text.replace("{", "{{").replace("}", "}}").replace("\0", "{}")


FACTOR_TEXT = {c: (what, _factor_format(c, "pytorch")) for c, what in FACTOR_TEXT.items()}
"""cell -> (what the factor is, its note in PyTorch's symbols)."""


def grad_decades(*arrays) -> tuple[float, float]:
    """The log10 range fitted to the gradient magnitudes shown (whole decades, at least one,
    at most 12): fixed for the whole animation, so colours compare across steps."""
    mags = np.concatenate([np.abs(np.asarray(a, dtype=float)).ravel() for a in arrays])
    mags = mags[np.isfinite(mags) & (mags > 0)]
    if mags.size == 0:
        return (-1.0, 0.0)
    hi = float(np.ceil(np.log10(mags.max())))
    lo = float(np.floor(np.log10(mags.min())))
    return (max(lo, hi - 12.0), hi if hi > lo else lo + 1.0)


def _grad_colors(values, decades, present) -> list[str]:
    lo, hi = decades
    a = np.abs(np.asarray(values, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), lo)
    lg = np.where(np.isnan(a), np.nan, lg)
    scale = style.colorscale(style.GRADIENT, presentation=present)
    return style.sample_colors(lg, scale, lo, hi)


# Quantity -> the bound of its signed colour range ("unit": ±1); sigmoid gates use 0..1.
SIGNED_BOUND = {"h": "h", "h_prev": "h", "zh": "h", "c": "c", "c_prev": "c", "fc": "c"}


def _value_colors(kind, values, bounds, present) -> list[str]:
    """Viridis on 0..1 for sigmoid gates (and 1 − z); RdBu on the run's fixed range for signed
    values (c on ±max|c|, a ReLU RNN's h on ±max|h|, the rest on ±1)."""
    if kind in style.SIGMOID_GATES or kind == "omz":
        return style.sample_colors(values, style.colorscale(style.SEQUENTIAL,
                                   presentation=present), 0.0, 1.0)  # fmt: skip
    bound = bounds.get(SIGNED_BOUND.get(kind, "unit"), 1.0)
    scale = style.colorscale(style.DIVERGING, presentation=present)
    return style.sample_colors(values, scale, -bound, bound)


def _fmt(values, grad: bool, kind: str = "") -> list[str]:
    """Gradients as ``1.2×10⁻⁵`` (``overflow``, ``<10⁻³⁰⁰``), values as ``+0.92`` (``∞``), a
    sigmoid gate exact where it is saturated (``4.5×10⁻⁵``, never ``+0.00``)."""
    gate = kind in style.SIGMOID_GATES or kind == "omz"  # 1 − z: a gate value too (Γu)
    f = ladder.fg if grad else ladder.fgate if gate else ladder.fv
    return [f(float(x)) for x in values]


def _gradients(trace, grads, unit, F) -> dict:
    """The unit's backward numbers at the animated steps, with each gate's share of
    dL/dh_{t−1} ([U_qᵀ ∂L/∂a_q]_k) for the ladder."""
    full = explain.cell_gradients(trace, grads, steps=F)
    d = {k: a[:, unit] for k, a in full.items()}
    # the loss's own gradient on h_t is dL/dh_t minus what came from t+1: exactly 0 except at
    # the seeded step, so round-off of that subtraction is written as 0
    with np.errstate(invalid="ignore"):
        tiny = np.abs(d["dh_direct"]) <= 1e-12 * np.fmax(np.abs(d["dh"]), np.abs(d["dh_next"]))
    d["dh_direct"] = np.where(tiny, 0.0, d["dh_direct"])
    H, W = trace.H, trace.params["weight_hh"]
    gates = {"lstm": "ifgo", "gru": "rzn", "rnn": "h"}[trace.cell]
    for j, q in enumerate(gates):
        da = full["dgh_n"] if q == "n" else full[f"da_{q}"]
        block = W[j * H : (j + 1) * H, unit]
        share = np.full(trace.T, np.nan)
        with np.errstate(over="ignore", invalid="ignore"):
            share[F] = da[F] @ block
        d[f"contrib_{q}"] = share
    if _reset(trace) == "before":  # U_n reads r ⊙ h_{t−1}: its path into h_{t−1} is × r_t
        d["un_dan"] = d["contrib_n"]
        with np.errstate(over="ignore", invalid="ignore"):
            d["contrib_n"] = d["un_dan"] * trace.gates["r"][:, unit]
    if trace.cell == "gru":  # deeplearning.ai's Γu = 1 − z = σ(−a_z): ∂L/∂z_u = −∂L/∂a_z
        d["da_u"] = -d["da_z"]
    if trace.cell == "lstm":  # the whole ∂L/∂c_{t−1}: the highway's share plus, at step t − 1,
        # the path through h_{t−1} = o tanh(c_{t−1}); c_0's only path is the highway
        total = np.full(trace.T, np.nan)
        total[F] = np.where(F > 0, grads.c[np.maximum(F - 1, 0), unit], d["dc_prev"][F])
        d["dc_prev_total"] = total
    return d


def _reset(trace) -> str:
    """Where the trace's GRU applies its reset gate ("after" for every other cell)."""
    return getattr(trace, "gru_reset", "after") if trace.cell == "gru" else "after"


def gradient_log10(trace, seed=None) -> dict[str, np.ndarray]:
    """log10 of ‖dL/dh_t‖ (and ‖dL/dc_t‖) at every step, exact where float64 cannot hold them.

    Parameters
    ----------
    trace : engine.Trace
        An unbatched trace.
    seed : ndarray (T, H), optional
        dL/dh of the loss on each h_t; default :func:`engine.theory.last_step_seed` (the loss
        the pages use).

    Returns
    -------
    dict[str, ndarray (T,)]
        ``h`` (and ``c`` for the lstm): log10 of the norm of the BPTT gradient, ``-inf`` where
        it is exactly 0. The engine's own backward kernel is run step by step with the gradient
        rescaled to norm 1 after every step and the scale kept as a logarithm, so a gradient
        far below 10⁻³⁰⁸ (which float64 rounds to 0) or above the engine's 10¹⁰⁰ cap keeps
        its true size. A ReLU state held at the engine's STATE_LIMIT passes no gradient here,
        as in BPTT.

    Equations::

        dL/dh_{t-1} = J_tᵀ dL/dh_t = 10^s_t J_tᵀ u_t,   u_t = dL/dh_t / 10^s_t,  ‖u_t‖ ≤ 1
    """
    if trace.batched:
        raise ValueError("gradient_log10 takes one sequence: pass an unbatched trace.")
    cell, T, H = trace.cell, trace.T, trace.H
    lstm = cell == "lstm"
    seed = theory.last_step_seed(trace) if seed is None else np.asarray(seed, dtype=np.float64)
    _, local, core_backward = cells.CORES[getattr(trace, "kernel", cell)]
    h_prev = explain._previous(trace.h, trace.h0)
    c_prev = explain._previous(trace.c, trace.c0) if lstm else None
    aux = explain._record(trace, trace.aux)
    acts = explain._record(trace, trace.acts)
    loc = local(h_prev, c_prev, acts, aux, trace.nonlinearity == "relu")
    W = trace.params["weight_hh"]
    out_h, out_c = np.full(T, -np.inf), np.full(T, -np.inf)
    u, uc, s = np.zeros(H), np.zeros(H), 0.0  # dL/dh_t = 10^s u, dL/dc from the future = 10^s uc
    for t in range(T - 1, -1, -1):
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            if np.any(seed[t]):  # add the loss's own gradient on h_t at the common scale
                big = max(s, 0.0)
                u = u * 10.0 ** (s - big) + seed[t] * 10.0 ** (-big)
                uc, s = uc * 10.0 ** (s - big), big
            rec = cells.backward_records(cell, (1,), H)
            core_backward(u[None], uc[None] if lstm else None, tuple(a[t][None] for a in loc),
                          W, rec)  # fmt: skip
        dh_prev, dc_prev, _, dc_total = rec
        norm = float(np.linalg.norm(u))
        out_h[t] = np.log10(norm) + s if norm > 0 else -np.inf
        if lstm:
            norm_c = float(np.linalg.norm(dc_total[0]))
            out_c[t] = np.log10(norm_c) + s if norm_c > 0 else -np.inf
        u = dh_prev[0].copy()
        uc = dc_prev[0].copy() if lstm else uc
        m = max(float(np.abs(u).max(initial=0.0)), float(np.abs(uc).max(initial=0.0)))
        if m > 0 and np.isfinite(m):
            u, uc, s = u / m, uc / m, s + float(np.log10(m))
    return {"h": out_h, "c": out_c} if lstm else {"h": out_h}


TINY = 1e-320
"""Stands for a gradient that float64 rounded to 0 though it is not 0 (written ``<10⁻³⁰⁰``)."""
SATURATED = 1e-3
"""A gate is named saturated when its slope q(1 − q) is below this, tanh when 1 − v² is."""
TANH_OUTPUTS = {"g": "g_t", "n": "n_t", "tanh_c": "tanh(c_t)"}


def _sup(x: float) -> str:
    """10 to a possibly huge power, written ``10⁻³⁰⁷³`` (a log10 rounded to an integer)."""
    return "10" + str(int(round(x))).translate(style._SUPERSCRIPT).replace("-", "⁻")


class Extremes:
    """Where a run leaves float64's comfortable range: states beyond the engine's 10¹⁰⁰ cap
    (a ReLU RNN that exploded), gradients beyond 10¹⁰⁰ or below 10⁻³⁰⁰ (their true size kept by
    :func:`gradient_log10`)."""

    def __init__(self, trace, backward: bool):
        held = np.abs(trace.h) >= STATE_LIMIT  # (T, H): a state held at the cap
        self.held = held
        self.capped = held.any(axis=-1)  # (T,)
        self.first_cap = int(np.argmax(self.capped)) if self.capped.any() else None
        after = np.zeros(trace.T, dtype=bool)  # a held state among the steps s > t
        after[:-1] = np.cumsum(self.capped[::-1])[::-1][1:] > 0
        self.after = after
        self.log10 = gradient_log10(trace)["h"] if backward else None

    def gradients(self, d: dict, unit: int, slope=None) -> dict:
        """The backward numbers made honest: what crosses a held state is ``inf`` (written
        "overflow", never 0); what float64 rounded to 0 below 10⁻³⁰⁰ is ``TINY``. ``slope``
        (T,): the RNN's act′(a_t) for the unit; where it is exactly 0 and the unit is not held
        (a ReLU unit with a_t ≤ 0) ∂L/∂a_t is exactly 0, whatever reached h_t."""
        out = dict(d)
        held_k = self.held[:, unit]
        passes = held_k | (np.ones(len(held_k), bool) if slope is None else slope != 0)
        through = {  # the steps whose value at t passes through a held state
            "dh": self.after, "dh_next": self.after,
            "dh_prev": self.after | self.capped, "da_h": (self.after | held_k) & passes,
        }  # fmt: skip
        for key, a in d.items():
            if a is None or key == "dh_direct":  # the loss's own term: exact, 0 but at one step
                continue
            a = np.array(a, dtype=float)
            mask = through.get(key, self.after | self.capped if key.startswith("contrib")
                               else self.after)  # fmt: skip
            mask = mask.reshape((-1,) + (1,) * (a.ndim - 1))
            with np.errstate(invalid="ignore"):
                a = np.where(mask & ~np.isnan(a), np.inf, a)
                a = np.where(np.abs(a) >= STATE_LIMIT, np.copysign(np.inf, a), a)
            out[key] = self.vanished_to_tiny(a)
        return out

    def vanished(self) -> np.ndarray:
        """(T,) True where ‖dL/dh_t‖ is nonzero but below 10⁻³⁰⁰."""
        lg = self.log10
        return np.isfinite(lg) & (lg < np.log10(ladder.FLOOR)) & ~self.after

    def vanished_to_tiny(self, a: np.ndarray) -> np.ndarray:
        """Per step (axis 0): a gradient below 10⁻³⁰⁰ where the step's gradient has vanished."""
        if self.log10 is None:
            return a
        gone = self.vanished().reshape((-1,) + (1,) * (a.ndim - 1))
        with np.errstate(invalid="ignore"):
            small = gone & (np.abs(a) < ladder.FLOOR)
        return np.where(small, np.where(a < 0, -TINY, TINY), a)

    def norms(self, grads_h) -> np.ndarray:
        """(T,) ‖dL/dh_t‖ as the token chips show it: exact (from the log), ``inf`` through a
        held state or beyond 10¹⁰⁰, ``TINY`` below 10⁻³⁰⁰."""
        with np.errstate(over="ignore"):
            n = np.power(10.0, np.clip(self.log10, -400, 400))
        n[self.after | (self.log10 >= np.log10(STATE_LIMIT))] = np.inf
        return self.vanished_to_tiny(n)

    def alerts(self, trace, v, F, mode, unit, notation="pytorch") -> list[str]:
        """Per animated step, the sentences that name an extreme where it happens."""
        out = []
        lg = self.log10
        hs = nt.usym(notation, trace.cell, "h")
        first_gone = None
        if lg is not None:
            gone = np.flatnonzero(self.vanished())
            first_gone = int(gone.max()) if gone.size else None  # walking back: the first
            big = np.flatnonzero(np.isfinite(lg) & (lg >= np.log10(STATE_LIMIT)))
            first_big = int(big.max()) if big.size else None
        for t in F:
            t = int(t)
            says = []
            n = self.first_cap
            if n is not None and mode == "forward" and t >= n:
                says.append(f"Exploded at step {n}: beyond 10¹⁰⁰, shown as ∞ (the engine holds "
                            "such a state at 10¹⁰⁰; the numbers after that step are those of the "
                            "held states).")  # fmt: skip
            elif n is not None and mode == "backward" and (self.after[t] or self.capped[t]):
                says.append(f"Exploded at step {n}: the states there are beyond 10¹⁰⁰, shown as "
                            "∞ and held at the engine's cap. A gradient that passes through a "
                            "held state has no float64 value (the cap would pass 0, which looks "
                            "like a vanished gradient), so it is written as overflow, never "
                            "as 0.")  # fmt: skip
            if lg is not None and first_gone is not None and t <= first_gone:
                says.append(f"Vanished below 10⁻³⁰⁰ at step {first_gone}: here "
                            f"‖∂L/∂{hs}‖ = {_sup(lg[t])} (kept in log space); float64 rounds "
                            "such numbers to 0, so they are written <10⁻³⁰⁰.")  # fmt: skip
            if lg is not None and first_big is not None and t <= first_big and not self.after[t]:
                says.append(f"The gradient passed 10¹⁰⁰ at step {first_big}: here ‖∂L/∂{hs}‖ = "
                            f"{_sup(lg[t])}, beyond 10¹⁰⁰, written as overflow.")  # fmt: skip
            says.extend(_saturation(trace, v, t, unit, notation))
            out.append(" ".join(says))
        return out


def _saturation(trace, v, t, unit, notation="pytorch") -> list[str]:
    """Gates at 0 or 1 and tanh at ±1 for unit k at step t, named with their slope (in the
    notation's symbols; deeplearning.ai's GRU names Γu = 1 − z)."""
    cell = trace.cell
    parts = []
    for q in explain.GATES[cell]:
        if q in style.SIGMOID_GATES and q in v:
            shown = nt.shown(notation, cell, q)
            g = float(v[shown][t])
            slope = g * (1 - g)
            if slope < SATURATED:
                name, short = nt.usym(notation, cell, shown), nt.short(notation, cell, shown)
                where = "1 (open)" if g > 0.5 else "0 (closed)"
                parts.append(f"{name} = {ladder.fgate(g)} is saturated at {where}: its slope "
                             f"{short}(1 − {short}) = {style.fmt_grad(slope)}")  # fmt: skip
    tanh_vals = {k: ("tanh(@c@)" if k == "tanh_c" else f"@{k}@") for k in TANH_OUTPUTS if k in v}
    if cell == "rnn" and trace.nonlinearity == "tanh":
        tanh_vals = {"h": "@h@"}
    tanh_vals = {k: nt.ufill(name, notation, cell) for k, name in tanh_vals.items()}
    for key, name in tanh_vals.items():
        x = float(v[key][t])
        slope = 1 - x * x
        if slope < SATURATED:
            parts.append(f"{name} = {ladder.fv(x)} is saturated at ±1: its slope "
                         f"1 − {name}² = {style.fmt_grad(slope)}")  # fmt: skip
    out = [f"Saturated: {'; '.join(parts)}."] if parts else []
    if cell == "rnn" and trace.nonlinearity == "relu" and float(v["a_h"][t]) <= 0:
        out.append(nt.ufill("@a@ ≤ 0: ReLU sets this unit to 0 and passes no gradient through "
                            "it ([@a@ > 0] = 0).", notation, cell))  # fmt: skip
    return out


ACT_ROLE = {
    "tanh": "the only path, squashed into (−1, 1) every step",
    "relu": "the only path; ReLU keeps positive values as they are (nothing bounds them) and "
    "sets the rest to 0",
}


def _diagram(trace, table, v, d, F, mode, decades, present, notation="pytorch") -> dict:
    bounds = explain.run_bounds(trace)
    backward = mode == "backward"
    elements, fills, texts, widths = [], [], [], []
    for el in table:
        key = el.grad if backward else el.value
        spec = {"id": el.name, "shape": el.shape, "at": el.at, "label": el.label,
                "groups": el.groups.split(), "hover": el.hover}  # fmt: skip
        if el.label == "act":
            spec["label"] = trace.nonlinearity
            formula = el.hover.split(": ")[0].replace("act(", f"{trace.nonlinearity}(")
            spec["hover"] = f"{formula}: {ACT_ROLE[trace.nonlinearity]}"
        if el.width is not None:
            spec["maxw"] = el.width
        if el.shape == "box":
            spec["sym"] = nt.usym(notation, trace.cell, el.value)
        elements.append(spec)
        widths.append(None)
        if key is None or el.shape == "note":
            fills.append(None)
            texts.append(None)
            continue
        vals = (d if backward else v)[key][F]
        if el.shape == "state":  # a thicker line for a larger magnitude (forward)
            bound = bounds["c"] if el.value in ("c", "c_prev", "fc") else bounds["h"]
            mag = np.nan_to_num(np.abs(vals) / bound, nan=0.0, posinf=1.0)
            widths[-1] = np.round(0.05 + 0.1 * np.clip(mag, 0, 1) * (not backward)
                                  + 0.05 * backward, 3).tolist()  # fmt: skip
        if backward:
            fills.append(_grad_colors(vals, decades, present))
        else:
            kind = "h" if key == "h_prev" else key
            fills.append(_value_colors(kind, vals, bounds, present))
        texts.append(None if el.shape in ("state", "wire") else _fmt(vals, backward, key))
    return {"width": WIDTH, "height": HEIGHT, "elements": elements,
            "fill": fills, "text": texts, "widths": widths, "sizes": SIZES}  # fmt: skip


def _factor_note(trace, v, d, F, mode, fac=None, notation="pytorch") -> list[str] | None:
    """The factor written on the state path (backward); the GRU's line into × z_t carries only
    the direct path's share, so its note names the share and the total beside it."""
    if mode != "backward":
        return None
    cell = trace.cell
    text = _factor_format(cell, notation)
    if cell == "rnn":
        slope = nt.ufill("[@a@>0]" if trace.nonlinearity == "relu" else "1−@h^2@", notation, cell)
        return [text.format(slope, ladder.fg(float(x))) for x in fac]
    if cell == "gru":
        return [text.format(ladder.fgate(z), ladder.fg(share), ladder.fg(total))
                for z, share, total in zip(v["z"][F], d["dh_z"][F], d["dh_prev"][F],
                                           strict=True)]  # fmt: skip
    return [text.format(ladder.fgate(f), ladder.fg(share), ladder.fg(total))
            for f, share, total in zip(v["f"][F], d["dc_prev"][F], d["dc_prev_total"][F],
                                       strict=True)]  # fmt: skip


HELD = "through a state beyond 10¹⁰⁰"
"""Written instead of the numbers of a gradient line whose operands are finite but whose
result passes through a state held at the engine's cap (so ``(1)(1) = overflow`` never shows)."""


def _held_numbers(line, F, held) -> list:
    out = []
    for row, r, t in zip(line.numbers, line.result, F, strict=True):
        named = any(ladder.OVERFLOW in x for x in row)
        out.append([HELD] if held[t] and np.isinf(r) and not named else row)
    return out


def _ladder(trace, v, d, F, mode, decades, present, ext, fac=None, notation="pytorch"):
    bounds = explain.run_bounds(trace)
    reset = _reset(trace)
    if mode == "forward":
        lines = ladder.forward_lines(trace.cell, trace.nonlinearity, v, F, notation, reset)
    else:
        lines = ladder.backward_lines(trace.cell, trace.nonlinearity, v, d, F, notation, reset)
    out = []
    held = ext.after | ext.capped
    for line in lines:
        if line.kind == "grad":
            line = dataclasses.replace(line, numbers=_held_numbers(line, F, held))
            fill = _grad_colors(line.result, decades, present)
            result = _fmt(line.result, True)
        else:
            fill = _value_colors(line.kind, line.result, bounds, present)
            result = _fmt(line.result, False, line.kind)
        out.append({"name": line.name, "groups": line.groups.split(),
                    "lhs": ladder.mathml(line.lhs), "symbolic": ladder.mathml(line.symbolic),
                    "numbers": line.numbers, "result": result, "fill": fill,
                    "ink": [style.ink_for(c) for c in fill]})  # fmt: skip
    if trace.cell == "rnn" and mode == "backward":
        act = r"[@a@ > 0]" if trace.nonlinearity == "relu" else r"1 - @h^2@"
        lhs = nt.fill(rf"\lVert \mathrm{{diag}}({act})\, @U_h@ \rVert_2", notation, "rnn")
        out.append({"name": "factor", "groups": ["h"], "lhs": ladder.mathml(lhs),
                    "symbolic": [], "numbers": [[] for _ in F],
                    "result": _fmt(fac, True), "fill": ["#eeeeee"] * len(F),
                    "ink": [style.INK_DARK] * len(F)})  # fmt: skip
    return out


def _code_rows(values, vmin, vmax, log=False) -> list[str]:
    a = np.asarray(values, dtype=float)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(np.abs(a) > 0, np.log10(np.abs(a)), vmin)
    with np.errstate(invalid="ignore"):
        u = np.clip((a - vmin) / (vmax - vmin), 0.0, 1.0)
    idx = np.where(np.isfinite(u), np.rint(u * (len(CODES) - 1)), -1).astype(int)
    return ["".join(NAN_CODE if i < 0 else CODES[i] for i in row) for row in idx]


def _range_ticks(b: float) -> tuple[str, str]:
    """The ends of a signed colour range ±b; a range up to the engine's cap is written as the
    number it is (``±1.0×10¹⁰⁰``), not as a value that exploded."""
    if b < 1e4:
        return style.fmt_value(-b), style.fmt_value(b)
    return "−" + style.fmt_grad(b), "+" + style.fmt_grad(b)


def _palette(name, present, n=LEVELS) -> list[str]:
    return style.sample_colors(np.linspace(0, 1, n), style.colorscale(name, presentation=present),
                               0, 1)  # fmt: skip


def _strips(trace, honest, F, mode, decades, present, notation="pytorch") -> list[dict]:
    """One row of H coloured cells per quantity: the whole state at this step, unit k outlined
    (deeplearning.ai's GRU shows its Γu = 1 − z)."""
    rows = []
    cell = trace.cell
    if mode == "forward":
        bounds = explain.run_bounds(trace)
        for q in FORWARD_ROWS[cell]:
            vals = trace.gates[q] if q in trace.gates else getattr(trace, q)
            if nt.shown(notation, cell, q) != q:
                vals = 1.0 - vals
            if q in style.SIGMOID_GATES:
                lo, hi, scale, ticks = 0.0, 1.0, style.SEQUENTIAL, ("0", "1")
            else:
                b = bounds["c"] if q == "c" else bounds["h"] if q == "h" else 1.0
                lo, hi, scale = -b, b, style.DIVERGING
                ticks = _range_ticks(b)
            label = nt.usym(notation, cell, nt.shown(notation, cell, q))
            rows.append({"name": q, "label": label, "palette": _palette(scale, present),
                         "codes": _code_rows(vals[F], lo, hi), "ticks": ticks})  # fmt: skip
        return rows
    lo, hi = decades
    named = [("dh", nt.ufill("∂L/∂@h@", notation, cell), honest["dh"])]
    if honest.get("dc") is not None:
        named.append(("dc", nt.ufill("∂L/∂@c@", notation, cell), honest["dc"]))
    for name, label, vals in named:
        rows.append({"name": name, "label": label, "palette": _palette(style.GRADIENT, present),
                     "codes": _code_rows(vals[F], lo, hi, log=True),
                     "ticks": (style.fmt_grad(10**lo), style.fmt_grad(10**hi))})  # fmt: skip
    return rows


def _token(trace, labels, t: int) -> str:
    """What step t shows as its token: the word or character, or for numeric input (labels
    that only count the steps) the value of a one-feature input, else nothing."""
    label = str(labels[t]) if labels is not None and t < len(labels) else str(t)
    if label != str(t):
        return label
    return style.fmt_value(float(trace.xs[t, 0])) if trace.xs.shape[-1] == 1 else ""


def timeline_data(trace, grads, labels, *, unit: int, mode: str, step: int,
                  present: bool = False, max_frames: int = style.MAX_FRAMES,
                  notation: str = "pytorch") -> dict:  # fmt: skip
    """The Step through timeline of one cell for unit k, forward or backward.

    ``notation`` (:data:`figures.notation.NOTATIONS`) chooses every symbol (equations, diagram
    labels and hovers, strips, notes, alerts); the numbers are the trace's. The GRU's diagram
    and equations follow the trace's reset placement (``trace.gru_reset``).

    Returns a JSON-ready dict: the animated steps ``frames`` (every step up to
    ``max_frames``, else an even subsample that contains ``step``), the token labels, the
    diagram (static elements plus per-frame fills and printed numbers), the equation ladder
    (MathML symbols plus per-frame numbers), the vector strips and the colour legends.
    User text (the tokens) is data, never markup: the component sets it as text.
    """
    if trace.batched or not 0 <= int(unit) < trace.H:
        raise ValueError(f"Step through shows one sequence and a unit in 0..{trace.H - 1}.")
    unit = int(unit)
    if mode not in ("forward", "backward"):
        raise ValueError(f"mode must be 'forward' or 'backward', not {mode!r}.")
    T = trace.T
    F = np.asarray(style.frame_steps_with(T, max_frames, min(max(step, 0), T - 1)), dtype=int)
    if notation not in nt.NOTATIONS:
        raise ValueError(f"notation must be one of {', '.join(nt.NOTATIONS)}, not {notation!r}.")
    v = explain.unit_values(trace, unit)
    ext = Extremes(trace, mode == "backward")
    d = {}
    if mode == "backward":
        slope = None
        if trace.cell == "rnn":
            slope = (v["a_h"] > 0) if trace.nonlinearity == "relu" else 1 - v["h"] ** 2
        d = ext.gradients(_gradients(trace, grads, unit, F), unit, slope)
    norms = ext.norms(grads.h)[F] if mode == "backward" else None
    honest = ext.gradients({"dh": grads.h, "dc": grads.c}, unit) if d else {}  # every unit
    # the token chips show ‖dL/dh_t‖ (up to √H times a unit's |dL/dh_t|) on the same range
    decades = grad_decades(*(d[k][F] for k in d if k.startswith(("d", "contrib"))),
                           honest["dh"][F], norms) if d else (-1.0, 0.0)  # fmt: skip
    tokens = [_token(trace, labels, t) for t in F]
    # the RNN's ‖diag(act′) W_hh‖₂ at the animated steps: written twice, computed once
    fac = explain.rnn_factors(trace, F) if trace.cell == "rnn" and d else None
    return {
        "cell": trace.cell, "mode": mode, "unit": int(unit), "T": T, "H": trace.H,
        "nonlinearity": trace.nonlinearity, "frames": F.tolist(), "tokens": tokens,
        "tokenFill": None if norms is None else _grad_colors(norms, decades, present),
        "diagram": _diagram(trace, table(trace.cell, notation, _reset(trace)), v, d, F, mode,
                            decades, present, notation),
        "factor": _factor_note(trace, v, d, F, mode, fac, notation),
        "alerts": ext.alerts(trace, v, F, mode, unit, notation),
        "ladder": _ladder(trace, v, d, F, mode, decades, present, ext, fac, notation),
        "strips": _strips(trace, honest, F, mode, decades, present, notation),
        "legend": _legend(trace, mode, decades, present, ext, notation),
        "stepMs": style.STEP_MS, "walk": 1 if mode == "forward" else -1,
        "substeps": list(SUBSTEPS[trace.cell]), "cellName": style.CELL_NAMES[trace.cell],
        "substepLabels": {q: nt.short(notation, trace.cell, nt.shown(notation, trace.cell, q))
                          for q in SUBSTEPS[trace.cell]},
        "notation": notation,
    }  # fmt: skip


def _legend(trace, mode, decades, present, ext=None, notation="pytorch") -> list[dict]:
    """The colour scales in use, as CSS gradients with their end labels (and, where a run
    overflows or vanishes, what its ends then stand for)."""
    if mode == "backward":
        lo, hi = decades
        title = "gradient magnitude |∂L/∂·| (log scale)"
        if ext is not None and (ext.after.any() or ext.capped.any()):
            title += "; overflow at the dark end"
        if ext is not None and ext.vanished().any():
            title += "; <10⁻³⁰⁰ at the pale end"
        return [{"title": title,
                 "colors": _palette(style.GRADIENT, present, 11),
                 "ticks": [style.fmt_grad(10**lo), style.fmt_grad(10**hi)]}]  # fmt: skip
    bounds = explain.run_bounds(trace)
    title = "signed value"
    if trace.cell == "lstm":
        title += f" ({nt.usym(notation, 'lstm', 'c')} on ±{bounds['c']:.2f})"
    out = [
        {
            "title": title,
            "colors": _palette(style.DIVERGING, present, 11),
            "ticks": list(_range_ticks(bounds["h"])),
        }
    ]
    if trace.cell != "rnn":
        out.insert(
            0,
            {
                "title": "gate value (0 closed … 1 open)",
                "colors": _palette(style.SEQUENTIAL, present, 11),
                "ticks": ["0", "1"],
            },
        )
    return out  # fmt: skip


__all__ = ["grad_decades", "timeline_data"]
