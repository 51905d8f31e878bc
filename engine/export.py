"""Every per-timestep quantity of a run as CSV or JSON text, for downloads and notebooks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping

import numpy as np

from .cells import GRAD_LIMIT, STATE_LIMIT
from .sequence import Grads, Trace


def columns(trace: Trace, grads: Grads | None = None,
            notation: Mapping[str, str] | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Named (T, n) blocks of every per-timestep quantity, in a stable order.

    Inputs ``x``, hidden states ``h``, cell states ``c`` (lstm), every gate, and with ``grads``
    the total ``dL/dh``, ``dL/dc`` (lstm) and ``dL/dx``. Single (unbatched) traces only.
    ``notation`` maps these names to the column names of a textbook's notation (e.g.
    ``{"h": "a", "dL/dh": "dL/da"}``, from ``figures.notation.export_names``); names it does not
    map are kept, the numbers are never changed. Two quantities may not share a name.
    """
    if trace.batched:
        raise ValueError("export one sequence at a time")
    out = {"x": trace.xs, "h": _beyond_cap(trace.h)}
    if trace.c is not None:
        out["c"] = _beyond_cap(trace.c)
    out.update(trace.gates)
    if grads is not None:
        rows = overflow_rows(trace, grads)
        out["dL/dh"] = _no_value(grads.h, rows["dL/dh"])
        if grads.c is not None:
            out["dL/dc"] = _no_value(grads.c, rows["dL/dc"])
        out["dL/dx"] = _no_value(grads.x, rows["dL/dx"])
    if notation:
        renamed = {notation.get(k, k): v for k, v in out.items()}
        if len(renamed) != len(out):
            raise ValueError(f"the column names {dict(notation)} give two quantities one name")
        out = renamed
    return out


def _beyond_cap(states: np.ndarray) -> np.ndarray:
    """States the engine clipped at its 1e100 cap written as ±inf (the screen's ∞)."""
    capped = np.abs(states) >= STATE_LIMIT
    return np.where(capped, np.copysign(np.inf, states), states) if capped.any() else states


def _no_value(grad: np.ndarray, rows: np.ndarray) -> np.ndarray:
    if not rows.any():
        return grad
    out = np.array(grad, dtype=np.float64)
    out[rows] = np.nan
    return out


def overflow_rows(trace: Trace, grads: Grads) -> dict[str, np.ndarray]:
    """(T,) masks of the steps whose gradients have no float64 value (the screen's "overflow"):
    a state clipped at the 1e100 cap lies on the path back from the loss (any step after t;
    for ``dL/dx`` step t too), or the gradient itself reached the 1e100 clip at t or a later
    step. What the engine computed there is what the clipping left, not the gradient: the
    exports write NaN and :func:`to_json` says why."""
    capped = np.any(np.abs(trace.h) >= STATE_LIMIT, axis=-1)
    after = np.zeros(trace.T, dtype=bool)
    after[:-1] = np.cumsum(capped[::-1])[::-1][1:] > 0

    def clipped(g):  # this step and every earlier one, from the latest clipped step back
        hit = np.flatnonzero(np.any(np.abs(g) >= GRAD_LIMIT, axis=-1))
        mask = np.zeros(trace.T, dtype=bool)
        if hit.size:
            mask[: hit[-1] + 1] = True
        return mask

    dh = after | clipped(grads.h)
    if grads.c is not None:
        dh |= clipped(grads.c)
    return {"dL/dh": dh, "dL/dc": dh.copy(), "dL/dx": dh | capped | clipped(grads.x)}


