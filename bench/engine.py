"""Engine benchmark: forward + backward and Jacobian norms, against PyTorch when it is installed.

Run ``.venv/bin/python bench/engine.py`` (``make bench``). Prints figures and never asserts.

What is measured
----------------
* Forward + backward: ``engine.forward`` then ``engine.backward`` with ``dL_dh`` nonzero only on
  the last step (L = Σ h_{T-1}), batch 1, D = 16, for T ∈ {50, 200, 1000} × H ∈ {16, 64, 128} ×
  rnn, gru, lstm. The PyTorch baseline is ``torch.nn.{RNN,GRU,LSTM}`` in float64 (``.double()``),
  one thread, the same weights copied in (``weight_ih_l0`` = our ``weight_ih`` ...), the same
  loss, with gradients for the inputs and the initial states as the engine computes them.
  Engine and torch repetitions alternate in one run; each figure is the median of N repeats,
  N adapted to the size so the whole bench stays within a few minutes.
* ``jacobian_norms(trace, "h")`` and ``"x"`` at T = 200, H = 64 for each cell (target ≤ 150 ms).

Threads: NumPy runs with its default BLAS threads (what the app gets); torch is pinned to one
thread with ``torch.set_num_threads(1)``. No environment variable is changed here; the header
prints the BLAS, its core type and thread count, and the load average. On a busy machine with
few cores, OpenBLAS's multi-threaded GEMM (the one-off input projection and weight gradients,
and jacobian_norms' per-step products) can stall waiting for a descheduled worker thread;
``OPENBLAS_NUM_THREADS=1 make bench`` measures the engine with torch's thread budget.

The table is also written to ``bench/results/engine.md`` (git-ignored).
"""

from __future__ import annotations

import ctypes
import gc
import glob
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402

CELLS = ("rnn", "gru", "lstm")
TS = (50, 200, 1000)
HS = (16, 64, 128)
D = 16
RATIO_TARGET = 0.5
JACOBIAN_T, JACOBIAN_H, JACOBIAN_TARGET_MS = 200, 64, 150.0
POINT_BUDGET_S = 3.0  # wall time per (cell, T, H) point, both engines together
MIN_REPEATS, MAX_REPEATS = 5, 41
RESULTS = ROOT / "bench" / "results" / "engine.md"

try:
    import torch
except ImportError:  # the baseline is optional: torch is never a requirement of the app
    torch = None

TORCH_MISSING = "torch not installed: pip install torch==2.13.0 for the baseline"


# --------------------------------------------------------------------------------------------
# The two implementations of one measured call
# --------------------------------------------------------------------------------------------


def inputs(cell, T, H, seed=0):
    params = engine.init_params(cell, D, H, seed=seed)
    xs = np.random.default_rng(seed + 1).standard_normal((T, D))
    dL_dh = np.zeros((T, H))
    dL_dh[-1] = 1.0  # L = Σ_k h_{T-1}[k]: a loss on the last step only
    return params, xs, dL_dh


def engine_run(cell, params, xs, dL_dh):
    trace = engine.forward(cell, params, xs)
    return trace, engine.backward(trace, dL_dh)


def torch_module(cell, params):
    H, D_ = params["weight_hh"].shape[1], params["weight_ih"].shape[1]
    module = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell]
    m = module(D_, H).double()
    with torch.no_grad():
        for name, value in params.items():  # the shared layout: no reshaping
            getattr(m, f"{name}_l0").copy_(torch.from_numpy(value))
    return m


def torch_run(cell, m, x):
    """Forward + backward of L = Σ h_{T-1}, with gradients for x and the initial states too."""
    H = m.hidden_size
    x = x.detach().requires_grad_(True)
    h0 = torch.zeros(1, 1, H, dtype=torch.float64, requires_grad=True)
    if cell == "lstm":
        c0 = torch.zeros(1, 1, H, dtype=torch.float64, requires_grad=True)
        out, _ = m(x, (h0, c0))
    else:
        out, _ = m(x, h0)
    m.zero_grad(set_to_none=True)
    out[-1].sum().backward()
    return out, x


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def clock(fn):
    """Wall-clock seconds of one call, with the garbage collector paused (as timeit does)."""
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def measure_point(cell, T, H):
    """Median seconds of (engine, torch or None), measured interleaved."""
    params, xs, dL_dh = inputs(cell, T, H)
    fns = [lambda: engine_run(cell, params, xs, dL_dh)]
    if torch is not None:
        m = torch_module(cell, params)
        x = torch.from_numpy(xs)[:, None, :]  # (T, 1, D)
        fns.append(lambda: torch_run(cell, m, x))
    for f in fns:  # warm-up
        f()
    first = [clock(f) for f in fns]
    n = int(np.clip(POINT_BUDGET_S / max(sum(first), 1e-9), MIN_REPEATS, MAX_REPEATS))
    times = [[] for _ in fns]
    for rep in range(n):
        order = range(len(fns)) if rep % 2 == 0 else reversed(range(len(fns)))  # alternate
        for k in order:
            times[k].append(clock(fns[k]))
    medians = [statistics.median(t) for t in times]
    return medians[0], (medians[1] if len(medians) > 1 else None), n


