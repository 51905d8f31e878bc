"""Every per-timestep quantity of a run as CSV or JSON text, for downloads and notebooks."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from .sequence import Grads, Trace


def columns(trace: Trace, grads: Grads | None = None) -> dict[str, np.ndarray]:
    """Named (T, n) blocks of every per-timestep quantity, in a stable order.

    Inputs ``x``, hidden states ``h``, cell states ``c`` (lstm), every gate, and with ``grads``
    the total ``dL/dh``, ``dL/dc`` (lstm) and ``dL/dx``. Single (unbatched) traces only.
    """
    if trace.batched:
        raise ValueError("export one sequence at a time")
    out = {"x": trace.xs, "h": trace.h}
    if trace.c is not None:
        out["c"] = trace.c
    out.update(trace.gates)
    if grads is not None:
        out["dL/dh"] = grads.h
        if grads.c is not None:
            out["dL/dc"] = grads.c
        out["dL/dx"] = grads.x
    return out


def to_csv(trace: Trace, grads: Grads | None = None, labels=None) -> str:
    """One row per timestep: ``t``, ``token``, then ``<quantity>[<unit>]`` columns."""
    blocks = columns(trace, grads)
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


def to_json(trace: Trace, grads: Grads | None = None, labels=None, settings=None) -> str:
    """A JSON document: the settings, the token labels, the parameters and every quantity as
    a list of T rows (exact float64 round trip)."""
    doc = {
        "cell": trace.cell,
        "nonlinearity": trace.nonlinearity,
        "T": trace.T,
        "H": trace.H,
        "D": trace.D,
        "settings": settings or {},
        "labels": list(labels) if labels is not None else None,
        "params": {k: v.tolist() for k, v in trace.params.items()},
        "quantities": {k: v.tolist() for k, v in columns(trace, grads).items()},
    }
    return json.dumps(doc, allow_nan=False)