def to_csv(trace: Trace, grads: Grads | None = None, labels=None,
           notation: Mapping[str, str] | None = None) -> str:  # fmt: skip
    """One row per timestep: ``t``, ``token``, then ``<quantity>[<unit>]`` columns (named in
    ``notation``'s symbols, see :func:`columns`)."""
    blocks = columns(trace, grads, notation)
    header = ["t", "token"] + [
        f"{name}[{k}]" for name, a in blocks.items() for k in range(a.shape[1])
    ]
    table = np.concatenate(list(blocks.values()), axis=1)
    labels = labels or [str(t) for t in range(trace.T)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for t, row in enumerate(table):
        writer.writerow([t, labels[t], *(repr(float(v)) for v in row)])  # repr: exact float64
    return buf.getvalue()


def to_json(trace: Trace, grads: Grads | None = None, labels=None, settings=None,
            notation: Mapping[str, str] | None = None) -> str:  # fmt: skip
    """A JSON document: the settings, the token labels, the parameters and every quantity as
    a list of T rows (exact float64 round trip), the quantities named in ``notation``'s
    symbols (see :func:`columns`)."""
    doc = {
        "cell": trace.cell,
        "nonlinearity": trace.nonlinearity,
        "T": trace.T,
        "H": trace.H,
        "D": trace.D,
        "settings": settings or {},
        "labels": list(labels) if labels is not None else None,
        "params": {k: v.tolist() for k, v in trace.params.items()},
        "quantities": {
            k: a.tolist() if np.isfinite(a).all() else [[_json_value(v) for v in r] for r in a]
            for k, a in columns(trace, grads, notation).items()
        },
    }
    notes = _overflow_notes(trace, grads)
    if notes:
        doc["overflow"] = notes
    return json.dumps(doc, allow_nan=False)


# --------------------------------------------------------------------------------------------
# Page exports: per-token series (Home, Vanishing gradients) and training histories (Train)
# --------------------------------------------------------------------------------------------


def _overflow_notes(trace: Trace, grads: Grads | None) -> dict[str, str]:
    notes = {}
    first = np.flatnonzero(np.any(np.abs(trace.h) >= STATE_LIMIT, axis=-1))
    if first.size:
        notes["states"] = (
            f"exploded at step {first[0]}: states beyond 1e100 (the engine's cap) are written "
            'as "inf" or "-inf"'
        )
    if grads is not None:
        for name, rows in overflow_rows(trace, grads).items():
            if rows.any() and (name != "dL/dc" or grads.c is not None):
                notes[name] = (
                    f'steps 0 to {np.flatnonzero(rows)[-1]}: "nan", no float64 value '
                    "(a state beyond 1e100 or a gradient past the 1e100 clip lies on the "
                    "path back from the loss)"
                )
    return notes


def _csv_value(v) -> str:
    """A CSV cell: exact float64 (``repr``; ``nan``/``inf`` as Python writes them), blank for
    a missing value."""
    return "" if v is None else repr(float(v))


def _json_value(v):
    """A JSON number: exact float64; ``"nan"``, ``"inf"`` or ``"-inf"`` as strings (JSON has no
    such numbers; ``float()`` reads them back), ``None`` for a missing value."""
    if v is None:
        return None
    v = float(v)
    return v if np.isfinite(v) else repr(v)


def _padded(series: dict, T: int) -> dict[str, list]:
    """Each series as T values, oldest step first: a shorter series covers the most recent
    steps (as the Jacobian norms do when only the last lags are computed), None before."""
    out = {}
    for name, values in series.items():
        values = np.asarray(values, dtype=float).ravel()
        if values.size > T:
            raise ValueError(f"series {name!r} has {values.size} values for {T} steps")
        out[name] = [None] * (T - values.size) + values.tolist()
    return out


def series_to_csv(series: dict, labels) -> str:
    """One row per timestep: ``t`` (from 0), ``token``, then one column per named series.

    ``series`` maps a column name to a 1-D array of at most ``len(labels)`` values; a shorter
    one covers the last steps and its earlier cells are blank. Floats are exact (``repr``)."""
    labels = list(labels)
    cols = _padded(series, len(labels))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["t", "token", *cols])
    for t, label in enumerate(labels):
        writer.writerow([t, label, *(_csv_value(c[t]) for c in cols.values())])
    return buf.getvalue()


def series_to_json(series: dict, labels, *, settings: dict, meta: dict | None = None) -> str:
    """A JSON document: ``settings`` (pass them complete), ``meta`` (page-specific numbers),
    ``t`` (0..T-1), ``labels`` and every series as T values (None where it does not cover the
    step; non-finite values as strings). Exact float64 round trip."""
    labels = list(labels)
    doc = {
        "settings": dict(settings),
        "meta": _jsonable(meta or {}),
        "t": list(range(len(labels))),
        "labels": labels,
        "series": {
            name: [_json_value(v) for v in values]
            for name, values in _padded(series, len(labels)).items()
        },
    }
    return json.dumps(doc, allow_nan=False)