def measure_jacobian(cell, wrt):
    params, xs, _ = inputs(cell, JACOBIAN_T, JACOBIAN_H)
    trace = engine.forward(cell, params, xs)
    engine.jacobian_norms(trace, wrt)  # warm-up
    times = [clock(lambda: engine.jacobian_norms(trace, wrt)) for _ in range(7)]
    return statistics.median(times)


def correctness(cell, T=200, H=64):
    """max |engine - torch| of h, dL/dx and each parameter gradient at one size."""
    params, xs, dL_dh = inputs(cell, T, H)
    trace, grads = engine_run(cell, params, xs, dL_dh)
    m = torch_module(cell, params)
    out, x = torch_run(cell, m, torch.from_numpy(xs)[:, None, :])
    diffs = {"h": np.max(np.abs(trace.h - out.detach().numpy()[:, 0]))}
    diffs["dx"] = np.max(np.abs(grads.x - x.grad.numpy()[:, 0]))
    for name, g in grads.params.items():
        diffs[name] = np.max(np.abs(g - getattr(m, f"{name}_l0").grad.numpy()))
    return diffs


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def openblas_info():
    """Core type and thread count of the OpenBLAS bundled with numpy wheels, read (never set)
    through its C API; None when numpy uses another BLAS or the library is not found."""
    for path in glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs",
                                       "libscipy_openblas*.so*")):  # fmt: skip
        try:
            lib = ctypes.CDLL(path)
            core = lib.scipy_openblas_get_corename64_
            threads = lib.scipy_openblas_get_num_threads64_
        except (OSError, AttributeError):
            continue
        core.restype = ctypes.c_char_p
        n = threads()
        return f"OpenBLAS core {core().decode()}, {n} thread{'s' if n != 1 else ''}"
    return None


def environment():
    blas = "unknown BLAS"
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{deps.get('name', '?')} {deps.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - informative only
        pass
    info = openblas_info()
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                                          "OMP_NUM_THREADS")}  # fmt: skip
    env_text = ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in env.items())
    return [
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load_average()} at start",
        f"numpy {np.__version__}, BLAS {blas}"
        + (f" ({info})" if info else "")
        + "; the bench leaves BLAS threads as they are (its default unless set outside)",
        f"environment: {env_text} (OPENBLAS_NUM_THREADS=1 make bench gives numpy torch's "
        "single thread)",
        f"torch {torch.__version__}: float64 (.double()), torch.set_num_threads(1)"
        if torch is not None
        else TORCH_MISSING,
        f"batch 1, D = {D}; forward + backward of L = Σ h_(T-1) (a loss on the last step), "
        "with the gradients of every parameter, the inputs and h0 (and c0) on both sides; "
        "wall-clock median of N runs, engine and torch alternating",
    ]


def load_average():
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def fmt_ms(seconds):
    if seconds is None:
        return "—"
    ms = seconds * 1e3
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def main():
    if torch is not None:
        torch.set_num_threads(1)
    out = []

    def emit(line=""):
        print(line, flush=True)
        out.append(line)

    emit("# Engine benchmark")
    emit()
    for line in environment():
        emit(f"- {line}")
    emit()

    if torch is not None:
        emit("Correctness (max |engine − torch| at T = 200, H = 64):")
        emit()
        for cell in CELLS:
            d = correctness(cell)
            emit(f"- {cell}: " + ", ".join(f"{k} {v:.1e}" for k, v in d.items()))
        emit()

    emit("| cell | T | H | engine ms | torch ms | ratio |")
    emit("|---|---:|---:|---:|---:|---:|")
    misses, points = [], 0
    for cell in CELLS:
        for T in TS:
            for H in HS:
                gc.collect()
                e, t, _ = measure_point(cell, T, H)
                ratio = None if t is None else e / t
                if ratio is not None:
                    points += 1
                    if ratio > RATIO_TARGET:
                        misses.append(f"{cell} T={T} H={H} ({ratio:.2f})")
                ratio_text = "—" if ratio is None else f"{ratio:.2f}"
                emit(f"| {cell} | {T} | {H} | {fmt_ms(e)} | {fmt_ms(t)} | {ratio_text} |")
    emit()

    emit(f"jacobian_norms at T = {JACOBIAN_T}, H = {JACOBIAN_H}, D = {D} "
         f"(target ≤ {JACOBIAN_TARGET_MS:.0f} ms, median of 7):")  # fmt: skip
    emit()
    for cell in CELLS:
        for wrt in ("h", "x"):
            s = measure_jacobian(cell, wrt)
            mark = "PASS" if s * 1e3 <= JACOBIAN_TARGET_MS else "MISS"
            emit(f"- {cell} jacobian_norms(trace, {wrt!r}): {fmt_ms(s)} ms {mark}")
    emit()
    if torch is not None:
        emit(f"ratio ≤ {RATIO_TARGET} at {points - len(misses)}/{points} points"
             + (f" (misses: {', '.join(misses)})" if misses else ""))  # fmt: skip
    else:
        emit(TORCH_MISSING)
    emit(f"load average {load_average()} at the end")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"\n(written to {RESULTS.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
