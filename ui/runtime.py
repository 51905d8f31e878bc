"""The process's runtime settings, applied once at the first import of the ``ui`` package.

The engine's matrices are small (H ≤ 256): on a 2-core server OpenBLAS's second thread only
waits for a CPU (a 64×1000×64 product: 25-30 ms on 2 threads, 0.3 ms on 1; bench/engine.py).
``make run`` exports ``OPENBLAS_NUM_THREADS=1``; ``streamlit run app.py`` started by hand does
not, so the app limits every BLAS pool it has loaded to one thread itself, whatever started it.

With ``GATESCOPE_PROFILE=<folder>`` in the server's environment (``bench/profile.py`` sets it,
nothing else does) every later script run is profiled with cProfile and written to that folder:
``<pid>-<n>.prof`` and one line per run in ``<pid>-runs.jsonl`` (page, fragment or not, the
script thread's CPU seconds); ``GATESCOPE_PROFILE_TIMING=1`` as well writes the lines only (no
cProfile, so no profiler overhead in the CPU seconds).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import numpy  # noqa: F401 - loads OpenBLAS, so that threadpoolctl finds its pool
import pandas  # noqa: F401 - see PRELOADED
import plotly.graph_objects  # noqa: F401 - see PRELOADED
import pyarrow  # noqa: F401 - see PRELOADED
from threadpoolctl import threadpool_info, threadpool_limits

PRELOADED = ("numpy", "pandas", "plotly.graph_objects", "pyarrow")
"""Imported here, once, while the ``ui`` package initialises. Streamlit and Plotly import some of
them lazily, from inside a script run; on a cold server the first sessions run their scripts in
parallel threads, and Plotly's optional-import helper can hand one thread the ``pandas`` module
that another thread is still initialising ("partially initialized module 'pandas' has no
attribute 'Series'", seen by bench/train_load.py with 10 sessions opening at once). Every page
imports ``ui`` first, and a second thread importing a package that is still initialising waits
for it, so here the imports finish before any page code runs."""

BLAS_THREADS = 1
PROFILE_ENV = "GATESCOPE_PROFILE"
TIMING_ENV = "GATESCOPE_PROFILE_TIMING"

_limiter = None


def limit_blas_threads() -> list[int]:
    """Limit every loaded BLAS library to :data:`BLAS_THREADS` threads (idempotent); returns
    the thread counts after the limit, one per library."""
    global _limiter
    if _limiter is None:
        _limiter = threadpool_limits(limits=BLAS_THREADS, user_api="blas")
    return blas_threads()


def blas_threads() -> list[int]:
    """The current thread count of each loaded BLAS library."""
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def install_profiler(folder: str | os.PathLike, *, timing_only: bool = False) -> bool:
    """Profile every later script run of this process into ``folder`` (see the module's
    docstring); False when already installed."""
    import cProfile  # here, not at the top: bench/profile.py shadows ``profile`` on bench's path

    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    if getattr(ScriptRunner._run_script, "gatescope_profiled", False):
        return False
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    original = ScriptRunner._run_script
    counter = itertools.count()

    def _run_script(self, rerun_data):
        profile = None if timing_only else cProfile.Profile()
        cpu0 = time.thread_time()
        if profile:
            profile.enable()
        try:
            return original(self, rerun_data)
        finally:
            cpu = time.thread_time() - cpu0
            n = next(counter)
            if profile:
                profile.disable()
                profile.dump_stats(out / f"{os.getpid()}-{n:05d}.prof")
            line = {"n": n, "page": rerun_data.page_name or rerun_data.page_script_hash,
                    "fragment": bool(rerun_data.fragment_id_queue), "thread_cpu": cpu}  # fmt: skip
            with open(out / f"{os.getpid()}-runs.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")

    _run_script.gatescope_profiled = True
    ScriptRunner._run_script = _run_script
    return True


limit_blas_threads()
if os.environ.get(PROFILE_ENV):
    install_profiler(os.environ[PROFILE_ENV], timing_only=os.environ.get(TIMING_ENV) == "1")