def _jsonable(value):
    """Plain JSON values from nested dicts/lists of numbers, strings and arrays."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    return _json_value(value)


HISTORY_COLUMNS = ("step", "loss", "accuracy", "grad_norm", "grad_first", "grad_last", "seconds")
"""The training-history columns of :func:`history_to_csv`, as in ``engine.train.StepRecord``."""
EVAL_COLUMNS = ("loss", "accuracy", "chance_loss", "chance_accuracy")
"""The held-out scores of :func:`history_to_csv`, as in ``engine.train.Evaluation``."""


def _evaluation(ev) -> dict:
    """An Evaluation (or a dict with its fields) as a dict of floats (None where undefined)."""
    get = ev.get if isinstance(ev, dict) else lambda k: getattr(ev, k)
    return {k: None if get(k) is None else float(get(k)) for k in EVAL_COLUMNS}


def history_to_csv(histories: dict, evaluations: dict) -> str:
    """Every cell's training history and held-out scores in one long table.

    ``histories``: cell -> columns (``engine.train.history_columns``); ``evaluations``: cell ->
    ``{"before": Evaluation, "after": Evaluation}``. Columns: ``cell``, ``record`` (``train``
    for a training step; ``heldout_before`` / ``heldout_after`` for the held-out batch with the
    parameters at step 0 / after the last step), then the history and the chance columns; a
    blank cell where a value does not apply (accuracy of a regression, a gradient of a held-out
    row). Floats exact (``repr``)."""
    names = [c for c in HISTORY_COLUMNS if c != "step"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["cell", "record", "step", *names, "chance_loss", "chance_accuracy"])
    for cell, hist in histories.items():
        n = len(hist["step"])
        for i in range(n):
            row = [_nan_blank(hist, name, i) for name in names]
            writer.writerow([cell, "train", int(hist["step"][i]), *row, "", ""])
        last = int(hist["step"][-1]) if n else 0
        for when, step in (("before", 0), ("after", last)):
            ev = _evaluation(evaluations[cell][when])
            scores = {"loss": ev["loss"], "accuracy": ev["accuracy"]}
            row = [_csv_value(scores.get(name)) for name in names]
            chance = (_csv_value(ev["chance_loss"]), _csv_value(ev["chance_accuracy"]))
            writer.writerow([cell, f"heldout_{when}", step, *row, *chance])
    return buf.getvalue()


def _nan_blank(hist: dict, name: str, i: int) -> str:
    """A history cell; an accuracy that is NaN means "no accuracy" (a regression): blank."""
    if name not in hist:
        return ""
    v = float(hist[name][i])
    return "" if name == "accuracy" and np.isnan(v) else repr(v)


def history_to_json(
    histories: dict, evaluations: dict, *, settings: dict, training: dict | None = None
) -> str:
    """A JSON document: ``settings`` (pass them complete), ``training`` (the run's
    configuration), and per cell its ``history`` (columns as lists) and held-out ``heldout``
    scores ``before`` and ``after`` training. Exact float64 round trip; non-finite values as
    strings, an undefined accuracy as None."""
    cells = {}
    for cell, hist in histories.items():
        cols = {}
        for name in HISTORY_COLUMNS:
            if name not in hist:
                continue
            values = np.asarray(hist[name])
            if name == "step":
                cols[name] = [int(v) for v in values]
            elif name == "accuracy" and np.all(np.isnan(values.astype(float))):
                cols[name] = [None] * len(values)
            else:
                cols[name] = [_json_value(v) for v in values]
        cells[cell] = {
            "history": cols,
            "heldout": {
                w: {k: _json_value(v) for k, v in _evaluation(evaluations[cell][w]).items()}
                for w in ("before", "after")
            },
        }
    doc = {"settings": dict(settings), "training": _jsonable(training or {}), "cells": cells}
    return json.dumps(doc, allow_nan=False)
