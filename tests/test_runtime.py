"""ui/runtime.py: the app runs on one BLAS thread however it was started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json
import numpy
from threadpoolctl import threadpool_info
before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
import ui
after = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
print(json.dumps({"before": before, "after": after, "module": ui.runtime.blas_threads()}))
"""


def test_importing_ui_limits_blas_to_one_thread_without_the_environment_variable():
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}  # fmt: skip
    env["OPENBLAS_NUM_THREADS"] = "2"  # as if started on a 2-core machine without make run
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["before"] and all(n == 2 for n in got["before"])  # the probe is not vacuous
    assert got["after"] == [1] * len(got["before"])
    assert got["module"] == got["after"]


THREADS = """
import sys, threading
errors = []
barrier = threading.Barrier(8)

def page():
    barrier.wait()  # eight first script runs at the same instant, as on a cold server
    try:
        import ui  # every page's first import
        from _plotly_utils.optional_imports import get_module
        get_module("pandas").Series  # what Plotly's validators do inside a script run
    except Exception as err:  # noqa: BLE001 - the test reports any failure
        errors.append(repr(err))

threads = [threading.Thread(target=page) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
import ui
print(errors, all(m in sys.modules for m in ui.runtime.PRELOADED))
"""


def test_parallel_first_runs_find_pandas_and_plotly_fully_imported():
    out = subprocess.run(
        [sys.executable, "-c", THREADS], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=True,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "[] True"
